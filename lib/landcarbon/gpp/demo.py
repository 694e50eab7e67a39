"""The GPP digital twin: a known true GPP, the drivers the LUE and SIF models need, flux towers and a
TROPOMI-like SIF record, built on the public drivers of :mod:`landcarbon.world.demo`.

Everything here is **our formulation** of a plausible synthetic world, not a vegetation model. The twin is
built from the same equations as the estimators (MOD17 for the truth, the Gu et al. 2019 light reactions
for SIF), so it tests *estimation* — can the seasonal ε_max be recovered from noisy towers, can f_esc be
recovered from noisy reflectances, what happens to a linear SIF–GPP fit when q_L or χ vary — not whether
those equations describe real plants.

Construction (per land cell and month, the climate from :func:`landcarbon.world.demo.demo_drivers`):

* LAI = LAI_max(PFT) · w(MAP) · [e + (1 − e) · g(T) · h(SWC)] with evergreen fraction e(PFT), a
  temperature green-up g(T) = logistic((T − 5 °C)/3 °C) and a soil-water factor h;
  fPAR = 0.95 (1 − exp(−0.5 LAI)) (Beer's law); green fPAR = fPAR · (0.7 + 0.3 g(T));
* reflectances: canopy cover c = 1 − exp(−0.6 LAI), ρ_red = 0.04 c + ρ_s (1 − c),
  ρ_NIR = 0.42 c + 1.4 ρ_s (1 − c), soil brightness ρ_s from a smooth random field (0.08–0.22);
* planted seasonal ε_max(PFT, season month) = ε_BPLUT(PFT) · (1 + A(PFT) cos(2π (s − 7) / 12)), s the
  month in the northern hemisphere and the month + 6 in the southern (:data:`EMAX_AMPLITUDE`);
* true GPP = MOD17 with the planted ε_max, fPAR, PAR = 0.45 SW↓, f(Tmin), f(VPD) (BPLUT ramps);
* surface pressure from a synthetic elevation (smooth random field plus a Tibetan-Plateau-like bump);
  CO2 rising 2.3 ppm yr⁻¹ from 408.7 ppm in 2018 (a round approximation of the NOAA global mean);
* true f_esc = NIRv / fPAR of the noise-free reflectances times a planted structural factor
  (1 + δ(PFT)), |δ| ≤ 5 %; q_L constant (0.6) or varying with light and cold; χ from the P-model (or
  constant 0.7); SIF at the 13:30 overpass from the exact inverse chain :func:`landcarbon.gpp.sif.gpp_to_sif`;
* observations: MODIS-like FPAR (noise 5 % + 0.01), reflectances (noise 0.004), SIF with the single-sounding
  noise of TROPOMI (0.5 mW m⁻² sr⁻¹ nm⁻¹, our round number) averaged over the clear-sky soundings whose
  3.5 × 5.5 km² footprints fall in the cell in a month; towers with 10 % noise and a 5 % site bias.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter

from .. import units
from ..errors import ConfigError, located
from ..world import demo as world_demo
from ..world.grid import nearest_cell
from . import lue, pmodel, sif

__all__ = ["FPAR_NOISE_REL", "FPAR_NOISE_ABS", "observe_fpar", "EMAX_AMPLITUDE", "LAI_MAX", "EVERGREEN", "FESC_STRUCTURE", "planted_emax", "season_month", "gpp_twin",
           "sif_observations", "tower_observations", "sif_noise_sd", "demo_fpar", "demo_troposif"]

#: Relative amplitude A of the planted seasonal ε_max per PFT [1] (our formulation).
EMAX_AMPLITUDE = {"ENF": 0.25, "EBF": 0.10, "DBF": 0.30, "MF": 0.25, "CSH": 0.20, "OSH": 0.20, "WSA": 0.15,
                  "SAV": 0.15, "GRA": 0.25, "CRO": 0.35, "WET": 0.20}
#: Maximum LAI [m² m⁻²] and evergreen fraction [1] per PFT (our round numbers).
LAI_MAX = {"ENF": 4.0, "EBF": 5.5, "DBF": 5.0, "MF": 4.5, "CSH": 1.8, "OSH": 0.9, "WSA": 2.5, "SAV": 1.6,
           "GRA": 2.0, "CRO": 3.5, "WET": 2.5}
EVERGREEN = {"ENF": 0.75, "EBF": 0.9, "DBF": 0.05, "MF": 0.4, "CSH": 0.4, "OSH": 0.3, "WSA": 0.3, "SAV": 0.15,
             "GRA": 0.05, "CRO": 0.0, "WET": 0.1}
#: Planted structural deviation δ of the true f_esc from NIRv / fPAR per PFT [1] (our formulation).
FESC_STRUCTURE = {"ENF": -0.05, "EBF": -0.03, "DBF": 0.02, "MF": -0.02, "CSH": 0.04, "OSH": 0.05, "WSA": 0.03,
                  "SAV": 0.04, "GRA": 0.03, "CRO": 0.01, "WET": 0.0}
_EMAX_PEAK = 7.0
_CO2_2018, _CO2_RATE = 408.7, 2.3
_FOOTPRINT_KM2 = 3.5 * 5.5
_SIF_SINGLE_SD = 0.5
_QL_CONST = 0.6


def season_month(month, lat):
    """Season month 1..12: the calendar month in the northern hemisphere, shifted by 6 in the southern."""
    m = np.asarray(month)
    lat = np.asarray(lat, dtype=float)
    return np.where(lat >= 0, m, (m + 5) % 12 + 1)


def planted_emax(pft, smonth):
    """Planted seasonal ε_max [gC MJ⁻¹] of the twin for PFT names and season months (1..12)."""
    pft = np.asarray(pft)
    base = np.vectorize(lambda p: lue.MOD17_BPLUT[str(p)][0], otypes=[float])(pft)
    amp = np.vectorize(lambda p: EMAX_AMPLITUDE[str(p)], otypes=[float])(pft)
    return base * (1.0 + amp * np.cos(2.0 * np.pi * (np.asarray(smonth, dtype=float) - _EMAX_PEAK) / 12.0))


#: FPAR noise of the MODIS-like product: relative and absolute standard deviation [1] (our round numbers).
FPAR_NOISE_REL, FPAR_NOISE_ABS = 0.05, 0.01


def observe_fpar(fpar, z_rel, z_abs):
    """FPAR as the MODIS-like product sees it: FPAR (1 + 0.05 z₁) + 0.01 z₂, clipped to [0, 1], with standard
    normal draws z₁, z₂ (:data:`FPAR_NOISE_REL`, :data:`FPAR_NOISE_ABS`)."""
    return np.clip(fpar * (1.0 + FPAR_NOISE_REL * z_rel) + FPAR_NOISE_ABS * z_abs, 0.0, 1.0)


def _smooth_field(seed, key, shape, sigma):
    rng = np.random.default_rng([int(seed), 14, key])
    f = gaussian_filter(rng.standard_normal(shape), sigma, mode=("nearest", "wrap"))
    return (f - f.mean()) / f.std()


def _elevation(seed, lat, lon, resolution):
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    rough = np.clip(600.0 + 700.0 * _smooth_field(seed, 1, la.shape, 8.0 / resolution), 0.0, 3500.0)
    plateau = 4200.0 * np.exp(-(((la - 33.0) / 5.0) ** 2 + ((lo - 88.0) / 11.0) ** 2) ** 2)
    andes = 2500.0 * np.exp(-((lo + 68.0 + 0.1 * la) / 3.0) ** 2) * (np.abs(la + 15.0) < 25.0)
    return np.maximum(rough, np.maximum(plateau, andes))


def gpp_twin(seed: int = 2022, years=(2018, 2019), resolution: float = 2.0) -> xr.Dataset:
    """Gridded GPP twin: drivers, true fPAR/reflectances/ε_max/GPP and MODIS-like observations.

    Parameters
    ----------
    seed : int          seed of the world (same seed → identical numbers; same climate as ``demo_drivers``)
    years : (int, int)  first and last year, monthly
    resolution : float  grid spacing [deg] (2 for quick runs)

    Returns
    -------
    xarray.Dataset on (time, lat, lon), NaN outside land: TA, TMIN, VPD [°C, hPa], SW_IN [W m⁻²],
    PAR [MJ m⁻² d⁻¹], LAI, FPAR, FPAR_green, RED, NIR (true) and FPAR_obs, RED_obs, NIR_obs
    (observed), EMAX_true [gC MJ⁻¹], GPP_true [gC m⁻² d⁻¹, uptake > 0], FESC_true [1], CO2 [ppm],
    PATM [Pa], DCF [1]; static PFT (names in ``attrs``), elevation [m], area [m²], land.
    """
    drv = world_demo.demo_drivers(seed, years=years, resolution=resolution,
                                  variables=("TA", "TMIN", "TMAX", "VPD", "SW_IN", "SWC"), lazy=False)
    land = drv["land"].values
    ii, jj = np.nonzero(land)
    pft_codes = drv["PFT"].values[ii, jj]
    names = np.array(world_demo.PFTS)[pft_codes]
    plat = drv["lat"].values[ii]
    months = pd.DatetimeIndex(drv["time"].values)

    def pix(v):
        return drv[v].values[:, ii, jj].astype(float)

    ta, tmin, tmax, vpd, sw, swc = (pix(v) for v in ("TA", "TMIN", "TMAX", "VPD", "SW_IN", "SWC"))
    map_ = drv["MAP"].values[ii, jj].astype(float)
    lookup = np.vectorize(lambda d, p: d[str(p)], otypes=[float], excluded={0})
    laimax, ever = lookup(LAI_MAX, names), lookup(EVERGREEN, names)
    g_t = 1.0 / (1.0 + np.exp(-(ta - 5.0) / 3.0))
    h_w = np.clip(swc / 0.25, 0.15, 1.0)
    lai = laimax * (map_ / (map_ + 500.0)) * (ever + (1.0 - ever) * g_t * h_w)
    fpar = 0.95 * (1.0 - np.exp(-0.5 * lai))
    fpar_green = fpar * (0.7 + 0.3 * g_t)
    lat, lon = drv["lat"].values, drv["lon"].values
    soil = 0.15 + 0.035 * _smooth_field(seed, 2, (lat.size, lon.size), 4.0 / resolution)[ii, jj]
    soil = np.clip(soil, 0.08, 0.22)
    cover = 1.0 - np.exp(-0.6 * lai)
    red = 0.04 * cover + soil * (1.0 - cover)
    nir = 0.42 * cover + 1.4 * soil * (1.0 - cover)
    par = units.sw_to_par_mj_m2_d(sw)
    smonth = season_month(months.month.to_numpy()[:, None], plat[None, :])
    emax = planted_emax(names[None, :], smonth)
    p = lue.mod17_parameters(names)
    gpp = lue.mod17_gpp(fpar, par, tmin, vpd, lue_max_gc_mj=emax, **{k: v for k, v in p.items() if k != "lue_max_gc_mj"})
    delta = lookup(FESC_STRUCTURE, names)
    fesc = sif.escape_probability(sif.nirv(red, nir), fpar) * (1.0 + delta)
    elev = _elevation(seed, lat, lon, resolution)
    patm = pmodel.patm_from_elevation(elev[ii, jj])
    tyr = months.year.to_numpy() + (months.month.to_numpy() - 0.5) / 12.0 - 2018.0
    co2 = _CO2_2018 + _CO2_RATE * tyr
    doy = (months.day_of_year + months.days_in_month / 2.0).to_numpy()
    dcf = sif.daily_correction_factor(plat[None, :], doy[:, None])
    rng = np.random.default_rng([int(seed), 15])
    noise = rng.standard_normal((3,) + fpar.shape)
    fpar_obs = observe_fpar(fpar, noise[0], noise[1])
    red_obs = np.clip(red + 0.004 * noise[2], 0.005, None)
    nir_obs = np.clip(nir + 0.004 * rng.standard_normal(fpar.shape), 0.01, None)

    shape3 = (months.size, lat.size, lon.size)

    def grid(x, units_, long_name):
        g = np.full(shape3, np.nan, dtype=float)
        g[:, ii, jj] = np.broadcast_to(x, (months.size, ii.size))
        return xr.DataArray(g, dims=("time", "lat", "lon"), attrs={"units": units_, "long_name": long_name})

    ds = xr.Dataset(coords={"time": months, "lat": lat, "lon": lon})
    for v, x, u_, ln in (
            ("TA", ta, "degC", "air temperature"), ("TMIN", tmin, "degC", "mean daily minimum temperature"),
            ("TMAX", tmax, "degC", "mean daily maximum temperature"),
            ("VPD", vpd, "hPa", "vapour-pressure deficit"), ("SW_IN", sw, "W m-2", "incoming shortwave radiation"),
            ("PAR", par, "MJ m-2 d-1", "photosynthetically active radiation (0.45 SW)"),
            ("LAI", lai, "m2 m-2", "leaf area index (true)"), ("FPAR", fpar, "1", "fraction of absorbed PAR (true)"),
            ("FPAR_green", fpar_green, "1", "fraction of PAR absorbed by chlorophyll (true)"),
            ("RED", red, "1", "red reflectance (true)"), ("NIR", nir, "1", "near-infrared reflectance (true)"),
            ("FPAR_obs", fpar_obs, "1", "FPAR as a MODIS-like product sees it"),
            ("RED_obs", red_obs, "1", "observed red reflectance"), ("NIR_obs", nir_obs, "1", "observed NIR reflectance"),
            ("EMAX_true", emax, "gC MJ-1", "planted seasonal maximum light-use efficiency"),
            ("GPP_true", gpp, "gC m-2 d-1", "true gross primary production (uptake > 0)"),
            ("FESC_true", fesc, "1", "true escape probability of far-red SIF"),
            ("CO2", np.broadcast_to(co2[:, None], fpar.shape), "ppm", "ambient CO2"),
            ("PATM", np.broadcast_to(patm[None, :], fpar.shape), "Pa", "surface pressure"),
            ("DCF", dcf, "1", "daily-mean / overpass cos(SZA) ratio at mid-month")):
        ds[v] = grid(x, u_, ln)
    ds["PFT"] = drv["PFT"]
    ds["elevation"] = xr.DataArray(np.where(land, elev, np.nan), dims=("lat", "lon"), attrs={"units": "m"})
    ds["area"] = drv["area"]
    ds["land"] = drv["land"]
    ds.attrs.update({"title": "landcarbon GPP twin (synthetic, known truth)", "seed": int(seed),
                     "resolution_deg": float(resolution), "years": list(map(int, years)),
                     "time_label": "month start", "pft_names": " ".join(world_demo.PFTS),
                     "generator": "landcarbon.gpp.demo:gpp_twin", "truth": "GPP_true, EMAX_true, FESC_true"})
    return ds


def sif_noise_sd(resolution_deg, lat_deg, *, clear_fraction=0.5, days=30.0, footprint_km2=_FOOTPRINT_KM2,
                 single_sd=_SIF_SINGLE_SD):
    """Noise sd [mW m⁻² sr⁻¹ nm⁻¹] of a monthly cell-mean SIF: single-sounding sd / √n, n the number of clear
    TROPOMI-like soundings (one overpass a day, footprints tiling the cell; our formulation)."""
    area_km2 = units.grid_cell_area_m2(lat_deg, resolution_deg, resolution_deg) / 1e6
    n = np.maximum(np.asarray(clear_fraction, dtype=float) * days * area_km2 / footprint_km2, 1.0)
    return single_sd / np.sqrt(n)


def sif_observations(twin: xr.Dataset, *, ql_mode: str = "constant", chi_mode: str = "pmodel", seed: int = 1,
                     resolution_for_noise: float | None = None) -> xr.Dataset:
    """Add q_L, χ and SIF at the overpass (true and noisy) to the twin; returns a new Dataset.

    ``ql_mode``: "constant" (q_L = 0.6) or "varying" (q_L = 0.85 − 0.03 PAR − 0.012 max(12 − T, 0), clipped
    to 0.25–0.9: photoprotection closes reaction centres under strong light and cold; our formulation).
    ``chi_mode``: "pmodel" (the optimal χ of :mod:`landcarbon.gpp.pmodel` with daytime T = T + DTR/4) or
    "constant" (χ = 0.7). ``resolution_for_noise`` sets the pixel size of the noise model (default: the grid).
    """
    if ql_mode not in ("constant", "varying") or chi_mode not in ("pmodel", "constant"):
        raise ConfigError(located(f"unknown scenario ql_mode={ql_mode!r}, chi_mode={chi_mode!r}",
                                  where="sif_observations", fix="ql_mode: constant|varying; chi_mode: pmodel|constant"))
    ds = twin.copy()
    tday = (twin["TA"] + (twin["TMAX"] - twin["TMIN"]) / 4.0).values
    par = twin["PAR"].values
    if ql_mode == "constant":
        ql = np.full(par.shape, _QL_CONST)
    else:
        ql = np.clip(0.85 - 0.03 * par - 0.012 * np.maximum(12.0 - tday, 0.0), 0.25, 0.9)
    land3 = np.isfinite(par)
    ql = np.where(land3, ql, np.nan)
    env = pmodel.pmodel_environment(np.clip(tday, -20.0, 50.0), np.clip(twin["VPD"].values, 0.0, None),
                                    twin["CO2"].values, twin["PATM"].values)
    chi = env["chi"] if chi_mode == "pmodel" else np.where(land3, 0.7, np.nan)
    gpp = twin["GPP_true"].values
    fesc = twin["FESC_true"].values
    dcf = twin["DCF"].values
    ok = land3 & (gpp > 0) & np.isfinite(fesc) & np.isfinite(dcf)
    s_true = np.full(par.shape, np.nan)
    s_true[ok] = sif.gpp_to_sif(gpp[ok], f_esc=fesc[ok], q_l=ql[ok], t_degc=np.clip(tday[ok], -20, 50),
                                vpd_hpa=np.clip(twin["VPD"].values[ok], 0, None), co2_ppm=twin["CO2"].values[ok],
                                patm_pa=twin["PATM"].values[ok], dcf=dcf[ok], chi=chi[ok])
    s_true[land3 & ~ok] = 0.0
    res = float(twin.attrs["resolution_deg"]) if resolution_for_noise is None else float(resolution_for_noise)
    lat3 = np.broadcast_to(twin["lat"].values[None, :, None], par.shape)
    sd = sif_noise_sd(res, lat3)
    rng = np.random.default_rng([int(seed), 16])
    s_obs = s_true + sd * rng.standard_normal(par.shape)
    dims = ("time", "lat", "lon")
    ds["QL"] = xr.DataArray(ql, dims=dims, attrs={"units": "1", "long_name": f"fraction of open PSII centres ({ql_mode})"})
    ds["CHI_true"] = xr.DataArray(np.where(land3, chi, np.nan), dims=dims,
                                  attrs={"units": "1", "long_name": f"true Ci/Ca ({chi_mode})"})
    ds["TDAY"] = xr.DataArray(tday, dims=dims, attrs={"units": "degC", "long_name": "daytime temperature T + DTR/4"})
    ds["SIF_true"] = xr.DataArray(s_true, dims=dims, attrs={"units": "mW m-2 sr-1 nm-1",
                                                            "long_name": "true SIF at 740 nm at the 13:30 overpass"})
    ds["SIF_obs"] = xr.DataArray(s_obs, dims=dims, attrs={"units": "mW m-2 sr-1 nm-1",
                                                          "long_name": "monthly mean of the noisy soundings in the cell"})
    ds["SIF_sd"] = xr.DataArray(np.where(land3, sd, np.nan), dims=dims, attrs={"units": "mW m-2 sr-1 nm-1"})
    ds.attrs.update({"ql_mode": ql_mode, "chi_mode": chi_mode, "sif_seed": int(seed)})
    return ds


def tower_observations(twin: xr.Dataset, *, n_sites: int = 200, seed: int = 2022, noise: float = 0.10,
                       site_bias: float = 0.05, redraw_fpar: bool = False) -> xr.Dataset:
    """Flux towers of the twin: monthly GPP observations with the drivers a user must bring.

    Tower positions and PFTs are those of :func:`landcarbon.world.demo.demo_site_observations` (FLUXNET-like
    regional shares) for the twin's seed and resolution, one tower per grid cell. GPP_obs =
    GPP_true · b_site · (1 + noise · ε), b_site lognormal with sd ``site_bias``; FPAR is the MODIS-like
    FPAR_obs of the cell (``redraw_fpar``: a new draw of its noise, :func:`observe_fpar`, from this seed's
    stream — an independent realisation of the satellite product too); meteorology is the cell's. Returns
    (site, time) variables GPP_obs, GPP_true, FPAR_obs, FPAR (true), PAR, TMIN, VPD, EMAX_true; coords lat, lon, PFT, smonth (season month of each (site, time)).
    """
    years = tuple(twin.attrs["years"])
    sites = world_demo.demo_site_observations(int(twin.attrs["seed"]), n_sites=n_sites, years=years,
                                              resolution=float(twin.attrs["resolution_deg"]))
    i, j = nearest_cell(twin["lat"].values, twin["lon"].values, sites["lat"].values, sites["lon"].values)
    cell = i * twin["lon"].size + j
    _, first = np.unique(cell, return_index=True)
    keep = np.sort(first)
    keep = keep[twin["land"].values[i[keep], j[keep]]]
    i, j = i[keep], j[keep]
    rng = np.random.default_rng([int(seed), 17, int(n_sites)])
    n = i.size

    def take(v):
        return twin[v].values[:, i, j].T

    truth = take("GPP_true")
    b = np.exp(site_bias * rng.standard_normal(n) - site_bias**2 / 2)
    obs = np.clip(truth * b[:, None] * (1.0 + noise * rng.standard_normal(truth.shape)), 0.0, None)
    fpar_obs = (observe_fpar(take("FPAR"), rng.standard_normal(truth.shape), rng.standard_normal(truth.shape))
                if redraw_fpar else take("FPAR_obs"))
    months = pd.DatetimeIndex(twin["time"].values)
    lat = twin["lat"].values[i]
    sm = season_month(months.month.to_numpy()[None, :], lat[:, None])
    pft = np.array(world_demo.PFTS)[twin["PFT"].values[i, j]]
    dims = ("site", "time")
    return xr.Dataset(
        {"GPP_obs": (dims, obs, {"units": "gC m-2 d-1", "long_name": "tower GPP (noisy)"}),
         "GPP_true": (dims, truth, {"units": "gC m-2 d-1"}),
         "FPAR_obs": (dims, fpar_obs, {"units": "1"}), "FPAR": (dims, take("FPAR"), {"units": "1"}), "PAR": (dims, take("PAR"), {"units": "MJ m-2 d-1"}),
         "TMIN": (dims, take("TMIN"), {"units": "degC"}), "VPD": (dims, take("VPD"), {"units": "hPa"}),
         "EMAX_true": (dims, take("EMAX_true"), {"units": "gC MJ-1"})},
        coords={"site": np.asarray(sites["site"].values)[keep], "time": months, "lat": ("site", lat),
                "lon": ("site", twin["lon"].values[j]), "PFT": ("site", pft), "smonth": (dims, sm)},
        attrs={"title": "GPP twin flux towers (synthetic)", "seed": int(seed), "truth": "GPP_true, EMAX_true"})


def demo_fpar(seed: int = 2022, years=(2018, 2019), resolution: float = 2.0) -> xr.Dataset:
    """Demo stand-in of MOD15A2H: the twin's MODIS-like monthly ``FPAR`` (time, lat, lon) [1]."""
    tw = gpp_twin(seed, years=years, resolution=resolution)
    ds = tw[["FPAR_obs"]].rename({"FPAR_obs": "FPAR"})
    ds.attrs.update({"title": "demo MOD15A2H-like FPAR (GPP twin)", "time_label": "month start"})
    return ds


def demo_troposif(seed: int = 2022, years=(2018, 2019), resolution: float = 2.0) -> xr.Dataset:
    """Demo stand-in of gridded TROPOSIF: monthly SIF_743 (overpass), SIF_Corr_743 (daily) [mW m⁻² sr⁻¹ nm⁻¹]
    and NIRv of the twin (q_L constant, χ from the P-model)."""
    s = sif_observations(gpp_twin(seed, years=years, resolution=resolution), seed=seed)
    ds = xr.Dataset({"SIF_743": s["SIF_obs"], "SIF_Corr_743": s["SIF_obs"] * s["DCF"],
                     "NIRv": (s["NIR_obs"] - s["RED_obs"]) / (s["NIR_obs"] + s["RED_obs"]) * s["NIR_obs"]})
    ds["SIF_Corr_743"].attrs["units"] = "mW m-2 sr-1 nm-1"
    ds["NIRv"].attrs["units"] = "1"
    ds.attrs.update({"title": "demo TROPOSIF-like SIF (GPP twin)", "time_label": "month start"})
    return ds
