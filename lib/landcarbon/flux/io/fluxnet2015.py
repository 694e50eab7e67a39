"""FLUXNET2015 FULLSET half-hourly (HH) and hourly (HR) CSV files (Pastorello et al. 2020, Sci. Data
7:225, doi:10.1038/s41597-020-0534-3)."""
from __future__ import annotations

import io as _io
import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import ConfigError, DataError, located
from ._common import (_as_paths, _read_text_normalised, _to_float_checked, check_field_counts, check_time_axis,
                      finish_loaded, make_site_dataset)

__all__ = ["FLUXNET_DRIVERS", "read_fluxnet2015"]

# ---------------------------------------------------------------------------------------------
# FLUXNET2015 FULLSET
# ---------------------------------------------------------------------------------------------

#: standard name -> (candidate FLUXNET2015 columns in order of preference; unit documented by FLUXNET)
FLUXNET_DRIVERS: dict[str, tuple[tuple[str, ...], str]] = {
    "TA": (("TA_F", "TA_F_MDS", "TA"), "degC"),
    "SW_IN": (("SW_IN_F", "SW_IN_F_MDS", "SW_IN"), "W m-2"),
    "VPD": (("VPD_F", "VPD_F_MDS", "VPD"), "hPa"),
    "RH": (("RH",), "%"),
    "TS": (("TS_F_MDS_1",), "degC"),
    "SWC": (("SWC_F_MDS_1",), "%"),
    "USTAR": (("USTAR",), "m s-1"),
    "WS": (("WS_F", "WS"), "m s-1"),
    "P": (("P_F", "P"), "mm"),
    "LE": (("LE_F_MDS",), "W m-2"),
    "H": (("H_F_MDS",), "W m-2"),
}

_FLX_NAME = re.compile(r"FLX_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_FLUXNET2015_(?P<set>[A-Z]+)_(?P<res>HH|HR)_")


