"""The Binder / JupyterHub configuration: repo2docker builds the environment from ``.binder/`` and installs
the package from the repository checkout (never from the network), and the environment stays the one
of ``environment.yml``."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _deps(env: dict) -> tuple[set, set]:
    conda, pip = set(), set()
    for d in env["dependencies"]:
        if isinstance(d, dict):
            pip |= {p for p in d.get("pip", [])}
        else:
            conda.add(d)
    return conda, pip


def test_binder_environment_is_environment_yml_without_the_editable_install(project_root):
    root_env = yaml.safe_load((project_root / "environment.yml").read_text())
    binder_env = yaml.safe_load((project_root / ".binder" / "environment.yml").read_text())
    rc, rp = _deps(root_env)
    bc, bp = _deps(binder_env)
    assert bc == rc, (f"conda packages differ: only in .binder {bc - rc}, only in environment.yml {rc - bc}; "
                      "copy environment.yml to .binder/environment.yml without its `- -e .` line")
    assert bp == rp - {"-e ."}, f"pip packages differ: {bp ^ (rp - {'-e .'})}"
    assert "-e ." not in bp  # repo2docker installs environment.yml before the repository is copied in
    assert any(str(d).startswith("python=3.11") for d in bc)


def test_postbuild_installs_the_checkout_without_the_network(project_root):
    post = project_root / ".binder" / "postBuild"
    text = post.read_text()
    assert post.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    commands = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert "python -m pip install --no-deps -e ." in commands
    for forbidden in ("git+", "http://", "https://", "git clone", "curl", "wget"):
        assert forbidden not in text, f"postBuild must not fetch the repository's source ({forbidden})"


def test_repo2docker_builds_from_binder_folder(project_root, tmp_path):
    """repo2docker (--no-build: writes the Dockerfile, needs no Docker) picks the conda build pack from
    .binder/, installs the environment before copying the repository and runs postBuild after."""
    here = Path(sys.executable).parent / "repo2docker"
    exe = str(here) if here.exists() else shutil.which("repo2docker")
    if exe is None:
        pytest.skip("jupyter-repo2docker is not installed (test extra)")
    # a copy of just the files repo2docker reads, so that the check does not depend on the work tree's size
    repo = tmp_path / "repo"
    shutil.copytree(project_root / ".binder", repo / ".binder")
    for name in ("environment.yml", "pyproject.toml", "README.md"):
        shutil.copy(project_root / name, repo / name)
    proc = subprocess.run([exe, "--no-build", "--no-run", "--debug", str(repo)], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-2000:]
    assert "Building conda environment for python=3.11" in out
    env_step = out.index('--file ".binder/environment.yml"')
    copy_repo = out.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    post = out.index("RUN ./.binder/postBuild")
    assert env_step < copy_repo < post, "environment before the repository is copied, postBuild after"
