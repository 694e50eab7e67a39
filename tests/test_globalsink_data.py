"""Data plumbing of the global-sink datasets and the manifest hardening of issue 17 item 7: pinned URLs with
sha256, `data fetch` saying why a download failed, unhashed downloads refused, relative file names only,
loaders/demos/builders restricted to the landcarbon package."""
from __future__ import annotations

import hashlib
import re
import sys
import textwrap

import pytest

from landcarbon import data
from landcarbon.data import load_manifest
from landcarbon.data.manifest import resolve_callable
from landcarbon.errors import ChecksumError, DataError, ManifestError
from landcarbon.publish import cli

GLOBALSINK_IDS = ["gcb-2025", "gcb-2023", "cdiac-fossil-national", "noaa-co2-annmean-gl", "noaa-co2-annmean-mlo",
                  "noaa-co2-gr-gl", "noaa-co2-mm-gl", "noaa-co2-mm-mlo", "scripps-co2-daily-mlo", "noaa-co2-flask-cgo",
                  "noaa-co2-flask-mhd", "oni"]


@pytest.fixture()
def project_manifest(project_root, monkeypatch):
    monkeypatch.delenv("LANDCARBON_MANIFEST", raising=False)
    monkeypatch.chdir(project_root)
    return load_manifest(project_root / "data_manifest.yaml")


def test_every_entry_is_pinned_hashed_licensed_and_cited(project_manifest):
    for ds_id in GLOBALSINK_IDS:
        ds = project_manifest[ds_id]
        assert ds.license and ds.citation and ds.source, ds_id
        assert ds.loader.startswith("landcarbon.globalsink.io:"), ds_id
        for f in ds.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256 or ""), (ds_id, f.name)
            # raw.githubusercontent.com at a full 40-hex commit, never a branch name
            assert re.fullmatch(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+", f.url or ""), f.url
        if ds.extract:
            assert all(e.sha256 for e in ds.extract.files)
    # the chapter's datasets ship as extracts, so a fresh clone reports on observations
    for ds_id in ("gcb-2025", "gcb-2023", "noaa-co2-gr-gl", "noaa-co2-annmean-gl", "oni"):
        assert project_manifest[ds_id].extract is not None


def test_fresh_clone_reads_the_extracts(project_manifest, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path / "nothing"))
    monkeypatch.setenv("LANDCARBON_CACHE", str(tmp_path / "cache"))
    for ds_id in ("gcb-2025", "noaa-co2-gr-gl", "oni"):
        ds = data.open_dataset(ds_id, source="real")
        assert ds.attrs["origin"].startswith("embedded extract") and ds.attrs["source"].startswith("real:")
    assert data.open_dataset("gcb-2025", source="demo").attrs["source"].startswith("demo:")


@pytest.mark.realdata
def test_shared_files_match_the_manifest(project_manifest, monkeypatch):
    rows = [r for r in data.verify() if r["id"] in GLOBALSINK_IDS]
    if all(r["status"] == "missing" for r in rows):
        pytest.skip("../shared/data not on LANDCARBON_DATA_PATH")
    assert rows and all(r["status"] == "ok" for r in rows), rows


# ---------------------------------------------------------------------------- manifest hardening (item 7)
ENTRY = """\
version: 1
datasets:
  - id: tiny
    title: tiny test dataset
    variables: [x]
    files:
      - name: {name}
        sha256: {sha}
        url: {url}
    access: Made by the test suite.
    license: CC0
    citation: none
    loader: {loader}
    demo: null
"""


@pytest.fixture()
def tiny(tmp_path, monkeypatch):
    def make(name="tiny/values.txt", sha="null", url="https://example.invalid/values.txt",
             loader="landcarbon.globalsink.io:read_oni"):
        p = tmp_path / "data_manifest.yaml"
        p.write_text(ENTRY.format(name=name, sha=sha, url=url, loader=loader))
        monkeypatch.setenv("LANDCARBON_MANIFEST", str(p))
        monkeypatch.setenv("LANDCARBON_DATA_PATH", str(tmp_path / "data"))
        monkeypatch.setenv("LANDCARBON_CACHE", str(tmp_path / "cache"))
        return p
    return make


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.txt", "a/../../b.txt", "~/.ssh/id_rsa", "C:/x.txt",
                                  "a\\..\\b.txt"])
def test_file_names_must_be_relative(tiny, name):
    tiny(name=f"'{name}'")
    with pytest.raises(ManifestError, match=r"must be a relative path.*files\.0"):
        load_manifest()


def test_extract_file_names_must_be_relative(tiny):
    p = tiny()
    p.write_text(p.read_text() + textwrap.indent(textwrap.dedent("""\
        extract:
          files: [{name: ../../etc/passwd, sha256: null}]
          builder: landcarbon.globalsink.io:build_oni_extract
          loader: landcarbon.globalsink.io:read_extract_csv
    """), "    "))
    with pytest.raises(ManifestError, match=r"extract\.files\.0"):
        load_manifest()


