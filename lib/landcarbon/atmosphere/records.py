"""What the real NOAA CO2 records can constrain: the north-south gradient, the growth rate, and a two-box
inversion of the northern vs southern land sink driven by the real Global Carbon Budget fluxes.

Records (loaders of :mod:`landcarbon.globalsink.io`, manifest ids ``noaa-co2-flask-mhd`` Mace Head 53 N,
``noaa-co2-flask-cgo`` Cape Grim 41 S, ``noaa-co2-mm-mlo`` Mauna Loa, ``noaa-co2-mm-gl`` global
marine-surface mean, ``noaa-co2-gr-gl`` growth rate; fluxes ``gcb-2025``; Lan, Tans & Thoning, NOAA GML;
Friedlingstein et al. 2025).

Two-box (hemispheric) model (e.g. Jacob 1999, Introduction to Atmospheric Chemistry, ch. 3; OUR FORMULATION
of the hemispheric split)::

    dC_N/dt = E_N / M_h - (C_N - C_S) / tau_ex,    dC_S/dt = E_S / M_h + (C_N - C_S) / tau_ex

with M_h = 2.124 / 2 PgC ppm-1 per hemisphere and E the net flux into each hemisphere's atmosphere,
E = fossil + land-use change - ocean sink - land sink, split between the hemispheres by the fractions
:data:`NH_FRACTIONS` (fossil 0.9: the southern hemisphere emits about a tenth of fossil CO2 in national
inventories; land-use change 0.4 and ocean 0.4: the tropics and the southern oceans; our settings). With
fluxes constant over each year it is solved exactly: the mean rises by (E_N + E_S) / 2.124 per year, the
difference D relaxes to D_eq = (E_N - E_S) tau_ex / (2 M_h) with rate 2 / tau_ex.

The model is linear in the period-mean land sinks (S_N, S_S), so the observed period-mean growth rate
and MHD - CGO difference give a two-observation Bayesian inversion (:func:`box_inversion`, solved by
:func:`landcarbon.atmosphere.inversion.invert`). Its limits: two stations stand for two hemispheres
(representation error), tau_ex is uncertain (1.0-1.4 yr), and the fossil split is assumed — the
sensitivity table shows how much each moves the answer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, located
from ..units import PGC_PER_PPM
from .inversion import invert

__all__ = ["M_HEMISPHERE", "NH_FRACTIONS", "RECORD_IDS", "load_records", "annual_means", "observed_table",
           "two_box_annual", "hemispheric_fluxes", "model_vs_observed", "box_inversion", "box_sensitivity",
           "box_table", "indicators"]

#: Atmospheric mass of one hemisphere [PgC ppm-1].
M_HEMISPHERE = PGC_PER_PPM / 2.0
#: Northern-hemisphere share of each flux (our settings, see the module docstring).
NH_FRACTIONS = {"fossil": 0.9, "land_use_change": 0.4, "ocean": 0.4, "land": 0.65}
RECORD_IDS = {"mhd": "noaa-co2-flask-mhd", "cgo": "noaa-co2-flask-cgo", "mlo": "noaa-co2-mm-mlo",
              "gl": "noaa-co2-mm-gl", "growth": "noaa-co2-gr-gl", "gcb": "gcb-2025"}


def load_records(data_source: str = "auto") -> dict:
    """The records as datasets (None where the files are not on this machine; demo data are never used)."""
    from ..data import open_dataset
    from ..errors import LandcarbonError

    out = {}
    for key, did in RECORD_IDS.items():
        try:
            out[key] = open_dataset(did, source="real") if data_source != "demo" else None
        except LandcarbonError:
            out[key] = None
    return out


def annual_means(ds, var: str = "co2", min_months: int = 10) -> pd.Series:
    """Calendar-year means of a monthly record; years with fewer than ``min_months`` months are dropped."""
    s = ds[var].to_series().dropna()
    g = s.groupby(s.index.year)
    return g.mean()[g.count() >= min_months]


def observed_table(records: dict) -> pd.DataFrame:
    """Per year: annual means at MHD, CGO, MLO and the global marine surface [ppm], the MHD - CGO gradient
    and NOAA's global growth rate with its uncertainty [ppm yr-1] (years where MHD and CGO both exist)."""
    need = ("mhd", "cgo", "growth")
    miss = [k for k in need if records.get(k) is None]
    if miss:
        raise DataError(located(f"records {[RECORD_IDS[k] for k in miss]} not found", where="observed_table",
                                fix="set LANDCARBON_DATA_PATH to a folder with co2/ (landcarbon data where ID)"))
    df = pd.DataFrame({"mhd": annual_means(records["mhd"]), "cgo": annual_means(records["cgo"])}).dropna()
    for k in ("mlo", "gl"):
        if records.get(k) is not None:
            df[k] = annual_means(records[k]).reindex(df.index)
    df["gradient"] = df["mhd"] - df["cgo"]
    gr = records["growth"]
    years = gr["time"].dt.year.values if "time" in gr.coords else gr["year"].values
    g = pd.Series(gr["co2_growth_rate"].values, index=years)
    gu = pd.Series(gr["co2_growth_rate_uncertainty"].values, index=years)
    df["growth"], df["growth_uncertainty"] = g.reindex(df.index), gu.reindex(df.index)
    df.index.name = "year"
    return df


