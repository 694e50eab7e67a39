"""The ``parameters`` cell of an analysis notebook: what may be overridden, and with which types.

One parser serves the whole package: the pipeline (``landcarbon run -p NAME KEY=VALUE``, the profiles of
``notebooks/analyses.yaml``, the ``results_dir`` staging folder it injects) and the notebook helpers.
The cell is **parsed with** :mod:`ast`, **never executed**; every top-level assignment
``name = <literal>`` declares a parameter whose default's type is the contract for overrides.

Rules for an override ``KEY=VALUE`` (command line) or ``{KEY: value}`` (Python API):

* ``KEY`` must be a Python identifier declared in the notebook's ``parameters`` cell; anything else is
  refused with the list of valid names (so ``-p budget_closure 'import os;…;n_mc=1'`` is an error,
  not code). ``results_dir``, ``profile`` and ``data_source`` are set by the pipeline itself
  (``--profile``, ``--data-source``) and cannot be overridden with ``-p``.
* ``VALUE`` text is read with :func:`ast.literal_eval` (numbers, quoted strings, lists, tuples, dicts,
  ``True``/``False``/``None``). When it is not a Python literal and the default is a string (or
  ``None``), the text itself is the value, so ``site=de-tha-1998`` needs no quotes. ``true``/``false``
  are accepted for booleans.
* The value must fit the declared default:

  ============  ==========================================================================
  default       accepted
  ============  ==========================================================================
  ``bool``      ``True`` / ``False`` only
  ``int``       an integer; a float with an integral value (``1e6`` → ``1000000``)
  ``float``     an integer or a float (stored as float)
  ``str``       a string (unquoted text is taken as it is)
  ``list``      a list or tuple (stored as list); if every element of the default has one
                type (str, int, float or bool) the new elements must have it too
  ``tuple``     as ``list`` (stored as tuple)
  ``dict``      a dict
  ``None``      any literal
  non-literal   any literal (the default cannot be typed without executing the cell)
  ============  ==========================================================================
"""
from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, PipelineError, located

__all__ = ["Declared", "declared_parameters", "parameters_cell", "parse_value", "check_value",
           "check_overrides", "check_injection", "PIPELINE_PARAMETERS", "RawValue"]

#: Parameters every analysis notebook declares and the pipeline sets itself.
PIPELINE_PARAMETERS = ("results_dir", "data_source", "profile")

_NOT_LITERAL = object()


class RawValue(str):
    """Text of a ``-p KEY=VALUE`` override, still to be parsed against the declared default."""


@dataclass(frozen=True)
class Declared:
    """One parameter of a notebook's ``parameters`` cell."""

    name: str
    default: Any  # the literal default, or _NOT_LITERAL
    line: int  # 1-based line inside the cell

    @property
    def literal(self) -> bool:
        return self.default is not _NOT_LITERAL

    @property
    def type_name(self) -> str:
        if not self.literal:
            return "any literal"
        if self.default is None:
            return "any literal"
        return type(self.default).__name__


def parameters_cell(notebook: Path | str | Mapping) -> tuple[int, str]:
    """Index and source of the first code cell tagged ``parameters`` (raises :class:`PipelineError`)."""
    import nbformat

    if isinstance(notebook, Mapping):
        nb, where = notebook, "notebook"
    else:
        where = str(notebook)
        try:
            nb = nbformat.read(str(notebook), as_version=4)
        except FileNotFoundError as exc:
            raise PipelineError(located("notebook not found", where=where)) from exc
        except Exception as exc:  # noqa: BLE001 - nbformat raises several types for broken JSON
            raise PipelineError(located(f"notebook cannot be read ({type(exc).__name__}: {exc})", where=where,
                                        fix="repair the notebook JSON (e.g. git checkout the file)")) from exc
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata", {}).get("tags") or []):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            return i, src
    raise PipelineError(located("the notebook has no code cell tagged 'parameters'", where=where,
                                fix="tag its first code cell 'parameters' (View > Cell toolbar > Tags)"))


