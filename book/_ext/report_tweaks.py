"""Presentation of the executed notebooks in the report, and the copy without solutions.

Nothing on disk changes: the executed notebooks in ``book/analyses/`` stay exactly as papermill
wrote them (their hashes enter the pipeline's cache); these changes happen while Sphinx reads them.

* **Plumbing hidden.** Cells tagged ``injected-parameters`` (added by papermill) or ``parameters``
  get the tag ``remove-cell``: the parameters of a run are listed on the Reproducibility page, and a
  reader rerunning the notebook still finds both cells in it. Chapters hide their other plumbing
  cells (imports, bookkeeping) with the usual tags ``remove-input`` / ``remove-cell``.
* **Long tables folded.** A cell whose output is an HTML table of more than ``LONG_TABLE_ROWS`` rows
  gets ``hide-output``: the page shows a "Show code cell output" toggle instead of a screen of rows —
  unless the cell also shows prose (Markdown or printed text), which the fold would hide with it.
* **Solutions left out** when the build runs with ``LANDCARBON_SOLUTIONS=0`` (``landcarbon report
  --no-solutions``): every element of class ``solution`` — and every admonition titled "Solution…" —
  is removed from the document before it is written, so neither the pages nor the search index
  (``searchindex.js``) contain solution text; an announcement on every page says so.
"""
from __future__ import annotations

import json
import os
import re

from docutils import nodes

LONG_TABLE_ROWS = 15
_TAG_FOR = {"injected-parameters": "remove-cell", "parameters": "remove-cell"}
_SOLUTION_TITLE = re.compile(r"^\s*solution\b", re.IGNORECASE)


def _html_rows(output: dict) -> int:
    html = (output.get("data") or {}).get("text/html")
    if not html:
        return 0
    text = "".join(html) if isinstance(html, list) else str(html)
    return text.count("<tr") if "<table" in text else 0


def _is_prose(output: dict) -> bool:
    """Text a reader must see (Markdown, printed lines): folding the cell's output would hide it too."""
    data = output.get("data") or {}
    return "text/markdown" in data or (output.get("output_type") == "stream" and output.get("name") == "stdout")


def _present_notebook(text: str) -> str:
    nb = json.loads(text)
    changed = False
    for cell in nb.get("cells", []):
        meta = cell.setdefault("metadata", {})
        tags = list(meta.get("tags", []))
        new = [_TAG_FOR[t] for t in tags if t in _TAG_FOR]
        if cell.get("cell_type") == "code" and not {"remove-cell", "remove-output", "hide-output"} & set(tags):
            outs = cell.get("outputs", [])
            if any(_html_rows(o) > LONG_TABLE_ROWS + 1 for o in outs) and not any(_is_prose(o) for o in outs):
                new.append("hide-output")
        new = [t for t in new if t not in tags]
        if new:
            meta["tags"] = tags + new
            changed = True
    return json.dumps(nb) if changed else text


def _source_read(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    source[0] = _present_notebook(source[0])


def _is_solution(node: nodes.Element) -> bool:
    if "solution" in node.get("classes", []):
        return True
    if isinstance(node, nodes.admonition):
        title = next(iter(node.findall(nodes.title)), None)
        return title is not None and bool(_SOLUTION_TITLE.match(title.astext()))
    return False


def _drop_solutions(app, doctree):
    if app.config.landcarbon_solutions:
        return
    for node in list(doctree.findall(nodes.Element)):
        if node.parent is not None and _is_solution(node):
            note = nodes.paragraph("", "", nodes.emphasis("", "Solution left out of this copy."),
                                   classes=["lc-solution-removed"])
            node.replace_self(note)


def _announce(app, config):
    if not config.landcarbon_solutions:
        opts = dict(config.html_theme_options or {})
        opts["announcement"] = "Copy for students: the solutions of the exercises are left out."
        config.html_theme_options = opts


def setup(app):
    app.add_config_value("landcarbon_solutions", os.environ.get("LANDCARBON_SOLUTIONS", "1") != "0", "env")
    # read by landcarbon.publish.report for the Binder buttons of the "Run it yourself" page
    app.add_config_value("landcarbon_binderhub_url", "https://mybinder.org", "html")
    app.connect("source-read", _source_read)
    app.connect("doctree-read", _drop_solutions)
    app.connect("config-inited", _announce)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
