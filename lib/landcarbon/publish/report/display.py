"""How a page of the report shows a number: values with their uncertainty and units as a reader sees
them (:func:`display_value`, :func:`pretty_units`), periods and table cells, the kind and label of a
data source (:func:`source_kind`: observations, published values or demo twin), links to chapters
and the chapters' short names (:func:`chapter_titles`). Shared by every generated page.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..paths import project_root

_FRACTION_UNITS = {"1", "fraction", "-", ""}


def pretty_units(units: str | None) -> str:
    """Units as printed on a page (the one formatting rule of :func:`landcarbon.units.format_units`)."""
    from ...units import format_units

    return format_units(units)


_SHARE_WORDS = re.compile(r"\b(share|fraction|proportion|coverage|percentage)\b", re.IGNORECASE)


def display_value(value: float, sigma: float | None, units: str | None, *, digits: int | None = None,
                  description: str | None = None) -> tuple[str, str]:
    """``(value text, units text)`` for a page: 2 significant digits of σ (see ``format_value``), a true
    minus sign. A dimensionless number (units ``1``) prints in % when its description calls it a share
    or fraction, else as a plain number without units (a count, a χ², an R²). ``digits`` fixes the
    number of decimals (to print a truth like the estimate it is compared with)."""
    from ..reporting import format_value

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


def _literature_hashes() -> set[str]:
    """sha256 of the literature tables of the manifest (their 'real' data are published numbers)."""
    from ...data import load_manifest

    return {f.sha256 for ds in load_manifest().values() if ds.kind == "literature-table" for f in ds.files if f.sha256}


def source_kind(src: str) -> str:
    """``"demo"`` if any part of a source string is demo, else ``"observations"`` when any real part is not a
    literature table, else ``"derived"`` when a part is ``derived:`` (computed here from published numbers),
    else ``"published"`` (every part a literature table or ``literature:``); ``"unknown"`` when empty."""
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
        elif kind == "derived":
            kinds.add("derived")
        elif kind.startswith("real"):
            lit = _literature_hashes() if lit is None else lit
            kinds.add("published" if rest in lit else "observations")
        else:
            kinds.add("unknown")
    for k in ("demo", "unknown", "observations", "derived"):
        if k in kinds:
            return k
    return "published"


_SOURCE_BADGE = {
    "observations": '<span class="lc-source lc-obs">observations</span>',
    "published": '<span class="lc-source lc-pub">published values</span>',
    "derived": '<span class="lc-source lc-pub">computed from published values</span>',
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
        elif kind == "derived":
            labels.append(f"computed here from published values ({_md_escape(rest)})")
        else:
            labels.append(_md_escape(s))
    return "; ".join(labels) or "unknown"


def _md_escape(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


_SOURCE_WORDS = {"observations": "observations", "published": "published values", "demo": "demo twin",
                 "derived": "computed from published values",
                 "unknown": "unknown source"}


def _link(target: str, text: str) -> str:
    target = target if target.startswith("/") else "/" + target
    return f"{{doc}}`{text} <{target}>`"


def chapter_titles(root: Path | None = None) -> dict[str, str]:
    """Short chapter names: the ``title`` of each ``analyses/<notebook>`` entry of ``book/_toc.yml``,
    else the analysis' title in ``notebooks/analyses.yaml``; keyed by analysis name."""
    import yaml

    from ..pipeline import load_analyses

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
