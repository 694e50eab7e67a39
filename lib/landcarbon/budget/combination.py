"""Error conventions of a budget: sums under linear or quadrature error addition, means, Monte Carlo.

Sign convention of the compendium: a land *sink* is a positive uptake of carbon from the atmosphere, in PgC yr-1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..errors import ConfigError, located
from ..publish.reporting import format_value, round_half_up

__all__ = ["PGC", "Estimate", "round_half_up", "combine", "mean_of_estimates", "inverse_variance_mean",
           "monte_carlo_sum", "implied_residual"]

PGC = "PgC yr-1"


@dataclass(frozen=True)
class Estimate:
    """A flux with its 1-sigma uncertainty, in ``units`` (default PgC yr-1, uptake positive)."""

    value: float
    sigma: float = 0.0
    units: str = PGC

    def __iter__(self):  # allows ``v, s = estimate``
        yield self.value
        yield self.sigma

    def __neg__(self) -> "Estimate":
        return Estimate(-self.value, self.sigma, self.units)

    def rounded(self, ndigits: int = 2) -> tuple[float, float]:
        """(value, sigma) rounded half-up, the way a table in a paper is rounded."""
        return round_half_up(self.value, ndigits), round_half_up(self.sigma, ndigits)

    def format(self, ndigits: int = 2) -> str:
        """``'0.34 ± 0.11'`` through the report's one formatter (:func:`landcarbon.publish.reporting.format_value`)."""
        return format_value(self.value, self.sigma, digits=ndigits)


def combine(values: Iterable[float], sigmas: Iterable[float | None] | None = None, mode: str = "linear",
            weights: Iterable[float] | None = None) -> Estimate:
    r"""Weighted sum of estimates and its 1-sigma uncertainty under an explicit convention.

    .. math::  S = \sum_i w_i x_i,\qquad
               \sigma_S^{lin} = \sum_i |w_i|\,\sigma_i,\qquad
               \sigma_S^{quad} = \sqrt{\sum_i w_i^2 \sigma_i^2}

    ``"linear"`` is exact for fully (positively) correlated errors and is the conservative upper
    bound; ``"quadrature"`` is exact for independent errors (Taylor 1997, *An Introduction to Error
    Analysis*, ch. 3). Which one a synthesis used is often unstated: Jiang et al. (2016) reproduce
    only with ``"linear"`` (see :func:`reproduce_jiang2016`).

    Parameters
    ----------
    values : sequence of float
        Component values (same units, e.g. PgC yr-1).
    sigmas : sequence of float or None, optional
        1-sigma uncertainties; ``None``/NaN count as 0 (a component without a published sigma).
    mode : {"linear", "quadrature"}
    weights : sequence of float, optional
        Coefficients (default 1; use -1 to subtract a term).

    Returns
    -------
    Estimate
    """
    x = np.asarray(list(values), dtype=float)
    s = np.zeros_like(x) if sigmas is None else np.array([np.nan if v is None else v for v in sigmas], dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(list(weights), dtype=float)
    if not (x.shape == s.shape == w.shape):
        raise ConfigError(located(f"combine(): {x.size} values, {s.size} sigmas and {w.size} weights",
                                  fix="give one sigma and one weight per value"))
    s = np.where(np.isnan(s), 0.0, s)
    if np.any(s < 0):
        raise ConfigError(located("combine(): negative sigma", fix="sigmas are >= 0"))
    total = float(np.sum(w * x))
    if mode == "linear":
        sig = float(np.sum(np.abs(w) * s))
    elif mode == "quadrature":
        sig = float(np.sqrt(np.sum((w * s) ** 2)))
    else:
        raise ConfigError(located(f"unknown error-combination mode {mode!r}", where="combine",
                                  fix="use 'linear' (fully correlated) or 'quadrature' (independent)"))
    return Estimate(total, sig)


def _as_est(x) -> Estimate:
    if isinstance(x, Estimate):
        return x
    if isinstance(x, tuple):
        return Estimate(float(x[0]), 0.0 if x[1] is None else float(x[1]))
    return Estimate(float(x), 0.0)


def _identity(terms: Sequence[tuple[float, object]], mode: str) -> Estimate:
    ests = [_as_est(t) for _, t in terms]
    return combine([e.value for e in ests], [e.sigma for e in ests], mode=mode, weights=[w for w, _ in terms])


def mean_of_estimates(values: Sequence[float], sigmas: Sequence[float | None] | None = None,
                      mode: str = "linear") -> Estimate:
    r"""Arithmetic mean of n estimates with the sigma of the mean under ``mode``.

    :math:`\bar x = \frac1n\sum x_i`; linear: :math:`\sigma = \frac1n\sum\sigma_i` (fully correlated);
    quadrature: :math:`\sigma = \frac1n\sqrt{\sum\sigma_i^2}` (independent). This is how we read
    "the mean of the top-down and bottom-up estimates" (our formulation; the paper's rule is not
    stated in the material we have).
    """
    n = len(values)
    return combine(values, sigmas, mode=mode, weights=[1.0 / n] * n)


def inverse_variance_mean(values: Sequence[float], sigmas: Sequence[float]) -> Estimate:
    r"""Inverse-variance weighted mean of independent estimates (the maximum-likelihood combination).

    .. math::  \hat x = \frac{\sum x_i/\sigma_i^2}{\sum 1/\sigma_i^2},\qquad
               \sigma_{\hat x} = \Big(\sum 1/\sigma_i^2\Big)^{-1/2}

    Every sigma must be > 0 (an estimate without uncertainty would get infinite weight).
    """
    x = np.asarray(values, dtype=float)
    s = np.asarray(sigmas, dtype=float)
    if x.shape != s.shape or x.size == 0:
        raise ConfigError(located("inverse_variance_mean(): need one sigma per value", fix="pass equal-length lists"))
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ConfigError(located(f"inverse_variance_mean(): sigmas must be finite and > 0, got {s.tolist()}",
                                  fix="give every estimate a positive uncertainty"))
    w = 1.0 / s**2
    return Estimate(float(np.sum(w * x) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w))))


