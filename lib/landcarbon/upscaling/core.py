"""Site-to-globe upscaling of ecosystem respiration (ER) with random forests (FLUXCOM lineage).

Recipe (Tramontana et al. 2016, doi:10.5194/bg-13-4291-2016; Jung et al. 2020,
doi:10.5194/bg-17-1343-2020):

1. :func:`site_training_table` — one row per site-month: the target (monthly ER of the site,
   gC m-2 d-1) and the predictors taken **from the gridded drivers at the site's cell** (so training and
   prediction see the same distribution), plus static features (MAT, MAP, PFT when available).
2. :func:`grouped_cv` — leave-sites-out cross-validation (``GroupKFold`` with groups = site): no
   month of a test site is ever in the training folds. Reports R², RMSE, MAE and RMSLE on train and
   test (:func:`regression_metrics`).
3. :func:`fit_ensemble` — an ensemble of random forests, each fitted on a bootstrap resample of
   *sites* (and its own seed): the spread of the members is the (sampling) uncertainty.
4. :func:`predict_grid` — chunk-wise prediction over the (time, lat, lon) grid with
   ``xarray.apply_ufunc(..., dask="parallelized")``; :func:`annual_sum`, :func:`global_total`,
   :func:`zonal_totals` — area-weighted totals in PgC yr-1 (areas from
   :func:`landcarbon.units.grid_cell_area_m2`, conversions from :mod:`landcarbon.units`).

Sign convention: ER (= RECO) is a release to the atmosphere and positive; NEE = RECO − GPP.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, located
from ..units import G_PER_PG, grid_cell_area_m2

__all__ = ["DEFAULT_FEATURES", "STATIC_FEATURES", "add_static_features", "site_training_table",
           "regression_metrics", "make_forest", "grouped_cv", "CVResult", "fit_ensemble", "Ensemble",
           "predict_grid", "annual_sum", "global_total", "zonal_totals", "area_of", "ANNUAL_DRIVERS",
           "annual_drivers", "er_annual_product", "write_netcdf", "upscale", "literature_global_er", "literature_cv_metrics"]

#: Monthly gridded predictors used when present (CRU TS / ERA5 / demo names).
DEFAULT_FEATURES = ("TA", "TMIN", "TMAX", "DTR", "P", "PET", "VAP", "VPD", "RH", "SW_IN", "SWC", "SPEI", "FRS", "WET")
#: Static (per-cell) predictors: climatological mean temperature/precipitation and PFT code.
STATIC_FEATURES = ("MAT", "MAP", "PFT")


# ----------------------------------------------------------------------------------------------
# training table
# ----------------------------------------------------------------------------------------------
def add_static_features(drivers: xr.Dataset) -> xr.Dataset:
    """Add ``MAT`` [degC] and ``MAP`` [mm yr-1] (means over the record) when missing.

    MAP assumes ``P`` in mm month-1 (CRU TS / demo convention): MAP = 12 · mean monthly P.
    """
    ds = drivers
    if "MAT" not in ds and "TA" in ds:
        ds = ds.assign(MAT=ds["TA"].mean("time").astype("float32").assign_attrs(units="degC"))
    if "MAP" not in ds and "P" in ds:
        pu = ds["P"].attrs.get("units", "mm month-1")
        if pu not in ("mm month-1", "mm/month"):
            raise DataError(located(f"P must be in mm month-1 to derive MAP, found {pu!r}", where="variable P",
                                    fix="convert the precipitation to monthly totals first"))
        ds = ds.assign(MAP=(12.0 * ds["P"].mean("time")).astype("float32").assign_attrs(units="mm yr-1"))
    return ds


def _features_in(drivers: xr.Dataset, features) -> list[str]:
    if features is None:
        return [f for f in DEFAULT_FEATURES + STATIC_FEATURES if f in drivers]
    missing = [f for f in features if f not in drivers]
    if missing:
        raise DataError(located(f"predictors {missing} are not in the driver dataset",
                                where="upscaling features", fix=f"choose from {sorted(drivers.data_vars)}"))
    return list(features)


def site_training_table(sites: xr.Dataset, drivers: xr.Dataset, *, target: str = "RECO_NT",
                        features=None, qc_var: str | None = "NEE_QC", qc_min: float = 0.0,
                        extra=("RECO_true",)) -> pd.DataFrame:
    """One row per observed site-month: target + gridded predictors at the site's cell.

    Parameters
    ----------
    sites : xarray.Dataset
        Standard site table (dims site, time; coords lat, lon; target in gC m-2 d-1).
    drivers : xarray.Dataset
        Standard monthly gridded drivers (time, lat, lon), possibly dask-backed.
    target : str
        Target variable of ``sites`` (e.g. ``RECO_NT`` or ``RECO_DT``).
    features : sequence of str, optional
        Predictors (default: every :data:`DEFAULT_FEATURES` + :data:`STATIC_FEATURES` present).
    qc_var, qc_min : str, float
        Drop months whose quality fraction is below ``qc_min`` (FLUXNET MM ``NEE_VUT_REF_QC``).
    extra : sequence of str
        Site variables copied along when present (e.g. the demo truth).

    Returns
    -------
    pandas.DataFrame
        Columns ``site``, ``time``, ``lat``, ``lon``, ``PFT_site`` (if any), the features, ``target``
        (named as given) and ``extra``; rows with a missing target or predictor are dropped.
    """
    from ..world.grid import nearest_cell

    if target not in sites:
        raise DataError(located(f"target {target!r} not in the site table", where="site_training_table",
                                fix=f"choose from {sorted(sites.data_vars)}"))
    feats = _features_in(drivers, features)
    i, j = nearest_cell(drivers["lat"].values, drivers["lon"].values, sites["lat"].values, sites["lon"].values)
    common = np.intersect1d(sites["time"].values, drivers["time"].values)
    if common.size == 0:
        raise DataError(located("the site table and the drivers share no month",
                                where=f"sites {sites.time.values[0]}..{sites.time.values[-1]}, drivers "
                                      f"{drivers.time.values[0]}..{drivers.time.values[-1]}",
                                fix="use drivers covering the site records"))
    st = sites.sel(time=common)
    at = drivers[feats].isel(lat=xr.DataArray(i, dims="site"), lon=xr.DataArray(j, dims="site"))
    at = at.sel(time=common) if "time" in at.dims else at
    at = at.compute()
    n_s, n_t = st.sizes["site"], st.sizes["time"]
    cols = {
        "site": np.repeat(st["site"].values.astype(str), n_t),
        "time": np.tile(st["time"].values, n_s),
        "lat": np.repeat(st["lat"].values, n_t),
        "lon": np.repeat(st["lon"].values, n_t),
    }
    for f in feats:
        a = at[f]
        if "time" in a.dims:
            cols[f] = a.transpose("site", "time").values.reshape(-1).astype(float)
        else:
            cols[f] = np.repeat(a.values.astype(float), n_t)
    cols[target] = st[target].transpose("site", "time").values.reshape(-1).astype(float)
    for e in extra or ():
        if e in st:
            cols[e] = st[e].transpose("site", "time").values.reshape(-1).astype(float)
    if "PFT" in st.coords:
        cols["PFT_site"] = np.repeat(st["PFT"].values.astype(str), n_t)
    if "climate_zone" in st.coords:
        cols["climate_zone"] = np.repeat(st["climate_zone"].values.astype(str), n_t)
    df = pd.DataFrame(cols)
    keep = np.isfinite(df[target].to_numpy())
    if qc_var and qc_var in st and qc_min > 0:
        qc = st[qc_var].transpose("site", "time").values.reshape(-1)
        keep &= np.nan_to_num(qc, nan=-1.0) >= qc_min
    keep &= np.isfinite(df[feats].to_numpy(dtype=float)).all(axis=1)
    df = df.loc[keep].reset_index(drop=True)
    if df.empty:
        raise DataError(located("no usable site-month (target and all predictors finite)",
                                where="site_training_table", fix="check the site coordinates fall on land cells"))
    df.attrs.update({"features": feats, "target": target, "units": sites[target].attrs.get("units", "gC m-2 d-1")})
    return df


# ----------------------------------------------------------------------------------------------
# metrics and model
# ----------------------------------------------------------------------------------------------
def regression_metrics(obs, pred) -> dict[str, float]:
    """R² (coefficient of determination, 1 − SSE/SST), RMSE, MAE, RMSLE and bias (pred − obs).

    RMSLE = sqrt(mean((ln(1+p) − ln(1+o))²)) with both clipped at 0 (ER ≥ 0); units of RMSE/MAE/bias
    are those of the inputs (gC m-2 d-1 here).
    """
    o = np.asarray(obs, dtype=float)
    p = np.asarray(pred, dtype=float)
    ok = np.isfinite(o) & np.isfinite(p)
    o, p = o[ok], p[ok]
    if o.size < 2:
        raise DataError(located("need at least two finite (obs, pred) pairs", where="regression_metrics"))
    err = p - o
    sst = np.sum((o - o.mean()) ** 2)
    return {
        "r2": float(1.0 - np.sum(err**2) / sst) if sst > 0 else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "rmsle": float(np.sqrt(np.mean((np.log1p(np.clip(p, 0, None)) - np.log1p(np.clip(o, 0, None))) ** 2))),
        "bias": float(np.mean(err)),
        "n": int(o.size),
    }


def make_forest(seed: int, n_estimators: int = 100, min_samples_leaf: int = 5, max_features=0.33,
                n_jobs: int = 1, **kw):
    """A :class:`sklearn.ensemble.RandomForestRegressor` with explicit seed and threads
    (Breiman 2001, doi:10.1023/A:1010933404324; settings of Li et al.)."""
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=int(n_estimators), min_samples_leaf=int(min_samples_leaf),
                                 max_features=max_features, n_jobs=n_jobs, random_state=int(seed), **kw)


def _xy(table: pd.DataFrame, features, target):
    feats = list(features if features is not None else table.attrs.get("features", []))
    target = target or table.attrs.get("target")
    if not feats or target is None:
        raise ConfigError(located("features and target must be given", where="upscaling"))
    miss = [c for c in feats + [target, "site"] if c not in table]
    if miss:
        raise DataError(located(f"training table lacks columns {miss}", where="upscaling",
                                fix="build it with site_training_table"))
    return table[feats].to_numpy(dtype=np.float32), table[target].to_numpy(dtype=float), feats, target


@dataclass
class CVResult:
    """Leave-sites-out cross-validation: out-of-fold predictions and metrics."""

    prediction: np.ndarray                  # out-of-fold prediction per table row
    fold: np.ndarray                        # test fold of each row
    train: dict                             # metrics on the training rows, averaged over folds
    test: dict                              # metrics of the pooled out-of-fold predictions
    per_fold: pd.DataFrame = field(default_factory=pd.DataFrame)

    def table(self) -> pd.DataFrame:
        """Train/test metrics side by side (rows r2, rmse, mae, rmsle, bias)."""
        keys = ["r2", "rmse", "mae", "rmsle", "bias"]
        return pd.DataFrame({"train": [self.train[k] for k in keys], "test": [self.test[k] for k in keys]}, index=keys)


def grouped_cv(table: pd.DataFrame, features=None, target: str | None = None, *, n_splits: int = 10,
               seed: int = 0, metric_scale=None, **forest_kw) -> CVResult:
    """Leave-sites-out cross-validation of the random forest (``GroupKFold``, groups = site).

    Sites are shuffled with ``seed`` before being dealt into ``n_splits`` folds, so every site is a
    test site exactly once and never appears in its own training folds (asserted). ``metric_scale``
    (one factor per row, e.g. the days of the month) rescales observations and predictions before the
    metrics are computed (e.g. gC m-2 d-1 → gC m-2 month-1); the predictions stay in model units.
    """
    from sklearn.model_selection import GroupKFold

    X, y, feats, target = _xy(table, features, target)
    sc = np.ones(y.shape) if metric_scale is None else np.asarray(metric_scale, dtype=float)
    sites = table["site"].to_numpy().astype(str)
    uniq = np.unique(sites)
    if uniq.size < n_splits:
        raise ConfigError(located(f"{uniq.size} sites cannot make {n_splits} folds", where="grouped_cv",
                                  fix="lower n_splits"))
    rng = np.random.default_rng(seed)
    perm = {s: k for k, s in enumerate(rng.permutation(uniq))}
    groups = np.array([perm[s] for s in sites])
    oof = np.full(y.shape, np.nan)
    fold = np.full(y.shape, -1)
    rows, train_m = [], []
    for k, (tr, te) in enumerate(GroupKFold(n_splits=n_splits).split(X, y, groups)):
        if np.intersect1d(groups[tr], groups[te]).size:
            raise AssertionError("site leakage between train and test folds")  # pragma: no cover
        rf = make_forest(seed + 1000 + k, **forest_kw).fit(X[tr], y[tr])
        oof[te] = rf.predict(X[te])
        fold[te] = k
        mtr = regression_metrics(y[tr] * sc[tr], rf.predict(X[tr]) * sc[tr])
        mte = regression_metrics(y[te] * sc[te], oof[te] * sc[te])
        train_m.append(mtr)
        rows.append({"fold": k, "n_test_sites": int(np.unique(groups[te]).size),
                     **{f"train_{a}": b for a, b in mtr.items()}, **{f"test_{a}": b for a, b in mte.items()}})
    train = {key: float(np.mean([m[key] for m in train_m])) for key in ("r2", "rmse", "mae", "rmsle", "bias")}
    return CVResult(prediction=oof, fold=fold, train=train, test=regression_metrics(y * sc, oof * sc),
                    per_fold=pd.DataFrame(rows))


@dataclass
class Ensemble:
    """Random forests fitted on bootstrap resamples of sites."""

    models: list
    features: list
    target: str
    sites: list  # the site ids drawn for each member

    def __len__(self) -> int:
        return len(self.models)


def fit_ensemble(table: pd.DataFrame, features=None, target: str | None = None, *, n_members: int = 8,
                 seed: int = 0, bootstrap_sites: bool = True, **forest_kw) -> Ensemble:
    """Fit ``n_members`` forests, member k on a bootstrap resample of sites (with replacement;
    all months of a drawn site enter) and seed ``seed + k``. With ``bootstrap_sites=False`` only
    the seeds differ."""
    X, y, feats, target = _xy(table, features, target)
    sites = table["site"].to_numpy().astype(str)
    uniq = np.unique(sites)
    index = {s: np.flatnonzero(sites == s) for s in uniq}
    rng = np.random.default_rng([int(seed), 11])
    models, drawn = [], []
    for k in range(int(n_members)):
        pick = rng.choice(uniq, size=uniq.size, replace=True) if bootstrap_sites else uniq
        rows = np.concatenate([index[s] for s in pick])
        models.append(make_forest(seed + k, **forest_kw).fit(X[rows], y[rows]))
        drawn.append(list(pick))
    return Ensemble(models=models, features=feats, target=target, sites=drawn)


# ----------------------------------------------------------------------------------------------
# grid prediction and totals
# ----------------------------------------------------------------------------------------------
def _predict_block(*arrays, models):
    """Predict every member for one chunk; ``arrays`` are the (broadcastable) feature blocks.

    Only cells where every predictor is finite (land) are stacked into the design matrix, so the
    memory of a chunk scales with its land cells, not with the full grid.
    """
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    ok = np.ones(shape, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(np.broadcast_to(a, shape))
    out = np.full(shape + (len(models),), np.nan, dtype=np.float32)
    if ok.any():
        X = np.stack([np.broadcast_to(a, shape)[ok] for a in arrays], axis=1).astype(np.float32, copy=False)
        for k, m in enumerate(models):
            out[ok, k] = m.predict(X)
    return out


def predict_grid(ensemble: Ensemble, drivers: xr.Dataset, *, time_chunk: int = 12) -> xr.DataArray:
    """Monthly ER of every ensemble member over the grid, lazily and chunk-wise.

    Uses ``xarray.apply_ufunc(..., dask="parallelized")`` over (time, lat, lon) chunks; static
    predictors broadcast. Cells with any missing predictor (ocean) are NaN.

    Returns
    -------
    xarray.DataArray
        ``ER`` (time, lat, lon, member) float32 [gC m-2 d-1] (release > 0), dask-backed.
    """
    missing = [f for f in ensemble.features if f not in drivers]
    if missing:
        raise DataError(located(f"drivers lack predictors {missing} the ensemble was trained with",
                                where="predict_grid", fix="use the same driver set for training and prediction"))
    ds = drivers[ensemble.features]
    if "time" not in ds.dims:
        raise DataError(located("drivers have no time dimension", where="predict_grid"))
    ds = ds.chunk({"time": time_chunk})
    args = [ds[f] for f in ensemble.features]
    out = xr.apply_ufunc(
        _predict_block, *args, kwargs={"models": ensemble.models},
        output_core_dims=[["member"]], dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"member": len(ensemble)}},
    )
    out = out.transpose("time", "lat", "lon", "member").assign_coords(member=np.arange(len(ensemble)))
    out.name = "ER"
    out.attrs.update({"units": "gC m-2 d-1", "long_name": "ecosystem respiration (RF upscaled)",
                      "sign": "release to the atmosphere > 0"})
    return out


def annual_sum(monthly: xr.DataArray, *, require_complete: bool = True) -> xr.DataArray:
    """Annual total [gC m-2 yr-1] from monthly means of daily fluxes [gC m-2 d-1]:
    Σ_months flux · days-in-month. Years with fewer than 12 months raise (or are dropped)."""
    u = monthly.attrs.get("units", "gC m-2 d-1")
    if u != "gC m-2 d-1":
        raise DataError(located(f"monthly flux must be in gC m-2 d-1, found {u!r}", where=str(monthly.name)))
    counts = monthly["time"].dt.year.to_series().value_counts()
    incomplete = sorted(int(y) for y, c in counts.items() if c != 12)
    if incomplete and require_complete:
        raise DataError(located(f"years {incomplete} do not have 12 months", where=str(monthly.name),
                                fix="select complete years or pass require_complete=False"))
    days = monthly["time"].dt.days_in_month.astype("float32")
    t = monthly.indexes["time"]
    if not incomplete and t.is_monotonic_increasing and bool(np.all(t.month.to_numpy().reshape(-1, 12) == np.arange(1, 13))):
        # whole years from January: block-wise over 12 months (dask friendly, no shuffle); NaN propagates
        out = (monthly * days).coarsen(time=12).reduce(np.sum)
        out = out.rename(time="year").assign_coords(year=t.year.to_numpy()[::12])
    else:
        out = (monthly * days).groupby("time.year").sum("time", min_count=12)
    if incomplete:
        out = out.drop_sel(year=incomplete)
    out.attrs = {**monthly.attrs, "units": "gC m-2 yr-1"}
    return out


def area_of(da: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """Cell areas [m2] of a regular (lat, lon) grid (spherical zones, landcarbon.units)."""
    lat = da["lat"].values
    lon = da["lon"].values
    if lat.size < 2 or lon.size < 2:
        raise DataError(located("need at least 2 latitudes and longitudes to infer the spacing", where="area_of"))
    dlat = float(np.median(np.abs(np.diff(lat))))
    dlon = float(np.median(np.abs(np.diff(lon))))
    a = grid_cell_area_m2(lat, dlat, dlon)
    return xr.DataArray(np.broadcast_to(a[:, None], (lat.size, lon.size)).copy(), dims=("lat", "lon"),
                        coords={"lat": lat, "lon": lon}, attrs={"units": "m2"})


def global_total(annual: xr.DataArray, area: xr.DataArray | None = None) -> xr.DataArray:
    """Area-weighted total [PgC yr-1] of an annual flux density [gC m-2 yr-1] (NaN cells skipped):
    Σ_cells flux · area / 10^15."""
    if annual.attrs.get("units", "gC m-2 yr-1") != "gC m-2 yr-1":
        raise DataError(located(f"annual flux must be in gC m-2 yr-1, found {annual.attrs.get('units')!r}",
                                where=str(annual.name)))
    area = area_of(annual) if area is None else area
    out = (annual * area).sum(("lat", "lon"), skipna=True) / G_PER_PG
    out.attrs = {"units": "PgC yr-1", "long_name": f"global total of {annual.name or 'flux'}"}
    return out


def zonal_totals(annual: xr.DataArray, area: xr.DataArray | None = None, *, band_deg: float = 10.0) -> xr.DataArray:
    """Totals [PgC yr-1] in latitude bands of ``band_deg`` (coordinate = band centre)."""
    area = area_of(annual) if area is None else area
    edges = np.arange(-90.0, 90.0 + band_deg / 2, band_deg)
    prod = annual * area
    bands = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (prod["lat"] >= lo) & (prod["lat"] < hi)
        bands.append(prod.where(sel).sum(("lat", "lon"), skipna=True) / G_PER_PG)
    out = xr.concat(bands, dim="lat_band").assign_coords(lat_band=0.5 * (edges[:-1] + edges[1:]))
    out.attrs = {"units": "PgC yr-1", "band_deg": float(band_deg)}
    return out


# ----------------------------------------------------------------------------------------------
# products for later chapters
# ----------------------------------------------------------------------------------------------
#: Annual aggregation of drivers written next to ER (mean, except P: annual total).
ANNUAL_DRIVERS = {"TA": "mean", "TMIN": "mean", "TMAX": "mean", "SWC": "mean", "RH": "mean", "VPD": "mean",
                  "SW_IN": "mean", "P": "sum", "PET": "mean", "SPEI": "mean", "FRS": "sum", "WET": "sum"}


def annual_drivers(drivers: xr.Dataset, variables=None) -> xr.Dataset:
    """Annual driver fields (year, lat, lon): means, or annual totals for P [mm yr-1] (from mm month-1),
    FRS and WET [days yr-1]. Units are kept in ``attrs['units']``."""
    out = {}
    t = drivers.indexes["time"]
    # whole years from January: block-wise reduction over 12 months (no shuffle, low memory)
    blockwise = len(t) % 12 == 0 and bool(np.all(t.month.to_numpy().reshape(-1, 12) == np.arange(1, 13)))
    for v, how in ANNUAL_DRIVERS.items():
        if v not in drivers or (variables is not None and v not in variables):
            continue
        da = drivers[v]
        if blockwise:
            c = da.coarsen(time=12)
            g = None
        else:
            g = da.groupby("time.year")
        if how == "sum":
            if v == "P" and da.attrs.get("units") not in ("mm month-1", "mm/month"):
                raise DataError(located(f"P must be in mm month-1 for an annual total, found {da.attrs.get('units')!r}",
                                        where="variable P"))
            res = c.reduce(np.sum) if g is None else g.sum("time", min_count=12)
            units = {"P": "mm yr-1"}.get(v, "days yr-1")
        else:
            res = c.reduce(np.mean) if g is None else g.mean("time")
            units = da.attrs.get("units", "1")
        if g is None:
            res = res.rename(time="year").assign_coords(year=t.year.to_numpy()[::12])
        out[v] = res.astype("float32").assign_attrs(units=units, long_name=da.attrs.get("long_name", v),
                                                    aggregation=f"annual {how}")
    return xr.Dataset(out)


def er_annual_product(er_annual: xr.DataArray, drivers: xr.Dataset, *, er_sd: xr.DataArray | None = None,
                      er_true_annual: xr.DataArray | None = None, source: str = "") -> xr.Dataset:
    """The ``er_annual.nc`` product read by the trends chapter (:mod:`landcarbon.trends.io` reads it).

    Dims (year, lat, lon), lat ascending, lon -180..180; ``ER`` [gC m-2 yr-1] (NaN over ocean),
    optional ``ER_sd`` (ensemble spread) and ``ER_true``; annual drivers (:func:`annual_drivers`;
    ``SWC`` in m3 m-3 for ERA5/demo); ``area`` [m2]; ``attrs['source']``.
    """
    ds = annual_drivers(drivers)
    ds["ER"] = er_annual.astype("float32").assign_attrs(
        units="gC m-2 yr-1", long_name="ecosystem respiration, RF ensemble mean", sign="release to the atmosphere > 0")
    if er_sd is not None:
        ds["ER_sd"] = er_sd.astype("float32").assign_attrs(units="gC m-2 yr-1", long_name="RF ensemble standard deviation")
    if er_true_annual is not None:
        ds["ER_true"] = er_true_annual.astype("float32").assign_attrs(units="gC m-2 yr-1", long_name="true ER (demo)")
    ds["area"] = area_of(ds)
    ds = ds.sortby("lat")
    ds.attrs.update({"source": source, "title": "landcarbon upscaled annual ecosystem respiration",
                     "conventions": "lat ascending, lon -180..180, NaN over ocean"})
    return ds


def write_netcdf(ds: xr.Dataset, path, *, compress: bool = True):
    """Write ``ds`` atomically (temporary file + rename), float variables zlib-compressed, as CF-1.10
    (:func:`landcarbon.publish.cf.write_cf_netcdf`; :func:`landcarbon.trends.load_er_products` reads it back)."""
    from ..publish.cf import write_cf_netcdf

    return write_cf_netcdf(ds, path, compress=compress)


def literature_global_er() -> pd.DataFrame:
    """Global annual ER [PgC yr-1] (mean ± SD of the annual values) as compiled by Li et al. (FLUXNET2015
    upscaling with DT-RH partitioning; presented, not yet published) — PUBLISHED values, not computed here.

    The FLUXCOM NT/DT numbers the compilation attributes to Jung et al. (2020, doi:10.5194/bg-17-1343-2020)
    could not be found in that paper's abstract: treat them as unverified.
    """
    rows = [
        ("DT-RH upscaled (Li et al.)", "1989-2018", 122.77, 0.73, "0.5°", "Li et al. (presented)"),
        ("FLUXCOM NT", "1989-2018", 115.51, 0.31, "0.5°", "Jung et al. 2020 (as quoted; unverified)"),
        ("FLUXCOM DT", "1989-2018", 116.21, 0.31, "0.5°", "Jung et al. 2020 (as quoted; unverified)"),
        ("BCC-CSM2-MR (CMIP6)", "1980-2014", 130.04, 3.90, "1.125°", "Wu et al. 2018"),
        ("CESM2 (CMIP6)", "1980-2014", 136.13, 4.17, "1.25°×0.94°", "Danabasoglu et al. 2019"),
        ("CMCC-ESM2 (CMIP6)", "1980-2014", 135.05, 5.25, "1.25°×0.94°", "Lovato et al. 2021"),
        ("BIOME-BGC (TRENDY)", "1980-2010", 131.61, 2.45, "0.5°", "Running and Hunt 1993"),
        ("CLM4 (TRENDY)", "1980-2010", 138.13, 3.84, "0.5°", "Oleson et al. 2010"),
        ("DLEM (TRENDY)", "1980-2010", 103.83, 2.85, "0.5°", "Tian et al. 2015"),
    ]
    df = pd.DataFrame(rows, columns=["product", "period", "ER_PgC_yr", "sd_PgC_yr", "resolution", "reference"])
    df["kind"] = "published"
    return df


def literature_cv_metrics() -> pd.DataFrame:
    """Random-forest evaluation statistics reported by Li et al. (train/test R², RMSE, MAE, RMSLE) —
    PUBLISHED values. Their units are not stated. RMSE ≈ 26 with R² ≈ 0.71 implies a target SD of
    ≈ 26/√0.29 ≈ 49; monthly FLUXNET2015 RECO totals have an SD of ≈ 80 gC m-2 month-1 (2.6 gC m-2 d-1) over
    the 171 towers, so the units are most likely gC m-2 month-1 on a smaller or filtered set of
    tower-months (our inference, not stated by the study). We report our skill in gC m-2 month-1."""
    return pd.DataFrame({"train": [0.713, 26.462, 18.528, 0.401], "test": [0.715, 26.322, 18.525, 0.402]},
                        index=["r2", "rmse", "mae", "rmsle"])


def upscale(ensemble: Ensemble, drivers: xr.Dataset, *, time_chunk: int = 12):
    """Predict the grid once and return both products (one pass over the chunks).

    Returns
    -------
    monthly : xarray.DataArray
        Ensemble-mean monthly ER (time, lat, lon) [gC m-2 d-1].
    annual : xarray.DataArray
        Annual ER of every member (year, lat, lon, member) [gC m-2 yr-1].
    """
    import dask

    pred = predict_grid(ensemble, drivers, time_chunk=time_chunk)
    monthly = pred.mean("member").assign_attrs(pred.attrs)
    annual = annual_sum(pred)
    monthly, annual = dask.compute(monthly, annual)
    monthly.name, annual.name = "ER", "ER"
    return monthly, annual
