"""Run the analysis notebooks end to end with papermill: ordering, caching, logs, provenance.

The analyses are declared in one place, ``notebooks/analyses.yaml``. :func:`run` executes them in
dependency order into ``book/analyses/`` and for each one

* injects the profile's parameters (plus ``profile`` and ``data_source``; overrides from ``-p``);
* skips it when its inputs did not change (cache key = sha256 of the notebook file, the parameters,
  the ``lib/landcarbon`` source tree, the hashes of the data it declares and the summaries of the
  analyses it depends on);
* writes a log (``.landcarbon/logs/<name>.log``) and a provenance record
  (``results/<name>/provenance.json``: package versions, parameters, data sources and hashes, git
  commit, timings);
* on failure raises :class:`~landcarbon.errors.PipelineError` naming the notebook, the failing cell and
  its error, and leaves the previous executed copy and ``results/<name>/`` exactly as they were
  (the executed notebook is written to a temporary file and renamed; the results folder is moved
  aside before the run and restored on failure).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .atomic import sha256_file, write_json_atomic
from ..errors import PipelineError, located
from .paths import project_root, results_dir, state_dir

__all__ = ["Analysis", "load_analyses", "run", "RunRecord", "cache_key", "parse_overrides", "KEY_PACKAGES"]

PROFILES = ("quick", "full")

#: Packages whose versions enter every provenance record.
KEY_PACKAGES = ("landcarbon", "numpy", "scipy", "pandas", "xarray", "dask", "numba", "statsmodels", "scikit-learn",
                "matplotlib", "cartopy", "papermill", "nbclient", "ipykernel", "jupyter-book", "myst-nb", "pymannkendall")


@dataclass(frozen=True)
class Analysis:
    """One analysis of ``notebooks/analyses.yaml``."""

    name: str
    notebook: str
    title: str
    depends_on: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def parameters(self, profile: str) -> dict[str, Any]:
        if profile not in PROFILES:
            raise PipelineError(located(f"unknown profile {profile!r}", fix=f"use one of {PROFILES}"))
        return dict(self.profiles.get(profile) or {})


@dataclass
class RunRecord:
    """What happened to one analysis during :func:`run`."""

    name: str
    status: str  # "executed" | "cached"
    seconds: float
    executed_notebook: Path
    cache_key: str
    parameters: dict[str, Any]


def load_analyses(root: Path | None = None) -> dict[str, Analysis]:
    """Read and validate ``notebooks/analyses.yaml``; return analyses in dependency (topological) order."""
    root = root or project_root()
    path = root / "notebooks" / "analyses.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PipelineError(located("analysis registry not found", where=str(path))) from exc
    except yaml.YAMLError as exc:
        raise PipelineError(located(f"analysis registry is not valid YAML ({exc})", where=str(path))) from exc
    items = (raw or {}).get("analyses")
    if not isinstance(items, list) or not items:
        raise PipelineError(located("'analyses' must be a non-empty list", where=str(path)))
    out: dict[str, Analysis] = {}
    for i, a in enumerate(items):
        where = f"{path}: entry #{i} ({a.get('name') if isinstance(a, dict) else a!r})"
        if not isinstance(a, dict):
            raise PipelineError(located("each analysis must be a mapping", where=where))
        missing = [k for k in ("name", "notebook", "title") if k not in a]
        if missing:
            raise PipelineError(located(f"missing field(s) {missing}", where=where, fix="see the header of analyses.yaml"))
        unknown = set(a) - {"name", "notebook", "title", "depends_on", "datasets", "profiles"}
        if unknown:
            raise PipelineError(located(f"unknown field(s) {sorted(unknown)}", where=where))
        profiles = a.get("profiles") or {}
        bad = set(profiles) - set(PROFILES)
        if bad:
            raise PipelineError(located(f"unknown profile(s) {sorted(bad)}", where=where, fix=f"use {PROFILES}"))
        out[a["name"]] = Analysis(a["name"], a["notebook"], a["title"], tuple(a.get("depends_on") or ()),
                                  tuple(a.get("datasets") or ()), {k: dict(v or {}) for k, v in profiles.items()})
    for a in out.values():
        for d in a.depends_on:
            if d not in out:
                raise PipelineError(located(f"analysis {a.name!r} depends on unknown {d!r}", where=str(path)))
    return {name: out[name] for name in _toposort(out)}


def _toposort(analyses: Mapping[str, Analysis]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, stack: tuple[str, ...]):
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise PipelineError(located(f"dependency cycle: {' -> '.join(stack + (n,))}", where="notebooks/analyses.yaml"))
        state[n] = 1
        for d in analyses[n].depends_on:
            visit(d, stack + (n,))
        state[n] = 2
        order.append(n)

    for n in analyses:  # file order among independent analyses
        visit(n, ())
    return order


def parse_overrides(items: Iterable[tuple[str, str]] | None) -> dict[str, dict[str, Any]]:
    """``[("budget_closure", "n_draws=1000"), ...]`` → ``{"budget_closure": {"n_draws": 1000}}`` (YAML-typed values)."""
    out: dict[str, dict[str, Any]] = {}
    for name, kv in items or ():
        if "=" not in kv:
            raise PipelineError(located(f"parameter override {kv!r} is not KEY=VALUE", where=f"-p {name} {kv}",
                                        fix="write e.g. -p budget_closure n_draws=1000"))
        k, v = kv.split("=", 1)
        out.setdefault(name, {})[k.strip()] = yaml.safe_load(v)
    return out


# ---------------------------------------------------------------------------------------------
# cache key and provenance
# ---------------------------------------------------------------------------------------------
def _tree_hash(folder: Path, patterns=("*.py", "*.yaml", "*.csv", "*.json", "*.geojson", "*.txt")) -> str:
    h = hashlib.sha256()
    files = sorted({p for pat in patterns for p in folder.rglob(pat) if "__pycache__" not in p.parts})
    for p in files:
        h.update(str(p.relative_to(folder)).encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def _data_fingerprints(datasets: Iterable[str]) -> dict[str, str]:
    """``{id: "real:<sha>" | "absent (demo)"}`` for the data an analysis declares (no download)."""
    from ..data import resolve_files

    out = {}
    for ds_id in datasets:
        try:
            res = resolve_files(ds_id, check=False)
        except Exception as exc:  # noqa: BLE001 - a bad manifest entry is reported by the notebook itself
            out[ds_id] = f"unresolvable: {exc}"
            continue
        if res.complete and res.paths:
            out[ds_id] = "real:" + _combined(res.paths)
        elif res.dataset.extract is not None:
            from ..data import EMBEDDED_DIR

            files = [EMBEDDED_DIR / f.name for f in res.dataset.extract.files if (EMBEDDED_DIR / f.name).is_file()]
            out[ds_id] = "real (embedded extract):" + _combined(files) if files else "absent (demo fallback)"
        else:
            out[ds_id] = "absent (demo fallback)"
    return out


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


def cache_key(analysis: Analysis, params: Mapping[str, Any], root: Path) -> tuple[str, dict[str, Any]]:
    """sha256 over everything that can change the analysis' result; also returns the inputs."""
    upstream = {}
    for d in analysis.depends_on:
        s = results_dir(d) / "summary.json"
        upstream[d] = _summary_fingerprint(s) if s.is_file() else "absent"
    inputs = {
        "notebook_sha256": sha256_file(root / "notebooks" / analysis.notebook),
        "parameters": dict(sorted(params.items())),
        "lib_tree_sha256": _tree_hash(root / "lib" / "landcarbon") if (root / "lib" / "landcarbon").is_dir()
        else _tree_hash(Path(__file__).resolve().parents[1]),
        "data": _data_fingerprints(analysis.datasets),
        "upstream_summaries": upstream,
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


# ---------------------------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------------------------
def _execute(analysis: Analysis, params: dict[str, Any], root: Path, out_dir: Path, log_path: Path,
             kernel: str, timeout: int | None) -> Path:
    """Run one notebook; on success the executed copy replaces ``out_dir/<notebook>`` atomically."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = root / "notebooks" / analysis.notebook
    final_nb = out_dir / analysis.notebook
    tmp_nb = out_dir / f".{analysis.notebook}.running.ipynb"
    res = results_dir(analysis.name)
    backup = res.parent / f".{analysis.name}.previous"
    if backup.exists():  # left by a killed run: the backup is the last good state
        if res.exists():
            shutil.rmtree(res)
        backup.rename(res)
    if res.exists():
        res.rename(backup)
    res.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = False
    # The kernel inherits this process' environment; MPLBACKEND=Agg (set by `make`) would leave every
    # figure out of the executed notebook. The inline backend puts them in as image/png outputs.
    previous_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"# {analysis.name}: {src} -> {final_nb}\n# parameters: {json.dumps(params, sort_keys=True)}\n")
            log.flush()
            try:
                pm.execute_notebook(str(src), str(tmp_nb), parameters=params, kernel_name=kernel,
                                    cwd=str(out_dir), progress_bar=False, log_output=False,
                                    stdout_file=log, stderr_file=log, execution_timeout=timeout,
                                    request_save_on_cell_execute=False)
            except PapermillExecutionError as exc:
                failed = state_dir() / "failed" / analysis.notebook
                failed.parent.mkdir(parents=True, exist_ok=True)
                if tmp_nb.exists():
                    os.replace(tmp_nb, failed)
                raise PipelineError(located(
                    f"notebook {analysis.notebook} failed in cell {exc.cell_index} (execution count "
                    f"{exc.exec_count}): {exc.ename}: {exc.evalue}",
                    where=f"notebooks/{analysis.notebook}, cell {exc.cell_index}",
                    fix=f"see the executed copy with the traceback at {failed} and the log {log_path}; the "
                        f"previous executed copy and results/{analysis.name}/ were left unchanged",
                )) from None
            except Exception as exc:  # kernel death, timeout, bad parameters ...
                raise PipelineError(located(
                    f"notebook {analysis.notebook} could not be executed: {type(exc).__name__}: {exc}",
                    where=f"notebooks/{analysis.notebook}",
                    fix=f"see the log {log_path}; the previous executed copy and results were left unchanged",
                )) from exc
        if not (res / "summary.json").is_file():
            raise PipelineError(located(
                f"notebook {analysis.notebook} ran but wrote no summary.json", where=str(res),
                fix="end the notebook with landcarbon.publish.reporting.write_summary(...)"))
        os.replace(tmp_nb, final_nb)
        ok = True
        return final_nb
    finally:
        if previous_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous_backend
        if tmp_nb.exists():
            tmp_nb.unlink()
        if ok:
            if backup.exists():
                shutil.rmtree(backup)
        else:
            if res.exists():
                shutil.rmtree(res)
            if backup.exists():
                backup.rename(res)


def run(names: Iterable[str] | None = None, *, profile: str = "quick",
        overrides: Mapping[str, Mapping[str, Any]] | None = None, force: bool = False,
        root: Path | None = None, out_dir: Path | None = None, kernel: str = "python3",
        timeout: int | None = 1800, data_source: str = "auto", progress: bool = True,
        scheduler: str | None = None) -> list[RunRecord]:
    """Execute analyses (all, or ``names``) in dependency order; see the module docstring.

    ``scheduler`` (a dask.distributed address) is handed to the notebook kernels through the
    environment variable ``LANDCARBON_DASK_SCHEDULER``; :func:`landcarbon.publish.notebook.prepare` connects to
    it, so the gridded computations run on that cluster. It does not enter the cache key (results
    do not depend on where they are computed).

    Returns one :class:`RunRecord` per analysis. Raises :class:`PipelineError` at the first failure.
    """
    from tqdm.auto import tqdm

    root = root or project_root()
    out_dir = out_dir or root / "book" / "analyses"
    analyses = load_analyses(root)
    overrides = overrides or {}
    wanted = list(analyses) if not names else list(names)
    for n in list(wanted) + list(overrides):
        if n not in analyses:
            raise PipelineError(located(f"unknown analysis {n!r}", fix=f"use one of {list(analyses)}"))
    selected = [n for n in analyses if n in wanted]
    for n in selected:
        if not (root / "notebooks" / analyses[n].notebook).is_file():
            raise PipelineError(located(f"notebook {analyses[n].notebook!r} not found",
                                        where=f"{root / 'notebooks' / 'analyses.yaml'}: analysis {n!r}",
                                        fix="create it in notebooks/ or correct the name"))
    cache_dir = state_dir() / "cache"
    logs = state_dir() / "logs"
    records: list[RunRecord] = []
    started = datetime.now(timezone.utc)
    bar = tqdm(selected, desc="landcarbon run", unit="notebook", disable=not progress, file=sys.stderr)
    previous_scheduler = os.environ.get("LANDCARBON_DASK_SCHEDULER")
    if scheduler:
        os.environ["LANDCARBON_DASK_SCHEDULER"] = scheduler
    try:
        records += _run_selected(bar, analyses, selected, profile, overrides, data_source, root, out_dir,
                                 cache_dir, logs, kernel, timeout, force)
    finally:
        if scheduler:
            if previous_scheduler is None:
                os.environ.pop("LANDCARBON_DASK_SCHEDULER", None)
            else:
                os.environ["LANDCARBON_DASK_SCHEDULER"] = previous_scheduler
    bar.close()
    _write_run_record(root, records, profile, started)
    return records


def _run_selected(bar, analyses, selected, profile, overrides, data_source, root, out_dir, cache_dir, logs,
                  kernel, timeout, force) -> list[RunRecord]:
    records: list[RunRecord] = []
    for name in bar:
        a = analyses[name]
        bar.set_postfix_str(name)
        params = {**a.parameters(profile), **dict(overrides.get(name, {})), "profile": profile, "data_source": data_source}
        key, inputs = cache_key(a, params, root)
        cache_file = cache_dir / f"{name}.json"
        final_nb = out_dir / a.notebook
        t0 = time.perf_counter()
        if (not force and cache_file.is_file() and final_nb.is_file()
                and (results_dir(name) / "summary.json").is_file()
                and json.loads(cache_file.read_text()).get("key") == key):
            records.append(RunRecord(name, "cached", time.perf_counter() - t0, final_nb, key, params))
            continue
        _execute(a, params, root, out_dir, logs / f"{name}.log", kernel, timeout)
        secs = time.perf_counter() - t0
        rec = RunRecord(name, "executed", secs, final_nb, key, params)
        records.append(rec)
        summary = json.loads((results_dir(name) / "summary.json").read_text())
        prov = {
            "analysis": name, "title": a.title, "notebook": f"notebooks/{a.notebook}", "profile": profile,
            "parameters": params, "cache_key": key, "inputs": inputs, "data_source": summary.get("data_source"),
            "seconds": round(secs, 2), "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": _package_versions(), "git": _git_commit(root), "platform": platform.platform(),
            "log": str(logs / f"{name}.log"),
        }
        write_json_atomic(results_dir(name) / "provenance.json", prov)
        write_json_atomic(cache_file, {"key": key, "analysis": name})
    return records


def _write_run_record(root: Path, records: list[RunRecord], profile: str, started: datetime) -> None:
    doc = {
        "started_utc": started.isoformat(timespec="seconds"),
        "profile": profile,
        "analyses": [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 2), "cache_key": r.cache_key}
                     for r in records],
        "packages": _package_versions(),
        "git": _git_commit(root),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "data_path": os.environ.get("LANDCARBON_DATA_PATH", ""),
    }
    write_json_atomic(results_dir() / "last_run.json", doc)
