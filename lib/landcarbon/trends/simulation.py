"""Monte-Carlo checks of the trend tests: seasonally correlated noise and the empirical size of a test.

The seasonal Mann–Kendall test of Hirsch, Slack & Smith (1982) assumes the seasons are independent; with
monthly data they rarely are. :func:`seasonal_noise` generates trend-free monthly series whose months are
correlated, and :func:`empirical_size` counts how often a test rejects the (true) null hypothesis — its
size, which should equal α. Used by the trends chapter and its tests.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, located

__all__ = ["seasonal_noise", "empirical_size"]


def seasonal_noise(n_series: int, n_years: int, *, period: int = 12, phi: float = 0.0,
                   within_year: float = 0.0, seed: int = 0) -> np.ndarray:
    """Trend-free series (n_series, n_years·period) with unit variance and correlated seasons.

    Two noise models (our formulation), combined additively in variance:

    * ``phi``: a stationary AR(1) process over consecutive steps, x_t = φ x_{t−1} + √(1 − φ²) ε_t,
      started from its stationary distribution — neighbouring months are correlated (also across the
      turn of the year, which the Hirsch–Slack covariance does not model);
    * ``within_year``: an exchangeable correlation ρ between the seasons of the same year and none
      between years, x_{y,g} = √ρ a_y + √(1 − ρ) e_{y,g} — exactly the dependence the Hirsch & Slack
      (1984) covariance estimates.

    Parameters
    ----------
    n_series, n_years, period : int
        Realisations, years and seasons per year.
    phi : float in (−1, 1)
    within_year : float in [0, 1)
    seed : int
        Seed of the generator (same seed → same numbers).
    """
    if not (-1.0 < float(phi) < 1.0) or not (0.0 <= float(within_year) < 1.0):
        raise ConfigError(located(f"need -1 < phi < 1 and 0 <= within_year < 1, got {phi}, {within_year}",
                                  where="landcarbon.trends.simulation.seasonal_noise"))
    rng = np.random.default_rng([int(seed), 18])
    T = int(n_years) * int(period)
    e = rng.standard_normal((int(n_series), T))
    ar = np.empty_like(e)
    ar[:, 0] = e[:, 0]
    c = np.sqrt(1.0 - phi * phi)
    for t in range(1, T):
        ar[:, t] = phi * ar[:, t - 1] + c * e[:, t]
    if within_year <= 0:
        return ar
    a = rng.standard_normal((int(n_series), int(n_years), 1))
    ex = np.sqrt(within_year) * a + np.sqrt(1 - within_year) * ar.reshape(int(n_series), int(n_years), int(period))
    return ex.reshape(int(n_series), T)


def empirical_size(x: np.ndarray, methods, *, alpha: float = 0.05, period: int = 12) -> dict[str, float]:
    """Share of the series of ``x`` (n_series, T) in which each test rejects at level ``alpha``.

    For trend-free ``x`` this is the test's empirical size (Monte-Carlo standard error
    √(α(1 − α)/n_series)); NaN p-values count as "not rejected".
    """
    from .mk import mk_test

    out = {}
    for m in methods:
        p = mk_test(x, m, alpha, period=period)["p"]
        out[m] = float(np.mean(np.nan_to_num(p, nan=1.0) < alpha))
    return out
