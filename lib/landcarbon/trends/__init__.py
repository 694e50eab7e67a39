"""Trend tests (Mann–Kendall family, Theil–Sen), field significance and driver attribution.

* :mod:`.mk` — numba kernels over (pixel, time) arrays reproducing pymannkendall 1.4.3;
* :mod:`.field` — xarray wrappers (``apply_ufunc(..., dask="parallelized")``) and
  Benjamini–Hochberg field significance (Wilks 2016);
* :mod:`.attribution` — detrending, partial correlation and random-forest importance per pixel;
* :mod:`.regional` — climate zones by MAT and area-integrated regional series;
* :mod:`.io` — reading the er_upscaling products;
* :mod:`.sites` — trends at flux towers (seasonal tests, FDR, regional tests per climate zone);
* :mod:`.simulation` — seasonally correlated noise and the empirical size of a test.
"""
from .attribution import (DRIVER_CLASSES, detrend, dominant_driver, lag1_autocorrelation, partial_correlation,
                          rf_importance, share_of_pixels)
from .io import load_er_products
from .field import (STAT_NAMES, fdr_significance, field_significance, trend_agreement, trend_categories,
                    trend_field)
from .mk import METHODS, MULTIVARIATE_METHODS, critical_z, mk_test, multivariate_test, p_value, sens_slope
from .sites import complete_years, site_trends, zone_regional_tests
from .simulation import empirical_size, seasonal_noise
from .regional import MAT_THRESHOLDS_DEGC, ZONE_NAMES, climate_zones, regional_totals, regional_trend_table

__all__ = ["METHODS", "MULTIVARIATE_METHODS", "mk_test", "multivariate_test", "p_value", "sens_slope", "critical_z", "trend_field", "STAT_NAMES",
           "fdr_significance", "field_significance", "detrend", "partial_correlation", "dominant_driver",
           "rf_importance", "share_of_pixels", "DRIVER_CLASSES", "climate_zones", "regional_totals",
           "ZONE_NAMES", "MAT_THRESHOLDS_DEGC", "trend_agreement", "trend_categories",
           "regional_trend_table", "lag1_autocorrelation", "load_er_products", "complete_years", "site_trends",
           "zone_regional_tests", "empirical_size", "seasonal_noise"]
