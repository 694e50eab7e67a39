"""Shared pytest fixtures.

Real-data tests look for the shared data folder through LANDCARBON_DATA_PATH (set by .ci/run to
../shared/data) and skip with a clear reason when it is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path | None:
    for entry in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "DE-Tha" / "Example_DETha98.txt").is_file():
            return Path(entry)
    return None


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder holding DE-Tha/ (real flux data + REddyProc reference); skips when absent."""
    p = _find_shared_data()
    if p is None:
        pytest.skip("real data not available: set LANDCARBON_DATA_PATH to a folder containing "
                    "DE-Tha/Example_DETha98.txt (e.g. ../shared/data, as .ci/run does)")
    return p


@pytest.fixture(scope="session")
def detha_txt(shared_data) -> Path:
    return shared_data / "DE-Tha" / "Example_DETha98.txt"


@pytest.fixture(scope="session")
def detha_reference_dir(shared_data) -> Path:
    return shared_data / "DE-Tha" / "reference-REddyProc-1.3.3"


# ---------------------------------------------------------------------------------------------
# Reproducibility of the report: when nbval re-executes the executed notebooks (make test passes
# book/analyses with --nbval-lax), every indicator they write again must equal the one the pipeline
# wrote for the report — same inputs, identical numbers. "Equal" allows 1e-9 relative: multithreaded
# BLAS may sum in another order (seen: 1e-15 relative in the inversion), which no page can show.
# ---------------------------------------------------------------------------------------------
_SNAPSHOT: dict = {}
_STARTED: list = []


def _indicator_snapshot(base: Path | None = None, newer_than: float = 0.0) -> dict:
    import json

    out = {}
    for p in sorted((base or ROOT / "results").glob("*/summary.json")):
        if p.stat().st_mtime < newer_than:  # left by an earlier session, not by this re-execution
            continue
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out[p.parent.name] = {k: (v.get("value"), v.get("sigma")) for k, v in doc.get("indicators", {}).items()}
    return out


def _same(a, b) -> bool:
    import math

    if a is None or b is None:
        return a == b
    return all((x is None and y is None) or (x is not None and y is not None
                                             and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12))
               for x, y in zip(a, b))


def pytest_sessionstart(session):
    import time

    _SNAPSHOT.update(_indicator_snapshot())
    _STARTED.append(time.time())


def pytest_sessionfinish(session, exitstatus):
    reran = {Path(str(getattr(item, "fspath", ""))).stem for item in getattr(session, "items", [])
             if str(getattr(item, "fspath", "")).endswith(".ipynb")}
    if not reran or not _SNAPSHOT:
        return
    # the executed notebooks carry results_dir = None: their re-execution writes to the scratch folder
    # results/_interactive/<analysis>/ (never over the pipeline's results), which is compared here
    after = _indicator_snapshot(ROOT / "results" / "_interactive", newer_than=_STARTED[0] if _STARTED else 0.0)
    diffs = []
    for analysis, before in _SNAPSHOT.items():
        if not any(analysis in stem for stem in reran):
            continue
        for name, val in before.items():
            if not _same(after.get(analysis, {}).get(name), val):
                diffs.append(f"{analysis}.{name}: report {val} vs re-execution {after.get(analysis, {}).get(name)}")
    if diffs:
        session.config.get_terminal_writer().line(
            "REPRODUCIBILITY FAILURE — re-executed notebooks gave other numbers than the report:\n  "
            + "\n  ".join(diffs), red=True)
        session.exitstatus = 1
    else:
        session.config.get_terminal_writer().line(
            f"reproducibility: {sum(len(v) for k, v in _SNAPSHOT.items() if any(k in s for s in reran))} indicators "
            "identical after re-executing the notebooks", green=True)
