"""NEP sample augmentation across demo worlds: does it reduce the tropical bias of the upscaled NEP?

For each world seed: the twin at 2 degrees (1989-2018), its 200 FLUXNET-like towers, NEP forests trained without
augmentation, with SMOTE for regression (density-ratio copies) and with density-ratio weights
(landcarbon.upscaling.evaluation.nep_truth_experiment), each compared with the world's true NEP map: bias in the
tropical band (|lat| <= 23.5), global RMSE, and their changes. This is the across-realisations evidence the
chapter's wording relies on (too slow for the unit tests: ~1 min per world on 2 cores).

Usage::

    .venv/bin/python benchmarks/upscaling_augmentation.py [--seeds 2022 7 11] [--members 2]
"""
from __future__ import annotations

import argparse
import os
import time
import warnings


def run(seed: int, members: int, trees: int):
    from landcarbon import upscaling as up
    from landcarbon.upscaling import evaluation as ev
    from landcarbon.world import demo

    world = demo.demo_drivers(seed, years=(1989, 2018), resolution=2.0,
                              variables=["TA", "SW_IN", "VPD", "P", "NEP_true"]).compute()
    twin = demo.demo_site_observations(seed, years=(1989, 2018), resolution=2.0, n_sites=200)
    twin["NEP"] = -twin["NEE"]
    grid = up.grid_features(world).compute()
    table = up.site_feature_table(twin, targets=["NEP"], qc_min=0.5)
    ref = up.reference_climate(grid, world.area, seed=seed)
    return ev.nep_truth_experiment(table, up.FEATURES, grid, world.area, up.annual_sum(world.NEP_true).mean("year"),
                                   n_members=members, seed=seed, reference=ref,
                                   aug_kw={"multiplier": 1.0, "max_copies": 10},
                                   n_estimators=trees, min_samples_leaf=5, n_jobs=2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[2022, 7, 11])
    ap.add_argument("--members", type=int, default=2)
    ap.add_argument("--trees", type=int, default=30)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.1f}")
    cols = ["tropical bias", "tropical truth", "global RMSE", "tropical |bias| change (%)", "RMSE change (%)"]
    for s in args.seeds:
        t0 = time.perf_counter()
        res = run(s, args.members, args.trees)
        print(f"\nworld seed {s} ({time.perf_counter() - t0:.0f} s); NEP in gC m-2 yr-1")
        print(res[cols].round(1).to_string())


if __name__ == "__main__":
    main()
