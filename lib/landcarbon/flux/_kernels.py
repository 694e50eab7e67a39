"""Numba kernels of the partitioning methods (Lloyd–Taylor and light-response fits, window loops).

Everything here works on plain float64 NumPy arrays (NaN = missing) and is wrapped by the public
functions of :mod:`landcarbon.flux.respiration`, :mod:`~landcarbon.flux.lightresponse`,
:mod:`~landcarbon.flux.nighttime`, :mod:`~landcarbon.flux.daytime` and :mod:`~landcarbon.flux.dtrh`.
No formula is written here: the Lloyd–Taylor term, the VPD limitation and the light-response curves
are the scalar ``@njit`` twins of their homes (:mod:`~landcarbon.flux.respiration`,
:mod:`~landcarbon.flux.lightresponse`). The tests compare each fitter with
``scipy.optimize.curve_fit`` / ``least_squares`` oracles.

Units: temperatures in degC (converted to K inside the Lloyd–Taylor term), fluxes in
µmol CO2 m-2 s-1, global radiation in W m-2, VPD in hPa, E0 in K.
Sign convention: NEE > 0 is release; NEE = RECO − GPP; GPP ≥ 0.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .lightresponse import (VPD0_HPA, nonrectangular_hyperbola_grad, rectangular_hyperbola_grad,
                            vpd_limitation_scalar)
from .respiration import T0_DEGC, T_GUARD_DEGC, TREF_DEGC, arrhenius_term_scalar, lloyd_taylor_scalar

# the old names of the constants (kept for user code)
T0_C, TREF_C, T_GUARD_C = T0_DEGC, TREF_DEGC, T_GUARD_DEGC


# ---------------------------------------------------------------------------------------------
# Lloyd–Taylor
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def lt_factor(t_c, e0, tref_c=TREF_DEGC):
    """Lloyd–Taylor factor (Rref = 1) with the T guard; scalar (:func:`~landcarbon.flux.respiration.lloyd_taylor_scalar`)."""
    return lloyd_taylor_scalar(t_c, 1.0, e0, tref_c)


@njit(cache=True)
def lt_fit(t_c, y, rref0, e00, tref_c, maxit):
    """Unweighted least-squares fit of y = Rref·f(T; E0) (Levenberg–Marquardt, 2 parameters).

    Returns (rref, e0, sd_rref, sd_e0, ssr, ok). SDs as R ``summary.nls``: s²(JᵀJ)⁻¹ with
    s² = SSR/(n − 2).
    """
    n = y.size
    rref = rref0
    e0 = e00
    x = np.empty(n)  # Lloyd-Taylor term: R = Rref exp(E0 x)
    for i in range(n):
        x[i] = arrhenius_term_scalar(t_c[i], tref_c)

    def ssr_of(r, e):
        s = 0.0
        for i in range(n):
            d = r * np.exp(e * x[i]) - y[i]
            s += d * d
        return s

    ssr = ssr_of(rref, e0)
    lam = 1e-3
    ok = False
    for _it in range(maxit):
        # normal equations
        h00 = 0.0
        h01 = 0.0
        h11 = 0.0
        g0 = 0.0
        g1 = 0.0
        for i in range(n):
            f = np.exp(e0 * x[i])
            res = rref * f - y[i]
            j0 = f
            j1 = rref * f * x[i]
            h00 += j0 * j0
            h01 += j0 * j1
            h11 += j1 * j1
            g0 += j0 * res
            g1 += j1 * res
        improved = False
        for _k in range(30):
            d00 = h00 * (1.0 + lam)
            d11 = h11 * (1.0 + lam)
            det = d00 * d11 - h01 * h01
            if det <= 0.0 or not np.isfinite(det):
                lam *= 10.0
                continue
            dr = -(d11 * g0 - h01 * g1) / det
            de = -(-h01 * g0 + d00 * g1) / det
            rn = rref + dr
            en = e0 + de
            sn = ssr_of(rn, en)
            if np.isfinite(sn) and sn <= ssr:
                rel = (ssr - sn) / max(ssr, 1e-300)
                rref = rn
                e0 = en
                ssr = sn
                lam = max(lam / 10.0, 1e-12)
                improved = True
                if rel < 1e-10 or (abs(dr) <= 1e-10 * (abs(rref) + 1e-10) and abs(de) <= 1e-8 * (abs(e0) + 1e-8)):
                    ok = True
                break
            lam *= 10.0
        if not improved:
            ok = True  # no further decrease possible: at a minimum (within precision)
            break
        if ok:
            break
    # standard errors
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for i in range(n):
        f = np.exp(e0 * x[i])
        j1 = rref * f * x[i]
        h00 += f * f
        h01 += f * j1
        h11 += j1 * j1
    det = h00 * h11 - h01 * h01
    sd_r = np.nan
    sd_e = np.nan
    if n > 2 and det > 0.0:
        s2 = ssr / (n - 2)
        sd_r = np.sqrt(s2 * h11 / det)
        sd_e = np.sqrt(s2 * h00 / det)
    if not (np.isfinite(rref) and np.isfinite(e0)):
        ok = False
    return rref, e0, sd_r, sd_e, ssr, ok


@njit(cache=True)
def rref_through_origin(t_c, y, e0, tref_c):
    """Linear regression through the origin y = Rref·f(T; E0) with E0 fixed; returns (rref, sd)."""
    sxx = 0.0
    sxy = 0.0
    n = y.size
    for i in range(n):
        f = lt_factor(t_c[i], e0, tref_c)
        sxx += f * f
        sxy += f * y[i]
    if sxx <= 0.0:
        return np.nan, np.nan
    r = sxy / sxx
    ssr = 0.0
    for i in range(n):
        d = y[i] - r * lt_factor(t_c[i], e0, tref_c)
        ssr += d * d
    sd = np.sqrt(ssr / (n - 1) / sxx) if n > 1 else np.nan
    return r, sd


@njit(cache=True)
def _quantile7(x, p):
    """R type-7 (linear) quantile of a 1-D array without NaN."""
    s = np.sort(x)
    n = s.size
    h = (n - 1) * p
    lo = int(np.floor(h))
    hi = min(lo + 1, n - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


# ---------------------------------------------------------------------------------------------
# Night-time method (Reichstein et al. 2005, as REddyProc sMRFluxPartition)
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def nt_e0_windows(day, y, t_c, win_days, step_days, t_range, perc_trim, min_n, tref_c):
    """Short-term E0 regressions in windows of ±``win_days`` days moved by ``step_days``.

    ``day``: integer day counter per record (REddyProc: (record number) %/% records per day);
    ``y``: night-time NEE (NaN elsewhere); ``t_c``: temperature [degC] (NaN where not usable).
    Returns an (nwin, 12) array: start, end, n, T range, rref, sd_rref, e0, sd_e0, e0_trim,
    sd_e0_trim, ok, middle day.
    """
    maxday = day.max()
    mids = np.arange(win_days + 1, maxday + 1, step_days)
    out = np.full((mids.size, 12), np.nan)
    for w in range(mids.size):
        mid = mids[w]
        d0 = mid - win_days
        d1 = mid + win_days
        sel = (day >= d0) & (day <= d1) & np.isfinite(y) & np.isfinite(t_c)
        yy = y[sel]
        tt = t_c[sel]
        out[w, 0] = d0
        out[w, 1] = d1
        out[w, 2] = yy.size
        out[w, 11] = mid
        out[w, 10] = 0.0
        if yy.size == 0:
            continue
        tr = tt.max() - tt.min()
        out[w, 3] = tr
        if yy.size > min_n and tr >= t_range:
            r, e, sr, se, ssr, ok = lt_fit(tt, yy, 2.0, 200.0, tref_c, 200)
            if not ok:
                continue
            # trim residuals outside the [p, 1-p] quantiles and refit from the same start
            res = np.empty(yy.size)
            for i in range(yy.size):
                res[i] = yy[i] - r * lt_factor(tt[i], e, tref_c)
            qlo = _quantile7(res, perc_trim / 100.0)
            qhi = _quantile7(res, 1.0 - perc_trim / 100.0)
            keep = (res >= qlo) & (res <= qhi)
            r2, e2, sr2, se2, ssr2, ok2 = lt_fit(tt[keep], yy[keep], 2.0, 200.0, tref_c, 200)
            out[w, 4] = r
            out[w, 5] = sr
            out[w, 6] = e
            out[w, 7] = se
            if ok2:
                out[w, 8] = e2
                out[w, 9] = se2
                out[w, 10] = 1.0
    return out


@njit(cache=True)
def nt_rref_windows(day, y, t_c, e0, win_days, step_days, min_n, tref_c):
    """Rref with E0 fixed in windows of ±``win_days`` moved by ``step_days`` (through-origin LS).

    Returns (nwin, 6): start, end, n, mean record index (0-based), rref, sd_rref.
    """
    maxday = day.max()
    mids = np.arange(win_days + 1, maxday + 1, step_days)
    out = np.full((mids.size, 6), np.nan)
    idx = np.arange(y.size)
    for w in range(mids.size):
        d0 = mids[w] - win_days
        d1 = mids[w] + win_days
        sel = (day >= d0) & (day <= d1) & np.isfinite(y) & np.isfinite(t_c)
        out[w, 0] = d0
        out[w, 1] = d1
        out[w, 2] = sel.sum()
        if sel.sum() == 0:
            continue
        out[w, 3] = np.round(idx[sel].mean())
        if sel.sum() > min_n:
            r, sd = rref_through_origin(t_c[sel], y[sel], e0, tref_c)
            out[w, 4] = r
            out[w, 5] = sd
    return out


# ---------------------------------------------------------------------------------------------
# Light-response curve with VPD limitation (Lasslop et al. 2010):
#   NEE = R − GPP_curve(Rg, α, β0·f(VPD; k)),  R = rb·fR,  θ = (k, β0, α, rb)
#   curve: model_id 0 = rectangular, 1 = non-rectangular (convexity); formulas in lightresponse.py
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def curve_grad(model_id, convexity, rg, alpha, beta):
    """(GPP, ∂GPP/∂α, ∂GPP/∂β) of the curve ``model_id`` (the twins of :mod:`~landcarbon.flux.lightresponse`)."""
    if model_id == 1:
        return nonrectangular_hyperbola_grad(rg, alpha, beta, convexity)
    return rectangular_hyperbola_grad(rg, alpha, beta)


@njit(cache=True)
def curve_grad_vec(model_id, convexity, rg, alpha, beta):
    """Element-wise :func:`curve_grad` over arrays of equal length; returns three arrays."""
    n = rg.size
    g = np.empty(n)
    da = np.empty(n)
    db = np.empty(n)
    for i in range(n):
        if np.isfinite(alpha[i]) and np.isfinite(beta[i]):
            g[i], da[i], db[i] = curve_grad(model_id, convexity, rg[i], alpha[i], beta[i])
        else:
            g[i] = da[i] = db[i] = np.nan
    return g, da, db


@njit(cache=True)
def lrc_predict(theta, rg, vpd, fr, model_id=0, convexity=0.0):
    """Returns (NEE, GPP, RECO) arrays of the light-response curve with VPD limitation."""
    n = rg.size
    nee = np.empty(n)
    gpp = np.empty(n)
    reco = np.empty(n)
    k, b0, al, rb = theta[0], theta[1], theta[2], theta[3]
    for i in range(n):
        f, _ = vpd_limitation_scalar(vpd[i], k, VPD0_HPA)
        g, _, _ = curve_grad(model_id, convexity, rg[i], al, b0 * f)
        gpp[i] = g
        reco[i] = rb * fr[i]
        nee[i] = reco[i] - g
    return nee, gpp, reco


@njit(cache=True)
def _lrc_resid_jac(theta, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, r, jac, model_id, convexity):
    """Fill weighted residuals r (n + 4 prior rows) and Jacobian (n+4, 4); returns cost Σr²."""
    n = rg.size
    k, b0, al, rb = theta[0], theta[1], theta[2], theta[3]
    cost = 0.0
    for i in range(n):
        f, dfdk = vpd_limitation_scalar(vpd[i], k, VPD0_HPA)
        g, dg_da, dg_db = curve_grad(model_id, convexity, rg[i], al, b0 * f)
        w = 1.0 / sd[i]
        r[i] = (rb * fr[i] - g - y[i]) * w
        jac[i, 0] = -dg_db * b0 * dfdk * w if free[0] else 0.0
        jac[i, 1] = -dg_db * f * w if free[1] else 0.0
        jac[i, 2] = -dg_da * w if free[2] else 0.0
        jac[i, 3] = fr[i] * w if free[3] else 0.0
        cost += r[i] * r[i]
    for j in range(4):
        if free[j] and np.isfinite(prior_sd[j]) and prior_sd[j] > 0:
            r[n + j] = (theta[j] - prior_mu[j]) / prior_sd[j]
            for q in range(4):
                jac[n + j, q] = 0.0
            jac[n + j, j] = 1.0 / prior_sd[j]
        else:
            r[n + j] = 0.0
            for q in range(4):
                jac[n + j, q] = 0.0
        cost += r[n + j] * r[n + j]
    return cost


@njit(cache=True)
def _solve_sym(a, b):
    """Solve a x = b for a small SPD matrix (Cholesky); returns (x, ok)."""
    m = b.size
    lmat = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1):
            s = a[i, j]
            for q in range(j):
                s -= lmat[i, q] * lmat[j, q]
            if i == j:
                if s <= 0.0:
                    return b * np.nan, False
                lmat[i, i] = np.sqrt(s)
            else:
                lmat[i, j] = s / lmat[j, j]
    z = np.empty(m)
    for i in range(m):
        s = b[i]
        for q in range(i):
            s -= lmat[i, q] * z[q]
        z[i] = s / lmat[i, i]
    x = np.empty(m)
    for i in range(m - 1, -1, -1):
        s = z[i]
        for q in range(i + 1, m):
            s -= lmat[q, i] * x[q]
        x[i] = s / lmat[i, i]
    return x, True


@njit(cache=True)
def lrc_fit(theta0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol, model_id=0, convexity=0.0):
    """Levenberg–Marquardt fit of the light-response curve with Gaussian priors as extra rows.

    Cost = Σ((NEE_mod − NEE_obs)/σ)² + Σ_j((θ_j − μ_j)/s_j)² (MAP form of Lasslop et al. 2010;
    REddyProc ``RHLightResponseCostC``). Only parameters with ``free[j]`` move. Marquardt's diagonal
    damping makes the iterations invariant to a rescaling of a parameter (e.g. rb at another Tref).
    Returns (theta, cov (4×4, zeros for fixed parameters), cost, converged).
    """
    n = rg.size
    theta = theta0.copy()
    r = np.zeros(n + 4)
    jac = np.zeros((n + 4, 4))
    cost = _lrc_resid_jac(theta, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, r, jac, model_id, convexity)
    lam = 1e-3
    conv = False
    nfree = 0
    for j in range(4):
        if free[j]:
            nfree += 1
    fidx = np.empty(nfree, dtype=np.int64)
    q = 0
    for j in range(4):
        if free[j]:
            fidx[q] = j
            q += 1
    rn = np.zeros(n + 4)
    jn = np.zeros((n + 4, 4))
    for _it in range(maxit):
        jtj = np.zeros((nfree, nfree))
        jtr = np.zeros(nfree)
        for a_ in range(nfree):
            ja = fidx[a_]
            s = 0.0
            for i in range(n + 4):
                s += jac[i, ja] * r[i]
            jtr[a_] = s
            for b_ in range(a_ + 1):
                jb = fidx[b_]
                s = 0.0
                for i in range(n + 4):
                    s += jac[i, ja] * jac[i, jb]
                jtj[a_, b_] = s
                jtj[b_, a_] = s
        improved = False
        for _k in range(40):
            damp = jtj.copy()
            for a_ in range(nfree):
                damp[a_, a_] = jtj[a_, a_] * (1.0 + lam) + 1e-12
            step, ok = _solve_sym(damp, -jtr)
            if not ok:
                lam *= 10.0
                continue
            tn = theta.copy()
            for a_ in range(nfree):
                tn[fidx[a_]] += step[a_]
            cn = _lrc_resid_jac(tn, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, rn, jn, model_id, convexity)
            if np.isfinite(cn) and cn <= cost:
                rel = (cost - cn) / max(cost, 1e-300)
                theta = tn
                cost = cn
                r[:] = rn
                jac[:, :] = jn
                lam = max(lam / 10.0, 1e-12)
                improved = True
                if rel < tol:
                    conv = True
                break
            lam *= 10.0
        if not improved:
            conv = True
            break
        if conv:
            break
    # covariance (JᵀJ)⁻¹ of the free parameters (priors included)
    cov = np.zeros((4, 4))
    jtj = np.zeros((nfree, nfree))
    for a_ in range(nfree):
        for b_ in range(nfree):
            s = 0.0
            for i in range(n + 4):
                s += jac[i, fidx[a_]] * jac[i, fidx[b_]]
            jtj[a_, b_] = s
    for a_ in range(nfree):
        e = np.zeros(nfree)
        e[a_] = 1.0
        col, ok = _solve_sym(jtj, e)
        if not ok:
            cov[:, :] = np.nan
            break
        for b_ in range(nfree):
            cov[fidx[b_], fidx[a_]] = col[b_]
    return theta, cov, cost, conv


@njit(cache=True)
def _fit_with_starts(theta_init, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol, nstart, model_id,
                     convexity):
    """Up to three starts differing in β0 (×1, ×1.3, ×0.8; REddyProc); keeps the lowest cost."""
    best_cost = np.inf
    best_t = theta_init * np.nan
    best_cov = np.zeros((4, 4)) * np.nan
    best_conv = False
    facs = (1.0, 1.3, 0.8)
    for s in range(min(nstart, 3)):
        t0 = theta_init.copy()
        t0[1] = theta_init[1] * facs[s]
        t, cov, c, conv = lrc_fit(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol, model_id, convexity)
        if conv and np.isfinite(c) and c < best_cost:
            best_cost = c
            best_t = t
            best_cov = cov
            best_conv = conv
    return best_t, best_cov, best_cost, best_conv


@njit(cache=True)
def lrc_fit_bounds(theta_init, rg, vpd, fr, y, sd, prior_mu, prior_sd, alpha_last, maxit, tol, nstart=3,
                   model_id=0, convexity=0.0):
    """One window with the bounds / refit logic of Lasslop et al. (2010) Table A1 as coded in
    REddyProc ``optimLRCBounds`` + ``isParameterInBounds``.

    Returns (theta, sd_theta, cost, code, k_fixed, alpha_fixed, cov). ``code`` 0 = accepted,
    1002 = out of bounds, 1005 = negative variance, 1 = no convergence.
    """
    free = np.ones(4, dtype=np.bool_)
    t0 = theta_init.copy()
    k_fixed = False
    a_fixed = False
    if not np.any(vpd > VPD0_HPA):
        # no record above VPD0: k is not identifiable (zero Jacobian) -> fixed at 0, not counted as refit
        free[0] = False
        t0[0] = 0.0
    t, cov, c, conv = _fit_with_starts(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol, nstart,
                                       model_id, convexity)
    if (not np.isfinite(t[0])) or t[0] < 0.0:
        k_fixed = True
        free[0] = False
        t0[0] = 0.0
        t, cov, c, conv = _fit_with_starts(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol, nstart,
                                           model_id, convexity)
        if ((not np.isfinite(t[2])) or t[2] > 0.22) and np.isfinite(alpha_last):
            a_fixed = True
            free[2] = False
            t0[2] = alpha_last
            t, cov, c, conv = _fit_with_starts(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol,
                                               nstart, model_id, convexity)
    else:
        if ((not np.isfinite(t[2])) or t[2] > 0.22) and np.isfinite(alpha_last):
            a_fixed = True
            free[2] = False
            t0[2] = alpha_last
            t, cov, c, conv = _fit_with_starts(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol,
                                               nstart, model_id, convexity)
            if (not np.isfinite(t[0])) or t[0] < 0.0:
                k_fixed = True
                free[0] = False
                t0[0] = 0.0
                t, cov, c, conv = _fit_with_starts(t0, free, rg, vpd, fr, y, sd, prior_mu, prior_sd, maxit, tol,
                                                   nstart, model_id, convexity)
    sdt = np.full(4, np.nan)
    if not conv or not np.isfinite(t[0]):
        return t * np.nan, sdt, np.nan, 1, k_fixed, a_fixed, cov * np.nan
    for j in range(4):
        if free[j]:
            sdt[j] = np.sqrt(cov[j, j]) if cov[j, j] >= 0 else np.nan
    code = 0
    if t[2] < 0.0 or t[3] < 0.0 or t[1] < 0.0 or t[1] >= 250.0:
        code = 1002
    elif t[1] > 4.0 * prior_mu[1]:
        code = 1002
    elif t[1] > 100.0 and (not np.isfinite(sdt[1]) or sdt[1] >= t[1]):
        code = 1002
    for j in range(4):
        if free[j] and cov[j, j] < 0:
            code = 1005
    return t, sdt, c, code, k_fixed, a_fixed, cov


@njit(cache=True)
def dt_windows(starts, ends, y, rg, vpd, xterm, yterm, mult, sd, a_win, b_win, rb_prior_mu, rb_prior_sd,
               min_n, maxit, tol, model_id, convexity, nstart=3, beta_sd_factor=20.0):
    """Loop the light-response fit over windows [starts[w], ends[w]) (record indices).

    ``y``: day-time NEE to fit (NaN elsewhere). Respiration factor per record:
    fR = mult[i]·exp(a_win[w]·xterm[i] + b_win[w]·yterm[i]) (DT: a = E0 of the window, b = 0,
    mult = 1; DT-RH: see :mod:`landcarbon.flux.dtrh`). ``rb_prior_sd`` NaN = no prior on rb (REddyProc
    default); the β0 prior follows REddyProc (location |q03 − q97| of day NEE, sd =
    ``beta_sd_factor`` (20) · median(|σ/NEE|) · β_prior / sqrt(n); ``beta_sd_factor = inf`` switches
    it off). Returns (params (W, 4), sds (W, 4), cov (W, 4, 4), info (W, 7): n, mean record index,
    cost, code, k_fixed, alpha_fixed, beta_prior).
    """
    nw = starts.size
    par = np.full((nw, 4), np.nan)
    psd = np.full((nw, 4), np.nan)
    pcov = np.full((nw, 4, 4), np.nan)
    info = np.full((nw, 7), np.nan)
    alpha_last = 0.22
    for w in range(nw):
        s0 = starts[w]
        s1 = ends[w]
        cnt = 0
        isum = 0.0
        for i in range(s0, s1):
            if np.isfinite(y[i]) and np.isfinite(vpd[i]) and np.isfinite(xterm[i]) and np.isfinite(yterm[i]) \
                    and np.isfinite(sd[i]) and np.isfinite(rg[i]) and np.isfinite(mult[i]):
                cnt += 1
                isum += i
        info[w, 0] = cnt
        if cnt > 0:
            info[w, 1] = np.round(isum / cnt)
        info[w, 3] = 1011
        if cnt < min_n or not np.isfinite(a_win[w]) or not np.isfinite(b_win[w]) or not np.isfinite(rb_prior_mu[w]):
            if not np.isfinite(a_win[w]):
                info[w, 3] = 1010
            continue
        rgw = np.empty(cnt)
        vw = np.empty(cnt)
        fw = np.empty(cnt)
        yw = np.empty(cnt)
        sw = np.empty(cnt)
        q = 0
        for i in range(s0, s1):
            if np.isfinite(y[i]) and np.isfinite(vpd[i]) and np.isfinite(xterm[i]) and np.isfinite(yterm[i]) \
                    and np.isfinite(sd[i]) and np.isfinite(rg[i]) and np.isfinite(mult[i]):
                rgw[q] = rg[i]
                vw[q] = vpd[i]
                fw[q] = mult[i] * np.exp(a_win[w] * xterm[i] + b_win[w] * yterm[i])
                yw[q] = y[i]
                sw[q] = sd[i]
                q += 1
        bprior = abs(_quantile7(yw, 0.03) - _quantile7(yw, 0.97))
        rel = np.empty(cnt)
        for i in range(cnt):
            rel[i] = abs(sw[i] / yw[i]) if yw[i] != 0 else np.inf
        medrel = np.median(rel)
        mu = np.array([0.05, bprior, 0.1, rb_prior_mu[w]])
        psd_w = np.array([np.nan, beta_sd_factor * medrel * bprior / np.sqrt(cnt), np.nan, rb_prior_sd[w]])
        if not np.isfinite(psd_w[1]) or psd_w[1] <= 0:
            psd_w[1] = np.nan
        t, sdt, c, code, kf, af, cov = lrc_fit_bounds(mu.copy(), rgw, vw, fw, yw, sw, mu, psd_w, alpha_last,
                                                       maxit, tol, nstart, model_id, convexity)
        info[w, 2] = c
        info[w, 3] = code
        info[w, 4] = 1.0 if kf else 0.0
        info[w, 5] = 1.0 if af else 0.0
        info[w, 6] = bprior
        if code == 0:
            par[w, :] = t
            psd[w, :] = sdt
            pcov[w, :, :] = cov
            alpha_last = t[2]
    return par, psd, pcov, info
