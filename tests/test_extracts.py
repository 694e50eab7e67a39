"""Real-data extracts shipped in the package: present, checksummed, regenerable byte for byte from the raw
files, and read into the same numbers as the raw files."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from landcarbon.data import EMBEDDED_DIR, build_extract, load_manifest, open_dataset, resolve_extract, resolve_files
from landcarbon.publish.atomic import sha256_file

WITH_EXTRACT = sorted(k for k, d in load_manifest().items() if d.extract is not None)


def test_every_extract_is_listed_with_a_checksum():
    for ds_id in WITH_EXTRACT:
        for spec in load_manifest()[ds_id].extract.files:
            assert spec.sha256, f"{ds_id}: extract file {spec.name} has no sha256 in data_manifest.yaml"
            assert (EMBEDDED_DIR / spec.name).is_file(), f"{ds_id}: {spec.name} is not shipped"
            assert sha256_file(EMBEDDED_DIR / spec.name) == spec.sha256


def test_total_extract_size_is_compact():
    total = sum((EMBEDDED_DIR / f.name).stat().st_size for k in WITH_EXTRACT for f in load_manifest()[k].extract.files)
    assert total < 3 * 2**20, f"embedded real-data extracts take {total / 2**20:.2f} MiB (target < 3 MiB)"


def _raw_available(ds_id: str) -> bool:
    res = resolve_files(ds_id, check=False)
    return res.complete and bool(res.paths)


@pytest.mark.realdata
@pytest.mark.parametrize("ds_id", WITH_EXTRACT)
def test_extract_regenerates_byte_for_byte(ds_id, tmp_path):
    if not _raw_available(ds_id):
        pytest.skip(f"raw files of {ds_id} not on LANDCARBON_DATA_PATH")
    written = {p.relative_to(tmp_path).as_posix(): p for p in build_extract(ds_id, tmp_path)}
    for spec in load_manifest()[ds_id].extract.files:
        assert spec.name in written, f"{ds_id}: builder did not write {spec.name}"
        assert sha256_file(written[spec.name]) == spec.sha256, (
            f"{ds_id}: regenerated {spec.name} differs from the shipped extract; "
            f"run LANDCARBON_DATA_PATH=../shared/data python tools/make_extracts.py {ds_id} and update the manifest")


@pytest.mark.realdata
@pytest.mark.parametrize("ds_id", WITH_EXTRACT)
def test_extract_gives_the_same_numbers_as_the_raw_files(ds_id, monkeypatch):
    if not _raw_available(ds_id):
        pytest.skip(f"raw files of {ds_id} not on LANDCARBON_DATA_PATH")
    raw = open_dataset(ds_id, source="real")
    assert raw.attrs["origin"] == "raw files"
    monkeypatch.setenv("LANDCARBON_DATA_PATH", "")
    monkeypatch.setenv("LANDCARBON_CACHE", "/nonexistent-landcarbon-cache")
    ext = open_dataset(ds_id, source="real")
    assert ext.attrs["origin"].startswith("embedded extract")
    assert resolve_extract(ds_id)
    for name in ext.data_vars:
        assert name in raw, f"{ds_id}: extract variable {name} not produced by the raw loader"
        b = ext[name]
        # an extract may keep a subset (years, sites): compare on its coordinates
        a = raw[name].sel({d: ext[d] for d in b.dims if d in ext.coords})
        if np.issubdtype(b.dtype, np.number):
            xr.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        else:
            xr.testing.assert_equal(a, b)
        assert a.attrs.get("units") == b.attrs.get("units"), f"{ds_id}.{name}: units differ"
