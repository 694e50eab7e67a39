"""Bayesian synthesis inversion (Tarantola 2005; Enting 2002; Rayner et al. 1999; Gurney et al. 2002).

Cost function (Jiang et al. 2016 SI S1.1; Tarantola 2005)::

    J(s) = 1/2 (M s - c)^T R^-1 (M s - c) + 1/2 (s - s_p)^T Q^-1 (s - s_p)

with state ``s`` (monthly regional fluxes [PgC yr-1] plus the initial well-mixed mixing ratio [ppm]),
prior ``s_p`` with covariance ``Q``, observations ``c`` [ppm] with error covariance ``R`` (measurement
+ model-data mismatch) and the transport operator ``M``. Two algebraically equal posterior forms:

* prior space (information form): A = (M^T R^-1 M + Q^-1)^-1, s = s_p + A M^T R^-1 (c - M s_p);
* observation space (Kalman gain):  K = Q M^T (M Q M^T + R)^-1, s = s_p + K (c - M s_p), A = (I - K M) Q.

Both are solved with Cholesky factorisations and triangular solves (scipy.linalg), never explicit
inverses: in prior space the state is whitened with Q = L L^T so the normal matrix I + (ML)^T R^-1 (ML)
is well conditioned. Aggregates (e.g. China's annual sink) are a^T s with variance a^T A a — never sums
of sigmas. Consistency: 2 J(s_hat) = d^T (M Q M^T + R)^-1 d with d = c - M s_p, whose expectation is m
(so chi2 = 2 J / m should be ~1; Michalak et al. 2005, doi:10.1029/2005JD005970).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg as sla

from ..errors import ConfigError, DataError, located

__all__ = ["InversionResult", "cost", "posterior_prior_space", "posterior_obs_space", "invert",
           "aggregate", "uncertainty_reduction", "annual_aggregation"]


def _check(M, c, sp, Q, R):
    M = np.asarray(M, float)
    c = np.asarray(c, float)
    sp = np.asarray(sp, float)
    Q = np.asarray(Q, float)
    R = np.asarray(R, float)
    m, n = M.shape
    if c.shape != (m,):
        raise ConfigError(located(f"observations have shape {c.shape}, expected ({m},)", where="inversion"))
    if sp.shape != (n,):
        raise ConfigError(located(f"prior has shape {sp.shape}, expected ({n},)", where="inversion"))
    if Q.shape not in ((n,), (n, n)):
        raise ConfigError(located(f"Q must be ({n},) variances or ({n},{n})", where="inversion"))
    if R.shape not in ((m,), (m, m)):
        raise ConfigError(located(f"R must be ({m},) variances or ({m},{m})", where="inversion"))
    for name, a in (("M", M), ("c", c), ("s_p", sp), ("Q", Q), ("R", R)):
        if not np.all(np.isfinite(a)):
            raise DataError(located(f"{name} contains NaN/inf", where="inversion",
                                    fix="drop missing observations before inverting"))
    if (Q.ndim == 1 and np.any(Q <= 0)) or (R.ndim == 1 and np.any(R <= 0)):
        raise ConfigError(located("variances must be > 0", where="inversion"))
    return M, c, sp, Q, R


def _chol_lower(A, what):
    try:
        return sla.cholesky(A, lower=True)
    except sla.LinAlgError as exc:
        raise ConfigError(located(f"{what} is not positive definite ({exc})", where="inversion")) from exc


def _whiten_obs(M, d, R):
    """Return R^-1/2 M and R^-1/2 d (diagonal or Cholesky whitening)."""
    if R.ndim == 1:
        w = 1.0 / np.sqrt(R)
        return M * w[:, None], d * w
    L = _chol_lower(R, "R")
    return (sla.solve_triangular(L, M, lower=True), sla.solve_triangular(L, d, lower=True))


def cost(s, M, c, sp, Q, R) -> float:
    """Value of J(s) (dimensionless)."""
    M, c, sp, Q, R = _check(M, c, sp, Q, R)
    s = np.asarray(s, float)
    r = M @ s - c
    e = s - sp
    if R.ndim == 1:
        jo = np.sum(r * r / R)
    else:
        jo = r @ sla.cho_solve(sla.cho_factor(R, lower=True), r)
    if Q.ndim == 1:
        jb = np.sum(e * e / Q)
    else:
        jb = e @ sla.cho_solve(sla.cho_factor(Q, lower=True), e)
    return 0.5 * float(jo + jb)


def posterior_prior_space(M, c, sp, Q, R):
    """Posterior mean and covariance in the prior-space (information) form.

    Returns ``(s_hat, A_hat)``. Cost O(m n^2 + n^3); preferable when n < m.
    """
    M, c, sp, Q, R = _check(M, c, sp, Q, R)
    n = M.shape[1]
    d = c - M @ sp
    Mw, dw = _whiten_obs(M, d, R)
    if Q.ndim == 1:
        Lq_diag = np.sqrt(Q)
        B = Mw if Mw is not M else Mw.copy()
        B *= Lq_diag[None, :]                           # R^-1/2 M L (in place: one m x n copy)
    else:
        Lq = _chol_lower(Q, "Q")
        B = Mw @ Lq
    # upper triangle of P = I + B^T B by a symmetric rank-k update (BLAS dsyrk: half the flops of gemm);
    # B.T of a C-ordered B is Fortran-ordered, so no copy is made
    Bt = np.asfortranarray(B.T)
    P = sla.blas.dsyrk(1.0, Bt, trans=0, lower=0)
    P[np.diag_indices(n)] += 1.0
    try:
        U = sla.cholesky(P, lower=False, overwrite_a=True, check_finite=False)   # reads the upper triangle
    except sla.LinAlgError as exc:
        raise ConfigError(located(f"normal matrix is not positive definite ({exc})",
                                  where="posterior_prior_space")) from exc
    z = sla.cho_solve((U, False), B.T @ dw)
    # P^-1 from its Cholesky factor (LAPACK dpotri: triangular inverse and product, no general inverse)
    Pi, info = sla.lapack.dpotri(U, lower=0)
    if info != 0:
        raise ConfigError(located(f"LAPACK dpotri failed (info={info})", where="posterior_prior_space"))
    Pi = np.triu(Pi) + np.triu(Pi, 1).T
    if Q.ndim == 1:
        s_hat = sp + Lq_diag * z
        A = Pi * np.outer(Lq_diag, Lq_diag)              # L P^-1 L^T with diagonal L
    else:
        s_hat = sp + Lq @ z
        A = Lq @ Pi @ Lq.T
    return s_hat, A


def posterior_obs_space(M, c, sp, Q, R):
    """Posterior mean and covariance in the observation-space (Kalman-gain) form.

    Returns ``(s_hat, A_hat)``. Cost O(n m^2 + m^3); preferable when m < n.
    """
    M, c, sp, Q, R = _check(M, c, sp, Q, R)
    d = c - M @ sp
    MQ = M * Q[None, :] if Q.ndim == 1 else M @ Q      # M Q  (m x n)
    S = MQ @ M.T
    S += np.diag(R) if R.ndim == 1 else R
    Ls = _chol_lower(S, "M Q M^T + R")
    s_hat = sp + MQ.T @ sla.cho_solve((Ls, True), d)
    X = sla.solve_triangular(Ls, MQ, lower=True)       # Ls^-1 M Q
    A = (np.diag(Q) if Q.ndim == 1 else Q.copy()) - X.T @ X
    return s_hat, A


@dataclass
class InversionResult:
    """Posterior of a synthesis inversion. ``s_hat`` [state units], ``A`` posterior covariance."""

    s_hat: np.ndarray
    A: np.ndarray
    s_prior: np.ndarray
    Q: np.ndarray
    cost: float
    chi2: float
    n_obs: int
    form: str
    residual_prior: np.ndarray = field(repr=False, default=None)
    residual_post: np.ndarray = field(repr=False, default=None)

    @property
    def sigma(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.A), 0, None))

    @property
    def sigma_prior(self) -> np.ndarray:
        return np.sqrt(self.Q if self.Q.ndim == 1 else np.diag(self.Q))

    def aggregate(self, a):
        """(posterior value, posterior sigma, prior value, prior sigma) of the aggregate a^T s."""
        v, s = aggregate(self.s_hat, self.A, a)
        vp, spr = aggregate(self.s_prior, self.Q, a)
        return v, s, vp, spr


def invert(M, c, sp, Q, R, form: str = "auto") -> InversionResult:
    """Solve the synthesis inversion; ``form`` = "prior", "obs" or "auto" (the cheaper one)."""
    M, c, sp, Q, R = _check(M, c, sp, Q, R)
    m, n = M.shape
    if form == "auto":
        form = "prior" if n <= m else "obs"
    if form == "prior":
        s_hat, A = posterior_prior_space(M, c, sp, Q, R)
    elif form == "obs":
        s_hat, A = posterior_obs_space(M, c, sp, Q, R)
    else:
        raise ConfigError(located(f"unknown form {form!r}", where="invert", fix="use 'prior', 'obs' or 'auto'"))
    J = cost(s_hat, M, c, sp, Q, R)
    return InversionResult(s_hat=s_hat, A=A, s_prior=sp, Q=Q, cost=J, chi2=2.0 * J / m, n_obs=m, form=form,
                           residual_prior=c - M @ sp, residual_post=c - M @ s_hat)


def aggregate(s, A, a):
    """Aggregate a^T s and its standard deviation sqrt(a^T A a) (A: covariance or variance vector)."""
    a = np.asarray(a, float)
    s = np.asarray(s, float)
    A = np.asarray(A, float)
    if a.ndim == 1:
        var = a @ (A * a) if A.ndim == 1 else a @ A @ a
        return float(a @ s), float(np.sqrt(max(var, 0.0)))
    v = a @ s
    C = (a * A[None, :]) @ a.T if A.ndim == 1 else a @ A @ a.T
    return v, np.sqrt(np.clip(np.diag(C), 0, None))


def uncertainty_reduction(sigma_prior, sigma_post):
    """UR = 1 - sigma_post / sigma_prior (dimensionless)."""
    return 1.0 - np.asarray(sigma_post) / np.asarray(sigma_prior)


def annual_aggregation(n_months: int, n_regions: int, regions_mask, include_initial: bool = True,
                       start_month: int = 0):
    """Aggregation vectors (one per calendar year) giving the annual-mean flux [PgC yr-1] of a region set.

    ``a[y, tau * R + r] = 1/12`` for the months tau of year y and regions with ``regions_mask[r]``.
    """
    mask = np.asarray(regions_mask, bool)
    if mask.shape != (n_regions,):
        raise ConfigError(located("regions_mask must have one entry per region", where="annual_aggregation"))
    n_years = (start_month + n_months + 11) // 12
    n = n_months * n_regions + (1 if include_initial else 0)
    a = np.zeros((n_years, n))
    for tau in range(n_months):
        y = (start_month + tau) // 12
        a[y, tau * n_regions:(tau + 1) * n_regions] = mask / 12.0
    return a
