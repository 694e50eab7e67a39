"""The console script: help text and the data sub-commands."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from landcarbon.publish.cli import main

BIN = Path(sys.executable).parent / "landcarbon"


def test_console_script_help():
    exe = str(BIN) if BIN.exists() else None
    if exe is None:
        pytest.skip("console script not installed in this environment")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("data", "run", "report", "LANDCARBON_DATA_PATH"):
        assert word in out


@pytest.mark.parametrize("argv", [["run", "--help"], ["report", "--help"], ["data", "--help"]])
def test_subcommand_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    text = capsys.readouterr().out
    if argv[0] in ("run", "report"):
        for opt in ("--profile", "--only", "-p NAME KEY=VALUE", "--force"):
            assert opt in text


def test_data_list_and_where(project_root, monkeypatch, capsys):
    monkeypatch.chdir(project_root)
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "de-tha-1998" in out and "china-budget-jiang2016" in out
    assert main(["data", "where", "de-tha-1998"]) == 0
    assert "searched" in capsys.readouterr().out


def test_unknown_dataset_is_a_clean_error(project_root, monkeypatch, capsys):
    monkeypatch.chdir(project_root)
    assert main(["data", "where", "no-such-data"]) == 1
    assert "unknown dataset id 'no-such-data'" in capsys.readouterr().err


def test_run_unknown_analysis_is_a_clean_error(project_root, monkeypatch, capsys):
    monkeypatch.chdir(project_root)
    assert main(["run", "--only", "nope", "--no-progress"]) == 1
    assert "unknown analysis 'nope'" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("landcarbon 0.1.0")


def test_parameter_injection_is_refused(project_root, tmp_path, monkeypatch, capsys):
    """Regression (issue 17): a -p key used to be written into the notebook as code by papermill."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANDCARBON_ROOT", str(project_root))
    rc = main(["run", "--only", "budget_closure", "--no-progress",
               "-p", "budget_closure", 'import os;os.system("touch pwned");n_mc=1000'])
    assert rc == 1 and not (tmp_path / "pwned").exists() and not (project_root / "pwned").exists()
    assert "is not a Python identifier" in capsys.readouterr().err


def test_unknown_parameter_names_the_valid_ones(project_root, monkeypatch, capsys):
    """Issue 9: `landcarbon run -p budget_closure n_draws=5` exits non-zero naming n_mc."""
    monkeypatch.setenv("LANDCARBON_ROOT", str(project_root))
    assert main(["run", "--only", "budget_closure", "--no-progress", "-p", "budget_closure", "n_draws=5"]) == 1
    err = capsys.readouterr().err
    assert "has no parameter 'n_draws'" in err and "n_mc" in err and "seed" in err
    assert main(["run", "--only", "budget_closure", "--no-progress", "-p", "budget_closure", "n_mc=many"]) == 1
    assert "not a Python literal" in capsys.readouterr().err
    assert main(["run", "--only", "budget_closure", "--no-progress", "-p", "budget_closure", "n_mc=0.5"]) == 1
    assert "expects an integer" in capsys.readouterr().err
    assert main(["run", "--only", "nope", "--no-progress"]) == 1
    assert "budget_closure" in capsys.readouterr().err  # the valid analyses are named


def test_documented_parameter_examples_exist(project_root):
    """Every `-p NAME KEY=VALUE` shown in the README, the book pages and the CLI help names a real
    analysis and a declared parameter of the right type (documentation cannot drift)."""
    import re

    from landcarbon.publish import parameters as P
    from landcarbon.publish.cli import build_parser
    from landcarbon.publish.pipeline import load_analyses

    analyses = load_analyses(project_root)
    texts = {"README.md": (project_root / "README.md").read_text()}
    texts.update({str(p.relative_to(project_root)): p.read_text() for p in (project_root / "book").glob("*.md")})
    texts["cli help"] = build_parser().format_help() + (__import__("landcarbon.publish.cli").publish.cli.__doc__ or "")
    for sub in ("run", "report"):
        texts[f"cli {sub} help"] = next(a for a in build_parser()._subparsers._group_actions[0].choices.items()
                                        if a[0] == sub)[1].format_help()
    found = 0
    for where, text in texts.items():
        for name, kv in re.findall(r"-p\s+([a-z_]+)\s+([A-Za-z_][A-Za-z0-9_]*=[^\s`)\"']+)", text):
            found += 1
            assert name in analyses, f"{where}: -p {name} {kv}: no such analysis"
            nb = project_root / "notebooks" / analyses[name].notebook
            P.check_overrides(name, nb, {kv.split("=")[0]: P.RawValue(kv.split("=", 1)[1])}, origin=where)
    assert found >= 3
