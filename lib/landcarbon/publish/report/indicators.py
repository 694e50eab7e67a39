"""The report's page of every indicator of every analysis (:func:`indicator_rows`), grouped by chapter
with the full data-source description.
"""
from __future__ import annotations

from pathlib import Path

from ..paths import project_root, results_dir
from .display import _link, _md_escape, _nobreak, _source_badge, _source_label, chapter_titles, display_value


def indicator_rows(root: Path | None = None) -> list[dict]:
    """One row per indicator of every analysis that has a ``summary.json``, in report order."""
    from ..pipeline import load_analyses
    from ..reporting import read_summary

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
