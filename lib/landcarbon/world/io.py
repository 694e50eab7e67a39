"""Loaders of monthly gridded climate (CRU TS 4.0x, ERA5 monthly means) and FLUXNET2015 monthly
site files into the standard landcarbon forms.

Standard monthly gridded driver Dataset
    dims (time, lat, lon); time = first day of each month (``attrs['time_label'] = 'month start'``);
    lat ascending (south to north), lon -180..180 (cell centres, degrees); float32 variables with
    ``units``: TA, TMIN, TMAX, DTR [degC], P [mm month-1], PET [mm d-1], VAP, VPD [hPa], RH [%],
    SW_IN [W m-2], SWC [m3 m-3], WET, FRS [days], CLD [%]; ``area`` [m2]; NaN over ocean.

Standard site table (monthly)
    dims (site, time); RECO_NT, RECO_DT, GPP_NT, GPP_DT, NEE [gC m-2 d-1; NEE > 0 = release,
    NEE = RECO − GPP], NEE_QC [fraction 0-1], TA, TS [degC], SW_IN [W m-2], VPD [hPa], P [mm d-1],
    SWC [%]; coords lat, lon, PFT (IGBP), climate_zone, MAT [degC], MAP [mm yr-1].

Format notes: CRU TS (Harris et al. 2020, doi:10.1038/s41597-020-0453-3);
ERA5 monthly means (Hersbach et al. 2020, doi:10.1002/qj.3803), accumulations are per day;
FLUXNET2015 (Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3), missing value -9999.
"""
from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import xarray as xr

from ..publish.atomic import atomic_path
from ..errors import DataError, UnitsError, located
from ..units import SECONDS_PER_DAY
from .climate import climate_zone, relative_humidity, saturation_vapour_pressure, vpd_from_vapour_pressure
from .grid import grid_coords

__all__ = ["CRU_VARIABLES", "ERA5_VARIABLES", "FLUXNET_MM_COLUMNS", "read_cru_ts", "read_era5_monthly",
           "read_fluxnet_monthly", "standardise_grid", "to_resolution", "conservative_regrid", "combine_drivers",
           "open_drivers", "ERA5_PREFERRED"]

# ----------------------------------------------------------------------------------------------
# common grid handling
# ----------------------------------------------------------------------------------------------
_LAT = ("lat", "latitude", "y")
_LON = ("lon", "longitude", "x")


def _find(ds, names, what, where):
    for n in names:
        if n in ds.dims or n in ds.coords:
            return n
    raise DataError(located(f"no {what} coordinate (looked for {names})", where=where,
                            fix="the file must be a regular lat-lon grid"))


def standardise_grid(ds: xr.Dataset, where: str = "dataset") -> xr.Dataset:
    """Rename lat/lon, wrap longitudes to -180..180, sort both ascending (e.g. ERA5's 90 -> -90)."""
    la, lo = _find(ds, _LAT, "latitude", where), _find(ds, _LON, "longitude", where)
    ds = ds.rename({k: v for k, v in ((la, "lat"), (lo, "lon")) if k != v})
    lon = ds["lon"].values.astype(float)
    if np.nanmax(lon) > 180.0:
        ds = ds.assign_coords(lon=((lon + 180.0) % 360.0) - 180.0)
    ds = ds.sortby("lat").sortby("lon")
    if ds.indexes["lon"].has_duplicates:
        ds = ds.isel(lon=~ds.indexes["lon"].duplicated())
    ds["lat"].attrs.update(units="degrees_north")
    ds["lon"].attrs.update(units="degrees_east")
    return ds


