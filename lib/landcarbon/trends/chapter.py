"""Helpers of the trends chapter: its figures (DEMO mark on synthetic data) and its indicators."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..plotting import METHOD_COLOURS, OKABE_ITO, mark_demo

__all__ = ["size_table", "plot_site_trends", "plot_zone_totals", "partial_trend_table", "chapter_indicators"]

ZONE_COLOURS = {"boreal": OKABE_ITO[5], "temperate": OKABE_ITO[3], "tropical": OKABE_ITO[6]}


def size_table(n_sim: int = 2000, *, n_years: int = 30, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Empirical size of the seasonal and the correlated seasonal Mann–Kendall tests under trend-free monthly
    noise: independent months, monthly AR(1) with φ = 0.3, 0.5, 0.7, and an exchangeable within-year
    correlation of 0.6 (:func:`landcarbon.trends.simulation.seasonal_noise`). Monte-Carlo SE √(α(1−α)/n)."""
    from .simulation import empirical_size, seasonal_noise

    cases = [("independent months", 0.0, 0.0), ("AR(1), φ = 0.3", 0.3, 0.0), ("AR(1), φ = 0.5", 0.5, 0.0),
             ("AR(1), φ = 0.7", 0.7, 0.0), ("same-year correlation 0.6", 0.0, 0.6)]
    rows = []
    for k, (label, phi, rho) in enumerate(cases):
        x = seasonal_noise(n_sim, n_years, phi=phi, within_year=rho, seed=seed + k)
        s = empirical_size(x, ["seasonal", "correlated_seasonal"], alpha=alpha, period=12)
        rows.append({"noise": label, "phi": phi, "within_year": rho, "seasonal": s["seasonal"],
                     "correlated seasonal": s["correlated_seasonal"]})
    out = pd.DataFrame(rows)
    out.attrs.update({"n_sim": int(n_sim), "alpha": alpha, "se": float(np.sqrt(alpha * (1 - alpha) / n_sim))})
    return out


def plot_site_trends(table: pd.DataFrame, *, demo: bool = False):
    """Seasonal Sen slope of each tested tower [% of its mean per decade] with its 95 % interval, ordered by
    slope; filled markers: significant after FDR control (correlated seasonal test)."""
    import matplotlib.pyplot as plt

    t = table.sort_values("slope_pct").reset_index(drop=True)
    mean = t["slope"] / (t["slope_pct"] / 1000.0)
    lo, hi = 1000.0 * t["slope_low"] / mean, 1000.0 * t["slope_high"] / mean
    fig, ax = plt.subplots(figsize=(9.0, 4.4), layout="constrained")
    for z, c in ZONE_COLOURS.items():
        sel = t["climate_zone"] == z
        idx = np.flatnonzero(sel.to_numpy())
        ax.vlines(idx, lo[sel], hi[sel], color=c, lw=1, alpha=0.7)
        sig = sel & t["significant_fdr"]
        ax.scatter(np.flatnonzero(sig.to_numpy()), t.loc[sig, "slope_pct"], color=c, s=26, zorder=3,
                   label=f"{z}: significant after FDR")
        ns = sel & ~t["significant_fdr"]
        ax.scatter(np.flatnonzero(ns.to_numpy()), t.loc[ns, "slope_pct"], facecolor="white", edgecolor=c, s=26, zorder=3,
                   label=f"{z}: not significant")
    ax.axhline(0, color="k", lw=0.7)
    ax.set_xlabel("towers with ≥ 10 complete years, ordered by trend")
    ax.set_ylabel("ER trend [% of mean per decade]")
    ax.set_title("Monthly ER trends at the towers (seasonal Sen slope, 95 % interval)")
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    ax.set_ylim(max(float(np.nanmin(lo)), -150), min(float(np.nanmax(hi)), 150))
    if demo:
        mark_demo(ax, loc="lower right")
    return fig


def plot_zone_totals(totals, table, years, *, totals_true=None, demo: bool = True):
    """Global and zonal annual ER totals [PgC yr-1] with their Theil–Sen lines; truth dashed."""
    import matplotlib.pyplot as plt

    from .mk import mk_test

    fig, axes = plt.subplots(2, 2, figsize=(8.5, 5.8), sharex=True, layout="constrained")
    t = np.arange(len(years))
    for ax, region in zip(axes.ravel(), totals["region"].values):
        row = table.loc[region]
        y = totals.sel(region=region).values
        ax.plot(years, y, color=METHOD_COLOURS["RF"], marker="o", ms=3, label="upscaled")
        q = mk_test(y)
        ax.plot(years, q["intercept"] + q["slope"] * t, color=METHOD_COLOURS["RF"], lw=1)
        if totals_true is not None:
            ax.plot(years, totals_true.sel(region=region), color=METHOD_COLOURS["truth"], ls="--", lw=1.2, label="truth")
        star = "*" if row["significant"] else ""
        ax.set_title(f"{region}: {row['trend']:+.3f} PgC yr$^{{-2}}${star}", fontsize=10)
        ax.set_ylabel("ER [PgC yr$^{-1}$]")
        if demo:
            mark_demo(ax, loc="lower left", fontsize=7.5)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    for ax in axes[1]:
        ax.set_xlabel("year")
    return fig


