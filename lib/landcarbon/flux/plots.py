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
