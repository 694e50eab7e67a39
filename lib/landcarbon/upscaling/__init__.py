"""Site-to-globe upscaling of ecosystem respiration (ER) and NEP with random forests (FLUXCOM lineage).

* :mod:`.core` — the random forest, leave-sites-out cross-validation, ensembles, chunk-wise grid
  prediction, area-weighted totals and the products the trends chapter reads;
* :mod:`.features` — one predictor set for towers and grids (drivers, memory, anomalies, climate class,
  IGBP class);
* :mod:`.methods` — global ER by NT, DT and DT-RH (a learned DT-RH/NT ratio correction);
* :mod:`.augment` — sample augmentation of under-represented climate space for NEE/NEP;
* :mod:`.evaluation` — skill in the study's units, truth comparisons on the demo twin, experiment helpers.

Sign convention: ER (= RECO) is a release to the atmosphere and positive; NEE = RECO − GPP; NEP = −NEE.
"""
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .features import FEATURES, IGBP_CLASSES, grid_features, site_feature_table, zone_code
from .methods import (STUDY_GLOBAL_ER, RatioModel, apply_ratio, bootstrap_ratio_models, dtrh_difference,
                      fit_ratio_model, read_dtrh_ratios)
from .augment import (augment_table, check_no_leak, cv_augmented, density_ratio, density_weights, knn_density,
                      reference_climate, smote_regression)
from . import evaluation

__all__ = list(_core_all) + ["FEATURES", "IGBP_CLASSES", "grid_features", "site_feature_table", "zone_code",
                             "STUDY_GLOBAL_ER", "RatioModel", "apply_ratio", "bootstrap_ratio_models",
                             "dtrh_difference", "fit_ratio_model", "read_dtrh_ratios", "augment_table",
                             "check_no_leak", "cv_augmented", "density_ratio", "density_weights", "knn_density",
                             "reference_climate", "smote_regression", "evaluation"]