def two_box_annual(E_N, E_S, *, tau_years: float = 1.2, d0: float = 0.0):
    """Annual means of the hemispheric difference D = C_N - C_S [ppm] and the global-mean increase [ppm].

    ``E_N``, ``E_S``: net fluxes into each hemisphere's atmosphere [PgC yr-1] per year (constant within the
    year); ``d0``: D at the start. Exact solution of the two-box equations for piecewise-constant fluxes.

    Returns (D_annual_mean (Y,), D_end (Y,), mean_increase (Y,) = (E_N + E_S) / 2.124).
    """
    E_N, E_S = np.asarray(E_N, float), np.asarray(E_S, float)
    if E_N.shape != E_S.shape or E_N.ndim != 1:
        raise ConfigError(located("E_N and E_S must be 1-D of equal length", where="two_box_annual"))
    if not 0.1 <= tau_years <= 10:
        raise ConfigError(located(f"tau_years = {tau_years} is implausible", where="two_box_annual", fix="use 1.0-1.4"))
    k = 2.0 / tau_years
    decay = np.exp(-k)
    avg = (1 - decay) / k                      # mean of exp(-k t) over one year
    d = float(d0)
    mean_d, end_d = np.empty_like(E_N), np.empty_like(E_N)
    for y in range(len(E_N)):
        eq = (E_N[y] - E_S[y]) * tau_years / (2 * M_HEMISPHERE)
        mean_d[y] = eq + (d - eq) * avg
        d = eq + (d - eq) * decay
        end_d[y] = d
    return mean_d, end_d, (E_N + E_S) / PGC_PER_PPM


def hemispheric_fluxes(gcb, *, land_nh_fraction: float | None = None, land=None, fractions=None) -> pd.DataFrame:
    """Per year: E_N and E_S [PgC yr-1] from the GCB terms (fossil incl. carbonation sink, land-use change,
    ocean and land sinks) split by :data:`NH_FRACTIONS`; ``land`` (Series) replaces the GCB land sink."""
    f = dict(NH_FRACTIONS, **(fractions or {}))
    if land_nh_fraction is not None:
        f["land"] = land_nh_fraction
    yr = gcb["time"].dt.year.values if "time" in gcb.coords else gcb["year"].values
    fossil = gcb["fossil_emissions_excluding_carbonation"].values - gcb["cement_carbonation_sink"].fillna(0).values
    luc, ocean = gcb["land_use_change_emissions"].values, gcb["ocean_sink"].values
    sland = gcb["land_sink"].values if land is None else pd.Series(land).reindex(yr).values
    en = f["fossil"] * fossil + f["land_use_change"] * luc - f["ocean"] * ocean - f["land"] * sland
    es = (1 - f["fossil"]) * fossil + (1 - f["land_use_change"]) * luc - (1 - f["ocean"]) * ocean - (1 - f["land"]) * sland
    return pd.DataFrame({"E_N": en, "E_S": es, "land_sink": sland}, index=pd.Index(yr, name="year"))


