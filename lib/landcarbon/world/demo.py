"""Demo world: a deterministic monthly global climate on the real land mask, a known "true"
ecosystem respiration (ER) field, and FLUXNET-like site observations of it.

Everything here is **our formulation** of a plausible synthetic world (a "digital twin" with a known
truth), not a climate model. Its purpose is to let the upscaling and trend chapters show how close a
method gets to the truth. Structure that the seed study reports for 1989–2018 is built in on purpose
(Li et al., seed 004, research content 2):

* drivers: warming (stronger in the northern high latitudes; ``warming`` 0.018–0.048 degC yr-1),
  slightly increasing precipitation (``_P_TREND`` = 0.2 % yr-1) and radiation (``_SW_TREND`` =
  0.1 W m-2 yr-1), fewer rain days (rain per wet day +``_WET_INTENSIFICATION`` = 0.8 % yr-1) and
  drying soils / falling relative humidity in temperate and tropical regions (SWC × (1 −
  ``_DRYING``·t), 0.8 % yr-1, ramped in from MAT 0 to 6 degC);
* soil-water storage has its own slow inter-annual anomaly (lognormal, sd ``_SOIL_SD`` = 0.2 in warm
  cells, MA(1) over years; :func:`_soil_anomaly`), so soil moisture is not a copy of the month's
  rainfall or air humidity;
* the true ER (:func:`er_true_model`) is water-limited with an exponent β(MAT) that grows from 0.3 in
  boreal to 2.0 in temperate/tropical climates. Consequences, measured on the 2-deg grid for seed
  2022 (tests/test_world_demo.py checks the signs): the global true ER declines significantly,
  boreal ER rises (warming), temperate and tropical ER fall (drying), and the partial-correlation
  attribution of detrended annual ER (``landcarbon.trends.partial_correlation``) is water-dominated
  on most temperate/tropical land and temperature-dominated in boreal cells.

Grid convention: cell centres, lat ascending, lon -180..180; Antarctica excluded (as CRU TS).
Time: monthly, stamped at the first day of the month (``attrs["time_label"] = "month start"``).

Memory: the gridded dataset is **lazy** (dask, one chunk per year, float32); only the land pixels
are generated (0.5 deg: ~62,000 land cells). Generation is pixel-wise deterministic, so the same
seed gives the same climate at every pixel whatever the requested year window, and (for the
large-scale structure) whatever the resolution.

Variables (units): TA, TMIN, TMAX, DTR [degC]; P [mm month-1]; PET [mm d-1]; VAP, VPD [hPa];
RH [%]; SW_IN [W m-2]; SWC [m3 m-3] (volumetric, 0-7 cm like ERA5 swvl1); SPEI [1]; FRS, WET
[days]; ER_true [gC m-2 d-1] (a flux *to* the atmosphere, positive; NEE = RECO - GPP convention);
static: PFT (code, see :data:`PFTS`), MAT [degC], MAP [mm yr-1], land (bool), area [m2].
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter
from scipy.special import ndtr

from ..errors import ConfigError, located
from .climate import climate_zone, saturation_vapour_pressure
from .grid import cell_area, grid_coords, land_fraction, land_mask

__all__ = ["PFTS", "PFT_BASE_RATE", "DRIVER_VARS", "demo_drivers", "demo_site_observations",
           "er_true_model", "water_sensitivity", "climate_zone"]

#: The 11 plant functional types of the FLUXNET2015 sites used in the seed (IGBP classes).
PFTS = ("ENF", "EBF", "DBF", "MF", "CSH", "OSH", "WSA", "SAV", "GRA", "CRO", "WET")
#: Base respiration at 15 degC, wet soil, no acclimation [gC m-2 d-1] per PFT (our formulation).
PFT_BASE_RATE = {"ENF": 2.6, "EBF": 4.0, "DBF": 3.0, "MF": 2.8, "CSH": 1.8, "OSH": 1.2,
                 "WSA": 2.6, "SAV": 2.2, "GRA": 2.0, "CRO": 2.8, "WET": 2.4}
DRIVER_VARS = ("TA", "TMIN", "TMAX", "DTR", "P", "PET", "VAP", "VPD", "RH", "SW_IN", "SWC", "SPEI",
               "FRS", "WET")
UNITS = {"TA": "degC", "TMIN": "degC", "TMAX": "degC", "DTR": "degC", "P": "mm month-1",
         "PET": "mm d-1", "VAP": "hPa", "VPD": "hPa", "RH": "%", "SW_IN": "W m-2", "SWC": "m3 m-3",
         "SPEI": "1", "FRS": "days", "WET": "days", "ER_true": "gC m-2 d-1"}
LONG_NAMES = {"TA": "air temperature", "TMIN": "mean daily minimum temperature",
              "TMAX": "mean daily maximum temperature", "DTR": "diurnal temperature range",
              "P": "precipitation", "PET": "potential evapotranspiration (Hargreaves)",
              "VAP": "vapour pressure", "VPD": "vapour pressure deficit", "RH": "relative humidity",
              "SW_IN": "incoming shortwave radiation", "SWC": "volumetric soil water content (top layer)",
              "SPEI": "SPEI-like standardised water-balance anomaly (3-month)", "FRS": "frost days",
              "WET": "wet days", "ER_true": "true ecosystem respiration"}

_REF_YEAR = 1989.0      # trends are zero at the start of 1989
_COARSE = 5.0           # deg, resolution of the random anomaly fields
_ER_SCALE = 2.6         # global calibration of ER_true (our formulation; ~117 PgC yr-1 in 1989-2018)
# Lloyd & Taylor (1994, doi:10.2307/2389824) parameters
_E0, _T0, _TREF = 308.56, -46.02, 15.0
# soil-water limitation of ER (our formulation, see er_true_model)
_K_W, _THETA_REF = 0.15, 0.40      # m3 m-3
_BETA_COLD, _BETA_WARM = 0.3, 2.0  # exponent of f_W in boreal / warm cells [1]
_SOIL_SD = 0.20                    # sd of the log soil-storage anomaly in warm cells [1]
_DRYING = 0.008                    # fractional SWC decline per year in temperate/tropical cells [yr-1]
_WET_INTENSIFICATION = 0.008       # fractional increase of rain per wet day per year [yr-1]
_P_TREND = 0.002                   # fractional precipitation increase per year [yr-1]
_SW_TREND = 0.10                   # surface brightening [W m-2 yr-1]


# ----------------------------------------------------------------------------------------------
# random smooth fields
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# static world
# ----------------------------------------------------------------------------------------------
class _World:
    """Static part of the demo world at one resolution (land pixels only)."""

    def __init__(self, seed: int, resolution: float):
        self.seed, self.resolution = int(seed), float(resolution)
        self.lat, self.lon = grid_coords(resolution)
        self.mask = land_mask(resolution)
        ii, jj = np.nonzero(self.mask)
        self.ii, self.jj = ii, jj
        plat, plon = self.lat[ii], self.lon[jj]
        self.plat, self.plon = plat, plon
        glat, glon = _coarse_grid()
        self.cidx, self.cw = _bilinear(plat, plon, glat, glon)
        rng = np.random.default_rng([int(seed), 1])
        stat = _smooth(rng.standard_normal((4, glat.size, glon.size)), 1.0)
        fT, fP, u1, u2 = _interp(stat, self.cidx, self.cw)
        # continentality: smoothed 1-deg land fraction (0 coast/ocean .. 1 interior)
        lf1 = land_fraction(1.0)
        cont = gaussian_filter(lf1, 4.0, mode=("nearest", "wrap"))
        l1, o1 = grid_coords(1.0)
        ci, cw = _bilinear(plat, plon, l1, o1)
        c = np.clip((_interp(cont, ci, cw) - 0.3) / 0.65, 0, 1)
        s = np.sin(np.deg2rad(plat))
        a = np.abs(plat)
        self.s, self.hemi = s, np.where(plat >= 0, 1.0, -1.0)
        self.MAT = 27.0 - 32.0 * s**2 - 6.0 * c * np.abs(s) + 2.0 * fT
        self.amp = 1.0 + 16.0 * np.abs(s) ** 1.5 * (0.4 + 0.8 * c)
        base = (300.0 + 1900.0 * np.exp(-(plat / 12.0) ** 2) + 700.0 * np.exp(-((a - 50.0) / 15.0) ** 2)
                - 250.0 * np.exp(-((a - 25.0) / 7.0) ** 2))
        self.MAP = np.clip(np.clip(base, 60.0, None) * np.exp(0.45 * fP) * (1.3 - 0.6 * c), 30.0, None)
        self.p_seas = 0.9 * np.exp(-((a - 12.0) / 10.0) ** 2) + 0.3 * c * (a > 30)
        self.warming = 0.018 + 0.03 * np.clip(s, 0, None) ** 2          # degC yr-1
        self.sigma_T = 0.4 + 1.6 * np.abs(s)                             # degC
        self.dry_ramp = np.clip(self.MAT / 6.0, 0.0, 1.0)               # temperate + tropical
        self.wclim = self.MAP / (self.MAP + 600.0)
        self.pft = _assign_pft(self.MAT, self.MAP, ndtr(u1), ndtr(u2))
        self.rref = np.array([PFT_BASE_RATE[p] for p in PFTS])[self.pft]

    @property
    def n_land(self) -> int:
        return self.ii.size


@functools.lru_cache(maxsize=4)
def _world(seed: int, resolution: float) -> _World:
    return _World(seed, resolution)


def _assign_pft(mat, map_, u1, u2) -> np.ndarray:
    """PFT index per pixel from mean annual temperature/precipitation and two random fields."""
    code = {p: i for i, p in enumerate(PFTS)}
    out = np.full(mat.shape, code["GRA"], dtype=np.int16)
    arid = map_ < 250
    trop = mat > 20
    temp = (mat >= 2) & (mat <= 20)
    bor = mat < 2
    out[arid] = code["OSH"]
    sel = trop & ~arid
    out[sel & (map_ > 1500)] = code["EBF"]
    mid = sel & (map_ > 900) & (map_ <= 1500)
    out[mid] = np.where(u1[mid] < 0.5, code["WSA"], code["SAV"])
    dry = sel & (map_ <= 900)
    out[dry] = np.where(map_[dry] > 500, code["SAV"], np.where(u1[dry] < 0.6, code["GRA"], code["CSH"]))
    sel = temp & ~arid
    wet = sel & (map_ > 700)
    out[wet] = np.select([u1[wet] < 0.3, u1[wet] < 0.55, u1[wet] < 0.85, u2[wet] > 0.93],
                         [code["DBF"], code["MF"], code["CRO"], code["WET"]], code["ENF"])
    dr = sel & (map_ <= 700)
    out[dr] = np.select([u1[dr] < 0.45, u1[dr] < 0.75], [code["GRA"], code["CRO"]], code["CSH"])
    sel = bor & ~arid
    out[sel] = np.where(map_[sel] > 350, np.select([u2[sel] > 0.9, u1[sel] < 0.75], [code["WET"], code["ENF"]],
                                                   code["MF"]), code["OSH"])
    return out


# ----------------------------------------------------------------------------------------------
# drivers and truth
# ----------------------------------------------------------------------------------------------
def _toa_insolation(lat_deg: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Daily-mean top-of-atmosphere insolation [W m-2] (S0 = 1361 W m-2; Cooper 1969 declination)."""
    phi = np.deg2rad(lat_deg)[None, :]
    dec = np.deg2rad(23.44) * np.sin(2 * np.pi * (284.0 + doy[:, None]) / 365.0)
    x = np.clip(-np.tan(phi) * np.tan(dec), -1.0, 1.0)
    h0 = np.arccos(x)
    return 1361.0 / np.pi * (h0 * np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.sin(h0))


