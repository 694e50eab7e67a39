"""Tests of the synthetic site generator landcarbon.flux.demo (truth recomputed independently)."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.errors import ConfigError
from landcarbon.flux.demo import demo_site
from landcarbon.flux.io import validate_site_dataset


def _lt(T, rref, e0):
    # Lloyd & Taylor written independently in kelvin: Tref = 288.15 K, T0 = 227.13 K
    Tk = np.maximum(T, -40.0) + 273.15
    return rref * np.exp(e0 * (1 / (288.15 - 227.13) - 1 / (Tk - 227.13)))


@pytest.fixture(scope="module")
def s0():
    return demo_site(seed=3, scenario="S0", year=2010)


def test_contract_and_determinism(s0):
    validate_site_dataset(s0, required=("NEE", "TA", "TS", "SW_IN", "VPD", "RH", "USTAR", "SWC",
                                        "GPP_true", "RECO_true", "NEE_true"))
    assert s0.sizes["time"] == 17520 and s0.attrs["timestep_seconds"] == 1800
    assert s0.time.values[0] == np.datetime64("2010-01-01T00:30")
    assert s0.attrs["scenario"] == "S0" and s0.attrs["seed"] == 3
    assert s0.attrs["ustar_threshold_true"] == 0.30
    again = demo_site(seed=3, scenario="S0", year=2010)
    for v in s0.data_vars:
        np.testing.assert_array_equal(s0[v].values, again[v].values)
    other = demo_site(seed=4, scenario="S0", year=2010)
    assert not np.allclose(other.TA.values, s0.TA.values, equal_nan=True)


def test_flux_identities_and_ranges(s0):
    np.testing.assert_allclose(s0.NEE_true, s0.RECO_true - s0.GPP_true, atol=1e-12)
    assert (s0.GPP_true >= 0).all() and (s0.RECO_true > 0).all()
    sw = s0.SW_IN.values
    assert np.all(s0.GPP_true.values[sw <= 0] == 0)
    assert np.all(s0.GPP_true.values[s0.SW_IN_POT.values <= 0] == 0)
    from landcarbon.units import umol_m2_s_to_gC_m2_per_step as to_g

    gpp = float(to_g(s0.GPP_true.values).sum())
    reco = float(to_g(s0.RECO_true.values).sum())
    assert 800 < gpp < 2500 and 500 < reco < 2000 and reco < gpp  # a temperate forest sink


def test_driver_consistency(s0):
    ta, rh, vpd, ts = (s0[v].values for v in ("TA", "RH", "VPD", "TS"))
    ok = np.isfinite(ta) & np.isfinite(rh) & np.isfinite(vpd) & (rh < 100) & (rh > 5)
    # saturation vapour pressure of Alduchov & Eskridge (1996), written out here as an independent check
    es = 6.1094 * np.exp(17.625 * ta / (ta + 243.04))
    np.testing.assert_allclose(vpd[ok], es[ok] * (1 - rh[ok] / 100), rtol=1e-9, atol=1e-9)
    # soil temperature damped and lagged relative to air temperature
    spd = 48
    d_ta = np.nanmax(ta.reshape(-1, spd), 1) - np.nanmin(ta.reshape(-1, spd), 1)
    d_ts = np.nanmax(ts.reshape(-1, spd), 1) - np.nanmin(ts.reshape(-1, spd), 1)
    assert np.nanmedian(d_ts) < 0.3 * np.nanmedian(d_ta)
    a, b = np.nan_to_num(ta - np.nanmean(ta)), np.nan_to_num(ts - np.nanmean(ts))
    lags = range(0, 49)
    best = max(lags, key=lambda k: np.corrcoef(a[: len(a) - k], b[k:])[0, 1])
    assert best > 2
    # radiation: zero at night, below the potential radiation by day
    pot = s0.SW_IN_POT.values
    sw = s0.SW_IN.values
    assert np.nanmax(sw[pot <= 0]) == 0 and np.all(sw[np.isfinite(sw)] <= pot[np.isfinite(sw)] + 1e-9)
    # drivers have few gaps, NEE about 35 %
    for v in ("TA", "SW_IN", "VPD", "USTAR"):
        assert 0 < np.isnan(s0[v].values).mean() < 0.02
    assert 0.30 <= np.isnan(s0.NEE.values).mean() <= 0.40
    assert np.nanmin(s0.SWC.values) >= 0 and np.nanmax(s0.SWC.values) <= 100


def test_gap_pattern_has_long_gaps_and_more_night_gaps(s0):
    miss = np.isnan(s0.NEE.values)
    edges = np.diff(np.r_[0, miss.astype(int), 0])
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    assert lengths.max() >= 3 * 48 and (lengths == 1).sum() > 200
    night = s0.SW_IN_POT.values <= 0
    assert miss[night].mean() > miss[~night].mean()


def test_noise_is_laplace_and_grows_with_flux():
    ds = demo_site(seed=5, scenario="S0", ustar_bias=False, gaps=False)
    r = ds.NEE.values - ds.NEE_true.values
    nt = ds.NEE_true.values
    small = r[np.abs(nt) < 2]
    large = r[np.abs(nt) > 10]
    assert large.std() > 1.5 * small.std()
    z = small / small.std()
    kurt = np.mean(z**4)
    assert 4.5 < kurt < 7.5  # Laplace: 6 (Gaussian: 3)
    assert abs(np.mean(r)) < 0.05
    clean = demo_site(seed=5, scenario="S0", noise=False, ustar_bias=False, gaps=False)
    np.testing.assert_array_equal(clean.NEE.values, clean.NEE_true.values)


def test_ustar_night_bias(s0):
    thr = s0.attrs["ustar_threshold_true"]
    night = s0.SW_IN_POT.values <= 0
    u = s0.USTAR.values
    ok = np.isfinite(s0.NEE.values) & np.isfinite(u) & night
    low = ok & (u < 0.5 * thr)
    high = ok & (u > 1.2 * thr)
    ratio_low = np.nanmean(s0.NEE.values[low]) / np.nanmean(s0.NEE_true.values[low])
    ratio_high = np.nanmean(s0.NEE.values[high]) / np.nanmean(s0.NEE_true.values[high])
    assert ratio_low < 0.75 and abs(ratio_high - 1) < 0.1
    assert 0.15 < np.mean(u[ok] < thr) < 0.7  # the threshold lies inside the night u* distribution


def test_scenario_truths_recomputed():
    base = demo_site(seed=2, scenario="S0")
    rref_scale = base.RECO_true.values / _lt(base.TA.values, 1.0, 150.0)
    ok = np.isfinite(rref_scale)
    pot = base.SW_IN_POT.values
    night = ok & (pot <= 0)
    day = ok & (pot >= 50) & np.isfinite(base.RH.values)
    # S0 is Lloyd-Taylor on TA with E0 = 150 K: the implied Rref is smooth (no diurnal signal)
    rr = rref_scale[ok]
    assert np.nanstd(np.diff(rr)) < 0.01
    s1 = demo_site(seed=2, scenario="S1")
    np.testing.assert_allclose(s1.RECO_true.values[night], _lt(s1.TA.values[night], rref_scale[night], 170.0), rtol=1e-9)
    # day: night respiration at the day's minimum temperature, rising with E0,D = 85 K above it
    ta = s1.TA.values
    tmin = np.min(ta.reshape(-1, 48), axis=1).repeat(48)  # NaN on days with a TA gap: left out below
    full = ok & (pot >= 50) & np.isfinite(tmin)
    expect = _lt(tmin[full], rref_scale[full], 170.0) * _lt(ta[full], 1.0, 85.0) / _lt(tmin[full], 1.0, 85.0)
    np.testing.assert_allclose(s1.RECO_true.values[full], expect, rtol=1e-9)
    # the day/night ratio at equal temperature is <= 1 at every record (light inhibition only reduces it)
    ratio_dn = s1.RECO_true.values[ok] / _lt(ta[ok], rref_scale[ok], 170.0)
    assert ratio_dn.max() <= 1.0 + 1e-12 and ratio_dn[(pot[ok] >= 50)].mean() < 0.95
    s2 = demo_site(seed=2, scenario="S2")
    ok2 = ok & np.isfinite(s2.TS.values)
    np.testing.assert_allclose(s2.RECO_true.values[ok2], _lt(s2.TS.values[ok2], rref_scale[ok2], 150.0), rtol=1e-9)
    s3 = demo_site(seed=2, scenario="S3")
    np.testing.assert_allclose(s3.RECO_true.values[night], base.RECO_true.values[night], rtol=1e-12)
    # one-sided RH effect: h = exp(0.01 %-1 (RH - 100 %)) <= 1 by day (dry air reduces respiration)
    ratio = s3.RECO_true.values[day] / base.RECO_true.values[day]
    np.testing.assert_allclose(ratio, np.exp(0.01 * (s3.RH.values[day] - 100.0)), rtol=1e-9)
    ok3 = ok & np.isfinite(s3.RH.values)
    assert np.all(s3.RECO_true.values[ok3] <= base.RECO_true.values[ok3] * (1 + 1e-12))
    assert np.all(ratio[s3.RH.values[day] < 99.0] < 1.0)
    # ... so it does not average out: day-time respiration is reduced in every month
    month = s3.time.dt.month.values[day]
    monthly = np.array([s3.RECO_true.values[day][month == m].sum() / base.RECO_true.values[day][month == m].sum()
                        for m in range(1, 13)])
    assert np.all(monthly < 0.9) and np.all(monthly > 0.6)
    s4 = demo_site(seed=2, scenario="S4")
    ok4 = ok & np.isfinite(s4.SW_IN.values)
    np.testing.assert_allclose(s4.RECO_true.values[ok4] / base.RECO_true.values[ok4],
                               1 + 0.3 * s4.SW_IN.values[ok4] / 1000, rtol=1e-9)
    # same weather and GPP across scenarios of one seed
    for s in (s1, s2, s3, s4):
        np.testing.assert_array_equal(s.TA.values, base.TA.values)
        np.testing.assert_array_equal(s.GPP_true.values, base.GPP_true.values)
    assert s1.attrs["truth_E0_day"] == 85.0 and s3.attrs["truth_kRH"] == 0.01 and s3.attrs["truth_RHref"] == 100.0


def test_gpp_light_response_truth():
    ds = demo_site(seed=1, scenario="S0", gaps=False)
    sw, vpd, gpp = ds.SW_IN.values, ds.VPD.values, ds.GPP_true.values
    a = ds.attrs["truth_alpha"]
    # invert the rectangular hyperbola for beta and check the VPD limitation form
    m = (sw > 300) & (gpp > 0.5)
    beta = a * sw[m] * gpp[m] / (a * sw[m] - gpp[m])
    hi = vpd[m] > 10
    day_of = ((ds.time.values[m] - ds.time.values[0]) / np.timedelta64(1, "D")).astype(int)
    b0 = np.where(hi, beta * np.exp(ds.attrs["truth_k"] * (vpd[m] - 10)), beta)
    # beta0 depends on the season only: within a day nearly constant
    for d in np.unique(day_of)[::30]:
        sel = day_of == d
        if sel.sum() > 3:
            assert np.ptp(b0[sel]) < 0.05 * b0[sel].mean()


def test_hourly_and_bad_args():
    h = demo_site(seed=1, scenario="S2", timestep_minutes=60, year=2012)
    assert h.sizes["time"] == 366 * 24 and h.attrs["timestep_seconds"] == 3600
    with pytest.raises(ConfigError):
        demo_site(seed=1, scenario="S9")
    with pytest.raises(ConfigError):
        demo_site(seed=1, timestep_minutes=15)


def test_open_dataset_demo_through_manifest():
    from landcarbon.data import open_dataset

    ds = open_dataset("fluxnet2015-halfhourly", source="demo")
    assert ds.attrs["source"].startswith("demo:") and "NEE_true" in ds
