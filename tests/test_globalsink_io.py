"""Loaders of the global land-sink data: the real files read right (checked against independent reads of the
same cells/lines), and malformed copies of each real file — truncated, extra column, header changed, wrong
units — fail with an error that names the file and the fix, without writing anything."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from landcarbon.errors import DataError, UnitsError
from landcarbon.globalsink import io

pytestmark = pytest.mark.realdata


def _data_root() -> Path | None:
    for entry in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "co2" / "co2-gr-gl.csv").is_file():
            return Path(entry)
    return None


@pytest.fixture(scope="module")
def root() -> Path:
    p = _data_root()
    if p is None:
        pytest.skip("real data not available: set LANDCARBON_DATA_PATH to ../shared/data (as .ci/run does)")
    return p


GCB25 = "global-carbon-budget/Global_Carbon_Budget_2025_v1.0.xlsx"
GCB23 = "global-carbon-budget/Global_Carbon_Budget_2023v1.1.xlsx"


@pytest.fixture(scope="module")
def gcb25(root):
    return io.read_gcb_workbook([root / GCB25], edition="GCB 2025 v1.0")


@pytest.fixture(scope="module")
def sheet_rows(root):
    """The real 'Global Carbon Budget' sheet of GCB 2025 as a list of rows (independent openpyxl read)."""
    wb = openpyxl.load_workbook(root / GCB25, read_only=True, data_only=True)
    rows = [list(r) for r in wb["Global Carbon Budget"].iter_rows(values_only=True)]
    wb.close()
    return rows


def _write_workbook(rows, path: Path, *, sheet: str = "Global Carbon Budget", before: tuple[str, ...] = ("Summary",)):
    wb = openpyxl.Workbook()
    wb.active.title = before[0]
    for name in before[1:]:
        wb.create_sheet(name)
    ws = wb.create_sheet(sheet)
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


# ------------------------------------------------------------------------------------------ GCB workbooks
def test_gcb_2025_reads_the_global_sheet_by_content(gcb25, root):
    ds = gcb25
    assert ds.attrs["sheet"] == "Global Carbon Budget" and ds.attrs["header_row"] == 22
    assert ds["year"].values[0] == 1959 and ds["year"].values[-1] == 2024
    assert ds.attrs["dropped_rows"] == "2025"  # the projection row fills only one column
    a = {v: ds[v].attrs for v in ds.data_vars}
    assert a["fossil_emissions_excluding_carbonation"]["uncertainty_1sigma_relative"] == 0.05
    assert a["land_use_change_emissions"]["uncertainty_1sigma"] == 0.7
    assert a["atmospheric_growth"]["uncertainty_1sigma"] == 0.2 and a["atmospheric_growth"]["uncertainty_from_year"] == 1980
    assert a["ocean_sink"]["uncertainty_1sigma"] == 0.4 and a["land_sink"]["uncertainty_1sigma"] == 0.5
    assert all(ds[v].attrs["units"] == "PgC yr-1" for v in ds.data_vars)


def test_gcb_values_equal_the_workbook_cells(gcb25, root):
    """Independent oracle: the cells at fixed coordinates of this very file (row 78 = 2014, columns B..I)."""
    wb = openpyxl.load_workbook(root / GCB25, read_only=True, data_only=True)
    ws = wb["Global Carbon Budget"]
    cells = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=23, max_row=88, max_col=9)}
    wb.close()
    for year, (_, b, c, d, e, f, g, h, i) in cells.items():
        s = gcb25.sel(year=year)
        assert [float(s[v]) for v in ("fossil_emissions_excluding_carbonation", "land_use_change_emissions",
                                      "atmospheric_growth", "ocean_sink", "land_sink", "cement_carbonation_sink",
                                      "budget_imbalance", "fossil_emissions_including_carbonation")] == [b, c, d, e, f, g, h, i]


def test_stated_uncertainties_survive_the_extract(root):
    """The 1σ conventions (attributes) read from the workbook equal those read from the shipped extract."""
    from landcarbon.data import EMBEDDED_DIR
    from landcarbon.globalsink import sink as S

    for raw, ext in ((GCB25, "Global_Carbon_Budget_2025_v1.0.global.csv"), (GCB23, "Global_Carbon_Budget_2023v1.1.global.csv")):
        a = S.stated_uncertainty(io.read_gcb_workbook([root / raw], edition="x"))
        b = S.stated_uncertainty(io.read_gcb_extract([EMBEDDED_DIR / "globalsink" / ext], edition="x"))
        assert a == b


def test_gcb_2023_has_no_net_fossil_column(root):
    ds = io.read_gcb_workbook([root / GCB23])
    assert ds["year"].values[-1] == 2022 and "fossil_emissions_including_carbonation" not in ds
    assert ds.attrs["dropped_rows"] == ""


def test_gcb_copy_elsewhere_with_extra_column_gives_same_numbers(sheet_rows, gcb25, tmp_path):
    """Sheet renamed and moved, three rows added above, an unknown column inserted: located by content."""
    rows = [["moved copy"], [], []] + [r[:4] + ["an extra column"] + r[4:] for r in sheet_rows]
    p = _write_workbook(rows, tmp_path / "moved.xlsx", sheet="GCB table", before=("A", "B"))
    ds = io.read_gcb_workbook([p])
    assert ds.attrs["sheet"] == "GCB table" and ds.attrs["header_row"] == 25
    for v in gcb25.data_vars:
        np.testing.assert_array_equal(ds[v].values, gcb25[v].values)


def _fails(path, exc, pattern):
    with pytest.raises(exc) as info:
        io.read_gcb_workbook([path])
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert str(path) in msg and "Fix:" in msg, msg
    return msg


def test_gcb_truncated_workbook(root, tmp_path):
    p = tmp_path / "truncated.xlsx"
    raw = (root / GCB25).read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    _fails(p, DataError, "truncated, corrupt or not an .xlsx")


def test_gcb_header_changed(sheet_rows, tmp_path):
    rows = [list(r) for r in sheet_rows]
    rows[21] = ["land sinks" if v == "land sink" else v for v in rows[21]]
    _fails(_write_workbook(rows, tmp_path / "h.xlsx"), DataError, "no sheet holds the global budget table")


def test_gcb_duplicated_column(sheet_rows, tmp_path):
    rows = [r[:9] + [r[5]] for r in sheet_rows]
    _fails(_write_workbook(rows, tmp_path / "dup.xlsx"), DataError, "'land sink' appears 2 times")


def test_gcb_wrong_units_label(sheet_rows, tmp_path):
    rows = [list(r) for r in sheet_rows]
    rows[20][0] = "MtCO2/yr"
    msg = _fails(_write_workbook(rows, tmp_path / "u.xlsx"), UnitsError, "unit label above the table is 'MtCO2/yr'")
    assert "cell A21" in msg


def test_gcb_values_in_co2_units(sheet_rows, tmp_path):
    """Label kept but numbers converted to GtCO2: the plausibility range refuses them."""
    rows = [list(r) for r in sheet_rows]
    for k in range(22, len(rows)):
        rows[k] = [rows[k][0]] + [v * 3.664 if isinstance(v, float) else v for v in rows[k][1:]]
    _fails(_write_workbook(rows, tmp_path / "co2.xlsx"), UnitsError, "outside the plausible range")


def test_gcb_notes_without_uncertainty(sheet_rows, tmp_path):
    rows = [[("(uncertainty removed)" if isinstance(v, str) and "ocean sink (uncertainty" in v else v) for v in r]
            for r in sheet_rows]
    _fails(_write_workbook(rows, tmp_path / "n.xlsx"), DataError, r"do not state the 1σ uncertainty of \['ocean_sink'\]")


def test_gcb_text_in_a_number_cell(sheet_rows, tmp_path):
    rows = [list(r) for r in sheet_rows]
    rows[40][4] = "n/a"
    msg = _fails(_write_workbook(rows, tmp_path / "t.xlsx"), DataError, "'ocean sink' holds 'n/a'")
    assert "cell E41" in msg


# ------------------------------------------------------------------------------------------ NOAA / Scripps
def test_noaa_monthly_files_have_the_positional_layout(root):
    """Fails if NOAA/the packager change the layout: every row of the real files has exactly the number of
    fields the positional reader assumes, although the header names fewer columns."""
    for name, n_header, n_fields in (("co2-mm-gl.csv", 4, 6), ("co2-mm-mlo.csv", 6, 7)):
        lines = (root / "co2" / name).read_text().splitlines()
        assert len(lines[0].split(",")) == n_header
        assert {len(ln.split(",")) for ln in lines[1:]} == {n_fields}
        layout = io.NOAA_MONTHLY_LAYOUTS[tuple(lines[0].split(","))]
        assert len(layout["fields"]) == n_fields


def test_noaa_monthly_positions_mean_what_we_assume(root):
    """Semantic check of the positional reading: the annual mean of the monthly 'co2' field equals NOAA's
    annual mean file (global: within 0.02 ppm), the trend field is smooth, the uncertainty fields are small."""
    gl = io.read_noaa_monthly([root / "co2" / "co2-mm-gl.csv"])
    ann = io.read_noaa_annual([root / "co2" / "co2-annmean-gl.csv"])
    monthly_mean = gl["co2"].groupby("time.year").mean()
    counts = gl["co2"].groupby("time.year").count()
    full = counts["year"].values[counts.values == 12]
    d = monthly_mean.sel(year=full) - ann["co2"].sel(year=full)
    assert float(np.abs(d).max()) <= 0.02
    # field 5 is the de-seasonalised trend: it swings far less from month to month than field 3 ...
    assert float(gl["co2_trend"].diff("time").std()) < 0.3 * float(gl["co2"].diff("time").std())
    # ... and the seasonal cycle (field 3 minus field 5) averages out over a calendar year
    seasonal = (gl["co2"] - gl["co2_trend"]).groupby("time.year").mean().sel(year=full)
    assert float(np.abs(seasonal).max()) < 0.15
    assert float(gl["co2_uncertainty"].max()) < 0.5 and float(gl["co2_trend_uncertainty"].max()) < 0.5
    mlo = io.read_noaa_monthly([root / "co2" / "co2-mm-mlo.csv"])
    assert mlo.attrs["station"] == "mlo" and np.isnan(float(mlo["ndays"][0]))   # -1 = no daily data in 1958
    daily = io.read_scripps_daily([root / "co2" / "co2-ppm-daily.csv"])
    dm = daily["co2"].resample(time="MS").mean()
    common = np.intersect1d(dm["time"].values, mlo["time"].values)
    diff = dm.sel(time=common) - mlo["co2"].sel(time=common)
    assert float(np.nanmedian(np.abs(diff))) < 0.5   # Scripps and NOAA at Mauna Loa agree closely


def test_flask_and_oni_and_cdiac_real(root):
    cgo = io.read_noaa_flask_monthly([root / "co2" / "co2_cgo_surface-flask_1_ccgg_month.txt"])
    mhd = io.read_noaa_flask_monthly([root / "co2" / "co2_mhd_surface-flask_1_ccgg_month.txt"])
    assert cgo.attrs["site"] == "CGO" and mhd.attrs["site"] == "MHD"
    assert str(cgo["time"].values[0])[:7] == "1984-04" and cgo.sizes["time"] == 461 - 68
    # the southern hemisphere lags the northern: Mace Head higher than Cape Grim on average (common months)
    common = np.intersect1d(cgo["time"].values, mhd["time"].values)
    assert float((mhd["co2"].sel(time=common) - cgo["co2"].sel(time=common)).mean()) > 1.0
    oni = io.read_oni([root / "climate-indices" / "oni.csv"])
    assert oni.sizes["time"] == 152 * 12 and str(oni["time"].values[0])[:7] == "1871-01"
    last_valid = oni["time"].values[np.isfinite(oni["oni"].values)][-1]
    assert str(last_valid)[:7] == "2022-03"
    cd = io.read_cdiac_national([root / "global-carbon-budget" / "fossil-fuel-co2-emissions-by-nation.csv"])
    assert cd.sizes["country"] == 259 and int(cd["year"][-1]) == 2020
    assert cd["total"].attrs["units"] == "PgC yr-1"


def test_cdiac_global_sum_agrees_with_the_budget(root, gcb25):
    """Independent data set: national totals + bunker fuels (CDIAC) within the budget's stated ±5 % of its
    fossil emissions (excluding carbonation) in every year 1959–2020."""
    cd = io.read_cdiac_national([root / "global-carbon-budget" / "fossil-fuel-co2-emissions-by-nation.csv"])
    tot = (cd["total"].fillna(0).sum("country") + cd["bunker_fuels"].fillna(0).sum("country")).sel(year=slice(1959, 2020))
    rel = tot / gcb25["fossil_emissions_excluding_carbonation"].sel(year=slice(1959, 2020)) - 1
    assert float(np.abs(rel).max()) < 0.05


# --------------------------------------------------------------- malformed copies of every CSV-type file
def _mutate_lines(text: str, fn) -> str:
    lines = text.split("\n")
    return "\n".join(fn(i, ln) for i, ln in enumerate(lines))


def _scale_field(k: int, factor: float = 1.0, add: float = 0.0):
    def f(i, ln):
        if i == 0 or not ln or ln.startswith("#"):
            return ln
        parts = ln.split(",")
        try:
            parts[k] = repr(float(parts[k]) * factor + add)
        except ValueError:
            pass
        return ",".join(parts)
    return f


CSV_CASES = {
    # name: (relative path, reader, wrong-units mutation, expected wrong-units pattern)
    "annmean": ("co2/co2-annmean-gl.csv", io.read_noaa_annual, _scale_field(1, 1000.0), "ppb"),
    "growth": ("co2/co2-gr-gl.csv", io.read_noaa_growth_rate, _scale_field(1, 2.124), "PgC yr-1"),
    "monthly-gl": ("co2/co2-mm-gl.csv", io.read_noaa_monthly, _scale_field(2, 1000.0), "ppb"),
    "monthly-mlo": ("co2/co2-mm-mlo.csv", io.read_noaa_monthly, _scale_field(2, 1e-6), "mol/mol"),
    "daily": ("co2/co2-ppm-daily.csv", io.read_scripps_daily, _scale_field(1, 1000.0), "ppb"),
    "oni": ("climate-indices/oni.csv", io.read_oni, _scale_field(3, 1.0, 273.15), "kelvin"),
    "cdiac": ("global-carbon-budget/fossil-fuel-co2-emissions-by-nation.csv", io.read_cdiac_national, None, "CO2"),
}


def _cdiac_in_co2(text: str) -> str:
    def f(i, ln):
        if i == 0 or not ln:
            return ln
        row = next(iter(__import__("csv").reader([ln])))
        for k in (3, 4, 5, 6, 7, 9):          # a consistent file in thousand tonnes of CO2: parts x 3.664,
            if row[k]:                        # total = sum of the parts (as a provider would write it)
                row[k] = repr(float(row[k]) * 3.664)
        row[2] = repr(sum(float(row[k]) for k in (3, 4, 5, 6, 7) if row[k]))
        import csv as _csv
        import io as _io
        buf = _io.StringIO()
        _csv.writer(buf, lineterminator="").writerow(row)
        return buf.getvalue()
    return _mutate_lines(text, f)


def _expect(reader, path, exc, pattern):
    with pytest.raises(exc) as info:
        reader([path])
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert str(path) in msg and "Fix:" in msg, msg


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_malformed_csv_copies(case, root, tmp_path):
    rel, reader, units_mut, units_pat = CSV_CASES[case]
    text = (root / rel).read_text(encoding="utf-8")
    reader([root / rel])  # the real file reads
    # truncated in the middle of a data line
    lines = text.split("\n")
    cut = sum(len(x) + 1 for x in lines[: len(lines) // 2]) + len(lines[len(lines) // 2]) // 2
    p = tmp_path / ("trunc_" + Path(rel).name)
    p.write_text(text[:cut], encoding="utf-8")
    _expect(reader, p, DataError, r"truncated|field\(s\), expected|fields, expected|not a number|not YYYY|holds")
    # extra column in every line (header and rows)
    p = tmp_path / ("extra_" + Path(rel).name)
    p.write_text(_mutate_lines(text, lambda i, ln: ln + ",1" if ln else ln), encoding="utf-8")
    _expect(reader, p, DataError, r"header|field\(s\), expected")
    # header changed
    p = tmp_path / ("header_" + Path(rel).name)
    p.write_text(_mutate_lines(text, lambda i, ln: ln.replace(ln.split(",")[1], "Value") if i == 0 else ln), encoding="utf-8")
    _expect(reader, p, DataError, r"header")
    # wrong units
    p = tmp_path / ("units_" + Path(rel).name)
    p.write_text(_cdiac_in_co2(text) if case == "cdiac" else _mutate_lines(text, units_mut), encoding="utf-8")
    _expect(reader, p, UnitsError, units_pat)


def test_malformed_flask_copies(root, tmp_path):
    src = root / "co2" / "co2_mhd_surface-flask_1_ccgg_month.txt"
    text = src.read_text()
    cases = {
        "truncated": (text[: len(text) - 7], r"truncated|fields, expected"),
        "extra column": (re.sub(r"(?m)^(MHD .*)$", r"\1 0.1", text), r"5 fields, expected 4"),
        "header changed": (text.replace("# data_fields: site year month value", "# data_fields: site year month value unc"),
                           "data_fields"),
        "header lines": (text.replace("# number_of_header_lines: 68", "# number_of_header_lines: 70"), "announces 70 lines"),
        "wrong units": (re.sub(r"(?m)^(MHD \d{4} +\d+ +)(\d+\.\d+)$", lambda m: m.group(1) + str(float(m.group(2)) * 1000), text),
                        "ppb"),
        "other site": (text.replace("MHD 1995", "CGO 1995"), "site code"),
    }
    for what, (content, pattern) in cases.items():
        p = tmp_path / f"{what.replace(' ', '_')}.txt"
        p.write_text(content)
        _expect(io.read_noaa_flask_monthly, p, UnitsError if what == "wrong units" else DataError, pattern)


def test_inf_and_empty_files_are_refused(root, tmp_path):
    p = tmp_path / "co2-gr-gl.csv"
    p.write_text(re.sub(r"(?m)^2019,[^,]*,", "2019,inf,", (root / "co2" / "co2-gr-gl.csv").read_text()))
    _expect(io.read_noaa_growth_rate, p, UnitsError, "inf")
    p.write_text("")
    _expect(io.read_noaa_growth_rate, p, DataError, "empty")


@pytest.mark.parametrize("builder, rel", [
    (io.build_noaa_growth_extract, "co2/co2-gr-gl.csv"),
    (io.build_oni_extract, "climate-indices/oni.csv"),
    (io.build_gcb_extract, GCB25),
])
def test_builders_write_nothing_from_a_malformed_file(builder, rel, root, tmp_path):
    """Nothing half-written: a builder given a malformed raw file raises before any file appears."""
    bad = tmp_path / "raw" / Path(rel).name
    bad.parent.mkdir()
    raw = (root / rel).read_bytes()
    bad.write_bytes(raw[: len(raw) // 2 + 3])
    out = tmp_path / "out"
    with pytest.raises(DataError):
        builder([bad], out)
    assert not out.exists() or not any(out.rglob("*"))
    written = builder([root / rel], out)
    assert [p.name for p in written] == [p.name for p in (out / "globalsink").iterdir()]
    assert oct(written[0].stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_extract_reader_refuses_a_damaged_extract(tmp_path):
    from landcarbon.data import EMBEDDED_DIR

    src = EMBEDDED_DIR / "globalsink" / "co2-gr-gl.csv"
    p = tmp_path / "x.csv"
    p.write_text(src.read_text()[:-20])
    with pytest.raises(DataError, match="truncated"):
        io.read_extract_csv([p])
    p.write_text(src.read_text().replace("co2_growth_rate,", "growth,", 1))
    with pytest.raises(DataError, match="header does not match"):
        io.read_extract_csv([p])
