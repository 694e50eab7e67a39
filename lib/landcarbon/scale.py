"""Scale-out plumbing: the active dask cluster, chunk sizing, lazy opening, chunk-wise zarr writing.

Every gridded step of the compendium is written once, against xarray objects that may be NumPy- or
dask-backed. This module decides *where* the work runs:

* :func:`active_client` — the ``distributed.Client`` a notebook connected with
  ``landcarbon run --scheduler ADDRESS`` (:func:`landcarbon.publish.notebook.prepare`), or ``None``;
  without a client dask uses its local threaded scheduler and the same code runs in one process.
* :func:`chunk_rows` / :func:`worker_memory_bytes` — how many latitude rows of a (time, lat, lon) field
  one task may hold, from the workers' memory limit (time is never chunked: the trend tests need whole
  series).
* :func:`open_lazy` — open a NetCDF or zarr product with dask chunks of that size (the workers read the
  file themselves: on a cluster its path must be on storage every worker can read).
* :func:`write_zarr` — write a dataset chunk by chunk (each worker writes its own chunks) into a
  temporary store that is renamed onto the target only when every chunk was written, so a failed or
  interrupted run never leaves a half-written product.
* :func:`persist` — keep an intermediate result in the workers' memory (on a cluster) so later
  reductions do not recompute the kernels and never pull the grid into the notebook's process.
* :func:`cluster_facts` — workers, threads and memory of a cluster, for the provenance record.

Our formulation (no literature): the chunk budget is a fixed fraction of a worker's memory per
thread, following dask's advice to keep chunks in the 100 MB range with several chunks in memory
per thread (dask documentation, "Choosing good chunk sizes").
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from .errors import ConfigError, DataError, located

__all__ = ["map_in_order", "active_client", "cluster_facts", "worker_memory_bytes", "chunk_rows", "grid_chunks", "open_lazy",
           "write_zarr", "persist", "is_lazy", "DEFAULT_CHUNK_FRACTION"]

#: Share of one worker thread's memory that one chunk (with the kernel's work arrays) may use.
DEFAULT_CHUNK_FRACTION = 0.05


def active_client():
    """The current ``distributed.Client`` (connected by ``prepare()`` or by the caller), else ``None``."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - distributed is a core dependency
        return None
    try:
        return get_client()
    except ValueError:
        return None


def is_lazy(obj) -> bool:
    """True when an xarray object holds at least one dask array."""
    if isinstance(obj, xr.DataArray):
        return obj.chunks is not None
    if isinstance(obj, xr.Dataset):
        return any(v.chunks is not None for v in obj.data_vars.values())
    return False


def persist(obj):
    """``obj.persist()`` when it is dask-backed and a distributed client is active, else ``obj``.

    On a cluster the chunks then stay in the workers' memory: later selections and reductions reuse
    them instead of re-running the kernels, and only the reduced numbers travel to the notebook.
    """
    if is_lazy(obj) and active_client() is not None:
        return obj.persist()
    return obj


def cluster_facts(client=None) -> dict:
    """Size of the cluster that runs the dask tasks (for provenance records and the report).

    Parameters
    ----------
    client : distributed.Client, str or False, optional
        A client, or a scheduler address to connect to briefly; default :func:`active_client`;
        ``False``: describe the local threaded scheduler.

    Returns
    -------
    dict
        ``scheduler`` (address, or ``"local threaded"``), ``workers``, ``threads``, ``memory_bytes``
        (sum of the workers' memory limits; 0 = no limit) and ``memory_per_worker_bytes`` (smallest).
        Without a cluster: the local threaded scheduler with this machine's cores and memory.
    """
    own = False
    if isinstance(client, str):
        from distributed import Client

        client, own = Client(client, timeout="20s"), True
    client = active_client() if client is None else client
    try:
        if client is None or client is False:
            import psutil

            mem = int(psutil.virtual_memory().total)
            return {"scheduler": "local threaded", "workers": 1, "threads": int(os.cpu_count() or 1),
                    "memory_bytes": mem, "memory_per_worker_bytes": mem}
        info = client.scheduler_info(n_workers=-1) if _accepts_n_workers(client) else client.scheduler_info()
        ws = info.get("workers", {})
        limits = [int(w.get("memory_limit") or 0) for w in ws.values()]
        return {"scheduler": str(info.get("address", client.scheduler.address)), "workers": len(ws),
                "threads": int(sum(int(w.get("nthreads", 0)) for w in ws.values())),
                "memory_bytes": int(sum(limits)), "memory_per_worker_bytes": int(min(limits)) if limits else 0}
    finally:
        if own:
            client.close()


