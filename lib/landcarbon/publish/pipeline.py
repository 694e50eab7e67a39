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
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..errors import ChecksumError, PipelineError, located
from .atomic import default_dir_mode, exchange_paths, sha256_file, write_json_atomic
from .parameters import RawValue, check_injection, check_overrides, declared_parameters
from .paths import INTERACTIVE_DIR, project_root, results_dir, state_dir
from .refusals import ENV_VAR as REFUSED_ENV
from .refusals import read_refusals
from .runlock import LockHeld, RunLock

__all__ = ["Analysis", "load_analyses", "run", "RunRecord", "cache_key", "parse_overrides", "KEY_PACKAGES",
           "RunInterrupted", "LockHeld", "recover", "run_lock", "LOCK_FILE_NAME", "lock_file_sha256",
           "INTERACTIVE_DIR"]

PROFILES = ("quick", "full")

#: Packages whose versions enter every cache key and provenance record.
KEY_PACKAGES = ("landcarbon", "numpy", "scipy", "pandas", "xarray", "dask", "numba", "scikit-learn",
                "matplotlib", "cartopy", "netCDF4", "papermill", "nbclient", "ipykernel", "jupyter-book",
                "myst-nb", "pymannkendall")

#: The hashed lock file of the environment (``make lock`` regenerates it).
LOCK_FILE_NAME = "requirements-lock.txt"

#: Files of a results folder that do not enter the hash handed downstream (timings, log paths).
_VOLATILE = ("provenance.json",)


class RunInterrupted(PipelineError):
    """The run was stopped by SIGINT (Ctrl-C) or SIGTERM; ``signum`` says which."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


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
# hashing: cache key, outputs, provenance
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# signals: stop within seconds, never in the middle of a promotion
# ---------------------------------------------------------------------------------------------
class _Signals:
    """SIGINT/SIGTERM handler of a run: raise :class:`RunInterrupted` unless inside a critical section."""

    def __init__(self):
        self.signum: int | None = None
        self.critical = 0
        self.on_signal: list = []

    def handler(self, signum, frame):  # noqa: ARG002 - signal API
        if self.signum is None:
            self.signum = signum
        for cb in list(self.on_signal):
            try:
                cb()
            except Exception:  # noqa: BLE001 - a failing callback must not mask the interruption
                pass
        if not self.critical:
            self.critical += 1  # clean-up after this point runs undisturbed by a second Ctrl-C
            raise RunInterrupted(_interrupt_message(signum), signum)

    @contextmanager
    def critical_section(self) -> Iterator[None]:
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
        if self.signum is not None and not self.critical:
            self.critical += 1
            raise RunInterrupted(_interrupt_message(self.signum), self.signum)


def _interrupt_message(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return f"run interrupted by {name}"


@contextmanager
def _trap_signals() -> Iterator[_Signals]:
    sig = _Signals()
    if threading.current_thread() is not threading.main_thread():
        yield sig  # signals are delivered to the main thread only; nothing to install
        return
    names = [s for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s)]
    previous = {}
    for n in names:
        s = getattr(signal, n)
        previous[s] = signal.signal(s, sig.handler)
    try:
        yield sig
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# ---------------------------------------------------------------------------------------------
# staging, promotion, recovery
# ---------------------------------------------------------------------------------------------
def run_lock(root: Path | None = None, command: str | None = None) -> RunLock:
    """The compendium's run lock (``<root>/.landcarbon/run.lock``), re-entrant within a process."""
    root = root or project_root()
    return RunLock(root / ".landcarbon" / "run.lock", command=command)


def _staging_base(root: Path) -> Path:
    """Staging folders live on the filesystem of ``results/`` so promotion is a rename."""
    base = results_dir()
    base.mkdir(parents=True, exist_ok=True)
    candidate = root / ".landcarbon" / "staging"
    candidate.mkdir(parents=True, exist_ok=True)
    if os.stat(candidate).st_dev == os.stat(base).st_dev:
        return candidate
    other = base.parent / f".{base.name}.landcarbon-staging"
    other.mkdir(parents=True, exist_ok=True)
    return other


