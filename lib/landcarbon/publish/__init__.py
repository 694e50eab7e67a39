"""Publishing half of the compendium: everything that turns the science modules into the report.

* :mod:`~landcarbon.publish.pipeline`  — papermill runner (order, cache, logs, provenance)
* :mod:`~landcarbon.publish.report`    — generated report pages and the Jupyter Book build
* :mod:`~landcarbon.publish.reporting` — key indicators (``summary.json``), glue, number formatting
* :mod:`~landcarbon.publish.notebook`  — helpers every analysis notebook calls (``prepare``, banners)
* :mod:`~landcarbon.publish.cli`       — the ``landcarbon`` command
* :mod:`~landcarbon.publish.paths`, :mod:`~landcarbon.publish.atomic` — where files live; atomic writes

The science modules (``landcarbon.flux``, ``landcarbon.trends``, …) never import the pipeline or the
report; they use only :mod:`paths` and :mod:`atomic` for file locations and safe writes.
"""
