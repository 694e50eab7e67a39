"""Machine-learning night-time partitioning (random forest, small neural network, semi-parametric).

What Li et al. (2022, doi:10.1016/j.agrformet.2021.108709) used as one of their machine-learning estimators: a regressor is
trained on u*-filtered, *measured* night-time NEE (night-time NEE = RECO) with drivers Tair, Tsoil,
VPD, RH, wind speed, SWC and seasonal terms sin/cos(2π DOY/365), then predicts RECO for every
record; GPP = RECO − NEE_f. Radiation is deliberately NOT a feature (≈ 0 at every training record,
so its effect is unidentifiable). Related hybrid approach: Tramontana et al. (2020) GCB 26:5235,
doi:10.1111/gcb.15203.

* ``model="rf"``: ``sklearn.ensemble.RandomForestRegressor``.
* ``model="nn"``: ``sklearn.neural_network.MLPRegressor`` (2 × 16 units, standardised inputs,
  early stopping).
* ``model="sp"`` (semi-parametric, a PROPOSAL of the brief; our formulation):
  RECO = Rref_ML(x_slow)·f_LT(T; E0) with E0 from the night-time method; a random forest learns
  Rref from slow drivers (SWC, RH, season) with target NEE/f_LT and weights f_LT² (= least squares in
  NEE); temperature enters only through Lloyd–Taylor, so the day-time extrapolation is monotone and
  bounded.

Diagnostics: blocked cross-validation on night data (folds of whole weeks; no random splits because
of autocorrelation) and the covariate-shift diagnostic — the share of day records outside the
night-time training range per feature and by Mahalanobis distance (above the 99th percentile of the
night records' distances).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, located
from ._common import PartitionResult, flux_dataarray, prepare_inputs
from .respiration import TREF_DEGC
from .nighttime import night_mask_nt, partition_nt
from .respiration import lloyd_taylor

__all__ = ["partition_ml", "ml_features", "covariate_shift", "blocked_cv"]

DEFAULT_FEATURES = ("TA", "TS", "VPD", "RH", "WS", "SWC", "doy_sin", "doy_cos")
SLOW_FEATURES = ("SWC", "RH", "doy_sin", "doy_cos")


def ml_features(ds: xr.Dataset, features=DEFAULT_FEATURES) -> pd.DataFrame:
    """Feature table (one row per record). Missing drivers are skipped; short driver gaps are
    interpolated linearly in time (at most 6 records), longer ones stay NaN."""
    inp = prepare_inputs(ds)
    t = pd.DatetimeIndex(ds["time"].values)
    doy = t.dayofyear.to_numpy(float) + (t.hour.to_numpy() + t.minute.to_numpy() / 60) / 24
    cols = {}
    src = {"TA": inp.ta, "VPD": inp.vpd, "RH": inp.rh, **inp.others}
    for f in features:
        if f == "doy_sin":
            cols[f] = np.sin(2 * np.pi * doy / 365.25)
        elif f == "doy_cos":
            cols[f] = np.cos(2 * np.pi * doy / 365.25)
        elif f in src and src[f] is not None and np.isfinite(src[f]).mean() > 0.5:
            cols[f] = src[f]
    df = pd.DataFrame(cols, index=t)
    return df.interpolate(limit=6, limit_direction="both")


def covariate_shift(x_night: pd.DataFrame, x_day: pd.DataFrame, quantile: float = 0.99) -> dict:
    """Share of day records outside the night range (per feature) and beyond the night ``quantile``
    of the Mahalanobis distance (all features jointly)."""
    xn = x_night.dropna()
    xd = x_day.dropna()
    per = {c: float(((xd[c] < xn[c].min()) | (xd[c] > xn[c].max())).mean()) for c in xn.columns}
    mu = xn.mean().to_numpy()
    cov = np.cov(xn.to_numpy().T)
    ci = np.linalg.pinv(np.atleast_2d(cov))
    dn = np.sqrt(np.einsum("ij,jk,ik->i", xn.to_numpy() - mu, ci, xn.to_numpy() - mu))
    dd = np.sqrt(np.einsum("ij,jk,ik->i", xd.to_numpy() - mu, ci, xd.to_numpy() - mu))
    thr = np.quantile(dn, quantile)
    return {"outside_range": per, "mahalanobis_threshold": float(thr),
            "share_day_beyond_night_q99": float((dd > thr).mean()),
            "share_day_outside_any_range": float(
                np.any([(xd[c] < xn[c].min()) | (xd[c] > xn[c].max()) for c in xn.columns], axis=0).mean())}


def _make_model(kind: str, seed: int, n_estimators: int):
    if kind in ("rf", "sp"):
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=n_estimators, min_samples_leaf=5, max_features=0.6,
                                     random_state=seed, n_jobs=1)
    if kind == "nn":
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(16, 16), alpha=1e-3,
                                                            max_iter=400, early_stopping=True,
                                                            random_state=seed))
    raise ConfigError(located(f"unknown ML model {kind!r}", where="partition_ml", fix="use 'rf', 'nn' or 'sp'"))


def blocked_cv(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, kind: str, seed: int, n_splits: int = 5,
               n_estimators: int = 100, weights: np.ndarray | None = None) -> dict:
    """Cross-validation with whole blocks (e.g. weeks) held out together: R² and RMSE of held-out NEE."""
    from sklearn.model_selection import GroupKFold

    pred = np.full(y.size, np.nan)
    for tr, te in GroupKFold(n_splits=n_splits).split(x, y, groups):
        m = _make_model(kind, seed, n_estimators)
        if weights is not None:
            m.fit(x.iloc[tr], y[tr], sample_weight=weights[tr])
        else:
            m.fit(x.iloc[tr], y[tr])
        pred[te] = m.predict(x.iloc[te])
    return {"pred": pred}


def partition_ml(ds: xr.Dataset, model: str = "rf", *, seed: int = 0, features=DEFAULT_FEATURES,
                 n_estimators: int = 100, cv: bool = True, block_days: int = 7,
                 nt_result: PartitionResult | None = None, tref_degc: float = TREF_DEGC) -> PartitionResult:
    """ML night-time partitioning (see the module docstring).

    Parameters
    ----------
    model : {"rf", "nn", "sp"}
        Random forest, small MLP, or the semi-parametric Rref_ML·Lloyd–Taylor model.
    seed : int
        random_state of the learner (same seed -> same result).
    cv : bool
        Run blocked cross-validation (folds of ``block_days`` whole days).

    Returns
    -------
    PartitionResult (method "RF", "NN" or "SP")
        RECO = model prediction for every record, GPP = RECO − NEE_f [umol CO2 m-2 s-1] (NEE > 0
        release, NEE = RECO − GPP); ``info``: features, cv_r2, cv_rmse, covariate_shift; ``params``:
        one row per CV fold block summary (block id, n, rmse).
    """
    where = f"site {ds.attrs.get('site', '?')} (ML {model})"
    inp = prepare_inputs(ds, where=where)
    night = night_mask_nt(inp.rg, inp.potrad) & np.isfinite(inp.nee_meas)
    feats = [f for f in features if f != "TA" or model != "sp"]
    if model == "sp":
        feats = [f for f in SLOW_FEATURES if f in features or f.startswith("doy")]
    x = ml_features(ds, feats)
    if x.shape[1] == 0:
        raise DataError(located("no usable ML features", where=where, fix="provide TA, TS, VPD, RH, WS or SWC"))
    train = night & x.notna().all(axis=1).to_numpy()
    if train.sum() < 200:
        raise DataError(located(f"only {int(train.sum())} night records with all features", where=where,
                                fix="gap-fill the drivers or use fewer features"))
    y = inp.nee_meas[train]
    groups = (inp.day_counter[train] // block_days).astype(int)
    w = None
    info = {"features": list(x.columns), "n_train": int(train.sum()), "model": model}
    if model == "sp":
        nt = partition_nt(ds, tref_degc=tref_degc) if nt_result is None else nt_result
        e0 = nt.info["e0"]
        f_all = lloyd_taylor(inp.ta, 1.0, e0, tref_degc=tref_degc)
        f = f_all[train]
        target = y / f
        w = f**2
        info["e0"] = e0
    else:
        target = y
    m = _make_model(model, seed, n_estimators)
    if w is not None:
        m.fit(x[train], target, sample_weight=w)
    else:
        m.fit(x[train], target)
    xf = x.copy()
    ok = xf.notna().all(axis=1).to_numpy()
    pred = np.full(inp.nee_f.size, np.nan)
    pred[ok] = m.predict(xf[ok])
    if model == "sp":
        reco = np.maximum(pred, 0.0) * f_all
    else:
        reco = pred
    # fill prediction gaps (driver gaps) by interpolation in time
    reco = pd.Series(reco).interpolate(limit_direction="both").to_numpy()
    gpp = reco - inp.nee_f
    if cv:
        cvr = blocked_cv(x[train], target, groups, model, seed, n_estimators=n_estimators, weights=w)
        p = cvr["pred"] * (f if model == "sp" else 1.0)
        res = p - y
        info["cv_rmse"] = float(np.sqrt(np.nanmean(res**2)))
        info["cv_r2"] = float(1 - np.nansum(res**2) / np.nansum((y - y.mean()) ** 2))
        params = pd.DataFrame({"block": groups, "resid": res}).groupby("block").resid.agg(
            n="size", rmse=lambda r: float(np.sqrt(np.mean(r**2))), bias="mean").reset_index()
        params["qc"] = 0
    else:
        params = pd.DataFrame(columns=["block", "n", "rmse", "bias", "qc"])
    day = inp.potrad > 0
    xn = x[train]
    xd = x[day & ok]
    info["covariate_shift"] = covariate_shift(xn, xd)
    label = {"rf": "RF", "nn": "NN", "sp": "SP"}[model]
    return PartitionResult(
        method=label,
        gpp=flux_dataarray(gpp, ds, "GPP", f"gross primary production (ML night-time, {label})", label),
        reco=flux_dataarray(reco, ds, "RECO", f"ecosystem respiration (ML night-time, {label})", label),
        params=params, info=info)
