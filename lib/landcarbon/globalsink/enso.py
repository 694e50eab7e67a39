"""The land sink's response to ENSO: annual means of a monthly index (:func:`annual_index`), the
regression of the detrended sink on the Oceanic Niño Index with intervals for autocorrelated residuals
(:func:`enso_regression`), its dependence on the lag (:func:`enso_lag_profile`), and the check of the
regression on realisations of the demo twin with a known sensitivity (:func:`twin_enso_check`).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, located
from .residual import residual_land_sink

__all__ = ["annual_index", "enso_regression", "enso_lag_profile", "twin_enso_check"]


def annual_index(index: xr.DataArray, *, lag_months: int = 0, min_months: int = 12) -> xr.DataArray:
    """Annual mean of a monthly index (``time``) over the 12 months ending ``lag_months`` before December.

    Year y averages the months (Jan y − lag) … (Dec y − lag): lag 0 is the calendar year, lag 6 the 12
    months from July of y−1 to June of y. Years with fewer than ``min_months`` valid months are NaN.
    """
    if not 0 <= lag_months <= 24:
        raise ConfigError(located(f"lag_months must be within 0-24, got {lag_months}", where="annual_index"))
    t = index["time"].values.astype("datetime64[M]")
    m = (t.astype(int) + lag_months)                    # months since 1970-01, shifted forward by the lag
    years = 1970 + m // 12
    s = pd.Series(index.values.astype(float), index=years)
    counts = s.groupby(level=0).count()
    means = s.groupby(level=0).mean().where(counts >= min_months)
    return xr.DataArray(means.values, dims="year", coords={"year": means.index.values.astype(np.int64)},
                        attrs={"units": index.attrs.get("units", ""), "lag_months": lag_months,
                               "long_name": f"annual mean of {index.name} over the 12 months ending {lag_months} month(s) before December"})


def _lag1(x: np.ndarray) -> float:
    y = x - x.mean()
    return float(np.sum(y[1:] * y[:-1]) / np.sum(y * y))


def enso_regression(sink: xr.DataArray, oni: xr.DataArray, *, lag_months: int = 0, detrend: str = "ols",
                    alpha: float = 0.05, years: tuple[int, int] | None = None) -> dict:
    """Regression of the land sink on the annual-mean ONI, with a linear trend removed.

    sink_y = a + b·(y − ȳ) + β·ONI_y + ε_y (``detrend="ols"``; ``"none"`` drops the time term), ordinary least
    squares over the years with both series, ONI_y = :func:`annual_index` (lag ``lag_months``). Including the
    time term is the same as regressing the detrended sink on the detrended ONI (Frisch–Waugh–Lovell), so a
    chance trend of ONI cannot bias β. Returns β [PgC yr⁻¹ K⁻¹], its standard error and two 1 − alpha
    intervals: the classical one (Student t, n − p dof) and one for autocorrelated residuals using the
    effective sample size n_eff = n (1 − r_x r_e)/(1 + r_x r_e), r_x and r_e the lag-1 autocorrelations of the
    detrended ONI and of the residuals (Bretherton et al. 1999, doi:10.1175/1520-0442(1999)012<1990:TENOSD>2.0.CO;2,
    eq. 31; our use for one regressor). A negative β is a weaker land sink in El Niño years.
    """
    from scipy import stats

    if detrend not in ("ols", "none"):
        raise ConfigError(located(f"detrend must be 'ols' or 'none', got {detrend!r}", where="enso_regression"))
    x_all = annual_index(oni, lag_months=lag_months)
    ok = np.isfinite(sink.values)
    common = np.intersect1d(sink["year"].values[ok], x_all["year"].values[np.isfinite(x_all.values)])
    if years is not None:
        common = common[(common >= years[0]) & (common <= years[1])]
    if common.size < 10:
        raise DataError(located(f"only {common.size} years with both the sink and the ONI", where="enso_regression",
                                fix="use longer series"))
    y = sink.sel(year=common).values.astype(float)
    x = x_all.sel(year=common).values.astype(float)
    t = common.astype(float) - common.mean()
    cols = [np.ones_like(t), x] + ([t] if detrend == "ols" else [])
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    n, p = X.shape
    s2 = float(resid @ resid / (n - p))
    cov = s2 * np.linalg.inv(X.T @ X)
    beta, se = float(coef[1]), float(np.sqrt(cov[1, 1]))
    tq = stats.t.ppf(1 - alpha / 2, n - p)
    xd = x - (np.polyval(np.polyfit(t, x, 1), t) if detrend == "ols" else x.mean())
    rx, re_ = _lag1(xd), _lag1(resid)
    rho = max(rx * re_, 0.0)
    n_eff = n * (1 - rho) / (1 + rho)
    se_eff = se * math.sqrt((n - p) / max(n_eff - p, 1.0))
    tq_eff = stats.t.ppf(1 - alpha / 2, max(n_eff - p, 1.0))
    y_detrended = y - (coef[2] * t if detrend == "ols" else 0.0)
    r = float(np.corrcoef(xd, resid + beta * xd)[0, 1])
    return {"slope": beta, "intercept": float(coef[0]), "se": se, "ci_low": beta - tq * se, "ci_high": beta + tq * se,
            "se_autocorr": se_eff, "ci_low_autocorr": beta - tq_eff * se_eff, "ci_high_autocorr": beta + tq_eff * se_eff,
            "n": n, "n_eff": n_eff, "dof": n - p, "r": r, "r2": r * r, "lag_months": lag_months,
            "years": (int(common[0]), int(common[-1])), "r1_index": rx, "r1_residual": re_, "alpha": alpha,
            "x": x, "y_detrended": y_detrended, "year": common, "trend_per_year": float(coef[2]) if detrend == "ols" else 0.0,
            "detrend": detrend, "units": "PgC yr-1 K-1"}


def enso_lag_profile(sink: xr.DataArray, oni: xr.DataArray, lags: Sequence[int] = tuple(range(0, 13)),
                     **kwargs) -> pd.DataFrame:
    """:func:`enso_regression` for each lag: slope, intervals, r (shows how the response depends on timing)."""
    rows = []
    for lag in lags:
        r = enso_regression(sink, oni, lag_months=int(lag), **kwargs)
        rows.append({k: r[k] for k in ("lag_months", "slope", "ci_low", "ci_high", "ci_low_autocorr",
                                         "ci_high_autocorr", "r", "n", "n_eff")}
                    | {"first_year": r["years"][0], "last_year": r["years"][1]})
    return pd.DataFrame(rows)


def twin_enso_check(n: int = 20, *, first_seed: int = 1, lag_months: int = 0) -> tuple[pd.DataFrame, dict]:
    """Run the ENSO regression on ``n`` realisations of the demo twin (known sensitivity): per realisation
    the slope, its 95 % interval and whether it covers the truth; summary: mean slope, its spread, coverage."""
    from .demo import DEMO_TRUTH, demo_co2_growth, demo_global_budget, demo_oni

    rows = []
    for seed in range(first_seed, first_seed + n):
        b, g, o = demo_global_budget(seed), demo_co2_growth(seed), demo_oni(seed)
        r = residual_land_sink(b, g)
        e = enso_regression(r["land_sink_residual"], o["oni"], lag_months=lag_months)
        rows.append({"seed": seed, "slope": e["slope"], "ci_low": e["ci_low"], "ci_high": e["ci_high"],
                     "covers_truth": e["ci_low"] <= DEMO_TRUTH["enso_sensitivity"] <= e["ci_high"]})
    df = pd.DataFrame(rows)
    summary = {"truth": DEMO_TRUTH["enso_sensitivity"], "mean_slope": float(df["slope"].mean()),
               "sd_slope": float(df["slope"].std(ddof=1)), "coverage": float(df["covers_truth"].mean()), "n": n}
    return df, summary
