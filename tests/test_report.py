"""The report machinery: front page from book/key_indicators.yaml, units and values as printed, teaching
metadata, headline-figure fonts, provenance without machine paths, the build-time notebook tweaks, and
the built book (after `make report`): every key value on the front page, every caption with a figure."""
from __future__ import annotations

import importlib.util
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from landcarbon.errors import DataError, PipelineError
from landcarbon.publish import report
from landcarbon.publish.reporting import Indicator, format_value, read_summary, write_summary

LIT = "literature:china-budget-jiang2016"
DEMO_FLUX = "demo:landcarbon.flux.demo:demo_site@1998"
DEMO_WORLD = "demo:landcarbon.world.demo:demo_drivers@2022"
REAL = "real:" + "b" * 64


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
                                       (1918.0, None, "1918"), (0.0175, 0.0042, "0.0175 ± 0.0042"),
                                       (5, None, "5"), (5.5, None, "5.5"), (2.0, 0.5, "2.00 ± 0.50")])
def test_format_value(v, s, txt):
    assert format_value(v, s) == txt


@pytest.mark.parametrize("raw, shown", [
    ("gC m-2 yr-1", "gC m⁻² yr⁻¹"), ("umol m-2 s-1", "µmol m⁻² s⁻¹"), ("umol CO2 m-2 s-1", "µmol CO₂ m⁻² s⁻¹"),
    ("PgC yr-2", "PgC yr⁻²"), ("PgC/yr", "PgC yr⁻¹"), ("m s-1", "m s⁻¹"), ("km2", "km²"), ("1", "fraction"),
    ("%", "%"), ("TgC yr-1", "TgC yr⁻¹"), ("ppm", "ppm")])
def test_units_as_printed(raw, shown):
    from landcarbon.units import format_units

    assert format_units(raw) == shown


def test_display_value_fractions_minus_and_digits():
    assert report.display_value(0.7059, None, "1", description="land-area share where ...") == ("71", "%")
    assert report.display_value(0.1285, 0.021, "1", description="airborne fraction") == ("12.9 ± 2.1", "%")
    assert report.display_value(0.963, None, "1", description="mean chi2 = 2 J / m") == ("0.96", "")
    assert report.display_value(100, None, "1", description="prior and noise draws") == ("100", "")
    assert report.display_value(-0.3687, 0.0558, "PgC yr-2") == ("\u22120.369 ± 0.056", "PgC yr⁻²")
    assert report.display_value(116.615, None, "PgC yr-1", digits=1) == ("116.6", "PgC yr⁻¹")


# ---------------------------------------------------------------------------------------------
# the front page from a key-indicators file
# ---------------------------------------------------------------------------------------------
SPEC = """
- analysis: budget_closure
  indicator: china_land_sink
  label: "China's land sink, combined"
  kind: headline
  period: "2000s"
  message: >-
    **China's land took up {this}**: top-down {ind[budget_closure][china_sink_topdown]}, bottom-up
    {ind[budget_closure][china_sink_bottomup]} {cite:p}`jiang2016closure`.
- {analysis: budget_closure, indicator: china_sink_topdown, label: "top-down", kind: headline, period: "2006–2009"}
- analysis: flux_partitioning
  indicator: detha_nt_gpp
  label: "DE-Tha GPP, night-time"
  kind: headline
  period: "1998"
  optional: true
  message: "The forest's GPP is {this} (night-time) and {ind[flux_partitioning][detha_dt_gpp]} (day-time)."
- {analysis: flux_partitioning, indicator: gpp_annual_dtrh, label: "synthetic site GPP, DT-RH", kind: headline,
   period: "one synthetic year"}
- analysis: er_upscaling
  indicator: global_er
  label: "Global ER"
  kind: method-test
  truth: global_er_true
  period: "{years[0]}–{years[1]} mean"
  message: "The twin's global respiration is {this}, against a true {ind[er_upscaling][global_er_true]}."
- {analysis: nested_inversion, indicator: china_land_sink, label: "inversion", kind: method-test, period: "x"}
"""


