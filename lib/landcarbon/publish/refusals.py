"""Files refused during a pipeline run (checksum mismatches), wherever in the run they happen.

A notebook may catch the :class:`~landcarbon.errors.ChecksumError` of a tampered or corrupt file and
carry on with demo data (the flux chapter does, for the optional DE-Tha comparison). The pipeline must
still fail such a run. So every refusal is also appended, as one JSON line, to the file named by the
environment variable ``LANDCARBON_REFUSED_LOG``; the pipeline sets it for each notebook's kernel and
fails the analysis when the file is not empty (unless the user explicitly asked for demo data).
Outside the pipeline the variable is unset and nothing is written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["ENV_VAR", "record_refused_file", "read_refusals"]

ENV_VAR = "LANDCARBON_REFUSED_LOG"


def record_refused_file(path, *, expected: str | None, found: str | None, dataset: str | None = None,
                        reason: str = "sha256 mismatch") -> None:
    """Append one refusal to ``$LANDCARBON_REFUSED_LOG`` (no-op when the variable is unset)."""
    target = os.environ.get(ENV_VAR)
    if not target:
        return
    line = json.dumps({"file": str(path), "dataset": dataset, "expected": expected, "found": found,
                       "reason": reason}, sort_keys=True)
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:  # pragma: no cover - the pipeline also checks before and after
        pass


def read_refusals(path: Path | str) -> list[dict]:
    """The refusals recorded in ``path`` (empty when the file does not exist)."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for raw in p.read_text(encoding="utf-8").splitlines():
        raw = raw.strip()
        if raw:
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"file": raw, "reason": "unreadable refusal record"})
    return out
