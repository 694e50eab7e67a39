"""Pipeline: registry validation, ordering, cache hit, failure leaves previous outputs intact, provenance."""
from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

from landcarbon.publish import pipeline
from landcarbon.errors import PipelineError

MANIFEST = """version: 1
datasets:
  - id: tiny
    title: tiny test dataset
    variables: [x]
    files: [{name: tiny/x.txt}]
    access: made by the test
    license: CC0
    citation: none
    loader: landcarbon.data.manifest:load_manifest
    demo: null
"""


def _notebook(body: str, params: str = "results_dir = None\ndata_source = 'auto'\nprofile = 'quick'\nsleep = 0.0\nfail = False") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), p, nbformat.v4.new_code_cell(body)]
    return nb


BODY_A = """
import time
from landcarbon.publish.notebook import prepare
from landcarbon.publish.reporting import write_summary, Indicator
out = prepare("alpha", results_dir)
time.sleep(sleep)
(out / "data.txt").write_text("alpha-" + str(sleep))
if fail:
    raise ValueError("deliberate failure for the test")
write_summary("alpha", "demo:test@0", {"x": Indicator(1.5, "PgC yr-1", "x value", 0.1)}, out_dir=out)
"""

BODY_B = """
from landcarbon.publish.notebook import prepare
from landcarbon.publish.reporting import write_summary, read_summary, Indicator
out = prepare("beta", results_dir)
up = read_summary("alpha")
write_summary("beta", up["data_source"], {"y": Indicator(up["indicators"]["x"]["value"] * 2, "PgC yr-1", "y")}, out_dir=out)
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    # the cache key hashes <root>/lib/landcarbon: give the test project its own (stable) source tree
    (root / "lib" / "landcarbon").mkdir(parents=True)
    (root / "lib" / "landcarbon" / "stub_source.py").write_text("VALUE = 1\n")
    (root / "data_manifest.yaml").write_text(MANIFEST)
    nbformat.write(_notebook(BODY_A), root / "notebooks" / "01_alpha.ipynb")
    nbformat.write(_notebook(BODY_B, "results_dir = None\ndata_source = 'auto'\nprofile = 'quick'"),
                   root / "notebooks" / "02_beta.ipynb")
    (root / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n"
        "  - name: beta\n    notebook: 02_beta.ipynb\n    title: Beta\n    depends_on: [alpha]\n"
        "  - name: alpha\n    notebook: 01_alpha.ipynb\n    title: Alpha\n"
        "    profiles:\n      quick: {sleep: 2.0}\n      full: {sleep: 0.1}\n")
    monkeypatch.setenv("LANDCARBON_ROOT", str(root))
    monkeypatch.delenv("LANDCARBON_RESULTS", raising=False)
    return root


def test_registry_order_and_validation(project):
    analyses = pipeline.load_analyses(project)
    assert list(analyses) == ["alpha", "beta"]  # dependency first, whatever the file order
    (project / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: a\n    notebook: missing.ipynb\n    title: A\n")
    with pytest.raises(PipelineError, match="missing.ipynb.*not found"):
        pipeline.run(progress=False)
    (project / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: a\n    notebook: 01_alpha.ipynb\n    title: A\n    depends_on: [b]\n"
        "  - name: b\n    notebook: 02_beta.ipynb\n    title: B\n    depends_on: [a]\n")
    with pytest.raises(PipelineError, match="cycle"):
        pipeline.load_analyses(project)


def test_overrides_parsing():
    assert pipeline.parse_overrides([("a", "n=5"), ("a", "x=0.5"), ("b", "name=foo")]) == \
        {"a": {"n": 5, "x": 0.5}, "b": {"name": "foo"}}
    with pytest.raises(PipelineError, match="KEY=VALUE"):
        pipeline.parse_overrides([("a", "novalue")])


def test_run_cache_and_provenance(project):
    t0 = time.perf_counter()
    recs = pipeline.run(progress=False)
    first = time.perf_counter() - t0
    assert [r.status for r in recs] == ["executed", "executed"]
    summary = json.loads((project / "results" / "beta" / "summary.json").read_text())
    assert summary["indicators"]["y"]["value"] == pytest.approx(3.0)
    prov = json.loads((project / "results" / "alpha" / "provenance.json").read_text())
    assert prov["parameters"]["sleep"] == 2.0 and prov["profile"] == "quick"
    assert "numpy" in prov["packages"] and prov["inputs"]["notebook_sha256"]
    assert (project / "book" / "analyses" / "01_alpha.ipynb").is_file()
    assert (project / ".landcarbon" / "logs" / "alpha.log").is_file()

    t0 = time.perf_counter()
    recs = pipeline.run(progress=False)
    second = time.perf_counter() - t0
    assert [r.status for r in recs] == ["cached", "cached"]
    assert second < first / 5, (first, second)

    # a parameter change reruns alpha; beta stays cached because alpha's summary did not change
    recs = pipeline.run(overrides={"alpha": {"sleep": 0.0}}, progress=False)
    assert [r.status for r in recs] == ["executed", "cached"]
    # a library change invalidates everything
    (project / "lib" / "landcarbon" / "stub_source.py").write_text("VALUE = 2\n")
    recs = pipeline.run(overrides={"alpha": {"sleep": 0.0}}, progress=False)
    assert [r.status for r in recs] == ["executed", "executed"]


def test_failing_notebook_leaves_previous_outputs_intact(project):
    pipeline.run(["alpha"], progress=False)
    executed = project / "book" / "analyses" / "01_alpha.ipynb"
    before_nb = executed.read_bytes()
    before_res = (project / "results" / "alpha" / "data.txt").read_text()
    with pytest.raises(PipelineError) as err:
        pipeline.run(["alpha"], overrides={"alpha": {"fail": True, "sleep": 0.0}}, progress=False)
    msg = str(err.value)
    assert "01_alpha.ipynb" in msg and "cell" in msg and "deliberate failure" in msg and "ValueError" in msg
    assert executed.read_bytes() == before_nb
    assert (project / "results" / "alpha" / "data.txt").read_text() == before_res
    assert (project / "results" / "alpha" / "summary.json").is_file()
    assert not list((project / "book" / "analyses").glob(".*running*"))
    assert not list((project / "results").glob(".alpha*"))
    assert (project / ".landcarbon" / "failed" / "01_alpha.ipynb").is_file()


def test_unknown_analysis_and_profile(project):
    with pytest.raises(PipelineError, match="unknown analysis"):
        pipeline.run(["nope"], progress=False)
    with pytest.raises(PipelineError, match="unknown profile"):
        pipeline.run(["alpha"], profile="huge", progress=False)


def test_real_registry_is_valid(project_root, monkeypatch):
    monkeypatch.delenv("LANDCARBON_ROOT", raising=False)
    analyses = pipeline.load_analyses(project_root)
    assert set(analyses) >= {"flux_partitioning", "er_upscaling", "er_trends", "nested_inversion", "budget_closure"}
    for a in analyses.values():
        nb = nbformat.read(project_root / "notebooks" / a.notebook, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert tagged and tagged[0] is next(c for c in nb.cells if c.cell_type == "code"), a.notebook
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{a.notebook} has outputs"
        for key in ("results_dir", "data_source", "profile"):
            assert key in tagged[0].source, f"{a.notebook}: parameter {key} missing"


BODY_DASK = """
from landcarbon.publish.notebook import prepare
from landcarbon.publish.reporting import write_summary, Indicator
out = prepare("alpha", results_dir)
from distributed import default_client
import dask.array as da
client = default_client()  # raises ValueError when prepare() did not connect
total = float(da.ones((100, 100), chunks=50).sum().compute())
write_summary("alpha", "demo:test@0", {"x": Indicator(total, "1", "sum computed on the cluster")}, out_dir=out,
              extra={"scheduler": client.scheduler.address})
"""


def test_run_on_a_dask_scheduler(project):
    distributed = pytest.importorskip("distributed")
    nbformat.write(_notebook(BODY_DASK), project / "notebooks" / "01_alpha.ipynb")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        pipeline.run(["alpha"], scheduler=cluster.scheduler_address, progress=False)
        doc = json.loads((project / "results" / "alpha" / "summary.json").read_text())
    assert doc["indicators"]["x"]["value"] == 10000.0
    assert doc["scheduler"] == cluster.scheduler_address
    assert "LANDCARBON_DASK_SCHEDULER" not in __import__("os").environ  # restored after the run
