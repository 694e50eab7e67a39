"""Figures of the GPP chapter (each returns the Figure; demo figures carry the DEMO mark inside the axes)."""
from __future__ import annotations

import numpy as np

from ..plotting import OKABE_ITO, mark_demo

__all__ = ["plot_emax_fit", "plot_monthly_bias", "plot_sif_scatter", "plot_gpp_maps", "plot_apparent_lue",
           "plot_china_totals"]

_MONTHS = np.arange(1, 13)


def plot_emax_fit(exp, classes=None, *, demo: bool = True, ncols: int = 4):
    """Fitted seasonal ε_max (bootstrap 95 % band), the constant fit and the planted truth per class."""
    import matplotlib.pyplot as plt

    rec = exp.recovery
    classes = classes or [c for c, n in zip(exp.seasonal.classes, exp.seasonal.n_sites) if n >= 10]
    nrows = int(np.ceil(len(classes) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.6 * nrows), sharex=True, squeeze=False)
    for ax, c in zip(axes.flat, classes):
        r = rec[rec["class"] == c].sort_values("season_month")
        ax.fill_between(r["season_month"], r["lo"], r["hi"], color=OKABE_ITO[5], alpha=0.25, lw=0,
                        label="seasonal fit, 95 % bootstrap")
        ax.plot(r["season_month"], r["emax"], "o-", color=OKABE_ITO[5], ms=3, label="seasonal fit")
        hollow = r[~r["identified"]]
        ax.plot(hollow["season_month"], hollow["emax"], "o", mfc="white", mec=OKABE_ITO[5], ms=4,
                label="interpolated (little signal)")
        ax.plot(r["season_month"], r["planted"], "k--", lw=1.2, label="planted truth")
        k = exp.constant.classes.index(c)
        ax.axhline(exp.constant.emax[k, 0], color=OKABE_ITO[6], lw=1.2, label="constant fit")
        ax.set_title(f"{c} ({int(r['n_sites'].iloc[0])} towers)", fontsize=10)
        ax.set_xticks([1, 4, 7, 10])
    for ax in axes.flat[len(classes):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("ε_max (gC MJ$^{-1}$)")
    for ax in axes[-1]:
        ax.set_xlabel("season month (NH calendar)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    if demo:
        mark_demo([a for a in axes.flat if a.get_visible()], fontsize=7)
    return fig


def plot_monthly_bias(exp, *, demo: bool = True):
    """Monthly relative bias of held-out GPP (vs the truth) per class: seasonal vs constant ε_max."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    well = exp.amplitude.index[exp.amplitude["towers"] >= 10]
    shown = [0.0]
    for ax, (title, tab) in zip(axes, (("seasonal ε_max", exp.bias_seasonal), ("constant ε_max", exp.bias_constant))):
        for i, c in enumerate(well):
            r = tab[tab["class"] == c]
            ax.plot(r["season_month"], 100 * r["bias_rel"], "o-", ms=3, color=OKABE_ITO[1 + i % 7], label=c)
            shown += list(np.abs(100 * r["bias_rel"].to_numpy(float)))
        ax.axhspan(-10, 10, color="0.9", zorder=0)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{title}: held-out towers")
        ax.set_xlabel("season month (NH calendar)")
        ax.set_xticks([1, 4, 7, 10])
    lim = 5.0 * np.ceil(np.nanmax(shown) / 5.0)  # every plotted point inside, room for the stamp above
    axes[0].set_ylim(-lim - 2, 1.25 * lim + 2)
    axes[0].set_ylabel("relative bias of monthly GPP (%)")
    axes[1].legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    if demo:
        mark_demo(axes, loc="upper left", fontsize=7)
    return fig


def plot_sif_scatter(preds: dict, truth, mask, *, demo: bool = True, max_points: int = 4000, seed: int = 0):
    """Estimated vs true monthly GPP for each estimator of one scenario (random subsample of cell-months)."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(mask.ravel())
    idx = rng.choice(idx, size=min(max_points, idx.size), replace=False)
    t = np.asarray(truth).ravel()[idx]
    fig, axes = plt.subplots(1, len(preds), figsize=(3.6 * len(preds), 3.6), sharex=True, sharey=True, squeeze=False)
    hi = float(np.nanpercentile(t, 99.5)) * 1.1
    for ax, (name, p) in zip(axes.flat, preds.items()):
        ax.plot(t, np.asarray(p).ravel()[idx], ".", ms=2, alpha=0.4, color=OKABE_ITO[5])
        ax.plot([0, hi], [0, hi], "k-", lw=0.8)
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("true GPP (gC m$^{-2}$ d$^{-1}$)")
    axes.flat[0].set_ylabel("estimated GPP (gC m$^{-2}$ d$^{-1}$)")
    fig.tight_layout()
    if demo:
        mark_demo(list(axes.flat), loc="upper left", fontsize=7)
    return fig


def plot_gpp_maps(fields: dict, *, demo: bool = True, vmax: float | None = None, diff_key=None, only_diff: bool = False):
    """Maps of annual GPP (gC m⁻² yr⁻¹): every field of ``fields`` on a common scale (only the first one with
    ``only_diff``), and the difference ``diff_key = (a, b)`` (a − b) on a diverging scale."""
    import matplotlib.pyplot as plt
    from ..plotting import map_axes, plot_map

    shown = dict(list(fields.items())[:1]) if only_diff else fields
    n = len(shown) + (1 if diff_key else 0)
    fig = plt.figure(figsize=(5.4 * min(n, 2), 3.1 * int(np.ceil(n / 2))))
    vmax = vmax or float(np.nanpercentile(np.concatenate([f.values.ravel() for f in shown.values()]), 99))
    axes = []
    for k, (name, f) in enumerate(shown.items()):
        ax = map_axes(fig.add_subplot(int(np.ceil(n / 2)), 2, k + 1), extent=(-180, 180, -60, 85))
        plot_map(f, ax=ax, vmin=0, vmax=vmax, cbar_label="GPP (gC m$^{-2}$ yr$^{-1}$)", title=name)
        axes.append(ax)
    if diff_key:
        a, b = diff_key
        d = fields[a] - fields[b]
        lim = float(np.nanpercentile(np.abs(d.values), 99)) or 1.0
        ax = map_axes(fig.add_subplot(int(np.ceil(n / 2)), 2, n), extent=(-180, 180, -60, 85))
        plot_map(d, ax=ax, centre=0.0, vmin=-lim, vmax=lim, cbar_label="difference (gC m$^{-2}$ yr$^{-1}$)",
                 title=f"{a} − {b}")
        axes.append(ax)
    fig.tight_layout()
    if demo:
        mark_demo(axes, loc="lower left", fontsize=7)
    return fig


def plot_apparent_lue(table, *, ncols: int = 4):
    """Real towers: median apparent efficiency GPP/PAR by class and season month (observations, no mark)."""
    import matplotlib.pyplot as plt

    classes = list(dict.fromkeys(table["class"]))
    nrows = int(np.ceil(len(classes) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.4 * nrows), sharex=True, sharey=True, squeeze=False)
    for ax, c in zip(axes.flat, classes):
        r = table[table["class"] == c]
        ax.plot(r["season_month"], r["lue_app"], "o-", ms=3, color=OKABE_ITO[3])
        ax.set_title(f"{c} ({int(r['sites'].max())} towers)", fontsize=10)
        ax.set_xticks([1, 4, 7, 10])
    for ax in axes.flat[len(classes):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("GPP / PAR (gC MJ$^{-1}$)")
    for ax in axes[-1]:
        ax.set_xlabel("season month")
    fig.tight_layout()
    return fig


def plot_china_totals(totals, published: float, *, demo: bool = True):
    """Bar chart of the twin's China GPP (truth, LUE, SIF) beside the published value (hatched, separate)."""
    import matplotlib.pyplot as plt

    names = list(totals["estimate"])
    vals = list(totals["total_pgc_yr"])
    fig, ax = plt.subplots(figsize=(1.5 * len(names) + 2.4, 3.6))
    colours = [OKABE_ITO[k % len(OKABE_ITO)] for k in (0, 5, 3, 1, 6, 2, 7)][: len(names)]
    ax.bar(range(len(names)), vals, color=colours)
    ax.bar([len(names) + 0.6], [published], color="white", edgecolor="0.3", hatch="//")
    ax.set_xticks(list(range(len(names))) + [len(names) + 0.6])
    labels = ["twin:\n" + n.replace("China: ", "").replace(", ", ",\n") for n in names]
    ax.set_xticklabels(labels + ["published\n(1979–2012)"], fontsize=9)
    ax.set_ylabel("China GPP (PgC yr$^{-1}$)")
    for k, v in enumerate(vals + [published]):
        ax.text(k if k < len(vals) else len(names) + 0.6, v, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max(vals + [published]) * 1.2)
    fig.tight_layout()
    if demo:
        mark_demo(ax, loc="upper left", fontsize=7)
    return fig
