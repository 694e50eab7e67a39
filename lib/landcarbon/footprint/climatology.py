"""Footprints on a grid, footprint climatologies and R % source areas.

A *footprint climatology* is the mean of the 2-D footprints of many half-hours on one fixed grid
around the tower (Kljun et al. 2015, Sect. 5; the authors' ``calc_footprint_FFP_climatology``): the
surface each part of a site-year's flux came from. Its R % *source area* is the smallest region that
holds a fraction R of it — the cells with the largest footprint values, summed until R is reached
(the authors' ``get_contour_levels``); the contour of that level is drawn with ``contourpy``.

The sum over half-hours runs in a numba kernel (:mod:`landcarbon.footprint._kernels`); many sites run in
parallel with dask (:func:`climatologies`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import xarray as xr

from ..errors import DataError, located
from . import _kernels as K
from .ffp import VALIDITY_FLAGS, crosswind_scale, length_scale, validate_inputs, validity_flags

__all__ = ["FootprintGrid", "footprint_grid", "footprint_climatology", "footprint_on_grid", "step_flags", "invalid_table", "climatologies", "source_area_level",
           "source_area", "source_area_contours", "source_area_table", "upwind_extent", "smooth_authors",
           "TURBULENCE_VARS"]

#: Standard names (FLUXNET/AmeriFlux) of the turbulence variables a climatology reads.
TURBULENCE_VARS = {"USTAR": "m s-1", "V_SIGMA": "m s-1", "MO_LENGTH": "m", "WD": "deg", "WS": "m s-1",
                   "PBLH": "m"}


@dataclass(frozen=True)
class FootprintGrid:
    """A regular grid of cell centres around the tower at (0, 0) (x east, y north) [m]."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    def __post_init__(self):
        if not (self.dx > 0 and self.dy > 0 and self.nx > 0 and self.ny > 0):
            raise DataError(located(f"invalid footprint grid {self}", where="FootprintGrid",
                                    fix="use positive spacing and sizes, e.g. footprint_grid(1000, 2)"))

    @property
    def x(self) -> np.ndarray:
        return self.x0 + self.dx * np.arange(self.nx)

    @property
    def y(self) -> np.ndarray:
        return self.y0 + self.dy * np.arange(self.ny)

    @property
    def cell_area(self) -> float:
        return self.dx * self.dy

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the cell edges [m]."""
        return (self.x0 - self.dx / 2, self.x0 + (self.nx - 0.5) * self.dx,
                self.y0 - self.dy / 2, self.y0 + (self.ny - 0.5) * self.dy)

    def zeros(self) -> np.ndarray:
        return np.zeros((self.ny, self.nx))

    def to_dataarray(self, values, name: str, units: str, **attrs) -> xr.DataArray:
        da = xr.DataArray(values, dims=("y", "x"), coords={"y": self.y, "x": self.x}, name=name,
                          attrs={"units": units, **attrs})
        da["x"].attrs.update(units="m", long_name="distance east of the tower")
        da["y"].attrs.update(units="m", long_name="distance north of the tower")
        return da


def footprint_grid(half_width_m: float = 1000.0, dx_m: float = 2.0) -> FootprintGrid:
    """Square grid of cell centres covering [−half_width, half_width]² with spacing ``dx_m`` [m].

    The authors' default climatology domain is ±1000 m at 2 m (1000 × 1000 cells).
    """
    n = int(round(2 * half_width_m / dx_m))
    if n < 2 or abs(n * dx_m - 2 * half_width_m) > 1e-6 * half_width_m:
        raise DataError(located(f"half width {half_width_m} m is not a multiple of dx/2 = {dx_m / 2} m",
                                where="footprint_grid", fix="choose dx so that 2*half_width/dx is an integer"))
    x0 = -half_width_m + dx_m / 2
    return FootprintGrid(x0, x0, float(dx_m), float(dx_m), n, n)


def _grid_of(da: xr.DataArray) -> FootprintGrid:
    x, y = np.asarray(da["x"], float), np.asarray(da["y"], float)
    if x.size < 2 or y.size < 2:
        raise DataError(located("footprint grid needs at least 2 x 2 cells", where=f"DataArray {da.name}"))
    dx, dy = x[1] - x[0], y[1] - y[0]
    if not (np.allclose(np.diff(x), dx, rtol=1e-6) and np.allclose(np.diff(y), dy, rtol=1e-6)) or dx <= 0 or dy <= 0:
        raise DataError(located("x and y must be increasing and regularly spaced", where=f"DataArray {da.name}",
                                fix="build the grid with footprint_grid() or keep the coordinates of a footprint"))
    return FootprintGrid(float(x[0]), float(y[0]), float(dx), float(dy), x.size, y.size)


def smooth_authors(f: np.ndarray) -> np.ndarray:
    """The authors' climatology smoothing: 3 × 3 kernel (0.4 centre, 0.1 sides, 0.05 corners), twice, zero padding."""
    from scipy.ndimage import convolve

    k = np.array([[0.05, 0.1, 0.05], [0.1, 0.4, 0.1], [0.05, 0.1, 0.05]])
    return convolve(convolve(f, k, mode="constant", cval=0.0), k, mode="constant", cval=0.0)


