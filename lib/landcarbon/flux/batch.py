"""One entry point per site-year and a parallel batch API with a progress bar.

:func:`partition` dispatches to a method; :func:`process_site_year` runs the whole chain
(u* threshold + filter, MDS gap filling, then the partitioning methods) on one site-year given as a
manifest id or a dataset; :func:`partition_many` does that for many site-years in parallel
(``concurrent.futures``; processes by default) with a ``tqdm`` progress bar.
Sign convention of all fluxes: NEE > 0 is release; NEE = RECO − GPP [umol CO2 m-2 s-1].
"""
from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from ..errors import ConfigError, located
from ._common import PartitionResult

__all__ = ["METHODS", "partition", "prepare_site", "process_site_year", "partition_many", "SiteYearResult"]

#: Method names accepted by :func:`partition`.
METHODS = ("NT", "DT", "DT-RH", "DT-LI", "NT-LI", "RF", "NN", "SP")


def partition(ds: xr.Dataset, method: str, *, seed: int = 0, cache: dict | None = None, **kw) -> PartitionResult:
    """Run one partitioning method on a prepared (u*-filtered, gap-filled) site dataset.

    ``cache`` (a dict) lets methods reuse NT/DT results of the same dataset (DT-RH and SP reuse NT,
    DT-LI and NT-LI reuse DT). Returns a :class:`PartitionResult` (GPP, RECO in umol CO2 m-2 s-1).
    """
    from .daytime import partition_dt
    from .dtrh import partition_dtrh
    from .inhibition import partition_dt_keenan, partition_nt_keenan
    from .ml import partition_ml
    from .nighttime import partition_nt

    cache = {} if cache is None else cache

    def get(m):
        if m not in cache:
            cache[m] = partition(ds, m, seed=seed, cache=cache)
        return cache[m]

    if method == "NT":
        return partition_nt(ds, **kw)
    if method == "DT":
        return partition_dt(ds, **kw)
    if method == "DT-RH":
        return partition_dtrh(ds, nt_result=get("NT"), **kw)
    if method == "DT-LI":
        return partition_dt_keenan(ds, get("DT"), **kw)
    if method == "NT-LI":
        return partition_nt_keenan(ds, get("NT"), get("DT"))
    if method in ("RF", "NN", "SP"):
        return partition_ml(ds, method.lower(), seed=seed, nt_result=get("NT") if method == "SP" else None, **kw)
    raise ConfigError(located(f"unknown partitioning method {method!r}", where="landcarbon.flux.partition",
                              fix=f"use one of {METHODS}"))


def prepare_site(ds: xr.Dataset, *, n_boot: int = 1, seed: int = 0, threshold=None,
                 ustar: str = "estimate") -> tuple[xr.Dataset, Any]:
    """u* threshold + filter and MDS gap filling (:func:`landcarbon.flux.gapfill.ustar_filter_and_gapfill`);
    a dataset that already holds ``NEE_f`` is returned unchanged. ``ustar="skip"``: no u* step, for
    data already u*-filtered (FLUXNET2015 ``NEE_VUT_REF`` measured records) or without u*.
    Returns (prepared dataset, u* result or None)."""
    if "NEE_f" in ds:
        return ds, None
    from .gapfill import ustar_filter_and_gapfill

    return ustar_filter_and_gapfill(ds, threshold, n_boot=n_boot, seed=seed, ustar=ustar)


@dataclass
class SiteYearResult:
    """Outputs of :func:`process_site_year` for one site-year."""

    label: str
    results: dict[str, PartitionResult]
    dataset: xr.Dataset | None
    timings: dict = field(default_factory=dict)
    ustar: Any = None
    source: str = ""
    error: str | None = None

    def annual_sums(self) -> dict:
        """{method: {"GPP": ..., "RECO": ...}} [gC m-2 yr-1]."""
        return {m: r.annual_sums() for m, r in self.results.items()}


