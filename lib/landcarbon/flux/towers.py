"""The FLUXNET2015 towers: our chain against ONEFlux on every site-year, and DT-RH's respiration ratios.

For each site-year of the manifest dataset ``fluxnet2015-hh`` (40 towers, 2–3 years each;
:mod:`landcarbon.flux.io.fluxnet2015_hh`):

1. measured NEE = ``NEE_VUT_REF`` where ``nee_qc == 0`` (already u*-filtered by ONEFlux, so the chain
   runs with ``ustar="skip"``), MDS re-gap-filling (:mod:`landcarbon.flux.gapfill`), then NT, DT and
   DT-RH (RH from VPD and TA, :func:`landcarbon.meteo.rh_from_vpd`);
2. validation against ONEFlux (Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3) on the records
   where our estimate and ONEFlux's both exist: annual GPP (NT vs ``GPP_NT_VUT_REF``, DT vs
   ``GPP_DT_VUT_REF``), the correlation of daily means, monthly means for the seasonal cycle;
3. the daytime-mean and annual ecosystem respiration of DT-RH relative to NT and DT, with a moving-
   block bootstrap over days (10-day blocks) for the uncertainty — the quantity for which Li et al.
   (2022, doi:10.1016/j.agrformet.2021.108709) report DT-RH daytime ER 16–37 % below NT/DT.

Rules (stated, applied to every site-year): a site-year enters the validation statistics when its
**coverage** — the share of the calendar year's records that hold both our gap-filled NEE (MDS leaves
gaps longer than 60 days open) and an ONEFlux GPP — is at least 80 %, and when all three methods ran;
every other site-year is reported with the reason it was left out. No site is dropped otherwise. When
the night-time method finds fewer than three valid E0 windows with REddyProc's 5 K temperature-range
rule (tropical towers), it is rerun with REddyProc's relaxed 3 K rule, and the record says so.

Site classes: IGBP class and Köppen climate from the ``site-info`` dataset (FluxDataKit); five towers
absent from it get their class from the public sources in :data:`SUPPLEMENTARY_SITE_INFO`. Climate zones
for the ratio analysis follow Li et al.'s grouping by mean annual temperature (boreal < 2 °C ≤
temperate ≤ 17 °C < tropical), computed from each tower's own air temperature.
"""
from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, located

__all__ = ["SUPPLEMENTARY_SITE_INFO", "LI2022_RATIO_RANGE", "tower_site_years", "process_tower_site_year",
           "run_towers", "validate_against_oneflux", "biome_table", "dtrh_site_ratios", "compare_with_li2022",
           "site_classes", "BIOME_GROUPS", "climate_zone", "MIN_COVERAGE", "outlier_groups"]

#: least coverage of a site-year in the validation statistics (see the module docstring)
MIN_COVERAGE = 0.8

#: Li et al. (2022): daytime ER of DT-RH 16–37 % below NT and DT, i.e. a ratio DT-RH/NT in [0.63, 0.84]
LI2022_RATIO_RANGE = (0.63, 0.84)

#: IGBP class (and Köppen where a source gives it) of the five towers missing from FluxDataKit's table
SUPPLEMENTARY_SITE_INFO: dict[str, dict[str, str]] = {
    "BR-Sa1": {"igbp": "EBF", "koeppen": "Am",
               "source": "AmeriFlux site page BR-Sa1 (Santarem-Km67-Primary Forest), sites.ameriflux.lbl.gov/BR-Sa1"},
    "CA-Oas": {"igbp": "DBF", "koeppen": "Dfc",
               "source": "AmeriFlux site page CA-Oas (Saskatchewan - Western Boreal, Mature Aspen), "
                         "sites.ameriflux.lbl.gov/CA-Oas"},
    "CN-Ha2": {"igbp": "OSH", "koeppen": "",
               "source": "alpine Potentilla fruticosa shrubland: Zhang F. et al. (2020) China Scientific Data, "
                         "doi:10.11922/csdata.2020.0034.zh (open vs closed shrubland not stated; FLUXNET2015's own "
                         "class not verified here)"},
    "CN-Sw2": {"igbp": "GRA", "koeppen": "",
               "source": "desert steppe: Carbon Balance and Management 15 (2020), doi:10.1186/s13021-020-00141-8, Table 1"},
    "GH-Ank": {"igbp": "EBF", "koeppen": "",
               "source": "Ankasa Forest Conservation Area, tropical rain forest: Nicolini G. (2013) Greenhouse gases "
                         "exchange over and within a tropical forest in Africa, PhD thesis, University of Tuscia"},
}

