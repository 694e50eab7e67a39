"""Eddy-covariance flux processing: loaders, u* filtering, MDS gap filling, partitioning.

Public API (imported lazily, so ``import landcarbon.flux`` stays cheap):

* loaders (:mod:`.io`): ``read_reddyproc_text``, ``read_reddyproc_reference``, ``read_fluxnet2015``,
  ``read_flux_netcdf``; demo sites (:mod:`.demo`): ``demo_site``;
* potential radiation / masks (:mod:`.solar`), u* threshold (:mod:`.ustar`), MDS (:mod:`.gapfill`);
* partitioning: ``partition_nt`` (Reichstein 2005), ``partition_dt`` (Lasslop 2010),
  ``partition_dtrh`` (our formulation after Li et al. 2022), ``light_inhibition`` /
  ``partition_dt_keenan`` / ``partition_nt_keenan`` (Keenan 2019), ``partition_ml`` (RF, MLP,
  semi-parametric), ``lloyd_taylor``; the dispatcher ``partition`` and the batch API
  ``process_site_year`` / ``partition_many``; ``truth_errors`` for demo data.

Sign convention: NEE > 0 is release to the atmosphere; NEE = RECO − GPP; fluxes in umol CO2 m-2 s-1.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # helper A's modules
    "read_reddyproc_text": "io", "read_reddyproc_reference": "io", "read_fluxnet2015": "io",
    "read_flux_netcdf": "io", "make_site_dataset": "io", "validate_site_dataset": "io",
    "demo_site": "demo", "SCENARIOS": "demo",
    "potential_radiation": "solar", "potential_radiation_ds": "solar", "day_night_mask": "solar",
    "ustar_threshold": "ustar", "apply_ustar_filter": "ustar",
    "mds_gapfill": "gapfill", "gapfill_site": "gapfill", "ustar_filter_and_gapfill": "gapfill",
    # partitioning
    "lloyd_taylor": "respiration", "fit_lloyd_taylor": "respiration", "fit_rref": "respiration",
    "q10_from_e0": "respiration",
    "partition_nt": "nighttime", "partition_dt": "daytime", "partition_dtrh": "dtrh", "RH_FUNCTIONS": "dtrh",
    "light_inhibition": "inhibition", "inhibition_by_period": "inhibition",
    "partition_dt_keenan": "inhibition", "partition_nt_keenan": "inhibition",
    "partition_ml": "ml", "covariate_shift": "ml",
    "PartitionResult": "_common", "annual_sum": "_common",
    "partition": "batch", "prepare_site": "batch", "process_site_year": "batch", "partition_many": "batch",
    "METHODS": "batch", "SiteYearResult": "batch",
    "truth_errors": "metrics", "daily_means": "metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'landcarbon.flux' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
