"""Loaders on format-faithful fixtures (ObsPack, CONTRAIL, ACOS Lite), regions, network, manifest hooks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landcarbon.atmosphere.io import aircraft_monthly_profiles, read_contrail, read_obspack, read_xco2_lite
from landcarbon.errors import DataError, UnitsError

netCDF4 = pytest.importorskip("netCDF4")


def _write_obspack(path, site="mlo", n=90, units="mol mol-1", fill_every=0, lat=19.536, lon=-155.576, alt=3397.0,
                   start="2005-01-01", bad_qc_every=0):
    """An ObsPack-style record: dim obs, time in s since 1970, value in mol mol-1, qcflag char(3)."""
    t0 = pd.Timestamp(start)
    times = [t0 + pd.Timedelta(days=int(d)) for d in np.arange(n)]
    sec = np.array([(t - pd.Timestamp("1970-01-01")).total_seconds() for t in times], dtype="int32")
    val = 380e-6 + 1e-6 * np.sin(np.arange(n) / 10.0)
    if units == "ppm":
        val = val * 1e6
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("obs", n)
        nc.createDimension("string_of_3chars", 3)
        v = nc.createVariable("time", "i4", ("obs",)); v[:] = sec
        v.units = "seconds since 1970-01-01T00:00:00Z"; v.calendar = "standard"
        v = nc.createVariable("value", "f4", ("obs",), fill_value=-999.99)
        data = val.astype("f4").copy()
        if fill_every:
            data[::fill_every] = -999.99
        v[:] = data; v.units = units
        v = nc.createVariable("value_unc", "f4", ("obs",)); v[:] = np.full(n, 0.1e-6 if units != "ppm" else 0.1)
        v.units = units
        for name, x in (("latitude", lat), ("longitude", lon), ("altitude", alt)):
            v = nc.createVariable(name, "f8", ("obs",)); v[:] = np.full(n, x)
        q = nc.createVariable("qcflag", "S1", ("obs", "string_of_3chars"))
        flags = np.array([list("...")] * n, dtype="S1")
        if bad_qc_every:
            flags[::bad_qc_every, 0] = b"X"
        q[:] = flags
        nc.site_code = site.upper()
        nc.dataset_project = "surface-flask"


def test_read_obspack_monthly_means(tmp_path):
    p1 = tmp_path / "co2_mlo_surface-flask_1_ccgg_event.nc"
    p2 = tmp_path / "co2_wlg_surface-flask_1_ccgg_event.nc"
    _write_obspack(p1, "mlo", fill_every=7, bad_qc_every=5)
    _write_obspack(p2, "wlg", lat=36.288, lon=100.896, alt=3810, n=40, units="ppm")
    ds = read_obspack([p1, p2])
    assert list(ds.site.values) == ["MLO", "WLG"]
    assert ds["co2"].attrs["units"] == "ppm"
    # oracle: pandas monthly mean of valid, QC-passed samples of MLO
    n = 90
    val = (380e-6 + 1e-6 * np.sin(np.arange(n) / 10.0)).astype("f4").astype(float) * 1e6
    ok = np.ones(n, bool); ok[::7] = False; ok[::5] = False
    idx = pd.Timestamp("2005-01-01") + pd.to_timedelta(np.arange(n), "D")
    ref = pd.Series(val[ok], idx[ok]).resample("MS").mean()
    np.testing.assert_allclose(ds["co2"].sel(site="MLO").values[:3], ref.values[:3], rtol=1e-6)
    assert ds["co2_n"].sel(site="MLO").values[0] == ok[:31].sum()
    assert np.all(ds["co2_sigma"].sel(site="MLO").values[:3] > 0)
    assert int(ds["level"].sel(site="WLG")) == 1
    assert np.isnan(ds["co2"].sel(site="WLG").values[-1])  # WLG has no data in the last month of MLO


def test_read_obspack_errors(tmp_path):
    p = tmp_path / "co2_xxx_bad.nc"
    _write_obspack(p, units="furlongs")
    with pytest.raises(UnitsError, match="furlongs"):
        read_obspack([p])
    trunc = tmp_path / "co2_trunc.nc"
    trunc.write_bytes(p.read_bytes()[:200])
    with pytest.raises(DataError, match="cannot read netCDF"):
        read_obspack([trunc])
    q = tmp_path / "co2_novalue.nc"
    with netCDF4.Dataset(q, "w") as nc:
        nc.createDimension("obs", 2)
        nc.createVariable("time", "i4", ("obs",))[:] = [0, 1]
    with pytest.raises(DataError, match="value"):
        read_obspack([q])
    allfill = tmp_path / "co2_fill.nc"
    _write_obspack(allfill, fill_every=1)
    with pytest.raises(DataError, match="no valid"):
        read_obspack([allfill])


def test_read_contrail_text_and_profiles(tmp_path):
    p = tmp_path / "contrail_cme_2006.txt"
    lines = ["# CONTRAIL CME test file", "year month day hour minute second lat lon alt co2"]
    rng = np.random.default_rng(0)
    for k in range(40):
        alt = 500 + 250 * k
        lines.append(f"2006 {1 + k // 20} {1 + k % 20} 3 15 0 {35.7 + rng.uniform(-0.5, 0.5):.3f} "
                     f"{140.4 + rng.uniform(-0.5, 0.5):.3f} {alt} {383.0 - alt / 5000:.2f}")
    lines.append("2006 3 1 0 0 0 35.7 140.4 800 -9999")
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode())  # CRLF line endings
    ds = read_contrail([p])
    assert ds.sizes["obs"] == 40 and ds["co2"].attrs["units"] == "ppm"
    assert float(ds["altitude"].min()) == 500
    prof = aircraft_monthly_profiles(ds, pd.DataFrame({"code": ["NRT"], "lat": [35.76], "lon": [140.39]}))
    assert set(prof.site.values) <= {"NRT_L0", "NRT_L1", "NRT_L2"}
    assert prof.sizes["time"] == 2 and np.all(prof["co2_sigma"].values[np.isfinite(prof["co2"].values)] >= 2.0)
    csv = tmp_path / "b.txt"
    csv.write_text("datetime,lat,lon,alt,co2\n2007-05-01T03:00:00Z,35,140,9000,384.1\n2007-05-01T03:10:00Z,35,141,9100,x\n")
    with pytest.raises(DataError, match="row 2"):
        read_contrail([csv])
    short = tmp_path / "c.txt"
    short.write_text("datetime lat lon alt co2\n2007-05-01T03:00:00Z 35 140 9000\n")
    with pytest.raises(DataError, match="fields"):
        read_contrail([short])
    nocol = tmp_path / "d.txt"
    nocol.write_text("datetime lat lon co2\n2007-05-01T03:00:00Z 35 140 380\n")
    with pytest.raises(DataError, match="alt"):
        read_contrail([nocol])


def _write_lite(path, n=50, flag_bad=(3, 7)):
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("sounding_id", n)
        v = nc.createVariable("sounding_id", "u8", ("sounding_id",)); v[:] = 2015010100000000 + np.arange(n)
        x = nc.createVariable("xco2", "f4", ("sounding_id",)); x[:] = 398 + np.arange(n) * 0.01; x.units = "ppm"
        u = nc.createVariable("xco2_uncertainty", "f4", ("sounding_id",)); u[:] = np.full(n, 0.6); u.units = "ppm"
        nc.createVariable("latitude", "f4", ("sounding_id",))[:] = np.linspace(-50, 60, n)
        nc.createVariable("longitude", "f4", ("sounding_id",))[:] = np.linspace(-170, 170, n)
        t = nc.createVariable("time", "f8", ("sounding_id",))
        t[:] = 1420070400.0 + np.arange(n) * 60.0
        t.units = "seconds since 1970-01-01 00:00:00"
        q = nc.createVariable("xco2_quality_flag", "i1", ("sounding_id",))
        qq = np.zeros(n, "i1"); qq[list(flag_bad)] = 1; q[:] = qq


def test_read_xco2_lite(tmp_path):
    p = tmp_path / "oco2_LtCO2_150101_B10206Ar_200729175909s.nc4"
    _write_lite(p)
    ds = read_xco2_lite([p])
    assert ds.sizes["sounding"] == 48
    assert str(ds["time"].values[0])[:10] == "2015-01-01"
    assert float(ds["xco2"][0]) == pytest.approx(398.0)
    assert read_xco2_lite([p], good_only=False).sizes["sounding"] == 50
    bad = tmp_path / "x_LtCO2_bad.nc4"
    with netCDF4.Dataset(bad, "w") as nc:
        nc.createDimension("sounding_id", 1)
        nc.createVariable("xco2", "f4", ("sounding_id",))[:] = [400]
    with pytest.raises(DataError, match="xco2_uncertainty"):
        read_xco2_lite([bad])


def test_regions_and_network():
    from landcarbon.atmosphere.network import observation_points, read_stations
    from landcarbon.atmosphere.regions import china_mask, nested_regions, transcom_regions

    n = nested_regions()
    t = transcom_regions()
    assert n.n == 43 and t.n == 22
    assert int(np.sum(n.china)) == 13
    assert sum(1 for k in n.kind if k == "ocean") == 11
    W = n.aggregation_matrix(t)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    # China area of the approximate outline within 10 % of the official 9.6e6 km2
    area_cn = n.areas_m2()[np.asarray(n.china)].sum() / 1e6
    assert 8.6e6 < area_cn < 10.6e6
    cm = china_mask()
    assert bool(cm.sel(lat=39.5, lon=116.5)) and not bool(cm.sel(lat=35.5, lon=139.5))
    # TransCom areas vs CTDAS mask (brief 1.4) within 35 %
    ref = [10.1, 11.5, 9.6, 9.3, 21.1, 10.2, 13.6, 26.2, 6.5, 8.1, 11.5, 44.9, 31.4, 34.8, 38.7, 21.4, 22.4, 24.2,
           19.2, 60.5, 31.3, 27.4]
    ratio = t.areas_m2() / 1e12 / np.array(ref)
    assert np.all((ratio > 0.65) & (ratio < 1.35)), ratio.round(2)
    st = read_stations()
    for code, lat, lon in (("MLO", 19.536, -155.576), ("WLG", 36.288, 100.896), ("SDZ", 40.65, 117.117)):
        row = st.set_index("code").loc[code]
        assert row["lat"] == lat and row["lon"] == lon
    p1, p3 = observation_points("case1"), observation_points("case3")
    assert {"LFS", "SDZ", "LAN"}.isdisjoint(p1["id"]) and {"LFS", "SDZ", "LAN"} <= set(p3["id"])
    assert (p3["network"] == "aircraft").sum() > 20


def test_bad_region_file(tmp_path):
    from landcarbon.atmosphere.regions import nested_regions

    p = tmp_path / "r.json"
    p.write_text('{"china_outline": []')
    with pytest.raises(DataError, match="JSON"):
        nested_regions(p)
    p.write_text('{"china_outline": []}')
    with pytest.raises(DataError, match="china_zones"):
        nested_regions(p)


def test_manifest_callables_and_demo():
    from landcarbon.data import open_dataset

    ds = open_dataset("contrail-co2", source="demo", years=1)
    assert ds.attrs["source"].startswith("demo:landcarbon.atmosphere.demo:demo_observations")
    assert set(ds["network"].values) == {"aircraft"}
    assert np.all(np.isfinite(ds["co2"].values)) and ds["co2"].attrs["units"] == "ppm"
    x = open_dataset("xco2-gosat-oco2", source="demo", n_per_month=20)
    assert x.sizes["sounding"] == 12 * 20
    good = x["xco2_quality_flag"].values == 0
    assert np.abs(x["xco2"].values[good] - x["xco2_true"].values[good]).std() < 2.5
