"""Command line: ``landcarbon data …``, ``landcarbon run …``, ``landcarbon report …``.

Examples::

    landcarbon data list
    landcarbon data verify de-tha-1998
    landcarbon analyses --parameters
    landcarbon run --profile quick --only budget_closure -p budget_closure n_mc=50000
    landcarbon report --profile full
    landcarbon cite --format bibtex

Exit status: 0 success, 1 error (message on stderr), 2 usage error, 130 interrupted by Ctrl-C (SIGINT),
143 stopped by SIGTERM. An interrupted run leaves results/ and book/analyses/ as they were.
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
            examples:
              landcarbon analyses --parameters
              landcarbon run --only budget_closure -p budget_closure n_mc=50000
              landcarbon report --profile full

            environment:
              LANDCARBON_DATA_PATH  colon-separated folders with real data files (else demo data are used)
              LANDCARBON_RESULTS    where results/<analysis>/ go (default <root>/results)
              LANDCARBON_CACHE      download cache (default: the OS user cache)

            exit status: 0 ok, 1 error, 2 usage, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)
            """),
    )
    p.add_argument("--version", action="version", version=_version_string())
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
                        help="override a parameter declared in the notebook's parameters cell, e.g. "
                             "-p budget_closure n_mc=50000 (values are Python literals checked against the "
                             "declared default's type; list them with `landcarbon analyses --parameters`)")
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
    an = sub.add_parser("analyses", help="list the analyses, their notebooks and dependencies")
    an.add_argument("--parameters", action="store_true",
                    help="also list each notebook's parameters (name: type = default) for -p overrides")
    c = sub.add_parser("cite", help="how to cite this compendium (from CITATION.cff)")
    c.add_argument("--format", choices=["text", "bibtex", "markdown"], default="text")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of the terminal")
    return p


def _version_string() -> str:
    from importlib import metadata

    try:
        v = metadata.version("landcarbon")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        from .. import __version__ as v
    return f"landcarbon {v} (Python {sys.version.split()[0]})"


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


def _echo(msg: str) -> None:
    print(f"landcarbon: {msg}", file=sys.stderr, flush=True)


def _run(args):
    from .pipeline import parse_overrides, run

    records = run(args.only, profile=args.profile, overrides=parse_overrides(args.param), force=args.force,
                  data_source=args.data_source, timeout=args.timeout, progress=not args.no_progress,
                  scheduler=args.scheduler, echo=_echo)
    for r in records:
        print(f"{r.name:20s} {r.status:9s} {r.seconds:7.1f} s  -> {r.executed_notebook}")
    return records


def _cmd_analyses(args) -> int:
    from .parameters import describe
    from .paths import project_root
    from .pipeline import load_analyses

    root = project_root()
    for a in load_analyses(root).values():
        print(f"{a.name:20s} notebooks/{a.notebook:32s} depends on: {', '.join(a.depends_on) or '-'}\n    {a.title}")
        if args.parameters:
            for line in describe(root / "notebooks" / a.notebook):
                print(f"      -p {a.name} {line}")
    return 0


def _cmd_cite(args) -> int:
    from .citation import citation

    text = citation(args.format)
    if args.output:
        from .atomic import write_text_atomic

        write_text_atomic(args.output, text)
        print(f"citation written to {args.output}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _interrupted(exc) -> int:
    import signal as _signal

    name = _signal.Signals(exc.signum).name if hasattr(exc, "signum") else "SIGINT"
    print(f"landcarbon: interrupted ({name}): the running notebook's kernel was shut down and its staging "
          "folder removed; results/ and book/analyses/ hold the last complete state.", file=sys.stderr, flush=True)
    return getattr(exc, "exit_code", 130)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .pipeline import RunInterrupted

    try:
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "analyses":
            return _cmd_analyses(args)
        if args.command == "cite":
            return _cmd_cite(args)
        if args.command == "run":
            _run(args)
            return 0
        if args.command == "report":
            from .pipeline import recover, run_lock
            from .report import build_report

            with run_lock():  # no other run may change results/ while the book is built from them
                if not args.no_run:
                    _run(args)
                else:
                    for msg in recover():
                        _echo(msg)
                from .citation import write_citation_page

                write_citation_page()  # book/generated/citation.md for the front matter
                index = build_report(solutions=not args.no_solutions)
            print(f"report built: {index}")
            return 0
    except RunInterrupted as exc:
        return _interrupted(exc)
    except KeyboardInterrupt:
        print("landcarbon: interrupted (SIGINT).", file=sys.stderr, flush=True)
        return 130
    except LandcarbonError as exc:
        print(f"landcarbon: error: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