def to_resolution(ds: xr.Dataset, resolution: float | None) -> xr.Dataset:
    """Put ``ds`` on the standard grid of ``resolution`` [deg].

    When the source cell centres nest in the target cells (e.g. CRU 0.5 -> 2 deg) cells are block
    averaged (NaN ignored; a target cell is land when any source cell is); when the target is coarser but
    does not nest (ERA5's 0.25-deg points, which sit on target cell edges) the fields are aggregated
    conservatively (:func:`conservative_regrid`: area-weighted means of the overlapping source cells, so
    precipitation and radiation totals are conserved); a finer or similar target is linearly interpolated
    to the cell centres.
    """
    if resolution is None:
        return ds
    tlat, tlon = grid_coords(resolution)
    lat, lon = ds["lat"].values, ds["lon"].values
    dlat = float(np.median(np.diff(lat))) if lat.size > 1 else float(resolution)
    k = resolution / dlat
    ki = int(round(k))
    aligned = abs(k - ki) < 1e-6 and ki >= 1 and lat.size == 180 / dlat and lon.size == 360 / dlat
    if aligned and np.allclose(lat[0], -90 + dlat / 2):
        if ki == 1:
            return ds
        ints = [v for v in ds.data_vars if ds[v].dtype.kind in "iu"]
        floats = ds.drop_vars(ints)
        out = floats.coarsen(lat=ki, lon=ki, boundary="exact").mean(keep_attrs=True)  # NaN skipped
        if ints:  # station counts: the largest count of the block
            out = out.merge(ds[ints].coarsen(lat=ki, lon=ki, boundary="exact").max(keep_attrs=True))
        for v in out.data_vars:
            if out[v].dtype == np.float64 and v in floats and floats[v].dtype == np.float32:
                out[v] = out[v].astype("float32")
        return out.assign_coords(lat=tlat, lon=tlon)
    dlon = float(np.median(np.diff(lon))) if lon.size > 1 else float(resolution)
    if resolution >= 1.5 * max(dlat, dlon):
        return conservative_regrid(ds, resolution)
    pad = ds.isel(lon=[-1]).assign_coords(lon=ds["lon"].values[-1:] - 360.0)
    pad2 = ds.isel(lon=[0]).assign_coords(lon=ds["lon"].values[:1] + 360.0)
    ext = xr.concat([pad, ds, pad2], dim="lon")
    return ext.interp(lat=tlat, lon=tlon, method="linear")


