"""The honest OSSE over many draws: kernel-aware vs kernel-naive satellite inversions, identical twin vs
transport error, the draw engine against a direct inversion per draw, the weekly multi-system EnSRF.

A small design (1 year, coarse grid, global stations + GOSAT) keeps the module within the test budget.
"""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.atmosphere import experiments as X
from landcarbon.atmosphere.inversion import posterior_prior_space


@pytest.fixture(scope="module")
def small():
    from landcarbon.atmosphere.demo import make_demo_atmosphere

    world = make_demo_atmosphere(2016, 1, 2002, "coarse")
    des = X.design_observations(world, parts=("global",), instruments=("GOSAT",), periods_per_month=4, seed=3)
    sim = X.simulate_truth(des)
    rf = X.design_response_functions(des, memory=6, near_field=1)
    return world, des, sim, rf


def test_kernel_aware_recovers_within_one_sigma_and_beats_naive(small):
    """Done-when of issue 12: on the twin with kernel-weighted truth (identical transport, drawn priors,
    noise from R), over 200 draws the kernel-aware inversion's mean China error is within its posterior
    sigma and smaller in magnitude than the kernel-naive one's."""
    world, des, sim, rf = small
    sysd = {"GOSAT": ("GOSAT",)}
    aware, _ = X.linear_osse(des, rf, sim, systems=sysd, kinds=("identical",), n_draws=200, seed=5)
    naive, _ = X.linear_osse(des, rf, sim, systems=sysd, kinds=("identical",), n_draws=200, seed=5,
                             operators={"GOSAT": "naive"})
    a = aware[aware["aggregate"] == "China"].iloc[0]
    n = naive[naive["aggregate"] == "China"].iloc[0]
    assert abs(a["bias"]) < a["posterior_sigma"]
    assert abs(a["bias"]) < 3 * a["error_sd"] / np.sqrt(200)          # unbiased within Monte-Carlo error
    assert 0.55 < a["coverage_1sigma"] < 0.80
    assert abs(a["bias"]) < abs(n["bias"])
    assert abs(n["bias"]) > 3 * n["error_sd"] / np.sqrt(200)          # the naive bias is real, not noise


def test_draw_engine_equals_direct_inversions(small):
    """Oracle: the information-form draw engine equals solving the synthesis inversion draw by draw."""
    world, des, sim, rf = small
    n_draws, seed = 3, 9
    tab, ranks = X.linear_osse(des, rf, sim, systems={"global": ("global",)}, kinds=("transport-error",),
                               n_draws=n_draws, seed=seed)
    # rebuild the draws exactly as linear_osse does
    nm, R = world.n_months, world.regions.n
    n = nm * R + 1
    s_true = np.concatenate([world.truth_flux.ravel(), [world.c0_true]])
    q = np.concatenate([world.prior_sigma.ravel() ** 2, [world.c0_sigma ** 2]])
    Ep = np.sqrt(q)[:, None] * np.random.default_rng(seed).standard_normal((n, n_draws))
    M = X._block_matrix(des, rf, "global", "aware")
    y, r = X.block_arrays(des, sim, "global", "month", "transport-error")
    e = X._noise([seed, 7, X._stable_id("global"), 0], des.blocks["global"]["month"], "transport-error", n_draws)
    Agg, names = X.aggregation_vectors(world)
    china = names.index("China")
    errs, chis = [], []
    for d in range(n_draws):
        sp = s_true + Ep[:, d]
        s_hat, A = posterior_prior_space(M, y + e[:, d], sp, q, r)
        errs.append(-(Agg[china] @ (s_hat - s_true)))
        res, dev = y + e[:, d] - M @ s_hat, s_hat - sp
        chis.append((res @ (res / r) + dev @ (dev / q)) / len(y))
    row = tab[tab["aggregate"] == "China"].iloc[0]
    assert row["bias"] == pytest.approx(np.mean(errs), abs=1e-9)
    assert row["rmse"] == pytest.approx(np.sqrt(np.mean(np.square(errs))), abs=1e-9)
    assert row["chi2_mean"] == pytest.approx(np.mean(chis), rel=1e-9)
    assert row["posterior_sigma"] == pytest.approx(np.sqrt(Agg[china] @ A @ Agg[china]), rel=1e-9)
    assert row["estimate_draw0"] == pytest.approx(row["truth_sink"] + errs[0], abs=1e-9)


def test_identical_twin_is_consistent_and_transport_error_is_flagged(small):
    """Identical twin: chi2 ~ 1 and coverage ~ 0.68 over the draws; transport error: chi2 clearly above 1
    and the rank histogram of the truth is not flat (chi-square test of uniformity)."""
    world, des, sim, rf = small
    tab, ranks = X.linear_osse(des, rf, sim, systems={"global": ("global",)}, n_draws=200, seed=1)
    c = tab[tab["aggregate"] == "China"].set_index("kind")
    assert abs(c.loc["identical", "chi2_mean"] - 1) < 0.05
    assert 0.55 < c.loc["identical", "coverage_1sigma"] < 0.80
    assert c.loc["transport-error", "chi2_mean"] > 1.15
    h_twin = X.rank_histogram(ranks[("global", "identical", "drawn")])
    h_err = X.rank_histogram(ranks[("global", "transport-error", "drawn")])

    def chi2_uniform(h):
        e = h.sum() / len(h)
        return float(np.sum((h - e) ** 2 / e))

    # 20 bins: the 99.9 % quantile of chi2(19) is 43.8
    assert chi2_uniform(h_err) > 43.8 > chi2_uniform(h_twin) * 0.5


def test_transport_error_truth_differs_and_background_uses_the_inversion_model(small):
    world, des, sim, rf = small
    mis = X.transport_mismatch(des, sim)
    assert mis.loc["global", "RMS difference [ppm]"] > 0.1
    # the presubtracted background is the inversion model's: identical-twin y equals the biosphere + c0 signal
    y, _ = X.block_arrays(des, sim, "global", "month", "identical")
    assert np.all(np.abs(y - world.c0_true) < 30)


def test_weekly_systems_run_and_report(small):
    world, des, sim, rf = small
    tab, out = X.weekly_systems(des, sim, systems={"global": ("global",), "GOSAT": ("GOSAT",)}, N=40, seed=2)
    assert set(tab["system"]) == {"global", "GOSAT"}
    assert out["systems"]["GOSAT"]["n_obs"] == des.blocks["GOSAT"]["window"].m
    c = tab[tab["aggregate"] == "China"].set_index("system")
    assert (c["posterior_sigma"] < c["prior_sigma"]).all()
    assert np.all(np.isfinite(c["error"]))
