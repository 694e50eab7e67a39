"""Flux regions of the inversion: TransCom-3 (22 regions) and the China-nested 43-region system.

TransCom-3 (Gurney et al. 2002, Nature 415, 626, doi:10.1038/415626a) divides the globe into 11 land
and 11 ocean regions. The reference map is CarbonTracker's ``regions.nc`` (variable ``transcom_regions``,
1 x 1 deg; manifest id ``transcom-regions``, :func:`read_transcom_map`): when its file is on this machine
(``LANDCARBON_DATA_PATH``) it is used. **Fallback (our formulation)** when it is not: the regions rebuilt
from their latitude/longitude extents and the ``global-land-mask`` package (GEBCO-based land/sea mask),
where extents overlap, simple documented cut lines decide (e.g. North American boreal north of 50 N, Eurasia
boreal north of 52 N or in the Russian Far East, Africa split at the equator, Arabia counted as
Northern Africa, Mediterranean/Black/Caspian seas not optimised, Greenland and Antarctica not
optimised). Region areas therefore differ from the official mask by up to ~10-20 %.

The nested system (Jiang et al. 2013, Biogeosciences 10, 5311, doi:10.5194/bg-10-5311-2013; 2014,
ACP 14, 10133, doi:10.5194/acp-14-10133-2014) keeps the TransCom regions but splits Asian land
(TransCom 7, 8, 9) into 21 regions, 13 of them in China. China is the Natural Earth 1:110m outline
(:func:`china_outline`; fractional, area-weighted mask with regionmask, :func:`china_fraction`; a cell
belongs to China when at least half of it is inside). The paper's zone map was not available: the zoning
inside China is OUR ecological/climate zoning, stored in the replaceable data file
``landcarbon/data/embedded/atmosphere/nested_regions.json``. To reach 43 regions three large non-Asian land regions are
halved (file key ``splits``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ConfigError, DataError, located
from ..units import grid_cell_area_m2

__all__ = [
    "TRANSCOM_NAMES",
    "RegionSystem",
    "transcom_regions",
    "nested_regions",
    "region_grid",
    "china_mask",
    "read_transcom_map",
    "transcom_map",
    "TRANSCOM_MAP_ID",
    "DEFAULT_NESTED_FILE",
]

#: TransCom-3 region names (CTDAS ``da/analysis/t3_region_names``), 1-11 land, 12-22 ocean.
TRANSCOM_NAMES = {
    1: "North American Boreal", 2: "North American Temperate", 3: "South American Tropical",
    4: "South American Temperate", 5: "Northern Africa", 6: "Southern Africa", 7: "Eurasia Boreal",
    8: "Eurasia Temperate", 9: "Tropical Asia", 10: "Australia", 11: "Europe",
    12: "North Pacific Temperate", 13: "West Pacific Tropical", 14: "East Pacific Tropical",
    15: "South Pacific Temperate", 16: "Northern Ocean", 17: "North Atlantic Temperate",
    18: "Atlantic Tropical", 19: "South Atlantic Temperate", 20: "Southern Ocean",
    21: "Indian Tropical", 22: "South Indian Temperate",
}
TRANSCOM_CODES = {
    1: "NAB", 2: "NAT", 3: "SATR", 4: "SATE", 5: "NAF", 6: "SAF", 7: "EUB", 8: "EUT", 9: "TAS", 10: "AUS",
    11: "EU", 12: "NPT", 13: "WPT", 14: "EPT", 15: "SPT", 16: "NOC", 17: "NAT-O", 18: "ATR", 19: "SAT-O",
    20: "SOC", 21: "ITR", 22: "SIT",
}

DEFAULT_NESTED_FILE = "nested_regions.json"


def _data_file(name: str) -> Path:
    return Path(str(resources.files("landcarbon.data").joinpath("embedded", "atmosphere", name)))


@dataclass
class RegionSystem:
    """A set of flux regions on a regular 1-degree grid.

    Attributes
    ----------
    name : str
        ``"transcom22"`` or ``"nested43"`` (or a user name).
    codes, names : list of str
        Short codes and long names, index = region number 0..n-1.
    kind : list of str
        ``"land"`` or ``"ocean"`` per region.
    transcom : np.ndarray of int
        Parent TransCom region (1..22) of each region.
    china : np.ndarray of bool
        Whether the region is one of the China zones.
    ids : xr.DataArray
        Region index per 1-degree cell (lat, lon), -1 where not optimised.
    """

    name: str
    codes: list
    names: list
    kind: list
    transcom: np.ndarray
    china: np.ndarray
    ids: xr.DataArray
    provenance: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.codes)

    def index(self, code: str) -> int:
        try:
            return self.codes.index(code)
        except ValueError:
            raise ConfigError(located(f"unknown region code {code!r}", where=self.name,
                                      fix=f"use one of {self.codes}")) from None

    def areas_m2(self) -> np.ndarray:
        """Area [m2] of each region on the 1-degree grid."""
        lat = self.ids["lat"].values
        a = grid_cell_area_m2(lat, 1.0, 1.0)[:, None] * np.ones(self.ids.shape[1])
        ids = self.ids.values
        return np.array([a[ids == r].sum() for r in range(self.n)])

    def fractions(self, lat_edges, lon_edges) -> np.ndarray:
        """Area [m2] of each region inside each cell of a coarser regular grid.

        Parameters
        ----------
        lat_edges, lon_edges : array
            Cell edges [deg] of the target grid (lat ascending from -90 to 90; lon from -180 to 180);
            the 1-degree cells are assigned by their centres.

        Returns
        -------
        np.ndarray, shape (n_regions, n_lat, n_lon), units m2.
        """
        lat = self.ids["lat"].values
        lon = self.ids["lon"].values
        jj = np.clip(np.searchsorted(lat_edges, lat, side="right") - 1, 0, len(lat_edges) - 2)
        ii = np.clip(np.searchsorted(lon_edges, lon, side="right") - 1, 0, len(lon_edges) - 2)
        a = grid_cell_area_m2(lat, 1.0, 1.0)
        out = np.zeros((self.n, len(lat_edges) - 1, len(lon_edges) - 1))
        ids = self.ids.values
        J, I = np.nonzero(ids >= 0)
        np.add.at(out, (ids[J, I], jj[J], ii[I]), a[J])
        return out

    def region_at(self, lat, lon) -> np.ndarray:
        """Region index (-1 = not optimised) of the region-grid cells holding points (lat, lon) [deg]."""
        la = self.ids["lat"].values
        lo = self.ids["lon"].values
        res_lat, res_lon = la[1] - la[0], lo[1] - lo[0]
        j = np.clip(np.floor((np.asarray(lat, float) - (la[0] - res_lat / 2)) / res_lat).astype(int), 0, len(la) - 1)
        x = (np.asarray(lon, float) + 180.0) % 360.0 - 180.0
        i = np.clip(np.floor((x - (lo[0] - res_lon / 2)) / res_lon).astype(int), 0, len(lo) - 1)
        return self.ids.values[j, i]

    def is_land(self, lat, lon) -> np.ndarray:
        """True where (lat, lon) [deg] falls in a land region of this system."""
        r = self.region_at(lat, lon)
        land = np.array([k == "land" for k in self.kind] + [False])   # index -1 -> False
        return land[r]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame({"code": self.codes, "name": self.names, "kind": self.kind,
                             "transcom": self.transcom, "china": self.china,
                             "area_km2": self.areas_m2() / 1e6})

    def aggregation_matrix(self, coarse: "RegionSystem") -> np.ndarray:
        """Matrix W (n_coarse, n_self) with W[c, r] = area share of fine region r in coarse region c.

        For basis functions with a uniform flux per unit area inside each region, the coarse region's
        basis function is ``sum_r W[c, r] * basis_r`` exactly (linearity of transport).
        """
        fine = self.ids.values
        crs = coarse.ids.values
        lat = self.ids["lat"].values
        a = grid_cell_area_m2(lat, 1.0, 1.0)[:, None] * np.ones(fine.shape[1])
        W = np.zeros((coarse.n, self.n))
        for r in range(self.n):
            m = fine == r
            cs = np.unique(crs[m])
            if len(cs) != 1 or cs[0] < 0:
                raise ConfigError(located(f"region {self.codes[r]} is not nested in one {coarse.name} region",
                                          where=self.name))
            W[cs[0], r] = a[m].sum()
        tot = W.sum(axis=1, keepdims=True)
        return np.divide(W, tot, out=np.zeros_like(W), where=tot > 0)


def region_grid(res: float = 1.0):
    """Cell centres (lat ascending, lon -180..180) of the 1-degree region grid."""
    lat = np.arange(-90 + res / 2, 90, res)
    lon = np.arange(-180 + res / 2, 180, res)
    return lat, lon


def _land_mask(lat, lon) -> np.ndarray:
    from global_land_mask import globe

    LA, LO = np.meshgrid(lat, lon, indexing="ij")
    return globe.is_land(LA, LO)


def _transcom_land(la, lo):
    """TransCom land region (1..11, 0 = not optimised) of one land cell centre; our cut lines."""
    if la < -60:
        return 0
    if -74 <= lo <= -10 and la > 59:  # Greenland ice
        return 0
    if lo < -168 and la > 55:  # Chukotka across the date line
        return 7
    if lo < -25:  # the Americas
        if la >= 50:
            return 1
        if la >= 20 or (la >= 16 and lo < -95):
            return 2
        if la >= -15:
            return 3
        return 4
    if lo >= 110 and la < -10:
        return 10
    if lo >= 160 and la < 0:
        return 10 if la < -30 else 9
    africa = (-25 <= lo <= 52 and la < 37.5 and not (lo > 35 and la > 30))
    arabia = (35 <= lo <= 60 and 12 <= la < 30 and not (lo > 50 and la > 26))
    if africa or arabia:
        return 5 if la >= 0 else 6
    if -25 <= lo < 61 and la >= 35:
        if lo >= 25 and la < 45:
            return 8
        if lo >= 50 and la < 55:
            return 8
        return 11
    # Eurasia east of the Urals and Asia
    if la >= 52 or (130.5 <= lo < 140 and la >= 42.5) or (lo >= 140 and la >= 46):
        return 7
    if lo >= 92 and la < 28:
        return 9
    return 8


def _pac_boundary(la):
    """Longitude [deg] of the American coast separating Pacific (west) from Atlantic (east), |lat| < 18."""
    return -78.0 if la < 8 else -78.0 - 1.7 * (la - 8.0)


def _transcom_ocean(la, lo):
    """TransCom ocean region (12..22, 0 = not optimised) of one ocean cell centre; our cut lines."""
    if la < -79:
        return 0
    if la < -44:
        return 20
    if 0 <= lo <= 60 and 30 <= la <= 48:  # Mediterranean, Black and Caspian seas
        return 0
    pacific_east = lo < _pac_boundary(min(max(la, -18), 18)) if la < 18 else lo < -100
    if la >= 18:
        in_pacific = lo >= 100 or pacific_east or lo < -100
        if in_pacific and la < 66 and not (-100 <= lo < 100):
            return 12
        if la >= 49:
            return 16
        if 30 <= lo < 100 and la < 26:
            return 21
        if -100 <= lo < 30:
            return 17
        return 16 if la >= 49 else 17
    if la >= -18:
        if 30 <= lo < 105 or (105 <= lo < 135 and la < -8):
            return 21
        if lo >= 105 or lo < -161:
            return 13
        if lo < _pac_boundary(la):
            return 14
        return 18
    # -44 .. -18
    if -70 <= lo < 20:
        return 19
    if 20 <= lo < 146:
        return 22
    return 15


def _transcom_cutlines(res: float) -> np.ndarray:
    lat, lon = region_grid(res)
    land = _land_mask(lat, lon)
    ids = np.zeros((len(lat), len(lon)), dtype=np.int16)
    for j, la in enumerate(lat):
        for i, lo in enumerate(lon):
            ids[j, i] = _transcom_land(la, lo) if land[j, i] else _transcom_ocean(la, lo)
    return ids


#: Manifest id of the TransCom-3 region map (CarbonTracker ``regions.nc``, variable ``transcom_regions``).
TRANSCOM_MAP_ID = "transcom-regions"


def read_transcom_map(paths) -> xr.Dataset:
    """TransCom-3 map from a CarbonTracker/CTDAS ``regions.nc`` (1 x 1 deg, variable ``transcom_regions``).

    Returns xr.Dataset (lat, lon) with ``transcom`` (1..22; 0 = not optimised, the file's region 23 of
    ice sheets) and ``cell_area`` [m2]; lat ascending from -89.5, lon from -179.5 (checked).
    """
    p = Path(paths[0] if isinstance(paths, (list, tuple)) else paths)
    try:
        ds = xr.open_dataset(p, decode_times=False)
    except (OSError, ValueError) as exc:
        raise DataError(located(f"cannot read the TransCom map ({exc})", where=str(p),
                                fix="give CarbonTracker's regions.nc (see landcarbon data where transcom-regions)")) from exc
    with ds:
        if "transcom_regions" not in ds:
            raise DataError(located("variable 'transcom_regions' missing", where=str(p),
                                    fix="use the CarbonTracker/CTDAS regions.nc"))
        t = ds["transcom_regions"]
        lat, lon = t["lat"].values, t["lon"].values
        if t.shape != (180, 360) or abs(lat[0] + 89.5) > 1e-6 or abs(lon[0] + 179.5) > 1e-6:
            raise DataError(located(f"unexpected grid {t.shape}, lat[0]={lat[0]}, lon[0]={lon[0]}", where=str(p),
                                    fix="expected 1 x 1 deg, lat from -89.5, lon from -179.5"))
        ids = np.nan_to_num(t.values, nan=0.0).astype(np.int16)
        if ids.min() < 0 or ids.max() > 23:
            raise DataError(located(f"TransCom ids outside 0..23 ({ids.min()}..{ids.max()})", where=f"{p}: transcom_regions"))
        ids[ids == 23] = 0
        area = ds["grid_cell_area"].values.astype(float) if "grid_cell_area" in ds else None
    out = xr.Dataset({"transcom": (("lat", "lon"), ids)}, coords={"lat": lat, "lon": lon},
                     attrs={"source_file": str(p)})
    if area is not None:
        out["cell_area"] = (("lat", "lon"), area, {"units": "m2"})
    return out


@lru_cache(maxsize=1)
def transcom_map():
    """The TransCom map of the data manifest when its file is on this machine, else None (cut-line fallback)."""
    from ..data import open_dataset
    from ..errors import LandcarbonError

    try:
        return open_dataset(TRANSCOM_MAP_ID, source="real")
    except LandcarbonError:
        return None


@lru_cache(maxsize=2)
def _transcom_ids(res: float = 1.0) -> np.ndarray:
    """TransCom id (1..22, 0 = not optimised) per cell: the reference map when present (1 deg), else our cut lines."""
    if res == 1.0:
        m = transcom_map()
        if m is not None:
            return m["transcom"].values.astype(np.int16)
    return _transcom_cutlines(res)


def _load_nested_file(path) -> dict:
    p = Path(path) if path is not None else _data_file(DEFAULT_NESTED_FILE)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(located("region definition file not found", where=str(p),
                                fix="pass an existing JSON file (see nested_regions.json for the schema)")) from None
    except json.JSONDecodeError as exc:
        raise DataError(located(f"region definition is not valid JSON ({exc.msg})", where=f"{p}, line {exc.lineno}",
                                fix="fix the JSON syntax")) from exc
    for key in ("china_outline", "china_zones", "other_asia", "splits"):
        if key not in doc:
            raise DataError(located(f"region definition lacks the key {key!r}", where=str(p),
                                    fix="follow the schema of the shipped nested_regions.json"))
    doc["_path"] = str(p)
    return doc


def _inside(polys, LO, LA) -> np.ndarray:
    from matplotlib.path import Path as MPath

    pts = np.column_stack([LO.ravel(), LA.ravel()])
    m = np.zeros(len(pts), dtype=bool)
    for poly in polys:
        m |= MPath(np.asarray(poly, dtype=float)).contains_points(pts)
    return m.reshape(LO.shape)


def china_mask(res: float = 1.0, path=None) -> xr.DataArray:
    """Boolean mask of China's land cells: at least half of the cell inside the outline of
    :func:`china_fraction` (China's official boundary when its manifest file is on this machine, else
    Natural Earth) and land by the land mask; with ``path``, the ``china_outline`` polygon of that
    region file instead (the hand-drawn outline of earlier versions)."""
    lat, lon = region_grid(res)
    land = _land_mask(lat, lon)
    if path is not None:
        doc = _load_nested_file(path)
        LA, LO = np.meshgrid(lat, lon, indexing="ij")
        m = _inside(doc["china_outline"], LO, LA) & land
        prov = doc.get("provenance", "")
    else:
        from .china import china_fraction

        frac = china_fraction(res)
        m = (frac.values >= 0.5) & land
        prov = (frac.attrs["provenance"].replace(" via regionmask", "") +
                (" (without Taiwan)" if "Natural Earth" in frac.attrs["provenance"] else "") + ", cells >= 50 % inside")
    return xr.DataArray(m, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), name="china",
                        attrs={"provenance": prov})


def transcom_regions(res: float = 1.0, path=None) -> RegionSystem:
    """The 22 TransCom-3 regions on a ``res``-degree grid (approximation, see module docstring).

    Inside Asia the boundaries between TransCom 7, 8 and 9 follow the parents declared for the nested
    regions (``path``, default the shipped file), so that every nested region lies in exactly one
    TransCom region; China is counted in Eurasia Temperate.
    """
    lat, lon = region_grid(res)
    nest = nested_regions(path, res)
    tcid = np.where(nest.ids.values >= 0, nest.transcom[np.maximum(nest.ids.values, 0)], 0)
    ids = xr.DataArray((tcid.astype(np.int32) - 1), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                       name="region")
    codes = [TRANSCOM_CODES[k] for k in range(1, 23)]
    names = [TRANSCOM_NAMES[k] for k in range(1, 23)]
    kind = ["land"] * 11 + ["ocean"] * 11
    return RegionSystem("transcom22", codes, names, kind, np.arange(1, 23), np.zeros(22, bool), ids,
                        provenance="TransCom-3 extents (CTDAS regions.nc summary) + global-land-mask; our cut lines")


def nested_regions(path=None, res: float = 1.0) -> RegionSystem:
    """The China-nested 43-region system (22 TransCom regions, Asian land split into 21, 13 in China).

    Parameters
    ----------
    path : path-like, optional
        JSON region definition (default: the shipped ``nested_regions.json``, OUR zoning).
    res : float
        Grid resolution [deg] of the region map.
    """
    doc = _load_nested_file(path)
    lat, lon = region_grid(res)
    LA, LO = np.meshgrid(lat, lon, indexing="ij")
    tc = _transcom_ids(res).copy()
    land = (tc >= 1) & (tc <= 11)       # land/ocean as the TransCom map (or the cut lines) classify them
    in_china = china_mask(res, path).values if path is not None else china_mask(res).values
    tc[in_china] = 8  # China is counted in Eurasia Temperate
    codes, names, kind, parent, china = [], [], [], [], []
    ids = np.full(tc.shape, -1, dtype=np.int32)

    def add(code, name, k, p, c):
        codes.append(code); names.append(name); kind.append(k); parent.append(p); china.append(c)
        return len(codes) - 1

    splits = {int(s["transcom"]): s for s in doc["splits"]}
    # non-Asian land
    for t in (1, 2, 3, 4, 5, 6, 10, 11):
        m = (tc == t) & land
        if t in splits:
            s = splits[t]
            box = np.ones_like(m)
            if "lon" in s:
                box &= (LO >= s["lon"][0]) & (LO < s["lon"][1])
            if "lat" in s:
                box &= (LA >= s["lat"][0]) & (LA < s["lat"][1])
            ids[m & box] = add(s["code"], s["name"], "land", t, False)
            ids[m & ~box] = add(s["other_code"], s["other_name"], "land", t, False)
        else:
            ids[m] = add(TRANSCOM_CODES[t], TRANSCOM_NAMES[t], "land", t, False)
    # China zones: first polygon containing the cell; gaps filled from the nearest zoned cell
    zone = np.full(tc.shape, -1, dtype=np.int32)
    for z, zd in enumerate(doc["china_zones"]):
        m = in_china & (zone < 0) & _inside([zd["polygon"]], LO, LA)
        zone[m] = z
    gaps = in_china & (zone < 0)
    if gaps.any():
        J, I = np.nonzero(zone >= 0)
        for j, i in zip(*np.nonzero(gaps)):
            d = (J - j) ** 2 + (I - i) ** 2
            k = np.argmin(d)
            zone[j, i] = zone[J[k], I[k]]
    for z, zd in enumerate(doc["china_zones"]):
        r = add(zd["code"], zd["name"], "land", int(doc.get("china_parent", 8)), True)
        ids[zone == z] = r
    # other Asian land
    asia = np.isin(tc, (7, 8, 9)) & land & ~in_china
    first = {}
    for od in doc["other_asia"]:
        r = add(od["code"], od["name"], "land", 0, False)
        first[od["code"]] = r
        m = asia & (ids < 0) & np.isin(tc, od["transcom"])
        m &= (LO >= od["lon"][0]) & (LO < od["lon"][1]) & (LA >= od["lat"][0]) & (LA < od["lat"][1])
        ids[m] = r
    for t, code in doc.get("other_asia_fallback", {}).items():
        m = asia & (ids < 0) & (tc == int(t))
        ids[m] = first[code]
    # parent TransCom of the other-Asian regions: declared in the file (TransCom 7/8/9 inner
    # boundaries in Asia follow the nested regions so that the two systems nest exactly)
    for od in doc["other_asia"]:
        r = first[od["code"]]
        parent[r] = int(od.get("parent", 8))
        if not (ids == r).any():
            raise DataError(located(f"Asian region {od['code']} has no land cells", where=doc["_path"],
                                    fix="enlarge its lon/lat box"))
    # oceans
    for t in range(12, 23):
        ids[(tc == t) & ~land] = add(TRANSCOM_CODES[t], TRANSCOM_NAMES[t], "ocean", t, False)
    ida = xr.DataArray(ids, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), name="region")
    return RegionSystem("nested43", codes, names, kind, np.array(parent), np.array(china), ida,
                        provenance=doc.get("provenance", ""), meta={"file": doc["_path"]})


_MOVED_TO_CHINA = ("CHINA_OUTLINE_FILE", "CHINA_OFFICIAL_ID", "official_china_outline_path", "china_outline",
                   "read_china_outline", "china_fraction")


def __getattr__(name):
    """The China outline functions live in :mod:`landcarbon.atmosphere.china`; the old names stay importable."""
    if name in _MOVED_TO_CHINA:
        from . import china

        return getattr(china, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
