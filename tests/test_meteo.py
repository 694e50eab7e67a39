"""Humidity relations against published values and against each other."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon import meteo


def test_saturation_vapour_pressure_against_reference_table():
    # Reference saturation vapour pressures over water [hPa] (Wexler 1976 / Hyland & Wexler 1983, as
    # tabulated e.g. in MetPy's tests: 8.72/12.27/20.63/31.67 hPa at 5/10/18/25 degC). Alduchov &
    # Eskridge (1996) state < 0.4 % relative error over -40..50 degC.
    t = np.array([5.0, 10.0, 18.0, 25.0])
    ref = np.array([8.72, 12.27, 20.63, 31.67])
    np.testing.assert_allclose(meteo.saturation_vapour_pressure(t), ref, rtol=4e-3)


def test_scalar_twin_equals_array_function():
    for t in (-40.0, -5.0, 0.0, 15.3, 42.0):
        assert meteo.saturation_vapour_pressure_scalar(t) == pytest.approx(float(meteo.saturation_vapour_pressure(t)), rel=1e-15)


def test_vpd_rh_round_trip_and_limits():
    rng = np.random.default_rng(3)
    t = rng.uniform(-30, 45, 1000)
    rh = rng.uniform(0, 100, 1000)
    np.testing.assert_allclose(meteo.rh_from_vpd(t, meteo.vpd_from_rh(t, rh)), rh, atol=1e-9)
    assert np.all(meteo.vpd_from_rh(t, np.full_like(t, 105.0)) == 0)  # sensor overshoot: no negative VPD
    assert np.all(meteo.rh_from_vpd(t, np.full_like(t, 1e3)) == 0)
    # vapour-pressure forms agree with the RH forms
    e = meteo.saturation_vapour_pressure(t) * rh / 100
    np.testing.assert_allclose(meteo.vpd_from_vapour_pressure(t, e), meteo.vpd_from_rh(t, rh), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(meteo.relative_humidity(t, e), rh, rtol=1e-12, atol=1e-9)


def test_xarray_in_xarray_out():
    xr = pytest.importorskip("xarray")
    t = xr.DataArray([10.0, 20.0], dims="time")
    out = meteo.vpd_from_rh(t, xr.DataArray([50.0, 50.0], dims="time"))
    assert isinstance(out, xr.DataArray) and out.dims == ("time",)