def _load(item, data_source: str, seed: int | None):
    if isinstance(item, xr.Dataset):
        return item, item.attrs.get("site", "dataset")
    if isinstance(item, str):
        from ..data import open_dataset

        return open_dataset(item, source=data_source, seed=seed), item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        from ..data import open_dataset

        return open_dataset(item[0], source=data_source, seed=seed, **dict(item[1])), f"{item[0]}{item[1]}"
    if callable(item):
        ds = item()
        return ds, ds.attrs.get("site", getattr(item, "__name__", "callable"))
    raise ConfigError(located(f"cannot interpret site-year item {item!r}", where="partition_many",
                              fix="pass a manifest id, (id, kwargs), an xarray.Dataset or a callable"))


def process_site_year(item, methods: Sequence[str] = ("NT", "DT", "DT-RH"), *, data_source: str = "auto",
                      seed: int = 0, n_boot: int = 1, keep_dataset: bool = True, raise_errors: bool = True,
                      method_kwargs: dict | None = None, ustar: str = "estimate") -> SiteYearResult:
    """Load (manifest id / dataset / callable), prepare (u* + MDS unless NEE_f exists) and partition.

    ``ustar="skip"`` runs the chain without the u* step (data already u*-filtered, or without u*)."""
    timings = {}
    try:
        t0 = _time.perf_counter()
        ds, label = _load(item, data_source, seed if data_source == "demo" else None)
        timings["load"] = _time.perf_counter() - t0
        t0 = _time.perf_counter()
        prep, ures = prepare_site(ds, n_boot=n_boot, seed=seed, ustar=ustar)
        timings["ustar+mds"] = _time.perf_counter() - t0
        cache: dict = {}
        out = {}
        for m in methods:
            t0 = _time.perf_counter()
            if m not in cache:
                cache[m] = partition(prep, m, seed=seed, cache=cache, **(method_kwargs or {}).get(m, {}))
            out[m] = cache[m]
            timings[m] = _time.perf_counter() - t0
        return SiteYearResult(label=str(label), results=out, dataset=prep if keep_dataset else None,
                              timings=timings, ustar=ures, source=str(ds.attrs.get("source", "")))
    except Exception as exc:  # noqa: BLE001 - reported per site-year in batch mode
        if raise_errors:
            raise
        return SiteYearResult(label=str(item if isinstance(item, str) else type(item).__name__), results={},
                              dataset=None, timings=timings, error=f"{type(exc).__name__}: {exc}")


def _worker(args):
    item, methods, data_source, seed, n_boot, keep, mkw, ustar = args
    return process_site_year(item, methods, data_source=data_source, seed=seed, n_boot=n_boot,
                             keep_dataset=keep, raise_errors=False, method_kwargs=mkw, ustar=ustar)


def partition_many(items: Iterable, methods: Sequence[str] = ("NT", "DT", "DT-RH"), *, n_jobs: int = 2,
                   data_source: str = "auto", seed: int = 0, n_boot: int = 1, keep_dataset: bool = False,
                   progress: bool = True, backend: str = "process",
                   method_kwargs: dict | None = None, ustar: str = "estimate") -> list[SiteYearResult]:
    """Process many site-years in parallel with a progress bar.

    Parameters
    ----------
    items : iterable
        Manifest ids (``"de-tha-1998"``), ``(id, open_dataset kwargs)`` tuples, datasets or
        zero-argument callables returning a dataset (callables must be picklable for processes).
    methods : sequence of str
        Methods of :data:`METHODS`.
    n_jobs : int
        Number of workers (1 = sequential in this process).
    backend : {"process", "thread"}
    progress : bool
        Show a ``tqdm`` progress bar.
    method_kwargs : dict, optional
        {method: keyword arguments}, e.g. ``{"RF": {"cv": False, "n_estimators": 50}}``.
    ustar : {"estimate", "skip"}
        u* threshold and filter, or none (data already u*-filtered).

    Returns
    -------
    list of SiteYearResult in the order of ``items``; a failing site-year carries ``error`` instead
    of raising, so one bad file does not stop the batch.
    """
    from ..scale import map_in_order

    items = list(items)
    args = [(it, tuple(methods), data_source, seed, n_boot, keep_dataset, method_kwargs, ustar) for it in items]
    return map_in_order(_worker, args, n_jobs=n_jobs, backend=backend, desc="site-years", progress=progress)
