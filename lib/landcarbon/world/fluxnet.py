"""FLUXNET2015 FULLSET monthly (MM) files: the loader of the raw files, the compact embedded extract of the
171 towers the report uses, and the site metadata (coordinates, IGBP class, Köppen class).

File format (Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3; FLUXNET2015 FULLSET documentation):
``FLX_<SITE>_FLUXNET2015_FULLSET_MM_<Y0>-<Y1>_<ver>.csv``; first column ``TIMESTAMP`` = ``YYYYMM``; −9999 =
missing; columns selected by name (order differs between sites). At MM resolution fluxes are monthly means of
daily sums [gC m-2 d-1], ``NEE_VUT_REF_QC`` is the fraction of measured or good-quality gap-filled
half-hours, ``P_F`` is in mm d-1, and the ``*_ERA`` columns are ERA-Interim meteorology downscaled to the
tower (Vuichard & Papale 2015, doi:10.5194/essd-7-157-2015) — gap free over the record.

Every file is checked on the way in: its name, its header, the number of fields of every row (a truncated
download is refused, not read as NaN), integer ``YYYYMM`` stamps without duplicates, numeric values, and the
physical plausibility ranges of :mod:`landcarbon.data.plausibility` (``1e30`` or ``inf`` in a flux column is
refused with file, variable and month). The report reads the same numbers from the embedded extract
(:func:`build_fluxnet_mm_extract` keeps the original text of every value it copies).
"""
from __future__ import annotations

import gzip
import math
import io
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from .climate import climate_zone

__all__ = ["FLUXNET_MM_COLUMNS", "EXTRACT_COLUMNS", "read_fluxnet_monthly", "read_fluxnet_mm_extract",
           "build_fluxnet_mm_extract", "read_site_supplement", "fluxnet_site_metadata", "PLAUSIBLE_EXTRA",
           "fluxnet2015_network"]

#: FULLSET_MM column -> (standard name, units at MM resolution).
FLUXNET_MM_COLUMNS = {
    "RECO_NT_VUT_REF": ("RECO_NT", "gC m-2 d-1"),
    "RECO_DT_VUT_REF": ("RECO_DT", "gC m-2 d-1"),
    "GPP_NT_VUT_REF": ("GPP_NT", "gC m-2 d-1"),
    "GPP_DT_VUT_REF": ("GPP_DT", "gC m-2 d-1"),
    "NEE_VUT_REF": ("NEE", "gC m-2 d-1"),
    "NEE_VUT_REF_QC": ("NEE_QC", "1"),
    "TA_F": ("TA", "degC"),
    "TS_F_MDS_1": ("TS", "degC"),
    "SW_IN_F": ("SW_IN", "W m-2"),
    "VPD_F": ("VPD", "hPa"),
    "P_F": ("P", "mm d-1"),
    "SWC_F_MDS_1": ("SWC", "%"),
    "TA_ERA": ("TA_ERA", "degC"),
    "SW_IN_ERA": ("SW_IN_ERA", "W m-2"),
    "VPD_ERA": ("VPD_ERA", "hPa"),
    "P_ERA": ("P_ERA", "mm d-1"),
}
_NAMES = {v[0]: k for k, v in FLUXNET_MM_COLUMNS.items()}
#: columns copied into the embedded extract (what chapters 02/03 use), in this order
EXTRACT_COLUMNS = ("RECO_NT_VUT_REF", "RECO_DT_VUT_REF", "GPP_NT_VUT_REF", "GPP_DT_VUT_REF", "NEE_VUT_REF",
                   "NEE_VUT_REF_QC", "TA_F", "SW_IN_F", "VPD_F", "P_F", "TA_ERA", "SW_IN_ERA", "VPD_ERA", "P_ERA")
#: plausibility ranges for variables the shared table does not cover (units of the MM files; our limits)
#: (the partitioned fluxes take the shared gC m-2 d-1 flux range of landcarbon.data.plausibility)
PLAUSIBLE_EXTRA = {"P": (0.0, 500.0), "P_ERA": (0.0, 500.0), "TA_ERA": (-80.0, 60.0), "SW_IN_ERA": (-50.0, 1500.0),
                   "VPD_ERA": (-5.0, 150.0), "NEE_QC": (0.0, 1.0),
                   **{v: (-100.0, 100.0) for v in ("RECO_NT", "RECO_DT", "GPP_NT", "GPP_DT")}}
