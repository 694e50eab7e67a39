"""A thin pymannkendall-shaped front end to landcarbon.trends, used only to run pymannkendall's own test
suite (tests/test_trends_pymk_suite.py) against this package.

Every function takes one series (or a (time, column) matrix) like pymannkendall 1.4.3 and returns the same
named tuple ``(trend, h, p, z, Tau, s, var_s, slope, intercept)``; the numbers come from the landcarbon
kernels with ``p_formula="pymannkendall"`` (the peer's 2·(1 − Φ(|z|))). No pymannkendall code is used.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from landcarbon.trends import mk_test
from landcarbon.trends import multivariate_test as _lc_multivariate

_Res = namedtuple("Mann_Kendall_Test", ["trend", "h", "p", "z", "Tau", "s", "var_s", "slope", "intercept"])
_Sens = namedtuple("Sens_Slope_Test", ["slope", "intercept"])


def _as_tuple(r) -> _Res:
    z = float(r["z"])
    h = bool(r["significant"])
    trend = "decreasing" if (z < 0 and h) else "increasing" if (z > 0 and h) else "no trend"
    return _Res(trend, h, float(r["p"]), z, float(r["tau"]), float(r["s"]), float(r["var_s"]),
                float(r["slope"]), float(r["intercept"]))


def _series(x):
    a = np.asarray(x, dtype=float)
    return a.ravel() if (a.ndim == 2 and a.shape[1] == 1) else a


def _one(method, x, alpha=0.05, **kw):
    return _as_tuple(mk_test(_series(x), method, alpha, p_formula="pymannkendall", **kw))


def original_test(x, alpha=0.05):
    return _one("original", x, alpha)


def hamed_rao_modification_test(x, alpha=0.05, lag=None):
    return _one("hamed_rao", x, alpha, lag=lag)


def yue_wang_modification_test(x, alpha=0.05, lag=None):
    return _one("yue_wang", x, alpha, lag=lag)


def pre_whitening_modification_test(x, alpha=0.05):
    return _one("pre_whitening", x, alpha)


def trend_free_pre_whitening_modification_test(x, alpha=0.05):
    return _one("tfpw", x, alpha)


def seasonal_test(x, period=12, alpha=0.05):
    return _one("seasonal", x, alpha, period=period)


def correlated_seasonal_test(x, period=12, alpha=0.05):
    return _one("correlated_seasonal", x, alpha, period=period)


def _matrix(method, x, alpha=0.05):
    return _as_tuple(_lc_multivariate(np.asarray(x, dtype=float), method, alpha, p_formula="pymannkendall"))


def multivariate_test_(x, alpha=0.05):
    return _matrix("regional", x, alpha)


def regional_test(x, alpha=0.05):
    return _matrix("regional", x, alpha)


def correlated_multivariate_test(x, alpha=0.05):
    return _matrix("correlated_multivariate", x, alpha)


def partial_test(x, alpha=0.05):
    return _matrix("partial", x, alpha)


def sens_slope(x):
    r = mk_test(_series(x), "original")
    return _Sens(float(r["slope"]), float(r["intercept"]))


def seasonal_sens_slope(x, period=12):
    r = mk_test(_series(x), "seasonal", period=period)
    return _Sens(float(r["slope"]), float(r["intercept"]))


multivariate_test = multivariate_test_
