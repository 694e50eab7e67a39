"""The pipeline's cache: what an analysis' result depends on and whether a cached run can stand in.

:func:`cache_key` hashes the notebook, the parameters, the ``lib/landcarbon`` source tree, the lock file
(:data:`LOCK_FILE_NAME`), the versions of :data:`KEY_PACKAGES`, the verified fingerprints of the declared data
and every output file of the analyses it depends on. A cache hit (``_cache_state``) also needs the results folder
and the executed notebook to be byte for byte what the cached run produced. The package versions and the git
commit recorded here also enter each provenance record (:mod:`landcarbon.publish.pipeline`).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ChecksumError
from .atomic import sha256_file
from .paths import results_dir

if TYPE_CHECKING:
    from .pipeline import Analysis

__all__ = ["cache_key", "lock_file_sha256", "KEY_PACKAGES", "LOCK_FILE_NAME"]

#: Packages whose versions enter every cache key and provenance record.
KEY_PACKAGES = ("landcarbon", "numpy", "scipy", "pandas", "xarray", "dask", "numba", "scikit-learn",
                "matplotlib", "cartopy", "netCDF4", "papermill", "nbclient", "ipykernel", "jupyter-book",
                "myst-nb", "pymannkendall")

#: The hashed lock file of the environment (``make lock`` regenerates it).
LOCK_FILE_NAME = "requirements-lock.txt"

#: Files of a results folder that do not enter the hash handed downstream (timings, log paths).
_VOLATILE = ("provenance.json",)


def _tree_hash(folder: Path, patterns=("*.py", "*.yaml", "*.csv", "*.json", "*.geojson", "*.txt", "*.gz")) -> str:
    h = hashlib.sha256()
    files = sorted({p for pat in patterns for p in folder.rglob(pat) if "__pycache__" not in p.parts})
    for p in files:
        h.update(str(p.relative_to(folder)).encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def _file_hashes(folder: Path, exclude: Iterable[str] = ()) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file below ``folder`` (empty if it does not exist)."""
    if not folder.is_dir():
        return {}
    skip = set(exclude)
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in skip}


def _digest(mapping: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(sorted(mapping.items()))).encode()).hexdigest()


def _summary_fingerprint(path: Path) -> str:
    """sha256 of what a downstream analysis reads from an upstream summary: its data source and
    indicators (not the upstream's parameter record, which changes without changing the results)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        core = {k: doc.get(k) for k in ("data_source", "indicators")}
    except (OSError, ValueError):
        return sha256_file(path)
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()


def _combined(paths) -> str:
    hashes = sorted(sha256_file(p) for p in paths)
    return hashes[0] if len(hashes) == 1 else hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _data_fingerprints(datasets: Iterable[str], data_source: str = "auto") -> dict[str, str]:
    """``{id: "real:<sha>" | ...}`` for the data an analysis declares, sha256 **verified** (no download).

    Raises :class:`ChecksumError` (naming the file and both hashes) when a file is present but does not
    match the manifest — such a file is never recorded. With ``data_source="demo"`` no file is read.
    """
    from ..data import resolve_files

    out = {}
    for ds_id in datasets:
        if data_source == "demo":
            out[ds_id] = "demo requested (real files not read)"
            continue
        try:
            res = resolve_files(ds_id, check=True)
        except ChecksumError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad manifest entry is reported by the notebook itself
            out[ds_id] = f"unresolvable: {exc}"
            continue
        if res.complete and res.paths:
            out[ds_id] = "real:" + _combined(res.paths)
        elif res.dataset.extract is not None:
            from ..data import resolve_extract

            files = resolve_extract(ds_id, check=True) or []
            out[ds_id] = "real (embedded extract):" + _combined(files) if files else "absent (demo fallback)"
        else:
            out[ds_id] = "absent (demo fallback)"
    return out


def lock_file_sha256(root: Path) -> str:
    """sha256 of ``requirements-lock.txt`` (``"absent"`` when the compendium has none)."""
    p = root / LOCK_FILE_NAME
    return sha256_file(p) if p.is_file() else "absent"


def cache_key(analysis: Analysis, params: Mapping[str, Any], root: Path, *,
              data: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """sha256 over everything that can change the analysis' result; also returns the inputs.

    ``data`` are verified fingerprints (:func:`_data_fingerprints`); computed here when not given.
    ``results_dir`` is not part of it (it names a staging folder that differs every run).
    """
    upstream = {}
    for d in analysis.depends_on:
        files = _file_hashes(results_dir(d), exclude=_VOLATILE)
        if "summary.json" in files:  # its parameter record may change without changing any result
            files["summary.json"] = _summary_fingerprint(results_dir(d) / "summary.json")
        upstream[d] = _digest(files) if files else "absent"
    inputs = {
        "notebook_sha256": sha256_file(root / "notebooks" / analysis.notebook),
        "parameters": {k: v for k, v in sorted(params.items()) if k != "results_dir"},
        "lib_tree_sha256": _tree_hash(root / "lib" / "landcarbon") if (root / "lib" / "landcarbon").is_dir()
        else _tree_hash(Path(__file__).resolve().parents[1]),
        "lock_sha256": lock_file_sha256(root),
        "packages": _package_versions(),
        "data": dict(data) if data is not None else _data_fingerprints(analysis.datasets, params.get("data_source", "auto")),
        "upstream_outputs": upstream,
        "data_path": os.environ.get("LANDCARBON_DATA_PATH", ""),
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    return key, inputs


def _package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_commit(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _cache_state(name: str, key: str, cache_file: Path, final_nb: Path) -> tuple[bool, str]:
    """(hit, reason for a miss) — a hit needs the same key *and* untouched outputs."""
    if not cache_file.is_file():
        return False, "no cached run"
    try:
        entry = json.loads(cache_file.read_text(encoding="utf-8"))
    except ValueError:
        return False, "cache entry unreadable"
    if entry.get("key") != key:
        return False, "inputs changed"
    if not final_nb.is_file():
        return False, "executed notebook missing"
    if "results_files" not in entry or "notebook_sha256" not in entry:
        return False, "cache entry of an older pipeline (no output hashes)"
    if sha256_file(final_nb) != entry["notebook_sha256"]:
        return False, f"{final_nb.name} changed since the cached run"
    now = _file_hashes(results_dir(name))
    if now != entry["results_files"]:
        before = entry["results_files"]
        diff = sorted(set(now) ^ set(before)) + sorted(k for k in set(now) & set(before) if now[k] != before[k])
        return False, f"results/{name}/ changed since the cached run ({', '.join(diff[:3])})"
    return True, ""
