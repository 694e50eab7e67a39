"""Plausibility ranges: impossible values and sentinels are refused with file/variable/record named, or masked."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landcarbon.data.plausibility import check_not_empty, check_plausible, plausible_range
from landcarbon.errors import DataError


def _ds(values, name="NEE", units="umol m-2 s-1"):
    t = pd.date_range("2010-01-01", periods=len(values), freq="30min")
    return xr.Dataset({name: ("time", np.asarray(values, float), {"units": units})}, coords={"time": t})


def test_ranges_follow_units_aliases():
    assert plausible_range("NEE", "µmol m-2 s-1") == (-100.0, 100.0)
    assert plausible_range("TA", "degC") == (-80.0, 60.0)
    assert plausible_range("TA", "K") is None  # no range in kelvin: the loader converts first


@pytest.mark.parametrize("bad", [1e30, np.inf, -np.inf, 250.0])
def test_impossible_value_raises_naming_record(bad):
    ds = _ds([1.0, 2.0, bad, 3.0])
    with pytest.raises(DataError) as err:
        check_plausible(ds, where="FLX_XX-Yyy.csv")
    msg = str(err.value)
    assert "FLX_XX-Yyy.csv" in msg and "'NEE'" in msg and "record 2" in msg and "2010-01-01T01:00" in msg
    assert "action='mask'" in msg


def test_mask_sets_nan_and_counts():
    ds = _ds([1.0, 1e30, -5.0, np.inf])
    out = check_plausible(ds, where="f", action="mask")
    np.testing.assert_array_equal(np.isnan(out["NEE"].values), [False, True, False, True])
    assert out["NEE"].attrs["n_masked_implausible"] == 2 and out["NEE"].attrs["units"] == "umol m-2 s-1"
    assert np.isfinite(ds["NEE"].values[1])  # input untouched


def test_override_and_good_data_pass():
    ds = _ds([-85.0, 20.0], name="TA", units="degC")
    with pytest.raises(DataError):
        check_plausible(ds, where="f")
    assert check_plausible(ds, where="f", ranges={"TA": (-90, 60)}) is ds
    ppm = _ds([2.5e35, 400.0], name="co2", units="ppm")
    with pytest.raises(DataError, match="co2"):
        check_plausible(ppm, where="obspack.nc")


def test_empty_required_column():
    with pytest.raises(DataError, match="'NEE' has no valid value"):
        check_not_empty(_ds([np.nan, np.nan]), ["NEE"], where="f")
    with pytest.raises(DataError, match="'TA' is missing"):
        check_not_empty(_ds([1.0]), ["TA"], where="f")
