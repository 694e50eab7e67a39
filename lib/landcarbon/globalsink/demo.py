"""Digital twin of the global carbon budget: a known land sink, trend and ENSO response.

The twin is generated from one seed so that its budget (:func:`demo_global_budget`), its ONI
(:func:`demo_oni`) and its NOAA-like growth rate (:func:`demo_co2_growth`) describe the same synthetic
world. Our formulation (no published model is implied):

* ONI: monthly quasi-periodic AR(2) anomaly (period 4 years, σ 0.8 K) smoothed by a centred 3-month running
  mean, from 1950 on (its annual means are nearly uncorrelated from year to year, like the observed ONI's).
* True land sink: S_true(y) = s0 + τ·(y − first_year) + β·ONI_y + ε_y, ONI_y the calendar-year mean ONI
  (the definition :func:`landcarbon.globalsink.sink.annual_index` uses with lag 0), ε ~ N(0, σ_ε).
* True fossil emissions (excluding carbonation), cement carbonation, E_LUC and S_OCEAN: smooth curves shaped
  like the Global Carbon Budget's; G_ATM closes the budget: G = E_FOS − S_CEMENT + E_LUC − S_OCEAN − S_true.
* Reported terms = truth + errors with the budget's stated 1σ (fossil 5 %, E_LUC 0.7, S_OCEAN 0.4 PgC yr⁻¹),
  drawn as AR(1) series with lag-1 correlation 0.9 (mostly systematic over a decade); G_ATM reported with
  σ = 0.6 PgC yr⁻¹ before 1980 and 0.2 after, independent between years. The "model" land sink is
  S_true + N(0, 0.5) and the imbalance closes the identity, as in the real budget.

Errors are drawn from a generator seeded by ``seed`` and ``edition``, the truth by ``seed`` alone: two
editions of the twin share one truth and differ only by their errors (a revision of known size).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .. import units

__all__ = ["demo_global_budget", "demo_oni", "demo_co2_growth", "DEMO_TRUTH"]

#: Default truth of the twin (PgC yr⁻¹, per year, per K).
DEMO_TRUTH = {"s0": 0.9, "trend_per_year": 0.035, "enso_sensitivity": -1.1, "noise_sigma": 0.35}

_FIRST_ONI_YEAR = 1950
_LAST_ONI_YEAR = 2030   # the twin's ONI is generated to this year and cut, so every span shares one series


def _oni_months(seed: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Monthly Niño-3.4 anomaly as a quasi-periodic AR(2) process (period 48 months, damping 0.97 per month,
    stationary σ 0.8 K) and its centred 3-month running mean (the ONI) — our formulation."""
    if last_year > _LAST_ONI_YEAR:
        raise ValueError(f"the twin's ONI ends in {_LAST_ONI_YEAR}")
    rng = np.random.default_rng([seed, 1])
    n = (_LAST_ONI_YEAR - _FIRST_ONI_YEAR + 1) * 12
    rho, period, sd = 0.97, 48.0, 0.8
    a1, a2 = 2 * rho * np.cos(2 * np.pi / period), -rho**2
    spin = 240
    e = rng.normal(0.0, 1.0, n + spin)
    a = np.zeros(n + spin)
    for k in range(2, n + spin):
        a[k] = a1 * a[k - 1] + a2 * a[k - 2] + e[k]
    anom = a[spin:]
    anom = anom * (sd / anom.std())
    oni = np.convolve(anom, np.ones(3) / 3.0, mode="same")
    oni[0], oni[-1] = np.nan, np.nan            # the centred mean is undefined at the ends of the series
    m = (last_year - _FIRST_ONI_YEAR + 1) * 12
    anom, oni = anom[:m], oni[:m]
    t = np.arange(f"{_FIRST_ONI_YEAR}-01", f"{last_year + 1}-01", dtype="datetime64[M]").astype("datetime64[ns]")
    return t, np.column_stack([anom, oni])


def demo_oni(seed: int = 2025, *, last_year: int = 2024) -> xr.Dataset:
    """Synthetic monthly ONI and Niño-3.4 SST with the variables of :func:`~landcarbon.globalsink.io.read_oni`."""
    t, (cols) = _oni_months(seed, last_year)
    anom, oni = cols[:, 0], cols[:, 1]
    clim = np.full(anom.shape, 27.0)
    phase = np.where(np.isnan(oni), "M", np.where(oni >= 0.5, "E", np.where(oni <= -0.5, "L", "N"))).astype(object)
    ds = xr.Dataset({
        "nino34": ("time", clim + anom, {"units": "degC", "long_name": "Nino-3.4 sea surface temperature (DEMO)"}),
        "nino34_climatology": ("time", clim, {"units": "degC", "long_name": "Nino-3.4 SST climatology (DEMO)"}),
        "nino34_anomaly": ("time", anom, {"units": "K", "long_name": "Nino-3.4 SST anomaly (DEMO)"}),
        "oni": ("time", oni, {"units": "K", "long_name": "Oceanic Nino Index (DEMO twin)"}),
    }, coords={"time": ("time", t)}, attrs={"title": "DEMO twin: Oceanic Nino Index", "demo": "landcarbon.globalsink.demo"})
    ds["phase"] = ("time", phase, {"long_name": "ENSO phase (E El Nino, L La Nina, N neutral, M missing)"})
    return ds


def _ar1(rng, n: int, sd: float, phi: float = 0.9) -> np.ndarray:
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    e = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + e[k]
    return x


