"""Robustness of the flux loaders and chain on real-world file problems (issues 11 and 17, item 8).

Every finding has a crafted file that reproduces it: empty files, sentinels (1e30, inf), required columns
that are entirely -9999, truncated rows, unit spellings, site attributes in the file, NaN coordinates,
pre-1582 time origins checked against date columns, partial-year sums, the u*-skip path, VPD <-> RH,
a missing NEE_fsd, hourly records in half-hourly files and time stamps checked against the sun.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import landcarbon.flux as F
from landcarbon.errors import DataError, UnitsError
from landcarbon.flux import io as fio


# --------------------------------------------------------------------------- crafted FLUXNET2015 CSV
def _fluxnet_frame(n=96, step_min=30, start="199801010000"):
    t0 = pd.Timestamp(start)
    ts = t0 + pd.to_timedelta(np.arange(n) * step_min, "min")
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "TIMESTAMP_START": ts.strftime("%Y%m%d%H%M"),
        "TIMESTAMP_END": (ts + pd.Timedelta(minutes=step_min)).strftime("%Y%m%d%H%M"),
        "TA_F": np.round(rng.normal(10, 3, n), 3), "SW_IN_F": np.round(np.clip(rng.normal(200, 100, n), 0, None), 2),
        "VPD_F": np.round(np.abs(rng.normal(5, 2, n)), 3), "NEE_VUT_REF": np.round(rng.normal(1, 3, n), 3),
        "NEE_VUT_REF_QC": 0})


def _flx_path(tmp_path):
    return tmp_path / "FLX_DE-Tha_FLUXNET2015_FULLSET_HH_1998-1998_1-4.csv"


def test_fluxnet_empty_file_names_the_path(tmp_path):
    p = _flx_path(tmp_path)
    p.write_bytes(b"")
    with pytest.raises(DataError, match="empty") as e:
        fio.read_fluxnet2015([p])
    assert p.name in str(e.value)
    p.write_text("TIMESTAMP_START,TIMESTAMP_END,NEE_VUT_REF\n")  # a header and nothing else
    with pytest.raises(DataError) as e:
        fio.read_fluxnet2015([p], required=("NEE",))
    assert p.name in str(e.value)


@pytest.mark.parametrize("bad,var", [(1e30, "TA_F"), (np.inf, "NEE_VUT_REF"), (-np.inf, "SW_IN_F")])
def test_fluxnet_sentinels_are_refused_or_masked(tmp_path, bad, var):
    df = _fluxnet_frame()
    df[var] = df[var].astype(float)
    df.loc[7, var] = bad
    p = _flx_path(tmp_path)
    df.to_csv(p, index=False)
    std = {"TA_F": "TA", "NEE_VUT_REF": "NEE", "SW_IN_F": "SW_IN"}[var]
    with pytest.raises(DataError, match=f"'{std}'.*plausible"):
        fio.read_fluxnet2015([p])
    ds = fio.read_fluxnet2015([p], plausibility="mask")
    assert np.isnan(ds[std].values[7]) and ds[std].attrs["n_masked_implausible"] == 1
    assert np.isfinite(ds[std].values[8])


def test_fluxnet_required_column_all_missing(tmp_path):
    df = _fluxnet_frame()
    df["VPD_F"] = -9999
    p = _flx_path(tmp_path)
    df.to_csv(p, index=False)
    with pytest.raises(DataError, match="'VPD' has no valid value"):
        fio.read_fluxnet2015([p])


def test_fluxnet_truncated_row_names_the_line(tmp_path):
    df = _fluxnet_frame()
    p = _flx_path(tmp_path)
    text = df.to_csv(index=False).split("\n")
    text[11] = ",".join(text[11].split(",")[:4])  # a row cut off after 4 fields (line 12 of the file)
    p.write_text("\n".join(text))
    with pytest.raises(DataError, match="line 12") as e:
        fio.read_fluxnet2015([p])
    assert "4 fields" in str(e.value)


# --------------------------------------------------------------------------- crafted REddyProc text
def _reddyproc_text(rows_mod=None):
    header = ["Year", "DoY", "Hour", "NEE", "Rg", "Tair", "VPD", "Ustar"]
    units = ["-", "-", "-", "umolm-2s-1", "Wm-2", "degC", "hPa", "ms-1"]
    lines = ["\t".join(header), "\t".join(units)]
    for k in range(1, 97):  # Hour = end of the half-hour; midnight written as hour 0 of the next day
        end_h = k * 0.5
        lines.append("\t".join(str(v) for v in (1998, 1 + int(end_h // 24), end_h % 24, 1.5, 100.0, 5.0, 3.0, 0.4)))
    if rows_mod:
        rows_mod(lines)
    return "\n".join(lines) + "\n"


def test_reddyproc_sentinel_truncation_and_empty(tmp_path):
    p = tmp_path / "site.txt"
    p.write_text(_reddyproc_text())
    ds = fio.read_reddyproc_text(p)
    assert ds.sizes["time"] == 96

    def put(v):
        return lambda lines: lines.__setitem__(12, lines[12].replace("\t5.0\t", f"\t{v}\t"))

    p.write_text(_reddyproc_text(put("1e30")))
    with pytest.raises(DataError, match="'TA'.*plausible"):
        fio.read_reddyproc_text(p)
    p.write_text(_reddyproc_text(lambda lines: lines.__setitem__(20, "\t".join(lines[20].split("\t")[:5]))))
    with pytest.raises(DataError, match="line 21"):
        fio.read_reddyproc_text(p)
    p.write_text(_reddyproc_text(lambda lines: [lines.__setitem__(i, lines[i].replace("\t0.4", "\t-9999"))
                                               for i in range(2, len(lines))]))
    with pytest.raises(DataError, match="'USTAR' has no valid value"):
        fio.read_reddyproc_text(p)
    p.write_text("")
    with pytest.raises(DataError, match="empty"):
        fio.read_reddyproc_text(p)


# --------------------------------------------------------------------------- crafted netCDF
def _nc(path, *, units="umol m-2 s-1", attrs=None, time_units="days since 2001-01-01", calendar="standard",
        values=None, extra=None):
    n = 48 if values is None else len(values)
    vals = np.arange(1, n + 1) / 48.0 if values is None else values
    ds = xr.Dataset({"NEE": ("time", np.linspace(-5, 5, n), {"units": units}),
                     "TA": ("time", np.full(n, 10.0), {"units": "degC"}), **(extra or {})},
                    coords={"time": ("time", vals, {"units": time_units, "calendar": calendar})},
                    attrs=attrs or {})
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize("spelling", ["umol_m-2_s-1", "umolCO2 m-2 s-1", "µmol m-2 s-1", "umol.m-2.s-1"])
def test_netcdf_unit_spellings(tmp_path, spelling):
    ds = fio.read_flux_netcdf(_nc(tmp_path / "u.nc", units=spelling))
    np.testing.assert_allclose(ds.NEE.values, np.linspace(-5, 5, 48))


def test_netcdf_units_override(tmp_path):
    p = _nc(tmp_path / "odd.nc", units="micromoles per square metre per second")
    with pytest.raises(UnitsError, match="NEE"):
        fio.read_flux_netcdf(p)
    ds = fio.read_flux_netcdf(p, units={"NEE": "umol m-2 s-1"})
    assert ds.NEE.attrs["units"] == "umol m-2 s-1"
    p2 = tmp_path / "none.nc"
    xr.Dataset({"NEE": ("time", np.ones(48))},
               coords={"time": ("time", np.arange(1, 49) / 48.0, {"units": "days since 2001-01-01"})}).to_netcdf(p2)
    with pytest.raises(UnitsError, match="units=") as e:
        fio.read_flux_netcdf(p2)
    assert "no units" in str(e.value)
    assert fio.read_flux_netcdf(p2, units={"NEE": "umol m-2 s-1"}).NEE.values[0] == 1.0


@pytest.mark.parametrize("attrs,variables", [
    ({"Site_ID": "XX-Abc", "Latitude": 47.5, "Longitude": 8.25, "TimeZone": 1.0}, None),
    ({"SITE_ID": "XX-Abc", "LOCATION_LAT": "47.5", "LOCATION_LONG": "8.25", "UTC_OFFSET": "UTC+1"}, None),
    ({"site_id": "XX-Abc", "time_zone": "+01:00"}, {"latitude": 47.5, "longitude": 8.25}),
])
def test_netcdf_site_attributes_are_read(tmp_path, attrs, variables):
    extra = {k: ((), v) for k, v in (variables or {}).items()}
    ds = fio.read_flux_netcdf(_nc(tmp_path / "s.nc", attrs=attrs, extra=extra))
    assert ds.attrs["site"] == "XX-Abc" and ds.attrs["lat"] == 47.5 and ds.attrs["lon"] == 8.25
    assert ds.attrs["utc_offset_hours"] == 1.0


def test_nan_coordinates_give_a_clear_error_not_a_crash(tmp_path):
    ds = fio.read_flux_netcdf(_nc(tmp_path / "nolat.nc"))
    assert np.isnan(ds.attrs["lat"])
    demo = F.demo_site(1, "S0", year=1998).isel(time=slice(0, 20 * 48)).drop_vars("SW_IN_POT")
    demo.attrs["lat"] = float("nan")
    demo["NEE_f"] = demo["NEE"]
    with pytest.raises(DataError, match="lat"):
        F.partition_nt(demo)


def _doy_hour_vars(t_end):
    t = pd.DatetimeIndex(t_end) - pd.Timedelta(minutes=30)
    hour = (t.hour + t.minute / 60 + 0.5).to_numpy(float)
    return {"Year": ("time", t.year.to_numpy(float)), "DoY": ("time", t.day_of_year.to_numpy(float)),
            "Hour": ("time", hour)}


def test_pre1582_origin_checked_against_date_columns(tmp_path):
    """A file written with proleptic offsets from 1500-01-01 but labelled 'standard' (Julian before 1582) is
    10 days off; the Year/DoY/Hour columns reveal it and the error names the calendar that matches."""
    t_end = np.arange(np.datetime64("2000-06-01T00:30"), np.datetime64("2000-06-02T00:30"), np.timedelta64(30, "m"))
    vals = (t_end - np.datetime64("1500-01-01T00:00")) / np.timedelta64(1, "D")
    p = _nc(tmp_path / "old.nc", time_units="days since 1500-01-01", calendar="standard", values=vals,
            extra=_doy_hour_vars(t_end))
    with pytest.raises(DataError, match="proleptic_gregorian' matches") as e:
        fio.read_flux_netcdf(p)
    assert "days" in str(e.value)
    ds = fio.read_flux_netcdf(p, calendar="proleptic_gregorian")
    np.testing.assert_array_equal(ds.time.values, t_end)
    assert "agree" in ds.attrs["calendar_check"]
    # the same file without date columns: decoded as declared, with a CalendarWarning
    p2 = _nc(tmp_path / "old2.nc", time_units="days since 1500-01-01", calendar="standard", values=vals)
    with pytest.warns(fio.CalendarWarning, match="Gregorian reform"):
        fio.read_flux_netcdf(p2)


# --------------------------------------------------------------------------- chain
def test_partial_year_sums_carry_coverage():
    ds = F.demo_site(1, "S0", year=1998)
    half = ds.GPP_true.isel(time=slice(0, ds.sizes["time"] // 2))
    with pytest.raises(DataError, match="50.0 %"):
        F.flux_sum(half)
    s = F.flux_sum(half, on_low="flag")
    assert s.flagged and s.coverage == pytest.approx(0.5, abs=1e-3) and s.n_expected == 17520
    full = F.flux_sum(ds.GPP_true)
    assert full.coverage == 1.0 and not full.flagged and float(full) == pytest.approx(2 * float(s), rel=0.3)
    assert np.isnan(F.flux_sum(half, on_low="nan"))
    by_year = F.sums_by_year(ds.GPP_true)
    assert list(by_year.index) == [1998] and by_year["coverage"].iloc[0] == 1.0


def test_ustar_skip_path_without_ustar():
    ds = F.demo_site(2, "S0", year=1998, ustar_bias=False).drop_vars("USTAR").isel(time=slice(90 * 48, 150 * 48))
    with pytest.raises(Exception):
        F.prepare_site(ds)  # the u* threshold needs USTAR
    prep, res = F.prepare_site(ds, ustar="skip")
    assert res is None and np.isnan(prep.attrs["ustar_threshold"]) and "skipped" in prep.attrs["ustar_filter"]
    assert np.isfinite(prep.NEE_f.values).mean() > 0.99


def test_vpd_and_rh_derived_from_each_other():
    from landcarbon.flux._common import prepare_inputs
    from landcarbon.meteo import rh_from_vpd, vpd_from_rh

    ds = F.demo_site(3, "S0", year=1998, driver_gap_fraction=0.0).isel(time=slice(0, 10 * 48))
    ds["NEE_f"] = ds["NEE"]
    a = prepare_inputs(ds.drop_vars("RH"))
    np.testing.assert_allclose(a.rh, rh_from_vpd(ds.TA.values, ds.VPD.values))
    b = prepare_inputs(ds.drop_vars("VPD"))
    np.testing.assert_allclose(b.vpd, vpd_from_rh(ds.TA.values, ds.RH.values))


def test_missing_nee_fsd_is_estimated_not_constant():
    from landcarbon.flux._common import prepare_inputs

    ds = F.demo_site(4, "S0", year=1998, ustar_bias=False).isel(time=slice(150 * 48, 200 * 48))
    ds["NEE_f"] = ds["NEE"]
    inp = prepare_inputs(ds)
    ok = np.isfinite(ds.NEE.values)
    fallback = np.maximum(0.7, 0.2 * np.abs(ds.NEE.values))
    assert np.mean(np.isclose(inp.nee_sd[ok], fallback[ok])) < 0.2
    # the similar-condition spread grows with the flux (Richardson et al. 2006)
    big = ok & (np.abs(ds.NEE_true.values) > 10)
    small = ok & (np.abs(ds.NEE_true.values) < 3)
    assert np.nanmedian(inp.nee_sd[big]) > np.nanmedian(inp.nee_sd[small])


@pytest.mark.realdata
@pytest.mark.slow
def test_dt_gpp_with_and_without_nee_fsd_on_detha(detha_reference_dir):
    from _flux_ref_helpers import load_reddyproc_reference_input

    ds, _ = load_reddyproc_reference_input(detha_reference_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = float(F.partition_dt(ds).annual_sums()["GPP"])
        b = float(F.partition_dt(ds.drop_vars("NEE_fsd")).annual_sums()["GPP"])
    assert abs(b / a - 1) < 0.03, f"DT GPP {a:.0f} with NEE_fsd, {b:.0f} without"


def test_flux_io_reachable_as_attribute():
    import landcarbon.flux

    assert landcarbon.flux.io.read_flux_netcdf is fio.read_flux_netcdf
    assert landcarbon.flux.io.read_fluxnet2015_hh_netcdf is not None
    for name in ("STANDARD_UNITS", "read_reddyproc_text", "read_reddyproc_reference", "read_fluxnet2015",
                 "validate_site_dataset", "make_site_dataset", "check_time_axis", "MISSING_VALUE"):
        assert hasattr(fio, name)


# --------------------------------------------------------------------------- FLUXNET2015 HH netCDF
def _hh_file(tmp_path, *, hourly=False, shift_min=0, site="XX-Tst", lat=45.0, lon=-90.0):
    from landcarbon.flux.solar import potential_radiation

    t_end = np.arange(np.datetime64("2010-01-01T00:30"), np.datetime64("2011-01-01T00:30"), np.timedelta64(30, "m"))
    pot = potential_radiation(t_end - np.timedelta64(shift_min, "m"), lat, lon, 0.0, timestep_seconds=1800)
    rng = np.random.default_rng(0)
    sw = 0.7 * pot
    nee = -0.02 * sw + 2.0 + rng.normal(0, 0.5, t_end.size)
    ta = 10 + 0.01 * sw
    vpd = 5 + 0.005 * sw
    qc = (rng.random(t_end.size) < 0.4).astype(float)
    if hourly:
        for a in (sw, nee, ta, vpd, qc):
            a[1::2] = a[0::2]
    mins = (t_end - np.datetime64("1991-01-01T06:00")) / np.timedelta64(1, "m")
    ds = xr.Dataset({"nee": ("time", nee, {"units": "umolCO2 m-2 s-1"}), "nee_qc": ("time", qc),
                     "gpp_nt": ("time", 0.02 * sw, {"units": "umolCO2 m-2 s-1"}),
                     "gpp_dt": ("time", 0.02 * sw, {"units": "umolCO2 m-2 s-1"}),
                     "ta": ("time", ta, {"units": "degC"}), "sw_in": ("time", sw, {"units": "W m-2"}),
                     "vpd": ("time", vpd, {"units": "hPa"}), "latitude": ((), lat), "longitude": ((), lon)},
                    coords={"time": ("time", mins, {"units": "minutes since 1991-01-01T06:00:00",
                                                    "calendar": "proleptic_gregorian"})},
                    attrs={"site_id": site})
    p = tmp_path / f"FLX_{site}_FLUXNET2015_HH_2010-2010.nc"
    ds.to_netcdf(p)
    return p, t_end


def test_hh_netcdf_reads_utc_ends_and_checks_them_against_the_sun(tmp_path):
    p, t_end = _hh_file(tmp_path)
    ds = fio.read_fluxnet2015_hh_netcdf(p)
    assert ds.attrs["site"] == "XX-Tst" and ds.attrs["lat"] == 45.0 and ds.attrs["utc_offset_hours"] == 0.0
    assert ds.attrs["time_alignment_shift_hours"] == 0.0 and ds.attrs["timestep_seconds"] == 1800
    np.testing.assert_array_equal(ds.time.values, t_end)
    assert np.isnan(ds.NEE.values[ds.NEE_QC.values != 0]).all()  # measured records only
    assert "RH" in ds and np.nanmax(ds.RH.values) <= 100
    # stamps one hour late are detected and moved back
    (tmp_path / "late").mkdir()
    p2, _ = _hh_file(tmp_path / "late", shift_min=60)
    late = fio.read_fluxnet2015_hh_netcdf(p2)
    assert late.attrs["time_alignment_shift_hours"] == 1.0


def test_hh_netcdf_hourly_pairs_are_read_hourly(tmp_path):
    p, t_end = _hh_file(tmp_path, hourly=True)
    ds = fio.read_fluxnet2015_hh_netcdf(p)
    assert ds.attrs["timestep_seconds"] == 3600 and ds.attrs["hourly_site"] == 1
    assert ds.sizes["time"] == t_end.size // 2
    assert fio.read_fluxnet2015_hh_netcdf(p, hourly="no").attrs["timestep_seconds"] == 1800
