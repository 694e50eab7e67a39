"""Error of partitioned fluxes against a known truth (demo data): bias, RMSE, R², annual-sum error.

Statistics after Moffat et al. (2007, doi:10.1016/j.agrformet.2007.08.011) and Desai et al. (2008,
doi:10.1016/j.agrformet.2007.11.012): half-hourly, daily and annual scale, split by day/night.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..units import umol_m2_s_to_gC_m2_d
from ._common import PartitionResult, annual_sum

__all__ = ["truth_errors", "daily_means", "monthly_daytime_bias"]


def _stats(est: np.ndarray, obs: np.ndarray) -> dict:
    ok = np.isfinite(est) & np.isfinite(obs)
    e, o = est[ok], obs[ok]
    if e.size < 3:
        return {"bias": np.nan, "rmse": np.nan, "r2": np.nan}
    d = e - o
    return {"bias": float(d.mean()), "rmse": float(np.sqrt((d**2).mean())),
            "r2": float(1 - (d**2).sum() / ((o - o.mean()) ** 2).sum())}


def daily_means(da: xr.DataArray | np.ndarray, time=None) -> pd.Series:
    """Daily mean flux converted to gC m-2 d-1 (interval-end stamps: the 00:00 record belongs to the
    previous day)."""
    t = pd.DatetimeIndex(time if time is not None else da["time"].values) - pd.Timedelta(seconds=1)
    s = pd.Series(np.asarray(da, float), index=t)
    return umol_m2_s_to_gC_m2_d(s.groupby(s.index.floor("D")).mean())


def monthly_daytime_bias(res: PartitionResult, truth_reco: np.ndarray, day: np.ndarray) -> pd.Series:
    """Monthly mean day-time RECO error [umol m-2 s-1] (seasonally resolved bias)."""
    t = pd.DatetimeIndex(res.reco["time"].values)
    d = pd.Series(np.where(day, res.reco.values - truth_reco, np.nan), index=t)
    return d.groupby(d.index.month).mean()


def truth_errors(res: PartitionResult, ds: xr.Dataset) -> dict:
    """Errors of ``res`` against ``GPP_true``/``RECO_true`` of a demo dataset.

    Returns a flat dict: ``{GPP,RECO}_{hh,daily}_{bias,rmse,r2}`` (half-hourly in umol m-2 s-1,
    daily in gC m-2 d-1), ``RECO_day_bias`` (day-time half-hours, potential radiation > 0),
    ``RECO_day_bias_monthly_abs`` (mean |monthly day-time bias|), ``{GPP,RECO}_annual_err_pct``,
    ``{GPP,RECO}_annual`` and the true annual sums [gC m-2 yr-1].
    """
    out = {"method": res.method}
    day = (ds["SW_IN_POT"].values > 0) if "SW_IN_POT" in ds else (ds["SW_IN"].fillna(0).values > 4)
    for flux, est in (("GPP", res.gpp), ("RECO", res.reco)):
        truth = ds[f"{flux}_true"].values
        for k, v in _stats(est.values, truth).items():
            out[f"{flux}_hh_{k}"] = v
        dm_e = daily_means(est)
        dm_t = daily_means(ds[f"{flux}_true"])
        for k, v in _stats(dm_e.to_numpy(), dm_t.to_numpy()).items():
            out[f"{flux}_daily_{k}"] = v
        a_e, a_t = annual_sum(est), annual_sum(ds[f"{flux}_true"])
        out[f"{flux}_annual"] = a_e
        out[f"{flux}_annual_true"] = a_t
        out[f"{flux}_annual_err_pct"] = 100.0 * (a_e / a_t - 1.0)
    d = res.reco.values[day] - ds["RECO_true"].values[day]
    out["RECO_day_bias"] = float(np.nanmean(d))
    out["RECO_day_bias_monthly_abs"] = float(monthly_daytime_bias(res, ds["RECO_true"].values, day).abs().mean())
    return out


def evaluate_realisations(scenarios, methods, n_realisations: int, *, seed: int = 0, year: int = 1998,
                          n_jobs: int = 1, n_boot: int = 1, progress: bool = False,
                          method_kwargs: dict | None = None) -> pd.DataFrame:
    """Run the full chain (u* + MDS + partitioning) on ``n_realisations`` demo site-years per
    scenario (seeds ``seed + i``; new weather, noise and gaps each time) and return one row per
    (scenario, realisation, method) with the :func:`truth_errors` columns."""
    from functools import partial

    from .batch import partition_many
    from .demo import demo_site

    rows = []
    items, keys = [], []
    for sc in scenarios:
        for i in range(n_realisations):
            items.append(partial(demo_site, seed + i, sc, year))
            keys.append((sc, i))
    if method_kwargs is None:  # ML learners: no cross-validation inside the truth evaluation
        method_kwargs = {m: {"cv": False, "n_estimators": 50} for m in ("RF", "SP")}
        method_kwargs["NN"] = {"cv": False}
    res = partition_many(items, methods, n_jobs=n_jobs, seed=seed, n_boot=n_boot, keep_dataset=True,
                         progress=progress, method_kwargs=method_kwargs)
    for (sc, i), sy in zip(keys, res):
        if sy.error:
            rows.append({"scenario": sc, "realisation": i, "method": None, "error": sy.error})
            continue
        for m, r in sy.results.items():
            rows.append({"scenario": sc, "realisation": i, **truth_errors(r, sy.dataset)})
    return pd.DataFrame(rows)


def summarise_errors(df: pd.DataFrame, columns=("GPP_annual_err_pct", "RECO_annual_err_pct", "GPP_daily_rmse",
                                                "RECO_daily_rmse", "GPP_daily_r2", "RECO_daily_r2", "RECO_day_bias",
                                                "RECO_day_bias_monthly_abs")) -> pd.DataFrame:
    """Mean and SD over realisations per scenario and method."""
    g = df.groupby(["scenario", "method"])[list(columns)]
    m, s = g.mean(), g.std(ddof=1)
    return m.join(s, rsuffix="_sd")
