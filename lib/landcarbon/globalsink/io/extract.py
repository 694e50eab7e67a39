"""The shipped extracts of the global land-sink data: deterministic CSV with the Dataset's attributes
in ``#`` comment lines as sorted JSON, numbers as Python ``repr`` so that every float round-trips exactly
(:func:`write_extract_csv`, :func:`read_extract_csv`), and the builder shared by the per-format
``build_*_extract`` functions.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import xarray as xr

from ...errors import DataError, located
from ...publish.atomic import atomic_path
from ._common import EXTRACT_SUBDIR, _one_path


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "NaN" if math.isnan(v) else repr(float(v))
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return str(v)


def _jsonable(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def write_extract_csv(ds: xr.Dataset, target: Path, *, provenance: str) -> Path:
    """Write a 1-D Dataset (one dimension coordinate: ``year`` or ``time``) as a deterministic CSV.

    Layout: ``# landcarbon-extract v1``, ``# provenance: ...``, ``# dataset {json}``, ``# dim {json}``,
    one ``# var NAME {json}`` per variable (attributes, sorted keys), then the CSV table. Written
    atomically (nothing half-written on error)."""
    if len(ds.dims) != 1:
        raise DataError(located(f"an extract must have one dimension, got {dict(ds.sizes)}", where=str(target)))
    dim = next(iter(ds.dims))
    coord = ds[dim].values
    lines = ["# landcarbon-extract v1", f"# provenance: {provenance}",
             "# dataset " + json.dumps(_jsonable(ds.attrs), sort_keys=True, ensure_ascii=False),
             "# dim " + json.dumps({"name": dim, "kind": "datetime" if np.issubdtype(coord.dtype, np.datetime64) else "int",
                                    "attrs": _jsonable(ds[dim].attrs)}, sort_keys=True, ensure_ascii=False)]
    names = list(ds.data_vars)
    for n in names:
        kind = "str" if ds[n].dtype == object else "float"
        lines.append(f"# var {n} " + json.dumps({"kind": kind, "attrs": _jsonable(ds[n].attrs)}, sort_keys=True,
                                                  ensure_ascii=False))
    lines.append(",".join([dim, *names]))
    if np.issubdtype(coord.dtype, np.datetime64):
        labels = [str(x)[:10] for x in coord.astype("datetime64[D]")]
    else:
        labels = [str(int(x)) for x in coord]
    cols = [ds[n].values for n in names]
    for i, lab in enumerate(labels):
        lines.append(",".join([lab, *(_fmt(c[i]) for c in cols)]))
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)        # package data: readable by everyone (mkstemp creates 0600)
    return target


def read_extract_csv(paths) -> xr.Dataset:
    """Read an extract written by :func:`write_extract_csv` back into the same Dataset."""
    path = _one_path(paths, "extract")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0] != "# landcarbon-extract v1" or not text.endswith("\n"):
        raise DataError(located("not a landcarbon extract (or truncated)", where=str(path),
                                fix="regenerate it: python tools/make_extracts.py ID"))
    meta_ds, meta_dim, meta_vars = {}, None, {}
    k = 0
    for k, ln in enumerate(lines):
        if not ln.startswith("#"):
            break
        if ln.startswith("# dataset "):
            meta_ds = json.loads(ln[len("# dataset "):])
        elif ln.startswith("# dim "):
            meta_dim = json.loads(ln[len("# dim "):])
        elif ln.startswith("# var "):
            name, _, js = ln[len("# var "):].partition(" ")
            meta_vars[name] = json.loads(js)
    header = lines[k].split(",")
    if meta_dim is None or header != [meta_dim["name"], *meta_vars]:
        raise DataError(located("extract header does not match its variable list", where=f"{path}, line {k + 1}",
                                fix="regenerate it: python tools/make_extracts.py ID"))
    rows = [ln.split(",") for ln in lines[k + 1:] if ln]
    if any(len(r) != len(header) for r in rows):
        raise DataError(located("extract row with a wrong number of fields", where=str(path),
                                fix="regenerate it: python tools/make_extracts.py ID"))
    labels = [r[0] for r in rows]
    if meta_dim["kind"] == "datetime":
        coord = np.array(labels, dtype="datetime64[ns]")
    else:
        coord = np.array([int(x) for x in labels], dtype=np.int64)
    ds = xr.Dataset(coords={meta_dim["name"]: (meta_dim["name"], coord, meta_dim.get("attrs", {}))}, attrs=meta_ds)
    for j, (name, meta) in enumerate(meta_vars.items(), start=1):
        col = [r[j] for r in rows]
        arr = np.array(col, dtype=object) if meta["kind"] == "str" else np.array([float(x) for x in col])
        ds[name] = (meta_dim["name"], arr, meta.get("attrs", {}))
    return ds


def _build(raw_paths, out_dir, reader, suffix: str, provenance: str) -> list[Path]:
    raw = _one_path(raw_paths, "extract builder")
    ds = reader([raw])
    target = Path(out_dir) / EXTRACT_SUBDIR / (raw.stem + suffix)
    return [write_extract_csv(ds, target, provenance=f"{provenance} {raw.name} (landcarbon.globalsink.io)")]
