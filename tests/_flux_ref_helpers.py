"""Test helpers: the REddyProc DE-Tha 1998 reference as partitioning input (pandas only)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr


def load_reddyproc_reference_input(ref_dir: Path):
    """(dataset in the partitioning input convention, raw reference DataFrame)."""
    df = pd.read_csv(Path(ref_dir) / "DETha98_REddyProc_halfhourly.csv.gz", na_values=["NA"])
    t = pd.to_datetime(df.DateTime).to_numpy()

    def da(v, u):
        return xr.DataArray(df[v].to_numpy(float), dims="time", attrs={"units": u})

    ds = xr.Dataset({"NEE_f": da("NEE_f", "umol m-2 s-1"), "NEE_fqc": da("NEE_fqc", "1"),
                     "NEE_fsd": da("NEE_fsd", "umol m-2 s-1"), "TA_f": da("Tair_f", "degC"),
                     "TA_fqc": da("Tair_fqc", "1"), "SW_IN": da("Rg", "W m-2"), "SW_IN_f": da("Rg_f", "W m-2"),
                     "VPD_f": da("VPD_f", "hPa")}, coords={"time": t})
    ds.attrs.update(site="DE-Tha", lat=50.95, lon=13.57, utc_offset_hours=1.0, timestep_seconds=1800,
                    time_label="end")
    return ds, df


def r2(a, b) -> float:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1] ** 2)