def _summaries(tmp: Path, *, detha: bool = True) -> None:
    write_summary("budget_closure", LIT,
                  {"china_land_sink": Indicator(0.34, "PgC yr-1", "closed", 0.109),
                   "china_sink_topdown": Indicator(0.45, "PgC yr-1", "top-down", 0.25),
                   "china_sink_bottomup": Indicator(0.292, "PgC yr-1", "bottom-up", 0.091)},
                  out_dir=tmp / "budget_closure")
    inds = {"gpp_annual_dtrh": Indicator(1123.4, "gC m-2 yr-1", "demo GPP", source=DEMO_FLUX)}
    if detha:
        inds |= {"detha_nt_gpp": Indicator(1918.0, "gC m-2 yr-1", "GPP NT", source=REAL),
                 "detha_dt_gpp": Indicator(1775.9, "gC m-2 yr-1", "GPP DT", source=REAL)}
    write_summary("flux_partitioning", f"{DEMO_FLUX}; {REAL}", inds, out_dir=tmp / "flux_partitioning")
    write_summary("er_upscaling", DEMO_WORLD,
                  {"global_er": Indicator(117.62, "PgC yr-1", "Global ER", 1.56),
                   "global_er_true": Indicator(116.615, "PgC yr-1", "true ER")},
                  out_dir=tmp / "er_upscaling", parameters={"years": [1989, 2018]})


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDCARBON_RESULTS", str(tmp_path / "results"))
    spec = tmp_path / "key_indicators.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return tmp_path / "results", spec


def test_front_page_reads_every_number_from_the_summaries(project_root, results):
    res, spec = results
    _summaries(res)
    md = report.front_page_md(project_root, spec)
    km, head, tests = md["key_messages"], md["headline_estimates"], md["method_tests"]
    # key messages: numbers with uncertainty and units, period, source and a link appended
    assert km.startswith("```{admonition} Key messages\n:class: lc-key-messages")
    assert "**China's land took up 0.34\u00a0±\u00a00.11\u00a0PgC yr⁻¹**" in km
    assert "top-down 0.45\u00a0±\u00a00.25\u00a0PgC yr⁻¹" in km and "{cite:p}`jiang2016closure`" in km
    assert "*2000s; published values; {doc}`" in km and "</analyses/05_budget_closure>`.*" in km
    assert "*1998; observations; " in km
    # a sigma-less truth printed with the decimals of the estimate it is compared with
    assert "117.6\u00a0±\u00a01.6\u00a0PgC yr⁻¹, against a true 116.6\u00a0PgC yr⁻¹" in km
    assert "*1989–2018 mean; demo twin; " in km  # period from the analysis' recorded parameters
    assert len(re.findall(r"^\d\. ", km, flags=re.M)) == 3
    # headline table: observations and published values only, with a Period column
    assert head.splitlines()[0] == "| Estimate | Value (± 1σ) | Units | Period | Source | Chapter |"
    assert "| China's land sink, combined | 0.34\u00a0±\u00a00.11 | PgC\u00a0yr⁻¹ | 2000s | " \
           '<span class="lc-source lc-pub">published values</span>' in head
    assert "| DE-Tha GPP, night-time | 1918 | gC\u00a0m⁻²\u00a0yr⁻¹ | 1998 | " in head and "lc-obs" in head
    assert "lc-demo" not in head
    # a "headline" entry computed on the demo twin in this build is named below the table, not in it
    assert "| synthetic site GPP" not in head and "this build had no real data for them" in head
    assert "synthetic site GPP, DT-RH" in head.split("\n\n")[-1]
    # method tests: the twin's results next to its truth; an analysis not run yet is named
    assert "| Global ER | 117.6\u00a0±\u00a01.6 | 116.6 | PgC\u00a0yr⁻¹ | passes | 1989–2018 mean | " in tests
    assert '<span class="lc-source lc-demo">DEMO twin</span>' in tests
    assert "Not yet run" in tests and "nested_inversion" in tests


