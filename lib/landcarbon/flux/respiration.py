"""Ecosystem respiration after Lloyd & Taylor (1994): the one home of the formula, and its fits.

.. math:: R(T) = R_{ref} \\exp\\left(E_0\\left(\\frac{1}{T_{ref}-T_0} - \\frac{1}{T-T_0}\\right)\\right)

with T, Tref and T0 = −46.02 °C (227.13 K) in °C (only differences matter) and E0 in K.
Lloyd J., Taylor J.A. (1994) On the temperature dependence of soil respiration. Functional
Ecology 8:315–323, doi:10.2307/2389824. The reference temperature is 15 °C as in REddyProc and
ONEFlux; predicted respiration does not depend on Tref, only the reported Rref does. Temperatures
below −40 °C are clamped to −40 °C (REddyProc ``pmax(-40, T)``) to stay away from the singularity.

Every module of the package takes the formula from here: the NumPy functions :func:`arrhenius_term`
and :func:`lloyd_taylor` for arrays, their scalar ``@njit`` twins :func:`arrhenius_term_scalar` and
:func:`lloyd_taylor_scalar` for the numba kernels (:mod:`landcarbon.flux._kernels`), and the demo
generator (:mod:`landcarbon.flux.demo`). The fits (:func:`fit_lloyd_taylor`, :func:`fit_rref`) and
the night-time temperature sensitivity of the day-time methods (:func:`night_temperature_sensitivity`)
live here too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from numba import njit

__all__ = ["lloyd_taylor", "lloyd_taylor_scalar", "arrhenius_term", "arrhenius_term_scalar", "day_night_ratio",
           "fit_lloyd_taylor", "fit_rref", "q10_from_e0", "night_temperature_sensitivity", "smooth_e0_gp",
           "T0_DEGC", "TREF_DEGC", "T_GUARD_DEGC"]

#: Lloyd & Taylor (1994) regression temperature T0 [°C] (227.13 K).
T0_DEGC = -46.02
#: Reference temperature of Rref [°C] (REddyProc NT and DT, ONEFlux).
TREF_DEGC = 15.0
#: Lower temperature guard [°C] (REddyProc ``pmax(-40, T)``).
T_GUARD_DEGC = -40.0


def arrhenius_term(t_degc, *, tref_degc: float = TREF_DEGC):
    """The Lloyd–Taylor temperature term 1/(Tref − T0) − 1/(T − T0) [K⁻¹].

    Parameters
    ----------
    t_degc : array_like
        Temperature [°C], clamped to ≥ −40 °C.
    tref_degc : float
        Reference temperature [°C].

    Returns
    -------
    ndarray [K⁻¹]; respiration is ``rref * exp(e0 * arrhenius_term(t))``.

    Examples
    --------
    >>> float(arrhenius_term(15.0))
    0.0
    >>> round(float(arrhenius_term(25.0)), 6)
    0.002308
    """
    t = np.maximum(np.asarray(t_degc, dtype=float), T_GUARD_DEGC)
    return 1.0 / (tref_degc - T0_DEGC) - 1.0 / (t - T0_DEGC)


@njit(cache=True)
def arrhenius_term_scalar(t_degc, tref_degc):  # pragma: no cover - numba twin, tested via the kernels
    """Scalar ``@njit`` twin of :func:`arrhenius_term` [K⁻¹] (same guard)."""
    t = max(t_degc, T_GUARD_DEGC)
    return 1.0 / (tref_degc - T0_DEGC) - 1.0 / (t - T0_DEGC)


def lloyd_taylor(t_degc, rref, e0, *, tref_degc: float = TREF_DEGC):
    """Ecosystem respiration after Lloyd & Taylor (1994) [units of ``rref``, e.g. µmol CO2 m-2 s-1].

    Parameters
    ----------
    t_degc : array-like or xarray.DataArray
        Air or soil temperature [°C] (clamped to ≥ −40 °C).
    rref : float or array
        Respiration at ``tref_degc`` [µmol CO2 m-2 s-1].
    e0 : float or array
        Activation temperature E0 [K] (100–400 K typical).
    tref_degc : float
        Reference temperature [°C] (15, as REddyProc and ONEFlux).

    Returns
    -------
    Same type as ``t_degc``; an xarray input keeps its coords and gets ``units`` of umol m-2 s-1.
    Respiration is a release (positive, part of NEE = RECO − GPP).

    Notes
    -----
    .. math:: R = R_{ref} \\exp\\left(E_0\\left(\\frac{1}{T_{ref}-T_0} - \\frac{1}{T-T_0}\\right)\\right),
              \\; T_0 = -46.02\\,°C

    References
    ----------
    .. [1] Lloyd J., Taylor J.A. (1994) Functional Ecology 8:315–323, doi:10.2307/2389824

    Examples
    --------
    >>> float(lloyd_taylor(15.0, 2.0, 150.0))
    2.0
    >>> round(float(lloyd_taylor(25.0, 2.0, 150.0)), 4)
    2.8272
    """
    out = np.asarray(rref, dtype=float) * np.exp(np.asarray(e0, dtype=float) * arrhenius_term(t_degc, tref_degc=tref_degc))
    if isinstance(t_degc, xr.DataArray):
        return xr.DataArray(out, coords=t_degc.coords, dims=t_degc.dims, name="RECO",
                            attrs={"units": "umol m-2 s-1", "long_name": "ecosystem respiration (Lloyd-Taylor)",
                                   "tref_degC": tref_degc})
    return out


@njit(cache=True)
def lloyd_taylor_scalar(t_degc, rref, e0, tref_degc):  # pragma: no cover - numba twin
    """Scalar ``@njit`` twin of :func:`lloyd_taylor` for the kernels."""
    return rref * np.exp(e0 * arrhenius_term_scalar(t_degc, tref_degc))


def day_night_ratio(t_degc, t_anchor_degc, e0_night, e0_day):
    r"""Day/night respiration ratio [1] at equal temperature for different day and night sensitivities.

    .. math:: \frac{ER_D}{ER_N} = \exp\bigl((E_{0,D} - E_{0,N})\,(x(T) - x(T_a))\bigr),\quad
              x(T) = \frac{1}{T_{ref}-T_0} - \frac{1}{T-T_0}

    **Our formulation** (after Li et al. 2022, doi:10.1016/j.agrformet.2021.108709, who report a
    day-time sensitivity E0,D different from the night-time E0,N): day-time respiration follows
    Lloyd–Taylor with E0,D upward from the anchor temperature T_a, where it equals night-time
    respiration. With T_a the day's minimum air temperature (the day/night transition at dawn) every
    day-time temperature is ≥ T_a, so E0,D ≤ E0,N gives a ratio ≤ 1 at every temperature (light
    inhibition, Keenan et al. 2019) and the ratio does not depend on Tref (x(T) − x(T_a) is free of
    it). A shared Rref at Tref (E0,D = r·E0,N around Tref) instead pivots at Tref and puts day
    respiration above night respiration below Tref.

    Examples
    --------
    >>> float(day_night_ratio(5.0, 5.0, 170.0, 85.0))
    1.0
    >>> round(float(day_night_ratio(25.0, 10.0, 170.0, 85.0)), 4)
    0.7258
    """
    xt = arrhenius_term(t_degc) - arrhenius_term(t_anchor_degc)
    return np.exp((np.asarray(e0_day, float) - np.asarray(e0_night, float)) * xt)


def q10_from_e0(e0, t_degc=15.0):
    """Equivalent Q10 [1] of a Lloyd–Taylor E0 [K] at temperature ``t_degc`` [°C].

    .. math:: Q_{10} = \\exp\\left(\\frac{10\\,E_0}{(T - T_0)(T + 10 - T_0)}\\right)

    (the ratio R(T + 10)/R(T) of :func:`lloyd_taylor`, written out).

    Examples
    --------
    >>> round(float(q10_from_e0(150.0, 15.0)), 2)
    1.41
    """
    return np.exp(10.0 * np.asarray(e0) / ((t_degc - T0_DEGC) * (t_degc + 10.0 - T0_DEGC)))


def fit_lloyd_taylor(t_degc, reco, *, rref0: float = 2.0, e00: float = 200.0, tref_degc: float = TREF_DEGC,
                     maxit: int = 200) -> dict:
    """Non-linear least-squares fit of Rref and E0 (Levenberg–Marquardt, numba kernel).

    Start values Rref = 2, E0 = 200 K as REddyProc ``fOptimSingleE0``. Standard deviations as
    R ``summary.nls``: s²(JᵀJ)⁻¹ with s² = SSR/(n − 2).

    Returns dict(rref [µmol m-2 s-1], e0 [K], sd_rref, sd_e0, ssr, ok, tref_degC).
    """
    from ._kernels import lt_fit

    t = np.asarray(t_degc, dtype=float)
    y = np.asarray(reco, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    r, e, sr, se, ssr, conv = lt_fit(t[ok], y[ok], float(rref0), float(e00), float(tref_degc), int(maxit))
    return {"rref": r, "e0": e, "sd_rref": sr, "sd_e0": se, "ssr": ssr, "ok": bool(conv), "tref_degC": tref_degc}


def fit_rref(t_degc, reco, e0: float, *, tref_degc: float = TREF_DEGC) -> tuple[float, float]:
    """Rref [µmol m-2 s-1] and its SD with E0 [K] fixed: regression through the origin on
    :func:`lloyd_taylor` (Rref = 1)."""
    from ._kernels import rref_through_origin

    t = np.asarray(t_degc, dtype=float)
    y = np.asarray(reco, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    return rref_through_origin(t[ok], y[ok], float(e0), float(tref_degc))


# ---------------------------------------------------------------------------------------------
# Night-time temperature sensitivity per day-time window (Lasslop et al. 2010, REddyProc)
# ---------------------------------------------------------------------------------------------
def smooth_e0_gp(x: np.ndarray, e0: np.ndarray, sd: np.ndarray):
    """Gaussian-process smoothing of window E0 over time (our formulation of REddyProc's mlegp step).

    Constant mean (GLS), squared-exponential covariance s²·exp(−d²/(2ℓ²)) plus the window SDs² as
    nugget; s and ℓ by maximum marginal likelihood. Windows without an estimate get the posterior
    mean. Returns (E0_smooth, sd_smooth) [K]. With < 3 estimates: forward/backward fill.
    """
    from scipy.linalg import cho_factor, cho_solve
    from threadpoolctl import threadpool_limits

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


def _extended(layout: pd.DataFrame, n: int, rpd: int, win_days: int, size_days: int):
    ext = (size_days - win_days) / 2.0
    s = np.clip(((layout.start_day - ext) * rpd).round().astype(int), 0, n)
    e = np.clip(((layout.start_day + win_days + ext) * rpd).round().astype(int), 0, n)
    return s.to_numpy(), e.to_numpy()


def night_temperature_sensitivity(nee_meas: np.ndarray, t_degc: np.ndarray, night: np.ndarray,
                                  layout: pd.DataFrame, *, rec_per_day: int, win_night_days: int = 12,
                                  extend_days=(24, 48), e0_bounds=(50.0, 400.0), min_records: int = 10,
                                  smooth: bool = True, tref_degc: float = TREF_DEGC,
                                  win_days: int = 4) -> pd.DataFrame:
    """Per-window night-time E0 [K] (raw and smoothed) and night Rref [µmol m-2 s-1] at Tref.

    As REddyProc's ``partGLFitNightTimeTRespSens`` (Lasslop et al. 2010, doi:10.1111/j.1365-2486.2009.02041.x):
    E0 from a Lloyd–Taylor fit (reference temperature = median night T to decorrelate Rref and E0,
    start E0 = previous window's value or 100 K) in 12-day windows centred on each day window of
    ``layout`` (see :func:`landcarbon.flux._common.window_layout`), extended to 24 and 48 days when
    the fit fails; records at T <= −1 °C dropped when >= 12 warmer remain; accepted in ``e0_bounds``.
    Then GP smoothing (:func:`smooth_e0_gp`) and Rref_night by regression through the origin in the
    4-day window (extended to 12 and 24 days when < 3 records).
    """
    from ._kernels import lt_fit, rref_through_origin

    n = nee_meas.size
    rpd = int(rec_per_day)
    t = np.asarray(t_degc, float)
    y = np.where(night & np.isfinite(nee_meas) & np.isfinite(t), nee_meas, np.nan)
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
            r, sd = rref_through_origin(t[s[w]:e[w]][m], yy[m], float(e0_s[w]), tref_degc)
            if np.isfinite(r) and r >= 0:
                rref[w], rref_sd[w] = r, sd
    return pd.DataFrame({"e0_night_raw": e0_raw, "sd_e0_night_raw": sd_raw, "e0_night": e0_s,
                         "sd_e0_night": sd_s, "rref_night": rref, "sd_rref_night": rref_sd, "n_night": nn})
