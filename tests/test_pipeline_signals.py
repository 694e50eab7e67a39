"""Stopping a run: Ctrl-C and SIGTERM stop it within 5 s with exit 130/143; SIGKILL at any point leaves
results/ and book/analyses/ as the previous complete state; a second concurrent run fails fast naming
the lock holder; stale locks are taken over; the terminal shows no kernel noise.

Each case runs ``landcarbon run`` as a subprocess in a copy of a small compendium that already holds a
complete previous run (tiny notebooks of test_pipeline.py).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from landcarbon.publish import pipeline
from test_pipeline import make_project, snapshot

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals and process groups")


def _env(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDCARBON_")}
    env["LANDCARBON_ROOT"] = str(root)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cli(root: Path, *args: str, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    env = {**_env(root), **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "landcarbon.publish.cli", "run", "--no-progress", *args],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> str:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if path.is_file() and path.read_text().strip():
            return path.read_text().strip()
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"run ended before reaching the point (rc {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError(f"timeout waiting for {path}")


def _gone(pid: int, timeout: float = 15) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1][:1]
            if state == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """A compendium after one complete, successful run (via the CLI, as a user would)."""
    root = make_project(tmp_path_factory.mktemp("base") / "proj")
    p = _cli(root, "--only", "alpha", "-p", "alpha", "sleep=0")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return root, out, err


@pytest.fixture()
def project(complete, tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(complete[0], root, symlinks=True)
    return root


def test_terminal_shows_no_kernel_noise(complete):
    root, out, err = complete
    assert "alpha" in out and "executed" in out
    for noise in ("without encryption", "KeyboardInterrupt", "Traceback"):
        assert noise not in err and noise not in out
    assert "without encryption" not in (root / ".landcarbon" / "logs" / "alpha.log").read_text()


@pytest.mark.parametrize("how", ["SIGINT to the process group", "SIGTERM"])
def test_interrupt_stops_within_5s_and_keeps_previous_state(project, tmp_path, how):
    before = snapshot(project)
    marker = tmp_path / "kernel.pid"
    p = _cli(project, "--only", "alpha", "-p", "alpha", "sleep=120", "-p", "alpha", f"hold={str(marker)!r}")
    kernel_pid = int(_wait_for(marker, p))
    t0 = time.monotonic()
    if how.endswith("group"):
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        os.kill(p.pid, getattr(signal, how))
    out, err = p.communicate(timeout=30)
    elapsed = time.monotonic() - t0
    expected = 143 if how == "SIGTERM" else 130
    assert p.returncode == expected, (p.returncode, err)
    assert elapsed < 5.0, elapsed
    assert f"interrupted ({how.split()[0]})" in err and "kernel was shut down" in err and "staging" in err
    assert "Traceback" not in err
    assert _gone(kernel_pid), "the kernel survived the interruption"
    assert snapshot(project) == before
    assert not list((project / ".landcarbon" / "staging").iterdir())
    assert json.loads((project / ".landcarbon" / "run.lock").read_text() or "{}") == {}  # lock released


@pytest.mark.parametrize("point", ["staging created", "cell running", "executed, not promoted", "promoting"])
def test_sigkill_at_any_point_leaves_a_complete_state(project, tmp_path, point, monkeypatch):
    monkeypatch.setenv("LANDCARBON_ROOT", str(project))
    before = snapshot(project)
    marker = tmp_path / "hold.pid"
    args = ["--only", "alpha", "-p", "alpha", "sleep=0.1", "-p", "alpha", "note='new run'"]
    extra = {}
    if point == "cell running":
        args += ["-p", "alpha", f"hold={str(marker)!r}", "-p", "alpha", "sleep=120"]
    elif point == "executed, not promoted":
        extra = {"LANDCARBON_TEST_HOLD": f"executed@{marker}"}
    elif point == "promoting":
        extra = {"LANDCARBON_TEST_HOLD": f"promoting@{marker}"}
    p = _cli(project, *args, env_extra=extra)
    kernel_pid = None
    if point == "staging created":
        staging = project / ".landcarbon" / "staging"
        t0 = time.monotonic()
        while not any(staging.iterdir()) and time.monotonic() - t0 < 120:
            time.sleep(0.01)
    else:
        held = int(_wait_for(marker, p))
        kernel_pid = held if point == "cell running" else None
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate(timeout=30)
    if kernel_pid:
        assert _gone(kernel_pid), "the kernel outlived its killed pipeline (ipykernel's parent poller)"
    after = snapshot(project)
    if point != "promoting":
        assert after == before, point
    else:
        # killed between the two renames of a promotion: results/alpha/ is already the new complete
        # folder (swapped in one step, never absent); the next run completes the journaled promotion
        assert (project / "results" / "alpha" / "summary.json").is_file()
        assert (project / ".landcarbon" / "promote" / "alpha.json").is_file()
    if point != "promoting":  # the next run cleans up what the killed one left outside results/
        assert any((project / ".landcarbon" / "staging").iterdir()) or point == "staging created"
        done = pipeline.recover(project)
        assert snapshot(project) == before and not list((project / ".landcarbon" / "staging").iterdir()), done
        return
    q = _cli(project, "--only", "alpha", "-p", "alpha", "sleep=0.1", "-p", "alpha", "note='new run'")
    out, err = q.communicate(timeout=300)
    assert q.returncode == 0, err
    assert out.split()[1] == "cached", (out, err)  # the journaled promotion was completed, nothing re-run
    assert "completed the interrupted promotion of alpha" in err
    assert not list((project / ".landcarbon" / "staging").iterdir())
    assert not list((project / ".landcarbon" / "promote").glob("*.json"))
    prov = json.loads((project / "results" / "alpha" / "provenance.json").read_text())
    assert prov["parameters"]["note"] == "new run"
    cache = json.loads((project / ".landcarbon" / "cache" / "alpha.json").read_text())
    assert cache["run_id"] == prov["run_id"]  # notebook, results and cache entry from the same run
    nb = (project / "book" / "analyses" / "01_alpha.ipynb").read_text()
    assert "new run" in nb


def test_second_run_fails_fast_naming_the_holder(project, tmp_path):
    marker = tmp_path / "kernel.pid"
    first = _cli(project, "--only", "alpha", "-p", "alpha", "sleep=120", "-p", "alpha", f"hold={str(marker)!r}")
    try:
        _wait_for(marker, first)
        t0 = time.monotonic()
        second = _cli(project, "--only", "alpha")
        out, err = second.communicate(timeout=60)
        elapsed = time.monotonic() - t0
        assert second.returncode == 1
        assert f"pid {first.pid}" in err and "another landcarbon run is in progress" in err and "host" in err
        assert elapsed < 30, elapsed  # no waiting for the first run: only start-up time
    finally:
        os.killpg(first.pid, signal.SIGINT)
        first.communicate(timeout=30)
    assert first.returncode == 130


def test_stale_lock_is_taken_over(project, monkeypatch):
    lock = project / ".landcarbon" / "run.lock"
    lock.write_text(json.dumps({"pid": 999999, "host": "elsewhere", "started_utc": "2020-01-01T00:00:00+00:00",
                                "command": "landcarbon run"}))
    monkeypatch.setenv("LANDCARBON_ROOT", str(project))
    monkeypatch.delenv("LANDCARBON_DATA_PATH", raising=False)  # as in the CLI runs of this file (_env)
    said = []
    recs = pipeline.run(["alpha"], overrides={"alpha": {"sleep": 0.0}}, progress=False, echo=said.append)
    assert recs[0].status == "cached"
    assert any("stale run lock of pid 999999 on elsewhere" in s for s in said)
    assert lock.read_text() == ""  # released: no holder recorded
