"""The built report, verified as a person would: headless Chromium visits every page.

``test_built_report_in_browser`` checks ``book/_build/html`` (built by ``landcarbon report``) at 1400 px
and at 400 px: no missing figure and no "Figure" caption without one, no broken internal link or
anchor, no JavaScript/console error, math typeset by a locally served MathJax (no request leaves
127.0.0.1), no "nan", traceback, internal vocabulary, plumbing cell, double-numbered heading or path
of this machine on any page, nothing wider than a 400-px phone screen, key messages and headline
table before any demo row on the front page, headline figures legible (>= 9 pt), front page loaded in
< 2 s, site < 50 MB. Screenshots of the front page and of every chapter at both widths go to
``book/_build/screenshots/`` — look at them. Without a built site the test fails in CI (env ``CI=true``) and skips
elsewhere; without Chromium (Debian package ``chromium``) it skips with that reason.

The other tests prove the checker can fail: a small hand-made site with one defect of each kind
must produce exactly those problems, and a clean one none.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The built report; LANDCARBON_REPORT_SITE points the test at another built site (e.g. a test book).
SITE = Path(os.environ.get("LANDCARBON_REPORT_SITE") or ROOT / "book" / "_build" / "html")
#: Build artefacts: book/_build/screenshots/{front_page,chapter}.png
SCREENSHOTS = SITE.parent / "screenshots"


def _require_browser() -> str:
    pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium (pip install websocket-client)")
    exe = bc.find_chromium()
    if exe is None:
        pytest.skip("no Chromium installed: `apt-get install chromium` (Debian) or set LANDCARBON_CHROMIUM; "
                    ".ci/run installs it so CI always runs this test")
    return exe


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def test_built_report_in_browser():
    if not (SITE / "index.html").is_file():
        msg = (f"the report is not built: {SITE / 'index.html'} does not exist. "
               "Run `landcarbon report` (or `make report`) before this test.")
        if _in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    exe = _require_browser()
    forbidden = [str(ROOT), str(ROOT.parent), os.path.expanduser("~")]
    forbidden += [p for p in os.environ.get("LANDCARBON_DATA_PATH", "").split(os.pathsep) if len(p) > 1]
    report = bc.check_site(SITE, screenshot_dir=SCREENSHOTS, chromium=exe,
                           forbidden_text=tuple(p for p in forbidden if p not in ("", "/")))
    print(report.summary())
    assert report.pages, "no page visited"
    chapters = sorted(p for p in report.pages if p.startswith("analyses/"))
    assert chapters, "no chapter page visited"
    names = {p.name for p in report.screenshots}
    want = {f"{stem}_{w}.png" for stem in ["front_page", *(Path(c).stem for c in chapters)]
            for w in (bc.DESKTOP_WIDTH, bc.PHONE_WIDTH)}
    assert names == want, names ^ want
    for shot in report.screenshots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    assert not report.problems, "the report has problems a reader would see:\n" + report.summary()
    assert report.site_bytes < bc.MAX_SITE_BYTES


# ------------------------------------------------------------------------------------------------
# the checker itself, on hand-made sites
# ------------------------------------------------------------------------------------------------

def _png_bytes() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# A stand-in for MathJax 3: typesets every .math element into an <mjx-container>.
FAKE_MATHJAX = """<script>
window.MathJax = {startup: {promise: Promise.resolve()},
  typesetPromise: () => { document.querySelectorAll('.math').forEach(m => {
      const c = document.createElement('mjx-container'); c.textContent = m.textContent;
      m.textContent = ''; m.appendChild(c); }); return Promise.resolve(); }};
</script>"""


def _page(title: str, body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<link rel='icon' href='data:,'>{head}</head><body><main>{body}</main></body></html>")


_FRONT_LAYOUT = ("<div class='admonition lc-key-messages'><ol><li>Land sink 0.34 PgC/yr.</li><li>Two.</li>"
                 "<li>Three.</li></ol></div>"
                 "<section id='headline-estimates'><h2>Headline estimates</h2><table><tbody><tr><td>0.34</td></tr>"
                 "</tbody></table></section>"
                 "<section id='method-tests'><h2>Method tests</h2><table><tbody><tr><td>0.38</td>"
                 "<td><span class='lc-demo'>DEMO twin</span></td></tr></tbody></table></section>")


def _headline_png(path: Path, fontsize: float = 10) -> None:
    """A headline PNG recording ``fontsize`` as its smallest text, as an older or hand-made figure would
    (``save_headline_figure`` itself never records less than its legibility floor)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from landcarbon.publish.report import MIN_FONT_PT_KEY

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    ax.tick_params(labelsize=fontsize)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, format="png", metadata={MIN_FONT_PT_KEY: f"{fontsize:.2f}"})
    plt.close(fig)


