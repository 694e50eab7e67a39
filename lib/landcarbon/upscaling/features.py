"""Predictors of the upscaling model, built the same way for flux towers and for driver grids.

One monthly feature set serves both (so the model that is cross-validated on towers is the model that
predicts the grid): the drivers air temperature ``TA`` [degC], incoming shortwave radiation ``SW_IN``
[W m-2], vapour-pressure deficit ``VPD`` [hPa] and precipitation ``P`` [mm d-1]; their memory
(``TA_lag1``, ``P_lag1``: the previous month; ``P_3m``: mean of the last three months); their anomalies from
the mean seasonal cycle of the series (``TA_anom``, ``SW_IN_anom``, ``P_anom``); the climate of the place
(``MAT`` [degC] and the climate class ``zone`` 1 boreal / 2 temperate / 3 tropical by MAT, as the study);
and the vegetation class as IGBP indicator columns ``IGBP_<class>`` (a tower's footprint class; a grid
cell's dominant class). This follows the FLUXCOM RS+METEO design of meteorology plus its mean seasonal
cycle and static vegetation (Tramontana et al. 2016, doi:10.5194/bg-13-4291-2016); the exact set is our
choice.

Conventions at the edges (our formulation): the first month of a record, which has no previous month, takes
its own value as the lag; anomalies are taken from the series' own mean seasonal cycle (a tower's record,
a grid cell's run), so a short tower record has smaller anomalies than a 30-year grid cell.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, UnitsError, located
from ..units import per_month_to_per_day

__all__ = ["IGBP_CLASSES", "DRIVERS", "FEATURES", "site_feature_table", "grid_features", "zone_code"]

#: the 11 IGBP classes of the FLUXNET2015 towers (order of the indicator columns)
IGBP_CLASSES = ("ENF", "EBF", "DBF", "MF", "CSH", "OSH", "WSA", "SAV", "GRA", "CRO", "WET")
DRIVERS = ("TA", "SW_IN", "VPD", "P")
#: the predictor columns, in model order
FEATURES = (DRIVERS + ("TA_lag1", "P_lag1", "P_3m", "TA_anom", "SW_IN_anom", "P_anom", "MAT", "zone")
            + tuple(f"IGBP_{c}" for c in IGBP_CLASSES))
_UNITS = {"TA": "degC", "SW_IN": "W m-2", "VPD": "hPa", "P": "mm d-1"}


def zone_code(mat):
    """Climate class from mean annual temperature [degC]: 1 boreal (< 2), 2 temperate (2–17), 3 tropical
    (> 17) — the study's classes; NaN MAT → 0."""
    mat = np.asarray(mat, dtype=float)
    z = np.where(mat < 2.0, 1, np.where(mat <= 17.0, 2, 3))
    return np.where(np.isfinite(mat), z, 0)


def _derived(da: xr.DataArray) -> dict[str, xr.DataArray]:
    """Lag, 3-month mean and anomaly of one driver along ``time`` (any other dims)."""
    lag = da.shift(time=1)
    lag = lag.fillna(da)                       # first month: its own value (documented)
    lag2 = lag.shift(time=1).fillna(lag)
    clim = da.groupby("time.month").mean("time")
    anom = (da.groupby("time.month") - clim).drop_vars("month", errors="ignore")
    return {"lag1": lag, "3m": (da + lag + lag2) / 3.0, "anom": anom}


def _check_units(ds, names, where):
    for v in names:
        if v not in ds:
            raise DataError(located(f"driver {v!r} missing", where=where, fix=f"the data need {list(names)}"))
        got = ds[v].attrs.get("units")
        if v == "P":
            continue
        if got is not None and str(got).replace(" ", "") != _UNITS[v].replace(" ", ""):
            raise UnitsError(located(f"{v} has units {got!r}, expected {_UNITS[v]!r}", where=f"{where}, variable {v}",
                                     fix="convert with landcarbon.units first"))


