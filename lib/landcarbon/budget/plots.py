"""Figures of the budget chapter (kept here so the chapter stays narrative)."""
from __future__ import annotations

import numpy as np

from ..publish.reporting import format_value, round_half_up
from .combination import Estimate
from .io import get

__all__ = ["plot_lateral_flows", "plot_topdown_bottomup", "plot_closure_sensitivity"]


def plot_lateral_flows(ds, ax=None):
    """Box-and-arrow diagram of China's lateral carbon fluxes (rivers, RCC, trade) [TgC yr-1].

    River numbers, RCC shares and trade numbers are read from the table and placed on their arrows; the
    trade numbers follow our reading of the diagram (:data:`landcarbon.budget.TRADE_READING`, marked with
    *), those whose role we cannot recover are listed under the diagram.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from ..plotting import OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.9, 6.3)
    ax.axis("off")
    boxes = {
        "glob": (8.4, 5.6, "Global atmosphere\n(outside China)", OKABE_ITO[2]),
        "atm": (4.6, 5.6, "China's atmosphere\n(boundary layer, seen\nby the inversion)", OKABE_ITO[2]),
        "eco": (1.5, 3.3, "Terrestrial ecosystems\n(vegetation + soil)", OKABE_ITO[3]),
        "riv": (4.6, 3.3, "Rivers and lakes", OKABE_ITO[5]),
        "bed": (4.6, 1.95, "River and lake beds\n(burial)", OKABE_ITO[7]),
        "ocn": (8.4, 3.3, "Ocean", OKABE_ITO[5]),
        "wood": (1.5, 0.9, "Wood and food\nproducts in China", OKABE_ITO[1]),
        "row": (8.4, 0.9, "Rest of the world\n(international trade)", OKABE_ITO[1]),
    }
    for x, y, text, col in boxes.values():
        ax.add_patch(FancyBboxPatch((x - 1.05, y - 0.5), 2.1, 1.0, boxstyle="round,pad=0.05", fc=col, ec="k",
                                    alpha=0.25, lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5)

    def arrow(a, b, label, col="k", offset=(0, 0), rad=0.0):
        (xa, ya, *_), (xb, yb, *_) = boxes[a], boxes[b]
        vx, vy = xb - xa, yb - ya
        t = min(1.12 / abs(vx) if vx else np.inf, 0.58 / abs(vy) if vy else np.inf)  # leave the box edge
        ax.annotate("", xy=(xb - t * vx, yb - t * vy), xytext=(xa + t * vx, ya + t * vy),
                    arrowprops=dict(arrowstyle="-|>", color=col, lw=2, shrinkA=2, shrinkB=2,
                                    connectionstyle=f"arc3,rad={rad}"))
        ax.text((xa + xb) / 2 + offset[0], (ya + yb) / 2 + offset[1], label, ha="center", va="center", fontsize=8,
                color=col, bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))

    def tg(cid):
        e = get(ds, cid, "TgC yr-1")
        return f"{e.value:.0f} ± {e.sigma:.0f}"

    arrow("eco", "riv", f"leaching\n{tg('river_leaching')}", OKABE_ITO[5], offset=(0, 0.45))
    arrow("riv", "atm", f"outgassing\n{tg('river_outgassing')}", OKABE_ITO[5], offset=(0.55, 0))
    arrow("riv", "bed", f"burial\n{tg('river_burial')}", OKABE_ITO[5], offset=(0.5, 0))
    arrow("riv", "ocn", f"export to ocean\n{tg('river_to_ocean')}", OKABE_ITO[5], offset=(0, 0.45))
    f_bl = get(ds, "rcc_frac_boundary_layer").value
    f_ex = get(ds, "rcc_frac_exported").value
    arrow("eco", "atm", f"RCC emission\n(VOC, CO, CH4)\n{f_bl:.0%} oxidised\nin China", OKABE_ITO[6],
          offset=(-0.75, 0.15))
    arrow("atm", "glob", f"RCC exported: {f_ex:.0%}\n(oxidised elsewhere,\nunseen by the inversion)", OKABE_ITO[6],
          offset=(0, -0.55))
    from .jiang2016 import TRADE_UNPLACED

    def tv(cid):
        return f"{get(ds, cid, 'TgC yr-1').value:.0f}"

    arrow("row", "wood", f"import {tv('trade_slide_19a')} + {tv('trade_slide_12')}\n(net import "
                         f"{tv('trade_slide_25')} = {tv('trade_slide_19a')} + {tv('trade_slide_12')} − "
                         f"{tv('trade_slide_6')})*", OKABE_ITO[1], offset=(0, -1.25), rad=-0.4)
    arrow("wood", "row", f"export {tv('trade_slide_6')}*", OKABE_ITO[1], offset=(-1.6, 0.18))
    arrow("eco", "wood", f"harvest\n{tv('trade_harvest_10')}", OKABE_ITO[1], offset=(-0.45, 0))
    rest = ", ".join(tv(c) for c in TRADE_UNPLACED)
    ax.text(5.0, -0.85, f"* our reading of the trade diagram (arrow labels only partly transcribed); numbers "
                       f"on the slide whose role we cannot recover: {rest} TgC yr-1.", ha="center", fontsize=7.5,
            style="italic")
    ax.set_title("Lateral carbon fluxes of China's land (TgC yr$^{-1}$; Jiang et al. 2016)", fontsize=11)
    return ax


def plot_topdown_bottomup(rep: dict, ax=None):
    """Bar chart of the top-down and bottom-up components with 1-sigma error bars [PgC yr-1, uptake +]."""
    import matplotlib.pyplot as plt

    from ..plotting import METHOD_COLOURS, OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    items = [
        ("inversion\n(case 3)", rep["topdown_inversion"]["estimate"], METHOD_COLOURS["top-down"], True),
        ("trade\n(our reading)", rep["trade_import"]["estimate"], METHOD_COLOURS["top-down"], False),
        ("RCC export\n(implied)", -rep["rcc_implied"]["estimate"], METHOD_COLOURS["top-down"], False),
        ("top-down\nland sink", rep["topdown"]["estimate"], METHOD_COLOURS["top-down"], False),
        ("vegetation", rep["vegetation"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("soil", rep["soil"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("vegetation\n+ soil", rep["veg_soil"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("bottom-up\nland sink", rep["bottomup"]["estimate"], METHOD_COLOURS["bottom-up"], False),
        ("closure:\nland sink", rep["land_sink"]["estimate"], OKABE_ITO[0], True),
        ("closure:\nNEP", rep["nep"]["estimate"], OKABE_ITO[7], True),
    ]
    x = np.arange(len(items))
    for i, (label, e, col, has_sig) in enumerate(items):
        nd = 3 if label in ("vegetation", "soil") else 2
        ax.bar(i, e.value, color=col, alpha=0.8, yerr=e.sigma if has_sig else None, capsize=4,
               hatch=None if has_sig else "//", edgecolor="k", lw=0.5)
        y = e.value + (e.sigma if has_sig else 0.0) + 0.02 if e.value >= 0 else e.value - 0.05
        ax.text(i, y, format_value(e.value, e.sigma, digits=nd) if has_sig else f"{round_half_up(e.value, 2):.2f}", ha="center",
                fontsize=7.5)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(-0.2, None)
    ax.set_xticks(x, [it[0] for it in items], fontsize=8)
    ax.set_ylabel("carbon sink (PgC yr$^{-1}$, uptake > 0)")
    ax.set_title("China's land sink: top-down (blue), bottom-up (green), closure; hatched = no sigma published",
                 fontsize=10)
    return ax


def plot_closure_sensitivity(table, ax=None, published: Estimate | None = None):
    """Land-sink estimate ± 1 sigma per bottom-up variant and combination rule (from :func:`closure_sensitivity`)."""
    import matplotlib.pyplot as plt

    from ..plotting import OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8))
    variants = list(dict.fromkeys(table["variant"]))
    rules = list(dict.fromkeys(table["rule"]))
    for j, rule in enumerate(rules):
        sub = table[table["rule"] == rule].set_index("variant").loc[variants]
        y = np.arange(len(variants)) + (j - (len(rules) - 1) / 2) * 0.18
        col = (OKABE_ITO[1], OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[7], OKABE_ITO[6])[j % 5]
        ax.errorbar(sub["value"], y, xerr=sub["sigma"], fmt="o", ms=4, capsize=3, color=col, label=rule)
    if published is not None:
        ax.axvspan(published.value - published.sigma, published.value + published.sigma, color="0.85", zorder=0,
                   label=f"published {format_value(published.value, published.sigma, digits=2)}")
        ax.axvline(published.value, color="0.4", lw=1, zorder=0)
    ax.set_yticks(np.arange(len(variants)), variants, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("land sink (PgC yr$^{-1}$, uptake > 0)")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.4, -0.13), ncol=3)
    ax.set_title("Closure land sink under alternative conventions (1 sigma bars)")
    return ax


