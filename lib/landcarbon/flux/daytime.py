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
   the SDs of the annual sums aggregate the windows' contributions (:func:`annual_sum_sd`) and add
   the effect of the E0 error by a refit with E0 + SD(E0) (:func:`e0_sensitivity`).
   FP_qc: 0 all parameters fitted, 1 some fixed/refit, 2 nearest estimate > 14 days away.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._common import (Inputs, PartitionResult, day_night_masks, flux_dataarray, prepare_inputs, window_layout)
from .lightresponse import LightResponseCurve, RectangularHyperbola, fit_lrc_windows, predict_lrc
from .respiration import TREF_DEGC, arrhenius_term, night_temperature_sensitivity

__all__ = ["partition_dt", "nee_sd_for_fit", "annual_sum_sd", "e0_sensitivity", "WINDOW_OVERLAP_CORRELATION"]

#: Correlation of the parameter errors of neighbouring 4-day windows moved by 2 days: they share half
#: their records, so the correlation of their estimates is about 1/2 (our approximation).
WINDOW_OVERLAP_CORRELATION = 0.5


def nee_sd_for_fit(inp: Inputs, day: np.ndarray, *, floor_quantile: float = 0.3) -> np.ndarray:
    """σ of the day-time fit [µmol m-2 s-1]: NEE_fsd, floored at its ``floor_quantile`` over the
    day records used (REddyProc ``isBoundLowerNEEUncertainty``)."""
    sd = inp.nee_sd.copy()
    miss = ~np.isfinite(sd)
    sd[miss] = np.maximum(0.7, 0.2 * np.abs(inp.nee_f[miss]))
    used = day & np.isfinite(inp.nee_meas) & np.isfinite(sd)
    if used.any() and floor_quantile > 0:
        sd = np.maximum(sd, np.quantile(sd[used], floor_quantile))
    return sd


def annual_sum_sd(pred: dict, *, step_seconds: float, xterm: np.ndarray | None = None,
                  lrc: LightResponseCurve | None = None, rg_wm2=None, vpd_hpa=None, yterm=None, mult=None,
                  day=None, sd_a_col: str | None = None, sd_b_col: str | None = None,
                  rho: float = WINDOW_OVERLAP_CORRELATION) -> dict:
    """SD [gC m-2] of the period totals of GPP and RECO from the window parameter uncertainty.

    The total is Σ_w Σ_t c_w(t)·F_w(t) (c = interpolation weight of window w at record t). To first
    order its error is Σ_w G_wᵀ δθ_w with G_w = Σ_t c_w(t) ∂F_w(t)/∂θ_w; with the window covariance Σ_w
    (:func:`~landcarbon.flux.lightresponse.fit_lrc_windows`), v_w = G_wᵀ Σ_w G_w and neighbouring
    windows correlated by ``rho`` (they share half their records; our approximation):
    Var = Σ_w v_w + 2ρ Σ_w √(v_w v_{w+1}). E0 (and for DT-RH the asymmetry) enter RECO through
    ∂R/∂a = R·x (resp. R·y) with the SD columns given. Returns {"GPP": sd, "RECO": sd} [gC m-2].
    """
    from ..units import umol_m2_s_to_gC_m2_per_step
    from .lightresponse import LRC_PARAMETERS, _curve_and_grad, _vpd_limitation_and_grad

    ww = pred.get("window_weights")
    if ww is None:
        return {"GPP": float("nan"), "RECO": float("nan")}
    ib, ia, wb, wa, good = ww
    lrc = RectangularHyperbola() if lrc is None else lrc
    n = ib.size
    rg = np.where(np.isfinite(rg_wm2), np.maximum(rg_wm2, 0.0), 0.0)
    yterm = np.zeros(n) if yterm is None else yterm
    mult = np.ones(n) if mult is None else mult
    day = np.ones(n, bool) if day is None else day
    ddm = np.where(day, 1.0, 0.0)
    nwin = len(good)
    gg = np.zeros((nwin, 4))
    gr = np.zeros((nwin, 4))
    ea = np.zeros(nwin)
    eb = np.zeros(nwin)
    to_g = umol_m2_s_to_gC_m2_per_step(1.0, step_seconds)
    for idx, w in ((ib, wb), (ia, wa)):
        p = good.iloc[idx]
        k, b0, al, rb = (p[c].to_numpy(float) for c in LRC_PARAMETERS)
        a, b = p["a"].to_numpy(float), p["b"].to_numpy(float)
        f, dfdk = _vpd_limitation_and_grad(vpd_hpa, k)
        g, dga, dgb = _curve_and_grad(lrc, rg, al, b0 * f)
        resp_unit = np.exp(a * xterm + ddm * b * yterm) * np.where(day, mult, 1.0)
        jg = np.stack([dgb * b0 * dfdk, dgb * f, dga, np.zeros(n)], axis=1)
        jr = np.stack([np.zeros(n), np.zeros(n), np.zeros(n), resp_unit], axis=1)
        np.add.at(gg, idx, np.nan_to_num(w[:, None] * jg) * to_g)
        np.add.at(gr, idx, np.nan_to_num(w[:, None] * jr) * to_g)
        np.add.at(ea, idx, np.nan_to_num(w * rb * resp_unit * xterm) * to_g)
        np.add.at(eb, idx, np.nan_to_num(w * rb * resp_unit * ddm * yterm) * to_g)
    covs = np.nan_to_num(np.stack(good["cov"].to_numpy()))
    sda = np.nan_to_num(good[sd_a_col].to_numpy(float)) if sd_a_col and sd_a_col in good else np.zeros(nwin)
    sdb = np.nan_to_num(good[sd_b_col].to_numpy(float)) if sd_b_col and sd_b_col in good else np.zeros(nwin)
    out = {}
    for name, gmat, extra in (("GPP", gg, np.zeros(nwin)), ("RECO", gr, (ea * sda) ** 2 + (eb * sdb) ** 2)):
        v = np.maximum(np.einsum("wi,wij,wj->w", gmat, covs, gmat), 0.0) + extra
        s = np.sqrt(v)
        out[name] = float(np.sqrt(v.sum() + 2.0 * rho * np.sum(s[:-1] * s[1:])))
    return out


def e0_sensitivity(sums_sd: dict, pred: dict, pred_shifted: dict, step_seconds: float) -> dict:
    """Add the effect of a shared E0 error to the SDs of the totals [gC m-2].

    E0 is estimated from night data and shared by (or smoothed across) the windows, so its error moves
    all windows the same way; its effect on the totals is the change of the totals when the windows
    are refitted with E0 + SD(E0) (``pred_shifted``), added in quadrature to the window part.
    """
    from ..units import umol_m2_s_to_gC_m2_per_step

    out = dict(sums_sd)
    for name, key in (("GPP", "gpp"), ("RECO", "reco")):
        d = float(np.nansum(umol_m2_s_to_gC_m2_per_step(pred_shifted[key] - pred[key], step_seconds)))
        out[name] = float(np.sqrt(sums_sd[name] ** 2 + d**2))
        out[f"{name}_e0_part"] = abs(d)
    return out


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
        GPP and RECO totals from the parameter uncertainty (:func:`annual_sum_sd`).
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
