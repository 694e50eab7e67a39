"""Report generation: indicator table from summary.json files, and the built book (after `make report`)."""
from __future__ import annotations

import json
import os
import re

import pytest

from landcarbon.publish import report
from landcarbon.publish.reporting import Indicator, read_summary, write_summary, format_value
from landcarbon.errors import DataError


def test_summary_roundtrip_and_validation(tmp_path):
    p = write_summary("x", "demo:gen@1", {"a": Indicator(0.45, "PgC yr-1", "sink", 0.25)}, out_dir=tmp_path,
                      extra={"headline_figure": {"file": "figures/headline.png", "caption": "c"}})
    doc = read_summary(p)
    assert doc["indicators"]["a"] == {"value": 0.45, "sigma": 0.25, "units": "PgC yr-1", "description": "sink"}
    with pytest.raises(DataError, match="not finite"):
        Indicator(float("nan"), "PgC yr-1", "bad")
    with pytest.raises(DataError, match="sigma"):
        Indicator(1.0, "PgC yr-1", "bad", sigma=-1)
    (tmp_path / "summary.json").write_text("{broken")
    with pytest.raises(DataError, match="not valid JSON"):
        read_summary(tmp_path)


@pytest.mark.parametrize("v, s, txt", [(0.4512, 0.2471, "0.45 ± 0.25"), (122.77, 0.73, "122.77 ± 0.73"),
                                       (1918.0, None, "1918"), (0.0175, 0.0042, "0.0175 ± 0.0042")])
def test_format_value(v, s, txt):
    assert format_value(v, s) == txt


