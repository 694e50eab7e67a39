"""Bookkeeping of the flux-partitioning chapter (notebook 01): comparisons, claims worded by their tests,
the indicators of the report and the result files. No algorithm lives here; it assembles what the
methods, :mod:`landcarbon.flux.metrics` and :mod:`landcarbon.flux.towers` compute, so that the
chapter's cells stay a few lines each.

Fluxes: annual sums in gC m-2 yr-1, NEE > 0 = release, NEE = RECO − GPP.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["REDDYPROC_BARS", "reddyproc_comparison", "twin_claims", "claim_sentence", "day_night_ratio_curve",
           "li2022_sentence", "findings", "indicators", "write_results"]

#: REddyProc 1.3.3 on DE-Tha 1998 (u* threshold, annual sums) and the relative bars [%] of issue 11
REDDYPROC_BARS = {("u*", "threshold"): (0.416, 10.0), ("NEE", "annual"): (-612.457, 5.0),
                  ("NT", "GPP"): (1918.0, 5.0), ("NT", "RECO"): (1305.6, 5.0),
                  ("DT", "GPP"): (1795.5, 7.0), ("DT", "RECO"): (1191.2, 7.0)}


def reddyproc_comparison(detha, ref) -> pd.DataFrame:
    """DE-Tha 1998 of this package (a :class:`~landcarbon.flux.batch.SiteYearResult` of the whole chain)
    against REddyProc's outputs (``de-tha-1998-reddyproc``): one row per quantity with both values, the
    difference [%], the bar [%], whether it is met, and the half-hourly R² for the fluxes."""
    from ._common import flux_sum

    ds = detha.dataset
    rows = [{"quantity": "u* threshold", "units": "m s-1", "this package": float(ds.attrs["ustar_threshold"]),
             "REddyProc": REDDYPROC_BARS[("u*", "threshold")][0], "bar": REDDYPROC_BARS[("u*", "threshold")][1],
             "R2": np.nan},
            {"quantity": "NEE (gap-filled)", "units": "gC m-2 yr-1", "this package": float(flux_sum(ds.NEE_f)),
             "REddyProc": float(flux_sum(ref.NEE_f)), "bar": REDDYPROC_BARS[("NEE", "annual")][1], "R2": np.nan}]
    cols = {"NT": ("GPP_f", "Reco"), "DT": ("GPP_DT", "Reco_DT")}
    for m, (g, r) in cols.items():
        for flux, col, est in (("GPP", g, detha.results[m].gpp), ("RECO", r, detha.results[m].reco)):
            a, b = est.values, ref[col].values
            ok = np.isfinite(a) & np.isfinite(b)
            rows.append({"quantity": f"{flux} ({m})", "units": "gC m-2 yr-1", "this package": float(flux_sum(est)),
                         "REddyProc": float(flux_sum(ref[col])), "bar": REDDYPROC_BARS[(m, flux)][1],
                         "R2": float(np.corrcoef(a[ok], b[ok])[0, 1] ** 2)})
    tab = pd.DataFrame(rows)
    tab["difference"] = 100.0 * (tab["this package"] / tab["REddyProc"] - 1.0)
    tab["within bar"] = np.where(tab.difference.abs() <= tab.bar, "yes", "no")
    return tab


def twin_claims(errors: pd.DataFrame) -> dict:
    """The chapter's comparative statements on the twin, each with its test across realisations.

    * ``s1_day_reco``: DT-RH vs DT, mean |monthly day-time RECO bias|, scenario S1 (paired t-test);
    * ``s1_day_reco_nt``: the same against NT;
    * ``s3_day_reco``: DT-RH vs DT in S3 (humidity effect);
    * ``s0_no_worse``: DT-RH vs DT in S0 (symmetric truth: the extension should not hurt);
    * ``s1_gpp``: |annual GPP error| of DT-RH vs DT in S1;
    * ``r_recovery``: growing-season E0,D/E0,N of DT-RH against the S1 truth (0.5; interval test).
    """
    from .metrics import paired_comparison, recovery_test

    e = errors.copy()
    e["GPP_annual_abs_err_pct"] = e["GPP_annual_err_pct"].abs()
    have = set(e.scenario)
    out = {}
    specs = {"s1_day_reco": ("RECO_day_bias_monthly_abs", "DT-RH", "DT", "S1"),
             "s1_day_reco_nt": ("RECO_day_bias_monthly_abs", "DT-RH", "NT", "S1"),
             "s3_day_reco": ("RECO_day_bias_monthly_abs", "DT-RH", "DT", "S3"),
             "s0_no_worse": ("RECO_day_bias_monthly_abs", "DT-RH", "DT", "S0"),
             "s1_gpp": ("GPP_annual_abs_err_pct", "DT-RH", "DT", "S1")}
    for k, (metric, a, b, sc) in specs.items():
        if sc in have:
            out[k] = paired_comparison(e, metric, a, b, sc)
    s1 = e[(e.scenario == "S1") & (e.method == "DT-RH")]
    if len(s1) and "r_growing_season" in s1:
        out["r_recovery"] = recovery_test(s1.r_growing_season, float(s1.r_true.iloc[0]))
    return out


def claim_sentence(c: dict, what: str) -> str:
    """One sentence worded by the test: the verdict, the two means, the difference with its interval and p."""
    if "verdict" not in c:
        return ""
    if "a" in c:
        lo, hi = c["ci"]
        verb = {"smaller": "is smaller than", "larger": "is larger than",
                "not distinguishable": "is not distinguishable from"}[c["verdict"]]
        return (f"{what}: {c['a']} ({c['mean_a']:.3g}) {verb} {c['b']} ({c['mean_b']:.3g}); paired difference "
                f"{c['mean_diff']:.3g} (95 % interval {lo:.3g} to {hi:.3g}, p = {c['p_value']:.2g}, "
                f"{c['n']} realisations).")
    lo, hi = c["ci"]
    verb = {"recovers": "recovers", "biased": "does not recover (biased)",
            "undetermined": "is too uncertain to say whether it recovers"}[c["verdict"]]
    return (f"{what}: DT-RH {verb} the truth {c['truth']:.3g} — mean {c['mean']:.3g}, 95 % interval "
            f"{lo:.3g} to {hi:.3g} ({c['n']} realisations).")


def day_night_ratio_curve(example, *, bins=None) -> pd.DataFrame:
    """Mean day/night respiration ratio at equal temperature per 2 °C bin of day-time air temperature:
    the truth of an S1 twin year and DT-RH's fit (``DAY_NIGHT_RATIO``) on the same year."""
    from .respiration import day_night_ratio

    ds = example.dataset
    r = example.results["DT-RH"]
    ta = ds["TA_f"].values if "TA_f" in ds else ds["TA"].values
    day = (ds["SW_IN_POT"].values >= 50) & np.isfinite(ta)
    t_anchor = r.extra["T_ANCHOR"].values
    truth = day_night_ratio(ta, t_anchor, ds.attrs["truth_E0_night"], ds.attrs["truth_E0_day"])
    fit = r.extra["DAY_NIGHT_RATIO"].values
    bins = np.arange(-10, 36, 2.0) if bins is None else bins
    idx = np.digitize(ta[day], bins)
    rows = []
    for k in np.unique(idx):
        sel = idx == k
        if sel.sum() < 30 or k == 0 or k == len(bins):
            continue
        rows.append({"temperature": 0.5 * (bins[k - 1] + bins[k]), "truth": float(np.mean(truth[day][sel])),
                     "DT-RH": float(np.mean(fit[day][sel])), "records": int(sel.sum())})
    return pd.DataFrame(rows)