def declared_parameters(notebook: Path | str | Mapping) -> dict[str, Declared]:
    """``{name: Declared}`` for every ``name = value`` at the top level of the ``parameters`` cell.

    The cell is parsed with :func:`ast.parse` and never executed; defaults that are not literals
    (e.g. ``np.arange(3)``) are recorded as untyped.
    """
    index, src = parameters_cell(notebook)
    where = f"{notebook if not isinstance(notebook, Mapping) else 'notebook'}, cell {index} (parameters)"
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        raise PipelineError(located(f"the parameters cell is not valid Python ({exc.msg})",
                                    where=f"{where}, line {exc.lineno}")) from exc
    out: dict[str, Declared] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for t in targets:
            if isinstance(t, ast.Name):
                try:
                    default = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    default = _NOT_LITERAL
                out[t.id] = Declared(t.id, default, node.lineno)
    return out


def parse_value(text: str, declared: Declared) -> Any:
    """Read the text of ``KEY=VALUE`` as a literal (see the module docstring); no code is executed."""
    s = text.strip()
    try:
        value = ast.literal_eval(s)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    else:
        if declared.literal and isinstance(declared.default, str) and not isinstance(value, str):
            return text  # grid=4x5, site=2016: the declared type says "string"
        return value
    if declared.literal and isinstance(declared.default, bool) and s.lower() in ("true", "false"):
        return s.lower() == "true"
    if not declared.literal or declared.default is None or isinstance(declared.default, str):
        return text  # a bare word for a string parameter: site=de-tha-1998
    raise ConfigError(located(
        f"value {text!r} of parameter {declared.name!r} is not a Python literal",
        fix=f"give a {declared.type_name} literal, e.g. {declared.name}={declared.default!r}"))


def _element_type(seq) -> type | None:
    types = {bool if isinstance(x, bool) else type(x) for x in seq}
    if len(types) == 1:
        t = types.pop()
        return t if t in (str, int, float, bool) else None
    if types == {int, float}:
        return float
    return None