def _as_1d(v, n: int, name: str, where: str) -> np.ndarray:
    a = np.asarray(v.values if isinstance(v, xr.DataArray) else v, dtype=float)
    if a.ndim == 0:
        return np.full(n, float(a))
    if a.shape != (n,):
        raise DataError(located(f"{name} has shape {a.shape}, expected a scalar or ({n},)", where=where))
    return a


def _step_parameters(turb: xr.Dataset, zm_m, z0_m, h_m, where: str):
    """Per-step arrays (zm, h, L, σ_v, u*, WD, z0 | umean) from a turbulence dataset."""
    for v in ("USTAR", "V_SIGMA", "MO_LENGTH", "WD"):
        if v not in turb:
            raise DataError(located(f"turbulence variable {v} missing (have {sorted(turb.data_vars)})", where=where,
                                    fix="read the tower file with landcarbon.footprint.read_turbulence or rename "
                                        "the variables to USTAR, V_SIGMA, MO_LENGTH, WD (and WS, PBLH)"))
    dim = turb["USTAR"].dims[0] if turb["USTAR"].ndim == 1 else None
    if dim is None:
        raise DataError(located("turbulence variables must be 1-D time series", where=where))
    n = turb.sizes[dim]
    zm_m = turb.attrs.get("zm_m") if zm_m is None else zm_m
    if zm_m is None:
        raise DataError(located("measurement height zm_m not given", where=where,
                                fix="pass zm_m (height above displacement, m) or set ds.attrs['zm_m']"))
    if z0_m is None:
        z0_m = turb.attrs.get("z0_m")
    if h_m is None:
        if "PBLH" not in turb:
            raise DataError(located("boundary-layer height missing: no PBLH variable and no h_m", where=where,
                                    fix="pass h_m (m), e.g. 1000 by day, or add a PBLH variable (ERA5 blh)"))
        h_m = turb["PBLH"]
    p = {"zm_m": _as_1d(zm_m, n, "zm_m", where), "h_m": _as_1d(h_m, n, "h_m", where),
         "obukhov_length_m": _as_1d(turb["MO_LENGTH"], n, "MO_LENGTH", where),
         "sigma_v_ms": _as_1d(turb["V_SIGMA"], n, "V_SIGMA", where),
         "ustar_ms": _as_1d(turb["USTAR"], n, "USTAR", where), "wind_dir_deg": _as_1d(turb["WD"], n, "WD", where)}
    if z0_m is not None:
        p["z0_m"] = _as_1d(z0_m, n, "z0_m", where)
    else:
        if "WS" not in turb:
            raise DataError(located("neither a roughness length z0_m nor a wind speed WS is available", where=where,
                                    fix="pass z0_m (m) or include WS (m/s, mean wind speed at zm)"))
        p["umean_ms"] = _as_1d(turb["WS"], n, "WS", where)
    return p, dim, n


def _kernel_inputs(p: dict, weights=None):
    flags = validity_flags(**p)
    ok = flags == 0
    sel = {k: v[ok] for k, v in p.items()}
    lam = length_scale(zm_m=sel["zm_m"], h_m=sel["h_m"], obukhov_length_m=sel["obukhov_length_m"],
                       z0_m=sel.get("z0_m"), umean_ms=sel.get("umean_ms"), ustar_ms=sel["ustar_ms"])
    sig = sel["zm_m"] * sel["sigma_v_ms"] / (crosswind_scale(sel["zm_m"], sel["obukhov_length_m"]) * sel["ustar_ms"])
    th = np.deg2rad(sel["wind_dir_deg"])
    w = np.ones(int(ok.sum())) if weights is None else np.asarray(weights, float)[ok]
    return flags, ok, (np.ascontiguousarray(np.sin(th)), np.ascontiguousarray(np.cos(th)),
                       np.ascontiguousarray(lam, dtype=float), np.ascontiguousarray(sig, dtype=float),
                       np.ascontiguousarray(w, dtype=float))


