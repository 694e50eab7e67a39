"""Every command the documentation shows is executed (or, where a full run would be slow, dry-run),
so the README, the CLI help, the book's pages and the chapters cannot drift from the code.

Where commands are collected
----------------------------
* ``README.md`` and the book's own pages (``book/*.md``): fenced ``bash``/``sh``/``console`` blocks, and
  inline code that starts with ``landcarbon``, ``make`` or ``papermill``; ``python`` blocks of the README;
* the chapters (``notebooks/*.ipynb`` markdown cells): the same;
* the CLI: the examples of ``landcarbon.publish.cli``'s docstring and every ``e.g. ...`` in its help texts.

How each is checked
-------------------
``landcarbon --help|analyses|data list|data verify|data where``  run for real, must exit 0
``landcarbon run|report ...``   dry run: the arguments must parse, ``--only``/``-p`` must name analyses of
                                ``notebooks/analyses.yaml`` and ``-p`` keys parameters that the notebook's
                                ``parameters`` cell declares, with a value of the declared type
``landcarbon data fetch ID``    dry run: ``ID`` must be in the manifest (a real fetch needs the network)
``papermill NB OUT -p K V``     dry run: the notebook exists and declares ``K``
``make TARGET [VAR=...]``       ``make -n`` (prints what it would do), must exit 0
``pip install ...``             the requirements parse (installing needs the network)
``jupyter lab PATH``            ``PATH`` exists
``conda env create -f F``       ``F`` is a conda environment file; ``conda activate N``: ``N`` is its name
README ``python`` blocks        run in a subprocess
A command with placeholders in capitals (``NAME``, ``KEY=VALUE``, ``ID``, ``HOST``) only has to parse.
A command no rule covers fails the test: add a rule here when you document a new kind of command.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGS = {"bash", "sh", "shell", "console", "sh-session"}
INLINE = re.compile(r"`((?:\.venv/bin/)?(?:landcarbon|make|papermill) [^`]+)`")
PLACEHOLDER = re.compile(r"\b(?:NAME|KEY|VALUE|ID|HOST|ADDRESS|PATH)\b")


# ------------------------------------------------------------------------------------------------
# collecting
# ------------------------------------------------------------------------------------------------
def _fences(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block (``` or ~~~), MyST directives excluded."""
    out = []
    for m in re.finditer(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", text, flags=re.M | re.S):
        out.append((m.group(2).lower(), m.group(3)))
    return out


def _shell_lines(body: str) -> list[str]:
    """Commands of a shell block: continuation lines joined, comments and prompts removed."""
    body = body.replace("\\\n", " ")
    cmds = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if not line or line.startswith("#"):
            continue
        cmds.append(line)
    return cmds


def _from_markdown(text: str, where: str) -> list[tuple[str, str]]:
    cmds = []
    for lang, body in _fences(text):
        if lang in SHELL_LANGS:
            cmds += [(c, where) for c in _shell_lines(body)]
    no_fences = re.sub(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", "", text, flags=re.M | re.S)
    cmds += [(m.group(1), where) for m in INLINE.finditer(no_fences)]
    return cmds


def _cli_help_commands() -> list[tuple[str, str]]:
    from landcarbon.publish import cli

    cmds = []
    doc = cli.__doc__ or ""
    if "Examples::" in doc:
        block = doc.split("Examples::", 1)[1]
        cmds += [(line.strip(), "landcarbon.publish.cli docstring") for line in block.splitlines()
                 if line.strip().startswith("landcarbon ")]
    parser = cli.build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:  # noqa: SLF001 - argparse keeps subparsers here
        for sub in getattr(action, "choices", None) and getattr(action.choices, "values", lambda: [])() or []:
            texts.append(sub.format_help())
            for a2 in sub._actions:  # noqa: SLF001
                for sub2 in getattr(a2, "choices", None) and getattr(a2.choices, "values", lambda: [])() or []:
                    texts.append(sub2.format_help())
    for text in texts:
        flat = " ".join(text.split())
        for m in re.finditer(r"e\.g\. (-p \S+ \S+?)\)?(?:\s|$)", flat):
            cmds.append((f"landcarbon run {m.group(1)}", "landcarbon --help"))
    return cmds


def documented_commands() -> list[tuple[str, str]]:
    cmds = _from_markdown((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")
    for page in sorted((ROOT / "book").glob("*.md")):
        cmds += _from_markdown(page.read_text(encoding="utf-8"), f"book/{page.name}")
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        cmds += _from_markdown(text, f"notebooks/{nb.name}")
    cmds += _cli_help_commands()
    seen, out = set(), []
    for c, where in cmds:
        if c not in seen:
            seen.add(c)
            out.append((c, where))
    return out


def readme_python_blocks() -> list[str]:
    return [body for lang, body in _fences((ROOT / "README.md").read_text(encoding="utf-8")) if lang == "python"]


# ------------------------------------------------------------------------------------------------
# checking
# ------------------------------------------------------------------------------------------------
def notebook_parameters(notebook: Path) -> dict:
    """Names and defaults of the notebook's ``parameters`` cell (the library's parser: ``ast``, never run)."""
    from landcarbon.publish.notebook import notebook_parameters as parse

    return parse(notebook)


def _type_ok(value, default) -> bool:
    if default is None or default is ...:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    if isinstance(default, str):
        return isinstance(value, str)
    return True


def _analyses():
    from landcarbon.publish.pipeline import load_analyses

    return load_analyses(ROOT)


def _check_overrides(pairs: list[tuple[str, str, object]]) -> None:
    analyses = _analyses()
    for name, key, value in pairs:
        assert name in analyses, f"-p names the unknown analysis {name!r} (valid: {list(analyses)})"
        params = notebook_parameters(ROOT / "notebooks" / analyses[name].notebook)
        assert key in params, f"-p {name} {key}=...: {analyses[name].notebook} declares no parameter {key!r} " \
                              f"(its parameters: {sorted(params)})"
        assert _type_ok(value, params[key]), f"-p {name} {key}={value!r}: the notebook's default is {params[key]!r}"


def _split_env(argv: list[str]) -> tuple[dict, list[str]]:
    env = {}
    while argv and re.match(r"^[A-Z_][A-Z0-9_]*=", argv[0]):
        k, v = argv.pop(0).split("=", 1)
        env[k] = v
    return env, argv


def check_landcarbon(argv: list[str], env: dict, template: bool) -> str:
    from landcarbon.publish import cli

    parser = cli.build_parser()
    if argv in (["--help"], ["-h"]) or argv[-1:] in (["--help"], ["-h"]):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 0
        return "help printed"
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse error
        raise AssertionError(f"the arguments do not parse (exit {exc.code})") from None
    if template:
        return "parses (template)"
    if args.command in ("run", "report"):
        for n in args.only or []:
            assert n in _analyses(), f"--only {n}: unknown analysis (valid: {list(_analyses())})"
        pairs = []
        for name, kv in args.param or []:
            assert "=" in kv, f"-p {name} {kv}: not KEY=VALUE"
            k, v = kv.split("=", 1)
            pairs.append((name, k, yaml.safe_load(v)))
        _check_overrides(pairs)
        return "dry run"
    if args.command == "data" and args.data_command == "fetch":
        from landcarbon.data import load_manifest

        assert args.id in load_manifest(), f"data fetch {args.id}: not in data_manifest.yaml"
        return "dry run (id in the manifest)"
    # cheap and offline: run it for real
    run_env = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-m", "landcarbon.publish.cli", *argv], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-800:]}"
    return "ran"


def check_papermill(argv: list[str]) -> str:
    assert len(argv) >= 2, "papermill needs an input and an output notebook"
    nb = ROOT / argv[0]
    assert nb.is_file(), f"{argv[0]} does not exist"
    params = notebook_parameters(nb)
    i = 2
    while i < len(argv):
        opt = argv[i]
        if opt in ("-p", "--parameters"):
            key, raw = argv[i + 1], argv[i + 2]
            assert key in params, f"{nb.name} declares no parameter {key!r} (its parameters: {sorted(params)})"
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError:
                value = raw
            if isinstance(params[key], str):
                value = raw  # papermill passes strings through
            assert _type_ok(value, params[key]), f"-p {key} {raw}: the notebook's default is {params[key]!r}"
            i += 3
        elif opt in ("-r", "--parameters_raw"):
            assert argv[i + 1] in params
            i += 3
        else:
            i += 1
    return "dry run"


def check_make(argv: list[str]) -> str:
    proc = subprocess.run(["make", "-n", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"make -n {' '.join(argv)}: {proc.stderr[-500:]}"
    return "make -n"


def check_pip(argv: list[str]) -> str:
    from packaging.requirements import Requirement

    assert argv[:1] == ["install"], "only `pip install` is documented"
    rest = [a for a in argv[1:] if not a.startswith("-")]
    for req in rest:
        if req in (".",) or req.startswith((".[", "./")):
            assert (ROOT / "pyproject.toml").is_file()
        else:
            Requirement(req)
    return "requirements parse"


def check_command(cmd: str) -> str:
    argv = shlex.split(cmd, comments=True)
    env, argv = _split_env(argv)
    assert argv, "empty command"
    exe, args = argv[0], argv[1:]
    template = bool(PLACEHOLDER.search(cmd))
    name = exe.rsplit("/", 1)[-1]
    if name == "landcarbon":
        return check_landcarbon(args, env, template)
    if name == "papermill":
        return check_papermill(args)
    if name == "make":
        return check_make(args)
    if name in ("pip", "pip3"):
        return check_pip(args)
    if name == "jupyter" and args[:1] in (["lab"], ["notebook"]):
        for p in args[1:]:
            assert (ROOT / p).exists(), f"{p} does not exist"
        return "paths exist"
    if name == "conda":
        env_file = yaml.safe_load((ROOT / "environment.yml").read_text())
        if args[:2] == ["env", "create"]:
            f = args[args.index("-f") + 1]
            assert (ROOT / f).is_file() and yaml.safe_load((ROOT / f).read_text())["dependencies"]
            return "environment file parses"
        if args[:1] == ["activate"]:
            assert args[1] == env_file["name"], f"conda activate {args[1]}: environment.yml names {env_file['name']!r}"
            return "environment name matches"
    if exe == "export" and all("=" in a for a in args):
        return "sets a variable"
    if exe in (".", "source") and args == [".venv/bin/activate"]:
        return "activates the venv made by make"
    raise AssertionError(f"no rule checks the documented command {cmd!r}: add one to tests/test_documented_commands.py")


COMMANDS = documented_commands()


def test_commands_are_found():
    where = {w for _, w in COMMANDS}
    assert any(w == "README.md" for w in where) and any(w.startswith("book/") for w in where)
    assert any(w == "landcarbon --help" for w in where)
    assert len(COMMANDS) >= 15, COMMANDS


@pytest.mark.parametrize("cmd, where", COMMANDS, ids=[f"{w}: {c[:60]}" for c, w in COMMANDS])
def test_documented_command(cmd, where, monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        how = check_command(cmd)
    except AssertionError as exc:
        raise AssertionError(f"{where}: `{cmd}`: {exc}") from None
    assert how


@pytest.mark.parametrize("code", readme_python_blocks())
def test_readme_python_runs(code):
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr[-1500:]


@pytest.mark.parametrize("cmd, message", [
    ("landcarbon run --only budget_closure -p budget_closure n_draws=5", r"declares no parameter 'n_draws'.*n_mc"),
    ("landcarbon run -p budget_clsoure n_mc=5", "unknown analysis 'budget_clsoure'"),
    ("landcarbon run -p budget_closure n_mc=many", "the notebook's default is"),
    ("papermill notebooks/05_budget_closure.ipynb out.ipynb -p n_draws 5", "declares no parameter 'n_draws'"),
    ("make reprot", "make -n reprot"),
    ("landcarbon data fetch no-such-dataset", "not in data_manifest.yaml"),
    ("landcarbon frobnicate", "do not parse"),
    ("rm -rf results", "no rule checks"),
])
def test_the_checks_can_fail(cmd, message):
    with pytest.raises(AssertionError, match=message):
        check_command(cmd)