def model_vs_observed(gcb, obs: pd.DataFrame, *, tau_years: float = 1.2, gradient_scale: float = 1.0,
                      **flux_kw) -> pd.DataFrame:
    """Observed vs two-box modelled MHD - CGO gradient and growth rate per year (model driven by the GCB
    fluxes from 1959 with D in equilibrium at the start). ``gradient_scale`` = station difference /
    hemispheric difference (1 = the stations represent their hemispheres)."""
    fl = hemispheric_fluxes(gcb, **flux_kw)
    d0 = (fl["E_N"].iloc[0] - fl["E_S"].iloc[0]) * tau_years / (2 * M_HEMISPHERE)
    dm, _, inc = two_box_annual(fl["E_N"].values, fl["E_S"].values, tau_years=tau_years, d0=d0)
    mod = pd.DataFrame({"gradient_model": gradient_scale * dm, "growth_model": inc}, index=fl.index)
    return obs[["gradient", "growth"]].join(mod, how="inner")


def _model_obs(gcb, years, x, tau, scale, prior_frac, fractions):
    """Period means (growth, gradient) when the land sinks inside ``years`` are the GCB land sink's anomalies
    (split by ``prior_frac``) plus the period means x = (S_N, S_S); before the period the GCB land sink split."""
    yr = gcb["time"].dt.year.values if "time" in gcb.coords else gcb["year"].values
    sl = pd.Series(gcb["land_sink"].values, index=yr)
    inside = np.isin(yr, years)
    anom = sl - sl[inside].mean()
    sn = prior_frac * sl.copy()
    ss = (1 - prior_frac) * sl.copy()
    sn[inside] = x[0] + prior_frac * anom[inside]
    ss[inside] = x[1] + (1 - prior_frac) * anom[inside]
    fl = hemispheric_fluxes(gcb, land=pd.Series(0.0, index=yr), fractions=fractions)
    en, es = fl["E_N"].values - sn.values, fl["E_S"].values - ss.values
    d0 = (en[0] - es[0]) * tau / (2 * M_HEMISPHERE)
    dm, _, inc = two_box_annual(en, es, tau_years=tau, d0=d0)
    return np.array([inc[inside].mean(), scale * dm[inside].mean()])


def box_inversion(gcb, obs: pd.DataFrame, *, tau_years: float = 1.2, gradient_scale: float = 1.0,
                  prior_nh_fraction: float = NH_FRACTIONS["land"], prior_sigma: float = 1.0,
                  gradient_sigma: float = 0.5, fractions=None) -> dict:
    """Period-mean northern and southern land sinks [PgC yr-1, uptake > 0] from the observed mean growth rate
    and MHD - CGO gradient (two-box model, Bayesian, :func:`invert`).

    Prior: the GCB land sink of the period split by ``prior_nh_fraction``, sigma ``prior_sigma`` each.
    Observation errors: growth = NOAA's uncertainty of the period mean (years independent); gradient =
    ``gradient_sigma`` ppm (representation of a hemisphere by one station, our setting) plus the spread of
    the annual gradients / sqrt(years).
    """
    years = obs.index.values
    gyr = gcb["time"].dt.year.values if "time" in gcb.coords else gcb["year"].values
    years = years[np.isin(years, gyr)]
    if len(years) < 3:
        raise DataError(located("fewer than 3 years where the records and the GCB overlap", where="box_inversion"))
    o = obs.loc[years]
    y = np.array([o["growth"].mean(), o["gradient"].mean()])
    r = np.array([np.sqrt(np.sum(o["growth_uncertainty"] ** 2)) / len(years),
                  np.hypot(gradient_sigma, o["gradient"].std(ddof=1) / np.sqrt(len(years)))]) ** 2
    sl = pd.Series(gcb["land_sink"].values, index=gyr)[years].mean()
    sp = np.array([prior_nh_fraction * sl, (1 - prior_nh_fraction) * sl])
    base = _model_obs(gcb, years, np.zeros(2), tau_years, gradient_scale, prior_nh_fraction, fractions)
    M = np.column_stack([_model_obs(gcb, years, e, tau_years, gradient_scale, prior_nh_fraction, fractions) - base
                         for e in np.eye(2)])
    res = invert(M, y - base, sp, np.full(2, prior_sigma ** 2), r, form="prior")
    sd = res.sigma
    corr = res.A[0, 1] / (sd[0] * sd[1])
    return {"years": (int(years[0]), int(years[-1])), "observed": y, "obs_sigma": np.sqrt(r), "model_prior": base + M @ sp,
            "model_posterior": base + M @ res.s_hat, "prior": sp, "prior_sigma": np.full(2, prior_sigma),
            "posterior": res.s_hat, "posterior_sigma": sd, "correlation": float(corr),
            "total": float(res.s_hat.sum()), "total_sigma": float(np.sqrt(res.A.sum())), "gcb_land_sink": float(sl),
            "M": M, "result": res}


