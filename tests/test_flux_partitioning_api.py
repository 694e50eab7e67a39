"""Partitioning API: bad inputs, dispatcher, batch API, inhibition, ML diagnostics, full chain."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import landcarbon.flux as F
from landcarbon.errors import ConfigError, DataError, UnitsError


def _small(seed=3, scenario="S0", days=60):
    ds = F.demo_site(seed, scenario, year=1998, gaps=False, ustar_bias=False, driver_gap_fraction=0.0)
    ds = ds.isel(time=slice(120 * 48, (120 + days) * 48))
    ds["NEE_f"] = ds["NEE"]
    ds["NEE_fqc"] = ("time", np.zeros(ds.sizes["time"], np.int8), {"units": "1"})
    return ds


@pytest.fixture(scope="module")
def small():
    return _small()


def test_public_api_resolves():
    for name in F.__all__:
        assert getattr(F, name) is not None
    with pytest.raises(AttributeError):
        F.no_such_function  # noqa: B018


def test_missing_nee_raises_clear_error(small):
    with pytest.raises(DataError, match="NEE"):
        F.partition_nt(small.drop_vars(["NEE", "NEE_f"]))


def test_wrong_temperature_units_raise(small):
    bad = small.copy()
    bad["TA"] = (bad["TA"] + 273.15).assign_attrs(units="K")
    with pytest.raises(UnitsError, match="TA"):
        F.partition_nt(bad)


def test_fill_value_raises(small):
    bad = small.copy()
    v = bad["NEE_f"].values.copy()
    v[10] = -9999.0
    bad["NEE_f"] = ("time", v, {"units": "umol m-2 s-1"})
    with pytest.raises(DataError, match="-9999"):
        F.partition_nt(bad)


def test_too_few_e0_windows_fail_loudly(small):
    short = small.isel(time=slice(0, 10 * 48))
    with pytest.raises(DataError, match="valid E0"):
        F.partition_nt(short)


def test_unknown_method_raises(small):
    with pytest.raises(ConfigError):
        F.partition(small, "XYZ")


def test_nt_e0_recovers_truth_without_noise():
    ds = F.demo_site(4, "S0", year=1998, gaps=False, ustar_bias=False, driver_gap_fraction=0.0, noise=False)
    ds["NEE_f"] = ds["NEE"]
    r = F.partition_nt(ds)
    assert r.info["e0"] == pytest.approx(ds.attrs["truth_E0_night"], rel=0.05)


def test_inhibition_metric_and_keenan_dt(small):
    dt = F.partition_dt(small)
    inh = F.light_inhibition(dt)
    ok = inh.dropna()
    np.testing.assert_allclose(ok.inhibition, (ok.rref_night - ok.rref_day) / ok.rref_night)
    k = F.partition_dt_keenan(small, dt)
    np.testing.assert_array_equal(k.gpp.values, dt.gpp.values)  # Keenan: GPP unchanged
    day = (small.SW_IN_POT.values > 0) & (small.SW_IN.values > 4)
    np.testing.assert_array_equal(k.reco.values[day], dt.reco.values[day])
    assert not np.allclose(k.reco.values[~day], dt.reco.values[~day])


def test_ml_diagnostics_and_semiparametric_extrapolation():
    ds = _small(seed=5, days=120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rf = F.partition_ml(ds, "rf", seed=1, n_estimators=30)
        rf2 = F.partition_ml(ds, "rf", seed=1, n_estimators=30, cv=False)
        sp = F.partition_ml(ds, "sp", seed=1, n_estimators=30, cv=False)
    np.testing.assert_array_equal(rf.reco.values, rf2.reco.values)  # same seed, same numbers
    assert 0.0 < rf.info["cv_r2"] < 1.0
    cs = rf.info["covariate_shift"]
    assert cs["outside_range"]["TA"] > 0.05  # warm afternoons beyond the night range
    # the RF saturates at the warmest night temperature; the semi-parametric model extrapolates
    day = ds.SW_IN_POT.values > 0
    warm = day & (ds.TA.values > np.nanpercentile(ds.TA.values[~day], 99))
    b_rf = np.nanmean(rf.reco.values[warm] - ds.RECO_true.values[warm])
    b_sp = np.nanmean(sp.reco.values[warm] - ds.RECO_true.values[warm])
    assert abs(b_sp) < abs(b_rf)


def test_batch_matches_sequential():
    items = [_small(seed=s, days=40) for s in (6, 7)]
    seq = [F.process_site_year(d, ["NT"]) for d in items]
    par = F.partition_many(items, ["NT"], n_jobs=2, backend="thread", progress=False)
    for a, b in zip(seq, par):
        assert b.error is None
        np.testing.assert_array_equal(a.results["NT"].reco.values, b.results["NT"].reco.values)
    bad = F.partition_many([xr.Dataset()], ["NT"], n_jobs=1, progress=False)
    assert bad[0].error is not None and not bad[0].results


@pytest.mark.realdata
@pytest.mark.slow
def test_full_chain_detha(shared_data):
    """u* + MDS + NT + DT on the real DE-Tha 1998 input vs REddyProc."""
    from landcarbon.flux.io import read_reddyproc_text

    ds = read_reddyproc_text([shared_data / "DE-Tha" / "Example_DETha98.txt"], site="DE-Tha", lat=50.95,
                             lon=13.57, utc_offset_hours=1.0)
    res = F.process_site_year(ds, ["NT", "DT"], n_boot=1)
    sums = res.annual_sums()
    assert sums["NT"]["GPP"] == pytest.approx(1918.0, rel=0.05)
    assert sums["NT"]["RECO"] == pytest.approx(1305.6, rel=0.05)
    assert sums["DT"]["GPP"] == pytest.approx(1795.5, rel=0.07)
    assert sums["DT"]["RECO"] == pytest.approx(1191.2, rel=0.07)


def test_hourly_site_year_full_chain():
    """Hourly data (24 records per day): windows in days, annual sums with a 3600 s step."""
    ds = F.demo_site(2, "S0", year=1998, timestep_minutes=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = F.process_site_year(ds, ["NT", "DT"])
    for m in ("NT", "DT"):
        assert res.results[m].gpp.attrs["timestep_seconds"] == 3600.0
        err = F.truth_errors(res.results[m], res.dataset)
        assert abs(err["GPP_annual_err_pct"]) < 5.0
    assert F.annual_sum(ds.GPP_true) == pytest.approx(F.annual_sum(ds.GPP_true.values, 3600.0))
