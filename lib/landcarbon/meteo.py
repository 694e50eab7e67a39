"""Near-surface humidity relations: saturation vapour pressure, vapour-pressure deficit, relative humidity.

One formula, one home: every module of the package (flux partitioning, the demo twins, the climate
loaders) takes saturation vapour pressure from here, with one set of coefficients.

Units: temperature [°C], vapour pressures and VPD [hPa], relative humidity [%].

The chosen formula is the Magnus form with the coefficients of Alduchov & Eskridge (1996) over liquid
water, recommended by them for −40…50 °C (relative error < 0.4 % against the Wexler/Hyland–Wexler
reference); it is also what the CRU TS vapour-pressure product and many flux-processing chains use.

References
----------
.. [1] Alduchov O.A., Eskridge R.E. (1996) Improved Magnus form approximation of saturation vapor
   pressure. J. Appl. Meteorol. 35, 601–609. doi:10.1175/1520-0450(1996)035<0601:IMFAOS>2.0.CO;2
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "MAGNUS_A_HPA", "MAGNUS_B", "MAGNUS_C_DEGC",
    "saturation_vapour_pressure", "saturation_vapour_pressure_scalar",
    "vpd_from_rh", "rh_from_vpd", "vpd_from_vapour_pressure", "relative_humidity",
]

#: Magnus coefficients of Alduchov & Eskridge (1996), over water: e_s = A exp(B T / (T + C)).
MAGNUS_A_HPA = 6.1094
MAGNUS_B = 17.625
MAGNUS_C_DEGC = 243.04


def saturation_vapour_pressure(t_degc):
    """Saturation vapour pressure over liquid water [hPa].

    Parameters
    ----------
    t_degc : array_like or xarray.DataArray
        Air temperature [°C].

    Returns
    -------
    e_s [hPa], same type and shape as ``t_degc``.

    Notes
    -----
    .. math:: e_s(T) = 6.1094\\,\\exp\\left(\\frac{17.625\\,T}{T + 243.04}\\right)

    Alduchov & Eskridge (1996), doi:10.1175/1520-0450(1996)035<0601:IMFAOS>2.0.CO;2.

    Examples
    --------
    >>> round(float(saturation_vapour_pressure(20.0)), 3)
    23.334
    >>> round(float(saturation_vapour_pressure(0.0)), 4)
    6.1094
    """
    return MAGNUS_A_HPA * np.exp(MAGNUS_B * t_degc / (t_degc + MAGNUS_C_DEGC))


@njit(cache=True)
def saturation_vapour_pressure_scalar(t_degc: float) -> float:  # pragma: no cover - numba twin
    """Scalar ``@njit`` twin of :func:`saturation_vapour_pressure` for kernels [hPa]."""
    return MAGNUS_A_HPA * np.exp(MAGNUS_B * t_degc / (t_degc + MAGNUS_C_DEGC))


def _clip(x, lo=None, hi=None):
    return x.clip(min=lo, max=hi) if hasattr(x, "clip") else np.clip(x, lo, hi)


def vpd_from_rh(t_degc, rh_percent):
    """Vapour-pressure deficit [hPa] from air temperature [°C] and relative humidity [%].

    .. math:: \\mathrm{VPD} = e_s(T)\\,(1 - \\mathrm{RH}/100)

    RH above 100 % (sensor overshoot) gives VPD = 0, not a negative deficit.

    Examples
    --------
    >>> round(float(vpd_from_rh(20.0, 50.0)), 3)
    11.667
    """
    return _clip(saturation_vapour_pressure(t_degc) * (1.0 - rh_percent / 100.0), lo=0.0)


def rh_from_vpd(t_degc, vpd_hpa):
    """Relative humidity [%] from air temperature [°C] and vapour-pressure deficit [hPa].

    .. math:: \\mathrm{RH} = 100\\,\\bigl(1 - \\mathrm{VPD}/e_s(T)\\bigr), \\text{ clipped to } [0, 100]

    The inverse of :func:`vpd_from_rh` (FLUXNET2015 files carry VPD but no RH).

    Examples
    --------
    >>> round(float(rh_from_vpd(20.0, vpd_from_rh(20.0, 63.0))), 10)
    63.0
    """
    return _clip(100.0 * (1.0 - vpd_hpa / saturation_vapour_pressure(t_degc)), lo=0.0, hi=100.0)


def vpd_from_vapour_pressure(t_degc, vap_hpa):
    """Vapour-pressure deficit [hPa] = max(e_s(T) − e, 0) from temperature [°C] and vapour pressure [hPa]."""
    return _clip(saturation_vapour_pressure(t_degc) - vap_hpa, lo=0.0)


def relative_humidity(t_degc, vap_hpa):
    """Relative humidity [%] = 100 · e / e_s(T) from temperature [°C] and vapour pressure [hPa], capped at 100."""
    return _clip(100.0 * vap_hpa / saturation_vapour_pressure(t_degc), hi=100.0)
