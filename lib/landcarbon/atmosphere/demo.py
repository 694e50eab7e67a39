"""Demo atmosphere: a digital twin with KNOWN true fluxes for observing-system experiments (OSSEs).

OUR FORMULATION (synthetic, for teaching and testing; numbers are plausible magnitudes, not data):

* true monthly land (NEE) and ocean fluxes per region of the nested 43-region system: an annual-mean
  sink (global land ~3 PgC yr-1, China ~0.45 PgC yr-1 as in Jiang et al. 2016, doi:10.1038/srep22130;
  ocean ~2.2 PgC yr-1), a seasonal cycle (NH uptake peaking in July), interannual anomalies, and a
  within-region spatial structure that differs from the inversion's uniform basis pattern (aggregation
  error);
* prescribed fossil-fuel (~7 PgC yr-1 in 2002, growing; China growing fastest) and fire fields
  (~2 PgC yr-1, tropical dry seasons), treated as known by the inversion and presubtracted;
* a deliberately biased prior: climatological (no interannual variability), seasonal amplitude and phase
  perturbed, and the China sink underestimated (Jiang et al. 2016: sparse observations/priors underestimate
  China's sink) — by default the prior China sink is 35 % of the truth;
* observations = transport(truth) + noise with CTDAS model-data-mismatch classes
  (``network.MDM_PPM``), sampled as monthly means at stations and aircraft profiles.

Sign convention: fluxes in the state and in ``truth_flux``/``prior_flux`` are land/ocean-to-atmosphere
fluxes (NEE > 0 = release) in PgC yr-1; a *sink* is reported as positive uptake, sink = -(NEE + fire).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, located
from . import network as _network
from .regions import nested_regions
from .transport import TransportModel, preset

__all__ = ["DemoAtmosphere", "make_demo_atmosphere", "simulate_observations", "demo_observations",
           "demo_xco2"]

LOW_PRODUCTIVITY = {"NAF-N": 0.1, "CN-DS": 0.1, "CN-TP": 0.35, "CN-NX": 0.4, "AS-WC": 0.3, "AUS": 0.4,
                    "AS-MN": 0.4, "CN-IM": 0.6, "CN-LP": 0.6, "NAT-W": 0.7, "SATE": 0.8, "SAF": 0.8}
FOSSIL_SHARE = {"NAT-E": 0.13, "NAT-W": 0.07, "EU-W": 0.10, "EU-E": 0.06, "AS-KJ": 0.08, "AS-S": 0.05,
                "AS-WC": 0.08, "AS-SBW": 0.03, "AS-SBE": 0.01, "AS-SEM": 0.02, "AS-SEI": 0.02, "SATR": 0.02,
                "SATE": 0.02, "NAF-N": 0.03, "NAF-S": 0.01, "SAF": 0.02, "AUS": 0.015, "NAB": 0.01,
                "CN-NCP": 0.055, "CN-YZ": 0.045, "CN-S": 0.025, "CN-NEP": 0.015, "CN-SB": 0.015,
                "CN-LP": 0.012, "CN-SE": 0.01, "CN-SW": 0.008, "CN-IM": 0.008, "CN-NEF": 0.003,
                "CN-NX": 0.003, "CN-DS": 0.002, "CN-TP": 0.001}
# fire: (PgC yr-1 annual mean, month of peak 0-11)
FIRE = {"NAF-S": (0.55, 0), "SAF": (0.55, 7), "SATR": (0.3, 8), "AS-SEI": (0.2, 8), "AUS": (0.12, 10),
        "NAB": (0.05, 6), "AS-SBE": (0.1, 5), "AS-SEM": (0.08, 2), "SATE": (0.05, 8), "CN-NEF": (0.008, 3),
        "CN-SW": (0.006, 2), "CN-S": (0.004, 1), "CN-SE": (0.003, 2), "NAT-W": (0.03, 7)}


@dataclass
class DemoAtmosphere:
    """The synthetic world of the OSSE (see module docstring). Arrays over months are (n_months, ...)."""

    seed: int
    start_year: int
    n_months: int
    model: TransportModel
    regions: object
    patterns: np.ndarray        # (R, J, I) uniform-per-area basis pattern of each region (sums to 1)
    truth_flux: np.ndarray      # (n_months, R) PgC yr-1, NEE/ocean flux (release > 0)
    prior_flux: np.ndarray      # (n_months, R)
    prior_sigma: np.ndarray     # (n_months, R) 1-sigma PgC yr-1
    fire_flux: np.ndarray       # (n_months, R) PgC yr-1 (prescribed)
    fossil_flux: np.ndarray     # (n_months, R) PgC yr-1 (prescribed)
    truth_patterns: np.ndarray  # (R, J, I) within-region structure of the truth
    c0_true: float
    c0_prior: float
    c0_sigma: float
    structure_modes: tuple = ()  # wave numbers/phases of the truth's within-region structure

    @property
    def time(self):
        return pd.date_range(f"{self.start_year}-01-01", periods=self.n_months, freq="MS")

    def field(self, flux, patterns=None):
        """Gridded flux (n_months, J, I) [PgC yr-1 per cell] from regional fluxes (n_months, R)."""
        P = self.patterns if patterns is None else patterns
        return np.einsum("tr,rji->tji", flux, P)

    def china(self) -> np.ndarray:
        return np.asarray(self.regions.china, bool)

    def patterns_on(self, model) -> tuple[np.ndarray, np.ndarray]:
        """(basis patterns, truth patterns) (R, J, I) of the regions on another model's grid.

        The same regions and the same within-region structure of the truth, evaluated on ``model``'s grid
        (used to run the truth through a different transport model than the inversion's).
        """
        frac = self.regions.fractions(model.lat_edges, model.lon_edges)
        area = frac.sum(axis=(1, 2))
        if np.any(area <= 0):
            raise ConfigError(located("a region has no cell on this grid", where="DemoAtmosphere.patterns_on"))
        pat = frac / area[:, None, None]
        tp = pat * (1.0 + 0.5 * _smooth_field(self.structure_modes, model.lat, model.lon))[None]
        return pat, tp / tp.sum(axis=(1, 2), keepdims=True)


def _draw_modes(rng, n_modes=6):
    """Random wave numbers and phases of the within-region structure (kx, phase_x, ky, phase_y) per mode."""
    modes = []
    for _ in range(n_modes):
        kx, ky = rng.integers(1, 6), rng.integers(1, 5)
        modes.append((int(kx), float(rng.uniform(0, 2 * np.pi)), int(ky), float(rng.uniform(0, 2 * np.pi))))
    return tuple(modes)


def _smooth_field(modes, lat, lon):
    """Smooth field in [-1, 1] on a (lat, lon) grid from :func:`_draw_modes` (normalised by its max |f|)."""
    LA, LO = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    f = np.zeros(LA.shape)
    for kx, px, ky, py in modes:
        f += np.cos(kx * LO + px) * np.cos(ky * LA + py)
    return f / np.abs(f).max()


@lru_cache(maxsize=4)
def make_demo_atmosphere(seed: int = 2016, years: int = 7, start_year: int = 2002, grid: str = "standard",
                         china_prior_fraction: float = 0.35, china_prior_sigma: float = 0.30,
                         china_sink: float = 0.45) -> DemoAtmosphere:
    """Build the synthetic world (deterministic for a given ``seed``; cached).

    Parameters
    ----------
    seed : int
    years, start_year : int
        Length and first calendar year of the monthly record.
    grid : {"standard", "coarse"}
        Transport preset (see ``transport.PRESETS``).
    china_prior_fraction : float
        Prior China annual-mean sink as a fraction of the true one (bias of the prior).
    china_prior_sigma : float
        Prior 1-sigma of China's annual-mean land flux [PgC yr-1] (sets the China zones' monthly sigma).
    china_sink : float
        True 2002-2008 mean China land sink [PgC yr-1, positive uptake, NEE + fire].
    """
    if years < 1:
        raise ConfigError(located("years must be >= 1", where="make_demo_atmosphere"))
    rng = np.random.default_rng(seed)
    model = TransportModel(preset(grid))
    reg = nested_regions()
    frac = reg.fractions(model.lat_edges, model.lon_edges)
    area = frac.sum(axis=(1, 2))
    patterns = frac / area[:, None, None]
    R = reg.n
    nm = 12 * years
    codes = reg.codes
    land = np.array([k == "land" for k in reg.kind])
    china = np.asarray(reg.china, bool)
    latc = np.array([(frac[r].sum(axis=1) * model.lat).sum() / area[r] for r in range(R)])
    prod = np.array([LOW_PRODUCTIVITY.get(c, 1.0) for c in codes]) * np.exp(-(np.abs(latc) / 60.0) ** 2)
    # ---------------- annual-mean true sinks (uptake > 0)
    w = area * prod * land
    sink = np.zeros(R)
    sink[land & ~china] = (3.0 - china_sink) * w[land & ~china] / w[land & ~china].sum()
    fire_mean = np.array([FIRE.get(c, (0.0, 0))[0] for c in codes])
    china_nee_sink = china_sink + fire_mean[china].sum()
    sink[china] = china_nee_sink * w[china] / w[china].sum()
    ocean = ~land
    oarea = area * ocean
    osink = 2.2 * oarea / oarea.sum() * np.where(np.array(codes) == "SOC", 1.4, 1.0)
    for code, rel in (("EPT", -0.45), ("WPT", -0.1)):
        osink[codes.index(code)] = rel
    osink[ocean] *= 1.0
    sink[ocean] = osink[ocean] * (2.2 / osink[ocean].sum())
    # ---------------- seasonal amplitude (PgC yr-1) and phase
    seas_w = area * prod * np.clip(np.abs(latc) / 45.0, 0.15, 1.3) * land
    amp = 16.0 * seas_w / seas_w.sum()
    amp[ocean] = 0.15 * np.abs(sink[ocean]) + 0.05
    phase = np.where(latc >= 0, 0.0, 6.0)  # month of maximum release: Jan (NH), Jul (SH)
    months = np.arange(nm)
    mo = months % 12
    yr = months // 12
    cyc = np.cos(2 * np.pi * (mo[:, None] - phase[None, :]) / 12.0)
    # ---------------- interannual anomalies (release > 0): a regional part plus China-wide/ENSO modes
    iav = rng.normal(0, 0.12, (years, R)) * np.maximum(sink, 0.05)
    china_mode = rng.normal(0, 0.09, years)
    iav[:, china] += china_mode[:, None] * (w[china] / w[china].sum())[None, :]
    enso = rng.normal(0, 0.4, years)
    trop = land & (np.abs(latc) < 25)
    iav[:, trop] += enso[:, None] * (w[trop] / w[trop].sum())[None, :]
    noise = rng.normal(0, 0.08, (nm, R)) * amp
    truth = -sink[None, :] + amp[None, :] * cyc + iav[yr] + noise
    # ---------------- prior: climatological, biased
    bias = np.where(land, rng.uniform(0.6, 1.0, R), rng.uniform(0.7, 1.3, R))
    bias[china] = china_prior_fraction
    amp_err = rng.uniform(0.8, 1.2, R)
    ph_err = rng.uniform(-0.4, 0.4, R)
    cyc_p = np.cos(2 * np.pi * (mo[:, None] - phase[None, :] - ph_err[None, :]) / 12.0)
    prior = -(sink * bias)[None, :] + (amp * amp_err)[None, :] * cyc_p
    sig = 0.5 * amp + 2.0 * np.abs(sink) + 0.05
    sig[ocean] = 0.5 * np.abs(sink[ocean]) + 0.15 * oarea[ocean] / oarea[ocean].mean()
    # scale the China zones so the prior sigma of China's annual mean is china_prior_sigma
    cur = np.sqrt(np.sum(sig[china] ** 2) * 12) / 12.0
    sig[china] *= china_prior_sigma / cur
    prior_sigma = np.broadcast_to(sig, (nm, R)).copy()
    # ---------------- prescribed fossil and fire
    fshare = np.array([FOSSIL_SHARE.get(c, 0.0) for c in codes])
    fshare /= fshare.sum()
    growth = np.where(china, 1.09, 1.02)
    fossil = 7.0 * fshare[None, :] * growth[None, :] ** (months[:, None] / 12.0)
    fpeak = np.array([FIRE.get(c, (0.0, 0))[1] for c in codes])
    dm = (mo[:, None] - fpeak[None, :] + 6) % 12 - 6
    shape = np.exp(-0.5 * (dm / 1.5) ** 2)
    shape /= shape.reshape(years, 12, R).mean(axis=1)[yr]
    fire = fire_mean[None, :] * shape * rng.lognormal(0, 0.3, (years, R))[yr]
    # ---------------- within-region truth structure (aggregation error)
    modes = _draw_modes(rng)
    sm = _smooth_field(modes, model.lat, model.lon)
    tp = patterns * (1.0 + 0.5 * sm)[None]
    tp /= tp.sum(axis=(1, 2), keepdims=True)
    return DemoAtmosphere(seed=seed, start_year=start_year, n_months=nm, model=model, regions=reg,
                          patterns=patterns, truth_flux=truth, prior_flux=prior, prior_sigma=prior_sigma,
                          fire_flux=fire, fossil_flux=fossil, truth_patterns=tp, c0_true=372.0, c0_prior=371.0,
                          c0_sigma=2.0, structure_modes=modes)


def simulate_observations(world: DemoAtmosphere, points: pd.DataFrame, seed: int,
                          periods_per_month: int = 1) -> xr.Dataset:
    """Run the transport model with the true fluxes and sample monthly (or window) means at ``points``.

    ``periods_per_month`` > 1 gives means over sub-monthly windows (4: ~weekly, as GCAS), with
    ``time`` = start of each window and attrs ``periods_per_month``.

    Returns an ObsPack-like Dataset with dims (site, time): ``co2`` (observed = true + noise),
    ``co2_true``, ``co2_background`` (contribution of the prescribed fossil and fire fluxes, to be
    presubtracted), ``co2_sigma`` (model-data mismatch, ppm), site coordinates and ``level``.
    """
    m = world.model
    cells = m.cell_index(points["lat"].values, points["lon"].values, points["level"].values)
    bio = world.field(world.truth_flux, world.truth_patterns)
    bg = world.field(world.fossil_flux + world.fire_flux)
    E = np.stack([bio + bg, bg])
    c0 = np.zeros((2,) + m.shape)
    c0[0] = world.c0_true
    _, s = m.run(c0, E, start_month=0, n_months=world.n_months, samples=cells, periods_per_month=periods_per_month)
    rng = np.random.default_rng(seed)
    sd = points["mdm_ppm"].values
    true = s[0].T  # (site, time)
    obs = true + rng.normal(0, 1, true.shape) * sd[:, None]
    ds = xr.Dataset(
        {"co2": (("site", "time"), obs, {"units": "ppm", "long_name": "monthly-mean CO2 dry-air mole fraction"}),
         "co2_sigma": (("site", "time"), np.broadcast_to(sd[:, None], obs.shape).copy(),
                       {"units": "ppm", "long_name": "model-data mismatch 1-sigma (CTDAS class)"}),
         "co2_true": (("site", "time"), true, {"units": "ppm", "long_name": "noise-free simulated CO2 (truth)"}),
         "co2_background": (("site", "time"), s[1].T,
                            {"units": "ppm", "long_name": "simulated contribution of prescribed fossil+fire fluxes"})},
        coords={"site": points["id"].values, "time": _window_times(world, m, periods_per_month),
                "latitude": ("site", points["lat"].values, {"units": "degrees_north"}),
                "longitude": ("site", points["lon"].values, {"units": "degrees_east"}),
                "level": ("site", points["level"].values.astype(int), {"long_name": "model level index"}),
                "network": ("site", points["network"].values.astype(str)),
                "kind": ("site", points["kind"].values.astype(str))},
        attrs={"title": "landcarbon demo atmosphere: simulated monthly CO2 (OSSE)", "seed": seed,
               "sign_convention": "fluxes: release to the atmosphere > 0; sink = uptake > 0",
               "periods_per_month": int(periods_per_month)})
    return ds


def _window_times(world, model, p):
    if p == 1:
        return world.time
    b = model.period_steps(p) / model.config.steps_per_month
    out = []
    for t0 in world.time:
        days = t0.days_in_month
        out.extend(t0 + pd.to_timedelta(b[:-1] * days, unit="D"))
    return pd.DatetimeIndex(out)


def _flux_dataset(world: DemoAtmosphere) -> xr.Dataset:
    reg = world.regions
    dims = ("time", "region")
    return xr.Dataset(
        {"truth_flux": (dims, world.truth_flux, {"units": "PgC yr-1", "long_name": "true NEE/ocean flux (release > 0)"}),
         "prior_flux": (dims, world.prior_flux, {"units": "PgC yr-1", "long_name": "prior NEE/ocean flux (release > 0)"}),
         "prior_sigma": (dims, world.prior_sigma, {"units": "PgC yr-1", "long_name": "prior 1-sigma"}),
         "fire_flux": (dims, world.fire_flux, {"units": "PgC yr-1", "long_name": "prescribed fire emission"}),
         "fossil_flux": (dims, world.fossil_flux, {"units": "PgC yr-1", "long_name": "prescribed fossil emission"})},
        coords={"time": world.time, "region": reg.codes, "region_name": ("region", reg.names),
                "region_kind": ("region", reg.kind), "china": ("region", np.asarray(reg.china, bool))})


def demo_observations(seed: int = 2016, network: str = "case3", years: int = 7, start_year: int = 2002,
                      grid: str = "standard", **world_kw) -> xr.Dataset:
    """Demo ObsPack/CONTRAIL-like monthly observations of the digital-twin atmosphere.

    Parameters
    ----------
    seed : int
        Seed of the world and of the observation noise.
    network : str
        "global", "cma", "aircraft" or a case "case1"/"case2"/"case3" (see ``network.NETWORKS``).
    years, start_year, grid, **world_kw
        Passed to :func:`make_demo_atmosphere`.

    Returns
    -------
    xr.Dataset with the observations (site, time) and the world's regional fluxes (time, region):
    ``truth_flux``, ``prior_flux``, ``prior_sigma``, ``fire_flux``, ``fossil_flux`` (PgC yr-1, release > 0),
    attrs ``c0_true``, ``c0_prior``, ``c0_sigma`` [ppm], ``grid``.
    """
    world = make_demo_atmosphere(seed, years, start_year, grid, **world_kw)
    pts = _network.observation_points(network, n_levels=world.model.nlev)
    ds = simulate_observations(world, pts, seed + 1)
    ds = xr.merge([ds, _flux_dataset(world)], combine_attrs="override")
    ds.attrs.update({"c0_true": world.c0_true, "c0_prior": world.c0_prior, "c0_sigma": world.c0_sigma,
                     "grid": grid, "network": str(network), "start_year": start_year, "years": years})
    return ds


def demo_xco2(seed: int = 2016, years: int = 1, start_year: int = 2002, grid: str = "coarse",
              n_per_month: int = 150, sigma_ppm: float = 1.5, instrument: str = "GOSAT") -> xr.Dataset:
    """Demo GOSAT/OCO-2 XCO2 soundings in the ACOS Lite layout, with averaging kernels, from the twin.

    Soundings: ``n_per_month`` clear-sky land soundings per month drawn from the instrument's simulated
    ground track (:mod:`landcarbon.atmosphere.satellite`); each gets 20 retrieval levels (surface pressure
    900-1013 hPa), pressure weights, an (illustrative) averaging kernel and the twin's retrieval prior.
    ``xco2_true`` = the averaging-kernel operator applied to the true monthly-mean model profile (the
    model's layers mapped to the levels), ``xco2`` = true + N(0, sigma_ppm); ``xco2_quality_flag`` = 0 for
    85 % of soundings, 1 otherwise (those get an extra +2 ppm bias). Variables as read by
    :func:`landcarbon.atmosphere.io.read_xco2_lite`; dims (sounding,) and (sounding, level).
    """
    from . import satellite as S

    world = make_demo_atmosphere(seed, years, start_year, grid)
    m = world.model
    inst = S.instrument(instrument)
    rng = np.random.default_rng(seed + 7)
    track = S.ground_track(inst, f"{start_year}-01-01", (world.time[-1] + pd.offsets.MonthBegin(1) - world.time[0]).days)
    snd = S.sample_soundings(inst, track, world.regions.is_land, rng)
    month = (pd.DatetimeIndex(snd["time"]).year - start_year) * 12 + pd.DatetimeIndex(snd["time"]).month - 1
    picks = []
    for mo in range(world.n_months):
        idx = np.flatnonzero(month == mo)
        if idx.size:
            p = snd["n_good"].values[idx] / snd["n_good"].values[idx].sum()
            picks.append(np.sort(rng.choice(idx, size=n_per_month, replace=True, p=p)))
    sel = snd.iloc[np.concatenate(picks)].reset_index(drop=True)
    n, K = len(sel), m.nlev
    k, j, i = m.cell_index(np.repeat(sel["lat"].values, K), np.repeat(sel["lon"].values, K), np.tile(np.arange(K), n))
    E = world.field(world.truth_flux + world.fossil_flux + world.fire_flux, world.truth_patterns)
    _, s = m.run(np.full(m.shape, world.c0_true), E, start_month=0, n_months=world.n_months, samples=(k, j, i))
    mo = month[np.concatenate(picks)]
    c = s[np.repeat(mo, K), np.arange(n * K)].reshape(n, K)                   # monthly-mean layer values
    ps = rng.uniform(900.0, 1013.0, n)
    lev = np.stack([S.sigma_levels(surface_hpa=v) for v in ps])
    h = S.pressure_weights(lev)
    L = S.layer_to_level(lev, m.config.mass_fractions)
    a = S.averaging_kernel_profile(lev, inst, surface_scale=sel["surface_scale"].values)
    t = pd.DatetimeIndex(sel["time"])
    u_prior = S.retrieval_prior_profile(lev, sel["lat"].values, t.year + (t.day_of_year - 1) / 365.25)
    x_prior = np.sum(h * u_prior, axis=1)
    xc = S.xco2_operator(np.einsum("njk,nk->nj", L, c), xco2_apriori=x_prior, pressure_weight=h,
                         averaging_kernel=a, co2_profile_apriori=u_prior)
    flag = (rng.random(n) > 0.85).astype(np.int8)
    x = xc + rng.normal(0, sigma_ppm, n) + 2.0 * flag
    lv = ("sounding", "level")
    return xr.Dataset(
        {"xco2": ("sounding", x, {"units": "ppm"}),
         "xco2_uncertainty": ("sounding", np.full(n, sigma_ppm), {"units": "ppm"}),
         "xco2_true": ("sounding", xc, {"units": "ppm"}),
         "xco2_quality_flag": ("sounding", flag),
         "xco2_apriori": ("sounding", x_prior, {"units": "ppm"}),
         "pressure_levels": (lv, lev, {"units": "hPa"}), "pressure_weight": (lv, h, {"units": "1"}),
         "xco2_averaging_kernel": (lv, a, {"units": "1"}), "co2_profile_apriori": (lv, u_prior, {"units": "ppm"})},
        coords={"time": ("sounding", t.values), "latitude": ("sounding", sel["lat"].values),
                "longitude": ("sounding", sel["lon"].values)},
        attrs={"title": f"landcarbon demo XCO2 soundings ({inst.name}, ACOS Lite layout)", "seed": seed,
               "instrument": inst.name})
