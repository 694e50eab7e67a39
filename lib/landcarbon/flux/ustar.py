"""Friction-velocity (u*) threshold by the moving-point method and u* filtering of night-time NEE.

Method: Papale et al. (2006), Biogeosciences 3:571–583, doi:10.5194/bg-3-571-2006, as implemented
in REddyProc (``usEstUstarThreshold``, ``usEstUstarThresholdSingleFw2Binned``,
``sEstimateUstarScenarios``; Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018), whose defaults
are used here:

1. valid records: night (SW_IN < 10 W m-2) with finite NEE, TA, u* and SW_IN;
2. seasons: DJF/MAM/JJA/SON as REddyProc ``usCreateSeasonFactorMonth`` (season starts in March,
   June, September, December; January–February of the first year form their own season; December
   joins the following January–February); each season belongs to the year of its middle record;
3. within a season, 7 air-temperature classes of equal size (equal values kept together); a class
   is skipped when |corr(T, u*)| >= 0.5;
4. within a class, 20 u* classes; the class is skipped if the mean u* of the first class exceeds
   0.2 m s-1; the threshold is the mean u* of the first u* class whose mean NEE, and that of the next
   class, reach 95 % of the mean NEE of their following 10 classes ("forward mode 2"); none -> NaN;
5. season value = median over temperature classes (NaN when fewer than 20 % of classes gave a value);
   year value = maximum over the seasons of the year (pooled estimate over the whole year when the
   year has < 3000 valid records or no seasonal value); overall value = median over years;
6. uncertainty: ``n_boot`` estimates (the first on the original data, the others on records
   resampled with replacement within each season) give the 5/50/95 % quantiles (REddyProc
   ``nSample``; quantiles NaN when < 40 % of the samples gave a value). The REddyProc default
   scenarios use the ANNUAL values for all seasons of a year.

Papale et al. (2006) state 6 temperature classes and a 99 % plateau criterion; REddyProc uses 7 and
95 % (``usControlUstarSubsetting``/``usControlUstarEst``). We default to REddyProc so that results can
be compared with it; pass ``n_temp_classes=6, plateau_crit=0.99`` for the paper's variant.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, located
from ._kernels_ustar import season_temp_class_thresholds

__all__ = ["UstarResult", "ustar_threshold", "apply_ustar_filter", "season_factor", "estimate_ustar_once"]


def _mid_times(ds: xr.Dataset) -> np.ndarray:
    t = ds["time"].values.astype("datetime64[ns]")
    step = int(ds.attrs.get("timestep_seconds", 1800))
    if ds.attrs.get("time_label", "end") == "end":
        t = t - np.timedelta64(step // 2, "s")
    return t


def season_factor(time_mid, start_months=(3, 6, 9, 12)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Season id per record as REddyProc ``usCreateSeasonFactorMonth`` (year*1000 + start month).

    Parameters
    ----------
    time_mid : datetime64 array, middle of each averaging interval.
    start_months : months at which a season starts (default DJF/MAM/JJA/SON: 3, 6, 9, 12).

    Returns
    -------
    season : int64 array (e.g. 1998001 = Jan–Feb 1998, 1998012 = Dec 1998 [+ Jan–Feb 1999])
    season_ids : sorted unique season ids
    season_year : year of each season id (year of the middle of its first and last record)
    """
    t = np.asarray(time_mid).astype("datetime64[ns]")
    y = t.astype("datetime64[Y]").astype(np.int64) + 1970
    m = t.astype("datetime64[M]").astype(np.int64) % 12 + 1
    sm = sorted(set(int(v) for v in start_months))
    years = np.unique(y)
    starts = [(int(yy) * 1000 + mm) for yy in years for mm in sm]
    if sm[0] != 1:
        starts = [int(years[0]) * 1000 + 1] + starts
    starts = np.array(sorted(starts), dtype=np.int64)
    ym = y * 1000 + m
    idx = np.searchsorted(starts, ym, side="right") - 1
    season = starts[idx]
    ids = np.unique(season)
    season_year = np.empty(ids.size, dtype=np.int64)
    tn = t.astype(np.int64)
    for i, s in enumerate(ids):
        sel = np.flatnonzero(season == s)
        xc = tn[sel[0]] + (tn[sel[-1]] - tn[sel[0]]) // 2
        season_year[i] = np.datetime64(int(xc), "ns").astype("datetime64[Y]").astype(np.int64) + 1970
    return season, ids, season_year


