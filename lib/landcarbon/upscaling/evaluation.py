"""Experiments of the upscaling chapter as library calls: skill in the study's units, global ER by method
against the twin's truths, the DT-RH correction with its uncertainty, and the NEP augmentation tests.

Every function returns plain tables (pandas) or arrays with units in their names/attributes, so the chapter
only narrates. Units: site fluxes gC m-2 d-1 (monthly means of daily sums), skill in the study's
gC m-2 month-1, grid annual fluxes gC m-2 yr-1, global totals PgC yr-1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from ..units import G_PER_PG, per_day_to_per_month

__all__ = ["cv_in_study_units", "skill_table", "zone_skill", "global_series", "method_table", "dtrh_correction",
           "tower_skill", "upscale_targets", "truth_summary", "chapter_indicators", "class_names",
           "REAL_ONLY_INDICATORS",
           "nep_truth_experiment", "nep_holdout_bias", "TROPICAL_BAND_DEG", "PRECIP_FEATURES", "trend_ablation",
           "relative_trend", "land_mean_annual", "trend_diagnosis_markdown"]

#: latitude limit of the tropical band used for the NEP bias [degrees]
TROPICAL_BAND_DEG = 23.5


def cv_in_study_units(table: pd.DataFrame, features, target: str, *, n_splits: int = 5, seed: int = 0, **forest_kw):
    """Leave-sites-out CV (:func:`landcarbon.upscaling.grouped_cv`) with R², RMSE, MAE and RMSLE of the
    monthly totals [gC m-2 month-1] (model in gC m-2 d-1 × days in the month), as the study reports them."""
    from .core import grouped_cv

    t = table[np.isfinite(table[target])].reset_index(drop=True)
    cv = grouped_cv(t, features, target, n_splits=n_splits, seed=seed, metric_scale=t["days"].to_numpy(), **forest_kw)
    cv.rows = t
    cv.target_name = target
    return cv


def skill_table(cvs: dict, study: pd.DataFrame | None = None) -> pd.DataFrame:
    """Train/test R², RMSE, MAE, RMSLE per target next to the study's table (rows = metrics)."""
    keys = ["r2", "rmse", "mae", "rmsle"]
    out = {}
    for name, cv in cvs.items():
        out[f"{name} train"] = [cv.train[k] for k in keys]
        out[f"{name} test"] = [cv.test[k] for k in keys]
    if study is not None:
        out["Li et al. train"] = study.loc[keys, "train"].to_list()
        out["Li et al. test"] = study.loc[keys, "test"].to_list()
    df = pd.DataFrame(out, index=keys)
    df.index.name = "metric"
    return df


def zone_skill(cv, *, by: str = "climate_zone") -> pd.DataFrame:
    """Held-out skill per climate zone: towers, tower-months, R², RMSE and bias [gC m-2 month-1]."""
    from .core import regression_metrics

    t = cv.rows
    days = t["days"].to_numpy()
    y = t[cv.target_name].to_numpy() * days
    p = cv.prediction * days
    rows = []
    for z, idx in t.groupby(by).indices.items():
        if idx.size < 3:
            continue
        m = regression_metrics(y[idx], p[idx])
        rows.append({"zone": z, "towers": int(t["site"].iloc[idx].nunique()), "tower-months": int(idx.size),
                     "r2": m["r2"], "rmse": m["rmse"], "bias": m["bias"]})
    return pd.DataFrame(rows)