def partial_trend_table(series: dict, covariate, *, alpha: float = 0.05) -> pd.DataFrame:
    """Partial Mann–Kendall test (Libiseller & Grimvall 2002) of each global series given ``covariate``
    (e.g. land-mean temperature): is there a monotonic trend beyond what the covariate explains?"""
    from .mk import mk_test, multivariate_test

    rows = []
    for name, s in series.items():
        y = np.asarray(s, dtype=float)
        x = np.stack([y, np.asarray(covariate, dtype=float)], axis=-1)
        p = multivariate_test(x, "partial", alpha)
        o = mk_test(y, "original", alpha)
        rows.append({"series": name, "S": float(o["s"]), "p (original)": float(o["p"]), "partial S": float(p["s"]),
                     "rho": float(p["rho"]), "p (partial, given temperature)": float(p["p"])})
    return pd.DataFrame(rows)


#: Reader-facing names of the Mann–Kendall variants (keys: the ``method`` argument of the trend functions).
MK_TEST_NAMES = {"original": "original (independent years)", "hamed_rao": "Hamed–Rao variance correction",
                 "yue_wang": "Yue–Wang variance correction", "yue_wang_lag1": "Yue–Wang variance correction (lag 1)",
                 "pre_whitening": "pre-whitening",
                 "tfpw": "trend-free pre-whitening"}


#: Reader-facing names of the measures of :func:`landcarbon.trends.field.trend_agreement`.
AGREEMENT_LABELS = {
    "sign_agreement_truth_significant": "same sign where the truth is significant",
    "category_agreement_truth_significant": "same sign and verdict where the truth is significant (detection)",
    "category_agreement_union": "same sign and verdict where either map is significant",
    "precision": "truly significant with that sign, of the cells called significant (precision)",
    "share_significant_estimate": "area share significant, upscaled map",
    "share_significant_truth": "area share significant, true map",
    "slope_correlation": "correlation of upscaled and true slopes",
    "slope_regression": "regression slope, upscaled on true (1 = no damping)",
}


def agreement_table(estimate, truth, mask, *, weights=None) -> pd.DataFrame:
    """Agreement of an estimated trend map with the true one, at the local level and after FDR control
    (area-weighted when ``weights`` are given): index = measure key, column ``measure`` = its reader-facing
    name (:data:`AGREEMENT_LABELS`), then ``local (alpha)`` and ``after FDR``."""
    from .field import trend_agreement

    cols = {"measure": list(AGREEMENT_LABELS.values())}
    for label, flag in (("local (alpha)", "significant"), ("after FDR", "significant_fdr")):
        a = trend_agreement(estimate, truth, mask, significant=flag, weights=weights)
        cols[label] = [a[k] for k in AGREEMENT_LABELS]
    return pd.DataFrame(cols, index=list(AGREEMENT_LABELS))


