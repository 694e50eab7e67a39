"""Shared pytest fixtures.

Real-data tests look for the shared data folder through LANDCARBON_DATA_PATH (set by .ci/run to
../shared/data) and skip with a clear reason when it is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path | None:
    for entry in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "DE-Tha" / "Example_DETha98.txt").is_file():
            return Path(entry)
    return None


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder holding DE-Tha/ (real flux data + REddyProc reference); skips when absent."""
    p = _find_shared_data()
    if p is None:
        pytest.skip("real data not available: set LANDCARBON_DATA_PATH to a folder containing "
                    "DE-Tha/Example_DETha98.txt (e.g. ../shared/data, as .ci/run does)")
    return p


@pytest.fixture(scope="session")
def detha_txt(shared_data) -> Path:
    return shared_data / "DE-Tha" / "Example_DETha98.txt"


@pytest.fixture(scope="session")
def detha_reference_dir(shared_data) -> Path:
    return shared_data / "DE-Tha" / "reference-REddyProc-1.3.3"