def li2022_sentence(v: dict, base: str) -> str:
    """The verdict on Li et al.'s "daytime ER of DT-RH 16–37 % below NT/DT", worded by the numbers."""
    lo, hi = v["range"]
    if not v["n_sites"]:
        return f"No tower site-year was eligible, so nothing can be said about the DT-RH/{base} ratio."
    ci = v["ci"]
    verb = {"supports": "supports", "contradicts": "does not support",
            "inconclusive": "neither supports nor rules out"}[v["verdict"]]
    return (f"Across {v['n_sites']} towers the median daytime ER ratio DT-RH/{base} is {v['median']:.3g} "
            f"(95 % interval of the median {ci[0]:.3g} to {ci[1]:.3g}); Li et al.'s range corresponds to "
            f"{lo:.2f}–{hi:.2f}. The tower evidence **{verb}** that range; {100 * v['share_overlapping']:.0f} % of the "
            f"sites overlap it within 2 SD.")


def findings(*, claims: dict, coverage: dict | None = None, detha: pd.DataFrame | None = None,
             towers: dict | None = None, li: dict | None = None) -> str:
    """The chapter's conclusions as Markdown bullets, each worded by the test or number behind it."""
    lines = []
    c = claims.get("s1_day_reco")
    if c:
        word = {"smaller": "smaller than", "larger": "larger than", "not distinguishable": "not distinguishable from"}
        lines.append(f"On the digital twin with asymmetric day/night sensitivity (S1), DT-RH's day-time respiration "
                     f"error is {word[c['verdict']]} DT's (paired test over {c['n']} realisations, p = {c['p_value']:.2g}).")
    r = claims.get("r_recovery")
    if r:
        verb = {"recovers": "recovers", "biased": "misses", "undetermined": "cannot yet pin down"}[r["verdict"]]
        lines.append(f"DT-RH {verb} the true E0,D/E0,N = {r['truth']:.2g} of S1 (mean {r['mean']:.2g}, 95 % interval "
                     f"{r['ci'][0]:.2g}–{r['ci'][1]:.2g}).")
    if coverage and coverage.get("n"):
        lines.append(f"The ±1σ interval of DT-RH's annual GPP held the truth in {100 * coverage['coverage']:.0f} % of "
                     f"{coverage['n']} twin years of the scenarios inside its model (S0, S1; 68 % expected).")
    if detha is not None:
        ok = (detha["within bar"] == "yes").sum()
        lines.append(f"On DE-Tha 1998, {ok} of {len(detha)} numbers are within the bars against REddyProc 1.3.3.")
    if towers:
        met = {True: "meets", False: "misses"}
        lines.append(f"On {towers['n_eligible']} tower site-years, median |NT − ONEFlux| is {towers['median_abs_d_nt']:.2g} % "
                     f"({met[towers['bar_nt_met']]} the 5 % bar), median |DT − ONEFlux| {towers['median_abs_d_dt']:.2g} % "
                     f"({met[towers['bar_dt_met']]} the 8 % bar), median daily r {min(towers['median_r_daily_nt'], towers['median_r_daily_dt']):.3f} "
                     f"or more ({met[towers['bar_r_met']]} the 0.95 bar).")
    if li:
        for base, v in li.items():
            if v.get("n_sites"):
                word = {"supports": "support", "contradicts": "do not support", "inconclusive": "neither support nor rule out"}
                lines.append(f"The towers {word[v['verdict']]} Li et al.'s daytime ER of DT-RH 16–37 % below {base}: "
                             f"median ratio {v['median']:.3g} (95 % interval {v['ci'][0]:.3g}–{v['ci'][1]:.3g}, "
                             f"{v['n_sites']} towers).")
    return "\n".join(f"- {x}" for x in lines)