def _flag_counts(flags: np.ndarray) -> dict[str, int]:
    return {VALIDITY_FLAGS[b]: int(((flags & b) != 0).sum()) for b in VALIDITY_FLAGS if ((flags & b) != 0).any()}


def step_flags(turbulence: xr.Dataset, *, zm_m=None, z0_m=None, h_m=None) -> xr.DataArray:
    """FFP validity flags of every time step of a turbulence dataset (0 = valid; bits in ``VALIDITY_FLAGS``)."""
    p, dim, _ = _step_parameters(turbulence, zm_m, z0_m, h_m, "step_flags")
    return xr.DataArray(validity_flags(**p), dims=(dim,), coords={dim: turbulence[dim]}, name="ffp_flags")


def invalid_table(flags) -> "pd.DataFrame":
    """Number and share of time steps failing each FFP limit (a step can fail several)."""
    import pandas as pd

    f = np.asarray(getattr(flags, "values", flags), dtype=np.int64)
    rows = [{"limit": msg, "time steps": int(((f & b) != 0).sum()), "share": float(((f & b) != 0).mean())}
            for b, msg in VALIDITY_FLAGS.items() if ((f & b) != 0).any()]
    rows.append({"limit": "valid (all limits met)", "time steps": int((f == 0).sum()), "share": float((f == 0).mean())})
    return pd.DataFrame(rows)


def footprint_climatology(turbulence: xr.Dataset, *, zm_m=None, z0_m=None, h_m=None, grid: FootprintGrid | None = None,
                          weights=None, smooth: bool = False, nsigma: float = 6.0, parallel: bool = True) -> xr.DataArray:
    """Mean 2-D footprint of many time steps on one grid [m⁻²] (FFP climatology).

    Parameters
    ----------
    turbulence : xarray.Dataset
        Time series (one dimension) of USTAR [m s⁻¹], V_SIGMA [m s⁻¹], MO_LENGTH [m], WD [deg from
        north, where the wind comes from] and, as needed, WS [m s⁻¹] (mean wind at z_m, used when z0
        is unknown) and PBLH [m] (used when ``h_m`` is not given), e.g. from
        :func:`landcarbon.footprint.read_turbulence` or :func:`landcarbon.footprint.demo_turbulence`.
    zm_m : float or array, optional
        Measurement height above the displacement height [m]; default ``turbulence.attrs['zm_m']``.
    z0_m : float or array, optional
        Roughness length [m]; default ``turbulence.attrs['z0_m']``; without it WS is used (ū form).
    h_m : float or array, optional
        Boundary-layer height [m]; default the PBLH variable.
    grid : FootprintGrid, optional
        Default :func:`footprint_grid` (±1000 m, 2 m: the authors' default domain).
    weights : array_like, optional
        Weight of each time step (e.g. |flux|); default equal weights.
    smooth : bool
        Apply the authors' 3 × 3 smoothing twice (their default; ours is off: no artificial spread).
    nsigma : float
        Crosswind truncation of the Gaussian in standard deviations (6: cells below 1.5e-8 of the
        centre value are skipped; the mass left out is 2e-9).
    parallel : bool
        Row-parallel numba kernel; ``False`` runs serially (use it when parallelising over sites).

    Returns
    -------
    xarray.DataArray
        (y, x) mean footprint [m⁻²] = Σ_t w_t f_t / Σ_t w_t over the valid time steps. Time steps
        outside FFP's validity range are skipped, as in the authors' code, and counted:
        ``attrs`` n_total, n_valid, invalid (JSON: limit → count), mass_in_domain (∫ over the grid).

    Raises
    ------
    DataError
        Missing variables or heights; :class:`~landcarbon.footprint.ffp.FootprintValidityError` when
        no time step is valid.
    """
    where = f"footprint_climatology (dataset {turbulence.attrs.get('site', turbulence.attrs.get('dataset_id', '?'))})"
    g = footprint_grid() if grid is None else grid
    p, dim, n = _step_parameters(turbulence, zm_m, z0_m, h_m, where)
    if weights is not None:
        weights = _as_1d(weights, n, "weights", where)
        if np.any(~np.isfinite(weights) | (weights < 0)):
            raise DataError(located("weights must be finite and >= 0", where=where))
    flags, ok, args = _kernel_inputs(p, weights)
    if not ok.any():
        validate_inputs(**{k: v for k, v in p.items()}, where=where)  # raises, naming the limits
    out = g.zeros()
    kern = K.accumulate_parallel if parallel else K.accumulate_serial
    kern(out, g.x0, g.dx, g.y0, g.dy, *args, float(nsigma))
    wsum = float(args[-1].sum())
    if not wsum > 0:
        raise DataError(located("the weights of all valid time steps are zero", where=where))
    out /= wsum
    if smooth:
        out = smooth_authors(out)
    return g.to_dataarray(out, "footprint", "m-2", long_name="footprint climatology (FFP, Kljun et al. 2015)",
                          n_total=int(n), n_valid=int(ok.sum()), invalid=json.dumps(_flag_counts(flags)),
                          mass_in_domain=float(out.sum() * g.cell_area), smoothed=int(bool(smooth)),
                          nsigma=float(nsigma))


