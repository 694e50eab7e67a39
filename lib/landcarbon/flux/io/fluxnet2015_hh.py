"""FLUXNET2015 half-hourly records as per-site netCDF files (cut from the Zarr store of
EXCITED-CO2/zarr-fluxnet2015), their compact embedded extract, and the site-year inventory.

File layout (one file per site, ``FLX_<SITE>_FLUXNET2015_HH_<Y0>-<Y1>.nc``): variables ``nee``
(NEE_VUT_REF, gap-filled by ONEFlux), ``nee_qc`` (0 = measured, 1–3 = filled), ``gpp_nt``
(GPP_NT_VUT_REF), ``gpp_dt`` (GPP_DT_VUT_REF), ``ta`` [°C], ``sw_in`` [W m-2], ``vpd`` [hPa], each with
``_qc``; scalar variables ``latitude``/``longitude``; global attribute ``site_id``; uint16 scale/offset
encoding (values are quantised, NEE step ≈ 0.0025 µmol m-2 s-1). No u*, RH, RECO or time zone. Sites
that report hourly repeat each hourly value in both half-hours (or leave every other half-hour empty);
such records are read as hourly.

**Time stamps are UTC interval ends**, not local time: the store's converter resampled
``TIMESTAMP_END`` and subtracted each site's UTC offset (``process_fluxnet.py`` of
EXCITED-CO2/zarr-fluxnet2015), although the files' ``time_convention`` attribute says "local standard
time, TIMESTAMP_START". The sun confirms it: with the stamps read as UTC interval ends, the diurnal
course of SW_IN matches the potential radiation at every half-hourly site (offset 0.0 h at 0.5 h
resolution, correlation ≥ 0.989), while local time would be off by up to 8 h. The loader therefore
reads the stamps as UTC interval ends, checks every site against the sun
(:func:`estimate_utc_offset`) and removes a residual misalignment (hourly sites ±30 min from the
pairing, CN-HaM −30 min), recorded in ``attrs['time_alignment_shift_hours']``.

Reading gives the standard site dataset (:mod:`landcarbon.flux.io`): ``NEE`` = the measured NEE
(``nee_qc == 0``; already u*-filtered by ONEFlux, so the chain runs with ``ustar="skip"``), ``NEE_QC``,
``TA``, ``SW_IN``, ``VPD`` (+ ``_QC``), ``RH`` from VPD and TA (:func:`landcarbon.meteo.rh_from_vpd`),
and the ONEFlux references ``NEE_ONEFLUX``, ``GPP_NT_ONEFLUX``, ``GPP_DT_ONEFLUX``, on a UTC time axis
(``attrs['utc_offset_hours'] = 0``; pass ``local_utc_offset_hours`` to shift to local time).

Pastorello G. et al. (2020) The FLUXNET2015 dataset and the ONEFlux processing pipeline for eddy
covariance data. Scientific Data 7:225, doi:10.1038/s41597-020-0534-3 (CC-BY-4.0; cite the site DOIs too).
"""
from __future__ import annotations

import gzip
import io as _io
import json
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import DataError, located
from ._common import check_time_axis, finish_loaded, make_site_dataset, site_metadata

__all__ = ["read_fluxnet2015_hh_netcdf", "read_fluxnet2015_hh_extract", "build_fluxnet2015_hh_extract",
           "fluxnet_site_years", "estimate_utc_offset", "FLUXNET_HH_VARIABLES", "EXTRACT_SITE_YEARS"]

#: file variable -> (standard name, unit)
FLUXNET_HH_VARIABLES: dict[str, tuple[str, str]] = {
    "nee": ("NEE_ONEFLUX", "umol m-2 s-1"), "gpp_nt": ("GPP_NT_ONEFLUX", "umol m-2 s-1"),
    "gpp_dt": ("GPP_DT_ONEFLUX", "umol m-2 s-1"), "ta": ("TA", "degC"), "sw_in": ("SW_IN", "W m-2"),
    "vpd": ("VPD", "hPa"),
}
_QC = {"nee_qc": "NEE_QC", "ta_qc": "TA_QC", "sw_in_qc": "SW_IN_QC", "vpd_qc": "VPD_QC"}
_NAME = re.compile(r"FLX_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_FLUXNET2015_HH_(?P<y0>\d{4})-(?P<y1>\d{4})\.nc$")