def test_optional_indicators_absent_without_real_data(project_root, results):
    res, spec = results
    _summaries(res, detha=False)
    md = report.front_page_md(project_root, spec)
    assert "DE-Tha" not in md["headline_estimates"] and "forest's GPP" not in md["key_messages"]
    assert len(re.findall(r"^\d\. ", md["key_messages"], flags=re.M)) == 2


@pytest.mark.parametrize("edit, message", [
    (("indicator: china_land_sink\n", "indicator: china_sink_renamed\n"),
     r"key indicator 'china_sink_renamed' is not in results/budget_closure/summary.json.*it writes: china_land_sink"),
    (("{ind[budget_closure][china_sink_bottomup]}", "{ind[budget_closure][bottomup_v2]}"),
     r"names \{ind\[budget_closure\]\[bottomup_v2\]\}, which is not in results/budget_closure"),
    (("**China's land took up {this}**", "**{nonsense}**"), r"unknown placeholder \{nonsense\}"),
    (("(night-time) and", "± {sigma} (night-time) and"), r"uncertainty of an indicator that has none"),
    (("kind: method-test\n  truth", "kind: headlines\n  truth"), r"kind 'headlines' is not one of"),
    (("analysis: er_upscaling\n", "analysis: er_upscale\n"), r"'er_upscale' is not declared in notebooks/analyses.yaml"),
    (('period: "{years[0]}', 'period: "{start_year}'), r"names a parameter the analysis did not record"),
    (("  label: \"Global ER\"\n", "  label: \"Global ER\"\n  colour: red\n"), r"unknown key\(s\) \['colour'\]"),
])
def test_key_indicator_errors_are_clear(project_root, results, edit, message):
    res, spec = results
    _summaries(res)
    spec.write_text(SPEC.replace(*edit), encoding="utf-8")
    with pytest.raises(PipelineError, match=message) as info:
        report.front_page_md(project_root, spec)
    assert "key_indicators.yaml, entry #" in str(info.value)


def test_period_in_summary_wins_and_must_agree(project_root, results):
    res, spec = results
    _summaries(res)
    doc = json.loads((res / "budget_closure" / "summary.json").read_text())
    doc["indicators"]["china_sink_topdown"]["period"] = "2006–2009"
    doc["indicators"]["china_land_sink"]["period"] = "2001–2010"
    (res / "budget_closure" / "summary.json").write_text(json.dumps(doc))
    with pytest.raises(PipelineError, match=r"period '2000s' differs from the period '2001–2010'"):
        report.front_page_md(project_root, spec)


def test_period_auto_reads_the_description(project_root, results):
    res, spec = results
    _summaries(res)
    write_summary("budget_closure", LIT,
                  {"china_land_sink": Indicator(0.34, "PgC yr-1", "closed budget, 2001–2010 mean", 0.109),
                   "china_sink_topdown": Indicator(0.45, "PgC yr-1", "top-down in 2008", 0.25),
                   "china_sink_bottomup": Indicator(0.292, "PgC yr-1", "bottom-up", 0.091)},
                  out_dir=res / "budget_closure")
    spec.write_text(SPEC.replace('period: "2000s"', "period: auto").replace('period: "2006–2009"', "period: auto"))
    md = report.front_page_md(project_root, spec)
    assert "| 2001\u2060–\u20602010 | " in md["headline_estimates"] and "| 2008 | " in md["headline_estimates"]
    assert "*2001–2010; published values;" in md["key_messages"]
    spec.write_text(SPEC.replace('period: "1998"', "period: auto", 1).replace('label: "DE-Tha GPP, night-time"',
                                                                              'label: "x"'))
    with pytest.raises(PipelineError, match="`period: auto`, but the description names no year: 'GPP NT'"):
        report.front_page_md(project_root, spec)


