"""Footprint climatology of one site-year: the numba kernel vs the authors' FFP climatology code.

Data: one site-year of the footprint twin (``landcarbon.footprint.demo_turbulence``, 17,520 half-hours
of a 42-m tower over a 20-m forest; the half-hours outside FFP's validity range are dropped first, so
both codes get the same valid inputs). Grid: the authors' default domain, ±1000 m at 2 m
(1001 × 1001 nodes, i.e. their "1000 × 1000" grid), used by both.

* ours: ``landcarbon.footprint.footprint_climatology`` (numba, rows in parallel; also timed with one
  thread), n_σ = 6 crosswind truncation as shipped;
* peer: ``pyffp`` 0.0.2 = the authors' ``calc_footprint_FFP_climatology`` v1.42 (NumPy over the whole
  grid per half-hour), ``smooth_data=None`` so that both return the raw mean footprint.

The peer needs about half a second per half-hour, hours for a site-year; by default it runs on
``--peer-steps`` half-hours spread evenly over the year and its site-year time is extrapolated (the
output says so). ``--peer-steps 0`` runs it on the whole year. Agreement is checked on the half-hours
both ran: largest cell difference relative to the maximum, difference of the integrals, and the
levels of the 50 % and 80 % source areas.

Usage::

    .venv/bin/python benchmarks/footprint.py [--days 365] [--peer-steps 400] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def site_year(days: int, seed: int = 2015):
    import landcarbon.footprint as fp

    turb = fp.demo_turbulence(seed, n_days=days, canopy_height_m=20.0)
    ok = (fp.step_flags(turb) == 0).values
    return turb, turb.isel(time=np.flatnonzero(ok))


def ours(turb, grid, repeats: int, threads: int | None):
    import numba

    import landcarbon.footprint as fp

    old = numba.get_num_threads()
    if threads:
        numba.set_num_threads(threads)
    try:
        fp.footprint_climatology(turb.isel(time=slice(0, 2)), grid=grid)  # compile / load the cache
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            clim = fp.footprint_climatology(turb, grid=grid)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    finally:
        numba.set_num_threads(old)
    return clim, float(np.median(wall)), float(np.median(cpu))


def peer(turb):
    import matplotlib

    matplotlib.use("Agg")
    from pyffp.calc_footprint_FFP_climatology import FFP_climatology

    kw = {k: [float(v) for v in turb[var].values] for k, var in
          (("ustar", "USTAR"), ("sigmav", "V_SIGMA"), ("ol", "MO_LENGTH"), ("wind_dir", "WD"), ("h", "PBLH"))}
    t0, c0 = time.perf_counter(), time.process_time()
    r = FFP_climatology(zm=float(turb.attrs["zm_m"]), z0=float(turb.attrs["z0_m"]), rs=None, verbosity=0,
                        smooth_data=None, **kw)
    return r["fclim_2d"], time.perf_counter() - t0, time.process_time() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--peer-steps", type=int, default=400, help="half-hours for the peer (0 = all)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()

    import landcarbon.footprint as fp

    grid = fp.FootprintGrid(-1000.0, -1000.0, 2.0, 2.0, 1001, 1001)  # the authors' default nodes
    full, valid = site_year(a.days)
    n_all, n = full.sizes["time"], valid.sizes["time"]
    print(f"site-year: {n_all} half-hours, {n} valid for FFP; grid {grid.nx} x {grid.ny} cells of {grid.dx:g} m")
    clim, w_par, c_par = ours(valid, grid, a.repeats, None)
    _, w_one, c_one = ours(valid, grid, 1, 1)
    print(f"ours, numba threads : {w_par:8.1f} s wall ({c_par:.1f} s CPU) for the site-year, "
          f"{1e3 * w_par / n:.2f} ms per half-hour")
    print(f"ours, 1 thread      : {w_one:8.1f} s wall ({c_one:.1f} s CPU)")
    tab = fp.source_area_table(clim, (0.5, 0.8))
    print(f"site-year climatology: mass on the grid {clim.attrs['mass_in_domain']:.4f}; 50 % / 80 % source areas "
          f"{tab.area_m2[0] / 1e4:.1f} / {tab.area_m2[1] / 1e4:.1f} ha")

    try:
        import pyffp  # noqa: F401
    except ImportError:
        print("peer: pyffp not installed (pip install pyffp==0.0.2) - no side-by-side timing")
        return
    idx = np.arange(n) if a.peer_steps in (0, None) or a.peer_steps >= n else \
        np.unique(np.linspace(0, n - 1, a.peer_steps).round().astype(int))
    sub = valid.isel(time=idx)
    f_peer, t_peer, c_peer = peer(sub)
    sub_clim, t_sub, _ = ours(sub, grid, 1, None)
    per_step, cpu_step = t_peer / idx.size, c_peer / idx.size
    extrap = "" if idx.size == n else f" (extrapolated from {idx.size} half-hours)"
    print(f"peer (authors' code): {per_step * 1e3:8.1f} ms wall ({cpu_step * 1e3:.1f} ms CPU) per half-hour; site-year "
          f"{per_step * n / 60:.1f} min wall, {cpu_step * n / 60:.1f} min CPU{extrap}")
    print(f"ratio peer / ours, wall: {per_step * n / w_par:.0f} x (numba threads), {per_step * n / w_one:.0f} x (1 thread); "
          f"CPU: {cpu_step * n / c_par:.0f} x (threads), {cpu_step * n / c_one:.0f} x (1 thread)")
    d = np.abs(sub_clim.values - f_peer)
    print(f"agreement on the {idx.size} shared half-hours: max |diff| / max = {d.max() / f_peer.max():.2e}; "
          f"integral ours {sub_clim.values.sum() * 4:.6f} vs peer {f_peer.sum() * 4:.6f}")
    for r in (0.5, 0.8):
        lo, lp = fp.source_area_level(sub_clim, r), fp.source_area_level(f_peer, r, cell_area=4.0)
        print(f"  {100 * r:.0f} % source-area level: ours {lo:.4e} vs peer {lp:.4e} (rel. diff {abs(lo / lp - 1):.1e})")


if __name__ == "__main__":
    main()
