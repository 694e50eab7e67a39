"""Mann–Kendall/Theil–Sen trend of a 0.05° global grid (7200 × 3600 × 30 years) through dask.

1. Generates a synthetic annual field chunk by chunk into a zarr store (float32, dims year/lat/lon,
   chunks of ``--rows`` latitude rows; ocean = NaN from the ``global-land-mask`` package), without
   ever holding the whole grid in memory: values = 500 + trend(lat, lon)·t + noise [gC m-2 yr-1].
2. Opens the store lazily with xarray/dask and runs ``landcarbon.trends.trend_field`` (apply_ufunc,
   dask="parallelized": every chunk goes through the single-threaded numba kernel, dask runs the
   chunks in parallel), writing slope and p (float32) to a second zarr store.
3. Reports wall time, pixels/s (all cells and land cells), the peak resident memory of this process
   during step 2 (sampled every 50 ms) and a projected cost on a cluster.

``--fraction`` runs only a latitude band (centred on the equator) of that share of the rows, for a
quick check. ``--scheduler tcp://host:8786`` uses a running ``dask.distributed`` cluster instead of
the local threaded scheduler (the store must then be on storage all workers can read).

Usage::

    .venv/bin/python benchmarks/trends_scale.py --fraction 0.05           # quick check
    .venv/bin/python benchmarks/trends_scale.py                            # full 7200 x 3600 x 30
"""
from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

NLON, NLAT, NYEAR, RES = 7200, 3600, 30, 0.05


class PeakRSS:
    """Sample this process's resident set size in a background thread."""

    def __init__(self, interval=0.05):
        import psutil

        self.proc = psutil.Process(os.getpid())
        self.interval = interval
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self):
        self.start = self.peak = self.proc.memory_info().rss
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def generate(store: Path, row0: int, nrows: int, rows_per_chunk: int, seed: int = 0) -> tuple[int, float]:
    """Write the synthetic field for latitude rows [row0, row0 + nrows) into a zarr store; returns
    (number of land cells, seconds)."""
    import zarr
    from global_land_mask import globe

    t0 = time.perf_counter()
    lat = -90 + RES / 2 + RES * np.arange(row0, row0 + nrows)
    lon = -180 + RES / 2 + RES * np.arange(NLON)
    years = np.arange(1989, 1989 + NYEAR)
    if store.exists():
        shutil.rmtree(store)
    # plain zarr v2 (xarray's zarr backend needs zarr >= 3, which this environment does not have)
    root = zarr.open_group(str(store), mode="w")
    for name, vals in (("year", years), ("lat", lat), ("lon", lon)):
        root.array(name, vals)
    arr = root.full("ER", shape=(NYEAR, nrows, NLON), chunks=(NYEAR, rows_per_chunk, NLON), dtype="float32",
                     fill_value=np.nan)
    arr.attrs.update(units="gC m-2 yr-1", long_name="synthetic annual ecosystem respiration",
                     dims=["year", "lat", "lon"])
    rng = np.random.default_rng(seed)
    n_land = 0
    t = np.arange(NYEAR, dtype=np.float32)[:, None, None]
    for r in range(0, nrows, rows_per_chunk):
        rr = slice(r, min(r + rows_per_chunk, nrows))
        la = lat[rr]
        land = globe.is_land(la[:, None], lon[None, :])
        n_land += int(land.sum())
        trend = (2.0 * np.sin(np.deg2rad(3 * la))[:, None] + 0.5 * np.cos(np.deg2rad(lon))[None, :]).astype(np.float32)
        block = 500.0 + trend[None] * t + 15.0 * rng.standard_normal((NYEAR, la.size, NLON), dtype=np.float32)
        block = np.where(land[None], np.round(block, 1), np.nan).astype(np.float32)
        arr[:, rr, :] = block
    return n_land, time.perf_counter() - t0


def open_store(store: Path, rows_per_chunk: int):
    """Lazy xarray view (dask) of the zarr store."""
    import dask.array as da
    import xarray as xr
    import zarr

    root = zarr.open_group(str(store), mode="r")
    er = da.from_zarr(root["ER"], chunks=(NYEAR, rows_per_chunk, NLON))
    return xr.DataArray(er, dims=("year", "lat", "lon"),
                        coords={k: root[k][:] for k in ("year", "lat", "lon")}, name="ER",
                        attrs=dict(root["ER"].attrs))


