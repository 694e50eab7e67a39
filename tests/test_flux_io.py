"""Tests of landcarbon.flux.io: format-faithful small fixtures written to tmp_path + real DE-Tha data."""
from __future__ import annotations

import glob
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landcarbon.errors import DataError, UnitsError
from landcarbon.flux import io as fio

HEADER = ["Year", "DoY", "Hour", "NEE", "LE", "H", "Rg", "Tair", "Tsoil", "rH", "VPD", "Ustar"]
UNITS = ["-", "-", "-", "umolm-2s-1", "Wm-2", "Wm-2", "Wm-2", "degC", "degC", "%", "hPa", "ms-1"]


def _rows(n_days=2, step_h=0.5, year=1998, start_doy=1, hour0_style=True):
    """Data rows like Example_DETha98.txt: hour = interval END; midnight written as hour 0 of next day."""
    rows = []
    rng = np.random.default_rng(1)
    spd = int(round(24 / step_h))
    for k in range(1, n_days * spd + 1):
        end_h = k * step_h
        doy = start_doy + int(end_h // 24)
        hour = end_h % 24
        if not hour0_style and hour == 0:
            doy, hour = doy - 1, 24.0
        nee = round(float(rng.normal(2, 3)), 2)
        rows.append([year, doy, hour, nee, 1.5, -10.0, max(0.0, round(400 * np.sin(np.pi * (hour - 6) / 12), 1)),
                     5.0 + hour / 10, 4.0, 70.0, 3.2, 0.4])
    return rows


def _write_reddyproc(path, rows, header=HEADER, units=UNITS, newline="\r", fmt=None):
    lines = ["\t".join(header), "\t".join(units)]
    for r in rows:
        lines.append("\t".join(str(int(v)) if i < 2 else (fmt or "{}").format(v) for i, v in enumerate(r)))
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
def test_reddyproc_line_endings_give_identical_datasets(tmp_path, newline):
    rows = _rows()
    rows[3][3] = -9999
    ref = fio.read_reddyproc_text(_write_reddyproc(tmp_path / "lf.txt", rows, newline="\n"), "X", 50, 13, 1)
    ds = fio.read_reddyproc_text(_write_reddyproc(tmp_path / "f.txt", rows, newline=newline), "X", 50, 13, 1)
    xr.testing.assert_identical(ds.drop_attrs(), ref.drop_attrs())
    assert ds.sizes["time"] == 96
    # hour 0.5 = END of the first half hour; -9999 -> NaN; renamed variables with units
    assert ds.time.values[0] == np.datetime64("1998-01-01T00:30")
    assert ds.time.values[-1] == np.datetime64("1998-01-03T00:00")
    assert np.isnan(ds.NEE.values[3]) and np.isfinite(ds.NEE.values[2])
    for v, u in (("SW_IN", "W m-2"), ("TA", "degC"), ("TS", "degC"), ("RH", "%"), ("USTAR", "m s-1"),
                 ("VPD", "hPa"), ("NEE", "umol m-2 s-1")):
        assert ds[v].attrs["units"] == u
        assert ds[v].dtype == np.float64
    assert ds.attrs["time_label"] == "end" and ds.attrs["timestep_seconds"] == 1800
    assert ds.attrs["lat"] == 50 and ds.attrs["utc_offset_hours"] == 1
    fio.validate_site_dataset(ds, required=("NEE", "TA"))


def test_reddyproc_hour24_style_equals_hour0_style(tmp_path):
    a = fio.read_reddyproc_text(_write_reddyproc(tmp_path / "a.txt", _rows(hour0_style=True)))
    b = fio.read_reddyproc_text(_write_reddyproc(tmp_path / "b.txt", _rows(hour0_style=False)))
    np.testing.assert_array_equal(a.time.values, b.time.values)


def test_reddyproc_hourly_and_multiple_files(tmp_path):
    ds = fio.read_reddyproc_text(_write_reddyproc(tmp_path / "h.txt", _rows(step_h=1.0)))
    assert ds.attrs["timestep_seconds"] == 3600 and ds.sizes["time"] == 48
    f1 = _write_reddyproc(tmp_path / "y1.txt", _rows(n_days=1))
    f2 = _write_reddyproc(tmp_path / "y2.txt", _rows(n_days=1, start_doy=2))
    both = fio.read_reddyproc_text([f2, f1])  # order of files does not matter
    assert both.sizes["time"] == 96 and (np.diff(both.time.values) > np.timedelta64(0)).all()


def test_reddyproc_wrong_units_names_file_column_and_fix(tmp_path):
    units = list(UNITS)
    units[HEADER.index("VPD")] = "kPa"
    p = _write_reddyproc(tmp_path / "bad_units.txt", _rows(), units=units)
    with pytest.raises(UnitsError) as e:
        fio.read_reddyproc_text(p)
    msg = str(e.value)
    assert "bad_units.txt" in msg and "VPD" in msg and "hPa" in msg and "Fix:" in msg


def test_reddyproc_missing_units_line(tmp_path):
    rows = _rows()
    p = tmp_path / "nounits.txt"
    p.write_text("\n".join(["\t".join(HEADER)] + ["\t".join(str(v) for v in r) for r in rows]) + "\n")
    with pytest.raises(UnitsError, match="units"):
        fio.read_reddyproc_text(p)


def test_reddyproc_missing_required_column(tmp_path):
    hdr = [h for h in HEADER if h != "Ustar"]
    un = [u for h, u in zip(HEADER, UNITS) if h != "Ustar"]
    rows = [r[:-1] for r in _rows()]
    p = _write_reddyproc(tmp_path / "noustar.txt", rows, header=hdr, units=un)
    with pytest.raises(DataError, match="Ustar"):
        fio.read_reddyproc_text(p)
    # not required -> loads without USTAR
    ds = fio.read_reddyproc_text(p, required=("NEE",))
    assert "USTAR" not in ds


def test_reddyproc_bad_value_names_line(tmp_path):
    rows = _rows()
    rows[9][7] = "abc"
    p = _write_reddyproc(tmp_path / "badval.txt", rows)
    with pytest.raises(DataError, match=r"line 12, column Tair"):
        fio.read_reddyproc_text(p)


def test_time_axis_duplicates_nonmonotonic_gaps(tmp_path):
    rows = _rows()
    dup = rows[:10] + [rows[9]] + rows[10:]
    with pytest.raises(DataError, match="duplicated"):
        fio.read_reddyproc_text(_write_reddyproc(tmp_path / "dup.txt", dup))
    swp = rows[:10] + [rows[11], rows[10]] + rows[12:]
    with pytest.raises(DataError, match="not increasing"):
        fio.read_reddyproc_text(_write_reddyproc(tmp_path / "swp.txt", swp))
    gap = rows[:10] + rows[14:]
    p = _write_reddyproc(tmp_path / "gap.txt", gap)
    with pytest.raises(DataError, match="gap in the time axis") as e:
        fio.read_reddyproc_text(p)
    assert "regularise=True" in str(e.value)
    ds = fio.read_reddyproc_text(p, regularise=True)
    assert ds.sizes["time"] == 96 and np.isnan(ds.NEE.values[10:14]).all()
    assert ds.attrs["regularised_records_inserted"] == 4


# --------------------------------------------------------------------------- FLUXNET2015
def _write_fluxnet(path, step_min=30, n=96, start="199801010000"):
    t0 = pd.Timestamp(start)
    ts = t0 + pd.to_timedelta(np.arange(n) * step_min, "min")
    te = ts + pd.Timedelta(minutes=step_min)
    rng = np.random.default_rng(3)
    df = pd.DataFrame({
        "TIMESTAMP_START": ts.strftime("%Y%m%d%H%M"), "TIMESTAMP_END": te.strftime("%Y%m%d%H%M"),
        "TA_F": np.round(rng.normal(10, 3, n), 3), "TA_F_QC": 0,
        "SW_IN_F": np.round(np.clip(rng.normal(200, 100, n), 0, None), 2), "SW_IN_F_QC": 0,
        "VPD_F": np.round(np.abs(rng.normal(5, 2, n)), 3), "VPD_F_QC": 0,
        "TS_F_MDS_1": 8.0, "TS_F_MDS_1_QC": 0, "SWC_F_MDS_1": 25.0, "SWC_F_MDS_1_QC": 1,
        "USTAR": 0.4, "RH": 70.0, "P_F": 0.0, "WS_F": 2.0,
        "NEE_VUT_REF": np.round(rng.normal(1, 3, n), 3), "NEE_VUT_REF_QC": rng.integers(0, 3, n),
        "NEE_CUT_REF": 7.5, "NEE_CUT_REF_QC": 0,
    })
    df.loc[5, "TA_F"] = -9999
    df.to_csv(path, index=False)
    return df


@pytest.mark.parametrize("res,step", [("HH", 30), ("HR", 60)])
def test_fluxnet2015_hh_hr(tmp_path, res, step):
    p = tmp_path / f"FLX_DE-Tha_FLUXNET2015_FULLSET_{res}_1998-1998_1-4.csv"
    df = _write_fluxnet(p, step_min=step)
    ds = fio.read_fluxnet2015([p], lat=50.96, lon=13.57, utc_offset_hours=1)
    assert ds.attrs["site"] == "DE-Tha" and ds.attrs["timestep_seconds"] == step * 60
    assert ds.time.values[0] == np.datetime64("1998-01-01T00:00") + np.timedelta64(step, "m")
    assert np.isnan(ds.TA.values[5])
    q = df["NEE_VUT_REF_QC"].to_numpy()
    np.testing.assert_array_equal(np.isnan(ds.NEE.values), q != 0)  # measured only
    assert ds.NEE_QC.dtype == np.int8 and ds.SWC_QC.values[0] == 1
    assert ds.SWC.attrs["units"] == "%" and ds.VPD.attrs["units"] == "hPa"
    cut = fio.read_fluxnet2015([p], variant="CUT", nee_measured_only=False)
    assert np.all(cut.NEE.values == 7.5)
    allv = fio.read_fluxnet2015([p], nee_measured_only=False)
    assert np.isfinite(allv.NEE.values).all()


def test_fluxnet2015_errors(tmp_path):
    p = tmp_path / "FLX_DE-Tha_FLUXNET2015_FULLSET_HH_1998-1998_1-4.csv"
    _write_fluxnet(p)
    with pytest.raises(DataError, match="NEE_VUT_USTAR50") as e:
        fio.read_fluxnet2015([p], percentile="USTAR50")
    assert "NEE_VUT_REF" in str(e.value)  # lists what is available
    df = pd.read_csv(p, dtype=str).drop(columns=["VPD_F", "VPD_F_QC"])
    df.to_csv(p, index=False)
    with pytest.raises(DataError, match="VPD"):
        fio.read_fluxnet2015([p])
    df = pd.read_csv(p, dtype=str)
    df.loc[3, "TIMESTAMP_END"] = df.loc[2, "TIMESTAMP_END"]
    df.to_csv(p, index=False)
    with pytest.raises(DataError):
        fio.read_fluxnet2015([p], required=("NEE",))


# --------------------------------------------------------------------------- netCDF
def _write_nc(path, units, calendar, values, **extra_vars):
    n = len(values)
    ds = xr.Dataset({
        "NEE": ("time", np.linspace(-5, 5, n), {"units": "umol m-2 s-1"}),
        "Tair": ("time", np.full(n, 283.15), {"units": "K"}),
        "VPD": ("time", np.full(n, 0.5), {"units": "kPa"}),
        **extra_vars,
    }, coords={"time": ("time", np.asarray(values, dtype=float), {"units": units, "calendar": calendar})},
        attrs={"site": "NC-Tst", "lat": 45.0, "lon": 10.0, "utc_offset_hours": 1.0})
    ds.to_netcdf(path, engine="netcdf4" if True else None)
    return path


def test_netcdf_days_since_1582_proleptic(tmp_path):
    # 2000-01-01T00:30 is 152 384 days after 1582-10-14 in the proleptic Gregorian calendar
    origin = np.datetime64("1582-10-14")
    first = (np.datetime64("2000-01-01T00:30") - origin) / np.timedelta64(1, "D")
    vals = first + np.arange(48) / 48.0
    p = _write_nc(tmp_path / "pg.nc", "days since 1582-10-14", "proleptic_gregorian", vals)
    ds = fio.read_flux_netcdf(p)
    assert ds.time.values[0] == np.datetime64("2000-01-01T00:30")
    assert ds.attrs["timestep_seconds"] == 1800 and ds.attrs["site"] == "NC-Tst"
    np.testing.assert_allclose(ds.TA.values, 10.0)  # K -> degC
    np.testing.assert_allclose(ds.VPD.values, 5.0)  # kPa -> hPa
    # same numbers declared in the mixed 'standard' calendar: 1582-10-14 does not exist there
    p2 = _write_nc(tmp_path / "std.nc", "days since 1582-10-14", "standard", vals)
    with pytest.raises(DataError, match="proleptic_gregorian"):
        fio.read_flux_netcdf(p2)
    ds2 = fio.read_flux_netcdf(p2, calendar="proleptic_gregorian")
    np.testing.assert_array_equal(ds2.time.values, ds.time.values)


def test_netcdf_julian_calendar_gives_true_instants(tmp_path):
    # Julian-calendar date 1999-12-19 is Gregorian 2000-01-01 (13 days difference in this era)
    vals = np.arange(1, 49) / 24.0  # hourly ends
    p = _write_nc(tmp_path / "jul.nc", "days since 1999-12-19 00:00", "julian", vals)
    ds = fio.read_flux_netcdf(p)
    assert ds.time.values[0] == np.datetime64("2000-01-01T01:00")
    assert ds.attrs["timestep_seconds"] == 3600


def test_netcdf_model_calendars(tmp_path):
    # noleap in a leap year: Feb 29 is absent -> a gap in the real time axis
    vals = np.arange(58 * 24, 61 * 24) / 24.0 + 1 / 24.0
    p = _write_nc(tmp_path / "noleap.nc", "days since 2000-01-01", "noleap", vals)
    with pytest.raises(DataError, match="gap"):
        fio.read_flux_netcdf(p)
    assert fio.read_flux_netcdf(p, regularise=True).sizes["time"] == 4 * 24
    p3 = _write_nc(tmp_path / "360.nc", "days since 2000-02-28", "360_day", np.arange(1, 73) / 24.0)
    with pytest.raises(DataError, match="not a real date"):
        fio.read_flux_netcdf(p3)


def test_netcdf_units_and_labels(tmp_path):
    vals = np.arange(48) / 48.0
    p = _write_nc(tmp_path / "nounit.nc", "days since 2001-01-01", "standard", vals,
                  Ustar=("time", np.full(48, 0.3)))
    with pytest.raises(UnitsError, match="Ustar"):
        fio.read_flux_netcdf(p)
    p2 = _write_nc(tmp_path / "start.nc", "days since 2001-01-01", "standard", vals)
    ds = fio.read_flux_netcdf(p2, time_label="start")
    assert ds.time.values[0] == np.datetime64("2001-01-01T00:30")
    with pytest.raises(DataError, match="USTAR"):
        fio.read_flux_netcdf(p2, required=("NEE", "USTAR"))
    bad = tmp_path / "corrupt.nc"
    bad.write_bytes(b"CDF\x01garbage")
    with pytest.raises(DataError, match="corrupt.nc"):
        fio.read_flux_netcdf(bad)


# --------------------------------------------------------------------------- real data
def test_detha_real_file(detha_txt, detha_reference_dir):
    ds = fio.read_reddyproc_text(detha_txt, "DE-Tha", 50.95, 13.57, 1.0)
    summ = json.loads((detha_reference_dir / "DETha98_REddyProc_summary.json").read_text())
    assert ds.sizes["time"] == summ["counts"]["n_records"] == 17520
    assert int(np.isnan(ds.NEE).sum()) == summ["counts"]["n_NEE_missing_input_raw"]
    assert int(np.isnan(ds.TA).sum()) == summ["counts"]["n_Tair_missing_input"]
    assert int(np.isnan(ds.SW_IN).sum()) == summ["counts"]["n_Rg_missing_input"]
    assert ds.time.values[0] == np.datetime64("1998-01-01T00:30")
    ref = fio.read_reddyproc_reference(sorted(detha_reference_dir.glob("*")))
    np.testing.assert_array_equal(ref.time.values, ds.time.values)
    ok = np.isfinite(ref.NEE_orig.values)
    np.testing.assert_array_equal(ref.NEE_orig.values[ok], ds.NEE.values[ok])
    # REddyProc's filterLongRuns removed 34 records of runs of equal values before gap filling
    assert int((~ok).sum() - np.isnan(ds.NEE).sum()) == summ["counts"]["n_NEE_set_NA_by_filterLongRuns"]
    assert ref.attrs["ustar_threshold"] == pytest.approx(0.41625)
    assert ref.attrs["ustar_q95"] == pytest.approx(0.58426, abs=1e-4)
    assert ref.attrs["annual_NEE_f"] == pytest.approx(-612.457, abs=1e-3)
    assert ref.NEE_f.attrs["units"] == "umol m-2 s-1" and ref.attrs["lat"] == 50.95


def test_manifest_callables_resolve():
    from landcarbon.flux import demo

    assert callable(fio.read_reddyproc_text) and callable(fio.read_reddyproc_reference)
    assert callable(fio.read_fluxnet2015) and callable(demo.demo_site)
