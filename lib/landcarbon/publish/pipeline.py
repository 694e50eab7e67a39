"""Run the analysis notebooks end to end with papermill: ordering, validation, staging, cache, provenance.

The analyses are declared in one place, ``notebooks/analyses.yaml``. :func:`run` executes them in
dependency order into ``book/analyses/`` and, for each one,

* **validates parameters** before anything runs: the profile's parameters and every ``-p`` override
  must be declared in the notebook's ``parameters`` cell and fit the declared default's type
  (:mod:`landcarbon.publish.parameters`; the cell is parsed, never executed);
* **refuses bad data**: the sha256 of every file of the datasets it declares is checked first, and
  any checksum refusal inside the notebook (recorded through ``LANDCARBON_REFUSED_LOG``) fails the
  analysis — unless the user explicitly chose ``--data-source demo``;
* **stages** its outputs: the notebook writes into a fresh staging folder (injected as
  ``results_dir``) and the executed copy is written beside it; only after success are they
  **promoted** — ``results/<name>/`` swapped in one atomic ``rename`` (``renameat2`` exchange on
  Linux), the executed notebook renamed into ``book/analyses/``. Ctrl-C, SIGTERM or SIGKILL at any
  moment therefore leave ``results/`` and ``book/analyses/`` as the previous complete state (a
  promotion cut short by SIGKILL, a few renames long, is journaled and completed by the next run);
* holds the compendium's **run lock** (``.landcarbon/run.lock``): a second concurrent run fails
  at once naming the holder (pid, host, start time);
* stops on **SIGINT/SIGTERM** within seconds: the kernel's process group is terminated, the staging
  folder removed, and :class:`RunInterrupted` raised (the CLI exits 130 or 143);
* skips it when its inputs did not change (**cache**); the key covers the notebook, the parameters,
  the ``lib/landcarbon`` source tree, the lock file ``requirements-lock.txt``, the installed
  versions of the key packages, the hashes of its declared data and **every output file of the
  analyses it depends on** (e.g. ``er_annual.nc``). A cache hit also verifies that
  ``results/<name>/`` and the executed notebook are byte for byte what the cached run produced
  (their hashes are stored with the cache entry), so a hand-edited or hand-run results folder is
  re-executed;
* writes a log (``.landcarbon/logs/<name>.log``: cell output and the kernel's own messages) and a
  provenance record (``results/<name>/provenance.json``: package versions, parameters, data sources
  and hashes, git commit, timings, output hashes).

This module holds the declaration of the analyses, the execution of one notebook and the run itself;
the parts it relies on sit beside it: :mod:`landcarbon.publish.cache` (cache key, output hashes, package
versions, git commit, cache hits), :mod:`landcarbon.publish.staging` (staging, promotion, recovery, the run
lock) and :mod:`landcarbon.publish.interrupts` (SIGINT/SIGTERM handling, :class:`RunInterrupted`).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..errors import ChecksumError, PipelineError, located
from .atomic import default_dir_mode, sha256_file, write_json_atomic
from .cache import (
    KEY_PACKAGES,
    LOCK_FILE_NAME,
    _cache_state,
    _data_fingerprints,
    _file_hashes,
    _git_commit,
    _package_versions,
    cache_key,
    lock_file_sha256,
)
from .interrupts import RunInterrupted, _Signals, _trap_signals
from .parameters import RawValue, check_injection, check_overrides, declared_parameters
from .paths import INTERACTIVE_DIR, project_root, results_dir, state_dir
from .refusals import ENV_VAR as REFUSED_ENV
from .refusals import read_refusals
from .runlock import LockHeld
from .staging import _journal_dir, _promote, _staging_base, _test_hold, recover, run_lock

__all__ = ["Analysis", "load_analyses", "run", "RunRecord", "cache_key", "parse_overrides", "KEY_PACKAGES",
           "RunInterrupted", "LockHeld", "recover", "run_lock", "LOCK_FILE_NAME", "lock_file_sha256",
           "INTERACTIVE_DIR"]

PROFILES = ("quick", "full")


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
    reason: str = ""  # why it was executed (no cache entry, inputs changed, outputs changed, --force)


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
        name = str(a["name"])
        if not name.isidentifier() or name.startswith("_"):
            raise PipelineError(located(f"analysis name {name!r} must be an identifier not starting with '_'",
                                        where=where, fix="it names results/<name>/; use e.g. budget_closure"))
        if Path(str(a["notebook"])).name != str(a["notebook"]):
            raise PipelineError(located(f"notebook {a['notebook']!r} must be a file name in notebooks/", where=where))
        profiles = a.get("profiles") or {}
        bad = set(profiles) - set(PROFILES)
        if bad:
            raise PipelineError(located(f"unknown profile(s) {sorted(bad)}", where=where, fix=f"use {PROFILES}"))
        out[name] = Analysis(name, a["notebook"], a["title"], tuple(a.get("depends_on") or ()),
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


def parse_overrides(items: Iterable[tuple[str, str]] | None) -> dict[str, dict[str, RawValue]]:
    """``[("budget_closure", "n_mc=1000"), ...]`` → ``{"budget_closure": {"n_mc": RawValue("1000")}}``.

    Only the syntax is checked here (``KEY=VALUE`` with an identifier key); :func:`run` checks each key
    against the notebook's ``parameters`` cell and parses the value with the declared type
    (:func:`landcarbon.publish.parameters.check_overrides`).
    """
    out: dict[str, dict[str, RawValue]] = {}
    for name, kv in items or ():
        if "=" not in kv:
            raise PipelineError(located(f"parameter override {kv!r} is not KEY=VALUE", where=f"-p {name} {kv}",
                                        fix="write e.g. -p budget_closure n_mc=50000"))
        k, v = kv.split("=", 1)
        k = k.strip()
        if not k.isidentifier():
            raise PipelineError(located(
                f"parameter name {k!r} is not a Python identifier", where=f"-p {name} {kv}",
                fix="name one parameter of the notebook, e.g. -p budget_closure n_mc=50000 "
                    "(list them with: landcarbon analyses --parameters)"))
        out.setdefault(name, {})[k] = RawValue(v)
    return out


# ---------------------------------------------------------------------------------------------
# execution of one analysis
# ---------------------------------------------------------------------------------------------
def _kernel_env(root: Path, params_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    # MPLBACKEND=Agg (set by `make`) would leave every figure out of the executed notebook; the
    # inline backend puts them in as image/png outputs.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["LANDCARBON_ROOT"] = str(root)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.update(params_env)
    return env


def _reset_injected_results_dir(nb_path: Path, params: Mapping[str, Any], kernel: str, root: Path,
                                final_nb: Path) -> None:
    """In the executed copy, the injected ``results_dir`` (a staging path) becomes ``None``.

    Re-executing the published notebook by hand (or with nbval) then writes to the scratch folder
    ``results/_interactive/<name>/`` instead of a vanished staging path or the pipeline's results.
    papermill's metadata names the notebook's paths relative to the compendium (no build-machine paths).
    """
    import nbformat
    from papermill.translators import translate_parameters

    nb = nbformat.read(str(nb_path), as_version=4)
    pm_meta = nb.metadata.get("papermill", {})
    if isinstance(pm_meta.get("parameters"), dict):
        pm_meta["parameters"]["results_dir"] = None
    for key, path in (("input_path", pm_meta.get("input_path")), ("output_path", str(final_nb))):
        if path:
            try:
                pm_meta[key] = Path(path).resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                pm_meta[key] = Path(path).name
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            shown = {**params, "results_dir": None}
            cell.source = translate_parameters(kernel, "python", shown, "Parameters") \
                + "# (the pipeline ran this notebook with results_dir set to a staging folder, then published\n" \
                + "#  its outputs to results/<analysis>/; None sends a re-run to results/_interactive/<analysis>/)\n"
    nbformat.write(nb, str(nb_path))


def _execute(analysis: Analysis, params: dict[str, Any], root: Path, out_dir: Path, log_path: Path, kernel: str,
             timeout: int | None, scheduler: str | None, sig: _Signals, key: str, inputs: dict, profile: str,
             cache_file: Path) -> float:
    """Run one notebook in a staging folder and promote its outputs; returns the seconds it took."""
    from papermill.exceptions import PapermillExecutionError

    from ._kernel import NotebookExecution

    src = root / "notebooks" / analysis.notebook
    final_nb = out_dir / analysis.notebook
    token = f"{analysis.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage_root = _staging_base(root) / token
    stage_res = stage_root / "results" / analysis.name
    stage_nb = stage_root / analysis.notebook
    refused_log = stage_root / "refused.jsonl"
    stage_res.mkdir(parents=True)
    for p in (stage_root, stage_root / "results", stage_res):
        os.chmod(p, default_dir_mode())
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_params = {**params, "results_dir": str(stage_res)}
    check_injection(run_params, kernel_name=kernel)
    env = {REFUSED_ENV: str(refused_log)}
    if scheduler:
        env["LANDCARBON_DASK_SCHEDULER"] = scheduler
    t0 = time.perf_counter()
    execution = None
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"# {analysis.name}: {src} -> {final_nb}\n# parameters: {json.dumps(params, sort_keys=True)}\n"
                      f"# staging: {stage_root}\n")
            log.flush()
            execution = NotebookExecution(src, stage_nb, run_params, kernel=kernel, env=_kernel_env(root, env),
                                          cwd=stage_root, log=log, timeout=timeout)
            execution.start()
            try:
                execution.wait()
            except PapermillExecutionError as exc:
                failed = state_dir() / "failed" / analysis.notebook
                failed.parent.mkdir(parents=True, exist_ok=True)
                if stage_nb.exists():
                    os.replace(stage_nb, failed)
                raise PipelineError(located(
                    f"notebook {analysis.notebook} failed in cell {exc.cell_index} (execution count "
                    f"{exc.exec_count}): {exc.ename}: {exc.evalue}",
                    where=f"notebooks/{analysis.notebook}, cell {exc.cell_index}",
                    fix=f"see the executed copy with the traceback at {failed} and the log {log_path}; the "
                        f"previous executed copy and results/{analysis.name}/ were left unchanged",
                )) from None
            except RunInterrupted:
                raise
            except Exception as exc:  # kernel death, timeout, bad parameters ...
                raise PipelineError(located(
                    f"notebook {analysis.notebook} could not be executed: {type(exc).__name__}: {exc}",
                    where=f"notebooks/{analysis.notebook}",
                    fix=f"see the log {log_path}; the previous executed copy and results were left unchanged",
                )) from exc
        seconds = time.perf_counter() - t0
        refused = read_refusals(refused_log)
        if refused and params.get("data_source") != "demo":
            lines = "; ".join(f"{r.get('file')} (dataset {r.get('dataset')}): expected sha256 {r.get('expected')}, "
                              f"found {r.get('found')}" for r in refused)
            raise PipelineError(located(
                f"analysis {analysis.name!r} refused {len(refused)} file(s) with a checksum mismatch: {lines}",
                where=f"notebooks/{analysis.notebook}",
                fix="replace the file(s) with the version the manifest names (landcarbon data verify), or run "
                    "with --data-source demo to use the demo twin deliberately; nothing was published"))
        if not (stage_res / "summary.json").is_file():
            raise PipelineError(located(
                f"notebook {analysis.notebook} ran but wrote no summary.json", where=f"results_dir = {stage_res}",
                fix="pass the injected results_dir to prepare() and end the notebook with "
                    "landcarbon.publish.reporting.write_summary(..., out_dir=out)"))
        _reset_injected_results_dir(stage_nb, params, kernel, root, final_nb)
        outputs = _file_hashes(stage_res)
        summary = json.loads((stage_res / "summary.json").read_text(encoding="utf-8"))
        prov = {
            "analysis": analysis.name, "title": analysis.title, "notebook": f"notebooks/{analysis.notebook}",
            "profile": profile, "parameters": params, "cache_key": key, "inputs": inputs,
            "data_source": summary.get("data_source"), "seconds": round(seconds, 2),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "packages": inputs.get("packages"), "git": _git_commit(root), "platform": platform.platform(),
            "log": os.path.relpath(log_path, root), "run_id": token, "outputs": outputs,
            "cluster": _cluster_record(scheduler),
        }
        write_json_atomic(stage_res / "provenance.json", prov)
        entry = {"key": key, "analysis": analysis.name, "run_id": token,
                 "results_files": _file_hashes(stage_res), "notebook_sha256": sha256_file(stage_nb)}
        _test_hold("executed")
        journal = _journal_dir(root) / f"{analysis.name}.json"
        with sig.critical_section():
            write_json_atomic(journal, {
                "run_id": token, "stage_root": str(stage_root), "staged_results": str(stage_res),
                "final_results": str(results_dir(analysis.name)), "old_results": str(stage_root / "previous"),
                "staged_notebook": str(stage_nb), "final_notebook": str(final_nb),
                "cache_file": str(cache_file), "cache_entry": entry})
            _promote(journal)
        return seconds
    finally:  # success, failure or interruption: stop what still runs, drop the staging folder
        with sig.critical_section():
            if execution is not None and execution.alive():
                execution.stop()
            shutil.rmtree(stage_root, ignore_errors=True)


def _cluster_record(scheduler: str | None) -> dict:
    """Where the dask tasks ran: the cluster's workers, threads and memory (landcarbon.scale.cluster_facts)."""
    from ..scale import cluster_facts

    try:
        return cluster_facts(scheduler if scheduler else False)
    except Exception as exc:  # noqa: BLE001 - the run succeeded; the record says what could not be read
        return {"scheduler": scheduler or "local threaded", "error": f"{type(exc).__name__}: {exc}"}


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def _resolve_parameters(analyses: Mapping[str, Analysis], selected: list[str], profile: str,
                        overrides: Mapping[str, Mapping[str, Any]], data_source: str, root: Path) -> dict[str, dict]:
    out = {}
    for name in selected:
        a = analyses[name]
        nb = root / "notebooks" / a.notebook
        prof = check_overrides(name, nb, a.parameters(profile), origin=f"notebooks/analyses.yaml: {name}, profile {profile}")
        over = check_overrides(name, nb, dict(overrides.get(name, {})), origin=f"-p {name}")
        fixed = check_overrides(name, nb, {"profile": profile, "data_source": data_source}, origin="pipeline",
                                allow_pipeline=True)
        if "results_dir" not in declared_parameters(nb):
            raise PipelineError(located("the parameters cell does not declare results_dir",
                                        where=f"notebooks/{a.notebook}", fix="add `results_dir = None` to it"))
        out[name] = {**prof, **over, **fixed}
    return out


