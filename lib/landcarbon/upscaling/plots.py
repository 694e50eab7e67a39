"""Figures of the upscaling chapter (each returns the figure; demo data carry a visible DEMO mark)."""
from __future__ import annotations

import numpy as np

from ..plotting import METHOD_COLOURS, OKABE_ITO, mark_demo

__all__ = ["ZONE_COLOURS", "plot_network", "plot_cv_scatter", "plot_method_series", "plot_nep_zonal", "plot_er_maps"]

ZONE_COLOURS = {"boreal": OKABE_ITO[5], "temperate": OKABE_ITO[3], "tropical": OKABE_ITO[6]}


def plot_network(sites, *, demo: bool = False, title: str | None = None):
    """Map of the towers coloured by climate zone (boreal/temperate/tropical by MAT)."""
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt

    from ..plotting import map_axes

    fig = plt.figure(figsize=(8.5, 4.4))
    ax = map_axes(fig.add_subplot(1, 1, 1, projection=ccrs.Robinson()))
    for zone, colour in ZONE_COLOURS.items():
        sel = sites["climate_zone"].values == zone
        ax.scatter(sites["lon"].values[sel], sites["lat"].values[sel], s=18, color=colour, edgecolor="k",
                   linewidth=0.3, label=f"{zone} ({int(sel.sum())} towers)", transform=ccrs.PlateCarree(), zorder=3)
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    ax.set_title(title or f"{sites.sizes['site']} flux towers by climate zone")
    if demo:
        mark_demo(ax)
    return fig


def plot_cv_scatter(cvs: dict, *, demo: bool = False):
    """Held-out monthly ER [gC m-2 month-1] against observations, one panel per target."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cvs), figsize=(4.6 * len(cvs), 4.3), squeeze=False, layout="constrained")
    for ax, (name, cv) in zip(axes[0], cvs.items()):
        days = cv.rows["days"].to_numpy()
        y, p = cv.rows[cv.target_name].to_numpy() * days, cv.prediction * days
        hb = ax.hexbin(y, p, gridsize=40, mincnt=1, bins="log", cmap="cividis")
        lim = [min(0.0, float(np.nanpercentile(y, 0.2))), float(np.nanpercentile(y, 99.8))]
        ax.plot(lim, lim, color="k", lw=1)
        ax.set_xlim(lim)
        ax.set_ylim(lim)
        ax.set_xlabel(f"tower {name} [gC m$^{{-2}}$ month$^{{-1}}$]")
        ax.set_ylabel("forest, tower left out [gC m$^{-2}$ month$^{-1}$]")
        ax.set_title(f"{name}: R² = {cv.test['r2']:.2f}, RMSE = {cv.test['rmse']:.0f}")
        fig.colorbar(hb, ax=ax, label="tower-months")
        if demo:
            mark_demo(ax, loc="lower right")
    return fig


def plot_method_series(series: dict, truths: dict | None = None, *, study: dict | None = None, demo: bool = False,
                       title: str = "Global annual ecosystem respiration by partitioning method"):
    """Global annual ER [PgC yr-1] by method (ensemble mean, member range), the twin's truths (dashed) and
    the study's period means (horizontal ticks at the right)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.6), layout="constrained")
    for m, s in series.items():
        c = METHOD_COLOURS.get(m, "0.4")
        yrs = s["year"].values
        mean = s.mean("member") if "member" in s.dims else s
        if "member" in s.dims:
            ax.fill_between(yrs, s.min("member"), s.max("member"), color=c, alpha=0.2, lw=0)
        ax.plot(yrs, mean, color=c, lw=2, label=f"{m} upscaled: {float(mean.mean()):.1f}")
        if truths and m in truths:
            ax.plot(yrs, truths[m], color=c, lw=1.2, ls="--", label=f"{m} truth: {float(truths[m].mean()):.1f}")
        if study and m in study:
            ax.errorbar([yrs[-1] + 1.5], [study[m][0]], yerr=[study[m][1]], color=c, marker="<", ms=7, capsize=3)
    ax.set_xlabel("year")
    ax.set_ylabel("global ER [PgC yr$^{-1}$]")
    ax.set_title(title)
    if study:
        ax.errorbar([], [], yerr=[], color="0.3", marker="<", ms=7, ls="none", capsize=3,
                    label="published mean ± SD (Li et al.; FLUXCOM)")
    ax.legend(fontsize=8.5, ncol=2, loc="upper left", bbox_to_anchor=(0.0, -0.14))
    if demo:
        mark_demo(ax, loc="lower right")
    return fig


def plot_nep_zonal(zonal: dict, truth, *, demo: bool = True):
    """Zonal mean annual NEP [gC m-2 yr-1] of the upscaled maps (per augmentation) and the twin's truth."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 4.0), layout="constrained")
    ax.axvspan(-23.5, 23.5, color="0.92", zorder=0, label="tropical band")
    ax.plot(truth["lat"], truth, color=METHOD_COLOURS["truth"], lw=2, ls="--", label="truth")
    for (name, z), c in zip(zonal.items(), (OKABE_ITO[6], OKABE_ITO[5], OKABE_ITO[3])):
        ax.plot(z["lat"], z, color=c, lw=1.6, label=name)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("latitude [°N]")
    ax.set_ylabel("NEP, land mean [gC m$^{-2}$ yr$^{-1}$]")
    ax.set_title("Upscaled NEP by latitude: plain forest and augmented training sets")
    ax.legend(fontsize=8.5, ncol=2)
    if demo:
        mark_demo(ax, loc="lower right")
    return fig


def plot_er_maps(estimate, truth, *, demo: bool = True):
    """Mean annual ER of the upscaled field, the truth and their difference [gC m-2 yr-1]."""
    import matplotlib.pyplot as plt

    from ..plotting import plot_map

    vmax = float(np.nanpercentile(truth, 99.5))
    fig = plt.figure(figsize=(15.0, 3.8), layout="constrained")
    panels = [(estimate, "upscaled (NT)", dict(vmin=0, vmax=vmax)), (truth, "truth (NT definition)", dict(vmin=0, vmax=vmax)),
              (estimate - truth, "upscaled − truth", dict(centre=0.0, robust=True))]
    axes = []
    for k, (field, title, kw) in enumerate(panels):
        ax = plot_map(field.assign_attrs(units="gC m-2 yr-1"), ax=fig.add_subplot(1, 3, k + 1), title=title,
                      cbar_label="ER [gC m$^{-2}$ yr$^{-1}$]", **kw)
        axes.append(ax)
    if demo:
        mark_demo(axes)
    return fig