def read_fluxnet2015(
    paths,
    site: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset_hours: float | None = None,
    *,
    variant: str = "VUT",
    percentile: str = "REF",
    nee_measured_only: bool = True,
    required: Sequence[str] = ("NEE", "SW_IN", "TA", "VPD"),
    regularise: bool = False,
    plausibility: str = "raise",
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> xr.Dataset:
    """Read FLUXNET2015 FULLSET half-hourly (``_HH_``) or hourly (``_HR_``) CSV file(s).

    Format (Pastorello et al. 2020, doi:10.1038/s41597-020-0534-3; fluxnet.org "FULLSET data
    product"): comma separated with a header line; ``TIMESTAMP_START``/``TIMESTAMP_END`` as
    ``YYYYMMDDHHMM`` in local standard time; ``-9999`` = missing; quality flags ``<VAR>_QC``
    (0 = measured, 1..3 = gap-filled quality). Units are fixed by the product documentation
    (there is no units line): TA degC, SW_IN W m-2, VPD hPa, SWC %, TS degC, USTAR m s-1,
    NEE µmol CO2 m-2 s-1, P mm per step.

    NEE is taken from ``NEE_<variant>_<percentile>`` (``variant`` "VUT" = variable u* threshold per
    year or "CUT" = constant; ``percentile`` "REF", "USTAR50", "MEAN", or e.g. "50"). With
    ``nee_measured_only=True`` (default) NEE is set to NaN where its ``_QC`` != 0, so that u*
    filtering and MDS of this package start from measured data; the flag is kept as ``NEE_QC``.
    Drivers use the consolidated ``_F`` columns where present (their ``_QC`` kept).

    Robustness: an empty file, a truncated row, a required column that is entirely ``-9999`` or
    values outside the physical ranges of :mod:`landcarbon.data.plausibility` (e.g. ``1e30``, ``inf``)
    raise :class:`DataError` naming the file (``plausibility="mask"`` sets implausible values to NaN;
    ``ranges`` overrides the limits).

    Returns the standard site dataset (time = TIMESTAMP_END); NEE > 0 = release.
    """
    plist = _as_paths(paths)
    variant = variant.upper()
    if variant not in ("VUT", "CUT"):
        raise ConfigError(located(f"variant {variant!r} unknown", fix="use 'VUT' or 'CUT'"))
    frames, sites = [], set()
    for p in plist:
        m = _FLX_NAME.search(p.name)
        if m:
            sites.add(m.group("site"))
        text = _read_text_normalised(p)
        lines = text.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        check_field_counts(lines[1:], n_fields=len(lines[0].split(",")), sep=",", path=p, first_line=2)
        try:
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise DataError(located(f"cannot parse CSV: {e}", where=str(p),
                                    fix="check the file is a complete FLUXNET2015 FULLSET CSV"))
        for c in ("TIMESTAMP_START", "TIMESTAMP_END"):
            if c not in df.columns:
                raise DataError(located(f"missing column {c}", where=f"{p}, line 1",
                                        fix="FULLSET HH/HR files need TIMESTAMP_START and TIMESTAMP_END"))
        if df.empty:
            raise DataError(located("the file has a header but no data rows", where=str(p),
                                    fix="the file was cut off or exported empty; fetch it again"))
        df.attrs["path"] = p
        frames.append(df)
    out_t, out_d = [], []
    nee_col = f"NEE_{variant}_{percentile}"
    for df in frames:
        p = df.attrs["path"]
        te = pd.to_datetime(df["TIMESTAMP_END"].str.strip(), format="%Y%m%d%H%M", errors="coerce")
        ts = pd.to_datetime(df["TIMESTAMP_START"].str.strip(), format="%Y%m%d%H%M", errors="coerce")
        if te.isna().any() or ts.isna().any():
            i = int(np.flatnonzero((te.isna() | ts.isna()).to_numpy())[0])
            raise DataError(located("unparsable TIMESTAMP (expected YYYYMMDDHHMM)",
                                    where=f"{p}, line {i + 2}", fix="repair the time stamp"))
        dur = (te - ts).dt.total_seconds().to_numpy()
        if not np.isin(dur, (1800, 3600)).all() or len(np.unique(dur)) != 1:
            i = int(np.flatnonzero(dur != dur[0])[0]) if len(np.unique(dur)) > 1 else 0
            raise DataError(located(f"TIMESTAMP_END - TIMESTAMP_START = {dur[i]} s is not a constant 1800/3600 s",
                                    where=f"{p}, line {i + 2}", fix="use an HH or HR FULLSET file"))
        d: dict[str, np.ndarray] = {}
        if nee_col not in df.columns:
            avail = sorted(c for c in df.columns if c.startswith("NEE_") and not c.endswith("_QC"))[:12]
            raise DataError(located(f"missing column {nee_col}", where=f"{p}, line 1",
                                    fix=f"choose variant/percentile among the file's NEE columns, e.g. {avail}"))
        nee = _to_float_checked(df[nee_col], path=p, column=nee_col, line_offset=2)
        if f"{nee_col}_QC" in df.columns:
            q = _to_float_checked(df[f"{nee_col}_QC"], path=p, column=f"{nee_col}_QC", line_offset=2)
            d["NEE_QC"] = q
            if nee_measured_only:
                nee = np.where(q == 0, nee, np.nan)
        d["NEE"] = nee
        for std, (cands, _unit) in FLUXNET_DRIVERS.items():
            col = next((c for c in cands if c in df.columns), None)
            if col is None:
                continue
            d[std] = _to_float_checked(df[col], path=p, column=col, line_offset=2)
            if f"{col}_QC" in df.columns:
                d[f"{std}_QC"] = _to_float_checked(df[f"{col}_QC"], path=p, column=f"{col}_QC", line_offset=2)
        missing = [r for r in required if r not in d]
        if missing:
            raise DataError(located(f"missing required variable(s) {missing}", where=f"{p}, line 1",
                                    fix="FULLSET columns expected: " + ", ".join(
                                        FLUXNET_DRIVERS[m][0][0] for m in missing if m in FLUXNET_DRIVERS)))
        out_t.append(te.to_numpy())
        out_d.append(d)
    t = np.concatenate(out_t)
    keys = list(dict.fromkeys(k for d in out_d for k in d))
    data = {k: np.concatenate([d.get(k, np.full(len(tt), np.nan)) for d, tt in zip(out_d, out_t)]) for k in keys}
    order = np.argsort(t, kind="stable")
    t = t[order]
    data = {k: v[order] for k, v in data.items()}
    where = ", ".join(map(str, plist))
    full, step, index = check_time_axis(t, where=where, regularise=regularise)
    if site is None:
        site = sites.pop() if len(sites) == 1 else "unknown"
    units = {k: FLUXNET_DRIVERS[k][1] for k in data if k in FLUXNET_DRIVERS}
    ds = make_site_dataset(full, data, units=units, site=site, lat=lat, lon=lon,
                           utc_offset_hours=utc_offset_hours, timestep_seconds=step, where=where,
                           index=index, extra_attrs={"file_format": "FLUXNET2015 FULLSET",
                                                     "nee_column": nee_col,
                                                     "nee_measured_only": int(nee_measured_only)})
    return finish_loaded(ds, where=where, required=required, plausibility=plausibility, ranges=ranges)


