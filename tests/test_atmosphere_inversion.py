"""Synthesis inversion (two Cholesky forms vs each other and vs a naive inverse), EnSRF vs analytic,
OSSE truth checks on the demo atmosphere."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.atmosphere.ensrf import (ensrf_update, ensrf_windows, gaspari_cohn, localization_weights,
                                         make_ensemble)
from landcarbon.atmosphere.inversion import (aggregate, annual_aggregation, cost, invert, posterior_obs_space,
                                             posterior_prior_space, uncertainty_reduction)
from landcarbon.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def osse():
    """Small demo OSSE: coarse grid, 2 years, 43 regions (shared by the tests of this module)."""
    from landcarbon.atmosphere.demo import demo_observations, make_demo_atmosphere
    from landcarbon.atmosphere.osse import response_functions_for, run_cases

    ds = demo_observations(2016, "case3", years=2, grid="coarse")
    world = make_demo_atmosphere(2016, 2, 2002, "coarse")
    rf = response_functions_for(world.model, world.patterns, ds, world.regions.codes, memory=12, near_field=2)
    cases = run_cases(ds, rf)
    return ds, rf, cases


def _random_problem(seed, m=60, n=40, full=False):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(m, n))
    sp = rng.normal(size=n)
    if full:
        A = rng.normal(size=(n, n)); Q = A @ A.T / n + np.eye(n) * 0.5
        B = rng.normal(size=(m, m)); R = B @ B.T / m + np.eye(m) * 0.3
    else:
        Q = rng.uniform(0.5, 2, n); R = rng.uniform(0.2, 1, m)
    c = rng.normal(size=m) * 3
    return M, c, sp, Q, R


@pytest.mark.parametrize("full", [False, True])
def test_two_forms_agree_and_match_naive_inverse(full):
    M, c, sp, Q, R = _random_problem(1, full=full)
    s1, A1 = posterior_prior_space(M, c, sp, Q, R)
    s2, A2 = posterior_obs_space(M, c, sp, Q, R)
    np.testing.assert_allclose(s1, s2, atol=1e-10)
    np.testing.assert_allclose(A1, A2, atol=1e-10)
    Qm = Q if full else np.diag(Q)
    Rm = R if full else np.diag(R)
    Ai = np.linalg.inv(M.T @ np.linalg.inv(Rm) @ M + np.linalg.inv(Qm))
    si = sp + Ai @ M.T @ np.linalg.inv(Rm) @ (c - M @ sp)
    np.testing.assert_allclose(A1, Ai, atol=1e-10)
    np.testing.assert_allclose(s1, si, atol=1e-9)


def test_minimum_cost_equals_innovation_statistic():
    M, c, sp, Q, R = _random_problem(2)
    res = invert(M, c, sp, Q, R)
    d = c - M @ sp
    S = M @ np.diag(Q) @ M.T + np.diag(R)
    assert 2 * res.cost == pytest.approx(d @ np.linalg.solve(S, d), rel=1e-10)
    # the posterior mean minimises J
    for k in range(3):
        e = np.zeros_like(sp); e[k] = 1e-3
        assert cost(res.s_hat + e, M, c, sp, Q, R) > res.cost


def test_chi2_near_one_when_errors_are_consistent():
    rng = np.random.default_rng(3)
    m, n = 2000, 30
    M = rng.normal(size=(m, n)); Q = np.full(n, 1.0); R = np.full(m, 0.5)
    s_true = rng.normal(size=n)
    c = M @ s_true + rng.normal(size=m) * np.sqrt(R)
    res = invert(M, c, np.zeros(n), Q, R)
    assert 0.9 < res.chi2 < 1.1
    res_bad = invert(M, c, np.zeros(n), Q, R / 4)   # understated data errors -> chi2 >> 1
    assert res_bad.chi2 > 3


def test_aggregation_uses_covariance_not_summed_sigmas():
    A = np.array([[1.0, -0.8], [-0.8, 1.0]])
    v, s = aggregate(np.array([1.0, 2.0]), A, np.array([1.0, 1.0]))
    assert v == 3.0 and s == pytest.approx(np.sqrt(0.4))
    rng = np.random.default_rng(4)
    draws = rng.multivariate_normal([1.0, 2.0], A, 200_000)
    assert draws.sum(axis=1).std() == pytest.approx(s, rel=0.02)
    assert uncertainty_reduction(2.0, 0.5) == 0.75
    a = annual_aggregation(24, 3, [True, False, True])
    assert a.shape == (2, 73) and a[0].sum() == pytest.approx(2.0) and a[1, -1] == 0


def test_bad_inputs():
    M, c, sp, Q, R = _random_problem(5)
    with pytest.raises(ConfigError):
        invert(M, c[:-1], sp, Q, R)
    c2 = c.copy(); c2[3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        invert(M, c2, sp, Q, R)
    with pytest.raises(ConfigError, match="> 0"):
        invert(M, c, sp, -Q, R)


# ------------------------------------------------------------------ EnSRF
def test_gaspari_cohn_taper():
    z = np.array([0.0, 1.0, 2.0, 3.0])
    g = gaspari_cohn(z)
    assert g[0] == 1 and g[1] == pytest.approx(5 / 24) and g[2] == pytest.approx(0, abs=1e-12) and g[3] == 0
    rho = localization_weights([0.0], [0.0], [0.0, 0.0, np.nan], [0.0, 90.0, np.nan], 1000.0)
    assert rho[0, 0] == 1 and rho[0, 1] == 0 and rho[0, 2] == 1


def test_ensrf_exact_ensemble_reproduces_analytic():
    M, c, sp, Q, R = _random_problem(6, m=50, n=20)
    s, A = posterior_prior_space(M, c, sp, Q, R)
    X = make_ensemble(Q, 40, seed=1, exact=True)
    np.testing.assert_allclose(X @ X.T / 39, np.diag(Q), atol=1e-12)
    xm, Xa = ensrf_update(sp, X, M, c, R)
    np.testing.assert_allclose(xm, s, atol=1e-8)
    np.testing.assert_allclose(Xa @ Xa.T / 39, A, atol=1e-8)


def _demo_linear_problem(osse):
    """1 year of the demo OSSE (Case 3): 43 regions x 12 months + c0 = 517 unknowns."""
    ds, rf, cases = osse
    st = cases["case3"].setup
    keep = st.obs_month < 12
    n = 12 * st.n_regions
    cols = np.r_[np.arange(n), st.n - 1]
    M = st.M[np.ix_(keep, cols)]
    return ds, st, M, st.y[keep], st.r[keep], st.s_prior[cols], st.Q[cols]


def test_ensrf_n600_reproduces_analytic_on_demo_problem(osse):
    """N = 600 >= 500 members, no localisation, second-order exact sampling of Q: EnSRF = analytic."""
    ds, st, M, y, r, sp, Q = _demo_linear_problem(osse)
    s, A = posterior_prior_space(M, y, sp, Q, r)
    X = make_ensemble(Q, 600, seed=11, exact=True)
    xm, Xa = ensrf_update(sp, X, M, y, r)
    err = np.abs(xm - s) / np.sqrt(Q)
    spread = Xa.std(axis=1, ddof=1) / np.sqrt(np.diag(A))
    assert err.max() < 0.05                       # within 5 % of the prior sigma (measured ~1e-13)
    assert np.abs(spread - 1).max() < 0.10        # spread within 10 % (measured ~1e-15)
    assert err.max() < 1e-8


def test_ensrf_random_ensemble_converges_on_demo_problem(osse):
    """Plain random ensembles: spread within 10 %; the mean error is Monte-Carlo noise shrinking with N."""
    ds, st, M, y, r, sp, Q = _demo_linear_problem(osse)
    s, A = posterior_prior_space(M, y, sp, Q, r)
    china = ds["china"].values.astype(bool)
    a = annual_aggregation(12, st.n_regions, china)[0]
    v_an, sd_an = aggregate(s, A, a)
    _, sd_prior = aggregate(sp, Q, a)
    rms = {}
    for N in (250, 1000):
        X = make_ensemble(Q, N, seed=11)
        xm, Xa = ensrf_update(sp, X, M, y, r)
        spread = Xa.std(axis=1, ddof=1) / np.sqrt(np.diag(A))
        rms[N] = np.sqrt(np.mean(((xm - s) / np.sqrt(Q)) ** 2))
        if N == 1000:
            assert np.sqrt(np.mean((spread - 1) ** 2)) < 0.10
            assert abs((a @ Xa).std(ddof=1) / sd_an - 1) < 0.10
            assert abs(a @ xm - v_an) < 0.25 * sd_prior
    assert rms[1000] < 0.8 * rms[250]


def test_ensrf_windows_equal_batch_for_block_diagonal_problem():
    """Observations that see only their own month: the windowed filter equals the batch posterior."""
    rng = np.random.default_rng(7)
    R_, nm, per = 3, 4, 6
    n = nm * R_ + 1
    m = nm * per
    M = np.zeros((m, n))
    obs_month = np.repeat(np.arange(nm), per)
    for t in range(nm):
        M[t * per:(t + 1) * per, t * R_:(t + 1) * R_] = rng.uniform(0, 1, (per, R_))
    M[:, -1] = 1.0
    sp = rng.normal(size=n); Q = rng.uniform(0.5, 1.5, n); Q[-1] = 1e-10
    r = rng.uniform(0.2, 0.5, m)
    y = M @ (sp + rng.normal(size=n) * np.sqrt(Q)) + rng.normal(size=m) * np.sqrt(r)
    s, A = posterior_prior_space(M, y, sp, Q, r)
    out = ensrf_windows(M, obs_month, y, r, sp, Q, R_, nm, N=4000, seed=3, nlag=1)
    np.testing.assert_allclose(out["mean"][:-1], s[:-1], atol=0.06 * np.sqrt(Q[:-1]).max())
    np.testing.assert_allclose(out["sigma"][:-1], np.sqrt(np.diag(A))[:-1], rtol=0.08)


# ------------------------------------------------------------------ OSSE on the demo atmosphere
def test_osse_more_observations_move_china_sink_to_truth(osse):
    ds, rf, cases = osse
    c1, c2, c3 = cases["case1"], cases["case2"], cases["case3"]
    assert c1.n_obs < c2.n_obs < c3.n_obs
    # the prior is biased low (underestimates the sink)
    assert c1.china_prior < c1.china_true - c1.china_prior_sigma * 0.5
    assert abs(c3.china_post - c3.china_true) < abs(c1.china_post - c1.china_true)
    assert c1.china_post_sigma > c2.china_post_sigma > c3.china_post_sigma
    assert c3.china_post_sigma < c3.china_prior_sigma
    # truth within ~2 sigma of the case-3 posterior, chi2 consistent
    assert abs(c3.china_post - c3.china_true) < 2.5 * c3.china_post_sigma
    for c in cases.values():
        assert 0.5 < c.result.chi2 < 2.0
    # both forms on the real demo problem agree to 1e-10 (relative to the prior sigma)
    st = c3.setup
    s1, A1 = posterior_prior_space(st.M, st.y, st.s_prior, st.Q, st.r)
    s2, A2 = posterior_obs_space(st.M, st.y, st.s_prior, st.Q, st.r)
    assert np.max(np.abs(s1 - s2) / np.sqrt(st.Q)) < 1e-10
    assert np.max(np.abs(A1 - A2)) / st.Q.max() < 1e-10


def test_osse_noise_experiment_and_glue(osse):
    from landcarbon.atmosphere import osse as O

    ds, rf, cases = osse
    ne = O.noise_experiment(cases, ds, 300, seed=1)
    # the error due to the biased prior shrinks with every added observing system, and so does the RMSE
    assert abs(ne.loc["case3", "error_noise_free"]) < abs(ne.loc["case2", "error_noise_free"]) \
        < abs(ne.loc["case1", "error_noise_free"])
    assert ne.loc["case3", "rmse"] < ne.loc["case1", "rmse"]
    # oracle for the linear gain: the realised posterior equals the gain formula with the actual noise
    c = cases["case3"]
    st = c.setup
    china = ds["china"].values.astype(bool)
    a = annual_aggregation(st.n_months, st.n_regions, china).mean(axis=0)
    g = (st.M @ (c.result.A @ a)) / st.r
    fire = ds["fire_flux"].values[: st.n_months][:, china].sum(axis=1).mean()
    assert -(a @ st.s_prior + g @ (st.y - st.M @ st.s_prior) + fire) == pytest.approx(c.china_post, abs=1e-9)
    fits = O.fit_statistics(cases, ds)
    assert (fits["rms_posterior"] <= fits["rms_prior"] + 1e-9)[fits["assimilated"]].all()
    f = O.region_field(ds.attrs and __import__("landcarbon.atmosphere.regions", fromlist=["x"]).nested_regions(),
                       np.ones(43))
    assert f.attrs["units"] == "gC m-2 yr-1" and np.nanmax(f.values) > 0
    ens = O.ensrf_china(c, ds, N=200, seed=3, nlag=2)
    assert abs(ens["period"] - c.china_post) < 2 * c.china_post_sigma
    assert ens["period_sigma"] < c.china_prior_sigma


def test_weekly_two_step_ensrf_matches_window_by_window_analytic():
    """GCAS two-step scheme: each window's EnSRF update (exact ensemble) equals the analytic posterior of
    that window's problem, whose background comes from rerunning the model with the previous posterior."""
    import pandas as pd

    from landcarbon.atmosphere.demo import simulate_observations
    from landcarbon.atmosphere.ensrf import ensrf_transport_windows
    from landcarbon.atmosphere.transport import TransportModel, preset

    m = TransportModel(preset("coarse"))
    rng = np.random.default_rng(8)
    R = 3
    P = np.zeros((R, m.nlat, m.nlon))
    P[0, 20, 30:34] = 1; P[1, 22, 40:44] = 1; P[2, 10, 5:10] = 1
    P /= P.sum(axis=(1, 2), keepdims=True)

    class W:  # minimal world for simulate_observations
        model = m; patterns = P; truth_patterns = P; n_months = 1; c0_true = 370.0
        truth_flux = np.array([[1.0, -2.0, 0.5]]); fossil_flux = np.zeros((1, R)); fire_flux = np.zeros((1, R))
        time = pd.date_range("2002-01-01", periods=1, freq="MS")
        def field(self, flux, patterns=None):
            return np.einsum("tr,rji->tji", flux, P)

    pts = pd.DataFrame({"id": ["a", "b", "c", "d"], "lat": [33.0, 45.0, -27.0, 10.0], "lon": [0.0, 40.0, -150.0, 100.0],
                        "level": [0, 0, 0, 1], "mdm_ppm": [0.5, 0.5, 0.5, 0.5], "network": "global", "kind": "station"})
    obs = simulate_observations(W(), pts, seed=1, periods_per_month=4)
    prior = np.zeros((1, R)); sig = np.full((1, R), 2.0)
    out = ensrf_transport_windows(m, P, obs, prior, sig, 4, N=40, seed=2, c0=370.0, exact=True)
    # independent re-computation of the first two windows
    cells = m.cell_index(pts["lat"], pts["lon"], pts["level"])
    y = obs["co2"].values - obs["co2_background"].values
    carried = np.full((1,) + m.shape, 370.0)
    for w in range(2):
        _, b = m.run_window(carried, None, 0, w, 4, cells)
        _, H = m.run_window(np.zeros((R,) + m.shape), P, 0, w, 4, cells)
        s, A = posterior_prior_space(H.T, y[:, w] - b[0], prior[0], (sig[0] * 2) ** 2, np.full(4, 0.25))
        np.testing.assert_allclose(out["flux"][w], s, atol=1e-8)
        np.testing.assert_allclose(out["members"][w] @ out["members"][w].T / 39, A, atol=1e-8)
        carried, _ = m.run_window(carried, np.einsum("r,rji->ji", s, P)[None], 0, w, 4, cells)
    assert out["monthly"].shape == (1, R)


