"""The residual land sink, its uncertainty, trends, ENSO response and the stability across budget editions.

The chapter imports these analyses from one place (``from landcarbon.globalsink import sink as S``); each
lives in a module named for what it holds:

* :mod:`landcarbon.globalsink.residual` — the budget identity and the residual land sink
  S_LAND,res = E_FOS + E_LUC − G_ATM − S_OCEAN with its 1σ (the budget's stated conventions), G_ATM from
  NOAA's growth rate, period means, the airborne fraction and the sink's trends;
* :mod:`landcarbon.globalsink.enso` — the annual ONI, the regression of the detrended sink on it, its lag
  profile and its check on the demo twin;
* :mod:`landcarbon.globalsink.editions` — the revision of every term from one budget edition to the next;
* :mod:`landcarbon.globalsink.chapter` — the chapter's source labels, indicators, decadal table and the
  numbers its prose quotes.
"""
from __future__ import annotations

from .chapter import chapter_facts, decadal_table, indicators, source_label
from .editions import compare_editions, edition_summary
from .enso import annual_index, enso_lag_profile, enso_regression, twin_enso_check
from .residual import (SERIES_LABELS,  # noqa: F401 (the old module-level name)
                       TERMS, BudgetUncertainty, airborne_fraction, compare_g_atm, g_atm_from_noaa,
                       period_mean, residual_land_sink, sink_trends, stated_uncertainty)

__all__ = ["BudgetUncertainty", "stated_uncertainty", "residual_land_sink", "g_atm_from_noaa", "compare_g_atm",
           "period_mean", "airborne_fraction", "sink_trends", "annual_index", "enso_regression", "enso_lag_profile",
           "compare_editions", "edition_summary", "indicators", "source_label", "decadal_table", "twin_enso_check",
           "chapter_facts", "TERMS"]
