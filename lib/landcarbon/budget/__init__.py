"""China land carbon budget: top-down / bottom-up closure (Jiang et al. 2016).

Everything the chapter ``notebooks/05_budget_closure.ipynb`` computes lives in this package:

* :mod:`.io` — the literature table ``china_budget_components.csv`` (manifest id
  ``china-budget-jiang2016``; data-source label :data:`SOURCE_LABEL`, *published (transcribed)*
  numbers, never ``real:``) and the inversion chapter's result;
* :mod:`.combination` — :class:`Estimate` and the error conventions :func:`combine` (``"linear"`` =
  fully correlated errors add, ``"quadrature"`` = independent errors), :func:`mean_of_estimates`,
  :func:`inverse_variance_mean`, :func:`monte_carlo_sum`, :func:`implied_residual`;
* :mod:`.identities` — the accounting identities :func:`topdown_land_sink`, :func:`bottomup_land_sink`,
  :func:`net_ecosystem_production`, the RCC correction :func:`rcc_unseen` and the pool sums;
* :mod:`.jiang2016` — :func:`reproduce_jiang2016` (the published headline numbers under one stated set
  of rules, :data:`CLOSURE_RULE`), :func:`reproduction_table`, :func:`indicators`;
* :mod:`.sensitivity` — the closure and NEP under the alternative conventions;
* :mod:`.plots` — the chapter's figures (flows with the trade and RCC numbers on their arrows).

Numbers are formatted by the report's one formatter, :func:`landcarbon.publish.reporting.format_value`
(round half-up, :func:`round_half_up`).

Sign convention of the compendium: a land *sink* is a positive uptake of carbon from the atmosphere, in PgC
yr-1. NEP is positive for net ecosystem uptake (NEP = −NEE). Lateral fluxes (river leaching, burial,
export, trade, RCC emissions) are positive magnitudes; each identity states the sign with which it enters.

Reference: Jiang F., Chen J.M., Zhou L., Ju W., Zhang H., Machida T., Ciais P., Peters W., Wang H., Chen B.,
Liu L., Zhang C., Matsueda H., Sawa Y. (2016) A comprehensive estimate of recent carbon sinks in China
using both top-down and bottom-up approaches. Sci. Rep. 6, 22130, doi:10.1038/srep22130. Lateral-flux
accounting after Ciais et al. (2008, doi:10.5194/bg-5-1259-2008); reduced-carbon-compound (RCC)
correction after Suntharalingam et al. (2005, doi:10.1029/2005GB002466).
"""
from __future__ import annotations

from .combination import (PGC, Estimate, combine, implied_residual, inverse_variance_mean, mean_of_estimates,
                          monte_carlo_sum, round_half_up)
from .identities import (bottomup_land_sink, net_ecosystem_production, pool_sum, pool_table, rcc_unseen,
                         topdown_land_sink)
from .io import (ALLOWED_UNITS, DATASET_ID, REQUIRED_COLUMNS, SOURCE_LABEL, get, read_budget_table,
                 read_inversion_land_sink, source_label)
from .jiang2016 import (CLOSURE_RULE, QUANTITY_LABELS, TRADE_READING, TRADE_UNPLACED, indicators,
                        land_sink_conventions, reproduce_jiang2016, reproduction_table, steps_table)
from .plots import plot_closure_sensitivity, plot_lateral_flows, plot_topdown_bottomup
from .sensitivity import closure_sensitivity, nep_sensitivity

__all__ = [
    "Estimate", "PGC", "REQUIRED_COLUMNS", "ALLOWED_UNITS", "DATASET_ID", "SOURCE_LABEL", "source_label",
    "read_budget_table", "get", "pool_table", "pool_sum", "combine", "mean_of_estimates", "inverse_variance_mean",
    "monte_carlo_sum", "rcc_unseen", "topdown_land_sink", "bottomup_land_sink", "net_ecosystem_production",
    "implied_residual", "land_sink_conventions", "read_inversion_land_sink", "reproduce_jiang2016",
    "reproduction_table", "steps_table", "QUANTITY_LABELS", "indicators", "round_half_up", "CLOSURE_RULE", "TRADE_READING", "TRADE_UNPLACED",
    "closure_sensitivity", "nep_sensitivity", "plot_lateral_flows", "plot_topdown_bottomup",
    "plot_closure_sensitivity",
]
