"""Light-response curves of canopy photosynthesis and the window fitter shared by DT and DT-RH.

The one home of three formulas (NumPy function + scalar ``@njit`` twin + gradient twin for the
kernels in :mod:`landcarbon.flux._kernels`):

* the VPD limitation of the light-saturated uptake β (Lasslop et al. 2010, eq. 2):
  :func:`vpd_limitation`;
* the rectangular hyperbola (Michaelis–Menten form, Falge et al. 2001; used by Lasslop et al. 2010):
  :func:`rectangular_hyperbola`;
* the non-rectangular hyperbola (Thornley 1976; Gilmanov et al. 2003): :func:`nonrectangular_hyperbola`.

The fitter follows the design of REddyProc's light-response classes (``LRC_base.R`` with one small
class per curve, ``LRC_rectangular.R``, ``LRC_nonrectangular.R``; Wutzler et al. 2018,
doi:10.5194/bg-15-5015-2018): :class:`LightResponseCurve` subclasses hold only their equation, while
:func:`fit_lrc_windows` owns the priors, bounds, refits, the window loop and the parameter covariance,
and :func:`predict_lrc` turns the window table into half-hourly GPP, RECO and their standard deviations.
The day-time method (:mod:`landcarbon.flux.daytime`) and DT-RH (:mod:`landcarbon.flux.dtrh`) both use
them with a swappable curve (``lrc=RectangularHyperbola()`` by default).

Respiration inside the fit is written in log-linear form so that DT and DT-RH share one kernel:
for window w and record i,

.. math:: R_{w,i} = r_{b,w}\\,m_i\\,\\exp(a_w\\,x_i + b_w\\,y_i),

with x_i the Lloyd–Taylor term of :func:`landcarbon.flux.respiration.arrhenius_term`, a_w = E0 of the
window, and (b_w, y_i, m_i) = (0, 0, 1) for DT; DT-RH sets b_w = E0,D − E0,N, y_i = x_i − x(T_anchor,i)
and m_i = h(RH_i) (see :mod:`landcarbon.flux.dtrh`).

Units: global radiation Rg [W m-2], α [µmol CO2 J-1], β [µmol CO2 m-2 s-1], k [hPa-1], VPD [hPa].
Sign convention: GPP ≥ 0; NEE = RECO − GPP (> 0 is release).

References
----------
.. [1] Lasslop G. et al. (2010) Global Change Biology 16:187–208, doi:10.1111/j.1365-2486.2009.02041.x
.. [2] Falge E. et al. (2001) Agricultural and Forest Meteorology 107:43–69, doi:10.1016/S0168-1923(00)00225-2
.. [3] Thornley J.H.M. (1976) Mathematical Models in Plant Physiology. Academic Press, London.
.. [4] Gilmanov T.G. et al. (2003) Gross primary production and light response parameters of four Southern
   Plains ecosystems. Global Biogeochemical Cycles 17(2):1071 (DOI not verified here)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

__all__ = ["VPD0_HPA", "vpd_limitation", "vpd_limitation_scalar", "rectangular_hyperbola",
           "rectangular_hyperbola_scalar", "rectangular_hyperbola_grad", "nonrectangular_hyperbola",
           "nonrectangular_hyperbola_scalar", "nonrectangular_hyperbola_grad", "LightResponseCurve",
           "RectangularHyperbola", "NonRectangularHyperbola", "fit_lrc_windows", "predict_lrc",
           "LRC_PARAMETERS", "nee_sd_for_fit", "annual_sum_sd", "e0_sensitivity", "WINDOW_OVERLAP_CORRELATION"]

#: VPD threshold of the Lasslop et al. (2010) β limitation [hPa].
VPD0_HPA = 10.0
#: Parameters of the light-response fit, in kernel order.
LRC_PARAMETERS = ("k", "beta", "alpha", "rb")


# ---------------------------------------------------------------------------------------------
# VPD limitation
# ---------------------------------------------------------------------------------------------
def vpd_limitation(vpd_hpa, k, *, vpd0_hpa: float = VPD0_HPA):
    """VPD limitation β/β0 [1] of the light-saturated uptake (Lasslop et al. 2010).

    .. math:: \\beta/\\beta_0 = \\exp(-k\\,(VPD - VPD_0)) \\text{ for } VPD > VPD_0, \\text{ else } 1

    Parameters
    ----------
    vpd_hpa : array_like   vapour-pressure deficit [hPa]
    k : float or array     e-folding coefficient [hPa-1] (≥ 0)
    vpd0_hpa : float       threshold [hPa] (10)

    Examples
    --------
    >>> round(float(vpd_limitation(20.0, 0.05)), 4)
    0.6065
    >>> float(vpd_limitation(5.0, 0.05))
    1.0
    """
    v = np.asarray(vpd_hpa, dtype=float)
    k = np.asarray(k, dtype=float)
    return np.where(v > vpd0_hpa, np.exp(-k * (v - vpd0_hpa)), 1.0)


@njit(cache=True)
def vpd_limitation_scalar(vpd_hpa, k, vpd0_hpa):  # pragma: no cover - numba twin
    """Scalar ``@njit`` twin of :func:`vpd_limitation`; returns (β/β0, d(β/β0)/dk)."""
    if vpd_hpa > vpd0_hpa:
        f = np.exp(-k * (vpd_hpa - vpd0_hpa))
        return f, -(vpd_hpa - vpd0_hpa) * f
    return 1.0, 0.0


# ---------------------------------------------------------------------------------------------
# Rectangular hyperbola
# ---------------------------------------------------------------------------------------------
def rectangular_hyperbola(rg_wm2, alpha, beta):
    """GPP [µmol CO2 m-2 s-1] of the rectangular hyperbola (Falge et al. 2001; Lasslop et al. 2010).

    .. math:: GPP = \\frac{\\alpha\\,\\beta\\,R_g}{\\alpha R_g + \\beta}

    Parameters
    ----------
    rg_wm2 : array_like   global radiation [W m-2]; GPP = 0 where Rg ≤ 0
    alpha : float/array   initial slope [µmol CO2 J-1] (≥ 0 for a physical curve)
    beta : float/array    light-saturated uptake [µmol CO2 m-2 s-1] (≥ 0)

    The fitter may try negative parameters during its iterations, so the formula is not clipped
    there (GPP keeps its smooth continuation); accepted windows have α, β ≥ 0.

    Examples
    --------
    >>> round(float(rectangular_hyperbola(500.0, 0.05, 30.0)), 4)
    13.6364
    >>> float(rectangular_hyperbola(0.0, 0.05, 30.0))
    0.0
    """
    rg = np.asarray(rg_wm2, dtype=float)
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    ok = (rg > 0) & (a * rg + b != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, a * b * rg / (a * rg + b), 0.0)


@njit(cache=True)
def rectangular_hyperbola_scalar(rg_wm2, alpha, beta):  # pragma: no cover - numba twin
    """Scalar ``@njit`` twin of :func:`rectangular_hyperbola`."""
    if rg_wm2 <= 0.0 or alpha * rg_wm2 + beta == 0.0:
        return 0.0
    return alpha * beta * rg_wm2 / (alpha * rg_wm2 + beta)


@njit(cache=True)
def rectangular_hyperbola_grad(rg_wm2, alpha, beta):  # pragma: no cover - numba twin
    """(GPP, ∂GPP/∂α, ∂GPP/∂β) of :func:`rectangular_hyperbola` (scalar, ``@njit``)."""
    g = rectangular_hyperbola_scalar(rg_wm2, alpha, beta)
    den = alpha * rg_wm2 + beta
    if rg_wm2 <= 0.0 or den == 0.0:
        return g, 0.0, 0.0
    return g, beta * beta * rg_wm2 / (den * den), alpha * alpha * rg_wm2 * rg_wm2 / (den * den)


# ---------------------------------------------------------------------------------------------
# Non-rectangular hyperbola
# ---------------------------------------------------------------------------------------------
def nonrectangular_hyperbola(rg_wm2, alpha, beta, *, convexity: float = 0.7):
    """GPP [µmol CO2 m-2 s-1] of the non-rectangular hyperbola (Thornley 1976; Gilmanov et al. 2003).

    .. math:: GPP = \\frac{\\alpha R_g + \\beta - \\sqrt{(\\alpha R_g + \\beta)^2 - 4\\theta\\alpha R_g\\beta}}{2\\theta}

    with the convexity θ ∈ (0, 1] (θ → 0 gives the rectangular hyperbola, θ = 1 the Blackman
    minimum(αRg, β)). Units as :func:`rectangular_hyperbola`; GPP = 0 where Rg ≤ 0.

    Examples
    --------
    >>> round(float(nonrectangular_hyperbola(500.0, 0.05, 30.0, convexity=0.7)), 4)
    17.5616
    >>> bool(abs(nonrectangular_hyperbola(500.0, 0.05, 30.0, convexity=1e-6)
    ...          - rectangular_hyperbola(500.0, 0.05, 30.0)) < 1e-3)
    True
    """
    rg = np.asarray(rg_wm2, dtype=float)
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    th = float(convexity)
    s = a * rg + b
    disc = np.maximum(s * s - 4.0 * th * a * rg * b, 0.0)
    g = (s - np.sqrt(disc)) / (2.0 * th)
    return np.where((rg > 0) & (s > 0), g, 0.0)


@njit(cache=True)
def nonrectangular_hyperbola_scalar(rg_wm2, alpha, beta, convexity):  # pragma: no cover - numba twin
    """Scalar ``@njit`` twin of :func:`nonrectangular_hyperbola`."""
    s = alpha * rg_wm2 + beta
    if rg_wm2 <= 0.0 or s <= 0.0:
        return 0.0
    disc = max(s * s - 4.0 * convexity * alpha * rg_wm2 * beta, 0.0)
    return (s - np.sqrt(disc)) / (2.0 * convexity)


@njit(cache=True)
def nonrectangular_hyperbola_grad(rg_wm2, alpha, beta, convexity):  # pragma: no cover - numba twin
    """(GPP, ∂GPP/∂α, ∂GPP/∂β) of :func:`nonrectangular_hyperbola` (scalar, ``@njit``)."""
    g = nonrectangular_hyperbola_scalar(rg_wm2, alpha, beta, convexity)
    s = alpha * rg_wm2 + beta
    if rg_wm2 <= 0.0 or s <= 0.0:
        return g, 0.0, 0.0
    d = np.sqrt(max(s * s - 4.0 * convexity * alpha * rg_wm2 * beta, 1e-300))
    dga = (rg_wm2 - (s * rg_wm2 - 2.0 * convexity * rg_wm2 * beta) / d) / (2.0 * convexity)
    dgb = (1.0 - (s - 2.0 * convexity * alpha * rg_wm2) / d) / (2.0 * convexity)
    return g, dga, dgb


# ---------------------------------------------------------------------------------------------
# Swappable curve classes (REddyProc LRC_* design)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LightResponseCurve:
    """Base class of a light-response curve: its name, kernel id and GPP equation.

    Subclasses set ``name`` and ``model_id`` (the kernels dispatch on it) and implement :meth:`gpp`;
    everything else (priors, bounds, windows, uncertainty) belongs to :func:`fit_lrc_windows`.
    """

    name = "abstract"
    model_id = -1

    @property
    def convexity(self) -> float:
        return 0.0

    def gpp(self, rg_wm2, alpha, beta):
        """GPP [µmol CO2 m-2 s-1] at radiation ``rg_wm2`` [W m-2]."""
        raise NotImplementedError

    def gpp_vpd(self, rg_wm2, vpd_hpa, alpha, beta0, k):
        """GPP with the VPD-limited β = β0·:func:`vpd_limitation` (Lasslop et al. 2010)."""
        return self.gpp(rg_wm2, alpha, np.asarray(beta0, float) * vpd_limitation(vpd_hpa, k))


@dataclass(frozen=True)
class RectangularHyperbola(LightResponseCurve):
    """:func:`rectangular_hyperbola` (the curve of Lasslop et al. 2010, REddyProc's default)."""

    name = "rectangular"
    model_id = 0

    def gpp(self, rg_wm2, alpha, beta):
        return rectangular_hyperbola(rg_wm2, alpha, beta)


@dataclass(frozen=True)
class NonRectangularHyperbola(LightResponseCurve):
    """:func:`nonrectangular_hyperbola` with a fixed convexity θ (our default 0.7; REddyProc fits it)."""

    theta: float = 0.7
    name = "nonrectangular"
    model_id = 1

    def __post_init__(self):
        if not 0.0 < self.theta <= 1.0:
            from ..errors import ConfigError, located

            raise ConfigError(located(f"convexity theta={self.theta}", where="NonRectangularHyperbola",
                                      fix="use 0 < theta <= 1"))

    @property
    def convexity(self) -> float:
        return float(self.theta)

    def gpp(self, rg_wm2, alpha, beta):
        return nonrectangular_hyperbola(rg_wm2, alpha, beta, convexity=self.theta)


# ---------------------------------------------------------------------------------------------
# The fitter: priors, bounds, refits, window loop, covariance (numba kernel dt_windows)
# ---------------------------------------------------------------------------------------------
def fit_lrc_windows(nee_day: np.ndarray, rg_wm2: np.ndarray, vpd_hpa: np.ndarray, sd: np.ndarray,
                    layout: pd.DataFrame, *, xterm: np.ndarray, a_win: np.ndarray, rb_prior_mu: np.ndarray,
                    yterm: np.ndarray | None = None, b_win: np.ndarray | None = None,
                    mult: np.ndarray | None = None, rb_prior_sd: np.ndarray | None = None,
                    lrc: LightResponseCurve | None = None, min_records: int = 10, maxit: int = 100,
                    tol: float = 1e-6, n_starts: int = 3, beta_prior_factor: float = 20.0,
                    time: np.ndarray | None = None) -> pd.DataFrame:
    """Fit the light-response curve with VPD limitation in every window of ``layout``.

    Per window (records ``rec_start:rec_end`` where ``nee_day`` is finite), parameters
    θ = (k, β0, α, rb) minimise Σ((NEE_mod − NEE)/σ)² + Σ_j((θ_j − μ_j)/s_j)² (MAP form of Lasslop et
    al. 2010; REddyProc ``RHLightResponseCostC``) with NEE_mod = R − GPP_lrc(Rg, α, β0·f(VPD; k)) and the
    respiration of the module docstring. Priors: β0 ~ N(|q03 − q97| of the window's NEE,
    ``beta_prior_factor``·median|σ/NEE|·prior/√n) as REddyProc; rb ~ N(``rb_prior_mu``,
    ``rb_prior_sd``) when given (NaN = no prior). Start values (k, β0, α, rb) = (0.05, β0 prior, 0.1,
    rb prior), 3 starts of β0 (×1, ×1.3, ×0.8). Bounds and refits of Lasslop Table A1 as REddyProc
    ``optimLRCBounds``: k < 0 → refit with k = 0; α > 0.22 → refit with α of the previous valid
    window; reject α < 0, rb < 0, β0 < 0, β0 ≥ 250, β0 > 4·prior, β0 > 100 with SD ≥ β0. Levenberg–
    Marquardt in numba (:func:`landcarbon.flux._kernels.dt_windows`).

    Returns
    -------
    pandas.DataFrame
        ``layout`` plus k [hPa-1], beta [µmol m-2 s-1], alpha [µmol J-1], rb [µmol m-2 s-1], their
        ``*_sd``, the 4×4 covariance ``cov`` (object column of arrays, zeros for fixed parameters),
        n_day, rec_mean, cost, code (0 ok, 1 no convergence, 1002 bounds, 1005 covariance, 1010 no
        E0, 1011 too few records), k_fixed, alpha_fixed, beta_prior, a (= ``a_win``), b, qc (0 all
        fitted, 1 some fixed, NaN no fit), time, lrc (curve name).
    """
    from ._kernels import dt_windows

    lrc = RectangularHyperbola() if lrc is None else lrc
    n = nee_day.size
    nw = len(layout)
    yterm = np.zeros(n) if yterm is None else np.asarray(yterm, float)
    b_win = np.zeros(nw) if b_win is None else np.asarray(b_win, float)
    mult = np.ones(n) if mult is None else np.asarray(mult, float)
    rbsd = np.full(nw, np.nan) if rb_prior_sd is None else np.asarray(rb_prior_sd, float)
    par, psd, cov, info = dt_windows(
        layout.rec_start.to_numpy(np.int64), layout.rec_end.to_numpy(np.int64), np.asarray(nee_day, float),
        np.asarray(rg_wm2, float), np.asarray(vpd_hpa, float), np.asarray(xterm, float), yterm, mult,
        np.asarray(sd, float), np.asarray(a_win, float), b_win, np.asarray(rb_prior_mu, float), rbsd,
        int(min_records), int(maxit), float(tol), int(lrc.model_id), float(lrc.convexity), int(n_starts),
        float(beta_prior_factor))
    tab = layout.copy()
    for j, nm in enumerate(LRC_PARAMETERS):
        tab[nm] = par[:, j]
        tab[nm + "_sd"] = psd[:, j]
    tab["cov"] = list(cov)
    tab["n_day"] = info[:, 0]
    tab["rec_mean"] = info[:, 1]
    tab["cost"] = info[:, 2]
    tab["code"] = info[:, 3].astype(int)
    tab["k_fixed"] = info[:, 4] > 0
    tab["alpha_fixed"] = info[:, 5] > 0
    tab["beta_prior"] = info[:, 6]
    tab["a"] = np.asarray(a_win, float)
    tab["b"] = b_win
    tab["qc"] = np.where(tab.code == 0, (tab.k_fixed | tab.alpha_fixed).astype(float), np.nan)
    if time is not None:
        tab["time"] = np.asarray(time)[np.clip(tab.rec_mean.fillna(tab.rec_centre).astype(int), 0, n - 1)]
    tab["lrc"] = lrc.name
    return tab


def predict_lrc(tab: pd.DataFrame, *, rg_wm2: np.ndarray, vpd_hpa: np.ndarray, xterm: np.ndarray,
                rec_per_day: int, yterm: np.ndarray | None = None, mult: np.ndarray | None = None,
                day: np.ndarray | None = None, lrc: LightResponseCurve | None = None,
                sd_a_col: str | None = None, sd_b_col: str | None = None,
                max_dist_days: float = 14.0) -> dict:
    """Half-hourly GPP and RECO [µmol CO2 m-2 s-1] (and SDs) from the valid windows of ``tab``.

    Each record is predicted with the parameters of the previous and the next valid window
    (REddyProc ``partGLInterpolateFluxes``: fluxes, not parameters, are interpolated with weights ∝
    1 − distance/gap). Respiration R = rb·exp(a·x + b·y)·m by day (``day`` True) and rb·exp(a·x) at
    night (for DT, b = 0 and m = 1, so day and night coincide). GPP = curve(Rg, α, β0·f(VPD; k)) with
    Rg clipped at 0.

    Uncertainty (first order): per window, the gradient of GPP (resp. RECO) with respect to
    (k, β0, α, rb) times the window's full parameter covariance (``cov``), plus the E0 term
    (∂R/∂a = R·x, SD from ``sd_a_col``) and, for DT-RH, the asymmetry term (∂R/∂b = R·y, SD from
    ``sd_b_col``); the two windows' variances are combined with their weights squared.

    Returns dict of arrays: gpp, reco, gpp_sd, reco_sd, qc (0 all parameters fitted, 1 some fixed,
    2 nearest window > ``max_dist_days`` away, 3 no valid window), dist (records to the nearest
    window), and ``window_weights``: (i_before, i_after, w_before, w_after, good table) for
    aggregating the uncertainty (see :func:`landcarbon.flux.lightresponse.annual_sum_sd`).
    """
    from ._common import neighbour_weights

    lrc = RectangularHyperbola() if lrc is None else lrc
    n = np.asarray(xterm).size
    yterm = np.zeros(n) if yterm is None else np.asarray(yterm, float)
    mult = np.ones(n) if mult is None else np.asarray(mult, float)
    day = np.ones(n, bool) if day is None else np.asarray(day, bool)
    good = tab[(tab.code == 0) & tab.rec_mean.notna()].copy()
    good = good.drop_duplicates("rec_mean").sort_values("rec_mean").reset_index(drop=True)
    if good.empty:
        nan = np.full(n, np.nan)
        return {"gpp": nan, "reco": nan, "gpp_sd": nan, "reco_sd": nan, "qc": np.full(n, 3),
                "dist": nan, "window_weights": None}
    ib, ia, wb, wa, dist = neighbour_weights(n, good.rec_mean.to_numpy(float))
    rg = np.where(np.isfinite(rg_wm2), np.maximum(rg_wm2, 0.0), 0.0)
    vpd = np.asarray(vpd_hpa, float)
    gpp = np.zeros(n)
    reco = np.zeros(n)
    var_g = np.zeros(n)
    var_r = np.zeros(n)
    ddm = np.where(day, 1.0, 0.0)
    covs = np.stack(good["cov"].to_numpy())
    sda = np.nan_to_num(good[sd_a_col].to_numpy(float)) if sd_a_col and sd_a_col in good else np.zeros(len(good))
    sdb = np.nan_to_num(good[sd_b_col].to_numpy(float)) if sd_b_col and sd_b_col in good else np.zeros(len(good))
    for idx, w in ((ib, wb), (ia, wa)):
        p = good.iloc[idx]
        k, b0, al, rb = (p[c].to_numpy(float) for c in LRC_PARAMETERS)
        a, b = p["a"].to_numpy(float), p["b"].to_numpy(float)
        f, dfdk = _vpd_limitation_and_grad(vpd, k)
        beta = b0 * f
        g, dga, dgb = _curve_and_grad(lrc, rg, al, beta)
        expo = a * xterm + ddm * (b * yterm)
        r = rb * np.exp(expo) * np.where(day, mult, 1.0)
        gpp += w * g
        reco += w * r
        # gradients wrt (k, beta0, alpha, rb)
        jg = np.stack([dgb * b0 * dfdk, dgb * f, dga, np.zeros(n)], axis=1)
        jr = np.stack([np.zeros(n), np.zeros(n), np.zeros(n), np.exp(expo) * np.where(day, mult, 1.0)], axis=1)
        c = np.nan_to_num(covs[idx])
        vg = np.einsum("ni,nij,nj->n", jg, c, jg)
        vr = np.einsum("ni,nij,nj->n", jr, c, jr) + (r * xterm * sda[idx]) ** 2 + (r * ddm * yterm * sdb[idx]) ** 2
        var_g += w**2 * np.maximum(vg, 0.0)
        var_r += w**2 * np.maximum(vr, 0.0)
    qcw = good.qc.to_numpy()
    qc = np.where(qcw[ib] > 0, 1, 0) | np.where(qcw[ia] > 0, 1, 0)
    qc = np.where(dist > max_dist_days * rec_per_day, 2, qc)
    return {"gpp": gpp, "reco": reco, "gpp_sd": np.sqrt(var_g), "reco_sd": np.sqrt(var_r), "qc": qc,
            "dist": dist, "window_weights": (ib, ia, wb, wa, good)}


def _vpd_limitation_and_grad(vpd, k):
    f = vpd_limitation(vpd, k)
    return f, np.where(vpd > VPD0_HPA, -(vpd - VPD0_HPA) * f, 0.0)


def _curve_and_grad(lrc: LightResponseCurve, rg, alpha, beta):
    """Vectorised (GPP, ∂/∂α, ∂/∂β) through the scalar gradient twins of the curve."""
    from ._kernels import curve_grad_vec

    return curve_grad_vec(int(lrc.model_id), float(lrc.convexity), rg, np.asarray(alpha, float),
                          np.asarray(beta, float))


# ---------------------------------------------------------------------------------------------
# Uncertainty of the fit: σ of the residuals, and the SDs of period totals
# ---------------------------------------------------------------------------------------------
#: Correlation of the parameter errors of neighbouring 4-day windows moved by 2 days: they share half
#: their records, so the correlation of their estimates is about 1/2 (our approximation).
WINDOW_OVERLAP_CORRELATION = 0.5


def nee_sd_for_fit(inp, day: np.ndarray, *, floor_quantile: float = 0.3) -> np.ndarray:
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
