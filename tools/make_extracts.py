#!/usr/bin/env python
"""Regenerate the real-data extracts shipped in lib/landcarbon/data/embedded/ from the raw files.

Usage (from the compendium folder)::

    LANDCARBON_DATA_PATH=../shared/data python tools/make_extracts.py            # every dataset with an extract
    LANDCARBON_DATA_PATH=../shared/data python tools/make_extracts.py gcb-2025   # one dataset

Each dataset's ``extract.builder`` (named in data_manifest.yaml) writes the files; this script prints their
sha256 so that the manifest can be updated. tests/test_extracts.py regenerates every extract into a
temporary folder and asserts byte equality with the shipped files, so an extract can never drift from
the raw data or from its builder.
"""
from __future__ import annotations

import sys

from landcarbon.data import build_extract, load_manifest
from landcarbon.publish.atomic import sha256_file


def main(argv: list[str]) -> int:
    manifest = load_manifest()
    ids = argv or [k for k, d in manifest.items() if d.extract is not None]
    for ds_id in ids:
        for p in build_extract(ds_id):
            print(f"{ds_id:28s} {sha256_file(p)}  {p.name}  ({p.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
