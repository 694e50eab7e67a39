"""Tables as a reader sees them: human headers with units, no index, sensible significant figures.

Every chapter shows its tables through :func:`show_table`, so a reader never meets ``ER_PgC_yr``,
``p = 0.0000``, a pandas index column, ``NaN`` or ``1130.0``.
"""
from __future__ import annotations

import html
import math
from typing import Mapping

from ..units import format_units

__all__ = ["format_number", "format_table", "show_table"]


def format_number(x, sig: int = 3, *, p_value: bool = False) -> str:
    """A number with ``sig`` significant figures in fixed notation (no exponent for |x| in [1e-4, 1e9]).

    Examples
    --------
    Negative numbers carry a true minus sign (U+2212), as in print; a value that rounds to zero shows no sign.

    >>> format_number(1130.0), format_number(0.012345), format_number(123456.7), format_number(-0.5)
    ('1130', '0.0123', '123,000', '−0.5')
    >>> format_number(0.00001, p_value=True), format_number(float("nan")), format_number(2022)
    ('< 0.001', '—', '2022')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not hasattr(x, "__float__"):
        return str(x)
    if isinstance(x, int) or type(x).__name__.startswith(("int", "uint")):
        return _minus(str(int(x)))  # counts and years are exact: 2022 stays 2022
    v = float(x)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if p_value and v < 1e-3:
        return "< 0.001"
    if v == 0:
        return "0"
    mag = int(math.floor(math.log10(abs(v))))
    if mag >= sig - 1:  # integer part carries all significant figures
        r = round(v, -(mag - sig + 1)) if mag >= sig else round(v)
        return _minus(f"{int(r):,}" if abs(r) >= 1e4 else f"{int(r)}")
    if mag < -4:
        return _minus(f"{v:.{sig - 1}e}")
    decimals = sig - 1 - mag
    s = f"{round(v, decimals):.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return _minus(s)


def _minus(text: str) -> str:
    """Typographic minus for a leading sign (and an exponent's sign); "-0" becomes "0"."""
    if text.lstrip("-") in ("0", "0.0"):
        return "0"
    return text.replace("-", "\u2212")


def _header(label: str, units: str | None) -> str:
    u = format_units(units) if units else ""
    return f"{label} ({u})" if u else label


def format_table(df, columns: Mapping[str, str | tuple[str, str | None]] | None = None, *, sig: int = 3,
                 p_values: tuple[str, ...] = ()):
    """Return a copy of ``df`` ready to show: selected/renamed columns, numbers as text, no index.

    Parameters
    ----------
    df : pandas.DataFrame
    columns : mapping, optional
        ``{column: label}`` or ``{column: (label, units)}`` in display order; other columns are dropped.
        Without it every column is kept under its own name.
    sig : int
        Significant figures of floats.
    p_values : tuple of str
        Columns holding p-values (shown as ``< 0.001`` below 0.001).
    """
    import pandas as pd

    cols = columns or {c: str(c) for c in df.columns}
    out = pd.DataFrame(index=range(len(df)))
    for col, spec in cols.items():
        label, units = (spec, None) if isinstance(spec, str) else spec
        values = df[col].tolist() if col in df.columns else df.index.get_level_values(col).tolist()
        out[_header(label, units)] = [format_number(v, sig, p_value=col in p_values)
                                      if isinstance(v, (int, float)) and not isinstance(v, bool)
                                      or type(v).__name__.startswith(("int", "uint", "float")) else
                                      ("—" if v is None else str(v)) for v in values]
    return out


def show_table(df, columns=None, *, sig: int = 3, p_values: tuple[str, ...] = (), caption: str | None = None,
               max_rows: int = 25):
    """Display ``df`` formatted by :func:`format_table`; tables longer than ``max_rows`` are folded.

    The HTML scrolls horizontally inside its own box on narrow screens instead of widening the page.
    Returns nothing (so a notebook cell ending in ``show_table(...)`` shows the table once); use
    :func:`format_table` for the formatted DataFrame.
    """
    table = format_table(df, columns, sig=sig, p_values=p_values)
    body = table.to_html(index=False, escape=True, border=0, classes="landcarbon-table")
    cap = f"<p class='landcarbon-table-caption'>{html.escape(caption)}</p>" if caption else ""
    box = f"<div class='landcarbon-table-wrap' style='overflow-x:auto;max-width:100%'>{body}</div>"
    if len(table) > max_rows:
        box = f"<details><summary>Show the table ({len(table)} rows)</summary>{box}</details>"
    try:
        from IPython.display import HTML, display

        display(HTML(cap + box))
    except ImportError:  # pragma: no cover - outside IPython
        print(table.to_string(index=False))
