"""The flux-tower network: tower geometry, per-tower footprint twins, climate-space coverage.

* :data:`FLUXNET2015_HH_TOWERS` — the 40 towers whose FLUXNET2015 half-hourly records are in the
  project's shared data (``fluxnet2015-hh/``);
* :func:`tower_table` — their coordinates, IGBP class and heights from the site-info table, with the
  canopy geometry FFP needs (d, z0, z_m) and whether FFP is valid at that height;
* :func:`tower_climatologies` — footprint climatologies of every tower from twin turbulence at the
  tower's real latitude and heights (dask, one task per tower);
* :func:`annual_climate` — mean annual temperature and precipitation from a monthly gridded dataset
  (CRU TS, or the demo world's base climate).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from .climatology import FootprintGrid, climatologies, footprint_grid
from .demo import canopy_geometry, demo_turbulence
from .ffp import ROUGHNESS_SUBLAYER_FACTOR

__all__ = ["FLUXNET2015_HH_TOWERS", "tower_table", "tower_grid", "tower_climatologies", "source_area_sizes", "annual_climate", "IMPUTED_HEIGHT_RATIO"]

#: The 40 towers of ``../shared/data/fluxnet2015-hh/`` (FLUXNET2015 FULLSET half-hourly, CC-BY-4.0).
FLUXNET2015_HH_TOWERS = (
    "AU-How", "AU-Tum", "BE-Vie", "BR-Sa1", "CA-Oas", "CH-Dav", "CN-Cha", "CN-Cng", "CN-Dan", "CN-Din",
    "CN-Du2", "CN-Ha2", "CN-HaM", "CN-Qia", "CN-Sw2", "DE-Hai", "DE-Tha", "DK-Sor", "ES-LJu", "FI-Hyy",
    "FI-Sod", "FR-Pue", "GF-Guy", "GH-Ank", "IT-Lav", "IT-MBo", "JP-SMF", "NL-Loo", "RU-Fyo", "SD-Dem",
    "US-ARM", "US-Ha1", "US-MMS", "US-Ne1", "US-SRM", "US-Ton", "US-Tw3", "US-UMB", "US-Var", "ZM-Mon",
)
#: 150 of the 339 sites of FluxDataKit's table have measurement height = 2.206 × canopy height exactly, which
#: we read as filled in rather than measured (flagged ``height_imputed``).
IMPUTED_HEIGHT_RATIO = 2.206


def tower_table(site_info: xr.Dataset, towers=FLUXNET2015_HH_TOWERS) -> pd.DataFrame:
    """Geometry of the towers for FFP, one row per tower found in ``site_info``.

    Parameters
    ----------
    site_info : xarray.Dataset
        ``open_dataset("site-info")``: indexed by ``site`` with lon, lat, igbp, canopy_height,
        measurement_height [m].
    towers : sequence of str
        Site ids; those absent from ``site_info`` are listed in ``attrs["missing"]`` of the result.

    Returns
    -------
    pandas.DataFrame
        Index site; lon, lat, igbp, canopy_height_m, measurement_height_m, displacement_m, z0_m, zm_m
        (:func:`~landcarbon.footprint.demo.canopy_geometry`: d = 0.67 h_c, z0 = 0.1 h_c),
        height_imputed (measurement height = 2.206 h_c in the source table) and ffp_valid
        (z_m > 12.5 z0: above the roughness sublayer, FFP's limit).
    """
    have = set(np.asarray(site_info["site"].values).astype(str))
    found = [t for t in towers if t in have]
    missing = [t for t in towers if t not in have]
    if not found:
        raise DataError(located("none of the towers is in the site table", where="tower_table"))
    sub = site_info.sel(site=found)
    rows = []
    for s in found:
        r = sub.sel(site=s)
        hc, mh = float(r["canopy_height"]), float(r["measurement_height"])
        geo = canopy_geometry(hc, mh)
        rows.append({"site": s, "lon": float(r["lon"]), "lat": float(r["lat"]), "igbp": str(r["igbp"].values),
                     **{k: geo[k] for k in ("canopy_height_m", "measurement_height_m", "displacement_m", "z0_m", "zm_m")},
                     "height_imputed": bool(abs(mh / hc - IMPUTED_HEIGHT_RATIO) < 5e-3),
                     "ffp_valid": bool(geo["zm_m"] > ROUGHNESS_SUBLAYER_FACTOR * geo["z0_m"])})
    df = pd.DataFrame(rows).set_index("site")
    df.attrs["missing"] = missing
    return df


def tower_grid(zm_m: float, *, cells: int = 200, extent_factor: float = 80.0, min_half_width_m: float = 10.0) -> FootprintGrid:
    """A square grid scaled to the tower: half width max(10 m, 80 z_m), ``cells`` cells across.

    Footprints scale with z_m (:func:`~landcarbon.footprint.ffp.peak_distance`), so one fixed grid cannot
    hold a 50 m tower's 80 % source area and resolve a 0.5 m grass tower's at the same time (our choice).
    """
    half = max(float(min_half_width_m), extent_factor * float(zm_m))
    half = float(np.ceil(half))
    return footprint_grid(half, 2.0 * half / int(cells))


def tower_climatologies(table: pd.DataFrame, *, n_days: int = 4, start: str = "2014-06-01", cells: int = 200,
                        seed: int = 2015, scheduler=None) -> dict[str, xr.DataArray]:
    """Footprint climatologies of the towers of :func:`tower_table` from twin turbulence.

    Each tower gets :func:`~landcarbon.footprint.demo.demo_turbulence` with its own latitude, canopy and
    measurement height (seed + row number) and a grid scaled to its height (:func:`tower_grid`); the
    climatologies run with dask, one task per tower. Towers where FFP is not valid at their height
    (``ffp_valid`` False) are left out, as the authors' code would refuse them.
    """
    inputs = {}
    for k, (site, r) in enumerate(table.iterrows()):
        if not r["ffp_valid"]:
            continue
        turb = demo_turbulence(seed + k, n_days=n_days, start=start, lat_deg=float(r["lat"]),
                               canopy_height_m=float(r["canopy_height_m"]),
                               measurement_height_m=float(r["measurement_height_m"]), site=site)
        inputs[site] = {"turbulence": turb, "grid": tower_grid(float(r["zm_m"]), cells=cells)}
    return climatologies(inputs, scheduler=scheduler)


def source_area_sizes(clims: dict, table: pd.DataFrame, rs=(0.5, 0.8)) -> pd.DataFrame:
    """Per tower: valid half-hours, footprint mass on the grid and the area [m²] and largest distance [m]
    of the R % source areas of its climatology (columns ``area50_m2``, ``dist80_m``...)."""
    from .climatology import source_area_table

    rows = []
    for site, c in clims.items():
        t = source_area_table(c, rs)
        row = {"site": site, "igbp": table.loc[site, "igbp"], "zm_m": float(table.loc[site, "zm_m"]),
               "n_valid": int(c.attrs["n_valid"]), "n_total": int(c.attrs["n_total"]),
               "mass_in_domain": float(c.attrs["mass_in_domain"])}
        for _, r in t.iterrows():
            k = int(round(100 * r["R"]))
            row[f"area{k}_m2"] = float(r["area_m2"])
            row[f"dist{k}_m"] = float(r["max_distance_m"])
            row[f"closed{k}"] = bool(r["closed"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("site")


def annual_climate(ds: xr.Dataset) -> xr.Dataset:
    """Mean annual temperature MAT [°C] and precipitation MAP [mm yr⁻¹] on the dataset's grid.

    Uses the static ``MAT``/``MAP`` of the demo world when present, otherwise the time means of monthly
    ``TA`` [°C] and ``P`` [mm month⁻¹] (× 12). Keeps ``PFT`` and ``area`` when present.
    """
    out = xr.Dataset(coords={"lat": ds["lat"], "lon": ds["lon"]})
    if "MAT" in ds and "MAP" in ds:
        out["MAT"], out["MAP"] = ds["MAT"], ds["MAP"]
    elif "TA" in ds and "P" in ds:
        out["MAT"] = ds["TA"].mean("time").compute().assign_attrs(units="degC", long_name="mean annual temperature")
        if str(ds["P"].attrs.get("units", "mm month-1")).replace(" ", "") not in ("mmmonth-1", "mm/month"):
            raise DataError(located(f"P has units {ds['P'].attrs.get('units')!r}", where="annual_climate",
                                    fix="give monthly precipitation in mm month-1"))
        out["MAP"] = (12.0 * ds["P"].mean("time")).compute().assign_attrs(units="mm yr-1",
                                                                          long_name="mean annual precipitation")
    else:
        raise DataError(located("need MAT and MAP, or monthly TA and P", where="annual_climate",
                                fix="open the CRU TS (cru-ts-4.04) or ERA5 monthly dataset"))
    for v in ("PFT", "area"):
        if v in ds:
            out[v] = ds[v]
    out.attrs.update({k: v for k, v in ds.attrs.items() if k in ("source", "dataset_id")})
    return out
