"""The stability of the land sink across Global Carbon Budget editions: the revision of every budget term
and of the residual land sink from one edition to the next (:func:`compare_editions`) and its summary per
term (:func:`edition_summary`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .residual import TERMS, residual_land_sink

__all__ = ["compare_editions", "edition_summary"]


def compare_editions(new: xr.Dataset, old: xr.Dataset, noaa_growth: xr.Dataset | None = None) -> xr.Dataset:
    """Differences new − old of every budget term and of the residual land sink over the common years."""
    common = np.intersect1d(new["year"].values, old["year"].values)
    rn = residual_land_sink(new.sel(year=common), noaa_growth)
    ro = residual_land_sink(old.sel(year=common), noaa_growth)
    out = xr.Dataset(coords={"year": ("year", common)})
    for v in ("fossil_emissions", "land_use_change_emissions", "atmospheric_growth", "ocean_sink", "land_sink_residual",
              "land_sink", "budget_imbalance"):
        out[v + "_new"] = rn[v]
        out[v + "_old"] = ro[v]
        out[v + "_revision"] = (rn[v] - ro[v]).assign_attrs(units="PgC yr-1", long_name=f"{v}: new minus old edition")
    out.attrs.update({"new": new.attrs.get("edition", "new"), "old": old.attrs.get("edition", "old")})
    return out


def edition_summary(cmp: xr.Dataset, *, last_years: int = 10) -> pd.DataFrame:
    """Per term: mean and RMS revision over all common years, the largest |revision| and its year, and the
    mean revision over the last ``last_years`` common years [PgC yr⁻¹]."""
    rows = []
    y = cmp["year"].values
    for v in [k[:-len("_revision")] for k in cmp.data_vars if k.endswith("_revision")]:
        d = cmp[v + "_revision"].values
        k = int(np.argmax(np.abs(d)))
        rows.append({"term": v, "symbol": TERMS.get(v, "S_LAND,res" if v == "land_sink_residual" else v),
                     "mean_revision": float(d.mean()), "rms_revision": float(np.sqrt(np.mean(d**2))),
                     "max_abs_revision": float(abs(d[k])), "year_of_max": int(y[k]),
                     "mean_revision_last": float(d[-last_years:].mean()),
                     "period": f"{y[0]}–{y[-1]}", "last_period": f"{y[-last_years]}–{y[-1]}"})
    return pd.DataFrame(rows)
