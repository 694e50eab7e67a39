"""Exactness of the Mann–Kendall / Theil–Sen kernels against pymannkendall 1.4.3 and scipy.

Oracles: pymannkendall (per-series reference implementation of every test), scipy.stats.theilslopes
(Sen slope confidence interval), scipy.stats.norm (accurate p-values) and slow NumPy re-statements of
the equations where the peer has a known bug (Hamed–Rao with |Σ|).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

pmk = pytest.importorskip("pymannkendall")

from landcarbon.errors import ConfigError  # noqa: E402
from landcarbon.trends import mk_test  # noqa: E402

RTOL = 1e-12
FIELDS = [("s", "s"), ("var_s", "var_s"), ("z", "z"), ("p", "p"), ("tau", "Tau"), ("slope", "slope"),
          ("intercept", "intercept"), ("significant", "h")]
PEER = {
    "original": pmk.original_test,
    "hamed_rao": pmk.hamed_rao_modification_test,
    "yue_wang": pmk.yue_wang_modification_test,
    "pre_whitening": pmk.pre_whitening_modification_test,
    "tfpw": pmk.trend_free_pre_whitening_modification_test,
}


def make_series(seed: int, n_series: int, length: int, *, nan_share=0.25, decimals=(0, 1, 2, None)):
    """Random trend + AR(1) series with ties (rounding) and NaN gaps (incl. leading/trailing)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    x = np.empty((n_series, length))
    for i in range(n_series):
        phi = rng.uniform(-0.6, 0.8)
        e = rng.normal(size=length)
        for k in range(1, length):
            e[k] += phi * e[k - 1]
        x[i] = rng.normal(0, 0.05) * t + rng.uniform(0.5, 3) * e
        d = decimals[i % len(decimals)]
        if d is not None:
            x[i] = np.round(x[i], d)
    gappy = rng.random(n_series) < nan_share
    for i in np.flatnonzero(gappy):
        miss = rng.random(length) < rng.uniform(0.05, 0.3)
        if rng.random() < 0.3:
            miss[: rng.integers(1, 4)] = True
        x[i, miss] = np.nan
    return x


def _valid_n(x):
    return np.sum(~np.isnan(x), axis=-1)


def _peer(fn, x, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [fn(row, **kw) for row in x]


def _max_rel(ours, ref):
    ours = np.asarray(ours, float)
    ref = np.asarray(ref, float)
    same = (ours == ref) | (np.isnan(ours) & np.isnan(ref))
    d = np.where(same, 0.0, np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300))
    return float(np.max(d)) if d.size else 0.0


def compare(method, x, ref, **kw):
    ours = mk_test(x, method, p_formula="pymannkendall", **kw)
    dev = {}
    for k, kk in FIELDS:
        refv = np.array([getattr(r, kk) for r in ref], float)
        dev[k] = _max_rel(ours[k], refv)
    return ours, dev


@pytest.mark.parametrize("method", list(PEER))
@pytest.mark.parametrize("length", [5, 12, 30, 47])
def test_equals_pymannkendall(method, length):
    x = make_series(100 + length, 250, length)
    n = _valid_n(x)
    keep = n >= (2 if method in ("original", "yue_wang") else 3)   # peer divides by zero below
    # constant (detrended) series: pymannkendall divides 0/0 in the ACF; covered separately below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # nanstd of 1-value rows
        keep &= np.nanstd(x, axis=1) > 0
    x = x[keep]
    ref = _peer(PEER[method], x)
    ours, dev = compare(method, x, ref)
    for k, d in dev.items():
        assert d <= RTOL, f"{method} n={length}: {k} deviates by {d:.3g} (relative)"
    # The accurate p equals 2*norm.sf(|z|) of the peer's z. The tail's condition number is ~z², so a
    # z that differed in the 14th digit (e.g. an ACF summed in another order on another BLAS) would
    # move p = 1e-39 (z = 13) in the 12th digit: allow RTOL * max(1, z²).
    zref = np.array([r.z for r in ref], float)
    p_acc = mk_test(x, method)["p"]
    p_ref = 2 * stats.norm.sf(np.abs(zref))
    assert np.array_equal(np.isnan(p_acc), np.isnan(p_ref))
    rel = np.nan_to_num(np.abs(p_acc - p_ref) / np.maximum(p_ref, 1e-300))
    assert np.all(rel <= RTOL * np.maximum(1.0, np.nan_to_num(zref) ** 2)), float(np.max(rel))


