"""Numba kernels of the flux-footprint module.

Scalar twins of :mod:`landcarbon.footprint.ffp` (one formula, one home: the constants are imported
from there) and the kernel that sums thousands of 2-D footprints onto one grid (the footprint
climatology). Units: metres, m s⁻¹, degrees; footprints in m⁻².

The climatology kernel evaluates, for every valid time step t and grid cell (x_i, y_j),

    along = x_i sin θ_t + y_j cos θ_t,  cross = x_i cos θ_t − y_j sin θ_t,
    X* = along / Λ_t,  f = F*(X*) / Λ_t · exp(−cross² / (2 σ_y²)) / (√(2π) σ_y),
    σ_y = σ_y*(X*) · s_t,  s_t = z_m σ_v / (p_s u*),

exactly as :func:`landcarbon.footprint.ffp.footprint_2d`, but visits only the upwind half-plane of each
time step (along > d Λ_t, where F* = 0 otherwise) and skips cells with |cross| > n_σ σ_y (the Gaussian
there is below exp(−n_σ²/2), 1.3e-14 of its centre for n_σ = 8). Rows are processed in parallel
(``prange``); each row stays in cache while all time steps are added to it.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .ffp import FFP_A, FFP_AC, FFP_B, FFP_BC, FFP_C, FFP_CC, FFP_D, NEUTRAL_L_M

_SQRT_2PI = math.sqrt(2.0 * math.pi)


@njit(cache=True, nogil=True)
def psi_m_scalar(zm, ol):
    """ψ_M at z_m/L (scalar twin of :func:`landcarbon.footprint.ffp.psi_m`)."""
    if ol > 0.0 and ol < NEUTRAL_L_M:
        return -5.3 * zm / ol
    chi = (1.0 - 19.0 * zm / ol) ** 0.25
    return (math.log((1.0 + chi * chi) / 2.0) + 2.0 * math.log((1.0 + chi) / 2.0) - 2.0 * math.atan(chi)
            + math.pi / 2.0)


@njit(cache=True, nogil=True)
def fstar_scalar(xstar):
    """F*(X*) (scalar twin of :func:`landcarbon.footprint.ffp.fstar`)."""
    u = xstar - FFP_D
    if u <= 0.0:
        return 0.0
    return FFP_A * math.exp(FFP_B * math.log(u) - FFP_C / u)


@njit(cache=True, nogil=True)
def ffp_point(along, cross, lam, sig_scale):
    """f [m⁻²] at along-/crosswind distance [m] for length scale Λ [m] and σ_y scale s [m]."""
    xs = along / lam
    u = xs - FFP_D
    if u <= 0.0:
        return 0.0
    sig = FFP_AC * math.sqrt(FFP_BC * xs * xs / (1.0 + FFP_CC * xs)) * sig_scale
    return (FFP_A * math.exp(FFP_B * math.log(u) - FFP_C / u) / lam / (_SQRT_2PI * sig)
            * math.exp(-cross * cross / (2.0 * sig * sig)))


def _accumulate(out, x0, dx, y0, dy, sin_t, cos_t, lam, sig_scale, weight, nsigma):
    ny, nx = out.shape
    nt = sin_t.size
    if cos_t.size != nt or lam.size != nt or sig_scale.size != nt or weight.size != nt:
        raise ValueError("per-time-step arrays differ in length")
    if not (dx > 0.0 and dy > 0.0):
        raise ValueError("grid spacing must be positive")
    if not (nsigma > 0.0):
        raise ValueError("nsigma must be positive")
    for t in range(nt):
        if not (lam[t] > 0.0 and sig_scale[t] > 0.0) or not math.isfinite(lam[t] + sig_scale[t] + weight[t]):
            raise ValueError("length scale and sigma scale must be finite and positive")
    ac2bc = FFP_AC * FFP_AC * FFP_BC
    for j in prange(ny):
        y = y0 + j * dy
        for t in range(nt):
            s = sin_t[t]
            c = cos_t[t]
            lt = lam[t]
            inv_l = 1.0 / lt
            ss = sig_scale[t]
            w = weight[t] / (lt * _SQRT_2PI)
            lim = nsigma * nsigma * ac2bc * ss * ss  # cross² (1 + c_c X*) > lim X*²  <=>  |cross| > n_σ σ_y
            # (1) upwind of the start of F*: along = x s + y c > d Λ
            lo = x0 - dx
            hi = x0 + nx * dx
            rest = FFP_D * lt - y * c
            if s > 1e-12:
                lo = max(lo, rest / s)
            elif s < -1e-12:
                hi = min(hi, rest / s)
            elif rest >= 0.0:
                continue
            # (2) inside the parabola cross² <= P along that contains the n_σ wedge, since
            #     σ_y* <= a_c sqrt(b_c X*/c_c):  c² x² - (2 y s c + P s) x + y² s² - P y c <= 0
            pp = lim / FFP_CC * inv_l
            qa = c * c
            qb = -(2.0 * y * s * c + pp * s)
            qc = y * y * s * s - pp * y * c
            if qa > 1e-12:
                disc = qb * qb - 4.0 * qa * qc
                if disc < 0.0:
                    continue
                r = math.sqrt(disc)
                lo = max(lo, (-qb - r) / (2.0 * qa))
                hi = min(hi, (-qb + r) / (2.0 * qa))
            i0 = max(0, math.floor((lo - x0) / dx))
            i1 = min(nx, math.ceil((hi - x0) / dx) + 1)
            for i in range(i0, i1):
                x = x0 + i * dx
                xs = (x * s + y * c) * inv_l
                u = xs - FFP_D
                if u <= 0.0:
                    continue
                cross = x * c - y * s
                cr2 = cross * cross
                q = xs * xs
                den = 1.0 + FFP_CC * xs
                if cr2 * den > lim * q:
                    continue
                sig2 = ac2bc * q / den * ss * ss
                out[j, i] += w * math.exp(FFP_B * math.log(u) - FFP_C / u - cr2 / (2.0 * sig2)) * FFP_A / math.sqrt(sig2)


#: Row-parallel climatology kernel (numba threads).
accumulate_parallel = njit(cache=True, nogil=True, parallel=True)(_accumulate)
#: Serial twin, for callers that parallelise over sites themselves (dask threads).
accumulate_serial = njit(cache=True, nogil=True)(_accumulate)

