"""CDIAC national fossil-fuel CO2 emissions (:func:`read_cdiac_national`; Boden, Marland & Andres):
thousand tonnes of carbon per nation and year, converted to PgC yr⁻¹ through :mod:`landcarbon.units`.
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ... import units
from ...errors import DataError, located
from ._common import PLAUSIBLE, _check_range, _int, _num, _one_path, _read_csv

_CDIAC_HEADER = ["Year", "Country", "Total", "Solid Fuel", "Liquid Fuel", "Gas Fuel", "Cement", "Gas Flaring",
                 "Per Capita", "Bunker fuels (Not in Total)"]
_CDIAC_VARS = {"Total": "total", "Solid Fuel": "solid_fuel", "Liquid Fuel": "liquid_fuel", "Gas Fuel": "gas_fuel",
               "Cement": "cement", "Gas Flaring": "gas_flaring", "Bunker fuels (Not in Total)": "bunker_fuels"}


def read_cdiac_national(paths) -> xr.Dataset:
    """CDIAC fossil-fuel CO2 emissions by nation (Boden, Marland & Andres), as PgC yr⁻¹.

    File ``fossil-fuel-co2-emissions-by-nation.csv`` (datasets/co2-fossil-by-nation): header
    ``Year, Country, Total, Solid Fuel, Liquid Fuel, Gas Fuel, Cement, Gas Flaring, Per Capita,
    Bunker fuels (Not in Total)``, values in thousand metric tonnes of carbon (per capita: tonnes of
    carbon per person), empty = not reported. Converted with :func:`landcarbon.units.ktC_to_PgC`.

    Checks: exact header; 10 fields per row; no duplicated (country, year); ``Total`` equals the sum of
    the fuel columns within 2 ktC + 0.1 % (a shifted column fails here); the global sum of national
    totals stays below 12 PgC yr⁻¹ in every year (a file in thousand tonnes of CO2 would reach ~34).

    Returns
    -------
    xarray.Dataset
        Dimensions (``country``, ``year``); ``total``, ``solid_fuel``, ``liquid_fuel``, ``gas_fuel``,
        ``cement``, ``gas_flaring``, ``bunker_fuels`` [PgC yr⁻¹] and ``per_capita`` [tC person⁻¹ yr⁻¹];
        NaN where a country did not report.
    """
    path = _one_path(paths, "CDIAC national emissions")
    rows = _read_csv(path, _CDIAC_HEADER, n_fields=len(_CDIAC_HEADER), what="CDIAC national emissions")
    countries = sorted({r[1].strip() for _, r in rows})
    years = sorted({_int(r[0], path=path, lineno=ln, column="Year") for ln, r in rows})
    ci = {c: i for i, c in enumerate(countries)}
    y0 = years[0]
    ny = years[-1] - y0 + 1
    arrays = {v: np.full((len(countries), ny), np.nan) for v in [*_CDIAC_VARS.values(), "per_capita"]}
    seen = set()
    for ln, r in rows:
        year = _int(r[0], path=path, lineno=ln, column="Year")
        key = (r[1].strip(), year)
        if key in seen:
            raise DataError(located(f"duplicated row for {key[0]} {year}", where=f"{path}, line {ln}",
                                    fix="restore the original file"))
        seen.add(key)
        i, j = ci[key[0]], year - y0
        vals = {}
        for col, var in _CDIAC_VARS.items():
            vals[var] = _num(r[_CDIAC_HEADER.index(col)], path=path, lineno=ln, column=col)
            arrays[var][i, j] = vals[var]
        arrays["per_capita"][i, j] = _num(r[8], path=path, lineno=ln, column="Per Capita")
        parts = sum(0.0 if math.isnan(vals[v]) else vals[v]
                    for v in ("solid_fuel", "liquid_fuel", "gas_fuel", "cement", "gas_flaring"))
        if abs(vals["total"] - parts) > 2.0 + 1e-3 * abs(vals["total"]):
            raise DataError(located(f"Total {vals['total']:g} differs from the sum of the fuel columns {parts:g}",
                                    where=f"{path}, line {ln}",
                                    fix="a column is shifted or altered; restore the original file"))
    global_total = np.nansum(arrays["total"], axis=0)
    _check_range(units.ktC_to_PgC(global_total), *PLAUSIBLE["cdiac_global_total_pgc_yr"], path=path,
                 name="global sum of national totals", unit="PgC yr-1",
                 hint="thousand tonnes of CO2 instead of carbon would look like this",
                 index_labels=list(range(y0, y0 + ny)))
    ds = xr.Dataset(coords={"country": ("country", np.array(countries, dtype=object)),
                            "year": ("year", np.arange(y0, y0 + ny, dtype=np.int64))})
    for var in _CDIAC_VARS.values():
        ds[var] = (("country", "year"), units.ktC_to_PgC(arrays[var]),
                   {"units": "PgC yr-1", "long_name": f"fossil CO2 emissions, {var.replace('_', ' ')}",
                    "source_units": "thousand metric tonnes of carbon"})
    ds["per_capita"] = (("country", "year"), arrays["per_capita"],
                        {"units": "tC person-1 yr-1", "long_name": "fossil CO2 emissions per person"})
    ds.attrs.update({"title": "CDIAC fossil-fuel CO2 emissions by nation", "file": path.name,
                     "note": "bunker fuels are not included in the national totals"})
    return ds
