"""Mann–Kendall + Theil–Sen on a global 0.5° land grid: pymannkendall per-pixel loop vs the numba kernel.

Grid: 62,000 land pixels × 30 annual values (1989–2018), N(0, 1) + 0.02·t **rounded to 0.1** (heavy ties:
~60 distinct values per series) with **2 % of the values missing** (NaN at random). Both run in this script,
on the same data, so the ratio is measured in one run (the machine is shared: the load average before and
after is printed next to the timings):

* peer: ``pymannkendall.original_test`` per pixel (S, Var(S), Z, p, tau, Sen slope, intercept — it
  already calls ``sens_slope`` inside), serial loop. If the full loop would take longer than
  ``--max-peer-seconds`` it is timed on a subset and extrapolated (the script says so).
* ours: ``landcarbon.trends.mk_test(x)`` — the same outputs plus the Sen-slope confidence interval —
  with numba threads (all cores) and with 1 thread; median of repeated runs after one warm-up.

Also checks that both give the same numbers on the pixels the peer ran.

Usage::

    .venv/bin/python benchmarks/trends.py [--pixels 62000] [--years 30] [--repeats 7]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def grid(n_pix: int, n_years: int, seed: int = 0, *, decimals: int = 1, nan_share: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n_pix, n_years)) + 0.02 * np.arange(n_years), decimals)
    x[rng.random(x.shape) < nan_share] = np.nan
    return x


def time_kernel(x, repeats: int, threads: int | None, ci: bool = True):
    import numba

    from landcarbon.trends import mk_test

    old = numba.get_num_threads()
    if threads:
        numba.set_num_threads(threads)
    try:
        mk_test(x[:100], confidence_interval=ci)          # compile / load cache
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            r = mk_test(x, confidence_interval=ci)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    finally:
        numba.set_num_threads(old)
    return r, float(np.median(wall)), float(np.min(wall)), float(np.median(cpu))


def time_peer(x, max_seconds: float, probe: int = 2000):
    import pymannkendall as pmk

    def loop(rows):
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for row in rows:
                out.append(pmk.original_test(row))
        return out

    n = x.shape[0]
    probe = min(probe, n)
    t0, c0 = time.perf_counter(), time.process_time()
    res = loop(x[:probe])
    t_probe, c_probe = time.perf_counter() - t0, time.process_time() - c0
    est = t_probe / probe * n
    if est <= max_seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        res = loop(x)
        return res, time.perf_counter() - t0, time.process_time() - c0, n, False
    return res, est, c_probe / probe * n, probe, True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=62000)
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--decimals", type=int, default=1, help="rounding of the values (1 = heavy ties)")
    ap.add_argument("--nan-share", type=float, default=0.02)
    ap.add_argument("--max-peer-seconds", type=float, default=3600.0,
                    help="run the full pymannkendall loop only if it is expected to finish within this")
    args = ap.parse_args(argv)

    import numba
    import pymannkendall

    import os

    x = grid(args.pixels, args.years, decimals=args.decimals, nan_share=args.nan_share)
    load0 = os.getloadavg()
    print(f"grid: {args.pixels} pixels x {args.years} years, rounded to {10.0 ** -args.decimals:g}, "
          f"{np.isnan(x).mean():.1%} NaN; numba {numba.__version__} ({numba.get_num_threads()} threads), "
          f"pymannkendall {pymannkendall.__version__}; load average {load0[0]:.1f} on {os.cpu_count()} cores")

    r, k_med, k_min, k_cpu = time_kernel(x, args.repeats, None)
    _, k1_med, _, _ = time_kernel(x, max(3, args.repeats // 2), 1)
    _, knc_med, knc_min, knc_cpu = time_kernel(x, args.repeats, None, ci=False)
    ref, t_peer, c_peer, n_peer, extrapolated = time_peer(x, args.max_peer_seconds)

    # same numbers on the pixels the peer ran
    fields = [("s", "s"), ("var_s", "var_s"), ("z", "z"), ("tau", "Tau"), ("slope", "slope"),
              ("intercept", "intercept")]
    dev = {}
    for k, kk in fields:
        a = np.array([getattr(q, kk) for q in ref], float)
        b = r[k][: len(ref)]
        dev[k] = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))
    p_ref = np.array([q.p for q in ref])
    dev["p (pymk formula)"] = float(np.max(np.abs(p_ref - 2 * (1 - __import__("scipy").special.ndtr(np.abs(r["z"][: len(ref)]))))))

    how = (f"EXTRAPOLATED from {n_peer} pixels (full loop expected > {args.max_peer_seconds:.0f} s)"
           if extrapolated else f"full loop over {n_peer} pixels")
    print(f"pymannkendall original_test loop : {t_peer:8.2f} s wall, {c_peer:.2f} s CPU   [{how}]")
    print(f"landcarbon kernel, {numba.get_num_threads()} threads     : {k_med:8.3f} s median "
          f"(min {k_min:.3f} s, CPU {k_cpu:.3f} s) over {args.repeats} runs")
    print(f"landcarbon kernel, 1 thread       : {k1_med:8.3f} s median")
    print(f"same without the slope CI (exactly pymannkendall's outputs): {knc_med:.3f} s median "
          f"(min {knc_min:.3f} s, CPU {knc_cpu:.3f} s) -> {t_peer / knc_med:.0f}x (median), {t_peer / knc_min:.0f}x (best)")
    print(f"speed-up vs pymannkendall         : {t_peer / k_med:8.0f}x (median)   {t_peer / k_min:.0f}x (best)   "
          f"{t_peer / k1_med:.0f}x (1 thread)")
    print(f"CPU-time ratio (work, all kernel threads summed): {c_peer / k_cpu:.0f}x  "
          f"-> expected wall ratio on {numba.get_num_threads()} idle cores ~{c_peer / k_cpu * numba.get_num_threads():.0f}x")
    print("max relative deviation on the compared pixels: " +
          ", ".join(f"{k} {v:.1e}" for k, v in dev.items()) + "  (p: absolute)")
    load1 = os.getloadavg()
    print(f"load average (1 min) before {load0[0]:.1f}, after {load1[0]:.1f} on {os.cpu_count()} cores")
    print("note: the kernel additionally returns the Sen-slope confidence interval; the load of other "
          "processes on the machine affects both timings (the ratio is taken within this one run).")


if __name__ == "__main__":
    main()