def test_too_many_key_messages_fail(project_root, results):
    res, spec = results
    _summaries(res)
    extra = "".join(f"- {{analysis: budget_closure, indicator: china_sink_topdown, label: t{i}, kind: headline, "
                    f"period: p, message: 'm {{this}}'}}\n" for i in range(3))
    spec.write_text(SPEC + extra, encoding="utf-8")
    with pytest.raises(PipelineError, match="6 key messages; a reader takes in 3 to 5"):
        report.front_page_md(project_root, spec)


def test_the_project_key_indicators_file_is_valid(project_root):
    entries = report.load_key_indicators(root=project_root)
    kinds = {e.kind for e in entries}
    assert kinds == {"headline", "method-test"}
    messages = [e for e in entries if e.message]
    assert 3 <= len(messages) <= 5
    for e in messages:  # every placeholder names an analysis of the registry
        for a in re.findall(r"\{ind\[([A-Za-z0-9_]+)\]", e.message):
            assert a in {x.analysis for x in entries} | {"budget_closure", "nested_inversion", "er_upscaling"}, a


# ---------------------------------------------------------------------------------------------
# other generated pages
# ---------------------------------------------------------------------------------------------
def test_indicator_pages_list_every_summary(project_root, results):
    res, _ = results
    _summaries(res)
    md = report._indicators_md(project_root)
    assert "| closed | 0.34\u00a0±\u00a00.11 | PgC\u00a0yr⁻¹ | <span class=\"lc-source lc-pub\">published values</span> |" in md
    assert "**DEMO** digital twin (generator `demo_drivers`, seed 2022)" in md
    rows = report.indicator_rows(project_root)
    assert list(dict.fromkeys(r["analysis"] for r in rows)) == ["flux_partitioning", "er_upscaling", "budget_closure"]


def test_provenance_page_prints_no_absolute_path(project_root, results):
    res, _ = results
    res.mkdir(parents=True)
    (res / "last_run.json").write_text(json.dumps({
        "profile": "full", "python": "3.11", "platform": "Linux", "git": {"commit": "abc", "dirty": False},
        "data_path": f"/home/someone/private/flux{os.pathsep}/mnt/data/carbon", "packages": {"numpy": "2.0"}}))
    (res / "budget_closure").mkdir(parents=True)
    (res / "budget_closure" / "provenance.json").write_text(json.dumps({
        "data_source": LIT, "seconds": 3.2, "cache_key": "f" * 64, "log": "/home/someone/.landcarbon/logs/x.log",
        "parameters": {"n_mc": 1000, "results_dir": "/home/someone/results/.staging/budget_closure"},
        "inputs": {"data": {"china-budget-jiang2016": "real:" + "c" * 64}}}))
    md = report._provenance_md(project_root)
    assert "/home/someone" not in md and "/mnt/data" not in md
    assert "set (2 folders: `flux`, `carbon`)" in md and "`n_mc=1000`" in md


def test_teaching_metadata_matches_the_chapters(project_root):
    chapters = report.load_teaching(project_root)
    from landcarbon.publish.pipeline import load_analyses

    analyses = load_analyses(project_root)
    assert {c["analysis"] for c in chapters} == set(analyses), "every chapter needs teaching metadata"
    for c in chapters:
        nb = json.loads((project_root / "notebooks" / analyses[c["analysis"]].notebook).read_text())
        text = "".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown")
        n = len(set(re.findall(r"\*\*Exercise (\d+)\b", text)))
        assert len(c["exercises"]) == n, f"{c['analysis']}: {n} exercises in the notebook, {len(c['exercises'])} in teaching.yaml"
        assert c["objectives"] and c["prerequisites"]
    md = report._teaching_md(project_root)
    assert md.count("**You will learn to**") == len(chapters) and "| Exercise | Level | Time |" in md