_es_hpa = saturation_vapour_pressure


def water_sensitivity(MAT):
    """Exponent β of the soil-water limitation of ER [1] from mean annual temperature MAT [degC].

    β = β_cold + (β_warm − β_cold) · clip((MAT − 1) / 6, 0, 1), β_cold = 0.3, β_warm = 2.0 (our
    formulation): cold boreal soils are rarely water-limited, so their respiration follows
    temperature; in temperate and tropical soils microbial respiration and root activity fall steeply
    as the soil dries (the seed study's finding for 1989–2018; for the soil-moisture response of
    heterotrophic respiration see the review of Moyano, Manzoni & Chenu 2013, Soil Biol. Biochem. —
    DOI not verified here). The numbers are chosen, not fitted.
    """
    return _BETA_COLD + (_BETA_WARM - _BETA_COLD) * np.clip((np.asarray(MAT) - 1.0) / 6.0, 0.0, 1.0)


def er_true_model(TA, SWC, MAT, MAP, rref):
    """True monthly ER [gC m-2 d-1] of the demo world (our formulation; release > 0).

    ER = k · R_ref(PFT) · g(MAP) · f_T(T_acc) · f_W(θ, MAT) with

    * f_T = exp(E0 (1/(T_ref − T0) − 1/(T_acc − T0))) (Lloyd & Taylor 1994, doi:10.2307/2389824;
      E0 = 308.56 K, T0 = −46.02 °C, T_ref = 15 °C) of the thermally acclimated temperature
      T_acc = max(T − 0.4 · max(MAT − 10, 0), −40) [degC];
    * soil-water limitation f_W = {[θ/(θ + K_W)] / [θ_r/(θ_r + K_W)]}^β with θ the volumetric soil
      water content [m3 m-3], K_W = 0.15 m3 m-3, θ_r = 0.40 m3 m-3 and the zone-dependent exponent
      β(MAT) of :func:`water_sensitivity` (0.3 in boreal, 2.0 in warm climates), so that water
      controls ER in temperate and tropical cells and temperature in boreal cells;
    * productivity g = 0.35 + 0.65 (1 − exp(−MAP/800)), MAP in mm yr-1;
    * k = ``_ER_SCALE`` (global calibration to ~115 PgC yr-1 for 1989–2018), R_ref per PFT
      (:data:`PFT_BASE_RATE`, gC m-2 d-1).
    """
    tacc = np.maximum(TA - 0.4 * np.maximum(MAT - 10.0, 0.0), -40.0)
    f_t = np.exp(_E0 * (1.0 / (_TREF - _T0) - 1.0 / (tacc - _T0)))
    beta = water_sensitivity(MAT)
    f_w = ((SWC / (SWC + _K_W)) / (_THETA_REF / (_THETA_REF + _K_W))) ** beta
    g = 0.35 + 0.65 * (1.0 - np.exp(-MAP / 800.0))
    return _ER_SCALE * rref * g * f_t * f_w


