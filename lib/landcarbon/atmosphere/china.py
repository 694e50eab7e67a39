"""China's outline for the region masks: Natural Earth (shipped) or China's official boundary (user-supplied).

Natural Earth 1:110m draws *de facto* boundaries: mainland China with Hainan, Aksai Chin inside, Arunachal
Pradesh outside, Taiwan a separate country (added on request). Its geodesic area is 9.41 million km², 2 %
below the official 9.6 million km², which counts Taiwan and the areas China claims. Measured for comparison
(WGS84 geodesic areas of the Natural Earth polygons in the npm package world-atlas 2.0.2): 1:10m China
9.375, 1:50m 9.373, 1:110m 9.410, Taiwan 0.036 million km²; adding Arunachal Pradesh (83,743 km², Census of
India 2011) still leaves the 1:10m outline 1.1 % below 9.6. Only China's official boundary file closes the
gap; it cannot ship (provider terms), so the manifest entry ``china-boundary-official`` says where to get it,
and when it is on ``LANDCARBON_DATA_PATH`` every mask uses it (``outline="auto"``).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, located
from .regions import _data_file, region_grid

__all__ = ["CHINA_OUTLINE_FILE", "CHINA_OFFICIAL_ID", "official_china_outline_path", "outline_sources", "china_outline",
           "read_china_outline", "china_fraction"]

CHINA_OUTLINE_FILE = "china_ne110m.geojson"


#: Manifest id of China's boundary as China's official maps draw it (user-supplied GeoJSON, not shipped).
CHINA_OFFICIAL_ID = "china-boundary-official"
#: Longitude/latitude box that any China outline must fall in [deg] (catches projected coordinates).
_CHINA_BOX = (70.0, 140.0, 15.0, 56.0)


def official_china_outline_path():
    """Path of the manifest's official China boundary (:data:`CHINA_OFFICIAL_ID`) when it is on this
    machine (``LANDCARBON_DATA_PATH``), else None."""
    from ..data import resolve_files

    res = resolve_files(CHINA_OFFICIAL_ID)
    return Path(res.paths[0]) if res.complete and res.paths else None


def outline_sources() -> list[str]:
    """``["real:<sha256>"]`` of China's official boundary when the masks use it (for a notebook's list of
    data sources and its provenance), else ``[]`` (the shipped Natural Earth outline)."""
    import hashlib

    path = official_china_outline_path()
    return [] if path is None else [f"real:{hashlib.sha256(path.read_bytes()).hexdigest()}"]


def china_outline(*, include_taiwan: bool = False, outline: str | Path = "auto"):
    """China as a shapely geometry.

    ``outline``: ``"natural-earth"`` — Natural Earth 1:110m (``tools/make_china_outline.py``): mainland
    China with Hainan along Natural Earth's de facto boundaries (Aksai Chin inside, Arunachal Pradesh
    outside); Taiwan, a separate Natural Earth country, only with ``include_taiwan``. A path — a GeoJSON
    FeatureCollection in longitude/latitude (EPSG:4326), all of whose polygons together are China (e.g.
    China's official boundary, manifest entry :data:`CHINA_OFFICIAL_ID`; ``include_taiwan`` is then
    ignored: the file says what China is). ``"auto"`` (default) — that official file when it is on this
    machine, else Natural Earth.
    """
    import shapely

    path = _outline_path(outline)
    if path is not None:
        return shapely.union_all(_outline_geometries(path))
    from shapely.geometry import shape

    doc = json.loads(_data_file(CHINA_OUTLINE_FILE).read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in doc["features"]
             if f["properties"]["name"] == "China" or (include_taiwan and f["properties"]["name"] == "Taiwan")]
    return shapely.union_all(geoms)


def _outline_path(outline):
    if isinstance(outline, (str, Path)) and str(outline) == "natural-earth":
        return None
    if isinstance(outline, (str, Path)) and str(outline) == "auto":
        return official_china_outline_path()
    p = Path(outline)
    if not p.is_file():
        raise DataError(located("no such outline file", where=str(p),
                                fix="give a GeoJSON file, 'natural-earth' or 'auto'"))
    return p


def _outline_geometries(path) -> list:
    """Polygons of a GeoJSON outline file, checked: readable, polygonal, in lon/lat degrees around China."""
    from shapely.geometry import shape

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        feats = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
        geoms = [shape(f["geometry"] if "geometry" in f else f) for f in feats]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(located(f"cannot read the outline as GeoJSON ({type(exc).__name__}: {exc})", where=str(p),
                                fix="convert it, e.g. ogr2ogr -f GeoJSON -t_srs EPSG:4326 out.geojson in.shp")) from exc
    geoms = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    if not geoms:
        raise DataError(located("the outline holds no polygons", where=str(p), fix="give the boundary as (multi)polygons"))
    lo0, la0, lo1, la1 = (f(v) for f, v in zip((min, min, max, max), zip(*[g.bounds for g in geoms])))
    x0, x1, y0, y1 = _CHINA_BOX
    if lo0 < x0 or lo1 > x1 or la0 < y0 or la1 > y1:
        raise DataError(located(f"coordinates span lon {lo0:.6g}..{lo1:.6g}, lat {la0:.6g}..{la1:.6g}: not China in "
                                "longitude/latitude degrees", where=str(p),
                                fix="reproject to EPSG:4326 (ogr2ogr -t_srs EPSG:4326) and keep only China's polygons"))
    return geoms


def read_china_outline(paths) -> xr.Dataset:
    """Manifest loader of a China outline (``china_ne110m.geojson`` or a user's official boundary): per
    feature its name, what it includes, the geodesic area [km2] (WGS84, pyproj) and the geometry as WKT."""
    from pyproj import Geod

    p = Path(paths[0] if isinstance(paths, (list, tuple)) else paths)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        feats = doc["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(located(f"cannot read the outline ({exc})", where=str(p),
                                fix="regenerate it with tools/make_china_outline.py, or give a GeoJSON FeatureCollection")) from exc
    geoms = _outline_geometries(p)
    props = [f.get("properties") or {} for f in feats if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")]
    geod = Geod(ellps="WGS84")
    return xr.Dataset({"name": ("feature", [str(q.get("name", f"feature {i}")) for i, q in enumerate(props)]),
                       "includes": ("feature", [str(q.get("includes", "")) for q in props]),
                       "area_km2": ("feature", [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in geoms],
                                    {"units": "km2"}),
                       "wkt": ("feature", [g.wkt for g in geoms])}, attrs={"source": doc.get("source", str(p))})


@lru_cache(maxsize=8)
def _china_fraction(res: float, include_taiwan: bool, outline: str) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():        # regionmask -> pooch -> tqdm.auto warns about ipywidgets in kernels
        warnings.simplefilter("ignore")
        import regionmask

    lat, lon = region_grid(res)
    reg = regionmask.Regions([china_outline(include_taiwan=include_taiwan, outline=outline)], numbers=[0],
                             names=["China"], abbrevs=["CN"], name="china")
    frac = reg.mask_3D_frac_approx(lon, lat)
    return np.nan_to_num(frac.isel(region=0).transpose("lat", "lon").values.astype(float), nan=0.0)


def _outline_label(outline: str) -> str:
    if outline == "natural-earth":
        return "Natural Earth 1:110m (de facto boundaries) via regionmask"
    return f"China boundary from {outline} via regionmask"


def china_fraction(res: float = 1.0, *, include_taiwan: bool = False, outline: str | Path = "auto") -> xr.DataArray:
    """Area fraction (0..1) of each ``res``-degree cell inside China (regionmask ``mask_3D_frac_approx``).

    Fractional, area-weighted mask of the outline of :func:`china_outline` (``outline`` as there);
    sum(fraction * cell area) is China's area on that grid. ``attrs['provenance']`` names the outline.
    """
    path = _outline_path(outline)
    key = "natural-earth" if path is None else str(path.resolve())
    lat, lon = region_grid(res)
    return xr.DataArray(_china_fraction(float(res), bool(include_taiwan), key), coords={"lat": lat, "lon": lon},
                        dims=("lat", "lon"), name="china_fraction",
                        attrs={"units": "1", "provenance": _outline_label(key)})