@dataclass
class _Controls:
    n_temp_classes: int = 7
    n_ustar_classes: int = 20
    plateau_fwd: int = 10
    plateau_crit: float = 0.95
    corr_check: float = 0.5
    first_ustar_mean_check: float = 0.2
    min_n_plateau: int = 3
    min_records_season: int = 160
    min_records_temp: int = 100
    min_records_year: int = 3000
    min_valid_temp_class_prop: float = 0.2
    min_valid_boot_prop: float = 0.4
    sw_threshold: float = 10.0


def _estimate_from_arrays(T, U, F, season, season_ids, season_year, ctrl: _Controls):
    """One full estimate (seasons, years, overall) from valid night records. Pure function."""
    ns = season_ids.size
    tclass = np.full((ns, ctrl.n_temp_classes), np.nan)
    n_rec = np.zeros(ns, dtype=np.int64)
    order = np.argsort(season, kind="stable")
    s_sorted = season[order]
    bounds = np.searchsorted(s_sorted, season_ids, side="left"), np.searchsorted(s_sorted, season_ids, side="right")

    def _one(sel):
        return season_temp_class_thresholds(
            T[sel], U[sel], F[sel], ctrl.n_temp_classes, ctrl.n_ustar_classes, ctrl.plateau_fwd,
            ctrl.plateau_crit, ctrl.corr_check, ctrl.first_ustar_mean_check, ctrl.min_n_plateau,
            ctrl.min_records_season, ctrl.min_records_temp)

    def _agg(tc):
        fin = np.isfinite(tc)
        if fin.sum() / tc.size < ctrl.min_valid_temp_class_prop:
            return np.nan
        return float(np.median(tc[fin]))

    season_est = np.full(ns, np.nan)
    for i in range(ns):
        sel = np.sort(order[bounds[0][i]:bounds[1][i]])  # keep record order (ties as REddyProc)
        n_rec[i] = sel.size
        if sel.size:
            tclass[i] = _one(sel)
            season_est[i] = _agg(tclass[i])
    years = np.unique(season_year)
    year_max = np.full(years.size, np.nan)
    year_pooled = np.full(years.size, np.nan)
    year_n = np.zeros(years.size, dtype=np.int64)
    for j, yy in enumerate(years):
        in_y = season_year == yy
        year_n[j] = n_rec[in_y].sum()
        fin = np.isfinite(season_est[in_y])
        if fin.any():
            year_max[j] = season_est[in_y][fin].max()
        if (year_n[j] < ctrl.min_records_year or not fin.any()) and year_n[j] > 0:
            sel = np.flatnonzero(np.isin(season, season_ids[in_y]))
            year_pooled[j] = _agg(_one(sel))
    year_aggr = np.where(np.isfinite(year_pooled), year_pooled, year_max)
    single = float(np.nanmedian(year_aggr)) if np.isfinite(year_aggr).any() else np.nan
    year_aggr = np.where(np.isfinite(year_aggr), year_aggr, single)
    yi = np.searchsorted(years, season_year)
    season_aggr = np.where(np.isfinite(season_est), season_est, year_aggr[yi])
    return {
        "single": single, "years": years, "year_aggr": year_aggr, "year_max": year_max,
        "year_pooled": year_pooled, "year_n": year_n, "season_est": season_est,
        "season_aggr": season_aggr, "season_n": n_rec, "temp_classes": tclass,
    }


@dataclass
class UstarResult:
    """Result of :func:`ustar_threshold`.

    Attributes
    ----------
    threshold : float
        Overall u* threshold [m s-1] (median over years of the annual values; for one year the
        annual value = maximum of the seasonal values). NaN if none could be estimated.
    quantiles : dict {5: q05, 50: q50, 95: q95}
        Bootstrap quantiles [m s-1] of the overall threshold.
    years : pandas.DataFrame
        Per year: ``year``, ``ustar`` (annual value), ``ustar_max_season``, ``ustar_pooled``,
        ``n_records``, ``q05``, ``q50``, ``q95``.
    seasons : pandas.DataFrame
        Per season: ``season`` (REddyProc id), ``season_year``, ``n_records``, ``ustar_season``
        (median over T classes), ``ustar`` (seasonal value or the year's when missing),
        ``q05``, ``q50``, ``q95``.
    scenarios : pandas.DataFrame
        REddyProc default scenarios (``usGetAnnualSeasonUStarMap``): per season the ANNUAL
        ``uStar``, ``U05``, ``U50``, ``U95`` of its year.
    temp_classes : ndarray (n_season, n_temp_classes)
        Threshold per season and temperature class (original data).
    boot : ndarray (n_boot, 1 + n_years + n_seasons)
        All estimates (row 0: original data) [m s-1]: overall, years, seasons.
    """

    threshold: float
    quantiles: dict
    years: pd.DataFrame
    seasons: pd.DataFrame
    scenarios: pd.DataFrame
    temp_classes: np.ndarray
    boot: np.ndarray
    n_boot: int
    seed: int | None
    controls: dict = field(default_factory=dict)
    n_valid_records: int = 0

    def threshold_per_record(self, ds: xr.Dataset, scenario: str = "uStar") -> np.ndarray:
        """Per-record threshold [m s-1] of ``ds`` for a scenario column (``uStar``, ``U05``, ``U50``, ``U95``)."""
        season, _, _ = season_factor(_mid_times(ds))
        m = dict(zip(self.scenarios["season"].to_numpy(), self.scenarios[scenario].to_numpy()))
        return np.array([m.get(int(s), np.nan) for s in season], dtype=float)


