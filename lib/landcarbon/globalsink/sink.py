"""The residual land sink, its uncertainty, trends, ENSO response and the stability across budget editions.

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
           "period_mean", "airborne_fraction", "sink_trends", "annual_index", "enso_regression", "enso_lag_profile",
           "compare_editions", "edition_summary", "indicators", "source_label", "decadal_table", "twin_enso_check",
           "chapter_facts", "TERMS"]

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


def annual_index(index: xr.DataArray, *, lag_months: int = 0, min_months: int = 12) -> xr.DataArray:
    """Annual mean of a monthly index (``time``) over the 12 months ending ``lag_months`` before December.

    Year y averages the months (Jan y − lag) … (Dec y − lag): lag 0 is the calendar year, lag 6 the 12
    months from July of y−1 to June of y. Years with fewer than ``min_months`` valid months are NaN.
    """
    if not 0 <= lag_months <= 24:
        raise ConfigError(located(f"lag_months must be within 0-24, got {lag_months}", where="annual_index"))
    t = index["time"].values.astype("datetime64[M]")
    m = (t.astype(int) + lag_months)                    # months since 1970-01, shifted forward by the lag
    years = 1970 + m // 12
    s = pd.Series(index.values.astype(float), index=years)
    counts = s.groupby(level=0).count()
    means = s.groupby(level=0).mean().where(counts >= min_months)
    return xr.DataArray(means.values, dims="year", coords={"year": means.index.values.astype(np.int64)},
                        attrs={"units": index.attrs.get("units", ""), "lag_months": lag_months,
                               "long_name": f"annual mean of {index.name} over the 12 months ending {lag_months} month(s) before December"})


def _lag1(x: np.ndarray) -> float:
    y = x - x.mean()
    return float(np.sum(y[1:] * y[:-1]) / np.sum(y * y))


def enso_regression(sink: xr.DataArray, oni: xr.DataArray, *, lag_months: int = 0, detrend: str = "ols",
                    alpha: float = 0.05, years: tuple[int, int] | None = None) -> dict:
    """Regression of the land sink on the annual-mean ONI, with a linear trend removed.

    sink_y = a + b·(y − ȳ) + β·ONI_y + ε_y (``detrend="ols"``; ``"none"`` drops the time term), ordinary least
    squares over the years with both series, ONI_y = :func:`annual_index` (lag ``lag_months``). Including the
    time term is the same as regressing the detrended sink on the detrended ONI (Frisch–Waugh–Lovell), so a
    chance trend of ONI cannot bias β. Returns β [PgC yr⁻¹ K⁻¹], its standard error and two 1 − alpha
    intervals: the classical one (Student t, n − p dof) and one for autocorrelated residuals using the
    effective sample size n_eff = n (1 − r_x r_e)/(1 + r_x r_e), r_x and r_e the lag-1 autocorrelations of the
    detrended ONI and of the residuals (Bretherton et al. 1999, doi:10.1175/1520-0442(1999)012<1990:TENOSD>2.0.CO;2,
    eq. 31; our use for one regressor). A negative β is a weaker land sink in El Niño years.
    """
    from scipy import stats

    if detrend not in ("ols", "none"):
        raise ConfigError(located(f"detrend must be 'ols' or 'none', got {detrend!r}", where="enso_regression"))
    x_all = annual_index(oni, lag_months=lag_months)
    ok = np.isfinite(sink.values)
    common = np.intersect1d(sink["year"].values[ok], x_all["year"].values[np.isfinite(x_all.values)])
    if years is not None:
        common = common[(common >= years[0]) & (common <= years[1])]
    if common.size < 10:
        raise DataError(located(f"only {common.size} years with both the sink and the ONI", where="enso_regression",
                                fix="use longer series"))
    y = sink.sel(year=common).values.astype(float)
    x = x_all.sel(year=common).values.astype(float)
    t = common.astype(float) - common.mean()
    cols = [np.ones_like(t), x] + ([t] if detrend == "ols" else [])
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    n, p = X.shape
    s2 = float(resid @ resid / (n - p))
    cov = s2 * np.linalg.inv(X.T @ X)
    beta, se = float(coef[1]), float(np.sqrt(cov[1, 1]))
    tq = stats.t.ppf(1 - alpha / 2, n - p)
    xd = x - (np.polyval(np.polyfit(t, x, 1), t) if detrend == "ols" else x.mean())
    rx, re_ = _lag1(xd), _lag1(resid)
    rho = max(rx * re_, 0.0)
    n_eff = n * (1 - rho) / (1 + rho)
    se_eff = se * math.sqrt((n - p) / max(n_eff - p, 1.0))
    tq_eff = stats.t.ppf(1 - alpha / 2, max(n_eff - p, 1.0))
    y_detrended = y - (coef[2] * t if detrend == "ols" else 0.0)
    r = float(np.corrcoef(xd, resid + beta * xd)[0, 1])
    return {"slope": beta, "intercept": float(coef[0]), "se": se, "ci_low": beta - tq * se, "ci_high": beta + tq * se,
            "se_autocorr": se_eff, "ci_low_autocorr": beta - tq_eff * se_eff, "ci_high_autocorr": beta + tq_eff * se_eff,
            "n": n, "n_eff": n_eff, "dof": n - p, "r": r, "r2": r * r, "lag_months": lag_months,
            "years": (int(common[0]), int(common[-1])), "r1_index": rx, "r1_residual": re_, "alpha": alpha,
            "x": x, "y_detrended": y_detrended, "year": common, "trend_per_year": float(coef[2]) if detrend == "ols" else 0.0,
            "detrend": detrend, "units": "PgC yr-1 K-1"}


def enso_lag_profile(sink: xr.DataArray, oni: xr.DataArray, lags: Sequence[int] = tuple(range(0, 13)),
                     **kwargs) -> pd.DataFrame:
    """:func:`enso_regression` for each lag: slope, intervals, r (shows how the response depends on timing)."""
    rows = []
    for lag in lags:
        r = enso_regression(sink, oni, lag_months=int(lag), **kwargs)
        rows.append({k: r[k] for k in ("lag_months", "slope", "ci_low", "ci_high", "ci_low_autocorr",
                                         "ci_high_autocorr", "r", "n", "n_eff")}
                    | {"first_year": r["years"][0], "last_year": r["years"][1]})
    return pd.DataFrame(rows)


def compare_editions(new: xr.Dataset, old: xr.Dataset, noaa_growth: xr.Dataset | None = None) -> xr.Dataset:
    """Differences new − old of every budget term and of the residual land sink over the common years."""
    common = np.intersect1d(new["year"].values, old["year"].values)
    rn = residual_land_sink(new.sel(year=common), noaa_growth)
    ro = residual_land_sink(old.sel(year=common), noaa_growth)
    out = xr.Dataset(coords={"year": ("year", common)})
    for v in ("fossil_emissions", "land_use_change_emissions", "atmospheric_growth", "ocean_sink", "land_sink_residual",
              "land_sink", "budget_imbalance"):
        out[v + "_new"] = rn[v]
        out[v + "_old"] = ro[v]
        out[v + "_revision"] = (rn[v] - ro[v]).assign_attrs(units="PgC yr-1", long_name=f"{v}: new minus old edition")
    out.attrs.update({"new": new.attrs.get("edition", "new"), "old": old.attrs.get("edition", "old")})
    return out


def edition_summary(cmp: xr.Dataset, *, last_years: int = 10) -> pd.DataFrame:
    """Per term: mean and RMS revision over all common years, the largest |revision| and its year, and the
    mean revision over the last ``last_years`` common years [PgC yr⁻¹]."""
    rows = []
    y = cmp["year"].values
    for v in [k[:-len("_revision")] for k in cmp.data_vars if k.endswith("_revision")]:
        d = cmp[v + "_revision"].values
        k = int(np.argmax(np.abs(d)))
        rows.append({"term": v, "symbol": TERMS.get(v, "S_LAND,res" if v == "land_sink_residual" else v),
                     "mean_revision": float(d.mean()), "rms_revision": float(np.sqrt(np.mean(d**2))),
                     "max_abs_revision": float(abs(d[k])), "year_of_max": int(y[k]),
                     "mean_revision_last": float(d[-last_years:].mean()),
                     "period": f"{y[0]}–{y[-1]}", "last_period": f"{y[-last_years]}–{y[-1]}"})
    return pd.DataFrame(rows)


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


def twin_enso_check(n: int = 20, *, first_seed: int = 1, lag_months: int = 0) -> tuple[pd.DataFrame, dict]:
    """Run the ENSO regression on ``n`` realisations of the demo twin (known sensitivity): per realisation
    the slope, its 95 % interval and whether it covers the truth; summary: mean slope, its spread, coverage."""
    from .demo import DEMO_TRUTH, demo_co2_growth, demo_global_budget, demo_oni

    rows = []
    for seed in range(first_seed, first_seed + n):
        b, g, o = demo_global_budget(seed), demo_co2_growth(seed), demo_oni(seed)
        r = residual_land_sink(b, g)
        e = enso_regression(r["land_sink_residual"], o["oni"], lag_months=lag_months)
        rows.append({"seed": seed, "slope": e["slope"], "ci_low": e["ci_low"], "ci_high": e["ci_high"],
                     "covers_truth": e["ci_low"] <= DEMO_TRUTH["enso_sensitivity"] <= e["ci_high"]})
    df = pd.DataFrame(rows)
    summary = {"truth": DEMO_TRUTH["enso_sensitivity"], "mean_slope": float(df["slope"].mean()),
               "sd_slope": float(df["slope"].std(ddof=1)), "coverage": float(df["covers_truth"].mean()), "n": n}
    return df, summary


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
