"""Regular lat-lon grids and the land mask shared by the gridded loaders and the demo world.

Standard grid convention of landcarbon: cell centres, latitude ascending (south to north),
longitude -180..180, both in degrees; ``area`` in m2 from :func:`landcarbon.units.grid_cell_area_m2`.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import xarray as xr

from ..publish.atomic import atomic_path
from ..errors import ConfigError, DataError, located
from ..units import grid_cell_area_m2

__all__ = ["grid_coords", "land_fraction", "land_mask", "cell_area", "nearest_cell"]

_BASE = 0.1  # resolution [deg] of the cached land-fraction grid (1800 x 3600)


def _check_resolution(resolution: float) -> int:
    """Number of 0.1-degree base cells per output cell; the grid must tile the globe exactly."""
    k = round(float(resolution) / _BASE)
    if k < 1 or abs(k * _BASE - float(resolution)) > 1e-9 or 1800 % k:
        raise ConfigError(located(
            f"resolution {resolution!r} deg does not tile the globe on the 0.1-deg base grid",
            where="landcarbon.world.grid", fix="use e.g. 0.5, 1, 1.5, 2, 2.5, 3, 4, 5 or 10"))
    return k


def grid_coords(resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitudes (ascending, -90..90) and longitudes (-180..180) [deg] of a global grid."""
    k = _check_resolution(resolution)
    n_lat, n_lon = 1800 // k, 3600 // k
    res = k * _BASE
    lat = np.round(-90.0 + res * (np.arange(n_lat) + 0.5), 6)
    lon = np.round(-180.0 + res * (np.arange(n_lon) + 0.5), 6)
    return lat, lon


def _cache_file() -> Path:
    from ..publish.paths import download_cache

    return download_cache() / "land_fraction_0.1deg_globe_v2.npy"


@functools.lru_cache(maxsize=1)
def _base_fraction() -> np.ndarray:
    """Land fraction on the 0.1-deg grid (1800 x 3600, south to north), float32 in [0, 1].

    Derived once from the 1-km GLOBE mask of the ``global-land-mask`` package (block counts of
    12 x 12 samples) and cached on disk (the package's full mask needs ~1 GB of RAM while loading).
    """
    f = _cache_file()
    if f.is_file():
        try:
            arr = np.load(f)
            if arr.shape == (1800, 3600):
                return arr.astype(np.float32) / 144.0
        except (OSError, ValueError):
            pass
    try:
        import global_land_mask
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise DataError(located("package global-land-mask is required for the land mask",
                                fix="pip install global-land-mask")) from exc
    src = Path(global_land_mask.__file__).with_name("globe_combined_mask_compressed.npz")
    with np.load(src) as z:
        mask = z["mask"]  # (21600, 43200), north to south, lon -180..180, True = WATER (is_land = ~mask)
    counts = (144 - mask.reshape(1800, 12, 3600, 12).sum(axis=(1, 3), dtype=np.uint8))[::-1].astype(np.uint8)
    del mask
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(f, suffix=".npy") as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, counts)
    except OSError:  # cache is an optimisation only
        pass
    return counts.astype(np.float32) / 144.0


def land_fraction(resolution: float) -> np.ndarray:
    """Land fraction (0..1) of each cell of the global grid at ``resolution`` [deg], (lat, lon)."""
    k = _check_resolution(resolution)
    base = _base_fraction()
    return base.reshape(1800 // k, k, 3600 // k, k).mean(axis=(1, 3))


def land_mask(resolution: float, *, min_fraction: float = 0.5, exclude_antarctica: bool = True) -> np.ndarray:
    """Boolean land mask (lat, lon): land fraction >= ``min_fraction``; Antarctica (< 60 S) excluded
    by default, as in CRU TS (Harris et al. 2020, doi:10.1038/s41597-020-0453-3)."""
    lat, _ = grid_coords(resolution)
    m = land_fraction(resolution) >= min_fraction
    if exclude_antarctica:
        m &= (lat >= -60.0)[:, None]
    return m


def cell_area(lat, lon, resolution: float | None = None) -> xr.DataArray:
    """Cell area [m2] on (lat, lon) of a regular grid (spherical zone formula, landcarbon.units)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if resolution is None:
        if lat.size < 2:
            raise DataError(located("cannot infer the grid spacing from one latitude", fix="pass resolution"))
        resolution = float(np.median(np.abs(np.diff(lat))))
    a = grid_cell_area_m2(lat, resolution, resolution)
    return xr.DataArray(np.broadcast_to(a[:, None], (lat.size, lon.size)).copy(), dims=("lat", "lon"),
                        coords={"lat": lat, "lon": lon}, attrs={"units": "m2", "long_name": "grid-cell area"})


def nearest_cell(grid_lat, grid_lon, lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i_lat, i_lon) of the grid cells containing points (lat, lon) [deg] (lon wraps)."""
    grid_lat = np.asarray(grid_lat, dtype=float)
    grid_lon = np.asarray(grid_lon, dtype=float)
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = (np.atleast_1d(np.asarray(lon, dtype=float)) + 180.0) % 360.0 - 180.0
    i = np.abs(lat[:, None] - grid_lat[None, :]).argmin(axis=1)
    d = np.abs(lon[:, None] - grid_lon[None, :])
    d = np.minimum(d, 360.0 - d)
    j = d.argmin(axis=1)
    return i, j
