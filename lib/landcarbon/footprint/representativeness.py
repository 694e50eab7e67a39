"""Does a tower see what we upscale? Footprint-weighted surface properties and network coverage.

Tower scale (the tower against its pixel):

* footprint-weighted mean of a surface property P (NDVI, a land-cover indicator):
  P_fp = Σ f·w·P / Σ f·w over the cells of a region (w = region weights in [0, 1], e.g. the grid,
  a disc, the R % source area; cells where P is missing are left out);
* the fraction of the target vegetation type (FTVT) = footprint-weighted fraction of the tower's
  own land-cover class;
* the *location bias* of the tower against its target pixel or region,
  (P_fp − P_target) / P_target (the sensor location bias of the SAFE-f studies; Chu et al. 2021
  compare footprints with fixed target areas the same way).

Network scale (the towers against a region), our formulation after the climate-space distance of
Yang et al. (2008, JGR Biogeosciences 113:G04036, doi:10.1029/2007JG000627) and the environmental
clustering of Sulkava et al. (2011, JGR 116:G00J04, doi:10.1029/2010JG001562): each land cell of the
region is described by standardised climate features (mean annual temperature, log annual
precipitation); its distance to the nearest tower in that space — optionally only towers of the
cell's land-cover class — says how well the network samples it. Cells farther than a threshold are
under-represented; the represented area fraction is the network's representativeness.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located

__all__ = ["footprint_weighted_mean", "class_fractions", "area_fractions", "pixel_weights", "disc_weights",
           "location_bias", "tower_representativeness", "climate_features", "network_distance",
           "network_representativeness", "coverage_curve"]


def _values(a, name):
    return np.asarray(a.values if isinstance(a, xr.DataArray) else a, dtype=float)


def _check_same_grid(footprint: xr.DataArray, field: xr.DataArray, where: str):
    if isinstance(field, xr.DataArray) and isinstance(footprint, xr.DataArray):
        for c in ("x", "y"):
            if c not in field.coords or field[c].size != footprint[c].size or not np.allclose(field[c], footprint[c]):
                raise DataError(located(f"field and footprint are on different grids (coordinate {c})", where=where,
                                        fix="compute the footprint on the landscape's grid (grid=... of the landscape)"))
    elif np.shape(field) != np.shape(footprint):
        raise DataError(located(f"shapes differ: footprint {np.shape(footprint)}, field {np.shape(field)}", where=where))


def footprint_weighted_mean(field, footprint, *, region=None) -> float:
    """Footprint-weighted mean of ``field`` over ``region``: Σ f w P / Σ f w.

    Parameters
    ----------
    field : xarray.DataArray (y, x)
        Surface property on the footprint's grid (NaN = missing, left out).
    footprint : xarray.DataArray (y, x)
        Footprint or footprint climatology [m⁻²].
    region : array-like of bool or weights in [0, 1], optional
        Part of the grid to average over (default: the whole grid).
    """
    where = "footprint_weighted_mean"
    _check_same_grid(footprint, field, where)
    f = _values(footprint, "footprint")
    p = _values(field, "field")
    w = np.ones_like(f) if region is None else _values(region, "region")
    if w.shape != f.shape:
        raise DataError(located(f"region has shape {w.shape}, footprint {f.shape}", where=where))
    if np.any(w < 0) or np.any(w > 1) or np.any(f < 0):
        raise DataError(located("region weights must be in [0, 1] and the footprint >= 0", where=where))
    ok = np.isfinite(p) & np.isfinite(f)
    fw = np.where(ok, f * w, 0.0)
    den = fw.sum()
    if not den > 0:
        raise DataError(located("the footprint has no weight in the region (or the field is all missing there)",
                                where=where, fix="enlarge the region or check the footprint's grid"))
    return float(np.sum(fw * np.where(ok, p, 0.0)) / den)


def _classes(land_cover: xr.DataArray):
    names = land_cover.attrs.get("flag_meanings")
    vals = land_cover.attrs.get("flag_values")
    if names is None or vals is None:
        codes = np.unique(np.asarray(land_cover.values)[np.isfinite(np.asarray(land_cover.values, float))])
        return [int(c) for c in codes], [str(int(c)) for c in codes]
    return [int(v) for v in vals], str(names).split()


def class_fractions(land_cover: xr.DataArray, footprint: xr.DataArray, *, region=None) -> pd.Series:
    """Footprint-weighted fraction of each land-cover class [1] (sums to 1 over the region)."""
    codes, names = _classes(land_cover)
    lc = np.asarray(land_cover.values)
    out = {}
    for c, n in zip(codes, names):
        ind = xr.DataArray((lc == c).astype(float), dims=land_cover.dims, coords=land_cover.coords)
        out[n] = footprint_weighted_mean(ind, footprint, region=region)
    return pd.Series(out, name="footprint-weighted fraction")


def area_fractions(land_cover: xr.DataArray, *, region=None) -> pd.Series:
    """Area fraction of each land-cover class inside ``region`` (weights in [0, 1]) [1]."""
    w = np.ones(land_cover.shape) if region is None else _values(region, "region")
    codes, names = _classes(land_cover)
    lc = np.asarray(land_cover.values)
    tot = w.sum()
    if not tot > 0:
        raise DataError(located("empty region", where="area_fractions"))
    return pd.Series({n: float(np.sum(w * (lc == c)) / tot) for c, n in zip(codes, names)}, name="area fraction")


def pixel_weights(like: xr.DataArray, *, centre_m=(0.0, 0.0), size_m: float = 500.0) -> xr.DataArray:
    """Cell weights [0, 1] of a square target pixel (exact overlap of each grid cell with the pixel).

    Parameters
    ----------
    like : xarray.DataArray
        Anything on the footprint grid (x, y cell centres, regular spacing) [m].
    centre_m : (x, y)
        Pixel centre relative to the tower [m].
    size_m : float
        Pixel side [m] (MODIS: 250 or 500 m, Landsat: 30 m).
    """
    x, y = np.asarray(like["x"], float), np.asarray(like["y"], float)
    dx, dy = x[1] - x[0], y[1] - y[0]
    cx, cy = float(centre_m[0]), float(centre_m[1])
    h = float(size_m) / 2
    if not size_m > 0:
        raise DataError(located(f"pixel size must be > 0, got {size_m}", where="pixel_weights"))
    ox = np.clip(np.minimum(x + dx / 2, cx + h) - np.maximum(x - dx / 2, cx - h), 0, None) / dx
    oy = np.clip(np.minimum(y + dy / 2, cy + h) - np.maximum(y - dy / 2, cy - h), 0, None) / dy
    xmin, xmax = x[0] - dx / 2, x[-1] + dx / 2
    ymin, ymax = y[0] - dy / 2, y[-1] + dy / 2
    if cx - h < xmin - 1e-9 or cx + h > xmax + 1e-9 or cy - h < ymin - 1e-9 or cy + h > ymax + 1e-9:
        raise DataError(located(f"the pixel ({size_m} m at {centre_m}) reaches beyond the grid "
                                f"[{xmin}, {xmax}] x [{ymin}, {ymax}]", where="pixel_weights",
                                fix="use a larger landscape grid or a smaller pixel"))
    w = oy[:, None] * ox[None, :]
    return xr.DataArray(w, dims=("y", "x"), coords={"y": y, "x": x}, name="pixel_weight",
                        attrs={"units": "1", "centre_m": [cx, cy], "size_m": float(size_m)})


def disc_weights(like: xr.DataArray, radius_m: float, *, supersample: int = 8) -> xr.DataArray:
    """Cell weights [0, 1] of the disc of radius ``radius_m`` around the tower (supersampled)."""
    x, y = np.asarray(like["x"], float), np.asarray(like["y"], float)
    dx, dy = x[1] - x[0], y[1] - y[0]
    k = int(supersample)
    off = (np.arange(k) + 0.5) / k - 0.5
    w = np.zeros((y.size, x.size))
    for oy in off:
        for ox in off:
            w += (np.hypot(x[None, :] + ox * dx, y[:, None] + oy * dy) <= radius_m)
    return xr.DataArray(w / (k * k), dims=("y", "x"), coords={"y": y, "x": x}, name="disc_weight",
                        attrs={"units": "1", "radius_m": float(radius_m)})


def location_bias(p_footprint, p_target):
    """Relative location bias (P_footprint − P_target) / P_target [1]; > 0: the tower sees more of P."""
    pf, pt = np.asarray(p_footprint, float), np.asarray(p_target, float)
    if np.any(np.abs(pt) < 1e-12):
        raise DataError(located("target value is zero: the relative bias is undefined", where="location_bias",
                                fix="use an absolute difference or another property"))
    return (pf - pt) / pt


def tower_representativeness(landscape: xr.Dataset, footprint: xr.DataArray, *, target_class: str | None = None,
                             pixel_centre_m=(0.0, 0.0), pixel_size_m: float = 500.0, region=None) -> dict:
    """How well a tower's footprint represents its target pixel.

    Returns
    -------
    dict
        ftvt (footprint-weighted fraction of the target vegetation type), pixel_tvt (its area fraction
        in the pixel), ndvi_footprint, ndvi_pixel, location_bias (NDVI), mass_in_region (footprint
        mass the weighted mean rests on).
    """
    lc = landscape["land_cover"]
    codes, names = _classes(lc)
    target = target_class or landscape.attrs.get("dominant") or names[0]
    if target not in names:
        raise DataError(located(f"target class {target!r} not in the landscape ({names})",
                                where="tower_representativeness"))
    pix = pixel_weights(footprint, centre_m=pixel_centre_m, size_m=pixel_size_m)
    ind = (lc == codes[names.index(target)]).astype(float)
    ndvi_fp = footprint_weighted_mean(landscape["NDVI"], footprint, region=region)
    ndvi_px = float(np.sum(pix.values * landscape["NDVI"].values) / pix.values.sum())
    w = np.ones(footprint.shape) if region is None else _values(region, "region")
    dx = float(footprint["x"][1] - footprint["x"][0])
    dy = float(footprint["y"][1] - footprint["y"][0])
    return {"target_class": target, "ftvt": footprint_weighted_mean(ind, footprint, region=region),
            "pixel_tvt": float(np.sum(pix.values * ind.values) / pix.values.sum()),
            "ndvi_footprint": ndvi_fp, "ndvi_pixel": ndvi_px, "location_bias": float(location_bias(ndvi_fp, ndvi_px)),
            "mass_in_region": float(np.sum(footprint.values * w) * dx * dy)}


# ----------------------------------------------------------------------------------------------
# network scale
# ----------------------------------------------------------------------------------------------
def climate_features(mat_degc, map_mm) -> np.ndarray:
    """Feature vectors (…, 2): mean annual temperature [°C] and log10 annual precipitation [mm yr⁻¹]."""
    mat = np.asarray(mat_degc, float)
    p = np.asarray(map_mm, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([mat, np.log10(np.where(p > 0, p, np.nan))], axis=-1)


def network_distance(cell_features: np.ndarray, site_features: np.ndarray, *, scale: np.ndarray,
                     cell_class=None, site_class=None) -> tuple[np.ndarray, np.ndarray]:
    """Standardised Euclidean distance of each cell to its nearest site in feature space.

    Parameters
    ----------
    cell_features : (n_cells, k) ; site_features : (n_sites, k)
    scale : (k,)
        Standard deviations used to standardise each feature.
    cell_class, site_class : arrays of labels, optional
        Restrict each cell's candidates to sites of the same class (cells of a class without any
        site get an infinite distance).

    Returns
    -------
    (distance (n_cells,), index of the nearest site (n_cells,), −1 when none)
    """
    cf = np.asarray(cell_features, float) / np.asarray(scale, float)
    sf = np.asarray(site_features, float) / np.asarray(scale, float)
    if cf.ndim != 2 or sf.ndim != 2 or cf.shape[1] != sf.shape[1]:
        raise DataError(located(f"feature arrays must be (n, k) with equal k, got {cf.shape} and {sf.shape}",
                                where="network_distance"))
    ok_s = np.all(np.isfinite(sf), axis=1)
    d2 = ((cf[:, None, :] - sf[None, :, :]) ** 2).sum(-1)
    d2[:, ~ok_s] = np.inf
    if cell_class is not None and site_class is not None:
        same = np.asarray(cell_class)[:, None] == np.asarray(site_class)[None, :]
        d2 = np.where(same, d2, np.inf)
    idx = np.argmin(d2, axis=1)
    d = np.sqrt(d2[np.arange(d2.shape[0]), idx])
    idx = np.where(np.isfinite(d), idx, -1)
    d = np.where(np.all(np.isfinite(cf), axis=1), d, np.nan)
    return d, idx


def network_representativeness(climate: xr.Dataset, sites: xr.Dataset, *, threshold: float = 0.5,
                                by_class: bool = False) -> xr.Dataset:
    """How much of a region's climate (and land-cover) space a tower network samples.

    Parameters
    ----------
    climate : xarray.Dataset
        (lat, lon) fields MAT [°C] and MAP [mm yr⁻¹] (e.g. the demo world or CRU TS annual means),
        optionally ``PFT`` codes with ``flag_meanings`` (IGBP names) and ``area`` [m²]; NaN MAT = not land.
    sites : xarray.Dataset
        Indexed by ``site`` with ``lat`` and ``lon`` [deg] and, for ``by_class``, ``igbp`` (IGBP code).
        Each site takes the climate of its grid cell (so towers and region share one climate source).
    threshold : float
        Largest standardised distance that still counts as represented (our choice: 0.5 standard
        deviations of the region's climate).
    by_class : bool
        Only towers of a cell's own land-cover class may represent it.

    Returns
    -------
    xarray.Dataset
        ``distance`` (lat, lon) [standard deviations], ``nearest_site``, ``represented`` (bool), the
        sites' features, attrs represented_fraction (area-weighted), threshold, scale.
    """
    from ..world.grid import nearest_cell

    for v in ("MAT", "MAP"):
        if v not in climate:
            raise DataError(located(f"climate dataset lacks {v}", where="network_representativeness",
                                    fix="give mean annual temperature MAT [degC] and precipitation MAP [mm yr-1]"))
    lat, lon = np.asarray(climate["lat"], float), np.asarray(climate["lon"], float)
    mat, mapp = np.asarray(climate["MAT"], float), np.asarray(climate["MAP"], float)
    feats = climate_features(mat, mapp)
    land = np.all(np.isfinite(feats), axis=-1)
    area = np.asarray(climate["area"], float) if "area" in climate else np.cos(np.deg2rad(lat))[:, None] * np.ones_like(mat)
    area = np.broadcast_to(area, mat.shape)
    cells = feats[land]
    scale = np.sqrt(np.cov(cells.T, aweights=area[land]).diagonal())
    ii, jj = nearest_cell(lat, lon, np.asarray(sites["lat"], float), np.asarray(sites["lon"], float))
    site_feats = feats[ii, jj]
    cell_class = site_class = None
    if by_class:
        if "PFT" not in climate or "igbp" not in sites:
            raise DataError(located("by_class needs PFT in the climate data and igbp for the sites",
                                    where="network_representativeness"))
        names = str(climate["PFT"].attrs.get("flag_meanings", "")).split()
        codes = np.asarray(climate["PFT"].values)
        cell_class = np.where(codes[land] >= 0, np.array(names + ["?"])[np.clip(codes[land], 0, len(names))], "?")
        site_class = np.asarray(sites["igbp"].values).astype(str)
    d, idx = network_distance(cells, site_feats, scale=scale, cell_class=cell_class, site_class=site_class)
    dist = np.full(mat.shape, np.nan)
    dist[land] = d
    near = np.full(mat.shape, -1)
    near[land] = idx
    rep = np.where(land, dist <= threshold, False)
    site_ids = np.asarray(sites["site"].values).astype(str)
    out = xr.Dataset(coords={"lat": lat, "lon": lon, "site": site_ids})
    out["distance"] = (("lat", "lon"), dist, {"units": "1", "long_name": "distance to the nearest tower in "
                                              "standardised climate space"})
    out["nearest_site"] = (("lat", "lon"), near, {"long_name": "index of the nearest tower (-1: none)"})
    out["represented"] = (("lat", "lon"), rep, {"long_name": f"distance <= {threshold}"})
    out["area"] = (("lat", "lon"), np.where(land, area, np.nan), {"units": "m2" if "area" in climate else "1",
                                                                "long_name": "land-cell area (weight)"})
    out["site_MAT"] = ("site", site_feats[:, 0], {"units": "degC"})
    out["site_log10_MAP"] = ("site", site_feats[:, 1], {"units": "log10(mm yr-1)"})
    out.attrs.update({"threshold": float(threshold), "by_class": int(bool(by_class)),
                      "scale": [float(s) for s in scale], "features": "MAT [degC], log10 MAP [mm yr-1]",
                      "represented_fraction": float(np.sum(area[land] * (d <= threshold)) / np.sum(area[land]))})
    return out


def coverage_curve(rep: xr.Dataset, thresholds) -> pd.DataFrame:
    """Area-weighted share of the land represented (distance ≤ threshold) for each threshold."""
    d = np.asarray(rep["distance"].values, float)
    a = np.asarray(rep["area"].values, float)
    land = np.isfinite(a) & ~np.isnan(d)
    tot = a[land].sum()
    th = np.asarray(thresholds, float)
    return pd.DataFrame({"threshold": th, "represented_fraction": [float(a[land][d[land] <= t].sum() / tot) for t in th]})