_FLX_NAME = re.compile(r"FLX_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_FLUXNET2015_(?P<product>[A-Z]+)_(?P<res>[A-Z]{2})_"
                       r"(?P<y0>\d{4})-(?P<y1>\d{4})_(?P<ver>\d+-\d+)\.csv$")
_MISSING = {"-9999", "-9999.0", "-9999.00", "-9999.000", "-9999.0000"}
_EXTRACT_NAME = "fluxnet2015-mm/fluxnet2015_mm_extract.csv.gz"


# ----------------------------------------------------------------------------------------------
# one file -> text table -> numbers
# ----------------------------------------------------------------------------------------------
def _check_name(p: Path) -> str:
    m = _FLX_NAME.search(p.name)
    if not m:
        raise DataError(located("file name is not a FLUXNET2015 file name", where=str(p),
                                fix="expected FLX_<CC-SSS>_FLUXNET2015_FULLSET_MM_<YYYY>-<YYYY>_<v>-<v>.csv"))
    if m["res"] != "MM":
        raise DataError(located(f"resolution {m['res']!r} is not monthly", where=str(p),
                                fix="pass the *_MM_* files here; half-hourly files go to landcarbon.flux.io"))
    return m["site"]


def _text_table(p: Path, columns: Iterable[str]) -> pd.DataFrame:
    """The wanted columns of one MM file as text (exact tokens), after structural checks."""
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(located(f"not a text CSV file ({exc.reason} at byte {exc.start})", where=str(p),
                                fix="the file is corrupt or not a FLUXNET2015 CSV; fetch it again")) from exc
    except OSError as exc:
        raise DataError(located(f"cannot read the file ({exc})", where=str(p))) from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(located("the file is empty", where=str(p), fix="fetch the file again"))
    header = [c.strip() for c in lines[0].split(",")]
    if "TIMESTAMP" not in header:
        hint = " (this looks like an HH/HR/WW file)" if "TIMESTAMP_START" in header else ""
        raise DataError(located(f"column TIMESTAMP missing{hint}", where=f"{p}, line 1 (header)",
                                fix="monthly FULLSET files start with a TIMESTAMP column (YYYYMM)"))
    if not any(c in header for c in ("RECO_NT_VUT_REF", "RECO_DT_VUT_REF")):
        raise DataError(located("neither RECO_NT_VUT_REF nor RECO_DT_VUT_REF present", where=f"{p}, line 1 (header)",
                                fix="use the FULLSET product (SUBSET lacks some partitioning columns)"))
    if len(lines) < 2:
        raise DataError(located("the file has a header but no data rows", where=str(p), fix="fetch the file again"))
    nsep = len(header) - 1
    for i, line in enumerate(lines[1:], start=2):
        k = line.count(",")
        if k != nsep:
            raise DataError(located(f"row has {k + 1} fields but the header has {nsep + 1}", where=f"{p}, line {i}",
                                    fix="the file is truncated or corrupted; fetch it again"))
    want = [c for c in header if c == "TIMESTAMP" or c in columns]
    idx = [header.index(c) for c in want]
    rows = [line.split(",") for line in lines[1:]]
    return pd.DataFrame({c: [r[j].strip() for r in rows] for c, j in zip(want, idx)})


def _to_float(tokens: np.ndarray, where: str, line_of, col: str) -> np.ndarray:
    """Text tokens -> float64 with -9999 (and empty) -> NaN; a non-numeric token is a DataError."""
    miss = np.isin(tokens, list(_MISSING)) | (tokens == "")
    clean = np.where(miss, "nan", tokens)
    try:
        vals = clean.astype(np.float64)
    except ValueError:
        vals = None
    if vals is not None:
        # "nan"/"inf" spelled out in a file are not FLUXNET numbers: NaN is only ever the -9999 code
        spelled = ~miss & np.isnan(vals)
        if not spelled.any():
            return vals
    for r, tok in enumerate(clean):
        try:
            bad = not miss[r] and math.isnan(float(tok))
        except ValueError:
            bad = True
        if bad:
            raise DataError(located(f"non-numeric value {str(tokens[r])!r}", where=f"{where}, {line_of(r)}, column {col}",
                                    fix="numbers only; missing = -9999"))
    raise AssertionError("unreachable")  # pragma: no cover


