"""Reading the upscaled ER products written by the er_upscaling chapter (layout in :func:`landcarbon.upscaling.core.er_annual_product`)."""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..errors import DataError, UnitsError, located

__all__ = ["load_er_products", "REQUIRED_ANNUAL"]

#: variables the trends chapter needs in er_annual.nc, with their units
REQUIRED_ANNUAL = {"ER": "gC m-2 yr-1", "TA": "degC", "area": "m2"}


def _open(path: Path, lazy: bool) -> xr.Dataset:
    """One product file (``.nc``) or store (``.zarr``), eagerly or with dask chunks sized for the workers."""
    from ..publish.cf import from_cf
    from ..scale import grid_chunks, open_lazy

    if not lazy:
        return from_cf(xr.load_dataset(path) if path.suffix != ".zarr" else xr.open_zarr(path).load())
    ds = from_cf(open_lazy(path, chunks={}))
    return ds.chunk(grid_chunks(ds)) if {"lat", "lon"} <= set(ds.dims) else ds


def _product(folder: Path, stem: str) -> Path:
    """``<stem>.zarr`` (written chunk-wise at fine resolution) if present, else ``<stem>.nc``."""
    z = folder / f"{stem}.zarr"
    return z if z.is_dir() else folder / f"{stem}.nc"


def load_er_products(folder: str | Path | None = None, *, data_source: str = "auto",
                     monthly: bool = True, lazy: bool | None = None) -> tuple[xr.Dataset, xr.Dataset | None]:
    """Open ``er_annual`` (and ``er_monthly`` if present and wanted), as NetCDF or zarr.

    Eager (NumPy, in this process) by default; lazy (dask chunks of whole series and whole latitude
    rows, sized by :func:`landcarbon.scale.grid_chunks` for the workers' memory) when ``lazy=True`` or
    when a ``dask.distributed`` client is active (``landcarbon run --scheduler``): the trend kernels then
    run as tasks on the cluster's workers and the grid never passes through the notebook's process.
    The numbers are the same either way.

    Parameters
    ----------
    folder : path, optional
        Folder holding the files; default ``results/er_upscaling/`` (:func:`landcarbon.publish.paths.results_dir`).
    data_source : {"auto", "real", "demo"}
        ``"real"`` refuses a product computed from demo data (and ``"demo"`` a real one), so a
        published run cannot silently report synthetic numbers.
    monthly : bool
        Also load ``er_monthly.nc`` (ER [gC m-2 d-1], dims time/lat/lon) when it exists.
    lazy : bool, optional
        Force eager (False) or dask-backed (True) arrays; default: lazy exactly when a distributed
        client is active (:func:`landcarbon.scale.active_client`).

    Returns
    -------
    (annual, monthly or None) : xarray.Dataset
        dims (year, lat, lon), lat ascending; ``attrs["source"]`` as written by er_upscaling.
    """
    from ..publish.paths import results_dir
    from ..scale import active_client

    folder = Path(folder) if folder else results_dir("er_upscaling")
    lazy = active_client() is not None if lazy is None else bool(lazy)
    f = _product(folder, "er_annual")
    if not f.exists():
        raise DataError(located("the upscaled ER product er_annual.nc is missing", where=str(f),
                                fix="run the er_upscaling analysis first (landcarbon run --only er_upscaling) "
                                    "or pass the folder holding er_annual.nc"))
    ann = _open(f, lazy)  # CF-1.10 on disk (time with bounds, UDUNITS) -> package layout
    for v, u in REQUIRED_ANNUAL.items():
        if v not in ann:
            raise DataError(located(f"variable {v!r} missing", where=f"{f}", fix="rerun er_upscaling"))
        got = str(ann[v].attrs.get("units", "")).replace(" ", "")
        if got != u.replace(" ", ""):
            raise UnitsError(located(f"{v} has units {ann[v].attrs.get('units')!r}, expected {u!r}",
                                     where=f"{f}:{v}", fix="rerun er_upscaling with the current package"))
    if not {"year", "lat", "lon"} <= set(ann["ER"].dims):
        raise DataError(located(f"ER must have dims (year, lat, lon), got {ann['ER'].dims}", where=str(f)))
    if ann.lat.size > 1 and float(ann.lat[1] - ann.lat[0]) < 0:
        ann = ann.sortby("lat")
    src = str(ann.attrs.get("source", ""))
    if not src:
        raise DataError(located("er_annual.nc lacks the 'source' attribute", where=str(f), fix="rerun er_upscaling"))
    is_demo = "demo:" in src
    if data_source == "real" and is_demo:
        raise DataError(located("data_source='real' but the upscaled product was computed from demo data",
                                where=f"{f} (source={src})",
                                fix="rerun er_upscaling with real data (LANDCARBON_DATA_PATH) or use data_source='auto'"))
    if data_source == "demo" and not is_demo:
        raise DataError(located("data_source='demo' but the upscaled product was computed from real data",
                                where=f"{f} (source={src})", fix="rerun er_upscaling with data_source='demo'"))
    mon = None
    fm = _product(folder, "er_monthly")
    if monthly and fm.exists():
        mon = _open(fm, lazy)
        if mon.lat.size > 1 and float(mon.lat[1] - mon.lat[0]) < 0:
            mon = mon.sortby("lat")
    for d in (ann, mon):
        if d is not None:
            for v in d.data_vars:
                if d[v].dtype == "float32":
                    d[v] = d[v].astype("float64")
    return ann, mon