def check_value(value: Any, declared: Declared) -> Any:
    """Return ``value`` converted to the declared default's type, or raise :class:`ConfigError`."""
    name, d = declared.name, declared.default

    def bad(expected: str) -> ConfigError:
        return ConfigError(located(
            f"parameter {name!r} expects {expected}, got {type(value).__name__} {value!r}",
            fix=f"the notebook declares {name} = {d!r}; give a value of that type"))

    _check_literal(value, name)
    if not declared.literal or d is None:
        return value
    if isinstance(d, bool):
        if isinstance(value, bool):
            return value
        raise bad("True or False")
    if isinstance(d, int):
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        raise bad("an integer")
    if isinstance(d, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if isinstance(d, str):
        if isinstance(value, str):
            return str(value)
        raise bad("a string (quote it: " + f"{name}='{value}')")
    if isinstance(d, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise bad("a list, e.g. " + f"{name}={list(d)!r}")
        et = _element_type(d) if d else None
        items = list(value)
        if et is not None:
            conv = []
            for x in items:
                if et is float and isinstance(x, (int, float)) and not isinstance(x, bool):
                    conv.append(float(x))
                elif et is int and isinstance(x, int) and not isinstance(x, bool):
                    conv.append(x)
                elif et in (str, bool) and isinstance(x, et):
                    conv.append(x)
                else:
                    raise bad(f"a list of {et.__name__}")
            items = conv
        return tuple(items) if isinstance(d, tuple) else items
    if isinstance(d, dict):
        if isinstance(value, dict):
            return dict(value)
        raise bad("a dict")
    if isinstance(value, type(d)):
        return value
    raise bad(type(d).__name__)


def _check_literal(value: Any, name: str, depth: int = 0) -> None:
    """Only plain data may reach a notebook (what papermill can write as a Python literal)."""
    if depth > 20:
        raise ConfigError(located(f"parameter {name!r} is nested too deeply"))
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for x in value:
            _check_literal(x, name, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ConfigError(located(f"parameter {name!r}: dict keys must be strings, got {k!r}"))
            _check_literal(v, name, depth + 1)
        return
    raise ConfigError(located(f"parameter {name!r} must be plain data (number, string, bool, None, list, dict), "
                              f"got {type(value).__name__}"))


def check_overrides(analysis: str, notebook: Path | str, values: Mapping[str, Any], *, origin: str,
                    allow_pipeline: bool = False) -> dict[str, Any]:
    """Validate ``values`` against the notebook's ``parameters`` cell; return them typed.

    ``origin`` says where the values came from (``"-p budget_closure"``, ``"analyses.yaml, profile
    quick"``) for the error message; ``RawValue`` items are parsed from text first.
    """
    declared = declared_parameters(notebook)
    valid = sorted(k for k in declared if allow_pipeline or k not in PIPELINE_PARAMETERS)
    out: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{origin}: {key}"
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise PipelineError(located(
                f"parameter name {key!r} of analysis {analysis!r} is not a Python identifier", where=origin,
                fix=f"use one of the parameters declared in notebooks/{Path(notebook).name}: {', '.join(valid)}"))
        if key in PIPELINE_PARAMETERS and not allow_pipeline:
            flag = {"profile": "--profile", "data_source": "--data-source"}.get(key)
            raise PipelineError(located(
                f"parameter {key!r} is set by the pipeline and cannot be overridden", where=where,
                fix=(f"use the option {flag}" if flag else "results go to results/<analysis>/; copy them from there")))
        if key not in declared:
            raise PipelineError(located(
                f"analysis {analysis!r} has no parameter {key!r}", where=where,
                fix=f"valid parameters of notebooks/{Path(notebook).name}: {', '.join(valid)}"))
        try:
            v = parse_value(value, declared[key]) if isinstance(value, RawValue) else value
            out[key] = check_value(v, declared[key])
        except ConfigError as exc:
            raise PipelineError(f"{exc} [where: {where}]") from None
    return out


def check_injection(parameters: Mapping[str, Any], *, kernel_name: str = "python3", language: str = "python") -> str:
    """The code papermill will inject, verified to be nothing but ``name = <literal>`` lines.

    A last line of defence behind :func:`check_overrides`: the text is rendered with papermill's own
    translator, parsed with :mod:`ast` and refused unless every statement assigns a literal to one of
    the given names.
    """
    from papermill.translators import translate_parameters

    code = translate_parameters(kernel_name, language, dict(parameters), "Parameters")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise PipelineError(located("refusing to inject parameters that do not render as Python literals",
                                    where=f"line {exc.lineno}: {exc.text!r}")) from None
    names = set()
    for node in tree.body:
        ok = (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
              and node.targets[0].id in parameters and _literal_node(node.value))
        if not ok:
            raise PipelineError(located("refusing to inject parameters that are not plain assignments of literals",
                                        where=ast.get_source_segment(code, node) or code))
        names.add(node.targets[0].id)
    missing = set(parameters) - names
    if missing:
        raise PipelineError(located(f"parameters {sorted(missing)} were not rendered by papermill"))
    return code


def _literal_node(node: ast.expr) -> bool:
    """Plain data only: constants, signed numbers, lists/tuples/dicts of them, and papermill's
    ``float('inf')`` / ``float('-inf')`` / ``float('nan')``."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex))
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_literal_node(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal_node(k) for k in node.keys) and all(_literal_node(v) for v in node.values)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in ("inf", "-inf", "nan"))


def describe(notebook: Path | str, names: Iterable[str] | None = None) -> list[str]:
    """``["n_mc=200000  (int)", ...]`` for help texts: each overridable parameter with its default."""
    declared = declared_parameters(notebook)
    keep = [k for k in declared if k not in PIPELINE_PARAMETERS and (names is None or k in names)]
    return [f"{k}={declared[k].default!r}  ({declared[k].type_name})" if declared[k].literal
            else f"{k}=...  (any literal)" for k in keep]