def _numbers(tab: pd.DataFrame, where: str, line_of) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
    ts = np.char.strip(tab["TIMESTAMP"].to_numpy(dtype=str))
    ts = np.where(np.char.endswith(ts, ".0"), np.char.rstrip(np.char.rstrip(ts, "0"), "."), ts)
    ok = (np.char.str_len(ts) == 6) & np.char.isdigit(ts)
    num = np.where(ok, ts, "000000").astype(np.int64)
    mm = num % 100
    ok &= (mm >= 1) & (mm <= 12)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise DataError(located(f"TIMESTAMP {tab['TIMESTAMP'].iloc[r]!r} is not YYYYMM",
                                where=f"{where}, {line_of(r)}, column TIMESTAMP", fix="monthly files use integer YYYYMM stamps"))
    stamps = ((num // 100 - 1970) * 12 + (mm - 1)).astype("datetime64[M]").astype("datetime64[ns]")
    time = pd.DatetimeIndex(stamps, name="time")
    if time.duplicated().any():
        r = int(np.flatnonzero(time.duplicated())[0])
        raise DataError(located(f"duplicate month {ts[r]}", where=f"{where}, {line_of(r)}",
                                fix="each month must appear once"))
    cols = {}
    for col, (name, _) in FLUXNET_MM_COLUMNS.items():
        if col in tab.columns:
            cols[name] = _to_float(np.char.strip(tab[col].to_numpy(dtype=str)), where, line_of, col)
    return time, cols


def _check_sites(ds: xr.Dataset, wheres: dict[str, str], plausibility: str, ranges) -> xr.Dataset:
    """Physical plausibility of the assembled table; a refusal names the file (or extract site) and month."""
    from ..data.plausibility import check_plausible, plausible_range

    rng = {**PLAUSIBLE_EXTRA, **(ranges or {})}
    if plausibility == "mask":
        return check_plausible(ds, where="FLUXNET2015 monthly files", ranges=rng, action="mask")
    if plausibility != "raise":
        raise DataError(located(f"plausibility must be 'raise' or 'mask', got {plausibility!r}", where="read_fluxnet_monthly"))
    for name in ds.data_vars:
        lo_hi = rng.get(name) or plausible_range(name, ds[name].attrs.get("units"))
        v = ds[name].values
        with np.errstate(invalid="ignore"):
            bad = np.isinf(v) if lo_hi is None else (np.isinf(v) | (v < lo_hi[0]) | (v > lo_hi[1]))
        if bad.any():
            i = int(np.argwhere(bad)[0][0])
            one = xr.Dataset({name: ds[name].isel(site=i, drop=True)}, coords={"time": ds["time"].values})
            check_plausible(one, where=wheres[str(ds["site"].values[i])], ranges=rng, action="raise")
    return ds


# ----------------------------------------------------------------------------------------------
# site metadata
# ----------------------------------------------------------------------------------------------
def read_site_supplement(paths) -> xr.Dataset:
    """Read the supplementary FLUXNET2015 site table (``site_supplement.csv``; '#' lines are provenance).

    Returns a Dataset on ``site`` with ``lat``, ``lon`` [degrees], ``elevation`` [m], ``igbp``, ``mat``
    [degC] and ``map`` [mm yr-1] (NaN / "" where the site database publishes nothing).
    """
    path = Path(paths[0] if isinstance(paths, (list, tuple)) else paths)
    try:
        df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(located(f"cannot read the site table ({exc})", where=str(path))) from exc
    need = ["site", "lat", "lon", "elevation", "igbp", "mat", "map"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise DataError(located(f"site table lacks column(s) {miss}", where=str(path), fix="use the shipped file"))
    out = xr.Dataset(coords={"site": ("site", df["site"].to_numpy(dtype=str))})
    for c, u in (("lat", "degrees_north"), ("lon", "degrees_east"), ("elevation", "m"), ("mat", "degC"), ("map", "mm yr-1")):
        v = pd.to_numeric(df[c].replace("", np.nan), errors="coerce").to_numpy(dtype=float)
        bad = (df[c] != "") & ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(located(f"non-numeric value {df[c].iloc[i]!r}", where=f"{path}, column {c}, site {df['site'].iloc[i]}"))
        out[c] = ("site", v, {"units": u})
    out["igbp"] = ("site", df["igbp"].to_numpy(dtype=str))
    for name, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
        v = out[name].values
        if np.any((v < lo) | (v > hi)):
            raise DataError(located(f"{name} outside [{lo}, {hi}]", where=str(path)))
    out.attrs["title"] = "FLUXNET2015 site facts (site database copy)"
    return out


def fluxnet_site_metadata() -> pd.DataFrame:
    """Coordinates, IGBP and Köppen class of the FLUXNET2015 towers, indexed by site id.

    FluxDataKit's table (``open_dataset("site-info")``, 339 sites, with Köppen classes) first; towers it
    lacks come from the FLUXNET2015 site database copy (``open_dataset("fluxnet2015-site-supplement")``).
    Column ``meta_source`` names the source of each row.
    """
    from ..data import open_dataset

    fdk = open_dataset("site-info", source="real")
    a = pd.DataFrame({"lat": fdk["lat"].values, "lon": fdk["lon"].values, "PFT": fdk["igbp"].values.astype(str),
                      "koeppen": fdk["koeppen"].values.astype(str), "elevation": fdk["elevation"].values,
                      "meta_source": "site-info"}, index=pd.Index(fdk["site"].values.astype(str), name="site"))
    sup = open_dataset("fluxnet2015-site-supplement", source="real")
    b = pd.DataFrame({"lat": sup["lat"].values, "lon": sup["lon"].values, "PFT": sup["igbp"].values.astype(str),
                      "koeppen": "", "elevation": sup["elevation"].values, "meta_source": "fluxnet2015-site-supplement"},
                     index=pd.Index(sup["site"].values.astype(str), name="site"))
    return pd.concat([a, b.loc[~b.index.isin(a.index)]])


def _read_site_metadata(meta, folder: Path | None) -> pd.DataFrame:
    if meta is None:
        return fluxnet_site_metadata()
    if meta is False:
        return pd.DataFrame(columns=["lat", "lon", "PFT"]).rename_axis("site")
    if isinstance(meta, pd.DataFrame):
        df = meta.copy()
    elif isinstance(meta, dict):
        df = pd.DataFrame.from_dict(meta, orient="index").rename_axis("SITE_ID").reset_index()
    else:
        p = Path(meta)
        if not p.is_absolute() and folder is not None and not p.is_file():
            p = folder / p
        if not p.is_file():
            raise DataError(located("site metadata file not found", where=str(p),
                                    fix="give a CSV with SITE_ID, LOCATION_LAT, LOCATION_LONG, IGBP (FLUXNET site list) "
                                        "or leave metadata=None for the shipped site tables"))
        df = pd.read_csv(p, encoding="utf-8-sig")
    ren = {"SITE_ID": "site", "LOCATION_LAT": "lat", "LOCATION_LONG": "lon", "IGBP": "PFT",
           "latitude": "lat", "longitude": "lon", "pft": "PFT", "igbp": "PFT"}
    df = df.rename(columns={k: v for k, v in ren.items() if k in df.columns})
    miss = [c for c in ("site", "lat", "lon") if c not in df.columns and c != df.index.name]
    if miss:
        raise DataError(located(f"site metadata lacks columns {miss}", where=str(meta),
                                fix="columns SITE_ID, LOCATION_LAT, LOCATION_LONG (and IGBP) are needed"))
    return df.set_index("site") if "site" in df.columns else df


# ----------------------------------------------------------------------------------------------
# assembling the standard site table
# ----------------------------------------------------------------------------------------------
def _climatological_mean(ta: np.ndarray, months: np.ndarray) -> float:
    """Mean of the 12 calendar-month means (NaN unless every month has a value): an annual mean that
    does not depend on which months a short record happens to cover."""
    means = []
    for m in range(1, 13):
        v = ta[months == m]
        v = v[np.isfinite(v)]
        if v.size == 0:
            return float("nan")
        means.append(v.mean())
    return float(np.mean(means))


def _assemble(sites: dict[str, tuple[pd.DatetimeIndex, dict]], metadata, folder, years, title: str, *,
              wheres: dict[str, str], plausibility: str, ranges) -> xr.Dataset:
    names = sorted(sites)
    t0 = min(t.min() for t, _ in sites.values())
    t1 = max(t.max() for t, _ in sites.values())
    time = pd.date_range(t0, t1, freq="MS")
    variables = sorted({c for _, cols in sites.values() for c in cols}, key=lambda n: list(_NAMES).index(n))
    data = {n: np.full((len(names), time.size), np.nan) for n in variables}
    pos = {t: k for k, t in enumerate(time)}
    for i, s in enumerate(names):
        t, cols = sites[s]
        idx = np.array([pos[x] for x in t])
        for n, v in cols.items():
            data[n][i, idx] = v
    units = {v[0]: v[1] for v in FLUXNET_MM_COLUMNS.values()}
    long = {"RECO_NT": "ecosystem respiration, night-time partitioning (Reichstein et al. 2005)",
            "RECO_DT": "ecosystem respiration, day-time partitioning (Lasslop et al. 2010)",
            "GPP_NT": "gross primary production, night-time partitioning", "GPP_DT": "gross primary production, "
            "day-time partitioning", "NEE": "net ecosystem exchange (release > 0)",
            "NEE_QC": "fraction of measured or good-quality gap-filled half-hours"}
    ds = xr.Dataset({n: (("site", "time"), data[n], {"units": units[n], "long_name": long.get(n, n),
                                                      "source_column": _NAMES[n]}) for n in variables},
                    coords={"site": np.array(names), "time": time})
    ds = _check_sites(ds, wheres, plausibility, ranges)
    meta = _read_site_metadata(metadata, folder)

    def col(c, default):
        return np.array([meta[c].get(s, default) if (c in meta.columns and s in meta.index) else default for s in names])

    lat = col("lat", np.nan).astype(float)
    lon = col("lon", np.nan).astype(float)
    pft = np.array([str(v) if str(v) not in ("", "nan") else "unknown" for v in col("PFT", "unknown")])
    koeppen = np.array([str(v) if str(v) not in ("nan",) else "" for v in col("koeppen", "")])
    msrc = np.array([str(v) for v in col("meta_source", "user" if metadata is not None else "none")])
    months = time.month.to_numpy()
    mat = np.array([_climatological_mean(ds["TA"].values[i], months) for i in range(len(names))]) \
        if "TA" in ds else np.full(len(names), np.nan)
    if "MAT" in meta.columns:
        mat = np.array([float(meta["MAT"].get(s, m)) if s in meta.index else m for s, m in zip(names, mat)])
    map_ = ds["P"].mean("time").values * 365.25 if "P" in ds else np.full(len(names), np.nan)
    ds = ds.assign_coords(lat=("site", lat, {"units": "degrees_north"}), lon=("site", lon, {"units": "degrees_east"}),
                          PFT=("site", pft, {"long_name": "IGBP land-cover class"}),
                          koeppen=("site", koeppen, {"long_name": "Köppen-Geiger class ('' = unknown)"}),
                          MAT=("site", mat, {"units": "degC", "long_name": "mean of the 12 calendar-month means of TA"}),
                          MAP=("site", map_, {"units": "mm yr-1"}), climate_zone=("site", climate_zone(mat)),
                          meta_source=("site", msrc))
    if years is not None:
        ds = ds.sel(time=slice(f"{int(years[0])}-01-01", f"{int(years[1])}-12-31"))
    ds.attrs.update({"title": title, "time_label": "month start", "n_sites": len(names),
                     "references": "Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3"})
    return ds


def read_fluxnet_monthly(paths: Iterable[Path | str], *, metadata=None, years=None, plausibility: str = "raise",
                         ranges=None, **ignored) -> xr.Dataset:
    """Read FLUXNET2015 FULLSET (or SUBSET) monthly files ``FLX_<SITE>_FLUXNET2015_FULLSET_MM_*.csv``.

    Parameters
    ----------
    paths : list of path
        The MM files (one per site).
    metadata : None, False, path, DataFrame or dict
        Site coordinates and IGBP class. ``None`` (default): the shipped site tables
        (:func:`fluxnet_site_metadata`); a CSV with ``SITE_ID, LOCATION_LAT, LOCATION_LONG, IGBP`` (the
        FLUXNET site list; a relative path is looked up beside the files); ``False``: none (lat/lon NaN).
    years : (int, int), optional
        Inclusive year range to keep.
    plausibility : {"raise", "mask"}
        Physically impossible values (:mod:`landcarbon.data.plausibility` + :data:`PLAUSIBLE_EXTRA`) raise a
        :class:`DataError` naming file, variable and month, or are set to NaN and counted.
    ranges : dict, optional
        Overrides of the plausibility ranges ``{name: (low, high)}``.
    **ignored
        Demo-only arguments accepted so that one call works for both sources.

    Returns
    -------
    xarray.Dataset
        Standard site table, dims (site, time), month-start stamps: RECO_NT, RECO_DT, GPP_NT, GPP_DT, NEE
        [gC m-2 d-1; NEE > 0 = release, NEE = RECO − GPP], NEE_QC [1], TA, TS [degC], SW_IN [W m-2], VPD [hPa],
        P [mm d-1], SWC [%], TA_ERA, SW_IN_ERA, VPD_ERA, P_ERA (downscaled ERA-Interim); coords lat, lon, PFT
        (IGBP), koeppen, MAT [degC], MAP [mm yr-1], climate_zone (boreal < 2 <= temperate <= 17 < tropical),
        meta_source.
    """
    paths = sorted(Path(p) for p in paths)
    if not paths:
        raise DataError(located("no FLUXNET2015 monthly file given", where="read_fluxnet_monthly"))
    sites, wheres = {}, {}
    for p in paths:
        site = _check_name(p)
        if site in sites:
            raise DataError(located(f"two files for site {site}", where=str(p), fix="pass one MM file per site"))
        tab = _text_table(p, FLUXNET_MM_COLUMNS)
        sites[site] = _numbers(tab, str(p), lambda r: f"line {r + 2}")
        wheres[site] = str(p)
    return _assemble(sites, metadata, paths[0].parent, years, "FLUXNET2015 monthly site table", wheres=wheres,
                     plausibility=plausibility, ranges=ranges)


def build_fluxnet_mm_extract(raw_paths, out_dir) -> list[Path]:
    """Write the embedded extract: one gzip CSV (mtime 0, deterministic bytes) with ``site``, ``TIMESTAMP``
    and the :data:`EXTRACT_COLUMNS` of every raw MM file, each value copied as its original text."""
    out = Path(out_dir) / _EXTRACT_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(("site", "TIMESTAMP") + EXTRACT_COLUMNS)]
    for p in sorted(Path(q) for q in raw_paths):
        site = _check_name(p)
        tab = _text_table(p, EXTRACT_COLUMNS)
        _numbers(tab, str(p), lambda r: f"line {r + 2}")          # refuse what the loader would refuse
        for r in range(len(tab)):
            lines.append(",".join([site, tab["TIMESTAMP"].iloc[r]] +
                                  [tab[c].iloc[r] if c in tab.columns else "-9999" for c in EXTRACT_COLUMNS]))
    raw = ("\n".join(lines) + "\n").encode()
    from ..publish.atomic import atomic_path

    with atomic_path(out, suffix=".gz") as tmp:
        with open(tmp, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(raw)
    return [out]


def read_fluxnet_mm_extract(paths, *, metadata=None, years=None, plausibility: str = "raise", ranges=None,
                            **ignored) -> xr.Dataset:
    """Read the embedded extract into the same site table :func:`read_fluxnet_monthly` returns (for the
    variables of :data:`EXTRACT_COLUMNS`)."""
    path = Path(paths[0] if isinstance(paths, (list, tuple)) else paths)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            tab = pd.read_csv(fh, dtype=str, keep_default_na=False)
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(located(f"cannot read the extract ({exc})", where=str(path),
                                fix="regenerate it: python tools/make_extracts.py fluxnet2015-monthly")) from exc
    if "site" not in tab.columns or "TIMESTAMP" not in tab.columns:
        raise DataError(located("extract lacks the site/TIMESTAMP columns", where=str(path)))
    sites, wheres = {}, {}
    site_col = tab["site"].to_numpy(dtype=str)
    order = np.argsort(site_col, kind="stable")
    uniq, first = np.unique(site_col[order], return_index=True)
    bounds = list(first) + [len(order)]
    for k, site in enumerate(uniq):
        rows = order[bounds[k]:bounds[k + 1]]
        part = tab.iloc[rows]
        where = f"{path} (site {site})"
        sites[str(site)] = _numbers(part, where, lambda r, rows=rows: f"line {int(rows[r]) + 2}")
        wheres[str(site)] = where
    return _assemble(sites, metadata, None, years, "FLUXNET2015 monthly site table", wheres=wheres,
                     plausibility=plausibility, ranges=ranges)


def fluxnet2015_network() -> pd.DataFrame:
    """The 171 towers of the ``fluxnet2015-monthly`` dataset without reading any data: site id, lat, lon,
    IGBP class (``PFT``) and the first/last year of the record, from the manifest's file names
    (``..._MM_<Y0>-<Y1>_...``) and the shipped site tables. Used to place the demo twin's towers."""
    from ..data import load_manifest

    rows = []
    for spec in load_manifest()["fluxnet2015-monthly"].files:
        m = _FLX_NAME.search(Path(spec.label).name)
        if m:
            rows.append({"site": m["site"], "first_year": int(m["y0"]), "last_year": int(m["y1"])})
    net = pd.DataFrame(rows).set_index("site").sort_index()
    meta = fluxnet_site_metadata()
    return net.join(meta[["lat", "lon", "PFT", "koeppen"]], how="left")
