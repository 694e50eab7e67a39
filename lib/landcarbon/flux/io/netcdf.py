"""Generic site netCDF files with CF time (any calendar and origin) into the standard site dataset."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import ConfigError, DataError, UnitsError, located
from ...units import convert, normalise_unit
from ._common import MISSING_VALUE, STANDARD_UNITS, check_time_axis, finish_loaded, make_site_dataset, site_metadata

__all__ = ["read_flux_netcdf", "NC_ALIASES", "CalendarWarning"]

#: standard name -> variable names looked for in the file (first found wins)
NC_ALIASES: dict[str, tuple[str, ...]] = {
    "NEE": ("NEE", "nee", "NEE_VUT_REF", "FC"),
    "TA": ("TA", "Tair", "TA_F", "tas", "air_temperature", "ta"),
    "TS": ("TS", "Tsoil", "TS_F_MDS_1"),
    "SW_IN": ("SW_IN", "Rg", "SW_IN_F", "rsds", "SWdown", "sw_in"),
    "VPD": ("VPD", "VPD_F", "vpd"),
    "RH": ("RH", "rH", "hurs", "rh"),
    "USTAR": ("USTAR", "Ustar", "ustar"),
    "SWC": ("SWC", "SWC_F_MDS_1"),
    "LE": ("LE", "Qle"),
    "H": ("H", "Qh"),
    "WS": ("WS", "Wind"),
    "P": ("P", "Precip"),
}
_NC_ALIASES = NC_ALIASES  # old private name
_REAL_CALENDARS = ("standard", "gregorian", "proleptic_gregorian", "julian")
_CHECK_CALENDARS = ("standard", "proleptic_gregorian", "julian")


class CalendarWarning(UserWarning):
    """The file's time origin lies before the Gregorian reform and nothing in the file confirms its calendar."""


_UNIT_NS = {"days": 86400e9, "day": 86400e9, "hours": 3600e9, "hour": 3600e9, "minutes": 60e9, "minute": 60e9,
            "seconds": 1e9, "second": 1e9}


def _fast_decode(values, units: str, cal: str):
    """Proleptic Gregorian (or 'standard' with an origin after the 1582 reform) through pandas; None
    when the fast path does not apply."""
    try:
        unit, origin = str(units).split(" since ")
        scale = _UNIT_NS[unit.strip().lower()]
        t0 = pd.Timestamp(origin.strip().replace("Z", ""))
    except (ValueError, KeyError):
        return None
    if t0.tzinfo is not None:
        t0 = t0.tz_convert(None)
    if cal not in ("proleptic_gregorian", "standard", "gregorian") or t0 < pd.Timestamp("1700-01-01"):
        return None  # other calendars, the 1582 reform and the datetime64[ns] range: the cftime path
    v = np.asarray(values, dtype=float)
    if not np.isfinite(v).all() or np.abs(v * scale).max(initial=0.0) > 2e18:
        return None
    return (np.datetime64(t0.to_datetime64(), "ns") + np.round(v * scale).astype(np.int64).astype("timedelta64[ns]"))


def _decode_time(values, units: str, calendar: str, *, where: str) -> np.ndarray:
    import cftime

    cal = (calendar or "standard").lower()
    fast = _fast_decode(values, units, cal)
    if fast is not None:
        return fast
    try:
        dates = cftime.num2date(np.asarray(values, dtype=float), units, calendar=cal,
                                only_use_cftime_datetimes=True)
    except (ValueError, TypeError) as e:
        raise DataError(located(
            f"cannot decode time units {units!r} with calendar {cal!r}: {e}", where=where,
            fix=("the reference date may not exist in the mixed Julian/Gregorian 'standard' calendar "
                 "(e.g. 1582-10-05..14). Find out which calendar the writer used: pass "
                 "calendar='proleptic_gregorian' or calendar='julian' accordingly (for a pre-1582 origin "
                 "they differ by 10 days or more); when the file has Year/DoY/Hour or TIMESTAMP columns the "
                 "loader checks the decoded times against them")))
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


