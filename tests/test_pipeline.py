"""Pipeline: registry, parameter validation, staging, cache (inputs and outputs), provenance, failures.

Every test runs tiny throwaway notebooks in a temporary compendium root (``project`` fixture), so the
whole file takes well under a minute. Signals, kills and the run lock are in test_pipeline_signals.py.
"""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import nbformat
import pytest

from landcarbon.errors import PipelineError
from landcarbon.publish import parameters as P
from landcarbon.publish import pipeline

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

PARAMS_A = ("results_dir = None\ndata_source = 'auto'\nprofile = 'quick'\nsleep = 0.0\nfail = False\n"
            "note = ''          # does not change any output\nhold = ''          # test hook: write pid here, then sleep\n"
            "check_dataset = '' # resolve this manifest dataset inside the notebook and swallow its errors\n")


def _notebook(body: str, params: str = PARAMS_A) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), p, nbformat.v4.new_code_cell(body)]
    return nb


BODY_A = """
import os, time
from pathlib import Path
from landcarbon.publish.notebook import prepare
from landcarbon.publish.reporting import write_summary, Indicator
out = prepare("alpha", results_dir, seed_style=False)  # no matplotlib: keeps the test fast
if hold:
    Path(hold).write_text(str(os.getpid()))
time.sleep(sleep)
if check_dataset:
    from landcarbon.data import resolve_files
    try:
        resolve_files(check_dataset)
    except Exception as exc:  # a notebook that carries on after a refused file
        print("carrying on without", check_dataset, type(exc).__name__)
(out / "data.txt").write_text("alpha-" + str(sleep))
if fail:
    raise ValueError("deliberate failure for the test")
write_summary("alpha", "demo:test@0", {"x": Indicator(1.5, "PgC yr-1", "x value", 0.1)}, out_dir=out)
"""

BODY_B = """
from landcarbon.publish.notebook import prepare
from landcarbon.publish.reporting import write_summary, read_summary, Indicator
out = prepare("beta", results_dir, seed_style=False)
up = read_summary("alpha")
from landcarbon.publish.paths import results_dir as pipeline_results
extra = (pipeline_results("alpha") / "data.txt").read_text()  # an upstream output file, like er_annual.nc
write_summary("beta", up["data_source"], {"y": Indicator(up["indicators"]["x"]["value"] * 2, "PgC yr-1", extra)}, out_dir=out)
"""


def make_project(root: Path) -> Path:
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
        "    profiles:\n      quick: {sleep: 0.3}\n      full: {sleep: 0.1}\n")
    return root


@pytest.fixture()
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("LANDCARBON_ROOT", str(root))
    monkeypatch.delenv("LANDCARBON_RESULTS", raising=False)
    monkeypatch.delenv("LANDCARBON_DATA_PATH", raising=False)
    return root


def snapshot(root: Path) -> dict:
    """Every file and folder of results/ and book/analyses/ with its bytes' hash and mode."""
    out = {}
    for top in ("results", "book/analyses"):
        base = root / top
        for p in sorted(base.rglob("*")) if base.is_dir() else []:
            rel = p.relative_to(root).as_posix()
            mode = stat.S_IMODE(p.stat().st_mode)
            out[rel] = ("dir", mode) if p.is_dir() else (pipeline.sha256_file(p), mode)
    return out


