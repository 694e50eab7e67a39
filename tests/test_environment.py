"""environment.yml gives conda users the same packages and bounds as pyproject.toml."""
from __future__ import annotations

import re
import tomllib

import yaml

# conda-forge spells some packages differently
CONDA_NAME = {"netcdf4": "netcdf4", "dask[array]": "dask"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    name, spec = m.group(1).lower(), m.group(2).replace(" ", "")
    name = CONDA_NAME.get(name, re.sub(r"\[.*\]", "", name))
    return name, spec


def test_environment_matches_pyproject(project_root):
    py = tomllib.loads((project_root / "pyproject.toml").read_text())
    wanted = [*py["project"]["dependencies"], *py["project"]["optional-dependencies"]["test"],
              *py["project"]["optional-dependencies"]["book"]]
    env = yaml.safe_load((project_root / "environment.yml").read_text())
    have = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pipdep in dep.get("pip", []):
                if not pipdep.startswith("-e"):
                    n, s = _split(pipdep)
                    have[n] = s
        else:
            n, s = _split(dep.replace("==", "@@").replace("=", "==", 1).replace("@@", "==") if re.match(r"^python=", dep) else dep)
            have[n] = s
    missing, differ = [], []
    for req in wanted:
        n, s = _split(req)
        if n not in have:
            missing.append(n)
        elif have[n] != s:
            differ.append(f"{n}: pyproject {s!r} vs environment.yml {have[n]!r}")
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"
    assert not differ, "bounds differ: " + "; ".join(differ)
    assert env["dependencies"][0].startswith("python=3.11")
