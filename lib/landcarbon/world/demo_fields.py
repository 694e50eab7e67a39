"""Random smooth fields of the demo world (our formulation): standardised Gaussian-filtered noise on a
coarse 5-degree grid (lat clamped, lon periodic), bilinear interpolation to the land pixels, the monthly
anomaly fields of one year (temperature, precipitation, radiation, humidity) and the slow soil-water
storage anomaly. Each year draws from its own generator (seed, year), so values do not depend on the
requested window. Used by :mod:`landcarbon.world.demo`.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.ndimage import gaussian_filter

from .grid import grid_coords

_COARSE = 5.0           # deg, resolution of the random anomaly fields


def _coarse_grid():
    return grid_coords(_COARSE)


def _smooth(noise: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Smooth the last two axes (lat clamped, lon periodic) and re-standardise to unit variance."""
    sig = (0,) * (noise.ndim - 2) + (sigma, sigma)
    mode = ("nearest",) * (noise.ndim - 1) + ("wrap",)
    out = gaussian_filter(noise, sig, mode=mode)
    axes = (-2, -1)
    return (out - out.mean(axis=axes, keepdims=True)) / out.std(axis=axes, keepdims=True)


def _bilinear(lat: np.ndarray, lon: np.ndarray, glat: np.ndarray, glon: np.ndarray):
    """Flat indices (4, n) and weights (4, n) for bilinear interpolation from a regular global grid
    (lat clamped at the poles, lon periodic)."""
    dlat = glat[1] - glat[0]
    dlon = glon[1] - glon[0]
    fi = np.clip((lat - glat[0]) / dlat, 0, glat.size - 1)
    i0 = np.minimum(np.floor(fi).astype(int), glat.size - 2)
    wi = fi - i0
    fj = (lon - glon[0]) / dlon
    j0 = np.floor(fj).astype(int)
    wj = fj - j0
    j0 %= glon.size
    j1 = (j0 + 1) % glon.size
    n = glon.size
    idx = np.stack([i0 * n + j0, i0 * n + j1, (i0 + 1) * n + j0, (i0 + 1) * n + j1])
    w = np.stack([(1 - wi) * (1 - wj), (1 - wi) * wj, wi * (1 - wj), wi * wj])
    return idx, w


def _interp(field: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Apply bilinear weights to ``field`` (..., nlat, nlon) -> (..., npix)."""
    flat = field.reshape(field.shape[:-2] + (-1,))
    return (flat[..., idx[0]] * w[0] + flat[..., idx[1]] * w[1]
            + flat[..., idx[2]] * w[2] + flat[..., idx[3]] * w[3])


_N_ANOM = 4  # temperature, precipitation, radiation, humidity


@functools.lru_cache(maxsize=64)
def _year_anomalies(seed: int, year: int) -> np.ndarray:
    """Smooth monthly anomaly fields of one year (12, 4, nlat_c, nlon_c), unit variance.

    Per field: annual component (weight 0.5) + MA(1) of monthly white fields (0.7 now + 0.5
    previous month). Each year draws from its own generator (seed, year), so values do not depend
    on the requested window.
    """
    def draws(y):
        rng = np.random.default_rng([int(seed), 7, int(y)])
        glat, glon = _coarse_grid()
        white = _smooth(rng.standard_normal((12, _N_ANOM, glat.size, glon.size)), 1.2)
        annual = _smooth(rng.standard_normal((_N_ANOM, glat.size, glon.size)), 1.5)
        return white, annual

    white, annual = draws(year)
    prev_white, _ = draws(year - 1)
    lagged = np.concatenate([prev_white[-1:], white[:-1]], axis=0)
    out = 0.5 * annual[None] + 0.7 * white + 0.5 * lagged
    return (out / np.sqrt(0.25 + 0.49 + 0.25)).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _soil_anomaly(seed: int, year: int) -> np.ndarray:
    """Smooth soil-water storage anomaly of one year (nlat_c, nlon_c), unit variance (our formulation).

    Deep-layer / groundwater storage varies more slowly than the atmosphere: an MA(1) over years,
    a_y = (0.8 ε_y + 0.6 ε_{y-1}), of smooth white fields drawn from their own generator
    (seed, 9, year), so the other anomaly fields are unaffected and values do not depend on the
    requested window.
    """
    def draw(y):
        rng = np.random.default_rng([int(seed), 9, int(y)])
        glat, glon = _coarse_grid()
        return _smooth(rng.standard_normal((glat.size, glon.size)), 1.3)

    return (0.8 * draw(year) + 0.6 * draw(year - 1)).astype(np.float32)
