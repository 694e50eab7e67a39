"""Mann–Kendall family of trend tests and the Theil–Sen slope on NumPy arrays (many series at once).

The last axis of the input is time (equally spaced, e.g. years); every other axis is a pixel axis.
NaN marks a missing value. Computation runs in the numba kernels of :mod:`._kernels` (threads over
pixels) and reproduces pymannkendall 1.4.3 (Hussain & Mahmud 2019, doi:10.21105/joss.01556) bit for
bit in our tests (ties, NaN gaps; the autocorrelations of the modified tests are summed in the
peer's order, BLAS ``ddot`` included, so near-ties of pre-whitened series resolve identically); the
Sen-slope confidence interval reproduces ``scipy.stats.theilslopes``.

Tests (``method``)
------------------
``"original"``
    Mann (1945), Kendall (1975), Gilbert (1987): S = Σ_{k<j} sgn(x_j − x_k);
    Var(S) = [n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18 (t_p: size of tie group p);
    Z = (S − 1)/√Var(S) for S > 0, 0 for S = 0, (S + 1)/√Var(S) for S < 0; p = 2[1 − Φ(|Z|)];
    τ = S / [n(n−1)/2] (Kendall's τ-a, as pymannkendall; scipy's kendalltau returns τ-b).
``"hamed_rao"``
    Hamed & Rao (1998), doi:10.1016/S0022-1694(97)00125-X: Var*(S) = Var(S)·n/n*_s with
    n/n*_s = 1 + 2/[n(n−1)(n−2)] Σ_k (n−k)(n−k−1)(n−k−2) ρ_k, ρ_k the autocorrelation of the ranks
    of the Sen-detrended series, summed over the lags whose ρ_k lies outside ±z_{1−α/2}/√n.
``"yue_wang"``
    Yue & Wang (2004), doi:10.1023/B:WARM.0000043140.61082.60: n/n* = 1 + 2 Σ_k (1 − k/n) ρ_k with ρ_k
    the autocorrelation of the Sen-detrended values (all lags unless ``lag`` is given).
``"pre_whitening"``
    Yue & Wang (2002), doi:10.1029/2001WR000861: x'_t = x_{t+1} − r₁ x_t, original test on x'.
``"tfpw"``
    Trend-free pre-whitening, Yue, Pilon, Phinney & Cavadias (2002), doi:10.1002/hyp.1095:
    detrend with the Sen slope, pre-whiten, add the trend back, original test.
``"seasonal"``
    Hirsch, Slack & Smith (1982), doi:10.1029/WR018i001p00107: S = Σ_g S_g, Var(S) = Σ_g Var(S_g) over
    the ``period`` seasons (no covariance term), τ = S / Σ_g n_g(n_g−1)/2; the seasonal Sen slope is
    the median of all within-season pairwise slopes (units: per cycle, i.e. per year for monthly data).

Sen slope and intercept (all methods)
    Theil (1950), Sen (1968) doi:10.1080/01621459.1968.10480934: Q = median_{i<j} (x_j − x_i)/(j − i)
    over pairs of valid values (true index distance across gaps); intercept (Conover 1980)
    b = median(x) − median(t_valid)·Q with t = 0, 1, … (so b is the fitted value at the first step).
    Confidence interval: Sen (1968) eq. 2.6 exactly as ``scipy.stats.theilslopes``: with
    σ = √Var(S) (tie-corrected) and N slopes, the lower limit is the round((N − z_{1−α/2}σ)/2)−1-th and
    the upper the round((N + z_{1−α/2}σ)/2)-th ordered slope (0-based, clipped). For gappy series
    this equals ``theilslopes(x_valid, t_valid)``. For the seasonal test we use the same rule with
    the seasonal Var(S) and all within-season slopes (Gilbert 1987 §17.3.2; our rounding).

Choices where the peer has known problems (documented, tested)
---------------------------------------------------------------
* p-value. pymannkendall computes p = 2·(1 − Φ(|Z|)), which cancels catastrophically for large |Z|
  (p = 0.0 for a perfect 40-point trend). Default ``p_formula="accurate"`` uses p = 2Φ(−|Z|)
  (= 2·norm.sf(|Z|), correct to the last digit). ``p_formula="pymannkendall"`` reproduces the
  peer bit for bit (same ``scipy.special.ndtr``). The two differ by < 3e-16 in absolute terms.
* Negative Hamed–Rao variance (pymannkendall issue #29): the correction factor can be negative,
  giving Var*(S) < 0 and NaN Z/p. Default ``hamed_rao_negative="nan"`` keeps the paper's (and
  pymannkendall 1.4.3's) formula and returns NaN z/p (``significant`` False) there — the test is not
  defined for such a series; ``"abs"`` uses |Σ| as pymannkendall's unreleased master (commit
  2776409), which can only inflate the variance.
* Fewer than 2 valid values: pymannkendall raises ZeroDivisionError; we return NaN (``n`` tells).
  Hamed–Rao needs n ≥ 3 (division by n−2): NaN below. A series whose (detrended) values are all
  equal has an undefined autocorrelation: like pymannkendall we then return NaN variance in the
  Hamed–Rao/Yue–Wang tests, while the pre-whitening tests return Z = 0, p = 1.
* Only pymannkendall's default ``lag=None`` (all lags) and integer ``lag`` are supported, as there.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, DataError, located
from . import _kernels as K

__all__ = ["METHODS", "mk_test", "sens_slope", "p_value", "OUTPUTS"]

METHODS = {
    "original": K.ORIGINAL,
    "hamed_rao": K.HAMED_RAO,
    "yue_wang": K.YUE_WANG,
    "pre_whitening": K.PRE_WHITENING,
    "tfpw": K.TREND_FREE_PRE_WHITENING,
    "seasonal": -1,
}
_ALIASES = {"mk": "original", "hr": "hamed_rao", "yw": "yue_wang", "pw": "pre_whitening",
            "trend_free_pre_whitening": "tfpw", "seasonal_mk": "seasonal"}

#: names of the returned arrays (besides ``p`` and ``significant``)
OUTPUTS = K.OUT_NAMES


def _norm_ppf(q: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(q))


def p_value(z, formula: str = "accurate"):
    """Two-sided normal p-value of a standardised statistic.

    ``"accurate"``: p = 2Φ(−|z|); ``"pymannkendall"``: p = 2·(1 − Φ(|z|)) (the peer's formula,
    bit-identical, loses all precision below ~1e-16). NaN z → NaN p.
    """
    from scipy.special import ndtr

    az = np.abs(np.asarray(z, dtype=float))
    if formula == "accurate":
        return 2.0 * ndtr(-az)
    if formula == "pymannkendall":
        return 2.0 * (1.0 - ndtr(az))
    raise ConfigError(located(f"unknown p_formula {formula!r}", where="landcarbon.trends.p_value",
                              fix="use 'accurate' or 'pymannkendall'"))


def _as_rows(x) -> tuple[np.ndarray, tuple[int, ...]]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        raise DataError(located("trend input must have a time axis (last axis)", where="mk_test",
                                fix="pass an array shaped (..., time)"))
    lead = a.shape[:-1]
    rows = np.ascontiguousarray(a.reshape(-1, a.shape[-1]))
    return rows, lead


def mk_test(x, method: str = "original", alpha: float = 0.05, *, lag: int | None = None,
            period: int = 12, hamed_rao_negative: str = "nan", p_formula: str = "accurate",
            confidence_interval: bool = True, parallel: bool = True) -> dict[str, np.ndarray]:
    """Mann–Kendall test + Theil–Sen slope for every series of ``x`` (time = last axis).

    Parameters
    ----------
    x : array_like, shape (..., T)
        Equally spaced series; NaN = missing. Units are carried through to ``slope`` as
        [x units per time step] (per year for annual data).
    method : {"original", "hamed_rao", "yue_wang", "pre_whitening", "tfpw", "seasonal"}
        See the module docstring for equations and references.
    alpha : float
        Significance level of the two-sided test (0.05); also sets the slope confidence interval
        to 1 − alpha and, for Hamed–Rao, the lag-screening bound.
    lag : int, optional
        Hamed–Rao / Yue–Wang: number of lags used (default all, as pymannkendall).
    period : int
        Seasonal test: season length (12 for monthly data; T need not be a multiple).
    hamed_rao_negative : {"nan", "abs"}
        Handling of a negative Hamed–Rao correction (see module docstring).
    p_formula : {"accurate", "pymannkendall"}
        p-value formula (see :func:`p_value`).
    confidence_interval : bool
        Compute the Sen-slope confidence limits (False skips two order statistics and returns NaN
        limits; not for the seasonal test, which always computes them).
    parallel : bool
        Use numba threads over pixels (set False inside dask workers).

    Returns
    -------
    dict of ndarray, each shaped like ``x`` without its last axis
        ``s``, ``var_s`` (corrected for the modified tests), ``z``, ``p``, ``tau`` (τ-a), ``slope``
        [x units per step], ``intercept`` [x units; value at step 0], ``slope_low``/``slope_high``
        (1 − alpha confidence limits), ``n`` (valid values), ``var_s_uncorrected``,
        ``variance_factor`` (n/n*), ``significant`` (|Z| > z_{1−α/2}, as pymannkendall's ``h``).
    """
    name = _ALIASES.get(method, method)
    if name not in METHODS:
        raise ConfigError(located(f"unknown trend test {method!r}", where="landcarbon.trends.mk_test",
                                  fix="use one of " + ", ".join(METHODS)))
    if not (0.0 < alpha < 1.0):
        raise ConfigError(located(f"alpha must be in (0, 1), got {alpha}", where="mk_test"))
    hr_mode = {"nan": K.HR_AS_PAPER, "abs": K.HR_ABS}.get(hamed_rao_negative)
    if hr_mode is None:
        raise ConfigError(located(f"hamed_rao_negative must be 'nan' or 'abs', got {hamed_rao_negative!r}",
                                  where="mk_test"))
    rows, lead = _as_rows(x)
    zcrit = _norm_ppf(1.0 - alpha / 2.0)      # == scipy.stats.norm.ppf(1 - alpha/2)
    zq = _norm_ppf(alpha / 2.0)               # scipy.theilslopes: norm.ppf(alpha/2) (negative)
    out = np.empty((K.NOUT, rows.shape[0]), dtype=np.float64)
    if rows.shape[0] > 0 and rows.shape[1] > 0:
        if name == "seasonal":
            if int(period) < 1:
                raise ConfigError(located(f"period must be >= 1, got {period}", where="mk_test"))
            fn = K.seasonal_rows_parallel if parallel else K.seasonal_rows_serial
            fn(rows, int(period), zq, out)
        else:
            fn = K.mk_rows_parallel if parallel else K.mk_rows_serial
            fn(rows, METHODS[name], zcrit, zq, -1 if lag is None else int(lag), hr_mode, bool(confidence_interval),
               out)
    else:
        out[:] = np.nan
        out[K.OUT_N] = 0
    res = {nm: out[k].reshape(lead) for k, nm in enumerate(K.OUT_NAMES)}
    res["p"] = p_value(res["z"], p_formula)
    with np.errstate(invalid="ignore"):
        res["significant"] = np.abs(res["z"]) > zcrit
    return res


def sens_slope(x, alpha: float = 0.05, *, parallel: bool = True) -> dict[str, np.ndarray]:
    """Theil–Sen slope, Conover intercept and 1 − alpha confidence limits (see :func:`mk_test`)."""
    r = mk_test(x, "original", alpha, parallel=parallel)
    return {k: r[k] for k in ("slope", "intercept", "slope_low", "slope_high", "n")}


def critical_z(alpha: float) -> float:
    """z_{1−α/2} of the two-sided test."""
    return _norm_ppf(1.0 - alpha / 2.0)


