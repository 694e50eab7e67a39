"""Small climate relations shared by the loaders and the demo world (humidity, climate zones)."""
from __future__ import annotations

import numpy as np

# Humidity relations have one home, landcarbon.meteo; re-exported here for the loaders and the demo world.
from ..meteo import relative_humidity, saturation_vapour_pressure, vpd_from_vapour_pressure  # noqa: F401

__all__ = ["saturation_vapour_pressure", "vpd_from_vapour_pressure", "relative_humidity", "climate_zone"]


def climate_zone(mat) -> np.ndarray:
    """Climate zone by mean annual temperature [degC] as in the FLUXNET2015 respiration upscaling of Li et al.: boreal MAT < 2,
    temperate 2 <= MAT <= 17, tropical MAT > 17 (NaN MAT -> "unknown")."""
    mat = np.asarray(mat, dtype=float)
    z = np.where(mat < 2.0, "boreal", np.where(mat <= 17.0, "temperate", "tropical"))
    return np.where(np.isfinite(mat), z, "unknown")
