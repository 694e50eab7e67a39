"""Deterministic synthetic eddy-covariance site-years with a KNOWN truth (demo data).

:func:`demo_site` returns a standard site dataset (see :mod:`landcarbon.flux.io`) for one calendar
year: weather drivers with diurnal, seasonal and synoptic structure, the true fluxes
``GPP_true``, ``RECO_true``, ``NEE_true`` [µmol CO2 m-2 s-1; NEE = RECO − GPP, NEE > 0 = release],
and the "measured" ``NEE`` = truth + Laplace noise + a low-turbulence night bias, with gaps.

The generator follows the synthetic-truth evaluations of partitioning by Desai et al. (2008,
doi:10.1016/j.agrformet.2007.11.012) and of gap filling by Moffat et al. (2007,
doi:10.1016/j.agrformet.2007.08.011); all choices below are **our formulation**. The formulas are taken
from their homes: Lloyd–Taylor from :mod:`landcarbon.flux.respiration`, the light response and VPD
limitation from :mod:`landcarbon.flux.lightresponse`, saturation vapour pressure from
:mod:`landcarbon.meteo` (Alduchov & Eskridge 1996) and the humidity modifier from
:mod:`landcarbon.flux.dtrh`, so the truth and the methods share one set of coefficients.

Truth model (Lasslop et al. 2010, doi:10.1111/j.1365-2486.2009.02041.x, with Lloyd & Taylor 1994,
doi:10.2307/2389824):

.. math::

    GPP = \\frac{\\alpha\\beta R_g}{\\alpha R_g + \\beta},\\quad
    \\beta = \\beta_0(t)\\,e^{-k(VPD-VPD_0)}\\ (VPD > VPD_0 = 10\\ \\mathrm{hPa}),

    R(T; E_0) = R_{ref}(t)\\exp\\left(E_0\\left(\\frac{1}{T_{ref}-T_0} - \\frac{1}{T - T_0}\\right)\\right),
    \\ T_{ref} = 15\\ ^\\circ C,\\ T_0 = -46.02\\ ^\\circ C.

Scenarios (night = sun below the horizon; day and night respiration are blended smoothly with the
weight :math:`w = \\min(1, R_{pot}/50\\ \\mathrm{W\\,m^{-2}})` to avoid a jump at sunrise):

* ``S0`` symmetric: RECO = R(TA; E0 = 150 K) day and night.
* ``S1`` asymmetric day/night temperature sensitivity: night R(TA; E0,N = 170 K); day = night ×
  exp((E0,D − E0,N)(x(TA) − x(T_a))) with E0,D = 85 K and T_a the day's minimum air temperature
  (:func:`landcarbon.flux.respiration.day_night_ratio`): day respiration equals night respiration at
  dawn and rises with E0,D above it, so the day/night ratio is ≤ 1 at every temperature. (Earlier
  versions shared Rref at 15 °C between day and night, which put day respiration above night
  respiration below 15 °C.) ``attrs['truth_day_night_anchor']`` names the anchor.
* ``S2`` hysteresis: RECO = R(TS; 150 K), driven by the lagged, damped soil temperature (methods fit TA).
* ``S3`` one-sided RH effect on day-time respiration (dry air reduces it; our formulation after
  Li et al. 2022, doi:10.1016/j.agrformet.2021.108709, in the exponential family of the DT-RH
  modifier of :mod:`landcarbon.flux.dtrh`): night RECO = R(TA; 150 K), day RECO = R(TA; 150 K)·h(RH),

  .. math::

      h(RH) = \\exp\\left(k_{RH}\\,(\\min(RH, RH_{ref}) - RH_{ref})\\right) \\le 1,
      \\quad k_{RH} = 0.01\\ \\%^{-1},\\ RH_{ref} = 100\\ \\%,

  RH in % (h = 1 in saturated air, 0.74 at 70 %, 0.61 at 50 %; :func:`landcarbon.flux.dtrh.rh_exponential`). Night respiration has no RH term, so
  methods that carry night-time respiration over to the day overestimate day-time respiration
  (by about a quarter on the demo climate, where day-time RH is mostly 45–90 %). Earlier versions
  centred S3 on 70 % (exp(0.01 (RH − 70 %))), which averaged out over the year. ``attrs``: ``truth_kRH``,
  ``truth_RHref``.
* ``S4`` a driver constant at night: RECO = R(TA; 150 K)·(1 + 0.3·SW_IN/1000 W m-2) (SW_IN = 0 at night,
  so night-trained models cannot learn it).

Measurement model: Laplace noise with SD σ = a0 + a1·|NEE_true| (a0, a1 = 0.7, 0.15 for uptake and
0.5, 0.2 for release; Hollinger & Richardson 2005, doi:10.1093/treephys/25.7.873, Richardson et al.
2006); at night with u* below the true threshold u*_th the measured flux is damped,
NEE_obs = NEE_true·(0.3 + 0.7·u*/u*_th) (storage/advection loss; ``attrs['ustar_threshold_true']``);
gaps: two long gaps (3–12 days), many short gaps (more at night) and single missing records until
``gap_fraction`` of NEE is missing; drivers miss ~0.5 % of records in short runs.

The random streams of weather, noise and gaps are separate children of ``SeedSequence(seed)``, so
all scenarios of one seed share the same weather, noise draws and gap pattern.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.signal import lfilter

from ..errors import ConfigError, located
from ..meteo import saturation_vapour_pressure
from .io import make_site_dataset
from .lightresponse import VPD0_HPA, rectangular_hyperbola, vpd_limitation
from .respiration import T0_DEGC, TREF_DEGC, day_night_ratio, lloyd_taylor
from .solar import potential_radiation

__all__ = ["demo_site", "demo_site_gapfilled", "demo_tower", "measurement_sd", "SCENARIOS", "rh_modifier_truth"]

SCENARIOS = {
    "S0": "symmetric day/night temperature sensitivity (E0 = 150 K, air temperature)",
    "S1": "asymmetric sensitivity: E0,night = 170 K, E0,day = 85 K above the day's minimum temperature",
    "S2": "respiration driven by soil temperature (hysteresis against air temperature)",
    "S3": "one-sided relative-humidity effect: day-time respiration x exp(0.01 %-1 (RH - 100 %)) (dry air reduces it)",
    "S4": "respiration depends on SW_IN, a driver that is constant (0) at night",
}

#: S3 truth: h(RH) = exp(k_RH (RH - RH_ref)) <= 1 by day, k_RH [%-1], RH_ref [%] = saturation
S3_K_RH = 0.01
S3_RH_REF = 100.0


def rh_modifier_truth(rh, k_rh=None, rh_ref=None):
    """S3 humidity modifier of day-time respiration [-] (our formulation after Li et al. 2022).

    h(RH) = exp(k_RH·(min(RH, RH_ref) − RH_ref)) = :func:`landcarbon.flux.dtrh.rh_exponential` of
    min(RH, RH_ref); RH [%], k_RH [%-1] (default ``S3_K_RH`` = 0.01), RH_ref [%] (default
    ``S3_RH_REF`` = 100, saturation). h = 1 in saturated air and h < 1 below it: dry air only
    *reduces* day-time respiration (one-sided), e.g. h(50 %) = exp(−0.5) ≈ 0.61.
    """
    from .dtrh import rh_exponential

    k_rh = S3_K_RH if k_rh is None else k_rh
    rh_ref = S3_RH_REF if rh_ref is None else rh_ref
    return rh_exponential(np.minimum(np.asarray(rh, dtype=float), rh_ref), k_rh, rhref=rh_ref)


def measurement_sd(nee_true):
    """Standard deviation of the twin's random NEE error [µmol m⁻² s⁻¹]: 0.7 + 0.15 |NEE| for uptake, 0.5 + 0.2 |NEE|
    for release (Laplace draws; error growing linearly with the flux, Richardson et al. 2006, Agric. For.
    Meteorol. 136:1; our coefficients)."""
    nee_true = np.asarray(nee_true, dtype=float)
    return np.where(nee_true < 0, 0.7 + 0.15 * np.abs(nee_true), 0.5 + 0.2 * np.abs(nee_true))


def _ar1(rng, n, phi, sd):
    """Stationary AR(1) series with lag-1 correlation ``phi`` and marginal SD ``sd``."""
    e = rng.standard_normal(n) * sd * np.sqrt(1 - phi**2)
    e[0] = rng.standard_normal() * sd
    return lfilter([1.0], [1.0, -phi], e)


def _daily_to_steps(daily, n_days, spd):
    """Linear interpolation of day-centred daily values onto the step grid (interval mids)."""
    x_day = np.arange(n_days) + 0.5
    x = (np.arange(n_days * spd) + 0.5) / spd
    return np.interp(x, x_day, daily)


def _runs_mask(n, starts, lengths):
    m = np.zeros(n + 1, dtype=np.int64)
    np.add.at(m, np.clip(starts, 0, n), 1)
    np.add.at(m, np.clip(starts + lengths, 0, n), -1)
    return np.cumsum(m)[:n] > 0


def demo_site(
    seed: int = 0,
    scenario: str = "S0",
    year: int = 2010,
    timestep_minutes: int = 30,
    *,
    lat: float = 50.95,
    lon: float = 13.57,
    utc_offset_hours: float = 1.0,
    site: str | None = None,
    gap_fraction: float = 0.35,
    driver_gap_fraction: float = 0.005,
    ustar_threshold: float = 0.30,
    noise: bool = True,
    ustar_bias: bool = True,
    gaps: bool = True,
    e0: float = 150.0,
) -> xr.Dataset:
    """Synthetic site-year with known GPP/RECO truth (scenarios S0–S4; see module docstring).

    Parameters
    ----------
    seed : int
        Seed of all random streams (same seed + parameters -> identical dataset).
    scenario : {"S0", "S1", "S2", "S3", "S4"}
    year : int
        Calendar year (local standard time; leap years have 366 days).
    timestep_minutes : {30, 60}
    lat, lon, utc_offset_hours : site location (default: a DE-Tha-like spruce forest).
    gap_fraction : float
        Fraction of NEE records missing before u* filtering (default 0.35).
    driver_gap_fraction : float
        Fraction of each driver (TA, TS, SW_IN, VPD, RH, USTAR, SWC) missing in short runs
        (set 0 for gap-free drivers).
    ustar_threshold : float
        True u* threshold [m s-1] of the low-turbulence night bias.
    noise, ustar_bias, gaps : bool
        Switch the measurement-error components off for clean tests.
    e0 : float
        Temperature sensitivity [K] of the symmetric scenarios (S0, S2, S3, S4).

    Returns
    -------
    xarray.Dataset
        Standard site dataset (time = interval end, local standard time) with NEE, TA, TS, SW_IN,
        VPD, RH, USTAR, SWC, WS, P and truth ``GPP_true``, ``RECO_true``, ``NEE_true``,
        ``SW_IN_POT`` [W m-2]; attrs ``scenario``, ``seed``, ``ustar_threshold_true``, ``truth_*``
        parameters, ``source``. Fluxes in µmol CO2 m-2 s-1, NEE > 0 = release.
    """
    if scenario not in SCENARIOS:
        raise ConfigError(located(f"unknown scenario {scenario!r}", where="demo_site",
                                  fix=f"use one of {sorted(SCENARIOS)}"))
    if timestep_minutes not in (30, 60):
        raise ConfigError(located(f"timestep_minutes={timestep_minutes}", where="demo_site",
                                  fix="use 30 or 60"))
    if not 0.0 <= gap_fraction < 0.9:
        raise ConfigError(located(f"gap_fraction={gap_fraction}", where="demo_site", fix="use 0 <= gap_fraction < 0.9"))
    seed = int(seed)
    ss = np.random.SeedSequence([seed, 2718])
    rng_w, rng_n, rng_g, rng_d = (np.random.default_rng(s) for s in ss.spawn(4))

    step = timestep_minutes * 60
    spd = 86400 // step
    start = np.datetime64(f"{year}-01-01T00:00", "ns")
    n_days = int((np.datetime64(f"{year + 1}-01-01") - np.datetime64(f"{year}-01-01")).astype(int))
    n = n_days * spd
    time = start + (np.arange(1, n + 1) * step * 1_000_000_000).astype("timedelta64[ns]")
    t_mid_h = ((np.arange(n) + 0.5) * step / 3600.0)  # hours since Jan 1 00:00
    hour = t_mid_h % 24.0
    dayf = t_mid_h / 24.0  # fractional day (0 = Jan 1 00:00)
    doy_d = np.arange(n_days) + 1.0

    pot = potential_radiation(time, lat, lon, utc_offset_hours, timestep_seconds=step)

    # ---------------- weather (daily states) ----------------
    season = -np.cos(2 * np.pi * (doy_d - 20) / n_days)  # -1 mid-Jan .. +1 mid-Jul
    # wet/dry Markov chain
    wet = np.zeros(n_days, dtype=bool)
    u = rng_w.random(n_days)
    for d in range(1, n_days):
        wet[d] = u[d] < (0.62 if wet[d - 1] else 0.28)
    rain_d = np.where(wet, rng_w.gamma(0.8, 6.0, n_days), 0.0)  # mm d-1
    cloud_d = 1 / (1 + np.exp(-(_ar1(rng_w, n_days, 0.6, 1.2) + 1.6 * wet - 0.5)))  # 0..1
    t_anom_d = _ar1(rng_w, n_days, 0.8, 2.8)
    tmean_d = 8.0 + 9.5 * season + t_anom_d
    dtr_d = (3.0 + 8.0 * (1 - cloud_d)) * (0.55 + 0.45 * (season + 1) / 2)
    dd_d = np.clip((1.5 + 10.0 * (1 - cloud_d) * (0.45 + 0.55 * (season + 1) / 2)) * (1 - 0.6 * wet)
                   + rng_w.normal(0, 0.6, n_days), 0.3, None)
    ws_log_d = _ar1(rng_w, n_days, 0.6, 0.35) + np.log(3.0) + 0.15 * wet

    # ---------------- weather (steps) ----------------
    cloud = _daily_to_steps(cloud_d, n_days, spd)
    flick = np.clip(1 - 0.45 * cloud * rng_w.random(n) ** 2, 0, 1)
    tau = 0.76 * (1 - 0.75 * cloud**1.4) * flick
    sw_in = np.where(pot > 0, pot * tau, 0.0)

    tmean = _daily_to_steps(tmean_d, n_days, spd)
    dtr = _daily_to_steps(dtr_d, n_days, spd)
    shape = np.cos(2 * np.pi * (hour - 15.0) / 24.0) + 0.25 * np.cos(4 * np.pi * (hour - 15.0) / 24.0 + 0.6)
    ta = tmean + 0.5 * dtr * shape / 1.05 + _ar1(rng_w, n, 0.95, 0.35)
    td = np.minimum(_daily_to_steps(tmean_d - dd_d, n_days, spd) + _ar1(rng_w, n, 0.97, 0.4), ta - 0.05)
    es = saturation_vapour_pressure(ta)
    ea = saturation_vapour_pressure(td)
    rh = np.clip(100.0 * ea / es, 5.0, 100.0)
    vpd = np.clip(es - ea, 0.0, None)

    # soil temperature: first-order low-pass of TA (time constant 2 days) -> damped and lagged
    a = np.exp(-step / (48 * 3600.0))
    zi = [a * ta[: 10 * spd].mean()]
    ts = lfilter([1 - a], [1, -a], ta, zi=zi)[0] + 0.8

    ws = np.exp(_daily_to_steps(ws_log_d, n_days, spd) + 0.25 * np.clip(pot / 600, 0, 1)
                + rng_w.normal(0, 0.18, n))
    ustar = np.clip(0.095 * ws * np.exp(0.25 * np.clip(pot / 800, 0, 1) + rng_w.normal(0, 0.2, n)), 0.02, None)

    # rain at steps: each wet day's amount over a random 2-8 h burst
    p = np.zeros(n)
    for d in np.flatnonzero(wet):
        lh = int(rng_w.integers(2, 9)) * 3600 // step
        s0 = d * spd + int(rng_w.integers(0, spd - lh + 1))
        p[s0:s0 + lh] += rain_d[d] / lh
    # soil water bucket (daily): drainage above field capacity, ET from radiation and phenology
    phen_d = 1 / (1 + np.exp(-(doy_d - 125) / 8.0)) / (1 + np.exp((doy_d - 285) / 10.0))
    rad_d = sw_in.reshape(n_days, spd).mean(1)
    swc_d = np.empty(n_days)
    s = 32.0
    for d in range(n_days):
        et = 0.012 * rad_d[d] * (0.3 + 0.7 * phen_d[d]) * min(1.0, s / 25.0)  # % per day
        s = min(40.0, s + 0.25 * rain_d[d] - et)
        s = max(s, 9.0)
        swc_d[d] = s
    swc = _daily_to_steps(swc_d, n_days, spd)

    # ---------------- truth ----------------
    phen = 1 / (1 + np.exp(-(dayf - 125) / 8.0)) / (1 + np.exp((dayf - 285) / 10.0))
    alpha, k_vpd, vpd0 = 0.04, 0.04, VPD0_HPA
    beta0 = 5.0 + 33.0 * phen
    beta = beta0 * vpd_limitation(vpd, k_vpd, vpd0_hpa=vpd0)
    gpp = rectangular_hyperbola(sw_in, alpha, beta)
    rref = (2.0 + 2.4 * phen) * (0.85 + 0.15 * np.clip(swc / 30.0, 0, 1.2))
    w_day = np.clip(pot / 50.0, 0.0, 1.0)
    truth = {"truth_E0_night": e0, "truth_E0_day": e0, "truth_kRH": 0.0, "truth_RHref": S3_RH_REF,
             "truth_temperature": "TA", "truth_alpha": alpha, "truth_k": k_vpd, "truth_VPD0": vpd0,
             "truth_Tref_degC": TREF_DEGC, "truth_T0_degC": T0_DEGC, "truth_sw_coef": 0.0}
    if scenario == "S0":
        reco = lloyd_taylor(ta, rref, e0)
    elif scenario == "S1":
        e0n, e0d = 170.0, 85.0
        # anchor: the day's minimum air temperature (interval middles -> local calendar day)
        t_anchor = ta.reshape(n_days, spd).min(axis=1).repeat(spd)
        truth.update(truth_E0_night=e0n, truth_E0_day=e0d,
                     truth_day_night_anchor="day's minimum air temperature (day/night ratio <= 1)")
        r_night = lloyd_taylor(ta, rref, e0n)
        reco = r_night * ((1 - w_day) + w_day * day_night_ratio(ta, t_anchor, e0n, e0d))
    elif scenario == "S2":
        truth.update(truth_temperature="TS")
        reco = lloyd_taylor(ts, rref, e0)
    elif scenario == "S3":
        truth.update(truth_kRH=S3_K_RH, truth_RHref=S3_RH_REF)
        r = lloyd_taylor(ta, rref, e0)
        reco = (1 - w_day) * r + w_day * r * rh_modifier_truth(rh)
    else:  # S4
        truth.update(truth_sw_coef=0.3)
        reco = lloyd_taylor(ta, rref, e0) * (1 + 0.3 * sw_in / 1000.0)
    nee_true = reco - gpp

    # ---------------- measurement ----------------
    nee = nee_true.copy()
    is_night = pot <= 0
    if ustar_bias:
        low = is_night & (ustar < ustar_threshold)
        nee = np.where(low, nee * (0.3 + 0.7 * ustar / ustar_threshold), nee)
    lap = rng_n.laplace(0.0, 1.0, n)  # unit-scale draws, scaled below (same draws for all scenarios)
    if noise:
        nee = nee + lap * measurement_sd(nee_true) / np.sqrt(2.0)
    gap = np.zeros(n, dtype=bool)
    if gaps and gap_fraction > 0:
        # two long gaps of 3-12 days (instrument failure)
        for _ in range(2):
            L = int(rng_g.integers(3 * spd, 12 * spd))
            s0 = int(rng_g.integers(0, n - L))
            gap[s0:s0 + L] = True
        # single records (spikes, QC), more at night
        gap |= rng_g.random(n) < np.where(is_night, 0.10, 0.04)
        # short gaps, starting more often at night, until the target fraction is reached
        starts = rng_g.integers(0, n, 4 * n // spd + 2000)
        keep = rng_g.random(starts.size) < np.where(is_night[starts], 1.0, 0.5)
        starts = starts[keep]
        lengths = np.minimum(rng_g.geometric(1 / (3.0 * spd / 48), starts.size), 2 * spd)
        # add in chunks, then trim to the target
        for i in range(0, starts.size, 50):
            if gap.mean() >= gap_fraction:
                break
            gap |= _runs_mask(n, starts[i:i + 50], lengths[i:i + 50])
    nee = np.where(gap, np.nan, nee)

    drivers = {"TA": ta, "TS": ts, "SW_IN": sw_in, "VPD": vpd, "RH": rh, "USTAR": ustar, "SWC": swc}
    out_drv = {}
    for name, v in drivers.items():
        v = v.copy()
        if gaps and driver_gap_fraction > 0:
            k = max(1, int(driver_gap_fraction * n / 3.5))
            st = rng_d.integers(0, n, k)
            ln = rng_d.integers(1, 7, k)
            v[_runs_mask(n, st, ln)] = np.nan
        out_drv[name] = v

    data = {"NEE": nee, **out_drv, "WS": ws, "P": p,
            "GPP_true": gpp, "RECO_true": reco, "NEE_true": nee_true}
    ds = make_site_dataset(
        time, data, site=site or f"DEMO-{scenario}", lat=lat, lon=lon, utc_offset_hours=utc_offset_hours,
        timestep_seconds=step,
        extra_attrs={"scenario": scenario, "scenario_description": SCENARIOS[scenario], "seed": seed,
                     "ustar_threshold_true": float(ustar_threshold), "gap_fraction_target": float(gap_fraction),
                     "noise": int(noise), "ustar_bias": int(ustar_bias), "gaps": int(gaps),
                     "noise_model": "Laplace, sd = 0.7+0.15|NEE| (uptake), 0.5+0.2|NEE| (release)",
                     "ustar_bias_model": "night & u*<u*_th: NEE*(0.3+0.7 u*/u*_th)",
                     "source": f"demo:landcarbon.flux.demo:demo_site@{seed}",
                     **truth})
    ds["SW_IN_POT"] = ("time", pot, {"units": "W m-2", "long_name": "potential (extraterrestrial) radiation"})
    for v in ("GPP_true", "RECO_true", "NEE_true"):
        ds[v].attrs["long_name"] = {"GPP_true": "true gross primary production (>= 0)",
                                    "RECO_true": "true ecosystem respiration (>= 0)",
                                    "NEE_true": "true NEE = RECO_true - GPP_true (positive = release)"}[v]
    return ds


def demo_site_gapfilled(seed: int, scenario: str = "S1", year: int = 1998) -> xr.Dataset:
    """The twin as a perfectly gap-filled record, to score partitioning alone: no gaps, no u* bias, complete
    drivers; NEE_f = NEE, NEE_fqc = 0 and NEE_fsd = :func:`measurement_sd` of the true NEE."""
    ds = demo_site(seed, scenario, year=year, gaps=False, ustar_bias=False, driver_gap_fraction=0.0)
    ds["NEE_f"] = ds["NEE"]
    ds["NEE_fqc"] = ("time", np.zeros(ds.sizes["time"], np.int8), {"units": "1"})
    ds["NEE_fsd"] = ("time", measurement_sd(ds["NEE_true"].values), {"units": "umol m-2 s-1"})
    return ds


def demo_tower(seed: int = 0, *, site: str | None = None, years=None, scenario: str = "S1") -> xr.Dataset:
    """Demo stand-in for one tower site-year of ``fluxnet2015-hh`` (a :func:`demo_site` year).

    The twin has the tower's coordinates when the ``site-info`` table knows the site (else the DE-Tha-
    like defaults), one calendar year (the first of ``years``, default 2010), no low-turbulence bias
    (like ONEFlux's u*-filtered ``NEE_VUT_REF``) and its truth ``GPP_true``/``RECO_true`` in place of the
    ONEFlux references. Fluxes in µmol CO2 m-2 s-1, NEE > 0 = release.
    """
    year = int(np.atleast_1d(years)[0]) if years is not None else 2010
    lat, lon = 50.95, 13.57
    if site is not None:
        try:
            from ..data import open_dataset

            info = open_dataset("site-info")
            if site in info.site.values:
                lat, lon = float(info.lat.sel(site=site)), float(info.lon.sel(site=site))
        except Exception:  # noqa: BLE001 - coordinates are cosmetic for the twin
            pass
    ds = demo_site(seed, scenario, year=year, lat=lat, lon=lon, utc_offset_hours=float(round(lon / 15.0)),
                   site=f"DEMO-{site or 'tower'}", ustar_bias=False)
    ds.attrs["hourly_site"] = 0
    return ds