def test_callables_outside_landcarbon_are_refused_before_import(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_loader_mod.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef run(p): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for spec in ("subprocess:check_call", "os:system", "evil_loader_mod:run"):
        with pytest.raises(ManifestError, match="outside the landcarbon package"):
            resolve_callable(spec, where="test")
    assert not marker.exists() and "evil_loader_mod" not in sys.modules
    # a foreign function re-exported by a landcarbon module is refused too
    with pytest.raises(ManifestError, match="not defined in landcarbon"):
        resolve_callable("landcarbon.data.manifest:dataclass", where="test")
    assert resolve_callable("landcarbon.globalsink.io:read_oni", where="test").__name__ == "read_oni"
    # explicit allow-list for tests
    monkeypatch.setattr("landcarbon.data.manifest.EXTRA_CALLABLE_MODULES", {"evil_loader_mod"})
    assert callable(resolve_callable("evil_loader_mod:run", where="test"))


def test_manifest_loader_field_outside_landcarbon(tiny):
    tiny(loader="subprocess:check_call", sha="'" + "0" * 64 + "'")
    with pytest.raises(ManifestError, match="outside the landcarbon package"):
        load_manifest()["tiny"].loader_function()


def test_unhashed_download_is_refused_unless_allowed(tiny, monkeypatch, tmp_path):
    tiny()
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append((url, known_hash))
        path.mkdir(parents=True, exist_ok=True)
        (path / fname).write_text("1\n")
        return str(path / fname)

    monkeypatch.setattr("pooch.retrieve", fake_retrieve)
    with pytest.raises(DataError, match=r"without a sha256.*Fix: add the sha256.*--allow-unhashed"):
        data.fetch("tiny")
    assert calls == []
    res = data.fetch("tiny", allow_unhashed=True)
    assert calls == [("https://example.invalid/values.txt", None)] and res.complete


def test_offline_fetch_says_the_download_failed_and_why(tiny, monkeypatch, capsys):
    sha = hashlib.sha256(b"1\n").hexdigest()
    tiny(sha=sha)

    def offline(**kw):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr("pooch.retrieve", lambda *a, **kw: offline())
    with pytest.raises(DataError) as info:
        data.fetch("tiny")
    msg = str(info.value)
    assert "https://example.invalid/values.txt" in msg and "ConnectionError: Name or service not known" in msg
    assert "network" in msg and "not downloadable" not in msg
    assert cli.main(["data", "fetch", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "could not fetch" in err and "ConnectionError" in err and "not downloadable" not in err


def test_fetch_refuses_a_download_with_the_wrong_hash(tiny, monkeypatch):
    tiny(sha="'" + "0" * 64 + "'")

    def bad(*a, **kw):
        raise ValueError("SHA256 hash of downloaded file does not match the known hash")

    monkeypatch.setattr("pooch.retrieve", bad)
    with pytest.raises(ChecksumError, match="does not match its sha256"):
        data.fetch("tiny")


def test_fetch_of_a_present_file_verifies_it(project_manifest, monkeypatch, tmp_path):
    """`landcarbon data fetch` of files already on LANDCARBON_DATA_PATH checks them and downloads nothing."""
    rows = [r for r in data.verify("oni")]
    if rows[0]["status"] != "ok":
        pytest.skip("oni.csv not on LANDCARBON_DATA_PATH")
    monkeypatch.setattr("pooch.retrieve", lambda *a, **kw: pytest.fail("must not download"))
    res = data.fetch("oni")
    assert res.complete and res.origin[str(res.paths[0])] == "data-path"


def test_chapter_notebook_follows_the_conventions(project_root):
    """Parameters cell first (results_dir, data_source, profile), no code cell over 25 lines, no function,
    committed without outputs, plumbing hidden, ends with write_summary; declared in analyses.yaml and first
    in the book's Analyses part."""
    import ast

    import nbformat
    import yaml

    nb = nbformat.read(project_root / "notebooks" / "00_global_land_sink.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    params = {t.id for n in ast.parse(code[0].source).body if isinstance(n, ast.Assign) for t in n.targets}
    assert {"results_dir", "data_source", "profile"} <= params
    for c in code:
        assert len(c.source.splitlines()) <= 25
        assert not c.get("outputs") and c.get("execution_count") is None
        assert not [n for n in ast.walk(ast.parse(c.source)) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
        assert set(c.metadata.get("tags", [])) & {"remove-input", "remove-cell", "hide-input"}
    assert "write_summary(" in code[-1].source and "remove-cell" in code[-1].metadata["tags"]
    assert nb.cells[0].source.startswith("# The global land sink, 1959–2024")
    reg = yaml.safe_load((project_root / "notebooks" / "analyses.yaml").read_text())["analyses"]
    entry = next(a for a in reg if a["name"] == "global_land_sink")
    assert entry["notebook"] == "00_global_land_sink.ipynb" and set(entry["profiles"]) == {"quick", "full"}
    toc = yaml.safe_load((project_root / "book" / "_toc.yml").read_text())
    part = next(p for p in toc["parts"] if p["caption"] == "Analyses")
    assert part["chapters"][0]["file"] == "analyses/00_global_land_sink"
