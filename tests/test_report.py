"""Report generation: indicator table from summary.json files, and the built book (after `make report`)."""
from __future__ import annotations

import json
import os
import re

import pytest

from landcarbon import report
from landcarbon.reporting import Indicator, read_summary, write_summary, format_value
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
    write_summary("budget_closure", "real:" + "a" * 64, {"china_land_sink": Indicator(0.34, "PgC yr-1", "China land sink", 0.11)},
                  out_dir=tmp_path / "budget_closure")
    write_summary("er_upscaling", "demo:landcarbon.world.demo:demo_drivers@2022",
                  {"global_er": Indicator(118.2, "PgC yr-1", "Global ER", 1.1)}, out_dir=tmp_path / "er_upscaling")
    md = report._indicators_md(project_root)
    assert "| China land sink | 0.34 ± 0.11 | PgC yr-1 | real data (sha256 `aaaaaaaa…`) |" in md
    assert "**DEMO**" in md and "digital twin" in md
    assert "</analyses/05_budget_closure>" in md
    rows = report.indicator_rows(project_root)
    assert [r["analysis"] for r in rows] == ["er_upscaling", "budget_closure"]  # report order


BUILT = None


def _built_index(project_root):
    index = project_root / "book" / "_build" / "html" / "index.html"
    if not index.is_file():
        if os.environ.get("CI"):
            pytest.fail("book/_build/html/index.html missing: `make test` builds the report before the tests")
        pytest.skip("report not built (run `make report`)")
    return index


def test_built_report_has_indicator_table(project_root):
    index = _built_index(project_root)
    html = index.read_text(encoding="utf-8")
    assert "Key indicators" in html and "<table" in html
    results = project_root / "results"
    n = 0
    for s in sorted(results.glob("*/summary.json")):
        doc = json.loads(s.read_text())
        for ind in doc["indicators"].values():
            desc = ind["description"].replace("&", "&amp;")
            assert desc.split("(")[0].strip()[:30] in html, f"indicator {desc!r} of {s.parent.name} not on the front page"
            assert format_value(ind["value"], ind.get("sigma")) in html
            n += 1
    assert n >= 5, "expected indicators from the analyses on the front page"
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
