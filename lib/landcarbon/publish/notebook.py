"""Small helpers every analysis notebook uses (kept here so notebooks stay narrative).

Typical first code cell after the ``parameters`` cell::

    from landcarbon.publish.notebook import prepare, show_source
    out = prepare("budget_closure", results_dir)      # Path of results/<analysis>/ (created)
    ...
    show_source(ds.attrs["source"])                    # loud banner: REAL or DEMO data
"""
from __future__ import annotations

import os
from pathlib import Path

from .paths import INTERACTIVE_DIR, interactive_results_dir

__all__ = ["prepare", "show_source", "source_banner_markdown", "notebook_parameters", "current_parameters",
           "interactive_results_dir", "INTERACTIVE_DIR"]

#: What :func:`prepare` recorded for each analysis in this process: {analysis: {"results_dir", "parameters"}}.
_RUN_CONTEXT: dict[str, dict] = {}


def notebook_parameters(path: str | Path) -> dict:
    """Names and default values declared in a notebook's ``parameters`` cell, read with :mod:`ast`.

    The cell is never executed: only top-level ``NAME = <literal>`` assignments count (a default that is
    not a literal is reported as ``...``). Raises :class:`~landcarbon.errors.PipelineError` naming the
    notebook when it has no cell tagged ``parameters``.
    """
    from .parameters import declared_parameters  # the one parser of the cell (also used by the pipeline)

    return {name: (d.default if d.literal else ...) for name, d in declared_parameters(Path(path)).items()}


def _declared_parameter_names(analysis: str) -> list[str] | None:
    try:
        from .paths import project_root
        from .pipeline import load_analyses

        root = project_root()
        a = load_analyses(root).get(analysis)
        if a is None:
            return None
        return list(notebook_parameters(root / "notebooks" / a.notebook))
    except Exception:  # noqa: BLE001 - outside a compendium checkout the record is simply absent
        return None


def current_parameters(analysis: str) -> dict | None:
    """The parameter values :func:`prepare` recorded for ``analysis`` in this process (or ``None``)."""
    ctx = _RUN_CONTEXT.get(analysis)
    return None if ctx is None else dict(ctx["parameters"])


def _jsonable(v):
    import json

    try:
        json.dumps(v)
        return v
    except TypeError:
        if isinstance(v, (tuple, set, frozenset)):
            return [_jsonable(x) for x in v]
        return repr(v)


def prepare(analysis: str, results_dir: str | Path | None = None, *, seed_style: bool = True) -> Path:
    """Create and return the output folder; set a deterministic, colour-blind-safe plotting style.

    ``results_dir`` is injected by the pipeline: a staging folder that ``landcarbon run`` promotes to
    ``results/<analysis>/`` only when the whole notebook succeeded. When the notebook is run by hand
    (Jupyter, ``jupyter execute``, nbval) ``results_dir`` is ``None`` and the outputs go to the scratch
    folder ``results/_interactive/<analysis>/`` — a hand run never overwrites the pipeline's results,
    whose provenance and cache entry describe the run that produced them. The notebook says so.
    """
    if results_dir:
        out = Path(results_dir)
    else:
        out = interactive_results_dir(analysis)
        print(f"Interactive run: outputs go to the scratch folder {_display_path(out)} "
              f"(the report's results/{analysis}/ is written only by `landcarbon run`).")
    out.mkdir(parents=True, exist_ok=True)
    # Record the parameter values the notebook runs with (papermill injects them as globals of the
    # caller), so write_summary() stores them without a hand-typed copy.
    import inspect

    caller = inspect.currentframe().f_back
    names = _declared_parameter_names(analysis) or []
    ns = caller.f_globals if caller is not None else {}
    # results_dir is plumbing (a staging path that differs every run): recording it would make
    # summary.json differ between identical runs and print a machine path in the report
    _RUN_CONTEXT[analysis] = {"results_dir": out,
                              "parameters": {n: _jsonable(ns[n]) for n in names if n in ns and n != "results_dir"}}
    if seed_style:
        _use_inline_figures()
        from ..plotting import apply_style

        apply_style()
    _register_table_formatter()
    _connect_dask_cluster()
    return out


