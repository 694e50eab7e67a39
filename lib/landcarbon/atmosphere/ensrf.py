"""Ensemble square-root filter (EnSRF) for flux estimation, GCAS-style two-step windows.

Serial EnSRF (Whitaker & Hamill 2002, MWR 130, 1913, doi:10.1175/1520-0493(2002)130<1913:EDAWPO>2.0.CO;2),
as in CTDAS ``serial_minimum_least_squares`` (van der Laan-Luijkx et al. 2017, doi:10.5194/gmd-10-2785-2017)
and GCAS/GCASv2 (Zhang S. et al. 2015, doi:10.5194/gmd-8-805-2015; Jiang F. et al. 2021,
doi:10.5194/acp-21-1963-2021). For each scalar observation (diagonal R)::

    K = P H^T / (H P H^T + R),   P H^T ~ X' (H X')^T / (N - 1)
    x_mean += K (y - H x_mean)
    X'     -= alpha K (H X'),     alpha = 1 / (1 + sqrt(R / (H P H^T + R)))

and the simulated values of the remaining observations are updated with the same gain. Because CO2
transport is linear in the fluxes, H X' comes from the response functions (one forward run per member is
equivalent). Optional localisation (Gaspari & Cohn 1999 taper of the distance between an observation and
a region's centroid) and multiplicative inflation of the prior perturbations.

The windowed scheme (:func:`ensrf_windows`) follows GCAS's two steps per assimilation window: (1) optimise
the fluxes of the window with the observations of the window; (2) re-run the transport forward with the
optimised fluxes, which carries the concentration field into the next window (here: the optimised fluxes'
contribution to every later observation is added to their background); a window is one month there.
An optional lag ``nlag`` keeps the fluxes of ``nlag`` windows in the state (CTDAS ensemble smoother).
:func:`ensrf_transport_windows` runs the same two-step scheme with ~weekly windows (quarter months)
directly on the transport model, as GCAS does with MOZART-4.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError, located
from ..units import EARTH_RADIUS_M
from . import _kernels

__all__ = ["make_ensemble", "ensrf_update", "check_update_inputs", "gaspari_cohn", "localization_weights",
           "ensrf_windows", "ensrf_transport_windows", "ensrf_window_systems", "great_circle_km"]


def make_ensemble(Q, N: int, seed, exact: bool = False) -> np.ndarray:
    """Zero-mean perturbations X' (n, N) with covariance Q (variances (n,) or matrix (n, n)).

    ``exact=True`` (needs N > n) builds perturbations whose sample covariance equals Q to rounding
    (random orthonormal rows orthogonal to the ones vector), removing sampling noise.
    """
    rng = np.random.default_rng(seed)
    Q = np.asarray(Q, float)
    N = int(N)
    if N < 2:
        raise ConfigError(located(f"an ensemble needs N >= 2 members, got {N}", where="make_ensemble"))
    if Q.ndim not in (1, 2) or (Q.ndim == 2 and Q.shape[0] != Q.shape[1]) or Q.shape[0] < 1:
        raise ConfigError(located(f"Q must be variances (n,) or a square matrix (n, n), got shape {Q.shape}",
                                  where="make_ensemble"))
    if not np.all(np.isfinite(Q)) or (Q.ndim == 1 and np.any(Q < 0)):
        raise DataError(located("Q must be finite with variances >= 0", where="make_ensemble"))
    n = Q.shape[0]
    if Q.ndim == 1:
        L = np.diag(np.sqrt(Q))
    else:
        try:
            L = np.linalg.cholesky(Q)
        except np.linalg.LinAlgError:
            raise DataError(located("Q is not positive definite", where="make_ensemble",
                                    fix="pass a symmetric positive-definite covariance")) from None
    if exact:
        if N <= n:
            raise ConfigError(located(f"exact ensemble needs N > n ({N} <= {n})", where="make_ensemble"))
        Z = rng.standard_normal((N, n + 1))
        Z[:, 0] = 1.0
        Qo, _ = np.linalg.qr(Z)                 # first column ∝ ones
        W = Qo[:, 1:].T * np.sqrt(N - 1)        # (n, N), rows orthonormal * sqrt(N-1), zero mean
        return L @ W
    Z = rng.standard_normal((n, N))
    Z -= Z.mean(axis=1, keepdims=True)
    return L @ Z


def great_circle_km(lat1, lon1, lat2, lon2):
    """Great-circle distance [km] (haversine, spherical Earth of radius ``landcarbon.units.EARTH_RADIUS_M``)."""
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dl = np.deg2rad(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * (EARTH_RADIUS_M / 1000.0) * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def gaspari_cohn(z):
    """Gaspari & Cohn (1999) 5th-order compactly supported taper of z = d / c (0 for z >= 2)."""
    z = np.abs(np.asarray(z, float))
    out = np.zeros_like(z)
    a = z <= 1
    b = (z > 1) & (z < 2)
    za = z[a]
    out[a] = -0.25 * za**5 + 0.5 * za**4 + 0.625 * za**3 - 5 / 3 * za**2 + 1
    zb = z[b]
    out[b] = zb**5 / 12 - 0.5 * zb**4 + 0.625 * zb**3 + 5 / 3 * zb**2 - 5 * zb + 4 - 2 / (3 * zb)
    return out


def localization_weights(obs_lat, obs_lon, state_lat, state_lon, length_km: float):
    """rho (m, n): Gaspari-Cohn taper of the observation-to-state distance with half-width ``length_km``.

    NaN state coordinates (e.g. the initial-concentration element) get weight 1 (not localised).
    """
    d = great_circle_km(np.asarray(obs_lat)[:, None], np.asarray(obs_lon)[:, None],
                        np.asarray(state_lat)[None, :], np.asarray(state_lon)[None, :])
    rho = gaspari_cohn(d / length_km)
    rho[:, ~np.isfinite(np.asarray(state_lat))] = 1.0
    return rho


def _array(x, name: str, ndim: int, where: str) -> np.ndarray:
    """``x`` as a float64 array of ``ndim`` dimensions, or a typed error naming the argument."""
    try:
        a = np.array(x, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise DataError(located(f"{name} is not numeric ({exc})", where=where,
                                fix=f"pass {name} as a numeric array")) from None
    if a.ndim != ndim:
        raise ConfigError(located(f"{name} must be {ndim}-dimensional, got shape {a.shape}", where=where,
                                  fix="see the shapes in the docstring of ensrf_update"))
    return a


def _first_bad(a) -> str:
    idx = np.argwhere(~np.isfinite(a))[0]
    return ", ".join(str(int(i)) for i in idx)


def check_update_inputs(x_mean, Xp, H, y, r, *, rho=None, inflation: float = 1.0, hx_offset=None,
                        where: str = "ensrf_update"):
    """Validate and convert the inputs of one EnSRF analysis; returns contiguous float64 copies.

    Checks (each failure raises :class:`~landcarbon.errors.ConfigError` for shapes and settings or
    :class:`~landcarbon.errors.DataError` for values, naming the argument, the offending index and the
    fix): ``x_mean`` (n,), ``Xp`` (n, N) with N >= 2, ``H`` (m, n), ``y`` (m,), ``r`` (m,) > 0,
    ``rho`` (m, n) in [0, 1], ``hx_offset`` (m,), ``inflation`` > 0; every value finite.

    Returns
    -------
    (xm, X, H, y, r, rho, hx_offset) with X already multiplied by ``inflation``.
    """
    xm = _array(x_mean, "x_mean", 1, where)
    X = _array(Xp, "Xp", 2, where)
    H = _array(H, "H", 2, where)
    y = _array(y, "y", 1, where)
    r = _array(r, "r", 1, where)
    n = xm.shape[0]
    if n < 1:
        raise ConfigError(located("the state is empty (x_mean has no element)", where=where,
                                  fix="pass at least one state element"))
    if X.shape[0] != n:
        raise ConfigError(located(f"Xp has {X.shape[0]} rows but x_mean has {n} elements", where=where,
                                  fix="pass perturbations of shape (n, N)"))
    N = X.shape[1]
    if N < 2:
        raise ConfigError(located(f"the ensemble has {N} member(s); the sample covariance needs N >= 2",
                                  where=where, fix="use at least 2 members (tens to hundreds in practice)"))
    if H.shape[1] != n:
        raise ConfigError(located(f"H has {H.shape[1]} columns but the state has {n} elements", where=where,
                                  fix="H maps the state to the observations: shape (m, n)"))
    m = H.shape[0]
    for name, a in (("y", y), ("r", r)):
        if a.shape[0] != m:
            raise ConfigError(located(f"{name} has {a.shape[0]} elements but H has {m} rows", where=where,
                                      fix=f"give one {name} per observation (row of H)"))
    rho = np.ones((m, n)) if rho is None else _array(rho, "rho", 2, where)
    if rho.shape != (m, n):
        raise ConfigError(located(f"rho has shape {rho.shape}, expected (m, n) = ({m}, {n})", where=where,
                                  fix="give one localisation weight per (observation, state element)"))
    off = np.zeros(m) if hx_offset is None else _array(hx_offset, "hx_offset", 1, where)
    if off.shape[0] != m:
        raise ConfigError(located(f"hx_offset has {off.shape[0]} elements but H has {m} rows", where=where,
                                  fix="give one background value per observation"))
    try:
        inflation = float(inflation)
    except (TypeError, ValueError):
        raise ConfigError(located(f"inflation must be a number, got {inflation!r}", where=where,
                                  fix="use 1 for no inflation")) from None
    if not np.isfinite(inflation) or inflation <= 0:
        raise ConfigError(located(f"inflation must be finite and > 0, got {inflation}", where=where,
                                  fix="use 1 for no inflation, slightly above 1 to inflate"))
    for name, a in (("x_mean", xm), ("Xp", X), ("H", H), ("y", y), ("r", r), ("rho", rho),
                    ("hx_offset", off)):
        if not np.all(np.isfinite(a)):
            raise DataError(located(f"{name} contains NaN or inf (first at index {_first_bad(a)})", where=where,
                                    fix="drop missing observations (and their rows of H, r, rho) before the update"))
    if np.any(r <= 0):
        i = int(np.flatnonzero(r <= 0)[0])
        raise DataError(located(f"observation-error variance r[{i}] = {r[i]} is not > 0", where=where,
                                fix="r holds variances [ppm2]: square the 1-sigma errors, and never use 0"))
    if np.any((rho < 0) | (rho > 1)):
        raise DataError(located("localisation weights rho must lie in [0, 1]", where=where,
                                fix="use localization_weights() or a taper with values between 0 and 1"))
    X *= inflation
    return (xm, np.ascontiguousarray(X), np.ascontiguousarray(H), y, r, np.ascontiguousarray(rho), off)


def ensrf_update(x_mean, Xp, H, y, r, *, rho=None, inflation: float = 1.0, hx_offset=None):
    """One serial EnSRF analysis for a linear observation operator.

    Parameters
    ----------
    x_mean : (n,) prior mean; Xp : (n, N) prior perturbations (N >= 2); H : (m, n) linear operator;
    y : (m,) observations; r : (m,) observation-error variances (> 0); rho : (m, n) localisation in
    [0, 1] (None = 1); inflation : multiplicative inflation (> 0) of Xp before the update;
    hx_offset : (m,) background added to H x.

    Returns
    -------
    (x_mean_a, Xp_a) posterior mean and perturbations (new arrays).

    Raises
    ------
    ConfigError
        Inconsistent shapes (e.g. ``y`` longer than ``H`` has rows), fewer than 2 members, bad inflation.
    DataError
        NaN/inf anywhere, a variance ``r`` <= 0, ``rho`` outside [0, 1], or a numerically overflowing
        result. Every input is validated before the numba kernel runs, and the kernel re-checks the
        index ranges it uses, so no input can read or write outside the arrays.
    """
    localised = rho is not None
    xm, X, H, y, r, rho, off = check_update_inputs(x_mean, Xp, H, y, r, rho=rho, inflation=inflation,
                                                   hx_offset=hx_offset)
    return _ensrf_update_inplace(xm, X, H, y, r, rho, off, linear=not localised)


def _ensrf_update_inplace(xm, X, H, y, r, rho, hx_offset, where: str = "ensrf_update", linear: bool = False):
    """Run the serial kernel on validated arrays (``linear``: :func:`_kernels.ensrf_serial_linear`, no rho)."""
    X = np.ascontiguousarray(X)
    y = np.ascontiguousarray(y, dtype=float)
    r = np.ascontiguousarray(r, dtype=float)
    if linear:
        _kernels.ensrf_serial_linear(xm, X, np.ascontiguousarray(H), np.ascontiguousarray(hx_offset, dtype=float), y, r)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            hxm = H @ xm + hx_offset
            HX = np.ascontiguousarray(H @ X)
        _kernels.ensrf_serial(xm, X, hxm, HX, y, r, np.ascontiguousarray(rho, dtype=float), False)
    if not (np.all(np.isfinite(xm)) and np.all(np.isfinite(X))):
        raise DataError(located("the EnSRF update overflowed (non-finite posterior)", where=where,
                                fix="check the scales of H, y, r and the ensemble (values near the float limit)"))
    return xm, X


def ensrf_windows(M, obs_month, y, r, s_prior, Q, n_regions: int, n_months: int, N: int, seed,
                  nlag: int = 1, inflation: float = 1.0, rho_regions=None):
    """GCAS-like windowed EnSRF (two-step scheme) on a linear synthesis problem.

    Parameters
    ----------
    M : (m, n) transport operator with state order (month, region) then the initial concentration
        (as :meth:`ResponseFunctions.matrix`); obs_month : (m,) month of each observation;
    y, r : observations [ppm] and their error variances [ppm2]; s_prior, Q : prior mean and variances (n,);
    N : ensemble size; nlag : windows kept in the state (1 = GCAS filter, >1 = CTDAS-like smoother);
    inflation : multiplicative prior-perturbation inflation; rho_regions : (m, n_regions) localisation.

    Returns
    -------
    dict with ``mean`` (n,) posterior fluxes/initial value, ``sigma`` (n,) ensemble spread at the time each
    window was finalised, and ``members`` (n, N) final perturbations of each finalised window.
    """
    M = np.asarray(M, float)
    Q = np.asarray(Q, float)
    if Q.ndim != 1:
        raise ConfigError(located("ensrf_windows takes prior variances (diagonal Q)", where="ensrf_windows"))
    R_ = n_regions
    n = n_months * R_ + 1
    if M.shape[1] != n:
        raise ConfigError(located(f"M has {M.shape[1]} columns, expected {n}", where="ensrf_windows"))
    rng = np.random.default_rng(seed)
    final = np.array(s_prior, float, copy=True)
    final_sd = np.sqrt(Q.copy())
    final_pert = np.zeros((n, N))
    obs_month = np.asarray(obs_month, int)
    c0 = n - 1
    # state: c0 + window months [k, k+nlag-1]
    xm_c0 = s_prior[c0]
    X_c0 = make_ensemble(Q[[c0]], N, rng)[0]
    win_mean = {}
    win_X = {}

    def _new_window(t):
        sl = slice(t * R_, (t + 1) * R_)
        win_mean[t] = np.array(s_prior[sl], float)
        win_X[t] = make_ensemble(Q[sl], N, rng)

    for t in range(min(nlag, n_months)):
        _new_window(t)
    for k in range(n_months):
        active = [t for t in range(k, min(k + nlag, n_months))]
        assim_months = [k + nlag - 1] if k > 0 else list(range(min(nlag, n_months)))
        sel = np.flatnonzero(np.isin(obs_month, assim_months))
        if sel.size:
            cols = np.concatenate([np.arange(t * R_, (t + 1) * R_) for t in active] + [[c0]])
            xm = np.concatenate([win_mean[t] for t in active] + [[xm_c0]])
            X = np.vstack([win_X[t] for t in active] + [X_c0[None, :]]) * inflation
            # background from finalised windows (step 2 of the previous cycles: forward run with the
            # optimised fluxes) and from not-yet-active future windows at their prior (zero effect: the
            # observations precede them in time)
            fixed = np.arange(0, k * R_)
            off = M[np.ix_(sel, fixed)] @ final[fixed] if fixed.size else np.zeros(sel.size)
            H = M[np.ix_(sel, cols)]
            rho = np.ones((sel.size, cols.size))
            if rho_regions is not None:
                rr = np.asarray(rho_regions)[sel]
                rho[:, :-1] = np.tile(rr, (1, len(active)))
            xm, X = _ensrf_update_inplace(*check_update_inputs(xm, X, H, y[sel], np.asarray(r, float)[sel], rho=rho,
                                                               hx_offset=off, where="ensrf_windows"))
            for q, t in enumerate(active):
                win_mean[t] = xm[q * R_:(q + 1) * R_]
                win_X[t] = X[q * R_:(q + 1) * R_]
            xm_c0 = xm[-1]
            X_c0 = X[-1]
        # finalise window k (step 2: its optimised flux now drives the forward run of later windows)
        sl = slice(k * R_, (k + 1) * R_)
        final[sl] = win_mean.pop(k)
        Xk = win_X.pop(k)
        final_pert[sl] = Xk
        final_sd[sl] = Xk.std(axis=1, ddof=1)
        if k + nlag < n_months:
            _new_window(k + nlag)
    final[c0] = xm_c0
    final_pert[c0] = X_c0
    final_sd[c0] = X_c0.std(ddof=1)
    return {"mean": final, "sigma": final_sd, "members": final_pert}


def ensrf_transport_windows(model, patterns, obs, prior_flux, prior_sigma, periods_per_month: int, N: int, seed,
                            c0: float, inflation: float = 1.0, rho_regions=None, exact: bool = False):
    """GCAS-like EnSRF with sub-monthly windows driven directly by the transport model (two-step scheme).

    For each window w (``periods_per_month`` windows per month; 4 = ~weekly as in GCAS):

    1. *optimise*: the regional fluxes of the window (state x, prior mean = the month's prior flux,
       prior sigma = the monthly sigma * sqrt(p), i.e. independent window errors consistent with the
       monthly prior) are updated by the serial EnSRF with the window's observations. The simulated
       observations are H x + b: ``b`` is the window mean of the carried concentration field without
       optimised flux, ``H`` the window response of one basis tracer per region (by linearity this equals
       running every ensemble member through the model);
    2. *rerun forward*: the model is run once more through the window with the posterior-mean flux,
       starting from the carried field; the result is the initial field of the next window (the CO2 field
       is not an analysis variable).

    Parameters
    ----------
    model : TransportModel; patterns : (R, J, I) basis patterns (sum 1);
    obs : xr.Dataset (site, time) of window means: ``co2`` [ppm], ``co2_background`` (contribution of the
        prescribed fossil+fire fluxes, presubtracted here), ``co2_sigma``, ``latitude``, ``longitude``,
        ``level``, and attrs ``periods_per_month`` equal to ``periods_per_month``;
    prior_flux, prior_sigma : (n_months, R) [PgC yr-1]; c0 : initial well-mixed mixing ratio [ppm]
        (known here: the initial field is not optimised, as in GCAS);
    rho_regions : (S, R) localisation weights (None = no localisation).

    Returns
    -------
    dict: ``flux`` (n_windows, R) posterior means, ``members`` (n_windows, R, N) posterior perturbations,
    ``monthly`` (n_months, R) step-weighted monthly means, ``fit`` (n_windows, S) posterior simulated values.
    """
    p = int(periods_per_month)
    if int(obs.attrs.get("periods_per_month", 1)) != p:
        raise ConfigError(located("observations are not on the requested windows", where="ensrf_transport_windows",
                                  fix="simulate/average the observations with the same periods_per_month"))
    rng = np.random.default_rng(seed)
    P = np.asarray(patterns, float)
    R = P.shape[0]
    nm = np.asarray(prior_flux).shape[0]
    nw = nm * p
    cells = model.cell_index(obs["latitude"].values, obs["longitude"].values, obs["level"].values)
    y_all = obs["co2"].values - obs["co2_background"].values
    r_all = obs["co2_sigma"].values ** 2
    carried = np.full((1,) + model.shape, float(c0))
    basis0 = np.zeros((R,) + model.shape)
    flux = np.zeros((nw, R))
    members = np.zeros((nw, R, N))
    fit = np.zeros((nw, len(cells[0])))
    w_steps = np.diff(model.period_steps(p)).astype(float)
    for w in range(nw):
        mo, q = divmod(w, p)
        cal = mo % 12
        _, b = model.run_window(carried, None, cal, q, p, cells)
        _, H = model.run_window(basis0, P, cal, q, p, cells)          # (R, S)
        H = H.T
        y = y_all[:, w]
        ok = np.isfinite(y)
        xm = np.array(prior_flux[mo], float)
        sig = np.asarray(prior_sigma[mo], float) * np.sqrt(p)
        X = make_ensemble(sig ** 2, N, rng, exact=exact) * inflation
        rho = np.ones((ok.sum(), R)) if rho_regions is None else np.ascontiguousarray(np.asarray(rho_regions)[ok])
        xm, X = _ensrf_update_inplace(*check_update_inputs(xm, X, H[ok], y[ok], r_all[ok, w], rho=rho, hx_offset=b[0, ok],
                                                           where=f"ensrf_transport_windows, window {w}"))
        flux[w] = xm
        members[w] = X
        # step 2: rerun the transport with the optimised flux to carry the field into the next window
        carried, fit_w = model.run_window(carried, np.einsum("r,rji->ji", xm, P)[None], cal, q, p, cells)
        fit[w] = fit_w[0]
    wts = (w_steps / w_steps.sum())[None, :, None]
    monthly = (flux.reshape(nm, p, R) * wts).sum(axis=1)
    return {"flux": flux, "members": members, "monthly": monthly, "fit": fit, "window_weights": w_steps / w_steps.sum()}


def ensrf_window_systems(model, patterns, systems: dict, prior_flux, prior_sigma, periods_per_month: int, N: int,
                         seed, c0: float, *, inflation: float = 1.0, exact: bool = False) -> dict:
    """Several observing systems through the GCAS-like two-step EnSRF in lockstep (shared transport).

    The scheme of :func:`ensrf_transport_windows` (per window: optimise the window's regional fluxes with
    the window's observations, then carry the CO2 field forward with the optimised fluxes), generalised to
    column observations and run for several systems at once: every observation is
    ``sum_k w_k c(k, j, i)`` over the K layers of one model column (in situ: one layer with weight 1;
    satellites: the averaging-kernel weights of :mod:`landcarbon.atmosphere.satellite`). Per window the R
    basis tracers run once for all systems; each system's carried field is advanced without flux and the
    posterior flux is added by linearity, ``c_end = c_end(no flux) + sum_r x_r basis_end_r`` (exact for
    the linear transport). All systems use the same window ensembles (common random numbers).

    Parameters
    ----------
    model : TransportModel; patterns : (R, J, I) basis patterns;
    systems : dict name -> pandas.DataFrame with columns ``window``, ``j``, ``i`` (model cell), ``y``
        (observation minus the presubtracted background and operator constant) [ppm], ``r`` [ppm2] and
        ``w0`` .. ``w{K-1}`` (layer weights);
    prior_flux, prior_sigma : (n_months, R) [PgC yr-1]; window prior sigma = monthly sigma * sqrt(p);
    c0 : initial well-mixed mixing ratio [ppm] (known, as in GCAS).

    Returns
    -------
    dict: ``systems`` name -> {``flux`` (n_windows, R), ``members`` (n_windows, R, N), ``monthly`` (n_months, R),
    ``n_obs``}, ``window_weights`` (p,).
    """
    p = int(periods_per_month)
    P = np.asarray(patterns, float)
    P = P / P.sum(axis=(1, 2), keepdims=True)
    R = P.shape[0]
    K = model.nlev
    prior_flux = np.asarray(prior_flux, float)
    prior_sigma = np.asarray(prior_sigma, float)
    if prior_flux.shape != prior_sigma.shape or prior_flux.shape[1] != R:
        raise ConfigError(located(f"prior_flux {prior_flux.shape} and prior_sigma {prior_sigma.shape} must be "
                                  f"(n_months, {R})", where="ensrf_window_systems"))
    names = list(systems)
    for name in names:
        miss = {"window", "j", "i", "y", "r", *[f"w{k}" for k in range(K)]} - set(systems[name].columns)
        if miss:
            raise ConfigError(located(f"system {name!r} lacks column(s) {sorted(miss)}", where="ensrf_window_systems",
                                      fix="give window, j, i, y, r and one weight column per model layer"))
    nm = prior_flux.shape[0]
    nw = nm * p
    rng = np.random.default_rng(seed)
    T = len(names)
    carried = np.full((T,) + model.shape, float(c0))
    out = {n_: {"flux": np.zeros((nw, R)), "members": np.zeros((nw, R, N)), "n_obs": 0} for n_ in names}
    by_window = {n_: dict(tuple(systems[n_].groupby("window"))) for n_ in names}
    zero = np.zeros((R,) + model.shape)
    for w in range(nw):
        mo, q = divmod(w, p)
        cal = mo % 12
        rows = {n_: by_window[n_].get(w) for n_ in names}
        cols = sorted({(int(a), int(b)) for df in rows.values() if df is not None for a, b in zip(df["j"], df["i"])})
        col_index = {c: q_ for q_, c in enumerate(cols)}
        sk = np.repeat(np.arange(K)[None, :], len(cols), axis=0).ravel()
        sj = np.repeat([c[0] for c in cols], K)
        si = np.repeat([c[1] for c in cols], K)
        samples = (sk.astype(np.int64), np.asarray(sj, np.int64), np.asarray(si, np.int64))
        basis_end, Hs = model.run_window(zero, P, cal, q, p, samples)
        carried_nf, Bs = model.run_window(carried, None, cal, q, p, samples)
        sig = prior_sigma[mo] * np.sqrt(p)
        X0 = make_ensemble(sig ** 2, N, rng, exact=exact) * inflation
        for t, name in enumerate(names):
            df = rows[name]
            xm, X = prior_flux[mo].copy(), X0.copy()
            if df is not None and len(df):
                c = np.array([col_index[(int(a), int(b))] for a, b in zip(df["j"], df["i"])])
                Wk = df[[f"w{k}" for k in range(K)]].to_numpy(float)
                idx = c[:, None] * K + np.arange(K)[None, :]
                H = np.einsum("mk,rmk->mr", Wk, Hs[:, idx])
                b = np.einsum("mk,mk->m", Wk, Bs[t][idx])
                xm, X = _ensrf_update_inplace(*check_update_inputs(
                    xm, X, H, df["y"].to_numpy(float), df["r"].to_numpy(float), hx_offset=b,
                    where=f"ensrf_window_systems, system {name!r}, window {w}"), linear=True)
                out[name]["n_obs"] += len(df)
            out[name]["flux"][w] = xm
            out[name]["members"][w] = X
            carried[t] = carried_nf[t] + np.einsum("r,rkji->kji", xm, basis_end)
    steps = np.diff(model.period_steps(p)).astype(float)
    wts = steps / steps.sum()
    for name in names:
        out[name]["monthly"] = (out[name]["flux"].reshape(nm, p, R) * wts[None, :, None]).sum(axis=1)
    return {"systems": out, "window_weights": wts}