#: IGBP class -> biome group of the tables and figures
BIOME_GROUPS = {"ENF": "evergreen needleleaf forest", "EBF": "evergreen broadleaf forest",
                "DBF": "deciduous broadleaf forest", "MF": "mixed forest", "WSA": "savanna", "SAV": "savanna",
                "GRA": "grassland and shrubland", "OSH": "grassland and shrubland", "CSH": "grassland and shrubland",
                "CRO": "cropland", "WET": "wetland"}


def climate_zone(mat_degc: float) -> str:
    """Li et al.'s climate zones by mean annual temperature: boreal < 2 °C ≤ temperate ≤ 17 °C < tropical."""
    if not np.isfinite(mat_degc):
        return "unknown"
    return "boreal" if mat_degc < 2.0 else ("tropical" if mat_degc > 17.0 else "temperate")


def tower_site_years(data_source: str = "auto") -> pd.DataFrame:
    """Site-years available (columns site, year, origin): the raw files when found, else the embedded extract."""
    from ..data import resolve_extract, resolve_files
    from .io import EXTRACT_SITE_YEARS, fluxnet_site_years

    if data_source in ("auto", "real"):
        res = resolve_files("fluxnet2015-hh")
        if res.complete and res.paths:
            inv = fluxnet_site_years(res.paths)
            out = inv[["site", "year"]].copy()
            out["origin"] = "raw files"
            shares = {path: _measured_share_by_year(path) for path in inv.path.unique()}
            out["measured_share"] = [shares[pa].get(int(y), np.nan) for pa, y in zip(inv.path, inv.year)]
            return out
        if resolve_extract("fluxnet2015-hh"):
            return pd.DataFrame([{"site": s, "year": y, "origin": "embedded extract"} for s, y in EXTRACT_SITE_YEARS])
    return pd.DataFrame(columns=["site", "year", "origin"])


def _measured_share_by_year(path) -> dict[int, float]:
    """Share of records per calendar year with measured NEE (finite, ``nee_qc`` = 0) in a raw
    FLUXNET2015 half-hourly file; {} when the file cannot be read (the run then reports the site-year)."""
    import xarray as xr

    try:
        with xr.open_dataset(path) as ds:
            ok = np.isfinite(ds["nee"].values.ravel()) & (ds["nee_qc"].values.ravel() == 0)
            years = pd.DatetimeIndex(ds["time"].values).year
    except Exception:  # noqa: BLE001 - selection only; process_tower_site_year reports the real error
        return {}
    return {int(y): float(ok[years == y].mean()) for y in np.unique(years)}


#: Tower selections of the flux chapter's ``towers`` parameter.
TOWER_SELECTIONS = ("extract", "one_per_site", "all")


def select_site_years(site_years: pd.DataFrame, towers: str = "extract") -> pd.DataFrame:
    """The site-years a run processes: ``"extract"`` the site-years shipped with the package,
    ``"one_per_site"`` one year of every tower, the one with the largest share of measured NEE
    (column ``measured_share`` when present; ties and missing shares → the latest year) — the published run:
    all towers in a fixed time — and ``"all"`` every site-year found."""
    from ..errors import ConfigError
    from .io import EXTRACT_SITE_YEARS

    if towers not in TOWER_SELECTIONS:
        raise ConfigError(f"towers={towers!r} is not a tower selection; use one of {', '.join(TOWER_SELECTIONS)}")
    if towers == "extract" or site_years.empty:
        keep = [(s, int(y)) in EXTRACT_SITE_YEARS for s, y in zip(site_years.site, site_years.year)]
        return site_years[keep] if towers == "extract" else site_years
    if towers == "one_per_site":
        share = site_years["measured_share"] if "measured_share" in site_years else pd.Series(np.nan, site_years.index)
        ranked = site_years.assign(_share=pd.to_numeric(share, errors="coerce").fillna(-1.0))
        ranked = ranked.sort_values(["site", "_share", "year"], ascending=[True, False, False])
        return ranked.groupby("site", sort=False).head(1).drop(columns="_share").reset_index(drop=True)
    return site_years