def _ind(value, units, description, sigma=None, source=None):
    from ..publish.reporting import Indicator

    return Indicator(float(value), units, description, None if sigma is None or not np.isfinite(sigma) else float(sigma),
                     source=source)


def indicators(*, summary: pd.DataFrame, claims: dict, twin_source: str, detha: pd.DataFrame | None = None,
               detha_source: str | None = None, towers: dict | None = None, li: dict | None = None,
               towers_source: str | None = None, coverage: dict | None = None, example=None) -> dict:
    """The chapter's indicators (value, σ, units, description, source) for ``write_summary``.

    ``example`` (a twin :class:`~landcarbon.flux.batch.SiteYearResult`) gives the one-year DT-RH numbers
    the front page shows next to their truth (``gpp_annual_dtrh``/``gpp_annual_true``, ``reco_annual_*``).
    """
    from ._common import flux_sum

    ind = {}
    for (sc, m), row in summary.iterrows():
        if sc != "S1":
            continue
        tag = m.lower().replace("-", "")
        ind[f"twin_s1_gpp_err_{tag}"] = _ind(row.GPP_annual_err_pct, "%", f"annual GPP error of {m} vs truth, S1 twin "
                                             "(mean over realisations)", row.get("GPP_annual_err_pct_sd"), twin_source)
        ind[f"twin_s1_day_reco_{tag}"] = _ind(row.RECO_day_bias_monthly_abs, "umol m-2 s-1",
                                              f"mean |monthly day-time RECO bias| of {m}, S1 twin",
                                              row.get("RECO_day_bias_monthly_abs_sd"), twin_source)
    metric_units = {"RECO_day_bias_monthly_abs": "umol m-2 s-1", "GPP_annual_abs_err_pct": "%"}
    for k, c in claims.items():
        if "p_value" in c and np.isfinite(c["p_value"]):
            ind[f"twin_{k}_diff"] = _ind(c["mean_diff"], metric_units.get(c["metric"], "1"),
                                         f"paired difference {c['a']} − {c['b']} ({c['metric']}, {c['scenario']}, "
                                         f"p = {c['p_value']:.2g}, n = {c['n']})", None, twin_source)
    if "r_recovery" in claims and np.isfinite(claims["r_recovery"]["mean"]):
        c = claims["r_recovery"]
        ind["twin_s1_e0_ratio"] = _ind(c["mean"], "1", f"DT-RH growing-season E0,D/E0,N on S1 (truth {c['truth']:g}; "
                                       f"{c['verdict']})", None, twin_source)
    if coverage and coverage.get("n"):
        ind["twin_gpp_sd_coverage"] = _ind(100 * coverage["coverage"], "%", f"share of twin years (S0, S1) whose ±1σ "
                                           f"annual GPP interval (DT-RH) contains the truth (n = {coverage['n']})", None,
                                           twin_source)
    if example is not None and "DT-RH" in example.results:
        ds, res = example.dataset, example.results["DT-RH"]
        sd = res.info.get("annual_sd", {})
        for flux, v in (("GPP", res.gpp), ("RECO", res.reco)):
            ind[f"{flux.lower()}_annual_dtrh"] = _ind(flux_sum(v), "gC m-2 yr-1", f"annual {flux} of one twin year "
                                                      f"({ds.attrs.get('scenario')}), DT-RH", sd.get(flux), twin_source)
            ind[f"{flux.lower()}_annual_true"] = _ind(flux_sum(ds[f"{flux}_true"]), "gC m-2 yr-1",
                                                      f"true annual {flux} of that twin year", None, twin_source)
    if detha is not None:
        names = {"u* threshold": "detha_ustar", "NEE (gap-filled)": "detha_nee", "GPP (NT)": "detha_nt_gpp",
                 "RECO (NT)": "detha_nt_reco", "GPP (DT)": "detha_dt_gpp", "RECO (DT)": "detha_dt_reco"}
        for _, r in detha.iterrows():
            ind[names[r.quantity]] = _ind(r["this package"], r.units, f"DE-Tha 1998 {r.quantity}; REddyProc "
                                          f"{r.REddyProc:.4g}", None, detha_source)
    if towers:
        ind["towers_site_years"] = _ind(towers["n_eligible"], "1", f"tower site-years in the ONEFlux validation "
                                        f"(of {towers['n_site_years']})", None, towers_source)
        ind["towers_median_abs_d_nt"] = _ind(towers["median_abs_d_nt"], "%", "median |annual NT GPP − ONEFlux GPP_NT|",
                                             None, towers_source)
        ind["towers_median_abs_d_dt"] = _ind(towers["median_abs_d_dt"], "%", "median |annual DT GPP − ONEFlux GPP_DT|",
                                             None, towers_source)
        ind["towers_median_r_nt"] = _ind(towers["median_r_daily_nt"], "1", "median daily r, NT vs ONEFlux", None,
                                         towers_source)
        ind["towers_median_r_dt"] = _ind(towers["median_r_daily_dt"], "1", "median daily r, DT vs ONEFlux", None,
                                         towers_source)
    if li and li.get("n_sites"):
        half = (li["ci"][1] - li["ci"][0]) / 2 / 1.96
        ind["dtrh_nt_daytime_ratio"] = _ind(li["median"], "1", f"median over {li['n_sites']} towers of daytime ER "
                                            f"DT-RH/NT (Li et al. 2022: 0.63–0.84; {li['verdict']})", half, towers_source)
    return ind


def write_results(out: Path, **tables) -> list[Path]:
    """Write each DataFrame as ``<name>.csv`` (atomically) into ``out``; returns the paths."""
    from ..publish.atomic import atomic_path

    paths = []
    for name, df in tables.items():
        if df is None:
            continue
        p = Path(out) / f"{name}.csv"
        with atomic_path(p) as tmp:
            df.to_csv(tmp, index=False)
        paths.append(p)
    return paths
