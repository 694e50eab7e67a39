"""Flux-tower site metadata (coordinates, vegetation class, climate class, heights).

The table is FluxDataKit's ``fdk_site_info.csv`` (Stocker et al., geco-bern/FluxDataKit): 339 sites of
FLUXNET2015, ICOS, AmeriFlux and PLUMBER with longitude/latitude [degrees], elevation [m], IGBP land-use
class, Köppen–Geiger climate code, canopy height and measurement (reference) height [m], mean annual
temperature [°C] and the aridity ratio P/PET [1].
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located

__all__ = ["read_site_info", "build_site_info_extract", "SITE_INFO_COLUMNS"]

#: Column of the CSV -> (variable name, units, long name)
SITE_INFO_COLUMNS = {
    "lon": ("lon", "degrees_east", "longitude of the tower"),
    "lat": ("lat", "degrees_north", "latitude of the tower"),
    "elv": ("elevation", "m", "elevation above sea level"),
    "year_start": ("year_start", "1", "first year of data in the source product"),
    "year_end": ("year_end", "1", "last year of data in the source product"),
    "canopy_height": ("canopy_height", "m", "canopy height"),
    "reference_height": ("measurement_height", "m", "measurement (reference) height of the eddy-covariance system"),
    "koeppen_code": ("koeppen", "", "Köppen-Geiger climate class"),
    "igbp_land_use": ("igbp", "", "IGBP land-cover class"),
    "whc": ("whc", "mm", "root-zone water-holding capacity"),
    "product": ("product", "", "network/product the site record comes from"),
    "c3c4": ("c3c4", "", "photosynthetic pathway of the dominant vegetation"),
    "mat": ("mat", "degC", "mean annual air temperature"),
    "p_over_pet": ("p_over_pet", "1", "ratio of precipitation to potential evapotranspiration"),
}
_TEXT = {"koeppen_code", "igbp_land_use", "product", "c3c4"}


def read_site_info(paths) -> xr.Dataset:
    """Read ``fdk_site_info.csv`` into a Dataset indexed by ``site`` (FLUXNET site id, e.g. ``DE-Tha``).

    Missing values (``NA``) become NaN (numbers) or ``""`` (text). Raises :class:`DataError` naming the
    file and the column when a required column is absent or a coordinate is out of range.
    """
    path = Path(paths[0] if isinstance(paths, (list, tuple)) else paths)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(located(f"cannot read the site table ({exc})", where=str(path),
                                fix="use FluxDataKit's fdk_site_info.csv (comma separated, header line)")) from exc
    need = ["sitename", *SITE_INFO_COLUMNS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(located(f"site table lacks column(s) {missing}", where=str(path),
                                fix="use FluxDataKit's fdk_site_info.csv with its original header"))
    if df["sitename"].duplicated().any():
        dup = df.loc[df["sitename"].duplicated(), "sitename"].tolist()
        raise DataError(located(f"duplicate site ids {dup[:5]}", where=f"{path}, column 'sitename'"))
    out = xr.Dataset(coords={"site": ("site", df["sitename"].to_numpy(dtype=str))})
    for col, (name, units, long_name) in SITE_INFO_COLUMNS.items():
        raw = df[col].replace({"NA": "", "NaN": "", "nan": ""})
        if col in _TEXT:
            values = raw.to_numpy(dtype=str)
        else:
            values = pd.to_numeric(raw.replace("", np.nan), errors="coerce").to_numpy(dtype=float)
            bad = raw.ne("") & ~np.isfinite(values)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(located(f"non-numeric value {raw.iloc[i]!r}", where=f"{path}, line {i + 2}, column {col!r}",
                                        fix="correct the value or write NA"))
        out[name] = ("site", values, {"units": units, "long_name": long_name} if units else {"long_name": long_name})
    for name, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
        v = out[name].values
        if np.any((v < lo) | (v > hi)):
            i = int(np.flatnonzero((v < lo) | (v > hi))[0])
            raise DataError(located(f"{name} {v[i]} outside [{lo}, {hi}]", where=f"{path}, line {i + 2}, site {out.site.values[i]}"))
    out.attrs.update(title="Flux-tower site metadata (FluxDataKit fdk_site_info.csv)",
                     references="Stocker B. et al., FluxDataKit (geco-bern/FluxDataKit), data/fdk_site_info.csv")
    return out


def build_site_info_extract(raw_paths, out_dir) -> list[Path]:
    """The extract is the table itself (50 kB): copied unchanged to ``<out_dir>/site-info/fdk_site_info.csv``."""
    target = Path(out_dir) / "site-info" / "fdk_site_info.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw_paths[0], target)
    return [target]
