"""Unit conversions against hand-computed and published numbers."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from landcarbon import units
from landcarbon.errors import UnitsError


def test_halfhour_to_gC_matches_reddyproc_convention():
    # REddyProc annual sum: sum(flux * 12.011e-6 * 1800)
    assert units.umol_m2_s_to_gC_m2_per_step(1.0) == pytest.approx(12.011e-6 * 1800)
    da = xr.DataArray([1.0, 2.0], dims="time")
    out = units.umol_m2_s_to_gC_m2_per_step(da, 3600)
    assert isinstance(out, xr.DataArray) and out.values[1] == pytest.approx(2 * 12.011e-6 * 3600)


def test_daily_roundtrip():
    x = np.array([0.5, 3.0, -2.0])
    np.testing.assert_allclose(units.gC_m2_d_to_umol_m2_s(units.umol_m2_s_to_gC_m2_d(x)), x)
    # 1 umol m-2 s-1 = 1.0377 gC m-2 d-1
    assert units.umol_m2_s_to_gC_m2_d(1.0) == pytest.approx(1.0377504, rel=1e-6)


def test_ppm_pgc():
    assert units.ppm_to_PgC(1.0) == 2.124
    assert units.PgC_to_ppm(4.248) == pytest.approx(2.0)


def test_grid_area_sums_to_sphere():
    lat = np.arange(-89.75, 90, 0.5)
    total = units.grid_cell_area_m2(lat, 0.5, 0.5).sum() * 720
    assert total == pytest.approx(4 * np.pi * units.EARTH_RADIUS_M**2, rel=1e-12)


def test_area_total_pgc():
    # 100 gC m-2 yr-1 over 1e12 m2 = 1e14 g = 0.1 PgC/yr; NaN cells ignored
    assert units.gC_m2_yr_to_PgC_yr([100.0, np.nan], [1e12, 5e12]) == pytest.approx(0.1)


@pytest.mark.parametrize("raw, canon", [("umolm-2s-1", "umol m-2 s-1"), ("degC", "degC"), ("Wm-2", "W m-2"),
                                        ("hPa", "hPa"), ("ms-1", "m s-1"), ("%", "%"), ("K", "K")])
def test_normalise(raw, canon):
    assert units.normalise_unit(raw) == canon


def test_convert_and_error():
    assert units.convert(273.15, "K", "degC") == pytest.approx(0.0)
    assert units.convert(10.0, "hPa", "kPa") == pytest.approx(1.0)
    with pytest.raises(UnitsError, match="cannot convert units 'W m-2' to 'degC'.*where: TA"):
        units.convert(1.0, "W m-2", "degC", where="TA")
