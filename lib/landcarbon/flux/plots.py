"""Figures of the flux-partitioning chapter (matplotlib; colour-blind-safe palettes).

Every function draws into given or new axes, labels axes with units and returns the axes; the
notebook adds captions. Fluxes in umol CO2 m-2 s-1 (daily: gC m-2 d-1), NEE > 0 = release.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..plotting import DIVERGING_CMAP, METHOD_COLOURS, OKABE_ITO, SEQUENTIAL_CMAP
from .metrics import daily_means

__all__ = ["fingerprint", "temperature_response", "method_colour", "daily_comparison", "monthly_comparison",
           "binned"]


def method_colour(m: str) -> str:
    extra = {"SP": OKABE_ITO[4], "NT-LI": OKABE_ITO[5], "DT-LI": METHOD_COLOURS.get("LI", OKABE_ITO[7])}
    return METHOD_COLOURS.get(m, extra.get(m, "#777777"))


def fingerprint(ax, da, title: str, *, signed: bool = False, vmax: float | None = None):
    """Day-of-year × time-of-day image of a half-hourly series (a 'fingerprint' plot)."""
    import matplotlib.pyplot as plt

    t = pd.DatetimeIndex(da["time"].values) - pd.Timedelta(seconds=1)
    s = pd.Series(np.asarray(da, float), index=t)
    tab = s.groupby([s.index.dayofyear, s.index.hour + s.index.minute / 60]).mean().unstack()
    v = vmax if vmax is not None else np.nanpercentile(np.abs(tab.values), 99)
    im = ax.imshow(tab.T.values, aspect="auto", origin="lower", cmap=DIVERGING_CMAP if signed else SEQUENTIAL_CMAP,
                   vmin=-v if signed else 0, vmax=v, extent=[tab.index.min(), tab.index.max(), 0, 24])
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("day of year")
    ax.set_ylabel("hour (local standard time)")
    plt.colorbar(im, ax=ax, label="umol CO$_2$ m$^{-2}$ s$^{-1}$")
    return ax


def binned(x, y, bins):
    """Mean and standard error of y in bins of x (drops empty bins)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    idx = np.digitize(x, bins)
    c, m, e = [], [], []
    for i in range(1, len(bins)):
        sel = (idx == i) & np.isfinite(y)
        if sel.sum() >= 10:
            c.append(0.5 * (bins[i - 1] + bins[i]))
            m.append(y[sel].mean())
            e.append(y[sel].std() / np.sqrt(sel.sum()))
    return np.array(c), np.array(m), np.array(e)


def temperature_response(ax, ta, reco, day, *, label: str, colour_day: str = OKABE_ITO[6],
                         colour_night: str = OKABE_ITO[5], bins=None, ls="-"):
    """Binned respiration vs air temperature, separately for day and night records."""
    bins = np.arange(-10, 32, 2.0) if bins is None else bins
    for mask, col, nm in ((~day, colour_night, "night"), (day, colour_day, "day")):
        c, m, e = binned(np.asarray(ta)[mask], np.asarray(reco)[mask], bins)
        ax.errorbar(c, m, yerr=e, color=col, ls=ls, marker="o", ms=3, capsize=2, label=f"{label}, {nm}")
    ax.set_xlabel("air temperature [°C]")
    ax.set_ylabel("RECO [umol CO$_2$ m$^{-2}$ s$^{-1}$]")
    return ax


def daily_comparison(ax, results: dict, var: str, truth=None):
    """Daily means [gC m-2 d-1] of GPP or RECO per method (and the truth)."""
    if truth is not None:
        d = daily_means(truth)
        ax.plot(d.index, d.values, color="k", lw=1.6, label="truth")
    for m, r in results.items():
        d = daily_means(getattr(r, var.lower()))
        ax.plot(d.index, d.values, color=method_colour(m), lw=0.9, label=m)
    ax.set_ylabel(f"{var} [gC m$^{{-2}}$ d$^{{-1}}$]")
    return ax


def monthly_comparison(ax, results: dict, var: str, truth=None, width: float = 0.12):
    """Monthly mean fluxes [gC m-2 d-1] as grouped bars per method."""
    series = {}
    if truth is not None:
        series["truth"] = daily_means(truth)
    for m, r in results.items():
        series[m] = daily_means(getattr(r, var.lower()))
    k = len(series)
    for j, (m, d) in enumerate(series.items()):
        mm = d.groupby(d.index.month).mean()
        ax.bar(mm.index + (j - (k - 1) / 2) * width, mm.values, width=width,
               color="k" if m == "truth" else method_colour(m), label=m)
    ax.set_xticks(range(1, 13))
    ax.set_xlabel("month")
    ax.set_ylabel(f"{var} [gC m$^{{-2}}$ d$^{{-1}}$]")
    return ax


