"""EnSRF with an ordinary RANDOM ensemble (N = 500, no localisation) against the analytic posterior.

The exact-sampling test (``tests/test_atmosphere_inversion.py``) checks the update algebra to round-off; this one
checks the issue's statistical criterion with plain Monte-Carlo members, on a linear problem the size of
an annual TransCom inversion (22 regions + initial concentration): RMS posterior-mean error within 5 % of
the prior sigma, the aggregated (sum of all regions) mean within 5 % of its prior sigma, and the posterior
spread within 10 % of the analytic sigma.
"""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.atmosphere.ensrf import ensrf_update, make_ensemble
from landcarbon.atmosphere.inversion import posterior_prior_space


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_ensemble_matches_analytic(seed):
    rng = np.random.default_rng(100 + seed)
    n, m, N = 23, 300, 500
    M = np.abs(rng.normal(size=(m, n))) * 0.3          # ppm per (PgC/yr): positive footprints
    Q = rng.uniform(0.5, 2.0, size=n) ** 2                # prior variances
    s_prior = rng.normal(size=n)
    r = np.ones(m)                                        # observation error variances [ppm^2]
    truth = s_prior + np.sqrt(Q) * rng.normal(size=n)
    y = M @ truth + rng.normal(size=m)
    s_hat, A = posterior_prior_space(M, y, s_prior, Q, r)
    X = make_ensemble(Q, N, seed, exact=False)            # plain random draws
    xm, Xa = ensrf_update(s_prior, X, M, y, r)
    err = (xm - s_hat) / np.sqrt(Q)
    assert np.sqrt(np.mean(err ** 2)) < 0.05
    a = np.ones(n)
    assert abs(a @ xm - a @ s_hat) < 0.05 * np.sqrt(a @ (Q * a))
    spread = Xa.std(axis=1, ddof=1) / np.sqrt(np.diag(A))
    assert np.max(np.abs(spread - 1)) < 0.10
    # the aggregate's spread, from the members, against a^T A a (never summing sigmas)
    agg_sd = (a @ Xa).std(ddof=1)
    assert agg_sd == pytest.approx(np.sqrt(a @ A @ a), rel=0.10)
