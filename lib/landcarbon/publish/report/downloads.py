"""The report's "run it yourself" page: download buttons for every notebook and the environment
files, and Binder buttons (:func:`binder_url`) when ``repository.url`` is set in ``book/_config.yml``.
"""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from .display import _link, chapter_titles


def _book_config(root: Path) -> dict:
    import yaml

    return yaml.safe_load((root / "book" / "_config.yml").read_text(encoding="utf-8")) or {}


def binder_url(repository_url: str, *, branch: str = "main", binderhub_url: str = "https://mybinder.org",
               path: str | None = None) -> str:
    """Binder launch address of a repository (GitHub ``gh`` form, else the generic ``git`` form),
    opening ``path`` in JupyterLab when given."""
    repo = repository_url.rstrip("/").removesuffix(".git")
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+)$", repo)
    if m:
        spec = f"gh/{m.group(1)}/{m.group(2)}/{urllib.parse.quote(branch, safe='')}"
    else:
        spec = f"git/{urllib.parse.quote(repo, safe='')}/{urllib.parse.quote(branch, safe='')}"
    url = f"{binderhub_url.rstrip('/')}/v2/{spec}"
    return url + (f"?labpath={urllib.parse.quote(path, safe='')}" if path else "")


def _downloads_md(root: Path) -> str:
    from ..pipeline import load_analyses

    cfg = _book_config(root)
    repo = ((cfg.get("repository") or {}).get("url") or "").strip()
    branch = (cfg.get("repository") or {}).get("branch") or "main"
    hub = (((cfg.get("sphinx") or {}).get("config") or {}).get("landcarbon_binderhub_url") or "https://mybinder.org").strip()
    titles = chapter_titles(root)
    out = ["| Chapter | Notebook | Run online |", "|---|---|---|"] if repo else ["| Chapter | Notebook |", "|---|---|"]
    for a in load_analyses(root).values():
        nb = f"notebooks/{a.notebook}"
        row = f"| {_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])} | {{download}}`{a.notebook} </../{nb}>` |"
        if repo:
            row += (f' <a class="lc-binder" href="{binder_url(repo, branch=branch, binderhub_url=hub, path=nb)}">'
                    f'<img src="_static/binder-badge.svg" alt="launch on Binder" width="109" height="20"></a> |')
        out.append(row)
    out += ["", "Environment: {download}`environment.yml </../environment.yml>` (conda) · "
                "{download}`pyproject.toml </../pyproject.toml>` (pip)", ""]
    if repo:
        out += [f'<a class="lc-binder" href="{binder_url(repo, branch=branch, binderhub_url=hub)}">'
                f'<img src="_static/binder-badge.svg" alt="launch the repository on Binder" width="109" height="20"></a>'
                " the whole repository in JupyterLab.", ""]
    else:
        out += ["This build was made without a public repository address (`repository.url` in "
                "`book/_config.yml`), so it has no Binder buttons. Binder can still build any public copy of "
                "the repository: enter its address on the Binder site; the `.binder/` folder tells it what to install.", ""]
    return "\n".join(out)
