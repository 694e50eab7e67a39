"""Readers for users who bring their own tower data.

* :func:`read_turbulence` — half-hourly (or hourly) turbulence statistics from AmeriFlux BASE
  (``AMF_<SITE>_BASE_HH_<ver>.csv``, two ``#`` comment lines, position qualifiers such as
  ``WD_1_1_1``) or FLUXNET/ONEFlux-style CSV files (``TIMESTAMP_START``, gap-filled ``_F`` columns),
  missing values −9999. Variables (AmeriFlux FP-Standard names and units): USTAR [m s⁻¹], V_SIGMA
  [m s⁻¹], MO_LENGTH [m], WD [deg], WS [m s⁻¹], ZL [1], PBLH [m].
* :func:`read_landscape` — a land-cover / NDVI raster around a tower in the twin's format (netCDF
  with x, y in metres from the tower, ``land_cover`` with ``flag_values``/``flag_meanings``, ``NDVI``).
"""
from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..data.plausibility import PLAUSIBLE_RANGES
from ..errors import DataError, located

__all__ = ["read_turbulence", "read_landscape", "TURBULENCE_UNITS"]

TURBULENCE_UNITS = {"USTAR": "m s-1", "V_SIGMA": "m s-1", "MO_LENGTH": "m", "WD": "deg", "WS": "m s-1", "ZL": "1",
                    "PBLH": "m"}
#: Physically possible values: USTAR and WS from landcarbon.data.plausibility (one home), the others ours.
_RANGES = {"USTAR": PLAUSIBLE_RANGES[("USTAR", "m s-1")], "WS": PLAUSIBLE_RANGES[("WS", "m s-1")],
           "V_SIGMA": (0.0, 20.0), "WD": (0.0, 360.0), "PBLH": (0.0, 10000.0)}
_QUAL = re.compile(r"^(?P<base>[A-Z_]+?)(?:_(?P<h>\d+)_(?P<v>\d+)_(?P<r>\d+))?$")
_SITE = re.compile(r"(?:AMF|FLX)_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_")


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _pick_column(columns: list[str], name: str) -> str | None:
    """Exact name, else the gap-filled ``<name>_F``, else the AmeriFlux qualifier with the lowest indices."""
    if name in columns:
        return name
    if f"{name}_F" in columns:
        return f"{name}_F"
    cands = []
    for c in columns:
        m = _QUAL.match(c)
        if m and m.group("base") == name and m.group("h") is not None:
            cands.append(((int(m.group("h")), int(m.group("v")), int(m.group("r"))), c))
    return min(cands)[1] if cands else None


