"""Loaders of the inputs a user must bring (MOD15A2H FPAR, TROPOSIF L2B), tested on format-faithful files
written here, and the real FLUXNET towers when the shared data are present."""
from __future__ import annotations

import os
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from landcarbon.errors import DataError
from landcarbon.gpp import analysis as A, io as gio


def _write_mod15(path: Path, fpar_pct, qc, times, lat, lon):
    """AppEEARS-style netCDF-4: uint8 Fpar_500m (scale 0.01, fill 255, valid 0-100), FparLai_QC, lat north->south."""
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("time", len(times))
        nc.createDimension("lat", len(lat))
        nc.createDimension("lon", len(lon))
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01 00:00:00"
        t.calendar = "julian"
        t[:] = netCDF4.date2num(list(times), t.units, t.calendar)
        la = nc.createVariable("lat", "f8", ("lat",))
        la.units = "degrees_north"
        la[:] = lat
        lo = nc.createVariable("lon", "f8", ("lon",))
        lo.units = "degrees_east"
        lo[:] = lon
        crs = nc.createVariable("crs", "i1")
        crs.grid_mapping_name = "latitude_longitude"
        f = nc.createVariable("Fpar_500m", "u1", ("time", "lat", "lon"), fill_value=255)
        f.set_auto_maskandscale(False)
        f.scale_factor = 0.01
        f.valid_range = np.array([0, 100], dtype=np.uint8)
        f.long_name = "MODIS FPAR"
        f.units = "Percent"
        f.grid_mapping = "crs"
        f[:] = fpar_pct
        q = nc.createVariable("FparLai_QC", "u1", ("time", "lat", "lon"), fill_value=255)
        q.set_auto_maskandscale(False)
        q[:] = qc


def test_read_mod15a2h_scales_masks_and_averages(tmp_path):
    import datetime as dt

    times = [dt.datetime(2019, 7, 4), dt.datetime(2019, 7, 12), dt.datetime(2019, 8, 5)]
    lat = np.array([40.5, 40.0])       # north to south, as AppEEARS writes
    lon = np.array([116.0, 116.5])
    pct = np.array([[[50, 60], [250, 70]], [[70, 80], [90, 255]], [[20, 30], [40, 50]]], dtype=np.uint8)
    qc = np.zeros_like(pct)
    qc[1, 0, 0] = 0b011 << 5            # back-up algorithm: rejected by qc="main"
    _write_mod15(tmp_path / "MOD15A2H.061_500m_aid0001.nc", pct, qc, times, lat, lon)
    da = gio.read_mod15a2h(tmp_path / "MOD15A2H.061_500m_aid0001.nc", qc="main")
    assert list(da["lat"].values) == [40.0, 40.5] and da.attrs["units"] == "1"
    jul = da.isel(time=0)
    # (lat 40.5, lon 116.0): 0.50 (0.70 rejected); (40.5, 116.5): mean(0.60, 0.80); (40.0, 116.0): 250 is a
    # fill class -> only 0.90; (40.0, 116.5): 0.70 (255 fill)
    np.testing.assert_allclose(jul.sel(lat=40.5).values, [0.5, 0.7], rtol=1e-12)
    np.testing.assert_allclose(jul.sel(lat=40.0).values, [0.9, 0.7], rtol=1e-12)
    anyqc = gio.read_mod15a2h([tmp_path / "MOD15A2H.061_500m_aid0001.nc"], qc="any")
    assert float(anyqc.isel(time=0).sel(lat=40.5, lon=116.0)) == pytest.approx(0.6)
    raw = gio.read_mod15a2h(tmp_path / "MOD15A2H.061_500m_aid0001.nc", monthly=False)
    assert raw.sizes["time"] == 3
    ds = gio.open_mod15a2h([tmp_path / "MOD15A2H.061_500m_aid0001.nc"])
    assert "FPAR" in ds


def test_read_mod15a2h_errors(tmp_path):
    bad = tmp_path / "x.nc"
    with netCDF4.Dataset(bad, "w") as nc:
        nc.createDimension("x", 2)
        nc.createVariable("Lai_500m", "u1", ("x",))[:] = [1, 2]
    with pytest.raises(DataError, match="Fpar_500m missing"):
        gio.read_mod15a2h(bad)
    junk = tmp_path / "junk.nc"
    junk.write_text("not a netcdf file")
    with pytest.raises(DataError, match="cannot open"):
        gio.read_mod15a2h(junk)
    with pytest.raises(DataError, match="qc"):
        gio.read_mod15a2h(bad, qc="best")


def _write_troposif(path: Path, lat, lon, sif, sif_corr, err, nirv, cloud):
    """TROPOSIF L2B layout: group PRODUCT (per-sounding variables) with SUPPORT_DATA/{GEOLOCATIONS,INPUT_DATA}."""
    n = len(lat)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.title = "TROPOSIF L2B"
        g = nc.createGroup("PRODUCT")
        g.createDimension("n_elem", n)
        for name, vals, units in (("latitude", lat, "degrees_north"), ("longitude", lon, "degrees_east"),
                                  ("SIF_743", sif, "mW m-2 sr-1 nm-1"), ("SIF_Corr_743", sif_corr, "mW m-2 sr-1 nm-1"),
                                  ("SIF_ERROR_743", err, "mW m-2 sr-1 nm-1"), ("NIRv", nirv, "1")):
            v = g.createVariable(name, "f4", ("n_elem",), fill_value=np.float32(9.96921e36))
            v.units = units
            v[:] = np.ma.masked_invalid(np.asarray(vals, dtype=np.float32))
        dtv = g.createVariable("delta_time", "i4", ("n_elem",))
        dtv.units = "milliseconds since 2019-07-01 00:00:00"
        dtv[:] = np.arange(n) * 1000
        sup = g.createGroup("SUPPORT_DATA")
        geo = sup.createGroup("GEOLOCATIONS")
        geo.createVariable("solar_zenith_angle", "f4", ("n_elem",))[:] = np.full(n, 30.0)
        inp = sup.createGroup("INPUT_DATA")
        inp.createVariable("cloud_fraction_L2", "f4", ("n_elem",))[:] = cloud


