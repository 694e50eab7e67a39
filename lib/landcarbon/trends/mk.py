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

``"correlated_seasonal"``
    Hirsch & Slack (1984), doi:10.1029/WR020i006p00727, as pymannkendall's ``correlated_seasonal_test``
    (after Hipel & McLeod 1994): the series is cut into years × ``period`` seasons, years with a missing
    season are dropped, and Var(S) = Σ_g Σ_h Γ_gh with the rank covariance of Dietz & Killeen (1981),
    Γ_gh = [K_gh + 4 Σ_i R_ig R_ih − n(n+1)²] / 3 (K_gh = Σ_{i<j} sgn(x_jg − x_ig)·sgn(x_jh − x_ih), R =
    mid-ranks). For g = h this is Var(S_g) (n(n−1)(2n+5)/18 without ties), so the sum already holds the
    uncorrelated part: pymannkendall issue #23, which asks for an extra Σ_g Var(S_g), would count it
    twice. Z = S/√Var(S) without continuity correction (as the peer). Unlike the peer (issue #36) the
    given ``alpha`` is used.

Multivariate family (:func:`multivariate_test`, input ``(..., time, column)``)
    ``"regional"`` (= pymannkendall ``regional_test`` / ``multivariate_test``, Helsel & Frans 2006,
    doi:10.1021/es051650b): S and Var(S) summed over the columns (each with its own missing values);
    ``"correlated_multivariate"`` (Libiseller & Grimvall 2002, doi:10.1002/env.507; the covariance above
    between columns, complete rows only); ``"partial"`` (Libiseller & Grimvall 2002): trend of column 0
    given the covariate in column 1, S = S_0 − ρ S_1, Var(S) = (1 − ρ²) n(n−1)(2n+5)/18 with
    ρ = Γ_01 / [n(n−1)(2n+5)/18]. The slope is the seasonal Sen slope over the columns (regional,
    correlated) or the Sen slope of column 0 (partial), as the peer.

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
* ``lag`` must be None (all lags, the peer's default) or an integer >= 1; ``period`` an integer >= 1.
  pymannkendall silently treats ``lag <= 0`` as "all lags" and truncates a float period; here they are
  :class:`~landcarbon.errors.ConfigError`.

Inputs the kernels refuse (typed errors, never a crash)
    empty time axis, non-numeric or complex dtypes, ±inf (NaN is "missing"), a pandas DataFrame (its
    rows are usually time: pass ``df.to_numpy().T``), an :class:`xarray.DataArray` whose time axis is not
    named (pass ``dim=``; :func:`landcarbon.trends.trend_field` keeps the coordinates), and series so
    long that the pairwise scratch would exceed :data:`MAX_SCRATCH_BYTES`. Any finite float64 is
    accepted: magnitudes from 1e-320 (subnormal) to 1e308 give finite or NaN results, never a wild
    memory access (the bucket selection falls back to quickselect when its bin scale overflows).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import ConfigError, DataError, located
from . import _kernels as K

__all__ = ["METHODS", "MULTIVARIATE_METHODS", "mk_test", "multivariate_test", "sens_slope", "p_value",
           "critical_z", "OUTPUTS", "MAX_SCRATCH_BYTES"]

METHODS = {
    "original": K.ORIGINAL,
    "hamed_rao": K.HAMED_RAO,
    "yue_wang": K.YUE_WANG,
    "pre_whitening": K.PRE_WHITENING,
    "tfpw": K.TREND_FREE_PRE_WHITENING,
    "seasonal": -1,
    "correlated_seasonal": -2,
}
MULTIVARIATE_METHODS = ("regional", "correlated_multivariate", "partial")
_ALIASES = {"mk": "original", "hr": "hamed_rao", "yw": "yue_wang", "pw": "pre_whitening",
            "trend_free_pre_whitening": "tfpw", "seasonal_mk": "seasonal", "multivariate": "regional"}

#: names of the returned arrays (besides ``p`` and ``significant``)
OUTPUTS = K.OUT_NAMES
#: largest scratch memory (all threads) a call may allocate for the pairwise slopes [bytes]
MAX_SCRATCH_BYTES = 2 * 2**30


def _norm_ppf(q: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(q))


def p_value(z, formula: str = "accurate"):
    """Two-sided normal p-value of a standardised statistic.

    ``"accurate"``: p = 2Φ(−|z|); ``"pymannkendall"``: p = 2·(1 − Φ(|z|)) (the peer's formula,
    bit-identical, loses all precision below ~1e-16). NaN z → NaN p.

    Examples
    --------
    >>> float(p_value(1.959963984540054))
    0.05
    """
    from scipy.special import ndtr

    az = np.abs(np.asarray(z, dtype=float))
    if formula == "accurate":
        return 2.0 * ndtr(-az)
    if formula == "pymannkendall":
        return 2.0 * (1.0 - ndtr(az))
    raise ConfigError(located(f"unknown p_formula {formula!r}", where="landcarbon.trends.p_value",
                              fix="use 'accurate' or 'pymannkendall'"))


# ---------------------------------------------------------------------------------------------
# argument checks shared by the public functions
# ---------------------------------------------------------------------------------------------
def _count(value, name: str, where: str, *, allow_none: bool = False) -> int | None:
    """An integer option >= 1 (integral floats accepted); anything else is a ConfigError."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, numbers.Real) and not isinstance(value, bool):
        ok = math.isfinite(float(value)) and float(value).is_integer()
    if not ok or int(value) < 1:
        raise ConfigError(located(f"{name} must be an integer >= 1{' or None' if allow_none else ''}, got {value!r}",
                                  where=where, fix=f"pass e.g. {name}=1" + (" or leave it None (all lags)"
                                                                             if allow_none else "")))
    return int(value)


def _check_alpha(alpha, where: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (0.0 < float(alpha) < 1.0):
        raise ConfigError(located(f"alpha must be a number in (0, 1), got {alpha!r}", where=where,
                                  fix="use e.g. alpha=0.05"))
    return float(alpha)


def _as_float_array(x, where: str, *, dim=None, extra_core: int = 0) -> np.ndarray:
    """Validate and convert the input; time is the last axis (or ``dim`` of a DataArray)."""
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is a dependency
        xr = None
    if xr is not None and isinstance(x, xr.Dataset):
        raise DataError(located("a Dataset holds several variables", where=where, fix="pass one variable, e.g. ds['ER']"))
    if xr is not None and isinstance(x, xr.DataArray):
        dims = list(x.dims)
        core = dims[len(dims) - 1 - extra_core] if dims else None
        if dim is None:
            named = [d for d in ("time", "year") if d in dims]
            if core in ("time", "year"):
                dim = core
            elif len(named) == 1:
                dim = named[0]
            else:
                raise DataError(located(f"cannot tell which dimension of the DataArray is time (dims {tuple(dims)})",
                                        where=where, fix="pass dim='<time dimension>' or use "
                                                         "landcarbon.trends.trend_field, which keeps the coordinates"))
        if dim not in dims:
            raise DataError(located(f"dimension {dim!r} not in the DataArray (dims {tuple(dims)})", where=where,
                                    fix="pass dim= one of its dimensions"))
        order = [d for d in dims if d != dim]
        if extra_core:
            col = dims[-1] if dims[-1] != dim else None
            if col is None:
                raise DataError(located("the last dimension must hold the columns", where=where))
            order = [d for d in order if d != col] + [dim, col]
        else:
            order = order + [dim]
        x = x.transpose(*order).values
    elif dim is not None:
        raise ConfigError(located("dim= is only meaningful for an xarray.DataArray", where=where,
                                  fix="for NumPy input put time on the last axis and omit dim"))
    try:
        import pandas as pd

        if isinstance(x, pd.DataFrame):
            raise DataError(located("a pandas DataFrame is ambiguous (its rows are usually time, but the "
                                    "kernels take time on the last axis)", where=where,
                                    fix="pass a Series, or df.to_numpy().T for one series per column"))
    except ImportError:  # pragma: no cover
        pass
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "O":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(located(f"input holds non-numeric objects ({exc})", where=where,
                                    fix="pass numbers; NaN marks a missing value")) from exc
    elif kind == "c":
        raise DataError(located("complex input has no order, so no trend test", where=where,
                                fix="pass real values (e.g. np.abs or .real)"))
    elif kind not in "biuf":
        raise DataError(located(f"input of dtype {a.dtype} is not numeric", where=where,
                                fix="pass numbers; NaN marks a missing value"))
    a = np.asarray(a, dtype=np.float64)
    if a.ndim < 1 + extra_core:
        need = "(..., time)" if not extra_core else "(..., time, column)"
        raise DataError(located(f"trend input must be shaped {need}, got {a.ndim} dimension(s)", where=where))
    t_axis = a.ndim - 1 - extra_core
    if a.shape[t_axis] == 0:
        raise DataError(located("the time axis is empty", where=where, fix="pass at least one time step"))
    if extra_core and a.shape[-1] == 0:
        raise DataError(located("there are no columns", where=where, fix="pass at least one column"))
    inf = np.isinf(a)
    if inf.any():
        idx = tuple(int(i) for i in np.argwhere(inf)[0])
        raise DataError(located(f"infinite value {a[idx]} at index {idx}", where=where,
                                fix="infinity is not a measurement: replace it with NaN (missing) or a finite value"))
    return a


def _check_scratch(T: int, cols: int, parallel: bool, where: str) -> None:
    """Refuse series whose pairwise scratch (slopes + selection buffers) would not fit in memory."""
    import numba

    ny = -(-T // cols)                                  # rows (years) when cut into `cols` seasons
    n_slopes = cols * ny * (ny - 1) // 2
    threads = numba.get_num_threads() if parallel else 1
    need = 48 * max(n_slopes, 1) * threads
    if need > MAX_SCRATCH_BYTES:
        raise ConfigError(located(f"series of {T} steps need ~{need / 2**30:.1f} GiB of pairwise scratch "
                                  f"(limit {MAX_SCRATCH_BYTES / 2**30:.0f} GiB)", where=where,
                                  fix="aggregate to a coarser time step (e.g. annual means) or test shorter windows"))


def _rows(a: np.ndarray, core: int) -> tuple[np.ndarray, tuple[int, ...]]:
    lead = a.shape[: a.ndim - core]
    return np.ascontiguousarray(a.reshape((-1,) + a.shape[a.ndim - core:])), lead


def _finish(out: np.ndarray, lead, zcrit: float, p_formula: str) -> dict[str, np.ndarray]:
    res = {nm: out[k].reshape(lead) for k, nm in enumerate(K.OUT_NAMES)}
    res["p"] = p_value(res["z"], p_formula)
    with np.errstate(invalid="ignore"):
        res["significant"] = np.abs(res["z"]) > zcrit
    return res


def _correlated(rows3: np.ndarray, mode: int, parallel: bool) -> np.ndarray:
    out = np.empty((K.NCOR, rows3.shape[0]), dtype=np.float64)
    if rows3.shape[0]:
        (K.cor_rows_parallel if parallel else K.cor_rows_serial)(rows3, mode, out)
    return out


def _apply_correlated(out: np.ndarray, cor: np.ndarray, *, keep_tau: bool = False) -> None:
    """Overwrite the test statistics of ``out`` (slope etc. kept) by those of a correlated kernel."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = cor[K.COR_S] / np.sqrt(cor[K.COR_VAR_S])   # the peer: no continuity correction
        factor = cor[K.COR_VAR_S] / cor[K.COR_VAR_S0]
    out[K.OUT_S] = cor[K.COR_S]
    out[K.OUT_VAR_S] = cor[K.COR_VAR_S]
    out[K.OUT_VAR_S0] = cor[K.COR_VAR_S0]
    out[K.OUT_NNS] = factor
    out[K.OUT_Z] = z
    if not keep_tau:
        out[K.OUT_TAU] = cor[K.COR_TAU]


def mk_test(x, method: str = "original", alpha: float = 0.05, *, lag: int | None = None,
            period: int = 12, hamed_rao_negative: str = "nan", p_formula: str = "accurate",
            confidence_interval: bool = True, parallel: bool = True, dim: str | None = None) -> dict[str, np.ndarray]:
    """Mann–Kendall test + Theil–Sen slope for every series of ``x`` (time = last axis).

    Parameters
    ----------
    x : array_like, shape (..., T), or xarray.DataArray
        Equally spaced series; NaN = missing. Units are carried through to ``slope`` as
        [x units per time step] (per year for annual data). A DataArray needs its time dimension
        named ``time``/``year`` or given as ``dim``.
    method : {"original", "hamed_rao", "yue_wang", "pre_whitening", "tfpw", "seasonal", "correlated_seasonal"}
        See the module docstring for equations and references.
    alpha : float
        Significance level of the two-sided test (0.05); also sets the slope confidence interval
        to 1 − alpha and, for Hamed–Rao, the lag-screening bound.
    lag : int >= 1, optional
        Hamed–Rao / Yue–Wang: number of lags used (default all, as pymannkendall).
    period : int >= 1
        Seasonal tests: season length (12 for monthly data; T need not be a multiple).
    hamed_rao_negative : {"nan", "abs"}
        Handling of a negative Hamed–Rao correction (see module docstring).
    p_formula : {"accurate", "pymannkendall"}
        p-value formula (see :func:`p_value`).
    confidence_interval : bool
        Compute the Sen-slope confidence limits (False skips two order statistics and returns NaN
        limits; not for the seasonal tests, which always compute them).
    parallel : bool
        Use numba threads over pixels (set False inside dask workers).
    dim : str, optional
        Time dimension of a DataArray input.

    Returns
    -------
    dict of ndarray, each shaped like ``x`` without its time axis
        ``s``, ``var_s`` (corrected for the modified tests), ``z``, ``p``, ``tau`` (τ-a), ``slope``
        [x units per step], ``intercept`` [x units; value at step 0], ``slope_low``/``slope_high``
        (1 − alpha confidence limits), ``n`` (valid values), ``var_s_uncorrected``,
        ``variance_factor`` (n/n*; correlated seasonal: Var(S) / Σ_g Var(S_g)), ``significant``
        (|Z| > z_{1−α/2}, as pymannkendall's ``h``); ``n_years`` (complete years) for the correlated
        seasonal test.

    Raises
    ------
    ConfigError
        Unknown method or option out of range (``lag`` <= 0, non-integer ``period``, ``alpha`` outside (0, 1)).
    DataError
        Empty, non-numeric, complex or infinite input; a DataArray without a known time dimension.

    Examples
    --------
    >>> r = mk_test([1.0, 2.3, 2.9, 4.4, 5.0, 6.8])
    >>> int(r["s"]), float(r["tau"]), float(r["slope"])
    (15, 1.0, 1.125)
    """
    where = "landcarbon.trends.mk_test"
    name = _ALIASES.get(method, method) if isinstance(method, str) else method
    if name not in METHODS:
        raise ConfigError(located(f"unknown trend test {method!r}", where=where,
                                  fix="use one of " + ", ".join(METHODS) + "; for several columns see multivariate_test"))
    alpha = _check_alpha(alpha, where)
    lag = _count(lag, "lag", where, allow_none=True)
    period = _count(period, "period", where)
    hr_mode = {"nan": K.HR_AS_PAPER, "abs": K.HR_ABS}.get(hamed_rao_negative)
    if hr_mode is None:
        raise ConfigError(located(f"hamed_rao_negative must be 'nan' or 'abs', got {hamed_rao_negative!r}",
                                  where=where))
    if p_formula not in ("accurate", "pymannkendall"):
        p_value(0.0, p_formula)                              # raises the ConfigError
    a = _as_float_array(x, where, dim=dim)
    rows, lead = _rows(a, 1)
    T = rows.shape[1]
    _check_scratch(T, period if name in ("seasonal", "correlated_seasonal") else 1, parallel, where)
    zcrit = _norm_ppf(1.0 - alpha / 2.0)      # == scipy.stats.norm.ppf(1 - alpha/2)
    zq = _norm_ppf(alpha / 2.0)               # scipy.theilslopes: norm.ppf(alpha/2) (negative)
    out = np.empty((K.NOUT, rows.shape[0]), dtype=np.float64)
    if rows.shape[0] > 0:
        if name in ("seasonal", "correlated_seasonal"):
            fn = K.seasonal_rows_parallel if parallel else K.seasonal_rows_serial
            fn(rows, period, zq, out)
        else:
            fn = K.mk_rows_parallel if parallel else K.mk_rows_serial
            fn(rows, METHODS[name], zcrit, zq, -1 if lag is None else lag, hr_mode, bool(confidence_interval), out)
    res_years = None
    if name == "correlated_seasonal" and rows.shape[0] > 0:
        ny = -(-T // period)
        pad = np.full((rows.shape[0], ny * period), np.nan)
        pad[:, :T] = rows
        cor = _correlated(np.ascontiguousarray(pad.reshape(rows.shape[0], ny, period)), K.MODE_CORRELATED, parallel)
        _apply_correlated(out, cor)
        res_years = cor[K.COR_N].reshape(lead)
    res = _finish(out, lead, zcrit, p_formula)
    if name == "correlated_seasonal":
        res["n_years"] = res_years if res_years is not None else np.zeros(lead)
    return res


def multivariate_test(x, method: str = "regional", alpha: float = 0.05, *, p_formula: str = "accurate",
                      parallel: bool = True, dim: str | None = None) -> dict[str, np.ndarray]:
    """Mann–Kendall tests of several series observed together: ``x`` shaped (..., time, column).

    Parameters
    ----------
    x : array_like, shape (..., T, C), or xarray.DataArray (time dimension ``dim``, columns last)
        C series (stations, variables) on a common, equally spaced time axis; NaN = missing.
    method : {"regional", "correlated_multivariate", "partial"}
        ``regional`` — S and Var(S) summed over the columns (Helsel & Frans 2006), each column with its
        own gaps; ``correlated_multivariate`` — Var(S) with the between-column covariances (Libiseller &
        Grimvall 2002), complete rows only; ``partial`` — trend of column 0 after removing the part
        explained by the covariate in column 1 (needs C = 2). Equations in the module docstring.
    alpha : float
        Two-sided significance level and 1 − confidence level of the slope interval.

    Returns
    -------
    dict of ndarray shaped like ``x`` without its last two axes: the keys of :func:`mk_test`;
    ``n`` counts the valid values (regional), the complete rows (correlated, partial); ``rho`` (partial:
    correlation of S_0 and S_1).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.column_stack([np.arange(10.0), np.arange(10.0) ** 2])
    >>> r = multivariate_test(x, "regional")
    >>> int(r["s"]), float(r["tau"])
    (90, 1.0)
    """
    where = "landcarbon.trends.multivariate_test"
    name = _ALIASES.get(method, method) if isinstance(method, str) else method
    if name not in MULTIVARIATE_METHODS:
        raise ConfigError(located(f"unknown multivariate trend test {method!r}", where=where,
                                  fix="use one of " + ", ".join(MULTIVARIATE_METHODS)))
    alpha = _check_alpha(alpha, where)
    if p_formula not in ("accurate", "pymannkendall"):
        p_value(0.0, p_formula)
    a = _as_float_array(x, where, dim=dim, extra_core=1)
    rows3, lead = _rows(a, 2)
    npix, T, C = rows3.shape
    if name == "partial" and C != 2:
        raise DataError(located(f"the partial test needs exactly 2 columns (series, covariate), got {C}", where=where,
                                fix="stack the series and its covariate as the last axis: np.stack([y, cov], -1)"))
    _check_scratch(T * C, C, parallel, where)
    if name != "regional":
        _check_scratch(T, 1, parallel, where)          # sign vectors of the correlated kernel
    zcrit = _norm_ppf(1.0 - alpha / 2.0)
    zq = _norm_ppf(alpha / 2.0)
    out = np.empty((K.NOUT, npix), dtype=np.float64)
    rho = None
    if npix:
        if name == "partial":
            first = np.ascontiguousarray(rows3[:, :, 0])
            (K.mk_rows_parallel if parallel else K.mk_rows_serial)(first, K.ORIGINAL, zcrit, zq, -1, K.HR_AS_PAPER,
                                                                   True, out)
        else:
            flat = np.ascontiguousarray(rows3.reshape(npix, T * C))     # row-major: column = "season"
            (K.seasonal_rows_parallel if parallel else K.seasonal_rows_serial)(flat, C, zq, out)
        if name != "regional":
            cor = _correlated(rows3, K.MODE_PARTIAL if name == "partial" else K.MODE_CORRELATED, parallel)
            _apply_correlated(out, cor)
            out[K.OUT_N] = cor[K.COR_N]
            rho = cor[K.COR_RHO]
    res = _finish(out, lead, zcrit, p_formula)
    if name == "partial":
        res["rho"] = (rho if rho is not None else np.empty(0)).reshape(lead)
    return res


def sens_slope(x, alpha: float = 0.05, *, parallel: bool = True) -> dict[str, np.ndarray]:
    """Theil–Sen slope, Conover intercept and 1 − alpha confidence limits (see :func:`mk_test`)."""
    r = mk_test(x, "original", alpha, parallel=parallel)
    return {k: r[k] for k in ("slope", "intercept", "slope_low", "slope_high", "n")}


def critical_z(alpha: float) -> float:
    """z_{1−α/2} of the two-sided test."""
    return _norm_ppf(1.0 - _check_alpha(alpha, "landcarbon.trends.critical_z") / 2.0)
