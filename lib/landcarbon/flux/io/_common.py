"""Shared parts of the flux-file loaders: the standard site dataset, time-axis checks, site metadata,
text parsing and the plausibility checks every loader applies.

The standard site dataset is an :class:`xarray.Dataset` with

* one dimension ``time`` (``datetime64[ns]``, LOCAL STANDARD TIME, each stamp is the END of the
  averaging interval; attrs ``time_label="end"``, ``timestep_seconds`` 1800 or 3600, ``site``,
  ``lat``, ``lon``, ``utc_offset_hours``);
* float64 variables with NaN for missing values and a ``units`` attribute:
  NEE [umol m-2 s-1], TA [degC], TS [degC], SW_IN [W m-2], VPD [hPa], RH [%], USTAR [m s-1],
  SWC [%], optional LE, H [W m-2], WS [m s-1], P [mm];
* quality flags ``<VAR>_QC`` (int8) where the source has them.

Sign convention of every flux: NEE > 0 is a release to the atmosphere (NEE = RECO − GPP), in µmol
CO2 m-2 s-1.

Bad input (empty files, missing required variables, wrong units, duplicated or non-monotonic time
stamps, gaps in the time axis, truncated rows, unparsable values, sentinels such as 1e30 or inf,
required columns that are entirely missing) raises :class:`~landcarbon.errors.DataError` /
:class:`~landcarbon.errors.UnitsError` naming the file, line/column/variable and the fix. Physically
impossible values are refused by :func:`landcarbon.data.plausibility.check_plausible` (``plausibility=
"mask"`` sets them to NaN instead and counts them; ``ranges=`` overrides the limits).
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import ConfigError, DataError, UnitsError, located
from ...units import normalise_unit

__all__ = ["STANDARD_UNITS", "MISSING_VALUE", "check_time_axis", "make_site_dataset", "validate_site_dataset",
           "site_metadata", "finish_loaded"]

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
    """File text with any of CR, LF or CRLF line endings normalised to LF (gzip allowed).

    Raises DataError for a missing or empty (0 bytes, or only whitespace) file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(located("file not found", where=str(path), fix="check the path")) from None
    if not raw.strip():
        raise DataError(located("file is empty", where=str(path),
                                fix="the download or copy was interrupted; fetch the file again"))
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




def check_field_counts(lines: Sequence[str], *, n_fields: int, sep: str | None, path: Path, first_line: int) -> None:
    """Refuse truncated (or overlong) data rows: every line must have ``n_fields`` fields.

    ``lines`` are data lines (no header), ``first_line`` the 1-based line number of ``lines[0]``.
    """
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        k = len(ln.split(sep)) if sep else len(ln.split())
        if k != n_fields:
            raise DataError(located(
                f"row has {k} fields, the header has {n_fields} (truncated or corrupt row)",
                where=f"{path}, line {first_line + i}",
                fix="repair or remove that row (a file cut off during a copy ends in a short row)"))


#: spellings of site metadata in files -> standard attribute (global attributes or scalar variables)
SITE_ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    "site": ("site", "Site_ID", "site_id", "SITE_ID", "siteid", "site_code", "SITE", "station", "Site"),
    "lat": ("lat", "Latitude", "latitude", "LAT", "LOCATION_LAT", "site_latitude", "Lat"),
    "lon": ("lon", "Longitude", "longitude", "LON", "LOCATION_LONG", "LOCATION_LON", "site_longitude", "Lon", "long"),
    "utc_offset_hours": ("utc_offset_hours", "TimeZone", "timezone", "time_zone", "UTC_OFFSET", "utc_offset",
                         "TIMEZONE", "tz", "TimeZoneHour", "UTC_offset"),
}


def site_metadata(attrs: Mapping, variables: Mapping | None = None, **given) -> dict:
    """Site id, lat [°N], lon [°E] and UTC offset [h] from arguments, else the file.

    Arguments (``given``, not None) win; then global attributes, then scalar variables, each under any
    spelling of :data:`SITE_ATTRIBUTE_ALIASES` (e.g. ``Latitude``, ``TimeZone``, ``Site_ID``, a
    ``latitude`` variable as in FLUXNET-derived netCDF). Text values such as ``"UTC+1"`` or
    ``"+01:00"`` are parsed. Missing values are None (the partitioning then refuses clearly).
    Out-of-range coordinates raise :class:`DataError`.
    """
    out = {}
    variables = variables or {}
    for key, names in SITE_ATTRIBUTE_ALIASES.items():
        val = given.get(key)
        src = "argument"
        if val is None:
            for nm in names:
                if nm in attrs and attrs[nm] not in (None, ""):
                    val, src = attrs[nm], f"attribute {nm!r}"
                    break
        if val is None:
            for nm in names:
                if nm in variables:
                    v = np.asarray(variables[nm])
                    if v.size == 1:
                        val, src = v.reshape(()).item(), f"variable {nm!r}"
                        break
        if val is not None and key != "site":
            val = _parse_number(val, key, src)
        out[key] = val
    for key, lo, hi in (("lat", -90, 90), ("lon", -180, 180), ("utc_offset_hours", -12, 14)):
        v = out.get(key)
        if v is not None and np.isfinite(v) and not lo <= v <= hi:
            raise DataError(located(f"{key} = {v} is outside [{lo}, {hi}]", where="site metadata",
                                    fix=f"pass {key}=... to the loader"))
    if isinstance(out.get("site"), bytes):
        out["site"] = out["site"].decode()
    return out


def _parse_number(val, key, src):
    if isinstance(val, (bytes, str)):
        s = val.decode() if isinstance(val, bytes) else val
        s = s.strip().upper().replace("UTC", "").replace("GMT", "").strip()
        if ":" in s:
            sign = -1.0 if s.startswith("-") else 1.0
            hh, mm = s.lstrip("+-").split(":")[:2]
            return sign * (float(hh) + float(mm) / 60.0)
        try:
            return float(s) if s else None
        except ValueError:
            raise DataError(located(f"{key} {val!r} ({src}) is not a number", where="site metadata",
                                    fix=f"pass {key}=... to the loader")) from None
    try:
        return float(val)
    except (TypeError, ValueError):
        raise DataError(located(f"{key} {val!r} ({src}) is not a number", where="site metadata",
                                fix=f"pass {key}=... to the loader")) from None


def finish_loaded(ds: xr.Dataset, *, where: str, required: Sequence[str], plausibility: str = "raise",
                  ranges: Mapping[str, tuple[float, float]] | None = None) -> xr.Dataset:
    """Checks every loader applies to what it read: required variables present and not entirely
    missing (:func:`~landcarbon.data.plausibility.check_not_empty`), then physically plausible values
    (:func:`~landcarbon.data.plausibility.check_plausible`; ``plausibility`` "raise" or "mask")."""
    from ...data.plausibility import check_not_empty, check_plausible

    if plausibility not in ("raise", "mask"):
        raise ConfigError(located(f"plausibility={plausibility!r}", where=where, fix="use 'raise' or 'mask'"))
    check_not_empty(ds, list(required), where=where)
    names = [v for v in ds.data_vars if not v.endswith("_QC")]
    return check_plausible(ds, where=where, ranges=ranges, action=plausibility, variables=names)