def test_read_and_grid_troposif(tmp_path):
    lat = [30.1, 30.2, 30.3, 45.0, 45.1]
    lon = [100.1, 100.2, 100.3, -120.0, -120.1]
    sif = [1.0, 2.0, np.nan, 0.5, 0.7]
    corr = [0.4, 0.8, np.nan, 0.2, 0.28]
    err = [0.3, 0.4, 0.5, 0.6, 0.6]
    cloud = [0.1, 0.2, 0.1, 0.9, 0.3]
    _write_troposif(tmp_path / "TROPOSIF_L2B_2019-07-01.nc", lat, lon, sif, corr, err, [0.2] * 5, cloud)
    _write_troposif(tmp_path / "TROPOSIF_L2B_2019-07-02.nc", [30.2], [100.2], [3.0], [1.2], [0.3], [0.25], [0.0])
    snd = gio.read_troposif_l2b(sorted(tmp_path.glob("TROPOSIF_L2B_*.nc")), max_cloud_fraction=0.5)
    assert len(snd) == 4                       # NaN SIF and cloudy sounding dropped
    assert set(snd["date"].dt.day) == {1, 2}
    np.testing.assert_allclose(snd["dcf"], [0.4, 0.4, 0.4, 0.4], rtol=1e-6)
    g = gio.grid_troposif(snd, resolution=1.0)
    cell = g.isel(time=0).sel(lat=30.5, lon=100.5)
    assert float(cell["n"]) == 3
    assert float(cell["SIF_743"]) == pytest.approx(2.0, rel=1e-6)
    assert float(cell["SIF_ERROR_743"]) == pytest.approx(np.sqrt(0.3**2 + 0.4**2 + 0.3**2) / 3, rel=1e-6)
    assert float(g.isel(time=0).sel(lat=45.5, lon=-120.5)["SIF_743"]) == pytest.approx(0.7, rel=1e-6)
    sub = gio.read_troposif_l2b(tmp_path / "TROPOSIF_L2B_2019-07-01.nc", bbox=(40, 50, -130, -110))
    assert len(sub) == 1


def test_troposif_errors(tmp_path):
    p = tmp_path / "TROPOSIF_L2B_2019-07-03.nc"
    with netCDF4.Dataset(p, "w") as nc:
        nc.createGroup("OTHER")
    with pytest.raises(DataError, match="PRODUCT"):
        gio.read_troposif_l2b(p)
    q = tmp_path / "sif_2019.nc"
    q.write_bytes(b"")
    with pytest.raises(DataError, match="TROPOSIF L2B name"):
        gio.read_troposif_l2b(q)


def test_manifest_entries_resolve_to_loaders_and_demo(monkeypatch, tmp_path):
    from landcarbon.data import open_dataset

    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path))
    with pytest.warns(UserWarning, match="DEMO"):
        ds = open_dataset("modis-mod15a2h", source="auto")
    assert ds.attrs["source"].startswith("demo:landcarbon.gpp.demo:demo_fpar")
    assert float(ds["FPAR"].max()) <= 1.0
    import datetime as dt
    (tmp_path / "MOD15A2H").mkdir()
    _write_mod15(tmp_path / "MOD15A2H" / "MOD15A2H.061_500m_aid0001.nc", np.full((1, 2, 2), 40, np.uint8),
                 np.zeros((1, 2, 2), np.uint8), [dt.datetime(2019, 7, 4)], np.array([1.0, 0.5]), np.array([0.0, 0.5]))
    real = open_dataset("modis-mod15a2h", source="real")
    assert real.attrs["source"].startswith("real:") and float(real["FPAR"].mean()) == pytest.approx(0.4)


@pytest.mark.realdata
@pytest.mark.skipif(not gio.find_fluxnet_monthly(), reason="needs LANDCARBON_DATA_PATH with fluxnet2015-mm")
def test_real_towers_apparent_lue():
    paths = gio.find_fluxnet_monthly()
    assert len(paths) == 171
    # every 3rd file keeps the test fast and still spans the classes
    ds = gio.read_fluxnet_towers(paths[::3])
    assert ds.sizes["site"] == len(paths[::3]) and {"GPP_NT", "GPP_DT", "SW_IN", "VPD", "TA"} <= set(ds)
    tab = A.apparent_lue_table(ds)
    assert {"ENF", "GRA", "DBF"} <= set(tab["class"])
    # apparent efficiency of real towers: positive, below MOD17's largest ε_max, peaking in summer for DBF
    assert tab["lue_app"].between(-0.05, 2.0).all()
    dbf = tab[tab["class"] == "DBF"].set_index("season_month")["lue_app"]
    assert dbf.loc[[6, 7, 8]].mean() > 5 * dbf.loc[[1, 2, 12]].mean()


def test_find_fluxnet_monthly_without_data(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path))
    assert gio.find_fluxnet_monthly() == [] and gio.read_fluxnet_towers() is None
