"""Key indicators of an analysis: ``results/<analysis>/summary.json`` and myst-nb glue.

Schema (read by the report's landing page, by later notebooks and by the tests)::

    {"analysis": "budget_closure",
     "data_source": "real:<sha256>" | "demo:<generator>@<seed>" | "literature:<dataset id>" | "derived:<dataset id>" (computed
     from published numbers) | "...; ...",
     "indicators": {NAME: {"value": x, "sigma": s | null, "units": "PgC yr-1", "description": "...",
                           "source": "real:<sha256>"}},   # optional: when this indicator used only part
                                                          # of the analysis' data (default: data_source)
     "parameters": {...}}                      # optional: the notebook's parameters

Every notebook ends with :func:`write_summary`; the report never types a number by hand.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from .atomic import write_json_atomic
from ..errors import DataError, located
from .paths import results_dir

__all__ = ["Indicator", "write_summary", "read_summary", "glue_indicators", "format_value", "round_half_up",
           "SUMMARY_NAME"]

SUMMARY_NAME = "summary.json"


@dataclass
class Indicator:
    """One headline number with its 1-sigma uncertainty (``None`` when not quantified).

    ``source`` names the data this number was computed from when it differs from the analysis'
    ``data_source`` (e.g. a chapter that runs on demo data and on one real site-year).
    """

    value: float
    units: str
    description: str
    sigma: float | None = None
    source: str | None = None

    def __post_init__(self):
        self.value = float(self.value)
        if not math.isfinite(self.value):
            raise DataError(located(f"indicator value is not finite ({self.value})", where=self.description,
                                    fix="check the computation; the report must never show nan"))
        if self.sigma is not None:
            self.sigma = float(self.sigma)
            if not math.isfinite(self.sigma) or self.sigma < 0:
                raise DataError(located(f"indicator sigma must be finite and >= 0, got {self.sigma}",
                                        where=self.description))


def _as_indicator(name: str, obj: Any) -> Indicator:
    if isinstance(obj, Indicator):
        return obj
    if isinstance(obj, Mapping):
        return Indicator(value=obj["value"], units=obj["units"], description=obj.get("description", name),
                         sigma=obj.get("sigma"), source=obj.get("source"))
    raise DataError(located(f"indicator {name!r} must be an Indicator or a mapping", where="write_summary"))


def write_summary(analysis: str, data_source: str, indicators: Mapping[str, Any], *,
                  out_dir: Path | str | None = None, parameters: Mapping[str, Any] | None = None,
                  extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``summary.json`` atomically into ``out_dir`` (default ``results/<analysis>/``).

    ``parameters`` defaults to the values :func:`landcarbon.publish.notebook.prepare` recorded from the
    notebook's ``parameters`` cell, so notebooks need not retype them.
    """
    inds = {}
    for k, v in indicators.items():
        d = asdict(_as_indicator(k, v))
        if d["source"] is None:
            del d["source"]  # inherits the analysis' data_source
        inds[k] = d
    doc: dict[str, Any] = {"analysis": analysis, "data_source": data_source, "indicators": inds}
    if parameters is None:  # what prepare() recorded from the notebook's parameters cell
        from .notebook import current_parameters

        parameters = current_parameters(analysis)
    if parameters:
        doc["parameters"] = {k: v for k, v in parameters.items()}
    if extra:
        doc.update(extra)
    target = Path(out_dir) if out_dir else results_dir(analysis, create=True)
    return write_json_atomic(target / SUMMARY_NAME, doc)


def read_summary(analysis_or_path: str | Path) -> dict:
    """Read a ``summary.json`` given an analysis name or a path (file or folder)."""
    p = Path(analysis_or_path)
    if not p.exists():
        p = results_dir(str(analysis_or_path))
    if p.is_dir():
        p = p / SUMMARY_NAME
    if not p.is_file():
        raise DataError(located(f"no summary found for {analysis_or_path!r}", where=str(p),
                                fix="run the analysis first: landcarbon run --only " + str(analysis_or_path)))
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(located(f"summary is not valid JSON ({exc.msg})", where=f"{p}, line {exc.lineno}",
                                fix="rerun the analysis")) from exc
    for key in ("analysis", "data_source", "indicators"):
        if key not in doc:
            raise DataError(located(f"summary lacks the key {key!r}", where=str(p), fix="rerun the analysis"))
    return doc


def round_half_up(x: float, ndigits: int = 2) -> float:
    """Round like a printed table (0.455 -> 0.46, 0.125 -> 0.13), independent of binary floating point.

    The one rounding rule of the report: :func:`format_value` uses it, and so do the budget chapter's
    tables. The value is first taken to 12 significant digits, so that 0.35 + 0.105 =
    0.45499999999999996 rounds like 0.455.
    """
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-int(ndigits))
    return float(Decimal(f"{float(x):.12g}").quantize(q, rounding=ROUND_HALF_UP))


def format_value(value: float, sigma: float | None = None, digits: int | None = None) -> str:
    """``0.45 ± 0.25`` with a sensible number of decimals (2 significant digits of sigma), rounded half-up.

    ``digits`` fixes the decimals (e.g. 3 for a subtotal published as 0.175 ± 0.042). A whole number
    without sigma (a count: towers, folds) prints without decimals.
    """
    value = float(value)
    sigma = None if sigma is None else float(sigma)
    if digits is None and sigma is None and value.is_integer():
        digits = 0
    if digits is None:
        ref = abs(sigma) if sigma else abs(value)
        digits = 2 if ref == 0 else max(0, min(6, 1 - int(math.floor(math.log10(ref)))))
    s = f"{round_half_up(value, digits):.{digits}f}"
    if sigma is not None:
        s += f" ± {round_half_up(sigma, digits):.{digits}f}"
    return s


def glue_indicators(indicators: Mapping[str, Any], prefix: str = "") -> None:
    """``myst_nb.glue`` each indicator as ``<prefix><name>`` (formatted text with ±) and ``..._value``."""
    from myst_nb import glue

    from ..units import format_units

    for name, obj in indicators.items():
        ind = _as_indicator(name, obj)
        units = "" if ind.units in (None, "", "1") else format_units(ind.units)  # dimensionless: no word
        glue(f"{prefix}{name}", f"{format_value(ind.value, ind.sigma)} {units}".strip(), display=False)
        glue(f"{prefix}{name}_value", ind.value, display=False)