def _valid_night(ds: xr.Dataset, sw_threshold: float, *, nee="NEE", ta="TA", ustar="USTAR", sw="SW_IN"):
    for v in (nee, ta, ustar, sw):
        if v not in ds:
            raise DataError(located(f"missing variable {v}", where="ustar_threshold",
                                    fix="provide NEE, TA, USTAR and SW_IN (standard site dataset)"))
    F = ds[nee].values.astype(float)
    T = ds[ta].values.astype(float)
    U = ds[ustar].values.astype(float)
    R = ds[sw].values.astype(float)
    ok = np.isfinite(F) & np.isfinite(T) & np.isfinite(U) & np.isfinite(R) & (R < sw_threshold)
    return ok, T, U, F


def estimate_ustar_once(ds: xr.Dataset, **controls) -> dict:
    """Single u* estimate (no bootstrap) as a dict of arrays (see :func:`ustar_threshold`)."""
    ctrl = _Controls(**controls)
    ok, T, U, F = _valid_night(ds, ctrl.sw_threshold)
    season, ids, sy = season_factor(_mid_times(ds))
    return _estimate_from_arrays(T[ok], U[ok], F[ok], season[ok], ids, sy, ctrl)


def ustar_threshold(
    ds: xr.Dataset,
    n_boot: int = 100,
    seed: int | np.random.Generator | None = 0,
    *,
    probs=(0.05, 0.5, 0.95),
    **controls,
) -> UstarResult:
    """Moving-point u* threshold with bootstrap scenarios (Papale et al. 2006 as REddyProc).

    Parameters
    ----------
    ds : standard site dataset with NEE [umol m-2 s-1], TA [degC], USTAR [m s-1], SW_IN [W m-2].
    n_boot : int
        Number of estimates for the quantiles, INCLUDING the one on the original data (REddyProc
        ``nSample``; the reference DE-Tha run used 100). ``n_boot=1`` skips the bootstrap.
    seed : int or numpy.random.Generator
        Random stream of the within-season resampling.
    probs : quantile probabilities (default 5, 50, 95 %).
    **controls : override REddyProc defaults: ``n_temp_classes`` (7), ``n_ustar_classes`` (20),
        ``plateau_fwd`` (10), ``plateau_crit`` (0.95), ``corr_check`` (0.5),
        ``first_ustar_mean_check`` (0.2 m s-1), ``min_records_season`` (160),
        ``min_records_temp`` (100), ``min_records_year`` (3000), ``sw_threshold`` (10 W m-2).

    Returns
    -------
    UstarResult
        ``.threshold`` [m s-1], ``.quantiles`` {5, 50, 95}, per-year/season tables, scenarios.
    """
    if n_boot < 1:
        raise ConfigError(located(f"n_boot={n_boot}", where="ustar_threshold", fix="use n_boot >= 1"))
    ctrl = _Controls(**controls)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    ok, T, U, F = _valid_night(ds, ctrl.sw_threshold)
    season, ids, sy = season_factor(_mid_times(ds))
    if ok.sum() == 0:
        raise DataError(located("no valid night-time records (finite NEE, TA, USTAR, SW_IN < 10)",
                                where="ustar_threshold", fix="check the variables and the night threshold"))
    res0 = _estimate_from_arrays(T[ok], U[ok], F[ok], season[ok], ids, sy, ctrl)
    ny, nsn = res0["years"].size, ids.size
    boot = np.full((n_boot, 1 + ny + nsn), np.nan)
    boot[0] = np.r_[res0["single"], res0["year_aggr"], res0["season_aggr"]]
    # resampling within each season over ALL its records (REddyProc resamples before validity filtering)
    groups = [np.flatnonzero(season == s) for s in ids]
    for b in range(1, n_boot):
        idx = np.concatenate([g[rng.integers(0, g.size, g.size)] for g in groups])
        okb = ok[idx]
        ii = idx[okb]
        r = _estimate_from_arrays(T[ii], U[ii], F[ii], season[ii], ids, sy, ctrl)
        if r["years"].size == ny:
            boot[b] = np.r_[r["single"], r["year_aggr"], r["season_aggr"]]
        else:
            boot[b, 0] = r["single"]
    q = np.full((boot.shape[1], len(probs)), np.nan)
    for j in range(boot.shape[1]):
        col = boot[:, j]
        fin = np.isfinite(col)
        if fin.sum() / n_boot >= ctrl.min_valid_boot_prop and fin.any():
            q[j] = np.quantile(col[fin], probs)  # linear interpolation = R quantile type 7
    pk = [int(round(p * 100)) for p in probs]
    years = pd.DataFrame({"year": res0["years"], "ustar": res0["year_aggr"], "ustar_max_season": res0["year_max"],
                          "ustar_pooled": res0["year_pooled"], "n_records": res0["year_n"]})
    seasons = pd.DataFrame({"season": ids, "season_year": sy, "n_records": res0["season_n"],
                            "ustar_season": res0["season_est"], "ustar": res0["season_aggr"]})
    for k, p in enumerate(pk):
        years[f"q{p:02d}"] = q[1:1 + ny, k]
        seasons[f"q{p:02d}"] = q[1 + ny:, k]
    yi = np.searchsorted(res0["years"], sy)
    scen = pd.DataFrame({"season": ids, "uStar": res0["year_aggr"][yi]})
    for k, p in enumerate(pk):
        scen[f"U{p:02d}"] = q[1 + yi, k]
    return UstarResult(
        threshold=float(res0["single"]), quantiles={p: float(q[0, k]) for k, p in enumerate(pk)},
        years=years, seasons=seasons, scenarios=scen, temp_classes=res0["temp_classes"], boot=boot,
        n_boot=int(n_boot), seed=seed if isinstance(seed, (int, np.integer)) else None,
        controls=ctrl.__dict__.copy(), n_valid_records=int(ok.sum()))


