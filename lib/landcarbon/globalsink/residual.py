"""The residual land sink and its uncertainty, G_ATM from NOAA, the airborne fraction and the sink's trends.

Budget identity (Friedlingstein et al. 2026, Global Carbon Budget 2025, Earth Syst. Sci. Data 18, 3211,
doi:10.5194/essd-18-3211-2026), all terms in PgC yr⁻¹ (= GtC yr⁻¹), positive as listed:

.. math:: E_{FOS} + E_{LUC} = G_{ATM} + S_{OCEAN} + S_{LAND} + B_{IM}

where the budget's E_FOS *includes* (is net of) the cement carbonation sink: E_FOS = E_FOS,excl −
S_CEMENT. The **residual land sink** is what the atmosphere and the ocean leave for the land:

.. math:: S_{LAND,res} = (E_{FOS,excl} - S_{CEMENT}) + E_{LUC} - G_{ATM} - S_{OCEAN}
          = S_{LAND} + B_{IM}.

``carbonation="subtract"`` (default) applies this; ``carbonation="ignore"`` uses E_FOS,excl, which
silently books the carbonation uptake (≈0.2 PgC yr⁻¹ in the 2020s) as a land sink.

Uncertainty (1σ) follows the conventions the budget states for each term (the notes of the workbook's
"Global Carbon Budget" sheet, parsed by :func:`landcarbon.globalsink.io.read_gcb_workbook`): fossil ±5 %,
E_LUC ±0.7, S_OCEAN ±0.4 PgC yr⁻¹, G_ATM from NOAA's per-year growth-rate uncertainty × 2.124 PgC ppm⁻¹
(the workbook: "around 0.2 GtC/yr from 1980"); the four terms are independent and combine in quadrature.
For a multi-year mean the fossil, land-use and ocean errors are treated as systematic (the same σ as one
year; the budget quotes its stated ±0.7 and ±0.4 PgC yr⁻¹ for multi-year means as well), while NOAA's annual
G_ATM errors are treated as independent (σ/√n) — our formulation, an upper bound for G_ATM because
consecutive annual increments share their end points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .. import units
from ..budget import Estimate, combine
from ..errors import ConfigError, DataError, located

__all__ = ["BudgetUncertainty", "stated_uncertainty", "residual_land_sink", "g_atm_from_noaa", "compare_g_atm",
           "period_mean", "airborne_fraction", "sink_trends", "TERMS", "SERIES_LABELS"]

#: Budget terms in the order of the identity, with their symbol.
TERMS = {
    "fossil_emissions": "E_FOS",
    "land_use_change_emissions": "E_LUC",
    "atmospheric_growth": "G_ATM",
    "ocean_sink": "S_OCEAN",
    "land_sink": "S_LAND",
    "budget_imbalance": "B_IM",
    "cement_carbonation_sink": "S_CEMENT",
}


#: Human names of the series the chapter tests for trends (tables show these).
SERIES_LABELS = {"land_sink_residual": "residual land sink (PgC yr⁻¹)", "land_sink": "model land sink (PgC yr⁻¹)",
                 "airborne_fraction": "airborne fraction (–)"}


@dataclass(frozen=True)
class BudgetUncertainty:
    """1σ uncertainties stated by a Global Carbon Budget edition (PgC yr⁻¹ unless relative)."""

    fossil_relative: float
    land_use_change: float
    ocean_sink: float
    land_sink_model: float
    atmospheric_growth: float
    atmospheric_growth_from_year: int
    edition: str = ""

    def as_table(self) -> pd.DataFrame:
        """The stated 1σ per term, for display."""
        return pd.DataFrame({
            "term": ["E_FOS (fossil)", "E_LUC (land-use change)", "G_ATM (atmospheric growth)", "S_OCEAN (ocean sink)",
                     "S_LAND (model land sink)"],
            "stated 1σ": [f"±{self.fossil_relative:.0%} of the value", f"±{self.land_use_change:g} PgC yr⁻¹",
                          f"around {self.atmospheric_growth:g} PgC yr⁻¹ from {self.atmospheric_growth_from_year}",
                          f"±{self.ocean_sink:g} PgC yr⁻¹ (on average)", f"±{self.land_sink_model:g} PgC yr⁻¹ (on average)"],
        })


def stated_uncertainty(budget: xr.Dataset) -> BudgetUncertainty:
    """The 1σ conventions a GCB workbook states (read from the variables' attributes).

    Raises :class:`DataError` when a term carries no stated uncertainty (e.g. a Dataset not produced by
    :func:`landcarbon.globalsink.io.read_gcb_workbook` or its extract)."""
    def get(var, key):
        try:
            return budget[var].attrs[key]
        except KeyError:
            raise DataError(located(f"{var!r} has no stated uncertainty ({key})", where="budget dataset",
                                    fix="load the budget with landcarbon.data.open_dataset('gcb-2025') or read_gcb_workbook")) from None

    return BudgetUncertainty(
        fossil_relative=float(get("fossil_emissions_excluding_carbonation", "uncertainty_1sigma_relative")),
        land_use_change=float(get("land_use_change_emissions", "uncertainty_1sigma")),
        ocean_sink=float(get("ocean_sink", "uncertainty_1sigma")),
        land_sink_model=float(get("land_sink", "uncertainty_1sigma")),
        atmospheric_growth=float(get("atmospheric_growth", "uncertainty_1sigma")),
        atmospheric_growth_from_year=int(get("atmospheric_growth", "uncertainty_from_year")),
        edition=str(budget.attrs.get("edition", "")),
    )


def g_atm_from_noaa(growth: xr.Dataset) -> xr.Dataset:
    """G_ATM [PgC yr⁻¹] and its 1σ from NOAA's global growth rate [ppm yr⁻¹].

    G_ATM = 2.124 PgC ppm⁻¹ × growth rate (:func:`landcarbon.units.ppm_to_PgC`; Ballantyne et al. 2012,
    doi:10.1038/nature11299, the factor the budget uses); σ likewise from NOAA's stated uncertainty.
    """
    for v in ("co2_growth_rate", "co2_growth_rate_uncertainty"):
        if v not in growth:
            raise DataError(located(f"missing variable {v!r}", where="NOAA growth dataset",
                                    fix="load it with open_dataset('noaa-co2-gr-gl')"))
    g = units.convert(growth["co2_growth_rate"], growth["co2_growth_rate"].attrs.get("units", "ppm yr-1"), "PgC yr-1",
                      where="co2_growth_rate")
    s = units.convert(growth["co2_growth_rate_uncertainty"], "ppm yr-1", "PgC yr-1", where="co2_growth_rate_uncertainty")
    return xr.Dataset({
        "atmospheric_growth": g.assign_attrs(units="PgC yr-1", long_name="G_ATM from the NOAA global growth rate x 2.124 PgC/ppm"),
        "atmospheric_growth_sigma": s.assign_attrs(units="PgC yr-1", long_name="1-sigma of G_ATM from NOAA's uncertainty"),
    })


def _aligned(da: xr.DataArray, years, what: str) -> xr.DataArray:
    missing = sorted(set(np.asarray(years).tolist()) - set(da["year"].values.tolist()))
    if missing:
        raise DataError(located(f"{what} lacks year(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}",
                                where=what, fix="use a budget period covered by both datasets (e.g. .sel(year=slice(...)))"))
    return da.sel(year=years)


def residual_land_sink(budget: xr.Dataset, noaa_growth: xr.Dataset | None = None, *, g_atm: str = "budget",
                       carbonation: str = "subtract") -> xr.Dataset:
    """Residual land sink S_LAND,res = E_FOS + E_LUC − G_ATM − S_OCEAN per year, with its 1σ.

    Parameters
    ----------
    budget : xarray.Dataset
        A GCB edition (:func:`~landcarbon.globalsink.io.read_gcb_workbook`, ``open_dataset('gcb-2025')``).
    noaa_growth : xarray.Dataset, optional
        NOAA global growth rate (``open_dataset('noaa-co2-gr-gl')``). Gives σ(G_ATM) per year; without it
        the budget's stated ~0.2 PgC yr⁻¹ is used from its stated first year (1980) and σ is NaN before.
    g_atm : {"budget", "noaa"}
        G_ATM from the budget's own column, or recomputed from NOAA (requires ``noaa_growth``).
    carbonation : {"subtract", "ignore"}
        ``"subtract"``: E_FOS = E_FOS,excl − S_CEMENT (the budget's convention); ``"ignore"``: E_FOS,excl,
        which attributes the carbonation uptake to the land.

    Returns
    -------
    xarray.Dataset
        On ``year``: ``fossil_emissions``, ``land_use_change_emissions``, ``atmospheric_growth``,
        ``ocean_sink``, ``land_sink_residual`` (uptake > 0) and a ``<name>_sigma`` for each [PgC yr⁻¹], plus the
        budget's model ``land_sink``, ``budget_imbalance`` and ``cement_carbonation_sink`` for comparison.
        σ(S_LAND,res)² = (f·E_FOS)² + σ_LUC² + σ_GATM² + σ_OCEAN² (independent terms, quadrature).
    """
    if carbonation not in ("subtract", "ignore"):
        raise ConfigError(located(f"carbonation must be 'subtract' or 'ignore', not {carbonation!r}",
                                  where="residual_land_sink"))
    if g_atm not in ("budget", "noaa"):
        raise ConfigError(located(f"g_atm must be 'budget' or 'noaa', not {g_atm!r}", where="residual_land_sink"))
    if g_atm == "noaa" and noaa_growth is None:
        raise ConfigError(located("g_atm='noaa' needs noaa_growth", where="residual_land_sink",
                                  fix="pass open_dataset('noaa-co2-gr-gl')"))
    u = stated_uncertainty(budget)
    years = budget["year"].values
    fos = budget["fossil_emissions_excluding_carbonation"]
    if carbonation == "subtract":
        fos = fos - budget["cement_carbonation_sink"]
    luc = budget["land_use_change_emissions"]
    ocean = budget["ocean_sink"]
    if noaa_growth is not None:
        noaa = g_atm_from_noaa(noaa_growth)
        sig_g = _aligned(noaa["atmospheric_growth_sigma"], years, "NOAA growth rate")
        growth = _aligned(noaa["atmospheric_growth"], years, "NOAA growth rate") if g_atm == "noaa" \
            else budget["atmospheric_growth"]
    else:
        growth = budget["atmospheric_growth"]
        sig_g = xr.where(budget["year"] >= u.atmospheric_growth_from_year, u.atmospheric_growth, np.nan)
    sig_fos = u.fossil_relative * fos
    sig_luc = xr.full_like(luc, u.land_use_change)
    sig_ocean = xr.full_like(ocean, u.ocean_sink)
    res = fos + luc - growth - ocean
    sig = np.sqrt(sig_fos**2 + sig_luc**2 + sig_g**2 + sig_ocean**2)
    a = {"units": "PgC yr-1"}
    out = xr.Dataset(coords={"year": budget["year"]})
    for name, v, s, ln in (("fossil_emissions", fos, sig_fos, "fossil CO2 emissions" + (" net of cement carbonation" if carbonation == "subtract" else " excluding carbonation")),
                           ("land_use_change_emissions", luc, sig_luc, "land-use change emissions"),
                           ("atmospheric_growth", growth, sig_g, "atmospheric CO2 growth" + (" (NOAA x 2.124)" if g_atm == "noaa" else " (budget)")),
                           ("ocean_sink", ocean, sig_ocean, "ocean sink"),
                           ("land_sink_residual", res, sig, "residual land sink E_FOS + E_LUC - G_ATM - S_OCEAN (uptake > 0)")):
        out[name] = xr.DataArray(np.asarray(v, dtype=float), dims="year", coords={"year": budget["year"]},
                                 attrs={**a, "long_name": ln})
        out[name + "_sigma"] = xr.DataArray(np.asarray(s, dtype=float), dims="year", coords={"year": budget["year"]},
                                            attrs={**a, "long_name": "1-sigma of " + ln})
    for name in ("land_sink", "budget_imbalance", "cement_carbonation_sink"):
        out[name] = budget[name].copy()
    out["land_sink_sigma"] = xr.full_like(budget["land_sink"], u.land_sink_model).assign_attrs(
        a, long_name="stated 1-sigma of the model land sink (on average)")
    out.attrs.update({"edition": u.edition, "g_atm": g_atm, "carbonation": carbonation,
                      "formula": "S_LAND,res = E_FOS + E_LUC - G_ATM - S_OCEAN"
                                 + (", E_FOS = E_FOS,excl - S_CEMENT" if carbonation == "subtract" else ", E_FOS = E_FOS,excl"),
                      "uncertainty": f"quadrature of fossil {u.fossil_relative:.0%}, E_LUC {u.land_use_change}, "
                                     f"S_OCEAN {u.ocean_sink} PgC/yr and G_ATM "
                                     + ("from NOAA's per-year uncertainty" if noaa_growth is not None else
                                        f"{u.atmospheric_growth} PgC/yr from {u.atmospheric_growth_from_year}")})
    return out


def period_mean(res: xr.Dataset, start: int, end: int, variable: str = "land_sink_residual") -> Estimate:
    """Mean over the years start…end (inclusive) with the budget's 1σ for a multi-year mean.

    For ``land_sink_residual``: σ² = (f·mean E_FOS)² + σ_LUC² + σ_OCEAN² + (√Σσ_G,i² / n)² — fossil, land-use
    and ocean errors systematic (not reduced by averaging, as the budget reports decadal means), NOAA's annual
    G_ATM errors independent (our formulation). For another variable with a ``<variable>_sigma``: the
    stated σ is treated as systematic (mean of the σ's).
    """
    years = res["year"].values
    if start > end or start < years.min() or end > years.max():
        raise ConfigError(located(f"period {start}-{end} outside the data ({years.min()}-{years.max()})",
                                  where="period_mean", fix="choose years inside the series"))
    sub = res.sel(year=slice(start, end))
    value = float(sub[variable].mean())
    if variable == "land_sink_residual":
        f = float((sub["fossil_emissions_sigma"] / sub["fossil_emissions"]).mean())
        sig_g = float(np.sqrt(np.sum(sub["atmospheric_growth_sigma"].values ** 2)) / sub.sizes["year"])
        sigma = combine([0, 0, 0, 0], [f * float(sub["fossil_emissions"].mean()),
                                       float(sub["land_use_change_emissions_sigma"].mean()),
                                       float(sub["ocean_sink_sigma"].mean()), sig_g], mode="quadrature").sigma
    elif variable + "_sigma" in sub:
        sigma = float(sub[variable + "_sigma"].mean())
    else:
        sigma = math.nan
    return Estimate(value, sigma)


def compare_g_atm(budget: xr.Dataset, noaa_growth: xr.Dataset, *, since: int | None = None) -> pd.DataFrame:
    """G_ATM of the budget vs G_ATM recomputed from NOAA, year by year.

    Columns: ``year``, ``budget`` and ``noaa`` [PgC yr⁻¹], ``difference`` (NOAA − budget), ``sigma`` (NOAA's
    1σ × 2.124), ``z`` (difference / sigma) and ``within_sigma`` (|difference| ≤ sigma).
    """
    noaa = g_atm_from_noaa(noaa_growth)
    years = budget["year"].values if since is None else budget["year"].values[budget["year"].values >= since]
    gb = budget["atmospheric_growth"].sel(year=years).values
    gn = _aligned(noaa["atmospheric_growth"], years, "NOAA growth rate").values
    sg = _aligned(noaa["atmospheric_growth_sigma"], years, "NOAA growth rate").values
    d = gn - gb
    return pd.DataFrame({"year": years, "budget": gb, "noaa": gn, "difference": d, "sigma": sg, "z": d / sg,
                         "within_sigma": np.abs(d) <= sg + 1e-9})   # NOAA rounds to 0.01 ppm: ties count as within


def airborne_fraction(res: xr.Dataset) -> xr.Dataset:
    """Airborne fraction AF = G_ATM / (E_FOS + E_LUC) and its first-order 1σ.

    σ_AF² = (σ_G / E)² + (G σ_E / E²)², σ_E² = σ_FOS² + σ_LUC² (independent terms). Dimensionless.
    Canadell et al. (2007), doi:10.1073/pnas.0702737104.
    """
    e = res["fossil_emissions"] + res["land_use_change_emissions"]
    se = np.sqrt(res["fossil_emissions_sigma"] ** 2 + res["land_use_change_emissions_sigma"] ** 2)
    g = res["atmospheric_growth"]
    af = g / e
    saf = np.sqrt((res["atmospheric_growth_sigma"] / e) ** 2 + (g * se / e**2) ** 2)
    return xr.Dataset({"airborne_fraction": af.assign_attrs(units="1", long_name="airborne fraction G_ATM/(E_FOS+E_LUC)"),
                       "airborne_fraction_sigma": saf.assign_attrs(units="1", long_name="1-sigma of the airborne fraction")})


def sink_trends(series: Mapping[str, xr.DataArray], periods: Sequence[tuple[int, int]] = ((1959, 2024), (1990, 2024)),
                *, method: str = "hamed_rao", alpha: float = 0.05) -> pd.DataFrame:
    """Theil–Sen trends with a Mann–Kendall test for each series and period.

    Uses :func:`landcarbon.trends.mk_test`; the default ``method="hamed_rao"`` is the Hamed & Rao (1998)
    variance correction (doi:10.1016/S0022-1694(97)00125-X), valid when the series is autocorrelated
    (the plain test is too liberal then). Slopes in the series' units per year and per decade; the
    confidence interval of the slope is Sen's (1968) at 1 − alpha.
    """
    from ..trends import mk_test

    rows = []
    for name, da in series.items():
        for start, end in periods:
            sub = da.sel(year=slice(start, end))
            if sub.sizes["year"] != end - start + 1:
                raise DataError(located(f"{name} does not cover {start}-{end}", where="sink_trends",
                                        fix="choose periods inside the series"))
            r = mk_test(sub.values, method, alpha)
            original = mk_test(sub.values, "original", alpha)
            tfpw = mk_test(sub.values, "tfpw", alpha)
            rows.append({"series": name, "label": SERIES_LABELS.get(name, name), "period": f"{start}–{end}",
                         "start": start, "end": end, "n": int(r["n"]),
                         "slope_per_year": float(r["slope"]), "intercept": float(r["intercept"]),
                         "slope_low": float(r["slope_low"]),
                         "slope_high": float(r["slope_high"]), "z": float(r["z"]), "p": float(r["p"]),
                         "p_original": float(original["p"]), "p_tfpw": float(tfpw["p"]), "variance_factor": float(r["variance_factor"]),
                         "significant": bool(r["significant"]), "method": method,
                         "units": da.attrs.get("units", "")})
    return pd.DataFrame(rows)
