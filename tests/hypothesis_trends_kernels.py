"""Property-based tests of every numba kernel of landcarbon.trends (run in a subprocess by
tests/test_trends_properties.py, so that a crash of the interpreter is a test failure, not a lost session).

Random shapes, dtypes, NaN patterns and magnitudes from 1e-320 (subnormal) to 1e308 drive ``mk_test`` (all
methods), ``multivariate_test`` (all methods), ``trend_field`` and the kernels directly. Asserted: no crash;
invalid input raises a typed landcarbon error; the outputs keep their invariants; and where the peer is
defined the numbers equal pymannkendall 1.4.3 (the oracle).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pymannkendall as pmk
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from landcarbon.errors import ConfigError, DataError, LandcarbonError
from landcarbon.trends import METHODS, mk_test, multivariate_test, trend_field
from landcarbon.trends import _kernels as K

N_EXAMPLES = int(__import__("os").environ.get("LC_HYPOTHESIS_EXAMPLES", "80"))
SETTINGS = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
#: fewer examples where one example is expensive (dask graphs; every compiled entry point)
FEWER = settings(SETTINGS, max_examples=max(5, N_EXAMPLES // 3))

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]


@st.composite
def magnitudes(draw):
    """A finite float whose decimal exponent is anywhere in [-320, 308] (or exactly zero)."""
    if draw(st.integers(0, 9)) == 0:
        return 0.0
    e = draw(st.integers(-320, 307))
    m = draw(st.floats(1.0, 9.99))
    v = m * 10.0 ** e if e > -300 else m * 1e-300 * 10.0 ** (e + 300)
    return -v if draw(st.booleans()) else v


@st.composite
def series_arrays(draw, max_lead=2, min_t=1, max_t=40):
    """(..., T) arrays of a random dtype with NaN gaps, ties and extreme magnitudes."""
    lead = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=max_lead)))
    T = draw(st.integers(min_t, max_t))
    shape = lead + (T,)
    kind = draw(st.sampled_from(["float", "int", "bool", "tied", "extreme"]))
    if kind == "int":
        dt = draw(st.sampled_from(INT_DTYPES))
        return draw(hnp.arrays(dt, shape))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    if kind == "tied":
        base = draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)))
    elif kind == "extreme":
        base = draw(hnp.arrays(np.float64, shape, elements=magnitudes()))
    else:
        dt = draw(st.sampled_from(FLOAT_DTYPES))
        base = draw(hnp.arrays(dt, shape, elements=st.floats(-1e4, 1e4, allow_nan=False, width=16
                                                              if dt == np.float16 else 32 if dt == np.float32 else 64)))
    base = base.astype(np.float64)
    mask = draw(hnp.arrays(np.bool_, shape))
    if draw(st.booleans()):
        base[mask] = np.nan
    return base


def _check_invariants(r, x, method):
    n_valid = np.sum(~np.isnan(np.asarray(x, float)), axis=-1)
    for k, v in r.items():
        assert v.shape == np.asarray(x).shape[:-1], (k, v.shape)
    if method not in ("correlated_seasonal",):
        np.testing.assert_array_equal(r["n"], n_valid)
    p = r["p"][np.isfinite(r["p"])]
    assert np.all((p >= 0) & (p <= 1 + 1e-15))
    tau = r["tau"][np.isfinite(r["tau"])]
    assert np.all(np.abs(tau) <= 1 + 1e-12)
    if method in ("original", "hamed_rao", "yue_wang", "seasonal", "correlated_seasonal"):
        s = r["s"][np.isfinite(r["s"])]
        assert np.all(s == np.round(s))
    if method == "original":
        ok = np.isfinite(r["slope"]) & np.isfinite(r["slope_low"]) & np.isfinite(r["slope_high"])
        assert np.all(r["slope_low"][ok] <= r["slope"][ok]) and np.all(r["slope"][ok] <= r["slope_high"][ok])
        assert np.all(r["var_s"][np.isfinite(r["var_s"])] >= 0)


def _peer(fn, row, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(row, **kw)


@SETTINGS
@given(x=series_arrays(), method=st.sampled_from(sorted(METHODS)), ci=st.booleans(),
       period=st.integers(1, 13), lag=st.one_of(st.none(), st.integers(1, 6)))
def test_mk_test_never_crashes_and_keeps_invariants(x, method, ci, period, lag):
    r = mk_test(x, method, confidence_interval=ci, period=period, lag=lag if method in ("hamed_rao", "yue_wang") else None)
    _check_invariants(r, x, method)


@SETTINGS
@given(x=series_arrays(max_lead=1, min_t=2, max_t=30))
def test_original_equals_pymannkendall_at_any_magnitude(x):
    """S, Var(S), Z, tau, Sen slope and intercept use only comparisons, differences and medians, so the
    peer is the oracle at every finite magnitude (where it is defined: n >= 2 valid values)."""
    rows = x.reshape(-1, x.shape[-1])
    r = mk_test(rows, p_formula="pymannkendall", confidence_interval=False)
    for i, row in enumerate(rows):
        if np.sum(~np.isnan(row)) < 2:
            assert np.isnan(r["z"][i])
            continue
        ref = _peer(pmk.original_test, row)
        for k, kk in (("s", "s"), ("var_s", "var_s"), ("z", "z"), ("tau", "Tau"), ("p", "p")):
            a, b = float(r[k][i]), float(getattr(ref, kk))
            assert a == b or (math.isnan(a) and math.isnan(b)), (k, a, b, row)
        for k, kk in (("slope", "slope"), ("intercept", "intercept")):
            a, b = float(r[k][i]), float(getattr(ref, kk))
            assert a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12), (k, a, b, row)


@SETTINGS
@given(x=series_arrays(max_lead=0, min_t=13, max_t=60), period=st.integers(2, 6),
       method=st.sampled_from(["seasonal", "correlated_seasonal"]))
def test_seasonal_tests_equal_pymannkendall(x, period, method):
    fn = pmk.seasonal_test if method == "seasonal" else pmk.correlated_seasonal_test
    ny = -(-x.size // period)
    pad = np.concatenate([x, np.full(ny * period - x.size, np.nan)]).reshape(ny, period)
    valid_cols = np.sum(np.isfinite(pad), axis=0)
    complete = int(np.sum(np.isfinite(pad).all(axis=1)))
    if method == "seasonal":
        assume(np.all(valid_cols >= 1) and valid_cols.sum() > period)     # the peer divides by zero otherwise
    else:
        assume(complete >= 2)
    v = np.abs(x[np.isfinite(x)])
    assume(np.all((v == 0) | ((v > 1e-100) & (v < 1e100))))   # the peer's sign of a product under/overflows
    r = mk_test(x, method, period=period, p_formula="pymannkendall")
    ref = _peer(fn, x, period=period)
    for k, kk in (("s", "s"), ("var_s", "var_s"), ("tau", "Tau"), ("z", "z")):
        a, b = float(r[k]), float(getattr(ref, kk))
        assert a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12), (k, a, b)


@SETTINGS
@given(x=st.integers(3, 25).flatmap(lambda T: st.integers(1, 4).flatmap(
    lambda C: hnp.arrays(np.float64, (T, C), elements=st.one_of(
        st.integers(-5, 5).map(float), st.floats(-1e6, 1e6).map(lambda v: round(v, 6)), st.just(np.nan))))),
       method=st.sampled_from(["regional", "correlated_multivariate", "partial"]))
def test_multivariate_tests_equal_pymannkendall(x, method):
    if method == "partial" and x.shape[1] != 2:
        with pytest.raises(DataError):
            multivariate_test(x, method)
        return
    complete = int(np.sum(np.isfinite(x).all(axis=1)))
    cols_ok = np.sum(np.isfinite(x), axis=0)
    r = multivariate_test(x, method, p_formula="pymannkendall")
    if method == "regional":
        assume(np.all(cols_ok >= 2))
        fn = pmk.regional_test
    else:
        assume(complete >= 3 and x.shape[1] >= 2)     # the peer flattens a single column and then fails
        fn = pmk.correlated_multivariate_test if method == "correlated_multivariate" else pmk.partial_test
    ref = _peer(fn, x)
    for k, kk in (("s", "s"), ("var_s", "var_s"), ("tau", "Tau"), ("z", "z")):
        a, b = float(r[k]), float(getattr(ref, kk))
        assert a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (k, a, b)


@SETTINGS
@given(x=st.integers(2, 12).flatmap(lambda T: st.integers(1, 3).flatmap(
    lambda C: st.integers(0, 3).flatmap(lambda P: hnp.arrays(np.float64, (P, T, C), elements=magnitudes())))),
       nan=st.booleans(), method=st.sampled_from(["regional", "correlated_multivariate", "partial"]))
def test_multivariate_kernels_never_crash_at_any_magnitude(x, nan, method):
    if nan:
        x = x.copy()
        x.ravel()[::3] = np.nan
    try:
        r = multivariate_test(x, method)
    except DataError:
        assert method == "partial" and x.shape[-1] != 2
        return
    assert r["s"].shape == x.shape[:-2]


@SETTINGS
@given(bad=st.sampled_from(["inf", "complex", "empty", "string", "lag0", "lagneg", "period_float", "period0",
                            "alpha", "dataframe", "datetime", "xarray_no_dim"]))
def test_invalid_input_raises_a_typed_error(bad):
    x = np.arange(12.0)
    kw = {}
    if bad == "inf":
        x = x.copy(); x[3] = np.inf
    elif bad == "complex":
        x = x + 1j
    elif bad == "empty":
        x = np.zeros((3, 0))
    elif bad == "string":
        x = np.array(["a", "b"])
    elif bad == "lag0":
        kw = {"method": "hamed_rao", "lag": 0}
    elif bad == "lagneg":
        kw = {"method": "yue_wang", "lag": -2}
    elif bad == "period_float":
        kw = {"method": "seasonal", "period": 12.5}
    elif bad == "period0":
        kw = {"method": "correlated_seasonal", "period": 0}
    elif bad == "alpha":
        kw = {"alpha": float("nan")}
    elif bad == "dataframe":
        import pandas as pd
        x = pd.DataFrame({"a": x, "b": x})
    elif bad == "datetime":
        x = np.arange(12).astype("datetime64[D]")
    elif bad == "xarray_no_dim":
        import xarray as xr
        x = xr.DataArray(np.zeros((4, 3)), dims=("lat", "lon"))
    with pytest.raises(LandcarbonError):
        mk_test(x, **kw)


@FEWER
@given(x=series_arrays(max_lead=2, min_t=1, max_t=16))
def test_raw_kernels_survive_any_finite_input(x):
    """The compiled entry points themselves (what trend_field's dask path calls) on arbitrary rows."""
    rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    for method in (K.ORIGINAL, K.HAMED_RAO, K.YUE_WANG, K.PRE_WHITENING, K.TREND_FREE_PRE_WHITENING):
        for ci in (True, False):
            out = np.empty((K.NOUT, rows.shape[0]))
            K.mk_rows_serial(rows, method, 1.96, -1.96, -1, K.HR_AS_PAPER, ci, out)
            K.mk_rows_parallel(rows, method, 1.96, -1.96, 2, K.HR_ABS, ci, out)
    for period in (1, 2, 5, 12):
        out = np.empty((K.NOUT, rows.shape[0]))
        K.seasonal_rows_serial(rows, period, -1.96, out)
        K.seasonal_rows_parallel(rows, period, -1.96, out)
    for C in (1, 2, 3):
        T = rows.shape[1] // C
        if T:
            x3 = np.ascontiguousarray(rows[:, : T * C].reshape(rows.shape[0], T, C))
            out = np.empty((K.NCOR, rows.shape[0]))
            K.cor_rows_serial(x3, K.MODE_CORRELATED, out)
            K.cor_rows_parallel(x3, K.MODE_PARTIAL if C == 2 else K.MODE_CORRELATED, out)


@FEWER
@given(x=series_arrays(max_lead=2, min_t=2, max_t=12), method=st.sampled_from(["original", "tfpw", "seasonal"]))
def test_trend_field_dask_and_numpy_agree(x, method):
    import xarray as xr

    assume(x.ndim >= 2 and x.size > 0 and x.shape[0] > 0)
    dims = tuple(f"d{i}" for i in range(x.ndim - 1)) + ("year",)
    da = xr.DataArray(x, dims=dims)
    a = trend_field(da, "year", method, period=3)
    b = trend_field(da.chunk({dims[0]: 1}), "year", method, period=3).compute()
    for v in ("s", "z", "slope", "p"):
        np.testing.assert_array_equal(a[v].values, b[v].values)