def global_series(annual: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """Global totals [PgC yr-1] (dims year[, member]) of an annual flux density [gC m-2 yr-1]."""
    from .core import global_total

    return global_total(annual.assign_attrs(units="gC m-2 yr-1"), area)


def method_table(series: dict, truths: dict | None = None, study: dict | None = None) -> pd.DataFrame:
    """Global ER by method: mean over years [PgC yr-1], SD of the annual values, SD over ensemble members,
    and where given the twin's truth for the same definition (error in %) and the study's value.

    ``series[method]`` is a (year[, member]) DataArray of global totals; ``truths[method]`` a (year) one.
    """
    rows = []
    for m, s in series.items():
        mean_over_members = s.mean("member") if "member" in s.dims else s
        row = {"method": m, "global ER": float(mean_over_members.mean()),
               "SD of annual values": float(mean_over_members.std(ddof=1)),
               "SD over members": float(s.mean("year").std(ddof=1)) if "member" in s.dims and s.sizes["member"] > 1 else np.nan}
        if truths and m in truths:
            t = float(truths[m].mean())
            row.update({"truth": t, "truth SD of annual values": float(truths[m].std(ddof=1)),
                        "error (%)": 100.0 * (row["global ER"] / t - 1.0)})
        if study and m in study:
            row.update({"Li et al. / FLUXCOM": study[m][0], "published SD": study[m][1]})
        rows.append(row)
    return pd.DataFrame(rows)


def dtrh_correction(nt_annual: xr.DataArray, cell_class: xr.DataArray, area: xr.DataArray, ratios: pd.DataFrame, *,
                    n_boot: int = 200, seed: int = 0):
    """DT-RH ER from the NT field and the towers' DT-RH/NT ratios (:mod:`.methods`).

    Returns ``(dtrh_annual, difference)``: the DT-RH annual field (same dims as ``nt_annual``) from the
    ratio model fitted to all towers, and the DT-RH − NT global difference [PgC yr-1] with its bootstrap SD
    over the towers (:func:`landcarbon.upscaling.dtrh_difference`) — the uncertainty adds the spread over
    the NT ensemble members in quadrature when ``nt_annual`` has a ``member`` dimension.
    """
    from .methods import apply_ratio, bootstrap_ratio_models, dtrh_difference, fit_ratio_model

    model = fit_ratio_model(ratios)
    dtrh = apply_ratio(nt_annual, cell_class, model)
    mean_nt = nt_annual.mean(["year"] + (["member"] if "member" in nt_annual.dims else []))
    w = (mean_nt * area / G_PER_PG).fillna(0.0)
    total = float(w.sum())
    diff = dtrh_difference(total, w, cell_class, bootstrap_ratio_models(ratios, n_boot=n_boot, seed=seed))
    if "member" in nt_annual.dims and nt_annual.sizes["member"] > 1:
        per_member = ((nt_annual.mean("year") * area / G_PER_PG)
                      * (xr.DataArray(model.predict(cell_class.values), dims=cell_class.dims, coords=cell_class.coords) - 1.0)
                      ).sum(("lat", "lon"))
        diff["sd_members"] = float(per_member.std(ddof=1))
        diff["sd"] = float(np.hypot(diff["sd"], diff["sd_members"]))
    diff["nt_total"] = total
    diff["n_towers"] = model.n_sites
    diff["model"] = model
    return dtrh, diff


def _band_bias_and_rmse(est: xr.DataArray, truth: xr.DataArray, area: xr.DataArray) -> dict:
    land = est.notnull() & truth.notnull()
    w = area.where(land)
    err = (est - truth).where(land)
    trop = np.abs(est["lat"]) <= TROPICAL_BAND_DEG
    return {"tropical bias": float((err * w).where(trop).sum() / w.where(trop).sum()),
            "tropical truth": float((truth * w).where(trop & land).sum() / w.where(trop).sum()),
            "global RMSE": float(np.sqrt((err**2 * w).sum() / w.sum())),
            "global NEP": float((est * w).sum() / G_PER_PG), "global NEP truth": float((truth * w).sum() / G_PER_PG)}


def nep_truth_experiment(table: pd.DataFrame, features, grid_features: xr.Dataset, area: xr.DataArray,
                         truth_annual: xr.DataArray, *, target: str = "NEP", n_members: int = 2, seed: int = 0,
                         reference=None, aug_kw=None, **forest_kw) -> pd.DataFrame:
    """Upscale NEP without and with augmentation and compare each map with the twin's truth.

    Rows: ``none`` (plain forest), ``smote`` (SMOTE-for-regression of under-represented climate,
    :func:`landcarbon.upscaling.augment_table` with ``reference``), ``weights`` (density-ratio weights).
    Columns: bias in the tropical band (|lat| ≤ 23.5°, area-weighted mean of the annual-mean error,
    gC m-2 yr-1), the truth there, global RMSE of the annual-mean map [gC m-2 yr-1], global NEP and its truth
    [PgC yr-1], the change of the tropical |bias| and of the RMSE relative to ``none`` (%).
    """
    from .augment import augment_table, density_weights
    from .core import Ensemble, make_forest, upscale

    feats = list(features)
    X = table[feats].to_numpy(dtype=np.float32)
    y = table[target].to_numpy(dtype=float)
    rows = {}
    for method in ("none", "smote", "weights"):
        models = []
        for k in range(int(n_members)):
            rf = make_forest(seed + k, **forest_kw)
            if method == "smote":
                a = augment_table(table, feats, target, seed=seed + k, reference=reference, **(aug_kw or {}))
                rf.fit(a[feats].to_numpy(dtype=np.float32), a[target].to_numpy(dtype=float))
            elif method == "weights":
                w = density_weights(table[list((aug_kw or {}).get("climate", ("TA", "SW_IN", "VPD", "P", "MAT")))]
                                    .to_numpy(dtype=float), reference=reference)
                rf.fit(X, y, sample_weight=w)
            else:
                rf.fit(X, y)
            models.append(rf)
        _, ann = upscale(Ensemble(models=models, features=feats, target=target, sites=[]), grid_features)
        rows[method] = _band_bias_and_rmse(ann.mean(("year", "member")), truth_annual, area)
    df = pd.DataFrame(rows).T
    df["tropical |bias| change (%)"] = 100.0 * (df["tropical bias"].abs() / abs(df.loc["none", "tropical bias"]) - 1.0)
    df["RMSE change (%)"] = 100.0 * (df["global RMSE"] / df.loc["none", "global RMSE"] - 1.0)
    df.index.name = "augmentation"
    return df


def nep_holdout_bias(table: pd.DataFrame, features, *, target: str = "NEP", n_splits: int = 5, seed: int = 0,
                     reference=None, aug_kw=None, **forest_kw) -> pd.DataFrame:
    """Real towers: leave-sites-out CV of NEP without and with augmentation (inside the training folds only,
    leak-checked); bias and RMSE of the held-out monthly NEP [gC m-2 d-1] of tropical towers (climate zone
    "tropical") and of all towers."""
    from .augment import cv_augmented
    from .core import regression_metrics

    if "climate_zone" not in table:
        raise DataError(located("table lacks climate_zone", where="nep_holdout_bias"))
    trop = (table["climate_zone"] == "tropical").to_numpy()
    y = table[target].to_numpy(dtype=float)
    rows = {}
    for method in (None, "smote", "weights"):
        kw = dict(aug_kw or {})
        if reference is not None:
            kw["reference"] = reference
        if method == "weights":
            kw = {"climate": kw.get("climate", ("TA", "SW_IN", "VPD", "P", "MAT")), "reference": reference}
        oof, _ = cv_augmented(table, features, target, method=method, n_splits=n_splits, seed=seed, aug_kw=kw, **forest_kw)
        mt = regression_metrics(y[trop], oof[trop])
        ma = regression_metrics(y, oof)
        rows[method or "none"] = {"tropical towers": int(table.loc[trop, "site"].nunique()),
                                  "tropical bias": mt["bias"], "tropical RMSE": mt["rmse"],
                                  "all-tower bias": ma["bias"], "all-tower RMSE": ma["rmse"], "all-tower R²": ma["r2"]}
    df = pd.DataFrame(rows).T
    df.index.name = "augmentation"
    return df


def tower_skill(sites, *, targets=("RECO_NT", "RECO_DT"), drivers: str = "site", qc_min: float = 0.5,
                n_splits: int = 5, seed: int = 0, extra=(), cv_targets=None, **forest_kw):
    """The tower table (:func:`landcarbon.upscaling.site_feature_table`) and a leave-sites-out CV in the
    study's units for each of ``cv_targets`` (default: all targets). Returns ``(table, {target: CVResult})``."""
    from .features import FEATURES, site_feature_table

    table = site_feature_table(sites, targets=list(targets), drivers=drivers, qc_min=qc_min, extra=extra)
    cvs = {t: cv_in_study_units(table, FEATURES, t, n_splits=n_splits, seed=seed, **forest_kw)
           for t in (targets if cv_targets is None else cv_targets)}
    return table, cvs


def upscale_targets(table: pd.DataFrame, grid_features: xr.Dataset, targets, *, n_members: int = 3, seed: int = 0,
                    monthly: bool = False, **forest_kw) -> dict:
    """Fit an ensemble (bootstrap over towers) per target and predict the grid: {target: annual flux
    (year, lat, lon, member) [gC m-2 yr-1]}; with ``monthly`` also ``{target + "_monthly": ensemble-mean
    monthly flux (time, lat, lon) [gC m-2 d-1]}``."""
    from .core import fit_ensemble, upscale
    from .features import FEATURES

    out = {}
    for t in targets:
        rows = table[np.isfinite(table[t])]
        ens = fit_ensemble(rows, FEATURES, t, n_members=n_members, seed=seed, **forest_kw)
        mon, out[t] = upscale(ens, grid_features)
        if monthly:
            out[t + "_monthly"] = mon
    return out


#: The precipitation features of :data:`landcarbon.upscaling.features.FEATURES` (dropped by :func:`trend_ablation`).
PRECIP_FEATURES = ("P", "P_lag1", "P_3m", "P_anom")


def trend_ablation(table: pd.DataFrame, grid_features: xr.Dataset, area: xr.DataArray, target: str = "RECO_NT", *,
                   drop=PRECIP_FEATURES, n_members: int = 3, seed: int = 0, **forest_kw) -> xr.DataArray:
    """Global annual series [PgC yr-1] (year) of the ensemble-mean forest fitted without the features ``drop``.

    A diagnosis of a spurious upscaled trend (our formulation): a forest learns its relations *across*
    towers, so a driver that differs between places and also drifts in time is read as if the drift
    were a move to another place (space-for-time substitution). If dropping that driver removes most of
    the upscaled trend, the trend came through it.
    """
    from .core import fit_ensemble, upscale
    from .features import FEATURES

    feats = [f for f in FEATURES if f not in set(drop)]
    rows = table[np.isfinite(table[target])]
    ens = fit_ensemble(rows, feats, target, n_members=n_members, seed=seed, **forest_kw)
    _, annual = upscale(ens, grid_features)
    return global_series(annual.mean("member") if "member" in annual.dims else annual, area)


def land_mean_annual(monthly: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """Area-weighted mean over the land cells (finite values) of a monthly field, averaged per year (year)."""
    w = area.where(monthly.isel(time=0).notnull(), 0.0).fillna(0.0)
    return monthly.weighted(w).mean(("lat", "lon")).groupby("time.year").mean()


def relative_trend(series: xr.DataArray) -> float:
    """Theil–Sen slope of an annual series divided by its mean [% yr-1]."""
    from ..trends import mk_test

    v = np.asarray(series.values, dtype=float)
    return float(100.0 * mk_test(v)["slope"] / v.mean())


def trend_diagnosis_markdown(truth_trend: float, upscaled_trend: float, ablated_trend: float,
                             precip_trend_pct: float, swc_trend_pct: float) -> str:
    """The chapter's paragraph on where the upscaled trend comes from, worded from the numbers [PgC yr-2,
    % yr-1]."""
    share = 1.0 - (ablated_trend - truth_trend) / (upscaled_trend - truth_trend) if upscaled_trend != truth_trend else 0.0
    verdict = ("most of the difference from the truth goes with the precipitation features" if share >= 0.5 else
               "the precipitation features explain less than half of the difference from the truth")
    if precip_trend_pct > 0 > swc_trend_pct and truth_trend < 0 and share < 0.5:
        mechanism = ("Rain rises while the soils dry, but the precipitation features carry only part of the error "
                     "in this configuration; the rest goes through features not tested here.")
    elif precip_trend_pct > 0 > swc_trend_pct and truth_trend < 0:
        mechanism = ("Across towers, wetter places respire more, so a forest that sees rising rain predicts rising "
                     "respiration; the truth's decline comes from soils that dry despite the rain, a driver the "
                     "forests are not given. Space-for-time substitution of this kind is one way an upscaled "
                     "product gets a trend its towers never measured.")
    else:
        mechanism = "Rain and soil water do not drift apart here, so this is not the channel of the trend error."

    def sg(x, nd=3):
        return f"{x:+.{nd}f}".replace("-", "\u2212")

    return (f"**Where the upscaled trend comes from.** The same forests without the precipitation features "
            f"give a trend of {sg(ablated_trend)} PgC yr⁻² instead of {sg(upscaled_trend)} (truth "
            f"{sg(truth_trend)}): {verdict} ({100 * share:.0f} %). In the twin, precipitation changes by "
            f"{sg(precip_trend_pct, 2)} % yr⁻¹ while soil water changes by {sg(swc_trend_pct, 2)} % yr⁻¹ "
            "(land mean). " + mechanism)


def truth_summary(series: xr.DataArray) -> dict:
    """Mean, SD of the annual values, Theil–Sen trend with its 95 % interval, and the p-values of the
    original, Hamed–Rao and trend-free pre-whitening Mann–Kendall tests of a global annual series
    [PgC yr-1] — the numbers the twin was tuned to."""
    from ..trends import mk_test

    v = np.asarray(series.values, dtype=float)
    r = mk_test(v)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "trend": float(r["slope"]),
            "trend_low": float(r["slope_low"]), "trend_high": float(r["slope_high"]), "p_original": float(r["p"]),
            "p_hamed_rao": float(mk_test(v, "hamed_rao")["p"]), "p_tfpw": float(mk_test(v, "tfpw")["p"]),
            "lag1": float(np.corrcoef(v[:-1] - np.polyval(np.polyfit(np.arange(v.size), v, 1), np.arange(v.size))[:-1],
                                      v[1:] - np.polyval(np.polyfit(np.arange(v.size), v, 1), np.arange(v.size))[1:])[0, 1])}


def chapter_indicators(*, cvs: dict, twin_cv, methods: pd.DataFrame, series: dict, difference: dict,
                       true_difference: float, truth: dict, truth_series: xr.DataArray, real_series: dict | None, real_difference: dict | None,
                       nep_twin: pd.DataFrame, nep_real: pd.DataFrame | None, n_sites: int, sources: dict) -> dict:
    """The indicators of the upscaling chapter (values, 1σ, units, descriptions, and the data source of
    each number: ``sources`` maps "towers", "twin" and "mixed" to source strings)."""
    from ..publish.reporting import Indicator

    m = methods.set_index("method")
    ind = {}
    for meth, key in (("NT", "global_er"), ("DT", "global_er_dt"), ("DT-RH", "global_er_dtrh")):
        sd = float(series[meth].mean("year").std(ddof=1)) if "member" in series[meth].dims else None
        ind[key] = Indicator(m.loc[meth, "global ER"], "PgC yr-1", f"global ER 1989-2018, {meth} definition, upscaled "
                             "from the twin's towers (sigma = ensemble SD)", sd, source=sources["twin"])
        ind[key + "_true"] = Indicator(m.loc[meth, "truth"], "PgC yr-1", f"true global ER of the twin, {meth} definition",
                                       source=sources["twin"])
        ind[key + "_error"] = Indicator(m.loc[meth, "error (%)"], "%", f"upscaling error of the {meth} global ER against "
                                        "the twin's truth", source=sources["twin"])
    from ..trends import mk_test

    for key, s_, what in (("global_er_trend_upscaled", series["NT"].mean("member") if "member" in series["NT"].dims
                           else series["NT"], "upscaled from the twin's towers"),
                          ("global_er_trend_true", None, "true")):
        r = mk_test(np.asarray((s_ if s_ is not None else truth_series).values, dtype=float), "hamed_rao")
        ind[key] = Indicator(float(r["slope"]), "PgC yr-2", f"Theil-Sen trend 1989-2018 of the twin's global ER (NT), {what} "
                             "(sigma = half-width of the 95 % interval / 1.96)",
                             (float(r["slope_high"]) - float(r["slope_low"])) / 3.92, source=sources["twin"])
        ind[key + "_p"] = Indicator(float(r["p"]), "1", f"Hamed-Rao Mann-Kendall p-value of that trend ({what})",
                                    source=sources["twin"])
    ind["dtrh_nt_difference"] = Indicator(difference["difference"], "PgC yr-1", "DT-RH minus NT global ER on the twin "
                                          "(sigma: bootstrap over the ratio towers and ensemble members)", difference["sd"],
                                          source=sources["twin"])
    ind["dtrh_nt_difference_true"] = Indicator(true_difference, "PgC yr-1", "true DT-RH minus NT global ER of the twin",
                                               source=sources["twin"])
    ind["twin_er_sd_annual"] = Indicator(truth["sd"], "PgC yr-1", "SD of the twin's true annual global ER (NT), 1989-2018",
                                         source=sources["twin"])
    ind["twin_er_trend"] = Indicator(truth["trend"], "PgC yr-2", "Theil-Sen trend of the twin's true global ER (NT)",
                                     (truth["trend_high"] - truth["trend_low"]) / 3.92, source=sources["twin"])
    ind["twin_er_trend_p_hamed_rao"] = Indicator(truth["p_hamed_rao"], "1", "Hamed-Rao Mann-Kendall p-value of that trend",
                                                 source=sources["twin"])
    for t, suffix in (("RECO_NT", ""), ("RECO_DT", "_dt")):
        if t in cvs:
            cv = cvs[t]
            for k, u in (("r2", "1"), ("rmse", "gC m-2 month-1"), ("mae", "gC m-2 month-1"), ("rmsle", "1")):
                ind[f"cv_{k}_test{suffix}"] = Indicator(cv.test[k], u, f"{k.upper()} of monthly {t} at towers left out "
                                                        "(leave-sites-out CV)", source=sources["towers"])
            ind[f"cv_r2_train{suffix}"] = Indicator(cv.train["r2"], "1", f"R2 of monthly {t} on the training folds",
                                                    source=sources["towers"])
    ind["cv_r2_test_twin"] = Indicator(twin_cv.test["r2"], "1", "R2 of monthly ER at left-out towers of the twin",
                                       source=sources["twin"])
    ind["n_sites"] = Indicator(n_sites, "1", "flux towers used for the skill", source=sources["towers"])
    if real_series:
        for t, key in (("RECO_NT", "global_er_real_towers"), ("RECO_DT", "global_er_dt_real_towers")):
            s = real_series[t]
            ind[key] = Indicator(float(s.mean()), "PgC yr-1", f"global ER ({t[5:]}) of the forest trained on the real towers, "
                                 "applied to the twin's climate grids", float(s.mean("year").std(ddof=1)), source=sources["mixed"])
    if real_difference:
        ind["dtrh_nt_difference_real"] = Indicator(real_difference["difference"], "PgC yr-1", "DT-RH minus NT global ER: "
                                                   "real towers' DT-RH/NT ratios on the real-tower NT field over the twin's climate",
                                                   real_difference["sd"], source=sources["mixed"])
    for aug in ("none", "smote", "weights"):
        ind[f"nep_tropical_bias_{aug}"] = Indicator(nep_twin.loc[aug, "tropical bias"], "gC m-2 yr-1",
                                                    f"twin: bias of upscaled NEP in the tropical band ({aug})", source=sources["twin"])
    ind["nep_rmse_change_smote"] = Indicator(nep_twin.loc["smote", "RMSE change (%)"], "%", "twin: change of the global "
                                             "NEP RMSE with SMOTE augmentation", source=sources["twin"])
    if nep_real is not None:
        for aug in ("none", "smote"):
            ind[f"nep_tropical_holdout_bias_{aug}"] = Indicator(nep_real.loc[aug, "tropical bias"], "gC m-2 d-1",
                                                                f"real towers: bias of held-out monthly NEP at tropical towers ({aug})",
                                                                source=sources["towers"])
    return ind


def class_names(pft: xr.DataArray) -> xr.DataArray:
    """IGBP class name of every cell of an integer PFT map ("" where the code is negative)."""
    names = np.array(str(pft.attrs.get("flag_meanings", " ".join(_IGBP))).split())
    code = pft.values.astype(int)
    return pft.copy(data=np.where(code >= 0, names[np.clip(code, 0, names.size - 1)], ""))


_IGBP = ("ENF", "EBF", "DBF", "MF", "CSH", "OSH", "WSA", "SAV", "GRA", "CRO", "WET")

#: indicators that exist only when the towers are real (the chapter glues a notice instead)
REAL_ONLY_INDICATORS = ("global_er_real_towers", "global_er_dt_real_towers", "dtrh_nt_difference_real",
                        "nep_tropical_holdout_bias_none", "nep_tropical_holdout_bias_smote")
