"""Shared parts of the global land-sink loaders: the plausibility ranges (:data:`PLAUSIBLE`), the
subfolder of the shipped extracts, and the small helpers every reader uses (one file per call, strict
CSV with an exact header, numbers and integers with their line, consecutive years/months, range checks
that say which unit an implausible value suggests, the CO2 attributes and check of the NOAA readers).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ...data.plausibility import plausible_range
from ...errors import DataError, UnitsError, located

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


_CO2_ATTRS = {"units": "ppm", "standard_name": "mole_fraction_of_carbon_dioxide_in_air",
              "long_name": "CO2 dry-air mole fraction"}


def _co2_check(values, path, name, labels):
    _check_range(values, *PLAUSIBLE["co2_ppm"], path=path, name=name, unit="ppm",
                 hint="ppb (x 1000) or mol/mol (x 1e-6) would look like this", index_labels=labels)
