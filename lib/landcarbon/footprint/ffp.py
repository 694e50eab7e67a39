"""The flux footprint parameterisation FFP of Kljun et al. (2015).

A flux tower at height z_m "sees" the surface upwind of it with a weight f(x, y) [m⁻²] (the flux
footprint): the measured flux is ∫∫ f(x, y) · F_surface(x, y) dx dy. FFP fits the footprints of a
Lagrangian stochastic particle model with a few dimensionless functions:

* scaled along-wind distance (z0 form / u-mean form)

  .. math:: X^* = \\frac{x}{z_m}\\left(1-\\frac{z_m}{h}\\right)\\Big/\\left(\\ln\\frac{z_m}{z_0}-\\psi_M\\right)
            \\quad\\text{or}\\quad
            X^* = \\frac{x}{z_m}\\left(1-\\frac{z_m}{h}\\right)\\frac{u_*}{k\\,\\bar u(z_m)}

* scaled crosswind-integrated footprint (their eq. 14)

  .. math:: F^*(X^*) = a\\,(X^*-d)^{b}\\exp\\left(\\frac{-c}{X^*-d}\\right),\\quad
            a = 1.4524,\\ b = -1.9914,\\ c = 1.4622,\\ d = 0.1359

  with f^y(x) = F^* (1 − z_m/h) / (z_m (ln(z_m/z0) − ψ_M)) [m⁻¹]; peak at X*_max = −c/b + d;

* scaled crosswind dispersion σ_y* = a_c √(b_c X*² / (1 + c_c X*)), a_c = 2.17, b_c = 1.66, c_c = 20.0,
  with σ_y = σ_y* z_m σ_v / (p_s u*) and p_s = min(1, 10⁻⁵ |z_m/L|⁻¹ + p), p = 0.80 (L ≤ 0) or
  0.55 (L > 0); |L| > 5000 m counts as neutral (L = −10⁶ m);

* the 2-D footprint, Gaussian across the wind:
  f(x, y) = f^y(x) · exp(−y²/(2σ_y²)) / (√(2π) σ_y).

Stability correction of the wind profile ψ_M (as the authors' code): for 0 < L < 5000 m (stable)
ψ_M = −5.3 z_m/L; otherwise (unstable and near-neutral) χ = (1 − 19 z_m/L)^{1/4} and
ψ_M = ln((1+χ²)/2) + 2 ln((1+χ)/2) − 2 arctan χ + π/2.

Validity limits are those of the authors' code (FFP v1.42): u* > 0.1 m s⁻¹, z_m/L > −15.5,
z_m > 12.5 z0 (above the roughness sublayer), z_m ≤ h, h > 10 m, σ_v > 0, z_m > 0, 0 ≤ WD ≤ 360°.
The message of the authors' code says z_m/L "≥ −15.5" while the code rejects equality; we follow
the code.

All constants were checked against the authors' Python code (``calc_footprint_FFP.py`` v1.42,
N. Kljun and G. Fratini) and the paper; the tests pin the paper's example numbers and run the
authors' code (package ``pyffp``) side by side when it is installed.

Coordinates: x towards the east, y towards the north, tower at (0, 0); the wind direction WD is
where the wind comes FROM (meteorological, degrees clockwise from north), so the footprint lies
towards WD from the tower. z_m is the measurement height above the displacement height (z − d).

References
----------
.. [1] Kljun N., Calanca P., Rotach M.W., Schmid H.P. (2015) A simple two-dimensional
   parameterisation for Flux Footprint Prediction (FFP). Geosci. Model Dev. 8, 3695–3713,
   doi:10.5194/gmd-8-3695-2015
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, located

__all__ = [
    "FFP_A", "FFP_B", "FFP_C", "FFP_D", "FFP_AC", "FFP_BC", "FFP_CC", "VON_KARMAN", "NEUTRAL_L_M",
    "ZM_OVER_L_MIN", "USTAR_MIN", "ROUGHNESS_SUBLAYER_FACTOR", "H_MIN_M", "XSTAR_PEAK", "FSTAR_INTEGRAL",
    "FootprintValidityError", "VALIDITY_FLAGS",
    "psi_m", "length_scale", "fstar", "sigma_y_star", "crosswind_scale", "peak_distance",
    "crosswind_integrated", "crosswind_cdf", "fetch_distance", "footprint_2d", "validity_flags",
    "validate_inputs", "describe_flags",
]

#: Fitted constants of F*(X*) (Kljun et al. 2015, eq. 14).
FFP_A, FFP_B, FFP_C, FFP_D = 1.4524, -1.9914, 1.4622, 0.1359
#: Fitted constants of the scaled crosswind dispersion σ_y*(X*).
FFP_AC, FFP_BC, FFP_CC = 2.17, 1.66, 20.0
#: von Kármán constant used by FFP.
VON_KARMAN = 0.4
#: |L| above which the authors' code treats the flow as neutral [m].
NEUTRAL_L_M = 5000.0
#: Validity limits of the authors' code.
ZM_OVER_L_MIN = -15.5
USTAR_MIN = 0.1
ROUGHNESS_SUBLAYER_FACTOR = 12.5
H_MIN_M = 10.0
#: Scaled distance of the footprint peak, X*_max = −c/b + d.
XSTAR_PEAK = -FFP_C / FFP_B + FFP_D
#: ∫ F*(X*) dX* over (d, ∞) = a c^(b+1) Γ(−b−1) = 1.00157: the fitted constants make the footprint
#: integrate to 1 within 0.16 %.
FSTAR_INTEGRAL = FFP_A * FFP_C ** (FFP_B + 1.0) * math.gamma(-FFP_B - 1.0)


class FootprintValidityError(DataError):
    """Inputs outside the validity range of FFP (the message names the limit)."""


#: Bit flags of :func:`validity_flags` (0 = valid), with the limit each one names.
VALIDITY_FLAGS = {
    1: "missing input (no value)",
    2: "zm must be > 0 m (measurement height above displacement)",
    4: "z0 must be > 0 m (roughness length)",
    8: f"h must be > {H_MIN_M:g} m (boundary-layer height)",
    16: "zm must be <= h (measurement inside the boundary layer)",
    32: f"zm must be > {ROUGHNESS_SUBLAYER_FACTOR:g} z0 (above the roughness sublayer)",
    64: f"zm/L must be > {ZM_OVER_L_MIN:g} (stability limit)",
    128: "sigma_v must be > 0 m/s",
    256: f"u* must be > {USTAR_MIN:g} m/s",
    512: "wind direction must be within 0..360 degrees",
    1024: "ln(zm/z0) - psi_M (or k umean/u*) must be > 0",
}


def _arr(v):
    return np.asarray(v, dtype=float)


def psi_m(zm_m, obukhov_length_m):
    """Integrated stability correction of the wind profile ψ_M [1] at z_m/L.

    Parameters
    ----------
    zm_m : array_like
        Measurement height above displacement [m].
    obukhov_length_m : array_like
        Obukhov length L [m]; L ≤ 0 unstable, 0 < L < 5000 m stable, |L| ≥ 5000 m near-neutral.

    Returns
    -------
    numpy.ndarray
        ψ_M: −5.3 z_m/L for 0 < L < 5000 m; ln((1+χ²)/2) + 2 ln((1+χ)/2) − 2 arctan χ + π/2 with
        χ = (1 − 19 z_m/L)^{1/4} otherwise (Kljun et al. 2015, as their code).

    Examples
    --------
    >>> round(float(psi_m(20.0, -100.0)), 4)
    0.515
    >>> round(float(psi_m(20.0, 100.0)), 4)
    -1.06
    """
    zm, ol = np.broadcast_arrays(_arr(zm_m), _arr(obukhov_length_m))
    zeta = zm / ol
    stable = (ol > 0) & (ol < NEUTRAL_L_M)
    with np.errstate(invalid="ignore"):
        chi = np.power(np.where(stable, 1.0, 1.0 - 19.0 * zeta), 0.25)
        unstable = (np.log((1 + chi**2) / 2.0) + 2.0 * np.log((1 + chi) / 2.0) - 2.0 * np.arctan(chi) + np.pi / 2)
    return np.where(stable, -5.3 * zeta, unstable)


def length_scale(*, zm_m, h_m, obukhov_length_m=None, z0_m=None, umean_ms=None, ustar_ms=None):
    """Λ [m] such that x = X* Λ: Λ = z_m/(1 − z_m/h) · (ln(z_m/z0) − ψ_M)  (or · k ū/u*).

    Give ``z0_m`` (with ``obukhov_length_m``) or ``umean_ms`` with ``ustar_ms``; ``z0_m`` wins when both
    are given (as in the authors' code). Non-positive values mean the inputs are outside FFP's range.
    """
    zm, h = _arr(zm_m), _arr(h_m)
    if z0_m is not None:
        if obukhov_length_m is None:
            raise DataError(located("length_scale with z0 needs obukhov_length_m", where="landcarbon.footprint.ffp"))
        with np.errstate(divide="ignore", invalid="ignore"):
            profile = np.log(zm / _arr(z0_m)) - psi_m(zm, obukhov_length_m)
    elif umean_ms is not None and ustar_ms is not None:
        profile = VON_KARMAN * _arr(umean_ms) / _arr(ustar_ms)
    else:
        raise DataError(located("give z0_m (roughness length) or umean_ms and ustar_ms", where="length_scale",
                                fix="pass z0_m=..., or umean_ms=... and ustar_ms=..."))
    return zm / (1.0 - zm / h) * profile


def fstar(xstar):
    """Scaled crosswind-integrated footprint F*(X*) [1] (Kljun et al. 2015, eq. 14); 0 for X* ≤ d.

    Examples
    --------
    >>> round(float(fstar(XSTAR_PEAK)), 4)
    0.3668
    """
    x = _arr(xstar)
    u = x - FFP_D
    pos = u > 0
    us = np.where(pos, u, 1.0)
    return np.where(pos, FFP_A * np.exp(FFP_B * np.log(us) - FFP_C / us), 0.0)


def sigma_y_star(xstar):
    """Scaled crosswind dispersion σ_y*(X*) = a_c √(b_c X*² / (1 + c_c X*)) [1]."""
    x = np.abs(_arr(xstar))
    return FFP_AC * np.sqrt(FFP_BC * x * x / (1.0 + FFP_CC * x))


def crosswind_scale(zm_m, obukhov_length_m):
    """p_s = min(1, 10⁻⁵ |z_m/L|⁻¹ + p), p = 0.80 for L ≤ 0 (|L| > 5000 m → L = −10⁶ m) and 0.55 for L > 0.

    σ_y = σ_y* · z_m σ_v / (p_s u*) (the authors' code, "scale_const").
    """
    zm, ol = np.broadcast_arrays(_arr(zm_m), _arr(obukhov_length_m))
    ol = np.where(np.abs(ol) > NEUTRAL_L_M, -1e6, ol)
    p = np.where(ol <= 0, 0.80, 0.55)
    with np.errstate(divide="ignore"):
        return np.minimum(1e-5 / np.abs(zm / ol) + p, 1.0)


def peak_distance(*, zm_m, h_m, obukhov_length_m=None, z0_m=None, umean_ms=None, ustar_ms=None):
    """Distance of the footprint peak from the tower [m]: x_max = X*_max Λ, X*_max = −c/b + d = 0.8702.

    Examples
    --------
    >>> round(float(peak_distance(zm_m=20, h_m=2000, obukhov_length_m=-100, z0_m=0.1)), 2)
    84.08
    """
    return XSTAR_PEAK * length_scale(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, z0_m=z0_m,
                                     umean_ms=umean_ms, ustar_ms=ustar_ms)


def crosswind_integrated(x_m, *, zm_m, h_m, obukhov_length_m=None, z0_m=None, umean_ms=None, ustar_ms=None):
    """Crosswind-integrated footprint f^y(x) = F*(x/Λ)/Λ [m⁻¹] at along-wind distance ``x_m`` [m]."""
    lam = length_scale(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, z0_m=z0_m, umean_ms=umean_ms,
                       ustar_ms=ustar_ms)
    return fstar(_arr(x_m) / lam) / lam


def crosswind_cdf(x_m, *, zm_m, h_m, obukhov_length_m=None, z0_m=None, umean_ms=None, ustar_ms=None):
    """Fraction of the footprint within along-wind distance ``x_m`` [1] (exact, our derivation).

    .. math:: \\int_d^{X^*} F^*\\,dX' = a\\,c^{b+1}\\,\\Gamma(-b-1)\\,Q\\left(-b-1, \\frac{c}{X^*-d}\\right)

    with Q the regularised upper incomplete gamma function (substitute t = c/(X' − d)). Tends to
    :data:`FSTAR_INTEGRAL` = 1.00157 far from the tower. Kljun et al. (2015) give the approximation
    X*_R ≈ −c/ln R + d for the distance containing R of the footprint.
    """
    from scipy.special import gammaincc

    lam = length_scale(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, z0_m=z0_m, umean_ms=umean_ms,
                       ustar_ms=ustar_ms)
    u = _arr(x_m) / lam - FFP_D
    pos = u > 0
    q = gammaincc(-FFP_B - 1.0, FFP_C / np.where(pos, u, 1.0))
    return np.where(pos, FSTAR_INTEGRAL * q, 0.0)


def fetch_distance(r, *, zm_m, h_m, obukhov_length_m=None, z0_m=None, umean_ms=None, ustar_ms=None):
    """Along-wind distance [m] within which a fraction ``r`` (0 < r < 1.0015) of the footprint lies.

    Exact inverse of :func:`crosswind_cdf` (scipy ``gammainccinv``).

    Examples
    --------
    >>> round(float(fetch_distance(0.8, zm_m=20, h_m=2000, obukhov_length_m=-100, z0_m=0.1)), 0)
    654.0
    """
    from scipy.special import gammainccinv

    r = _arr(r)
    if np.any((r <= 0) | (r >= FSTAR_INTEGRAL)):
        raise DataError(located(f"fraction r must be in (0, {FSTAR_INTEGRAL:.5f})", where="fetch_distance",
                                fix="pass e.g. r=0.8 for the 80 % fetch"))
    lam = length_scale(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, z0_m=z0_m, umean_ms=umean_ms,
                       ustar_ms=ustar_ms)
    t = gammainccinv(-FFP_B - 1.0, r / FSTAR_INTEGRAL)
    return (FFP_C / t + FFP_D) * lam


def footprint_2d(x_m, y_m, *, zm_m, h_m, obukhov_length_m, sigma_v_ms, ustar_ms, wind_dir_deg=0.0, z0_m=None,
                 umean_ms=None):
    """The 2-D footprint f(x, y) [m⁻²] at points (x east, y north) [m] around a tower at (0, 0).

    NumPy reference implementation (the climatology kernel's scalar twin is
    :func:`landcarbon.footprint._kernels.ffp_point`); one time step, scalar turbulence inputs.

    Parameters
    ----------
    x_m, y_m : array_like
        Coordinates [m] (broadcast together).
    zm_m, h_m, obukhov_length_m : float
        Measurement height above displacement, boundary-layer height and Obukhov length [m].
    sigma_v_ms, ustar_ms : float
        Standard deviation of the crosswind velocity and friction velocity [m s⁻¹].
    wind_dir_deg : float
        Direction the wind comes from [deg clockwise from north].
    z0_m, umean_ms : float, optional
        Roughness length [m], or mean wind speed at z_m [m s⁻¹] when z0 is unknown.

    Returns
    -------
    numpy.ndarray
        f [m⁻²]; 0 downwind of the tower and for X* ≤ d.
    """
    validate_inputs(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, sigma_v_ms=sigma_v_ms,
                    ustar_ms=ustar_ms, wind_dir_deg=wind_dir_deg, z0_m=z0_m, umean_ms=umean_ms)
    x, y = np.broadcast_arrays(_arr(x_m), _arr(y_m))
    th = np.deg2rad(float(wind_dir_deg))
    along = x * np.sin(th) + y * np.cos(th)
    cross = x * np.cos(th) - y * np.sin(th)
    lam = float(length_scale(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, z0_m=z0_m, umean_ms=umean_ms,
                             ustar_ms=ustar_ms))
    xs = along / lam
    fy = fstar(xs) / lam
    sig = sigma_y_star(xs) * zm_m * sigma_v_ms / (float(crosswind_scale(zm_m, obukhov_length_m)) * ustar_ms)
    inside = xs > FFP_D
    sig = np.where(inside, sig, 1.0)
    return np.where(inside, fy / (np.sqrt(2 * np.pi) * sig) * np.exp(-cross**2 / (2 * sig**2)), 0.0)


def validity_flags(*, zm_m, h_m, obukhov_length_m, sigma_v_ms, ustar_ms, wind_dir_deg=0.0, z0_m=None,
                   umean_ms=None):
    """Bit flags [int] of the validity checks per time step (0 = valid); meanings in :data:`VALIDITY_FLAGS`."""
    arrays = np.broadcast_arrays(_arr(zm_m), _arr(h_m), _arr(obukhov_length_m), _arr(sigma_v_ms), _arr(ustar_ms),
                                 _arr(wind_dir_deg), _arr(np.nan if z0_m is None else z0_m),
                                 _arr(np.nan if umean_ms is None else umean_ms))
    zm, h, ol, sv, us, wd, z0, um = arrays
    use_z0 = z0_m is not None
    flags = np.zeros(zm.shape, dtype=np.int64)
    need = [zm, h, sv, us, wd] + ([z0] if use_z0 else [um])
    missing = np.isnan(ol)  # L = ±inf is exactly neutral (z_m/L = 0), as ZL = 0 gives
    for a in need:
        missing |= ~np.isfinite(a)
    flags |= np.where(missing, 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        flags |= np.where(zm <= 0, 2, 0)
        if use_z0:
            flags |= np.where(z0 <= 0, 4, 0)
            flags |= np.where(zm <= ROUGHNESS_SUBLAYER_FACTOR * z0, 32, 0)
        flags |= np.where(h <= H_MIN_M, 8, 0)
        flags |= np.where(zm > h, 16, 0)
        flags |= np.where(zm / ol <= ZM_OVER_L_MIN, 64, 0)
        flags |= np.where(sv <= 0, 128, 0)
        flags |= np.where(us <= USTAR_MIN, 256, 0)
        flags |= np.where((wd < 0) | (wd > 360), 512, 0)
        if use_z0:
            prof = np.log(zm / z0) - psi_m(zm, ol)
        else:
            prof = VON_KARMAN * um / us
        flags |= np.where(~missing & ~(prof > 0), 1024, 0)
    return flags


def describe_flags(flags) -> list[str]:
    """The limits named by one flag value (or the union over an array of flags)."""
    f = int(np.bitwise_or.reduce(np.atleast_1d(np.asarray(flags, dtype=np.int64)).ravel()))
    return [msg for bit, msg in VALIDITY_FLAGS.items() if f & bit]


def validate_inputs(*, zm_m, h_m, obukhov_length_m, sigma_v_ms, ustar_ms, wind_dir_deg=0.0, z0_m=None,
                    umean_ms=None, where: str = "FFP inputs") -> None:
    """Raise :class:`FootprintValidityError` naming every violated limit (single time step or arrays)."""
    if z0_m is None and umean_ms is None:
        raise FootprintValidityError(located("neither z0 nor umean given", where=where,
                                             fix="pass z0_m (roughness length) or umean_ms (mean wind speed at zm)"))
    flags = validity_flags(zm_m=zm_m, h_m=h_m, obukhov_length_m=obukhov_length_m, sigma_v_ms=sigma_v_ms,
                           ustar_ms=ustar_ms, wind_dir_deg=wind_dir_deg, z0_m=z0_m, umean_ms=umean_ms)
    bad = np.atleast_1d(flags) != 0
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        vals = dict(zm=zm_m, h=h_m, L=obukhov_length_m, sigma_v=sigma_v_ms, ustar=ustar_ms, wd=wind_dir_deg,
                    z0=z0_m, umean=umean_ms)
        shown = ", ".join(f"{k}={np.atleast_1d(v).ravel()[first if np.size(v) > 1 else 0]:g}"
                          for k, v in vals.items() if v is not None)
        raise FootprintValidityError(located(
            "outside the validity range of FFP (Kljun et al. 2015): " + "; ".join(describe_flags(flags)),
            where=f"{where}, {int(bad.sum())} of {bad.size} time step(s), first at index {first} ({shown})",
            fix="drop these time steps (footprint_climatology skips and counts them) or check units: "
                "heights in m above the displacement height, velocities in m/s, L in m"))