def _precip_mm_d(p: xr.DataArray, where: str) -> xr.DataArray:
    u = str(p.attrs.get("units", "")).replace(" ", "")
    if u in ("mmd-1", "mm/day", "mmday-1"):
        return p
    if u in ("mmmonth-1", "mm/month"):
        return per_month_to_per_day(p, p["time"].dt.days_in_month).assign_attrs(units="mm d-1")
    raise UnitsError(located(f"P has units {p.attrs.get('units')!r}", where=f"{where}, variable P",
                             fix="give precipitation in mm d-1 or mm month-1"))


def _feature_arrays(drv: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    out = dict(drv)
    ta, p, sw = _derived(drv["TA"]), _derived(drv["P"]), _derived(drv["SW_IN"])
    out.update({"TA_lag1": ta["lag1"], "P_lag1": p["lag1"], "P_3m": p["3m"], "TA_anom": ta["anom"],
                "SW_IN_anom": sw["anom"], "P_anom": p["anom"]})
    return out


def site_feature_table(sites: xr.Dataset, *, targets=("RECO_NT",), drivers: str = "site", qc_var: str = "NEE_QC",
                       qc_min: float = 0.0, extra=()) -> pd.DataFrame:
    """One row per usable tower-month: :data:`FEATURES`, the ``targets`` and identifying columns.

    Parameters
    ----------
    sites : xarray.Dataset
        Standard site table (dims site, time; coords PFT, MAT, lat, lon; drivers TA [degC], SW_IN [W m-2],
        VPD [hPa], P [mm d-1]); real (:func:`landcarbon.world.fluxnet.read_fluxnet_monthly`) or demo.
    targets : sequence of str
        Site variables to model (e.g. ``RECO_NT``, ``RECO_DT``, ``NEE``); kept as columns. A row needs at
        least the first target finite.
    drivers : {"site", "ERA"}
        ``"site"``: the tower's own gap-filled meteorology (``TA``, ``SW_IN``, ``VPD``, ``P``); ``"ERA"``: the
        downscaled reanalysis columns (``TA_ERA`` …) of the FLUXNET2015 files — closer to what a gridded
        product gives the model when it predicts the globe.
    qc_var, qc_min : str, float
        Drop months whose good-data fraction is below ``qc_min``.
    extra : sequence of str
        Further site variables copied along when present (e.g. the demo truths).

    Returns
    -------
    pandas.DataFrame with columns ``site``, ``time``, ``lat``, ``lon``, ``PFT``, ``climate_zone``,
    ``days`` (days in the month), :data:`FEATURES`, the targets and ``extra``; ``attrs['features']``.
    """
    where = "site_feature_table"
    suffix = {"site": "", "ERA": "_ERA"}.get(drivers)
    if suffix is None:
        raise DataError(located(f"drivers must be 'site' or 'ERA', got {drivers!r}", where=where))
    names = {v: v + suffix for v in DRIVERS}
    missing = [n for n in names.values() if n not in sites]
    if missing:
        raise DataError(located(f"site table lacks {missing}", where=where,
                                fix="use drivers='site'" if suffix else "load the FLUXNET2015 MM files"))
    targets = [targets] if isinstance(targets, str) else list(targets)
    miss_t = [t for t in targets if t not in sites]
    if miss_t:
        raise DataError(located(f"targets {miss_t} not in the site table", where=where,
                                fix=f"choose from {sorted(sites.data_vars)}"))
    drv = {v: sites[n].transpose("site", "time").astype(float) for v, n in names.items()}
    for v in ("TA", "SW_IN", "VPD"):
        u = str(drv[v].attrs.get("units", _UNITS[v])).replace(" ", "")
        if u != _UNITS[v].replace(" ", ""):
            raise UnitsError(located(f"{names[v]} has units {drv[v].attrs.get('units')!r}, expected {_UNITS[v]!r}",
                                     where=where))
    drv["P"] = _precip_mm_d(drv["P"], where)
    feats = _feature_arrays(drv)
    n_s, n_t = sites.sizes["site"], sites.sizes["time"]
    cols = {"site": np.repeat(sites["site"].values.astype(str), n_t), "time": np.tile(sites["time"].values, n_s),
            "lat": np.repeat(sites["lat"].values, n_t), "lon": np.repeat(sites["lon"].values, n_t)}
    pft = sites["PFT"].values.astype(str)
    mat = sites["MAT"].values.astype(float)
    cols["PFT"] = np.repeat(pft, n_t)
    cols["climate_zone"] = np.repeat(sites["climate_zone"].values.astype(str), n_t) if "climate_zone" in sites.coords \
        else np.repeat(np.array(["boreal", "temperate", "tropical", "unknown"])[zone_code(mat) - 1], n_t)
    cols["days"] = np.tile(sites["time"].dt.days_in_month.values, n_s).astype(float)
    for f in FEATURES:
        if f == "MAT":
            cols[f] = np.repeat(mat, n_t)
        elif f == "zone":
            cols[f] = np.repeat(zone_code(mat), n_t).astype(float)
        elif f.startswith("IGBP_"):
            cols[f] = np.repeat((pft == f[5:]).astype(float), n_t)
        else:
            cols[f] = feats[f].transpose("site", "time").values.reshape(-1)
    for t in list(targets) + [e for e in extra if e in sites and e not in targets]:
        cols[t] = sites[t].transpose("site", "time").values.reshape(-1).astype(float)
    df = pd.DataFrame(cols)
    keep = np.isfinite(df[targets[0]].to_numpy()) & np.isfinite(df[list(FEATURES)].to_numpy(dtype=float)).all(axis=1)
    if qc_var and qc_var in sites and qc_min > 0:
        qc = sites[qc_var].transpose("site", "time").values.reshape(-1)
        keep &= np.nan_to_num(qc, nan=-1.0) >= qc_min
    df = df.loc[keep].reset_index(drop=True)
    if df.empty:
        raise DataError(located("no usable tower-month (target and all features finite)", where=where))
    df.attrs.update({"features": list(FEATURES), "targets": targets, "drivers": drivers,
                     "units": sites[targets[0]].attrs.get("units", "gC m-2 d-1")})
    return df


def grid_features(drivers: xr.Dataset, *, pft_names=None) -> xr.Dataset:
    """The :data:`FEATURES` on a monthly driver grid (time, lat, lon), lazily when the drivers are dask arrays.

    Parameters
    ----------
    drivers : xarray.Dataset
        Standard monthly gridded drivers: TA [degC], SW_IN [W m-2], VPD [hPa], P [mm month-1 or mm d-1],
        static ``PFT`` (integer code of :data:`IGBP_CLASSES` order or of ``pft_names``; −1 = no land) and ``MAT``
        [degC] (else the mean of TA).
    pft_names : sequence of str, optional
        Names of the PFT codes (default: ``drivers.PFT.attrs['flag_meanings']`` or :data:`IGBP_CLASSES`).

    Returns
    -------
    xarray.Dataset with one variable per feature (static features have no time dimension).
    """
    where = "grid_features"
    _check_units(drivers, DRIVERS, where)
    if "PFT" not in drivers:
        raise DataError(located("the drivers need a static PFT (IGBP) map", where=where,
                                fix="add a land-cover map with IGBP codes as variable PFT"))
    drv = {v: drivers[v] for v in ("TA", "SW_IN", "VPD")}
    drv["P"] = _precip_mm_d(drivers["P"], where)
    feats = _feature_arrays(drv)
    mat = drivers["MAT"] if "MAT" in drivers else drivers["TA"].mean("time")
    names = pft_names or str(drivers["PFT"].attrs.get("flag_meanings", " ".join(IGBP_CLASSES))).split()
    code = drivers["PFT"].values
    out = {k: v.astype("float32") for k, v in feats.items()}
    out["MAT"] = mat.astype("float32")
    out["zone"] = xr.DataArray(zone_code(mat.values).astype("float32"), dims=mat.dims, coords=mat.coords)
    for c in IGBP_CLASSES:
        k = names.index(c) if c in names else -99
        out[f"IGBP_{c}"] = xr.DataArray((code == k).astype("float32"), dims=drivers["PFT"].dims,
                                        coords=drivers["PFT"].coords)
    land = (code >= 0) & np.isfinite(mat.values)
    ds = xr.Dataset(out)
    ds["MAT"] = ds["MAT"].where(land)
    return ds[list(FEATURES)]
