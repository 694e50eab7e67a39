"""Staging, promotion and recovery of the pipeline's outputs, and the compendium's run lock.

A notebook writes into a fresh staging folder on the filesystem of ``results/``; after success a journaled
promotion swaps ``results/<name>/`` in one atomic rename (``renameat2`` exchange on Linux) and renames the
executed notebook into ``book/analyses/``. :func:`recover` completes a promotion cut short by SIGKILL and
removes the staging folders of runs that did not finish; :func:`run_lock` is the run lock
(``.landcarbon/run.lock``).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from ..errors import PipelineError, located
from .atomic import exchange_paths, write_json_atomic
from .paths import project_root, results_dir
from .runlock import RunLock

__all__ = ["run_lock", "recover"]


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
