"""Loaders of CRU TS, ERA5 monthly and FLUXNET2015 MM files on format-faithful fixtures (tmp_path)."""
from __future__ import annotations

import gzip
import shutil

import netCDF4
import numpy as np
import pandas as pd
import pytest

from landcarbon.errors import DataError, UnitsError
from landcarbon.world import io
from landcarbon.world.climate import saturation_vapour_pressure

CRU_FILL = np.float32(9.96921e36)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDCARBON_CACHE", str(tmp_path / "cache"))


def write_cru(path, var, units, values, *, stn=None, start_year=1989, lat=None, lon=None):
    """A tiny CRU TS 4.04 file: float32 with 9.96921e36 fill, int stn with -999, mid-month days since 1900-1-1."""
    nt = values.shape[0]
    lat = np.array([-0.25, 0.25, 50.25, 50.75]) if lat is None else lat
    lon = np.array([-179.75, -10.25, 10.25, 179.75]) if lon is None else lon
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as nc:
        nc.createDimension("lon", lon.size)
        nc.createDimension("lat", lat.size)
        nc.createDimension("time", None)
        v = nc.createVariable("lon", "f4", ("lon",)); v[:] = lon; v.units = "degrees_east"
        v = nc.createVariable("lat", "f4", ("lat",)); v[:] = lat; v.units = "degrees_north"
        t = nc.createVariable("time", "f4", ("time",))
        t.units = "days since 1900-1-1"; t.calendar = "gregorian"
        stamps = pd.date_range(f"{start_year}-01-01", periods=nt, freq="MS") + pd.Timedelta(days=15)
        t[:] = (stamps - pd.Timestamp("1900-01-01")).days.to_numpy()
        x = nc.createVariable(var, "f4", ("time", "lat", "lon"), fill_value=CRU_FILL)
        x.missing_value = CRU_FILL; x.units = units; x.long_name = var
        x[:] = np.where(np.isnan(values), CRU_FILL, values).astype("f4")
        s = nc.createVariable("stn", "i4", ("time", "lat", "lon"), fill_value=-999)
        s.description = "number of stations contributing to each datum"
        s[:] = np.full(values.shape, 3, dtype="i4") if stn is None else stn
    return path


def _cru_values(nt=24, base=10.0):
    rng = np.random.default_rng(0)
    v = base + rng.normal(0, 1, (nt, 4, 4)).astype("f4")
    v[:, 0, 0] = np.nan  # ocean cell
    return v


def test_cru_plain_and_gzip_identical_with_stations_and_units(tmp_path):
    d = tmp_path / "CRU_TS_4.04"
    d.mkdir()
    tmp = _cru_values()
    write_cru(d / "cru_ts4.04.1901.2019.tmp.dat.nc", "tmp", "degrees Celsius", tmp)
    vap = np.full_like(tmp, 8.0)
    stn = np.full(tmp.shape, 2, dtype="i4"); stn[:, 1, 1] = 0; stn[:, 0, 0] = -999
    write_cru(d / "cru_ts4.04.1901.2019.vap.dat.nc", "vap", "hPa", vap, stn=stn)
    write_cru(d / "cru_ts4.04.1901.2019.pet.dat.nc", "pet", "mm/day", np.full_like(tmp, 2.5))
    write_cru(d / "cru_ts4.04.1901.2019.wet.dat.nc", "wet", "days", np.full_like(tmp, 12.0))
    plain = io.read_cru_ts(sorted(d.glob("*.nc"))).load()
    # gzip copy of every file, read directly
    gz = tmp_path / "gz"
    gz.mkdir()
    for f in d.glob("*.nc"):
        with open(f, "rb") as a, gzip.open(gz / (f.name + ".gz"), "wb") as b:
            shutil.copyfileobj(a, b)
    zipped = io.read_cru_ts(sorted(gz.glob("*.gz"))).load()
    for v in ("TA", "VAP", "PET", "WET", "VPD", "RH"):
        np.testing.assert_array_equal(plain[v].values, zipped[v].values)
    assert plain.TA.attrs["units"] == "degC" and plain.PET.attrs["units"] == "mm d-1"
    assert plain.WET.dtype == np.float32 and float(plain.WET.max()) == 12.0  # not decoded as timedelta
    assert np.isnan(plain.TA.values[:, 0, 0]).all()  # 9.96921e36 -> NaN
    np.testing.assert_allclose(plain.TA.values[:, 1:, 1:], tmp[:, 1:, 1:], rtol=1e-6)
    assert plain.time[0].values == np.datetime64("1989-01-01") and plain.attrs["time_label"] == "month start"
    assert plain.VAP_stn.dtype == np.int16 and int(plain.VAP_stn[0, 0, 0]) == -1 and int(plain.VAP_stn[0, 1, 1]) == 0
    es = saturation_vapour_pressure(plain.TA.values)
    np.testing.assert_allclose(plain.VPD.values, np.clip(es - 8.0, 0, None), rtol=1e-5)
    masked = io.read_cru_ts(sorted(d.glob("*.nc")), mask_no_station=True)
    assert np.isnan(masked.VAP.values[:, 1, 1]).all() and np.isfinite(masked.VAP.values[:, 2, 2]).all()
    sub = io.read_cru_ts(sorted(d.glob("*.nc")), years=(1990, 1990))
    assert sub.sizes["time"] == 12 and str(sub.time.values[0])[:7] == "1990-01"


