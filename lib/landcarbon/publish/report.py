"""Build the monitoring report (Jupyter Book 1.x) from the executed notebooks and ``results/``.

:func:`generate_pages` writes the generated parts of the book into ``book/generated/`` — nothing in
them is typed by hand:

* ``key_indicators.md`` — the front page's table of the indicators chosen in ``book/key_indicators.yaml``
  (value ± 1σ, units, data source, link to the chapter), read from the ``summary.json`` files;
* ``indicators.md`` — every indicator of every analysis;
* ``headlines.md``  — the chapters' headline figures with captions;
* ``datasets.md``   — ``data_manifest.yaml`` as a table (what, licence, how to get it, checksum);
* ``provenance.md`` — environment, package versions, data hashes, parameters and timings of the run.

:func:`build_report` then copies MathJax 3 (from the PyPI package ``django-static-mathjax``) into the
site so that math renders without the internet, runs ``jupyter-book build`` with warnings as errors and
checks that ``book/_build/html/index.html`` exists.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .atomic import write_text_atomic
from ..errors import PipelineError, located
from .paths import project_root, results_dir

__all__ = ["generate_pages", "build_report", "indicator_rows"]


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _source_label(src: str) -> str:
    parts = [s.strip() for s in str(src).split(";") if s.strip()]
    labels = []
    for s in parts:
        if s.startswith("demo:"):
            labels.append(f"**DEMO** (`{s[5:].split(':')[-1]}`)")
        elif s.startswith("real:"):
            labels.append(f"real data (sha256 `{s[5:13]}…`)")
        elif s.startswith("literature:"):
            labels.append(f"literature ({s[11:]})")
        else:
            labels.append(_md_escape(s))
    return "; ".join(labels) or "unknown"


def indicator_rows(root: Path | None = None) -> list[dict]:
    """One row per indicator of every analysis that has a ``summary.json``, in report order."""
    from .pipeline import load_analyses
    from .reporting import format_value, read_summary

    root = root or project_root()
    rows = []
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "summary.json"
        if not p.is_file():
            continue
        doc = read_summary(p)
        for key, ind in doc["indicators"].items():
            rows.append({
                "analysis": a.name, "chapter": a.title, "doc": f"/analyses/{Path(a.notebook).stem}",
                "name": key, "description": ind.get("description", key),
                "value": format_value(ind["value"], ind.get("sigma")), "units": ind.get("units", ""),
                "source": ind.get("source") or doc.get("data_source", ""),
                "analysis_source": doc.get("data_source", ""),
            })
    return rows


def _literature_hashes() -> set[str]:
    """sha256 of the literature tables of the manifest (their 'real' data are published numbers)."""
    from ..data import load_manifest

    return {f.sha256 for ds in load_manifest().values() if ds.kind == "literature-table" for f in ds.files if f.sha256}


def _source_badge(src: str) -> str:
    parts = [s.strip() for s in str(src).split(";") if s.strip()]
    kinds = []
    lit = _literature_hashes()
    for s in parts:
        kind, _, rest = s.partition(":")
        kinds.append("literature" if kind == "real" and rest in lit else kind)
    labels = {"demo": "**DEMO** twin", "real": "real data", "literature": "published values"}
    out = [labels.get(k, _md_escape(k)) for k in dict.fromkeys(kinds)]
    return " + ".join(out) or "unknown"


def _table(rows: list[dict], *, label_key: str = "description") -> str:
    out = ["| Indicator | Value (± 1σ) | Units | Data | Chapter |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {_md_escape(r[label_key])} | {r['value']} | {_md_escape(r['units'])} | "
                   f"{_source_badge(r['source'])} | {{doc}}`{r['chapter']} <{r['doc']}>` |")
    return "\n".join(out) + "\n"


_DEMO_NOTE = ("\n```{warning}\nRows marked **DEMO** were computed on the synthetic digital twin (known truth), "
              "not on observations. Point `LANDCARBON_DATA_PATH` at real data and rerun `make report` to replace "
              "them; the exact data source of each chapter (generator, seed or file hash) is on "
              "{doc}`/reproducibility`.\n```\n")


def _key_indicators_md(root: Path) -> str:
    """Front-page table: the indicators listed in ``book/key_indicators.yaml``."""
    import yaml

    spec_path = root / "book" / "key_indicators.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or []
    by_key = {(r["analysis"], r["name"]): r for r in indicator_rows(root)}
    have = {r["analysis"] for r in by_key.values()}
    rows, absent = [], []
    for i, item in enumerate(spec):
        key = (item["analysis"], item["indicator"])
        if key in by_key:
            rows.append({**by_key[key], "label": item.get("label") or by_key[key]["description"]})
        elif item["analysis"] in have and not item.get("optional"):
            raise PipelineError(located(
                f"key indicator {item['indicator']!r} is not in results/{item['analysis']}/summary.json",
                where=f"{spec_path}, entry #{i}", fix="rename it there to an indicator the analysis writes"))
        elif item["analysis"] not in have:
            absent.append(item["analysis"])
    if not rows:
        return "```{warning}\nNo analysis results yet: run `landcarbon run` first.\n```\n"
    md = _table(rows, label_key="label")
    if absent:
        md += "\n*Not yet run: " + ", ".join(sorted(set(absent))) + ".*\n"
    return md + (_DEMO_NOTE if any("demo:" in r["source"] for r in rows) else "")


def _indicators_md(root: Path) -> str:
    """Every indicator of every analysis, grouped by chapter, with the full data-source string."""
    rows = indicator_rows(root)
    if not rows:
        return "```{warning}\nNo analysis results yet: run `landcarbon run` first.\n```\n"
    parts = []
    for chapter in dict.fromkeys(r["chapter"] for r in rows):
        sub = [r for r in rows if r["chapter"] == chapter]
        parts.append(f"## {chapter}\n\nData source: {_source_label(sub[0]['analysis_source'])}\n\n" + _table(sub))
    return "\n".join(parts) + (_DEMO_NOTE if any("demo:" in r["source"] for r in rows) else "")


def _headlines_md(root: Path, book: Path) -> str:
    from .pipeline import load_analyses

    fig_dir = book / "generated" / "figures"
    if fig_dir.exists():
        shutil.rmtree(fig_dir)
    fig_dir.mkdir(parents=True)
    blocks = []
    for a in load_analyses(root).values():
        s = results_dir(a.name) / "summary.json"
        if not s.is_file():
            continue
        doc = json.loads(s.read_text(encoding="utf-8"))
        hf = doc.get("headline_figure")
        if not hf:
            continue
        src = results_dir(a.name) / hf["file"]
        if not src.is_file():
            continue
        dst = fig_dir / f"{a.name}{src.suffix}"
        shutil.copyfile(src, dst)
        blocks.append(f"```{{figure}} /generated/figures/{dst.name}\n:name: headline-{a.name}\n:width: 90%\n\n"
                      f"{_md_escape(hf.get('caption', a.title))} (From {{doc}}`{a.title} "
                      f"</analyses/{Path(a.notebook).stem}>`.)\n```\n")
    return "\n".join(blocks) if blocks else ""


def _datasets_md() -> str:
    from ..data import load_manifest, resolve_files

    out = ["| Dataset | What | Licence | How to obtain | Files and sha256 | Status here |", "|---|---|---|---|---|---|"]
    for ds in load_manifest().values():
        files = "<br>".join(
            f"`{f.label}`" + (f" sha256 `{f.sha256[:12]}…`" if f.sha256 else " (no fixed checksum)") for f in ds.files)
        try:
            res = resolve_files(ds.id, check=False)
            status = "real files found" if res.complete and res.paths else (
                "raw files not present — the shipped real-data extract is used" if ds.extract else
                "not present — demo digital twin used" if ds.demo else "not present")
        except Exception as exc:  # noqa: BLE001
            status = f"error: {exc}"
        cite = ds.citation + (f" doi:[{ds.doi}](https://doi.org/{ds.doi})" if ds.doi else "")
        out.append(f"| `{ds.id}` | {_md_escape(ds.title)}. {_md_escape(cite)} | {_md_escape(ds.license)} | "
                   f"{_md_escape(ds.access)} | {files} | {status} |")
    return "\n".join(out) + "\n"


def _provenance_md(root: Path) -> str:
    from .pipeline import load_analyses

    last = results_dir() / "last_run.json"
    lines = []
    if last.is_file():
        run = json.loads(last.read_text())
        git = run.get("git") or {}
        lines += ["## Environment of this build", "",
                  f"- Profile: `{run.get('profile')}`; Python {run.get('python')}; platform `{run.get('platform')}`",
                  f"- Git commit: `{git.get('commit')}`" + (" (with uncommitted changes)" if git.get("dirty") else ""),
                  f"- `LANDCARBON_DATA_PATH`: `{run.get('data_path') or '(not set: demo data where real files are absent)'}`",
                  "", "| Package | Version |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted((run.get("packages") or {}).items())]
        lines.append("")
    lines += ["## Analyses of this build", "",
              "| Analysis | Data source | Run time [s] | Cache key | Parameters |", "|---|---|---|---|---|"]
    details = []
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "provenance.json"
        if not p.is_file():
            continue
        prov = json.loads(p.read_text())
        params = ", ".join(f"`{k}={v!r}`" for k, v in sorted(prov.get("parameters", {}).items()))
        lines.append(f"| {{doc}}`{a.title} </analyses/{Path(a.notebook).stem}>` | {_source_label(prov.get('data_source', ''))} | "
                     f"{prov.get('seconds')} | `{str(prov.get('cache_key'))[:12]}` | {params} |")
        data = prov.get("inputs", {}).get("data", {})
        if data:
            details.append(f"- **{a.name}** data fingerprints: " + "; ".join(f"`{k}`: `{v[:24]}`" for k, v in data.items()))
    lines += ["", *details, ""]
    return "\n".join(lines)


def generate_pages(root: Path | None = None) -> Path:
    """Write ``book/generated/*.md`` (and figures) from results and the manifest; return the folder."""
    root = root or project_root()
    book = root / "book"
    gen = book / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    write_text_atomic(gen / "key_indicators.md", _key_indicators_md(root))
    write_text_atomic(gen / "indicators.md", _indicators_md(root))
    write_text_atomic(gen / "headlines.md", _headlines_md(root, book))
    write_text_atomic(gen / "datasets.md", _datasets_md())
    write_text_atomic(gen / "provenance.md", _provenance_md(root))
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


def build_report(root: Path | None = None, *, warnings_as_errors: bool = True) -> Path:
    """Generate pages and run ``jupyter-book build book/``; return the path of ``index.html``."""
    root = root or project_root()
    book = root / "book"
    generate_pages(root)
    _install_mathjax(book)
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(book), "--path-output", str(book)]
    if warnings_as_errors:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    log = root / ".landcarbon" / "logs" / "book.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    index = book / "_build" / "html" / "index.html"
    if proc.returncode != 0 or not index.is_file():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise PipelineError(located(f"jupyter-book build failed (exit {proc.returncode})\n{tail}\n",
                                    where=str(log), fix="read the warnings above; warnings are errors in this build"))
    return index
