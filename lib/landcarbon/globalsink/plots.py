"""Figures of the global land-sink chapter (matplotlib; every figure names its data and marks the demo twin).

Colours (Okabe–Ito, colour-blind safe) are fixed per budget term so a term looks the same in every figure.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..plotting import mark_demo
from .sink import airborne_fraction, annual_index

__all__ = ["TERM_COLOURS", "plot_budget_stack", "plot_residual_sink", "plot_g_atm", "plot_enso", "plot_editions",
           "plot_airborne_fraction", "add_source"]

TERM_COLOURS = {
    "fossil_emissions": "#4D4D4D",
    "land_use_change_emissions": "#E69F00",
    "atmospheric_growth": "#56B4E9",
    "ocean_sink": "#0072B2",
    "land_sink": "#009E73",
    "budget_imbalance": "#CC79A7",
    "land_sink_residual": "#009E73",
    "noaa": "#D55E00",
}
_PGC = "PgC yr$^{-1}$"


def _ax(ax, **kw):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(layout="constrained", **kw)
    return ax


def _signed(x: float, fmt: str = "+.2f") -> str:
    """A signed number with a true minus sign (U+2212), as typeset text expects."""
    return format(x, fmt).replace("-", "\u2212")


def _headroom(ax, frac: float = 0.35) -> None:
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + frac * (hi - lo))


def add_source(ax, text: str, *, demo: bool = False) -> None:
    """Write the data source in small grey type inside the lower-left corner; stamp DEMO data."""
    ax.text(0.01, 0.015, text, transform=ax.transAxes, fontsize=7.5, color="0.35", ha="left", va="bottom")
    if demo:
        mark_demo(ax)


def plot_budget_stack(res: xr.Dataset, *, ax=None, source: str = "", demo: bool = False):
    """Sources stacked above zero (E_FOS net of carbonation, E_LUC), their fate stacked below (G_ATM, S_OCEAN,
    model S_LAND) and the budget imbalance hatched, as the Global Carbon Budget's summary figure does.

    Below zero, S_LAND + B_IM is the residual land sink: the hatched band shows how much of it the
    vegetation models do not explain (above the green band: models larger than the residual)."""
    ax = _ax(ax, figsize=(9, 5))
    y = res["year"].values
    up = [("fossil_emissions", "fossil CO$_2$ (net of cement carbonation)"), ("land_use_change_emissions", "land-use change")]
    down = [("atmospheric_growth", "atmosphere (growth)"), ("ocean_sink", "ocean sink"), ("land_sink", "land sink (vegetation models)")]
    ax.stackplot(y, *[res[k].values for k, _ in up], colors=[TERM_COLOURS[k] for k, _ in up],
                 labels=[lab for _, lab in up], alpha=0.9, linewidth=0)
    ax.stackplot(y, *[-res[k].values for k, _ in down], colors=[TERM_COLOURS[k] for k, _ in down],
                 labels=[lab for _, lab in down], alpha=0.9, linewidth=0)
    bottom = -sum(res[k].values for k, _ in down)
    ax.fill_between(y, bottom, bottom - res["budget_imbalance"].values, facecolor="none",
                    edgecolor=TERM_COLOURS["budget_imbalance"], hatch="////", linewidth=0.0, label="budget imbalance")
    total = res["fossil_emissions"].values + res["land_use_change_emissions"].values
    ax.plot(y, -total, color="k", lw=0.8, ls="--", label="emissions, mirrored")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlim(y[0], y[-1])
    _headroom(ax, 0.25)
    ax.set_ylabel(f"CO$_2$ flux ({_PGC})\nsources ↑   sinks ↓")
    ax.set_xlabel("year")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    add_source(ax, source, demo=demo)
    return ax


def plot_residual_sink(res: xr.Dataset, *, oni: xr.DataArray | None = None, trends: pd.DataFrame | None = None,
                       ax=None, source: str = "", demo: bool = False, el_nino_threshold: float = 0.5):
    """Residual land sink with its ±1σ band, the models' S_LAND, El Niño years shaded and Theil–Sen trend lines."""
    ax = _ax(ax, figsize=(9, 4.6))
    y = res["year"].values
    r, s = res["land_sink_residual"].values, res["land_sink_residual_sigma"].values
    if oni is not None:
        idx = annual_index(oni)
        warm = [int(k) for k, v in zip(idx["year"].values, idx.values) if np.isfinite(v) and v >= el_nino_threshold
                and y[0] <= k <= y[-1]]
        for k, yr in enumerate(warm):
            ax.axvspan(yr - 0.5, yr + 0.5, color="#F0E442", alpha=0.35, lw=0,
                       label=f"El Niño year (annual-mean ONI ≥ {el_nino_threshold} K)" if k == 0 else None)
    ax.fill_between(y, r - s, r + s, color=TERM_COLOURS["land_sink_residual"], alpha=0.2, lw=0, label="±1σ")
    ax.plot(y, r, color=TERM_COLOURS["land_sink_residual"], lw=1.8, label="residual land sink $S_{LAND,res}$")
    ax.plot(y, res["land_sink"].values, color="0.3", lw=1.0, ls=":", label="vegetation models $S_{LAND}$")
    if trends is not None:
        for _, row in trends[trends["series"] == "land_sink_residual"].iterrows():
            yy = np.arange(row["start"], row["end"] + 1)
            ax.plot(yy, row["intercept"] + row["slope_per_year"] * (yy - row["start"]), lw=1.4, ls="--",
                    color="#D55E00" if row["start"] == y[0] else "#0072B2",
                    label=f"Theil–Sen {row['period']}: {_signed(10 * row['slope_per_year'])} {_PGC} per decade (p = {row['p']:.2g})")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlim(y[0] - 0.5, y[-1] + 0.5)
    _headroom(ax, 0.3)
    ax.set_xlabel("year")
    ax.set_ylabel(f"land sink ({_PGC}, uptake > 0)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    add_source(ax, source, demo=demo)
    return ax


def plot_g_atm(table: pd.DataFrame, *, axes=None, source: str = "", demo: bool = False):
    """Top: G_ATM of the budget and from NOAA × 2.124 with NOAA's ±1σ; bottom: the difference and ±1σ."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True, gridspec_kw={"height_ratios": [2, 1]},
                               layout="constrained")
    a, b = axes
    y = table["year"].values
    a.fill_between(y, table["noaa"] - table["sigma"], table["noaa"] + table["sigma"], color=TERM_COLOURS["noaa"],
                   alpha=0.2, lw=0, label="NOAA ±1σ")
    a.plot(y, table["noaa"], color=TERM_COLOURS["noaa"], lw=1.6, label="NOAA global growth rate × 2.124 PgC ppm$^{-1}$")
    a.plot(y, table["budget"], color="k", lw=0.9, ls="--", marker=".", ms=3, label="budget $G_{ATM}$")
    a.set_ylabel(f"$G_{{ATM}}$ ({_PGC})")
    a.legend(loc="upper left", fontsize=8)
    b.fill_between(y, -table["sigma"], table["sigma"], color=TERM_COLOURS["noaa"], alpha=0.2, lw=0, label="NOAA ±1σ")
    b.plot(y, table["difference"], color="k", lw=1.0, marker=".", ms=3, label="NOAA − budget")
    b.axhline(0, color="k", lw=0.5)
    b.set_ylabel(f"difference ({_PGC})")
    b.set_xlabel("year")
    b.legend(loc="lower left", fontsize=8, ncol=2)
    add_source(a, source, demo=demo)
    if demo:
        mark_demo(b)
    return axes


def plot_enso(enso: dict, profile: pd.DataFrame | None = None, *, axes=None, source: str = "", demo: bool = False):
    """Left: detrended land sink vs annual-mean ONI with the OLS line and its 95 % band; right: slope vs lag."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2 if profile is not None else 1, figsize=(10.5, 4.4), squeeze=False,
                               gridspec_kw={"width_ratios": [3, 2]} if profile is not None else None, layout="constrained")
        axes = axes[0]
    a = axes[0]
    x, yv, yr = enso["x"], enso["y_detrended"] - enso["intercept"], enso["year"]
    sc = a.scatter(x, yv, c=yr, cmap="viridis", s=22, edgecolor="k", linewidth=0.3)
    plt.colorbar(sc, ax=a, label="year")
    xx = np.linspace(np.nanmin(x), np.nanmax(x), 50)
    a.fill_between(xx, enso["ci_low"] * xx, enso["ci_high"] * xx, color="0.6", alpha=0.3, lw=0, label="95 % interval of the slope")
    a.plot(xx, enso["slope"] * xx, color="#D55E00", lw=1.8,
           label=f"slope {_signed(enso['slope'], '.2f')} [{_signed(enso['ci_low'], '.2f')}, {_signed(enso['ci_high'], '.2f')}]"
                 f" {_PGC} K$^{{-1}}$")
    for k in np.argsort(np.abs(yv))[-4:]:
        a.annotate(str(int(yr[k])), (x[k], yv[k]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    a.axhline(0, color="k", lw=0.5)
    a.axvline(0, color="k", lw=0.5)
    a.set_xlabel(f"annual-mean ONI (K), lag {enso['lag_months']} months")
    a.set_ylabel(f"detrended land sink anomaly ({_PGC})")
    a.legend(loc="upper right", fontsize=8)
    _headroom(a, 0.2)
    add_source(a, source, demo=demo)
    if profile is not None:
        b = axes[1]
        b.fill_between(profile["lag_months"], profile["ci_low"], profile["ci_high"], color="0.6", alpha=0.3, lw=0,
                       label="95 % interval")
        b.plot(profile["lag_months"], profile["slope"], color="#D55E00", marker="o", ms=3, lw=1.4, label="slope")
        b.axhline(0, color="k", lw=0.5)
        b.set_xlabel("months by which the ONI window leads December")
        b.set_ylabel(f"sensitivity ({_PGC} K$^{{-1}}$)")
        b.legend(loc="lower right", fontsize=8)
        if demo:
            mark_demo(b)
    return axes


def plot_editions(cmp: xr.Dataset, *, axes=None, source: str = "", demo: bool = False):
    """Top: residual and model land sink in both editions; bottom: revision (new − old) of each term."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(9, 6.4), sharex=True, gridspec_kw={"height_ratios": [3, 2]},
                               layout="constrained")
    a, b = axes
    y = cmp["year"].values
    new, old = cmp.attrs.get("new", "new"), cmp.attrs.get("old", "old")
    a.plot(y, cmp["land_sink_residual_new"], color=TERM_COLOURS["land_sink"], lw=1.8, label=f"residual, {new}")
    a.plot(y, cmp["land_sink_residual_old"], color=TERM_COLOURS["land_sink"], lw=1.2, ls="--", label=f"residual, {old}")
    a.plot(y, cmp["land_sink_new"], color="0.25", lw=1.0, label=f"models, {new}")
    a.plot(y, cmp["land_sink_old"], color="0.25", lw=1.0, ls=":", label=f"models, {old}")
    a.set_ylabel(f"land sink ({_PGC})")
    a.legend(loc="upper left", fontsize=8, ncol=2)
    for v, lab in (("land_sink_residual", "residual land sink"), ("land_sink", "model land sink"),
                   ("land_use_change_emissions", "land-use change"), ("ocean_sink", "ocean sink"),
                   ("atmospheric_growth", "atmospheric growth"), ("fossil_emissions", "fossil")):
        b.plot(y, cmp[v + "_revision"], lw=1.6 if v == "land_sink_residual" else 1.0,
               color=TERM_COLOURS.get(v, "0.5") if v != "land_sink" else "0.25",
               ls="-" if v != "land_sink" else ":", label=lab)
    b.axhline(0, color="k", lw=0.5)
    b.set_ylabel(f"revision ({_PGC})\n{new} − {old}")
    b.set_xlabel("year")
    lo, hi = b.get_ylim()
    b.set_ylim(lo - 0.3 * (hi - lo), hi)
    b.legend(loc="lower left", fontsize=7.5, ncol=3)
    _headroom(a, 0.25)
    add_source(a, source, demo=demo)
    if demo:
        mark_demo(b)
    return axes


def plot_airborne_fraction(res: xr.Dataset, trends: pd.DataFrame | None = None, *, ax=None, source: str = "",
                           demo: bool = False):
    """Airborne fraction G_ATM / (E_FOS + E_LUC) with ±1σ and Theil–Sen trend lines."""
    ax = _ax(ax, figsize=(9, 3.8))
    af = airborne_fraction(res)
    y = res["year"].values
    v, s = af["airborne_fraction"].values, af["airborne_fraction_sigma"].values
    ax.fill_between(y, v - s, v + s, color="0.5", alpha=0.2, lw=0, label="±1σ")
    ax.plot(y, v, color="k", lw=1.4, label="airborne fraction")
    if trends is not None:
        for _, row in trends[trends["series"] == "airborne_fraction"].iterrows():
            yy = np.arange(row["start"], row["end"] + 1)
            ax.plot(yy, row["intercept"] + row["slope_per_year"] * (yy - row["start"]), lw=1.4, ls="--",
                    color="#D55E00" if row["start"] == y[0] else "#0072B2",
                    label=f"Theil–Sen {row['period']}: {_signed(10 * row['slope_per_year'], '+.3f')} per decade (p = {row['p']:.2g})")
    ax.set_xlim(y[0] - 0.5, y[-1] + 0.5)
    _headroom(ax, 0.3)
    ax.set_ylabel("airborne fraction (–)")
    ax.set_xlabel("year")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    add_source(ax, source, demo=demo)
    return ax
