"""Residual land sink, uncertainties, G_ATM, trends and ENSO response: independent oracles (numbers summed by
hand from workbook cells, statsmodels, pymannkendall, a Monte Carlo), the demo twin's known truth across
realisations, and the real observations (GCB 2025, NOAA GML, ONI)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr

from landcarbon.data import EMBEDDED_DIR
from landcarbon.errors import ConfigError, DataError
from landcarbon.globalsink import demo, io
from landcarbon.globalsink import sink as S

EXTRACTS = EMBEDDED_DIR / "globalsink"


@pytest.fixture(scope="module")
def budget():
    """GCB 2025 v1.0 from the shipped extract (identical to the workbook: tests/test_extracts.py)."""
    return io.read_gcb_extract([EXTRACTS / "Global_Carbon_Budget_2025_v1.0.global.csv"], edition="GCB 2025 v1.0")


@pytest.fixture(scope="module")
def budget23():
    return io.read_gcb_extract([EXTRACTS / "Global_Carbon_Budget_2023v1.1.global.csv"], edition="GCB 2023 v1.1")


@pytest.fixture(scope="module")
def growth():
    return io.read_extract_csv([EXTRACTS / "co2-gr-gl.csv"])


@pytest.fixture(scope="module")
def oni():
    return io.read_extract_csv([EXTRACTS / "oni.csv"])


@pytest.fixture(scope="module")
def res(budget, growth):
    return S.residual_land_sink(budget, growth)


def _workbook() -> Path | None:
    for entry in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep):
        p = Path(entry) / "global-carbon-budget" / "Global_Carbon_Budget_2025_v1.0.xlsx"
        if entry and p.is_file():
            return p
    return None


# ------------------------------------------------------------------------------- the budget's own numbers
@pytest.mark.realdata
def test_residual_sink_2014_2023_equals_the_sum_by_hand_from_workbook_cells(res):
    """E_FOS + E_LUC − G_ATM − S_OCEAN from cells B, G, C, D, E of rows 78–87 (2014–2023), by hand."""
    path = _workbook()
    if path is None:
        pytest.skip("GCB 2025 workbook not on LANDCARBON_DATA_PATH")
    ws = openpyxl.load_workbook(path, read_only=True, data_only=True)["Global Carbon Budget"]
    by_hand = []
    for row in ws.iter_rows(min_row=78, max_row=87, max_col=8, values_only=True):
        year, fos_excl, luc, gatm, ocean, _, carbonation, _ = row
        assert 2014 <= year <= 2023
        by_hand.append((fos_excl - carbonation) + luc - gatm - ocean)
    est = S.period_mean(res, 2014, 2023)
    assert abs(est.value - sum(by_hand) / len(by_hand)) < 0.05
    assert abs(est.value - sum(by_hand) / len(by_hand)) < 1e-12     # in fact identical


def test_reference_numbers_of_gcb_2025(res, budget):
    """Published-number check (computed from the GCB 2025 v1.0 global sheet): residual land
    sink 2014–2023 mean 2.74, 2015–2024 mean 2.38, 2024 ≈ 0.25 PgC/yr; model S_LAND 2024 1.94, B_IM −1.69."""
    assert round(S.period_mean(res, 2014, 2023).value, 2) == 2.74
    assert round(S.period_mean(res, 2015, 2024).value, 2) == 2.38
    assert round(float(res["land_sink_residual"].sel(year=2024)), 2) == 0.25
    assert round(float(budget["land_sink"].sel(year=2024)), 2) == 1.94
    assert round(float(budget["budget_imbalance"].sel(year=2024)), 2) == -1.69


def test_identity_residual_equals_model_sink_plus_imbalance(res):
    np.testing.assert_allclose(res["land_sink_residual"], res["land_sink"] + res["budget_imbalance"], atol=1e-12)


def test_carbonation_is_explicit(budget):
    a = S.residual_land_sink(budget, carbonation="subtract")["land_sink_residual"]
    b = S.residual_land_sink(budget, carbonation="ignore")["land_sink_residual"]
    np.testing.assert_allclose(b - a, budget["cement_carbonation_sink"], atol=1e-12)
    with pytest.raises(ConfigError):
        S.residual_land_sink(budget, carbonation="maybe")


def test_sigma_by_the_budget_conventions(res, growth, budget):
    """Per year: quadrature of 5 % fossil, 0.7, 0.4 and NOAA's growth σ × 2.124 — recomputed by hand."""
    y = 2024
    fos = float(budget["fossil_emissions_excluding_carbonation"].sel(year=y) - budget["cement_carbonation_sink"].sel(year=y))
    sg = 2.124 * float(growth["co2_growth_rate_uncertainty"].sel(year=y))
    expect = np.sqrt((0.05 * fos) ** 2 + 0.7**2 + sg**2 + 0.4**2)
    assert float(res["land_sink_residual_sigma"].sel(year=y)) == pytest.approx(expect, rel=1e-12)
    # decade: fossil/LUC/ocean systematic, G_ATM independent years
    sub = res.sel(year=slice(2015, 2024))
    sig_g = np.sqrt(np.sum((2.124 * growth["co2_growth_rate_uncertainty"].sel(year=slice(2015, 2024)).values) ** 2)) / 10
    expect = np.sqrt((0.05 * float(sub["fossil_emissions"].mean())) ** 2 + 0.49 + 0.16 + sig_g**2)
    assert S.period_mean(res, 2015, 2024).sigma == pytest.approx(expect, rel=1e-12)
    # without NOAA: the workbook's "around 0.2 from 1980", NaN before
    r0 = S.residual_land_sink(budget)
    assert np.isnan(float(r0["atmospheric_growth_sigma"].sel(year=1979)))
    assert float(r0["atmospheric_growth_sigma"].sel(year=1980)) == 0.2


