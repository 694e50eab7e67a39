"""NEP sample augmentation: synthetic samples never leave their tower (leak assertion), the SMOTE geometry,
the k-NN density and density ratio against brute force, and the truth experiment's bookkeeping."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landcarbon import upscaling as up
from landcarbon.upscaling.augment import check_no_leak


def _table(n_sites=30, n=24, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sites):
        tropical = s < 3                                          # a skewed network: 3 tropical towers of 30
        base = rng.normal(26 if tropical else 10, 2)
        for m in range(n):
            ta = base + 8 * np.sin(2 * np.pi * m / 12) * (0.2 if tropical else 1.0) + rng.normal(0, 1)
            rows.append({"site": f"T{s:02d}", "TA": ta, "SW_IN": 150 + 5 * ta + rng.normal(0, 10), "VPD": max(ta / 3, 0),
                         "P": rng.gamma(2, 1.5), "MAT": base, "climate_zone": "tropical" if tropical else "temperate"})
    t = pd.DataFrame(rows)
    t["NEP"] = 0.1 * t.TA - 0.002 * t.TA**2 + rng.normal(0, 0.3, len(t))
    for f in up.FEATURES:
        if f not in t:
            t[f] = 0.0
    return t


def test_synthetic_samples_inherit_their_towers_and_lie_on_segments():
    t = _table()
    a = up.augment_table(t, up.FEATURES, "NEP", quantile=0.3, multiplier=2.0, seed=3)
    syn = a[a.synthetic]
    assert len(syn) > 0 and a.attrs["n_synthetic"] == len(syn)
    assert (syn.site.to_numpy() == t.site.to_numpy()[syn.parent.to_numpy()]).all()      # the leak assertion's basis
    for _, r in syn.head(50).iterrows():
        p = t.iloc[int(r.parent)]
        same = t[t.site == p.site]
        # x' = x_i + lambda (x_nn - x_i) with one lambda for all features and the target
        found = False
        for _, q in same.iterrows():
            d = q[["TA", "SW_IN", "NEP"]].to_numpy(float) - p[["TA", "SW_IN", "NEP"]].to_numpy(float)
            lam = (r.TA - p.TA) / d[0] if d[0] else np.nan
            if np.isfinite(lam) and 0 <= lam <= 1 and np.allclose(p[["TA", "SW_IN", "NEP"]].to_numpy(float) + lam * d,
                                                                  [r.TA, r.SW_IN, r.NEP], atol=1e-9):
                found = True
                break
        assert found


def test_cross_validation_never_leaks_a_tower():
    t = _table()
    for method in ("smote", "weights", None):
        oof, fold = up.cv_augmented(t, up.FEATURES, "NEP", method=method, n_splits=5, seed=1, n_estimators=10,
                                    aug_kw={"quantile": 0.3})
        assert np.isfinite(oof).all()
        assert (pd.Series(fold).groupby(t.site.to_numpy()).nunique() == 1).all()
    with pytest.raises(AssertionError, match="leaked"):
        check_no_leak(["A", "B"], ["C"], ["A", "C"])
    with pytest.raises(AssertionError, match="not in the training fold"):
        check_no_leak(["A", "B"], ["C"], ["D"])


def test_knn_density_and_density_ratio_against_brute_force():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(6, 1, (30, 2))])   # a sparse second cluster
    dens = up.knn_density(X, k=5)
    Z = (X - X.mean(0)) / X.std(0)
    d = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    rk = np.sort(d, axis=1)[:, 5]
    brute = 1 / rk**2
    np.testing.assert_allclose(dens, brute / np.median(brute), rtol=1e-10)
    # the reference (land) holds the two clusters equally often: the sparse cluster is under-represented
    ref = np.vstack([rng.normal(0, 1, (2000, 2)), rng.normal(6, 1, (2000, 2))])
    r = up.density_ratio(X, ref, k=30)
    assert np.median(r[300:]) > 3 > np.median(r[:300])
    w = up.density_weights(X, reference=ref)
    assert w.mean() == pytest.approx(1.0) and w[300:].mean() > 3 * w[:300].mean()


def test_truth_experiment_bookkeeping():
    """Columns of the twin experiment: the change columns follow from the others."""
    from landcarbon.upscaling import evaluation as ev
    from landcarbon.world import demo

    world = demo.demo_drivers(2, years=(2001, 2004), resolution=10.0, variables=["TA", "SW_IN", "VPD", "P", "NEP_true"]).compute()
    twin = demo.demo_site_observations(2, n_sites=60, years=(2001, 2004), resolution=10.0, record_years=(2001, 2004))
    twin["NEP"] = -twin["NEE"]
    grid = up.grid_features(world).compute()
    table = up.site_feature_table(twin, targets=["NEP"])
    ref = up.reference_climate(grid, world.area, n=5000)
    res = ev.nep_truth_experiment(table, up.FEATURES, grid, world.area, up.annual_sum(world.NEP_true).mean("year"),
                                  n_members=1, reference=ref, n_estimators=5)
    assert list(res.index) == ["none", "smote", "weights"]
    np.testing.assert_allclose(res["RMSE change (%)"], 100 * (res["global RMSE"] / res.loc["none", "global RMSE"] - 1))
    assert res.loc["none", "tropical |bias| change (%)"] == 0.0
    truth = float(up.global_total(up.annual_sum(world.NEP_true).mean("year").assign_attrs(units="gC m-2 yr-1"), world.area))
    assert res["global NEP truth"].iloc[0] == pytest.approx(truth, rel=1e-6)
