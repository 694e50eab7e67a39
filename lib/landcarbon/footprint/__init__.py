"""Flux footprints and the representativeness of flux towers.

Where does a tower see, and does it see what we upscale?

* :mod:`.ffp` — the flux footprint parameterisation FFP (Kljun et al. 2015): ψ_M, scaled distance,
  F*, crosswind dispersion, peak distance, exact along-wind cumulative footprint, validity limits;
* :mod:`.climatology` — footprints and footprint climatologies on a grid (numba kernel), R % source
  areas and their contours, many sites in parallel with dask;
* :mod:`.representativeness` — footprint-weighted land-cover fractions and NDVI, location bias
  against a target pixel, climate-space representativeness of a tower network;
* :mod:`.demo` — the digital twin: turbulence of a site-year and a patchy landscape with a planted
  offset between the footprint and the tower's pixel (known truth);
* :mod:`.io` — reader of FLUXNET/AmeriFlux turbulence files (USTAR, V_SIGMA, MO_LENGTH, WD, WS, ZL).

Names are imported lazily, so ``import landcarbon.footprint`` stays cheap.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # model
    "psi_m": "ffp", "length_scale": "ffp", "fstar": "ffp", "sigma_y_star": "ffp", "crosswind_scale": "ffp",
    "peak_distance": "ffp", "crosswind_integrated": "ffp", "crosswind_cdf": "ffp", "fetch_distance": "ffp",
    "footprint_2d": "ffp", "validity_flags": "ffp", "validate_inputs": "ffp", "describe_flags": "ffp",
    "FootprintValidityError": "ffp", "VALIDITY_FLAGS": "ffp", "XSTAR_PEAK": "ffp", "FSTAR_INTEGRAL": "ffp",
    # grids and climatologies
    "FootprintGrid": "climatology", "footprint_grid": "climatology", "footprint_on_grid": "climatology",
    "footprint_climatology": "climatology", "climatologies": "climatology", "source_area_level": "climatology",
    "source_area": "climatology", "source_area_contours": "climatology", "source_area_table": "climatology",
    "upwind_extent": "climatology", "smooth_authors": "climatology", "step_flags": "climatology",
    "invalid_table": "climatology",
    # representativeness
    "footprint_weighted_mean": "representativeness", "class_fractions": "representativeness",
    "area_fractions": "representativeness", "pixel_weights": "representativeness", "disc_weights": "representativeness",
    "location_bias": "representativeness", "tower_representativeness": "representativeness",
    "climate_features": "representativeness", "network_distance": "representativeness",
    "network_representativeness": "representativeness",
    # twin and readers
    "demo_turbulence": "demo", "demo_landscape": "demo", "demo_field_landscape": "demo", "field_truth": "demo",
    "canopy_geometry": "demo", "IGBP_NDVI": "demo", "read_turbulence": "io", "read_landscape": "io",
    # network
    "FLUXNET2015_HH_TOWERS": "network", "tower_table": "network", "tower_grid": "network", "tower_climatologies": "network",
    "annual_climate": "network", "source_area_sizes": "network", "coverage_curve": "representativeness",
    # chapter
    "indicators": "summary", "field_estimate": "summary", "combined_source": "summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'landcarbon.footprint' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