# ---------------------------------------------------------------------------------------------
# Figures of the chapter's four parts (twin, REddyProc, towers, DT-RH ratios)
# ---------------------------------------------------------------------------------------------
def truth_error_figure(summary: pd.DataFrame, scenarios, methods, *, demo: bool = True):
    """Annual GPP error [%] and mean |monthly day-time RECO bias| [µmol m-2 s-1] per scenario and method
    (bars = mean, whiskers = SD over the realisations of the twin)."""
    import matplotlib.pyplot as plt

    from ..plotting import mark_demo

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9))
    w = 0.8 / len(methods)
    for j, m in enumerate(methods):
        sub = summary.xs(m, level="method").reindex(list(scenarios))
        x = np.arange(len(scenarios)) + (j - (len(methods) - 1) / 2) * w
        axes[0].bar(x, sub.GPP_annual_err_pct, w, yerr=sub.GPP_annual_err_pct_sd.fillna(0), color=method_colour(m),
                    label=m, capsize=2)
        axes[1].bar(x, sub.RECO_day_bias_monthly_abs, w, yerr=sub.RECO_day_bias_monthly_abs_sd.fillna(0),
                    color=method_colour(m), label=m, capsize=2)
    for ax in axes:
        ax.set_xticks(range(len(scenarios)))
        ax.set_xticklabels(scenarios)
        ax.set_xlabel("truth scenario of the twin")
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_ylabel("annual GPP error [%]")
    axes[0].set_title("Annual GPP against the truth")
    axes[1].set_ylabel("mean |monthly day-time RECO bias|\n[µmol CO$_2$ m$^{-2}$ s$^{-1}$]")
    axes[1].set_title("Day-time respiration error")
    axes[0].legend(fontsize=8, ncol=len(methods), loc="upper left")
    if demo:
        mark_demo(fig)
    fig.tight_layout()
    return fig


def day_night_ratio_figure(curve: pd.DataFrame, *, demo: bool = True):
    """Day/night respiration ratio at equal temperature against day-time air temperature: truth and DT-RH."""
    import matplotlib.pyplot as plt

    from ..plotting import mark_demo

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(curve.temperature, curve.truth, "k-", lw=1.8, label="truth (S1)")
    ax.plot(curve.temperature, curve["DT-RH"], "o-", color=method_colour("DT-RH"), ms=4, label="DT-RH fit")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("day-time air temperature [°C]")
    ax.set_ylabel("ER$_{day}$ / ER$_{night}$ at equal T [–]")
    ax.set_title("Day-time respiration relative to night-time")
    ax.legend(fontsize=8, loc="lower left")
    if demo:
        mark_demo(ax)
    fig.tight_layout()
    return fig