def apply_ustar_filter(
    ds: xr.Dataset,
    threshold,
    *,
    var: str = "NEE",
    scenario: str = "uStar",
    sw_threshold: float = 10.0,
    filter_daytime: bool = False,
) -> xr.Dataset:
    """Set night-time ``var`` to NaN when u* is below the threshold or missing (REddyProc rule).

    Rule (REddyProc ``sMDSGapFillAfterUstar``): a record is checked when it is night
    (SW_IN < ``sw_threshold`` or SW_IN missing; all records with ``filter_daytime=True``); it is
    flagged 1 when u* < threshold, 3 when no threshold is available, 4 when u* is missing.
    Flagged records of ``var`` become NaN.

    Parameters
    ----------
    threshold : float [m s-1], array per record, or :class:`UstarResult` (per-season values of
        ``scenario``: "uStar" = annual estimate, "U05", "U50", "U95").

    Returns
    -------
    xarray.Dataset
        Copy of ``ds`` with ``var`` filtered (NEE > 0 = release, µmol m-2 s-1), ``USTAR_FLAG`` (int8:
        0 ok, 1 low turbulence, 3 no threshold, 4 u* missing), ``USTAR_THRESHOLD`` [m s-1], and
        attrs ``ustar_filtered_records``.
    """
    if isinstance(threshold, UstarResult):
        thr = threshold.threshold_per_record(ds, scenario)
    else:
        thr = np.broadcast_to(np.asarray(threshold, dtype=float), ds.sizes["time"]).astype(float)
    u = ds["USTAR"].values.astype(float)
    sw = ds["SW_IN"].values.astype(float)
    rows = np.ones(u.size, dtype=bool) if filter_daytime else (~np.isfinite(sw) | (sw < sw_threshold))
    flag = np.zeros(u.size, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        flag[rows & np.isfinite(thr) & (u < thr)] = 1
    flag[rows & ~np.isfinite(thr)] = 3
    flag[rows & ~np.isfinite(u)] = 4
    out = ds.copy()
    v = out[var].values.astype(float).copy()
    n_before = int(np.isfinite(v).sum())
    v[flag != 0] = np.nan
    out[var] = (ds[var].dims, v, ds[var].attrs)
    out["USTAR_FLAG"] = ("time", flag, {"units": "1", "long_name": "u* filter flag",
                                        "flag_meaning": "0 ok, 1 u* below threshold, 3 no threshold, 4 u* missing"})
    out["USTAR_THRESHOLD"] = ("time", thr, {"units": "m s-1", "long_name": "u* threshold applied"})
    out.attrs["ustar_filtered_records"] = int(n_before - np.isfinite(v).sum())
    return out
