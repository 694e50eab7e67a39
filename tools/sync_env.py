"""Make the running environment hold exactly the packages of a lock file (used by `make setup`).

`pip install --require-hashes -r requirements-lock.txt` adds and changes packages but never removes
one the lock no longer lists (after a dependency was dropped, or in a venv made before the lock).
This script uninstalls those, so `pip freeze` equals the lock (tests/test_packaging.py checks it).
Standard library only. Usage: python tools/sync_env.py requirements-lock.txt [--dry-run]
"""
from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEEP = {"pip", "landcarbon"}  # the installer itself, and the package (installed --no-deps -e . after)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_names(lock: Path) -> set[str]:
    return {canonical(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==",
                                                       lock.read_text(), re.M)}


def main(argv: list[str]) -> int:
    lock, dry = Path(argv[0]), "--dry-run" in argv
    wanted = locked_names(lock)
    if len(wanted) < 10:
        print(f"sync_env: {lock} lists only {len(wanted)} packages; refusing to uninstall anything", file=sys.stderr)
        return 1
    extra = sorted({canonical(d.metadata["Name"]) for d in metadata.distributions()} - wanted - KEEP)
    if extra:
        print("sync_env: removing packages the lock does not list: " + " ".join(extra))
        if not dry:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *extra], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
