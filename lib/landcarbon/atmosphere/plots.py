"""Figures of the nested-inversion chapter (kept here so the chapter stays narrative).

Every function draws onto matplotlib axes and returns the figure; figures made from the digital twin
carry a visible "DEMO" mark inside the axes (:func:`landcarbon.plotting.mark_demo` when available).
"""
from __future__ import annotations

import numpy as np

from ..plotting import CHINA_EXTENT, METHOD_COLOURS, OKABE_ITO, map_axes, plot_map
from .experiments import SYSTEM_LABELS

__all__ = ["mark_demo", "plot_regions", "plot_sampling", "plot_osse_summary", "plot_consistency", "plot_weekly",
           "plot_kernels", "plot_records"]



def mark_demo(ax, text: str | None = None):
    """Visible DEMO mark inside the axes (:func:`landcarbon.plotting.mark_demo`)."""
    from ..plotting import DEMO_MARK
    from ..plotting import mark_demo as _lib_mark

    return _lib_mark(ax, text or DEMO_MARK, loc="lower right")


def plot_regions(world, transcom):
    """TransCom-3 regions (left) and the 13 China zones of the nested system (right)."""
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt

    reg = world.regions
    fig = plt.figure(figsize=(11, 4.2))
    ax1 = map_axes(fig.add_subplot(1, 2, 1), projection="robinson")
    plot_map(transcom.ids.where(transcom.ids >= 0), ax=ax1, cmap="tab20", colorbar=False,
             title="TransCom-3 regions (22)")
    ax2 = plot_map(reg.ids.where(np.isin(reg.ids, np.flatnonzero(reg.china))), ax=fig.add_subplot(1, 2, 2),
                   extent=CHINA_EXTENT, cmap="tab20", colorbar=False, title="13 China zones (our zoning)")
    for r in np.flatnonzero(reg.china):
        jj, ii = np.nonzero(reg.ids.values == r)
        ax2.text(float(reg.ids["lon"].values[ii].mean()), float(reg.ids["lat"].values[jj].mean()),
                 reg.codes[r].replace("CN-", ""), transform=ccrs.PlateCarree(), fontsize=7, ha="center",
                 bbox=dict(fc="white", alpha=0.7, lw=0, pad=0.5))
    return fig


def plot_sampling(design, month: int = 6):
    """Where the observing systems look: in-situ sites and one month of clear-sky land soundings."""
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt
    import pandas as pd

    from .network import observation_points

    fig = plt.figure(figsize=(12, 3.8))
    pts = observation_points(tuple(k for k in ("global", "cma", "aircraft") if k in design.blocks))
    ax = map_axes(fig.add_subplot(1, 3, 1), projection="platecarree", extent=CHINA_EXTENT)
    for nw, (mk, col) in {"global": ("o", OKABE_ITO[5]), "cma": ("s", OKABE_ITO[6]),
                          "aircraft": ("^", OKABE_ITO[3])}.items():
        p = pts[pts["network"] == nw]
        ax.scatter(p["lon"], p["lat"], marker=mk, s=24, c=col, edgecolor="k", lw=0.3, label=nw,
                   transform=ccrs.PlateCarree(), zorder=3)
    ax.legend(loc="lower left", fontsize=7)
    ax.set_title("In situ: stations and aircraft", fontsize=10)
    t0 = design.world.time[month]
    for q, name in enumerate(k for k in ("GOSAT", "OCO-2") if k in design.soundings):
        snd = design.soundings[name]
        t = pd.DatetimeIndex(snd["time"])
        m = (t >= t0) & (t < t0 + pd.offsets.MonthBegin(1))
        ax = map_axes(fig.add_subplot(1, 3, q + 2), projection="platecarree", extent=CHINA_EXTENT)
        s = snd[m]
        sc = ax.scatter(s["lon"], s["lat"], c=np.log10(s["n_good"]), s=6, cmap="viridis", vmin=0, vmax=3,
                        transform=ccrs.PlateCarree())
        ax.set_title(f"{name}, {t0:%b %Y}: {int(s['n_good'].sum())}\nclear-sky land soundings", fontsize=10)
        mark_demo(ax)
    fig.subplots_adjust(wspace=0.3, right=0.88)
    cax = fig.add_axes([0.9, 0.2, 0.012, 0.6])
    fig.colorbar(sc, cax=cax, label="soundings per track point (log$_{10}$)")
    return fig


def plot_osse_summary(table, aggregate: str = "China"):
    """Headline: RMSE and mean error of the China sink over the draws, identical twin vs transport error."""
    import matplotlib.pyplot as plt

    t = table[(table["aggregate"] == aggregate) & (table["prior"] == "drawn")]
    systems = list(dict.fromkeys(t["system"]))
    x = np.arange(len(systems))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0), sharex=True)
    for k, (kind, col) in enumerate((("identical", OKABE_ITO[5]), ("transport-error", OKABE_ITO[6]))):
        s = t[t["kind"] == kind].set_index("system").loc[systems]
        axes[0].bar(x + (k - 0.5) * 0.38, s["rmse"], 0.38, color=col, label=kind.replace("-", " "))
        axes[1].bar(x + (k - 0.5) * 0.38, s["bias"], 0.38, color=col, label=kind.replace("-", " "))
    sig = t[t["kind"] == "identical"].set_index("system").loc[systems, "posterior_sigma"]
    axes[0].plot(x, sig, "k_", ms=18, mew=2, label="posterior $\\sigma$")
    axes[0].set_ylabel("RMSE of the China sink [PgC yr$^{-1}$]")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_ylabel("mean error (estimate − truth) [PgC yr$^{-1}$]")
    for ax in axes:
        ax.set_xticks(x, [SYSTEM_LABELS.get(s, s) for s in systems], rotation=30, ha="right", fontsize=8)
        ax.legend(fontsize=8)
        mark_demo(ax)
    axes[0].set_title("Error over the draws")
    axes[1].set_title("Systematic error")
    fig.tight_layout()
    return fig


