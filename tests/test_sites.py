"""Site metadata loader: real table, and malformed copies give errors naming file, line and column."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.data import open_dataset
from landcarbon.data.sites import read_site_info
from landcarbon.errors import DataError


def test_shipped_table_reads_with_units():
    ds = open_dataset("site-info")  # raw file on LANDCARBON_DATA_PATH, else the embedded copy
    assert ds.sizes["site"] == 339
    tha = ds.sel(site="DE-Tha")
    assert tha["igbp"].item() == "ENF"
    assert 50.9 < float(tha["lat"]) < 51.0 and 13.5 < float(tha["lon"]) < 13.6
    assert ds["measurement_height"].attrs["units"] == "m"
    assert np.isfinite(ds["lat"]).all()


@pytest.mark.parametrize("mutate, match", [
    (lambda t: t.replace("igbp_land_use", "igbp"), "lacks column"),
    (lambda t: t.replace(",-33.46480178833008,", ",north,", 1), r"line 2, column 'lat'"),
    (lambda t: t.replace(",-33.46480178833008,", ",-133.4,", 1), r"lat -133.4 outside"),
    (lambda t: "", "cannot read"),
])
def test_malformed_copies(tmp_path, mutate, match):
    from landcarbon.data import resolve_extract

    text = resolve_extract("site-info")[0].read_text()
    bad = tmp_path / "fdk_site_info.csv"
    bad.write_text(mutate(text))
    with pytest.raises(DataError, match=match) as err:
        read_site_info([bad])
    assert str(bad) in str(err.value)
