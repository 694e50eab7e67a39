"""Benchmark: NT + DT partitioning of DE-Tha 1998 with landcarbon.flux vs hesseflux 5.0 (and REddyProc).

hesseflux 5.0 (Cuntz, the latest PyPI release) only runs with numpy < 1.24 and pandas < 2, so this
script creates its own virtual environment a virtual environment ``_venv_hesseflux`` beside this script (python3.11 -m venv +
pip install "hesseflux==5.0" "numpy<1.24" "pandas<2") on first use and runs hesseflux there in a
subprocess. Both packages partition the same input: REddyProc's gap-filled NEE_f of DE-Tha 1998
(measured records: NEE_fqc == 0), gap-filled Tair, Rg and VPD.

Printed: wall-clock times (best of ``--repeat`` runs after a warm-up run for numba compilation),
the speed ratio hesseflux / landcarbon for NT + DT, the annual sums of both and of REddyProc 1.3.3,
and the time of the whole chain u* (bootstrap) + MDS + NT + DT + DT-RH on the raw DE-Tha file
(REddyProc: 52.3 s for u* with 100 bootstraps, MDS, NT and DT on a 2-core machine).

Two further modes:

* ``--mode towers``: the chain (MDS, NT, DT, DT-RH) on every site-year of the 40 FLUXNET2015 towers
  with 2 worker processes; prints the batch time per site-year, the validation against ONEFlux (issue
  11 bars) and the DT-RH ratios against Li et al. (2022); writes ``towers.csv`` and
  ``dtrh_site_ratios.csv`` to the folder ``_out`` beside this script.
* ``--mode coverage --realisations 50``: coverage of the ±1σ interval of annual GPP (DT and DT-RH) on
  the digital twin over ≥ 50 realisations per scenario, with a Wilson 95 % interval (the calibration
  test of the propagated uncertainty; too heavy for CI).

Usage::

    LANDCARBON_DATA_PATH=../shared/data .venv/bin/python benchmarks/partitioning.py [--repeat 3]
    LANDCARBON_DATA_PATH=../shared/data .venv/bin/python benchmarks/partitioning.py --mode towers
    .venv/bin/python benchmarks/partitioning.py --mode coverage --realisations 50
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VENV = HERE / "_venv_hesseflux"
WORK = HERE / "_out"
REF_SUMS = {"NT": {"GPP": 1918.0, "RECO": 1305.6}, "DT": {"GPP": 1795.5, "RECO": 1191.2}}
REDDYPROC_TIMES = {"ustar_bootstrap_100": 28.664, "mds_nee": 4.526, "nt": 0.327, "dt": 18.378, "total": 52.25}


def data_dir() -> Path:
    for entry in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "DE-Tha" / "Example_DETha98.txt").is_file():
            return Path(entry) / "DE-Tha"
    sys.exit("set LANDCARBON_DATA_PATH to the folder holding DE-Tha/ (e.g. ../shared/data)")


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import hesseflux"], capture_output=True).returncode == 0
    if not ok:
        print("creating", VENV, "(hesseflux 5.0, numpy<1.24, pandas<2) ...", flush=True)
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "hesseflux==5.0", "numpy<1.24", "pandas<2"], check=True)
    out = subprocess.run([str(py), "-c", "import hesseflux, numpy, pandas; print(hesseflux.__version__, "
                          "numpy.__version__, pandas.__version__)"], capture_output=True, text=True, check=True)
    print("hesseflux venv:", out.stdout.strip(), "(hesseflux, numpy, pandas)")
    return py


HF_SCRIPT = textwrap.dedent(r'''
    import json, sys, time
    import numpy as np, pandas as pd
    import hesseflux as hf
    inp, outp, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    df = pd.read_csv(inp, parse_dates=[0], index_col=0)
    flag = pd.DataFrame(0, index=df.index, columns=df.columns)
    flag.loc[df["NEE_fqc"].values != 0, "NEE"] = 2
    dfin = df[["NEE", "TA", "SW_IN", "VPD"]].copy()
    fl = flag[["NEE", "TA", "SW_IN", "VPD"]].copy()
    isday = (df["SW_IN"].values > 10.0).copy()
    times, res = {}, {}
    for meth in ("reichstein", "lasslop"):
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = hf.nee2gpp(dfin.copy(), flag=fl.copy(), isday=isday.copy(), undef=-9999, method=meth)
            best = min(best, time.perf_counter() - t0)
        times[meth] = best
        res[meth] = out
    o = pd.DataFrame({"GPP_NT": res["reichstein"]["GPP"], "RECO_NT": res["reichstein"]["RECO"],
                      "GPP_DT": res["lasslop"]["GPP"], "RECO_DT": res["lasslop"]["RECO"]}, index=df.index)
    o = o.replace(-9999.0, np.nan)
    o.to_csv(outp)
    print(json.dumps(times))
''')


def annual(x) -> float:
    return float(np.nansum(np.asarray(x, float)) * 12.011e-6 * 1800)


def towers_mode(n_jobs: int = 2) -> None:
    """All tower site-years against ONEFlux; time per site-year."""
    import warnings

    from landcarbon.flux import towers as T

    warnings.simplefilter("ignore")
    WORK.mkdir(exist_ok=True)
    sy = T.tower_site_years("real")
    if sy.empty:
        sys.exit("set LANDCARBON_DATA_PATH to the folder holding fluxnet2015-hh/ (e.g. ../shared/data)")
    t0 = time.perf_counter()
    tab = T.run_towers(sy, n_jobs=n_jobs, progress=True)
    wall = time.perf_counter() - t0
    tab.drop(columns=["monthly"]).to_csv(WORK / "towers.csv", index=False)
    print(f"\n=== {len(tab)} site-years of {tab.site.nunique()} towers, {n_jobs} workers ===")
    print(f"wall time {wall:.0f} s = {wall / len(tab):.1f} s per site-year "
          f"(sum of per-site-year times {tab.seconds.sum():.0f} s, {tab.seconds.sum() / len(tab):.1f} s each)")
    v = T.validate_against_oneflux(tab)
    print(json.dumps({k: (round(x, 4) if isinstance(x, float) else x) for k, x in v.items()}, default=str, indent=1))
    print("left out:")
    print(tab.loc[~tab.eligible, ["site", "year", "excluded_because"]].to_string(index=False))
    print("largest |DT - ONEFlux| among the eligible:")
    print(tab[tab.eligible].assign(a=lambda d: d.d_dt.abs()).nlargest(6, "a")[
        ["site", "year", "igbp", "hourly", "d_nt", "d_dt", "r_daily_dt", "measured_share"]].round(2).to_string(index=False))
    print(T.biome_table(tab).round(3).to_string(index=False))
    print(T.outlier_groups(tab).round(2).to_string(index=False))
    sr = T.dtrh_site_ratios(tab)
    sr.to_csv(WORK / "dtrh_site_ratios.csv", index=False)
    for col in ("ratio_dtrh_nt_daytime", "ratio_dtrh_dt_daytime", "ratio_dtrh_nt_annual", "ratio_dtrh_dt_annual"):
        print(col, json.dumps(T.compare_with_li2022(sr, column=col), default=str))
    print(sr.groupby("climate_zone")[["ratio_dtrh_nt_daytime", "ratio_dtrh_dt_daytime"]].agg(["median", "count"]).round(3))
    print(sr.assign(biome=sr.igbp.map(T.BIOME_GROUPS)).groupby("biome")[["ratio_dtrh_nt_daytime", "ratio_dtrh_dt_daytime"]]
          .agg(["median", "count"]).round(3))


def coverage_mode(n_realisations: int, n_jobs: int = 2, scenarios=("S0", "S1")) -> None:
    """Coverage of the ±1σ interval of annual GPP over many twin realisations."""
    import warnings

    from landcarbon.flux.metrics import evaluate_realisations, interval_coverage

    warnings.simplefilter("ignore")
    WORK.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    errs = evaluate_realisations(list(scenarios), ["NT", "DT", "DT-RH"], n_realisations, seed=5000, year=1998,
                                 n_jobs=n_jobs, progress=True)
    errs.to_csv(WORK / "coverage_realisations.csv", index=False)
    print(f"\n=== coverage of the ±1σ interval of annual GPP, {n_realisations} realisations per scenario "
          f"({time.perf_counter() - t0:.0f} s) ===")
    for sc in scenarios:
        e = errs[errs.scenario == sc]
        for m in ("DT", "DT-RH"):
            c = interval_coverage(e, m)
            sub = e[e.method == m]
            print(f"{sc} {m:6s} coverage {100 * c['coverage']:.0f} % (95 % interval {100 * c['ci'][0]:.0f}-"
                  f"{100 * c['ci'][1]:.0f} %, n = {c['n']}; target 60-76 %); error {sub.GPP_annual_err_pct.mean():+.2f} "
                  f"± {sub.GPP_annual_err_pct.std():.2f} %, stated SD {100 * (sub.GPP_annual_sd / sub.GPP_annual_true).mean():.2f} %")
    for m in ("DT", "DT-RH"):
        c = interval_coverage(errs, m)
        print(f"all scenarios {m:6s} coverage {100 * c['coverage']:.0f} % (95 % interval {100 * c['ci'][0]:.0f}-"
              f"{100 * c['ci'][1]:.0f} %, n = {c['n']})")
    from landcarbon.flux.metrics import coverage_table

    print(coverage_table(errs, "DT-RH").round(2).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("hesseflux", "towers", "coverage"), default="hesseflux")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=100, help="u* bootstrap samples of the full chain")
    ap.add_argument("--realisations", type=int, default=50, help="twin realisations per scenario (coverage mode)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (at most 2)")
    args = ap.parse_args()
    if args.mode == "towers":
        return towers_mode(args.jobs)
    if args.mode == "coverage":
        return coverage_mode(args.realisations, args.jobs)
    dd = data_dir()
    WORK.mkdir(exist_ok=True)
    sys.path.insert(0, str(HERE.parent / "tests"))
    from _flux_ref_helpers import load_reddyproc_reference_input, r2  # noqa: E402

    import landcarbon.flux as F

    ds, ref = load_reddyproc_reference_input(dd / "reference-REddyProc-1.3.3")

    # ---------------- hesseflux (own venv, subprocess) ----------------
    py = ensure_venv()
    hf_in = WORK / "hesseflux_input.csv"
    pd.DataFrame({"NEE": ds.NEE_f.values, "NEE_fqc": ds.NEE_fqc.values, "TA": ds.TA_f.values + 273.15,
                  "SW_IN": ds.SW_IN_f.values, "VPD": ds.VPD_f.values * 100.0},
                 index=pd.DatetimeIndex(ds.time.values) - pd.Timedelta(minutes=15)).to_csv(hf_in)
    hf_out = WORK / "hesseflux_output.csv"
    t0 = time.perf_counter()
    proc = subprocess.run([str(py), "-c", HF_SCRIPT, str(hf_in), str(hf_out), str(args.repeat)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        sys.exit("hesseflux failed")
    hf_times = json.loads(proc.stdout.strip().splitlines()[-1])
    hf_res = pd.read_csv(hf_out, index_col=0)
    print(f"hesseflux subprocess total wall time {time.perf_counter() - t0:.1f} s (incl. imports, {args.repeat} repeats)")

    # ---------------- landcarbon (warm-up for numba, then best of repeat) ----------------
    F.partition_nt(ds)
    F.partition_dt(ds)
    lc_times = {}
    for name, fn in (("NT", F.partition_nt), ("DT", F.partition_dt)):
        best = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = fn(ds)
            best = min(best, time.perf_counter() - t0)
        lc_times[name] = best
        if name == "NT":
            nt = out
        else:
            dt = out
    t0 = time.perf_counter()
    rh = F.partition_dtrh(ds, nt_result=nt)
    lc_times["DT-RH"] = time.perf_counter() - t0

    print("\n=== NT + DT partitioning of DE-Tha 1998 (same gap-filled input) ===")
    print(f"{'':18s}{'landcarbon [s]':>16s}{'hesseflux 5.0 [s]':>20s}{'ratio':>10s}")
    for m, h in (("NT", "reichstein"), ("DT", "lasslop")):
        print(f"{m:18s}{lc_times[m]:16.3f}{hf_times[h]:20.3f}{hf_times[h] / lc_times[m]:10.1f}x")
    tot_lc = lc_times["NT"] + lc_times["DT"]
    tot_hf = hf_times["reichstein"] + hf_times["lasslop"]
    print(f"{'NT + DT':18s}{tot_lc:16.3f}{tot_hf:20.3f}{tot_hf / tot_lc:10.1f}x   (goal >= 20x)")
    print(f"{'DT-RH (ours only)':18s}{lc_times['DT-RH']:16.3f}")

    print("\n=== annual sums [gC m-2 yr-1] and half-hourly R2 vs REddyProc 1.3.3 ===")
    rows = []
    for m, res_lc in (("NT", nt), ("DT", dt)):
        for v, col_ref in (("GPP", "GPP_f" if m == "NT" else "GPP_DT"), ("RECO", "Reco" if m == "NT" else "Reco_DT")):
            lc = getattr(res_lc, v.lower()).values
            hfv = hf_res[f"{v}_{m}"].values
            if v == "GPP":  # hesseflux leaves GPP undefined where NEE was flagged: GPP = RECO - NEE_f there
                hfv = np.where(np.isfinite(hfv), hfv, hf_res[f"RECO_{m}"].values - ds.NEE_f.values)
            rows.append({"method": m, "flux": v, "REddyProc": REF_SUMS[m][v], "landcarbon": annual(lc),
                         "hesseflux": annual(hfv), "R2 landcarbon": r2(lc, ref[col_ref]),
                         "R2 hesseflux": r2(hfv, ref[col_ref]),
                         "hesseflux GPP gaps filled as RECO-NEE_f": int(np.isnan(hf_res[f"GPP_{m}"].values).sum())})
    tab = pd.DataFrame(rows)
    print(tab.round(3).to_string(index=False))
    print(f"DT-RH: GPP {annual(rh.gpp):.1f}, RECO {annual(rh.reco):.1f}; "
          f"LR test delta AIC {rh.info['lr_test']['delta_aic']:.1f}")

    # ---------------- full chain on the raw file ----------------
    from landcarbon.flux.io import read_reddyproc_text

    raw = read_reddyproc_text([dd / "Example_DETha98.txt"], site="DE-Tha", lat=50.95, lon=13.57, utc_offset_hours=1.0)
    F.process_site_year(raw, ["NT"], n_boot=2)  # warm-up (numba compilation of u*/MDS kernels)
    print("\n=== full chain u* + MDS + NT + DT + DT-RH on DE-Tha 1998 (raw file) ===")
    for nb in sorted({1, args.n_boot}):
        t0 = time.perf_counter()
        res = F.process_site_year(raw, ["NT", "DT", "DT-RH"], n_boot=nb, seed=1)
        tot = time.perf_counter() - t0
        tt = ", ".join(f"{k} {v:.2f} s" for k, v in res.timings.items() if k != "load")
        print(f"n_boot={nb:3d}: total {tot:.1f} s ({tt}); u* {res.dataset.attrs['ustar_threshold']:.3f} m/s, "
              f"NT GPP {annual(res.results['NT'].gpp):.0f}, DT GPP {annual(res.results['DT'].gpp):.0f}")
    print(f"REddyProc 1.3.3 (u* 100 bootstraps + MDS + NT + DT): {REDDYPROC_TIMES['total']:.1f} s "
          f"(u* {REDDYPROC_TIMES['ustar_bootstrap_100']:.1f}, MDS {REDDYPROC_TIMES['mds_nee']:.1f}, "
          f"NT {REDDYPROC_TIMES['nt']:.2f}, DT {REDDYPROC_TIMES['dt']:.1f})")


if __name__ == "__main__":
    main()
