"""Small climate relations shared by the loaders and the demo world (humidity, climate zones)."""
from __future__ import annotations

import numpy as np

__all__ = ["saturation_vapour_pressure", "vpd_from_vapour_pressure", "relative_humidity", "climate_zone"]


def saturation_vapour_pressure(t_degc):
    """Saturation vapour pressure over water [hPa] at temperature ``t_degc`` [degC].

    Magnus form e_s = 6.1094 · exp(17.625 T / (T + 243.04)) (Alduchov & Eskridge 1996,
    doi:10.1175/1520-0450(1996)035<0601:IMFAOS>2.0.CO;2).
    """
    return 6.1094 * np.exp(17.625 * t_degc / (t_degc + 243.04))


def vpd_from_vapour_pressure(t_degc, vap_hpa):
    """Vapour-pressure deficit [hPa] = max(e_s(T) − e, 0) from temperature [degC] and vapour pressure [hPa]."""
    d = saturation_vapour_pressure(t_degc) - vap_hpa
    return d.clip(min=0) if hasattr(d, "clip") else np.clip(d, 0, None)


def relative_humidity(t_degc, vap_hpa):
    """Relative humidity [%] = 100 · e / e_s(T), capped at 100."""
    rh = 100.0 * vap_hpa / saturation_vapour_pressure(t_degc)
    return rh.clip(max=100.0) if hasattr(rh, "clip") else np.clip(rh, None, 100.0)


def climate_zone(mat) -> np.ndarray:
    """Climate zone by mean annual temperature [degC] as in the seed study: boreal MAT < 2,
    temperate 2 <= MAT <= 17, tropical MAT > 17 (NaN MAT -> "unknown")."""
    mat = np.asarray(mat, dtype=float)
    z = np.where(mat < 2.0, "boreal", np.where(mat <= 17.0, "temperate", "tropical"))
    return np.where(np.isfinite(mat), z, "unknown")
