"""Oracle tests: numba fitting kernels of the partitioning methods vs SciPy."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit, least_squares

from landcarbon.flux import _kernels as K
from landcarbon.flux.respiration import fit_lloyd_taylor, fit_rref, lloyd_taylor, q10_from_e0


def _lt(t, rref, e0):
    return rref * np.exp(e0 * (1 / (15 + 46.02) - 1 / (t + 46.02)))


def test_lloyd_taylor_values_and_guard():
    # at Tref the factor is 1; Q10 sanity value of the brief (E0 = 150 K at 15 degC -> 1.41)
    assert lloyd_taylor(15.0, 2.0, 150.0) == pytest.approx(2.0)
    assert q10_from_e0(150.0, 15.0) == pytest.approx(1.41, abs=0.01)
    assert np.isfinite(lloyd_taylor(-60.0, 1.0, 300.0))
    assert lloyd_taylor(-60.0, 1.0, 300.0) == pytest.approx(lloyd_taylor(-40.0, 1.0, 300.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lt_fit_matches_curve_fit(seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-5, 20, 80)
    y = _lt(t, 2.5, 180.0) + rng.normal(0, 0.4, t.size)
    ours = fit_lloyd_taylor(t, y)
    popt, pcov = curve_fit(_lt, t, y, p0=(2.0, 200.0))
    assert ours["ok"]
    assert ours["rref"] == pytest.approx(popt[0], rel=1e-4)
    assert ours["e0"] == pytest.approx(popt[1], rel=1e-4)
    assert ours["sd_e0"] == pytest.approx(np.sqrt(pcov[1, 1]), rel=1e-3)
    assert ours["sd_rref"] == pytest.approx(np.sqrt(pcov[0, 0]), rel=1e-3)


def test_rref_through_origin_matches_lstsq():
    rng = np.random.default_rng(5)
    t = rng.uniform(0, 15, 30)
    y = _lt(t, 3.0, 120.0) + rng.normal(0, 0.2, t.size)
    r, sd = fit_rref(t, y, 120.0)
    x = _lt(t, 1.0, 120.0)[:, None]
    coef, res, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert r == pytest.approx(coef[0], rel=1e-10)
    assert sd == pytest.approx(np.sqrt(res[0] / (t.size - 1) / (x[:, 0] ** 2).sum()), rel=1e-8)


def _lrc_model(theta, rg, vpd, fr):
    k, b0, a, rb = theta
    b = np.where(vpd > 10, b0 * np.exp(-k * (vpd - 10)), b0)
    return rb * fr - a * b * rg / (a * rg + b)


@pytest.mark.parametrize("seed", [0, 3])
def test_lrc_fit_matches_least_squares_with_priors(seed):
    rng = np.random.default_rng(seed)
    n = 90
    rg = rng.uniform(5, 900, n)
    vpd = rng.uniform(2, 25, n)
    t = rng.uniform(8, 25, n)
    fr = _lt(t, 1.0, 150.0)
    truth = np.array([0.04, 25.0, 0.05, 3.0])
    sd = np.full(n, 1.0) + 0.1 * rng.random(n)
    y = _lrc_model(truth, rg, vpd, fr) + rng.normal(0, 1.0, n)
    mu = np.array([0.05, 20.0, 0.1, 2.5])
    psd = np.array([np.nan, 5.0, np.nan, np.nan])
    free = np.ones(4, dtype=bool)
    theta, cov, cost, conv = K.lrc_fit(mu.copy(), free, rg, vpd, fr, y, sd, mu, psd, 300, 1e-12)

    def resid(p):
        return np.concatenate([(_lrc_model(p, rg, vpd, fr) - y) / sd, [(p[1] - mu[1]) / psd[1]]])

    ref = least_squares(resid, mu, xtol=1e-12, ftol=1e-12, gtol=1e-12, method="lm")
    assert conv
    np.testing.assert_allclose(theta, ref.x, rtol=2e-4, atol=1e-6)
    assert cost == pytest.approx(2 * ref.cost, rel=1e-6)
    jac = ref.jac
    cov_ref = np.linalg.inv(jac.T @ jac)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(cov_ref)), rtol=1e-3)


def test_lrc_fit_fixed_parameter_stays():
    rng = np.random.default_rng(9)
    n = 60
    rg = rng.uniform(5, 900, n)
    vpd = rng.uniform(2, 8, n)  # below VPD0: k unidentifiable -> fixed at 0
    fr = np.ones(n)
    y = _lrc_model([0, 20, 0.04, 2], rg, vpd, fr) + rng.normal(0, 0.5, n)
    free = np.array([False, True, True, True])
    th0 = np.array([0.0, 15.0, 0.1, 1.0])
    nan4 = np.full(4, np.nan)
    theta, cov, cost, conv = K.lrc_fit(th0, free, rg, vpd, fr, y, np.ones(n), th0, nan4, 300, 1e-12)
    assert theta[0] == 0.0 and cov[0, 0] == 0.0
    ref = curve_fit(lambda r, b, a, rb: _lrc_model([0, b, a, rb], r, vpd, fr), rg, y, p0=(15, 0.1, 1))[0]
    np.testing.assert_allclose(theta[1:], ref, rtol=1e-3)


def test_lrc_bounds_refit_alpha_fixed_to_last_good():
    rng = np.random.default_rng(2)
    n = 50
    rg = rng.uniform(5, 300, n)  # far from saturation: alpha poorly bounded
    vpd = np.full(n, 5.0)
    fr = np.ones(n)
    y = _lrc_model([0, 20, 0.35, 2], rg, vpd, fr) + rng.normal(0, 0.3, n)
    mu = np.array([0.05, 30.0, 0.1, 2.0])
    nan4 = np.full(4, np.nan)
    free = np.ones(4, dtype=bool)
    free[0] = False
    mu[0] = 0.0
    unbounded = K.lrc_fit(mu.copy(), free, rg, vpd, fr, y, np.ones(n), mu, nan4, 200, 1e-10)[0]
    assert unbounded[2] > 0.22
    t, sdt, c, code, kf, af, cov = K.lrc_fit_bounds(mu.copy(), rg, vpd, fr, y, np.ones(n), mu, nan4, 0.15, 200, 1e-10)
    assert af and t[2] == 0.15  # alpha > 0.22 -> refit with the previous window's alpha
    assert t[0] == 0.0  # all VPD below VPD0: k not identifiable, fixed at 0
    # the refit is worse than the unbounded fit but still a minimum in the other parameters
    assert np.isfinite(c)