@pytest.mark.parametrize("method,lag", [("hamed_rao", 3), ("yue_wang", 1), ("yue_wang", 4)])
def test_lag_option_equals_pymannkendall(method, lag):
    x = make_series(7, 120, 30, nan_share=0.2)
    x = x[(_valid_n(x) > lag + 2) & (np.nanstd(x, axis=1) > 0)]
    ref = _peer(PEER[method], x, lag=lag)
    _, dev = compare(method, x, ref, lag=lag)
    assert max(dev.values()) <= RTOL, dev


@pytest.mark.parametrize("length,period", [(120, 12), (125, 12), (60, 4), (30, 1)])
def test_seasonal_equals_pymannkendall(length, period):
    x = make_series(200 + length, 120, length, nan_share=0.3)
    x = x[_valid_n(x) >= 2 * period]
    ref = _peer(pmk.seasonal_test, x, period=period)
    _, dev = compare("seasonal", x, ref, period=period)
    for k, d in dev.items():
        assert d <= RTOL, f"seasonal {length}/{period}: {k} deviates by {d:.3g}"


def test_seasonal_period_one_is_original_with_theilslopes_ci():
    x = make_series(3, 80, 25, nan_share=0.0)
    a = mk_test(x, "seasonal", period=1)
    b = mk_test(x, "original")
    for k in ("s", "var_s", "z", "tau", "slope", "intercept", "slope_low", "slope_high"):
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_ci_equals_scipy_theilslopes(alpha):
    x = make_series(11, 300, 30, nan_share=0.3, decimals=(0, 1, None))
    r = mk_test(x, alpha=alpha)
    lows, highs, slopes, icpt = [], [], [], []
    for row in x:
        ok = ~np.isnan(row)
        t = np.flatnonzero(ok).astype(float)
        res = stats.theilslopes(row[ok], t, alpha=1 - alpha)       # confidence level, as scipy documents
        lows.append(res.low_slope)
        highs.append(res.high_slope)
        slopes.append(res.slope)
        icpt.append(res.intercept)
    assert _max_rel(r["slope_low"], lows) <= RTOL
    assert _max_rel(r["slope_high"], highs) <= RTOL
    assert _max_rel(r["slope"], slopes) <= RTOL
    # scipy's 'separate' intercept uses median(t_valid) exactly like the Conover/pymannkendall one
    assert _max_rel(r["intercept"], icpt) <= 1e-9
    assert np.all(r["slope_low"] <= r["slope"]) and np.all(r["slope"] <= r["slope_high"])


def _hr_abs_oracle(x, alpha=0.05):
    """Slow NumPy statement of Hamed & Rao (1998) with |Σ| (pymannkendall master, issue #29)."""
    x = x[~np.isnan(x)]
    n = len(x)
    s = sum(np.sign(x[j] - x[k]) for k in range(n) for j in range(k + 1, n))
    _, t = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18
    q = np.median([(x[j] - x[i]) / (j - i) for i in range(n) for j in range(i + 1, n)])
    r = stats.rankdata(x - np.arange(1, n + 1) * q)
    y = r - r.mean()
    acf = np.array([np.sum(y[k:] * y[: n - k]) for k in range(n)]) / np.sum(y * y)
    bound = stats.norm.ppf(1 - alpha / 2) / np.sqrt(n)
    k = np.arange(1, n)
    sig = np.abs(acf[1:]) > bound
    sni = np.sum(((n - k) * (n - k - 1) * (n - k - 2) * acf[1:])[sig])
    return s, var * (1 + 2 / (n * (n - 1) * (n - 2)) * abs(sni))


