"""How to cite the compendium, generated from ``CITATION.cff`` (the one source of citation metadata).

``landcarbon cite [--format text|bibtex|markdown] [-o FILE]`` prints it; ``landcarbon report`` writes
``book/generated/citation.md`` (the markdown form) for the report's front matter to include, e.g.
with ``{include} generated/citation.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, located
from .paths import project_root

__all__ = ["load_citation", "citation", "write_citation_page", "CITATION_FILE"]

CITATION_FILE = "CITATION.cff"


def load_citation(root: Path | None = None) -> dict[str, Any]:
    """``CITATION.cff`` as a dict (raises :class:`ConfigError` when missing or not YAML)."""
    path = (root or project_root()) / CITATION_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(located("CITATION.cff not found", where=str(path),
                                  fix="run inside the compendium (or set LANDCARBON_ROOT)")) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(located(f"CITATION.cff is not valid YAML ({exc})", where=str(path))) from exc
    if not isinstance(doc, dict) or "title" not in doc or "authors" not in doc:
        raise ConfigError(located("CITATION.cff lacks title or authors", where=str(path)))
    return doc


def _author_names(doc: dict) -> list[str]:
    out = []
    for a in doc.get("authors") or []:
        if "name" in a:  # an entity (a team, an institution)
            out.append(str(a["name"]))
        else:
            out.append(" ".join(str(a[k]) for k in ("given-names", "family-names") if a.get(k)))
    return out


def citation(fmt: str = "text", root: Path | None = None) -> str:
    """The citation in ``fmt``: ``"text"`` (one line), ``"bibtex"`` or ``"markdown"`` (a short section)."""
    doc = load_citation(root)
    authors = _author_names(doc)
    year = str(doc["date-released"])[:4] if doc.get("date-released") else None
    title, version, lic = doc["title"], doc.get("version"), doc.get("license")
    doi = doc.get("doi")
    text = (", ".join(authors) + (f" ({year})" if year else "") + f". {title}"
            + (f" (version {version})" if version else "") + " [software]."
            + (f" Licence: {lic}." if lic else "") + (f" https://doi.org/{doi}" if doi else ""))
    if fmt == "text":
        return text + "\n"
    if fmt == "bibtex":
        fields = {"author": " and ".join("{" + a + "}" for a in authors), "title": "{" + title + "}",
                  "version": version, "year": year, "license": lic, "doi": doi}
        body = ",\n".join(f"  {k:8s} = {{{v}}}" for k, v in fields.items() if v)
        return "@software{landcarbon,\n" + body + "\n}\n"
    if fmt == "markdown":
        bib = citation("bibtex", root)
        message = " ".join(str(doc.get("message", "")).split())
        return ("## How to cite this report\n\n" + (message + "\n\n" if message else "") + text + "\n\n"
                "```bibtex\n" + bib + "```\n\n"
                "The project has no individually named authors; it is credited to its contributors as a team. "
                "Source: `CITATION.cff` (also printed by `landcarbon cite`).\n")
    raise ConfigError(located(f"unknown citation format {fmt!r}", fix="use text, bibtex or markdown"))


def write_citation_page(root: Path | None = None) -> Path:
    """Write ``book/generated/citation.md`` (markdown form) atomically; return its path."""
    from .atomic import write_text_atomic

    root = root or project_root()
    return write_text_atomic(root / "book" / "generated" / "citation.md", citation("markdown", root))
