"""Loaders of the global land-sink data, and the builders/loaders of their shipped extracts.

One format per module (as pvlib's ``iotools``); every public name is importable from here:

* :mod:`~landcarbon.globalsink.io.gcb` — Global Carbon Budget workbooks;
* :mod:`~landcarbon.globalsink.io.cdiac` — CDIAC national fossil-fuel emissions;
* :mod:`~landcarbon.globalsink.io.noaa` — NOAA GML annual, growth-rate and monthly CO2, Scripps daily CO2;
* :mod:`~landcarbon.globalsink.io.flask` — NOAA CCGG flask monthly means;
* :mod:`~landcarbon.globalsink.io.oni` — the Oceanic Niño Index;
* :mod:`~landcarbon.globalsink.io.extract` — the deterministic CSV extracts shipped with the package;
* :mod:`~landcarbon.globalsink.io._common` — plausibility ranges and the helpers the readers share.

Every reader checks what it reads and fails with a :class:`~landcarbon.errors.DataError` (or
:class:`~landcarbon.errors.UnitsError`) that names the file, the line/cell and the fix:

* **Global Carbon Budget workbooks** (:func:`read_gcb_workbook`; GCB 2025 v1.0 and 2023 v1.1): read with
  openpyxl; the sheet and its header row are located by *content* (the row holding "Year" and the budget
  terms; the sheet whose notes state the 1σ uncertainties), never by fixed offsets; the unit label above
  the header must say GtC/yr (= PgC yr⁻¹); the stated uncertainties are parsed from the notes.
* **CDIAC national fossil-fuel CO2** (:func:`read_cdiac_national`; Boden, Marland & Andres): thousand
  tonnes of carbon, converted to PgC yr⁻¹ through :mod:`landcarbon.units`.
* **NOAA GML CO2** (Lan, Tans & Thoning): annual means and the global growth rate
  (:func:`read_noaa_annual`, :func:`read_noaa_growth_rate`), the monthly files whose rows have more
  fields than the header has names (:func:`read_noaa_monthly`, read *by position*; any other field count is
  an error), flask monthly means with a commented header (:func:`read_noaa_flask_monthly`), and the Scripps
  Mauna Loa daily record (:func:`read_scripps_daily`; Keeling et al. 2001).
* **Oceanic Niño Index** (:func:`read_oni`).

None of these files states the units of its numbers except the GCB workbooks; the loaders therefore check
physical plausibility ranges (:data:`PLAUSIBLE`; CO2 from :mod:`landcarbon.data.plausibility`) and say which unit a value
outside them suggests (ppb instead of ppm, kelvin instead of °C, CO2 instead of carbon).

Extracts: the report needs only a few small tables. The builders (``build_gcb_extract``,
``build_noaa_growth_extract``, ``build_noaa_annual_extract``, ``build_oni_extract``; all through
:func:`write_extract_csv`) write them as deterministic CSV (variables and attributes in ``#`` comment lines as sorted JSON, numbers
as Python ``repr`` so that every float round-trips exactly) into ``lib/landcarbon/data/embedded/globalsink/``;
:func:`read_extract_csv` reads them back into the very Dataset the raw loader returns.
"""
from __future__ import annotations

from ._common import EXTRACT_SUBDIR, PLAUSIBLE  # noqa: F401 (EXTRACT_SUBDIR: the old module-level name)
from .cdiac import read_cdiac_national
from .extract import read_extract_csv, write_extract_csv
from .flask import read_noaa_flask_monthly
from .gcb import GCB_OPTIONAL, GCB_TERMS, build_gcb_extract, read_gcb_extract, read_gcb_workbook  # noqa: F401
from .noaa import (NOAA_MONTHLY_LAYOUTS, build_noaa_annual_extract, build_noaa_growth_extract, read_noaa_annual,
                   read_noaa_growth_rate, read_noaa_monthly, read_scripps_daily)
from .oni import build_oni_extract, read_oni

__all__ = [
    "read_gcb_workbook", "read_gcb_extract", "read_cdiac_national", "read_noaa_annual", "read_noaa_growth_rate",
    "read_noaa_monthly", "read_scripps_daily", "read_noaa_flask_monthly", "read_oni", "read_extract_csv", "write_extract_csv",
    "build_gcb_extract", "build_noaa_annual_extract", "build_noaa_growth_extract", "build_oni_extract",
    "GCB_TERMS", "NOAA_MONTHLY_LAYOUTS", "PLAUSIBLE",
]
