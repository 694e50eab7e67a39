"""Digital twin of a flux tower's turbulence and landscape, with known truth.

* :func:`demo_turbulence` — a site-year of half-hourly USTAR, V_SIGMA, MO_LENGTH, WD, WS, ZL and PBLH
  generated from surface-layer similarity (our formulation, below), so that the z0 form and the
  wind-speed form of FFP describe the same flow;
* :func:`demo_landscape` — a patchy high-resolution land-cover / NDVI map around a tower, the tower
  standing in a stand of its own vegetation type;
* :func:`demo_field_landscape` — a circular field (centre pivot) around the tower in a background of
  another vegetation, rasterised exactly (cell-area fractions), with the satellite pixel that is
  supposed to represent the tower planted off-centre: the footprint and the pixel see different
  mixtures of field and background;
* :func:`field_truth` — the footprint-weighted NDVI, the pixel NDVI and the location bias of that
  field landscape computed by one-dimensional quadrature of the FFP formulas, independently of the
  2-D grid and the numba kernel that the estimates use.

Turbulence generator (our formulation; every choice is a documented approximation):

* wind speed at z_m: log-normal AR(1) with a 2-day synoptic memory, stronger by day;
* sensible heat flux H: 450 W m⁻² × sin(solar elevation) × (1 − 0.7 cloudiness) by day,
  −(2…22) W m⁻² at night (cloudiness: AR(1) in [0, 1]);
* u* and L solved together (fixed-point) from the log-wind profile
  u* = k ū / (ln(z_m/z0) − ψ_M(z_m/L)) and L = −ρ c_p T u*³ / (k g H) (ρ c_p = 1200 J m⁻³ K⁻¹,
  T = 288 K), ψ_M from :func:`landcarbon.footprint.ffp.psi_m`;
* σ_v = u* (12 − 0.5 h/L)^{1/3} by day (Panofsky et al. 1977, Boundary-Layer Meteorol. 11:355–361),
  12^{1/3} u* when stable, times 10 % log-normal noise;
* boundary-layer height: growing through the day with the accumulated insolation (250…1650 m),
  150–400 m at night;
* wind direction: two synoptic regimes (prevailing 70 %, secondary 30 %, mean duration 3 days) with
  AR(1) scatter of 25°;
* canopy: displacement d = 0.67 h_c and roughness z0 = 0.1 h_c (common rules of thumb);
* 3 % of the records missing in all variables.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from .climatology import FootprintGrid, footprint_grid
from .ffp import (FFP_AC, FFP_BC, FFP_CC, FFP_D, VON_KARMAN, crosswind_scale, fstar, length_scale, psi_m,
                  validity_flags)

__all__ = ["demo_turbulence", "demo_landscape", "demo_field_landscape", "field_truth", "IGBP_NDVI",
           "canopy_geometry", "disc_rectangle_area"]

#: Typical growing-season NDVI per IGBP class used by the twin landscapes (our choice).
IGBP_NDVI = {"ENF": 0.72, "EBF": 0.85, "DBF": 0.80, "MF": 0.78, "CSH": 0.50, "OSH": 0.30, "WSA": 0.55,
             "SAV": 0.45, "GRA": 0.60, "WET": 0.55, "CRO": 0.70, "URB": 0.25, "BSV": 0.12, "SNO": 0.05}
_RHO_CP = 1200.0   # J m-3 K-1
_T_AIR_K = 288.0
_G = 9.81


def canopy_geometry(canopy_height_m: float, measurement_height_m: float | None = None) -> dict:
    """Displacement d = 0.67 h_c, roughness z0 = 0.1 h_c and z_m = measurement height − d [m].

    Default measurement height: 2 h_c + 2 m (our choice: a tower above the roughness sublayer,
    z_m > 12.5 z0, as FFP requires).
    """
    hc = float(canopy_height_m)
    if not hc > 0:
        raise DataError(located(f"canopy height must be > 0 m, got {hc}", where="canopy_geometry"))
    zmeas = 2.0 * hc + 2.0 if measurement_height_m is None else float(measurement_height_m)
    d = 0.67 * hc
    if not zmeas > d:
        raise DataError(located(f"measurement height {zmeas} m is below the displacement height {d:.2f} m",
                                where="canopy_geometry", fix="give the sensor height above ground in m"))
    return {"canopy_height_m": hc, "measurement_height_m": zmeas, "displacement_m": d, "z0_m": 0.1 * hc,
            "zm_m": zmeas - d}


def _ar1(rng, n, phi, sd):
    e = rng.normal(0.0, sd * math.sqrt(1 - phi * phi), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def _solar_sine(time: pd.DatetimeIndex, lat_deg: float) -> np.ndarray:
    """sin(solar elevation) at the middle of each half-hour (local solar time; Cooper 1969 declination)."""
    mid = time + pd.Timedelta(minutes=15)
    doy = mid.day_of_year.values
    hour = mid.hour.values + mid.minute.values / 60.0
    dec = np.deg2rad(23.45) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    lat = np.deg2rad(lat_deg)
    return np.sin(lat) * np.sin(dec) + np.cos(lat) * np.cos(dec) * np.cos(np.pi * (hour - 12.0) / 12.0)


def demo_turbulence(seed: int = 2015, *, n_days: int = 365, start: str = "2014-01-01", lat_deg: float = 50.0,
                    canopy_height_m: float = 20.0, measurement_height_m: float | None = None,
                    prevailing_wd_deg: float = 240.0, secondary_wd_deg: float = 60.0, mean_ws_ms: float = 3.0,
                    site: str = "DEMO-FP", missing_fraction: float = 0.03) -> xr.Dataset:
    """Half-hourly turbulence of one tower (the twin; see the module docstring for the formulation).

    Parameters
    ----------
    seed : int
        Same seed and arguments give identical numbers.
    n_days : int
        Length of the record (365: one site-year of 17,520 half-hours).
    lat_deg : float
        Latitude [deg] (day length and solar elevation).
    canopy_height_m, measurement_height_m : float
        Canopy height and sensor height above ground [m] (:func:`canopy_geometry`).
    prevailing_wd_deg, secondary_wd_deg : float
        Directions the wind comes from in the two synoptic regimes [deg].
    mean_ws_ms : float
        Median wind speed at the sensor [m s⁻¹].

    Returns
    -------
    xarray.Dataset
        ``time`` (start of each half-hour) with USTAR, V_SIGMA, WS [m s⁻¹], MO_LENGTH [m], WD [deg],
        ZL [1], PBLH [m], H [W m⁻²]; attrs zm_m, z0_m, displacement_m, canopy_height_m,
        measurement_height_m, site, generator, seed.
    """
    if n_days < 1:
        raise DataError(located(f"n_days must be >= 1, got {n_days}", where="demo_turbulence"))
    rng = np.random.default_rng(int(seed))
    geo = canopy_geometry(canopy_height_m, measurement_height_m)
    zm, z0 = geo["zm_m"], geo["z0_m"]
    n = int(n_days) * 48
    time = pd.date_range(start, periods=n, freq="30min")
    sinel = _solar_sine(time, lat_deg)
    sun = np.clip(sinel, 0.0, None)
    cloud = 1.0 / (1.0 + np.exp(-(_ar1(rng, n, math.exp(-1 / 96), 1.2) + 0.3)))
    ws = mean_ws_ms * np.exp(_ar1(rng, n, math.exp(-1 / 96), 0.45) + 0.25 * sun - 0.1)
    ws = np.clip(ws, 0.2, None)
    h_flux = np.where(sinel > 0, 350.0 * sun * (1 - 0.7 * cloud) + 5.0,
                      -(2.0 + 20.0 * rng.uniform(0, 1, n) * (1 - 0.6 * cloud)))
    ln_z = math.log(zm / z0)
    zeta = np.zeros(n)
    for _ in range(40):  # damped fixed point of zeta = zm/L with L = -rho cp T u*^3 / (k g H)
        with np.errstate(divide="ignore"):
            us = VON_KARMAN * ws / np.maximum(ln_z - psi_m(zm, zm / zeta), 0.3)
        new = np.clip(-zm * VON_KARMAN * _G * h_flux / (_RHO_CP * _T_AIR_K * us**3), -4.0, 1.0)
        zeta = 0.5 * zeta + 0.5 * new
    for _ in range(10):  # keep ln(zm/z0) - psi_M >= 0.3 (very rough canopies, strong convection)
        with np.errstate(divide="ignore"):
            zeta = np.where(ln_z - psi_m(zm, zm / zeta) < 0.3, 0.7 * zeta, zeta)
    ol = zm / zeta
    us = VON_KARMAN * ws / (ln_z - psi_m(zm, ol))  # exact log profile: z0 and wind-speed forms agree
    day_frac = np.zeros(n)
    days = (time - time[0]).days.values
    for dday in np.unique(days):  # share of the day's insolation received so far
        sel = days == dday
        c = np.cumsum(sun[sel])
        day_frac[sel] = c / c[-1] if c[-1] > 0 else 0.0
    pblh = np.where(sinel > 0, 250.0 + 1400.0 * np.sqrt(day_frac) * (1 - 0.5 * cloud),
                    150.0 + 250.0 * np.clip(ws / 6.0, 0, 1))
    pblh = np.maximum(pblh, 1.2 * geo["measurement_height_m"] + 10.0)
    noise = np.exp(rng.normal(0.0, 0.1, n))
    sv = np.where(ol < 0, us * np.cbrt(np.clip(12.0 - 0.5 * pblh / ol, 12.0, None)), us * np.cbrt(12.0)) * noise
    regime = np.empty(n, dtype=bool)
    regime[0] = rng.random() < 0.7
    switch = rng.random(n)
    for i in range(1, n):  # Markov regimes, mean stay 3 days in the prevailing one
        p = 1 / 144 if regime[i - 1] else 0.7 / 0.3 / 144
        regime[i] = (not regime[i - 1]) if switch[i] < p else regime[i - 1]
    wd = np.where(regime, prevailing_wd_deg, secondary_wd_deg) + _ar1(rng, n, math.exp(-1 / 6), 25.0)
    wd = np.mod(wd, 360.0)
    miss = rng.random(n) < missing_fraction
    out = {"USTAR": us, "V_SIGMA": sv, "WS": ws, "MO_LENGTH": ol, "WD": wd, "ZL": zm / ol, "PBLH": pblh,
           "H": h_flux}
    units = {"USTAR": "m s-1", "V_SIGMA": "m s-1", "WS": "m s-1", "MO_LENGTH": "m", "WD": "deg", "ZL": "1",
             "PBLH": "m", "H": "W m-2"}
    long = {"USTAR": "friction velocity", "V_SIGMA": "standard deviation of the crosswind velocity",
            "WS": "mean wind speed at the sensor", "MO_LENGTH": "Obukhov length",
            "WD": "wind direction (from, clockwise from north)", "ZL": "stability parameter (z-d)/L",
            "PBLH": "planetary boundary-layer height", "H": "sensible heat flux (generator input)"}
    ds = xr.Dataset(coords={"time": time})
    for k, v in out.items():
        v = np.where(miss, np.nan, v)
        ds[k] = ("time", v.astype(float), {"units": units[k], "long_name": long[k]})
    ds.attrs.update({k: float(v) for k, v in geo.items()})
    ds.attrs.update({"site": site, "lat_deg": float(lat_deg), "seed": int(seed), "time_label": "start of half-hour",
                     "generator": "landcarbon.footprint.demo:demo_turbulence",
                     "title": "footprint twin: half-hourly turbulence (synthetic, known truth)"})
    return ds


def _grf(rng, shape, sigma_cells, mode="wrap"):
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.normal(size=shape), sigma=max(float(sigma_cells), 0.5), mode=mode)
    return (f - f.mean()) / f.std()


def _grid_coords(grid: FootprintGrid):
    return np.meshgrid(grid.x, grid.y)


def _lc_dataset(grid: FootprintGrid, classes: list[str], lc: np.ndarray, ndvi: np.ndarray, **attrs) -> xr.Dataset:
    ds = xr.Dataset(coords={"y": grid.y, "x": grid.x})
    ds["land_cover"] = (("y", "x"), lc.astype(np.int16),
                        {"units": "1", "long_name": "land-cover class (IGBP)", "flag_values": list(range(len(classes))),
                         "flag_meanings": " ".join(classes)})
    ds["NDVI"] = (("y", "x"), ndvi.astype(float), {"units": "1", "long_name": "normalised difference vegetation index"})
    ds["x"].attrs.update(units="m", long_name="distance east of the tower")
    ds["y"].attrs.update(units="m", long_name="distance north of the tower")
    ds.attrs.update(attrs)
    return ds


def demo_landscape(seed: int = 7, *, grid: FootprintGrid | None = None, dominant: str = "ENF",
                   others: tuple[str, ...] = ("GRA", "CRO", "DBF"), dominant_share: float = 0.45,
                   patch_scale_m: float = 120.0, stand_radius_m: float = 150.0, ndvi_sd: float = 0.04) -> xr.Dataset:
    """A patchy land-cover / NDVI map around a tower (the twin; our formulation).

    Gaussian random fields smoothed over ``patch_scale_m`` make the patches: the tower's class takes the
    top ``dominant_share`` quantile of one field, the remaining cells go to the class among ``others``
    whose own field is largest there (about equal shares); the tower stands in a disc of radius
    ``stand_radius_m`` of its own class. NDVI = the class's typical value
    (:data:`IGBP_NDVI`) + smooth noise of standard deviation ``ndvi_sd``.

    Returns
    -------
    xarray.Dataset
        ``land_cover`` (int codes, names in ``flag_meanings``), ``NDVI`` [1] on (y, x) [m].
    """
    g = footprint_grid(1000.0, 5.0) if grid is None else grid
    classes = [dominant] + [c for c in others if c != dominant]
    bad = [c for c in classes if c not in IGBP_NDVI]
    if bad:
        raise DataError(located(f"unknown land-cover classes {bad}", where="demo_landscape",
                                fix=f"use IGBP codes {sorted(IGBP_NDVI)}"))
    if not 0 < dominant_share < 1:
        raise DataError(located(f"dominant_share must be in (0, 1), got {dominant_share}", where="demo_landscape"))
    rng = np.random.default_rng(int(seed))
    field = _grf(rng, (g.ny, g.nx), patch_scale_m / g.dx)
    u = field.ravel().argsort().argsort().reshape(field.shape) / field.size  # uniform ranks
    k = len(classes) - 1  # dominant class on its field's top quantile; the others: argmax of own fields
    if k:
        others_f = np.stack([_grf(rng, (g.ny, g.nx), patch_scale_m / g.dx) for _ in range(k)])
        lc = np.where(u >= 1 - dominant_share, 0, 1 + np.argmax(others_f, axis=0))
    else:
        lc = np.zeros(u.shape, dtype=int)
    xx, yy = _grid_coords(g)
    lc = np.where(np.hypot(xx, yy) < stand_radius_m, 0, lc)
    means = np.array([IGBP_NDVI[c] for c in classes])
    ndvi = means[lc] + ndvi_sd * _grf(rng, lc.shape, 20.0 / g.dx)
    return _lc_dataset(g, classes, lc, np.clip(ndvi, -0.1, 0.95), seed=int(seed), dominant=dominant,
                       stand_radius_m=float(stand_radius_m), patch_scale_m=float(patch_scale_m),
                       generator="landcarbon.footprint.demo:demo_landscape",
                       title="footprint twin: patchy landscape (synthetic)")


def _disc_quadrant_area(x, y, r):
    """Area of the disc x² + y² ≤ r² inside (−∞, x] × (−∞, y] (closed form, vectorised)."""
    x = np.clip(np.asarray(x, float), -r, r)
    y = np.asarray(y, float)

    def prim(t):  # antiderivative of sqrt(r² - t²)
        t = np.clip(t, -r, r)
        return 0.5 * (t * np.sqrt(np.maximum(r * r - t * t, 0.0)) + r * r * np.arcsin(t / r))

    yc = np.clip(y, -r, r)
    t0 = np.sqrt(np.maximum(r * r - yc * yc, 0.0))
    c = np.clip(x, -t0, t0)
    middle = yc * (c + t0) + prim(c) - prim(-t0)  # |t| < t0: chord from -h(t) to y
    sides = 2 * (prim(np.minimum(x, -t0)) - prim(-r)) + 2 * (prim(np.maximum(x, t0)) - prim(t0))
    full = 2 * (prim(x) - prim(-r))
    return np.where(y >= r, full, np.where(y <= -r, 0.0, middle + np.where(yc >= 0, sides, 0.0)))


def disc_rectangle_area(radius_m, x1, x2, y1, y2):
    """Area [m²] of the disc of radius R centred at (0, 0) inside [x1, x2] × [y1, y2] (exact, vectorised)."""
    r = float(radius_m)
    f = _disc_quadrant_area
    return f(x2, y2, r) - f(x1, y2, r) - f(x2, y1, r) + f(x1, y1, r)


def demo_field_landscape(*, grid: FootprintGrid | None = None, radius_m: float = 300.0, ndvi_field: float = 0.80,
                         ndvi_background: float = 0.35, field_class: str = "CRO", background_class: str = "GRA",
                         pixel_centre_m: tuple[float, float] = (200.0, 200.0), pixel_size_m: float = 500.0) -> xr.Dataset:
    """A circular field around the tower in a uniform background, with an off-centre target pixel.

    The NDVI raster holds exact cell averages (cell-area fraction inside the disc, by quadrature),
    so the raster is the true landscape averaged over each cell. The planted offset: the satellite
    pixel that is supposed to represent the tower is centred at ``pixel_centre_m`` (x, y) [m], not on
    the tower. :func:`field_truth` gives the true footprint-weighted NDVI and location bias.

    Returns
    -------
    xarray.Dataset
        ``land_cover`` (field where more than half the cell is field), ``NDVI`` [1], ``field_fraction``
        [1]; attrs: radius_m, ndvi_field, ndvi_background, pixel_centre_m, pixel_size_m.
    """
    g = footprint_grid(1000.0, 2.0) if grid is None else grid
    ex = g.extent
    if radius_m <= 0 or radius_m > min(-ex[0], ex[1], -ex[2], ex[3]):
        raise DataError(located(f"field radius {radius_m} m must be > 0 and inside the grid {ex}",
                                where="demo_field_landscape"))
    xx, yy = _grid_coords(g)
    hx, hy = g.dx / 2, g.dy / 2
    frac = disc_rectangle_area(radius_m, xx - hx, xx + hx, yy - hy, yy + hy) / g.cell_area
    ndvi = ndvi_background + (ndvi_field - ndvi_background) * frac
    lc = np.where(frac > 0.5, 0, 1)
    ds = _lc_dataset(g, [field_class, background_class], lc, ndvi, radius_m=float(radius_m),
                     ndvi_field=float(ndvi_field), ndvi_background=float(ndvi_background),
                     pixel_centre_m=[float(v) for v in pixel_centre_m], pixel_size_m=float(pixel_size_m),
                     generator="landcarbon.footprint.demo:demo_field_landscape",
                     title="footprint twin: circular field with an off-centre pixel (synthetic, known truth)")
    ds["field_fraction"] = (("y", "x"), frac, {"units": "1", "long_name": "cell-area fraction inside the field"})
    return ds


# ----------------------------------------------------------------------------------------------
# truth by one-dimensional quadrature (independent of the grid and of the numba kernel)
# ----------------------------------------------------------------------------------------------
def _gl_panels(edges: np.ndarray, order: int = 24):
    """Gauss–Legendre nodes and weights on consecutive panels along the last axis of ``edges``."""
    t, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[..., :-1, None], edges[..., 1:, None]
    shape = edges.shape[:-1] + (-1,)
    return ((b - a) / 2 * t + (a + b) / 2).reshape(shape), ((b - a) / 2 * w).reshape(shape)


def _log_edges(a0, length, lam, n_log):
    """(n, n_log + 1) panel edges from a0 to a0 + length, geometric from 1e-4 Λ."""
    first = 1e-4 * lam
    ratio = np.maximum(length / first, 1.0)
    k = np.linspace(0.0, 1.0, n_log)
    inner = a0[:, None] + first[:, None] * ratio[:, None] ** k[None, :]
    return np.concatenate([a0[:, None], np.minimum(inner, (a0 + length)[:, None])], axis=1)


def _masses(lam, sig_scale, theta, rect, radius, n_log: int = 60):
    """Footprint mass of each time step inside the rectangle ``rect`` and inside the disc (radius, at the
    tower, within the rectangle): 1-D integrals along the wind of f^y(a) × Gaussian crosswind mass."""
    from scipy.special import ndtr

    xmin, xmax, ymin, ymax = rect
    s, c = np.sin(theta)[:, None], np.cos(theta)[:, None]
    a0 = FFP_D * lam
    corners = np.array([[xmin, ymin], [xmin, ymax], [xmax, ymin], [xmax, ymax]])
    along_c = corners[None, :, 0] * s + corners[None, :, 1] * c  # (n, 4)
    amax = np.maximum(along_c.max(axis=1), a0)

    def parts(a):
        xs = a / lam[:, None]
        fy = fstar(xs) / lam[:, None]
        sig = FFP_AC * np.sqrt(FFP_BC * xs * xs / (1 + FFP_CC * xs)) * sig_scale[:, None]
        return fy, np.where(sig > 0, sig, 1.0)

    edges = np.sort(np.concatenate([_log_edges(a0, amax - a0, lam, n_log),
                                    np.clip(along_c, a0[:, None], amax[:, None])], axis=1), axis=1)
    a, w = _gl_panels(edges)
    fy, sig = parts(a)
    lo = np.full(a.shape, -np.inf)
    hi = np.full(a.shape, np.inf)
    # points: x = a s + q c, y = a c − q s (q crosswind); clip q to the rectangle
    for coef, base, mn, mx in ((np.broadcast_to(c, a.shape), a * s, xmin, xmax),
                               (np.broadcast_to(-s, a.shape), a * c, ymin, ymax)):
        small = np.abs(coef) < 1e-14
        cf = np.where(small, 1.0, coef)
        q1, q2 = (mn - base) / cf, (mx - base) / cf
        lo = np.where(small, np.where((base >= mn) & (base <= mx), lo, np.inf), np.maximum(lo, np.minimum(q1, q2)))
        hi = np.where(small, hi, np.minimum(hi, np.maximum(q1, q2)))
    hi = np.maximum(hi, lo)
    m_rect = np.sum(w * fy * (ndtr(hi / sig) - ndtr(lo / sig)), axis=1)
    r = float(radius)
    split = np.maximum(a0 * 1.0001, 0.5 * r)
    a1, w1 = _gl_panels(_log_edges(a0, np.maximum(split - a0, 0.0), lam, n_log))
    fy1, sig1 = parts(a1)
    m1 = np.sum(w1 * fy1 * (2 * ndtr(np.sqrt(np.maximum(r * r - a1 * a1, 0)) / sig1) - 1), axis=1)
    vmax = np.sqrt(np.maximum(r - split, 0.0))
    v, wv = _gl_panels(vmax[:, None] * np.linspace(0.0, 1.0, 41)[None, :])
    a2 = r - v * v  # near the disc edge a = R − v² removes the square-root singularity
    fy2, sig2 = parts(a2)
    m2 = np.sum(wv * 2 * v * fy2 * (2 * ndtr(v * np.sqrt(r + a2) / sig2) - 1), axis=1)
    return m_rect, np.where(a0 < r, m1 + m2, 0.0)


def field_truth(turbulence: xr.Dataset, landscape: xr.Dataset, *, zm_m=None, z0_m=None, h_m=None,
                grid: FootprintGrid | None = None) -> dict:
    """True footprint-weighted NDVI, pixel NDVI and location bias of a :func:`demo_field_landscape`.

    For every valid half-hour, the footprint mass inside the analysis domain (the grid's rectangle)
    and inside the field (a disc of radius R at the tower) are one-dimensional integrals along the
    wind of f^y(a) times the Gaussian crosswind mass between the region's edges,

    .. math:: M_t(\\text{region}) = \\int f^y(a)\\,[\\Phi(q_{hi}(a)/\\sigma_y(a)) - \\Phi(q_{lo}(a)/\\sigma_y(a))]\\,da,

    evaluated by composite Gauss–Legendre quadrature (log-spaced panels; a = R − v² near the disc
    edge). Then NDVI_fp = N_bg + (N_field − N_bg) Σ M_t(disc) / Σ M_t(domain); the pixel NDVI follows
    from the exact area of the disc inside the pixel; bias = (NDVI_fp − NDVI_pixel) / NDVI_pixel.
    Steps outside FFP's validity range are skipped, as the climatology does.
    """
    g = footprint_grid(1000.0, 2.0) if grid is None else grid
    from .climatology import _step_parameters

    p, _, n = _step_parameters(turbulence, zm_m, z0_m, h_m, "field_truth")
    ok = validity_flags(**p) == 0
    if not ok.any():
        raise DataError(located("no valid half-hour in the turbulence record", where="field_truth"))
    sel = {k: v[ok] for k, v in p.items()}
    lam = length_scale(zm_m=sel["zm_m"], h_m=sel["h_m"], obukhov_length_m=sel["obukhov_length_m"],
                       z0_m=sel.get("z0_m"), umean_ms=sel.get("umean_ms"), ustar_ms=sel["ustar_ms"])
    ss = sel["zm_m"] * sel["sigma_v_ms"] / (crosswind_scale(sel["zm_m"], sel["obukhov_length_m"]) * sel["ustar_ms"])
    th = np.deg2rad(sel["wind_dir_deg"])
    r = float(landscape.attrs["radius_m"])
    m_dom = m_disc = 0.0
    for k in range(0, lam.size, 256):  # blocks of time steps bound the memory
        a, b = _masses(lam[k:k + 256], ss[k:k + 256], th[k:k + 256], g.extent, r)
        m_dom += float(a.sum())
        m_disc += float(b.sum())
    nf, nb = float(landscape.attrs["ndvi_field"]), float(landscape.attrs["ndvi_background"])
    frac_fp = m_disc / m_dom
    ndvi_fp = nb + (nf - nb) * frac_fp
    px, py = landscape.attrs["pixel_centre_m"]
    s = float(landscape.attrs["pixel_size_m"])
    frac_pix = float(disc_rectangle_area(r, px - s / 2, px + s / 2, py - s / 2, py + s / 2)) / (s * s)
    ndvi_pix = nb + (nf - nb) * frac_pix
    return {"footprint_field_fraction": frac_fp, "pixel_field_fraction": frac_pix, "ndvi_footprint": ndvi_fp,
            "ndvi_pixel": ndvi_pix, "location_bias": (ndvi_fp - ndvi_pix) / ndvi_pix,
            "mass_in_domain": m_dom / int(ok.sum()), "n_valid": int(ok.sum()), "n_total": int(n)}
