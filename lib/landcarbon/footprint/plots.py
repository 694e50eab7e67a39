"""Figures of the footprint chapter (matplotlib; maps through :mod:`landcarbon.plotting`)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..plotting import OKABE_ITO
from .climatology import source_area_contours
from .ffp import crosswind_integrated, fetch_distance, peak_distance

__all__ = ["IGBP_COLOURS", "plot_landscape", "plot_contours", "plot_footprint_on_landscape", "plot_climatology",
           "plot_height_stability", "plot_network_map", "plot_coverage_curves", "plot_source_area_sizes"]

#: Colours of IGBP classes on land-cover maps (greens for forests, yellows for open land).
IGBP_COLOURS = {"ENF": "#1b5e20", "EBF": "#2e7d32", "DBF": "#66bb6a", "MF": "#43a047", "CSH": "#a1887f",
                "OSH": "#d7ccc8", "WSA": "#c0ca33", "SAV": "#dce775", "GRA": "#fff59d", "WET": "#4fc3f7",
                "CRO": "#ffb74d", "URB": "#9e9e9e", "BSV": "#eeeeee", "SNO": "#ffffff"}


def _names(land_cover: xr.DataArray) -> list[str]:
    return str(land_cover.attrs.get("flag_meanings", "")).split()


def plot_landscape(ax, landscape: xr.Dataset, *, variable: str = "land_cover", legend: bool = True):
    """Land-cover classes (IGBP colours) or NDVI (greens) of a tower landscape, x/y in metres."""
    import matplotlib.colors as mcolors
    from matplotlib.patches import Patch

    x, y = landscape["x"].values, landscape["y"].values
    ext = (x[0] - (x[1] - x[0]) / 2, x[-1] + (x[1] - x[0]) / 2, y[0] - (y[1] - y[0]) / 2, y[-1] + (y[1] - y[0]) / 2)
    if variable == "land_cover":
        names = _names(landscape["land_cover"])
        cmap = mcolors.ListedColormap([IGBP_COLOURS.get(n, "#cccccc") for n in names])
        ax.imshow(landscape["land_cover"].values, origin="lower", extent=ext, cmap=cmap, vmin=-0.5,
                  vmax=len(names) - 0.5, interpolation="nearest")
        if legend:
            ax.legend(handles=[Patch(facecolor=IGBP_COLOURS.get(n, "#cccccc"), edgecolor="0.4", label=n) for n in names],
                      loc="lower left", fontsize=7, title="land cover", title_fontsize=7, framealpha=0.85)
    else:
        im = ax.imshow(landscape[variable].values, origin="lower", extent=ext, cmap="YlGn", vmin=0.0, vmax=1.0,
                       interpolation="nearest")
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label=variable)
    ax.set_xlabel("distance east of the tower (m)")
    ax.set_ylabel("distance north of the tower (m)")
    ax.set_aspect("equal")
    return ax


def plot_contours(ax, footprint: xr.DataArray, rs=(0.5, 0.8), *, colours=None, label: bool = True):
    """R % source-area contours of a footprint, one colour per R (dashed where a line reaches the grid edge)."""
    cont = source_area_contours(footprint, rs)
    colours = colours or ["#000000", "#0072B2", "#CC79A7", "#009E73"]
    for k, (r, c) in enumerate(sorted(cont.items())):
        for i, line in enumerate(c["lines"]):
            ax.plot(line[:, 0], line[:, 1], color=colours[k % len(colours)], lw=1.5, ls="-" if c["closed"] else "--",
                    label=f"{100 * r:.0f} % source area" if (label and i == 0) else None)
    return cont


def _pixel(ax, centre, size, **kw):
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((centre[0] - size / 2, centre[1] - size / 2), size, size, fill=False, lw=1.8,
                           ec=kw.pop("ec", OKABE_ITO[6]), label=kw.pop("label", f"{size:.0f} m satellite pixel"), **kw))


def plot_footprint_on_landscape(ax, landscape: xr.Dataset, footprint: xr.DataArray, *, rs=(0.5, 0.8),
                                pixel_centre_m=None, pixel_size_m: float | None = None, zoom_m: float | None = None):
    """A footprint's R % contours over the land-cover map, the tower and (optionally) the target pixel."""
    plot_landscape(ax, landscape, legend=True)
    plot_contours(ax, footprint, rs)
    if pixel_centre_m is not None and pixel_size_m:
        _pixel(ax, pixel_centre_m, pixel_size_m)
    ax.plot([0], [0], marker="^", ms=9, color="k", mec="w", ls="none", label="tower")
    if zoom_m:
        ax.set_xlim(-zoom_m, zoom_m)
        ax.set_ylim(-zoom_m, zoom_m)
    handles, labels = ax.get_legend_handles_labels()
    lc_legend = ax.get_legend()
    if lc_legend is not None:
        ax.add_artist(lc_legend)
    ax.legend(handles, labels, loc="lower right", fontsize=7, framealpha=0.85)
    return ax


