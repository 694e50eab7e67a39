"""u* threshold (100 bootstrap samples) and MDS gap filling on DE-Tha 1998: landcarbon vs REddyProc 1.3.3.

REddyProc (R) cannot run on this machine kind (no CRAN access), so its side of the comparison is the
timing REddyProc recorded on a machine of the same kind (2 cores) in
``DE-Tha/reference-REddyProc-1.3.3/DETha98_REddyProc_summary.json`` (read here, not typed).
Results are compared too: the u* threshold and the annual gap-filled NEE.

Usage:  LANDCARBON_DATA_PATH=../shared/data python benchmarks/flux_preprocessing.py
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from landcarbon.flux.gapfill import filter_long_runs, mds_gapfill
from landcarbon.flux.io import read_reddyproc_text
from landcarbon.flux.ustar import apply_ustar_filter, ustar_threshold
from landcarbon.units import umol_m2_s_to_gC_m2_per_step


def main() -> int:
    base = next((Path(p) / "DE-Tha" for p in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep)
                 if p and (Path(p) / "DE-Tha" / "Example_DETha98.txt").is_file()), None)
    if base is None:
        print("set LANDCARBON_DATA_PATH to the folder holding DE-Tha/ (e.g. ../shared/data)")
        return 2
    ref = json.loads((base / "reference-REddyProc-1.3.3" / "DETha98_REddyProc_summary.json").read_text())
    ds = read_reddyproc_text([base / "Example_DETha98.txt"], "DE-Tha", 50.95, 13.57, 1.0)
    ustar_threshold(ds, n_boot=2)
    mds_gapfill(ds.isel(time=slice(0, 2000)), "NEE")  # compile numba kernels (cached afterwards)
    times: dict[str, list[float]] = {}
    for rep in range(3):
        t = time.perf_counter()
        res = ustar_threshold(ds, n_boot=100, seed=rep)
        times.setdefault("u* + 100 bootstraps", []).append(time.perf_counter() - t)
        nee, _ = filter_long_runs(ds.NEE.values)
        d2 = ds.copy()
        d2["NEE"] = ("time", nee, ds.NEE.attrs)
        filtered = apply_ustar_filter(d2, res.threshold)
        t = time.perf_counter()
        out = mds_gapfill(filtered, "NEE")
        times.setdefault("MDS of NEE", []).append(time.perf_counter() - t)
    annual = float(np.nansum(umol_m2_s_to_gC_m2_per_step(out["NEE_f"].values)))
    t_ref = ref["timings_s"]
    peer = {"u* + 100 bootstraps": t_ref["1_uStar_sEstimateUstarScenarios"], "MDS of NEE": t_ref["2a_MDS_NEE_sMDSGapFillAfterUstar"]}
    print(f"{'step':24s} {'landcarbon [s]':>15s} {'REddyProc [s]':>14s} {'ratio':>7s}")
    for k, v in times.items():
        print(f"{k:24s} {min(v):15.3f} {peer[k]:14.3f} {peer[k] / min(v):6.0f}x")
    print(f"u* threshold: landcarbon {res.threshold:.5f}  REddyProc {ref['uStar']['annual_uStar_no_bootstrap']:.5f} m/s")
    print(f"annual NEE_f: landcarbon {annual:.1f}  REddyProc {ref['annual_sums_gC_m2_yr']['NEE_f']:.1f} gC m-2 yr-1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