def _truth(seed: int, years: np.ndarray, truth: dict) -> dict:
    rng = np.random.default_rng([seed, 2])
    t = years - years[0]
    tt = (years - 1959.0) / 65.0
    fossil = 2.4 + 8.1 * tt**1.15 + 0.05 * np.sin(t / 3.0)
    carbonation = 0.013 + 0.21 * tt**1.6
    luc = 2.1 - 0.85 * tt + 0.12 * np.sin(t / 4.0)
    ocean = 1.1 + 2.3 * tt**1.3
    tm, cols = _oni_months(seed, int(years[-1]))
    oni = cols[:, 1]
    yr = tm.astype("datetime64[Y]").astype(int) + 1970
    oni_year = np.array([np.nanmean(oni[yr == y]) for y in years])
    land = (truth["s0"] + truth["trend_per_year"] * t + truth["enso_sensitivity"] * oni_year
            + rng.normal(0.0, truth["noise_sigma"], years.size))
    growth = fossil - carbonation + luc - ocean - land
    return {"fossil": fossil, "carbonation": carbonation, "luc": luc, "ocean": ocean, "land": land,
            "growth": growth, "oni_year": oni_year}


def _g_sigma(years: np.ndarray) -> np.ndarray:
    return np.where(years < 1980, 0.6, 0.2)


def demo_global_budget(seed: int = 2025, *, first_year: int = 1959, last_year: int = 2024, edition: int = 2025,
                       truth: dict | None = None) -> xr.Dataset:
    """Synthetic Global Carbon Budget (variables and stated uncertainties of
    :func:`~landcarbon.globalsink.io.read_gcb_workbook`) with its truth: ``land_sink_true`` [PgC yr⁻¹],
    ``oni_annual_true`` [K], and ``attrs["truth_*"]`` (trend per year, ENSO sensitivity per K)."""
    tr = {**DEMO_TRUTH, **(truth or {})}
    years = np.arange(first_year, last_year + 1)
    T = _truth(seed, years, tr)
    rng = np.random.default_rng([seed, 3, edition])
    n = years.size
    fossil = T["fossil"] * (1 + _ar1(rng, n, 0.05))
    carbonation = T["carbonation"]
    luc = T["luc"] + _ar1(rng, n, 0.7)
    ocean = T["ocean"] + _ar1(rng, n, 0.4)
    growth = T["growth"] + rng.normal(0.0, 1.0, n) * _g_sigma(years)
    growth = units.ppm_to_PgC(np.round(units.PgC_to_ppm(growth), 2))      # NOAA reports ppm to 0.01
    land_model = T["land"] + rng.normal(0.0, 0.5, n)
    imbalance = fossil - carbonation + luc - growth - ocean - land_model
    note = "DEMO twin (landcarbon.globalsink.demo): "

    def var(values, symbol, long_name, **extra):
        return ("year", np.asarray(values, dtype=float), {"units": "PgC yr-1", "symbol": symbol,
                                                           "long_name": long_name + " (DEMO)", **extra})
    ds = xr.Dataset({
        "fossil_emissions_excluding_carbonation": var(fossil, "E_FOS,excl", "fossil CO2 emissions excluding carbonation",
                                                      uncertainty_1sigma_relative=0.05, uncertainty_note=note + "5 %"),
        "land_use_change_emissions": var(luc, "E_LUC", "CO2 emissions from land-use change", uncertainty_1sigma=0.7,
                                         uncertainty_note=note + "0.7 PgC/yr"),
        "atmospheric_growth": var(growth, "G_ATM", "growth of atmospheric CO2", uncertainty_1sigma=0.2,
                                  uncertainty_from_year=1980, uncertainty_note=note + "0.2 PgC/yr from 1980"),
        "ocean_sink": var(ocean, "S_OCEAN", "ocean CO2 sink", uncertainty_1sigma=0.4, uncertainty_note=note + "0.4 PgC/yr"),
        "land_sink": var(land_model, "S_LAND", "land CO2 sink from models", uncertainty_1sigma=0.5,
                         uncertainty_note=note + "0.5 PgC/yr"),
        "cement_carbonation_sink": var(carbonation, "S_CEMENT", "cement carbonation sink"),
        "budget_imbalance": var(imbalance, "B_IM", "budget imbalance"),
        "land_sink_true": var(T["land"], "S_LAND,true", "TRUE land sink of the twin"),
        "oni_annual_true": ("year", T["oni_year"], {"units": "K", "long_name": "calendar-year mean ONI of the twin"}),
    }, coords={"year": ("year", years.astype(np.int64))})
    ds.attrs.update({"title": "DEMO twin of the Global Carbon Budget", "edition": f"DEMO twin edition {edition}",
                     "truth_trend_per_year": tr["trend_per_year"], "truth_enso_sensitivity": tr["enso_sensitivity"],
                     "truth_noise_sigma": tr["noise_sigma"], "truth_s0": tr["s0"]})
    return ds


def demo_co2_growth(seed: int = 2025, *, first_year: int = 1959, last_year: int = 2024, edition: int = 2025) -> xr.Dataset:
    """NOAA-like global growth rate [ppm yr⁻¹] of the twin: the twin budget's G_ATM / 2.124 with its σ."""
    b = demo_global_budget(seed, first_year=first_year, last_year=last_year, edition=edition)
    years = b["year"].values
    gr = np.round(units.PgC_to_ppm(b["atmospheric_growth"].values), 2)
    unc = np.round(units.PgC_to_ppm(_g_sigma(years)), 2)
    return xr.Dataset({
        "co2_growth_rate": ("year", gr, {"units": "ppm yr-1", "long_name": "annual increase of global CO2 (DEMO)"}),
        "co2_growth_rate_uncertainty": ("year", unc, {"units": "ppm yr-1", "long_name": "1-sigma (DEMO)"}),
    }, coords={"year": ("year", years)}, attrs={"title": "DEMO twin: NOAA-like global CO2 growth rate"})