def monte_carlo_sum(values: Sequence[float], sigmas: Sequence[float], *, weights: Sequence[float] | None = None,
                    correlation: str = "independent", n: int = 100_000,
                    rng: np.random.Generator | int | None = 0, return_samples: bool = False):
    r"""Monte Carlo propagation of a weighted sum of Gaussian components.

    ``correlation="independent"`` draws :math:`x_i = \mu_i + \sigma_i z_i` with independent
    :math:`z_i\sim N(0,1)` (analytic counterpart: :func:`combine` ``mode="quadrature"``);
    ``"full"`` uses one common :math:`z` for all components (fully correlated; counterpart
    ``mode="linear"`` when all weights are positive).

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Generator or seed (no global RNG state is touched).

    Returns
    -------
    Estimate (sample mean, sample standard deviation), plus the samples if ``return_samples``.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    mu = np.asarray(values, dtype=float)
    s = np.nan_to_num(np.asarray(sigmas, dtype=float), nan=0.0)
    w = np.ones_like(mu) if weights is None else np.asarray(weights, dtype=float)
    if correlation == "independent":
        z = gen.standard_normal((int(n), mu.size))
    elif correlation == "full":
        z = np.repeat(gen.standard_normal((int(n), 1)), mu.size, axis=1)
    else:
        raise ConfigError(located(f"unknown correlation {correlation!r}", where="monte_carlo_sum",
                                  fix="use 'independent' or 'full'"))
    samples = (mu + s * z) @ w
    est = Estimate(float(samples.mean()), float(samples.std(ddof=1)))
    return (est, samples) if return_samples else est


def implied_residual(total, parts: Sequence, mode: str = "linear") -> Estimate:
    r"""What the unreported terms must sum to so that ``sum(parts) + residual == total``.

    Value :math:`r = T - \sum p_i`; sigma linear :math:`\sigma_T - \sum\sigma_i`, quadrature
    :math:`\sqrt{\sigma_T^2 - \sum\sigma_i^2}` (NaN when negative: the convention cannot produce the
    published sigma). Our formulation, used to show what a published total implies.
    """
    t = _as_est(total)
    ps = [_as_est(p) for p in parts]
    v = t.value - sum(p.value for p in ps)
    if mode == "linear":
        s = t.sigma - sum(p.sigma for p in ps)
    elif mode == "quadrature":
        s2 = t.sigma**2 - sum(p.sigma**2 for p in ps)
        s = math.sqrt(s2) if s2 >= 0 else math.nan
    else:
        raise ConfigError(located(f"unknown mode {mode!r}", where="implied_residual", fix="'linear' or 'quadrature'"))
    return Estimate(v, s if s >= 0 else math.nan)

