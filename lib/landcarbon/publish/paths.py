"""Where things live: project root, results, cache, data search path.

Every path the package uses is derived here, so a user can relocate the compendium with environment
variables only:

* ``LANDCARBON_ROOT``      — the compendium folder (default: found from the working directory upwards,
  else the source checkout this package was installed from);
* ``LANDCARBON_DATA_PATH`` — colon-separated folders searched for real data files;
* ``LANDCARBON_RESULTS``   — where analyses write ``results/<analysis>/`` (default ``<root>/results``);
* ``LANDCARBON_CACHE``     — the pooch download cache (default: the OS user cache, ``landcarbon``).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, located

__all__ = ["project_root", "results_dir", "data_search_path", "download_cache", "state_dir", "INTERACTIVE_DIR",
           "interactive_results_dir"]

#: Scratch folder (under results/) of notebooks run by hand; never read by the pipeline or the report.
INTERACTIVE_DIR = "_interactive"

_PACKAGE_CHECKOUT_ROOT = Path(__file__).resolve().parents[3]


def _is_root(p: Path) -> bool:
    return (p / "data_manifest.yaml").is_file() and (p / "notebooks").is_dir()


def project_root(start: Path | str | None = None) -> Path:
    """The compendium root (folder holding ``data_manifest.yaml`` and ``notebooks/``)."""
    env = os.environ.get("LANDCARBON_ROOT")
    if env:
        p = Path(env).resolve()
        if not _is_root(p):
            raise ConfigError(located(f"LANDCARBON_ROOT={env} is not a landcarbon compendium folder",
                                      fix="point it at the folder with data_manifest.yaml and notebooks/"))
        return p
    here = Path(start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if _is_root(p):
            return p
    if _is_root(_PACKAGE_CHECKOUT_ROOT):
        return _PACKAGE_CHECKOUT_ROOT
    raise ConfigError(located("cannot find the compendium root (data_manifest.yaml + notebooks/)",
                              where=str(here), fix="run inside the compendium or set LANDCARBON_ROOT"))


def results_dir(analysis: str | None = None, *, create: bool = False) -> Path:
    """``results/`` (or ``results/<analysis>/``) of the compendium, honouring ``LANDCARBON_RESULTS``."""
    base = Path(os.environ.get("LANDCARBON_RESULTS") or project_root() / "results")
    p = base / analysis if analysis else base
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


def interactive_results_dir(analysis: str) -> Path:
    """``results/_interactive/<analysis>/``: where a notebook run by hand writes its outputs."""
    return results_dir(INTERACTIVE_DIR) / analysis


def state_dir() -> Path:
    """Pipeline state (cache keys, logs): ``<root>/.landcarbon``."""
    p = project_root() / ".landcarbon"
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_search_path() -> list[Path]:
    """Folders listed in ``LANDCARBON_DATA_PATH`` (colon separated), in order; missing ones skipped."""
    raw = os.environ.get("LANDCARBON_DATA_PATH", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def download_cache() -> Path:
    """pooch cache folder for downloaded files."""
    env = os.environ.get("LANDCARBON_CACHE")
    if env:
        return Path(env).expanduser()
    # same folder as pooch.os_cache("landcarbon"), without importing pooch (whose import pulls in
    # tqdm.auto and prints an "IProgress not found" warning into every notebook)
    import platformdirs

    return Path(platformdirs.user_cache_dir("landcarbon"))