def footprint_on_grid(*, zm_m, h_m, obukhov_length_m, sigma_v_ms, ustar_ms, wind_dir_deg=0.0, z0_m=None,
                      umean_ms=None, grid: FootprintGrid | None = None) -> xr.DataArray:
    """One time step's 2-D footprint on a grid [m⁻²]; raises when the inputs are outside FFP's range."""
    validate_inputs(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, sigma_v_ms=sigma_v_ms, ustar_ms=ustar_ms,
                    wind_dir_deg=wind_dir_deg, z0_m=z0_m, umean_ms=umean_ms, where="footprint_on_grid")
    turb = xr.Dataset({"USTAR": ("time", [float(ustar_ms)]), "V_SIGMA": ("time", [float(sigma_v_ms)]),
                       "MO_LENGTH": ("time", [float(obukhov_length_m)]), "WD": ("time", [float(wind_dir_deg)])})
    if umean_ms is not None:
        turb["WS"] = ("time", [float(umean_ms)])
    da = footprint_climatology(turb, zm_m=zm_m, z0_m=z0_m, h_m=h_m, grid=grid)
    da.attrs["long_name"] = "2-D flux footprint (FFP, Kljun et al. 2015)"
    da.attrs["wind_dir_deg"] = float(wind_dir_deg)
    return da



def climatologies(inputs: Mapping[str, Mapping], *, grid: FootprintGrid | None = None, smooth: bool = False,
                  scheduler=None) -> dict[str, xr.DataArray]:
    """Footprint climatologies of many sites in parallel with dask (one task per site).

    Parameters
    ----------
    inputs : mapping site -> dict
        Each value holds ``turbulence`` (xarray.Dataset) and any keyword of
        :func:`footprint_climatology` (``zm_m``, ``z0_m``, ``h_m``, ``weights``, ``grid``).
    grid : FootprintGrid, optional
        Grid used where a site gives none.
    scheduler : str, optional
        dask scheduler; default: the connected dask.distributed client if any, else local threads
        (the kernel releases the GIL, so threads run in parallel).

    Returns
    -------
    dict site -> xarray.DataArray (as :func:`footprint_climatology`).
    """
    import dask

    tasks = {}
    for site, kw in inputs.items():
        kw = dict(kw)
        if "turbulence" not in kw:
            raise DataError(located(f"no 'turbulence' dataset for site {site!r}", where="climatologies"))
        turb = kw.pop("turbulence")
        kw.setdefault("grid", grid)
        kw.setdefault("smooth", smooth)
        tasks[site] = dask.delayed(footprint_climatology, pure=True)(turb, parallel=False, **kw)
    kwargs = {} if scheduler is None else {"scheduler": scheduler}
    done = dask.compute(tasks, **kwargs)[0]
    for site, da in done.items():
        da.attrs["site"] = site
    return done


