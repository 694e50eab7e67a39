"""Trends at flux towers: monthly records tested season by season, field significance over the towers, and
regional tests per climate zone.

A tower's monthly ER has a seasonal cycle and months that are correlated with each other. The seasonal
Mann–Kendall test (Hirsch, Slack & Smith 1982) compares each month only with the same month of other years;
its correlated version (Hirsch & Slack 1984) also allows for the covariance between the months of a year
(:mod:`.mk`). Towers with at least ``min_years`` complete years are tested; the many tower p-values are
controlled for the false discovery rate (Benjamini & Hochberg 1995, with α_FDR = 2α as recommended by Wilks
2016 for correlated fields). The regional Kendall test (Helsel & Frans 2006) asks whether the towers of a
climate zone share a monotonic trend of their annual means.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from .field import fdr_significance
from .mk import mk_test, multivariate_test

__all__ = ["complete_years", "site_trends", "zone_regional_tests"]


def complete_years(da: xr.DataArray) -> xr.DataArray:
    """Number of calendar years with all 12 months valid, per series (dims of ``da`` without time)."""
    full = np.isfinite(da).groupby("time.year").sum("time") == 12
    return full.sum("year")


def site_trends(sites: xr.Dataset, var: str = "RECO_NT", *, min_years: int = 10, alpha: float = 0.05,
                alpha_global: float = 0.05) -> pd.DataFrame:
    """Seasonal and correlated seasonal Mann–Kendall tests of each tower's monthly ``var`` with FDR control.

    Parameters
    ----------
    sites : xarray.Dataset
        Standard site table (site, time; monthly, month-start stamps), e.g. FLUXNET2015 MM.
    var : str
        Monthly flux [gC m-2 d-1].
    min_years : int
        Towers need at least this many complete years (12 valid months).
    alpha, alpha_global : float
        Local level of the tests; FDR control at α_FDR = 2·alpha_global over the tested towers.

    Returns
    -------
    pandas.DataFrame, one row per tested tower: ``site``, ``climate_zone``, ``PFT``, ``years`` (complete),
    ``first``/``last`` year, ``slope`` (seasonal Sen slope [gC m-2 d-1 yr-1]), ``slope_low``/``slope_high``,
    ``slope_pct`` [% of the record mean per decade], ``p_seasonal``, ``p_correlated``,
    ``variance_factor`` (Var(S) with / without the covariances), ``significant`` (correlated test),
    ``q`` (Benjamini–Hochberg) and ``significant_fdr``.
    """
    if var not in sites:
        raise DataError(located(f"variable {var!r} not in the site table", where="site_trends"))
    da = sites[var].transpose("site", "time")
    t = pd.DatetimeIndex(da["time"].values)
    if not (t.is_monotonic_increasing and (t[0].month == 1)):
        raise DataError(located("the monthly record must start in January and be in time order", where="site_trends",
                                fix="select whole years (e.g. ds.sel(time=slice('1991', '2014')))"))
    ny = complete_years(da).values
    keep = np.flatnonzero(ny >= int(min_years))
    if keep.size == 0:
        return pd.DataFrame(columns=["site", "years", "slope", "p_correlated", "q", "significant_fdr"])
    x = da.values[keep].astype(float)
    seas = mk_test(x, "seasonal", alpha, period=12)
    corr = mk_test(x, "correlated_seasonal", alpha, period=12)
    years = t.year.to_numpy()
    valid = np.isfinite(x)
    first = np.array([years[v].min() for v in valid])
    last = np.array([years[v].max() for v in valid])
    mean = np.nanmean(x, axis=1)
    out = pd.DataFrame({
        "site": sites["site"].values[keep].astype(str),
        "climate_zone": sites["climate_zone"].values[keep].astype(str) if "climate_zone" in sites.coords else "",
        "PFT": sites["PFT"].values[keep].astype(str) if "PFT" in sites.coords else "",
        "lat": sites["lat"].values[keep] if "lat" in sites.coords else np.nan,
        "lon": sites["lon"].values[keep] if "lon" in sites.coords else np.nan,
        "years": ny[keep].astype(int), "first": first, "last": last,
        "slope": seas["slope"], "slope_low": seas["slope_low"], "slope_high": seas["slope_high"],
        "slope_pct": 100.0 * 10.0 * seas["slope"] / mean,
        "p_seasonal": seas["p"], "p_correlated": corr["p"], "variance_factor": corr["variance_factor"],
        "significant": corr["significant"],
    })
    sig, thr, q = fdr_significance(out["p_correlated"].to_numpy(), 2 * alpha_global)
    out["q"] = q
    out["significant_fdr"] = sig
    out.attrs.update({"var": var, "units_slope": "gC m-2 d-1 yr-1", "p_fdr_threshold": thr,
                      "alpha_fdr": 2 * alpha_global, "min_years": int(min_years)})
    return out


def zone_regional_tests(sites: xr.Dataset, var: str = "RECO_NT", *, min_years: int = 5,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Regional Kendall test (Helsel & Frans 2006) of the annual means of the towers of each climate zone.

    Annual means need 12 valid months; towers with fewer than ``min_years`` such years are left out. Each
    tower is a column of the (year × tower) matrix with its own gaps; the test sums the towers' S and Var(S)
    and assumes independent towers (a shared trend or shared weather between neighbouring towers makes the
    p-value optimistic — reported as is).
    """
    da = sites[var].transpose("site", "time")
    full = np.isfinite(da).groupby("time.year").sum("time") == 12
    annual = da.groupby("time.year").mean("time").where(full)
    rows = []
    for zone in ("boreal", "temperate", "tropical"):
        sel = (sites["climate_zone"].values == zone) & (full.sum("year").values >= int(min_years))
        if sel.sum() < 2:
            continue
        m = annual.values[sel].T                                        # (year, tower)
        r = multivariate_test(m, "regional", alpha)
        rows.append({"zone": zone, "towers": int(sel.sum()), "tower-years": int(np.isfinite(m).sum()),
                     "slope": float(r["slope"]), "tau": float(r["tau"]), "z": float(r["z"]), "p": float(r["p"]),
                     "significant": bool(r["significant"])})
    out = pd.DataFrame(rows)
    out.attrs.update({"units_slope": "gC m-2 d-1 yr-1"})
    return out