def _column_times(raw: xr.Dataset, step_guess: float) -> tuple[np.ndarray, str] | None:
    """Interval-END times from date/hour columns in the file, if it has them (else None)."""
    names = {n.lower(): n for n in raw.variables}
    if "timestamp_end" in names or "timestamp_start" in names:
        key = names.get("timestamp_end") or names["timestamp_start"]
        v = np.asarray(raw[key].values)
        s = pd.Series(v.astype(np.int64).astype(str) if np.issubdtype(v.dtype, np.number) else v.astype(str))
        t = pd.to_datetime(s.str.strip(), format="%Y%m%d%H%M", errors="coerce").to_numpy()
        if key.lower() == "timestamp_start":
            t = t + np.timedelta64(int(step_guess), "s")
        return t.astype("datetime64[ns]"), key
    y = names.get("year")
    d = names.get("doy") or names.get("dayofyear") or names.get("day_of_year")
    h = names.get("hour")
    if y and d and h:
        year = np.asarray(raw[y].values, float)
        doy = np.asarray(raw[d].values, float)
        hour = np.asarray(raw[h].values, float)
        base = (year.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
        t = (base + ((doy - 1) * 86400e9).astype(np.int64).astype("timedelta64[ns]")
             + np.round(hour * 3600e9).astype(np.int64).astype("timedelta64[ns]"))
        return t, f"{y}/{d}/{h} (hour = end of the interval)"
    return None


def _check_calendar(raw, tname, tunits, cal, t_end, label_shift, *, explicit: bool, where: str):
    """Compare the decoded times with date/hour columns when present; say which calendar matches."""
    step_guess = float(np.median(np.diff(t_end).astype("timedelta64[s]").astype(float))) if t_end.size > 1 else 1800.0
    cols = _column_times(raw, step_guess)
    origin_year = None
    try:
        origin_year = int(str(tunits).split(" since ")[1].strip()[:4])
    except (IndexError, ValueError):
        pass
    if cols is None:
        if origin_year is not None and origin_year < 1583 and cal in ("standard", "gregorian", "julian",
                                                                       "proleptic_gregorian"):
            warnings.warn(f"{where}: the time origin {str(tunits).split(' since ')[1]!r} lies before the Gregorian "
                          f"reform; calendars 'standard'/'julian' and 'proleptic_gregorian' place it 10 or more days "
                          f"apart and the file has no date columns to check against. Decoded with {cal!r}"
                          f"{' (given)' if explicit else ' (the file says so)'}; make sure that is how it was written.",
                          CalendarWarning, stacklevel=3)
            return f"unchecked (origin before 1583, calendar {cal!r})"
        return "no date columns in the file"
    t_cols, colname = cols
    ok = ~np.isnat(t_cols)
    if ok.sum() == 0:
        return "date columns unparsable"

    def agrees(tt):
        return bool(np.all(np.abs((tt[ok] - t_cols[ok]).astype("timedelta64[s]").astype(np.int64)) <= 1))

    if agrees(t_end):
        return f"decoded times agree with {colname}"
    matches = []
    for c in _CHECK_CALENDARS:
        if c == cal:
            continue
        try:
            alt = _decode_time(raw[tname].values, str(tunits), c, where=where) + label_shift
        except DataError:
            continue
        if agrees(alt):
            matches.append(c)
    off = (t_end[ok][0] - t_cols[ok][0]).astype("timedelta64[m]").astype(np.int64)
    raise DataError(located(
        f"times decoded with calendar {cal!r} differ from the file's own {colname} columns by "
        f"{off / 60 / 24:.2f} days; " + (f"calendar {matches[0]!r} matches them" if matches
                                          else "no real-world calendar matches them"),
        where=f"{where}: {tname}",
        fix=(f"pass calendar={matches[0]!r}" if matches else "check the time units and the date columns")))


def read_flux_netcdf(
    path,
    site: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    *,
    calendar: str | None = None,
    time_label: str | None = None,
    units: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    required: Sequence[str] = ("NEE",),
    regularise: bool = False,
    plausibility: str = "raise",
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> xr.Dataset:
    """Read a site netCDF file into the standard site dataset.

    Time is decoded with :mod:`cftime` from the raw CF ``units``/``calendar`` (so unusual origins
    such as ``days since 1582-10-14`` and julian/proleptic calendars map to true instants;
    ``noleap``/``all_leap`` labels are converted when they are real dates — a missing Feb 29 then
    shows up as a gap; ``360_day`` dates such as Feb 30 raise :class:`DataError`). When the file also
    has date columns (``TIMESTAMP_START``/``TIMESTAMP_END`` or ``Year``/``DoY``/``Hour``), the decoded
    times are checked against them, and a mismatch raises :class:`DataError` naming the calendar that
    matches; a pre-1582 origin without such columns gives a :class:`CalendarWarning`.

    The interval label is taken from ``time_bounds``/``bounds`` (upper bound = end) when present, else
    from ``time_label`` ("end", "start", "middle"; argument, then the file's global attribute
    ``time_label``, default "end"). Variables are found by standard or common alias names
    (:data:`NC_ALIASES`, e.g. Tair, Rg, Ustar; ``variables={"NEE": "my_nee"}`` adds a name) and
    converted to the standard units with :func:`landcarbon.units.convert`. Unit spellings are
    normalised (``umol_m-2_s-1``, ``umolCO2 m-2 s-1``, ``µmol m-2 s-1`` ...); ``units={"NEE": "umol m-2
    s-1"}`` overrides the file's attribute when it is wrong or missing; a variable without units and
    without an override raises :class:`UnitsError`. Site metadata come from the arguments, else from
    the file's global attributes or scalar variables under any usual spelling (``site``/``Site_ID``,
    ``lat``/``Latitude``/``latitude``, ``lon``/``Longitude``, ``utc_offset_hours``/``TimeZone``;
    :func:`~landcarbon.flux.io._common.site_metadata`). Missing-value codes: ``-9999`` and the
    variables' ``_FillValue``; implausible values (1e30, inf) are refused or masked (``plausibility``).
    """
    path = Path(path)
    where = str(path)
    try:
        raw = xr.open_dataset(path, decode_times=False)
    except FileNotFoundError:
        raise DataError(located("file not found", where=where, fix="check the path")) from None
    except Exception as e:  # corrupt / not netCDF / empty
        raise DataError(located(f"cannot open as netCDF: {e}", where=where,
                                fix="check the file is a complete netCDF file")) from None
    with raw:
        tname = next((n for n in ("time", "TIME", "Time", "t") if n in raw.variables), None)
        if tname is None:
            raise DataError(located("no time coordinate", where=where, fix="name it 'time'"))
        tv = raw[tname]
        if tv.size < 2:
            raise DataError(located(f"time axis has {tv.size} record(s)", where=f"{where}: {tname}",
                                    fix="the file is empty or truncated"))
        tunits = tv.attrs.get("units")
        if not tunits or " since " not in str(tunits):
            raise DataError(located(f"time units {tunits!r} are not CF '<unit> since <date>'",
                                    where=f"{where}: {tname}", fix="set e.g. units='days since 1970-01-01'"))
        cal = (calendar or tv.attrs.get("calendar", "standard")).lower()
        t = _decode_time(tv.values, str(tunits), cal, where=f"{where}: {tname}")
        bname = tv.attrs.get("bounds")
        label = time_label or raw.attrs.get("time_label") or "end"
        if bname and bname in raw.variables:
            t = _decode_time(raw[bname].values[:, 1], str(tunits), cal, where=f"{where}: {bname}")
            label = "end"
        if label not in ("end", "start", "middle"):
            raise ConfigError(located(f"time_label {label!r} unknown", fix="use 'end', 'start' or 'middle'"))
        shift_td = np.timedelta64(0, "s")
        if label != "end":
            d = np.diff(t).astype("timedelta64[s]").astype(np.int64)
            step = int(np.median(d)) if len(d) else 1800
            shift_td = np.timedelta64(step if label == "start" else step // 2, "s")
            t = t + shift_td
        cal_check = _check_calendar(raw, tname, tunits, cal, t, shift_td, explicit=calendar is not None, where=where)
        data = {}
        aliases = {k: ((variables or {}).get(k),) + v if (variables or {}).get(k) else v for k, v in NC_ALIASES.items()}
        for std, names in aliases.items():
            name = next((a for a in names if a and a in raw.data_vars), None)
            if name is None:
                continue
            da = raw[name]
            if da.dims != (tname,):
                da = da.squeeze(drop=True)
                if da.dims != (tname,):
                    raise DataError(located(f"variable {name} has dims {da.dims}, expected ({tname},)",
                                            where=f"{where}: {name}", fix="select one site/level"))
            u = (units or {}).get(std, da.attrs.get("units"))
            if u is None:
                raise UnitsError(located(f"variable {name} has no units attribute", where=f"{where}: {name}",
                                         fix=f"pass units={{{std!r}: {STANDARD_UNITS[std]!r}}} (the standard unit) "
                                             "if that is what the file holds"))
            v = np.array(da.values, dtype=float, copy=True)
            v[np.isclose(v, MISSING_VALUE)] = np.nan
            if std == "SWC" and normalise_unit(u) in ("m3 m-3", "1", "m3/m3"):
                v = v * 100.0
                u = "%"
            v = np.asarray(convert(v, u, STANDARD_UNITS[std], where=f"{where}: {name}"), dtype=float)
            data[std] = v
            for qn in (f"{name}_QC", f"{name}_qc", f"{std}_QC"):
                if qn in raw.data_vars:
                    data[f"{std}_QC"] = np.asarray(raw[qn].values, dtype=float)
                    break
        missing = [r for r in required if r not in data]
        if missing:
            raise DataError(located(f"missing required variable(s) {missing}", where=where,
                                    fix="add them (names: " + ", ".join(NC_ALIASES[m][0] for m in missing)
                                        + "), or map yours with variables={...}"))
        scalars = {n: raw[n].values for n in raw.variables if raw[n].ndim == 0}
        meta = site_metadata(raw.attrs, scalars, site=site, lat=lat, lon=lon, utc_offset_hours=utc_offset_hours)
    full, step, index = check_time_axis(t, where=where, regularise=regularise)
    ds = make_site_dataset(full, data, site=meta["site"] or "unknown", lat=meta["lat"], lon=meta["lon"],
                           utc_offset_hours=meta["utc_offset_hours"], timestep_seconds=step, where=where,
                           index=index, extra_attrs={"file_format": "netCDF", "time_units_in_file": str(tunits),
                                                     "calendar_in_file": str(cal), "calendar_check": cal_check})
    return finish_loaded(ds, where=where, required=required, plausibility=plausibility, ranges=ranges)
