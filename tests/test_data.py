"""Data manifest and resolver: schema errors name entry and field, sha256 mismatch is refused with both
hashes, missing files fall back to the demo generator loudly, real files win when present."""
from __future__ import annotations

import hashlib
import textwrap
import warnings

import numpy as np
import pytest
import xarray as xr

from landcarbon import data
from landcarbon.data import DemoDataWarning, load_manifest, open_dataset
from landcarbon.data.manifest import resolve_callable
from landcarbon.errors import ChecksumError, DataError, ManifestError


def tiny_loader(paths, scale=1.0):
    """Test loader: one number per line -> Dataset."""
    vals = np.loadtxt(paths[0], ndmin=1) * scale
    return xr.Dataset({"x": ("i", vals, {"units": "1"})})


def tiny_demo(seed, n=4):
    rng = np.random.default_rng(seed)
    return xr.Dataset({"x": ("i", rng.normal(size=n), {"units": "1"})})


ENTRY = """\
version: 1
datasets:
  - id: tiny
    title: tiny test dataset
    variables: [x]
    files:
      - name: tiny/values.txt
        sha256: {sha}
    access: Made by the test suite.
    license: CC0
    citation: none
    loader: test_data:tiny_loader
    loader_args: {{scale: 2.0}}
    demo: test_data:tiny_demo
    demo_args: {{n: 3}}
    demo_seed: 7
"""


@pytest.fixture()
def env(tmp_path, monkeypatch):
    """A manifest + a data folder with one real file; LANDCARBON_DATA_PATH points at it."""
    datadir = tmp_path / "data"
    (datadir / "tiny").mkdir(parents=True)
    content = b"1\n2\n3\n"
    (datadir / "tiny" / "values.txt").write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    manifest = tmp_path / "data_manifest.yaml"
    manifest.write_text(ENTRY.format(sha=sha))
    monkeypatch.setenv("LANDCARBON_MANIFEST", str(manifest))
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(datadir))
    monkeypatch.setenv("LANDCARBON_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))
    # the manifest may name only landcarbon functions; this test module is allow-listed explicitly
    monkeypatch.setattr("landcarbon.data.manifest.EXTRA_CALLABLE_MODULES", {"test_data"})
    return {"datadir": datadir, "manifest": manifest, "sha": sha}


def test_real_file_is_used_and_announced(env):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemoDataWarning)  # no demo warning when real data exist
        ds = open_dataset("tiny")
    assert ds.attrs["source"] == f"real:{env['sha']}"
    np.testing.assert_allclose(ds["x"].values, [2, 4, 6])  # loader_args applied
    assert ds.attrs["dataset_id"] == "tiny"


def test_missing_file_falls_back_to_demo_loudly(env, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path / "empty"))
    with pytest.warns(DemoDataWarning, match="DEMO digital twin"):
        ds = open_dataset("tiny")
    assert ds.attrs["source"] == "demo:test_data:tiny_demo@7"
    assert ds.sizes["i"] == 3
    again = open_dataset("tiny", source="demo")
    xr.testing.assert_identical(ds, again)  # deterministic
    other = open_dataset("tiny", source="demo", seed=8)
    assert other.attrs["source"].endswith("@8") and not np.allclose(other["x"], ds["x"])
    with pytest.raises(DataError, match="real data for 'tiny' not found.*Made by the test suite"):
        open_dataset("tiny", source="real")


def test_sha_mismatch_is_refused_naming_both_hashes(env):
    path = env["datadir"] / "tiny" / "values.txt"
    path.write_bytes(b"1\n2\n4\n")  # tampered
    bad = hashlib.sha256(b"1\n2\n4\n").hexdigest()
    with pytest.raises(ChecksumError) as err:
        open_dataset("tiny")
    msg = str(err.value)
    assert env["sha"] in msg and bad in msg and str(path) in msg and "Fix:" in msg
    rows = data.verify("tiny")
    assert rows[0]["status"].startswith("MISMATCH")


def test_verify_and_where(env):
    rows = data.verify("tiny")
    assert rows == [{"id": "tiny", "file": "tiny/values.txt", "status": "ok",
                     "path": str(env["datadir"] / "tiny" / "values.txt")}]
    info = data.where("tiny")
    assert info["found"] and not info["missing"] and info["demo"] == "test_data:tiny_demo"


def test_unknown_id(env):
    with pytest.raises(ManifestError, match="unknown dataset id 'tinyy'"):
        open_dataset("tinyy")