def _generate(w: _World, months: pd.DatetimeIndex, pix: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Drivers and ER_true for ``months`` (month starts) at land pixels ``pix`` -> {var: (nt, npix)}."""
    sl = slice(None) if pix is None else pix
    lat = w.plat[sl]
    cidx, cw = w.cidx[:, sl], w.cw[:, sl]
    MAT, amp, MAP = w.MAT[sl], w.amp[sl], w.MAP[sl]
    hemi, ramp = w.hemi[sl], w.dry_ramp[sl]

    # include the two previous months for the 3-month soil-water / SPEI memory
    ext = pd.date_range(months[0] - pd.DateOffset(months=2), periods=len(months) + 2, freq="MS")
    years = ext.year.to_numpy()
    mo = ext.month.to_numpy() - 1
    dim = ext.days_in_month.to_numpy().astype(float)[:, None]
    tyr = (years + (mo + 0.5) / 12.0 - _REF_YEAR)[:, None]
    an = np.stack([_year_anomalies(w.seed, int(y))[m] for y, m in zip(years, mo)])  # (nt, 4, clat, clon)
    aT, aP, aR, aH = (_interp(an[:, k], cidx, cw) for k in range(_N_ANOM))
    uy, inv = np.unique(years, return_inverse=True)
    aS = _interp(np.stack([_soil_anomaly(w.seed, int(y)) for y in uy]), cidx, cw)[inv]  # (nt, npix)
    seas = hemi[None, :] * np.cos(2 * np.pi * ((mo + 0.5) - 6.5) / 12.0)[:, None]
    doy = ext.day_of_year.to_numpy() + ext.days_in_month.to_numpy() / 2.0

    TA_clim = MAT + amp * seas
    TA = TA_clim + w.warming[sl] * tyr + w.sigma_T[sl] * aT
    shape = np.clip(1.0 + w.p_seas[sl] * seas, 0.05, None)
    P_clim = MAP / 12.0 * shape
    sig_p = 0.35
    P = P_clim * np.exp(sig_p * aP - sig_p**2 / 2) * (1.0 + _P_TREND * tyr)
    Q = _toa_insolation(lat, doy)
    cl = P / (P + 50.0)
    SW = np.clip(Q * (0.78 - 0.38 * cl + 0.03 * aR) + _SW_TREND * tyr, 0.0, None)
    DTR = np.clip(7.0 + 7.0 * (1.0 - w.wclim[sl]) - 0.8 * aP + 0.5 * aR, 2.0, None)
    Ra = Q * 0.0353  # mm d-1 equivalent of the extraterrestrial radiation
    PET = np.clip(0.0023 * Ra * (TA + 17.8) * np.sqrt(DTR), 0.0, None)
    DTR_clim = 7.0 + 7.0 * (1.0 - w.wclim[sl])
    PET_clim = np.clip(0.0023 * Ra * (TA_clim + 17.8) * np.sqrt(DTR_clim), 0.0, None)

    def memory(x):  # 3-month weighted memory, aligned with `months`
        return 0.5 * x[2:] + 0.3 * x[1:-1] + 0.2 * x[:-2]

    r = P / (P + PET * dim + 1.0)
    wet3 = memory(r)
    t3 = tyr[2:]
    dry = 1.0 - _DRYING * ramp * t3
    storage = np.exp(_SOIL_SD * ramp * aS[2:] - (_SOIL_SD * ramp) ** 2 / 2)
    SWC = np.clip((0.04 + 0.42 * wet3**0.9) * dry * storage, 0.02, 0.48)
    RH = np.clip(20.0 + 65.0 * wet3**0.7 + 4.0 * aH[2:] - 0.12 * ramp * t3, 5.0, 99.0)
    D = P - PET * dim
    D_clim = P_clim - PET_clim * dim
    spei = memory((D - D_clim) / (0.35 * P_clim + 0.1 * PET_clim * dim + 5.0))
    TAm, DTRm, Pm, dimm = TA[2:], DTR[2:], P[2:], dim[2:]
    es = _es_hpa(TAm)
    VAP = RH / 100.0 * es
    TMIN = TAm - DTRm / 2
    out = {
        "TA": TAm, "TMIN": TMIN, "TMAX": TAm + DTRm / 2, "DTR": DTRm, "P": Pm, "PET": PET[2:],
        "VAP": VAP, "VPD": es - VAP, "RH": RH, "SW_IN": SW[2:], "SWC": SWC, "SPEI": spei,
        "FRS": dimm / (1.0 + np.exp(TMIN / 2.0)),
        "WET": dimm * 0.95 * (1.0 - np.exp(-Pm / (dimm * 6.0 * (1.0 + _WET_INTENSIFICATION * t3)))),
    }
    out["ER_true"] = er_true_model(TAm, SWC, MAT, MAP, w.rref[sl])
    return {k: v.astype(np.float32) for k, v in out.items()}


def _months(years) -> pd.DatetimeIndex:
    try:
        y0, y1 = (int(years[0]), int(years[1]))
    except (TypeError, IndexError, ValueError) as exc:
        raise ConfigError(located(f"years must be a pair (first, last), got {years!r}", where="demo world")) from exc
    if y1 < y0 or y0 < 1901 or y1 > 2100:
        raise ConfigError(located(f"invalid year range {years!r}", where="demo world",
                                  fix="use first <= last within 1901..2100"))
    return pd.date_range(f"{y0}-01-01", f"{y1}-12-01", freq="MS")


def _grid_block(seed, resolution, start, n, variables):
    w = _world(seed, resolution)
    months = pd.date_range(start, periods=n, freq="MS")
    vals = _generate(w, months)
    out = {}
    for v in variables:
        g = np.full((n, w.lat.size, w.lon.size), np.nan, dtype=np.float32)
        g[:, w.ii, w.jj] = vals[v]
        out[v] = g
    return out


def demo_drivers(seed: int, years=(1989, 2018), resolution: float = 0.5, *, variables=None,
                 chunk_years: int = 1, lazy: bool = True) -> xr.Dataset:
    """Deterministic monthly gridded drivers and the true ER of the demo world.

    Parameters
    ----------
    seed : int
        Seed of the world (same seed -> identical numbers).
    years : (int, int)
        First and last year (inclusive); monthly steps stamped at month start.
    resolution : float
        Grid spacing [deg] (0.5 = CRU TS grid; 2 for quick runs).
    variables : sequence of str, optional
        Subset of :data:`DRIVER_VARS` + ``"ER_true"`` (default: all).
    chunk_years : int
        Years per dask chunk (time); each chunk is generated independently.
    lazy : bool
        Return dask-backed variables (default) or load them.

    Returns
    -------
    xarray.Dataset
        (time, lat, lon) float32 variables with ``units``; NaN over ocean and Antarctica; static
        ``PFT`` (int code, -1 over ocean; names in ``attrs['flag_meanings']``), ``MAT`` [degC],
        ``MAP`` [mm yr-1] (1989 base climate of the generator), ``land`` (bool), ``area`` [m2].
        ``ER_true`` is ecosystem respiration [gC m-2 d-1] (positive = release to the atmosphere).
    """
    import dask
    import dask.array as dsa

    months = _months(years)
    w = _world(int(seed), float(resolution))
    allv = tuple(DRIVER_VARS) + ("ER_true",)
    variables = allv if variables is None else tuple(variables)
    bad = [v for v in variables if v not in allv]
    if bad:
        raise ConfigError(located(f"unknown demo variables {bad}", where="demo_drivers", fix=f"choose from {allv}"))
    shape2 = (w.lat.size, w.lon.size)
    step = 12 * max(int(chunk_years), 1)
    pieces = {v: [] for v in variables}
    for k in range(0, len(months), step):
        n = min(step, len(months) - k)
        start = months[k].strftime("%Y-%m-%d")
        name = f"demo-world-{seed}-{resolution}-{start}-{n}-{'.'.join(variables)}"
        blk = dask.delayed(_grid_block, pure=True, name=name)(int(seed), float(resolution), start, n, variables)
        for v in variables:
            pieces[v].append(dsa.from_delayed(blk[v], shape=(n,) + shape2, dtype=np.float32))
    coords = {"time": months, "lat": w.lat, "lon": w.lon}
    ds = xr.Dataset(coords=coords)
    for v in variables:
        arr = dsa.concatenate(pieces[v], axis=0)
        ds[v] = xr.DataArray(arr, dims=("time", "lat", "lon"),
                             attrs={"units": UNITS[v], "long_name": LONG_NAMES[v]})
    pft = np.full(shape2, -1, dtype=np.int16)
    pft[w.ii, w.jj] = w.pft
    ds["PFT"] = xr.DataArray(pft, dims=("lat", "lon"), attrs={
        "long_name": "plant functional type (IGBP) code", "flag_values": list(range(len(PFTS))),
        "flag_meanings": " ".join(PFTS), "missing_value": -1, "units": "1"})
    for name, vals, units in (("MAT", w.MAT, "degC"), ("MAP", w.MAP, "mm yr-1")):
        g = np.full(shape2, np.nan, dtype=np.float32)
        g[w.ii, w.jj] = vals
        ds[name] = xr.DataArray(g, dims=("lat", "lon"), attrs={"units": units, "long_name": f"{name} (1989 base climate)"})
    ds["land"] = xr.DataArray(w.mask, dims=("lat", "lon"), attrs={"long_name": "land mask (no Antarctica)"})
    ds["area"] = cell_area(w.lat, w.lon, w.resolution)
    ds.attrs.update({"title": "landcarbon demo world (synthetic, known truth)", "seed": int(seed),
                     "resolution_deg": float(resolution), "time_label": "month start",
                     "generator": "landcarbon.world.demo:demo_drivers", "truth": "ER_true"})
    if not lazy:
        ds = ds.load()
    return ds


# ----------------------------------------------------------------------------------------------
# flux sites
# ----------------------------------------------------------------------------------------------
#: FLUXNET2015-like regional shares of the site network (our approximation of the 2015 release:
#: mostly North America and Europe, few tropical sites).
SITE_REGIONS = (
    # name, country prefix, (lat0, lat1, lon0, lon1), share
    ("North America", "US", (25.0, 72.0, -170.0, -50.0), 0.38),
    ("Europe", "DE", (35.0, 72.0, -12.0, 45.0), 0.34),
    ("East Asia", "CN", (18.0, 55.0, 95.0, 150.0), 0.08),
    ("Australia", "AU", (-45.0, -10.0, 110.0, 155.0), 0.07),
    ("Africa", "ZA", (-35.0, 20.0, -20.0, 52.0), 0.04),
    ("Tropics", "BR", (-23.5, 23.5, -180.0, 180.0), 0.06),
    ("Other", "RU", (-60.0, 90.0, -180.0, 180.0), 0.03),
)


def _site_pixels(w: _World, n_sites: int, rng: np.random.Generator):
    region = np.full(w.n_land, len(SITE_REGIONS) - 1)
    for k, (_, _, (a0, a1, o0, o1), _) in reversed(list(enumerate(SITE_REGIONS[:-1]))):
        inside = (w.plat >= a0) & (w.plat <= a1) & (w.plon >= o0) & (w.plon <= o1)
        region[inside] = k
    # within a region, towers cluster in the accessible mid latitudes (our approximation)
    pref = np.where(np.abs(w.plat) < 30.0, 1.0, np.exp(-((np.abs(w.plat) - 45.0) / 10.0) ** 2) + 0.1)
    pref[w.plat > 72.0] = 0.0
    trop = (np.abs(w.plat) < 23.5) & (region == len(SITE_REGIONS) - 2)
    pref[trop] = w.MAP[trop] / 1000.0  # tropical towers sit mostly in humid forests
    prob = np.zeros(w.n_land)
    for k, (*_, share) in enumerate(SITE_REGIONS):
        sel = region == k
        if sel.any() and pref[sel].sum() > 0:
            prob[sel] = share * pref[sel] / pref[sel].sum()
    prob /= prob.sum()
    n = min(int(n_sites), w.n_land)
    pix = rng.choice(w.n_land, size=n, replace=False, p=prob)
    return np.sort(pix), region


def demo_site_observations(seed: int, n_sites: int = 200, years=(1989, 2018), resolution: float = 0.5, *,
                           record_years=(1991, 2014), noise: float = 0.10, site_bias: float = 0.10,
                           gap_fraction: float = 0.08) -> xr.Dataset:
    """FLUXNET-like monthly site observations of the demo world's true ER (the standard site table).

    Sites are land pixels of the world drawn with FLUXNET2015-like regional shares
    (:data:`SITE_REGIONS`); each site has a record of 2-15 years within ``record_years`` ∩ ``years``.
    Observations (our formulation): RECO_NT = ER_true · b_site · (1 + noise·ε₁) + 0.1·ε₂ with a
    lognormal site representativeness factor b_site (sd ``site_bias``), and RECO_DT = RECO_NT ·
    (1.01 + 0.05·ε₃); months outside the record and a random ``gap_fraction`` are NaN (−9999 in the
    files). Tower meteorology = grid-cell values + small noise.

    Returns
    -------
    xarray.Dataset
        dims (site, time): RECO_NT, RECO_DT, RECO_true [gC m-2 d-1, release > 0], NEE_QC [fraction],
        TA [degC], SW_IN [W m-2], VPD [hPa], P [mm d-1], SWC [%]; coords site (id), lat, lon, PFT (IGBP
        name), climate_zone, MAT [degC], MAP [mm yr-1], region. Same ``seed``/``years``/``resolution``
        -> same world as :func:`demo_drivers`.
    """
    months = _months(years)
    w = _world(int(seed), float(resolution))
    rng = np.random.default_rng([int(seed), 3, int(n_sites)])
    pix, region = _site_pixels(w, n_sites, rng)
    n = pix.size
    vals = _generate(w, months, pix)
    truth = vals["ER_true"].T.astype(float)  # (site, time)
    y_lo, y_hi = max(months[0].year, record_years[0]), min(months[-1].year, record_years[1])
    if y_lo > y_hi:
        y_lo, y_hi = months[0].year, months[-1].year
    length = np.clip(rng.geometric(1 / 6.0, n) + 1, 2, 15)
    length = np.minimum(length, y_hi - y_lo + 1)
    first = y_lo + (rng.random(n) * (y_hi - y_lo + 2 - length)).astype(int)
    yr = months.year.to_numpy()
    inrec = (yr[None, :] >= first[:, None]) & (yr[None, :] < (first + length)[:, None])
    gaps = rng.random(inrec.shape) < gap_fraction
    obs_ok = inrec & ~gaps
    b = np.exp(site_bias * rng.standard_normal(n) - site_bias**2 / 2)
    e1, e2, e3 = rng.standard_normal((3,) + truth.shape)
    nt = np.clip(truth * b[:, None] * (1 + noise * e1) + 0.1 * e2, 0.0, None)
    dt = nt * (1.01 + 0.05 * e3)
    nt[~obs_ok] = np.nan
    dt[~obs_ok] = np.nan
    qc = np.where(obs_ok, np.round(0.5 + 0.5 * rng.random(truth.shape), 3), np.nan)

    def met(v, sd):
        x = vals[v].T.astype(float) + sd * rng.standard_normal(truth.shape)
        return np.where(inrec, x, np.nan)

    dim = months.days_in_month.to_numpy()[None, :]
    pfts = np.array(PFTS)[w.pft[pix]]
    prefixes = [SITE_REGIONS[r][1] for r in region[pix]]
    ids = [f"{p}-{chr(65 + k // 676)}{chr(65 + (k // 26) % 26)}{chr(65 + k % 26)}"
           for k, p in enumerate(prefixes)]
    ds = xr.Dataset(
        {
            "RECO_NT": (("site", "time"), nt, {"units": "gC m-2 d-1", "long_name": "ER, night-time partitioning (demo)"}),
            "RECO_DT": (("site", "time"), dt, {"units": "gC m-2 d-1", "long_name": "ER, day-time partitioning (demo)"}),
            "RECO_true": (("site", "time"), truth, {"units": "gC m-2 d-1", "long_name": "true ER of the site's grid cell"}),
            "NEE_QC": (("site", "time"), qc, {"units": "1", "long_name": "fraction of good-quality data"}),
            "TA": (("site", "time"), met("TA", 0.3), {"units": "degC"}),
            "SW_IN": (("site", "time"), met("SW_IN", 5.0), {"units": "W m-2"}),
            "VPD": (("site", "time"), np.clip(met("VPD", 0.3), 0, None), {"units": "hPa"}),
            "P": (("site", "time"), np.clip(met("P", 5.0), 0, None) / dim, {"units": "mm d-1"}),
            "SWC": (("site", "time"), np.clip(met("SWC", 0.01), 0.01, None) * 100.0, {"units": "%"}),
        },
        coords={
            "site": np.array(ids), "time": months,
            "lat": ("site", w.plat[pix] + (rng.random(n) - 0.5) * w.resolution * 0.8, {"units": "degrees_north"}),
            "lon": ("site", w.plon[pix] + (rng.random(n) - 0.5) * w.resolution * 0.8, {"units": "degrees_east"}),
            "PFT": ("site", pfts), "climate_zone": ("site", climate_zone(w.MAT[pix])),
            "MAT": ("site", w.MAT[pix], {"units": "degC"}), "MAP": ("site", w.MAP[pix], {"units": "mm yr-1"}),
            "region": ("site", np.array([SITE_REGIONS[r][0] for r in region[pix]])),
        },
        attrs={"title": "landcarbon demo flux-site network (synthetic)", "seed": int(seed),
               "resolution_deg": float(resolution), "time_label": "month start", "truth": "RECO_true"},
    )
    return ds
