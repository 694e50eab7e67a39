"""Bookkeeping of the global land-sink chapter (notebook 00): the label every number carries
(:func:`source_label`), the indicators of the report (:func:`indicators`), the decadal table
(:func:`decadal_table`) and the formatted numbers the prose quotes (:func:`chapter_facts`). No algorithm
lives here; it assembles what :mod:`landcarbon.globalsink.residual`, :mod:`landcarbon.globalsink.enso`
and :mod:`landcarbon.globalsink.editions` compute.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from .residual import airborne_fraction, period_mean

__all__ = ["source_label", "indicators", "decadal_table", "chapter_facts"]


def source_label(*datasets: xr.Dataset) -> str:
    """"observations (GCB 2025 v1.0, NOAA GML, ONI)" or "DEMO twin" — the label every number carries.

    Built from ``attrs["source"]`` (``real:…`` / ``demo:…``, set by :func:`landcarbon.data.open_dataset`) and
    ``attrs["dataset_id"]`` of the datasets a number was computed from."""
    names = {"gcb-2025": "GCB 2025 v1.0", "gcb-2023": "GCB 2023 v1.1", "noaa-co2-gr-gl": "NOAA GML",
             "noaa-co2-annmean-gl": "NOAA GML", "oni": "ONI"}
    demo = [d for d in datasets if str(d.attrs.get("source", "")).startswith("demo:")]
    if demo:
        return "DEMO twin (synthetic, known truth)" + ("" if len(demo) == len(datasets) else " mixed with observations")
    labels = list(dict.fromkeys(names.get(d.attrs.get("dataset_id", ""), d.attrs.get("edition", d.attrs.get("title", "?")))
                                for d in datasets))
    return "observations (" + ", ".join(labels) + ")"


def indicators(res: xr.Dataset, *, trends: pd.DataFrame, enso: dict, editions: pd.DataFrame, g_atm: pd.DataFrame,
               labels: Mapping[str, str], edition_names: tuple[str, str] = ("GCB 2025 v1.0", "GCB 2023 v1.1"),
               twin: Mapping | None = None, twin_source: str | None = None) -> dict:
    """The chapter's key numbers as :class:`landcarbon.publish.reporting.Indicator` s.

    Every description names its period and ends with the data it came from (``labels``: ``"budget"`` for
    numbers from the budget + NOAA, ``"enso"`` for the ENSO response, ``"editions"`` for the revision).
    The last-decade mean is over the last ten years of ``res``.
    """
    from ..publish.reporting import Indicator

    years = res["year"].values
    last = int(years[-1])
    decade = (last - 9, last)
    d = period_mean(res, *decade)
    lab = labels["budget"]
    z95 = 1.959963984540054
    out = {
        "land_sink_latest": Indicator(
            float(res["land_sink_residual"].sel(year=last)), sigma=float(res["land_sink_residual_sigma"].sel(year=last)),
            units="PgC yr-1", description=f"Global land sink in {last} (residual E_FOS + E_LUC − G_ATM − S_OCEAN, 1σ) — {lab}"),
        "land_sink_decade": Indicator(
            d.value, sigma=d.sigma, units="PgC yr-1",
            description=f"Global land sink, {decade[0]}–{decade[1]} mean (residual, 1σ by the budget's conventions) — {lab}"),
        "land_sink_model_decade": Indicator(
            float(res["land_sink"].sel(year=slice(*decade)).mean()), sigma=float(res["land_sink_sigma"].sel(year=last)),
            units="PgC yr-1",
            description=f"Global land sink from the budget's vegetation models (S_LAND), {decade[0]}–{decade[1]} mean — {lab}"),
        "budget_imbalance_latest": Indicator(
            float(res["budget_imbalance"].sel(year=last)), units="PgC yr-1",
            description=f"Budget imbalance B_IM in {last} (residual minus model land sink) — {lab}"),
    }
    af = airborne_fraction(res)
    out["airborne_fraction_decade"] = Indicator(
        float(af["airborne_fraction"].sel(year=slice(*decade)).mean()), units="1",
        description=f"Airborne fraction G_ATM / (E_FOS + E_LUC), {decade[0]}–{decade[1]} mean — {lab}")
    names = {"land_sink_residual": ("land_sink_trend", "residual land sink", "PgC yr-1 decade-1"),
             "airborne_fraction": ("airborne_fraction_trend", "airborne fraction", "decade-1")}
    for _, row in trends.iterrows():
        if row["series"] not in names:
            continue
        key, what, unit = names[row["series"]]
        out[f"{key}_{row['start']}_{row['end']}"] = Indicator(
            row["slope_per_year"] * 10, sigma=(row["slope_high"] - row["slope_low"]) / 2 / z95 * 10, units=unit,
            description=f"Theil–Sen trend of the {what}, {row['start']}–{row['end']}, per decade (Hamed–Rao modified "
                        f"Mann–Kendall p = {row['p']:.2g}; σ = 95 % interval half-width / 1.96) — {lab}")
    out["enso_sensitivity"] = Indicator(
        enso["slope"], sigma=enso["se"], units="PgC yr-1 K-1",
        description=f"Change of the detrended land sink per kelvin of annual-mean ONI, {enso['years'][0]}–{enso['years'][1]} "
                    f"(95 % interval {_pm(enso['ci_low'])} to {_pm(enso['ci_high'])}) — {labels['enso']}")
    ls = editions.set_index("term").loc["land_sink_residual"]
    out["edition_revision_rms"] = Indicator(
        ls["rms_revision"], units="PgC yr-1",
        description=f"RMS revision of the annual residual land sink from {edition_names[1]} to {edition_names[0]}, "
                    f"{ls['period']} — {labels['editions']}")
    out["edition_revision_decade"] = Indicator(
        ls["mean_revision_last"], units="PgC yr-1",
        description=f"Mean revision of the residual land sink from {edition_names[1]} to {edition_names[0]}, "
                    f"{ls['last_period']} — {labels['editions']}")
    if twin is not None:
        out["twin_enso_coverage"] = Indicator(
            twin["coverage"], units="1",
            description=f"Share of {twin['n']} demo-twin realisations whose 95 % interval of the ENSO slope covers the "
                        f"true {twin['truth']} PgC yr-1 K-1 (1959–2024 twin) — DEMO twin (method test)",
            source=twin_source)
    since = g_atm[g_atm["year"] >= 1980]
    out["g_atm_noaa_max_difference"] = Indicator(
        float(np.abs(since["difference"]).max()), units="PgC yr-1",
        description=f"Largest |G_ATM from NOAA × 2.124 − budget G_ATM|, {int(since['year'].min())}–{int(since['year'].max())} "
                    f"— {lab}")
    return out


def decadal_table(res: xr.Dataset, *, first: int | None = None) -> pd.DataFrame:
    """Means over consecutive 10-year periods ending with the last year (the budget's way of reporting):
    residual land sink ± 1σ (:func:`period_mean`), model S_LAND and budget imbalance [PgC yr⁻¹]."""
    years = res["year"].values
    last = int(years[-1])
    first = int(years[0]) if first is None else first
    rows = []
    end = last
    while end - 9 >= first:
        est = period_mean(res, end - 9, end)
        sub = res.sel(year=slice(end - 9, end))
        rows.append({"period": f"{end - 9}–{end}", "residual": est.value, "residual_sigma": est.sigma,
                     "model": float(sub["land_sink"].mean()), "imbalance": float(sub["budget_imbalance"].mean())})
        end -= 10
    return pd.DataFrame(rows[::-1])


def _pm(value: float, sigma: float | None = None, digits: int = 2) -> str:
    s = f"{value:.{digits}f}".replace("-", "−")
    return s if sigma is None else f"{s} ± {sigma:.{digits}f}"


def chapter_facts(res: xr.Dataset, *, trends: pd.DataFrame, enso: dict, profile: pd.DataFrame, g_atm: pd.DataFrame,
                  editions: pd.DataFrame, co2_annual: xr.Dataset | None = None) -> dict[str, str]:
    """The numbers the chapter's prose quotes, formatted (glued into the text by the notebook)."""
    y = res["year"].values
    last = int(y[-1])
    r = res.sel(year=last)
    dec = period_mean(res, last - 9, last)
    u_rel = float((res["fossil_emissions_sigma"] / res["fossil_emissions"]).mean())
    emis = float(r["fossil_emissions"] + r["land_use_change_emissions"])
    facts = {
        "first_year": str(int(y[0])), "last_year": str(last), "decade": f"{last - 9}–{last}",
        "fossil_latest": _pm(float(r["fossil_emissions"]), float(r["fossil_emissions_sigma"]), 1),
        "luc_latest": _pm(float(r["land_use_change_emissions"]), float(r["land_use_change_emissions_sigma"]), 1),
        "gatm_latest": _pm(float(r["atmospheric_growth"]), float(r["atmospheric_growth_sigma"]), 1),
        "ocean_latest": _pm(float(r["ocean_sink"]), float(r["ocean_sink_sigma"]), 1),
        "carbonation_latest": _pm(float(r["cement_carbonation_sink"])),
        "airborne_latest": f"{float(r['atmospheric_growth']) / emis:.0%}",
        "sink_latest": _pm(float(r["land_sink_residual"]), float(r["land_sink_residual_sigma"])),
        "model_latest": _pm(float(r["land_sink"])), "imbalance_latest": _pm(float(r["budget_imbalance"])),
        "sink_decade": _pm(dec.value, dec.sigma), "fossil_rel_sigma": f"{u_rel:.0%}",
        "sink_sigma_latest": _pm(float(r["land_sink_residual_sigma"])),
    }
    lower = y[:-1][res["land_sink_residual"].values[:-1] < float(r["land_sink_residual"])]
    facts["lower_since"] = str(int(lower[-1])) if lower.size else f"the start of the record ({int(y[0])})"
    if last - 19 >= int(y[0]):
        prev = period_mean(res, last - 19, last - 10)
        facts.update({"prev_decade": f"{last - 19}–{last - 10}", "sink_prev_decade": _pm(prev.value, prev.sigma)})
    for _, row in trends.iterrows():
        key = f"{row['series']}_{row['start']}_{row['end']}"
        unit = 10.0
        digits = 2 if row["series"] == "land_sink_residual" else 3
        facts[f"trend_{key}"] = (f"{_pm(unit * row['slope_per_year'], None, digits)} (95 % interval "
                                 f"{_pm(unit * row['slope_low'], None, digits)} to {_pm(unit * row['slope_high'], None, digits)})")
        facts[f"p_{key}"] = f"{row['p']:.2g}"
        facts[f"p_original_{key}"] = f"{row['p_original']:.2g}"
        facts[f"vf_{key}"] = f"{row['variance_factor']:.2f}"
        facts[f"verdict_{key}"] = ("significant at the 5 % level" if row["p"] < 0.05
                                   else "not significant at the 5 % level")
    facts.update({
        "enso_slope": _pm(enso["slope"]), "enso_ci": f"{_pm(enso['ci_low'])} to {_pm(enso['ci_high'])}",
        "enso_ci_autocorr": f"{_pm(enso['ci_low_autocorr'])} to {_pm(enso['ci_high_autocorr'])}",
        "enso_years": f"{enso['years'][0]}–{enso['years'][1]}", "enso_n": str(enso["n"]), "enso_r": _pm(enso["r"]),
        "enso_lag": str(enso["lag_months"]), "enso_r2": f"{enso['r2']:.0%}",
    })
    neg = int((profile["ci_high"] < 0).sum())
    facts["enso_lags_negative"] = ("at every lag shown" if neg == len(profile)
                                   else f"at {neg} of the {len(profile)} lags shown")
    k = int(np.argmin(profile["slope"].values))
    facts.update({"enso_peak_lag": str(int(profile["lag_months"].iloc[k])), "enso_peak_slope": _pm(profile["slope"].iloc[k]),
                  "enso_peak_ci": f"{_pm(profile['ci_low'].iloc[k])} to {_pm(profile['ci_high'].iloc[k])}"})
    since = g_atm[g_atm["year"] >= 1980]
    facts.update({"gatm_max_diff": _pm(float(since["difference"].abs().max())),
                  "gatm_n_within": f"{int(since['within_sigma'].sum())} of {len(since)}",
                  "gatm_since": f"{int(since['year'].min())}–{int(since['year'].max())}"})
    e = editions.set_index("term")
    for term, key in (("land_sink_residual", "res"), ("land_sink", "model"), ("land_use_change_emissions", "luc"),
                      ("ocean_sink", "ocean"), ("budget_imbalance", "bim")):
        facts[f"rev_{key}_rms"] = _pm(e.loc[term, "rms_revision"])
        facts[f"rev_{key}_mean"] = _pm(e.loc[term, "mean_revision"])
        facts[f"rev_{key}_last"] = _pm(e.loc[term, "mean_revision_last"])
        facts[f"rev_{key}_max"] = f"{_pm(e.loc[term, 'max_abs_revision'])} ({int(e.loc[term, 'year_of_max'])})"
    facts["rev_last_period"] = str(e.loc["land_sink_residual", "last_period"])
    if co2_annual is not None:
        ly = int(co2_annual["year"].values[co2_annual["year"].values <= last][-1])
        facts.update({"co2_year": str(ly), "co2_latest": f"{float(co2_annual['co2'].sel(year=ly)):.1f}"})
    else:
        facts.update({"co2_year": "—", "co2_latest": "— (no NOAA annual means in this run)"})
    return facts