#: site-years of the embedded extract: Li et al. (2022)'s three isotope sites (Harvard Forest,
#: Qianyanzhou, Twitchell alfalfa) and the REddyProc example tower
EXTRACT_SITE_YEARS: tuple[tuple[str, int], ...] = (("DE-Tha", 1998), ("US-Ha1", 2012), ("CN-Qia", 2004),
                                                    ("US-Tw3", 2014))


def _site_of(path: Path) -> str | None:
    m = _NAME.search(Path(path).name)
    return m.group("site") if m else None


def fluxnet_site_years(paths: Iterable) -> pd.DataFrame:
    """Inventory of the per-site files: one row per site-year with columns site, year, path."""
    rows = []
    for p in paths:
        m = _NAME.search(Path(p).name)
        if not m:
            continue
        for y in range(int(m.group("y0")), int(m.group("y1")) + 1):
            rows.append({"site": m.group("site"), "year": y, "path": str(p)})
    return pd.DataFrame(rows, columns=["site", "year", "path"])


def estimate_utc_offset(time_end, sw_in_wm2, lat: float, lon: float, *, step_seconds: float) -> tuple[float, float]:
    """Offset [h] of the time stamps from UTC interval ends, from the timing of measured radiation.

    The mean diurnal course of SW_IN (by time of day of the interval end) is compared with that of the
    potential radiation for UTC (:func:`landcarbon.flux.solar.potential_radiation`, on a half-hourly
    grid and averaged over the record length) shifted in steps of 30 minutes; the shift with the
    highest correlation is returned (our method; positive = the stamps are late). Works for
    half-hourly and hourly records. Returns (offset [h], correlation [1]).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from landcarbon.flux.solar import potential_radiation
    >>> t = pd.date_range("2010-06-01 00:30", periods=48 * 20, freq="30min").to_numpy()
    >>> sw = 0.7 * potential_radiation(t - np.timedelta64(60, "m"), 50.0, 10.0, 0.0, timestep_seconds=1800)
    >>> estimate_utc_offset(t, sw, 50.0, 10.0, step_seconds=1800)[0]
    1.0
    """
    from ..solar import potential_radiation

    t = np.asarray(time_end).astype("datetime64[ns]")
    sw = np.asarray(sw_in_wm2, float)
    k_step = int(round(step_seconds / 1800))
    day0 = t[0].astype("datetime64[D]")
    n30 = int((t[-1] - day0) / np.timedelta64(30, "m")) + 2
    t30 = day0 + (np.arange(1, n30 + 1) * 30).astype("timedelta64[m]")
    pot30 = potential_radiation(t30, float(lat), float(lon), 0.0, timestep_seconds=1800)
    i30 = ((t30 - t30.astype("datetime64[D]")) // np.timedelta64(30, "m")).astype(np.int64) % 48
    ref30 = np.bincount(i30, weights=pot30, minlength=48) / np.maximum(np.bincount(i30, minlength=48), 1)
    idx = ((t - t.astype("datetime64[D]")) // np.timedelta64(30, "m")).astype(np.int64) % 48
    ok = np.isfinite(sw)
    cnt = np.bincount(idx[ok], minlength=48)
    obs = np.bincount(idx[ok], weights=sw[ok], minlength=48) / np.maximum(cnt, 1)
    present = cnt > 0
    best, best_r = 0.0, -np.inf
    for k in range(-24, 29):  # -12 h ... +14 h in half-hours
        ref = np.mean([np.roll(ref30, k + j) for j in range(k_step)], axis=0)
        r = np.corrcoef(obs[present], ref[present])[0, 1]
        if r > best_r:
            best, best_r = k / 2.0, float(r)
    return best, best_r


def _pair_phase(values: dict[str, np.ndarray]) -> int | None:
    """Phase (0 or 1) of the half-hour pairs that repeat one hourly value, or None (half-hourly data).

    Hourly sites either repeat each value in both half-hours or leave every other half-hour empty.
    """
    v, sw = values["nee"], values["sw_in"]
    best, best_share = None, 0.0
    for ph in (0, 1):
        a, b = v[ph:-1:2], v[ph + 1::2]
        m = min(a.size, b.size)
        a, b = a[:m], b[:m]
        fa, fb = np.isfinite(a), np.isfinite(b)
        both = fa & fb
        if both.sum() > 0.25 * m:
            share = float(np.mean((a[both] == b[both]) & (sw[ph:-1:2][:m][both] == sw[ph + 1::2][:m][both])))
        elif fa.mean() > 0.5 and fb.mean() < 0.01:
            share = 1.0
        else:
            share = 0.0
        if share > best_share:
            best, best_share = ph, share
    return best if best_share > 0.99 else None


def _assemble(site: str, t_file: np.ndarray, values: dict, qc: dict, *, lat, lon, local_utc_offset_hours,
              years, where: str, nee_measured_only: bool, hourly: str, plausibility: str, ranges, extra=None):
    """Standard site dataset from the file's arrays (times = UTC interval ends, see the module docstring)."""
    from ...meteo import rh_from_vpd

    t_file = np.asarray(t_file).astype("datetime64[ns]")
    step = 1800
    phase = _pair_phase(values) if hourly == "auto" else (0 if hourly == "yes" else None)
    if phase is not None:
        # one hourly value per pair of half-hours: keep the filled member, stamp the pair's second label
        n = (t_file.size - phase) - (t_file.size - phase) % 2
        sl_a, sl_b = slice(phase, phase + n, 2), slice(phase + 1, phase + n, 2)
        values = {k: np.where(np.isfinite(v[sl_a]), v[sl_a], v[sl_b]) for k, v in values.items()}
        qc = {k: np.where(np.isfinite(v[sl_a]), v[sl_a], v[sl_b]) for k, v in qc.items()}
        t_file = t_file[sl_b]
        step = 3600
    # the stamps are UTC interval ends; check them against the sun and remove a residual misalignment
    resid, corr = estimate_utc_offset(t_file, values["sw_in"], lat, lon, step_seconds=step)
    t_end = t_file - np.timedelta64(int(round(resid * 3600)), "s")
    offset = 0.0
    if local_utc_offset_hours is not None:
        offset = float(local_utc_offset_hours)
        t_end = t_end + np.timedelta64(int(round(offset * 3600)), "s")
    if years is not None:
        yr = pd.DatetimeIndex(t_end - np.timedelta64(step // 2, "s")).year
        keep = np.isin(yr, np.atleast_1d(years))
        if not keep.any():
            raise DataError(located(f"no record of year(s) {list(np.atleast_1d(years))}", where=where,
                                    fix=f"the file covers {sorted(set(yr))}"))
        t_end = t_end[keep]
        values = {k: v[keep] for k, v in values.items()}
        qc = {k: v[keep] for k, v in qc.items()}
    full, step_chk, index = check_time_axis(t_end, where=where)
    q = qc["nee_qc"]
    data = {"NEE": np.where(q == 0, values["nee"], np.nan) if nee_measured_only else values["nee"].copy()}
    for k, (std, _u) in FLUXNET_HH_VARIABLES.items():
        data[std] = values[k]
    for k, std in _QC.items():
        if np.isfinite(qc[k]).any():  # the extract keeps only nee_qc
            data[std] = qc[k]
    units = {std: u for std, u in FLUXNET_HH_VARIABLES.values()}
    units["NEE"] = "umol m-2 s-1"
    data["RH"] = np.asarray(rh_from_vpd(values["ta"], values["vpd"]), float)
    units["RH"] = "%"
    ds = make_site_dataset(full, data, units=units, site=site, lat=lat, lon=lon, utc_offset_hours=offset,
                           timestep_seconds=step, where=where, index=index,
                           extra_attrs={"file_format": "FLUXNET2015 HH netCDF (zarr-fluxnet2015)",
                                        "nee_measured_only": int(nee_measured_only), "hourly_site": int(phase is not None),
                                        "time_zone": "UTC" if offset == 0.0 else f"UTC{offset:+g} h",
                                        "time_alignment_shift_hours": float(resid),
                                        "time_alignment_check": f"diurnal SW_IN vs potential radiation, r = {corr:.4f}",
                                        "ustar_filtered": "ONEFlux (VUT_REF)", **(extra or {})})
    ds["RH"].attrs["long_name"] = "relative humidity from VPD and TA (landcarbon.meteo.rh_from_vpd)"
    for v in ("NEE_ONEFLUX", "GPP_NT_ONEFLUX", "GPP_DT_ONEFLUX"):
        ds[v].attrs["long_name"] = {"NEE_ONEFLUX": "NEE_VUT_REF gap-filled by ONEFlux",
                                    "GPP_NT_ONEFLUX": "GPP_NT_VUT_REF (ONEFlux night-time method)",
                                    "GPP_DT_ONEFLUX": "GPP_DT_VUT_REF (ONEFlux day-time method)"}[v]
    return finish_loaded(ds, where=where, required=("NEE", "TA", "SW_IN", "VPD"), plausibility=plausibility,
                         ranges=ranges)


def _pick_file(paths, site: str | None) -> Path:
    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not plist:
        raise DataError(located("no file given", where="read_fluxnet2015_hh_netcdf", fix="pass the site's file"))
    if site is None:
        if len(plist) == 1:
            return plist[0]
        raise DataError(located(f"{len(plist)} files given but no site", where="read_fluxnet2015_hh_netcdf",
                                fix="pass site='DE-Tha' (one of " + ", ".join(sorted(filter(None, map(_site_of, plist))))
                                    + ")"))
    hits = [p for p in plist if _site_of(p) == site]
    if not hits:
        raise DataError(located(f"no file of site {site!r}", where=", ".join(p.name for p in plist[:3]) + " ...",
                                fix="use one of " + ", ".join(sorted(filter(None, map(_site_of, plist))))))
    return hits[0]


def read_fluxnet2015_hh_netcdf(paths, site: str | None = None, *, years: int | Sequence[int] | None = None,
                               lat: float | None = None, lon: float | None = None,
                               local_utc_offset_hours: float | None = None, nee_measured_only: bool = True,
                               hourly: str = "auto", plausibility: str = "raise",
                               ranges: Mapping[str, tuple[float, float]] | None = None) -> xr.Dataset:
    """Read one site of the FLUXNET2015 half-hourly netCDF files (see the module docstring).

    Parameters
    ----------
    paths : path or list of paths
        The site's file, or all files (then ``site`` picks one).
    site : str, optional
        FLUXNET site id, e.g. "DE-Tha".
    years : int or list, optional
        Calendar years to keep (of the interval starts).
    lat, lon : optional overrides of the file's ``latitude``/``longitude`` variables [degrees].
    local_utc_offset_hours : float, optional
        Convert the UTC stamps to local standard time with this offset [h] (the files carry no time
        zone); default: keep UTC (``attrs['utc_offset_hours'] = 0``).
    nee_measured_only : bool
        ``NEE`` = measured records only (``nee_qc == 0``, default) or the ONEFlux gap-filled series.
    hourly : {"auto", "yes", "no"}
        Hourly sites repeat each value in both half-hours; "auto" detects them and reads them hourly.

    Returns
    -------
    xarray.Dataset
        Standard site dataset (time = interval END, local standard time); fluxes in µmol CO2 m-2 s-1,
        NEE > 0 = release.
    """
    from .netcdf import _decode_time

    path = _pick_file(paths, site)
    where = str(path)
    try:
        raw = xr.open_dataset(path, decode_times=False)
    except FileNotFoundError:
        raise DataError(located("file not found", where=where, fix="check the path")) from None
    except Exception as e:  # noqa: BLE001 - corrupt or truncated file
        raise DataError(located(f"cannot open as netCDF: {e}", where=where, fix="fetch the file again")) from None
    with raw:
        missing = [v for v in (*FLUXNET_HH_VARIABLES, "nee_qc") if v not in raw.variables]
        if missing or "time" not in raw.variables:
            raise DataError(located(f"missing variable(s) {missing or ['time']}", where=where,
                                    fix="use the per-site files cut from zarr-fluxnet2015 (see the data README)"))
        t = _decode_time(raw["time"].values, str(raw["time"].attrs.get("units")),
                         raw["time"].attrs.get("calendar", "standard"), where=f"{where}: time")
        values = {k: np.asarray(raw[k].values, dtype=float) for k in FLUXNET_HH_VARIABLES}
        qc = {k: (np.asarray(raw[k].values, dtype=float) if k in raw.variables else np.full(t.size, np.nan))
              for k in _QC}
        for k in FLUXNET_HH_VARIABLES:
            u = raw[k].attrs.get("units")
            from ...units import normalise_unit

            if normalise_unit(u) != FLUXNET_HH_VARIABLES[k][1]:
                from ...errors import UnitsError

                raise UnitsError(located(f"variable {k} has units {u!r}, expected {FLUXNET_HH_VARIABLES[k][1]!r}",
                                         where=f"{where}: {k}", fix="convert the variable or use another file"))
        scalars = {n: raw[n].values for n in raw.variables if raw[n].ndim == 0}
        meta = site_metadata(raw.attrs, scalars, site=site, lat=lat, lon=lon)
    site_id = str(meta["site"] or _site_of(path) or "unknown")
    return _assemble(site_id, t, values, qc, lat=meta["lat"], lon=meta["lon"],
                     local_utc_offset_hours=local_utc_offset_hours, years=years, where=where,
                     nee_measured_only=nee_measured_only, hourly=hourly, plausibility=plausibility, ranges=ranges)


# ---------------------------------------------------------------------------------------------
# Embedded extract: the quantised codes of a few site-years (gzip CSV, mtime 0) + a JSON header
# ---------------------------------------------------------------------------------------------
def build_fluxnet2015_hh_extract(raw_paths, out_dir, site_years=EXTRACT_SITE_YEARS) -> list[Path]:
    """Write the extract: for each (site, year), ``fluxnet2015-hh/<site>_<year>.csv.gz`` with the
    uint16 codes of the variables used (nee, nee_qc, gpp_nt, gpp_dt, ta, sw_in, vpd) and a JSON
    header line with time origin, scale factors, offsets and the site's lat/lon, so that the loader
    reproduces the raw files' float64 values exactly. Deterministic bytes (gzip mtime 0)."""
    written = []
    out = Path(out_dir) / "fluxnet2015-hh"
    out.mkdir(parents=True, exist_ok=True)
    for site, year in site_years:
        path = _pick_file(raw_paths, site)
        raw = xr.open_dataset(path, decode_times=False, mask_and_scale=False)
        with raw:
            tu = str(raw["time"].attrs["units"])
            cal = str(raw["time"].attrs.get("calendar", "standard"))
            from .netcdf import _decode_time

            t = _decode_time(raw["time"].values, tu, cal, where=str(path))
            keep = pd.DatetimeIndex(t).year == year
            cols = {"time": raw["time"].values[keep]}
            header = {"site": site, "year": year, "time_units": tu, "calendar": cal, "source_file": path.name,
                      "lat": None, "lon": None, "variables": {}}
            for k in (*FLUXNET_HH_VARIABLES, "nee_qc"):
                v = raw[k]
                enc = {"scale_factor": float(v.attrs.get("scale_factor", 1.0)),
                       "add_offset": float(v.attrs.get("add_offset", 0.0)),
                       "_FillValue": int(v.attrs["_FillValue"]) if "_FillValue" in v.attrs else None,
                       "units": v.attrs.get("units")}
                header["variables"][k] = enc
                cols[k] = np.asarray(v.values)[keep]
            for k, key in (("latitude", "lat"), ("longitude", "lon")):
                v = raw[k]
                header[key] = {"code": int(v.values), "scale_factor": float(v.attrs["scale_factor"]),
                               "add_offset": float(v.attrs["add_offset"])}
        df = pd.DataFrame(cols)
        buf = _io.StringIO()
        buf.write(json.dumps(header, sort_keys=True) + "\n")
        df.to_csv(buf, index=False, lineterminator="\n")
        target = out / f"{site}_{year}.csv.gz"
        with open(target, "wb") as fh:
            with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="", compresslevel=9) as gz:
                gz.write(buf.getvalue().encode())
        written.append(target)
    return written


def _decode_codes(codes: np.ndarray, enc: dict) -> np.ndarray:
    """float64 values exactly as xarray's CF decoding of the raw file (code·scale + offset, fill -> NaN)."""
    c = np.asarray(codes)
    out = c.astype(np.float64) * np.float64(enc["scale_factor"]) + np.float64(enc["add_offset"])
    if enc.get("_FillValue") is not None:
        out = np.where(c == enc["_FillValue"], np.nan, out)
    return out


def read_fluxnet2015_hh_extract(paths, site: str | None = None, *, years=None, lat=None, lon=None,
                                local_utc_offset_hours=None, nee_measured_only: bool = True, hourly: str = "auto",
                                plausibility: str = "raise", ranges=None) -> xr.Dataset:
    """Read a site from the embedded extract (same result as :func:`read_fluxnet2015_hh_netcdf` on
    the raw file, for the site-years the extract holds)."""
    from .netcdf import _decode_time

    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    sites = sorted({p.name.split("_")[0] for p in plist})
    site = site or (sites[0] if len(sites) == 1 else None)
    if site is None or site not in sites:
        raise DataError(located(f"site {site!r} is not in the embedded extract", where="fluxnet2015-hh extract",
                                fix=f"the extract holds {sites}; point LANDCARBON_DATA_PATH at the 40 raw files for others"))
    parts = []
    header = None
    for p in sorted(q for q in plist if q.name.split("_")[0] == site):
        with gzip.open(p, "rt") as fh:
            header = json.loads(fh.readline())
            df = pd.read_csv(fh)
        if years is not None and header["year"] not in np.atleast_1d(years):
            continue
        parts.append((header, df))
    if not parts:
        raise DataError(located(f"no year {years} of {site} in the embedded extract", where="fluxnet2015-hh extract",
                                fix="use the raw files for other years"))
    df = pd.concat([d for _, d in parts], ignore_index=True)
    header = parts[0][0]
    t = _decode_time(df["time"].to_numpy(float), header["time_units"], header["calendar"], where=str(plist[0]))
    values = {k: _decode_codes(df[k].to_numpy(), header["variables"][k]) for k in FLUXNET_HH_VARIABLES}
    qc = {k: np.full(t.size, np.nan) for k in _QC}
    qc["nee_qc"] = _decode_codes(df["nee_qc"].to_numpy(), header["variables"]["nee_qc"])
    glat = float(np.float64(header["lat"]["code"]) * np.float64(header["lat"]["scale_factor"]) + np.float64(header["lat"]["add_offset"]))
    glon = float(np.float64(header["lon"]["code"]) * np.float64(header["lon"]["scale_factor"]) + np.float64(header["lon"]["add_offset"]))
    return _assemble(site, t, values, qc, lat=glat if lat is None else lat, lon=glon if lon is None else lon,
                     local_utc_offset_hours=local_utc_offset_hours, years=years, where=f"embedded extract {site}",
                     nee_measured_only=nee_measured_only, hourly=hourly, plausibility=plausibility, ranges=ranges,
                     extra={"extract_files": ";".join(p.name for p in plist if p.name.startswith(site))})