def source_area_level(footprint, r: float, *, cell_area: float | None = None) -> float:
    """Footprint value [m⁻²] whose super-level set holds the fraction ``r`` of the footprint.

    Cells are sorted by decreasing value and summed (× cell area) until ``r`` is reached: the level is
    the value of the first cell at which the cumulative sum reaches ``r`` (the authors take the
    nearest cumulative sum; the two differ by at most one cell).
    """
    if not 0 < r < 1:
        raise DataError(located(f"source-area fraction must be in (0, 1), got {r}", where="source_area_level"))
    if isinstance(footprint, xr.DataArray):
        cell_area = _grid_of(footprint).cell_area if cell_area is None else cell_area
        f = np.asarray(footprint.values, float)
    else:
        f = np.asarray(footprint, float)
        if cell_area is None:
            raise DataError(located("cell_area needed for a plain array", where="source_area_level"))
    v = np.sort(f[np.isfinite(f)].ravel())[::-1]
    cs = np.cumsum(v) * cell_area
    if cs.size == 0 or cs[-1] < r:
        raise DataError(located(f"the grid holds only {cs[-1] if cs.size else 0:.3f} of the footprint, less than r = {r}",
                                where="source_area_level", fix="enlarge the grid (footprint_grid(half_width_m=...))"))
    return float(v[np.searchsorted(cs, r)])


def source_area(footprint: xr.DataArray, r: float) -> xr.DataArray:
    """Boolean mask of the R % source area (cells with f ≥ level(r))."""
    lev = source_area_level(footprint, r)
    m = footprint >= lev
    m.name = f"source_area_{int(round(100 * r))}"
    m.attrs = {"units": "1", "long_name": f"{100 * r:g} % source area", "level_m-2": lev}
    return m


def source_area_contours(footprint: xr.DataArray, rs=(0.5, 0.8)) -> dict[float, dict]:
    """Contour lines of the R % source areas.

    Returns
    -------
    dict r -> {"level": float [m⁻²], "lines": list of (n, 2) arrays (x, y) [m], "closed": bool}
        ``closed`` is False when a line touches the grid edge (the authors then report no contour).
    """
    import contourpy

    g = _grid_of(footprint)
    z = np.asarray(footprint.values, float)
    gen = contourpy.contour_generator(x=g.x, y=g.y, z=z, line_type="Separate")
    out = {}
    xmin, xmax, ymin, ymax = g.x[0], g.x[-1], g.y[0], g.y[-1]
    for r in rs:
        lev = source_area_level(footprint, r)
        lines = [np.asarray(a) for a in gen.lines(lev)]
        touches = any((a[:, 0].min() <= xmin) or (a[:, 0].max() >= xmax) or (a[:, 1].min() <= ymin)
                      or (a[:, 1].max() >= ymax) for a in lines)
        out[float(r)] = {"level": lev, "lines": lines, "closed": bool(lines) and not touches}
    return out


def upwind_extent(lines, wind_dir_deg: float) -> float:
    """Largest distance [m] of a contour upwind of the tower, along the wind direction."""
    th = np.deg2rad(float(wind_dir_deg))
    pts = np.concatenate([np.asarray(a) for a in lines]) if len(lines) else np.empty((0, 2))
    if not pts.size:
        return float("nan")
    return float((pts[:, 0] * np.sin(th) + pts[:, 1] * np.cos(th)).max())


def source_area_table(footprint: xr.DataArray, rs=(0.5, 0.8), *, wind_dir_deg: float | None = None):
    """One row per R: level, area [m²], largest distance from the tower [m] (and upwind extent if a
    wind direction is given), whether the contour closes inside the grid."""
    import pandas as pd

    g = _grid_of(footprint)
    cont = source_area_contours(footprint, rs)
    rows = []
    for r, c in cont.items():
        mask = np.asarray(footprint.values) >= c["level"]
        pts = np.concatenate(c["lines"]) if c["lines"] else np.empty((0, 2))
        row = {"R": r, "level_m-2": c["level"], "area_m2": float(mask.sum() * g.cell_area),
               "max_distance_m": float(np.hypot(pts[:, 0], pts[:, 1]).max()) if pts.size else np.nan,
               "closed": c["closed"]}
        if wind_dir_deg is not None:
            row["upwind_extent_m"] = upwind_extent(c["lines"], wind_dir_deg)
        rows.append(row)
    return pd.DataFrame(rows)

