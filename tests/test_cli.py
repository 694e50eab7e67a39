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
