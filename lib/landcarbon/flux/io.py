"""Loaders of eddy-covariance site files into the standard site dataset of landcarbon.

The standard site dataset (``helpers/CONTRACTS.md``) is an :class:`xarray.Dataset` with

* one dimension ``time`` (``datetime64[ns]``, LOCAL STANDARD TIME, each stamp is the END of the
  averaging interval; attrs ``time_label="end"``, ``timestep_seconds`` 1800 or 3600, ``site``,
  ``lat``, ``lon``, ``utc_offset_hours``);
* float64 variables with NaN for missing values and a ``units`` attribute:
  NEE [umol m-2 s-1], TA [degC], TS [degC], SW_IN [W m-2], VPD [hPa], RH [%], USTAR [m s-1],
  SWC [%], optional LE, H [W m-2], WS [m s-1], P [mm];
* quality flags ``<VAR>_QC`` (int8) where the source has them.

Sign convention of every flux returned here: NEE > 0 is a release to the atmosphere
(NEE = RECO − GPP), in µmol CO2 m-2 s-1.

Formats read:

* REddyProc text input (:func:`read_reddyproc_text`), e.g. ``Example_DETha98.txt`` of REddyProc
  (Wutzler et al. 2018, Biogeosciences 15:5015, doi:10.5194/bg-15-5015-2018);
* REddyProc outputs written by the project (:func:`read_reddyproc_reference`);
* FLUXNET2015 FULLSET half-hourly (HH) and hourly (HR) CSV (:func:`read_fluxnet2015`;
  Pastorello et al. 2020, Sci. Data 7:225, doi:10.1038/s41597-020-0534-3);
* netCDF with CF time units, including unusual origins such as ``days since 1582-10-14`` and
  non-standard calendars (:func:`read_flux_netcdf`).

Bad input (missing required variables, wrong units, duplicated or non-monotonic time stamps, gaps
in the time axis, unparsable values) raises :class:`~landcarbon.errors.DataError` /
:class:`~landcarbon.errors.UnitsError` naming the file, line/column/variable and the fix.
Gaps in the time axis can instead be regularised (filled with NaN records) with
``regularise=True``.
"""
from __future__ import annotations

import gzip
import io as _io
import json
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, UnitsError, located
from ..units import convert, normalise_unit

__all__ = [
    "STANDARD_UNITS",
    "MISSING_VALUE",
    "read_reddyproc_text",
    "read_reddyproc_reference",
    "read_fluxnet2015",
    "read_flux_netcdf",
    "validate_site_dataset",
    "make_site_dataset",
    "check_time_axis",
]

#: Missing-value code of REddyProc and FLUXNET files.
MISSING_VALUE = -9999.0

#: Units of the standard site dataset (canonical spellings of :func:`landcarbon.units.normalise_unit`).
STANDARD_UNITS: dict[str, str] = {
    "NEE": "umol m-2 s-1",
    "TA": "degC",
    "TS": "degC",
    "SW_IN": "W m-2",
    "VPD": "hPa",
    "RH": "%",
    "USTAR": "m s-1",
    "SWC": "%",
    "LE": "W m-2",
    "H": "W m-2",
    "WS": "m s-1",
    "P": "mm",
    "GPP_true": "umol m-2 s-1",
    "RECO_true": "umol m-2 s-1",
    "NEE_true": "umol m-2 s-1",
}

_LONG_NAMES = {
    "NEE": "net ecosystem exchange of CO2 (positive = release to the atmosphere)",
    "TA": "air temperature",
    "TS": "soil temperature",
    "SW_IN": "incoming short-wave (global) radiation",
    "VPD": "vapour pressure deficit",
    "RH": "relative humidity",
    "USTAR": "friction velocity",
    "SWC": "soil water content (volumetric)",
    "LE": "latent heat flux",
    "H": "sensible heat flux",
    "WS": "wind speed",
    "P": "precipitation per time step",
}

# ---------------------------------------------------------------------------------------------
# Shared helpers: time axis checks and dataset assembly
# ---------------------------------------------------------------------------------------------


