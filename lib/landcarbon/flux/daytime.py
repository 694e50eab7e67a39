"""Day-time flux partitioning (Lasslop et al. 2010), as REddyProc ``sGLFluxPartition``.

Lasslop G. et al. (2010) Separation of net ecosystem exchange into assimilation and respiration
using a light response curve approach: critical issues and global evaluation. Global Change
Biology 16:187–208, doi:10.1111/j.1365-2486.2009.02041.x; REddyProc 1.3 (Wutzler et al. 2018,
doi:10.5194/bg-15-5015-2018).

Model (per 4-day window, moved by 2 days):

.. math:: NEE = -GPP_{lrc}(R_g;\\,\\alpha, \\beta) + r_b\\,f_{LT}(T; E_0),\\qquad
          \\beta = \\beta_0 e^{-k(VPD - VPD_0)}\\ (VPD > VPD_0 = 10\\,hPa)

with the light-response curve of :mod:`landcarbon.flux.lightresponse` (rectangular hyperbola by
default, swappable with ``lrc=``) and Lloyd–Taylor respiration of :mod:`landcarbon.flux.respiration`.

1. Night (measured Rg <= 4 W m-2 and potential radiation 0) and day (Rg > 4 and potential
   radiation > 0) records with measured NEE (:func:`landcarbon.flux._common.day_night_masks`).
2. E0 per window from night data of 12 days centred on the window (extended to 24 and 48 days when
   the fit fails), accepted in [50, 400] K; smoothed over time by Gaussian-process regression
   (REddyProc uses R ``mlegp``; ours: squared-exponential kernel with the E0 SDs as nugget,
   hyper-parameters by maximum marginal likelihood;
   :func:`landcarbon.flux.respiration.night_temperature_sensitivity`). Night Rref (through-origin LS,
   E0 fixed) is the start value and prior location of rb.
3. Light-response fit of (k, β0, α, rb) with E0 fixed (:func:`landcarbon.flux.lightresponse.fit_lrc_windows`):
   weighted LS with σ = NEE_fsd (floored at its 30 % quantile), a β0 prior as REddyProc, 3 starts of
   β0, Lasslop Table A1 bounds and refits.
4. GPP and RECO predicted with the parameters of the previous and next valid window (gap-filled
   drivers) and combined with weights ∝ 1 − distance/gap (fluxes, not parameters, interpolated).
   Prediction SDs by first-order propagation of each window's full parameter covariance (JᵀJ)⁻¹ and
   the SD of E0 (REddyProc with ``nBootUncertainty = 0``; REddyProc's default bootstrap is not used);
   the SDs of the annual sums aggregate the windows' contributions and add the effect of the E0 error
   by a refit with E0 + SD(E0) (:func:`~landcarbon.flux.lightresponse.annual_sum_sd`,
   :func:`~landcarbon.flux.lightresponse.e0_sensitivity`).
   FP_qc: 0 all parameters fitted, 1 some fixed/refit, 2 nearest estimate > 14 days away.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._common import (Inputs, PartitionResult, day_night_masks, flux_dataarray, prepare_inputs, window_layout)
from .lightresponse import (WINDOW_OVERLAP_CORRELATION, LightResponseCurve, RectangularHyperbola,  # noqa: F401
                            annual_sum_sd, e0_sensitivity, fit_lrc_windows, nee_sd_for_fit, predict_lrc)
from .respiration import TREF_DEGC, arrhenius_term, night_temperature_sensitivity

__all__ = ["partition_dt", "nee_sd_for_fit", "annual_sum_sd", "e0_sensitivity", "WINDOW_OVERLAP_CORRELATION"]

def partition_dt(ds: xr.Dataset, *, smooth_e0: bool = True, min_records: int = 10, rg_threshold: float = 4.0,
                 tref_degc: float = TREF_DEGC, lrc: LightResponseCurve | None = None,
                 inputs: Inputs | None = None) -> PartitionResult:
    """Day-time partitioning (Lasslop et al. 2010; REddyProc ``sGLFluxPartition``).

    Parameters
    ----------
    ds : xarray.Dataset
        Standard site dataset after u* filtering and MDS gap filling (NEE_f, NEE_fqc, NEE_fsd,
        TA(_f), SW_IN(_f), VPD(_f)); see :mod:`landcarbon.flux._common`.
    smooth_e0 : bool
        Smooth the window E0 over time (REddyProc default) or forward-fill.
    min_records : int
        Least day-time records of a window fit.
    rg_threshold : float
        Day/night threshold of measured Rg [W m-2] (4, REddyProc).
    tref_degc : float
        Reference temperature of the reported rb [°C]; predictions do not depend on it.
    lrc : LightResponseCurve, optional
        The light-response curve (default :class:`~landcarbon.flux.lightresponse.RectangularHyperbola`).

    Returns
    -------
    PartitionResult
        ``gpp`` = light-response GPP and ``reco`` = rb·f_LT(T; E0) [µmol CO2 m-2 s-1], both from the
        model (NEE > 0 is release; NEE_model = RECO − GPP, which differs from NEE_f by the residual);
        ``params`` = one row per 4-day window (k, beta, alpha, rb, e0_night, SDs, covariance, ``code``,
        ``qc``); ``extra`` = GPP_SD, RECO_SD, FP_qc; ``info['annual_sd']`` = SDs [gC m-2] of the
        GPP and RECO totals from the parameter uncertainty (:func:`~landcarbon.flux.lightresponse.annual_sum_sd`).
    """
    inp = prepare_inputs(ds, where=f"site {ds.attrs.get('site', '?')} (DT)") if inputs is None else inputs
    lrc = RectangularHyperbola() if lrc is None else lrc
    n = inp.nee_f.size
    layout = window_layout(n, inp.rec_per_day)
    day, night = day_night_masks(inp.rg, inp.potrad, threshold=rg_threshold)
    ts = night_temperature_sensitivity(inp.nee_meas, inp.ta, night, layout, rec_per_day=inp.rec_per_day,
                                       smooth=smooth_e0, tref_degc=tref_degc)
    x = arrhenius_term(inp.ta, tref_degc=tref_degc)
    sd = nee_sd_for_fit(inp, day)
    tab = fit_lrc_windows(np.where(day, inp.nee_meas, np.nan), inp.rg, inp.vpd, sd, layout, xterm=x,
                          a_win=ts.e0_night.to_numpy(), rb_prior_mu=ts.rref_night.to_numpy(), lrc=lrc,
                          min_records=min_records, time=inp.time)
    tab = pd.concat([tab, ts], axis=1)
    tab["e0"] = tab["a"]
    rg_pred = np.where(np.isfinite(inp.rg_f), inp.rg_f, inp.rg)
    pred = predict_lrc(tab, rg_wm2=rg_pred, vpd_hpa=inp.vpd, xterm=x, rec_per_day=inp.rec_per_day, lrc=lrc,
                       sd_a_col="sd_e0_night")
    sums_sd = annual_sum_sd(pred, step_seconds=inp.step_seconds, xterm=x, lrc=lrc, rg_wm2=rg_pred,
                            vpd_hpa=inp.vpd)
    sd_e0 = np.nan_to_num(ts.sd_e0_night.to_numpy(float))
    if np.any(sd_e0 > 0):  # smoothed E0: errors of neighbouring windows move together -> shift all by their SD
        tab_e = fit_lrc_windows(np.where(day, inp.nee_meas, np.nan), inp.rg, inp.vpd, sd, layout, xterm=x,
                                a_win=ts.e0_night.to_numpy() + sd_e0, rb_prior_mu=ts.rref_night.to_numpy(), lrc=lrc,
                                min_records=min_records, n_starts=1)
        pred_e = predict_lrc(tab_e, rg_wm2=rg_pred, vpd_hpa=inp.vpd, xterm=x, rec_per_day=inp.rec_per_day, lrc=lrc)
        sums_sd = e0_sensitivity(sums_sd, pred, pred_e, inp.step_seconds)
    time = ds["time"].values
    return PartitionResult(
        method="DT",
        gpp=flux_dataarray(pred["gpp"], ds, "GPP", "gross primary production (day-time method)", "DT"),
        reco=flux_dataarray(pred["reco"], ds, "RECO", "ecosystem respiration (day-time method)", "DT"),
        params=tab,
        info={"n_windows": int(len(tab)), "n_windows_ok": int((tab.code == 0).sum()),
              "e0_mean": float(np.nanmean(ts.e0_night)), "tref_degC": tref_degc, "lrc": lrc.name,
              "annual_sd": sums_sd},
        extra={"GPP_SD": xr.DataArray(pred["gpp_sd"], coords={"time": time}, dims="time",
                                      attrs={"units": "umol m-2 s-1"}),
               "RECO_SD": xr.DataArray(pred["reco_sd"], coords={"time": time}, dims="time",
                                       attrs={"units": "umol m-2 s-1"}),
               "FP_qc": xr.DataArray(pred["qc"].astype(np.int8), coords={"time": time}, dims="time",
                                     attrs={"units": "1"})},
    )