def reddyproc_figure(detha, ref):
    """Half-hourly NT RECO and DT GPP of this package against REddyProc 1.3.3 (DE-Tha 1998, 1:1 line)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (m, col, v) in zip(axes, (("NT", "Reco", "reco"), ("DT", "GPP_DT", "gpp"))):
        ax.plot(ref[col].values, getattr(detha.results[m], v).values, ".", ms=1, alpha=0.3, color=method_colour(m))
        lim = np.nanmax(ref[col].values)
        ax.plot([0, lim], [0, lim], "k-", lw=0.8)
        ax.set_xlabel(f"REddyProc {col} [µmol m$^{{-2}}$ s$^{{-1}}$]")
        ax.set_ylabel(f"{m} {v.upper()}, this package [µmol m$^{{-2}}$ s$^{{-1}}$]")
        ax.set_title(f"DE-Tha 1998: {m} {v.upper()}")
    fig.tight_layout()
    return fig


BIOME_COLOURS = {"evergreen needleleaf forest": OKABE_ITO[5], "evergreen broadleaf forest": OKABE_ITO[3],
                 "deciduous broadleaf forest": OKABE_ITO[2], "mixed forest": OKABE_ITO[6], "savanna": OKABE_ITO[1],
                 "grassland and shrubland": OKABE_ITO[4], "cropland": OKABE_ITO[7], "wetland": OKABE_ITO[0],
                 "other": "#777777"}


def tower_gpp_figure(tab: pd.DataFrame):
    """Annual GPP of NT and DT against ONEFlux for every eligible tower site-year, coloured by biome,
    with the 1:1 line; open symbols = site-years left out of the statistics (coverage < 80 % or a failure)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.6), sharex=True, sharey=True)
    for ax, m, ours, ref in ((axes[0], "NT", "gpp_nt", "gpp_nt_oneflux"), (axes[1], "DT", "gpp_dt", "gpp_dt_oneflux")):
        for biome, sub in tab.groupby("biome"):
            col = BIOME_COLOURS.get(biome, "#777777")
            e = sub[sub.eligible]
            ax.scatter(e[ref], e[ours], s=22, color=col, label=biome, edgecolor="k", linewidth=0.3)
            x = sub[~sub.eligible & sub[ref].notna()]
            ax.scatter(x[ref], x[ours], s=22, facecolor="none", edgecolor=col)
        hi = np.nanmax(tab[[ours, ref]].to_numpy(float)) * 1.05 if len(tab) else 1.0
        ax.plot([0, hi], [0, hi], "k-", lw=0.8)
        ax.set_xlabel(f"ONEFlux GPP_{m}_VUT_REF [gC m$^{{-2}}$ yr$^{{-1}}$]")
        ax.set_title(f"{m}: this package vs ONEFlux")
    axes[0].set_ylabel("this package [gC m$^{-2}$ yr$^{-1}$]")
    axes[1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def seasonal_cycle_figure(tab: pd.DataFrame, *, max_panels: int = 8):
    """Monthly mean GPP [gC m-2 d-1] of NT, DT and DT-RH against ONEFlux NT and DT for the first
    eligible site-years (one panel each)."""
    import matplotlib.pyplot as plt

    ok = tab[tab.eligible].head(max_panels)
    n = max(len(ok), 1)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.7 * nrow), squeeze=False, sharex=True)
    months = np.arange(1, 13)
    for ax, (_, r) in zip(axes.flat, ok.iterrows()):
        mm = r["monthly"]
        ax.plot(months, mm["ONEFlux NT"], "k-", lw=1.6, label="ONEFlux NT")
        ax.plot(months, mm["ONEFlux DT"], "k--", lw=1.2, label="ONEFlux DT")
        for m in ("NT", "DT", "DT-RH"):
            ax.plot(months, mm[m], "o-", ms=2.5, lw=0.9, color=method_colour(m), label=m)
        ax.set_title(f"{r.site} {r.year} ({r.igbp})", fontsize=9)
        ax.set_xticks([1, 4, 7, 10])
    for ax in list(axes.flat)[len(ok):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("GPP [gC m$^{-2}$ d$^{-1}$]")
    for ax in axes[-1, :]:
        ax.set_xlabel("month")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def dtrh_ratio_figure(site_ratios: pd.DataFrame, ratio_range=(0.63, 0.84)):
    """Daytime-mean ER ratio DT-RH/NT and DT-RH/DT per tower (± 1 SD), grouped by biome, with the range
    reported by Li et al. (2022) shaded."""
    import matplotlib.pyplot as plt

    from .towers import BIOME_GROUPS

    s = site_ratios.dropna(subset=["ratio_dtrh_nt_daytime"]).copy()
    s["biome"] = s.igbp.map(BIOME_GROUPS).fillna("other")
    s = s.sort_values(["biome", "ratio_dtrh_nt_daytime"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.28 * len(s) + 2), 4.2))
    ax.axhspan(*ratio_range, color="0.85", zorder=0, label="Li et al. (2022): 16–37 % below")
    ax.axhline(1.0, color="grey", lw=0.8)
    x = np.arange(len(s))
    for col, base, off in (("ratio_dtrh_nt_daytime", "NT", -0.15), ("ratio_dtrh_dt_daytime", "DT", 0.15)):
        if col in s:
            ax.errorbar(x + off, s[col], yerr=s[col + "_sd"], fmt="o", ms=4, capsize=2, color=method_colour(base),
                        label=f"DT-RH / {base}")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{a} ({b})" for a, b in zip(s.site, s.igbp)], rotation=90, fontsize=7)
    ax.set_ylabel("daytime-mean ER ratio [–]")
    ax.set_title("What DT-RH changes: daytime respiration relative to NT and DT, per tower")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