def _as_paths(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise ConfigError(located("no input file given", fix="pass at least one path"))
    return out


def check_time_axis(
    time: np.ndarray,
    *,
    where: str,
    timestep_seconds: float | None = None,
    regularise: bool = False,
) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Validate a time axis (datetime64) and optionally regularise it.

    Parameters
    ----------
    time : array of datetime64
        Interval-end stamps in file order.
    where : str
        File name (or variable) for the error messages.
    timestep_seconds : float, optional
        Expected step; inferred as the most common difference when omitted (must be 1800 or 3600).
    regularise : bool
        If False (default) a gap in the axis (a missing record) raises :class:`DataError`; if True,
        the returned ``full`` axis covers first..last stamp at the time step and ``index`` maps the
        input records into it.

    Returns
    -------
    full : ndarray of datetime64[ns]
        The regular axis.
    step : int
        Time step [s].
    index : ndarray of int or None
        Positions of the input records in ``full`` (None when the input already is regular).
    """
    t = np.asarray(time).astype("datetime64[ns]")
    if t.size < 2:
        raise DataError(located(f"time axis has only {t.size} record(s)", where=where,
                                fix="provide at least two records"))
    if np.isnat(t).any():
        i = int(np.flatnonzero(np.isnat(t))[0])
        raise DataError(located(f"unparsable or missing time stamp at record {i + 1}", where=where,
                                fix="repair the time columns of that record"))
    d = np.diff(t).astype("timedelta64[s]").astype(np.int64)
    if (d == 0).any():
        i = int(np.flatnonzero(d == 0)[0])
        raise DataError(located(f"duplicated time stamp {t[i + 1]} (records {i + 1} and {i + 2})",
                                where=where, fix="remove the duplicated record(s)"))
    if (d < 0).any():
        i = int(np.flatnonzero(d < 0)[0])
        raise DataError(located(
            f"time stamps are not increasing: {t[i]} is followed by {t[i + 1]} (record {i + 2})",
            where=where, fix="sort the records by time (or remove the out-of-order block)"))
    if timestep_seconds is None:
        vals, counts = np.unique(d, return_counts=True)
        timestep_seconds = int(vals[np.argmax(counts)])
    step = int(timestep_seconds)
    if step not in (1800, 3600):
        raise DataError(located(f"time step of {step} s is not half-hourly (1800) or hourly (3600)",
                                where=where, fix="aggregate the file to 30 or 60 minutes"))
    if (d % step != 0).any():
        i = int(np.flatnonzero(d % step != 0)[0])
        raise DataError(located(
            f"time stamp {t[i + 1]} is off the {step}-s grid (record {i + 2})", where=where,
            fix="align the stamps to the interval ends"))
    if (d == step).all():
        return t, step, None
    if not regularise:
        i = int(np.flatnonzero(d != step)[0])
        n_missing = int(d.sum() // step + 1 - t.size)
        raise DataError(located(
            f"gap in the time axis: {t[i]} is followed by {t[i + 1]} ({n_missing} record(s) missing "
            "in total)", where=where,
            fix="pass regularise=True to insert the missing records as NaN, or repair the file"))
    full = np.arange(t[0], t[-1] + np.timedelta64(step, "s"), np.timedelta64(step, "s")).astype(
        "datetime64[ns]")
    index = ((t - t[0]).astype("timedelta64[s]").astype(np.int64) // step).astype(np.int64)
    return full, step, index


def make_site_dataset(
    time: np.ndarray,
    data: dict[str, np.ndarray],
    *,
    units: dict[str, str] | None = None,
    site: str = "unknown",
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    timestep_seconds: int,
    where: str = "",
    extra_attrs: dict | None = None,
    index: np.ndarray | None = None,
) -> xr.Dataset:
    """Assemble the standard site dataset from arrays (time = interval END, local standard time).

    ``data`` values are float arrays (NaN = missing); keys ending in ``_QC`` become int8 flags
    (missing flag = -1). ``index`` (from :func:`check_time_axis`) places the records on a
    regularised axis ``time``.
    """
    n = len(time)
    units = dict(units or {})
    dvars = {}
    for name, arr in data.items():
        a = np.asarray(arr)
        if name.endswith("_QC"):
            af = np.asarray(a, dtype=float)
            q = np.where(np.isfinite(af), af, -1).astype(np.int8)
            if index is not None:
                full = np.full(n, -1, dtype=np.int8)
                full[index] = q
                q = full
            dvars[name] = ("time", q, {"units": "1", "long_name": f"quality flag of {name[:-3]}",
                                       "flag_meaning": "-1 = missing flag; source-specific codes"})
            continue
        v = np.asarray(a, dtype=np.float64)
        if index is not None:
            full = np.full(n, np.nan)
            full[index] = v
            v = full
        u = units.get(name, STANDARD_UNITS.get(name, "1"))
        attrs = {"units": u}
        if name in _LONG_NAMES:
            attrs["long_name"] = _LONG_NAMES[name]
        dvars[name] = ("time", v, attrs)
    ds = xr.Dataset(dvars, coords={"time": ("time", np.asarray(time).astype("datetime64[ns]"))})
    ds["time"].attrs.update({"long_name": "end of the averaging interval (local standard time)"})
    ds.attrs.update({
        "time_label": "end",
        "timestep_seconds": int(timestep_seconds),
        "site": str(site),
        "lat": float(lat) if lat is not None else float("nan"),
        "lon": float(lon) if lon is not None else float("nan"),
        "utc_offset_hours": float(utc_offset_hours) if utc_offset_hours is not None else float("nan"),
        "flux_sign_convention": "NEE > 0 = release to the atmosphere; NEE = RECO - GPP",
    })
    if where:
        ds.attrs["source_files"] = where
    if index is not None:
        ds.attrs["regularised_records_inserted"] = int(n - len(index))
    if extra_attrs:
        ds.attrs.update(extra_attrs)
    return ds


def validate_site_dataset(ds: xr.Dataset, required: Sequence[str] = ("NEE",), *, where: str = "dataset") -> None:
    """Check that ``ds`` follows the standard site dataset contract; raise DataError/UnitsError.

    Checks: dim ``time`` (datetime64, increasing, no duplicates, regular), attrs ``time_label`` and
    ``timestep_seconds``, required variables present, and the ``units`` of every known variable.
    """
    if "time" not in ds.dims:
        raise DataError(located("no 'time' dimension", where=where, fix="use a standard site dataset"))
    check_time_axis(ds["time"].values, where=where,
                    timestep_seconds=ds.attrs.get("timestep_seconds"))
    if ds.attrs.get("time_label") not in ("end",):
        raise DataError(located(f"attrs['time_label'] is {ds.attrs.get('time_label')!r}", where=where,
                                fix="shift stamps to interval ends and set time_label='end'"))
    missing = [v for v in required if v not in ds]
    if missing:
        raise DataError(located(f"missing required variable(s) {missing}", where=where,
                                fix="provide them (see landcarbon.flux.io.STANDARD_UNITS)"))
    for name, da in ds.data_vars.items():
        if name in STANDARD_UNITS:
            u = normalise_unit(da.attrs.get("units"))
            if u != normalise_unit(STANDARD_UNITS[name]):
                raise UnitsError(located(
                    f"variable {name} has units {da.attrs.get('units')!r}, expected {STANDARD_UNITS[name]!r}",
                    where=f"{where}: {name}", fix=f"convert {name} to {STANDARD_UNITS[name]}"))


def _read_text_normalised(path: Path) -> str:
    """File text with any of CR, LF or CRLF line endings normalised to LF (gzip allowed)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(located("file not found", where=str(path), fix="check the path")) from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    for enc in ("utf-8", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    text = text.lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _to_float_checked(series: pd.Series, *, path: Path, column: str, line_offset: int) -> np.ndarray:
    """Numeric conversion naming the first bad line; -9999 -> NaN."""
    s = series.astype(str).str.strip()
    num = pd.to_numeric(s.replace({"": "nan", "NA": "nan", "NaN": "nan", "nan": "nan"}), errors="coerce")
    bad = num.isna() & ~s.isin(["", "NA", "NaN", "nan"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(located(
            f"value {s.iloc[i]!r} is not a number", where=f"{path}, line {i + line_offset}, column {column}",
            fix="repair the value or replace it by -9999 (missing)"))
    v = np.array(num.to_numpy(dtype=float), dtype=float, copy=True)
    v[np.isclose(v, MISSING_VALUE)] = np.nan
    return v


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
    required : standard names that must be present (default NEE, SW_IN, TA, VPD, USTAR).
    regularise : insert missing records as NaN instead of raising on gaps in the time axis.

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
    return make_site_dataset(full, data, site=site, lat=lat, lon=lon, utc_offset_hours=utc_offset_hours,
                             timestep_seconds=step, where=where, index=index,
                             extra_attrs={"file_format": "REddyProc text"})


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


# ---------------------------------------------------------------------------------------------
# FLUXNET2015 FULLSET
# ---------------------------------------------------------------------------------------------

#: standard name -> (candidate FLUXNET2015 columns in order of preference; unit documented by FLUXNET)
FLUXNET_DRIVERS: dict[str, tuple[tuple[str, ...], str]] = {
    "TA": (("TA_F", "TA_F_MDS", "TA"), "degC"),
    "SW_IN": (("SW_IN_F", "SW_IN_F_MDS", "SW_IN"), "W m-2"),
    "VPD": (("VPD_F", "VPD_F_MDS", "VPD"), "hPa"),
    "RH": (("RH",), "%"),
    "TS": (("TS_F_MDS_1",), "degC"),
    "SWC": (("SWC_F_MDS_1",), "%"),
    "USTAR": (("USTAR",), "m s-1"),
    "WS": (("WS_F", "WS"), "m s-1"),
    "P": (("P_F", "P"), "mm"),
    "LE": (("LE_F_MDS",), "W m-2"),
    "H": (("H_F_MDS",), "W m-2"),
}

_FLX_NAME = re.compile(r"FLX_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_FLUXNET2015_(?P<set>[A-Z]+)_(?P<res>HH|HR)_")


def read_fluxnet2015(
    paths,
    site: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    *,
    variant: str = "VUT",
    percentile: str = "REF",
    nee_measured_only: bool = True,
    required: Sequence[str] = ("NEE", "SW_IN", "TA", "VPD"),
    regularise: bool = False,
) -> xr.Dataset:
    """Read FLUXNET2015 FULLSET half-hourly (``_HH_``) or hourly (``_HR_``) CSV file(s).

    Format (Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3; fluxnet.org "FULLSET data
    product"): comma separated with a header line; ``TIMESTAMP_START``/``TIMESTAMP_END`` as
    ``YYYYMMDDHHMM`` in local standard time; ``-9999`` = missing; quality flags ``<VAR>_QC``
    (0 = measured, 1..3 = gap-filled quality). Units are fixed by the product documentation
    (there is no units line): TA degC, SW_IN W m-2, VPD hPa, SWC %, TS degC, USTAR m s-1,
    NEE µmol CO2 m-2 s-1, P mm per step.

    NEE is taken from ``NEE_<variant>_<percentile>`` (``variant`` "VUT" = variable u* threshold per
    year or "CUT" = constant; ``percentile`` "REF", "USTAR50", "MEAN", or e.g. "50"). With
    ``nee_measured_only=True`` (default) NEE is set to NaN where its ``_QC`` != 0, so that u*
    filtering and MDS of this package start from measured data; the flag is kept as ``NEE_QC``.
    Drivers use the consolidated ``_F`` columns where present (their ``_QC`` kept).

    Returns the standard site dataset (time = TIMESTAMP_END); NEE > 0 = release.
    """
    plist = _as_paths(paths)
    variant = variant.upper()
    if variant not in ("VUT", "CUT"):
        raise ConfigError(located(f"variant {variant!r} unknown", fix="use 'VUT' or 'CUT'"))
    frames, sites = [], set()
    for p in plist:
        m = _FLX_NAME.search(p.name)
        if m:
            sites.add(m.group("site"))
        text = _read_text_normalised(p)
        try:
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
        except pd.errors.ParserError as e:
            raise DataError(located(f"cannot parse CSV: {e}", where=str(p),
                                    fix="check the file is a complete FLUXNET2015 FULLSET CSV"))
        for c in ("TIMESTAMP_START", "TIMESTAMP_END"):
            if c not in df.columns:
                raise DataError(located(f"missing column {c}", where=f"{p}, line 1",
                                        fix="FULLSET HH/HR files need TIMESTAMP_START and TIMESTAMP_END"))
        df.attrs["path"] = p
        frames.append(df)
    out_t, out_d = [], []
    nee_col = f"NEE_{variant}_{percentile}"
    for df in frames:
        p = df.attrs["path"]
        te = pd.to_datetime(df["TIMESTAMP_END"].str.strip(), format="%Y%m%d%H%M", errors="coerce")
        ts = pd.to_datetime(df["TIMESTAMP_START"].str.strip(), format="%Y%m%d%H%M", errors="coerce")
        if te.isna().any() or ts.isna().any():
            i = int(np.flatnonzero((te.isna() | ts.isna()).to_numpy())[0])
            raise DataError(located("unparsable TIMESTAMP (expected YYYYMMDDHHMM)",
                                    where=f"{p}, line {i + 2}", fix="repair the time stamp"))
        dur = (te - ts).dt.total_seconds().to_numpy()
        if not np.isin(dur, (1800, 3600)).all() or len(np.unique(dur)) != 1:
            i = int(np.flatnonzero(dur != dur[0])[0]) if len(np.unique(dur)) > 1 else 0
            raise DataError(located(f"TIMESTAMP_END - TIMESTAMP_START = {dur[i]} s is not a constant 1800/3600 s",
                                    where=f"{p}, line {i + 2}", fix="use an HH or HR FULLSET file"))
        d: dict[str, np.ndarray] = {}
        if nee_col not in df.columns:
            avail = sorted(c for c in df.columns if c.startswith("NEE_") and not c.endswith("_QC"))[:12]
            raise DataError(located(f"missing column {nee_col}", where=f"{p}, line 1",
                                    fix=f"choose variant/percentile among the file's NEE columns, e.g. {avail}"))
        nee = _to_float_checked(df[nee_col], path=p, column=nee_col, line_offset=2)
        if f"{nee_col}_QC" in df.columns:
            q = _to_float_checked(df[f"{nee_col}_QC"], path=p, column=f"{nee_col}_QC", line_offset=2)
            d["NEE_QC"] = q
            if nee_measured_only:
                nee = np.where(q == 0, nee, np.nan)
        d["NEE"] = nee
        for std, (cands, _unit) in FLUXNET_DRIVERS.items():
            col = next((c for c in cands if c in df.columns), None)
            if col is None:
                continue
            d[std] = _to_float_checked(df[col], path=p, column=col, line_offset=2)
            if f"{col}_QC" in df.columns:
                d[f"{std}_QC"] = _to_float_checked(df[f"{col}_QC"], path=p, column=f"{col}_QC", line_offset=2)
        missing = [r for r in required if r not in d]
        if missing:
            raise DataError(located(f"missing required variable(s) {missing}", where=f"{p}, line 1",
                                    fix="FULLSET columns expected: " + ", ".join(
                                        FLUXNET_DRIVERS[m][0][0] for m in missing if m in FLUXNET_DRIVERS)))
        out_t.append(te.to_numpy())
        out_d.append(d)
    t = np.concatenate(out_t)
    keys = list(dict.fromkeys(k for d in out_d for k in d))
    data = {k: np.concatenate([d.get(k, np.full(len(tt), np.nan)) for d, tt in zip(out_d, out_t)]) for k in keys}
    order = np.argsort(t, kind="stable")
    t = t[order]
    data = {k: v[order] for k, v in data.items()}
    where = ", ".join(map(str, plist))
    full, step, index = check_time_axis(t, where=where, regularise=regularise)
    if site is None:
        site = sites.pop() if len(sites) == 1 else "unknown"
    units = {k: FLUXNET_DRIVERS[k][1] for k in data if k in FLUXNET_DRIVERS}
    return make_site_dataset(full, data, units=units, site=site, lat=lat, lon=lon,
                             utc_offset_hours=utc_offset_hours, timestep_seconds=step, where=where,
                             index=index, extra_attrs={"file_format": "FLUXNET2015 FULLSET",
                                                       "nee_column": nee_col,
                                                       "nee_measured_only": int(nee_measured_only)})


# ---------------------------------------------------------------------------------------------
# netCDF
# ---------------------------------------------------------------------------------------------

_NC_ALIASES: dict[str, tuple[str, ...]] = {
    "NEE": ("NEE", "nee", "NEE_VUT_REF", "FC"),
    "TA": ("TA", "Tair", "TA_F", "tas", "air_temperature"),
    "TS": ("TS", "Tsoil", "TS_F_MDS_1"),
    "SW_IN": ("SW_IN", "Rg", "SW_IN_F", "rsds", "SWdown"),
    "VPD": ("VPD", "VPD_F", "vpd"),
    "RH": ("RH", "rH", "hurs"),
    "USTAR": ("USTAR", "Ustar", "ustar"),
    "SWC": ("SWC", "SWC_F_MDS_1"),
    "LE": ("LE", "Qle"),
    "H": ("H", "Qh"),
    "WS": ("WS", "Wind"),
    "P": ("P", "Precip"),
}
_REAL_CALENDARS = ("standard", "gregorian", "proleptic_gregorian", "julian")


def _decode_time(values, units: str, calendar: str, *, where: str) -> np.ndarray:
    import cftime

    cal = (calendar or "standard").lower()
    try:
        dates = cftime.num2date(np.asarray(values, dtype=float), units, calendar=cal,
                                only_use_cftime_datetimes=True)
    except (ValueError, TypeError) as e:
        raise DataError(located(
            f"cannot decode time units {units!r} with calendar {cal!r}: {e}", where=where,
            fix=("the reference date may not exist in the mixed Julian/Gregorian 'standard' calendar "
                 "(e.g. 1582-10-05..14); pass calendar='proleptic_gregorian' if the file was written so, "
                 "or correct the time units")))
    dates = np.atleast_1d(dates)
    if cal in _REAL_CALENDARS:
        # absolute instants via the Julian day number: correct for julian/mixed calendars too
        jd = np.array([d.toordinal(fractional=True) for d in dates], dtype=float)
        ns = np.round((jd - 2440587.5) * 86400.0) * 1e9
        return ns.astype(np.int64).astype("datetime64[ns]")
    # model calendars (noleap, 360_day, all_leap ...): convert date labels where they are real dates
    out = np.empty(len(dates), dtype="datetime64[ns]")
    for i, d in enumerate(dates):
        try:
            out[i] = np.datetime64(pd.Timestamp(d.year, d.month, d.day, d.hour, d.minute, d.second))
        except ValueError:
            raise DataError(located(
                f"time {d} of calendar {cal!r} is not a real date", where=f"{where}, record {i + 1}",
                fix="site data must use a real-world calendar (standard/proleptic_gregorian); "
                    "regrid the model output to real dates first")) from None
    return out


def read_flux_netcdf(
    path,
    site: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    *,
    calendar: str | None = None,
    time_label: str | None = None,
    required: Sequence[str] = ("NEE",),
    regularise: bool = False,
) -> xr.Dataset:
    """Read a site netCDF file into the standard site dataset.

    Time is decoded with :mod:`cftime` from the raw CF ``units``/``calendar`` (so unusual origins
    such as ``days since 1582-10-14`` and julian/proleptic calendars map to true instants;
    ``noleap``/``all_leap`` labels are converted when they are real dates — a missing Feb 29 then
    shows up as a gap; ``360_day`` dates such as Feb 30 raise :class:`DataError`). The interval label
    is taken from ``time_bounds``/``bounds`` (upper bound = end) when present, else from
    ``time_label`` ("end", "start", "middle"; argument, then the file's global attribute, default
    "end"). Variables are found by standard or common alias names (e.g. Tair, Rg, Ustar) and
    converted to the standard units with :func:`landcarbon.units.convert`; a variable without
    ``units`` raises :class:`UnitsError`. Site metadata come from arguments or global attributes
    (``site``, ``lat``/``latitude``, ``lon``/``longitude``, ``utc_offset_hours``).
    """
    path = Path(path)
    try:
        raw = xr.open_dataset(path, decode_times=False)
    except FileNotFoundError:
        raise DataError(located("file not found", where=str(path), fix="check the path")) from None
    except Exception as e:  # corrupt / not netCDF
        raise DataError(located(f"cannot open as netCDF: {e}", where=str(path),
                                fix="check the file is a complete netCDF file")) from None
    with raw:
        tname = next((n for n in ("time", "TIME", "Time", "t") if n in raw.variables), None)
        if tname is None:
            raise DataError(located("no time coordinate", where=str(path), fix="name it 'time'"))
        tv = raw[tname]
        tunits = tv.attrs.get("units")
        if not tunits or " since " not in str(tunits):
            raise DataError(located(f"time units {tunits!r} are not CF '<unit> since <date>'",
                                    where=f"{path}: {tname}", fix="set e.g. units='days since 1970-01-01'"))
        cal = calendar or tv.attrs.get("calendar", "standard")
        t = _decode_time(tv.values, str(tunits), cal, where=f"{path}: {tname}")
        bname = tv.attrs.get("bounds")
        label = time_label or raw.attrs.get("time_label") or "end"
        if bname and bname in raw.variables:
            b = _decode_time(raw[bname].values[:, 1], str(tunits), cal, where=f"{path}: {bname}")
            t = b
            label = "end"
        if label not in ("end", "start", "middle"):
            raise ConfigError(located(f"time_label {label!r} unknown", fix="use 'end', 'start' or 'middle'"))
        if label != "end":
            d = np.diff(t).astype("timedelta64[s]").astype(np.int64)
            step = int(np.median(d)) if len(d) else 1800
            shift = step if label == "start" else step // 2
            t = t + np.timedelta64(shift, "s")
        data, units = {}, {}
        for std, aliases in _NC_ALIASES.items():
            name = next((a for a in aliases if a in raw.data_vars), None)
            if name is None:
                continue
            da = raw[name]
            if da.dims != (tname,):
                da = da.squeeze(drop=True)
                if da.dims != (tname,):
                    raise DataError(located(f"variable {name} has dims {da.dims}, expected ({tname},)",
                                            where=f"{path}: {name}", fix="select one site/level"))
            u = da.attrs.get("units")
            if u is None:
                raise UnitsError(located(f"variable {name} has no units attribute", where=f"{path}: {name}",
                                         fix=f"set units (standard: {STANDARD_UNITS[std]!r})"))
            v = np.asarray(da.values, dtype=float)
            v[np.isclose(v, MISSING_VALUE)] = np.nan
            if std == "SWC" and normalise_unit(u) in ("m3 m-3", "1", "m3/m3"):
                v = v * 100.0
                u = "%"
            v = np.asarray(convert(v, u, STANDARD_UNITS[std], where=f"{path}: {name}"), dtype=float)
            data[std] = v
            for qn in (f"{name}_QC", f"{name}_qc", f"{std}_QC"):
                if qn in raw.data_vars:
                    data[f"{std}_QC"] = np.asarray(raw[qn].values, dtype=float)
                    break
        missing = [r for r in required if r not in data]
        if missing:
            raise DataError(located(f"missing required variable(s) {missing}", where=str(path),
                                    fix="add them (names: " + ", ".join(_NC_ALIASES[m][0] for m in missing) + ")"))
        ga = raw.attrs
        site = site or ga.get("site") or ga.get("site_id") or "unknown"
        lat = lat if lat is not None else ga.get("lat", ga.get("latitude"))
        lon = lon if lon is not None else ga.get("lon", ga.get("longitude"))
        utc_offset_hours = utc_offset_hours if utc_offset_hours is not None else ga.get("utc_offset_hours")
    full, step, index = check_time_axis(t, where=str(path), regularise=regularise)
    return make_site_dataset(full, data, site=site, lat=lat, lon=lon, utc_offset_hours=utc_offset_hours,
                             timestep_seconds=step, where=str(path), index=index,
                             extra_attrs={"file_format": "netCDF", "time_units_in_file": str(tunits),
                                          "calendar_in_file": str(cal)})
