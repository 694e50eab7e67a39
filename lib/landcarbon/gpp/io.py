"""Loaders for the satellite inputs a user must bring to the GPP models, and the real FLUXNET towers.

* MODIS **MOD15A2H** (Collection 6.1, 8-day, 500 m) FPAR as delivered by NASA's AppEEARS area request in
  netCDF-4 (``MOD15A2H.061_500m_aid0001.nc``): variables ``Fpar_500m`` (uint8 percent, scale 0.01,
  valid 0–100; 248–255 are fill / non-vegetated class codes), ``FparLai_QC`` (bit field; bits 5–7 =
  SCF_QC: 0 main algorithm, 1 main with saturation, 2–3 back-up algorithm, 4 not produced) on
  (time, lat, lon). The HDF-EOS tiles of the archive need an HDF4 reader, which this package does not
  depend on: order the netCDF-4 output (or convert the tiles with GDAL) instead.
  :func:`read_mod15a2h`.
* **TROPOSIF** L2B daily orbit files (ESA S5P+I SIF, Guanter et al. 2021, Earth Syst. Sci. Data 13:5423,
  doi:10.5194/essd-13-5423-2021), ``TROPOSIF_L2B_YYYY-MM-DD.nc``: group ``PRODUCT`` with per-sounding
  ``latitude``, ``longitude``, ``SIF_743`` (instantaneous, mW m⁻² sr⁻¹ nm⁻¹), ``SIF_Corr_743`` (daily
  average, the length-of-day correction applied), ``SIF_ERROR_743``, ``NIRv``, ``delta_time``; sub-group
  ``SUPPORT_DATA/INPUT_DATA`` with ``cloud_fraction_L2``. :func:`read_troposif_l2b` returns the soundings,
  :func:`grid_troposif` averages them onto a regular monthly grid.
* Real flux towers: :func:`read_fluxnet_towers` reads the FLUXNET2015 monthly files through
  :func:`landcarbon.world.io.read_fluxnet_monthly` with the site list of ``site-info/fdk_site_info.csv``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located

__all__ = ["read_mod15a2h", "read_troposif_l2b", "grid_troposif", "read_fluxnet_towers", "find_fluxnet_monthly",
           "open_mod15a2h", "open_troposif"]

_MOD15_VALID_MAX = 100
_TROPOSIF_NAME = re.compile(r"TROPOSIF_L2B_(\d{4}-\d{2}-\d{2})\.nc$")


def read_mod15a2h(paths, *, qc: str = "main", monthly: bool = True) -> xr.DataArray:
    """FPAR [1] from MOD15A2H netCDF-4 files (AppEEARS layout), optionally averaged to calendar months.

    Parameters
    ----------
    paths : path or list of paths
        netCDF-4 files with ``Fpar_500m`` and ``FparLai_QC`` on (time, lat, lon).
    qc : {"main", "any"}
        "main" keeps retrievals of the main radiative-transfer algorithm (SCF_QC 0 or 1); "any" keeps
        every valid value.
    monthly : bool
        Average the 8-day composites to months (stamped at the month start; time = composite start day).

    Returns
    -------
    xarray.DataArray ``FPAR`` (time, lat, lon), lat ascending, NaN where fill, non-vegetated or rejected.
    """
    if qc not in ("main", "any"):
        raise DataError(located(f"qc must be 'main' or 'any', got {qc!r}", where="read_mod15a2h"))
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    if not paths:
        raise DataError(located("no MOD15A2H file given", where="read_mod15a2h"))
    parts = []
    for p in paths:
        try:
            ds = xr.open_dataset(p, mask_and_scale=False, decode_times=True)
        except (OSError, ValueError) as exc:
            raise DataError(located(f"cannot open as netCDF ({exc})", where=str(p),
                                    fix="order MOD15A2H as netCDF-4 from AppEEARS or convert the HDF tiles with GDAL")) from exc
        with ds:
            for v in ("Fpar_500m", "FparLai_QC"):
                if v not in ds:
                    raise DataError(located(f"variable {v} missing", where=str(p),
                                            fix="the file must be a MOD15A2H.061 product with Fpar_500m and FparLai_QC"))
            lat = "lat" if "lat" in ds.dims else "latitude"
            lon = "lon" if "lon" in ds.dims else "longitude"
            if lat not in ds.dims or lon not in ds.dims or "time" not in ds.dims:
                raise DataError(located(f"Fpar_500m must be on (time, lat, lon), dims are {tuple(ds.dims)}", where=str(p),
                                        fix="request a geographic (lat/lon) projection in AppEEARS"))
            raw = ds["Fpar_500m"].load()
            qcv = ds["FparLai_QC"].load()
            scale = float(raw.attrs.get("scale_factor", 0.01))
            valid_max = int(np.atleast_1d(raw.attrs.get("valid_range", [0, _MOD15_VALID_MAX]))[-1])
            r = raw.values.astype(float)
            good = (r >= 0) & (r <= valid_max)
            if qc == "main":
                scf = (qcv.values.astype(np.int64) >> 5) & 0b111
                good &= scf <= 1
            fpar = np.where(good, r * scale, np.nan)
            da = xr.DataArray(fpar, dims=raw.dims, coords={k: ds[k].values for k in raw.dims}).rename({lat: "lat", lon: "lon"})
            parts.append(da.transpose("time", "lat", "lon"))
    out = xr.concat(parts, dim="time").sortby("time").sortby("lat")
    if np.any(out["lon"].values > 180):
        out = out.assign_coords(lon=((out["lon"] + 180) % 360) - 180).sortby("lon")
    if monthly:
        out = out.resample(time="MS").mean(skipna=True)
    out.name = "FPAR"
    out.attrs.update({"units": "1", "long_name": "fraction of absorbed PAR (MOD15A2H)", "qc": qc})
    return out


def _date_from_name(p: Path):
    m = _TROPOSIF_NAME.search(p.name)
    if not m:
        raise DataError(located("file name is not a TROPOSIF L2B name", where=str(p),
                                fix="expected TROPOSIF_L2B_YYYY-MM-DD.nc"))
    return pd.Timestamp(m.group(1))


def read_troposif_l2b(paths, *, max_cloud_fraction: float = 0.5, bbox=None) -> pd.DataFrame:
    """Soundings of TROPOSIF L2B files as a table.

    Parameters
    ----------
    paths : path or list of paths      ``TROPOSIF_L2B_YYYY-MM-DD.nc`` files
    max_cloud_fraction : float         keep soundings with ``cloud_fraction_L2`` ≤ this (TROPOSIF advises ≤ 0.5)
    bbox : (lat0, lat1, lon0, lon1)    optional spatial subset [deg]

    Returns
    -------
    pandas.DataFrame with columns date, lat, lon, SIF_743, SIF_Corr_743, SIF_ERROR_743 [mW m⁻² sr⁻¹ nm⁻¹],
    NIRv [1], cloud_fraction [1] and dcf = SIF_Corr_743 / SIF_743 (the file's daily-average factor).
    """
    import netCDF4

    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    if not paths:
        raise DataError(located("no TROPOSIF file given", where="read_troposif_l2b"))
    frames = []
    need = ("latitude", "longitude", "SIF_743", "SIF_Corr_743", "SIF_ERROR_743")
    for p in sorted(paths):
        day = _date_from_name(p)
        try:
            nc = netCDF4.Dataset(p)
        except OSError as exc:
            raise DataError(located(f"cannot open as netCDF-4 ({exc})", where=str(p), fix="re-download the file")) from exc
        with nc:
            if "PRODUCT" not in nc.groups:
                raise DataError(located("group PRODUCT missing", where=str(p), fix="this is not a TROPOSIF L2B file"))
            g = nc.groups["PRODUCT"]
            miss = [v for v in need if v not in g.variables]
            if miss:
                raise DataError(located(f"variables {miss} missing in group PRODUCT", where=str(p),
                                        fix="use TROPOSIF L2B v2 files"))
            cols = {v: np.ma.filled(g.variables[v][:].astype(float), np.nan).ravel() for v in need}
            n = cols["latitude"].size
            if any(c.size != n for c in cols.values()):
                raise DataError(located("PRODUCT variables have different lengths", where=str(p)))
            cols["NIRv"] = (np.ma.filled(g.variables["NIRv"][:].astype(float), np.nan).ravel()
                            if "NIRv" in g.variables else np.full(n, np.nan))
            try:
                cf = g.groups["SUPPORT_DATA"].groups["INPUT_DATA"].variables["cloud_fraction_L2"][:]
                cols["cloud_fraction"] = np.ma.filled(cf.astype(float), np.nan).ravel()
            except KeyError:
                cols["cloud_fraction"] = np.full(n, np.nan)
        df = pd.DataFrame(cols).rename(columns={"latitude": "lat", "longitude": "lon"})
        df.insert(0, "date", day)
        keep = np.isfinite(df["SIF_743"]) & np.isfinite(df["lat"]) & np.isfinite(df["lon"])
        keep &= ~(df["cloud_fraction"] > max_cloud_fraction)
        if bbox is not None:
            a0, a1, o0, o1 = bbox
            keep &= df["lat"].between(a0, a1) & df["lon"].between(o0, o1)
        frames.append(df[keep])
    out = pd.concat(frames, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["dcf"] = out["SIF_Corr_743"] / out["SIF_743"]
    return out


def grid_troposif(soundings: pd.DataFrame, resolution: float = 0.5, *, freq: str = "MS") -> xr.Dataset:
    """Average TROPOSIF soundings onto a regular lat-lon grid (cell centres, lat ascending, lon −180..180)
    and periods (``freq``, default calendar months stamped at the start).

    Returns an ``xarray.Dataset`` (time, lat, lon) with SIF_743 and SIF_Corr_743 (means) [mW m⁻² sr⁻¹ nm⁻¹],
    SIF_ERROR_743 (standard error of the mean from the per-sounding errors, √Σσ²/n), NIRv (mean) and n
    (number of soundings).
    """
    from ..world.grid import grid_coords

    lat, lon = grid_coords(resolution)
    df = soundings.copy()
    df["i"] = np.clip(((df["lat"] + 90.0) // resolution).astype(int), 0, lat.size - 1)
    df["j"] = np.clip((((df["lon"] + 180.0) % 360.0) // resolution).astype(int), 0, lon.size - 1)
    df["t"] = pd.DatetimeIndex(df["date"]).to_period(freq.rstrip("S") or "M").to_timestamp()
    df["err2"] = df["SIF_ERROR_743"] ** 2
    g = df.groupby(["t", "i", "j"])
    agg = g.agg(SIF_743=("SIF_743", "mean"), SIF_Corr_743=("SIF_Corr_743", "mean"), NIRv=("NIRv", "mean"),
                err2=("err2", "sum"), n=("SIF_743", "size")).reset_index()
    times = pd.DatetimeIndex(sorted(agg["t"].unique()))
    ti = times.get_indexer(agg["t"])
    ds = xr.Dataset(coords={"time": times, "lat": lat, "lon": lon})
    for v, units_ in (("SIF_743", "mW m-2 sr-1 nm-1"), ("SIF_Corr_743", "mW m-2 sr-1 nm-1"), ("NIRv", "1"),
                      ("n", "1"), ("SIF_ERROR_743", "mW m-2 sr-1 nm-1")):
        a = np.full((times.size, lat.size, lon.size), np.nan if v != "n" else 0.0)
        vals = np.sqrt(agg["err2"]) / agg["n"] if v == "SIF_ERROR_743" else agg[v]
        a[ti, agg["i"].to_numpy(), agg["j"].to_numpy()] = vals
        ds[v] = xr.DataArray(a, dims=("time", "lat", "lon"), attrs={"units": units_})
    ds.attrs.update({"title": "TROPOSIF soundings on a regular grid", "resolution_deg": float(resolution)})
    return ds


def find_fluxnet_monthly(data_path: str | None = None) -> list[Path]:
    """FLUXNET2015 monthly files (``FLX_*_FLUXNET2015_FULLSET_MM_*.csv``) under the folders of
    ``data_path`` (default ``$LANDCARBON_DATA_PATH``), in ``FLUXNET2015/`` or ``fluxnet2015-mm/``."""
    roots = (data_path or os.environ.get("LANDCARBON_DATA_PATH", "")).split(os.pathsep)
    out = []
    for r in filter(None, roots):
        for sub in ("FLUXNET2015", "fluxnet2015-mm"):
            out += sorted((Path(r) / sub).glob("FLX_*_FLUXNET2015_FULLSET_MM_*.csv"))
    return out


def read_fluxnet_towers(paths=None, *, site_info=None) -> xr.Dataset | None:
    """The real FLUXNET2015 monthly towers (GPP_NT, GPP_DT, SW_IN, TA, VPD) with IGBP class and position.

    ``paths`` defaults to :func:`find_fluxnet_monthly`; ``site_info`` to ``site-info/fdk_site_info.csv`` beside
    the files (FluxDataKit site list: sitename, lat, lon, igbp_land_use). Returns None when no file is found
    (a fresh clone without the shared data). Reads through
    :func:`landcarbon.world.io.read_fluxnet_monthly`.
    """
    from ..world.io import read_fluxnet_monthly

    paths = find_fluxnet_monthly() if paths is None else [Path(p) for p in paths]
    if not paths:
        return None
    if site_info is None:
        cand = [p.parent.parent / "site-info" / "fdk_site_info.csv" for p in paths[:1]]
        site_info = next((c for c in cand if c.is_file()), None)
    meta = None
    if site_info is not None:
        info = pd.read_csv(site_info)
        for c in ("sitename", "lat", "lon", "igbp_land_use"):
            if c not in info.columns:
                raise DataError(located(f"column {c} missing", where=str(site_info),
                                        fix="use the FluxDataKit fdk_site_info.csv"))
        meta = pd.DataFrame({"SITE_ID": info["sitename"], "LOCATION_LAT": info["lat"], "LOCATION_LONG": info["lon"],
                             "IGBP": info["igbp_land_use"]})
    ds = read_fluxnet_monthly(paths, metadata=meta)
    ds.attrs["source_files"] = len(paths)
    return ds


def open_mod15a2h(paths, *, qc: str = "main", monthly: bool = True, **ignored) -> xr.Dataset:
    """Manifest loader of ``modis-mod15a2h``: :func:`read_mod15a2h` as a Dataset with variable ``FPAR``."""
    da = read_mod15a2h(paths, qc=qc, monthly=monthly)
    ds = da.to_dataset()
    ds.attrs.update({"title": "MODIS MOD15A2H FPAR", "time_label": "month start" if monthly else "composite start"})
    return ds


def open_troposif(paths, *, resolution: float = 0.5, max_cloud_fraction: float = 0.5, **ignored) -> xr.Dataset:
    """Manifest loader of ``troposif-l2b``: soundings of :func:`read_troposif_l2b` gridded monthly by
    :func:`grid_troposif`."""
    return grid_troposif(read_troposif_l2b(paths, max_cloud_fraction=max_cloud_fraction), resolution)
