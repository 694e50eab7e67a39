"""Night-time flux partitioning (Reichstein et al. 2005), as REddyProc ``sMRFluxPartition``.

Reichstein M. et al. (2005) On the separation of net ecosystem exchange into assimilation and
ecosystem respiration: review and improved algorithm. Global Change Biology 11:1424–1439,
doi:10.1111/j.1365-2486.2005.001002.x. Implementation details follow REddyProc 1.3
(Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018):

1. Night = measured Rg <= 10 W m-2 and potential radiation == 0; only measured NEE (``NEE_fqc == 0``)
   and measured temperature.
2. Short-term E0: Lloyd–Taylor fits in windows of ±7 days (15 d) moved by 5 days, > 6 records and
   a temperature range >= 5 K; refit after trimming residuals outside the 5–95 % quantiles (E0_trim).
   A window is valid if E0_trim − SD > 30 K and E0_trim + SD < 350 K (Tair; 550 K for soil T).
   E0 = mean of the 3 valid E0_trim with the smallest SD (one E0 per site-year).
3. Rref with E0 fixed in windows of ±3 days (7 d) moved by 4 days (> 2 records, regression through
   the origin), attached to the mean record of the window; negative Rref dropped; linear
   interpolation in between, constant at the ends.
4. RECO = LT(Rref(t), E0, T); GPP = RECO − NEE_f.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from ._common import PartitionResult, flux_dataarray, interpolate_at_records, prepare_inputs
from ._kernels import nt_e0_windows, nt_rref_windows
from .respiration import TREF_DEGC
from .respiration import lloyd_taylor

__all__ = ["partition_nt", "night_mask_nt", "nt_e0_short_term"]


def night_mask_nt(rg: np.ndarray, potrad: np.ndarray, rg_threshold: float = 10.0) -> np.ndarray:
    """Night for NT: measured Rg <= threshold [W m-2] and potential radiation == 0 (missing Rg = not night)."""
    rg = np.asarray(rg, dtype=float)
    return np.isfinite(rg) & (rg <= rg_threshold) & (np.asarray(potrad) <= 0)


def nt_e0_short_term(day_counter, nee_night, t_c, *, win_days: int = 7, step_days: int = 5,
                     temperature_range: float = 5.0, perc_trim: float = 5.0, min_records: int = 6,
                     e0_bounds=(30.0, 350.0), n_best: int = 3, tref_degc: float = TREF_DEGC,
                     where: str = "dataset") -> tuple[float, pd.DataFrame]:
    """Short-term E0 regressions and the best-``n_best`` mean [K]; returns (E0, window table).

    Raises DataError when fewer than ``n_best`` windows pass the validity check (REddyProc code −111).
    """
    arr = nt_e0_windows(np.asarray(day_counter, dtype=np.int64), np.asarray(nee_night, float),
                        np.asarray(t_c, float), int(win_days), int(step_days), float(temperature_range),
                        float(perc_trim), int(min_records), float(tref_degc))
    tab = pd.DataFrame(arr, columns=["start_day", "end_day", "n", "t_range", "rref", "sd_rref", "e0", "sd_e0",
                                     "e0_trim", "sd_e0_trim", "fitted", "mid_day"])
    lo, hi = e0_bounds
    valid = (tab.e0_trim - tab.sd_e0_trim > lo) & (tab.e0_trim + tab.sd_e0_trim < hi)
    tab["valid"] = valid.fillna(False).astype(bool)
    tab["qc"] = np.where(tab.valid, 0, np.where(tab.fitted > 0, 1002, 1011)).astype(int)
    good = tab[tab.valid].sort_values("sd_e0_trim", kind="stable")
    if len(good) < n_best:
        raise DataError(located(f"only {len(good)} of {len(tab)} short-term windows gave a valid E0 "
                                f"(need {n_best}; bounds {lo}-{hi} K)", where=where,
                                fix="relax temperature_range (e.g. 3 K), check the night mask and units of T"))
    e0 = round(float(good.e0_trim.iloc[:n_best].mean()), 2)
    tab["used"] = tab.index.isin(good.index[:n_best])
    # SD of the mean of the n_best estimates (treated as independent): sqrt(sum sd^2) / n_best
    tab.attrs["e0_sd"] = float(np.sqrt((good.sd_e0_trim.iloc[:n_best] ** 2).sum()) / n_best)
    return e0, tab


def partition_nt(ds: xr.Dataset, *, temperature: str = "TA", rg_threshold: float = 10.0,
                 temperature_range: float = 5.0, e0_bounds: tuple[float, float] | None = None,
                 e0_fixed: float | None = None, tref_degc: float = TREF_DEGC) -> PartitionResult:
    """Night-time partitioning (Reichstein et al. 2005; REddyProc ``sMRFluxPartition``).

    Parameters
    ----------
    ds : xarray.Dataset
        Standard site dataset after u* filtering and MDS gap filling (see
        :mod:`landcarbon.flux._common` for the variables: NEE_f, NEE_fqc, TA(_f), SW_IN, ...).
    temperature : {"TA", "TS"}
        Temperature used for both fitting and prediction (E0 bounds 30–350 K for TA, 30–550 K for TS).
    rg_threshold : float
        Night when measured Rg <= this [W m-2] and potential radiation is 0.
    temperature_range : float
        Minimum temperature range [K] of an E0 window (REddyProc default 5; 3 is the relaxed option).
    e0_fixed : float, optional
        Use this E0 [K] instead of estimating it (REddyProc ``debug$fixedE0``).

    Returns
    -------
    PartitionResult
        ``reco`` = LT(Rref(t), E0, T) and ``gpp`` = RECO − NEE_f [umol CO2 m-2 s-1] (NEE > 0 is
        release, NEE = RECO − GPP); ``params`` = Rref windows (``qc`` 0 fitted, 1002 negative
        Rref dropped, 1011 too few records); ``info['e0']`` [K], ``info['e0_sd']`` [K] (SD of the
        best-3 mean) and ``info['e0_windows']``.
    """
    where = f"site {ds.attrs.get('site', '?')} (NT)"
    inp = prepare_inputs(ds, where=where)
    if temperature == "TA":
        t_fit, t_pred = inp.ta_meas, inp.ta
        bounds = e0_bounds or (30.0, 350.0)
    elif temperature == "TS":
        if "TS" not in inp.others:
            raise DataError(located("temperature='TS' but the dataset has no TS", where=where,
                                    fix="use temperature='TA'"))
        t_fit = t_pred = inp.others["TS"]
        bounds = e0_bounds or (30.0, 550.0)
    else:
        raise DataError(located(f"unknown temperature {temperature!r}", where=where, fix="use 'TA' or 'TS'"))
    night = night_mask_nt(inp.rg, inp.potrad, rg_threshold)
    y = np.where(night, inp.nee_meas, np.nan)
    t_fit = np.where(np.isfinite(y), t_fit, np.nan)
    if e0_fixed is None:
        e0, e0tab = nt_e0_short_term(inp.day_counter, y, t_fit, temperature_range=temperature_range,
                                     e0_bounds=bounds, where=where)  # E0 does not depend on Tref: fit at 15 degC
    else:
        e0, e0tab = float(e0_fixed), pd.DataFrame()
    arr = nt_rref_windows(inp.day_counter, y, t_fit, float(e0), 3, 4, 2, float(tref_degc))
    tab = pd.DataFrame(arr, columns=["start_day", "end_day", "n", "rec", "rref", "sd_rref"])
    neg = tab.rref < 0
    tab["qc"] = np.where(tab.rref.isna(), 1011, np.where(neg, 1002, 0)).astype(int)
    tab.loc[neg, "rref"] = np.nan
    tab["e0"] = e0
    tab["tref_degC"] = tref_degc
    ok_rec = tab.rec.notna()
    tab["time"] = pd.NaT
    tab.loc[ok_rec, "time"] = inp.time[tab.rec[ok_rec].astype(int).to_numpy()]
    n = inp.nee_f.size
    rref_t = interpolate_at_records(n, tab.rec.to_numpy(float), tab.rref.to_numpy(float))
    reco = lloyd_taylor(t_pred, rref_t, e0, tref_degc=tref_degc)
    gpp = reco - inp.nee_f
    res = PartitionResult(
        method="NT",
        gpp=flux_dataarray(gpp, ds, "GPP", "gross primary production (night-time method)", "NT"),
        reco=flux_dataarray(reco, ds, "RECO", "ecosystem respiration (night-time method)", "NT"),
        params=tab,
        info={"e0": float(e0), "e0_sd": float(e0tab.attrs.get("e0_sd", 0.0)), "e0_windows": e0tab,
              "temperature": temperature, "tref_degC": tref_degc,
              "n_rref_windows": int((tab.qc == 0).sum())},
        extra={"RREF": xr.DataArray(rref_t, coords={"time": ds["time"].values}, dims="time",
                                    attrs={"units": "umol m-2 s-1", "tref_degC": tref_degc}),
               "NEE_night": xr.DataArray(y, coords={"time": ds["time"].values}, dims="time",
                                         attrs={"units": "umol m-2 s-1"})},
    )
    return res
