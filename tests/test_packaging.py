"""Packaging and citation: the hashed lock, the installed environment, licence, CITATION.cff, codemeta.

* ``requirements-lock.txt`` pins every package with sha256 hashes and satisfies every bound of
  pyproject.toml (so ``make lock`` was run after the last change of the dependency lists);
* the running environment, when ``make`` installed it from the lock, holds exactly the locked versions
  (``pip freeze`` compared with the lock);
* LICENSE, CITATION.cff (validated against the CFF 1.2.0 schema), codemeta.json and pyproject.toml agree.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = "requirements-lock.txt"


def _lock_pins(root: Path) -> dict[str, tuple[str, list[str]]]:
    """``{canonical name: (version, [sha256, ...])}`` from the lock file."""
    text = (root / LOCK).read_text()
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)", block)
        if m:
            pins[canonicalize_name(m.group(1))] = (m.group(3), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


def _pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


def test_lock_pins_everything_with_hashes_and_satisfies_pyproject(project_root):
    pins = _lock_pins(project_root)
    assert len(pins) > 50
    unhashed = [n for n, (_, h) in pins.items() if not h]
    assert not unhashed, f"entries without --hash in {LOCK}: {unhashed}"
    py = _pyproject(project_root)
    wanted = [*py["project"]["dependencies"], *py["project"]["optional-dependencies"]["test"],
              *py["project"]["optional-dependencies"]["book"]]
    problems = []
    for req in map(Requirement, wanted):
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req} but the lock pins {pins[name][0]}")
    assert not problems, "run `make lock` after editing pyproject.toml: " + "; ".join(problems)
    assert "make lock" in (project_root / LOCK).read_text()[:300]


def test_core_dependencies_are_what_lib_imports(project_root):
    py = _pyproject(project_root)
    core = {canonicalize_name(Requirement(r).name) for r in py["project"]["dependencies"]}
    assert "h5netcdf" not in core and "statsmodels" not in core
    assert "zarr" in core, "landcarbon.scale writes chunk-wise zarr stores (zarr >= 3 for xarray's zarr I/O)"
    lib = "\n".join(p.read_text() for p in (project_root / "lib").rglob("*.py"))
    for test_only in ("statsmodels", "compliance_checker", "hypothesis", "pymannkendall"):
        assert not re.search(rf"^\s*(import|from) {test_only}\b", lib, re.M), f"lib imports test-only {test_only}"
    pins = _lock_pins(project_root)
    assert "zarr" in pins and int(pins["zarr"][0].split(".")[0]) >= 3, "xarray's zarr I/O needs zarr >= 3 in the lock"


def test_installed_environment_matches_the_lock(project_root):
    marker = Path(sys.prefix) / ".lock-sha256"
    if not marker.is_file():
        pytest.skip(f"this environment ({sys.prefix}) was not installed from {LOCK} by `make` "
                    "(e.g. make test-latest runs unpinned on purpose)")
    import hashlib

    current = hashlib.sha256((project_root / LOCK).read_bytes()).hexdigest()
    assert marker.read_text().strip() == current, f"{LOCK} changed since this environment was installed: run `make setup`"
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    installed = {}
    for line in freeze.splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$", line.strip())
        if m:
            installed[canonicalize_name(m.group(1))] = m.group(2)
    pins = {n: v for n, (v, _) in _lock_pins(project_root).items()}
    installed.pop("pip", None)  # the installer itself is not locked
    installed.pop("landcarbon", None)
    differ = {n: (installed.get(n), pins.get(n)) for n in set(installed) | set(pins) if installed.get(n) != pins.get(n)}
    assert not differ, f"pip freeze vs {LOCK} ((installed, locked)): {differ}"


def test_makefile_installs_the_lock(project_root):
    mk = (project_root / "Makefile").read_text()
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r \$\(LOCK\)", mk)
    assert re.search(r"pip install [^\n]*--no-deps[^\n]*-e \.", mk)
    for target in ("lock:", "lock-upgrade:", "test-latest:", "setup:", "report:", "test:"):
        assert f"\n{target}" in mk, target
    assert "LOCK := requirements-lock.txt" in mk and "--generate-hashes" in mk and "--python-version 3.11" in mk


def test_license_citation_and_codemeta_agree(project_root):
    import jsonschema

    lic = (project_root / "LICENSE").read_text()
    assert lic.startswith("MIT License") and "Permission is hereby granted, free of charge" in lic
    py = _pyproject(project_root)["project"]
    assert py["license"] == "MIT" and py["license-files"] == ["LICENSE"]
    cff = yaml.safe_load((project_root / "CITATION.cff").read_text())
    schema = json.loads((Path(__file__).parent / "data" / "cff-schema-1.2.0.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(cff), key=lambda e: list(e.path))
    assert not errors, "CITATION.cff does not validate against CFF 1.2.0: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and cff["version"] == py["version"]
    meta = json.loads((project_root / "codemeta.json").read_text())
    assert meta["version"] == py["version"] and meta["license"].endswith("/MIT") and meta["name"] == cff["title"]
    team = "The landcarbon compendium contributors"
    assert [a["name"] for a in cff["authors"]] == [team] == [a["name"] for a in py["authors"]]
    assert [a["name"] for a in meta["author"]] == [team]


def test_an_invalid_citation_is_caught(project_root):
    """The schema check is not vacuous: a CFF without authors or with a bad version fails it."""
    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "cff-schema-1.2.0.json").read_text())
    cff = yaml.safe_load((project_root / "CITATION.cff").read_text())
    for broken in ({k: v for k, v in cff.items() if k != "authors"}, {**cff, "cff-version": "9.9"},
                   {**cff, "license": "Not-A-Licence"}):
        assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_cite_command(project_root, monkeypatch, capsys):
    from landcarbon.publish.cli import main

    monkeypatch.chdir(project_root)
    assert main(["cite", "--format", "bibtex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("@software{landcarbon,") and "The landcarbon compendium contributors" in out
    assert main(["cite", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("## How to cite this report") and "```bibtex" in md and "0.1.0" in md


def test_publishing_modules_pass_ruff(project_root):
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment (test extra)")
    files = [project_root / "lib" / "landcarbon" / "publish" / f for f in
             ("pipeline.py", "cli.py", "paths.py", "atomic.py", "notebook.py", "parameters.py", "runlock.py",
              "_kernel.py", "refusals.py", "citation.py", "cf.py", "cache.py", "staging.py", "interrupts.py")]
    files += [project_root / "tests" / f for f in ("test_pipeline.py", "test_pipeline_signals.py", "test_cli.py",
                                                   "test_packaging.py", "test_environment.py", "test_cf_outputs.py")]
    out = subprocess.run([str(ruff), "check", "--no-cache", *map(str, [f for f in files if f.exists()])],
                         capture_output=True, text=True, cwd=project_root)
    assert out.returncode == 0, out.stdout + out.stderr