def _test_hold(point: str) -> None:
    """Test hook: with ``LANDCARBON_TEST_HOLD=<point>@<file>`` the run writes its pid to ``<file>`` at
    ``<point>`` ("executed": notebook done, nothing promoted; "promoting": results swapped, notebook
    not yet) and waits there, so tests can kill it at that exact moment. Unset in normal use."""
    spec = os.environ.get("LANDCARBON_TEST_HOLD", "")
    if spec.partition("@")[0] == point and spec.partition("@")[2]:
        Path(spec.partition("@")[2]).write_text(str(os.getpid()))
        time.sleep(600)


def _journal_dir(root: Path) -> Path:
    p = root / ".landcarbon" / "promote"
    p.mkdir(parents=True, exist_ok=True)
    return p


def _replace_file(src: Path, dst: Path) -> None:
    """``os.replace`` that also works across filesystems (copy beside ``dst`` first, then rename)."""
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp"
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
        src.unlink()


def _swap_in(staged: Path, final: Path, old: Path) -> None:
    """Make ``staged`` the new ``final``; the previous ``final`` ends at ``old`` (or nowhere)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        if exchange_paths(staged, final):  # one atomic step; the old folder is now at `staged`
            return
        os.replace(final, old)  # fallback: two renames, the journal covers the gap
    os.replace(staged, final)


def _promote(journal: Path) -> None:
    """Carry out (or finish) the promotion described by ``journal``; idempotent."""
    j = json.loads(journal.read_text(encoding="utf-8"))
    staged, final, old = Path(j["staged_results"]), Path(j["final_results"]), Path(j["old_results"])
    token = j["run_id"]
    done = False
    prov = final / "provenance.json"
    if prov.is_file():
        try:
            done = json.loads(prov.read_text(encoding="utf-8")).get("run_id") == token
        except ValueError:
            done = False
    if not done:
        if not staged.is_dir():
            raise PipelineError(located("a promotion journal names a staging folder that is gone",
                                        where=str(journal), fix=f"delete {journal} and rerun"))
        _swap_in(staged, final, old)
        _test_hold("promoting")
    nb_staged, nb_final = Path(j["staged_notebook"]), Path(j["final_notebook"])
    if nb_staged.is_file():
        nb_final.parent.mkdir(parents=True, exist_ok=True)
        _replace_file(nb_staged, nb_final)
    cache_file = Path(j["cache_file"])
    write_json_atomic(cache_file, j["cache_entry"])
    journal.unlink()
    shutil.rmtree(j["stage_root"], ignore_errors=True)


def recover(root: Path | None = None, out_dir: Path | None = None) -> list[str]:
    """Bring the compendium back to a complete state after a killed run (call with the run lock held).

    Finishes promotions that a SIGKILL cut short (journaled), deletes staging folders of dead runs
    and restores backups left by pipelines of earlier versions. Returns what it did.
    """
    root = root or project_root()
    out_dir = out_dir or root / "book" / "analyses"
    done = []
    jdir = root / ".landcarbon" / "promote"
    for journal in sorted(jdir.glob("*.json")) if jdir.is_dir() else []:
        _promote(journal)
        done.append(f"completed the interrupted promotion of {journal.stem}")
    for base in {root / ".landcarbon" / "staging", results_dir().parent / f".{results_dir().name}.landcarbon-staging"}:
        if base.is_dir():
            for p in base.iterdir():
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
                done.append(f"removed the staging folder {p.name} of a run that did not finish")
    res = results_dir()
    if res.is_dir():  # backups of pipelines before staging existed: the backup is the last good state
        for backup in res.glob(".*.previous"):
            name = backup.name[1:-len(".previous")]
            final = res / name
            if final.exists():
                shutil.rmtree(final)
            backup.rename(final)
            done.append(f"restored results/{name}/ from its backup")
    if out_dir.is_dir():
        for tmp in out_dir.glob(".*.running.ipynb"):
            tmp.unlink()
    return done


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
