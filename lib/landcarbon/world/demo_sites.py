"""Flux towers of the demo world: FLUXNET-like monthly site observations with sub-grid heterogeneity, and the
site table of DT-RH/NT respiration ratios that the flux-partitioning chapter produces from half-hourly data.

Our formulation throughout (a twin with a known truth, not a tower model). A tower does not see its grid
cell's mean: its footprint may hold another vegetation class than the cell's dominant one, its soil holds
more or less water, its stand respires more or less (age, soil carbon), and each month carries measurement
and gap-filling error. Without this, a random forest reproduces held-out towers far better (R² 0.90) than
FLUXNET allows (the study's leave-out R² is 0.715); the defaults below give leave-sites-out R² of 0.68–0.70 for
monthly ER (random network of 200 towers, seeds 7 and 2022) with the upscaled global NT and DT ER within
±3 % of the truth (seeds 7, 11, 2022). With the real network's geometry (``network="fluxnet2015"``) the
default world's NT global comes out 7.6 % low: its seven evergreen broadleaf towers sit in drier twin cells
than the wet tropical forests that hold 40 % of the twin's ER, and a forest cannot extrapolate.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, located
from .climate import climate_zone
from .demo import (NEP_FRACTION, PFT_BASE_RATE, PFTS, _generate, _months, _World, _world, er_true_model,
                   method_ratio)

__all__ = ["SITE_REGIONS", "demo_site_observations", "demo_dtrh_site_ratios", "DTRH_RATIO_COLUMNS",
           "HALFHOURLY_TOWERS"]

#: FLUXNET2015-like regional shares of the random site network (our approximation of the 2015 release:
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
#: the 40 towers with half-hourly FLUXNET2015 records in the shared data (the flux chapter's DT-RH sites)
HALFHOURLY_TOWERS = ("AU-How", "AU-Tum", "BE-Vie", "BR-Sa1", "CA-Oas", "CH-Dav", "CN-Cha", "CN-Cng", "CN-Dan",
                     "CN-Din", "CN-Du2", "CN-Ha2", "CN-HaM", "CN-Qia", "CN-Sw2", "DE-Hai", "DE-Tha", "DK-Sor",
                     "ES-LJu", "FI-Hyy", "FI-Sod", "FR-Pue", "GF-Guy", "GH-Ank", "IT-Lav", "IT-MBo", "JP-SMF",
                     "NL-Loo", "RU-Fyo", "SD-Dem", "US-ARM", "US-Ha1", "US-MMS", "US-Ne1", "US-SRM", "US-Ton",
                     "US-Tw3", "US-UMB", "US-Var", "ZM-Mon")
#: columns of results/flux_partitioning/dtrh_site_ratios.csv (the flux chapter's contract)
DTRH_RATIO_COLUMNS = ("site", "igbp", "koeppen", "lat", "lon", "n_site_years", "ratio_dtrh_nt_daytime",
                      "ratio_dtrh_nt_daytime_sd", "ratio_dtrh_nt_annual", "ratio_dtrh_nt_annual_sd",
                      "ratio_dtrh_dt_annual", "ratio_dtrh_dt_annual_sd")
#: vegetation classes a tower footprint may show in each climate zone (random network)
_ZONE_PFTS = {"boreal": ("ENF", "MF", "OSH", "WET", "GRA"),
              "temperate": ("DBF", "MF", "ENF", "CRO", "GRA", "WET", "CSH"),
              "tropical": ("EBF", "WSA", "SAV", "GRA", "CSH", "CRO")}
_CODE = {p: i for i, p in enumerate(PFTS)}


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


def _random_network(w: _World, n_sites: int, rng, months, record_years):
    pix, region = _site_pixels(w, n_sites, rng)
    n = pix.size
    y_lo, y_hi = max(months[0].year, record_years[0]), min(months[-1].year, record_years[1])
    if y_lo > y_hi:
        y_lo, y_hi = months[0].year, months[-1].year
    length = np.clip(rng.geometric(1 / 6.0, n) + 1, 2, 15)
    length = np.minimum(length, y_hi - y_lo + 1)
    first = y_lo + (rng.random(n) * (y_hi - y_lo + 2 - length)).astype(int)
    prefixes = [SITE_REGIONS[r][1] for r in region[pix]]
    ids = [f"{p}-{chr(65 + k // 676)}{chr(65 + (k // 26) % 26)}{chr(65 + k % 26)}" for k, p in enumerate(prefixes)]
    names = [SITE_REGIONS[r][0] for r in region[pix]]
    lat = w.plat[pix] + (rng.random(n) - 0.5) * w.resolution * 0.8
    lon = w.plon[pix] + (rng.random(n) - 0.5) * w.resolution * 0.8
    return pix, np.array(ids), np.array(names), first, first + length - 1, lat, lon, None


def _fluxnet_network(w: _World, months, record_years):
    """The real FLUXNET2015 towers (coordinates, records, IGBP) placed on the nearest land cell."""
    from .fluxnet import fluxnet2015_network

    net = fluxnet2015_network()
    lat, lon = net["lat"].to_numpy(float), net["lon"].to_numpy(float)
    cos = np.cos(np.deg2rad(lat))[:, None]
    dlon = (w.plon[None, :] - lon[:, None] + 180.0) % 360.0 - 180.0
    pix = np.argmin((w.plat[None, :] - lat[:, None]) ** 2 + (dlon * cos) ** 2, axis=1)
    first = np.maximum(net["first_year"].to_numpy(), max(months[0].year, record_years[0]))
    last = np.minimum(net["last_year"].to_numpy(), min(months[-1].year, record_years[1]))
    prefix = {"US": "North America", "CA": "North America", "MX": "North America", "CN": "East Asia",
              "JP": "East Asia", "AU": "Australia", "BR": "Tropics", "GF": "Tropics", "PA": "Tropics", "MY": "Tropics"}
    names = np.array([prefix.get(s[:2], "Europe" if s[:2] in ("AT", "BE", "CH", "CZ", "DE", "DK", "ES", "FI", "FR",
                                                                 "IT", "NL", "RU") else "Africa")
                      for s in net.index])
    igbp = net["PFT"].astype(str).to_numpy()
    return pix, net.index.to_numpy(dtype=str), names, first, last, lat, lon, igbp


def demo_site_observations(seed: int, n_sites: int = 200, years=(1989, 2018), resolution: float = 0.5, *,
                           record_years=(1991, 2014), noise: float = 0.15, site_bias: float = 0.35,
                           gap_fraction: float = 0.08, network: str = "random", footprint_mixing: float = 0.45,
                           site_water_sd: float = 0.3, gpp_site_sd: float = 0.05) -> xr.Dataset:
    """FLUXNET-like monthly site observations of the demo world (the standard site table).

    Parameters
    ----------
    seed, years, resolution
        The world (same as :func:`landcarbon.world.demo.demo_drivers`).
    n_sites : int
        Towers of the ``"random"`` network (ignored for ``"fluxnet2015"``).
    network : {"random", "fluxnet2015"}
        ``"random"``: land cells drawn with FLUXNET2015-like regional shares (:data:`SITE_REGIONS`), records
        of 2–15 years within ``record_years``. ``"fluxnet2015"``: the 171 real towers of the
        ``fluxnet2015-monthly`` dataset — their coordinates (nearest land cell) and record years — so the
        twin network is as sparse and as skewed as the real one; a tower keeps its real IGBP class where that
        class occurs in the twin cell's climate zone, else it is drawn as for the random network.
    noise, site_bias, footprint_mixing, site_water_sd, gpp_site_sd : float
        Sub-grid heterogeneity (our formulation): monthly relative error ``noise`` (+ 0.1 gC m-2 d-1
        additive); a lognormal stand factor b (sd ``site_bias``) on ER and GPP; with probability
        ``footprint_mixing`` (random network) a footprint vegetation class other than the cell's (drawn
        among the classes of the climate zone), whose base rate replaces the cell's; a lognormal soil-water
        factor (sd ``site_water_sd``) inside the water limitation of ER, normalised over the record so that
        it changes the timing, not the mean, of the tower's ER; an independent lognormal GPP/ER imbalance
        (sd ``gpp_site_sd``). In expectation a tower reports its grid cell's truth times the ratio of the
        footprint's and the cell's base rates.
    gap_fraction : float
        Share of months missing at random inside a record (−9999 in real files).

    Returns
    -------
    xarray.Dataset
        dims (site, time): RECO_NT, RECO_DT, GPP_NT, NEE [gC m-2 d-1; NEE = RECO − GPP, release > 0] as a
        tower reports them; truths of the tower's grid cell RECO_true (NT definition), RECO_DT_true,
        RECO_DTRH_true, GPP_true, NEP_true; NEE_QC [fraction]; TA [degC], SW_IN [W m-2], VPD [hPa], P
        [mm d-1], SWC [%]; coords site, lat, lon, PFT (footprint IGBP class), PFT_cell, climate_zone,
        MAT [degC], MAP [mm yr-1], region, koeppen (""), meta_source ("demo").
    """
    months = _months(years)
    w = _world(int(seed), float(resolution))
    if network == "random":
        rng = np.random.default_rng([int(seed), 3, int(n_sites)])
        pix, ids, regions, first, last, lat, lon, igbp = _random_network(w, n_sites, rng, months, record_years)
    elif network == "fluxnet2015":
        rng = np.random.default_rng([int(seed), 4, 171])
        pix, ids, regions, first, last, lat, lon, igbp = _fluxnet_network(w, months, record_years)
    else:
        raise ConfigError(located(f"unknown site network {network!r}", where="demo_site_observations",
                                  fix="use 'random' or 'fluxnet2015'"))
    n = pix.size
    vals = _generate(w, months, pix)
    zone = climate_zone(w.MAT[pix])
    cell_pft = w.pft[pix]
    # footprint class: the cell's dominant class, or with probability footprint_mixing another class of the
    # climate zone; a real tower (FLUXNET2015 network) keeps its IGBP class only where it fits the twin cell's
    # zone (an evergreen broadleaf footprint in a twin desert would be absurd)
    if True:
        swap = rng.random(n) < footprint_mixing
    pick = rng.random(n)
    site_pft = np.array([_CODE[_ZONE_PFTS[z][int(u * len(_ZONE_PFTS[z]))]] if (s and z in _ZONE_PFTS) else c
                         for s, u, z, c in zip(swap, pick, zone, cell_pft)])
    if igbp is not None:  # a real tower keeps its IGBP class where that class fits the twin cell's climate zone
        fits = np.array([g in _ZONE_PFTS.get(z, ()) for g, z in zip(igbp, zone)])
        site_pft = np.where(fits, [_CODE.get(g, 0) for g in igbp], site_pft)
    rref = np.array([PFT_BASE_RATE[p] for p in PFTS])
    yr = months.year.to_numpy()
    inrec = (yr[None, :] >= first[:, None]) & (yr[None, :] <= last[:, None])
    obs_ok = inrec & ~(rng.random(inrec.shape) < gap_fraction)
    b = np.exp(site_bias * rng.standard_normal(n) - site_bias**2 / 2)
    wsite = np.exp(site_water_sd * rng.standard_normal(n) - site_water_sd**2 / 2)
    c_gpp = np.exp(gpp_site_sd * rng.standard_normal(n) - gpp_site_sd**2 / 2)
    e1, e2, e3, e4 = rng.standard_normal((4,) + (n, months.size))
    ta = vals["TA"].T.astype(float)
    swc_cell = vals["SWC"].T.astype(float)
    swc_site = np.clip(swc_cell * wsite[:, None], 0.02, 0.6)
    mat, map_ = w.MAT[pix][:, None], w.MAP[pix][:, None]
    # the footprint's own soil water changes the *timing* of water limitation (q_t), not the tower's mean:
    # q_t / mean(q_t) keeps E[site ER] = b · R_ref(site)/R_ref(cell) · cell ER (a lognormal SWC factor inside
    # the concave water limitation would otherwise bias towers low, most in warm climates)
    q = (er_true_model(ta, swc_site, mat, map_, 1.0) / np.maximum(er_true_model(ta, swc_cell, mat, map_, 1.0), 1e-12))
    q = q / np.nanmean(np.where(inrec, q, np.nan), axis=1, keepdims=True).clip(1e-6)
    ratio = (rref[site_pft] / rref[cell_pft]) * b
    er_site = vals["ER_true"].T.astype(float) * ratio[:, None] * q
    nt = np.clip(er_site * (1 + noise * e1) + 0.1 * e2, 0.0, None)
    r_dt = method_ratio("DT", site_pft, w.MAT[pix], w.MAP[pix])[:, None]
    dt = nt * r_dt * (1 + 0.05 * e3)
    kappa = np.array([NEP_FRACTION[p] for p in PFTS])
    k_ratio = (1.0 + kappa[site_pft]) / (1.0 + kappa[cell_pft])      # the footprint's own uptake fraction
    gpp = np.clip(vals["GPP_true"].T.astype(float) * (ratio * k_ratio * c_gpp)[:, None] * (1 + noise * e4), 0.0, None)
    nee = nt - gpp
    for a in (nt, dt, gpp, nee):
        a[~obs_ok] = np.nan
    qc = np.where(obs_ok, np.round(0.5 + 0.5 * rng.random(obs_ok.shape), 3), np.nan)

    def met(v, sd):
        x = vals[v].T.astype(float) + sd * rng.standard_normal(obs_ok.shape)
        return np.where(inrec, x, np.nan)

    dim = months.days_in_month.to_numpy()[None, :]
    flux = {"units": "gC m-2 d-1"}
    data = {
        "RECO_NT": (nt, "ER, night-time partitioning (demo tower)"),
        "RECO_DT": (dt, "ER, day-time partitioning (demo tower)"),
        "GPP_NT": (gpp, "GPP (demo tower)"),
        "NEE": (nee, "net ecosystem exchange (demo tower; release > 0)"),
        "RECO_true": (vals["ER_true"].T.astype(float), "true ER of the tower's grid cell (NT definition)"),
        "RECO_DT_true": (vals["ER_DT_true"].T.astype(float), "true ER of the grid cell, DT definition"),
        "RECO_DTRH_true": (vals["ER_DTRH_true"].T.astype(float), "true ER of the grid cell, DT-RH definition"),
        "GPP_true": (vals["GPP_true"].T.astype(float), "true GPP of the tower's grid cell"),
        "NEP_true": (vals["NEP_true"].T.astype(float), "true NEP (GPP - ER) of the tower's grid cell"),
    }
    ds = xr.Dataset({k: (("site", "time"), v, {**flux, "long_name": ln}) for k, (v, ln) in data.items()})
    ds["NEE_QC"] = (("site", "time"), qc, {"units": "1", "long_name": "fraction of good-quality data"})
    ds["TA"] = (("site", "time"), met("TA", 0.3), {"units": "degC"})
    ds["SW_IN"] = (("site", "time"), met("SW_IN", 5.0), {"units": "W m-2"})
    ds["VPD"] = (("site", "time"), np.clip(met("VPD", 0.3), 0, None), {"units": "hPa"})
    ds["P"] = (("site", "time"), np.clip(met("P", 5.0), 0, None) / dim, {"units": "mm d-1"})
    ds["SWC"] = (("site", "time"), np.where(inrec, swc_site * 100.0, np.nan), {"units": "%"})
    ds = ds.assign_coords(
        site=np.asarray(ids), time=months,
        lat=("site", lat, {"units": "degrees_north"}), lon=("site", lon, {"units": "degrees_east"}),
        PFT=("site", np.array(PFTS)[site_pft], {"long_name": "IGBP class of the tower footprint"}),
        PFT_cell=("site", np.array(PFTS)[cell_pft], {"long_name": "dominant IGBP class of the grid cell"}),
        climate_zone=("site", zone), MAT=("site", w.MAT[pix], {"units": "degC"}),
        MAP=("site", w.MAP[pix], {"units": "mm yr-1"}), region=("site", regions),
        koeppen=("site", np.full(n, "")), meta_source=("site", np.full(n, "demo")))
    ds.attrs.update({"title": "landcarbon demo flux-site network (synthetic)", "seed": int(seed), "network": network,
                     "resolution_deg": float(resolution), "time_label": "month start",
                     "truth": "RECO_true, RECO_DT_true, RECO_DTRH_true, GPP_true, NEP_true"})
    return ds


def demo_dtrh_site_ratios(sites: xr.Dataset, *, n_sites: int = 40, noise: float = 0.03, seed: int = 0) -> pd.DataFrame:
    """The demo twin's version of ``results/flux_partitioning/dtrh_site_ratios.csv``.

    For ``n_sites`` towers of ``sites`` (the towers with half-hourly data, :data:`HALFHOURLY_TOWERS`, when
    the network is the FLUXNET2015 one; otherwise the towers with the longest records), the ratios of ER by
    DT-RH to ER by NT (annual and daytime means) and to ER by DT (annual), as the flux chapter would
    estimate them from 2–3 site-years: the tower's true ratio (:func:`landcarbon.world.demo.method_ratio`
    of its footprint class and climate) times a relative estimation error of sd ``noise``, with that sd as
    the reported uncertainty. The daytime-mean ratio is 0.63–0.84 (DT-RH daytime ER 16–37 % below NT,
    the study's range; our formulation: lower where light inhibition is strong, i.e. in forests).

    Returns a DataFrame with :data:`DTRH_RATIO_COLUMNS`.
    """
    rng = np.random.default_rng([int(seed), 18, int(n_sites)])
    ids = sites["site"].values.astype(str)
    years_obs = np.isfinite(sites["RECO_NT"]).groupby("time.year").sum("time")
    n_years = (years_obs >= 10).sum("year").values
    cand = [i for i, s in enumerate(ids) if s in HALFHOURLY_TOWERS]
    if len(cand) < int(n_sites):
        rest = [i for i in np.argsort(-n_years, kind="stable") if i not in cand]
        cand = cand + rest[: int(n_sites) - len(cand)]
    cand = np.array(sorted(cand[: int(n_sites)]))
    pft = sites["PFT"].values[cand].astype(str)
    mat = sites["MAT"].values[cand].astype(float)
    map_ = sites["MAP"].values[cand].astype(float)
    r_nt = method_ratio("DT-RH", pft, mat, map_)
    r_dt = r_nt / method_ratio("DT", pft, mat, map_)
    forest = np.isin(pft, ["ENF", "EBF", "DBF", "MF"])
    r_day = np.where(forest, 0.70, 0.78) + 0.04 * np.tanh((mat - 12.0) / 8.0)
    ny = np.maximum(np.minimum(n_years[cand], 3), 2)
    e = rng.standard_normal((3, cand.size))
    out = pd.DataFrame({
        "site": ids[cand], "igbp": pft, "koeppen": [""] * cand.size,
        "lat": sites["lat"].values[cand], "lon": sites["lon"].values[cand], "n_site_years": ny,
        "ratio_dtrh_nt_daytime": r_day * (1 + noise * e[0]), "ratio_dtrh_nt_daytime_sd": noise * r_day,
        "ratio_dtrh_nt_annual": r_nt * (1 + noise * e[1]), "ratio_dtrh_nt_annual_sd": noise * r_nt,
        "ratio_dtrh_dt_annual": r_dt * (1 + noise * e[2]), "ratio_dtrh_dt_annual_sd": noise * r_dt,
    })
    out.attrs["source"] = f"demo:landcarbon.world.demo:demo_dtrh_site_ratios ({sites.attrs.get('seed', '?')})"
    return out[list(DTRH_RATIO_COLUMNS)]
