"""CF-1.10 metadata for the netCDF files the compendium publishes (``results/<analysis>/*.nc``).

Inside the package, carbon units are written the way the field speaks (``gC m-2 yr-1``, ``PgC yr-1``)
and annual products are indexed by an integer ``year``. Neither is CF: UDUNITS has no "gC", and CF
wants a real time coordinate with bounds. :func:`to_cf` converts a dataset on its way out, and
:func:`from_cf` undoes it on the way back in, so the science code keeps its spelling:

* ``Conventions = "CF-1.10"``; a lowercase ``conventions`` attribute (prose) moves to ``comment``;
* units in UDUNITS spelling (:data:`UDUNITS`): the carbon moves from the unit into ``long_name``
  ("... expressed as carbon"), e.g. ``gC m-2 yr-1`` → ``g m-2 yr-1``; the package spelling is kept in
  the attribute ``landcarbon_units`` (for :func:`from_cf`);
* an integer ``year`` dimension becomes CF time: ``time`` (days since 1900-01-01, standard calendar, at
  the middle of the year) with ``bounds = "time_bnds"`` (1 January to 1 January) and ``year`` kept as
  an auxiliary coordinate;
* ``standard_name`` where the CF standard-name table has one whose canonical units the variable's
  units convert to (:data:`STANDARD_NAMES`; e.g. ``NEE`` [µmol m-2 s-1] →
  ``surface_upward_mole_flux_of_carbon_dioxide``). There is no standard name for total ecosystem
  respiration; ``ER``/``RECO`` get a ``long_name`` only;
* latitude/longitude coordinates get ``standard_name``, ``units`` and ``axis``.

References: NetCDF Climate and Forecast (CF) Metadata Conventions 1.10 (Eaton et al., 2022,
https://cfconventions.org/cf-conventions/v1.10/cf-conventions.html); UDUNITS-2 (Unidata); CF standard
name table version 93. ``tests/test_cf_outputs.py`` runs the IOOS compliance checker's CF-1.10 suite on every
netCDF file under ``results/``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import UnitsError, located

__all__ = ["CONVENTIONS", "UDUNITS", "STANDARD_NAMES", "cf_units", "to_cf", "from_cf", "write_cf_netcdf"]

CONVENTIONS = "CF-1.10"

#: package spelling -> (UDUNITS spelling, quantity expressed as carbon?)
UDUNITS: dict[str, tuple[str, bool]] = {
    "gC m-2 yr-1": ("g m-2 yr-1", True),
    "gC m-2 d-1": ("g m-2 d-1", True),
    "gC m-2": ("g m-2", True),
    "kgC m-2 s-1": ("kg m-2 s-1", True),
    "PgC yr-1": ("Pg yr-1", True),
    "PgC yr-2": ("Pg yr-2", True),
    "TgC yr-1": ("Tg yr-1", True),
    "PgC": ("Pg", True),
    "µmol m-2 s-1": ("umol m-2 s-1", False),
    "umol m-2 s-1": ("umol m-2 s-1", False),
    "µmol CO2 m-2 s-1": ("umol m-2 s-1", False),
    "umol CO2 m-2 s-1": ("umol m-2 s-1", False),
    "fraction": ("1", False),
    "": ("1", False),
    "-": ("1", False),
    "deg": ("degree", False),
    "ppm": ("1e-6", False),
}

#: variable (or its prefix before "_") -> {package units: standard_name}; only pairs whose units
#: convert to the standard name's canonical units (checked by tests/test_cf_outputs.py with cf-units)
STANDARD_NAMES: dict[str, dict[str, str]] = {
    "NEE": {u: "surface_upward_mole_flux_of_carbon_dioxide" for u in ("umol m-2 s-1", "µmol m-2 s-1")},
    "GPP": {u: "gross_primary_productivity_of_biomass_expressed_as_carbon"
            for u in ("gC m-2 yr-1", "gC m-2 d-1", "kgC m-2 s-1")},
    "NEP": {u: "net_ecosystem_production_expressed_as_carbon_per_unit_area"
            for u in ("gC m-2 yr-1", "gC m-2 d-1", "kgC m-2 s-1")},
    "TA": {"degC": "air_temperature", "K": "air_temperature"},
    "TS": {"degC": "soil_temperature", "K": "soil_temperature"},
    "SW": {"W m-2": "surface_downwelling_shortwave_flux_in_air"},  # SW_IN
    "VPD": {"hPa": "water_vapor_saturation_deficit_in_air", "Pa": "water_vapor_saturation_deficit_in_air",
            "kPa": "water_vapor_saturation_deficit_in_air"},
    "RH": {"%": "relative_humidity", "1": "relative_humidity"},
    "P": {u: "lwe_precipitation_rate" for u in ("mm d-1", "mm yr-1", "mm day-1", "m s-1")},
    "SWC": {"m3 m-3": "volume_fraction_of_condensed_water_in_soil"},
    "area": {"m2": "cell_area"},
}

_LAT = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y", "long_name": "latitude"}
_LON = {"standard_name": "longitude", "units": "degrees_east", "axis": "X", "long_name": "longitude"}
_TIME_UNITS = "days since 1900-01-01 00:00:00"


def cf_units(units: str) -> tuple[str, bool]:
    """UDUNITS spelling of a package unit string and whether it was "expressed as carbon"."""
    u = " ".join(str(units).split())
    if u in UDUNITS:
        return UDUNITS[u]
    m = re.match(r"^([PTGkm]?g)C(?=\s|$)", u)  # PgC, TgC, kgC, gC, mgC ... -> Pg, Tg, kg, g, mg
    if m:
        return m.group(1) + u[m.end():], True
    return u, False


def _days_since_1900(years: np.ndarray, month: int = 1, day: int = 1) -> np.ndarray:
    dates = np.array([np.datetime64(f"{int(y):04d}-{month:02d}-{day:02d}") for y in years])
    return (dates - np.datetime64("1900-01-01")).astype("timedelta64[D]").astype("float64")


def _standard_name(name: str, units: str) -> str | None:
    for key in (name, name.split("_")[0]):
        table = STANDARD_NAMES.get(key)
        if table and units in table:
            return table[units]
    return None


def to_cf(ds: xr.Dataset, *, title: str | None = None, summary: str | None = None,
          standard_names: Mapping[str, str] | None = None, year_dim: str = "year") -> xr.Dataset:
    """A CF-1.10 copy of ``ds`` (see the module docstring); the data values are not changed.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset in the package's conventions (``units`` attributes, optional integer ``year``).
    title, summary : str, optional
        Global ``title`` and ``summary`` (``title`` defaults to the dataset's own).
    standard_names : mapping, optional
        ``{variable: standard_name}`` added to (and overriding) the built-in table.
    year_dim : str
        Name of an integer-year dimension to turn into CF time with bounds (ignored when absent).
    """
    out = ds.copy()
    attrs = dict(out.attrs)
    prose = attrs.pop("conventions", None)
    if prose:
        attrs["comment"] = (str(attrs.get("comment", "")) + "; " if attrs.get("comment") else "") + f"layout: {prose}"
    attrs["Conventions"] = CONVENTIONS
    if title:
        attrs["title"] = title
    attrs.setdefault("title", "landcarbon result")
    if summary:
        attrs["summary"] = summary
    attrs.setdefault("institution", "landcarbon compendium (The landcarbon compendium contributors)")
    from .. import __version__

    attrs["history"] = f"written by landcarbon {__version__} (landcarbon.publish.cf.to_cf)"
    out.attrs = attrs

    extra = dict(standard_names or {})
    for name in list(out.variables):
        v = out[name]
        a = dict(v.attrs)
        if name in ("lat", "latitude"):
            a.update(_LAT)
        elif name in ("lon", "longitude"):
            a.update(_LON)
        elif "units" in a:
            original = " ".join(str(a["units"]).split())
            udu, carbon = cf_units(original)
            if udu != original:
                a["landcarbon_units"] = original
                a["units"] = udu
            if carbon:
                ln = a.get("long_name", name)
                if "carbon" not in ln.lower():
                    a["long_name"] = f"{ln} (mass expressed as carbon)"
            sn = extra.get(name) or _standard_name(name, original)
            if sn:
                a["standard_name"] = sn
        elif name in extra:
            a["standard_name"] = extra[name]
        if "long_name" not in a and "standard_name" not in a:
            a["long_name"] = name.replace("_", " ")
        if v.dtype == bool:  # netCDF has no boolean: 0/1 flags with their meaning
            out[name] = v.astype("int8")
            a.update(flag_values=np.array([0, 1], dtype="int8"), flag_meanings="false true")
        dtype = out[name].dtype
        for key in ("flag_values", "flag_masks", "valid_min", "valid_max", "valid_range", "actual_range"):
            if key in a and dtype.kind in "iuf":  # CF 2.5.1/3.5: the variable's own data type
                a[key] = np.asarray(a[key]).astype(dtype)
        out[name].attrs = a

    # CF 4/6.1: a coordinate variable is numeric and monotonic; string labels (region codes) become an
    # auxiliary label coordinate "<dim>_label" of a dimension without coordinate variable
    labelled = [d for d in out.dims if d in out.coords and out[d].dtype.kind in "OUS"]
    for d in labelled:
        labels = out[d].values.astype(str)
        la = {"long_name": out[d].attrs.get("long_name", f"{d} label")}
        out = out.drop_vars(d).assign_coords({f"{d}_label": ((d,), labels, la)})
    if labelled:
        out.attrs["landcarbon_label_dims"] = " ".join(labelled)
    if year_dim in out.dims and np.issubdtype(out[year_dim].dtype, np.integer):
        years = out[year_dim].values
        mid = (_days_since_1900(years) + _days_since_1900(years + 1)) / 2
        bnds = np.stack([_days_since_1900(years), _days_since_1900(years + 1)], axis=1)
        out = out.rename({year_dim: "time"})
        out = out.assign_coords(time=("time", mid), year=("time", years.astype("int32")))
        out["time"].attrs = {"standard_name": "time", "long_name": "time (middle of the year)", "axis": "T",
                             "units": _TIME_UNITS, "calendar": "standard", "bounds": "time_bnds"}
        out["year"].attrs = {"long_name": "calendar year"}
        out["time_bnds"] = (("time", "nv"), bnds)
        out["time_bnds"].attrs = {"units": _TIME_UNITS, "calendar": "standard"}
        out.attrs["landcarbon_year_dim"] = year_dim
    elif "time" in out.coords and np.issubdtype(out["time"].dtype, np.datetime64):
        out["time"].attrs.update(standard_name="time", axis="T", long_name=out["time"].attrs.get("long_name", "time"))
    return out


def from_cf(ds: xr.Dataset) -> xr.Dataset:
    """Undo :func:`to_cf` for the package's readers (package units, integer ``year`` dimension).

    Files that were not written by :func:`to_cf` come back unchanged.
    """
    out = ds
    year_dim = out.attrs.get("landcarbon_year_dim")
    if year_dim and "time" in out.dims and "year" in out.coords:
        out = out.drop_vars([v for v in ("time_bnds",) if v in out.variables])
        out = out.swap_dims({"time": year_dim}) if year_dim == "year" else out.rename({"time": year_dim})
        out = out.drop_vars("time") if "time" in out.coords else out
        out = out.assign_coords({year_dim: out[year_dim].values.astype("int64")})
        out[year_dim].attrs = {}
        out.attrs = {k: v for k, v in out.attrs.items() if k != "landcarbon_year_dim"}
    for d in str(out.attrs.get("landcarbon_label_dims", "")).split():
        if f"{d}_label" in out.variables:
            attrs = {k: v for k, v in out[f"{d}_label"].attrs.items() if k != "long_name" or v != f"{d} label"}
            out = out.drop_vars(f"{d}_label").assign_coords({d: ((d,), out[f"{d}_label"].values.astype(str), attrs)})
    out.attrs = {k: v for k, v in out.attrs.items() if k != "landcarbon_label_dims"}
    for name in list(out.variables):
        a = out[name].attrs
        if "landcarbon_units" in a:
            new = dict(a)
            new["units"] = new.pop("landcarbon_units")
            out[name].attrs = new
    return out


def write_cf_netcdf(ds: xr.Dataset, path: Path | str, *, compress: bool = True, **to_cf_kwargs) -> Path:
    """Write ``to_cf(ds, **to_cf_kwargs)`` to ``path`` atomically (temporary file + rename), mode 0644.

    Float variables are zlib-compressed (level 1) when ``compress``. Raises :class:`UnitsError` when a
    variable's units are not a string.
    """
    from .atomic import atomic_path, default_file_mode

    for name, v in ds.variables.items():
        if "units" in v.attrs and not isinstance(v.attrs["units"], str):
            raise UnitsError(located(f"units of {name!r} must be a string, got {v.attrs['units']!r}",
                                     where=f"{path}:{name}"))
    cf = to_cf(ds, **to_cf_kwargs)
    enc: dict[str, dict] = {}
    if compress:
        for v in cf.data_vars:
            if cf[v].dtype.kind == "f":
                enc[v] = {"zlib": True, "complevel": 1}
    for v in [*cf.coords, "time_bnds"]:  # CF 2.5.1: coordinate (and bounds) variables carry no _FillValue
        if v in cf.variables and cf[v].dtype.kind in "fiu":
            enc.setdefault(v, {})["_FillValue"] = None
    path = Path(path)
    with atomic_path(path, suffix=".nc") as tmp:
        cf.to_netcdf(tmp, encoding=enc, engine="netcdf4")
        os.chmod(tmp, default_file_mode())
    return path
