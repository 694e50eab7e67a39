"""DT-RH re-anchored: Tref invariance, the day/night ratio under the S1 truth, bounded multipliers,
the call without a night-time result, and propagated uncertainty (issue 11)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from landcarbon.flux.demo import demo_site_gapfilled
from landcarbon.flux.dtrh import RH_FUNCTIONS, anchor_temperature, partition_dtrh
from landcarbon.flux.nighttime import partition_nt
from landcarbon.flux.respiration import day_night_ratio, lloyd_taylor


def _clean(seed: int, scenario: str):
    return demo_site_gapfilled(seed, scenario, year=1998)


@pytest.fixture(scope="module")
def s1():
    return _clean(11, "S1")


@pytest.fixture(scope="module")
def runs(s1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alone = partition_dtrh(s1)  # no nt_result: runs the night-time method itself (was a NameError)
        nt10 = partition_nt(s1, tref_degc=10.0)
        t10 = partition_dtrh(s1, tref_degc=10.0, nt_result=nt10)
    return alone, t10


def test_runs_without_a_night_time_result(runs):
    alone, _ = runs
    assert alone.method == "DT-RH" and np.isfinite(alone.gpp.values).mean() > 0.99


def test_reco_invariant_to_tref(runs):
    """Predicted RECO and GPP do not depend on Tref (relative 1e-6); only the reported Rref is rescaled."""
    a, b = runs  # Tref 15 °C (NT run inside) and 10 °C (an NT result at 10 °C passed in)
    np.testing.assert_allclose(b.reco.values, a.reco.values, rtol=1e-6)
    np.testing.assert_allclose(b.gpp.values, a.gpp.values, rtol=1e-6)
    ok = np.isfinite(a.params.rb.to_numpy(float))
    r15, r10 = a.params.rb_tref.to_numpy(float)[ok], b.params.rb_tref.to_numpy(float)[ok]
    e0 = a.params.e0_night.to_numpy(float)[ok]
    np.testing.assert_allclose(r10, lloyd_taylor(10.0, r15, e0, tref_degc=15.0), rtol=1e-9)
    assert b.info["tref_degC"] == 10.0


def test_model_day_night_ratio_does_not_pivot_at_tref():
    """The re-anchored ratio is free of Tref and <= 1 above the anchor for E0,D < E0,N; the old shared-Rref
    form exp((E0,D − E0,N)(1/(Tref−T0) − 1/(T−T0))) gave 1.58 at 0 °C and 1.97 at −5 °C (issue 11)."""
    t = np.linspace(-30, 40, 141)
    ratio = day_night_ratio(t, np.minimum(t, -30.0), 170.0, 85.0)
    assert np.all(ratio <= 1.0 + 1e-12)
    old = lambda t, tref: np.exp((85.0 - 170.0) * (1 / (tref + 46.02) - 1 / (t + 46.02)))  # noqa: E731
    assert old(0.0, 15.0) == pytest.approx(1.58, abs=0.01) and old(-5.0, 15.0) == pytest.approx(1.97, abs=0.01)
    assert not np.isclose(old(0.0, 15.0), old(0.0, 10.0))  # the old form depended on Tref


def test_s1_truth_and_fit_keep_day_below_night(s1, runs):
    """Under S1 the true day/night ratio is <= 1 at every temperature, and so is the fitted one."""
    day = s1.SW_IN_POT.values >= 50
    ta = s1.TA.values
    rn = lloyd_taylor(ta, 1.0, s1.attrs["truth_E0_night"])
    # truth: RECO_true / night response at the same temperature and Rref (recovered from night records)
    rref = s1.RECO_true.values / rn
    night = s1.SW_IN_POT.values <= 0
    rref_day = np.interp(np.flatnonzero(day), np.flatnonzero(night), rref[night])
    truth_ratio = s1.RECO_true.values[day] / (rref_day * rn[day])
    assert truth_ratio.max() <= 1.0 + 0.01  # Rref interpolated from night to day records: < 1 % error
    fit = runs[0].extra["DAY_NIGHT_RATIO"].values
    bins = np.arange(np.floor(ta[day].min()), ta[day].max() + 2, 2.0)
    idx = np.digitize(ta[day], bins)
    means = [fit[day][idx == k].mean() for k in np.unique(idx) if (idx == k).sum() >= 30]
    truth_means = [truth_ratio[idx == k].mean() for k in np.unique(idx) if (idx == k).sum() >= 30]
    assert max(means) <= 1.0, f"fitted day/night ratio above 1 in a temperature bin: {max(means):.3f}"
    assert means[-1] < 0.95  # the asymmetry is found in warm weather, not switched off
    assert np.mean(np.abs(np.array(means) - np.array(truth_means))) < 0.08
    ta_anchor = runs[0].extra["T_ANCHOR"].values
    assert np.all(ta_anchor <= ta + 1e-12)


def test_humidity_multiplier_is_bounded():
    rh = np.linspace(0, 100, 101)
    for name, (h, grid, null, prior_sd, (lo, hi)) in RH_FUNCTIONS.items():
        for c in (lo, hi, *grid):
            v = h(rh, c)
            assert np.all(v >= 0.1 - 1e-12) and np.all(v <= 1.7), (name, c)
        assert lo <= null <= hi


def test_uncertainty_is_propagated(runs):
    r = runs[0]
    g, rs = r.extra["GPP_SD"].values, r.extra["RECO_SD"].values
    day = r.gpp.values > 1
    assert np.all(np.isfinite(g[day])) and np.median(g[day]) > 0 and np.median(rs[day]) > 0
    sd = r.info["annual_sd"]
    assert sd["GPP"] > 0 and sd["RECO"] > 0 and sd["GPP_e0_part"] >= 0
    b = r.info["blocks"]
    assert np.all(b.r_sd > 0) and np.all(np.isfinite(b.r_sd))
    assert r.params["cov"].iloc[int(np.flatnonzero(r.params.code == 0)[0])].shape == (4, 4)


def test_anchor_is_the_days_minimum():
    t = np.arange(np.datetime64("2001-01-01T00:30"), np.datetime64("2001-01-03T00:30"), np.timedelta64(30, "m"))
    ta = np.sin(np.arange(t.size) / 48 * 2 * np.pi) * 5 + np.repeat([0.0, 10.0], 48)
    a = anchor_temperature(t, ta, step_seconds=1800)
    assert np.allclose(a[:48], ta[:48].min()) and np.allclose(a[48:], ta[48:].min())


def test_dtrh_refuses_without_humidity(s1):
    from landcarbon.errors import DataError

    with pytest.raises(DataError, match="relative humidity"):
        partition_dtrh(s1.drop_vars(["RH", "VPD"]), nt_result=partition_nt(s1))