def _display_path(p: Path) -> str:
    """``results/_interactive/x`` relative to the compendium when possible (no machine paths on pages)."""
    try:
        from .paths import project_root

        return str(p.resolve().relative_to(project_root()))
    except (ValueError, Exception):  # noqa: BLE001 - outside a compendium: show it as it is
        return str(p)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _use_inline_figures() -> None:
    """Figures must appear in the executed notebook (and so in the report).

    A kernel started by ``make`` inherits ``MPLBACKEND=Agg``, which draws nothing into the notebook; so
    inside a Jupyter kernel the inline backend is selected whatever the environment says. Outside a
    kernel (scripts, tests) a non-interactive backend is used unless the user chose one.
    """
    import matplotlib

    if _in_kernel():
        from IPython import get_ipython

        get_ipython().run_line_magic("matplotlib", "inline")
    elif not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")


def _connect_dask_cluster():
    """Connect to ``$LANDCARBON_DASK_SCHEDULER`` (set by ``landcarbon run --scheduler``) if given.

    Once a ``distributed.Client`` exists, dask-backed xarray computations (trend kernels, grid
    prediction) run on that cluster; without it they use the local threaded scheduler.
    """
    address = os.environ.get("LANDCARBON_DASK_SCHEDULER")
    if not address:
        return None
    from distributed import Client

    return Client(address)


def _register_table_formatter() -> None:
    """Render missing values in displayed tables as an em dash ("not available"), never as "NaN".

    Uses IPython's documented formatter registry, so only notebook display changes; the data keep NaN.
    """
    try:
        import pandas as pd
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    html = ip.display_formatter.formatters["text/html"]
    html.for_type(pd.DataFrame, lambda df: df.to_html(na_rep="—", max_rows=60))


def _source_line(src: str) -> str:
    """One reader-facing line per data source: what it is, without repeating the raw source id."""
    kind, _, rest = src.partition(":")
    if kind == "demo":
        gen, _, seed = rest.rpartition("@")
        return f"- synthetic data from the generator `{gen.split(':')[-1]}` (seed {seed}), with known truth"
    if kind.startswith("real"):
        return f"- observations, files with sha256 `{rest[:12]}…`"
    if kind == "literature":
        return f"- published values, transcribed in the dataset `{rest}` (see Methods and data)"
    if kind == "derived":
        return f"- numbers computed on this page from the published values of the dataset `{rest}`"
    return f"- `{src}`"


def source_banner_markdown(source_attr: str | list[str]) -> str:
    """MyST admonition stating which data the page ran on (``real:…`` / ``demo:…`` / ``literature:…``)."""
    sources = [source_attr] if isinstance(source_attr, str) else list(source_attr)
    demo = any(s.startswith("demo:") for s in sources)
    observed = any(s.startswith(("real", "literature:", "derived:")) for s in sources)
    kind = "warning" if demo else "note"
    if demo and observed:
        title = "This page uses observations and DEMO data (synthetic digital twin with known truth)"
        extra = ("\n\nThe DEMO parts test the methods against a known truth or stand in for data that cannot "
                 "ship; [Methods and data](../methods_data.md) lists the real files and how to obtain them "
                 "(put them in a folder named by `LANDCARBON_DATA_PATH` and rerun).")
    elif demo:
        title = "This page ran on DEMO data (synthetic digital twin with known truth)"
        extra = ("\n\nTo use observations, put the real files listed in [Methods and data](../methods_data.md) in a "
                 "folder named by `LANDCARBON_DATA_PATH` and rerun.")
    else:
        title, extra = "Data used on this page", ""
    lines = "\n".join(_source_line(s) for s in sources)
    return f"```{{{kind}}} {title}\n{lines}{extra}\n```"


def show_source(source_attr: str | list[str]) -> None:
    """Display the data-source banner in the notebook (and print it for logs)."""
    text = source_banner_markdown(source_attr)
    try:
        from IPython.display import Markdown, display

        display(Markdown(text))
    except ImportError:  # pragma: no cover - outside IPython
        print(text)
