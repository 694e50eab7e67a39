"""CF-1.10 outputs: every netCDF file the pipeline wrote under results/ passes a CF checker without errors.

The checker is the IOOS compliance checker's CF-1.10 suite (``compliance-checker``, test extra), run
offline with the CF standard-name table it ships. The ``cfchecker`` package on PyPI (4.1.0, 2021)
knows CF versions up to 1.8 only and reports a file that says ``Conventions = "CF-1.10"`` as "not CF";
its CF-1.10 successor is not on PyPI. A failure at the checker's highest priority ("required", the
CF document's *must*) counts as an error; warnings and suggestions are allowed.

The files come from the quick run that ``make test`` does first (``landcarbon report --profile quick``);
without results the file test skips and says so. The helper itself (:mod:`landcarbon.publish.cf`) is
checked on synthetic data, and a deliberately non-CF file must fail (the check is not vacuous).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from landcarbon.publish import cf


def _checker_errors(path: Path, tmp_path: Path) -> list[str]:
    """Failures of "required" (highest-priority) checks of the CF-1.10 suite for ``path``, plus any
    check that raised (a file the checker cannot even evaluate is not a pass)."""
    pytest.importorskip("compliance_checker", reason="compliance-checker (test extra) is not installed")
    from compliance_checker.base import BaseCheck
    from compliance_checker.runner import CheckSuite

    CheckSuite.load_all_available_checkers()
    cs = CheckSuite()
    ds = cs.load_dataset(str(path))
    try:
        groups, raised = cs.run_all(ds, ["cf:1.10"], skip_checks=[])["cf:1.10"]
    finally:
        ds.close()
    errors = [f"check {name} raised {exc[0]!r}" for name, exc in raised.items()]

    def walk(results):
        for r in results:
            yield r
            yield from walk(getattr(r, "children", None) or [])

    for r in walk(groups):
        value = r.value
        failed = (not value) if isinstance(value, bool) else (isinstance(value, tuple) and value[0] < value[1])
        if r.weight == BaseCheck.HIGH and failed and not getattr(r, "children", None):
            errors.append(f"{r.name}: {'; '.join(r.msgs or [])}")
    return errors


def _results_netcdf(project_root: Path) -> list[Path]:
    res = project_root / "results"
    return sorted(p for p in res.rglob("*.nc") if "_interactive" not in p.parts and not p.name.startswith("."))


def _annual(years=(2001, 2002, 2003)) -> xr.Dataset:
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 2.0, 4.0])
    er = np.arange(len(years) * 6, dtype="float32").reshape(len(years), 2, 3) + 500
    ds = xr.Dataset(
        {"ER": (("year", "lat", "lon"), er, {"units": "gC m-2 yr-1", "long_name": "ecosystem respiration"}),
         "GPP": (("year", "lat", "lon"), er * 2, {"units": "gC m-2 yr-1", "long_name": "gross primary production"}),
         "TA": (("year", "lat", "lon"), er / 50, {"units": "degC", "long_name": "air temperature"}),
         "area": (("lat", "lon"), np.full((2, 3), 1e10), {"units": "m2"}),
         "land": (("lat", "lon"), np.ones((2, 3), bool)),
         "zone": (("lat", "lon"), np.zeros((2, 3), "int8"),
                  {"flag_values": np.array([0, 1, 2]), "flag_meanings": "boreal temperate tropical"})},
        coords={"year": np.array(years), "lat": lat, "lon": lon},
        attrs={"source": "demo:test@0", "conventions": "lat ascending, lon -180..180, NaN over ocean"})
    return ds


def test_to_cf_round_trip_keeps_values_and_package_layout():
    ds = _annual()
    back = cf.from_cf(cf.to_cf(ds, title="t"))
    assert list(back["ER"].dims) == ["year", "lat", "lon"] and back["year"].values.tolist() == [2001, 2002, 2003]
    np.testing.assert_array_equal(back["ER"].values, ds["ER"].values)
    assert back["ER"].attrs["units"] == "gC m-2 yr-1" and back["TA"].attrs["units"] == "degC"


def test_to_cf_metadata():
    c = cf.to_cf(_annual(), title="test product")
    assert c.attrs["Conventions"] == "CF-1.10" and "conventions" not in c.attrs and "layout:" in c.attrs["comment"]
    assert c["ER"].attrs["units"] == "g m-2 yr-1" and "expressed as carbon" in c["ER"].attrs["long_name"]
    assert "standard_name" not in c["ER"].attrs  # no CF name for total ecosystem respiration
    assert c["GPP"].attrs["standard_name"] == "gross_primary_productivity_of_biomass_expressed_as_carbon"
    assert c["TA"].attrs["standard_name"] == "air_temperature" and c["area"].attrs["standard_name"] == "cell_area"
    assert c["time"].attrs["bounds"] == "time_bnds" and c["time"].attrs["units"].startswith("days since")
    # 2001 is not a leap year: bounds 1 Jan 2001 .. 1 Jan 2002, coordinate at the middle
    b = c["time_bnds"].values[0]
    assert b[1] - b[0] == 365 and c["time"].values[0] == pytest.approx(b.mean())
    assert c["land"].dtype == np.int8 and c["land"].attrs["flag_meanings"] == "false true"
    assert c["zone"].attrs["flag_values"].dtype == np.int8  # CF 3.5: same type as the variable


@pytest.mark.parametrize("units, expected", [("gC m-2 yr-1", ("g m-2 yr-1", True)), ("PgC yr-1", ("Pg yr-1", True)),
                                             ("TgC yr-1", ("Tg yr-1", True)), ("umol m-2 s-1", ("umol m-2 s-1", False)),
                                             ("degC", ("degC", False)), ("m3 m-3", ("m3 m-3", False))])
def test_cf_units(units, expected):
    assert cf.cf_units(units) == expected


def test_udunits_spellings_and_standard_names_are_valid():
    """Oracle: cf-units (UDUNITS-2) parses every unit we write, and each standard name we assign exists in
    the CF table shipped with compliance-checker and has canonical units our units convert to."""
    cf_units = pytest.importorskip("cf_units", reason="cf-units (via compliance-checker) is not installed")
    cc = pytest.importorskip("compliance_checker")
    table = Path(cc.__file__).parent / "data" / "cf-standard-name-table.xml"
    canonical = dict(re.findall(r'<entry id="([^"]+)">\s*<canonical_units>([^<]*)</canonical_units>', table.read_text()))
    for pkg, (udu, _) in cf.UDUNITS.items():
        cf_units.Unit(udu)  # raises on an invalid UDUNITS string
    for var, table_ in cf.STANDARD_NAMES.items():
        for pkg_units, name in table_.items():
            assert name in canonical, f"{var}: {name} is not a CF standard name"
            have = cf_units.Unit(cf.cf_units(pkg_units)[0])
            assert have.is_convertible(cf_units.Unit(canonical[name] or "1")), (var, pkg_units, name, canonical[name])


def test_helper_output_passes_and_non_cf_fails_the_checker(tmp_path):
    good = cf.write_cf_netcdf(_annual(), tmp_path / "good.nc", title="synthetic CF test product")
    assert _checker_errors(good, tmp_path) == []
    bad = tmp_path / "bad.nc"
    ds = _annual()
    ds.attrs["Conventions"] = "CF-1.10"
    ds["ER"].attrs["units"] = "gC m-2 yr-1"  # not UDUNITS
    ds["TA"].attrs["standard_name"] = "temperature_of_the_air"  # not in the table
    ds.to_netcdf(bad)
    errors = _checker_errors(bad, tmp_path)
    assert any("units" in e.lower() for e in errors) and any("standard_name" in e.lower() for e in errors), errors


def test_every_pipeline_netcdf_passes_the_cf_checker(project_root, tmp_path):
    files = _results_netcdf(project_root)
    if not files:
        pytest.skip("no netCDF files under results/: run `landcarbon run --profile quick` first "
                    "(make test does) to check the pipeline's outputs")
    failures = {}
    for f in files:
        errs = _checker_errors(f, tmp_path)
        if errs:
            failures[str(f.relative_to(project_root))] = errs
    assert not failures, json.dumps(failures, indent=1)


def test_er_product_round_trip_through_the_cf_writer(tmp_path):
    """upscaling.write_netcdf (CF on disk) -> trends.load_er_products (package layout): same numbers."""
    from landcarbon import upscaling as up
    from landcarbon.trends import load_er_products

    ds = _annual(years=tuple(range(1989, 1999)))
    ds["P"] = (ds["TA"] * 0 + 800.0).assign_attrs(units="mm yr-1", long_name="precipitation")
    ds["wet_days"] = (ds["TA"] * 0 + 120.0).assign_attrs(units="days yr-1")
    up.write_netcdf(ds, tmp_path / "er_annual.nc")
    with xr.open_dataset(tmp_path / "er_annual.nc", decode_times=False) as disk:
        assert disk.attrs["Conventions"] == "CF-1.10" and "time" in disk.dims and disk["ER"].attrs["units"] == "g m-2 yr-1"
        assert disk["P"].attrs["standard_name"] == "lwe_precipitation_rate"
    ann, _ = load_er_products(tmp_path, data_source="demo", monthly=False)
    assert ann["ER"].dims == ("year", "lat", "lon") and ann["year"].values.tolist() == list(range(1989, 1999))
    np.testing.assert_array_equal(ann["ER"].values, ds["ER"].values.astype("float64"))
    assert ann["ER"].attrs["units"] == "gC m-2 yr-1" and ann["P"].attrs["units"] == "mm yr-1"
    assert _checker_errors(tmp_path / "er_annual.nc", tmp_path) == []


def test_string_labels_become_an_auxiliary_coordinate(tmp_path):
    """CF coordinate variables are numeric: region codes become "region_label"; from_cf restores them."""
    ds = xr.Dataset({"posterior": (("region",), [0.1, -0.2, 0.3], {"units": "PgC yr-1"})},
                    coords={"region": ["NAB", "CHN-N", "OCE"], "china": ("region", [False, True, False])})
    c = cf.to_cf(ds)
    assert "region" not in c.variables and c["region_label"].values.tolist() == ["NAB", "CHN-N", "OCE"]
    back = cf.from_cf(c)
    assert back["region"].values.tolist() == ["NAB", "CHN-N", "OCE"] and "region" in back.indexes
    assert back["posterior"].attrs["units"] == "PgC yr-1"
    assert _checker_errors(cf.write_cf_netcdf(ds, tmp_path / "reg.nc"), tmp_path) == []