def test_cru_coarsens_to_standard_grid(tmp_path):
    lat = np.arange(-89.75, 90, 0.5)
    lon = np.arange(-179.75, 180, 0.5)
    vals = np.full((12, lat.size, lon.size), np.nan, dtype="f4")
    vals[:, 280:284, 380:384] = 5.0  # a 2x2-degree block of land
    vals[:, 280, 380] = 9.0
    f = write_cru(tmp_path / "cru_ts4.04.1901.2019.tmp.dat.nc", "tmp", "degrees Celsius", vals, lat=lat, lon=lon,
                  stn=np.zeros(vals.shape, dtype="i4"))
    ds = io.read_cru_ts([f], resolution=2.0).load()
    assert ds.sizes["lat"] == 90 and ds.sizes["lon"] == 180
    cell = ds.TA.sel(lat=slice(50, 52), lon=slice(10, 12))
    assert float(cell.isel(time=0).squeeze()) == pytest.approx((9 + 15 * 5) / 16)
    assert int(np.isfinite(ds.TA.isel(time=0)).sum()) == 1


def test_cru_bad_inputs(tmp_path):
    f = write_cru(tmp_path / "cru_ts4.04.1901.2019.tmp.dat.nc", "tmp", "K", _cru_values())
    with pytest.raises(UnitsError, match="units"):
        io.read_cru_ts([f])
    bad = tmp_path / "cru_ts4.04.1901.2019.pre.dat.nc.gz"
    bad.write_bytes(gzip.compress(b"not a netcdf file")[:-6])  # truncated gzip
    with pytest.raises(DataError, match="decompress|netCDF"):
        io.read_cru_ts([bad])
    other = tmp_path / "temperature.nc"
    other.write_bytes(b"x")
    with pytest.raises(DataError, match="CRU TS file"):
        io.read_cru_ts([other])
    wrong = write_cru(tmp_path / "cru_ts4.04.1901.2019.pre.dat.nc", "tmp", "mm/month", _cru_values())
    with pytest.raises(DataError, match="missing"):
        io.read_cru_ts([wrong])


