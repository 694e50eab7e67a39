"""REddyProc text input and REddyProc outputs (Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018).

* :func:`read_reddyproc_text` — the REddyProc input format, e.g. ``Example_DETha98.txt``;
* :func:`read_reddyproc_reference` — REddyProc outputs written by the project (half-hourly csv.gz +
  summary json), used as reference for DE-Tha 1998.
"""
from __future__ import annotations

import io as _io
import json
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import DataError, UnitsError, located
from ...units import normalise_unit
from ._common import (MISSING_VALUE, STANDARD_UNITS, _as_paths, _read_text_normalised, _to_float_checked,
                      check_field_counts, check_time_axis, finish_loaded, make_site_dataset)

__all__ = ["REDDYPROC_COLUMNS", "read_reddyproc_text", "read_reddyproc_reference"]

# ---------------------------------------------------------------------------------------------
# REddyProc text format
# ---------------------------------------------------------------------------------------------

#: REddyProc column -> (standard name, expected canonical unit)
REDDYPROC_COLUMNS: dict[str, tuple[str, str]] = {
    "NEE": ("NEE", "umol m-2 s-1"),
    "LE": ("LE", "W m-2"),
    "H": ("H", "W m-2"),
    "Rg": ("SW_IN", "W m-2"),
    "Tair": ("TA", "degC"),
    "Tsoil": ("TS", "degC"),
    "rH": ("RH", "%"),
    "VPD": ("VPD", "hPa"),
    "Ustar": ("USTAR", "m s-1"),
    "SWC": ("SWC", "%"),
    "WS": ("WS", "m s-1"),
    "Precip": ("P", "mm"),
    "P": ("P", "mm"),
}


