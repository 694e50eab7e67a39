"""The report's data and provenance pages: ``data_manifest.yaml`` as a table (what, licence, how to
obtain, checksums, status in this build) and the environment, data fingerprints, parameters and
timings of the run, without absolute paths of the build machine.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from ..paths import results_dir
from .display import _link, _md_escape, _source_label, chapter_titles


def _datasets_md() -> str:
    from ...data import load_manifest, resolve_files

    out = ["| Dataset | What | Licence | How to obtain | Files and sha256 | Status here |", "|---|---|---|---|---|---|"]
    for ds in load_manifest().values():
        files = "<br>".join(
            f"`{f.label}`" + (f" sha256 `{f.sha256[:12]}…`" if f.sha256 else " (no fixed checksum)") for f in ds.files)
        try:
            res = resolve_files(ds.id, check=False)
            status = "real files found" if res.complete and res.paths else (
                "raw files not present — the shipped real-data extract is used" if ds.extract else
                "not present — demo digital twin used" if ds.demo else "not present")
        except Exception as exc:  # noqa: BLE001
            status = f"error: {type(exc).__name__}"
        cite = ds.citation + (f" doi:[{ds.doi}](https://doi.org/{ds.doi})" if ds.doi else "")
        out.append(f"| `{ds.id}` | {_md_escape(ds.title)}. {_md_escape(cite)} | {_md_escape(ds.license)} | "
                   f"{_md_escape(ds.access)} | {files} | {status} |")
    return "\n".join(out) + "\n"


def _data_path_text(raw: str | None) -> str:
    """``LANDCARBON_DATA_PATH`` without the build machine's absolute paths: number of folders and their names."""
    folders = [p for p in str(raw or "").split(os.pathsep) if p.strip()]
    if not folders:
        return "not set: the demo digital twin stood in where no real file or shipped extract was found"
    names = ", ".join(f"`{Path(p).name or p}`" for p in folders)
    return f"set ({len(folders)} folder{'s' if len(folders) > 1 else ''}: {names})"


def _params_text(params: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in params.items() if k != "results_dir"}
    return ", ".join(f"`{k}={v!r}`" for k, v in sorted(shown.items()))


def cluster_text(rec: dict | None) -> str:
    """Where a run's dask tasks ran, from the provenance record's ``cluster`` entry (pipeline)."""
    if not rec:
        return "not recorded"
    if rec.get("error"):
        return "dask cluster (size not recorded)" if rec.get("scheduler") != "local threaded" else "this machine"
    if rec.get("scheduler") == "local threaded":
        return f"this machine ({rec.get('threads')} threads)"
    mem = rec.get("memory_bytes") or 0
    return (f"dask cluster: {rec.get('workers')} workers, {rec.get('threads')} threads"
            + (f", {mem / 1e9:.0f} GB" if mem else ""))


def _provenance_md(root: Path) -> str:
    from ..pipeline import load_analyses

    last = results_dir() / "last_run.json"
    lines = []
    if last.is_file():
        run = json.loads(last.read_text())
        git = run.get("git") or {}
        lines += ["## Environment of this build", "",
                  f"- Profile: `{run.get('profile')}`; Python {run.get('python')}; platform `{run.get('platform')}`",
                  f"- Git commit: `{git.get('commit')}`" + (" (with uncommitted changes)" if git.get("dirty") else ""),
                  f"- `LANDCARBON_DATA_PATH`: {_data_path_text(run.get('data_path'))}",
                  "", "```{dropdown} Package versions", "", "| Package | Version |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted((run.get("packages") or {}).items())]
        lines += ["```", ""]
    titles = chapter_titles(root)
    lines += ["## Analyses of this build", "",
              "| Chapter | Data | Run time [s] | Computed on | Cache key | Parameters |", "|---|---|---|---|---|---|"]
    details = []
    for a in load_analyses(root).values():
        p = results_dir(a.name) / "provenance.json"
        if not p.is_file():
            continue
        prov = json.loads(p.read_text())
        lines.append(f"| {_link(f'/analyses/{Path(a.notebook).stem}', titles[a.name])} | "
                     f"{_source_label(prov.get('data_source', ''))} | {prov.get('seconds')} | "
                     f"{cluster_text(prov.get('cluster'))} | `{str(prov.get('cache_key'))[:12]}` | {_params_text(prov.get('parameters', {}))} |")
        data = prov.get("inputs", {}).get("data", {})
        if data:
            details.append(f"- **{titles[a.name]}** data fingerprints: "
                           + "; ".join(f"`{k}`: `{str(v)[:24]}`" for k, v in data.items()))
    lines += ["", *details, ""]
    return "\n".join(lines)
