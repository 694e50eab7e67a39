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

__all__ = ["truth_errors", "daily_means", "monthly_daytime_bias", "evaluate_realisations", "summarise_errors",
           "paired_comparison", "recovery_test", "interval_coverage", "coverage_table", "CALIBRATION_SCENARIOS"]

#: twin scenarios whose truth lies inside DT-RH's model family (symmetric, and the asymmetry anchored at
#: dawn): the scenarios on which the stated ±1σ interval is calibrated (benchmarks/partitioning.py)
CALIBRATION_SCENARIOS = ("S0", "S1")


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
    sd = res.info.get("annual_sd") or {}
    out["GPP_annual_sd"] = float(sd.get("GPP", np.nan))
    out["GPP_annual_z"] = (out["GPP_annual"] - out["GPP_annual_true"]) / out["GPP_annual_sd"] \
        if np.isfinite(out["GPP_annual_sd"]) and out["GPP_annual_sd"] > 0 else np.nan
    if "blocks" in res.info:  # DT-RH: asymmetry in the growing season (days 120-270) and the nested test
        b = res.info["blocks"]
        gs = b[(b.start_day >= 120) & (b.start_day < 270)]
        out["r_growing_season"] = float(gs.r_day_night.median()) if len(gs) else np.nan
        out["r_true"] = float(ds.attrs.get("truth_E0_day", np.nan) / ds.attrs.get("truth_E0_night", np.nan))
        out["c_median"] = float(b.c_rh.median())
        out["lr_supported"] = float(res.info["lr_test"]["supported"])
    return out


def evaluate_realisations(scenarios, methods, n_realisations: int, *, seed: int = 0, year: int = 1998,
                          n_jobs: int = 1, n_boot: int = 1, progress: bool = False,
                          method_kwargs: dict | None = None, keep_examples: bool = False):
    """Run the full chain (u* + MDS + partitioning) on ``n_realisations`` demo site-years per
    scenario (seeds ``seed + i``; new weather, noise and gaps each time) and return one row per
    (scenario, realisation, method) with the :func:`truth_errors` columns.

    With ``keep_examples=True`` returns (rows, {scenario: SiteYearResult of realisation 0}) for figures."""
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
    examples = {}
    for (sc, i), sy in zip(keys, res):
        if sy.error:
            rows.append({"scenario": sc, "realisation": i, "method": None, "error": sy.error})
            continue
        for m, r in sy.results.items():
            rows.append({"scenario": sc, "realisation": i, **truth_errors(r, sy.dataset)})
        if keep_examples and i == 0:
            examples[sc] = sy
    return (pd.DataFrame(rows), examples) if keep_examples else pd.DataFrame(rows)


def paired_comparison(errors: pd.DataFrame, metric: str, a: str, b: str, scenario: str, *,
                      smaller_is_better: bool = True, alpha: float = 0.05) -> dict:
    """Paired test of ``metric`` between methods ``a`` and ``b`` across realisations of one scenario.

    The difference d = metric(a) − metric(b) per realisation (same weather, noise and gaps) gets a
    paired t-test (scipy ``ttest_rel``) and a t-based 95 % interval of its mean. ``verdict`` words the
    result: "smaller"/"larger" when p < ``alpha``, "not distinguishable" otherwise (or with < 2 pairs).
    Returns dict(n, mean_a, mean_b, mean_diff, ci, p_value, verdict).
    """
    from scipy import stats

    sub = errors[errors.scenario == scenario]
    wa = sub[sub.method == a].set_index("realisation")[metric]
    wb = sub[sub.method == b].set_index("realisation")[metric]
    j = wa.index.intersection(wb.index)
    x, y = wa.loc[j].to_numpy(float), wb.loc[j].to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    out = {"metric": metric, "a": a, "b": b, "scenario": scenario, "n": n,
           "mean_a": float(np.mean(x)) if n else np.nan, "mean_b": float(np.mean(y)) if n else np.nan}
    if n < 2:
        out.update(mean_diff=float(np.mean(x - y)) if n else np.nan, ci=(np.nan, np.nan), p_value=np.nan,
                   verdict="not distinguishable")
        return out
    d = x - y
    se = d.std(ddof=1) / np.sqrt(n)
    tq = stats.t.ppf(0.975, n - 1)
    p = float(stats.ttest_rel(x, y).pvalue) if se > 0 else (0.0 if d.mean() != 0 else 1.0)
    verdict = "not distinguishable"
    if p < alpha:
        verdict = "smaller" if d.mean() < 0 else "larger"
    out.update(mean_diff=float(d.mean()), ci=(float(d.mean() - tq * se), float(d.mean() + tq * se)), p_value=p,
               verdict=verdict)
    return out


