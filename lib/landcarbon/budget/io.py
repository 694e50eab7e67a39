"""The China budget literature table (manifest id ``china-budget-jiang2016``) and the inversion's result.

Every number in the table is *published (transcribed)* from Jiang et al. (2016) and the sources cited
there: its data-source label is :data:`SOURCE_LABEL` (``literature:china-budget-jiang2016``), never
``real:`` — the report keeps observations, published numbers and the demo twin apart.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError, UnitsError, located
from ..units import convert, normalise_unit
from .combination import PGC, Estimate

__all__ = ["DATASET_ID", "SOURCE_LABEL", "REQUIRED_COLUMNS", "ALLOWED_UNITS", "read_budget_table", "get",
           "read_inversion_land_sink", "source_label"]

#: Manifest id of the literature table and its data-source label (published, transcribed numbers).
DATASET_ID = "china-budget-jiang2016"
SOURCE_LABEL = f"literature:{DATASET_ID}"
#: Columns every budget table must have (``sigma``, ``area``, ``pool`` and ``note`` may be blank).
REQUIRED_COLUMNS = ("id", "category", "pool", "kind", "value", "sigma", "units", "period", "method", "area",
                    "source", "note")
#: Units a row may use: carbon fluxes, or a dimensionless share (``%`` or ``1``).
ALLOWED_UNITS = ("PgC yr-1", "TgC yr-1", "%", "1")
_STRING_COLUMNS = ("category", "pool", "kind", "units", "period", "method", "source", "note")


def source_label(ds=None) -> str:
    """The data-source label of the literature table: ``literature:china-budget-jiang2016``.

    :func:`landcarbon.data.open_dataset` labels any file it verified as ``real:<sha256>``; numbers
    transcribed from papers are not observations, so the chapter and its indicators use this label (the
    file's sha256 stays in ``ds.attrs['source']`` and the provenance).
    """
    return SOURCE_LABEL


def _parse_float(text: str, *, where: str, column: str, allow_blank: bool) -> float:
    t = (text or "").strip()
    if t == "":
        if allow_blank:
            return math.nan
        raise DataError(located(f"column {column!r} is empty", where=where,
                                fix=f"give a number for {column!r} (decimal point, no units)"))
    try:
        v = float(t)
    except ValueError:
        raise DataError(located(f"column {column!r} is not a number: {t!r}", where=where,
                                fix=f"write {column!r} as a plain decimal number (e.g. 0.175); put units in "
                                    "the 'units' column and text in 'note'")) from None
    if not math.isfinite(v) or v == -9999:
        raise DataError(located(f"column {column!r} holds a missing-value code or non-finite number ({t})",
                                where=where, fix="leave sigma blank when unknown; every value must be a number"))
    return v


def read_budget_table(paths: Sequence[Path | str] | Path | str):
    """Read and validate the China budget literature table(s) into an :class:`xarray.Dataset`.

    Parameters
    ----------
    paths : list of path-like (or one path)
        CSV files with the columns :data:`REQUIRED_COLUMNS` (UTF-8, optional BOM, LF or CRLF line
        endings). Several files are concatenated; ids must be unique across them.

    Returns
    -------
    xarray.Dataset
        Dimension ``component`` (the row ids). Variables: ``value`` and ``sigma`` as published
        (float64, sigma NaN when none is given; per-row units in the ``units`` variable),
        ``value_pgc``/``sigma_pgc`` converted to PgC yr-1 (NaN for shares), ``fraction`` (shares
        as a number in [0, 1], NaN otherwise), ``area`` [1e6 ha] and the string variables
        ``category``, ``pool``, ``kind``, ``units``, ``period``, ``method``, ``source``, ``note``,
        ``line`` (line number in the file). Sign convention: a sink is positive uptake; lateral
        fluxes are positive magnitudes.

    Raises
    ------
    DataError
        Missing columns, empty or duplicate ids, non-numeric values or sigmas, negative sigmas
        (message names file, line, column and the fix).
    UnitsError
        A unit outside :data:`ALLOWED_UNITS`.
    """
    import xarray as xr

    if isinstance(paths, (str, Path)):
        paths = [paths]
    records: list[dict] = []
    seen: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        try:
            fh = open(path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise DataError(located(f"cannot open budget table ({exc.strerror})", where=str(path),
                                    fix="check the path (landcarbon data where china-budget-jiang2016)")) from exc
        with fh:
            try:
                reader = csv.DictReader(fh)
                header = [h.strip() for h in (reader.fieldnames or [])]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise DataError(located(f"budget table lacks the column(s) {missing}",
                                            where=f"{path}, line 1 (header)",
                                            fix="the header must be: " + ",".join(REQUIRED_COLUMNS)))
                reader.fieldnames = header
                for row in reader:
                    line = reader.line_num
                    records.append(_validate_row(row, path, line, seen))
            except UnicodeDecodeError as exc:
                raise DataError(located("budget table is not UTF-8 text", where=str(path),
                                        fix="save the file as UTF-8 CSV")) from exc
            except csv.Error as exc:
                raise DataError(located(f"malformed CSV ({exc})", where=f"{path}", fix="check quoting")) from exc
    if not records:
        raise DataError(located("budget table has no rows", where=", ".join(str(p) for p in paths),
                                fix="add the literature rows below the header"))

    ids = [r["id"] for r in records]
    data_vars = {
        "value": ("component", np.array([r["value"] for r in records]), {"long_name": "value as published",
                                                                        "units": "see variable 'units'"}),
        "sigma": ("component", np.array([r["sigma"] for r in records]), {"long_name": "1-sigma as published",
                                                                        "units": "see variable 'units'"}),
        "value_pgc": ("component", np.array([r["value_pgc"] for r in records]),
                      {"units": PGC, "long_name": "value in PgC yr-1 (sink = uptake positive)"}),
        "sigma_pgc": ("component", np.array([r["sigma_pgc"] for r in records]), {"units": PGC}),
        "fraction": ("component", np.array([r["fraction"] for r in records]), {"units": "1"}),
        "area": ("component", np.array([r["area"] for r in records]), {"units": "1e6 ha"}),
        "line": ("component", np.array([r["line"] for r in records])),
    }
    for col in _STRING_COLUMNS:
        data_vars[col] = ("component", np.array([r[col] for r in records], dtype=object))
    ds = xr.Dataset(data_vars, coords={"component": ids})
    ds.attrs.update({
        "title": "China land carbon-budget components (Jiang et al. 2016 and the sources cited there)",
        "citation": "Jiang F. et al. (2016) Sci. Rep. 6, 22130, doi:10.1038/srep22130",
        "sign_convention": "sink = positive uptake; lateral fluxes positive magnitudes",
        "files": ";".join(str(p) for p in paths),
    })
    return ds


def _validate_row(row: dict, path: Path, line: int, seen: dict) -> dict:
    def where(col: str) -> str:
        return f"{path}, line {line}, column {col!r}"

    if None in row:  # more fields than header columns
        raise DataError(located(f"row has {len(row[None])} field(s) more than the header", where=f"{path}, line {line}",
                                fix="quote text containing commas with double quotes"))
    if any(v is None for v in row.values()):
        raise DataError(located("row has fewer fields than the header", where=f"{path}, line {line}",
                                fix="every row needs all columns (leave unknown ones empty, keep the commas)"))
    rid = (row["id"] or "").strip()
    if not rid:
        raise DataError(located("empty component id", where=where("id"), fix="give every row a unique id"))
    if rid in seen:
        raise DataError(located(f"duplicate component id {rid!r} (first at {seen[rid]})", where=where("id"),
                                fix="ids must be unique"))
    seen[rid] = f"{path.name}:{line}"
    unit_raw = (row["units"] or "").strip()
    unit = normalise_unit(unit_raw) if unit_raw not in ("%",) else "%"
    if unit not in ALLOWED_UNITS:
        raise UnitsError(located(f"unknown units {unit_raw!r}", where=where("units"),
                                 fix=f"use one of {list(ALLOWED_UNITS)}"))
    value = _parse_float(row["value"], where=where("value"), column="value", allow_blank=False)
    sigma = _parse_float(row["sigma"], where=where("sigma"), column="sigma", allow_blank=True)
    if sigma < 0:
        raise DataError(located(f"negative sigma {sigma}", where=where("sigma"),
                                fix="sigma is a 1-sigma uncertainty (>= 0); put the sign on the value"))
    area = _parse_float(row["area"], where=where("area"), column="area", allow_blank=True)
    if unit in ("PgC yr-1", "TgC yr-1"):
        value_pgc = float(convert(value, unit, PGC, where=where("units")))
        sigma_pgc = float(convert(sigma, unit, PGC, where=where("units")))
        fraction = math.nan
    else:
        value_pgc = sigma_pgc = math.nan
        fraction = value / 100.0 if unit == "%" else value
        if not 0.0 <= fraction <= 1.0:
            raise DataError(located(f"share {value} {unit} outside [0, 100 %]", where=where("value"),
                                    fix="give shares in % (0-100) or as a number in [0, 1]"))
    out = {c: (row[c] or "").strip() for c in _STRING_COLUMNS}
    out.update(id=rid, units=unit, value=value, sigma=sigma, area=area, value_pgc=value_pgc, sigma_pgc=sigma_pgc,
               fraction=fraction, line=line)
    return out


def get(ds, component: str, units: str = PGC) -> Estimate:
    """One table row as an :class:`Estimate` in ``units`` (sigma 0 when the table has none).

    Shares (``%``/``1``) are returned as a number in [0, 1] with ``units="1"``.
    """
    if component not in ds["component"].values:
        raise DataError(located(f"component {component!r} not in the budget table",
                                where=ds.attrs.get("files", "budget table"),
                                fix="see the ids in lib/landcarbon/data/embedded/china_budget_components.csv"))
    row = ds.sel(component=component)
    u = str(row["units"].values)
    if u in ("%", "1"):
        return Estimate(float(row["fraction"]), 0.0 if np.isnan(row["sigma"]) else float(row["sigma"]) / (100.0 if u == "%" else 1.0), "1")
    v = float(convert(float(row["value"]), u, units, where=component))
    s = float(row["sigma"])
    s = 0.0 if np.isnan(s) else float(convert(s, u, units, where=component))
    return Estimate(v, s, normalise_unit(units))



def read_inversion_land_sink(path) -> tuple[Estimate, str]:
    """The inversion chapter's ``china_land_sink`` indicator (PgC yr-1, uptake positive) and its data source.

    ``path`` is the ``summary.json`` of ``nested_inversion`` or its folder.
    """
    from ..publish.reporting import read_summary

    doc = read_summary(path)
    ind = doc["indicators"].get("china_land_sink")
    if ind is None:
        raise DataError(located("the inversion summary has no indicator 'china_land_sink'", where=str(path),
                                fix="rerun the nested_inversion chapter (it writes china_land_sink)"))
    try:
        value = float(convert(float(ind["value"]), ind.get("units", PGC), PGC, where=f"{path}: china_land_sink"))
        sig = ind.get("sigma")
        sigma = 0.0 if sig is None else float(convert(float(sig), ind.get("units", PGC), PGC))
    except UnitsError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise DataError(located(f"china_land_sink is malformed ({exc})", where=str(path),
                                fix="value and sigma must be numbers in PgC yr-1")) from exc
    return Estimate(value, sigma), str(doc.get("data_source", "unknown"))