# ---------------------------------------------------------------------------------------------
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
    (project / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: _interactive\n    notebook: 01_alpha.ipynb\n    title: A\n")
    with pytest.raises(PipelineError, match="identifier not starting with '_'"):
        pipeline.load_analyses(project)


def test_override_syntax_and_injection_key():
    got = pipeline.parse_overrides([("a", "n=5"), ("a", "x=0.5"), ("b", "name=foo")])
    assert got == {"a": {"n": "5", "x": "0.5"}, "b": {"name": "foo"}}
    assert all(isinstance(v, P.RawValue) for d in got.values() for v in d.values())
    with pytest.raises(PipelineError, match="KEY=VALUE"):
        pipeline.parse_overrides([("a", "novalue")])
    with pytest.raises(PipelineError, match="not a Python identifier"):
        pipeline.parse_overrides([("budget_closure", 'import os;os.system("touch pwned");n_mc=1000')])


def test_parameters_cell_is_parsed_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = _notebook("pass", "import os\nx = os.system('touch pwned')\nn = 3\nname = 'a'  # comment\n"
                           "flag: bool = True\nitems = [1, 2.5]\nnothing = None\n")
    d = P.declared_parameters(nb)
    assert not (tmp_path / "pwned").exists()
    assert set(d) == {"x", "n", "name", "flag", "items", "nothing"}
    assert not d["x"].literal and d["n"].default == 3 and d["flag"].default is True
    with pytest.raises(PipelineError, match="no code cell tagged 'parameters'"):
        P.declared_parameters(nbformat.v4.new_notebook())


@pytest.mark.parametrize("declared, text, expected", [
    ("n = 200_000", "1e6", 1_000_000),         # an integral float is accepted for an int
    ("n = 200_000", "50000", 50_000),
    ("x = 0.5", "3", 3.0),                     # an int for a float
    ("flag = True", "false", False),
    ("flag = True", "False", False),
    ("site = 'demo:S1'", "de-tha-1998", "de-tha-1998"),  # bare word for a string
    ("site = 'demo:S1'", "'x y'", "x y"),
    ("grid = 'coarse'", "2016", "2016"),       # declared str: the text itself
    ("items = ['S0', 'S1']", "['S3']", ["S3"]),
    ("items = ['S0', 'S1']", "('S3', 'S4')", ["S3", "S4"]),
    ("years = [1989, 2018]", "[1990, 2000]", [1990, 2000]),
    ("xs = [0.5, 1.0]", "[1, 2]", [1.0, 2.0]),
    ("maybe = None", "results/x", "results/x"),
    ("maybe = None", "12", 12),
    ("d = {'a': 1}", "{'b': 2}", {"b": 2}),
])
def test_value_parsing_and_types(declared, text, expected):
    name = declared.split("=")[0].strip()
    d = P.declared_parameters(_notebook("pass", declared))[name]
    got = P.check_value(P.parse_value(text, d), d)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("declared, text, message", [
    ("n = 200_000", "1.5", "expects an integer"),
    ("n = 200_000", "True", "expects an integer"),
    ("n = 200_000", "many", "not a Python literal"),
    ("x = 0.5", "'a'", "expects a number"),
    ("flag = True", "1", "True or False"),
    ("items = ['S0', 'S1']", "S3", "not a Python literal.*give a list literal"),
    ("items = ['S0', 'S1']", "'S3'", "expects a list"),
    ("items = ['S0', 'S1']", "[1, 2]", "list of str"),
    ("years = [1989, 2018]", "[1990.5]", "list of int"),
])
def test_value_type_errors(declared, text, message):
    name = declared.split("=")[0].strip()
    d = P.declared_parameters(_notebook("pass", declared))[name]
    with pytest.raises(Exception, match=message):
        P.check_value(P.parse_value(text, d), d)


def test_injected_code_is_only_literal_assignments():
    code = P.check_injection({"n_mc": 5, "site": 'x"; import os; os.system("touch pwned") #', "xs": [1, float("inf")]})
    assert "n_mc = 5" in code
    assert "touch" not in "".join(line for line in code.splitlines() if not line.startswith("site = "))
    with pytest.raises(PipelineError, match="not plain assignments"):
        P.check_injection({'import os;os.system("touch pwned");n_mc': 1000})


def test_run_refuses_unknown_parameters_and_types_before_running(project):
    with pytest.raises(PipelineError) as err:
        pipeline.run(["alpha"], overrides=pipeline.parse_overrides([("alpha", "n_draws=5")]), progress=False)
    msg = str(err.value)
    assert "has no parameter 'n_draws'" in msg and "sleep" in msg and "fail" in msg and "results_dir" not in msg.split("Fix")[1]
    with pytest.raises(PipelineError, match="expects True or False"):
        pipeline.run(["alpha"], overrides={"alpha": {"fail": P.RawValue("1")}}, progress=False)
    with pytest.raises(PipelineError, match="set by the pipeline"):
        pipeline.run(["alpha"], overrides={"alpha": {"results_dir": "/tmp/x"}}, progress=False)
    with pytest.raises(PipelineError, match="unknown analysis 'nope'.*alpha, beta"):
        pipeline.run(["alpha"], overrides={"nope": {"x": 1}}, progress=False)
    # a profile of analyses.yaml is checked the same way
    (project / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: alpha\n    notebook: 01_alpha.ipynb\n    title: A\n    profiles:\n      quick: {slep: 1}\n")
    with pytest.raises(PipelineError, match="analyses.yaml: alpha, profile quick.*no parameter 'slep'|no parameter 'slep'.*analyses.yaml"):
        pipeline.run(progress=False)
    assert not (project / "results").exists() and not (project / "book").exists()  # nothing ran


def test_run_cache_outputs_and_provenance(project):
    t0 = time.perf_counter()
    recs = pipeline.run(progress=False)
    first = time.perf_counter() - t0
    assert [r.status for r in recs] == ["executed", "executed"]
    summary = json.loads((project / "results" / "beta" / "summary.json").read_text())
    assert summary["indicators"]["y"]["value"] == pytest.approx(3.0)
    assert summary["indicators"]["y"]["description"] == "alpha-0.3"
    prov = json.loads((project / "results" / "alpha" / "provenance.json").read_text())
    assert prov["parameters"]["sleep"] == 0.3 and prov["profile"] == "quick" and "results_dir" not in prov["parameters"]
    assert "numpy" in prov["packages"] and prov["inputs"]["notebook_sha256"] and prov["inputs"]["lock_sha256"] == "absent"
    assert set(prov["outputs"]) == {"data.txt", "summary.json"}
    executed = nbformat.read(project / "book" / "analyses" / "01_alpha.ipynb", as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "results_dir = None" in injected.source and "staging" not in injected.source.split("#")[0]
    assert ".landcarbon" not in json.dumps(executed.metadata)  # no staging path in papermill's record
    assert executed.metadata.papermill.output_path == "book/analyses/01_alpha.ipynb"
    assert (project / ".landcarbon" / "logs" / "alpha.log").is_file()
    assert not list((project / ".landcarbon" / "staging").iterdir())

    t0 = time.perf_counter()
    recs = pipeline.run(progress=False)
    second = time.perf_counter() - t0
    assert [r.status for r in recs] == ["cached", "cached"]
    assert second < first / 3, (first, second)

    # a parameter that changes no output reruns alpha only: beta's key covers alpha's output files
    recs = pipeline.run(overrides={"alpha": {"note": "x"}}, progress=False)
    assert [r.status for r in recs] == ["executed", "cached"]
    # a parameter that changes alpha's data.txt (read by beta) reruns beta too
    recs = pipeline.run(overrides={"alpha": {"sleep": 0.0}}, progress=False)
    assert [r.status for r in recs] == ["executed", "executed"]
    assert json.loads((project / "results" / "beta" / "summary.json").read_text())["indicators"]["y"]["description"] == "alpha-0.0"
    # a library change invalidates the cache
    (project / "lib" / "landcarbon" / "stub_source.py").write_text("VALUE = 2\n")
    recs = pipeline.run(["alpha"], overrides={"alpha": {"sleep": 0.0}}, progress=False)
    assert [r.status for r in recs] == ["executed"]


def test_changed_results_or_hand_run_reexecute(project):
    from nbclient import NotebookClient

    pipeline.run(["alpha"], progress=False)
    before = snapshot(project)
    # a student runs the notebook by hand (no results_dir injected): its outputs go to the scratch folder
    nb = nbformat.read(project / "notebooks" / "01_alpha.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}).execute()
    scratch = project / "results" / "_interactive" / "alpha"
    assert (scratch / "summary.json").is_file()
    assert "Interactive run: outputs go to the scratch folder results/_interactive/alpha" in \
        "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert {k: v for k, v in snapshot(project).items() if "_interactive" not in k} == before
    assert [r.status for r in pipeline.run(["alpha"], progress=False)] == ["cached"]
    # anything that changes results/alpha/ (an old-style hand run, an edit) makes the next run re-execute it
    s = project / "results" / "alpha" / "summary.json"
    s.write_text(s.read_text().replace("1.5", "9.9"))
    messages = []
    recs = pipeline.run(["alpha"], progress=False, echo=messages.append)
    assert recs[0].status == "executed" and "results/alpha/ changed since the cached run (summary.json)" in recs[0].reason
    assert any("re-executing" in m for m in messages)
    assert json.loads(s.read_text())["indicators"]["x"]["value"] == 1.5
    # so does a changed executed notebook
    (project / "book" / "analyses" / "01_alpha.ipynb").write_text("{}")
    assert pipeline.run(["alpha"], progress=False)[0].status == "executed"


def test_failing_notebook_leaves_previous_outputs_intact(project):
    pipeline.run(["alpha"], progress=False)
    before = snapshot(project)
    with pytest.raises(PipelineError) as err:
        pipeline.run(["alpha"], overrides={"alpha": {"fail": True, "sleep": 0.0}}, progress=False)
    msg = str(err.value)
    assert "01_alpha.ipynb" in msg and "cell" in msg and "deliberate failure" in msg and "ValueError" in msg
    assert snapshot(project) == before
    assert not list((project / ".landcarbon" / "staging").iterdir())
    assert (project / ".landcarbon" / "failed" / "01_alpha.ipynb").is_file()


def test_outputs_are_world_readable(project):
    old = os.umask(0o022)
    try:
        pipeline.run(["alpha"], progress=False)
    finally:
        os.umask(old)
    res = project / "results"
    for p in [*res.rglob("*"), *(project / "book" / "analyses").rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o755 if p.is_dir() else 0o644), (p, oct(mode))


def _tamper(tmp_path: Path, project: Path, monkeypatch) -> Path:
    data = tmp_path / "data"
    (data / "tiny").mkdir(parents=True)
    f = data / "tiny" / "x.txt"
    f.write_text("good\n")
    good = pipeline.sha256_file(f)
    (project / "data_manifest.yaml").write_text(MANIFEST.replace("files: [{name: tiny/x.txt}]",
                                                                 f"files: [{{name: tiny/x.txt, sha256: {good}}}]"))
    f.write_text("tampered\n")
    monkeypatch.setenv("LANDCARBON_DATA_PATH", str(data))
    return f


def test_checksum_failure_of_a_declared_dataset_fails_the_run(project, tmp_path, monkeypatch):
    f = _tamper(tmp_path, project, monkeypatch)
    (project / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: alpha\n    notebook: 01_alpha.ipynb\n    title: A\n    datasets: [tiny]\n")
    with pytest.raises(PipelineError) as err:
        pipeline.run(progress=False)
    msg = str(err.value)
    assert str(f) in msg and "expected" in msg and pipeline.sha256_file(f) in msg
    assert not (project / "results" / "alpha").exists()  # nothing ran, nothing recorded
    # the user explicitly chose the demo twin: the tampered file is not read and the run goes on
    recs = pipeline.run(progress=False, data_source="demo")
    prov = json.loads((project / "results" / "alpha" / "provenance.json").read_text())
    assert recs[0].status == "executed" and pipeline.sha256_file(f) not in json.dumps(prov)


def test_checksum_failure_swallowed_inside_a_notebook_still_fails_the_run(project, tmp_path, monkeypatch):
    f = _tamper(tmp_path, project, monkeypatch)
    with pytest.raises(PipelineError) as err:  # the notebook catches the ChecksumError and carries on
        pipeline.run(["alpha"], overrides={"alpha": {"check_dataset": "tiny", "sleep": 0.0}}, progress=False)
    msg = str(err.value)
    assert "refused 1 file(s) with a checksum mismatch" in msg and str(f) in msg and pipeline.sha256_file(f) in msg
    assert not (project / "results" / "alpha").exists() and not (project / "book" / "analyses" / "01_alpha.ipynb").exists()


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
        path = project_root / "notebooks" / a.notebook
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert tagged and tagged[0] is next(c for c in nb.cells if c.cell_type == "code"), a.notebook
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{a.notebook} has outputs"
        declared = P.declared_parameters(path)
        for key in ("results_dir", "data_source", "profile"):
            assert key in declared, f"{a.notebook}: parameter {key} missing"
        for profile in pipeline.PROFILES:  # every profile parameter is declared with a fitting type
            P.check_overrides(a.name, path, a.parameters(profile), origin=f"{a.name} {profile}")


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
    assert "LANDCARBON_DASK_SCHEDULER" not in os.environ  # the kernel got it; this process never had it