def _clean_site(root: Path) -> Path:
    (root / "img").mkdir(parents=True)
    (root / "img" / "fig.png").write_bytes(_png_bytes())
    _headline_png(root / "img" / "headline.png")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "index.html").write_text(_page(
        "Front", "<h1 id='top'>Report</h1>" + _FRONT_LAYOUT + "<p>Land sink 0.34 PgC/yr; NaNs removed before the "
        "mean? no: the value is <b>0.34</b>.</p><p><span class='math'>\\(S = -NEE\\)</span></p>"
        "<img src='img/fig.png' alt='fig'><p><em>Figure: a caption under its figure.</em></p>"
        "<figure class='lc-headline-figure'><img src='img/headline.png' alt='headline'>"
        "<figcaption>Figure 1: the headline, at its own size.</figcaption></figure>"
        "<a href='chapter.html#results'>chapter</a> <a href='data.csv'>data</a>"
        "<pre><code>x = np.nan  # code is not an indicator</code></pre>", FAKE_MATHJAX))
    (root / "chapter.html").write_text(_page(
        "Chapter", "<h1>1. Chapter</h1><h2 id='results'>1.1. Results</h2><p>Nothing to see.</p>"
        "<div class='cell'><div class='cell_input'><pre>fig, ax = plt.subplots()\nax.plot(x, y)</pre></div>"
        "<div class='cell_output'><img src='img/fig.png' alt='plot'></div></div>"
        "<p><em>Figure: the plot above.</em></p>"
        "<a href='index.html'>home</a> <a href='./'>home again</a>"
        "<div class='bibliography'><p>Nan, H. et al. (2010) Nature.</p></div>"))
    return root


def test_checker_passes_a_clean_site(tmp_path):
    exe = _require_browser()
    site = _clean_site(tmp_path / "site")
    report = bc.check_site(site, screenshot_dir=tmp_path / "shots", chromium=exe)
    print(report.summary())
    assert report.problems == []
    assert set(report.pages) == {"index.html", "chapter.html"}
    assert report.math_status["index.html"] == "mathjax3"
    assert report.front_page == "index.html" and report.load_seconds["index.html"] < 2.0
    assert {p.name for p in report.screenshots} == {"front_page_1400.png", "front_page_400.png",
                                                   "chapter_1400.png", "chapter_400.png"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in report.screenshots)
    assert report.site_bytes == sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def test_checker_reports_every_kind_of_defect(tmp_path):
    exe = _require_browser()
    site = _clean_site(tmp_path / "site")
    (site / "img" / "plain.png").write_bytes(_png_bytes())  # a headline figure without font metadata
    (site / "index.html").write_text(_page(
        "Front", "<h1>Report</h1><p>China land sink: nan PgC/yr</p>"
        "<p><span class='math'>\\(x^2\\)</span></p>"  # no MathJax on this page
        "<img src='img/missing.png' alt='gone'>"
        "<p><em>Figure: a caption whose figure is missing.</em></p>"
        "<h2>3.3. 3. Global and zonal totals</h2><p>As the seed study says.</p>"
        "<p>Results in /secret/build/dir/results.</p>"
        "<div class='cell'><div class='cell_input'><pre>import numpy as np\nimport pandas as pd</pre></div></div>"
        "<div class='cell_output'><div class='output traceback'><pre>Traceback (most recent call last):\n"
        "ValueError: boom</pre></div></div>"
        "<div style='width: 900px'>a line of 900 px</div>"
        "<figure class='lc-headline-figure'><img src='img/plain.png' alt='no metadata'></figure>"
        "<a href='chapter.html'>ok</a> <a href='nowhere.html'>broken</a> <a href='chapter.html#no-such-id'>anchor</a>"
        "<a href='missing.csv'>download</a>"
        "<script>console.error('boom from console');</script>"
        "<script>throw new Error('uncaught boom');</script>",
        "<script src='http://example.invalid/cdn.js'></script>"))
    (site / "orphan.html").write_text(_page("Orphan", "<p>Not linked, still checked: NaN</p>"))
    report = bc.check_site(site, chromium=exe, max_front_page_seconds=0.0, max_site_bytes=100,
                           forbidden_text=("/secret/build/dir",))
    print(report.summary())
    kinds = report.kinds()
    assert kinds == {"missing-image", "broken-link", "broken-anchor", "js-error", "external-request",
                     "unrendered-math", "nan", "slow-front-page", "site-too-large", "caption-without-figure",
                     "traceback", "internal-vocabulary", "plumbing", "double-numbering", "absolute-path",
                     "overflow", "front-page-order", "unreadable-figure"}, kinds
    text = report.summary()
    for needle in ("img/missing.png", "nowhere.html", "missing.csv", "chapter.html#no-such-id", "boom from console",
                   "uncaught boom", "example.invalid", "China land sink: nan", "a caption whose figure is missing",
                   "seed study", "3.3. 3. Global", "/secret/build/dir", "imports", "at 400 px the page is",
                   "plain.png does not record", "key-messages box"):
        assert needle in text, needle
    assert {p.page for p in report.problems if p.kind == "nan"} == {"index.html", "orphan.html"}
    assert not [p for p in report.problems if p.page == "chapter.html"]
    assert {p.page for p in report.problems if "nowhere.html" in p.detail} == {"index.html"}
    assert len(report.problems) == len({(p.page, p.kind, p.detail) for p in report.problems})


