"""Plotting conventions shared by every chapter: style, colour-blind-safe colours, maps.

Colour choices: the Okabe–Ito qualitative palette (Okabe & Ito 2008, "Color Universal Design") for
methods/categories; perceptually uniform ``viridis``/``cividis`` for magnitudes and the diverging
``RdBu_r`` (ColorBrewer, colour-blind safe) for signed anomalies and trends.
"""
from __future__ import annotations

__all__ = ["OKABE_ITO", "METHOD_COLOURS", "SEQUENTIAL_CMAP", "DIVERGING_CMAP", "apply_style"]

#: Okabe–Ito palette (black first), colour-blind safe.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

#: Fixed colours per method, so a method looks the same in every chapter.
METHOD_COLOURS = {
    "truth": "#000000",
    "NT": "#0072B2",
    "DT": "#E69F00",
    "DT-RH": "#009E73",
    "LI": "#CC79A7",
    "RF": "#D55E00",
    "NN": "#56B4E9",
    "REddyProc": "#999999",
    "prior": "#999999",
    "posterior": "#0072B2",
    "top-down": "#0072B2",
    "bottom-up": "#009E73",
}

SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"


def apply_style() -> None:
    """Deterministic, readable matplotlib defaults (fixed DPI, Okabe–Ito cycle, no date-dependent text)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (7.5, 4.2),
        "axes.prop_cycle": cycler(color=OKABE_ITO[1:] + OKABE_ITO[:1]),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": SEQUENTIAL_CMAP,
        "legend.frameon": False,
        "font.size": 10,
        "svg.hashsalt": "landcarbon",  # deterministic SVG ids
    })
