"""Tests of landcarbon.flux.solar against an independent solar-position oracle, textbook numbers and
REddyProc's own night selection on DE-Tha 1998."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from landcarbon.errors import ConfigError
from landcarbon.flux import solar


def _noaa_elevation(doy, hour, lat, lon, tz):
    """NOAA 'General Solar Position Calculations' (Spencer 1971 series with other coefficients)."""
    g = 2 * np.pi / 365.0 * (doy - 1 + (hour - 12) / 24.0)
    eqt = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g) - 0.014615 * np.cos(2 * g)
                    - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    tst = hour * 60 + eqt + 4 * lon - 60 * tz
    ha = np.deg2rad(tst / 4 - 180)
    phi = np.deg2rad(lat)
    return np.arcsin(np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(ha))


def test_elevation_matches_noaa_oracle():
    doy = np.repeat(np.arange(1, 366), 48)
    hour = np.tile(np.arange(48) / 2 + 0.25, 365)
    for lat, lon, tz in ((50.95, 13.57, 1), (-33.9, 18.4, 2), (64.0, -150.0, -9), (0.0, 0.0, 0)):
        _, _, el = solar.sun_position(doy, hour, lat, lon, tz)
        ref = _noaa_elevation(doy, hour, lat, lon, tz)
        # REddyProc keeps the declination constant within a day (NOAA does not): up to ~0.6 deg
        assert np.max(np.abs(np.rad2deg(el - ref))) < 0.6
        assert np.mean(np.abs(np.rad2deg(el - ref))) < 0.2


def test_textbook_numbers():
    # summer solstice noon elevation at 50.95 N ~ 90 - 50.95 + 23.44 deg (solar noon found numerically)
    h = np.linspace(10, 14, 2401)
    _, _, el = solar.sun_position(np.full_like(h, 172), h, 50.95, 13.57, 1.0)
    assert np.rad2deg(el.max()) == pytest.approx(90 - 50.95 + 23.44, abs=0.1)
    # solar noon in Tharandt (13.57 E, UTC+1) on Nov 3 (EoT +16.4 min): 12:00 + 5.7 min - 16.4 min
    h = np.linspace(11, 13, 12001)
    _, _, el = solar.sun_position(np.full_like(h, 307), h, 50.95, 13.57, 1.0)
    assert h[np.argmax(el)] == pytest.approx(12 + (60 - 4 * 13.57) / 60 - 16.4 / 60, abs=2 / 60)
    # extraterrestrial irradiance: ~1412 W m-2 at perihelion (early Jan), ~1321 at aphelion (early Jul)
    assert solar.extraterrestrial_radiation(3) == pytest.approx(1412, abs=3)
    assert solar.extraterrestrial_radiation(185) == pytest.approx(1321, abs=3)


def test_potential_radiation_time_axis_and_errors():
    time = np.arange(np.datetime64("2010-06-21T00:30"), np.datetime64("2010-06-22T00:30"),
                     np.timedelta64(30, "m"))
    pot = solar.potential_radiation(time, 50.95, 13.57, 1.0)
    assert pot.shape == (48,) and (pot >= 0).all() and pot.max() > 1100
    # stamps are interval ends: the record ending 12:00 is evaluated at 11:45
    doy = np.full(1, 172)
    _, _, el = solar.sun_position(doy, np.array([11.75]), 50.95, 13.57, 1.0)
    assert pot[23] == pytest.approx(solar.extraterrestrial_radiation(172) * np.sin(el[0]))
    # hourly
    pot_h = solar.potential_radiation(time[1::2], 50.95, 13.57, 1.0, timestep_seconds=3600)
    assert pot_h.shape == (24,)
    ds = xr.Dataset({"SW_IN": ("time", np.zeros(48))}, coords={"time": time},
                    attrs={"lat": float("nan"), "lon": 13.57, "utc_offset_hours": 1.0, "timestep_seconds": 1800})
    with pytest.raises(ConfigError, match="lat"):
        solar.potential_radiation_ds(ds)


def test_day_night_rules():
    sw = np.array([0.0, 5.0, 15.0, np.nan, 3.0, np.nan])
    pot = np.array([0.0, 0.0, 0.0, 0.0, 100.0, 100.0])
    np.testing.assert_array_equal(solar.day_night_mask(sw, pot), [True, True, False, True, False, False])
    np.testing.assert_array_equal(solar.day_night_mask(sw, pot, rule="reddyproc_dt", sw_threshold=4),
                                  [True, False, False, True, False, False])
    np.testing.assert_array_equal(solar.day_night_mask(sw, pot, rule="sw_only"),
                                  [True, True, False, True, True, False])
    with pytest.raises(ConfigError):
        solar.day_night_mask(sw, pot, rule="bogus")


def test_night_mask_equals_reddyproc_nt_selection(detha_txt, detha_reference_dir):
    """REddyProc writes FP_NEEnight only for the night records it used: night & NEE_fqc == 0 & Tair ok."""
    from landcarbon.flux.io import read_reddyproc_reference, read_reddyproc_text

    ds = read_reddyproc_text(detha_txt, "DE-Tha", 50.95, 13.57, 1.0)
    ref = read_reddyproc_reference(sorted(detha_reference_dir.glob("*")))
    night = solar.is_night_reddyproc(ds)
    ours = night & (ref.NEE_fqc.values == 0) & np.isfinite(ds.TA.values)
    theirs = np.isfinite(ref.FP_NEEnight_uStar.values)
    assert theirs.sum() > 3000
    np.testing.assert_array_equal(ours, theirs)