def test_indicator_table_lists_every_summary(project_root, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDCARBON_RESULTS", str(tmp_path))
    write_summary("budget_closure", "real:" + "a" * 64,
                  {"china_land_sink": Indicator(0.34, "PgC yr-1", "China land sink", 0.11),
                   "china_sink_topdown": Indicator(0.45, "PgC yr-1", "top-down", 0.25),
                   "china_sink_bottomup": Indicator(0.29, "PgC yr-1", "bottom-up", 0.09),
                   "china_nep": Indicator(0.46, "PgC yr-1", "NEP", 0.16)},
                  out_dir=tmp_path / "budget_closure")
    write_summary("er_upscaling", "demo:landcarbon.world.demo:demo_drivers@2022",
                  {"global_er": Indicator(118.2, "PgC yr-1", "Global ER", 1.1)}, out_dir=tmp_path / "er_upscaling")
    md = report._indicators_md(project_root)
    assert "| China land sink | 0.34 ± 0.11 | PgC yr-1 | real data |" in md
    assert "real data (sha256 `aaaaaaaa…`)" in md  # full source per chapter
    assert "**DEMO**" in md and "digital twin" in md
    assert "</analyses/05_budget_closure>" in md
    rows = report.indicator_rows(project_root)
    assert list(dict.fromkeys(r["analysis"] for r in rows)) == ["er_upscaling", "budget_closure"]  # report order
    key = report._key_indicators_md(project_root)
    assert "| China land sink, closed budget | 0.34 ± 0.11 | PgC yr-1 | real data |" in key
    assert "Global ecosystem respiration" in key and "**DEMO** twin" in key
    assert "Not yet run" in key  # analyses without results are named, not silently dropped


def test_indicator_level_source_overrides_the_analysis_source(project_root, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDCARBON_RESULTS", str(tmp_path))
    write_summary("flux_partitioning", "demo:landcarbon.flux.demo:demo_site@1; real:" + "b" * 64,
                  {"gpp_annual_dtrh": Indicator(1100, "gC m-2 yr-1", "demo GPP", source="demo:landcarbon.flux.demo:demo_site@1"),
                   "reco_annual_dtrh": Indicator(900, "gC m-2 yr-1", "demo RECO", source="demo:landcarbon.flux.demo:demo_site@1"),
                   "detha_nt_gpp": Indicator(1918, "gC m-2 yr-1", "DE-Tha GPP", source="real:" + "b" * 64)},
                  out_dir=tmp_path / "flux_partitioning")
    doc = read_summary(tmp_path / "flux_partitioning")
    assert "source" in doc["indicators"]["detha_nt_gpp"]
    key = report._key_indicators_md(project_root)
    assert "| DE-Tha 1998 annual GPP, night-time method (real data) | 1918 | gC m-2 yr-1 | real data |" in key
    assert "| 1100 | gC m-2 yr-1 | **DEMO** twin |" in key
    full = report._indicators_md(project_root)
    assert "Data source: **DEMO**" in full and "real data (sha256 `bbbbbbbb…`)" in full


def test_key_indicator_renamed_fails_loudly(project_root, tmp_path, monkeypatch):
    from landcarbon.errors import PipelineError

    monkeypatch.setenv("LANDCARBON_RESULTS", str(tmp_path))
    write_summary("budget_closure", "real:" + "a" * 64, {"renamed": Indicator(0.34, "PgC yr-1", "x", 0.11)},
                  out_dir=tmp_path / "budget_closure")
    with pytest.raises(PipelineError, match="key indicator 'china_sink_topdown' is not in results/budget_closure"):
        report._key_indicators_md(project_root)


BUILT = None


def _built_index(project_root):
    index = project_root / "book" / "_build" / "html" / "index.html"
    if not index.is_file():
        if os.environ.get("CI"):
            pytest.fail("book/_build/html/index.html missing: `make test` builds the report before the tests")
        pytest.skip("report not built (run `make report`)")
    return index


def test_built_report_has_indicator_table(project_root):
    import yaml

    index = _built_index(project_root)
    html = index.read_text(encoding="utf-8")
    assert "Key indicators" in html and "<table" in html
    results = project_root / "results"
    spec = yaml.safe_load((project_root / "book" / "key_indicators.yaml").read_text())
    n = 0
    for item in spec:
        s = results / item["analysis"] / "summary.json"
        ind = json.loads(s.read_text())["indicators"].get(item["indicator"])
        if ind is None and item.get("optional"):
            continue
        assert ind is not None, f"{item} missing from {s}"
        assert format_value(ind["value"], ind.get("sigma")) in html, f"{item} value not on the front page"
        assert item["label"].replace("&", "&amp;")[:25] in html
        n += 1
    assert n >= 8, "expected the key indicators of every analysis on the front page"
    all_html = (index.parent / "indicators.html").read_text(encoding="utf-8")
    for s in sorted(results.glob("*/summary.json")):
        for ind in json.loads(s.read_text())["indicators"].values():
            assert format_value(ind["value"], ind.get("sigma")) in all_html, (s.parent.name, ind)
    assert not re.search(r"\bnan\b", re.sub(r"<[^>]+>", " ", html), flags=re.I), "front page shows nan"
    assert "_static/mathjax/tex-mml-chtml.js" in html and "cdn.jsdelivr" not in html


def test_built_report_has_every_chapter_and_generated_pages(project_root):
    index = _built_index(project_root)
    html_dir = index.parent
    for name in ("01_flux_partitioning", "02_er_upscaling", "03_er_trends", "04_nested_inversion", "05_budget_closure"):
        assert (html_dir / "analyses" / f"{name}.html").is_file(), name
    methods = (html_dir / "methods_data.html").read_text(encoding="utf-8")
    assert "de-tha-1998" in methods and "0f9dde654632" in methods  # manifest table with checksums
    repro = (html_dir / "reproducibility.html").read_text(encoding="utf-8")
    assert "Git commit" in repro and "numpy" in repro


def test_prepare_records_parameters_for_write_summary(tmp_path, monkeypatch):
    """write_summary() stores the notebook's declared parameters (as injected) without a hand-typed copy."""
    import nbformat

    from landcarbon.publish import notebook as lnb

    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "data_manifest.yaml").write_text("version: 1\ndatasets: []\n")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("results_dir = None\nn_mc = 1000  # draws\nyears = [2000, 2001]\nlabel: str = 'x'\nderived = n_mc * 2\n")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, root / "notebooks" / "09_toy.ipynb")
    (root / "notebooks" / "analyses.yaml").write_text(
        "analyses:\n  - name: toy\n    notebook: 09_toy.ipynb\n    title: Toy\n")
    assert lnb.notebook_parameters(root / "notebooks" / "09_toy.ipynb") == {
        "results_dir": None, "n_mc": 1000, "years": [2000, 2001], "label": "x", "derived": ...}
    monkeypatch.setenv("LANDCARBON_ROOT", str(root))
    ns = {"results_dir": str(tmp_path / "res"), "n_mc": 5, "years": (1999,), "label": "y", "derived": 10,
          "other": 1, "prepare": lnb.prepare}
    exec("out = prepare('toy', results_dir, seed_style=False)", ns)
    p = write_summary("toy", "demo:x@1", {"a": Indicator(1.0, "1", "a")}, out_dir=ns["out"])
    doc = read_summary(p)
    # results_dir is plumbing (a per-run staging path): not part of the parameter record
    assert doc["parameters"] == {"n_mc": 5, "years": [1999], "label": "y", "derived": 10}