def box_sensitivity(gcb, obs, *, taus=(1.0, 1.2, 1.4), scales=(0.8, 1.0, 1.2), fossil_nh=(0.85, 0.9, 0.95)) -> pd.DataFrame:
    """Posterior northern and southern sinks when tau_ex, the station/hemisphere scale or the fossil split change."""
    rows = []
    for what, vals in (("tau_ex [yr]", taus), ("gradient scale", scales), ("fossil NH share", fossil_nh)):
        for v in vals:
            kw = {"tau_years": v} if what.startswith("tau") else (
                {"gradient_scale": v} if what.startswith("gradient") else {"fractions": {"fossil": v}})
            b = box_inversion(gcb, obs, **kw)
            rows.append({"setting": what, "value": v, "northern land sink": b["posterior"][0],
                         "southern land sink": b["posterior"][1], "sigma N": b["posterior_sigma"][0],
                         "sigma S": b["posterior_sigma"][1], "total": b["total"]})
    return pd.DataFrame(rows)


def box_table(box: dict) -> pd.DataFrame:
    """Observed vs modelled period means and prior vs posterior sinks of :func:`box_inversion`."""
    y0, y1 = box["years"]
    rows = [
        {"quantity": f"growth rate {y0}-{y1} (ppm/yr)", "observed": box["observed"][0], "obs. sigma": box["obs_sigma"][0],
         "prior model": box["model_prior"][0], "posterior model": box["model_posterior"][0]},
        {"quantity": f"MHD - CGO {y0}-{y1} (ppm)", "observed": box["observed"][1], "obs. sigma": box["obs_sigma"][1],
         "prior model": box["model_prior"][1], "posterior model": box["model_posterior"][1]},
        {"quantity": "northern land sink (PgC/yr)", "prior model": box["prior"][0], "prior sigma": box["prior_sigma"][0],
         "posterior model": box["posterior"][0], "posterior sigma": box["posterior_sigma"][0]},
        {"quantity": "southern land sink (PgC/yr)", "prior model": box["prior"][1], "prior sigma": box["prior_sigma"][1],
         "posterior model": box["posterior"][1], "posterior sigma": box["posterior_sigma"][1]},
        {"quantity": "total land sink (PgC/yr)", "prior model": box["prior"].sum(),
         "posterior model": box["total"], "posterior sigma": box["total_sigma"]},
    ]
    cols = ["quantity", "observed", "obs. sigma", "prior model", "prior sigma", "posterior model", "posterior sigma"]
    return pd.DataFrame(rows).reindex(columns=cols)


def indicators(box: dict, obs: pd.DataFrame, sources) -> dict:
    """Real-data indicators of the records section (each names its sources)."""
    from ..publish.reporting import Indicator

    src = "; ".join(sources)
    y0, y1 = box["years"]
    return {
        "noaa_ns_gradient": Indicator(box["observed"][1], "ppm", f"observed Mace Head - Cape Grim CO2 difference, "
                                      f"{y0}-{y1} mean (NOAA flask)", box["obs_sigma"][1], source=src),
        "box_northern_land_sink": Indicator(box["posterior"][0], "PgC yr-1", f"northern-hemisphere land sink {y0}-{y1}, "
                                            "two-box inversion of NOAA records with GCB fluxes", box["posterior_sigma"][0],
                                            source=src),
        "box_southern_land_sink": Indicator(box["posterior"][1], "PgC yr-1", f"southern-hemisphere land sink {y0}-{y1}, "
                                            "two-box inversion of NOAA records with GCB fluxes", box["posterior_sigma"][1],
                                            source=src),
        "box_total_land_sink": Indicator(box["total"], "PgC yr-1", f"global land sink {y0}-{y1} from the NOAA growth "
                                         "rate and GCB fluxes (two-box inversion)", box["total_sigma"], source=src),
    }
