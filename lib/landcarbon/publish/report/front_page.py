"""The generated parts of the report's front page, driven by ``book/key_indicators.yaml``
(:func:`load_key_indicators`): the key messages (plain-language statements filled from the
analyses' summaries), the table of headline estimates (observations or published values), the
table of method tests on the demo twin (:func:`front_page_md`), and the numbered list of chapters
with the question each answers.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ...errors import PipelineError, located
from ..paths import project_root, results_dir
from .display import (_SOURCE_WORDS, _decimals, _link, _md_escape, _nobreak, _period_cell, _source_badge,
                      chapter_titles, display_value, source_kind)

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

    from ..pipeline import load_analyses

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
    from ..pipeline import load_analyses
    from ..reporting import read_summary

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
    from ..pipeline import load_analyses

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


def _row_cells(row: dict) -> tuple[str, str]:
    """(value ± sigma, units) as the tables show them; a dimensionless number shows "—" as its unit."""
    ind = row["ind"]
    value, units = display_value(ind["value"], ind.get("sigma"), ind.get("units"), description=ind.get("description"))
    return value, units or "—"


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


def method_test_verdict(ind: dict, truth: dict | None) -> str:
    """How a method's result compares with the twin's truth: ``passes`` when |result − truth| ≤ 2σ,
    else ``off by k σ`` (or the error in % of the truth when no σ is given), ``wrong sign`` added when
    result and truth have opposite signs; ``—`` without a truth."""
    if not truth:
        return "—"
    v, t, sd = float(ind["value"]), float(truth["value"]), ind.get("sigma")
    wrong_sign = v * t < 0
    if sd:
        z = abs(v - t) / float(sd)
        text = "passes" if z <= 2 and not wrong_sign else f"off by {z:.1f}σ"
    elif t != 0:
        text = f"error {100 * (v - t) / abs(t):+.0f} %".replace("-", "\u2212")
    else:
        return "—"
    return text + (", wrong sign" if wrong_sign else "")


def _method_table_md(rows: list[dict], not_run: list[str]) -> str:
    tests = [r for r in rows if r["entry"].kind == "method-test"]
    md = ""
    if tests:
        out = ["| Method test | Result (± 1σ) | Truth | Units | Verdict | Period | Data | Chapter |",
               "|---|---|---|---|---|---|---|---|"]
        for r in tests:
            value, units = _row_cells(r)
            truth = "—"
            if r["truth"] is not None:
                t_value, t_units = display_value(r["truth"]["value"], r["truth"].get("sigma"), r["truth"].get("units"),
                                                 description=r["truth"].get("description"),
                                                 digits=_decimals(value))
                truth = t_value if t_units == units else f"{t_value} {t_units}"
            out.append(f"| {_md_escape(r['entry'].label)} | {_nobreak(value)} | {_nobreak(truth)} | {_nobreak(units)} | "
                       f"{method_test_verdict(r['ind'], r['truth'])} | {_period_cell(r['period'])} | "
                       f"{_source_badge(r['source'])} | {_link(r['link'], r['chapter'])} |")
        md = "\n".join(out) + "\n"
        md += ("\n*Verdict: **passes** when the truth lies within ±2σ of the result; otherwise how many σ apart "
               "(or the error in per cent of the truth where no σ is given), and whether the sign is wrong. "
               "A failed test is shown as it is; its chapter discusses it.*\n")
    if not_run:
        md += "\n```{warning}\nNot yet run, so missing from this page: " + ", ".join(not_run) + \
              ". Run `landcarbon report` to include them.\n```\n"
    return md


def front_page_md(root: Path | None = None, spec: Path | str | None = None) -> dict[str, str]:
    """The generated parts of the front page: ``{"key_messages": md, "headline_estimates": md,
    "method_tests": md}`` from ``spec`` (default ``book/key_indicators.yaml``) and the summaries."""
    root = root or project_root()
    rows, not_run, demoted = _resolve_key_indicators(root, Path(spec) if spec else None)
    return {"key_messages": _key_messages_md(rows), "headline_estimates": _headline_table_md(rows, demoted),
            "method_tests": _method_table_md(rows, not_run)}


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
    from ..pipeline import load_analyses

    titles = chapter_titles(root)
    toc = (root / "book" / "_toc.yml").read_text(encoding="utf-8")
    analyses = sorted(load_analyses(root).values(),  # in the book's order; chapters not in the toc last
                      key=lambda a: (toc.find(f"analyses/{Path(a.notebook).stem}") % (len(toc) + 1)))
    out = []
    for i, a in enumerate(analyses, 1):
        q = _chapter_question(root / "notebooks" / a.notebook)
        out.append(f"{i}. {_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])}" + (f" — {q}" if q else ""))
    return "\n".join(out) + "\n"
