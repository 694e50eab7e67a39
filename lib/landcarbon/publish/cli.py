"""Command line: ``landcarbon data …``, ``landcarbon run …``, ``landcarbon report …``.

Examples::

    landcarbon data list
    landcarbon data verify de-tha-1998
    landcarbon run --profile quick --only budget_closure -p budget_closure n_mc=5000
    landcarbon report --profile full
"""
from __future__ import annotations

import argparse
import sys
import textwrap

from ..errors import LandcarbonError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="landcarbon",
        description="Reproducible research compendium of the terrestrial carbon sink: run the analyses, "
                    "manage the data, build the monitoring report.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            environment:
              LANDCARBON_DATA_PATH  colon-separated folders with real data files (else demo data are used)
              LANDCARBON_RESULTS    where results/<analysis>/ go (default <root>/results)
              LANDCARBON_CACHE      download cache (default: the OS user cache)
            """),
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="list, verify, locate or fetch datasets of data_manifest.yaml")
    dsub = d.add_subparsers(dest="data_command", required=True)
    dsub.add_parser("list", help="list every dataset with its status (real files found or demo fallback)")
    v = dsub.add_parser("verify", help="check sha256 of the files present")
    v.add_argument("id", nargs="?", help="dataset id (default: all)")
    w = dsub.add_parser("where", help="show where a dataset's files are or would be searched")
    w.add_argument("id")
    f = dsub.add_parser("fetch", help="download a dataset's files that have a URL (sha256 checked)")
    f.add_argument("id")
    f.add_argument("--allow-unhashed", action="store_true",
                   help="also download files whose manifest entry has no sha256 (refused by default)")

    def add_run_args(sp):
        sp.add_argument("--profile", choices=["quick", "full"], default="quick",
                        help="parameter profile of notebooks/analyses.yaml (default: quick)")
        sp.add_argument("--only", nargs="+", metavar="NAME", help="run only these analyses")
        sp.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "KEY=VALUE"),
                        help="override a notebook parameter, e.g. -p budget_closure n_mc=5000")
        sp.add_argument("--force", action="store_true", help="ignore the cache and rerun")
        sp.add_argument("--data-source", choices=["auto", "real", "demo"], default="auto",
                        help="auto: real data when found, else demo (default)")
        sp.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
        sp.add_argument("--no-progress", action="store_true", help="no progress bar")
        sp.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask.distributed scheduler (e.g. tcp://10.0.0.5:8786) for the gridded computations")

    r = sub.add_parser("run", help="execute the analysis notebooks with papermill into book/analyses/")
    add_run_args(r)
    rep = sub.add_parser("report", help="run the analyses and build the Jupyter Book report")
    add_run_args(rep)
    rep.add_argument("--no-run", action="store_true", help="only (re)build the book from existing results")
    rep.add_argument("--no-solutions", action="store_true",
                     help="build a copy for students without the exercises' solutions (pages and search index) "
                          "into book/_build/no-solutions/_build/html")
    sub.add_parser("analyses", help="list the analyses, their notebooks and dependencies")
    return p


def _cmd_data(args) -> int:
    from .. import data

    if args.data_command == "list":
        manifest = data.load_manifest()
        for ds in manifest.values():
            res = data.resolve_files(ds.id, check=False)
            status = "real files found" if res.complete and res.paths else (
                "demo fallback: " + ds.demo if ds.demo else "MISSING (no demo)")
            print(f"{ds.id:26s} {status}\n    {ds.title}")
        return 0
    if args.data_command == "verify":
        rows = data.verify(args.id)
        bad = 0
        for r in rows:
            print(f"{r['id']:26s} {r['status']:40s} {r['file']}" + (f"  ({r['path']})" if r["path"] else ""))
            bad += r["status"].startswith("MISMATCH")
        if bad:
            print(f"{bad} file(s) do not match their sha256 — corrupt or a different version.", file=sys.stderr)
            return 1
        return 0
    if args.data_command == "where":
        info = data.where(args.id)
        print(f"dataset {info['id']}")
        for k in ("found", "missing", "searched"):
            print(f"  {k}:")
            for x in info[k]:
                print(f"    {x}")
        print(f"  demo generator: {info['demo']}")
        return 0
    if args.data_command == "fetch":
        res = data.fetch(args.id, allow_unhashed=args.allow_unhashed)
        for p in res.paths:
            print(f"ok  {p}  ({res.origin.get(str(p))})")
        for m in res.missing:
            print(f"not downloadable (no URL in the manifest): {m.label}\n  how to obtain: {res.dataset.access}")
        return 0 if res.complete else 1
    return 2


def _run(args):
    from .pipeline import parse_overrides, run

    records = run(args.only, profile=args.profile, overrides=parse_overrides(args.param), force=args.force,
                  data_source=args.data_source, timeout=args.timeout, progress=not args.no_progress,
                  scheduler=args.scheduler)
    for r in records:
        print(f"{r.name:20s} {r.status:9s} {r.seconds:7.1f} s  -> {r.executed_notebook}")
    return records


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "analyses":
            from .pipeline import load_analyses

            for a in load_analyses().values():
                print(f"{a.name:20s} notebooks/{a.notebook:32s} depends on: {', '.join(a.depends_on) or '-'}\n    {a.title}")
            return 0
        if args.command == "run":
            _run(args)
            return 0
        if args.command == "report":
            from .report import build_report

            if not args.no_run:
                _run(args)
            index = build_report(solutions=not args.no_solutions)
            print(f"report built: {index}")
            return 0
    except LandcarbonError as exc:
        print(f"landcarbon: error: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
