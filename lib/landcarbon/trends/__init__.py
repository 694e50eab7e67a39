"""Trend tests (Mann–Kendall family, Theil–Sen), field significance and driver attribution.

* :mod:`.mk` — numba kernels over (pixel, time) arrays reproducing pymannkendall 1.4.3;
* :mod:`.field` — xarray wrappers (``apply_ufunc(..., dask="parallelized")``) and
  Benjamini–Hochberg field significance (Wilks 2016);
* :mod:`.attribution` — detrending, partial correlation and random-forest importance per pixel.
"""
from .mk import METHODS, mk_test, p_value, sens_slope

__all__ = ["METHODS", "mk_test", "p_value", "sens_slope"]