def chapter_indicators(*, table, table_true, trend_test: str, alpha: float, alpha_global: float, years,
                       share_sig: float, share_sig_local: float, share_t: float, share_w: float, driver_table,
                       agreement, share_w_true, driver_truth_agreement, sites, size, partial, source: str,
                       site_source: str | None) -> dict:
    """Indicators of the trends chapter (value, 1σ, units, description, source)."""
    from ..publish.reporting import Indicator
    from .mk import critical_z

    z = critical_z(alpha)
    glob = table.loc["global"]
    test_name = MK_TEST_NAMES.get(trend_test, trend_test)
    ind = {
        "global_er_trend": Indicator(glob["trend"], "PgC yr-2", f"Theil-Sen trend of global annual ER {years[0]}-{years[-1]} "
                                     f"(sigma = half-width of the {100 * (1 - alpha):.0f}% CI / z)",
                                     (glob["trend_high"] - glob["trend_low"]) / (2 * z)),
        "global_er_trend_p": Indicator(glob["p"], "1", f"Mann-Kendall p-value of the global ER trend ({test_name} test, "
                                       "allows for autocorrelation)"),
        "global_er_mean": Indicator(glob["mean"], "PgC yr-1", "mean global annual ER of the upscaled product"),
        "share_significant": Indicator(share_sig, "1", "land-area share with an ER trend significant after "
                                       f"Benjamini-Hochberg FDR control (alpha_FDR = {2 * alpha_global:g})"),
        "share_significant_local": Indicator(share_sig_local, "1", f"land-area share with a locally significant trend (alpha = {alpha})"),
        "share_temperature_dominated": Indicator(share_t, "1", "land-area share where detrended ER variability is "
                                                 "temperature-dominated (partial correlation)"),
        "share_water_dominated": Indicator(share_w, "1", "land-area share where detrended ER variability is "
                                           "water-dominated (partial correlation)"),
    }
    for region in ("boreal", "temperate", "tropical"):
        row = table.loc[region]
        ind[f"{region}_er_trend"] = Indicator(row["trend"], "PgC yr-2", f"Theil-Sen trend of {region} ER",
                                              (row["trend_high"] - row["trend_low"]) / (2 * z))
        ind[f"{region}_water_dominated"] = Indicator(driver_table.loc[region, "water"], "1",
                                                     f"share of {region} land area with water-dominated ER variability")
        ind[f"{region}_temperature_dominated"] = Indicator(driver_table.loc[region, "temperature"], "1",
                                                           f"share of {region} land area with temperature-dominated ER variability")
    if table_true is not None:
        a = agreement["local (alpha)"]
        ind["global_er_trend_true"] = Indicator(table_true.loc["global", "trend"], "PgC yr-2",
                                                "trend of the true global ER of the demo world")
        ind["global_er_trend_true_p"] = Indicator(table_true.loc["global", "p"], "1",
                                                  f"{test_name} p-value of the true global ER trend")
        ind["trend_sign_agreement"] = Indicator(a["sign_agreement_truth_significant"], "1",
                                                "area share of truly significant cells whose upscaled trend has the true sign")
        ind["trend_category_agreement"] = Indicator(a["category_agreement_union"], "1",
                                                    "area share of cells significant in either map with identical sign/significance")
        ind["dominant_driver_agreement"] = Indicator(driver_truth_agreement, "1", "share of cells whose dominant driver equals the truth's")
        ind["share_water_dominated_true"] = Indicator(share_w_true, "1", "land-area share where the true ER variability is water-dominated")
        for region in ("boreal", "temperate", "tropical"):
            ind[f"{region}_er_trend_true"] = Indicator(table_true.loc[region, "trend"], "PgC yr-2",
                                                       f"trend of the true {region} ER of the demo world")
            ind[f"{region}_water_dominated_true"] = Indicator(driver_table.loc[region, "water (truth)"], "1",
                                                              f"share of {region} land area where the true ER variability is water-dominated")
    if sites is not None and len(sites):
        ss = site_source or source
        ind["towers_tested"] = Indicator(len(sites), "1", f"towers with >= {sites.attrs.get('min_years', 10)} complete years", source=ss)
        ind["towers_significant_seasonal"] = Indicator(int((sites["p_seasonal"] < alpha).sum()), "1",
                                                       "towers with a significant monthly ER trend, seasonal test (months independent)", source=ss)
        ind["towers_significant_correlated"] = Indicator(int(sites["significant"].sum()), "1",
                                                         "towers with a significant trend, correlated seasonal test", source=ss)
        ind["towers_significant_fdr"] = Indicator(int(sites["significant_fdr"].sum()), "1",
                                                  "towers significant after FDR control (correlated seasonal test)", source=ss)
        ind["towers_variance_factor"] = Indicator(float(sites["variance_factor"].median()), "1",
                                                  "median Var(S) with/without the covariance between months", source=ss)
    sz = size.set_index("noise")
    for label, key in (("AR(1), φ = 0.3", "phi03"), ("same-year correlation 0.6", "within06")):
        for col, name in (("seasonal", "seasonal"), ("correlated seasonal", "correlated")):
            ind[f"size_{name}_{key}"] = Indicator(sz.loc[label, col], "1", f"empirical size at alpha = 0.05 of the {col} test, "
                                                  f"{label} (n = {size.attrs['n_sim']})", size.attrs["se"],
                                                  source="demo:landcarbon.trends.simulation:seasonal_noise")
    pt = partial.set_index("series")
    ind["global_er_trend_partial_p"] = Indicator(pt.iloc[0]["p (partial, given temperature)"], "1",
                                                 "partial Mann-Kendall p-value of global ER given land-mean temperature")
    return ind