def plot_consistency(table, ranks, system: str = "case3", n_members: int = 19):
    """chi^2 per system and truth kind (left); rank histograms of the truth, identical vs transport error."""
    import matplotlib.pyplot as plt

    from .experiments import rank_histogram

    t = table[(table["aggregate"] == "China") & (table["prior"] == "drawn")]
    systems = list(dict.fromkeys(t["system"]))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for k, (kind, col) in enumerate((("identical", OKABE_ITO[5]), ("transport-error", OKABE_ITO[6]))):
        s = t[t["kind"] == kind].set_index("system").loc[systems]
        axes[0].errorbar(np.arange(len(systems)) + (k - 0.5) * 0.2, s["chi2_mean"], yerr=s["chi2_sd"], fmt="o",
                         color=col, label=kind.replace("-", " "), capsize=3)
        h = rank_histogram(ranks[(system, kind, "drawn")], n_members)
        axes[k + 1].bar(np.arange(n_members + 1), h / h.sum(), color=col, width=0.9)
        axes[k + 1].axhline(1 / (n_members + 1), color="k", ls="--", lw=1, label="flat (consistent)")
        axes[k + 1].set_xlabel(f"rank of the truth among {n_members} posterior samples")
        axes[k + 1].set_ylabel("share of draws x regions")
        axes[k + 1].set_title(f"{SYSTEM_LABELS.get(system, system)}: {kind.replace('-', ' ')}")
        axes[k + 1].legend(fontsize=8)
    axes[0].axhline(1, color="k", ls="--", lw=1)
    axes[0].set_xticks(np.arange(len(systems)), [SYSTEM_LABELS.get(s, s) for s in systems], rotation=30, ha="right",
                       fontsize=8)
    axes[0].set_ylabel("$\\chi^2 = 2J_{min}/m$")
    axes[0].legend(fontsize=8)
    axes[0].set_title("Consistency of data and assumed errors")
    for ax in axes:
        mark_demo(ax)
    fig.tight_layout()
    return fig


def plot_weekly(weekly, aggregates=("China", "EUT", "NAT", "EU")):
    """Weekly two-step EnSRF: error of the period-mean sink (± posterior sigma) per system and region."""
    import matplotlib.pyplot as plt

    systems = list(dict.fromkeys(weekly["system"]))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    width = 0.8 / len(systems)
    for q, s in enumerate(systems):
        sub = weekly[weekly["system"] == s].set_index("aggregate").loc[list(aggregates)]
        ax.errorbar(np.arange(len(aggregates)) + (q - (len(systems) - 1) / 2) * width, sub["error"],
                    yerr=sub["posterior_sigma"], fmt="o", capsize=3, color=OKABE_ITO[(q + 1) % 8],
                    label=SYSTEM_LABELS.get(s, s))
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(aggregates)), list(aggregates))
    ax.set_ylabel("sink error, estimate − truth [PgC yr$^{-1}$]")
    ax.set_title("GCAS-like weekly two-step EnSRF on the transport-error twin (one realisation, ±1σ)")
    ax.legend(fontsize=8, ncol=3)
    mark_demo(ax)
    fig.tight_layout()
    return fig


def plot_kernels(levels_hpa=None):
    """The (illustrative) column averaging kernels of GOSAT and OCO-2 and the pressure weights."""
    import matplotlib.pyplot as plt

    from . import satellite as S

    lev = S.sigma_levels() if levels_hpa is None else np.asarray(levels_hpa)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for name, col in (("GOSAT", OKABE_ITO[1]), ("OCO-2", OKABE_ITO[5])):
        ax.plot(S.averaging_kernel_profile(lev, name), lev, "-o", ms=3, color=col, label=f"{name} kernel a")
    ax.plot(S.pressure_weights(lev) * len(lev), lev, ":", color=METHOD_COLOURS.get("prior", "0.5"),
            label="pressure weight h × 20")
    ax.axvline(1.0, color="k", lw=0.6)
    ax.invert_yaxis()
    ax.set_xlabel("column averaging kernel [1]")
    ax.set_ylabel("pressure [hPa]")
    ax.legend(fontsize=8)
    ax.set_title("Sensitivity of XCO2 to each level")
    ax.text(0.02, 0.02, "illustrative shapes", transform=ax.transAxes, fontsize=8, color="0.35")
    fig.tight_layout()
    return fig


def plot_records(mv, box):
    """Real data: observed vs two-box modelled MHD - CGO difference and growth rate (GCB fluxes)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (o, m, lab) in zip(axes, (("gradient", "gradient_model", "Mace Head − Cape Grim [ppm]"),
                                      ("growth", "growth_model", "growth rate [ppm yr$^{-1}$]"))):
        ax.plot(mv.index, mv[o], "ko-", ms=3, label="observed (NOAA)")
        ax.plot(mv.index, mv[m], "-", color=OKABE_ITO[5], label="two-box model, GCB 2025 fluxes (prior split)")
        ax.set_ylabel(lab)
        ax.set_xlabel("year")
    axes[0].axhline(box["model_posterior"][1], color=OKABE_ITO[6], ls="--",
                    label=f"posterior period mean ({box['years'][0]}–{box['years'][1]})")
    axes[0].legend(fontsize=8)
    axes[0].set_title("North–south difference")
    axes[1].set_title("Global growth rate")
    fig.tight_layout()
    return fig
