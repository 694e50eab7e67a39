"""Numba kernels of the atmosphere package: tracer transport steps and the serial EnSRF update.

Oracles: ``tests/test_atmosphere_transport.py`` (plain NumPy step) and
``tests/test_atmosphere_inversion.py`` (analytic Kalman posterior).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _thomas(a, b, c, d, x, cp, dp):
    """Solve a tridiagonal system (sub a, diag b, super c, rhs d) into x; cp, dp are work arrays."""
    n = b.shape[0]
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for k in range(1, n):
        den = b[k] - a[k] * cp[k - 1]
        cp[k] = c[k] / den
        dp[k] = (d[k] - a[k] * dp[k - 1]) / den
    x[n - 1] = dp[n - 1]
    for k in range(n - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]


@njit(cache=True)
def _one_step(c, emis, cap, ushift, zrelax, Xm, Xv, V, W, row, row2, col_a, col_b, col_c, col_d, col_x,
              cp, dp, va, vb, vc, vd, vx, vcp, vdp, madv):
    """Advance one tracer field ``c`` (K, J, I) [ppm] by one step (operator splitting, mass conserving).

    1. surface emission ``emis`` (J, I) [PgC per step] into level 0: c += emis / cap;
    2. zonal advection by an exact integer shift plus fractional upwind (Courant ``ushift`` [cells]);
    3. zonal mixing: relaxation of each row towards its row mean by the fraction ``zrelax``;
    4. Hadley overturning: explicit upwind fluxes of the non-divergent air fluxes V (meridional,
       faces j+1/2) and W (vertical, interfaces k+1/2) [PgC ppm-1 per step per cell];
    5. implicit meridional diffusion with exchange coefficients Xm (K, J-1);
    6. implicit vertical exchange with coefficients Xv (K-1, J).
    """
    K, J, I = c.shape
    for j in range(J):
        for i in range(I):
            c[0, j, i] += emis[j, i] / cap[0, j]
    # zonal shift + relaxation
    for k in range(K):
        for j in range(J):
            C = ushift[k, j]
            n = int(np.floor(C))
            f = C - n
            for i in range(I):
                row[i] = c[k, j, i]
            s = 0.0
            for i in range(I):
                i1 = (i - n) % I
                i2 = (i - n - 1) % I
                v = (1.0 - f) * row[i1] + f * row[i2]
                row2[i] = v
                s += v
            mean = s / I
            r = zrelax[k, j]
            for i in range(I):
                c[k, j, i] = row2[i] + r * (mean - row2[i])
    # Hadley advection (explicit upwind, mass form)
    if madv:
        for i in range(I):
            # accumulate mass tendencies of column i in col_x (K*J, flattened)
            for k in range(K):
                for j in range(J):
                    col_x[k * J + j] = 0.0
            for k in range(K):
                for jf in range(J - 1):
                    v = V[k, jf]
                    if v > 0:
                        F = v * c[k, jf, i]
                    else:
                        F = v * c[k, jf + 1, i]
                    col_x[k * J + jf] -= F
                    col_x[k * J + jf + 1] += F
            for kf in range(K - 1):
                for j in range(J):
                    w = W[kf, j]
                    if w > 0:
                        F = w * c[kf, j, i]
                    else:
                        F = w * c[kf + 1, j, i]
                    col_x[kf * J + j] -= F
                    col_x[(kf + 1) * J + j] += F
            for k in range(K):
                for j in range(J):
                    c[k, j, i] += col_x[k * J + j] / cap[k, j]
    # implicit meridional diffusion per (k, i)
    for k in range(K):
        for i in range(I):
            for j in range(J):
                xs = Xm[k, j - 1] if j > 0 else 0.0
                xn = Xm[k, j] if j < J - 1 else 0.0
                col_a[j] = -xs
                col_c[j] = -xn
                col_b[j] = cap[k, j] + xs + xn
                col_d[j] = cap[k, j] * c[k, j, i]
            _thomas(col_a, col_b, col_c, col_d, col_x[:J], cp, dp)
            for j in range(J):
                c[k, j, i] = col_x[j]
    # implicit vertical exchange per (j, i)
    if K > 1:
        for j in range(J):
            for i in range(I):
                for k in range(K):
                    xd = Xv[k - 1, j] if k > 0 else 0.0
                    xu = Xv[k, j] if k < K - 1 else 0.0
                    va[k] = -xd
                    vc[k] = -xu
                    vb[k] = cap[k, j] + xd + xu
                    vd[k] = cap[k, j] * c[k, j, i]
                _thomas(va, vb, vc, vd, vx, vcp, vdp)
                for k in range(K):
                    c[k, j, i] = vx[k]


@njit(parallel=True, cache=True)
def advance(c, emis, cap, ushift, zrelax, Xm, Xv, V, W, n_steps, sk, sj, si, samples, madv):
    """Advance all tracers ``c`` (T, K, J, I) by ``n_steps`` steps with constant meteorology.

    ``emis`` (T, J, I): emission per step [PgC]. The mean concentration over the steps at the sample
    cells (sk, sj, si) is ADDED to ``samples`` (T, S). Tracers are independent (parallel loop).
    """
    T, K, J, I = c.shape
    S = sk.shape[0]
    n = max(J, K * J)
    for t in prange(T):
        row = np.empty(I)
        row2 = np.empty(I)
        col_a = np.empty(J)
        col_b = np.empty(J)
        col_c = np.empty(J)
        col_d = np.empty(J)
        col_x = np.empty(n)
        cp = np.empty(J)
        dp = np.empty(J)
        va = np.empty(K)
        vb = np.empty(K)
        vc = np.empty(K)
        vd = np.empty(K)
        vx = np.empty(K)
        vcp = np.empty(K)
        vdp = np.empty(K)
        ct = c[t]
        for step in range(n_steps):
            _one_step(ct, emis[t], cap, ushift, zrelax, Xm, Xv, V, W, row, row2, col_a, col_b, col_c, col_d,
                      col_x, cp, dp, va, vb, vc, vd, vx, vcp, vdp, madv)
            for s in range(S):
                samples[t, s] += ct[sk[s], sj[s], si[s]] / n_steps


@njit(cache=True)
def ensrf_serial(xm, Xp, hxm, HXp, y, r, rho, alpha_skip_negative):
    """Serial ensemble square-root filter update (Whitaker & Hamill 2002), in place.

    Parameters
    ----------
    xm : (n,) state mean; Xp : (n, N) state perturbations (zero-mean columns);
    hxm : (m,) simulated observations of the mean; HXp : (m, N) their perturbations;
    y : (m,) observations; r : (m,) observation-error variances (diagonal R);
    rho : (m, n) localisation weights (ones = none); alpha_skip_negative : unused flag kept False.

    For each observation o: hpht = HXp[o]·HXp[o]/(N-1); K = rho[o] * Xp·HXp[o]/(N-1) / (hpht + r);
    mean update xm += K (y - hxm[o]); perturbations Xp -= alpha K HXp[o] with
    alpha = 1 / (1 + sqrt(r / (hpht + r))); the remaining observations' hxm/HXp are updated with the
    gain of the observation space (same formulas, localisation 1 between observations).
    """
    n, N = Xp.shape
    m = y.shape[0]
    # validate every index range the loops below use (a wrong shape must raise, never corrupt memory)
    if N < 2:
        raise ValueError("ensrf_serial: the ensemble needs at least 2 members")
    if xm.shape[0] != n or rho.shape[1] != n:
        raise ValueError("ensrf_serial: xm, Xp and rho disagree on the state size n")
    if hxm.shape[0] != m or HXp.shape[0] != m or r.shape[0] != m or rho.shape[0] != m:
        raise ValueError("ensrf_serial: y, hxm, HXp, r and rho disagree on the number of observations m")
    if HXp.shape[1] != N:
        raise ValueError("ensrf_serial: Xp and HXp disagree on the ensemble size N")
    for o in range(m):
        if not (r[o] > 0.0) or not np.isfinite(r[o]):
            raise ValueError("ensrf_serial: observation-error variances r must be finite and > 0")
    for o in range(m):
        hx = HXp[o].copy()
        hpht = 0.0
        for e in range(N):
            hpht += hx[e] * hx[e]
        hpht /= (N - 1)
        denom = hpht + r[o]
        alpha = 1.0 / (1.0 + np.sqrt(r[o] / denom))
        innov = y[o] - hxm[o]
        for a in range(n):
            cov = 0.0
            for e in range(N):
                cov += Xp[a, e] * hx[e]
            k = rho[o, a] * cov / (N - 1) / denom
            xm[a] += k * innov
            for e in range(N):
                Xp[a, e] -= alpha * k * hx[e]
        for q in range(o, m):
            cov = 0.0
            for e in range(N):
                cov += HXp[q, e] * hx[e]
            k = cov / (N - 1) / denom
            hxm[q] += k * innov
            for e in range(N):
                HXp[q, e] -= alpha * k * hx[e]


@njit(cache=True)
def ensrf_serial_linear(xm, Xp, H, off, y, r):
    """Serial EnSRF for an explicit linear operator, in place (no localisation).

    Same update as :func:`ensrf_serial` (Whitaker & Hamill 2002), but the simulated values of each
    observation are computed from the current state when it is processed, ``hx = H[o] xm + off[o]`` and
    ``HX'[o] = H[o] X'``, instead of carrying all remaining observations along: O(m n N) instead of
    O(m n N + m^2 N), which matters for thousands of satellite super-observations per window. Without
    localisation the two are algebraically identical (oracle: tests/test_atmosphere_satellite.py).
    """
    n, N = Xp.shape
    m = y.shape[0]
    if N < 2:
        raise ValueError("ensrf_serial_linear: the ensemble needs at least 2 members")
    if xm.shape[0] != n or H.shape[1] != n:
        raise ValueError("ensrf_serial_linear: xm, Xp and H disagree on the state size n")
    if H.shape[0] != m or off.shape[0] != m or r.shape[0] != m:
        raise ValueError("ensrf_serial_linear: y, H, off and r disagree on the number of observations m")
    for o in range(m):
        if not (r[o] > 0.0) or not np.isfinite(r[o]):
            raise ValueError("ensrf_serial_linear: observation-error variances r must be finite and > 0")
    hx = np.empty(N)
    for o in range(m):
        hxm = off[o]
        for a in range(n):
            hxm += H[o, a] * xm[a]
        for e in range(N):
            s = 0.0
            for a in range(n):
                s += H[o, a] * Xp[a, e]
            hx[e] = s
        hpht = 0.0
        for e in range(N):
            hpht += hx[e] * hx[e]
        hpht /= (N - 1)
        denom = hpht + r[o]
        alpha = 1.0 / (1.0 + np.sqrt(r[o] / denom))
        innov = y[o] - hxm
        for a in range(n):
            cov = 0.0
            for e in range(N):
                cov += Xp[a, e] * hx[e]
            k = cov / (N - 1) / denom
            xm[a] += k * innov
            for e in range(N):
                Xp[a, e] -= alpha * k * hx[e]