def run_trend(store: Path, out_store: Path, scheduler: str | None, workers: int, rows_per_chunk: int):
    import dask
    import dask.array as da
    import zarr

    from landcarbon.trends import trend_field

    if out_store.exists():
        shutil.rmtree(out_store)
    client = None
    if scheduler:
        from distributed import Client  # optional dependency: only for a real cluster

        client = Client(scheduler)
    er = open_store(store, rows_per_chunk)
    out = zarr.open_group(str(out_store), mode="w")
    t0 = time.perf_counter()
    with PeakRSS() as mem:
        res = trend_field(er, "year", "original", 0.05)
        targets = {"slope": res["slope"].data.astype("float32"), "p": res["p"].data.astype("float32"),
                   "significant": res["significant"].data.astype("int8")}
        zs = [out.zeros(k, shape=v.shape, chunks=v.chunksize, dtype=v.dtype) for k, v in targets.items()]
        stored = da.store(list(targets.values()), zs, lock=False, compute=False)
        if client is None:
            with dask.config.set(scheduler="threads", num_workers=workers):
                dask.compute(stored)
        else:
            dask.compute(stored)
    wall = time.perf_counter() - t0
    sig = da.from_zarr(out["significant"])
    slope = da.from_zarr(out["slope"])
    n_sig = int(sig.sum().compute())
    mean_slope = float(da.nanmean(slope).compute())
    return wall, mem, n_sig, mean_slope


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=1.0, help="share of the 3600 latitude rows (equatorial band)")
    ap.add_argument("--rows", type=int, default=100, help="latitude rows per chunk (chunk = 30 x rows x 7200)")
    ap.add_argument("--workdir", default="/tmp/landcarbon_trends_scale", help="where the zarr stores go")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="dask threads (local scheduler)")
    ap.add_argument("--scheduler", default=None, help="address of a dask.distributed scheduler (optional)")
    ap.add_argument("--price-per-core-hour", type=float, default=0.04,
                    help="USD per vCPU-hour for the cost projection (assumption: on-demand cloud ~0.04)")
    ap.add_argument("--keep", action="store_true", help="keep the zarr stores")
    args = ap.parse_args(argv)

    import numba

    nrows = max(args.rows, int(round(NLAT * args.fraction / args.rows)) * args.rows)
    nrows = min(nrows, NLAT)
    row0 = (NLAT - nrows) // 2
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    store, out_store = work / "er_0p05.zarr", work / "er_0p05_trend.zarr"
    cells = nrows * NLON
    print(f"grid: {NLON} x {nrows} cells (lat rows {row0}..{row0 + nrows - 1} of {NLAT}; fraction "
          f"{nrows / NLAT:.3f}) x {NYEAR} years = {cells * NYEAR / 1e6:.0f} M values "
          f"({cells * NYEAR * 4 / 1e9:.2f} GB as float32); chunks of {args.rows} rows")
    n_land, t_gen = generate(store, row0, nrows, args.rows)
    size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    print(f"generated zarr store in {t_gen:.1f} s ({size / 1e9:.2f} GB on disk, {n_land} land cells)")

    numba.set_num_threads(1)
    from landcarbon.trends import mk_test

    mk_test(np.zeros((2, NYEAR)), parallel=False)        # load/compile the kernel outside the timing
    wall, mem, n_sig, mean_slope = run_trend(store, out_store, args.scheduler, args.workers, args.rows)
    print(f"trend (Mann-Kendall + Theil-Sen + CI) through dask, {args.workers} threads: {wall:.1f} s wall")
    print(f"throughput: {cells / wall:,.0f} cells/s  ({n_land / wall:,.0f} land cells/s, "
          f"{n_land / wall / args.workers:,.0f} per thread)")
    print(f"peak RSS of this process during the trend step: {mem.peak / 2**30:.2f} GiB "
          f"(at its start: {mem.start / 2**30:.2f} GiB: interpreter, libraries, compiled kernels)")
    print(f"check: {n_sig} significant cells ({n_sig / max(n_land, 1):.1%} of land), mean slope "
          f"{mean_slope:.3f} gC m-2 yr-2")
    from global_land_mask import globe

    lat_all = -90 + RES / 2 + RES * np.arange(NLAT)
    lon_all = -180 + RES / 2 + RES * np.arange(NLON)
    land_full = sum(int(globe.is_land(lat_all[i:i + 400, None], lon_all[None, :]).sum()) for i in range(0, NLAT, 400))
    rate_core = n_land / wall / args.workers                 # land cells per second per core
    core_h = land_full / rate_core / 3600
    print(f"projection, full 7200 x 3600 x 30 grid ({land_full:,} land cells): {core_h:.3f} core-hours end to end "
          f"(kernel + zarr I/O + dask, at this machine's {rate_core:,.0f} land cells/s/core) -> "
          f"~{land_full / rate_core / 64:.0f} s of work per core on 64 cores plus scheduling/I/O overheads; "
          f"~${core_h * args.price_per_core_hour:.4f} at ${args.price_per_core_hour}/core-hour (assumed price). "
          f"Reading the {NLON * NLAT * NYEAR * 4 / 1e9:.1f} GB input, not the kernel, limits a cluster run.")
    if not args.keep:
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(out_store, ignore_errors=True)


if __name__ == "__main__":
    main()