def site_classes(sites: Iterable[str]) -> pd.DataFrame:
    """IGBP class, Köppen climate, lat/lon and the class's source for each site (index = site)."""
    from ..data import open_dataset

    try:
        info = open_dataset("site-info")
    except Exception:  # noqa: BLE001 - the table is optional for the numbers, needed only for labels
        info = None
    rows = {}
    for s in sites:
        if info is not None and s in info.site.values:
            r = info.sel(site=s)
            rows[s] = {"igbp": str(r.igbp.values), "koeppen": str(r.koeppen.values), "lat": float(r.lat),
                       "lon": float(r.lon), "class_source": "site-info (FluxDataKit fdk_site_info.csv)"}
        elif s in SUPPLEMENTARY_SITE_INFO:
            sup = SUPPLEMENTARY_SITE_INFO[s]
            rows[s] = {"igbp": sup["igbp"], "koeppen": sup["koeppen"], "lat": np.nan, "lon": np.nan,
                       "class_source": sup["source"]}
        else:
            rows[s] = {"igbp": "", "koeppen": "", "lat": np.nan, "lon": np.nan, "class_source": "unknown"}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["biome"] = out.igbp.map(BIOME_GROUPS).fillna("other")
    return out


def _common_sum(a: np.ndarray, b: np.ndarray, step_seconds: float) -> tuple[float, float]:
    from ..units import umol_m2_s_to_gC_m2_per_step

    ok = np.isfinite(a) & np.isfinite(b)
    f = umol_m2_s_to_gC_m2_per_step(1.0, step_seconds)
    return float(a[ok].sum() * f), float(b[ok].sum() * f)


def _block_bootstrap_ratio(num_daily: np.ndarray, den_daily: np.ndarray, *, block_days: int = 10,
                           n_boot: int = 200, seed: int = 0) -> float:
    """SD of sum(num)/sum(den) over days by a moving-block bootstrap (blocks of ``block_days``)."""
    ok = np.isfinite(num_daily) & np.isfinite(den_daily)
    num, den = num_daily[ok], den_daily[ok]
    n = num.size
    if n < 2 * block_days:
        return float("nan")
    rng = np.random.default_rng(seed)
    nb = int(np.ceil(n / block_days))
    starts = rng.integers(0, n - block_days + 1, size=(n_boot, nb))
    idx = (starts[:, :, None] + np.arange(block_days)[None, None, :]).reshape(n_boot, -1)[:, :n]
    r = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    return float(np.std(r, ddof=1))