def plot_climatology(ax, clim: xr.DataArray, *, rs=(0.5, 0.7, 0.8, 0.9), zoom_m: float | None = None):
    """Footprint climatology on a log colour scale with its R % source-area contours."""
    import matplotlib.colors as mcolors

    f = clim.values
    pos = f[f > 0]
    vmax = float(pos.max())
    x, y = clim["x"].values, clim["y"].values
    dx, dy = x[1] - x[0], y[1] - y[0]
    im = ax.imshow(np.where(f > 0, f, np.nan), origin="lower", extent=(x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2,
                                                                       y[-1] + dy / 2),
                   norm=mcolors.LogNorm(vmin=vmax * 1e-4, vmax=vmax), cmap="magma_r", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="footprint climatology (m$^{-2}$)")
    cont = plot_contours(ax, clim, rs, colours=["#56B4E9", "#0072B2", "#009E73", "#000000"])
    ax.plot([0], [0], marker="^", ms=8, color="k", mec="w", ls="none", label="tower")
    ax.set_xlabel("distance east of the tower (m)")
    ax.set_ylabel("distance north of the tower (m)")
    ax.set_aspect("equal")
    if zoom_m:
        ax.set_xlim(-zoom_m, zoom_m)
        ax.set_ylim(-zoom_m, zoom_m)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.85)
    return cont