def run(names: Iterable[str] | None = None, *, profile: str = "quick",
        overrides: Mapping[str, Mapping[str, Any]] | None = None, force: bool = False,
        root: Path | None = None, out_dir: Path | None = None, kernel: str = "python3",
        timeout: int | None = 1800, data_source: str = "auto", progress: bool = True,
        scheduler: str | None = None, echo=None) -> list[RunRecord]:
    """Execute analyses (all, or ``names``) in dependency order; see the module docstring.

    ``overrides`` maps an analysis to ``{parameter: value}``; values may be typed (Python API) or
    :class:`~landcarbon.publish.parameters.RawValue` text from the command line. ``scheduler`` (a
    dask.distributed address) reaches the kernels as ``LANDCARBON_DASK_SCHEDULER``; it does not enter
    the cache key (results do not depend on where they are computed). ``echo`` (a callable taking a
    string) receives progress messages such as why an analysis is re-executed.

    Returns one :class:`RunRecord` per analysis. Raises :class:`PipelineError` at the first failure,
    :class:`LockHeld` when another run holds the lock, :class:`RunInterrupted` on SIGINT/SIGTERM.
    """
    from tqdm.auto import tqdm

    root = root or project_root()
    out_dir = out_dir or root / "book" / "analyses"
    analyses = load_analyses(root)
    overrides = overrides or {}
    if data_source not in ("auto", "real", "demo"):
        raise PipelineError(located(f"data_source must be auto, real or demo, not {data_source!r}"))
    if profile not in PROFILES:
        raise PipelineError(located(f"unknown profile {profile!r}", fix=f"use one of {PROFILES}"))
    wanted = list(analyses) if not names else list(names)
    for n in list(wanted) + list(overrides):
        if n not in analyses:
            raise PipelineError(located(f"unknown analysis {n!r}", fix=f"use one of {', '.join(analyses)}"))
    for n in overrides:
        if n not in wanted:
            raise PipelineError(located(f"-p {n} overrides a parameter of an analysis that is not run",
                                        fix=f"add it to --only, or drop the override (running: {', '.join(wanted)})"))
    selected = [n for n in analyses if n in wanted]
    for n in selected:
        if not (root / "notebooks" / analyses[n].notebook).is_file():
            raise PipelineError(located(f"notebook {analyses[n].notebook!r} not found",
                                        where=f"{root / 'notebooks' / 'analyses.yaml'}: analysis {n!r}",
                                        fix="create it in notebooks/ or correct the name"))
    all_params = _resolve_parameters(analyses, selected, profile, overrides, data_source, root)
    say = echo or (lambda msg: None)
    with _trap_signals() as sig, run_lock(root) as lock:
        if lock.stale:
            s = lock.stale
            say(f"taking over a stale run lock of pid {s.get('pid')} on {s.get('host')} (started {s.get('started_utc')}); "
                "that run did not finish")
        with sig.critical_section():
            for msg in recover(root, out_dir):
                say(msg)
        started = datetime.now(UTC)
        bar = tqdm(selected, desc="landcarbon run", unit="notebook", disable=not progress, file=sys.stderr)
        try:
            records = _run_selected(bar, analyses, selected, all_params, profile, root, out_dir, kernel, timeout,
                                    force, scheduler, sig, say)
        finally:
            bar.close()
        with sig.critical_section():
            _write_run_record(root, records, profile, started)
    return records


