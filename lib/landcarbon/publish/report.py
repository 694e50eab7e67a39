"""Build the monitoring report (Jupyter Book 1.x) from the executed notebooks and ``results/``.

:func:`generate_pages` writes the generated parts of the book into ``book/generated/``. Nothing in
them is typed by hand: every number is read from a ``results/<analysis>/summary.json``.

Front page (driven by ``book/key_indicators.yaml``, see :func:`load_key_indicators`):

* ``key_messages.md``       — 3–5 plain-language statements, each a number with its uncertainty,
  period, data source and a link (from the entries' ``message`` templates);
* ``headline_estimates.md`` — the entries of kind ``headline``: observations or published values only,
  with a Period column;
* ``method_tests.md``       — the entries of kind ``method-test``: results on the demo digital twin,
  next to the twin's truth where the entry names one;
* ``headlines.md``          — the chapters' headline figures (observations first), shown at their
  native size so that no label is smaller than it was drawn (see :func:`save_headline_figure`).

Other pages:

* ``indicators.md``    — every indicator of every analysis;
* ``datasets.md``      — ``data_manifest.yaml`` as a table (what, licence, how to get it, checksum);
* ``provenance.md``    — environment, package versions, data fingerprints, parameters and timings of
  the run, without absolute paths of the build machine;
* ``teaching.md``      — objectives, prerequisites, time and difficulty per chapter, from ``book/teaching.yaml``;
* ``downloads.md``     — download buttons for every notebook and ``environment.yml``, Binder buttons
  when ``repository.url`` is set in ``book/_config.yml``.

:func:`build_report` then copies MathJax 3 (from the PyPI package ``django-static-mathjax``) into the
site so that math renders without the internet, runs ``jupyter-book build`` with warnings as errors and
checks that ``index.html`` exists. ``solutions=False`` builds a copy for students: every admonition or
dropdown of class ``solution`` (or titled "Solution") is left out of the pages and of the search index
(the book's local extension ``_ext/report_tweaks.py`` does it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .atomic import write_text_atomic
from ..errors import PipelineError, located
from .paths import project_root, results_dir

__all__ = ["generate_pages", "build_report", "indicator_rows", "load_key_indicators", "KeyIndicator",
           "pretty_units", "display_value", "source_kind", "save_headline_figure", "figure_font_metadata",
           "chapter_titles", "load_teaching", "no_solutions_site", "front_page_md", "binder_url", "MIN_FONT_PT_KEY"]

#: PNG text key under which :func:`save_headline_figure` records the smallest font size drawn [pt].
MIN_FONT_PT_KEY = "landcarbon:min_font_pt"


# ---------------------------------------------------------------------------------------------
# units and values as a reader sees them
# ---------------------------------------------------------------------------------------------
_FRACTION_UNITS = {"1", "fraction", "-", ""}


def pretty_units(units: str | None) -> str:
    """Units as printed on a page (the one formatting rule of :func:`landcarbon.units.format_units`)."""
    from ..units import format_units

    return format_units(units)


_SHARE_WORDS = re.compile(r"\b(share|fraction|proportion|coverage|percentage)\b", re.IGNORECASE)


def display_value(value: float, sigma: float | None, units: str | None, *, digits: int | None = None,
                  description: str | None = None) -> tuple[str, str]:
    """``(value text, units text)`` for a page: 2 significant digits of σ (see ``format_value``), a true
    minus sign. A dimensionless number (units ``1``) prints in % when its description calls it a share
    or fraction, else as a plain number without units (a count, a χ², an R²). ``digits`` fixes the
    number of decimals (to print a truth like the estimate it is compared with)."""
    from .reporting import format_value

    u = (units or "").strip()
    if u in _FRACTION_UNITS and _SHARE_WORDS.search(description or "") and abs(value) <= 1:
        text, shown = format_value(100 * value, None if sigma is None else 100 * sigma, digits), "%"
    elif u in _FRACTION_UNITS:
        text, shown = format_value(value, sigma, digits), ""
    else:
        text, shown = format_value(value, sigma, digits), pretty_units(u)
    return (text[1:] and "\u2212" + text[1:] if text.startswith("-") else text), shown


def _decimals(text: str) -> int:
    """Number of decimals of the first number in a displayed value (``"0.292 ± 0.091"`` → 3)."""
    m = re.match(r"[\u2212-]?\d+(?:\.(\d+))?", text)
    return len(m.group(1) or "") if m else 0


def _period_cell(period: str) -> str:
    """A short period ("2015–2024") on one line; a long description may wrap."""
    text = _md_escape(period)
    return text.replace("–", "\u2060–\u2060").replace(" ", "\u00a0") if len(text) <= 12 else text


def _nobreak(text: str) -> str:
    """Keep a value or unit on one line in a table cell."""
    return text.replace(" ", "\u00a0")


# ---------------------------------------------------------------------------------------------
# data sources
# ---------------------------------------------------------------------------------------------
def _literature_hashes() -> set[str]:
    """sha256 of the literature tables of the manifest (their 'real' data are published numbers)."""
    from ..data import load_manifest

    return {f.sha256 for ds in load_manifest().values() if ds.kind == "literature-table" for f in ds.files if f.sha256}


def source_kind(src: str) -> str:
    """``"demo"`` if any part of a source string is demo, else ``"published"`` when every real part is a
    literature table (or ``literature:``), else ``"observations"``; ``"unknown"`` when empty."""
    parts = [s.strip() for s in str(src or "").split(";") if s.strip()]
    if not parts:
        return "unknown"
    kinds = set()
    lit = None
    for s in parts:
        kind, _, rest = s.partition(":")
        if kind == "demo":
            kinds.add("demo")
        elif kind == "literature":
            kinds.add("published")
        elif kind.startswith("real"):
            lit = _literature_hashes() if lit is None else lit
            kinds.add("published" if rest in lit else "observations")
        else:
            kinds.add("unknown")
    for k in ("demo", "unknown", "observations"):
        if k in kinds:
            return k
    return "published"


_SOURCE_BADGE = {
    "observations": '<span class="lc-source lc-obs">observations</span>',
    "published": '<span class="lc-source lc-pub">published values</span>',
    "demo": '<span class="lc-source lc-demo">DEMO twin</span>',
    "unknown": '<span class="lc-source">unknown</span>',
}


def _source_badge(src: str) -> str:
    return _SOURCE_BADGE[source_kind(src)]


def _source_label(src: str) -> str:
    """Full data-source description of one analysis (generator and seed, or file hash)."""
    parts = [s.strip() for s in str(src).split(";") if s.strip()]
    labels = []
    lit = _literature_hashes()
    for s in parts:
        kind, _, rest = s.partition(":")
        if kind == "demo":
            gen, _, seed = rest.rpartition("@")
            labels.append(f"**DEMO** digital twin (generator `{gen.split(':')[-1]}`, seed {seed})")
        elif kind.startswith("real"):
            what = "published values" if rest in lit else "observations"
            labels.append(f"{what} (files sha256 `{rest[:12]}…`)")
        elif kind == "literature":
            labels.append(f"published values ({_md_escape(rest)})")
        else:
            labels.append(_md_escape(s))
    return "; ".join(labels) or "unknown"


def _md_escape(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------------
# indicators
# ---------------------------------------------------------------------------------------------
def chapter_titles(root: Path | None = None) -> dict[str, str]:
    """Short chapter names: the ``title`` of each ``analyses/<notebook>`` entry of ``book/_toc.yml``,
    else the analysis' title in ``notebooks/analyses.yaml``; keyed by analysis name."""
    import yaml

    from .pipeline import load_analyses

    root = root or project_root()
    toc_titles: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str) and node.get("title"):
                toc_titles[node["file"].split("/")[-1]] = str(node["title"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    toc = root / "book" / "_toc.yml"
    if toc.is_file():
        walk(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return {a.name: toc_titles.get(Path(a.notebook).stem, a.title) for a in load_analyses(root).values()}


def indicator_rows(root: Path | None = None) -> list[dict]:
    """One row per indicator of every analysis that has a ``summary.json``, in report order."""
    from .pipeline import load_analyses
    from .reporting import read_summary

    root = root or project_root()
    titles = chapter_titles(root)
    rows = []
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "summary.json"
        if not p.is_file():
            continue
        doc = read_summary(p)
        for key, ind in doc["indicators"].items():
            value, units = display_value(ind["value"], ind.get("sigma"), ind.get("units", ""),
                                         description=ind.get("description"))
            rows.append({
                "analysis": a.name, "chapter": titles[a.name], "doc": f"/analyses/{Path(a.notebook).stem}",
                "name": key, "description": ind.get("description", key), "value": value, "units": units,
                "raw": ind, "period": ind.get("period"),
                "source": ind.get("source") or doc.get("data_source", ""),
                "analysis_source": doc.get("data_source", ""),
            })
    return rows


KINDS = ("headline", "method-test")
_ENTRY_KEYS = {"analysis", "indicator", "label", "period", "kind", "message", "link", "optional", "truth"}


@dataclass(frozen=True)
class KeyIndicator:
    """One entry of ``book/key_indicators.yaml``."""

    analysis: str
    indicator: str
    label: str
    kind: str
    period: str | None = None
    message: str | None = None
    link: str | None = None
    optional: bool = False
    truth: str | None = None
    where: str = ""


def load_key_indicators(path: Path | str | None = None, *, root: Path | None = None) -> list[KeyIndicator]:
    """Read and validate ``book/key_indicators.yaml`` (schema in the file's header).

    Raises :class:`~landcarbon.errors.PipelineError` naming the entry for unknown keys, a missing
    analysis/indicator/label/kind, an unknown kind or an analysis not declared in
    ``notebooks/analyses.yaml``.
    """
    import yaml

    from .pipeline import load_analyses

    root = root or project_root()
    path = Path(path) if path else root / "book" / "key_indicators.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise PipelineError(located(f"not valid YAML ({exc})", where=str(path))) from exc
    entries = raw.get("entries") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise PipelineError(located("expected a list of entries", where=str(path), fix="see the header of the file"))
    analyses = load_analyses(root)
    out = []
    for i, e in enumerate(entries):
        where = f"{path.name}, entry #{i + 1}" + (f" ({e.get('indicator')})" if isinstance(e, dict) else "")
        if not isinstance(e, dict):
            raise PipelineError(located("each entry must be a mapping", where=where))
        unknown = set(e) - _ENTRY_KEYS
        if unknown:
            raise PipelineError(located(f"unknown key(s) {sorted(unknown)}", where=where,
                                        fix=f"use only {sorted(_ENTRY_KEYS)}"))
        missing = [k for k in ("analysis", "indicator", "label", "kind") if not e.get(k)]
        if missing:
            raise PipelineError(located(f"missing key(s) {missing}", where=where))
        if e["kind"] not in KINDS:
            raise PipelineError(located(f"kind {e['kind']!r} is not one of {KINDS}", where=where,
                                        fix="headline = observations or published values; method-test = digital twin"))
        if e["analysis"] not in analyses:
            raise PipelineError(located(f"analysis {e['analysis']!r} is not declared in notebooks/analyses.yaml",
                                        where=where, fix=f"use one of {list(analyses)}"))
        out.append(KeyIndicator(analysis=e["analysis"], indicator=e["indicator"], label=str(e["label"]),
                                kind=e["kind"], period=None if e.get("period") is None else str(e["period"]),
                                message=e.get("message"), link=e.get("link"), optional=bool(e.get("optional")),
                                truth=e.get("truth"), where=where))
    return out


class _Shown:
    """An indicator as a key message prints it: ``{this}`` → ``0.45 ± 0.25 PgC yr⁻¹``; ``{this.value}``,
    ``{this.sigma}``, ``{this.units}``, ``{this.pm}`` (value ± σ without units)."""

    def __init__(self, ind: Mapping[str, Any], where: str, *, digits: int | None = None):
        self.raw, self._where = ind, where
        self.pm, self.units = display_value(ind["value"], ind.get("sigma"), ind.get("units"), digits=digits,
                                            description=ind.get("description"))
        self.value = self.pm.split(" ± ")[0]

    @property
    def sigma(self) -> str:
        if self.raw.get("sigma") is None:
            raise PipelineError(located("the message uses the uncertainty of an indicator that has none",
                                        where=self._where,
                                        fix="drop the sigma placeholder from the message or give the indicator a sigma"))
        return self.pm.split(" ± ")[1]

    def __format__(self, spec: str) -> str:
        # the number and its first unit stay together; longer units may wrap on a phone
        return f"{_nobreak(self.pm)}\u00a0{self.units}" if self.units else _nobreak(self.pm)


_PLACEHOLDER = re.compile(r"\{(?P<name>[a-z_]+)(?:\[(?P<analysis>[A-Za-z0-9_]+)\]\[(?P<ind>[A-Za-z0-9_]+)\])?"
                          r"(?:\.(?P<attr>value|sigma|units|pm))?\}")
_SIMPLE = ("this", "pm", "value", "sigma", "units", "period", "label")


def _fill_message(template: str, row: dict) -> str:
    """Substitute the placeholders of a key message (see the header of ``book/key_indicators.yaml``).

    Only ``{name}``, ``{name.attr}`` and ``{ind[ANALYSIS][NAME]}`` (optionally ``.attr``) are
    placeholders; other braces (MyST roles such as ``{cite:p}``) are left alone.
    """
    e: KeyIndicator = row["entry"]
    this = _Shown(row["ind"], e.where)
    simple = {"this": this, "pm": this.pm, "value": this.value, "units": this.units, "period": row["period"],
              "label": e.label}

    def one(m: re.Match) -> str:
        name, attr = m.group("name"), m.group("attr")
        if name == "ind" and m.group("analysis"):
            a, n = m.group("analysis"), m.group("ind")
            inds = row["summaries"].get(a, {}).get("indicators", {})
            if n not in inds:
                raise PipelineError(located(
                    f"the message names {{ind[{a}][{n}]}}, which is not in results/{a}/summary.json",
                    where=e.where, fix="rename it to an indicator the analysis writes"
                                       + (f" (it writes: {', '.join(sorted(inds))})" if inds else " (run it first)")))
            obj = _Shown(inds[n], e.where)
            if inds[n].get("sigma") is None and obj.units == this.units:
                obj = _Shown(inds[n], e.where, digits=_decimals(this.pm))
        elif name in _SIMPLE and not m.group("analysis"):
            if name == "sigma":
                return this.sigma
            obj = simple[name]
            if not isinstance(obj, _Shown):
                if attr:
                    raise PipelineError(located(f"{{{name}.{attr}}} is not a placeholder", where=e.where))
                return str(obj)
        else:
            raise PipelineError(located(f"unknown placeholder {m.group(0)} in the message", where=e.where,
                                        fix="use {this} {pm} {value} {sigma} {units} {period} {label} "
                                            "or {ind[ANALYSIS][NAME]} (optionally .value .sigma .units .pm)"))
        return format(obj) if attr is None else str(getattr(obj, attr))

    return _PLACEHOLDER.sub(one, template)


def _read_summaries(root: Path) -> dict[str, dict]:
    from .pipeline import load_analyses
    from .reporting import read_summary

    out = {}
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "summary.json"
        if p.is_file():
            out[a.name] = read_summary(p)
    return out


_PERIOD_IN_TEXT = re.compile(r"\b(1[89]\d\d|20\d\d)(?:\s*[–-]\s*(1[89]\d\d|20\d\d))?\b")


def _period_from_description(description: str, where: str) -> str:
    """``period: auto``: the first year or year range named in the indicator's description."""
    m = _PERIOD_IN_TEXT.search(description or "")
    if not m:
        raise PipelineError(located(f"`period: auto`, but the description names no year: {description!r}",
                                    where=where, fix="write the period out in the entry"))
    return m.group(1) + (f"–{m.group(2)}" if m.group(2) else "")


def _format_period(template: str, parameters: Mapping[str, Any], where: str) -> str:
    """``"{years[0]}–{years[1]}"`` with the analysis' recorded parameters (so the period follows the profile)."""
    try:
        return template.format_map(dict(parameters))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PipelineError(located(f"period {template!r} names a parameter the analysis did not record ({exc})",
                                    where=where, fix=f"use one of {sorted(parameters)} or write the period out")) from None


def _resolve_key_indicators(root: Path, spec: Path | None = None) -> tuple[list[dict], list[str], list[dict]]:
    """Rows of the front page (entry + indicator + source), analyses not yet run, headline entries
    whose number came from demo data in this build (left out of the headline table)."""
    from .pipeline import load_analyses

    analyses = load_analyses(root)
    summaries = _read_summaries(root)
    titles = chapter_titles(root)
    rows, not_run, demoted = [], [], []
    for e in load_key_indicators(spec, root=root):
        doc = summaries.get(e.analysis)
        if doc is None:
            not_run.append(e.analysis)
            continue
        ind = doc["indicators"].get(e.indicator)
        if ind is None:
            if e.optional:
                continue
            raise PipelineError(located(
                f"key indicator {e.indicator!r} is not in results/{e.analysis}/summary.json",
                where=e.where, fix="rename it there to an indicator the analysis writes "
                                   f"(it writes: {', '.join(sorted(doc['indicators']))})"))
        if e.period == "auto":
            entry_period = _period_from_description(ind.get("description", ""), e.where)
        else:
            entry_period = _format_period(e.period, doc.get("parameters") or {}, e.where) if e.period else None
        period = ind.get("period") or entry_period
        if ind.get("period") and entry_period and str(ind["period"]) != entry_period:
            raise PipelineError(located(
                f"period {e.period!r} differs from the period {ind['period']!r} the analysis writes for {e.indicator}",
                where=e.where, fix="delete the period from the entry (the summary's is used) or correct it"))
        if not period:
            raise PipelineError(located(f"no period for {e.indicator}", where=e.where,
                                        fix="add `period:` to the entry (or the analysis writes one)"))
        truth = None
        if e.truth:
            truth = doc["indicators"].get(e.truth)
            if truth is None and not e.optional:
                raise PipelineError(located(f"truth indicator {e.truth!r} is not in results/{e.analysis}/summary.json",
                                            where=e.where, fix="rename it or drop `truth:`"))
        src = ind.get("source") or doc.get("data_source", "")
        kind = source_kind(src)
        link = e.link or f"/analyses/{Path(analyses[e.analysis].notebook).stem}"
        row = {"entry": e, "ind": ind, "truth": truth, "source": src, "source_kind": kind, "period": period,
               "link": link, "chapter": titles[e.analysis], "summaries": summaries}
        if e.kind == "headline" and kind == "demo":
            demoted.append(row)
            continue
        rows.append(row)
    return rows, sorted(set(not_run)), demoted


def _link(target: str, text: str) -> str:
    target = target if target.startswith("/") else "/" + target
    return f"{{doc}}`{text} <{target}>`"


def _row_cells(row: dict) -> tuple[str, str]:
    ind = row["ind"]
    return display_value(ind["value"], ind.get("sigma"), ind.get("units"), description=ind.get("description"))


_SOURCE_WORDS = {"observations": "observations", "published": "published values", "demo": "demo twin",
                 "unknown": "unknown source"}


def _message_md(row: dict) -> str:
    text = _fill_message(" ".join(row["entry"].message.split()), row)
    tail = f"*{row['period']}; {_SOURCE_WORDS[row['source_kind']]}; {_link(row['link'], row['chapter'])}.*"
    return f"{text} {tail}"


def _key_messages_md(rows: list[dict]) -> str:
    msgs = [r for r in rows if r["entry"].message]
    if not msgs:
        return "```{warning}\nNo key messages: no analysis result named in `book/key_indicators.yaml` exists yet.\n```\n"
    if len(msgs) > 5:
        raise PipelineError(located(f"{len(msgs)} key messages; a reader takes in 3 to 5",
                                    where="book/key_indicators.yaml", fix="drop `message:` from the less important entries"))
    items = "\n".join(f"{i}. {_message_md(r)}" for i, r in enumerate(msgs, 1))
    return f"```{{admonition}} Key messages\n:class: lc-key-messages\n\n{items}\n```\n"


def _headline_table_md(rows: list[dict], demoted: list[dict]) -> str:
    head = [r for r in rows if r["entry"].kind == "headline"]
    if not head:
        md = "*No estimate from observations or published values in this build.*\n"
    else:
        out = ["| Estimate | Value (± 1σ) | Units | Period | Source | Chapter |", "|---|---|---|---|---|---|"]
        for r in head:
            value, units = _row_cells(r)
            out.append(f"| {_md_escape(r['entry'].label)} | {_nobreak(value)} | {_nobreak(units)} | "
                       f"{_period_cell(r['period'])} | {_source_badge(r['source'])} | {_link(r['link'], r['chapter'])} |")
        md = "\n".join(out) + "\n"
    if demoted:
        md += ("\n*Not shown because this build had no real data for them (the demo twin stood in; see "
               "{doc}`/methods_data`): " + "; ".join(_md_escape(r["entry"].label) for r in demoted) + ".*\n")
    return md


def _method_table_md(rows: list[dict], not_run: list[str]) -> str:
    tests = [r for r in rows if r["entry"].kind == "method-test"]
    md = ""
    if tests:
        out = ["| Method test | Result (± 1σ) | Truth | Units | Period | Data | Chapter |",
               "|---|---|---|---|---|---|---|"]
        for r in tests:
            value, units = _row_cells(r)
            truth = "—"
            if r["truth"] is not None:
                t_value, t_units = display_value(r["truth"]["value"], r["truth"].get("sigma"), r["truth"].get("units"),
                                                 description=r["truth"].get("description"),
                                                 digits=_decimals(value))
                truth = t_value if t_units == units else f"{t_value} {t_units}"
            out.append(f"| {_md_escape(r['entry'].label)} | {_nobreak(value)} | {_nobreak(truth)} | {_nobreak(units)} | "
                       f"{_period_cell(r['period'])} | {_source_badge(r['source'])} | {_link(r['link'], r['chapter'])} |")
        md = "\n".join(out) + "\n"
    if not_run:
        md += "\n```{warning}\nNot yet run, so missing from this page: " + ", ".join(not_run) + \
              ". Run `landcarbon report` to include them.\n```\n"
    return md


# ---------------------------------------------------------------------------------------------
# all indicators
# ---------------------------------------------------------------------------------------------
def _table(rows: list[dict], *, label_key: str = "description") -> str:
    out = ["| Indicator | Value (± 1σ) | Units | Data | Chapter |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {_md_escape(r[label_key])} | {_nobreak(r['value'])} | {_nobreak(_md_escape(r['units']))} | "
                   f"{_source_badge(r['source'])} | {_link(r['doc'], r['chapter'])} |")
    return "\n".join(out) + "\n"


def _indicators_md(root: Path) -> str:
    """Every indicator of every analysis, grouped by chapter, with the full data-source string."""
    rows = indicator_rows(root)
    if not rows:
        return "```{warning}\nNo analysis results yet: run `landcarbon run` first.\n```\n"
    parts = []
    for chapter in dict.fromkeys(r["chapter"] for r in rows):
        sub = [r for r in rows if r["chapter"] == chapter]
        parts.append(f"## {chapter}\n\nData: {_source_label(sub[0]['analysis_source'])}\n\n"
                     f"```{{dropdown}} {len(sub)} indicators\n:open:\n\n" + _table(sub) + "```\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# headline figures
# ---------------------------------------------------------------------------------------------
def _min_font_pt(fig) -> float | None:
    """Smallest font size [pt] of the visible, non-empty text of a drawn figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0]
    return min(sizes) if sizes else None


#: Smallest legible text on the front page at 1400 px [pt] (the browser test's limit is 9 pt).
READABLE_FONT_PT = 9.5
#: Widest a front-page figure is shown at a 1400 px window [CSS px] (the article column of the theme);
#: wider figures are shrunk to it, so their text must be drawn larger.
FRONT_PAGE_COLUMN_PX = 1008


def save_headline_figure(fig, path: Path | str, *, dpi: float = 100, **savefig_kw) -> Path:
    """Save a chapter's headline figure as PNG with what the report needs to show it legibly.

    Text drawn smaller than what stays legible on the front page is enlarged before saving: the front
    page shows the figure at 96/dpi of its pixel size (never enlarged), shrunk to the article column
    (:data:`FRONT_PAGE_COLUMN_PX`) when wider, and the browser test checks at 1400 px that no label ends
    up under 9 pt: rendered size [pt] = font size [pt] × dpi × (shown width / pixel width) / 96.
    A figure with a layout engine (``layout="constrained"``) is laid out again; ``bbox_inches="tight"``
    is the default, so enlarged labels are not cut off.

    The PNG records its resolution (``dpi``) and the smallest font size drawn in it
    (text key ``landcarbon:min_font_pt``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path of the PNG (``results/<analysis>/figures/headline.png``); folders are created.
    dpi : float
        Resolution [dots per inch]; 100 shows 1 figure inch as ~1 inch on a 96-dpi screen.
    **savefig_kw
        Passed to ``fig.savefig``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    savefig_kw.setdefault("bbox_inches", "tight")
    _enlarge_small_text(fig, READABLE_FONT_PT * max(1.0, fig.get_figwidth() * 96 / FRONT_PAGE_COLUMN_PX))
    size = _min_font_pt(fig)
    meta = dict(savefig_kw.pop("metadata", None) or {})
    if size is not None:
        meta[MIN_FONT_PT_KEY] = f"{size:.2f}"
    fig.savefig(path, dpi=dpi, format="png", metadata=meta, **savefig_kw)
    return path


def _enlarge_small_text(fig, floor_pt: float) -> None:
    """Raise every visible text of ``fig`` smaller than ``floor_pt`` to it (tick labels included)."""
    from matplotlib.text import Text

    fig.canvas.draw()  # creates the tick labels that exist only once drawn
    changed = False
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < floor_pt:
            t.set_fontsize(floor_pt)
            changed = True
    for ax in fig.get_axes() if changed else ():
        for axis in (ax.xaxis, ax.yaxis):  # ticks made at the next draw take their size from here
            labels = axis.get_ticklabels(which="both")
            axis.set_tick_params(which="both", labelsize=max([floor_pt] + [t.get_fontsize() for t in labels]))
    if changed and fig.get_layout_engine() is not None:
        fig.canvas.draw()


def figure_font_metadata(png: Path | str) -> dict[str, float | None]:
    """``{"dpi", "min_font_pt", "width_px", "height_px"}`` of a PNG (None where not recorded)."""
    from PIL import Image

    with Image.open(png) as im:
        dpi = im.info.get("dpi", (None,))[0]
        font = im.info.get(MIN_FONT_PT_KEY)
        return {"dpi": float(dpi) if dpi else None, "min_font_pt": float(font) if font else None,
                "width_px": im.width, "height_px": im.height}


def _headlines_md(root: Path, book: Path) -> str:
    from .pipeline import load_analyses

    fig_dir = book / "generated" / "figures"
    if fig_dir.exists():
        shutil.rmtree(fig_dir)
    fig_dir.mkdir(parents=True)
    titles = chapter_titles(root)
    blocks = []
    for a in sorted(load_analyses(root).values(), key=lambda a: a.notebook):  # chapter order
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
        kind = source_kind(doc.get("data_source", ""))
        meta = figure_font_metadata(dst)
        # native size in CSS pixels (a 100-dpi PNG is shown ~1:1); never enlarged, shrunk only to fit
        width_px = int(round(meta["width_px"] * 96 / meta["dpi"])) if meta["dpi"] else meta["width_px"]
        caption = _md_escape(hf.get("caption", a.title))
        blocks.append((kind == "demo", f"```{{figure}} /generated/figures/{dst.name}\n:name: headline-{a.name}\n"
                                       f":width: {width_px}px\n:figclass: lc-headline-figure\n\n"
                                       f"{caption} *{_SOURCE_WORDS[kind].capitalize()}; from "
                                       f"{_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])}.*\n```\n"))
    blocks.sort(key=lambda b: b[0])  # observations and published values first
    return "\n".join(b for _, b in blocks)


# ---------------------------------------------------------------------------------------------
# datasets and provenance
# ---------------------------------------------------------------------------------------------
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
            status = f"error: {type(exc).__name__}"
        cite = ds.citation + (f" doi:[{ds.doi}](https://doi.org/{ds.doi})" if ds.doi else "")
        out.append(f"| `{ds.id}` | {_md_escape(ds.title)}. {_md_escape(cite)} | {_md_escape(ds.license)} | "
                   f"{_md_escape(ds.access)} | {files} | {status} |")
    return "\n".join(out) + "\n"


def _data_path_text(raw: str | None) -> str:
    """``LANDCARBON_DATA_PATH`` without the build machine's absolute paths: number of folders and their names."""
    folders = [p for p in str(raw or "").split(os.pathsep) if p.strip()]
    if not folders:
        return "not set: the demo digital twin stood in where no real file or shipped extract was found"
    names = ", ".join(f"`{Path(p).name or p}`" for p in folders)
    return f"set ({len(folders)} folder{'s' if len(folders) > 1 else ''}: {names})"


def _params_text(params: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in params.items() if k != "results_dir"}
    return ", ".join(f"`{k}={v!r}`" for k, v in sorted(shown.items()))


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
                  f"- `LANDCARBON_DATA_PATH`: {_data_path_text(run.get('data_path'))}",
                  "", "```{dropdown} Package versions", "", "| Package | Version |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted((run.get("packages") or {}).items())]
        lines += ["```", ""]
    titles = chapter_titles(root)
    lines += ["## Analyses of this build", "",
              "| Chapter | Data | Run time [s] | Cache key | Parameters |", "|---|---|---|---|---|"]
    details = []
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "provenance.json"
        if not p.is_file():
            continue
        prov = json.loads(p.read_text())
        lines.append(f"| {_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])} | "
                     f"{_source_label(prov.get('data_source', ''))} | {prov.get('seconds')} | "
                     f"`{str(prov.get('cache_key'))[:12]}` | {_params_text(prov.get('parameters', {}))} |")
        data = prov.get("inputs", {}).get("data", {})
        if data:
            details.append(f"- **{titles[a.name]}** data fingerprints: "
                           + "; ".join(f"`{k}`: `{str(v)[:24]}`" for k, v in data.items()))
    lines += ["", *details, ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# teaching
# ---------------------------------------------------------------------------------------------
_TEACHING_CHAPTER_KEYS = {"analysis", "week", "time", "difficulty", "prerequisites", "objectives", "core_idea",
                          "hands_on", "exercises"}
_DIFFICULTY = ("introductory", "intermediate", "advanced")


def load_teaching(root: Path | None = None) -> list[dict]:
    """Read and validate ``book/teaching.yaml`` (schema in its header); chapters in file order."""
    import yaml

    from .pipeline import load_analyses

    root = root or project_root()
    path = root / "book" / "teaching.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    chapters = raw.get("chapters") if isinstance(raw, dict) else None
    if not isinstance(chapters, list):
        raise PipelineError(located("expected a mapping with a list `chapters:`", where=str(path)))
    analyses = load_analyses(root)
    for i, c in enumerate(chapters):
        where = f"{path.name}, chapter #{i + 1} ({c.get('analysis') if isinstance(c, dict) else c!r})"
        if not isinstance(c, dict):
            raise PipelineError(located("each chapter must be a mapping", where=where))
        unknown = set(c) - _TEACHING_CHAPTER_KEYS
        missing = [k for k in ("analysis", "time", "difficulty", "prerequisites", "objectives", "exercises") if k not in c]
        if unknown or missing:
            raise PipelineError(located(f"unknown keys {sorted(unknown)}, missing keys {missing}", where=where))
        if c["analysis"] not in analyses:
            raise PipelineError(located(f"analysis {c['analysis']!r} is not in notebooks/analyses.yaml", where=where))
        for d in [c["difficulty"], *(ex.get("difficulty") for ex in c["exercises"])]:
            if d not in _DIFFICULTY:
                raise PipelineError(located(f"difficulty {d!r} is not one of {_DIFFICULTY}", where=where))
        for ex in c["exercises"]:
            if not {"name", "difficulty", "time"} <= set(ex):
                raise PipelineError(located(f"exercise {ex!r} needs name, difficulty and time", where=where))
    return chapters


def _teaching_md(root: Path) -> str:
    from .pipeline import load_analyses

    if not (root / "book" / "teaching.yaml").is_file():
        return "```{warning}\n`book/teaching.yaml` is missing.\n```\n"
    analyses = load_analyses(root)
    titles = chapter_titles(root)
    out = ["| Week | Chapter | Core idea | Time | Level |", "|---|---|---|---|---|"]
    chapters = load_teaching(root)
    for c in chapters:
        doc = f"/analyses/{Path(analyses[c['analysis']].notebook).stem}"
        out.append(f"| {c.get('week', '')} | {_link(doc, titles[c['analysis']])} | {_md_escape(c.get('core_idea', ''))} | "
                   f"{_md_escape(c['time'])} | {c['difficulty']} |")
    out.append("")
    for c in chapters:
        doc = f"/analyses/{Path(analyses[c['analysis']].notebook).stem}"
        out += [f"## {titles[c['analysis']]}", "",
                f"{_link(doc, 'Open the chapter')} · time {_md_escape(c['time'])} · level {c['difficulty']}", "",
                "**You will learn to**", ""]
        out += [f"- {_md_escape(o)}" for o in c["objectives"]]
        out += ["", "**Before you start**", ""]
        out += [f"- {_md_escape(p)}" for p in c["prerequisites"]]
        if c.get("hands_on"):
            out += ["", f"**Hands-on.** {_md_escape(c['hands_on'])}"]
        out += ["", "| Exercise | Level | Time |", "|---|---|---|"]
        out += [f"| {_md_escape(ex['name'])} | {ex['difficulty']} | {_md_escape(ex['time'])} |" for ex in c["exercises"]]
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# run it yourself: downloads and Binder
# ---------------------------------------------------------------------------------------------
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
    from .pipeline import load_analyses

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


def _chapter_question(notebook: Path) -> str | None:
    """The first sentence after "**The question.**" in a notebook's first markdown cell."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell.get("source", []))
        m = re.search(r"\*\*The question\.\*\*\s*(.+?[?])(?:\s|$)", text, flags=re.S)
        return " ".join(m.group(1).split()) if m else None
    return None


def _chapters_md(root: Path) -> str:
    """Numbered list of the chapters: short name (linked) and the question each answers."""
    from .pipeline import load_analyses

    titles = chapter_titles(root)
    toc = (root / "book" / "_toc.yml").read_text(encoding="utf-8")
    analyses = sorted(load_analyses(root).values(),  # in the book's order; chapters not in the toc last
                      key=lambda a: (toc.find(f"analyses/{Path(a.notebook).stem}") % (len(toc) + 1)))
    out = []
    for i, a in enumerate(analyses, 1):
        q = _chapter_question(root / "notebooks" / a.notebook)
        out.append(f"{i}. {_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])}" + (f" — {q}" if q else ""))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# putting it together
# ---------------------------------------------------------------------------------------------
def front_page_md(root: Path | None = None, spec: Path | str | None = None) -> dict[str, str]:
    """The generated parts of the front page: ``{"key_messages": md, "headline_estimates": md,
    "method_tests": md}`` from ``spec`` (default ``book/key_indicators.yaml``) and the summaries."""
    root = root or project_root()
    rows, not_run, demoted = _resolve_key_indicators(root, Path(spec) if spec else None)
    return {"key_messages": _key_messages_md(rows), "headline_estimates": _headline_table_md(rows, demoted),
            "method_tests": _method_table_md(rows, not_run)}


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