def _parse_reddyproc_one(path: Path, required: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    text = _read_text_normalised(path)
    lines = [ln for ln in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3:
        raise DataError(located("file has fewer than 3 lines (header, units, data)", where=str(path),
                                fix="provide a REddyProc text file: names line, units line, data"))
    sep = "\t" if "\t" in lines[0] else None
    names = lines[0].split(sep) if sep else lines[0].split()
    names = [n.strip() for n in names]
    units = lines[1].split(sep) if sep else lines[1].split()
    units = [u.strip() for u in units]
    if len(units) != len(names):
        raise DataError(located(
            f"units line has {len(units)} fields but the header has {len(names)}",
            where=f"{path}, line 2", fix="give one unit per column (use '-' for Year/DoY/Hour)"))
    # the units line must not look like data
    if all(re.fullmatch(r"-?\d+(\.\d*)?", u) for u in units):
        raise UnitsError(located("second line holds numbers, not units", where=f"{path}, line 2",
                                 fix="insert the REddyProc units line (e.g. '-  -  -  umolm-2s-1 ...')"))
    for c in ("Year", "DoY", "Hour"):
        if c not in names:
            raise DataError(located(f"missing time column {c!r}", where=f"{path}, line 1",
                                    fix="REddyProc text needs columns Year, DoY, Hour"))
    check_field_counts(lines[2:], n_fields=len(names), sep=sep, path=path, first_line=3)
    body = "\n".join(lines[2:])
    try:
        df = pd.read_csv(_io.StringIO(body), sep="\t" if sep else r"\s+", header=None, names=names,
                         dtype=str, keep_default_na=False, engine="python" if not sep else "c")
    except pd.errors.ParserError as e:
        m = re.search(r"line (\d+)", str(e))
        ln = int(m.group(1)) + 2 if m else None
        raise DataError(located(f"cannot parse table: {e}", where=f"{path}" + (f", line {ln}" if ln else ""),
                                fix="every data line needs as many tab-separated fields as the header"))
    unit_of = dict(zip(names, units))
    out: dict[str, np.ndarray] = {}
    for col, (std, expected) in REDDYPROC_COLUMNS.items():
        if col not in df.columns:
            continue
        got = normalise_unit(unit_of[col])
        if got != expected:
            raise UnitsError(located(
                f"column {col} has units {unit_of[col]!r}, expected {expected!r} (REddyProc convention)",
                where=f"{path}, line 2, column {col}",
                fix=f"convert {col} to {expected} and correct the units line"))
        out[std] = _to_float_checked(df[col], path=path, column=col, line_offset=3)
    missing = [r for r in required if r not in out]
    if missing:
        inv = {v[0]: k for k, v in REDDYPROC_COLUMNS.items()}
        raise DataError(located(
            f"missing required variable(s) {[inv.get(m, m) for m in missing]}", where=f"{path}, line 1",
            fix="add the column(s) (REddyProc names: NEE, Rg, Tair, VPD, Ustar, ...)"))
    year = _to_float_checked(df["Year"], path=path, column="Year", line_offset=3)
    doy = _to_float_checked(df["DoY"], path=path, column="DoY", line_offset=3)
    hour = _to_float_checked(df["Hour"], path=path, column="Hour", line_offset=3)
    for nm, arr in (("Year", year), ("DoY", doy), ("Hour", hour)):
        if not np.isfinite(arr).all():
            i = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise DataError(located(f"missing {nm}", where=f"{path}, line {i + 3}, column {nm}",
                                    fix="time columns must not be missing"))
    if (hour < 0).any() or (hour > 24).any():
        i = int(np.flatnonzero((hour < 0) | (hour > 24))[0])
        raise DataError(located(
            f"Hour {hour[i]} outside [0, 24]: REddyProc hours mark the END of the interval "
            "(0.5 ... 24; hour 0 of day d+1 = hour 24 of day d)",
            where=f"{path}, line {i + 3}, column Hour", fix="give decimal hours of the interval end"))
    base = (year.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    t = (base + ((doy - 1) * 86400e9).astype(np.int64).astype("timedelta64[ns]")
         + np.round(hour * 3600e9).astype(np.int64).astype("timedelta64[ns]"))
    return t, out


def read_reddyproc_text(
    paths,
    site: str = "unknown",
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    *,
    required: Sequence[str] = ("NEE", "SW_IN", "TA", "VPD", "USTAR"),
    regularise: bool = False,
    plausibility: str = "raise",
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> xr.Dataset:
    """Read REddyProc text input file(s) into the standard site dataset.

    Format (REddyProc ``fLoadTXTIntoDataframe``; Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018):
    tab-separated; line 1 column names, line 2 units, then data; ``-9999`` = missing; columns
    ``Year``, ``DoY``, ``Hour`` where Hour (0.5 ... 24 for half-hours, 1 ... 24 for hours; hour 0 of
    day d+1 is accepted as hour 24 of day d, as in ``Example_DETha98.txt``) is the END of the
    averaging interval in local standard time. Line endings may be old-Mac CR only,
    LF or CRLF. Several files (e.g. one per year) are concatenated in time order.

    Mapping: Rg -> SW_IN, Tair -> TA, Tsoil -> TS, rH -> RH, Ustar -> USTAR (NEE, LE, H, VPD keep
    their names). Units are checked against the units line: NEE umolm-2s-1, Rg/LE/H Wm-2,
    Tair/Tsoil degC, rH %, VPD hPa, Ustar ms-1; a mismatch raises :class:`UnitsError`.

    Parameters
    ----------
    paths : path or list of paths
    site, lat, lon, utc_offset_hours : site metadata stored in ``attrs`` (lat/lon in degrees,
        offset of local standard time from UTC in hours, e.g. +1 for Central Europe).
    required : standard names that must be present and not entirely missing (default NEE, SW_IN,
        TA, VPD, USTAR).
    regularise : insert missing records as NaN instead of raising on gaps in the time axis.
    plausibility : "raise" (default) refuses physically impossible values (e.g. 1e30, inf; see
        :mod:`landcarbon.data.plausibility`), "mask" sets them to NaN and counts them.
    ranges : per-variable overrides of the plausible ranges, e.g. ``{"TA": (-60, 50)}``.

    Returns
    -------
    xarray.Dataset
        Standard site dataset; NEE in µmol CO2 m-2 s-1, NEE > 0 = release.
    """
    plist = _as_paths(paths)
    times, parts = [], []
    for p in plist:
        t, d = _parse_reddyproc_one(p, required)
        times.append(t)
        parts.append(d)
    keys = sorted(set().union(*[d.keys() for d in parts]), key=list(STANDARD_UNITS).index)
    t = np.concatenate(times)
    data = {k: np.concatenate([d.get(k, np.full(len(tt), np.nan)) for d, tt in zip(parts, times)])
            for k in keys}
    order = np.argsort(t, kind="stable")
    if len(plist) > 1:
        t = t[order]
        data = {k: v[order] for k, v in data.items()}
    where = ", ".join(str(p) for p in plist)
    full, step, index = check_time_axis(t, where=where, regularise=regularise)
    ds = make_site_dataset(full, data, site=site, lat=lat, lon=lon, utc_offset_hours=utc_offset_hours,
                           timestep_seconds=step, where=where, index=index,
                           extra_attrs={"file_format": "REddyProc text"})
    return finish_loaded(ds, where=where, required=required, plausibility=plausibility, ranges=ranges)


# ---------------------------------------------------------------------------------------------
# REddyProc reference outputs
# ---------------------------------------------------------------------------------------------


def read_reddyproc_reference(paths) -> xr.Dataset:
    """Read REddyProc outputs (half-hourly csv.gz + summary json) on the standard time axis.

    Expects the files of ``reference-REddyProc-1.3.3/``: ``*_halfhourly.csv.gz`` (column
    ``DateTime`` = END of the half-hour, local standard time; NA = missing) and optionally
    ``*_summary.json`` (versions, u* thresholds, annual sums), ``*uStar_scenarios.csv``.
    All numeric columns become variables under their REddyProc names (NEE_f, NEE_fqc, NEE_fsd,
    Reco, GPP_f, Reco_DT, GPP_DT, E_0, R_ref, FP_*...); flux columns carry
    ``units='umol m-2 s-1'`` (NEE > 0 = release; GPP, Reco >= 0).

    attrs: ``ustar_threshold`` [m s-1], ``ustar_q05``/``ustar_q50``/``ustar_q95`` (bootstrap
    quantiles), ``annual_<var>`` [gC m-2 yr-1], ``reddyproc_version`` and the whole summary as
    the JSON string ``reddyproc_summary``.
    """
    plist = _as_paths(paths)
    csvs = [p for p in plist if p.name.endswith((".csv.gz", ".csv")) and "halfhourly" in p.name]
    if not csvs:
        csvs = [p for p in plist if p.name.endswith(".csv.gz")]
    if len(csvs) != 1:
        raise DataError(located(f"expected one half-hourly csv(.gz), got {[str(p) for p in csvs]}",
                                where=", ".join(map(str, plist)),
                                fix="pass the *_halfhourly.csv.gz file (and the summary json)"))
    path = csvs[0]
    text = _read_text_normalised(path)
    df = pd.read_csv(_io.StringIO(text), na_values=["NA", "NaN", ""])
    if "DateTime" not in df.columns:
        raise DataError(located("missing column 'DateTime'", where=f"{path}, line 1",
                                fix="use the REddyProc export with DateTime = interval end"))
    t = pd.to_datetime(df["DateTime"], format="%Y-%m-%d %H:%M:%S", errors="coerce").to_numpy()
    full, step, index = check_time_axis(t, where=str(path))
    data, units = {}, {}
    flux_like = re.compile(r"^(NEE|GPP|Reco|R_ref|FP_RRef|FP_GPP2000|FP_beta|FP_NEE)")
    for c in df.columns:
        if c in ("DateTime", "sDateTime"):
            continue
        if not pd.api.types.is_numeric_dtype(df[c]):
            continue
        v = np.array(df[c].to_numpy(dtype=float), copy=True)
        v[np.isclose(v, MISSING_VALUE)] = np.nan
        data[c] = v
        if c.endswith(("qc", "_fqc", "errorcode")) or c in ("Year", "DoY", "Hour"):
            units[c] = "1"
        elif flux_like.match(c) and not c.endswith("_sd") or c.endswith(("_fsd", "_SD")):
            units[c] = "umol m-2 s-1"
        elif c in ("Tair", "Tair_f") or "Temp" in c:
            units[c] = "degC"
        elif c in ("Rg", "Rg_f"):
            units[c] = "W m-2"
        elif c in ("VPD", "VPD_f"):
            units[c] = "hPa"
        elif c == "Ustar":
            units[c] = "m s-1"
        elif c in ("E_0", "FP_E0"):
            units[c] = "K"
        else:
            units[c] = "1"
    attrs: dict = {"file_format": "REddyProc output"}
    for p in plist:
        if p.name.endswith(".json"):
            try:
                summ = json.loads(_read_text_normalised(p))
            except json.JSONDecodeError as e:
                raise DataError(located(f"invalid JSON: {e}", where=str(p), fix="restore the summary file"))
            attrs["reddyproc_summary"] = json.dumps(summ)
            attrs["reddyproc_version"] = str(summ.get("REddyProc_version", ""))
            us = summ.get("uStar", {})
            if "annual_uStar_no_bootstrap" in us:
                attrs["ustar_threshold"] = float(us["annual_uStar_no_bootstrap"])
            for k, v in us.get("annual_quantiles", {}).items():
                attrs[f"ustar_q{int(round(float(k.rstrip('%')))):02d}"] = float(v)
            for k, v in summ.get("annual_sums_gC_m2_yr", {}).items():
                attrs[f"annual_{k}"] = float(v)
            for k in ("site", "LatDeg", "LongDeg", "TimeZoneHour"):
                if k in summ:
                    attrs[{"LatDeg": "lat", "LongDeg": "lon", "TimeZoneHour": "utc_offset_hours"}.get(k, k)] = summ[k]
    site = attrs.pop("site", "unknown")
    lat = attrs.pop("lat", None)
    lon = attrs.pop("lon", None)
    off = attrs.pop("utc_offset_hours", None)
    return make_site_dataset(full, data, units=units, site=site, lat=lat, lon=lon, utc_offset_hours=off,
                             timestep_seconds=step, where=", ".join(map(str, plist)), extra_attrs=attrs,
                             index=index)


