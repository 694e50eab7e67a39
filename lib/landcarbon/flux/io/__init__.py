"""Loaders of eddy-covariance site files into the standard site dataset of landcarbon.

One format per module (as pvlib's ``iotools``); every public name is importable from here:

* :mod:`~landcarbon.flux.io.reddyproc` — REddyProc text input (:func:`read_reddyproc_text`, e.g.
  ``Example_DETha98.txt``) and REddyProc outputs (:func:`read_reddyproc_reference`);
* :mod:`~landcarbon.flux.io.fluxnet2015` — FLUXNET2015 FULLSET HH/HR CSV (:func:`read_fluxnet2015`);
* :mod:`~landcarbon.flux.io.netcdf` — site netCDF with CF time, any calendar (:func:`read_flux_netcdf`);
* :mod:`~landcarbon.flux.io.fluxnet2015_hh` — the per-site FLUXNET2015 half-hourly netCDF files of
  the 40 towers and their embedded extract (:func:`read_fluxnet2015_hh_netcdf`);
* :mod:`~landcarbon.flux.io._common` — the standard site dataset (:func:`make_site_dataset`,
  :func:`validate_site_dataset`), time-axis checks (:func:`check_time_axis`), site metadata and the
  plausibility checks shared by the loaders.

The standard site dataset and the error behaviour are described in :mod:`landcarbon.flux.io._common`.
"""
from __future__ import annotations

from ._common import (MISSING_VALUE, SITE_ATTRIBUTE_ALIASES, STANDARD_UNITS, check_time_axis, finish_loaded,
                      make_site_dataset, site_metadata, validate_site_dataset)
from .fluxnet2015 import FLUXNET_DRIVERS, read_fluxnet2015
from .fluxnet2015_hh import (EXTRACT_SITE_YEARS, build_fluxnet2015_hh_extract, estimate_utc_offset,
                             fluxnet_site_years, read_fluxnet2015_hh_extract, read_fluxnet2015_hh_netcdf)
from .netcdf import NC_ALIASES, CalendarWarning, read_flux_netcdf
from .reddyproc import REDDYPROC_COLUMNS, read_reddyproc_reference, read_reddyproc_text

__all__ = [
    "STANDARD_UNITS", "MISSING_VALUE", "SITE_ATTRIBUTE_ALIASES", "REDDYPROC_COLUMNS", "FLUXNET_DRIVERS",
    "NC_ALIASES", "EXTRACT_SITE_YEARS", "CalendarWarning",
    "read_reddyproc_text", "read_reddyproc_reference", "read_fluxnet2015", "read_flux_netcdf",
    "read_fluxnet2015_hh_netcdf", "read_fluxnet2015_hh_extract", "build_fluxnet2015_hh_extract",
    "fluxnet_site_years", "estimate_utc_offset",
    "validate_site_dataset", "make_site_dataset", "check_time_axis", "site_metadata", "finish_loaded",
]