def test_teaching_metadata_errors(project_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(project_root / "notebooks", root / "notebooks")
    (root / "book").mkdir()
    shutil.copy(project_root / "data_manifest.yaml", root / "data_manifest.yaml")
    text = (project_root / "book" / "teaching.yaml").read_text()
    (root / "book" / "teaching.yaml").write_text(text.replace("difficulty: advanced", "difficulty: hard", 1))
    with pytest.raises(PipelineError, match="difficulty 'hard' is not one of"):
        report.load_teaching(root)


def test_binder_urls():
    assert report.binder_url("https://github.com/org/landcarbon", path="notebooks/05_budget_closure.ipynb") == \
        "https://mybinder.org/v2/gh/org/landcarbon/main?labpath=notebooks%2F05_budget_closure.ipynb"
    assert report.binder_url("https://gitlab.com/org/landcarbon.git", branch="v1") == \
        "https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.com%2Forg%2Flandcarbon/v1"


def test_downloads_offer_every_notebook_and_the_environment(project_root):
    md = report._downloads_md(project_root)
    from landcarbon.publish.pipeline import load_analyses

    for a in load_analyses(project_root).values():
        assert f"{{download}}`{a.notebook} </../notebooks/{a.notebook}>`" in md
    assert "{download}`environment.yml </../environment.yml>`" in md


def test_headline_figure_records_its_smallest_font(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xlabel("x", fontsize=11)
    ax.tick_params(labelsize=10.5)
    ax.legend(fontsize=12)
    png = report.save_headline_figure(fig, tmp_path / "figures" / "headline.png", dpi=100)
    plt.close(fig)
    meta = report.figure_font_metadata(png)
    assert meta["min_font_pt"] == pytest.approx(10.5) and meta["dpi"] == pytest.approx(100, abs=0.5)
    assert 350 < meta["width_px"] <= 420  # tight bounding box
    # a PNG saved without it says so
    fig, ax = plt.subplots(figsize=(2, 2))
    fig.savefig(tmp_path / "plain.png", dpi=100)
    plt.close(fig)
    assert report.figure_font_metadata(tmp_path / "plain.png")["min_font_pt"] is None


@pytest.mark.parametrize("width_in", [4.0, 9.0, 12.0, 16.0])
def test_headline_figure_text_is_legible_on_the_front_page(tmp_path, width_in):
    """Small text is enlarged so that, shown at 96/dpi and shrunk to the column, it stays >= 9 pt."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(width_in, 3), layout="constrained")
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="line")
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5)
        ax.set_title("panel", fontsize=7)
    fig.colorbar(axes[0].imshow([[0, 1]]), ax=axes[0]).ax.tick_params(labelsize=5)
    png = report.save_headline_figure(fig, tmp_path / "h.png", dpi=100)
    plt.close(fig)
    meta = report.figure_font_metadata(png)
    shown = min(meta["width_px"] * 96 / meta["dpi"], report.FRONT_PAGE_COLUMN_PX)
    rendered = meta["min_font_pt"] * meta["dpi"] / 96 * shown / meta["width_px"]
    assert rendered >= 9.0
    # the recorded size is what the PNG holds: no text smaller than the floor survives a redraw
    assert meta["min_font_pt"] >= report.READABLE_FONT_PT


# ---------------------------------------------------------------------------------------------
# the build-time notebook tweaks (book/_ext/report_tweaks.py)
# ---------------------------------------------------------------------------------------------
def _tweaks(project_root):
    spec = importlib.util.spec_from_file_location("report_tweaks", project_root / "book" / "_ext" / "report_tweaks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_plumbing_cells_hidden_and_long_tables_folded(project_root):
    tw = _tweaks(project_root)
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(40))
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "results_dir = None", "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "# Parameters\nx = 1",
         "outputs": []},
        {"cell_type": "code", "metadata": {}, "source": "table",
         "outputs": [{"output_type": "execute_result", "data": {"text/html": f"<table>{rows}</table>"}}]},
        {"cell_type": "code", "metadata": {}, "source": "small",
         "outputs": [{"output_type": "execute_result", "data": {"text/html": "<table><tr><td>1</td></tr></table>"}}]},
        {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "source": "t2",
         "outputs": [{"output_type": "execute_result", "data": {"text/html": f"<table>{rows}</table>"}}]},
        {"cell_type": "code", "metadata": {}, "source": "table and its paragraph",   # folding would hide the prose
         "outputs": [{"output_type": "display_data", "data": {"text/html": f"<table>{rows}</table>"}},
                     {"output_type": "display_data", "data": {"text/markdown": "Over 56 class-months ..."}}]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = json.loads(tw._present_notebook(json.dumps(nb)))
    tags = [c["metadata"].get("tags", []) for c in out["cells"]]
    assert tags == [["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], ["hide-output"], [],
                    ["remove-output"], []]
    untouched = json.dumps({"cells": [nb["cells"][3]], "metadata": {}})
    assert tw._present_notebook(untouched) == untouched


def test_solution_nodes_are_recognised(project_root):
    from docutils import nodes

    tw = _tweaks(project_root)
    adm = nodes.admonition("", nodes.title("", "Solution"), nodes.paragraph("", "secret"))
    other = nodes.admonition("", nodes.title("", "Note"), nodes.paragraph("", "keep"))
    classed = nodes.container("", nodes.paragraph("", "secret"), classes=["dropdown", "solution"])
    assert tw._is_solution(adm) and tw._is_solution(classed) and not tw._is_solution(other)


# ---------------------------------------------------------------------------------------------
# the built book (`make report` / `landcarbon report` first)
# ---------------------------------------------------------------------------------------------
def _built_index(project_root):
    index = project_root / "book" / "_build" / "html" / "index.html"
    if not index.is_file():
        if os.environ.get("CI"):
            pytest.fail("book/_build/html/index.html missing: `make test` builds the report before the tests")
        pytest.skip("report not built (run `make report`)")
    return index


def _text(html: str) -> str:
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", html))).replace("’", "'")


def test_built_front_page_shows_every_key_number(project_root):
    index = _built_index(project_root)
    html = index.read_text(encoding="utf-8")
    text = _text(html).replace("\u00a0", " ")
    assert "lc-key-messages" in html and 'id="headline-estimates"' in html and 'id="method-tests-on-the-digital-twin"' in html
    summaries = {p.parent.name: json.loads(p.read_text()) for p in (project_root / "results").glob("*/summary.json")}
    shown = 0
    for e in report.load_key_indicators(root=project_root):
        ind = summaries.get(e.analysis, {}).get("indicators", {}).get(e.indicator)
        if ind is None:
            assert e.optional or e.analysis not in summaries, e
            continue
        value, units = report.display_value(ind["value"], ind.get("sigma"), ind.get("units"),
                                            description=ind.get("description"))
        assert f"{value} {units}" in text or f"| {value} |" in text or value in text, (e.indicator, value)
        demo = report.source_kind(ind.get("source") or summaries[e.analysis]["data_source"]) == "demo"
        assert e.label[:30] in text or (e.kind == "headline" and demo), e.label
        shown += 1
    assert shown >= 8
    assert not re.search(r"\bnan\b", text, flags=re.I), "front page shows nan"
    assert "How to cite this report" in text and "@software" in text  # CITATION.cff, on the front page
    assert "_static/mathjax/tex-mml-chtml.js" in html and "cdn.jsdelivr" not in html
    # headline rows come before any demo row
    head_end = html.index("</table>", html.index('id="headline-estimates"'))
    assert "lc-demo" not in html[html.index('id="headline-estimates"'):head_end]
    # headline figures: observations and published values first, each group in chapter order
    from landcarbon.publish.pipeline import load_analyses

    order = {a.name: a.notebook for a in load_analyses(project_root).values()}
    figs = [f.replace("-", "_") for f in re.findall(r'<figure class="lc-headline-figure[^"]*" id="headline-([a-z-]+)"', html)]
    assert figs, "no headline figure on the front page"
    kinds = [report.source_kind(summaries[f]["data_source"]) == "demo" for f in figs]
    assert kinds == sorted(kinds), figs
    for group in (False, True):
        names = [f for f, k in zip(figs, kinds) if k == group]
        assert names == sorted(names, key=order.get), names


class _Figures(HTMLParser):
    """Counts rendered images and "Figure" captions in the article of a built chapter page."""

    def __init__(self):
        super().__init__()
        self.images, self.captions, self._in_p, self._em_first, self._p_text = 0, [], False, False, ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("src", "").startswith(("../_images/", "_images/", "data:image")):
            self.images += 1
        if tag == "p":
            self._in_p, self._em_first, self._p_text = True, None, ""
        elif tag == "em" and self._in_p and self._em_first is None and not self._p_text.strip():
            self._em_first = True

    def handle_data(self, data):
        if self._in_p:
            self._p_text += data

    def handle_endtag(self, tag):
        if tag == "p" and self._in_p:
            if self._em_first and re.match(r"\s*Figure\b", self._p_text):
                self.captions.append(self._p_text.strip()[:60])
            self._in_p = False


def test_every_chapter_shows_at_least_as_many_images_as_figure_captions(project_root):
    index = _built_index(project_root)
    pages = sorted((index.parent / "analyses").glob("*.html"))
    assert pages, "no chapter pages"
    short = []
    for page in pages:
        p = _Figures()
        p.feed(page.read_text(encoding="utf-8"))
        if p.images < len(p.captions):
            short.append(f"{page.name}: {len(p.captions)} 'Figure' captions, {p.images} images")
    assert not short, "chapters with captions but no figures:\n" + "\n".join(short)


def test_built_report_has_every_chapter_and_generated_page(project_root):
    index = _built_index(project_root)
    html_dir = index.parent
    from landcarbon.publish.pipeline import load_analyses

    for a in load_analyses(project_root).values():
        assert (html_dir / "analyses" / f"{Path(a.notebook).stem}.html").is_file(), a.name
    methods = (html_dir / "methods_data.html").read_text(encoding="utf-8")
    assert "de-tha-1998" in methods and "0f9dde654632" in methods  # manifest table with checksums
    repro = (html_dir / "reproducibility.html").read_text(encoding="utf-8")
    assert "Git commit" in repro and "numpy" in repro and str(project_root) not in repro
    run = (html_dir / "run_it_yourself.html").read_text(encoding="utf-8")
    assert run.count('class="reference download internal"') >= len(load_analyses(project_root)) + 1
    for href in re.findall(r'href="(_downloads/[^"]+)"', run):
        assert (html_dir / href).is_file(), href
    teaching = (html_dir / "teaching.html").read_text(encoding="utf-8")
    assert "You will learn to" in teaching and "--no-solutions" in teaching
    # papermill's injected parameters never reach a page
    for page in (html_dir / "analyses").glob("*.html"):
        assert "injected-parameters" not in page.read_text(encoding="utf-8"), page.name


def test_the_rendered_glossary_and_subtitle(project_root):
    index = _built_index(project_root)
    front = index.read_text(encoding="utf-8")
    assert "陆地生态系统碳汇监测报告" in front and "可持续发展" not in front
    glossary = (index.parent / "glossary.html").read_text(encoding="utf-8")
    kok = _text(glossary)[_text(glossary).index("Kok effect"):][:200]
    assert "光照对叶片呼吸的抑制" in kok and not re.match(r"Kok effect \(光抑制\)", kok)


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


def test_binder_buttons_appear_with_a_repository_address(project_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(project_root / "notebooks", root / "notebooks")
    shutil.copy(project_root / "data_manifest.yaml", root / "data_manifest.yaml")
    (root / "book").mkdir()
    cfg = (project_root / "book" / "_config.yml").read_text()
    (root / "book" / "_config.yml").write_text(cfg)
    md = report._downloads_md(root)
    assert "Run online" not in md and "lc-binder" not in md and "without a public repository address" in md
    (root / "book" / "_config.yml").write_text(cfg.replace('url: ""', 'url: "https://github.com/org/landcarbon"', 1))
    md = report._downloads_md(root)
    assert "| Run online |" in md
    assert 'href="https://mybinder.org/v2/gh/org/landcarbon/main?labpath=notebooks%2F05_budget_closure.ipynb"' in md
    assert 'src="_static/binder-badge.svg"' in md  # a local image: nothing is requested when the page loads


def test_stale_sphinx_environment_is_dropped_when_a_bib_file_changes(tmp_path):
    book = tmp_path / "book"
    (book / "references").mkdir(parents=True)
    (book / "_config.yml").write_text("title: x\n")
    (book / "references" / "a.bib").write_text("@misc{a, title={A}}\n")
    build = book / "_build"
    (build / ".doctrees").mkdir(parents=True)
    report._forget_stale_environment(book, build)  # first build: no stamp yet -> clean
    assert not (build / ".doctrees").exists()
    (build / ".doctrees").mkdir()
    report._forget_stale_environment(book, build)  # nothing changed: the environment is kept
    assert (build / ".doctrees").exists()
    (book / "references" / "b.bib").write_text("@misc{b, title={B}}\n")  # a chapter adds a bibliography
    report._forget_stale_environment(book, build)
    assert not (build / ".doctrees").exists()


def test_glued_indicator_text_is_prose_ready(monkeypatch):
    """Text glued for the chapters: value ± sigma with units in superscript form, no unit word for
    dimensionless numbers, whole counts without decimals."""
    import myst_nb

    from landcarbon.publish import reporting

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: glued.__setitem__(key, value))
    reporting.glue_indicators({"sink": Indicator(0.4512, "PgC yr-1", "x", sigma=0.2471),
                               "r2": Indicator(0.57, "1", "x"), "folds": {"value": 5, "units": "", "description": "n"}},
                              prefix="t_")
    assert glued["t_sink"] == "0.45 ± 0.25 PgC yr⁻¹" and glued["t_sink_value"] == pytest.approx(0.4512)
    assert glued["t_r2"] == "0.57" and glued["t_folds"] == "5"


@pytest.mark.parametrize("src, kind", [
    ("real:" + "a" * 64, "observations"), (LIT, "published"), ("derived:china-budget-jiang2016", "derived"),
    (f"{LIT}; derived:china-budget-jiang2016", "derived"), ("derived:x; real:" + "a" * 64, "observations"),
    ("derived:x; demo:gen@1", "demo"), ("", "unknown")])
def test_source_kind_names_computed_numbers(src, kind):
    """A number computed here from published inputs is not called a published value."""
    assert report.source_kind(src) == kind
    if kind != "unknown":
        assert report.display._SOURCE_WORDS[kind] and report.display._SOURCE_BADGE[kind]


@pytest.mark.parametrize("ind, truth, text", [
    ({"value": 119.4, "sigma": 6.5}, {"value": 115.5}, "passes"),
    ({"value": 0.172, "sigma": 0.010}, {"value": -0.059}, "off by 23.1σ, wrong sign"),
    ({"value": -0.22, "sigma": 0.19}, {"value": 0.33}, "off by 2.9σ, wrong sign"),
    ({"value": 0.72, "sigma": None}, {"value": 0.74}, "error \u22123 %"),
    ({"value": 1.0, "sigma": 0.1}, None, "—")])
def test_method_test_verdict(ind, truth, text):
    from landcarbon.publish.report.front_page import method_test_verdict

    assert method_test_verdict(ind, truth) == text
