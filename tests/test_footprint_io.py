"""Reading users' turbulence files (AmeriFlux BASE / FLUXNET formats) and the manifest entries."""
from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest
import xarray as xr

import landcarbon.footprint as fp
from landcarbon.data import open_dataset
from landcarbon.errors import DataError

HEADER_AMF = "# Site: US-Xyz\n# Version: 1-5\n"


def _amf_text(n=6, *, extra_rows=""):
    cols = "TIMESTAMP_START,TIMESTAMP_END,USTAR,V_SIGMA_1_1_1,V_SIGMA_2_1_1,MO_LENGTH,WD_1_1_1,WS_1_1_1,ZL,FC"
    rows = []
    for i in range(n):
        h, m = divmod(30 * i, 60)
        t0 = f"20140601{h:02d}{m:02d}"
        h1, m1 = divmod(30 * (i + 1), 60)
        t1 = f"20140601{h1:02d}{m1:02d}"
        ust = "-9999" if i == 2 else f"{0.2 + 0.05 * i:.3f}"
        rows.append(f"{t0},{t1},{ust},{0.5 + 0.01 * i:.3f},9.9,{-50.0 - i:.1f},{200 + i},{3.0 + 0.1 * i:.2f},"
                    f"{20.0 / (-50.0 - i):.4f},1.5")
    return HEADER_AMF + cols + "\n" + "\n".join(rows) + "\n" + extra_rows


def test_reads_ameriflux_base_with_qualifiers(tmp_path):
    p = tmp_path / "AMF_US-Xyz_BASE_HH_1-5.csv"
    p.write_text(_amf_text())
    ds = fp.read_turbulence([p], zm_m=20.0, z0_m=0.5)
    assert ds.attrs["site"] == "US-Xyz" and ds.attrs["step_minutes"] == 30
    assert "V_SIGMA=AMF_US-Xyz_BASE_HH_1-5.csv:V_SIGMA_1_1_1" in ds.attrs["columns"]  # lowest qualifier wins
    np.testing.assert_allclose(ds["V_SIGMA"].values, 0.5 + 0.01 * np.arange(6))
    assert np.isnan(ds["USTAR"].values[2]) and ds["USTAR"].values[0] == pytest.approx(0.2)
    assert str(ds["time"].values[1])[:16] == "2014-06-01T00:30"
    assert ds["WD"].attrs["units"] == "deg" and ds.attrs["zm_m"] == 20.0
    clim = fp.footprint_climatology(ds, h_m=1000.0, grid=fp.footprint_grid(200.0, 5.0))  # the reader feeds FFP
    assert clim.attrs["n_valid"] == 5


def test_reads_fluxnet_style_gzip_and_derives_L_from_ZL(tmp_path):
    text = ("TIMESTAMP_START,TIMESTAMP_END,USTAR,V_SIGMA,WD,WS_F,ZL\n"
            "201401010000,201401010100,0.3,0.6,90,2.5,-0.2\n"
            "201401010100,201401010200,0.35,0.7,95,2.7,0.1\n"
            "201401010200,201401010300,0.4,0.8,100,2.9,-9999\n")
    p = tmp_path / "FLX_DE-Abc_FLUXNET2015_FULLSET_HR_2014-2014_1-4.csv.gz"
    p.write_bytes(gzip.compress(text.encode(), mtime=0))
    ds = fp.read_turbulence(p, zm_m=10.0)
    assert ds.attrs["step_minutes"] == 60 and ds.attrs["site"] == "DE-Abc"
    np.testing.assert_allclose(ds["MO_LENGTH"].values[:2], [10.0 / -0.2, 10.0 / 0.1])
    assert np.isnan(ds["MO_LENGTH"].values[2])
    np.testing.assert_allclose(ds["WS"].values, [2.5, 2.7, 2.9])


@pytest.mark.parametrize("bad, match", [
    ("201406010300,201406010330,0.3,0.5,9.9,-50,400,3,-0.4,1\n", r"WD = 400.0 outside .* line 10, column WD_1_1_1"),
    ("201406010300,201406010330,-0.3,0.5,9.9,-50,40,3,-0.4,1\n", r"USTAR = -0.3 .* line 10, column USTAR"),
    ("2014-06-01 03:00,x,0.3,0.5,9.9,-50,40,3,-0.4,1\n", r"unreadable timestamp .* line 10"),
    ("201406010300,201406010330,abc,0.5,9.9,-50,40,3,-0.4,1\n", r"non-numeric value 'abc'.* line 10, column USTAR"),
])
def test_bad_rows_name_file_line_and_column(tmp_path, bad, match):
    p = tmp_path / "AMF_US-Xyz_BASE_HH_1-5.csv"
    p.write_text(_amf_text(extra_rows=bad))
    with pytest.raises(DataError, match=match):
        fp.read_turbulence(p)


def test_missing_variables_and_mixed_sites(tmp_path):
    p = tmp_path / "AMF_US-Xyz_BASE_HH_1-5.csv"
    p.write_text(HEADER_AMF + "TIMESTAMP_START,USTAR,WD\n201401010000,0.3,20\n201401010030,0.3,20\n")
    with pytest.raises(DataError, match=r"required variables missing: \['V_SIGMA', 'MO_LENGTH'\]"):
        fp.read_turbulence(p)
    q = tmp_path / "AMF_US-Qqq_BASE_HH_1-5.csv"
    q.write_text(_amf_text())
    with pytest.raises(DataError, match="several sites"):
        fp.read_turbulence([p, q])
    ds = fp.read_turbulence([p, q], site="US-Qqq")
    assert ds.attrs["site"] == "US-Qqq"
    twin = tmp_path / "AMF_US-Qqq_BASE_HH_1-6.csv"
    twin.write_bytes(q.read_bytes())
    with pytest.raises(DataError, match="duplicated timestamp"):
        fp.read_turbulence([q, twin])


def test_landscape_reader_roundtrip_and_errors(tmp_path):
    g = fp.footprint_grid(100.0, 10.0)
    ds = fp.demo_landscape(1, grid=g)
    p = tmp_path / "landscape_XX-Abc.nc"
    ds.to_netcdf(p)
    back = fp.read_landscape([p])
    xr.testing.assert_allclose(back[["land_cover", "NDVI"]], ds[["land_cover", "NDVI"]])
    bad = ds.copy()
    bad["land_cover"].attrs = {}
    q = tmp_path / "landscape_XX-Bad.nc"
    bad.to_netcdf(q)
    with pytest.raises(DataError, match="flag_meanings"):
        fp.read_landscape(q)


def test_manifest_entries_open_demo_and_real(tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = open_dataset("tower-turbulence", source="demo", n_days=2)
        assert t.attrs["source"].startswith("demo:landcarbon.footprint.demo:demo_turbulence")
        assert {"USTAR", "V_SIGMA", "MO_LENGTH", "WD", "WS", "ZL"} <= set(t.data_vars)
        land = open_dataset("footprint-twin", source="demo")
        assert land.attrs["source"].startswith("demo:") and "NDVI" in land
    (tmp_path / "turbulence").mkdir()
    (tmp_path / "turbulence" / "AMF_US-Xyz_BASE_HH_1-5.csv").write_text(_amf_text())
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path))
    real = open_dataset("tower-turbulence", source="real", zm_m=20.0, z0_m=0.5)
    assert real.attrs["source"].startswith("real:") and real.sizes["time"] == 6