def _read_one(path: Path):
    text = _read_text(path)
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and lines[skip].lstrip().startswith("#"):
        skip += 1
    if skip >= len(lines):
        raise DataError(located("file has no header line", where=str(path)))
    header_line = skip + 1  # 1-based line number of the header
    try:
        df = pd.read_csv(io.StringIO("\n".join(lines[skip:])), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise DataError(located(f"cannot parse CSV ({exc})", where=str(path),
                                fix="check the delimiter (comma) and that every row has as many fields as the header")) from exc
    df.columns = [c.strip() for c in df.columns]
    if "TIMESTAMP_START" not in df.columns:
        raise DataError(located(f"no TIMESTAMP_START column (columns: {list(df.columns)[:8]}...)",
                                where=f"{path}, line {header_line}",
                                fix="use AmeriFlux BASE or FLUXNET files (TIMESTAMP_START as YYYYMMDDHHMM)"))
    ts = df["TIMESTAMP_START"].str.strip()
    t = pd.to_datetime(ts, format="%Y%m%d%H%M", errors="coerce")
    bad = np.flatnonzero(t.isna().values)
    if bad.size:
        i = int(bad[0])
        raise DataError(located(f"unreadable timestamp {ts.iloc[i]!r}", where=f"{path}, line {header_line + 1 + i}, "
                                "column TIMESTAMP_START", fix="timestamps must be YYYYMMDDHHMM (local standard time)"))
    return df, t, header_line


def read_turbulence(paths, *, site: str | None = None, zm_m: float | None = None, z0_m: float | None = None,
                    missing: float = -9999.0, **ignored) -> xr.Dataset:
    """Read half-hourly turbulence statistics of one tower from AmeriFlux BASE or FLUXNET CSV files.

    Parameters
    ----------
    paths : path or list of paths
        CSV (or gzip-compressed CSV) files of one site; several files are concatenated in time.
    site : str, optional
        Site code; selects the files whose name contains it when ``paths`` holds several sites
        (default: taken from the file names ``AMF_<SITE>_...`` / ``FLX_<SITE>_...``).
    zm_m, z0_m : float, optional
        Measurement height above displacement and roughness length [m], stored in ``attrs`` for
        :func:`landcarbon.footprint.footprint_climatology`; ``zm_m`` also turns ZL into MO_LENGTH
        (L = z_m / ZL) when MO_LENGTH is missing.
    missing : float
        Missing-value code (−9999 in both networks).
    **ignored
        Arguments of the demo generator (``n_days``, ``canopy_height_m``...), accepted so that one
        ``open_dataset`` call works for both sources.

    Returns
    -------
    xarray.Dataset
        ``time`` (start of each interval) with USTAR, V_SIGMA, WD and, when present, MO_LENGTH, WS, ZL,
        PBLH in FP-Standard units; ``attrs``: site, step_minutes, columns (which file column fed each
        variable), zm_m, z0_m.

    Raises
    ------
    DataError
        Unreadable file or timestamp (file and line named), missing required variables, values out of
        their physical range (file, line and column named), duplicated timestamps across files.
    """
    plist = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if site:
        sel = [p for p in plist if site in p.name]
        plist = sel or plist
    sites = {m.group("site") for p in plist if (m := _SITE.search(p.name))}
    if site is None and len(sites) > 1:
        raise DataError(located(f"files of several sites given: {sorted(sites)}", where="read_turbulence",
                                fix="pass site='XX-Yyy'"))
    if not plist:
        raise DataError(located("no files given", where="read_turbulence"))
    frames = []
    used: dict[str, str] = {}
    for path in sorted(plist):
        df, t, header_line = _read_one(path)
        cols = list(df.columns)
        block = {"time": t.values}
        for name in TURBULENCE_UNITS:
            col = _pick_column(cols, name)
            if col is None:
                continue
            vals = pd.to_numeric(df[col].str.strip().replace({"": "nan", "NA": "nan"}), errors="coerce")
            bad = np.flatnonzero(vals.isna().values & ~df[col].str.strip().isin(["", "NA", "nan", "NaN"]).values)
            if bad.size:
                i = int(bad[0])
                raise DataError(located(f"non-numeric value {df[col].iloc[i]!r}", where=f"{path}, line {header_line + 1 + i}, "
                                        f"column {col}", fix="use numbers and -9999 for missing values"))
            v = vals.to_numpy(dtype=float, copy=True)
            v[np.isclose(v, missing)] = np.nan
            if name in _RANGES:
                lo, hi = _RANGES[name]
                out = np.flatnonzero(np.isfinite(v) & ((v < lo) | (v > hi)))
                if out.size:
                    i = int(out[0])
                    raise DataError(located(
                        f"{name} = {v[i]} outside its physical range [{lo}, {hi}] {TURBULENCE_UNITS[name]} "
                        f"({out.size} values)", where=f"{path}, line {header_line + 1 + i}, column {col}",
                        fix=f"check the units ({name} in {TURBULENCE_UNITS[name]}) and the missing-value code"))
            block[name] = v
            used.setdefault(name, f"{path.name}:{col}")
        frames.append(pd.DataFrame(block))
    df = pd.concat(frames, ignore_index=True).sort_values("time")
    dup = df["time"].duplicated()
    if dup.any():
        raise DataError(located(f"duplicated timestamp {df['time'][dup].iloc[0]}", where="read_turbulence "
                                f"({', '.join(p.name for p in plist)})", fix="pass each site-period once"))
    if "MO_LENGTH" not in df and "ZL" in df and zm_m is not None:
        with np.errstate(divide="ignore"):
            df["MO_LENGTH"] = np.where(df["ZL"] != 0, float(zm_m) / df["ZL"], np.inf)
        used["MO_LENGTH"] = f"zm_m / {used['ZL']}"
    need = [v for v in ("USTAR", "V_SIGMA", "WD", "MO_LENGTH") if v not in df]
    if need:
        raise DataError(located(f"required variables missing: {need}", where=", ".join(p.name for p in plist),
                                fix="the files need USTAR, V_SIGMA, WD and MO_LENGTH (or ZL together with zm_m=...)"))
    steps = np.diff(df["time"].values).astype("timedelta64[m]").astype(int)
    step = int(np.median(steps)) if steps.size else 30
    if step not in (30, 60):
        raise DataError(located(f"time step of {step} min", where=", ".join(p.name for p in plist),
                                fix="give half-hourly (HH) or hourly (HR) files"))
    ds = xr.Dataset(coords={"time": df["time"].values})
    for name in TURBULENCE_UNITS:
        if name in df:
            ds[name] = ("time", df[name].to_numpy(float), {"units": TURBULENCE_UNITS[name]})
    ds.attrs.update({"site": site or (sorted(sites)[0] if sites else "unknown"), "step_minutes": step,
                     "columns": "; ".join(f"{k}={v}" for k, v in used.items()), "time_label": "start of interval"})
    if zm_m is not None:
        ds.attrs["zm_m"] = float(zm_m)
    if z0_m is not None:
        ds.attrs["z0_m"] = float(z0_m)
    return ds


def read_landscape(paths, *, site: str | None = None, **ignored) -> xr.Dataset:
    """Read a land-cover / NDVI raster around a tower (netCDF: x, y [m] from the tower; land_cover, NDVI).

    ``land_cover`` needs ``flag_values`` and ``flag_meanings`` (IGBP codes) attributes; x and y must be
    regular and increasing cell centres in metres. Demo-generator arguments (``grid``, ``dominant``...)
    are accepted and ignored, so that one ``open_dataset`` call works for both sources.
    """
    plist = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if site:
        plist = [p for p in plist if site in p.name] or plist
    if len(plist) != 1:
        raise DataError(located(f"expected one landscape file, got {[p.name for p in plist]}", where="read_landscape",
                                fix="pass site='XX-Yyy' to choose one"))
    path = plist[0]
    ds = xr.load_dataset(path)
    for v in ("land_cover", "NDVI"):
        if v not in ds:
            raise DataError(located(f"variable {v} missing", where=str(path)))
    for c in ("x", "y"):
        if c not in ds.coords or ds[c].size < 2:
            raise DataError(located(f"coordinate {c} missing", where=str(path)))
        d = np.diff(np.asarray(ds[c], float))
        if not (np.all(d > 0) and np.allclose(d, d[0], rtol=1e-6)):
            raise DataError(located(f"coordinate {c} is not regular and increasing", where=str(path)))
        if ds[c].attrs.get("units", "m") != "m":
            raise DataError(located(f"coordinate {c} has units {ds[c].attrs['units']!r}", where=str(path),
                                    fix="x and y in metres from the tower"))
    if "flag_meanings" not in ds["land_cover"].attrs or "flag_values" not in ds["land_cover"].attrs:
        raise DataError(located("land_cover lacks flag_values / flag_meanings", where=str(path),
                                fix="add the class codes and their IGBP names as attributes"))
    ds.attrs.setdefault("site", site or path.stem)
    return ds
