"""NOAA CCGG flask monthly means with a commented header (:func:`read_noaa_flask_monthly`; e.g.
Cape Grim CGO, Mace Head MHD).
"""
from __future__ import annotations

import re

import numpy as np
import xarray as xr

from ...errors import DataError, located
from ._common import _CO2_ATTRS, _co2_check, _fix_layout, _int, _month_index, _month_starts, _num, _one_path


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