def recovery_test(values, truth: float, *, rel_tolerance: float = 0.2) -> dict:
    """Does an estimator recover ``truth`` across realisations? Mean, t-based 95 % interval and verdict.

    "recovers" when the interval contains the truth and is narrower than ±``rel_tolerance``·truth;
    "biased" when the interval excludes the truth; "undetermined" otherwise (too few or too noisy).
    """
    from scipy import stats

    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n < 2:
        return {"n": n, "mean": float(v.mean()) if n else np.nan, "ci": (np.nan, np.nan), "truth": truth,
                "verdict": "undetermined"}
    se = v.std(ddof=1) / np.sqrt(n)
    tq = stats.t.ppf(0.975, n - 1)
    ci = (float(v.mean() - tq * se), float(v.mean() + tq * se))
    if not ci[0] <= truth <= ci[1]:
        verdict = "biased"
    elif (ci[1] - ci[0]) / 2 <= rel_tolerance * abs(truth):
        verdict = "recovers"
    else:
        verdict = "undetermined"
    return {"n": n, "mean": float(v.mean()), "ci": ci, "truth": float(truth), "verdict": verdict}


def interval_coverage(errors: pd.DataFrame, method: str, *, k: float = 1.0) -> dict:
    """Share of realisations whose ±k·SD interval of annual GPP contains the true annual GPP, with its
    binomial (Wilson) 95 % interval. For k = 1 a calibrated SD gives 68 %."""
    from scipy import stats

    z = errors.loc[errors.method == method, "GPP_annual_z"].to_numpy(float)
    z = z[np.isfinite(z)]
    n, hit = int(z.size), int((np.abs(z) <= k).sum())
    if n == 0:
        return {"n": 0, "coverage": np.nan, "ci": (np.nan, np.nan)}
    q = stats.norm.ppf(0.975)
    ph = hit / n
    den = 1 + q**2 / n
    c = (ph + q**2 / (2 * n)) / den
    h = q * np.sqrt(ph * (1 - ph) / n + q**2 / (4 * n**2)) / den
    return {"n": n, "coverage": ph, "ci": (float(c - h), float(c + h)), "expected": float(2 * stats.norm.cdf(k) - 1)}


def summarise_errors(df: pd.DataFrame, columns=("GPP_annual_err_pct", "RECO_annual_err_pct", "GPP_daily_rmse",
                                                "RECO_daily_rmse", "GPP_daily_r2", "RECO_daily_r2", "RECO_day_bias",
                                                "RECO_day_bias_monthly_abs")) -> pd.DataFrame:
    """Mean and SD over realisations per scenario and method."""
    g = df.groupby(["scenario", "method"])[list(columns)]
    m, s = g.mean(), g.std(ddof=1)
    return m.join(s, rsuffix="_sd")


def coverage_table(errors: pd.DataFrame, method: str = "DT-RH", *, k: float = 1.0) -> pd.DataFrame:
    """:func:`interval_coverage` per scenario and pooled over :data:`CALIBRATION_SCENARIOS`, with the mean
    annual GPP error and its spread [%] next to the stated SD [%] (bias shows as low coverage)."""
    rows = []
    groups = [(sc, errors[errors.scenario == sc]) for sc in sorted(errors.scenario.dropna().unique())]
    cal = errors[errors.scenario.isin(CALIBRATION_SCENARIOS)]
    if cal.scenario.nunique() > 1:
        groups.append(("+".join(CALIBRATION_SCENARIOS), cal))
    for name, e in groups:
        c = interval_coverage(e, method, k=k)
        sub = e[e.method == method]
        rows.append({"scenario": name, "n": c["n"], "coverage": 100 * c["coverage"], "ci_low": 100 * c["ci"][0],
                     "ci_high": 100 * c["ci"][1], "error_mean": sub.GPP_annual_err_pct.mean(),
                     "error_sd": sub.GPP_annual_err_pct.std(ddof=1),
                     "stated_sd": (100 * sub.GPP_annual_sd / sub.GPP_annual_true).mean()})
    return pd.DataFrame(rows)
