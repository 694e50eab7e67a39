"""Eddy-covariance flux processing: loaders, u* filtering, MDS gap filling, partitioning.

Public API (imported lazily, so ``import landcarbon.flux`` stays cheap):

* loaders (:mod:`.io`, one format per module): ``read_reddyproc_text``, ``read_reddyproc_reference``,
  ``read_fluxnet2015``, ``read_flux_netcdf``, ``read_fluxnet2015_hh_netcdf``; demo sites (:mod:`.demo`): ``demo_site``;
* formulas, one home each: Lloyd–Taylor (:mod:`.respiration`), the light-response curves and the VPD
  limitation with the shared window fitter (:mod:`.lightresponse`);
* potential radiation / masks (:mod:`.solar`), u* threshold (:mod:`.ustar`), MDS (:mod:`.gapfill`);
* partitioning: ``partition_nt`` (Reichstein 2005), ``partition_dt`` (Lasslop 2010),
  ``partition_dtrh`` (our formulation after Li et al. 2022), ``light_inhibition`` /
  ``partition_dt_keenan`` / ``partition_nt_keenan`` (Keenan 2019), ``partition_ml`` (RF, MLP,
  semi-parametric), ``lloyd_taylor``; the dispatcher ``partition`` and the batch API
  ``process_site_year`` / ``partition_many``; ``truth_errors`` for demo data; the FLUXNET2015
  towers against ONEFlux (:mod:`.towers`).

Sign convention: NEE > 0 is release to the atmosphere; NEE = RECO − GPP; fluxes in umol CO2 m-2 s-1.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # loaders and demo sites
    "read_reddyproc_text": "io", "read_reddyproc_reference": "io", "read_fluxnet2015": "io",
    "read_flux_netcdf": "io", "read_fluxnet2015_hh_netcdf": "io", "make_site_dataset": "io",
    "validate_site_dataset": "io", "fluxnet_site_years": "io",
    "demo_site": "demo", "SCENARIOS": "demo",
    "potential_radiation": "solar", "potential_radiation_ds": "solar", "day_night_mask": "solar",
    "ustar_threshold": "ustar", "apply_ustar_filter": "ustar",
    "mds_gapfill": "gapfill", "gapfill_site": "gapfill", "ustar_filter_and_gapfill": "gapfill",
    # formulas (one home each) and fitters
    "lloyd_taylor": "respiration", "fit_lloyd_taylor": "respiration", "fit_rref": "respiration",
    "q10_from_e0": "respiration", "day_night_ratio": "respiration",
    "vpd_limitation": "lightresponse", "rectangular_hyperbola": "lightresponse",
    "nonrectangular_hyperbola": "lightresponse", "RectangularHyperbola": "lightresponse",
    "NonRectangularHyperbola": "lightresponse", "LightResponseCurve": "lightresponse",
    "fit_lrc_windows": "lightresponse", "predict_lrc": "lightresponse",
    # partitioning
    "partition_nt": "nighttime", "partition_dt": "daytime", "partition_dtrh": "dtrh", "RH_FUNCTIONS": "dtrh",
    "light_inhibition": "inhibition", "inhibition_by_period": "inhibition",
    "partition_dt_keenan": "inhibition", "partition_nt_keenan": "inhibition",
    "partition_ml": "ml", "covariate_shift": "ml",
    "PartitionResult": "_common", "flux_sum": "_common", "annual_sum": "_common", "sums_by_year": "_common",
    "FluxSum": "_common", "estimate_nee_sd": "_common",
    "partition": "batch", "prepare_site": "batch", "process_site_year": "batch", "partition_many": "batch",
    "METHODS": "batch", "SiteYearResult": "batch",
    "truth_errors": "metrics", "daily_means": "metrics",
    # the FLUXNET2015 towers against ONEFlux
    "process_tower_site_year": "towers", "run_towers": "towers", "validate_against_oneflux": "towers",
    "dtrh_site_ratios": "towers",
}

__all__ = sorted(_EXPORTS)


#: sub-modules reachable as attributes (``landcarbon.flux.io`` etc.) without an explicit import
_SUBMODULES = ("io", "demo", "solar", "ustar", "gapfill", "respiration", "lightresponse", "nighttime", "daytime",
               "dtrh", "inhibition", "ml", "batch", "metrics", "plots", "towers", "chapter")


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'landcarbon.flux' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
