"""Benchmark: nested analytic inversion (Cholesky, landcarbon) vs a plain numpy.linalg.inv implementation.

Problem: 43 regions x 12 months x 7 years + initial concentration = 3,613 unknowns; ~11,000 monthly
observations (the chapter's Case-3 network of 96 sampling points plus 35 extra synthetic background
sites = 131 records x 84 months). Also times the construction of the response functions
(43 regions x 12 emission months, 24-month memory, standard 4x5 degree grid; goal < 5 min on 2 cores)
and measures how the cost grows with the number of unknowns n and observations m.

Run:  .venv/bin/python benchmarks/inversion.py [--quick]
Prints side-by-side timings, the speed ratio, the agreement of the two solutions and scaling exponents.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def naive_inv(M, c, sp, Q, r):
    """Textbook formula with explicit inverses (numpy.linalg.inv) — the peer implementation."""
    Qinv = np.linalg.inv(np.diag(Q))
    MtRinv = M.T * (1.0 / r)[None, :]
    A = np.linalg.inv(MtRinv @ M + Qinv)
    s = sp + A @ (MtRinv @ (c - M @ sp))
    return s, A


def main(quick: bool = False):
    from landcarbon.atmosphere.demo import make_demo_atmosphere
    from landcarbon.atmosphere.inversion import posterior_obs_space, posterior_prior_space
    from landcarbon.atmosphere.network import observation_points

    grid, years, memory, near = ("coarse", 2, 12, 2) if quick else ("standard", 7, 24, 3)
    t = time.perf_counter()
    world = make_demo_atmosphere(2016, years, 2002, grid)
    print(f"demo world ({grid}, {years} yr): {time.perf_counter() - t:.1f} s")
    pts = observation_points("case3")
    rng = np.random.default_rng(0)
    extra = pd.DataFrame({"id": [f"SYN{i:02d}" for i in range(35)], "network": "global",
                          "lat": np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, 35))),
                          "lon": rng.uniform(-180, 180, 35), "level": 0, "mdm_ppm": 1.5, "kind": "station"})
    pts = pd.concat([pts, extra], ignore_index=True)
    m_model = world.model
    cells = m_model.cell_index(pts["lat"].values, pts["lon"].values, pts["level"].values)
    t = time.perf_counter()
    rf = m_model.response_functions(world.patterns, cells, memory=memory, near_field=near)
    t_rf = time.perf_counter() - t
    print(f"response functions: {world.regions.n} regions x 12 months, memory {memory} months, "
          f"{len(pts)} samples, grid {grid}: {t_rf:.1f} s (goal < 300 s)")
    nm = 12 * years
    site = np.repeat(np.arange(len(pts)), nm)
    month = np.tile(np.arange(nm), len(pts))
    M = rf.matrix(site, month, nm)
    n = M.shape[1]
    m = M.shape[0]
    sp = np.concatenate([world.prior_flux.ravel(), [world.c0_prior]])
    Q = np.concatenate([world.prior_sigma.ravel() ** 2, [world.c0_sigma ** 2]])
    truth = np.concatenate([world.truth_flux.ravel(), [world.c0_true]])
    r = np.repeat(pts["mdm_ppm"].values ** 2, nm)
    c = M @ truth + rng.normal(size=m) * np.sqrt(r)
    print(f"problem: n = {n} unknowns, m = {m} observations")

    def timed(f, *a, repeat=1):
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = f(*a)
            best = min(best, time.perf_counter() - t0)
        return best, out

    import os

    print(f"load average before timing: {os.getloadavg()[0]:.1f} (shared machine: timings are best of 3)")
    t_prior, (s1, A1) = timed(posterior_prior_space, M, c, sp, Q, r, repeat=3)
    t_naive, (s0, A0) = timed(naive_inv, M, c, sp, Q, r, repeat=3)
    print("\nmethod                                  time [s]   ratio vs naive")
    print(f"numpy.linalg.inv (textbook)           {t_naive:9.2f}   1.00")
    print(f"landcarbon prior-space Cholesky       {t_prior:9.2f}   {t_naive / t_prior:.2f}x")
    if m <= 12000:
        t_obs, (s2, A2) = timed(posterior_obs_space, M, c, sp, Q, r)
        print(f"landcarbon obs-space Cholesky         {t_obs:9.2f}   {t_naive / t_obs:.2f}x")
        print(f"max |s_prior_form - s_obs_form| / sigma_prior = {np.max(np.abs(s1 - s2) / np.sqrt(Q)):.2e}")
    print(f"max |s_chol - s_inv| / sigma_prior = {np.max(np.abs(s1 - s0) / np.sqrt(Q)):.2e}; "
          f"max |A_chol - A_inv| / max Q = {np.max(np.abs(A1 - A0)) / Q.max():.2e}")
    sym = np.max(np.abs(A0 - A0.T)) / Q.max()
    print(f"asymmetry of the inv() covariance: {sym:.1e} (Cholesky form is symmetric by construction: "
          f"{np.max(np.abs(A1 - A1.T)) / Q.max():.1e})")

    # scaling with n (fixed m) and m (fixed n)
    print("\nscaling of the prior-space solver")
    rows = []
    for fn in (0.25, 0.5, 1.0):
        k = int(n * fn)
        tt, _ = timed(posterior_prior_space, M[:, :k], c, sp[:k], Q[:k], r, repeat=3)
        rows.append(("n", k, m, tt))
    for fm in (0.25, 0.5, 1.0):
        k = int(m * fm)
        tt, _ = timed(posterior_prior_space, M[:k], c[:k], sp, Q, r[:k], repeat=3)
        rows.append(("m", n, k, tt))
    df = pd.DataFrame(rows, columns=["vary", "n", "m", "seconds"])
    print(df.to_string(index=False))
    for v, col in (("n", "n"), ("m", "m")):
        d = df[df.vary == v]
        slope = np.polyfit(np.log(d[col]), np.log(d.seconds), 1)[0]
        print(f"cost ~ {col}^{slope:.2f} (expected: O(m n^2 + n^3) -> between 2 and 3 in n, 1 in m)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="coarse grid, 2 years (seconds, for smoke tests)")
    main(ap.parse_args().quick)