@pytest.mark.parametrize("mutation, expect", [
    (lambda s: s.replace("    license: CC0\n", ""), r"dataset 'tiny'.*'license'"),
    (lambda s: s.replace("loader: test_data:tiny_loader", "loader: not a callable"), r"dataset 'tiny'.*'loader'"),
    (lambda s: s.replace("sha256: ", "sha256: zz"), r"dataset 'tiny'.*files.0.sha256"),
    (lambda s: s.replace("    demo_seed: 7\n", "    demo_seed: 7\n    colour: red\n"), r"dataset 'tiny'.*unknown field"),
    (lambda s: s.replace("version: 1", "version: 2"), r"version"),
    (lambda s: s + "  - id: tiny\n" + s.split("  - id: tiny\n")[1], r"duplicate dataset id 'tiny'"),
    (lambda s: s.replace("variables: [x]", "variables: [x"), r"not valid YAML.*line"),
])
def test_manifest_errors_name_entry_and_field(env, mutation, expect):
    env["manifest"].write_text(mutation(env["manifest"].read_text()))
    with pytest.raises(ManifestError, match=expect):
        load_manifest()


def test_bad_callable_is_reported():
    with pytest.raises(ManifestError, match="no function 'nope'"):
        resolve_callable("landcarbon.units:nope", where="x")
    with pytest.raises(ManifestError, match="cannot import module"):
        resolve_callable("landcarbon." + "nonexistent_module:f", where="x")


# ------------------------------------------------------------------ the project's real manifest
def test_project_manifest_is_valid_and_complete(project_root, monkeypatch):
    monkeypatch.delenv("LANDCARBON_MANIFEST", raising=False)
    manifest = load_manifest(project_root / "data_manifest.yaml")
    needed = {"de-tha-1998", "de-tha-1998-reddyproc", "fluxnet2015-halfhourly", "fluxnet2015-monthly",
              "cru-ts-4.04", "era5-monthly", "obspack-co2", "contrail-co2", "xco2-gosat-oco2",
              "china-budget-jiang2016", "map-outlines"}
    assert needed <= set(manifest)
    for ds in manifest.values():
        assert ds.loader_function() is not None  # every loader exists
        if ds.demo:
            assert ds.demo_function() is not None
        for f in ds.files:
            if f.name and not f.pattern and not ds.embedded and ds.id.startswith("de-tha"):
                assert f.sha256, f"{ds.id}: fixed file {f.name} needs a sha256"


def test_embedded_files_match_their_checksums(project_root, monkeypatch):
    monkeypatch.delenv("LANDCARBON_MANIFEST", raising=False)
    monkeypatch.chdir(project_root)
    for ds in load_manifest(project_root / "data_manifest.yaml").values():
        if ds.embedded:
            res = data.resolve_files(ds.id)  # raises ChecksumError on mismatch
            assert res.complete, f"embedded dataset {ds.id} lacks {[m.label for m in res.missing]}"


def test_shared_real_data_verify(shared_data, project_root, monkeypatch):
    monkeypatch.delenv("LANDCARBON_MANIFEST", raising=False)
    monkeypatch.chdir(project_root)
    rows = [r for r in data.verify() if r["id"].startswith("de-tha")]
    assert rows and all(r["status"] == "ok" for r in rows), rows


def tiny_extract_builder(raw_paths, out_dir):
    """Test builder: keep the first two values of the raw file."""
    out = out_dir / "tiny" / "extract.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(raw_paths[0].read_text().split()[:2]) + "\n")
    return [out]


def test_embedded_extract_stands_in_for_missing_raw_files(env, monkeypatch, tmp_path):
    """Raw files win; without them the shipped extract (real data) is used, never the demo; a tampered
    extract is refused; build_extract regenerates it from the raw files."""
    embedded = tmp_path / "embedded"
    monkeypatch.setattr(data, "EMBEDDED_DIR", embedded)
    with pytest.raises(ManifestError, match="no 'extract' entry"):
        data.build_extract("tiny", embedded)
    sha_ex = hashlib.sha256(b"1\n2\n").hexdigest()
    text = env["manifest"].read_text() + (
        "    extract:\n"
        "      files: [{name: tiny/extract.txt, sha256: %s}]\n"
        "      builder: test_data:tiny_extract_builder\n"
        "      loader: test_data:tiny_loader\n"
        "      loader_args: {scale: 2.0}\n" % sha_ex)
    env["manifest"].write_text(text)
    paths = data.build_extract("tiny")
    assert paths == [embedded / "tiny" / "extract.txt"] and paths[0].read_bytes() == b"1\n2\n"
    assert open_dataset("tiny").attrs["origin"] == "raw files"
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path / "empty"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemoDataWarning)
        ds = open_dataset("tiny", source="real")
    assert ds.attrs["origin"].startswith("embedded extract") and ds.attrs["source"] == f"real:{sha_ex}"
    np.testing.assert_allclose(ds["x"].values, [2, 4])
    paths[0].write_bytes(b"1\n3\n")
    with pytest.raises(ChecksumError, match=sha_ex):
        open_dataset("tiny")
    with pytest.raises(DataError, match="raw files of 'tiny' not found"):
        data.build_extract("tiny", tmp_path / "x")
