"""Day-time flux partitioning (Lasslop et al. 2010), as REddyProc ``sGLFluxPartition``.

Lasslop G. et al. (2010) Separation of net ecosystem exchange into assimilation and respiration
using a light response curve approach: critical issues and global evaluation. Global Change
Biology 16:187–208, doi:10.1111/j.1365-2486.2009.02041.x; REddyProc 1.3 (Wutzler et al. 2018,
doi:10.5194/bg-15-5015-2018).

Model (per 4-day window, moved by 2 days):

.. math:: NEE = -\\frac{\\alpha\\beta R_g}{\\alpha R_g + \\beta} + r_b\\,f_{LT}(T; E_0),\\qquad
          \\beta = \\beta_0 e^{-k(VPD - VPD_0)}\\ (VPD > VPD_0 = 10\\,hPa)

1. Night (measured Rg <= 4 W m-2 and potential radiation 0) and day (Rg > 4 and potential
   radiation > 0) records with measured NEE.
2. E0 per window from night data of 12 days centred on the window (extended to 24 and 48 days when
   the fit fails), accepted in [50, 400] K; smoothed over time by Gaussian-process regression
   (REddyProc uses R ``mlegp``; ours: squared-exponential kernel with the E0 SDs as nugget,
   hyper-parameters by maximum marginal likelihood). Night Rref (through-origin LS, E0 fixed) is
   the start value and prior location of rb.
3. LRC fit of (k, β0, α, rb) with E0 fixed: weighted LS with σ = NEE_fsd (floored at its 30 %
   quantile), a β0 prior as REddyProc, 3 starts of β0, Lasslop Table A1 bounds and refits
   (k < 0 → k = 0; α > 0.22 → α of the previous good window; reject α < 0, rb < 0, β0 < 0,
   β0 >= 250, β0 > 4·prior, β0 > 100 with SD >= β0). Levenberg–Marquardt in numba.
4. GPP and RECO predicted with the parameters of the previous and next valid window (gap-filled
   drivers) and combined with weights ∝ 1 − distance/gap (fluxes, not parameters, interpolated).
   Prediction SDs by first-order propagation of the parameter covariance (JᵀJ)⁻¹ and sdE0
   (REddyProc with ``nBootUncertainty = 0``; REddyProc's default bootstrap is not used).
   FP_qc: 0 all parameters fitted, 1 some fixed/refit, 2 nearest estimate > 14 days away.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.linalg import cho_factor, cho_solve

from ._common import Inputs, PartitionResult, flux_dataarray, neighbour_weights, prepare_inputs
from ._kernels import T0_C, TREF_C, VPD0_HPA, dt_windows, lt_fit, rref_through_origin

__all__ = ["partition_dt", "dt_window_layout", "night_temperature_sensitivity", "fit_lrc_windows",
           "predict_from_windows", "smooth_e0_gp", "day_night_masks_dt"]


def day_night_masks_dt(rg: np.ndarray, potrad: np.ndarray, threshold: float = 4.0):
    """(day, night) masks of the DT method from measured Rg [W m-2] and potential radiation."""
    rg = np.asarray(rg, float)
    fin = np.isfinite(rg)
    day = fin & (rg > threshold) & (potrad > 0)
    night = fin & (rg <= threshold) & (potrad <= 0)
    return day, night


def dt_window_layout(n: int, rec_per_day: int, win_days: int = 4, stride_days: int = 2) -> pd.DataFrame:
    """Reference windows of ``win_days`` moved by ``stride_days`` (REddyProc ``applyWindows``).

    Columns: start_day (0-based), rec_start, rec_end (exclusive), rec_centre.
    """
    nday = int(np.ceil(n / rec_per_day))
    starts = np.arange(0, max(nday - win_days // 2, 1), stride_days)
    rs = starts * rec_per_day
    re_ = np.minimum((starts + win_days) * rec_per_day, n)
    centre = np.minimum(rs + win_days * rec_per_day // 2, n - 1)
    return pd.DataFrame({"start_day": starts, "rec_start": rs, "rec_end": re_, "rec_centre": centre})


def _extended(layout: pd.DataFrame, n: int, rpd: int, win_days: int, size_days: int):
    ext = (size_days - win_days) / 2.0
    s = np.clip(((layout.start_day - ext) * rpd).round().astype(int), 0, n)
    e = np.clip(((layout.start_day + win_days + ext) * rpd).round().astype(int), 0, n)
    return s.to_numpy(), e.to_numpy()


def smooth_e0_gp(x: np.ndarray, e0: np.ndarray, sd: np.ndarray):
    """Gaussian-process smoothing of window E0 over time (our formulation of REddyProc's mlegp step).

    Constant mean (GLS), squared-exponential covariance s²·exp(−d²/(2ℓ²)) plus the window SDs² as
    nugget; s and ℓ by maximum marginal likelihood. Windows without an estimate get the posterior
    mean. Returns (E0_smooth, sd_smooth) [K]. With < 3 estimates: forward/backward fill.
    """
    x = np.asarray(x, float)
    e0 = np.asarray(e0, float)
    sd = np.asarray(sd, float)
    ok = np.isfinite(e0)
    if ok.sum() == 0:
        return np.full_like(e0, np.nan), np.full_like(e0, np.nan)
    sdq = np.nanquantile(sd[ok], 0.9) if np.isfinite(sd[ok]).any() else 50.0
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, sdq)
    if ok.sum() < 3 or np.nanstd(e0[ok]) < 0.01 * abs(np.nanmean(e0[ok])):
        s = pd.Series(np.where(ok, e0, np.nan)).ffill().bfill().to_numpy()
        return s, np.where(ok, sd, sdq * 1.5)
    xo, yo, no = x[ok], e0[ok], sd[ok] ** 2
    d2 = (xo[:, None] - xo[None, :]) ** 2
    one = np.ones_like(yo)

    def nll(s2, ell):
        k = s2 * np.exp(-0.5 * d2 / ell**2) + np.diag(no)
        try:
            c = cho_factor(k, lower=True)
        except np.linalg.LinAlgError:
            return np.inf
        ki1 = cho_solve(c, one)
        kiy = cho_solve(c, yo)
        mu = (one @ kiy) / (one @ ki1)
        r = yo - mu
        return 0.5 * r @ cho_solve(c, r) + np.log(np.diag(c[0])).sum()

    # maximum marginal likelihood on a fixed log grid (deterministic, ~100 Cholesky factorisations)
    v0 = max(float(np.var(yo)), 1.0)
    grid = [(v0 * a, ell) for a in np.geomspace(0.01, 10.0, 10) for ell in np.geomspace(3.0, 365.0, 12)]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # small matrices: threaded BLAS only adds overhead
        s2, ell = min(grid, key=lambda p: nll(*p))
        k = s2 * np.exp(-0.5 * d2 / ell**2) + np.diag(no)
        c = cho_factor(k, lower=True)
        ki1 = cho_solve(c, one)
        mu = (one @ cho_solve(c, yo)) / (one @ ki1)
        ks = s2 * np.exp(-0.5 * (x[:, None] - xo[None, :]) ** 2 / ell**2)
        mean = mu + ks @ cho_solve(c, yo - mu)
        var = s2 - np.einsum("ij,ji->i", ks, cho_solve(c, ks.T))
    return mean, np.sqrt(np.maximum(var, 0.0))


def night_temperature_sensitivity(inp: Inputs, layout: pd.DataFrame, night: np.ndarray, *,
                                  t_c: np.ndarray | None = None, win_night_days: int = 12,
                                  extend_days=(24, 48), e0_bounds=(50.0, 400.0), min_records: int = 10,
                                  smooth: bool = True, tref_c: float = TREF_C, win_days: int = 4) -> pd.DataFrame:
    """Per-window night-time E0 [K] (raw and smoothed) and night Rref [umol m-2 s-1] at Tref.

    E0 from a Lloyd–Taylor fit (reference temperature = median night T to decorrelate Rref and E0,
    start E0 = previous window's value or 100 K) in 12-day windows centred on each day window;
    records at T <= −1 °C dropped when >= 12 warmer remain; accepted in ``e0_bounds``. Then
    GP smoothing and Rref_night by regression through the origin in the 4-day window (extended to
    12 and 24 days when < 3 records).
    """
    n = inp.nee_f.size
    rpd = inp.rec_per_day
    t = inp.ta if t_c is None else t_c
    y = np.where(night & np.isfinite(inp.nee_meas) & np.isfinite(t), inp.nee_meas, np.nan)
    nw = len(layout)
    e0_raw = np.full(nw, np.nan)
    sd_raw = np.full(nw, np.nan)
    nn = np.zeros(nw, int)
    prev = 100.0
    for size in (win_night_days,) + tuple(extend_days):
        s, e = _extended(layout, n, rpd, win_days, size)
        for w in np.flatnonzero(~np.isfinite(e0_raw)):
            yy = y[s[w]:e[w]]
            tt = t[s[w]:e[w]]
            m = np.isfinite(yy)
            yy, tt = yy[m], tt[m]
            warm = tt > -1.0
            if warm.sum() >= 12:
                yy, tt = yy[warm], tt[warm]
            if size == win_night_days:
                nn[w] = yy.size
            if yy.size < min_records:
                continue
            tref_fit = float(np.median(tt))
            st_e0 = prev if np.isfinite(prev) else 100.0
            r, e0, sr, se, ssr, ok = lt_fit(tt, yy, float(np.mean(yy)), st_e0, tref_fit, 200)
            if ok and e0_bounds[0] <= e0 <= e0_bounds[1]:
                e0_raw[w], sd_raw[w] = e0, se
                prev = e0
    x = layout.start_day.to_numpy(float) + win_days / 2.0
    if smooth:
        e0_s, sd_s = smooth_e0_gp(x, e0_raw, sd_raw)
    else:
        sdq = np.nanquantile(sd_raw, 0.9) if np.isfinite(sd_raw).any() else np.nan
        e0_s = pd.Series(e0_raw).ffill().bfill().to_numpy()
        sd_s = np.where(np.isfinite(e0_raw), sd_raw, sdq)
    e0_s = np.clip(e0_s, e0_bounds[0], e0_bounds[1])
    rref = np.full(nw, np.nan)
    rref_sd = np.full(nw, np.nan)
    for size in (win_days, 12, 24):
        s, e = _extended(layout, n, rpd, win_days, size)
        for w in np.flatnonzero(~np.isfinite(rref)):
            if not np.isfinite(e0_s[w]):
                continue
            yy = y[s[w]:e[w]]
            m = np.isfinite(yy)
            if m.sum() < 3:
                continue
            r, sd = rref_through_origin(t[s[w]:e[w]][m], yy[m], float(e0_s[w]), tref_c)
            if np.isfinite(r) and r >= 0:
                rref[w], rref_sd[w] = r, sd
    return pd.DataFrame({"e0_night_raw": e0_raw, "sd_e0_night_raw": sd_raw, "e0_night": e0_s,
                         "sd_e0_night": sd_s, "rref_night": rref, "sd_rref_night": rref_sd, "n_night": nn})


def _sd_floor(inp: Inputs, day: np.ndarray, bound_lower: bool = True) -> np.ndarray:
    sd = inp.nee_sd.copy()
    miss = ~np.isfinite(sd)
    sd[miss] = np.maximum(0.7, 0.2 * np.abs(inp.nee_f[miss]))
    if bound_lower:
        used = day & np.isfinite(inp.nee_meas) & np.isfinite(sd)
        if used.any():
            sd = np.maximum(sd, np.quantile(sd[used], 0.3))
    return sd


def fit_lrc_windows(inp: Inputs, layout: pd.DataFrame, day: np.ndarray, e0_win: np.ndarray,
                    rb_prior_mu: np.ndarray, *, rb_prior_sd: np.ndarray | None = None,
                    mult: np.ndarray | None = None, t_c: np.ndarray | None = None,
                    min_records: int = 10, sd: np.ndarray | None = None, maxit: int = 100,
                    tol: float = 1e-6, tref_c: float = TREF_C, n_starts: int = 3,
                    beta_prior_factor: float = 20.0) -> pd.DataFrame:
    """Fit the light-response curve in every window (numba loop); returns the window table.

    Columns: k [hPa-1], beta [umol m-2 s-1], alpha [umol J-1], rb [umol m-2 s-1], their ``*_sd``,
    n_day, rec_mean, cost, code (0 ok, 1002 bounds, 1005 covariance, 1010 no E0, 1011 too few
    records), k_fixed, alpha_fixed, qc (0 all fitted, 1 some fixed, NaN no fit).
    ``beta_prior_factor``: REddyProc's β0 prior SD factor (20); ``np.inf`` = no β0 prior.
    """
    nw = len(layout)
    t = inp.ta if t_c is None else t_c
    sd = _sd_floor(inp, day) if sd is None else sd
    mult = np.ones(inp.nee_f.size) if mult is None else np.asarray(mult, float)
    rbsd = np.full(nw, np.nan) if rb_prior_sd is None else np.asarray(rb_prior_sd, float)
    y = np.where(day, inp.nee_meas, np.nan)
    par, psd, info = dt_windows(layout.rec_start.to_numpy(np.int64), layout.rec_end.to_numpy(np.int64),
                                day, inp.rg, inp.vpd, t, mult, y, sd, np.asarray(e0_win, float),
                                np.asarray(rb_prior_mu, float), rbsd, int(min_records),
                                int(maxit), float(tol), float(tref_c), int(n_starts), float(beta_prior_factor))
    tab = layout.copy()
    for j, nm in enumerate(("k", "beta", "alpha", "rb")):
        tab[nm] = par[:, j]
        tab[nm + "_sd"] = psd[:, j]
    tab["n_day"] = info[:, 0]
    tab["rec_mean"] = info[:, 1]
    tab["cost"] = info[:, 2]
    tab["code"] = info[:, 3].astype(int)
    tab["k_fixed"] = info[:, 4] > 0
    tab["alpha_fixed"] = info[:, 5] > 0
    tab["beta_prior"] = info[:, 6]
    tab["e0"] = e0_win
    tab["qc"] = np.where(tab.code == 0, (tab.k_fixed | tab.alpha_fixed).astype(float), np.nan)
    tab["time"] = inp.time[np.clip(tab.rec_mean.fillna(tab.rec_centre).astype(int), 0, inp.time.size - 1)]
    return tab


def _lt(t, e0, tref_c=TREF_C):
    t = np.maximum(t, -40.0)
    return np.exp(e0 * (1.0 / (tref_c - T0_C) - 1.0 / (t - T0_C)))


def predict_from_windows(inp: Inputs, tab: pd.DataFrame, *, day_pred: np.ndarray | None = None,
                         resp_e0_col: str = "e0", night_e0_col: str | None = None,
                         night_rb_col: str | None = None, mult: np.ndarray | None = None,
                         sd_e0_col: str | None = "sd_e0_night", t_c: np.ndarray | None = None,
                         tref_c: float = TREF_C, max_dist_days: float = 14.0):
    """GPP, RECO (+SDs, qc, distance) per record from the valid windows of ``tab``.

    Day-time RECO = rb·f_LT(T; E0_resp)·mult (mult = h(RH) for DT-RH); if ``night_e0_col``/``night_rb_col``
    are given, night records (``~day_pred``) use rb_night·f_LT(T; E0_night) instead (DT-RH,
    Keenan). Predictions of the windows before and after are combined with linear weights.
    """
    n = inp.nee_f.size
    t = inp.ta if t_c is None else t_c
    good = tab[(tab.code == 0) & tab.rec_mean.notna()].copy()
    good = good.drop_duplicates("rec_mean").sort_values("rec_mean")
    if good.empty:
        nan = np.full(n, np.nan)
        return nan, nan, nan, nan, np.full(n, 3), nan
    ib, ia, wb, wa, dist = neighbour_weights(n, good.rec_mean.to_numpy(float))
    rg = np.where(np.isfinite(inp.rg_f), inp.rg_f, inp.rg)
    rg = np.where(np.isfinite(rg), np.maximum(rg, 0.0), 0.0)
    vpd = inp.vpd
    gpp_out = np.zeros(n)
    reco_out = np.zeros(n)
    var_g = np.zeros(n)
    var_r = np.zeros(n)
    lt_inv = 1.0 / (tref_c - T0_C) - 1.0 / (np.maximum(t, -40.0) - T0_C)
    for idx, w in ((ib, wb), (ia, wa)):
        p = good.iloc[idx]
        k, b0, al, rb = (p[c].to_numpy(float) for c in ("k", "beta", "alpha", "rb"))
        e0 = p[resp_e0_col].to_numpy(float)
        above = vpd > VPD0_HPA
        e = np.where(above, np.exp(-k * (vpd - VPD0_HPA)), 1.0)
        b = b0 * e
        den = al * rg + b
        g = np.where(den > 0, al * b * rg / np.where(den > 0, den, 1), 0.0)
        h = 1.0 if mult is None else mult
        r_day = rb * _lt(t, e0, tref_c) * h
        reco = r_day
        if night_e0_col is not None:
            dmask = day_pred if day_pred is not None else rg > 4
            e0n = p[night_e0_col].to_numpy(float)
            rbn = p[night_rb_col].to_numpy(float) if night_rb_col else rb
            r_night = rbn * _lt(t, e0n, tref_c)
            reco = np.where(dmask, r_day, r_night)
        gpp_out += w * g
        reco_out += w * reco
        # first-order variance with parameter SDs (independent parameters; covariances not stored)
        dg_db = np.where(den > 0, al * al * rg * rg / np.where(den > 0, den, 1) ** 2, 0.0)
        dg_da = np.where(den > 0, b * b * rg / np.where(den > 0, den, 1) ** 2, 0.0)
        dbdk = np.where(above, -(vpd - VPD0_HPA) * b, 0.0)
        sk, sb, sa, sr = (np.nan_to_num(p[c + "_sd"].to_numpy(float)) for c in ("k", "beta", "alpha", "rb"))
        se = np.nan_to_num(p[sd_e0_col].to_numpy(float)) if sd_e0_col and sd_e0_col in p else 0.0
        vg = (dg_db * dbdk * sk) ** 2 + (dg_db * e * sb) ** 2 + (dg_da * sa) ** 2
        vr = (reco / np.where(rb != 0, rb, 1) * sr) ** 2 + (reco * lt_inv * se) ** 2
        var_g += w**2 * vg
        var_r += w**2 * vr
    qc = np.where(good.qc.to_numpy()[ib] > 0, 1, 0) | np.where(good.qc.to_numpy()[ia] > 0, 1, 0)
    qc = np.where(dist > max_dist_days * inp.rec_per_day, 2, qc)
    return gpp_out, reco_out, np.sqrt(var_g), np.sqrt(var_r), qc, dist


def partition_dt(ds: xr.Dataset, *, smooth_e0: bool = True, min_records: int = 10,
                 rg_threshold: float = 4.0, tref_c: float = TREF_C, inputs: Inputs | None = None,
                 _return_parts: bool = False) -> PartitionResult:
    """Day-time partitioning (Lasslop et al. 2010; REddyProc ``sGLFluxPartition``).

    Parameters
    ----------
    ds : xarray.Dataset
        Standard site dataset after u* filtering and MDS gap filling (NEE_f, NEE_fqc, NEE_fsd,
        TA(_f), SW_IN(_f), VPD(_f)); see :mod:`landcarbon.flux._common`.
    smooth_e0 : bool
        Smooth the window E0 over time (REddyProc default) or forward-fill.

    Returns
    -------
    PartitionResult
        ``gpp`` = LRC GPP and ``reco`` = rb·f_LT(T; E0) [umol CO2 m-2 s-1], both from the model
        (NEE > 0 is release; NEE_model = RECO − GPP, which differs from NEE_f by the residual);
        ``params`` = one row per 4-day window (k, beta, alpha, rb, E0, SDs, ``code``, ``qc``);
        ``extra`` = GPP_SD, RECO_SD, FP_qc.
    """
    inp = prepare_inputs(ds, where=f"site {ds.attrs.get('site', '?')} (DT)") if inputs is None else inputs
    n = inp.nee_f.size
    layout = dt_window_layout(n, inp.rec_per_day)
    day, night = day_night_masks_dt(inp.rg, inp.potrad, rg_threshold)
    ts = night_temperature_sensitivity(inp, layout, night, smooth=smooth_e0, tref_c=tref_c)
    tab = fit_lrc_windows(inp, layout, day, ts.e0_night.to_numpy(), ts.rref_night.to_numpy(),
                          min_records=min_records, tref_c=tref_c)
    tab = pd.concat([tab, ts], axis=1)
    gpp, reco, sdg, sdr, qc, dist = predict_from_windows(inp, tab, tref_c=tref_c)
    time = ds["time"].values
    res = PartitionResult(
        method="DT",
        gpp=flux_dataarray(gpp, ds, "GPP", "gross primary production (day-time method)", "DT"),
        reco=flux_dataarray(reco, ds, "RECO", "ecosystem respiration (day-time method)", "DT"),
        params=tab,
        info={"n_windows": int(len(tab)), "n_windows_ok": int((tab.code == 0).sum()),
              "e0_mean": float(np.nanmean(ts.e0_night)), "tref_degC": tref_c},
        extra={"GPP_SD": xr.DataArray(sdg, coords={"time": time}, dims="time", attrs={"units": "umol m-2 s-1"}),
               "RECO_SD": xr.DataArray(sdr, coords={"time": time}, dims="time", attrs={"units": "umol m-2 s-1"}),
               "FP_qc": xr.DataArray(qc.astype(np.int8), coords={"time": time}, dims="time", attrs={"units": "1"})},
    )
    if _return_parts:
        return res, (inp, layout, day, night, ts)
    return res