def test_meta_refresh_front_page_is_followed(tmp_path):
    exe = _require_browser()
    site = _clean_site(tmp_path / "site")
    (site / "intro.html").write_text((site / "index.html").read_text())
    (site / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    (site / "chapter.html").write_text(_page("Chapter", "<h2 id='results'>R</h2><a href='intro.html'>home</a>"))
    (site / "intro.html").write_text((site / "intro.html").read_text().replace("chapter.html#results", "chapter.html"))
    report = bc.check_site(site, screenshot_dir=tmp_path / "shots", chromium=exe)
    print(report.summary())
    assert report.problems == []
    assert report.redirects == {"index.html": "intro.html"} and report.front_page == "intro.html"


def test_small_headline_text_is_unreadable(tmp_path):
    exe = _require_browser()
    site = _clean_site(tmp_path / "site")
    _headline_png(site / "img" / "headline.png", fontsize=6)  # 6 pt at 100 dpi, shown 1:1 -> 6.25 pt
    report = bc.check_site(site, chromium=exe)
    assert report.kinds() == {"unreadable-figure"}, report.summary()
    assert "smallest text 6 pt" in report.summary()


def test_reader_checks_without_a_browser():
    assert bc.plumbing_reason("# Parameters\nn_mc = 5") == "papermill's injected parameters"
    assert bc.plumbing_reason("results_dir = None\nseed = 1") == "the parameters cell"
    assert bc.plumbing_reason("import numpy as np\nfrom x import (a,\n    b)\nwarnings.filterwarnings('ignore')")
    assert "imports" in bc.plumbing_reason("import a\nimport b\nimport c\nds = load()")
    assert bc.plumbing_reason("write_summary('x', src, inds)").startswith("bookkeeping")
    assert bc.plumbing_reason("fig, ax = plt.subplots()\nax.plot(x, y)") is None
    assert bc.double_numbered(["3.3. 3. Global and zonal totals", "3. Global", "2. 1989–2018 trends"]) == \
        ["3.3. 3. Global and zonal totals"]
    assert len(bc.vocabulary_hits("the seed study; seed 003; the science brief; the slides")) == 4
    assert bc.vocabulary_hits("seedlings study the slide rule") == []
    assert bc.rendered_font_pt(10, 100, 864, 900) == pytest.approx(10.0)


def test_missing_site_is_reported(tmp_path):
    report = bc.check_site(tmp_path / "nothing")
    assert report.kinds() == {"missing-site"}