def test_stated_uncertainty_is_required():
    ds = demo.demo_global_budget(1)
    ds["ocean_sink"].attrs.pop("uncertainty_1sigma")
    with pytest.raises(DataError, match="ocean_sink"):
        S.residual_land_sink(ds)


# ----------------------------------------------------------------------------------------- G_ATM (NOAA)
def test_g_atm_from_noaa_within_the_stated_uncertainty_since_1980(budget, growth, budget23):
    """NOAA's global growth rate × 2.124 PgC/ppm reproduces the budget's G_ATM within NOAA's 1σ and within
    the budget's stated ~0.2 PgC/yr in every year since 1980 (both editions)."""
    for b in (budget, budget23):
        t = S.compare_g_atm(b, growth, since=1980)
        assert len(t) == int(b["year"].values[-1]) - 1979
        assert t["within_sigma"].all(), t[~t["within_sigma"]]
        assert (t["difference"].abs() <= 0.2).all()
    t = S.compare_g_atm(budget, growth)
    np.testing.assert_allclose(t["noaa"], 2.124 * growth["co2_growth_rate"].sel(year=t["year"].values).values, rtol=1e-15)


# ------------------------------------------------------------------------------------------- oracles
def test_enso_regression_matches_statsmodels(res, oni):
    import statsmodels.api as sm

    e = S.enso_regression(res["land_sink_residual"], oni["oni"], lag_months=3)
    x = S.annual_index(oni["oni"], lag_months=3).sel(year=e["year"]).values
    y = res["land_sink_residual"].sel(year=e["year"]).values
    t = e["year"] - e["year"].mean()
    fit = sm.OLS(y, np.column_stack([np.ones_like(x), x, t])).fit()
    assert e["slope"] == pytest.approx(fit.params[1], rel=1e-10)
    assert e["se"] == pytest.approx(fit.bse[1], rel=1e-10)
    lo, hi = fit.conf_int(0.05)[1]
    assert (e["ci_low"], e["ci_high"]) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))


def test_annual_index_windows_by_hand():
    t = pd.date_range("2000-01-01", "2003-12-01", freq="MS")
    v = np.arange(t.size, dtype=float)
    da = xr.DataArray(v, dims="time", coords={"time": t}, name="x")
    a0 = S.annual_index(da, lag_months=0)
    a6 = S.annual_index(da, lag_months=6)
    assert float(a0.sel(year=2001)) == np.mean(v[12:24])           # Jan–Dec 2001
    assert float(a6.sel(year=2001)) == np.mean(v[6:18])            # Jul 2000 – Jun 2001
    assert np.isnan(float(a6.sel(year=2004)))                      # only 6 months
    with pytest.raises(ConfigError):
        S.annual_index(da, lag_months=-1)


def test_trends_match_pymannkendall(res):
    import pymannkendall as mk

    af = S.airborne_fraction(res)["airborne_fraction"]
    t = S.sink_trends({"land_sink_residual": res["land_sink_residual"], "airborne_fraction": af})
    for _, row in t.iterrows():
        x = (res["land_sink_residual"] if row["series"] == "land_sink_residual" else af).sel(
            year=slice(row["start"], row["end"])).values
        peer = mk.hamed_rao_modification_test(x)
        assert row["slope_per_year"] == pytest.approx(peer.slope, rel=1e-12)
        assert row["z"] == pytest.approx(peer.z, rel=1e-9)
        assert row["p"] == pytest.approx(peer.p, rel=1e-6, abs=1e-12)


def test_airborne_fraction_sigma_matches_monte_carlo(res):
    """First-order σ of AF = G/(E_FOS+E_LUC) against 200 000 Gaussian draws of the three terms (2024)."""
    s = res.sel(year=2024)
    rng = np.random.default_rng(7)
    n = 200_000
    g = rng.normal(float(s["atmospheric_growth"]), float(s["atmospheric_growth_sigma"]), n)
    f = rng.normal(float(s["fossil_emissions"]), float(s["fossil_emissions_sigma"]), n)
    luc = rng.normal(float(s["land_use_change_emissions"]), float(s["land_use_change_emissions_sigma"]), n)
    mc = np.std(g / (f + luc))
    af = S.airborne_fraction(res).sel(year=2024)
    assert float(af["airborne_fraction_sigma"]) == pytest.approx(mc, rel=0.03)