def test_transcom22_configuration_is_exact_aggregation(osse):
    from landcarbon.atmosphere import osse as O
    from landcarbon.atmosphere.regions import nested_regions, transcom_regions

    ds, rf, cases = osse
    nest, tc = nested_regions(), transcom_regions()
    ds22, rf22, W = O.transcom_configuration(ds, rf, nest, tc)
    assert rf22.G.shape[3] == 22 and ds22["prior_flux"].shape == (24, 22)
    np.testing.assert_allclose(ds22["prior_flux"].values.sum(axis=1), ds["prior_flux"].values.sum(axis=1))
    # a TransCom flux spread over its nested sub-regions by area share gives identical concentrations
    rng = np.random.default_rng(9)
    s22 = rng.normal(size=(3, 22))
    s43 = s22 @ W
    M43 = rf.matrix(np.arange(5), np.full(5, 2), 3, include_initial=False)
    M22 = rf22.matrix(np.arange(5), np.full(5, 2), 3, include_initial=False)
    np.testing.assert_allclose(M43 @ s43.ravel(), M22 @ s22.ravel(), rtol=1e-10, atol=1e-12)
    tab = O.region_sink_comparison(ds, cases, ds22, rf22, "EUT", "case3", W, tc.codes)
    assert tab.loc["nested 43 regions", "sigma"] < tab.loc["prior", "sigma"]