def write_era5(path, layout, *, nt=3, packed=False, expver_dim=False):
    """ERA5 monthly means: new CDS ('valid_time', number/expver coords, float32) or old ('time', int16 packed)."""
    lat = np.array([90.0, 50.0, 0.0, -50.0])  # north to south
    lon = np.array([0.0, 10.0, 180.0, 350.0])  # 0..360
    tname = "valid_time" if layout == "new" else "time"
    stamps = pd.date_range("2001-01-01", periods=nt, freq="MS")
    shape = (nt, lat.size, lon.size)
    fields = {
        "t2m": ("K", np.full(shape, 288.15)),
        "d2m": ("K", np.full(shape, 278.15)),
        "ssrd": ("J m**-2", np.full(shape, 200.0 * 86400)),
        "tp": ("m", np.full(shape, 0.002)),
        "swvl1": ("m**3 m**-3", np.full(shape, 0.3)),
    }
    fields["t2m"][1][:, 1, 1] += np.arange(nt)  # a tracer at 50 N, 10 E
    with netCDF4.Dataset(path, "w") as nc:
        dims = (tname, "latitude", "longitude")
        if expver_dim:
            nc.createDimension("expver", 2)
            dims = (tname, "expver", "latitude", "longitude")
            e = nc.createVariable("expver", "i4", ("expver",)); e[:] = [1, 5]
        nc.createDimension(tname, nt)
        nc.createDimension("latitude", lat.size)
        nc.createDimension("longitude", lon.size)
        t = nc.createVariable(tname, "i8" if layout == "new" else "i4", (tname,))
        if layout == "new":
            t.units = "seconds since 1970-01-01"
            t[:] = ((stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)).to_numpy()
            n = nc.createVariable("number", "i8", ()); n[...] = 0
            ev = nc.createVariable("expver", str, (tname,))
            for k in range(nt):
                ev[k] = "0001"
        else:
            t.units = "hours since 1900-01-01 00:00:00.0"; t.calendar = "gregorian"
            t[:] = ((stamps - pd.Timestamp("1900-01-01")) // pd.Timedelta(hours=1)).to_numpy()
        v = nc.createVariable("latitude", "f8", ("latitude",)); v[:] = lat; v.units = "degrees_north"
        v = nc.createVariable("longitude", "f8", ("longitude",)); v[:] = lon; v.units = "degrees_east"
        for name, (units, vals) in fields.items():
            if expver_dim:  # ERA5 in expver 1 for the first months, ERA5T (5) for the last one
                full = np.full((nt, 2) + vals.shape[1:], np.nan)
                full[:-1, 0] = vals[:-1]
                full[-1, 1] = vals[-1]
                vals = full
            if packed:
                lo, hi = np.nanmin(vals), np.nanmax(vals)
                scale = (hi - lo) / 60000 if hi > lo else 1.0
                offset = (hi + lo) / 2
                x = nc.createVariable(name, "i2", dims, fill_value=np.int16(-32767))
                x.scale_factor = scale; x.add_offset = offset
                x.set_auto_maskandscale(True)
                x[:] = np.ma.array(np.where(np.isnan(vals), 0.0, vals), mask=np.isnan(vals))
            else:
                x = nc.createVariable(name, "f4", dims, fill_value=np.float32(np.nan))
                x[:] = vals
            x.units = units
    return path


@pytest.mark.parametrize("layout,packed,expver_dim", [("new", False, False), ("old", True, False), ("old", True, True)])
def test_era5_layouts_give_the_standard_dataset(tmp_path, layout, packed, expver_dim):
    f = write_era5(tmp_path / f"era5_monthly_{layout}.nc", layout, packed=packed, expver_dim=expver_dim)
    ds = io.read_era5_monthly([f]).load()
    assert list(ds.TA.dims) == ["time", "lat", "lon"]
    assert (np.diff(ds.lat) > 0).all() and float(ds.lon.max()) <= 180 and (np.diff(ds.lon) > 0).all()
    tol = 1e-3 if packed else 1e-5
    assert float(ds.TA.sel(lat=0, lon=0).isel(time=0)) == pytest.approx(15.0, abs=tol * 100)
    np.testing.assert_allclose(ds.TA.sel(lat=50, lon=10).values, 15.0 + np.arange(3), atol=0.01)  # tracer survived flips
    assert float(ds.SW_IN.isel(time=0).mean()) == pytest.approx(200.0, rel=1e-4)
    np.testing.assert_allclose(ds.P.sel(lat=0, lon=-180).values, 2.0 * np.array([31, 28, 31]), rtol=1e-3)  # m/day -> mm/month
    assert float(ds.SWC.mean()) == pytest.approx(0.3, rel=1e-3) and ds.SWC.attrs["units"] == "m3 m-3"
    es_t, es_d = saturation_vapour_pressure(15.0), saturation_vapour_pressure(5.0)
    assert float(ds.VPD.sel(lat=0, lon=0).isel(time=0)) == pytest.approx(es_t - es_d, rel=1e-3)
    assert float(ds.RH.sel(lat=0, lon=0).isel(time=0)) == pytest.approx(100 * es_d / es_t, rel=1e-3)
    assert ds.time.values[0] == np.datetime64("2001-01-01")
    for v in ("number", "expver"):
        assert v not in ds.coords and v not in ds.dims


def test_era5_bad_inputs(tmp_path):
    f = tmp_path / "era5_monthly_bad.nc"
    with netCDF4.Dataset(f, "w") as nc:
        nc.createDimension("latitude", 2); nc.createDimension("longitude", 2)
        x = nc.createVariable("t2m", "f4", ("latitude", "longitude")); x.units = "K"
    with pytest.raises(DataError, match="no time dimension"):
        io.read_era5_monthly([f])
    g = write_era5(tmp_path / "era5_monthly_units.nc", "new")
    with netCDF4.Dataset(g, "a") as nc:
        nc["t2m"].units = "degC"
    with pytest.raises(UnitsError, match="t2m"):
        io.read_era5_monthly([g])
    h = tmp_path / "era5_monthly_corrupt.nc"
    h.write_bytes(b"CDF\x01garbage")
    with pytest.raises(DataError, match="cannot open"):
        io.read_era5_monthly([h])
    raw = write_era5(tmp_path / "era5_monthly_full.nc", "new").read_bytes()
    h.write_bytes(raw[: len(raw) // 3])  # truncated download
    with pytest.raises(DataError, match="cannot open"):
        io.read_era5_monthly([h])


MM_HEADER = ["TIMESTAMP", "TA_F", "TA_F_QC", "SW_IN_F", "VPD_F", "P_F", "SWC_F_MDS_1", "NEE_VUT_REF",
             "NEE_VUT_REF_QC", "RECO_NT_VUT_REF", "RECO_DT_VUT_REF", "GPP_NT_VUT_REF", "GPP_DT_VUT_REF"]


def write_mm(folder, site, rows, *, header=MM_HEADER, newline="\n", y0=2004, y1=2005, extra=None):
    name = f"FLX_{site}_FLUXNET2015_FULLSET_MM_{y0}-{y1}_1-4.csv"
    cols = list(header) + (list(extra) if extra else [])
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join(str(r.get(c, -9999)) for c in cols))
    (folder / name).write_bytes((newline.join(lines) + newline).encode())
    return folder / name


def _rows(y0, n, reco=2.0):
    out = []
    for k in range(n):
        y, m = y0 + k // 12, k % 12 + 1
        out.append({"TIMESTAMP": y * 100 + m, "TA_F": 5.0 + k % 12, "TA_F_QC": 0.9, "SW_IN_F": 150, "VPD_F": 5,
                    "P_F": 2.0, "SWC_F_MDS_1": 30, "NEE_VUT_REF": -1.0, "NEE_VUT_REF_QC": 0.8,
                    "RECO_NT_VUT_REF": reco + 0.01 * k, "RECO_DT_VUT_REF": reco + 0.1, "GPP_NT_VUT_REF": 3.0,
                    "GPP_DT_VUT_REF": 3.1})
    return out


def test_fluxnet_monthly_sites_order_gaps_metadata(tmp_path):
    r1 = _rows(2004, 24)
    r1[3]["RECO_NT_VUT_REF"] = -9999            # one missing value
    r1[5] = {"TIMESTAMP": r1[5]["TIMESTAMP"]}    # a whole missing month (all -9999)
    write_mm(tmp_path, "US-Ha1", r1)
    r2 = _rows(2005, 12, reco=4.0)
    hdr2 = list(reversed(MM_HEADER))             # different column order, extra unknown column, CRLF
    write_mm(tmp_path, "DE-Tha", r2, header=hdr2, newline="\r\n", y0=2005, y1=2005, extra=["FOO_BAR"])
    meta = tmp_path / "sites.csv"
    meta.write_text("SITE_ID,LOCATION_LAT,LOCATION_LONG,IGBP\nUS-Ha1,42.5378,-72.1715,DBF\nDE-Tha,50.9626,13.5651,ENF\n")
    ds = io.read_fluxnet_monthly(sorted(tmp_path.glob("FLX_*.csv")), metadata="sites.csv")
    assert list(ds.site.values) == ["DE-Tha", "US-Ha1"] and ds.sizes["time"] == 24
    ha = ds.sel(site="US-Ha1")
    assert np.isnan(ha.RECO_NT.values[3]) and np.isnan(ha.RECO_NT.values[5]) and np.isnan(ha.TA.values[5])
    assert ha.RECO_NT.values[4] == pytest.approx(2.04) and ha.RECO_NT.attrs["units"] == "gC m-2 d-1"
    th = ds.sel(site="DE-Tha")
    assert np.isnan(th.RECO_NT.values[:12]).all() and th.RECO_NT.values[12] == pytest.approx(4.0)
    assert float(th.lat) == pytest.approx(50.9626) and str(th.PFT.values) == "ENF"
    assert str(ha.climate_zone.values) == "temperate"
    assert ha.NEE_QC.values[0] == pytest.approx(0.8) and ha.SWC.attrs["units"] == "%"
    sub = io.read_fluxnet_monthly(sorted(tmp_path.glob("FLX_*.csv")), metadata=meta, years=(2005, 2005))
    assert sub.sizes["time"] == 12


def test_fluxnet_bad_inputs(tmp_path):
    rows = _rows(2004, 12)
    rows[4]["TIMESTAMP"] = "2004-05"
    f = write_mm(tmp_path, "US-Bad", rows)
    with pytest.raises(DataError, match=r"line 6, column TIMESTAMP"):
        io.read_fluxnet_monthly([f])
    g = write_mm(tmp_path, "US-Bd2", _rows(2004, 12), header=[c for c in MM_HEADER if not c.startswith("RECO")])
    with pytest.raises(DataError, match="RECO_NT_VUT_REF"):
        io.read_fluxnet_monthly([g])
    hh = tmp_path / "FLX_US-Ha1_FLUXNET2015_FULLSET_HH_2004-2005_1-4.csv"
    hh.write_text("TIMESTAMP_START,TIMESTAMP_END,NEE_VUT_REF\n200401010000,200401010030,1\n")
    with pytest.raises(DataError, match="not monthly"):
        io.read_fluxnet_monthly([hh])
    odd = tmp_path / "ha1_monthly.csv"
    odd.write_text("TIMESTAMP\n200401\n")
    with pytest.raises(DataError, match="file name"):
        io.read_fluxnet_monthly([odd])
    ok = write_mm(tmp_path, "US-Ok1", _rows(2004, 12))
    with pytest.raises(DataError, match="metadata"):
        io.read_fluxnet_monthly([ok], metadata=tmp_path / "missing.csv")


def test_manifest_callables_resolve():
    from landcarbon.data.manifest import load_manifest

    man = load_manifest()
    for ds_id in ("fluxnet2015-monthly", "cru-ts-4.04", "era5-monthly"):
        entry = man[ds_id]
        assert callable(entry.loader_function())
        assert callable(entry.demo_function())


def test_combine_drivers_takes_era5_humidity_radiation_soil_on_cru_grid(tmp_path):
    lat = np.arange(-89.75, 90, 0.5)
    lon = np.arange(-179.75, 180, 0.5)
    vals = np.full((3, lat.size, lon.size), np.nan, dtype="f4")
    vals[:, 280:284, 380:384] = 5.0
    c = write_cru(tmp_path / "cru_ts4.04.1901.2019.tmp.dat.nc", "tmp", "degrees Celsius", vals, lat=lat, lon=lon,
                  start_year=2001)
    cru = io.read_cru_ts([c])
    era = io.read_era5_monthly([write_era5(tmp_path / "era5_monthly_x.nc", "new")])
    out = io.combine_drivers(cru, era)
    assert set(io.ERA5_PREFERRED) <= set(out.data_vars) and out.sizes["time"] == 3
    swc = out.SWC.isel(time=0)
    assert np.isnan(swc.values[0, 0]) and float(swc.sel(lat=50.25, lon=10.25)) == pytest.approx(0.3, rel=1e-3)
    assert int(swc.notnull().sum()) == 16  # only CRU land cells
    with pytest.raises(DataError, match="none of"):
        io.combine_drivers(cru, era[["TA"]])


def test_conservative_regrid_matches_a_slow_overlap_oracle_and_conserves_totals():
    """ERA5-like 0.25-deg points (cells of +-0.125 deg, poles clipped) -> 2 deg: each target value is the
    area-weighted mean of the overlapping source cells (explicit loop on the sphere), NaN drops out, and
    the area integral of a fully covered field is conserved (bilinear point samples are not)."""
    import xarray as xr

    rng = np.random.default_rng(4)
    lat = np.linspace(90, -90, 721)
    lon = np.arange(0, 360, 0.25)
    field = rng.gamma(2.0, 1.0, (2, lat.size, lon.size))
    ds = io.standardise_grid(xr.Dataset({"P": (("time", "latitude", "longitude"), field)},
                                        coords={"time": [0, 1], "latitude": lat, "longitude": lon}))
    out = io.to_resolution(ds, 2.0)
    assert out.P.attrs["regridding"].startswith("first-order conservative")
    R = 6.371e6
    slat = ds.lat.values
    slon = ds.lon.values

    def cell_area(la0, la1, lo0, lo1):
        return R**2 * np.deg2rad(lo1 - lo0) * (np.sin(np.deg2rad(la1)) - np.sin(np.deg2rad(la0)))

    for (ti, tj) in [(0, 0), (44, 90), (89, 179), (60, 3)]:
        tla, tlo = float(out.lat[ti]), float(out.lon[tj])
        num = den = 0.0
        for i, la in enumerate(slat):
            a0, a1 = max(la - 0.125, -90), min(la + 0.125, 90)
            o_la = (max(a0, tla - 1), min(a1, tla + 1))
            if o_la[1] <= o_la[0]:
                continue
            for j, lo in enumerate(slon):
                for shift in (-360, 0, 360):
                    b0, b1 = lo - 0.125 + shift, lo + 0.125 + shift
                    o_lo = (max(b0, tlo - 1), min(b1, tlo + 1))
                    if o_lo[1] > o_lo[0]:
                        w = cell_area(o_la[0], o_la[1], o_lo[0], o_lo[1])
                        num += w * ds.P.values[0, i, j]
                        den += w
        assert float(out.P.values[0, ti, tj]) == pytest.approx(num / den, rel=1e-10)
    # conservation of the area integral (full coverage)
    src_area = np.array([cell_area(max(la - 0.125, -90), min(la + 0.125, 90), 0, 0.25) for la in slat])
    tot_src = float((ds.P.values[1] * src_area[:, None]).sum())
    tot_dst = float((out.P.values[1] * np.array([cell_area(la - 1, la + 1, 0, 2.0) for la in out.lat.values])[:, None]).sum())
    assert tot_dst == pytest.approx(tot_src, rel=1e-10)
    # missing source cells drop out of the mean; a target with no valid source is NaN
    miss = ds.copy(deep=True)
    miss["P"][:, :9, :] = np.nan                           # points -90 .. -88 (cells down to -87.875)
    m = io.to_resolution(miss, 2.0)
    assert np.isnan(m.P.values[0, 0]).all() and np.isfinite(m.P.values[0, 1]).all()