def _run_selected(bar, analyses, selected, all_params, profile, root, out_dir, kernel, timeout, force, scheduler,
                  sig, say) -> list[RunRecord]:
    cache_dir = state_dir() / "cache"
    logs = state_dir() / "logs"
    records: list[RunRecord] = []
    for name in bar:
        a = analyses[name]
        bar.set_postfix_str(name)
        params = all_params[name]
        t0 = time.perf_counter()
        try:
            data = _data_fingerprints(a.datasets, params["data_source"])
        except ChecksumError as exc:
            raise PipelineError(located(
                f"analysis {name!r} needs a file whose checksum does not match the manifest: {exc}",
                fix="nothing was run or published; replace the file (landcarbon data verify / fetch), or use "
                    "--data-source demo to run on the demo twin deliberately")) from None
        key, inputs = cache_key(a, params, root, data=data)
        cache_file = cache_dir / f"{name}.json"
        final_nb = out_dir / a.notebook
        hit, reason = (False, "--force") if force else _cache_state(name, key, cache_file, final_nb)
        if hit:
            records.append(RunRecord(name, "cached", time.perf_counter() - t0, final_nb, key, params))
            continue
        if reason not in ("no cached run", "--force", "inputs changed"):
            say(f"{name}: re-executing: {reason}")
        secs = _execute(a, params, root, out_dir, logs / f"{name}.log", kernel, timeout, scheduler, sig, key, inputs,
                        profile, cache_file)
        records.append(RunRecord(name, "executed", secs, final_nb, key, params, reason))
    return records


def _write_run_record(root: Path, records: list[RunRecord], profile: str, started: datetime) -> None:
    doc = {
        "started_utc": started.isoformat(timespec="seconds"),
        "profile": profile,
        "analyses": [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 2), "cache_key": r.cache_key}
                     for r in records],
        "packages": _package_versions(),
        "lock_sha256": lock_file_sha256(root),
        "git": _git_commit(root),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "data_path": os.environ.get("LANDCARBON_DATA_PATH", ""),
    }
    write_json_atomic(results_dir() / "last_run.json", doc)
