"""The report's teaching page: objectives, prerequisites, time and difficulty per chapter, read and
validated from ``book/teaching.yaml`` (:func:`load_teaching`).
"""
from __future__ import annotations

from pathlib import Path

from ...errors import PipelineError, located
from ..paths import project_root
from .display import _link, _md_escape, chapter_titles

_TEACHING_CHAPTER_KEYS = {"analysis", "week", "time", "difficulty", "prerequisites", "objectives", "core_idea",
                          "hands_on", "exercises"}
_DIFFICULTY = ("introductory", "intermediate", "advanced")


def load_teaching(root: Path | None = None) -> list[dict]:
    """Read and validate ``book/teaching.yaml`` (schema in its header); chapters in file order."""
    import yaml

    from ..pipeline import load_analyses

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
    from ..pipeline import load_analyses

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
