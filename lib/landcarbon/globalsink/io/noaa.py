"""NOAA GML and Scripps CO2 records (Lan, Tans & Thoning; Keeling et al. 2001): annual means
(:func:`read_noaa_annual`), the global growth rate (:func:`read_noaa_growth_rate`), the monthly files
whose rows have more fields than the header has names (:func:`read_noaa_monthly`, read *by position*;
any other field count is an error), the Scripps Mauna Loa daily record (:func:`read_scripps_daily`),
and the builders of the annual and growth-rate extracts.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ...errors import DataError, located
from ._common import (_CO2_ATTRS, PLAUSIBLE, _check_range, _co2_check, _consecutive, _fix_layout, _int, _month_index,
                      _month_starts, _num, _one_path, _read_csv)
from .extract import _build


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


def build_noaa_annual_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of a NOAA annual-mean CO2 file (same numbers, canonical CSV)."""
    return _build(raw_paths, out_dir, read_noaa_annual, ".csv", "read_noaa_annual of")


def build_noaa_growth_extract(raw_paths, out_dir) -> list[Path]:
    """Extract of the NOAA global growth-rate file (same numbers, canonical CSV)."""
    return _build(raw_paths, out_dir, read_noaa_growth_rate, ".csv", "read_noaa_growth_rate of")
