"""The layout a newcomer can find their way in: science and publishing apart, modules of readable size,
notebooks that tell the story and call the library.

- the package's top level lists only science (publishing lives in ``landcarbon.publish``);
- no module over 600 lines, except the numba kernel files (``_kernels.py``), whose kernels are kept
  together so that the compiled functions can call each other;
- no notebook code cell longer than 25 lines, and no function defined in a notebook longer than 5 lines
  (an algorithm belongs in the library, where it is tested).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lib" / "landcarbon"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_MODULE_LINES = 600
MAX_CELL_LINES = 25
MAX_NOTEBOOK_FUNCTION_LINES = 5
PUBLISHING = {"pipeline", "report", "reporting", "notebook", "cli", "atomic", "paths", "runlock", "citation"}


def test_top_level_lists_only_science():
    top = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    assert not top & PUBLISHING, f"publishing modules at the top level: {sorted(top & PUBLISHING)}"
    assert (PACKAGE / "publish" / "pipeline.py").is_file() or (PACKAGE / "publish" / "pipeline").is_dir()


@pytest.mark.parametrize("module", sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_size(module):
    if module.name == "_kernels.py":
        pytest.skip("numba kernel file: kernels stay together")
    n = len(module.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, (f"{module.relative_to(ROOT)} has {n} lines (> {MAX_MODULE_LINES}): split it along "
                                   "its sections and re-export the public names from the package")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_call_the_library(notebook):
    nb = nbformat.read(notebook, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        if len(lines) > MAX_CELL_LINES:
            problems.append(f"cell {i}: {len(lines)} lines (> {MAX_CELL_LINES}); move the work into the library")
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # IPython magics; nbval runs the cell anyway
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_NOTEBOOK_FUNCTION_LINES:
                    problems.append(f"cell {i}: function {node.name} has {n} lines (> {MAX_NOTEBOOK_FUNCTION_LINES})")
        if any(o.get("output_type") for o in cell.get("outputs", [])):
            problems.append(f"cell {i}: committed with outputs (clear them: the pipeline executes the notebook)")
    assert not problems, f"{notebook.name}:\n  " + "\n  ".join(problems)


def test_layout_checks_can_fail(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(x):\n" + "    x += 1\n" * 6 + "    return x")])
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(AssertionError, match="function f has 8 lines"):
        test_notebook_cells_call_the_library(tmp_path / "bad.ipynb")


GLUE_ROLE = re.compile(r"\{glue(?::\w*)?\}`([^`]*)`")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_glue_roles_are_well_formed(notebook):
    """``{glue:text}`key:format``` with a backtick at both ends: a brace instead of the closing backtick
    swallows the following text into the key and the book build fails far from the typo."""
    problems = []
    for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        n_roles = cell.source.count("{glue")
        roles = GLUE_ROLE.findall(cell.source)
        if len(roles) != n_roles:
            problems.append(f"cell {i}: {n_roles} glue roles, {len(roles)} well formed")
        problems += [f"cell {i}: bare glue role (use {{glue:text}} for text; it prints strings with quotes)"
                     for _ in re.findall(r"\{glue:?\}`", cell.source)]
        problems += [f"cell {i}: malformed glue key {r!r}" for r in roles if not re.fullmatch(r"\w+(:[^`{}\s]*)?", r)]
    assert not problems, f"{notebook.name}:\n  " + "\n  ".join(problems)


VISIBILITY_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_code_is_folded_or_removed_on_the_page(notebook):
    """The report shows narrative, figures and tables: every code cell is folded (``hide-input``) or removed
    (``remove-input``/``remove-cell``, plumbing and the parameters cell)."""
    bare = [i for i, c in enumerate(nbformat.read(notebook, as_version=4).cells)
            if c.cell_type == "code" and not VISIBILITY_TAGS & set(c.metadata.get("tags", []))]
    assert not bare, f"{notebook.name}: code cells {bare} show their code on the page (tag them hide-input)"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_does_not_start_lines_with_list_markers_by_accident(notebook):
    """A wrapped line of a list item that begins with '+ ' or '- ' after indentation becomes a nested list."""
    bad = []
    for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for a, b in zip(lines, lines[1:]):
            if re.match(r"^\s*[-*] ", a) and re.match(r"^ {2,}\+ ", b):
                bad.append(f"cell {i}: {b.strip()[:40]!r}")
    assert not bad, f"{notebook.name}: " + "; ".join(bad)
