"""Climate zones by mean annual temperature and area-integrated regional series.

Zones follow the FLUXNET2015 respiration upscaling of Li et al.: boreal MAT < 2 °C,
temperate 2 °C ≤ MAT ≤ 17 °C, tropical MAT > 17 °C, where MAT is the 1989–2018 mean of the annual
air temperature of the pixel.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError, located
from ..units import gC_m2_yr_to_PgC_yr

__all__ = ["ZONE_NAMES", "MAT_THRESHOLDS_DEGC", "climate_zones", "regional_totals", "regional_trend_table"]

ZONE_NAMES = {1: "boreal", 2: "temperate", 3: "tropical"}
#: (boreal upper, tropical lower) MAT thresholds [degC]
MAT_THRESHOLDS_DEGC = (2.0, 17.0)


def climate_zones(mat: xr.DataArray, thresholds=MAT_THRESHOLDS_DEGC) -> xr.DataArray:
    """Zone codes from mean annual temperature [degC]: 1 boreal (< 2), 2 temperate (2–17), 3 tropical (> 17).

    0 where MAT is NaN (ocean). ``attrs`` carry ``flag_values``/``flag_meanings`` and thresholds.
    """
    u = str(mat.attrs.get("units", "degC")).replace("°", "deg").replace(" ", "")
    if u not in ("degC", "C", "degreesC", "degrees_Celsius", "Celsius", "celsius"):
        raise DataError(located(f"MAT must be in degC, got units {mat.attrs.get('units')!r}",
                                where=str(mat.name), fix="convert with landcarbon.units first"))
    lo, hi = thresholds
    z = xr.where(mat < lo, 1, xr.where(mat <= hi, 2, 3)).where(mat.notnull(), 0).astype("int8")
    if z.chunks is not None:  # a small 2-D map used many times: compute it once (on the cluster)
        z = z.compute()
    z.name = "zone"
    z.attrs = {"flag_values": [0, 1, 2, 3], "flag_meanings": "none boreal temperate tropical",
               "long_name": f"climate zone by MAT (boreal < {lo} degC <= temperate <= {hi} degC < tropical)"}
    return z


def regional_totals(er: xr.DataArray, area: xr.DataArray, zones: xr.DataArray, dim: str = "year") -> xr.DataArray:
    """Area-integrated totals [PgC yr-1] per year for the globe and each zone.

    ``er`` is a flux density [gC m-2 yr-1] (NaN over ocean), ``area`` the cell area [m2]. Uses
    :func:`landcarbon.units.gC_m2_yr_to_PgC_yr`. Returns dims (region, ``dim``) with regions
    ``global``, ``boreal``, ``temperate``, ``tropical``.
    """
    if str(er.attrs.get("units", "gC m-2 yr-1")).replace(" ", "") not in ("gCm-2yr-1", "gCm-2a-1"):
        raise DataError(located(f"ER must be in gC m-2 yr-1, got {er.attrs.get('units')!r}", where=str(er.name),
                                fix="convert the annual flux to gC m-2 yr-1"))
    regions = {"global": zones > 0, **{nm: zones == code for code, nm in ZONE_NAMES.items()}}
    er = er.transpose(dim, ...)
    vals = np.empty((len(regions), er.sizes[dim]))
    a = area.broadcast_like(er.isel({dim: 0}))
    if er.chunks is not None:  # dask: every region-year sum in one pass over the chunks (on the cluster)
        import dask
        import dask.array as dsa

        from ..units import G_PER_PG

        e = er.transpose(dim, *a.dims).data.astype(float)
        axes = tuple(range(1, e.ndim))
        sums = [dsa.nansum(e * np.asarray(a.where(m, 0.0).values, float)[None], axis=axes) for m in regions.values()]
        vals[:] = np.stack(dask.compute(*sums)) / G_PER_PG   # = units.gC_m2_yr_to_PgC_yr, summed per chunk
        regions = {k: None for k in regions}
    for r, mask in enumerate(m for m in regions.values() if m is not None):
        aw = a.where(mask, 0.0).values
        for k in range(er.sizes[dim]):
            vals[r, k] = gC_m2_yr_to_PgC_yr(er.isel({dim: k}).values, aw)
    out = xr.DataArray(vals, dims=("region", dim), coords={"region": list(regions), dim: er[dim].values},
                       name=f"{er.name or 'flux'}_total", attrs={"units": "PgC yr-1",
                                                                 "long_name": "area-integrated total"})
    return out


def regional_trend_table(totals: xr.DataArray, dim: str = "year", alpha: float = 0.05, method: str = "original"):
    """Mann–Kendall/Theil–Sen trend of each regional series of :func:`regional_totals`.

    Returns a pandas DataFrame indexed by region with ``mean`` [PgC yr-1], ``trend``,
    ``trend_low``/``trend_high`` (1 − alpha CI) [PgC yr-2], ``trend_pct`` [% of the mean per decade],
    ``tau``, ``z``, ``p``, ``significant``.
    """
    import pandas as pd

    from .mk import mk_test

    vals = totals.transpose("region", dim).values
    r = mk_test(vals, method, alpha)
    mean = vals.mean(axis=1)
    df = pd.DataFrame({
        "mean": mean, "trend": r["slope"], "trend_low": r["slope_low"], "trend_high": r["slope_high"],
        "trend_pct": 100 * 10 * r["slope"] / mean, "tau": r["tau"], "z": r["z"], "p": r["p"],
        "significant": r["significant"],
    }, index=pd.Index(totals["region"].values, name="region"))
    df.attrs["units"] = {"mean": "PgC yr-1", "trend": "PgC yr-2", "trend_pct": "% per decade"}
    return df