def _accepts_n_workers(client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def worker_memory_bytes(client=None) -> int:
    """Memory available to one worker *thread* [bytes]: the smallest worker memory limit divided by its
    threads on a cluster; this machine's total memory divided by its cores otherwise."""
    client = client if client is not None else active_client()
    if client is not None:
        info = client.scheduler_info(n_workers=-1) if _accepts_n_workers(client) else client.scheduler_info()
        per = [int(w.get("memory_limit") or 0) / max(int(w.get("nthreads", 1)), 1)
               for w in info.get("workers", {}).values() if w.get("memory_limit")]
        if per:
            return int(min(per))
    import psutil

    return int(psutil.virtual_memory().total / max(os.cpu_count() or 1, 1))


def chunk_rows(n_time: int, n_lat: int, n_lon: int, *, bytes_per_value: int = 8, work_factor: float = 4.0,
               memory_bytes: int | None = None, fraction: float = DEFAULT_CHUNK_FRACTION) -> int:
    """Latitude rows per chunk of a (time, lat, lon) field with whole time series and whole rows.

    rows = floor(fraction · M / (work_factor · bytes_per_value · n_time · n_lon)), clipped to [1, n_lat],
    with M = ``memory_bytes`` (default :func:`worker_memory_bytes`). ``work_factor`` counts the input
    copy, the float64 cast and the kernel's per-pixel work and output arrays (≈ 4 for the trend
    kernels, whose output is 12 numbers per 30-value series).
    """
    for name, v in (("n_time", n_time), ("n_lat", n_lat), ("n_lon", n_lon)):
        if int(v) < 1:
            raise ConfigError(located(f"{name} must be >= 1, got {v}", where="chunk_rows"))
    if not (0 < fraction <= 1):
        raise ConfigError(located(f"fraction must be in (0, 1], got {fraction}", where="chunk_rows"))
    mem = worker_memory_bytes() if memory_bytes is None else int(memory_bytes)
    per_row = work_factor * bytes_per_value * int(n_time) * int(n_lon)
    return int(np.clip(int(fraction * mem // per_row), 1, int(n_lat)))


def grid_chunks(ds: xr.Dataset | xr.DataArray, *, time_dims=("year", "time"), **kw) -> dict:
    """Dask chunks for every (time, lat, lon) variable of ``ds``: time and lon whole, lat by
    :func:`chunk_rows` (sized for the longest time dimension present)."""
    sizes = dict(ds.sizes)
    if "lat" not in sizes or "lon" not in sizes:
        raise DataError(located(f"need lat and lon dimensions, got {tuple(sizes)}", where="grid_chunks"))
    n_time = max([sizes[d] for d in time_dims if d in sizes] or [1])
    rows = chunk_rows(n_time, sizes["lat"], sizes["lon"], **kw)
    out = {d: -1 for d in sizes}
    out["lat"] = rows
    return out


def open_lazy(path: str | Path, *, chunks: dict | str | None = None, decode_cf: bool = True) -> xr.Dataset:
    """Open a NetCDF file or a zarr store with dask chunks (nothing is read until computed).

    ``chunks=None`` sizes them with :func:`grid_chunks` (time and longitude whole, latitude rows to fit
    the workers' memory). A ``*.zarr`` folder is opened with :func:`xarray.open_zarr`.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(located("file or store not found", where=str(path),
                                fix="check the path (on a cluster it must be readable by every worker)"))
    if path.suffix == ".zarr" or (path.is_dir() and (path / "zarr.json").exists()):
        ds = xr.open_zarr(path, chunks={}, decode_cf=decode_cf)
    else:
        ds = xr.open_dataset(path, chunks={}, decode_cf=decode_cf)
    if chunks is None and "lat" in ds.dims and "lon" in ds.dims:
        chunks = grid_chunks(ds)
    return ds.chunk(chunks) if chunks else ds


def write_zarr(ds: xr.Dataset, path: str | Path, *, chunks: dict | None = None) -> Path:
    """Write ``ds`` to the zarr store ``path`` chunk by chunk, atomically.

    The store is first written next to ``path`` under a temporary name (on a cluster each worker
    writes the chunks it computed: the folder must be on shared storage), then renamed onto ``path``;
    an existing store is replaced only after the new one is complete. On any error the temporary
    store is removed and ``path`` is unchanged. Dask chunks must not straddle zarr chunks: by
    default the zarr chunks are the dask chunks (``chunks`` rechunks first).
    """
    path = Path(path)
    if path.suffix != ".zarr":
        raise ConfigError(located(f"a zarr store must be named *.zarr, got {path.name!r}", where=str(path)))
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ds.chunk(chunks) if chunks else ds
    for v in list(out.variables):  # encodings inherited from a source file may not match the new chunks
        out[v].encoding = {k: val for k, val in out[v].encoding.items() if k in ("dtype", "_FillValue", "units",
                                                                               "calendar")}
    from .publish.atomic import exchange_paths

    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    try:
        import warnings

        with warnings.catch_warnings():
            # consolidated metadata (one read to open the store, useful on network storage) is a zarr-python
            # extension of the v3 format; xarray and zarr-python read it
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
            out.to_zarr(tmp, mode="w", consolidated=True)
        if not path.exists():
            os.replace(tmp, path)
        elif not exchange_paths(tmp, path):  # no renameat2: a short moment without the store
            os.replace(path, old)
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after an exchange this is the previous store
        shutil.rmtree(old, ignore_errors=True)
    return path


def map_in_order(fn, args: list, *, n_jobs: int = 1, backend: str = "process", desc: str = "", progress: bool = False,
                 use_cluster: bool = False) -> list:
    """``[fn(a) for a in args]`` with a ``tqdm`` bar, run on the active ``dask.distributed`` client (one task per
    item, when ``use_cluster``), in a process or thread pool of ``n_jobs`` workers, or in this process
    (``n_jobs`` = 1). Results come back in the order of ``args``; ``fn`` must be picklable for processes
    and the cluster."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

    from tqdm.auto import tqdm

    if backend not in ("process", "thread"):
        raise ConfigError(located(f"backend={backend!r}", where="map_in_order", fix="use 'process' or 'thread'"))
    out: list = [None] * len(args)
    client = active_client() if use_cluster else None
    with tqdm(total=len(args), desc=desc, disable=not progress) as bar:
        if client is not None:
            from distributed import as_completed as completed_on_cluster

            futs = client.map(fn, args, pure=False)
            where = {f.key: i for i, f in enumerate(futs)}
            for f, res in completed_on_cluster(futs, with_results=True):
                out[where[f.key]] = res
                bar.update(1)
        elif n_jobs <= 1:
            for i, a in enumerate(args):
                out[i] = fn(a)
                bar.update(1)
        else:
            pool_cls = ProcessPoolExecutor if backend == "process" else ThreadPoolExecutor
            with pool_cls(max_workers=n_jobs) as pool:
                futs = {pool.submit(fn, a): i for i, a in enumerate(args)}
                for f in as_completed(futs):
                    out[futs[f]] = f.result()
                    bar.update(1)
    return out