def _negative_hr_series():
    """Deterministic scan for series whose Hamed–Rao variance is negative in pymannkendall 1.4.3."""
    rng = np.random.default_rng(29)
    found = []
    for _ in range(4000):
        n = int(rng.integers(6, 14))
        x = np.round(np.cumsum(rng.normal(size=n)) * np.where(rng.random(n) < 0.5, 1, -1), 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = pmk.hamed_rao_modification_test(x)
        if r.var_s < 0:
            found.append(x)
            if len(found) == 5:
                break
    return found


def test_hamed_rao_negative_variance_documented_choice():
    series = _negative_hr_series()
    assert series, "no negative Hamed–Rao variance found; the scan needs widening"
    for x in series:
        ref = _peer(pmk.hamed_rao_modification_test, x[None])[0]
        ours = mk_test(x, "hamed_rao", p_formula="pymannkendall")
        # default: the paper / pymannkendall 1.4.3 formula, negative Var*(S) kept -> z, p undefined
        assert ours["var_s"] == pytest.approx(ref.var_s, rel=RTOL) and ours["var_s"] < 0
        if ref.s != 0:
            assert np.isnan(ours["z"]) and np.isnan(ours["p"]) and not ours["significant"]
        # "abs": pymannkendall master's fix, checked against a slow NumPy statement
        fixed = mk_test(x, "hamed_rao", hamed_rao_negative="abs")
        s, var = _hr_abs_oracle(x)
        assert fixed["s"] == s
        assert fixed["var_s"] == pytest.approx(var, rel=1e-12) and fixed["var_s"] > 0
        assert np.isfinite(fixed["p"])


def test_edge_cases():
    x = np.full((6, 8), np.nan)
    x[1, 3] = 1.0                                  # n = 1
    x[2, [2, 6]] = [1.0, 3.0]                      # n = 2 (gap of 4 steps)
    x[3] = 2.5                                     # all equal
    x[4] = np.arange(8.0)                          # perfect trend
    x[5] = -np.arange(8.0) * 2
    r = mk_test(x)
    assert np.isnan(r["z"][0]) and r["n"][0] == 0 and not r["significant"][0]
    assert np.isnan(r["slope"][1]) and r["n"][1] == 1
    assert r["z"][2] == 0 and r["p"][2] == 1 and r["slope"][2] == 0.5 and r["intercept"][2] == 2.0 - 4 * 0.5  # median(x) - median(t) * Q
    assert r["s"][3] == 0 and r["var_s"][3] == 0 and r["z"][3] == 0 and r["p"][3] == 1 and r["slope"][3] == 0
    assert r["s"][4] == 28 and r["tau"][4] == 1 and r["slope"][4] == 1 and r["intercept"][4] == 0
    assert r["s"][5] == -28 and r["tau"][5] == -1 and r["slope"][5] == -2


def test_accurate_p_does_not_underflow():
    x = np.arange(40.0)
    ref = pmk.original_test(x)
    ours = mk_test(x)
    assert ref.p == 0.0                             # the peer's cancellation in its variance formula
    assert ours["p"] == pytest.approx(2 * stats.norm.sf(ref.z), rel=1e-12) and ours["p"] > 0
    assert mk_test(x, p_formula="pymannkendall")["p"] == 0.0


def test_modified_tests_constant_series():
    x = np.full(20, 3.0)
    for m in ("hamed_rao", "yue_wang"):
        assert np.isnan(mk_test(x, m)["var_s"])    # undefined ACF, as pymannkendall
    for m in ("pre_whitening", "tfpw"):
        r = mk_test(x, m)
        fn = pmk.pre_whitening_modification_test if m == "pre_whitening" else \
            pmk.trend_free_pre_whitening_modification_test
        ref = _peer(fn, x[None])[0]
        assert r["z"] == 0 and r["p"] == 1 and r["var_s"] == ref.var_s


@pytest.mark.parametrize("method", ["original", "hamed_rao", "tfpw", "seasonal"])
def test_parallel_equals_serial_and_shapes(method):
    x = make_series(5, 1500, 24).reshape(30, 50, 24)
    a = mk_test(x, method, parallel=True)
    b = mk_test(x, method, parallel=False)
    for k in a:
        assert a[k].shape == (30, 50)
        np.testing.assert_array_equal(a[k], b[k])


def test_bad_arguments():
    with pytest.raises(ConfigError, match="unknown trend test"):
        mk_test(np.zeros(5), "sen")
    with pytest.raises(ConfigError, match="alpha"):
        mk_test(np.zeros(5), alpha=5)
    with pytest.raises(ConfigError, match="hamed_rao_negative"):
        mk_test(np.zeros(5), hamed_rao_negative="clip")


def test_without_confidence_interval_same_numbers():
    x = make_series(8, 300, 30)
    a = mk_test(x)
    b = mk_test(x, confidence_interval=False)
    for k in a:
        if k in ("slope_low", "slope_high"):
            assert np.all(np.isnan(b[k]))
        else:
            np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------------------------------------
# the rest of the Mann–Kendall family: correlated seasonal, regional, correlated multivariate, partial
# ---------------------------------------------------------------------------------------------
def _compare_fields(ours, ref, i, label):
    for k, kk in FIELDS:
        a, b = float(ours[k][i]), float(getattr(ref, kk))
        assert a == b or (np.isnan(a) and np.isnan(b)), f"{label}: {k} {a!r} != peer {b!r}"


@pytest.mark.parametrize("length,period", [(120, 12), (125, 12), (48, 4)])
def test_correlated_seasonal_equals_pymannkendall(length, period):
    x = make_series(300 + length, 80, length, nan_share=0.3)
    ny = -(-length // period)
    pad = np.concatenate([x, np.full((x.shape[0], ny * period - length), np.nan)], axis=1).reshape(len(x), ny, period)
    x = x[np.isfinite(pad).all(axis=2).sum(axis=1) >= 3]          # the peer needs complete years
    ours = mk_test(x, "correlated_seasonal", period=period, p_formula="pymannkendall")
    for i, row in enumerate(x):
        ref = _peer(pmk.correlated_seasonal_test, row[None], period=period)[0]
        _compare_fields(ours, ref, i, f"correlated seasonal {length}/{period} row {i}")


@pytest.mark.parametrize("method", ["regional", "correlated_multivariate", "partial"])
def test_multivariate_family_equals_pymannkendall(method):
    from landcarbon.trends import multivariate_test

    rng = np.random.default_rng(17)
    n_cols = 2 if method == "partial" else 4
    x = make_series(400, 60 * n_cols, 30, nan_share=0.3).reshape(60, n_cols, 30).transpose(0, 2, 1).copy()
    x[:, :, -1] += 0.3 * x[:, :, 0] + rng.normal(size=(60, 30))          # correlated columns
    x = np.round(x, 1)
    ours = multivariate_test(x, method, p_formula="pymannkendall")
    fn = {"regional": pmk.regional_test, "correlated_multivariate": pmk.correlated_multivariate_test,
          "partial": pmk.partial_test}[method]
    for i in range(len(x)):
        if method != "regional" and np.isfinite(x[i]).all(axis=1).sum() < 3:
            continue
        ref = _peer(fn, [x[i]])[0]
        _compare_fields(ours, ref, i, f"{method} row {i}")


def test_seasonal_size_under_seasonally_correlated_noise():
    """Empirical size at alpha = 0.05 without trend (4,000 realisations of 30 years x 12 months): the
    uncorrected seasonal test rejects far too often when months are correlated, the Hirsch–Slack
    corrected test holds 0.04–0.06 (monthly AR(1) with phi = 0.3; an exchangeable within-year correlation
    of 0.6). Sampling SE of a size near 0.05 is 0.0034."""
    from landcarbon.trends.simulation import empirical_size, seasonal_noise

    ar = seasonal_noise(4000, 30, phi=0.3, seed=1)
    ex = seasonal_noise(4000, 30, within_year=0.6, seed=2)
    for x in (ar, ex):
        size = empirical_size(x, ["seasonal", "correlated_seasonal"], alpha=0.05, period=12)
        assert 0.04 <= size["correlated_seasonal"] <= 0.06, size
        assert size["seasonal"] > 0.10, size
    white = seasonal_noise(4000, 30, phi=0.0, seed=3)
    size = empirical_size(white, ["seasonal", "correlated_seasonal"], alpha=0.05, period=12)
    assert 0.04 <= size["seasonal"] <= 0.06 and 0.04 <= size["correlated_seasonal"] <= 0.06, size
