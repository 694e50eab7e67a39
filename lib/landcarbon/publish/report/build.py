"""Putting the report together: :func:`generate_pages` writes every generated page into
``book/generated/``; :func:`build_report` copies MathJax 3 into the site (math renders without the
internet), drops a stale Sphinx environment, runs ``jupyter-book build`` with warnings as errors
and checks that ``index.html`` exists (``solutions=False``: the copy without solutions, in
:func:`no_solutions_site`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ...errors import PipelineError, located
from ..atomic import write_text_atomic
from ..paths import project_root
from .downloads import _downloads_md
from .figures import _headlines_md
from .front_page import _chapters_md, front_page_md
from .indicators import _indicators_md
from .provenance import _datasets_md, _provenance_md
from .teaching import _teaching_md


def generate_pages(root: Path | None = None) -> Path:
    """Write ``book/generated/*.md`` (and figures) from results and the manifest; return the folder."""
    root = root or project_root()
    book = root / "book"
    gen = book / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    for name, md in front_page_md(root).items():
        write_text_atomic(gen / f"{name}.md", md)
    write_text_atomic(gen / "chapters.md", _chapters_md(root))
    write_text_atomic(gen / "indicators.md", _indicators_md(root))
    write_text_atomic(gen / "headlines.md", _headlines_md(root, book))
    write_text_atomic(gen / "datasets.md", _datasets_md())
    write_text_atomic(gen / "provenance.md", _provenance_md(root))
    write_text_atomic(gen / "teaching.md", _teaching_md(root))
    write_text_atomic(gen / "downloads.md", _downloads_md(root))
    stale = gen / "key_indicators.md"  # the former front-page table
    if stale.exists():
        stale.unlink()
    return gen


#: MathJax 3 files needed for TeX input with CommonHTML output (from the PyPI package django-static-mathjax).
_MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "sre", "adaptors")


def _install_mathjax(book: Path) -> None:
    """Copy MathJax 3 (PyPI package ``django-static-mathjax``, module ``mathjax``) into the site's static files,
    so that math renders without the internet (Sphinx would otherwise load it from a CDN)."""
    try:
        import mathjax
    except ImportError as exc:
        raise PipelineError(located("django-static-mathjax is not installed (needed to render math offline)",
                                    fix="pip install -e '.[book]'")) from exc
    src = Path(mathjax.__file__).parent / "static" / "mathjax"
    dst = book / "_static_generated" / "mathjax"
    if (dst / "tex-mml-chtml.js").is_file():
        return
    if dst.exists():
        shutil.rmtree(dst)
    for part in _MATHJAX_PARTS:
        s, d = src / "es5" / part, dst / part
        if s.is_dir():
            shutil.copytree(s, d)
        else:
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, d)
    shutil.copyfile(src / "LICENSE", dst / "LICENSE")


def _forget_stale_environment(book: Path, build: Path) -> None:
    """Drop Sphinx's saved environment when the book's configuration or bibliography files changed:
    sphinxcontrib-bibtex keeps the parsed .bib files in it, so a reference added in a new .bib file
    would otherwise be "not found" until a clean build."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted([book / "_config.yml", book / "_toc.yml", *(book / "references").glob("*.bib")]):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    stamp = build / ".landcarbon-config.sha256"
    if stamp.is_file() and stamp.read_text() == h.hexdigest():
        return
    shutil.rmtree(build / ".doctrees", ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(h.hexdigest())


def no_solutions_site(root: Path | None = None) -> Path:
    """Folder of the copy built by ``landcarbon report --no-solutions`` (solutions left out)."""
    root = root or project_root()
    return root / "book" / "_build" / "no-solutions" / "_build" / "html"


def build_report(root: Path | None = None, *, warnings_as_errors: bool = True, solutions: bool = True) -> Path:
    """Generate pages and run ``jupyter-book build book/``; return the path of ``index.html``.

    ``solutions=False`` builds the copy without solutions into :func:`no_solutions_site` (its own
    Sphinx environment, so the two builds never mix).
    """
    root = root or project_root()
    book = root / "book"
    generate_pages(root)
    _install_mathjax(book)
    exe = Path(sys.executable).parent / "jupyter-book"
    out = book if solutions else book / "_build" / "no-solutions"
    _forget_stale_environment(book, out / "_build")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(book), "--path-output", str(out)]
    if warnings_as_errors:
        cmd += ["-W", "-n", "--keep-going"]
    env = {**os.environ, "LANDCARBON_SOLUTIONS": "1" if solutions else "0"}
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    log = root / ".landcarbon" / "logs" / ("book.log" if solutions else "book-no-solutions.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    index = out / "_build" / "html" / "index.html"
    if proc.returncode != 0 or not index.is_file():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise PipelineError(located(f"jupyter-book build failed (exit {proc.returncode})\n{tail}\n",
                                    where=str(log), fix="read the warnings above; warnings are errors in this build"))
    return index
