"""Docstrings and comments reference only files and modules that exist, and no internal vocabulary.

A scientist who picks the code up next year must be able to follow every pointer: a file named in a
docstring or comment (``tools/make_extracts.py``, ``lib/landcarbon/data/embedded/...``) exists in the
repository; a dotted ``landcarbon.x.y`` names an importable module or attribute; and nothing points to
documents that are not part of the compendium (the team's design notes, helper contracts, briefs).
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("lib", "tests", "tools", "benchmarks") for p in (ROOT / d).rglob("*.py")
                 if "__pycache__" not in p.parts and p.name != Path(__file__).name)
TOP = ("lib/", "tests/", "tools/", "notebooks/", "book/", "benchmarks/", "landcarbon/", ".ci/")
PATH_RE = re.compile(r"(?<![\w/.-])((?:lib|tests|tools|notebooks|book|benchmarks|landcarbon|\.ci)/[\w./-]*[\w])")
MODULE_RE = re.compile(r"(?<![\w.])(landcarbon(?:\.[A-Za-z_]\w*)+)")
FORBIDDEN = re.compile(r"DESIGN\.md|CONTRACTS\.md|helper [A-Z]\b|science brief|brief §|seed stud|seed 00\d", re.I)
GENERATED = ("book/_build", "book/analyses", "book/generated", "book/_static_generated", "results/", ".landcarbon")


def _exists(token: str) -> bool:
    token = token.rstrip(".")
    if any(token.startswith(g) for g in GENERATED) or any(ch in token for ch in "*<>{}"):
        return True
    cands = [ROOT / token, ROOT / "lib" / token]
    return any(c.exists() for c in cands)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


#: Files that name the vocabulary on purpose: the reader checks that look for it on the built pages.
VOCABULARY_CHECKERS = ("tests/browser_check.py", "tests/test_report_browser.py")
#: Example strings that are not references (a Binder URL of another forge).
NOT_REFERENCES = ("landcarbon.git",)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_references_exist(path):
    text = path.read_text(encoding="utf-8")
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        checker = str(path.relative_to(ROOT)) in VOCABULARY_CHECKERS
        if FORBIDDEN.search(line) and "FORBIDDEN" not in line and not checker:
            problems.append(f"line {lineno}: internal reference {FORBIDDEN.search(line).group(0)!r}")
        for m in PATH_RE.finditer(line):
            if not _exists(m.group(1)):
                problems.append(f"line {lineno}: names a file that does not exist: {m.group(1)}")
        for m in MODULE_RE.finditer(line):
            if m.group(1) in NOT_REFERENCES:
                continue
            if not _resolves(m.group(1).rstrip(".")):
                problems.append(f"line {lineno}: names {m.group(1)}, which does not import")
    assert not problems, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)