def plot_height_stability(axes, *, z0_m: float = 0.1, h_m: float = 1500.0):
    """Teaching figure: how measurement height and stability move the footprint (analytic FFP).

    (a) crosswind-integrated footprint for three heights in neutral air; (b) one height in unstable,
    neutral and stable air; (c) peak distance and 80 % fetch against height for the three stabilities.
    """
    ax1, ax2, ax3 = axes
    x = np.linspace(0.5, 1500.0, 3000)
    for zm, c in zip((3.0, 10.0, 30.0), OKABE_ITO[1:4]):
        ax1.plot(x, crosswind_integrated(x, zm_m=zm, z0_m=z0_m, h_m=h_m, obukhov_length_m=-1e6), color=c,
                 label=f"$z_m$ = {zm:g} m")
    ax1.set_title("(a) height, neutral air", fontsize=9)
    stab = {"unstable (L = −30 m)": -30.0, "neutral": -1e6, "stable (L = +50 m)": 50.0}
    for (name, L), c in zip(stab.items(), OKABE_ITO[5:8]):
        ax2.plot(x, crosswind_integrated(x, zm_m=10.0, z0_m=z0_m, h_m=h_m, obukhov_length_m=L), color=c, label=name)
    ax2.set_title("(b) stability, $z_m$ = 10 m", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("distance upwind of the tower (m)")
        ax.set_ylabel("crosswind-integrated footprint (m$^{-1}$)")
        ax.legend(fontsize=7)
    zms = np.geomspace(1.5, 60.0, 60)
    for (name, L), c in zip(stab.items(), OKABE_ITO[5:8]):
        ax3.plot(zms, peak_distance(zm_m=zms, z0_m=z0_m, h_m=h_m, obukhov_length_m=L), color=c, label=f"peak, {name}")
        ax3.plot(zms, fetch_distance(0.8, zm_m=zms, z0_m=z0_m, h_m=h_m, obukhov_length_m=L), color=c, ls="--",
                 label=f"80 % fetch, {name}")
    ax3.set_xscale("log")
    ax3.set_yscale("log")
    ticks = [2, 5, 10, 20, 50]
    ax3.set_xticks(ticks, [str(t) for t in ticks])
    ax3.minorticks_off()
    ax3.set_xlabel("measurement height above displacement $z_m$ (m)")
    ax3.set_ylabel("distance upwind (m)")
    ax3.set_title(f"(c) peak and 80 % fetch, $z_0$ = {z0_m:g} m", fontsize=9)
    ax3.legend(fontsize=6)
    return axes


def plot_network_map(ax, rep: xr.Dataset, towers: pd.DataFrame, *, demo: bool = False):
    """Distance to the nearest tower in climate space in classes of the threshold: the palest class is
    represented, warmer classes are increasingly under-represented; towers as triangles by IGBP class."""
    import cartopy.crs as ccrs

    from ..plotting import mark_demo, plot_map

    th = float(rep.attrs["threshold"])
    dist = rep["distance"].copy()
    dist.attrs = {"units": "1", "long_name": "distance to the nearest tower in climate space"}
    ax = plot_map(dist, ax=ax, cmap="YlOrRd", levels=[0.0, th, 2 * th, 3 * th, 4 * th, 6 * th],
                  cbar_label=f"distance to the nearest tower in climate space (SD); palest class (≤ {th:g}) = represented")
    for cls, sub in towers.groupby("igbp"):
        ax.scatter(sub["lon"], sub["lat"], s=30, marker="^", color=IGBP_COLOURS.get(cls, "w"), edgecolor="k",
                   linewidth=0.7, transform=ccrs.PlateCarree(), zorder=10, label=cls)
    ax.legend(loc="lower left", fontsize=6, ncol=2, title="towers (IGBP)", title_fontsize=6, framealpha=0.85)
    if demo:
        mark_demo(ax, "DEMO — synthetic climate, real tower positions")
    return ax


def plot_coverage_curves(ax, curves: pd.DataFrame, threshold: float):
    """Represented share of the land area against the distance threshold, one line per network/rule."""
    for k, (name, sub) in enumerate(curves.groupby("network", sort=False)):
        ax.plot(sub["threshold"], 100 * sub["represented_fraction"], color=OKABE_ITO[(k + 1) % 8], lw=2, label=name)
    ax.axvline(threshold, color="0.5", ls=":", lw=1)
    ax.set_xlabel("largest distance in climate space still counted as represented (SD)")
    ax.set_ylabel("share of the land area represented (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    return ax


def plot_source_area_sizes(ax, table: pd.DataFrame, pixels: dict[str, float]):
    """80 % source-area size of each tower (log scale) against satellite pixel areas."""
    t = table.sort_values("area80_m2")
    y = np.arange(len(t))
    ax.barh(y, t["area80_m2"], color=[IGBP_COLOURS.get(c, "#cccccc") for c in t["igbp"]], edgecolor="0.3", lw=0.5)
    ax.set_yticks(y, [f"{s} ({c}, $z_m$ {z:.1f} m)" for s, c, z in zip(t.index, t["igbp"], t["zm_m"])], fontsize=6)
    ax.set_xscale("log")
    for k, (name, area) in enumerate(pixels.items()):
        ax.axvline(area, color=OKABE_ITO[(k + 5) % 8], ls="--", lw=1.2, label=f"{name} ({area:,.0f} m²)")
    ax.set_xlabel("area of the 80 % source area of the footprint climatology (m²)")
    ax.legend(fontsize=7, loc="lower right")
    return ax
