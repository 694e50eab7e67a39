"""Demo world: a deterministic monthly global climate on the real land mask, a known "true"
ecosystem respiration (ER) field (and the ER each flux-partitioning method would report), a true GPP and
NEP, and FLUXNET-like site observations of them.

Everything here is **our formulation** of a plausible synthetic world (a "digital twin" with a known
truth), not a climate model. Its purpose is to let the upscaling and trend chapters show how close a
method gets to the truth. Structure reported for 1989–2018 by the study the chapters follow (Li et al.,
FLUXNET2015 upscaling with DT-RH partitioning) is built in on purpose:

* drivers: warming (stronger in the northern high latitudes; ``warming`` 0.018–0.048 degC yr-1),
  slightly increasing precipitation (``_P_TREND`` = 0.2 % yr-1) and radiation (``_SW_TREND`` =
  0.1 W m-2 yr-1), fewer rain days (rain per wet day +``_WET_INTENSIFICATION`` = 0.8 % yr-1) and
  drying soils / falling relative humidity in temperate and tropical regions (SWC × (1 −
  ``_DRYING``·(1 + ``_DRY_MID``·mid-latitude weight)·t) = 0.32–0.64 % yr-1, ramped in from MAT 0 to
  6 degC);
* soil-water storage has its own slow inter-annual anomaly (lognormal, sd ``_SOIL_SD`` in warm
  cells, MA(1) over years; :func:`landcarbon.world.demo_fields._soil_anomaly`), so soil moisture is
  not a copy of the month's rainfall or air humidity and annual ER is positively autocorrelated;
* the true ER (:func:`er_true_model`) is water-limited with an exponent β(MAT) that grows from 0.3 in
  boreal to 2.0 in temperate/tropical climates.

**What the twin was tuned to, and why** (measured on the 2-degree grid for seed 2022, 1989–2018; the
tests in tests/test_world_demo.py check them). The study reports global ER of 115.51 ± 0.31 (FLUXCOM
NT), 116.21 ± 0.31 (DT) and 122.77 ± 0.73 PgC yr-1 (its DT-RH upscaling; mean ± SD of the 30 annual
values), a significant decline 1989–2018 with rising boreal and falling temperate/tropical ER, and
water-dominated variability outside the boreal zone. An earlier version of this twin had an
inter-annual SD of 5.6 PgC yr-1 and a trend of −0.51 PgC yr-2, which no SD near 0.7 over 30 years allows,
so the anomaly amplitudes and the drying rate were reduced until:

* the global mean of ``ER_true`` (the night-time, NT, definition) is 115.5 PgC yr-1 (``_ER_SCALE``);
* the SD of the annual global totals is ~0.8 PgC yr-1 (0.71–0.85 over seeds 1, 7, 11, 2022), from
  ``_SOIL_SD`` = 0.035, ``_P_ANOM_SD`` = 0.06, ``_T_ANOM`` = 0.2 — small local anomalies (a few %) whose
  global sum does not average away entirely;
* the global trend is about −0.06 PgC yr-2 (−0.03 to −0.06 over those seeds), significant at 5 % under
  the Hamed–Rao and trend-free pre-whitening tests (which allow for the autocorrelation of annual ER);
  boreal ER rises (+0.034), temperate (−0.017) and tropical (−0.078 PgC yr-2) ER fall;
* partial correlations of detrended annual ER are water-dominated on ~73 % of the temperate and ~100 %
  of the tropical area and temperature-dominated on all boreal land.

The ER the partitioning methods would report differs from NT by static, vegetation- and
climate-dependent ratios (:func:`method_ratio`), calibrated so that the global means are in the study's
ratios: DT/NT = 116.21/115.51, DT-RH/NT = 122.77/115.51 (larger differences for crops than for forests,
as the study reports). True GPP (:func:`gpp_true_model`) is a light-use-efficiency shape scaled per cell
so that the cell's climatological NEP is a vegetation-dependent fraction κ of its ER (our formulation):
summer uptake and winter release outside the tropics, small NEP in tropical forests.

Grid convention: cell centres, lat ascending, lon -180..180; Antarctica excluded (as CRU TS).
Time: monthly, stamped at the first day of the month (``attrs["time_label"] = "month start"``).

Memory: the gridded dataset is **lazy** (dask, one chunk per year, float32); only the land pixels
are generated (0.5 deg: ~62,000 land cells). Generation is pixel-wise deterministic, so the same
seed gives the same climate at every pixel whatever the requested year window, and (for the
large-scale structure) whatever the resolution.

Variables (units): TA, TMIN, TMAX, DTR [degC]; P [mm month-1]; PET [mm d-1]; VAP, VPD [hPa];
RH [%]; SW_IN [W m-2]; SWC [m3 m-3] (volumetric, 0-7 cm like ERA5 swvl1); SPEI [1]; FRS, WET
[days]; truths [gC m-2 d-1]: ER_true (NT definition), ER_DT_true, ER_DTRH_true (releases to the
atmosphere, positive), GPP_true (uptake, positive) and NEP_true = GPP_true − ER_true (= −NEE);
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
from .demo_fields import _N_ANOM, _bilinear, _coarse_grid, _interp, _smooth, _soil_anomaly, _year_anomalies
from .grid import cell_area, grid_coords, land_fraction, land_mask

__all__ = ["PFTS", "PFT_BASE_RATE", "DRIVER_VARS", "TRUTH_VARS", "demo_drivers", "demo_site_observations",
           "er_true_model", "water_sensitivity", "climate_zone", "method_ratio", "gpp_true_model", "NEP_FRACTION",
           "demo_dtrh_site_ratios", "DTRH_RATIO_COLUMNS"]

#: The 11 plant functional types of the FLUXNET2015 sites used in the seed (IGBP classes).
PFTS = ("ENF", "EBF", "DBF", "MF", "CSH", "OSH", "WSA", "SAV", "GRA", "CRO", "WET")
#: Base respiration at 15 degC, wet soil, no acclimation [gC m-2 d-1] per PFT (our formulation).
PFT_BASE_RATE = {"ENF": 2.6, "EBF": 4.0, "DBF": 3.0, "MF": 2.8, "CSH": 1.8, "OSH": 1.2,
                 "WSA": 2.6, "SAV": 2.2, "GRA": 2.0, "CRO": 2.8, "WET": 2.4}
DRIVER_VARS = ("TA", "TMIN", "TMAX", "DTR", "P", "PET", "VAP", "VPD", "RH", "SW_IN", "SWC", "SPEI",
               "FRS", "WET")
#: known truths of the world [gC m-2 d-1]: ER by definition (NT, DT, DT-RH), GPP and NEP = GPP − ER
TRUTH_VARS = ("ER_true", "ER_DT_true", "ER_DTRH_true", "GPP_true", "NEP_true")
UNITS = {"TA": "degC", "TMIN": "degC", "TMAX": "degC", "DTR": "degC", "P": "mm month-1",
         "PET": "mm d-1", "VAP": "hPa", "VPD": "hPa", "RH": "%", "SW_IN": "W m-2", "SWC": "m3 m-3",
         "SPEI": "1", "FRS": "days", "WET": "days", "ER_true": "gC m-2 d-1", "ER_DT_true": "gC m-2 d-1",
         "ER_DTRH_true": "gC m-2 d-1", "GPP_true": "gC m-2 d-1", "NEP_true": "gC m-2 d-1"}
LONG_NAMES = {"TA": "air temperature", "TMIN": "mean daily minimum temperature",
              "TMAX": "mean daily maximum temperature", "DTR": "diurnal temperature range",
              "P": "precipitation", "PET": "potential evapotranspiration (Hargreaves)",
              "VAP": "vapour pressure", "VPD": "vapour pressure deficit", "RH": "relative humidity",
              "SW_IN": "incoming shortwave radiation", "SWC": "volumetric soil water content (top layer)",
              "SPEI": "SPEI-like standardised water-balance anomaly (3-month)", "FRS": "frost days",
              "WET": "wet days", "ER_true": "true ecosystem respiration (night-time partitioning definition)",
              "ER_DT_true": "true ecosystem respiration, day-time partitioning definition",
              "ER_DTRH_true": "true ecosystem respiration, DT-RH partitioning definition",
              "GPP_true": "true gross primary production", "NEP_true": "true net ecosystem production (GPP - ER)"}

_REF_YEAR = 1989.0      # trends are zero at the start of 1989
_ER_SCALE = 2.356       # global calibration of ER_true (our formulation; 115.5 PgC yr-1 in 1989-2018, seed 2022)
# Lloyd & Taylor (1994, doi:10.2307/2389824) parameters
_E0, _T0, _TREF = 308.56, -46.02, 15.0
# soil-water limitation of ER (our formulation, see er_true_model)
_K_W, _THETA_REF = 0.15, 0.40      # m3 m-3
_BETA_COLD, _BETA_WARM = 0.3, 2.0  # exponent of f_W in boreal / warm cells [1]
_SOIL_SD = 0.035                   # sd of the log soil-storage anomaly in warm cells [1]
_T_ANOM = 0.2                      # scale of the temperature anomalies (sd 0.4 + 1.6 |sin(lat)| degC) [1]
_P_ANOM_SD = 0.06                  # sd of the log monthly precipitation anomaly [1]
_DRYING = 0.0032                   # fractional SWC decline per year in temperate/tropical cells [yr-1]
_DRY_MID = 1.0                     # extra drying in mid-latitude (MAT ~ 11 degC) soils, relative [1]
_WET_INTENSIFICATION = 0.008       # fractional increase of rain per wet day per year [yr-1]
_P_TREND = 0.002                   # fractional precipitation increase per year [yr-1]
_SW_TREND = 0.10                   # surface brightening [W m-2 yr-1]


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
    as the soil dries (the finding of Li et al. for 1989–2018; for the soil-moisture response of
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


#: DT-RH / NT ratio of annual ER per vegetation class before calibration (our formulation: crops and
#: grasslands differ most, forests least, as the study reports at the annual scale)
_DTRH_PFT = {"ENF": 1.04, "EBF": 1.06, "DBF": 1.05, "MF": 1.05, "CSH": 1.05, "OSH": 1.04, "WSA": 1.07,
             "SAV": 1.07, "GRA": 1.08, "CRO": 1.11, "WET": 1.06}
#: calibration gains (seed 2022, 2 deg, 1989-2018): ER-weighted global ratios 116.21/115.51 (DT) and
#: 122.77/115.51 (DT-RH) of the study
_DT_OFFSET = 0.01705
_DTRH_GAIN = 0.8464
#: climatological NEP / ER of a cell by vegetation class [1] (our formulation: young, managed and
#: temperate forests take up most; old-growth tropical forests are near steady state, ~2 % of their ER,
#: i.e. ~60-90 gC m-2 yr-1; dry shrublands take up little)
NEP_FRACTION = {"ENF": 0.26, "EBF": 0.02, "DBF": 0.29, "MF": 0.26, "CSH": 0.10, "OSH": 0.06, "WSA": 0.10,
                "SAV": 0.08, "GRA": 0.13, "CRO": 0.19, "WET": 0.16}
_GPP_REF_YEARS = (1989, 1998)   # climatology that fixes each cell's GPP scale


def method_ratio(method: str, pft, mat, map_):
    """ER reported by a partitioning method divided by the night-time (NT) ER of the twin [1].

    Static fields of vegetation class ``pft`` (index into :data:`PFTS` or IGBP name), mean annual
    temperature ``mat`` [degC] and precipitation ``map_`` [mm yr-1] (our formulation):

    * ``"NT"``: 1;
    * ``"DT"``: 1 + 0.02·tanh((600 − MAP)/400) + ``_DT_OFFSET`` — the day-time method (Lasslop et al. 2010)
      reports a little more ER in dry climates;
    * ``"DT-RH"``: 1 + ``_DTRH_GAIN``·(r_PFT − 1)·(1 + 0.3·tanh((MAT − 12)/8)) with r_PFT of
      :data:`_DTRH_PFT` — the DT-RH method (daytime/night-time temperature sensitivities and a humidity
      response; Li et al.) reports more ER, most for crops and in warm climates.

    The constants are calibrated so that the ER-weighted global ratios equal the study's
    116.21/115.51 (DT) and 122.77/115.51 (DT-RH).
    """
    pft = np.asarray(pft)
    if pft.dtype.kind in "US":
        code = {p: i for i, p in enumerate(PFTS)}
        pft = np.array([code.get(str(v), code["GRA"]) for v in pft.ravel()]).reshape(pft.shape)
    mat = np.asarray(mat, dtype=float)
    map_ = np.asarray(map_, dtype=float)
    if method == "NT":
        return np.ones(np.broadcast_shapes(pft.shape, mat.shape, map_.shape))
    if method == "DT":
        return 1.0 + 0.02 * np.tanh((600.0 - map_) / 400.0) + _DT_OFFSET + 0.0 * mat + 0.0 * pft
    if method == "DT-RH":
        r = np.array([_DTRH_PFT[p] for p in PFTS])[pft]
        return 1.0 + _DTRH_GAIN * (r - 1.0) * (1.0 + 0.3 * np.tanh((mat - 12.0) / 8.0)) + 0.0 * map_
    raise ConfigError(located(f"unknown partitioning method {method!r}", where="method_ratio",
                              fix="use 'NT', 'DT' or 'DT-RH'"))


def _gpp_shape(SW, TA, SWC, VPD):
    """Seasonal shape of GPP [W m-2 × 1]: light × temperature ramp (−5 … 20 degC) × soil water ×
    VPD limitation above 10 hPa (a light-use-efficiency form; our formulation)."""
    f_t = np.clip((TA + 5.0) / 25.0, 0.0, 1.0)
    f_w = SWC / (SWC + 0.08)
    f_v = np.exp(-0.03 * np.maximum(VPD - 10.0, 0.0))
    return SW * f_t * f_w * f_v


def gpp_true_model(SW, TA, SWC, VPD, scale):
    """True monthly GPP [gC m-2 d-1] (uptake, positive): ``scale`` × :func:`_gpp_shape`.

    ``scale`` [gC m-2 d-1 per shape unit] is fixed per cell so that, over the climatology of
    ``_GPP_REF_YEARS``, Σ GPP = (1 + κ_PFT) Σ ER_true, i.e. the cell's NEP is the fraction κ
    (:data:`NEP_FRACTION`) of its ER (our formulation). NEP = GPP − ER (= −NEE).
    """
    return scale * _gpp_shape(SW, TA, SWC, VPD)


def _generate(w: _World, months: pd.DatetimeIndex, pix: np.ndarray | None = None,
              want=None) -> dict[str, np.ndarray]:
    """Drivers and truths for ``months`` (month starts) at land pixels ``pix`` -> {var: (nt, npix)}.

    ``want`` limits the truths computed beyond ER_true (GPP/NEP need the cell's climatological scale)."""
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
    TA = TA_clim + w.warming[sl] * tyr + _T_ANOM * w.sigma_T[sl] * aT
    shape = np.clip(1.0 + w.p_seas[sl] * seas, 0.05, None)
    P_clim = MAP / 12.0 * shape
    sig_p = _P_ANOM_SD
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
    dry = 1.0 - _DRYING * ramp * (1.0 + _DRY_MID * np.exp(-((MAT - 11.0) / 5.0) ** 2)) * t3
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
    er = er_true_model(TAm, SWC, MAT, MAP, w.rref[sl])
    out["ER_true"] = er
    want = set(TRUTH_VARS) if want is None else set(want)
    pft = w.pft[sl]
    if "ER_DT_true" in want:
        out["ER_DT_true"] = er * method_ratio("DT", pft, MAT, MAP)
    if "ER_DTRH_true" in want:
        out["ER_DTRH_true"] = er * method_ratio("DT-RH", pft, MAT, MAP)
    if want & {"GPP_true", "NEP_true"}:
        gpp = gpp_true_model(out["SW_IN"], TAm, SWC, out["VPD"], _gpp_scale(w, pix))
        out["GPP_true"] = gpp
        out["NEP_true"] = gpp - er
    return {k: v.astype(np.float32) for k, v in out.items()}


def _gpp_scale(w: _World, pix: np.ndarray | None) -> np.ndarray:
    """Per-pixel GPP scale (see :func:`gpp_true_model`) from the pixel's own 1989–1998 climate, so that it
    does not depend on the requested window or on which other pixels are generated (cached per world)."""
    if pix is not None:
        return _gpp_scale_of(w, np.asarray(pix))
    if getattr(w, "_gpp_scale_all", None) is None:
        out = np.empty(w.n_land)
        step = 4096
        for k in range(0, w.n_land, step):
            out[k:k + step] = _gpp_scale_of(w, np.arange(k, min(k + step, w.n_land)))
        w._gpp_scale_all = out
    return w._gpp_scale_all


def _gpp_scale_of(w: _World, pix: np.ndarray) -> np.ndarray:
    ref = pd.date_range(f"{_GPP_REF_YEARS[0]}-01-01", f"{_GPP_REF_YEARS[1]}-12-01", freq="MS")
    v = _generate(w, ref, pix, want=())
    days = ref.days_in_month.to_numpy().astype(float)[:, None]
    er = np.sum(v["ER_true"].astype(float) * days, axis=0)
    sh = np.sum(_gpp_shape(v["SW_IN"].astype(float), v["TA"].astype(float), v["SWC"].astype(float),
                           v["VPD"].astype(float)) * days, axis=0)
    kappa = np.array([NEP_FRACTION[p] for p in PFTS])[w.pft[pix]]
    return (1.0 + kappa) * er / np.maximum(sh, 1e-9)


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
    vals = _generate(w, months, want=variables)
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
        Subset of :data:`DRIVER_VARS` + :data:`TRUTH_VARS` (default: all).
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
        ``ER_true`` is ecosystem respiration [gC m-2 d-1] (positive = release to the atmosphere) as the
        night-time method defines it; ``ER_DT_true``/``ER_DTRH_true`` the day-time / DT-RH definitions;
        ``GPP_true`` and ``NEP_true`` = GPP − ER (uptake positive).
    """
    import dask
    import dask.array as dsa

    months = _months(years)
    w = _world(int(seed), float(resolution))
    allv = tuple(DRIVER_VARS) + TRUTH_VARS
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
                     "generator": "landcarbon.world.demo:demo_drivers",
                     "truth": "ER_true, ER_DT_true, ER_DTRH_true, GPP_true, NEP_true"})
    if not lazy:
        ds = ds.load()
    return ds


# ----------------------------------------------------------------------------------------------
# flux sites: landcarbon.world.demo_sites (re-exported here; the module needs the world above)
# ----------------------------------------------------------------------------------------------
_SITE_NAMES = ("DTRH_RATIO_COLUMNS", "SITE_REGIONS", "HALFHOURLY_TOWERS", "demo_dtrh_site_ratios",
               "demo_site_observations")


def __getattr__(name):  # PEP 562: the site functions live in demo_sites (which imports this module)
    if name in _SITE_NAMES:
        from . import demo_sites

        return getattr(demo_sites, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
