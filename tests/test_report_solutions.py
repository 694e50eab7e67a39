"""``landcarbon report --no-solutions`` builds a copy for students: no solution in its pages, none in its
search index (``searchindex.js``) — while the normal build has them, so the check can fail.

Needs the executed notebooks (``make report`` / ``make test`` first); builds the copy itself (about a
minute: a second Sphinx build of the same book).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from landcarbon.publish import report
from landcarbon.publish.pipeline import load_analyses

SOLUTION = re.compile(r"^(```+|~~~+)\{(admonition|dropdown)\}([^\n]*)\n(.*?)^\1\s*$", re.M | re.S)


def solution_texts(notebook: Path) -> list[str]:
    """Bodies of the solution admonitions/dropdowns of a notebook's markdown cells."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for m in SOLUTION.finditer("".join(cell["source"])):
            title, body = m.group(3), m.group(4)
            options = " ".join(line for line in body.splitlines() if line.startswith(":"))
            if re.match(r"\s*solution", title, re.I) or re.search(r"\bsolution\b", options):
                out.append("\n".join(line for line in body.splitlines() if not line.startswith(":")))
    return out


def _words(text: str, shortest: int = 5) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{%d,}" % shortest, text)}


def _index(site: Path) -> dict:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def _docs_of(index: dict, stem: str) -> set[int]:
    hit = index["terms"].get(stem)
    return set() if hit is None else ({hit} if isinstance(hit, int) else set(hit))


@pytest.fixture(scope="module")
def sites(project_root):
    full = project_root / "book" / "_build" / "html"
    if not (full / "index.html").is_file() or not (project_root / "book" / "analyses").is_dir():
        if os.environ.get("CI"):
            pytest.fail("the report is not built: `make test` builds it before the tests")
        pytest.skip("report not built (run `make report`)")
    index = report.build_report(project_root, solutions=False)
    assert index == report.no_solutions_site(project_root) / "index.html"
    return full, index.parent


def test_no_solutions_copy_leaves_out_every_solution(project_root, sites):
    full, student = sites
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish({}).stem
    full_idx, student_idx = _index(full), _index(student)
    checked = caught = 0
    for a in load_analyses(project_root).values():
        executed = project_root / "book" / "analyses" / a.notebook
        solutions = solution_texts(executed)
        page = Path(a.notebook).stem
        html_full = (full / "analyses" / f"{page}.html").read_text(encoding="utf-8")
        html_student = (student / "analyses" / f"{page}.html").read_text(encoding="utf-8")
        assert "lc-solution-removed" not in html_full
        assert html_student.count("Solution left out of this copy.") == len(solutions), page
        if not solutions:
            continue
        # words that occur in this chapter only inside its solutions (not in its prose, code or outputs)
        nb = json.loads(executed.read_text(encoding="utf-8"))
        rest = ""
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "markdown":
                for s in solutions:
                    text = text.replace(s, " ")
            for out in cell.get("outputs", []):
                text += " " + "".join(out.get("text", ""))
                for value in (out.get("data") or {}).values():
                    text += " " + ("".join(value) if isinstance(value, list) else str(value))
            rest += " " + text
        # compared as the search index stores them (stems: "ratios" and "ratio" are one term)
        stems = {stem(w) for s in solutions for w in _words(s)} - {stem(w) for w in _words(rest, 2)}
        doc_full = full_idx["docnames"].index(f"analyses/{page}")
        doc_student = student_idx["docnames"].index(f"analyses/{page}")
        in_full = {s for s in stems if doc_full in _docs_of(full_idx, s)}
        in_student = {s for s in stems if doc_student in _docs_of(student_idx, s)}
        assert not in_student, f"{page}: solution words in the student copy's search index: {sorted(in_student)[:10]}"
        # and the same words are what the normal build indexes (so the check above can fail)
        checked += len(stems)
        caught += len(in_full)
        for s in solutions:  # no sentence of a solution on the student page
            sentence = max(re.split(r"[.:;]\s", s), key=len).strip()[:60]
            if len(sentence) > 30 and "$" not in sentence and "`" not in sentence:
                assert sentence not in html_student, (page, sentence)
    assert checked > 0, "no solution found in any chapter: nothing was tested"
    assert caught > 0, "the normal build indexes none of the solution words: the test could not fail"


def test_student_copy_says_what_it_is(sites):
    _, student = sites
    html = (student / "index.html").read_text(encoding="utf-8")
    assert "solutions of the exercises are left out" in html
