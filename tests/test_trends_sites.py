"""Trends at towers: seasonal / correlated seasonal tests per tower against pymannkendall, FDR control, the
regional test per zone; the chapter's size table and partial-test table."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pmk = pytest.importorskip("pymannkendall")

from landcarbon import trends as tr  # noqa: E402
from landcarbon.errors import DataError  # noqa: E402
from landcarbon.trends import chapter as TC  # noqa: E402


def _towers(n=12, years=14, seed=0):
    rng = np.random.default_rng(seed)
    time = pd.date_range("1995-01-01", periods=12 * years, freq="MS")
    season = 2 + np.sin(2 * np.pi * (time.month.to_numpy() - 4) / 12)
    x = season[None] + rng.normal(0, 0.3, (n, time.size)) + rng.normal(0, 0.02, (n, 1)) * np.arange(time.size)[None] / 12
    x[1, :40] = np.nan                                     # a shorter record
    x[2, rng.random(time.size) < 0.1] = np.nan             # scattered gaps
    x[3, 12 * 5:] = np.nan                                 # only 5 years: not tested
    zones = np.array(["boreal", "temperate", "tropical"])[np.arange(n) % 3]
    return xr.Dataset({"RECO_NT": (("site", "time"), x, {"units": "gC m-2 d-1"})},
                      coords={"site": [f"T{k:02d}" for k in range(n)], "time": time, "climate_zone": ("site", zones),
                              "PFT": ("site", ["ENF"] * n), "lat": ("site", np.zeros(n)), "lon": ("site", np.zeros(n))})


def test_site_trends_equal_pymannkendall_per_tower():
    ds = _towers()
    t = tr.site_trends(ds, min_years=10)
    expected = set(ds.site.values[tr.complete_years(ds.RECO_NT).values >= 10])
    assert set(t.site) == expected and "T03" not in expected and "T01" in expected
    for _, row in t.iterrows():
        x = ds.RECO_NT.sel(site=row.site).values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, b = pmk.seasonal_test(x, period=12), pmk.correlated_seasonal_test(x, period=12)
        assert row.slope == pytest.approx(a.slope, rel=1e-12)
        assert row.p_seasonal == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(abs(a.z))), abs=1e-14)
        assert row.p_correlated == pytest.approx(2 * __import__("scipy").stats.norm.sf(abs(b.z)), rel=1e-9)
    sig, thr, q = tr.fdr_significance(t.p_correlated.to_numpy(), 0.10)
    np.testing.assert_array_equal(t.significant_fdr.to_numpy(), sig)
    np.testing.assert_allclose(t.q.to_numpy(), q)
    with pytest.raises(DataError, match="January"):
        tr.site_trends(ds.isel(time=slice(3, None)))


def test_zone_regional_test_equals_pymannkendall():
    ds = _towers()
    res = tr.zone_regional_tests(ds, min_years=5).set_index("zone")
    full = np.isfinite(ds.RECO_NT).groupby("time.year").sum("time") == 12
    annual = ds.RECO_NT.groupby("time.year").mean("time").where(full)
    for zone in res.index:
        sel = (ds.climate_zone.values == zone) & (full.sum("year").values >= 5)
        m = annual.values[sel].T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = pmk.regional_test(m)
        assert res.loc[zone, "tau"] == pytest.approx(ref.Tau, rel=1e-12)
        assert res.loc[zone, "slope"] == pytest.approx(ref.slope, rel=1e-12)
        assert res.loc[zone, "towers"] == sel.sum()


def test_size_and_partial_tables():
    size = TC.size_table(600, seed=3).set_index("noise")
    assert size.loc["same-year correlation 0.6", "seasonal"] > 0.25
    assert size.loc["same-year correlation 0.6", "correlated seasonal"] < 0.09
    rng = np.random.default_rng(1)
    temp = np.arange(30) * 0.03 + rng.normal(0, 0.1, 30)
    er = 100 + 3 * temp + rng.normal(0, 0.05, 30)             # a trend that is all temperature
    p = TC.partial_trend_table({"er": er}, temp).iloc[0]
    assert p["p (original)"] < 0.01 and p["p (partial, given temperature)"] > 0.05 and p["rho"] > 0.5


def test_agreement_table_names_and_values():
    """Identical maps agree everywhere; a map with every slope flipped has no sign agreement; the rows carry
    the reader-facing names and the indicator keys."""
    import numpy as np
    import xarray as xr

    from landcarbon.trends import chapter as TC

    rng = np.random.default_rng(3)
    slope = xr.DataArray(rng.normal(size=(6, 8)), dims=("lat", "lon"))
    sig = xr.DataArray(rng.random((6, 8)) < 0.5, dims=("lat", "lon"))
    truth = xr.Dataset({"slope": slope, "significant": sig, "significant_fdr": sig & (abs(slope) > 0.5)})
    land = xr.ones_like(slope, dtype=bool)
    same = TC.agreement_table(truth, truth, land)
    assert list(same.index) == list(TC.AGREEMENT_LABELS) and list(same["measure"]) == list(TC.AGREEMENT_LABELS.values())
    assert same.loc["sign_agreement_truth_significant", "local (alpha)"] == 1.0
    assert same.loc["precision", "after FDR"] == 1.0
    assert same.loc["slope_regression", "local (alpha)"] == pytest.approx(1.0, abs=1e-12)
    flipped = TC.agreement_table(truth.assign(slope=-slope), truth, land)
    assert flipped.loc["sign_agreement_truth_significant", "local (alpha)"] == 0.0
