"""Lloyd & Taylor (1994) respiration model and its fits.

.. math:: R(T) = R_{ref} \\exp\\left(E_0\\left(\\frac{1}{T_{ref}-T_0} - \\frac{1}{T-T_0}\\right)\\right)

with T, Tref and T0 = −46.02 °C (227.13 K) in °C (only differences matter), E0 in K.
Lloyd J., Taylor J.A. (1994) On the temperature dependence of soil respiration. Functional
Ecology 8:315–323, doi:10.2307/2389824. The reference temperature is 15 °C as in REddyProc and
ONEFlux; predicted respiration does not depend on Tref, only the reported Rref does. Temperatures
below −40 °C are clamped to −40 °C (REddyProc ``pmax(-40, T)``) to stay away from the singularity.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ._kernels import T0_C, T_GUARD_C, TREF_C, lt_fit, rref_through_origin

__all__ = ["lloyd_taylor", "fit_lloyd_taylor", "fit_rref", "q10_from_e0", "T0_C", "TREF_C"]


def lloyd_taylor(t_c, rref, e0, tref_c: float = TREF_C, t0_c: float = T0_C):
    """Respiration [units of ``rref``, e.g. umol CO2 m-2 s-1] at temperature ``t_c`` [degC].

    Parameters
    ----------
    t_c : array-like or xarray.DataArray
        Temperature [degC] (clamped to >= −40 °C).
    rref : float or array
        Respiration at ``tref_c`` [umol m-2 s-1].
    e0 : float or array
        Activation temperature E0 [K] (100–400 K typical).
    tref_c, t0_c : float
        Reference and regression temperatures [degC] (15 and −46.02).

    Returns
    -------
    Same type as ``t_c``; an xarray input keeps its coords and gets ``units`` of umol m-2 s-1.
    Respiration is a release (positive, part of NEE = RECO − GPP).
    """
    t = np.maximum(np.asarray(t_c, dtype=float), T_GUARD_C)
    out = np.asarray(rref, dtype=float) * np.exp(np.asarray(e0, dtype=float) * (1.0 / (tref_c - t0_c) - 1.0 / (t - t0_c)))
    if isinstance(t_c, xr.DataArray):
        return xr.DataArray(out, coords=t_c.coords, dims=t_c.dims, name="RECO",
                            attrs={"units": "umol m-2 s-1", "long_name": "ecosystem respiration (Lloyd-Taylor)",
                                   "tref_degC": tref_c})
    return out


def fit_lloyd_taylor(t_c, reco, rref0: float = 2.0, e00: float = 200.0, tref_c: float = TREF_C,
                     maxit: int = 200) -> dict:
    """Non-linear least-squares fit of Rref and E0 (Levenberg–Marquardt, numba kernel).

    Start values Rref = 2, E0 = 200 K as REddyProc ``fOptimSingleE0``. Standard deviations as
    R ``summary.nls``: s²(JᵀJ)⁻¹ with s² = SSR/(n − 2).

    Returns dict(rref, e0, sd_rref, sd_e0, ssr, ok, tref_degC).
    """
    t = np.asarray(t_c, dtype=float)
    y = np.asarray(reco, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    r, e, sr, se, ssr, conv = lt_fit(t[ok], y[ok], float(rref0), float(e00), float(tref_c), int(maxit))
    return {"rref": r, "e0": e, "sd_rref": sr, "sd_e0": se, "ssr": ssr, "ok": bool(conv), "tref_degC": tref_c}


def fit_rref(t_c, reco, e0: float, tref_c: float = TREF_C) -> tuple[float, float]:
    """Rref [umol m-2 s-1] with E0 fixed: linear regression through the origin on f(T; E0)."""
    t = np.asarray(t_c, dtype=float)
    y = np.asarray(reco, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    return rref_through_origin(t[ok], y[ok], float(e0), float(tref_c))


def q10_from_e0(e0, t_c=15.0, t0_c: float = T0_C):
    """Equivalent Q10 at temperature ``t_c`` [degC]: exp(10 E0 / ((T−T0)(T+10−T0)))."""
    return np.exp(10.0 * np.asarray(e0) / ((t_c - t0_c) * (t_c + 10.0 - t0_c)))