def test_edition_revisions_add_up(budget, budget23, growth):
    cmp = S.compare_editions(budget, budget23, growth)
    assert cmp["year"].values[0] == 1959 and cmp["year"].values[-1] == 2022
    total = (cmp["fossil_emissions_revision"] + cmp["land_use_change_emissions_revision"]
             - cmp["atmospheric_growth_revision"] - cmp["ocean_sink_revision"])
    np.testing.assert_allclose(cmp["land_sink_residual_revision"], total, atol=1e-12)
    summ = S.edition_summary(cmp)
    row = summ.set_index("term").loc["land_sink_residual"]
    d = cmp["land_sink_residual_revision"].values
    assert row["rms_revision"] == pytest.approx(np.sqrt(np.mean(d**2)))
    assert row["last_period"] == "2013–2022"


# --------------------------------------------------------------------------------- truth on the demo twin
def test_twin_recovers_its_enso_sensitivity_and_trend():
    """Across 40 twin realisations: the 95 % interval of the ENSO slope covers the truth in ≥ 85 % of them
    and the mean slope is within 3 standard errors of the truth; the Theil–Sen trend of the true sink covers
    the true trend in ≥ 85 %; the residual is within 2σ of the true sink in ≥ 88 % of all years."""
    cover, slopes, trend_cover, within = [], [], [], []
    for seed in range(40):
        b, g, o = demo.demo_global_budget(seed), demo.demo_co2_growth(seed), demo.demo_oni(seed)
        r = S.residual_land_sink(b, g)
        e = S.enso_regression(r["land_sink_residual"], o["oni"])
        cover.append(e["ci_low"] <= b.attrs["truth_enso_sensitivity"] <= e["ci_high"])
        slopes.append(e["slope"])
        if seed < 10:
            t = S.sink_trends({"true": b["land_sink_true"]}, periods=((1959, 2024),))
            trend_cover.append(t["slope_low"][0] <= b.attrs["truth_trend_per_year"] <= t["slope_high"][0])
        err = np.abs(r["land_sink_residual"] - b["land_sink_true"]) <= 2 * r["land_sink_residual_sigma"]
        within.append(float(err.mean()))
    truth = demo.DEMO_TRUTH["enso_sensitivity"]
    assert np.mean(cover) >= 0.85
    assert abs(np.mean(slopes) - truth) < 3 * np.std(slopes) / np.sqrt(len(slopes))
    assert np.mean(trend_cover) >= 0.8
    assert np.mean(within) >= 0.88


def test_twin_editions_share_one_truth():
    new, old = demo.demo_global_budget(3), demo.demo_global_budget(3, last_year=2022, edition=2023)
    np.testing.assert_array_equal(new["land_sink_true"].sel(year=slice(1959, 2022)), old["land_sink_true"])
    assert not np.allclose(new["land_use_change_emissions"].sel(year=slice(1959, 2022)), old["land_use_change_emissions"])


# ----------------------------------------------------------------------------------------- observations
@pytest.mark.realdata
def test_el_nino_weakens_the_land_sink(res, oni):
    """The well-known weaker land sink in El Niño years comes out of the data: slope < 0 with a 95 % interval
    excluding zero, classical and autocorrelation-adjusted (1959–2021, calendar-year ONI)."""
    e = S.enso_regression(res["land_sink_residual"], oni["oni"])
    assert e["years"] == (1959, 2021)
    assert e["slope"] < 0 and e["ci_high"] < 0 and e["ci_high_autocorr"] < 0
    prof = S.enso_lag_profile(res["land_sink_residual"], oni["oni"], lags=(0, 3, 6, 12))
    assert (prof["ci_high"] < 0).all()


def test_indicators_name_period_and_source(res, oni, budget, budget23, growth):
    af = S.airborne_fraction(res)["airborne_fraction"]
    tr = S.sink_trends({"land_sink_residual": res["land_sink_residual"], "airborne_fraction": af})
    e = S.enso_regression(res["land_sink_residual"], oni["oni"])
    summ = S.edition_summary(S.compare_editions(budget, budget23, growth))
    labels = {"budget": "observations (GCB 2025 v1.0, NOAA GML)", "enso": "observations (GCB 2025 v1.0, NOAA GML, ONI)",
              "editions": "observations (GCB 2025 v1.0, GCB 2023 v1.1)"}
    ind = S.indicators(res, trends=tr, enso=e, editions=summ, g_atm=S.compare_g_atm(budget, growth), labels=labels)
    assert {"land_sink_latest", "land_sink_decade", "land_sink_trend_1959_2024", "land_sink_trend_1990_2024",
            "airborne_fraction_trend_1959_2024", "enso_sensitivity", "edition_revision_rms"} <= set(ind)
    assert ind["land_sink_decade"].value == pytest.approx(S.period_mean(res, 2015, 2024).value)
    assert "2015–2024" in ind["land_sink_decade"].description
    for k, v in ind.items():
        assert "observations" in v.description, k
        assert any(str(y) in v.description for y in range(1959, 2025)), k
