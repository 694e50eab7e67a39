"""Global Carbon Budget workbooks (GCB 2025 v1.0 and 2023 v1.1): :func:`read_gcb_workbook`, its
shipped extract (:func:`read_gcb_extract`, :func:`build_gcb_extract`) and the budget terms it reads
(:data:`GCB_TERMS`).

Read with openpyxl; the sheet and its header row are located by *content* (the row holding "Year" and the
budget terms; the sheet whose notes state the 1σ uncertainties), never by fixed offsets; the unit label
above the header must say GtC/yr (= PgC yr⁻¹); the stated uncertainties are parsed from the notes.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ... import units
from ...errors import DataError, UnitsError, located
from ._common import PLAUSIBLE, _check_range, _consecutive, _one_path
from .extract import _build, read_extract_csv

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


def build_gcb_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of a GCB workbook: the global sheet's annual series and stated uncertainties (~10 KB)."""
    return _build(raw_paths, out_dir, read_gcb_workbook, ".global.csv",
                  "read_gcb_workbook of the 'Global Carbon Budget' sheet of")
