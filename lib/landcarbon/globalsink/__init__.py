"""The global land sink from the Global Carbon Budget, NOAA/Scripps CO2 and the Oceanic Niño Index.

* :mod:`.io` — loaders of the real files (GCB workbooks, CDIAC national fossil emissions, NOAA GML and
  Scripps CO2 products, ONI) and the builders/loaders of their compact extracts shipped with the package;
* :mod:`.sink` — the residual land sink S_LAND,res = E_FOS + E_LUC − G_ATM − S_OCEAN with its 1σ, G_ATM
  from NOAA's growth rate, the airborne fraction, trends, the ENSO response, the edition comparison and
  the chapter's indicators, importable from one place; the code lives in :mod:`.residual` (budget identity,
  residual sink, uncertainty, airborne fraction, trends), :mod:`.enso`, :mod:`.editions` and :mod:`.chapter`
  (indicators and the numbers the prose quotes);
* :mod:`.demo` — a digital twin of the global budget with a known land sink, trend and ENSO response;
* :mod:`.plots` — the chapter's figures.

Signs (the package's convention, see :mod:`landcarbon.units`): every term is a positive number in PgC yr⁻¹ — emissions (E_FOS, E_LUC) are sources,
the atmospheric growth G_ATM and the sinks (S_OCEAN, S_LAND, cement carbonation) are uptakes; a land
*sink* is a positive uptake.
"""
from .demo import demo_co2_growth, demo_global_budget, demo_oni
from .io import (read_cdiac_national, read_gcb_extract, read_gcb_workbook, read_noaa_annual,
                 read_noaa_flask_monthly, read_noaa_growth_rate, read_noaa_monthly, read_oni, read_scripps_daily)
from .sink import (BudgetUncertainty, airborne_fraction, annual_index, compare_editions, compare_g_atm,
                   edition_summary, enso_lag_profile, source_label,
                   enso_regression, g_atm_from_noaa, indicators, period_mean, residual_land_sink, sink_trends,
                   stated_uncertainty)

__all__ = [
    "read_gcb_workbook", "read_gcb_extract", "read_cdiac_national", "read_noaa_annual", "read_noaa_growth_rate",
    "read_noaa_monthly", "read_scripps_daily", "read_noaa_flask_monthly", "read_oni",
    "residual_land_sink", "stated_uncertainty", "BudgetUncertainty", "period_mean", "g_atm_from_noaa",
    "compare_g_atm", "airborne_fraction", "sink_trends", "enso_regression", "enso_lag_profile", "source_label",
    "edition_summary", "annual_index",
    "compare_editions", "indicators", "demo_global_budget", "demo_oni", "demo_co2_growth",
]