def process_tower_site_year(site: str, year: int, *, data_source: str = "auto", seed: int = 0,
                            n_boot: int = 200) -> dict:
    """Run the chain on one tower site-year and compare with ONEFlux; returns one flat record.

    Keys: site, year, hourly, coverage, measured_share, n_records, the annual sums [gC m-2 yr-1] on
    the records shared with ONEFlux (``gpp_nt``, ``gpp_dt``, ``gpp_dtrh``, ``reco_*``, ``gpp_nt_oneflux``,
    ``gpp_dt_oneflux``, ``gpp_dt_sd``, ``gpp_dtrh_sd``), relative differences [%] ``d_nt``/``d_dt``,
    daily correlations ``r_daily_nt``/``r_daily_dt``, monthly means (``monthly``: dict of 12-vectors
    [gC m-2 d-1]), the DT-RH respiration ratios and their bootstrap SDs, DT-RH diagnostics, the mean
    air temperature, timings [s] and ``error`` (None when everything ran). Fluxes: NEE > 0 release.
    """
    from ..data import open_dataset
    from ..units import umol_m2_s_to_gC_m2_d
    from .batch import process_site_year
    from .metrics import daily_means

    rec: dict = {"site": site, "year": int(year), "error": None}
    t0 = _time.perf_counter()
    try:
        ds = open_dataset("fluxnet2015-hh", source=data_source, site=site, years=int(year))
        rec["source"] = str(ds.attrs.get("source", ""))
        ref_nt, ref_dt = ("GPP_NT_ONEFLUX", "GPP_DT_ONEFLUX") if "GPP_NT_ONEFLUX" in ds else ("GPP_true", "GPP_true")
        rec["reference"] = "ONEFlux" if ref_nt == "GPP_NT_ONEFLUX" else "truth (demo)"
        rec["hourly"] = int(ds.attrs.get("hourly_site", 0))
        rec["n_records"] = int(ds.sizes["time"])
        rec["measured_share"] = float(np.isfinite(ds["NEE"].values).mean())
        rec["ta_mean"] = float(np.nanmean(ds["TA"].values))
        try:
            sy = process_site_year(ds, ["NT", "DT", "DT-RH"], ustar="skip", seed=seed)
            rec["nt_temperature_range"] = 5.0
        except DataError as exc:
            if "valid E0" not in str(exc):
                raise
            # REddyProc's relaxed option for small night-time temperature ranges (tropics): 3 K instead of 5 K
            sy = process_site_year(ds, ["NT", "DT", "DT-RH"], ustar="skip", seed=seed,
                                   method_kwargs={"NT": {"temperature_range": 3.0}})
            rec["nt_temperature_range"] = 3.0
        rec["t_chain"] = float(sum(sy.timings.values()))
        p = sy.dataset
        step = float(p.attrs.get("timestep_seconds", 1800))
        nee_f = p["NEE_f"].values
        refn, refd = p[ref_nt].values, p[ref_dt].values
        both = np.isfinite(nee_f) & np.isfinite(refn) & np.isfinite(refd)
        rec["coverage"] = float(both.mean())
        res = sy.results
        g = {m: np.where(both, res[m].gpp.values, np.nan) for m in res}
        r = {m: np.where(both, res[m].reco.values, np.nan) for m in res}
        rec["gpp_nt"], rec["gpp_nt_oneflux"] = _common_sum(g["NT"], refn, step)
        rec["gpp_dt"], rec["gpp_dt_oneflux"] = _common_sum(g["DT"], refd, step)
        rec["gpp_dtrh"], _ = _common_sum(g["DT-RH"], refd, step)
        for m, key in (("NT", "nt"), ("DT", "dt"), ("DT-RH", "dtrh")):
            rec[f"reco_{key}"], _ = _common_sum(r[m], refd, step)
        rec["gpp_dt_sd"] = float(res["DT"].info.get("annual_sd", {}).get("GPP", np.nan))
        rec["gpp_dtrh_sd"] = float(res["DT-RH"].info.get("annual_sd", {}).get("GPP", np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            rec["d_nt"] = float(100.0 * (np.float64(rec["gpp_nt"]) / rec["gpp_nt_oneflux"] - 1.0))
            rec["d_dt"] = float(100.0 * (np.float64(rec["gpp_dt"]) / rec["gpp_dt_oneflux"] - 1.0))
        time = p["time"].values
        for m, key, ref in (("NT", "nt", refn), ("DT", "dt", refd)):
            a, b = daily_means(g[m], time), daily_means(np.where(both, ref, np.nan), time)
            ok = np.isfinite(a.values) & np.isfinite(b.values)
            rec[f"r_daily_{key}"] = float(np.corrcoef(a.values[ok], b.values[ok])[0, 1]) if ok.sum() > 10 else np.nan
        tmid = pd.DatetimeIndex(time) - pd.Timedelta(seconds=step / 2)
        month = tmid.month.to_numpy()
        monthly = {}
        for name, v in (("NT", g["NT"]), ("DT", g["DT"]), ("DT-RH", g["DT-RH"]), ("ONEFlux NT", np.where(both, refn, np.nan)),
                        ("ONEFlux DT", np.where(both, refd, np.nan))):
            monthly[name] = [float(umol_m2_s_to_gC_m2_d(np.nanmean(v[month == k]))) if np.isfinite(v[month == k]).any()
                             else float("nan") for k in range(1, 13)]
        rec["monthly"] = monthly
        # DT-RH respiration relative to NT and DT: daytime means (sun above the horizon) and annual sums
        from ._common import potential_radiation_for

        dayrec = (potential_radiation_for(p) > 0) & both
        day_id = tmid.floor("D")
        frame = pd.DataFrame({"d": day_id, "day": dayrec, "nt": r["NT"], "dt": r["DT"], "rh": r["DT-RH"]})
        dd = frame[frame.day].groupby("d")[["nt", "dt", "rh"]].sum()
        aa = frame.groupby("d")[["nt", "dt", "rh"]].sum(min_count=1)
        for base in ("nt", "dt"):
            rec[f"ratio_dtrh_{base}_daytime"] = float(np.float64(dd.rh.sum()) / dd[base].sum())
            rec[f"ratio_dtrh_{base}_daytime_sd"] = _block_bootstrap_ratio(dd.rh.to_numpy(), dd[base].to_numpy(),
                                                                          n_boot=n_boot, seed=seed)
            rec[f"ratio_dtrh_{base}_annual"] = float(np.float64(aa.rh.sum()) / aa[base].sum())
            rec[f"ratio_dtrh_{base}_annual_sd"] = _block_bootstrap_ratio(aa.rh.to_numpy(), aa[base].to_numpy(),
                                                                         n_boot=n_boot, seed=seed + 1)
        info = res["DT-RH"].info
        rec["dtrh_supported"] = bool(info["lr_test"]["supported"])
        rec["dtrh_p_value"] = float(info["lr_test"]["p_value"])
        b = info["blocks"]
        rec["dtrh_r_median"] = float(b.r_day_night.median())
        rec["dtrh_c_median"] = float(b.c_rh.median())
    except Exception as exc:  # noqa: BLE001 - reported per site-year, the batch goes on
        rec["error"] = f"{type(exc).__name__}: {exc}"
    rec["seconds"] = _time.perf_counter() - t0
    return rec


def _worker(args):
    site, year, data_source, seed, n_boot = args
    return process_tower_site_year(site, year, data_source=data_source, seed=seed, n_boot=n_boot)


def run_towers(site_years: pd.DataFrame | Sequence[tuple[str, int]], *, n_jobs: int = 2, data_source: str = "auto",
               seed: int = 0, n_boot: int = 200, progress: bool = True) -> pd.DataFrame:
    """Process many tower site-years (a process pool of at most 2 workers, ``tqdm`` progress bar).

    With a ``dask.distributed`` client active (``landcarbon run --scheduler``) every site-year is one
    task on the cluster instead (``n_jobs`` is then ignored; the workers read the tower files, so
    ``LANDCARBON_DATA_PATH`` must name shared storage on them too).

    Returns one row per site-year (see :func:`process_tower_site_year`) in the input order, with the
    site classes of :func:`site_classes` joined; failing site-years carry ``error`` instead of raising.
    """
    from ..scale import map_in_order

    if n_jobs < 1 or n_jobs > 2:
        raise ConfigError(located(f"n_jobs={n_jobs}", where="run_towers", fix="use 1 or 2 workers (shared machine)"))
    items = (list(site_years[["site", "year"]].itertuples(index=False, name=None))
             if isinstance(site_years, pd.DataFrame) else [tuple(x) for x in site_years])
    args = [(s, int(y), data_source, seed, n_boot) for s, y in items]
    out = map_in_order(_worker, args, n_jobs=n_jobs, desc="tower site-years", progress=progress, use_cluster=True)
    tab = pd.DataFrame(out)
    tab["error"] = tab["error"].where(tab["error"].apply(lambda e: isinstance(e, str)), None)
    cls = site_classes(sorted(tab.site.unique()))
    tab = tab.join(cls, on="site", rsuffix="_info")
    tab["eligible"], tab["excluded_because"] = zip(*[_eligibility(r) for r in tab.to_dict("records")])
    return tab


def _eligibility(r: dict) -> tuple[bool, str]:
    err = r.get("error")
    if isinstance(err, str) and err:
        return False, f"a method failed: {err[:160]}"
    cov = r.get("coverage", np.nan)
    cov = float(cov) if cov is not None else np.nan
    if not np.isfinite(cov) or cov < MIN_COVERAGE:
        return False, f"coverage {100 * cov:.0f} % < {100 * MIN_COVERAGE:.0f} % (measured NEE on {100 * r.get('measured_share', np.nan):.0f} % of the records)"
    return True, ""


def validate_against_oneflux(tab: pd.DataFrame) -> dict:
    """Summary of the comparison with ONEFlux over the eligible site-years.

    Returns dict: n_site_years, n_eligible, n_sites, n_sites_eligible, median |ΔNT| and |ΔDT| [%] with
    their bootstrap 95 % intervals over site-years, median daily r of NT and DT, the bars of issue 11
    (median |ΔNT| ≤ 5 %, median |ΔDT| ≤ 8 %, median daily r ≥ 0.95) and whether they are met.
    """
    ok = tab[tab.eligible]
    rng = np.random.default_rng(0)

    def med_ci(x):
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return float("nan"), (float("nan"), float("nan"))
        bs = np.median(rng.choice(x, size=(2000, x.size), replace=True), axis=1)
        return float(np.median(x)), (float(np.quantile(bs, 0.025)), float(np.quantile(bs, 0.975)))

    m_nt, ci_nt = med_ci(ok.d_nt.abs())
    m_dt, ci_dt = med_ci(ok.d_dt.abs())
    r_nt = float(ok.r_daily_nt.median()) if len(ok) else float("nan")
    r_dt = float(ok.r_daily_dt.median()) if len(ok) else float("nan")
    return {"n_site_years": int(len(tab)), "n_eligible": int(len(ok)), "n_sites": int(tab.site.nunique()),
            "n_sites_eligible": int(ok.site.nunique()),
            "median_abs_d_nt": m_nt, "median_abs_d_nt_ci": ci_nt, "median_abs_d_dt": m_dt, "median_abs_d_dt_ci": ci_dt,
            "median_r_daily_nt": r_nt, "median_r_daily_dt": r_dt,
            "bar_nt_met": bool(m_nt <= 5.0), "bar_dt_met": bool(m_dt <= 8.0),
            "bar_r_met": bool(min(r_nt, r_dt) >= 0.95)}


def biome_table(tab: pd.DataFrame) -> pd.DataFrame:
    """Per biome (eligible site-years): number of sites and site-years, median annual GPP of ONEFlux NT
    [gC m-2 yr-1], median ΔNT and ΔDT [%], median daily r of NT and DT."""
    ok = tab[tab.eligible]
    g = ok.groupby("biome")
    return pd.DataFrame({"sites": g.site.nunique(), "site-years": g.size(),
                         "GPP ONEFlux NT": g.gpp_nt_oneflux.median(), "ΔNT": g.d_nt.median(), "ΔDT": g.d_dt.median(),
                         "r NT": g.r_daily_nt.median(), "r DT": g.r_daily_dt.median()}).reset_index()


def dtrh_site_ratios(tab: pd.DataFrame, *, all_sites: bool = True) -> pd.DataFrame:
    """One row per site: the DT-RH respiration ratios (the contract with the upscaling chapter).

    Columns: site, igbp, koeppen, lat, lon, n_site_years, ratio_dtrh_nt_daytime, ratio_dtrh_nt_daytime_sd,
    ratio_dtrh_nt_annual, ratio_dtrh_nt_annual_sd, ratio_dtrh_dt_annual, ratio_dtrh_dt_annual_sd (ratios
    of daytime-mean or annual ecosystem respiration, dimensionless), plus ratio_dtrh_dt_daytime(_sd),
    climate_zone and class_source. A site's ratio is the mean over its eligible site-years; its SD
    combines the bootstrap SDs and the spread between years: sqrt(mean(sd²)/n + var_years/n).
    Sites without an eligible site-year get n_site_years = 0 and NaN ratios (``all_sites=True``).
    """
    cols = ["ratio_dtrh_nt_daytime", "ratio_dtrh_nt_annual", "ratio_dtrh_dt_annual", "ratio_dtrh_dt_daytime"]
    rows = []
    for site, sub in tab.groupby("site", sort=True):
        ok = sub[sub.eligible]
        first = sub.iloc[0]
        lat = first.get("lat") if np.isfinite(first.get("lat", np.nan)) else np.nan
        row = {"site": site, "igbp": first.get("igbp", ""), "koeppen": first.get("koeppen", ""),
               "lat": lat, "lon": first.get("lon", np.nan), "n_site_years": int(len(ok))}
        for c in cols:
            v = ok[c].to_numpy(float) if len(ok) else np.array([])
            s = ok[c + "_sd"].to_numpy(float) if len(ok) else np.array([])
            n = v.size
            row[c] = float(np.mean(v)) if n else np.nan
            between = float(np.var(v, ddof=1)) if n > 1 else 0.0
            row[c + "_sd"] = float(np.sqrt(np.nanmean(s**2) / n + between / n)) if n else np.nan
        row["climate_zone"] = climate_zone(float(ok.ta_mean.mean())) if len(ok) else "unknown"
        row["class_source"] = first.get("class_source", "")
        if all_sites or len(ok):
            rows.append(row)
    out = pd.DataFrame(rows)
    lead = ["site", "igbp", "koeppen", "lat", "lon", "n_site_years", "ratio_dtrh_nt_daytime", "ratio_dtrh_nt_daytime_sd",
            "ratio_dtrh_nt_annual", "ratio_dtrh_nt_annual_sd", "ratio_dtrh_dt_annual", "ratio_dtrh_dt_annual_sd"]
    return out[lead + [c for c in out.columns if c not in lead]]


def compare_with_li2022(site_ratios: pd.DataFrame, *, column: str = "ratio_dtrh_nt_daytime",
                        ratio_range=LI2022_RATIO_RANGE, n_boot: int = 4000, seed: int = 0) -> dict:
    """Do the towers support Li et al.'s "DT-RH daytime ER 16–37 % below NT/DT"?

    Median over sites of ``column`` with a bootstrap 95 % interval over sites, the share of sites whose
    ratio ± 2 SD overlaps ``ratio_range`` ([0.63, 0.84]), and a verdict worded by the numbers:
    "supports" when the interval of the median lies inside the range, "contradicts" when it lies
    entirely outside it, "inconclusive" otherwise (or with fewer than 3 sites).
    """
    v = site_ratios[[column, column + "_sd"]].dropna()
    x, s = v[column].to_numpy(float), v[column + "_sd"].to_numpy(float)
    lo, hi = ratio_range
    out = {"column": column, "n_sites": int(x.size), "range": (lo, hi)}
    if x.size == 0:
        out.update(median=np.nan, ci=(np.nan, np.nan), share_overlapping=np.nan, verdict="inconclusive")
        return out
    rng = np.random.default_rng(seed)
    bs = np.median(rng.choice(x, size=(n_boot, x.size), replace=True), axis=1)
    ci = (float(np.quantile(bs, 0.025)), float(np.quantile(bs, 0.975)))
    share = float(np.mean((x + 2 * s >= lo) & (x - 2 * s <= hi)))
    if x.size < 3:
        verdict = "inconclusive"
    elif lo <= ci[0] and ci[1] <= hi:
        verdict = "supports"
    elif ci[1] < lo or ci[0] > hi:
        verdict = "contradicts"
    else:
        verdict = "inconclusive"
    out.update(median=float(np.median(x)), ci=ci, share_overlapping=share, verdict=verdict,
               reduction_pct=100.0 * (1.0 - float(np.median(x))))
    return out


def outlier_groups(tab: pd.DataFrame) -> pd.DataFrame:
    """Median and largest |NT − ONEFlux| and |DT − ONEFlux| [%] of the eligible site-years by kind of
    tower: hourly vs half-hourly records, climate zone (boreal/temperate/tropical by mean air
    temperature) and croplands vs the rest — the usual suspects when partitioning methods disagree."""
    ok = tab[tab.eligible].copy()
    if ok.empty:
        return pd.DataFrame(columns=["group", "site-years", "median |ΔNT|", "median |ΔDT|", "largest |ΔDT|", "at"])
    ok["zone"] = [climate_zone(t) for t in ok.ta_mean]
    groups = {"hourly records": ok.hourly == 1, "half-hourly records": ok.hourly == 0,
              "boreal (MAT < 2 °C)": ok.zone == "boreal", "temperate": ok.zone == "temperate",
              "tropical (MAT > 17 °C)": ok.zone == "tropical", "croplands": ok.igbp == "CRO",
              "all other": ok.igbp != "CRO"}
    rows = []
    for name, m in groups.items():
        sub = ok[m]
        if sub.empty:
            continue
        i = sub.d_dt.abs().idxmax()
        rows.append({"group": name, "site-years": int(len(sub)), "median |ΔNT|": float(sub.d_nt.abs().median()),
                     "median |ΔDT|": float(sub.d_dt.abs().median()), "largest |ΔDT|": float(sub.d_dt.abs().max()),
                     "at": f"{sub.loc[i, 'site']} {int(sub.loc[i, 'year'])}"})
    return pd.DataFrame(rows)
