"""Build the monitoring report (Jupyter Book 1.x) from the executed notebooks and ``results/``.

:func:`generate_pages` writes the generated parts of the book into ``book/generated/``. Nothing in
them is typed by hand: every number is read from a ``results/<analysis>/summary.json``.

Front page (driven by ``book/key_indicators.yaml``, see :func:`load_key_indicators`):

* ``key_messages.md``       — 3–5 plain-language statements, each a number with its uncertainty,
  period, data source and a link (from the entries' ``message`` templates);
* ``headline_estimates.md`` — the entries of kind ``headline``: observations or published values only,
  with a Period column;
* ``method_tests.md``       — the entries of kind ``method-test``: results on the demo digital twin,
  next to the twin's truth where the entry names one;
* ``headlines.md``          — the chapters' headline figures (observations first), shown at their
  native size so that no label is smaller than it was drawn (see :func:`save_headline_figure`).

Other pages:

* ``indicators.md``    — every indicator of every analysis;
* ``datasets.md``      — ``data_manifest.yaml`` as a table (what, licence, how to get it, checksum);
* ``provenance.md``    — environment, package versions, data fingerprints, parameters and timings of
  the run, without absolute paths of the build machine;
* ``teaching.md``      — objectives, prerequisites, time and difficulty per chapter, from ``book/teaching.yaml``;
* ``downloads.md``     — download buttons for every notebook and ``environment.yml``, Binder buttons
  when ``repository.url`` is set in ``book/_config.yml``.

:func:`build_report` then copies MathJax 3 (from the PyPI package ``django-static-mathjax``) into the
site so that math renders without the internet, runs ``jupyter-book build`` with warnings as errors and
checks that ``index.html`` exists. ``solutions=False`` builds a copy for students: every admonition or
dropdown of class ``solution`` (or titled "Solution") is left out of the pages and of the search index
(the book's local extension ``_ext/report_tweaks.py`` does it).

One module per part of the report; every public name is importable from here:

* :mod:`~landcarbon.publish.report.display` — values, units, periods and data sources as a page shows them;
* :mod:`~landcarbon.publish.report.front_page` — key messages, headline estimates, method tests, chapter list;
* :mod:`~landcarbon.publish.report.figures` — headline figures saved legibly, and their block on the front page;
* :mod:`~landcarbon.publish.report.indicators` — the page of every indicator;
* :mod:`~landcarbon.publish.report.provenance` — the datasets and provenance pages;
* :mod:`~landcarbon.publish.report.teaching` — the teaching page;
* :mod:`~landcarbon.publish.report.downloads` — downloads and Binder buttons;
* :mod:`~landcarbon.publish.report.build` — writing the pages and running ``jupyter-book build``.
"""
from __future__ import annotations

# Besides the public names, the page builders the tests call and the constants of the former single
# module stay importable from here (noqa: F401).
from .build import _forget_stale_environment, _install_mathjax, build_report, generate_pages, no_solutions_site  # noqa: F401
from .display import chapter_titles, display_value, pretty_units, source_kind
from .downloads import _downloads_md, binder_url  # noqa: F401
from .figures import (FRONT_PAGE_COLUMN_PX, MIN_FONT_PT_KEY, READABLE_FONT_PT,  # noqa: F401
                      figure_font_metadata, save_headline_figure)
from .front_page import KINDS, KeyIndicator, front_page_md, load_key_indicators  # noqa: F401
from .indicators import _indicators_md, indicator_rows  # noqa: F401
from .provenance import _datasets_md, _provenance_md  # noqa: F401
from .teaching import _teaching_md, load_teaching  # noqa: F401

__all__ = ["generate_pages", "build_report", "indicator_rows", "load_key_indicators", "KeyIndicator",
           "pretty_units", "display_value", "source_kind", "save_headline_figure", "figure_font_metadata",
           "chapter_titles", "load_teaching", "no_solutions_site", "front_page_md", "binder_url", "MIN_FONT_PT_KEY"]