def _edges(centres: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Cell edges of a regular axis from its centres (clipped to [lo, hi])."""
    c = np.asarray(centres, dtype=float)
    d = float(np.median(np.diff(c))) if c.size > 1 else 1.0
    return np.clip(np.concatenate([c - d / 2, c[-1:] + d / 2]), lo, hi)


def _overlap_lat(src_edges: np.ndarray, dst_edges: np.ndarray) -> np.ndarray:
    """(n_dst, n_src) overlap of latitude bands measured in sin(latitude) (proportional to area)."""
    s0, s1 = np.sin(np.deg2rad(src_edges[:-1])), np.sin(np.deg2rad(src_edges[1:]))
    d0, d1 = np.sin(np.deg2rad(dst_edges[:-1])), np.sin(np.deg2rad(dst_edges[1:]))
    return np.clip(np.minimum(d1[:, None], s1[None, :]) - np.maximum(d0[:, None], s0[None, :]), 0.0, None)


def _overlap_lon(src_edges: np.ndarray, dst_edges: np.ndarray) -> np.ndarray:
    """(n_dst, n_src) overlap of longitude intervals [deg], periodic in 360 degrees."""
    out = np.zeros((dst_edges.size - 1, src_edges.size - 1))
    for shift in (-360.0, 0.0, 360.0):
        s0, s1 = src_edges[:-1] + shift, src_edges[1:] + shift
        out += np.clip(np.minimum(dst_edges[1:, None], s1[None, :]) - np.maximum(dst_edges[:-1, None], s0[None, :]),
                       0.0, None)
    return out


def conservative_regrid(ds: xr.Dataset, resolution: float) -> xr.Dataset:
    """First-order conservative aggregation of a regular lat-lon grid onto the standard grid of
    ``resolution`` [deg] (e.g. ERA5 0.25° → 2°).

    Each target value is the area-weighted mean of the source cells it overlaps, with weights = overlap
    area on the sphere (overlap in sin(latitude) × overlap in longitude; Jones 1999,
    doi:10.1175/1520-0493(1999)127<2204:FOSOCR>2.0.CO;2). Missing source values (NaN, e.g. ocean) drop out
    of numerator and denominator, so a target value is the mean over its valid area; it is NaN when no
    source cell is valid. Area integrals of fluxes (precipitation, radiation) are therefore conserved over
    fully covered cells, which bilinear point samples of a 0.25° field at 2° cell centres are not.
    Source cells are centred on the source coordinates (ERA5 points at 0.25° steps: cells of ±0.125°).
    """
    tlat, tlon = grid_coords(resolution)
    lat_e = _edges(ds["lat"].values, -90.0, 90.0)
    lon = ds["lon"].values.astype(float)
    lon_e = _edges(lon, -1e9, 1e9)
    tlat_e = _edges(tlat, -90.0, 90.0)
    tlon_e = _edges(tlon, -1e9, 1e9)
    A = _overlap_lat(lat_e, tlat_e)                       # (nlat_t, nlat_s)
    B = _overlap_lon(lon_e, tlon_e)                       # (nlon_t, nlon_s)

    def regrid(x):
        valid = np.isfinite(x)
        num = np.einsum("ij,...jk,lk->...il", A, np.where(valid, x, 0.0), B, optimize=True)
        den = np.einsum("ij,...jk,lk->...il", A, valid.astype(float), B, optimize=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    out = {}
    for v in ds.data_vars:
        da = ds[v]
        if not {"lat", "lon"} <= set(da.dims) or da.dtype.kind not in "fiu":
            continue
        r = xr.apply_ufunc(regrid, da.astype("float64"), input_core_dims=[["lat", "lon"]],
                           output_core_dims=[["lat_t", "lon_t"]], dask="parallelized", output_dtypes=[np.float64],
                           dask_gufunc_kwargs={"output_sizes": {"lat_t": tlat.size, "lon_t": tlon.size}})
        r = r.rename(lat_t="lat", lon_t="lon").assign_coords(lat=tlat, lon=tlon)
        out[v] = r.astype(da.dtype if da.dtype.kind == "f" else "float32").assign_attrs(
            {**da.attrs, "regridding": f"first-order conservative to {resolution} deg"})
    res = xr.Dataset(out)
    res.attrs.update(ds.attrs)
    return res


def _month_start(ds: xr.Dataset, where: str) -> xr.Dataset:
    t = ds.indexes["time"]
    try:
        ms = pd.DatetimeIndex(t).to_period("M").to_timestamp()
    except (TypeError, ValueError) as exc:
        raise DataError(located(f"time axis cannot be read as dates ({exc})", where=where,
                                fix="the time variable needs CF units such as 'days since 1900-1-1'")) from exc
    if ms.has_duplicates:
        dup = ms[ms.duplicated()][0]
        raise DataError(located(f"two time steps fall in the same month ({dup:%Y-%m})", where=where,
                                fix="the file must hold monthly data; remove duplicates"))
    ds = ds.assign_coords(time=ms)
    ds.attrs["time_label"] = "month start"
    return ds


def _select_years(ds: xr.Dataset, years, where: str) -> xr.Dataset:
    if years is None:
        return ds
    y0, y1 = int(years[0]), int(years[1])
    out = ds.sel(time=slice(f"{y0}-01-01", f"{y1}-12-31"))
    if out.sizes["time"] == 0:
        t = ds.indexes["time"]
        raise DataError(located(f"no data in {y0}-{y1}", where=f"{where} (covers {t[0]:%Y-%m}..{t[-1]:%Y-%m})",
                                fix="choose years inside the file's period"))
    return out


def _units_key(u: str | None) -> str:
    return " ".join(str(u or "").replace("**", "").replace("^", "").strip().lower().split())


def _add_derived(ds: xr.Dataset) -> xr.Dataset:
    """VPD and RH from TA and VAP when missing (Magnus e_s; VPD clipped at 0)."""
    if "TA" in ds and "VAP" in ds:
        if "VPD" not in ds:
            ds["VPD"] = vpd_from_vapour_pressure(ds["TA"], ds["VAP"]).astype("float32").assign_attrs(
                units="hPa", long_name="vapour-pressure deficit (from TA and VAP)")
        if "RH" not in ds:
            ds["RH"] = relative_humidity(ds["TA"], ds["VAP"]).astype("float32").assign_attrs(
                units="%", long_name="relative humidity (from TA and VAP)")
    return ds


def _finish_grid(ds: xr.Dataset, resolution, title: str) -> xr.Dataset:
    ds = to_resolution(ds, resolution)
    from .grid import cell_area

    res = float(np.median(np.diff(ds["lat"].values))) if ds.sizes["lat"] > 1 else (resolution or 0.5)
    ds["area"] = cell_area(ds["lat"].values, ds["lon"].values, res)
    ds.attrs.update({"title": title, "time_label": "month start", "resolution_deg": res})
    return ds


def _open_nc(path: Path, where: str, **kw) -> xr.Dataset:
    try:
        ds = xr.open_dataset(path, **kw)
    except Exception as exc:  # netCDF4/h5netcdf raise many types for corrupt files
        raise DataError(located(f"cannot open as netCDF ({type(exc).__name__}: {exc})", where=where,
                                fix="the file is corrupt or truncated; download it again")) from exc
    if not ds.data_vars and not ds.sizes:
        raise DataError(located("cannot open as netCDF: the file holds no dimensions or variables", where=where,
                                fix="the file is corrupt or truncated; download it again"))
    return ds


# ----------------------------------------------------------------------------------------------
# CRU TS
# ----------------------------------------------------------------------------------------------
#: CRU TS code -> (standard name, accepted unit spellings (normalised), standard units).
CRU_VARIABLES = {
    "tmp": ("TA", ("degrees celsius", "degc", "deg c", "celsius"), "degC"),
    "tmn": ("TMIN", ("degrees celsius", "degc", "deg c", "celsius"), "degC"),
    "tmx": ("TMAX", ("degrees celsius", "degc", "deg c", "celsius"), "degC"),
    "dtr": ("DTR", ("degrees celsius", "degc", "deg c", "celsius"), "degC"),
    "pre": ("P", ("mm/month", "mm month-1", "mm per month"), "mm month-1"),
    "pet": ("PET", ("mm/day", "mm d-1", "mm day-1", "mm per day"), "mm d-1"),
    "vap": ("VAP", ("hpa", "hectopascals"), "hPa"),
    "wet": ("WET", ("days",), "days"),
    "frs": ("FRS", ("days",), "days"),
    "cld": ("CLD", ("percentage", "%", "percent"), "%"),
}
_CRU_NAME = re.compile(r"cru_ts(?P<ver>\d+\.\d+)\.(?P<y0>\d{4})\.(?P<y1>\d{4})\.(?P<var>[a-z]{3})\.dat\.nc(?P<gz>\.gz)?$")


def _gunzip_cached(path: Path) -> Path:
    """Decompress ``*.nc.gz`` once into the landcarbon cache (keyed by name, size and mtime)."""
    from ..publish.paths import download_cache

    st = path.stat()
    target = download_cache() / "gunzip" / f"{path.name[:-3]}.{st.st_size}.{int(st.st_mtime)}.nc"
    if target.is_file():
        return target
    try:
        with atomic_path(target, suffix=".nc") as tmp:
            with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, length=1 << 20)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(located(f"cannot decompress ({exc})", where=str(path),
                                fix="the .gz file is corrupt or truncated; download it again")) from exc
    return target


def read_cru_ts(paths: Iterable[Path | str], *, years=None, resolution: float | None = None, variables=None,
                mask_no_station: bool = False, chunks: dict | None = None, **ignored) -> xr.Dataset:
    """Read CRU TS 4.0x monthly files (``cru_ts4.04.1901.2019.<var>.dat.nc`` or ``.nc.gz``).

    Parameters
    ----------
    paths : list of path
        One file per variable (tmp, tmn, tmx, dtr, pre, pet, vap, wet, frs, cld); gzip files are
        decompressed once into the landcarbon cache (``LANDCARBON_CACHE``; about 1.5-3 GB of disk per
        full 1901-2019 variable) and opened lazily, so memory stays at one chunk per variable.
    years : (int, int), optional
        Inclusive year range to keep.
    resolution : float, optional
        Target grid [deg]; 0.5 (native) or a multiple (block mean).
    variables : sequence of str, optional
        CRU codes to read (default: all given).
    mask_no_station : bool
        Set values with ``stn == 0`` (pure climatology, no station within the correlation
        distance) to NaN.
    chunks : dict, optional
        Dask chunks (default one year of months).
    **ignored
        Demo-only arguments (``seed``, ``n_sites``...) accepted so one call works for both sources.

    Returns
    -------
    xarray.Dataset
        Standard monthly gridded drivers (see module docstring) with the station counts as
        ``<NAME>_stn`` (int16, -1 = missing) and derived VPD [hPa], RH [%] when tmp and vap are read.
        Fill values (9.96921e36) become NaN; PET stays in mm d-1 (× days in month for a monthly total).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError(located("no CRU TS file given", where="read_cru_ts", fix="pass cru_ts4.0x.*.dat.nc(.gz) files"))
    chunks = chunks or {"time": 12}
    parts = []
    for p in sorted(paths):
        m = _CRU_NAME.search(p.name)
        if not m:
            raise DataError(located("file name does not look like a CRU TS file", where=str(p),
                                    fix="expected cru_ts4.0x.YYYY.YYYY.<var>.dat.nc or .nc.gz"))
        code = m["var"]
        if code not in CRU_VARIABLES:
            raise DataError(located(f"unknown CRU TS variable {code!r}", where=str(p),
                                    fix=f"use one of {sorted(CRU_VARIABLES)}"))
        if variables is not None and code not in variables:
            continue
        if not p.is_file():
            raise DataError(located("file not found", where=str(p)))
        nc = _gunzip_cached(p) if m["gz"] else p
        where = f"{p.name}"
        ds = _open_nc(nc, where, decode_timedelta=False, chunks=chunks)
        if code not in ds:
            raise DataError(located(f"variable {code!r} missing (has {sorted(ds.data_vars)})", where=where,
                                    fix="the file name and content disagree; check the download"))
        name, accepted, units = CRU_VARIABLES[code]
        u = _units_key(ds[code].attrs.get("units"))
        if u not in accepted:
            raise UnitsError(located(f"variable {code!r} has units {ds[code].attrs.get('units')!r}, expected {units!r}",
                                     where=f"{where}, variable {code}",
                                     fix="use the original CRU TS file or convert the variable first"))
        ds = standardise_grid(ds, where)
        if "time" not in ds.dims:
            raise DataError(located("no time dimension", where=where))
        ds = _month_start(ds, where)
        ds = _select_years(ds, years, where)
        da = ds[code].astype("float32")
        da = da.where(np.abs(da) < 1e30)  # fill value even when the attribute is missing
        out = {name: da.assign_attrs(units=units, long_name=ds[code].attrs.get("long_name", name),
                                     source_variable=f"CRU TS {m['ver']} {code}")}
        if "stn" in ds:
            stn = ds["stn"]
            stn = stn.where(np.isfinite(stn) & (stn >= 0), -1).astype("int16")
            out[f"{name}_stn"] = stn.assign_attrs(units="1", long_name=f"number of stations influencing {name}",
                                                  missing_value=-1)
            if mask_no_station:
                out[name] = out[name].where(stn != 0)
        parts.append(xr.Dataset(out, attrs={}))
    if not parts:
        raise DataError(located(f"none of the requested variables {variables} among the files", where="read_cru_ts"))
    try:
        merged = xr.merge(parts, join="outer", compat="override", combine_attrs="override")
    except ValueError as exc:
        raise DataError(located(f"CRU files do not share one grid/time axis ({exc})", where="read_cru_ts",
                                fix="use files of the same CRU TS version")) from exc
    merged = _add_derived(merged)
    return _finish_grid(merged, resolution, "CRU TS monthly climate")


# ----------------------------------------------------------------------------------------------
# ERA5 monthly means
# ----------------------------------------------------------------------------------------------
#: ERA5 short name -> (standard name, accepted units (normalised), kind).
ERA5_VARIABLES = {
    "t2m": ("TA", ("k",), "kelvin"),
    "d2m": ("TD", ("k",), "kelvin"),
    "mx2t": ("TMAX", ("k",), "kelvin"),
    "mn2t": ("TMIN", ("k",), "kelvin"),
    "swvl1": ("SWC", ("m3 m-3", "m3/m3", "m3 m-3 "), "volumetric"),
    "ssrd": ("SW_IN", ("j m-2",), "daily_energy"),
    "tp": ("P", ("m",), "daily_depth"),
}


def _collapse_expver(ds: xr.Dataset) -> xr.Dataset:
    """Old CDS files with ERA5 + ERA5T carry an ``expver`` dimension: take ERA5 (expver 1) where
    present, else the preliminary ERA5T value (e.g. expver 5)."""
    if "expver" not in ds.dims:
        return ds.drop_vars([c for c in ("expver", "number") if c in ds.coords], errors="ignore")
    order = sorted(ds["expver"].values, key=lambda v: int(str(v).strip() or 0))
    out = ds.sel(expver=order[0], drop=True)
    for e in order[1:]:
        out = out.combine_first(ds.sel(expver=e, drop=True))
    return out


def read_era5_monthly(paths: Iterable[Path | str], *, years=None, resolution: float | None = None,
                      chunks: dict | None = None, **ignored) -> xr.Dataset:
    """Read ERA5 (or ERA5-Land) monthly-averaged reanalysis netCDF files from the CDS.

    Accepts the new CDS layout (time dimension ``valid_time``, coordinates ``number``/``expver``,
    unpacked float32) and the old one (``time``, int16 packed with ``scale_factor``/``add_offset``,
    optional ``expver`` dimension for ERA5T months). Latitudes north-to-south and longitudes 0..360
    are put on the standard grid.

    Conversions (monthly means of daily accumulations, ECMWF "ERA5: how to calculate accumulated
    variables"): t2m, d2m, mx2t, mn2t K -> degC; ssrd J m-2 (per day) / 86400 -> W m-2; tp m (per
    day) × 1000 × days in month -> mm month-1; swvl1 m3 m-3 kept. From d2m: VAP = e_s(Td) [hPa],
    VPD = e_s(T) − e_s(Td) [hPa] (>= 0), RH = 100 e_s(Td)/e_s(T) [%].

    Returns
    -------
    xarray.Dataset
        Standard monthly gridded drivers (see module docstring).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError(located("no ERA5 file given", where="read_era5_monthly"))
    chunks = chunks or {}
    parts = []
    for p in sorted(paths):
        where = p.name
        if not p.is_file():
            raise DataError(located("file not found", where=str(p)))
        ds = _open_nc(p, where, chunks=chunks or None)
        if "valid_time" in ds.dims or "valid_time" in ds.coords:
            if "time" in ds.coords and "time" not in ds.dims:
                ds = ds.drop_vars("time")
            ds = ds.rename({"valid_time": "time"})
        if "time" not in ds.dims:
            raise DataError(located(f"no time dimension (dims {dict(ds.sizes)})", where=where,
                                    fix="expected 'valid_time' (new CDS) or 'time' (old CDS)"))
        ds = _collapse_expver(ds)
        known = [v for v in ds.data_vars if v in ERA5_VARIABLES]
        if not known:
            raise DataError(located(f"no known ERA5 variable (found {sorted(ds.data_vars)})", where=where,
                                    fix=f"request some of {sorted(ERA5_VARIABLES)}"))
        ds = standardise_grid(ds, where)
        ds = _month_start(ds, where)
        ds = _select_years(ds, years, where)
        days = ds["time"].dt.days_in_month.astype("float32")
        out = {}
        for v in known:
            name, accepted, kind = ERA5_VARIABLES[v]
            u = _units_key(ds[v].attrs.get("units"))
            if u not in accepted:
                raise UnitsError(located(f"ERA5 variable {v!r} has units {ds[v].attrs.get('units')!r}",
                                         where=f"{where}, variable {v}",
                                         fix=f"expected {accepted[0]!r} as delivered by the CDS"))
            da = ds[v].astype("float32")
            if kind == "kelvin":
                da, units = da - 273.15, "degC"
            elif kind == "daily_energy":
                da, units = da / SECONDS_PER_DAY, "W m-2"
            elif kind == "daily_depth":
                da, units = da * 1000.0 * days, "mm month-1"
            else:
                units = "m3 m-3"
            out[name] = da.astype("float32").assign_attrs(units=units, source_variable=f"ERA5 {v}",
                                                          long_name=ds[v].attrs.get("long_name", name))
        parts.append(xr.Dataset(out))
    try:
        merged = xr.merge(parts, join="outer", combine_attrs="override")
    except (ValueError, xr.MergeError) as exc:
        raise DataError(located(f"ERA5 files overlap inconsistently ({exc})", where="read_era5_monthly",
                                fix="give each variable/period once")) from exc
    if "TD" in merged and "TA" in merged:
        es_d = saturation_vapour_pressure(merged["TD"])
        merged["VAP"] = es_d.astype("float32").assign_attrs(units="hPa", long_name="vapour pressure (from d2m)")
        merged["VPD"] = (saturation_vapour_pressure(merged["TA"]) - es_d).clip(min=0).astype("float32").assign_attrs(
            units="hPa", long_name="vapour-pressure deficit (from t2m, d2m)")
        merged["RH"] = relative_humidity(merged["TA"], es_d).astype("float32").assign_attrs(
            units="%", long_name="relative humidity (from t2m, d2m)")
    if "TMAX" in merged and "TMIN" in merged and "DTR" not in merged:
        merged["DTR"] = (merged["TMAX"] - merged["TMIN"]).assign_attrs(units="degC")
    return _finish_grid(merged, resolution, "ERA5 monthly means")


# ----------------------------------------------------------------------------------------------
# FLUXNET2015 monthly: see landcarbon.world.fluxnet (re-exported here)
# ----------------------------------------------------------------------------------------------
from .fluxnet import FLUXNET_MM_COLUMNS, read_fluxnet_monthly  # noqa: E402,F401


# ----------------------------------------------------------------------------------------------
# combining products
# ----------------------------------------------------------------------------------------------
#: Variables Li et al. take from ERA5 rather than CRU TS (relative humidity, radiation, soil moisture).
ERA5_PREFERRED = ("RH", "SW_IN", "SWC")


def combine_drivers(cru: xr.Dataset, era5: xr.Dataset, variables=ERA5_PREFERRED) -> xr.Dataset:
    """CRU TS drivers with ``variables`` taken from ERA5 (as Li et al. do), on the CRU grid.

    ERA5 is put on the CRU grid with :func:`to_resolution` (conservative aggregation of the 0.25-deg
    ERA5 grid) and masked to CRU land; months common to both are kept.
    """
    res = float(np.median(np.diff(cru["lat"].values)))
    present = [v for v in variables if v in era5]
    if not present:
        raise DataError(located(f"ERA5 provides none of {list(variables)}", where="combine_drivers",
                                fix="request 2m_dewpoint_temperature, surface_solar_radiation_downwards, "
                                    "volumetric_soil_water_layer_1 from the CDS"))
    e = to_resolution(era5[present], res)
    e = e.reindex(lat=cru["lat"].values, lon=cru["lon"].values, method="nearest", tolerance=res / 4)
    common = np.intersect1d(cru["time"].values, e["time"].values)
    if common.size == 0:
        raise DataError(located("CRU TS and ERA5 share no month", where="combine_drivers",
                                fix="download overlapping periods"))
    out = cru.sel(time=common).copy()
    land = out["TA"].notnull() if "TA" in out else True
    for v in e.data_vars:
        out[v] = e[v].sel(time=common).where(land).astype("float32").assign_attrs(e[v].attrs)
    return out


def open_drivers(source: str = "auto", *, seed: int | None = None, years=None, resolution: float | None = None,
                 use_era5: bool = True) -> xr.Dataset:
    """Monthly gridded drivers for the upscaling: CRU TS (manifest ``cru-ts-4.04``), plus RH, SW_IN and
    SWC from ERA5 (``era5-monthly``) when both are available as real data; otherwise the demo world.

    ``attrs['source']`` lists every source used ("; "-separated).
    """
    from ..data import open_dataset

    cru = open_dataset("cru-ts-4.04", source=source, seed=seed, years=years, resolution=resolution)
    if not use_era5 or not cru.attrs.get("source", "").startswith("real:"):
        return cru
    try:
        era5 = open_dataset("era5-monthly", source="real", years=years)
    except DataError:
        return cru
    out = combine_drivers(cru, era5)
    out.attrs.update(cru.attrs)
    out.attrs["source"] = f"{cru.attrs['source']}; {era5.attrs['source']}"
    return out
