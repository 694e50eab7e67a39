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

from .paths import results_dir as default_results_dir

__all__ = ["prepare", "show_source", "source_banner_markdown"]


def prepare(analysis: str, results_dir: str | Path | None = None, *, seed_style: bool = True) -> Path:
    """Create and return the output folder; set a deterministic, colour-blind-safe plotting style.

    ``results_dir`` is injected by the pipeline (a staging folder during ``landcarbon run``); when a
    user runs the notebook by hand it defaults to ``results/<analysis>/``.
    """
    out = Path(results_dir) if results_dir else default_results_dir(analysis)
    out.mkdir(parents=True, exist_ok=True)
    if seed_style:
        _use_inline_figures()
        from ..plotting import apply_style

        apply_style()
    _register_table_formatter()
    _connect_dask_cluster()
    return out


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
    return f"- `{src}`"


def source_banner_markdown(source_attr: str | list[str]) -> str:
    """MyST admonition stating which data the page ran on (``real:…`` / ``demo:…`` / ``literature:…``)."""
    sources = [source_attr] if isinstance(source_attr, str) else list(source_attr)
    demo = any(s.startswith("demo:") for s in sources)
    kind = "warning" if demo else "note"
    title = "This page ran on DEMO data (synthetic digital twin with known truth)" if demo else "Data used on this page"
    lines = "\n".join(_source_line(s) for s in sources)
    extra = ("\n\nTo use observations, put the real files listed in [Methods and data](../methods_data.md) in a "
             "folder named by `LANDCARBON_DATA_PATH` and rerun." if demo else "")
    return f"```{{{kind}}} {title}\n{lines}{extra}\n```"


def show_source(source_attr: str | list[str]) -> None:
    """Display the data-source banner in the notebook (and print it for logs)."""
    text = source_banner_markdown(source_attr)
    try:
        from IPython.display import Markdown, display

        display(Markdown(text))
    except ImportError:  # pragma: no cover - outside IPython
        print(text)
