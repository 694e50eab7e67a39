"""Sample augmentation for upscaling from a sparse, climatically skewed flux network (NEE/NEP).

Flux towers sit mostly in temperate North America and Europe; a random forest trained on them learns the
tropics from a few short records and, where warm bright months of temperate summers dominate the leaves,
over-predicts tropical uptake. Two remedies for the under-represented climate space (our implementation of
published ideas):

* :func:`smote_regression` — SMOTE for regression (Torgo et al. 2013, doi:10.1007/978-3-642-40669-0_33;
  Branco et al. 2017, PMLR 74:36): for each tower-month in a rare region of climate space, synthetic
  samples x' = x_i + λ (x_nn − x_i), y' = y_i + λ (y_nn − y_i), λ ~ U(0, 1), between it and one of its k
  nearest neighbours **of the same tower** (so every synthetic sample inherits its parent's site group and
  no tower can leak across cross-validation folds — asserted);
* :func:`density_weights` — inverse-density sample weights w ∝ 1 / p̂(x) (capped), with p̂ the k-nearest-
  neighbour density in standardised climate space.

Rarity is judged in climate space (standardised ``TA``, ``SW_IN``, ``VPD``, ``P``, ``MAT`` by default): a
tower-month is rare when its k-NN density is below the ``quantile`` of all densities; it receives
``round(multiplier · (p_q / p̂ − 1))`` synthetic copies, at most ``max_copies`` (our choice of schedule).
Augmentation is applied inside each training fold only (:func:`cv_augmented`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, located

__all__ = ["CLIMATE_FEATURES", "knn_density", "density_ratio", "density_weights", "smote_regression",
           "augment_table", "cv_augmented", "check_no_leak", "reference_climate"]

CLIMATE_FEATURES = ("TA", "SW_IN", "VPD", "P", "MAT")


def _standardise(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def knn_density(X, *, k: int = 10) -> np.ndarray:
    """Relative k-nearest-neighbour density p̂ ∝ k / (n · r_k^d) in standardised space (median 1).

    ``r_k`` is the distance to the k-th neighbour (Loftsgaarden & Quesenberry 1965,
    doi:10.1214/aoms/1177700079); duplicates get the smallest positive distance.
    """
    from sklearn.neighbors import NearestNeighbors

    Z = _standardise(np.asarray(X, dtype=float))
    n, d = Z.shape
    if n <= k:
        raise DataError(located(f"need more than k={k} samples for a k-NN density, got {n}", where="knn_density"))
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    rk = dist[:, -1]
    pos = rk[rk > 0]
    rk = np.maximum(rk, pos.min() if pos.size else 1.0)
    dens = 1.0 / rk**d
    return dens / np.median(dens)


def density_ratio(X, reference, *, k: int = 50, clip: float = 0.02) -> np.ndarray:
    """How under-represented each sample's climate is: p_reference(x) / p_samples(x).

    Estimated with a k-nearest-neighbour classifier on the pooled, jointly standardised set of the samples
    and an equally large random subset of ``reference`` (e.g. area-weighted land cell-months of the grid the
    model predicts): with f the share of reference points among the k neighbours of x,
    r = f/(1 − f) (f clipped to [clip, 1 − clip]). r > 1 where towers are rarer than land — the covariate
    shift that importance weighting corrects (Shimodaira 2000, doi:10.1016/S0378-3758(00)00115-4).
    """
    from sklearn.neighbors import NearestNeighbors

    X = np.asarray(X, dtype=float)
    R = np.asarray(reference, dtype=float)
    if R.shape[0] < X.shape[0]:
        raise DataError(located(f"reference sample ({R.shape[0]}) smaller than the samples ({X.shape[0]})",
                                where="density_ratio", fix="pass more reference points"))
    rng = np.random.default_rng(7)
    R = R[rng.choice(R.shape[0], X.shape[0], replace=False)]
    Z = np.vstack([X, R])
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    Z = (Z - mu) / np.where(sd > 0, sd, 1.0)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z[: X.shape[0]])
    f = np.clip((idx[:, 1:] >= X.shape[0]).mean(axis=1), clip, 1 - clip)
    return f / (1 - f)


def reference_climate(features, area, *, climate=CLIMATE_FEATURES, n: int = 50000, seed: int = 0) -> np.ndarray:
    """An area-weighted random sample (n, len(climate)) of land cell-months of a feature grid
    (:func:`landcarbon.upscaling.grid_features`) — the climate the upscaled product covers."""
    rng = np.random.default_rng([int(seed), 5])
    timed = [c for c in climate if "time" in features[c].dims]
    if not timed:
        raise DataError(located("need at least one monthly climate feature", where="reference_climate"))
    nt = features[timed[0]].sizes["time"]
    shape2 = features[timed[0]].isel(time=0).shape
    ok = np.ones(shape2, bool)
    for c in climate:
        v = features[c]
        ok &= np.isfinite(v.isel(time=0).values if "time" in v.dims else np.broadcast_to(v.values, shape2))
    a = np.where(ok, np.broadcast_to(np.asarray(area.values, dtype=float), shape2), 0.0).ravel()
    cells = rng.choice(a.size, size=int(n), p=a / a.sum())
    months = rng.integers(0, nt, int(n))
    out = np.empty((int(n), len(climate)))
    for j, c in enumerate(climate):
        v = features[c]
        if "time" in v.dims:
            out[:, j] = v.transpose("time", ...).values.reshape(nt, -1)[months, cells]
        else:
            out[:, j] = np.broadcast_to(v.values, shape2).ravel()[cells]
    return out[np.isfinite(out).all(axis=1)]


def density_weights(X, *, k: int = 10, cap: float = 10.0, reference=None) -> np.ndarray:
    """Sample weights w ∝ 1/p̂(x) (or ∝ the density ratio to ``reference``, :func:`density_ratio`), capped
    at ``cap`` × their median, normalised to mean 1."""
    w = 1.0 / knn_density(X, k=k) if reference is None else density_ratio(X, reference)
    w = np.minimum(w, cap * np.median(w))
    return w / w.mean()


def smote_regression(X, y, groups, *, rare, copies, k: int = 5, seed: int = 0):
    """Synthetic samples between rare samples and their nearest neighbours of the same group.

    Parameters
    ----------
    X : array (n, p)
        Features (indicator columns of a tower are constant, so they survive the interpolation).
    y : array (n,)
    groups : array (n,)
        Site of each sample; neighbours are searched within the same site only.
    rare : bool array (n,)
        Samples to augment.
    copies : int array (n,)
        Synthetic samples to draw per rare sample.
    k : int
        Neighbours considered (fewer when a site has fewer samples).

    Returns
    -------
    X_new, y_new, groups_new, parent : arrays of the synthetic samples; ``groups_new == groups[parent]``.
    """
    rng = np.random.default_rng([int(seed), 1813])
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    groups = np.asarray(groups)
    Z = _standardise(X)
    xs, ys, gs, ps = [], [], [], []
    for g in np.unique(groups[rare]):
        idx = np.flatnonzero(groups == g)
        if idx.size < 2:
            continue
        zi = Z[idx]
        d2 = ((zi[:, None, :] - zi[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(d2, np.inf)
        kk = min(k, idx.size - 1)
        nn = np.argsort(d2, axis=1)[:, :kk]
        for a in np.flatnonzero(rare[idx]):
            m = int(copies[idx[a]])
            if m <= 0:
                continue
            b = nn[a, rng.integers(0, kk, m)]
            lam = rng.random(m)[:, None]
            xs.append(X[idx[a]] + lam * (X[idx[b]] - X[idx[a]]))
            ys.append(y[idx[a]] + lam[:, 0] * (y[idx[b]] - y[idx[a]]))
            gs.append(np.full(m, g, dtype=groups.dtype))
            ps.append(np.full(m, idx[a]))
    if not xs:
        return np.empty((0, X.shape[1])), np.empty(0), np.empty(0, dtype=groups.dtype), np.empty(0, dtype=int)
    X_new, y_new, g_new, parent = np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), np.concatenate(ps)
    assert np.array_equal(g_new, groups[parent]), "a synthetic sample left its parent's site group"
    return X_new, y_new, g_new, parent


def augment_table(table: pd.DataFrame, features, target: str, *, climate=CLIMATE_FEATURES, quantile: float = 0.25,
                  multiplier: float = 1.0, max_copies: int = 6, k_density: int = 10, k_neighbours: int = 5,
                  reference=None, seed: int = 0) -> pd.DataFrame:
    """``table`` plus SMOTE-for-regression samples in its rare climate (column ``synthetic`` marks them,
    ``parent`` holds the row each was drawn from; ``site`` is inherited).

    Without ``reference`` a sample is rare when its k-NN density is below the ``quantile`` of the densities
    and gets ``round(multiplier · (p_q/p̂ − 1))`` copies. With ``reference`` (climate samples of the land the
    model predicts, :func:`reference_climate`) rarity is the density ratio r (:func:`density_ratio`): samples
    with r > 1 get ``round(multiplier · (r − 1))`` copies — towers are multiplied where land is
    under-sampled, not where climate is merely unusual. Copies are capped at ``max_copies``.
    """
    if not 0 < quantile < 1:
        raise ConfigError(located(f"quantile must be in (0, 1), got {quantile}", where="augment_table"))
    feats = list(features)
    Xc = table[list(climate)].to_numpy(dtype=float)
    if reference is None:
        dens = knn_density(Xc, k=k_density)
        thr = np.quantile(dens, quantile)
        rare = dens < thr
        copies = np.where(rare, np.minimum(np.round(multiplier * (thr / dens - 1.0)), max_copies), 0).astype(int)
    else:
        r = density_ratio(Xc, reference)
        rare = r > 1.0
        copies = np.where(rare, np.minimum(np.round(multiplier * (r - 1.0)), max_copies), 0).astype(int)
    cols = feats + [target]
    X_new, y_new, g_new, parent = smote_regression(table[feats].to_numpy(dtype=float), table[target].to_numpy(dtype=float),
                                                   table["site"].to_numpy(), rare=rare, copies=copies,
                                                   k=k_neighbours, seed=seed)
    syn = pd.DataFrame(X_new, columns=feats)
    syn[target] = y_new
    syn["site"] = g_new
    syn["synthetic"] = True
    syn["parent"] = parent
    for c in ("PFT", "climate_zone", "lat", "lon"):
        if c in table:
            syn[c] = table[c].to_numpy()[parent]
    base = table.copy()
    base["synthetic"] = False
    base["parent"] = np.arange(len(table))
    out = pd.concat([base, syn[[c for c in syn.columns if c in base.columns or c in cols]]], ignore_index=True)
    out.attrs.update(table.attrs)
    out.attrs["n_synthetic"] = int(len(syn))
    out.attrs["rare_share"] = float(rare.mean())
    return out


def check_no_leak(train_sites, test_sites, synthetic_sites) -> None:
    """Raise AssertionError if a synthetic sample belongs to a test site or to no training site."""
    tr, te, sy = set(map(str, train_sites)), set(map(str, test_sites)), set(map(str, synthetic_sites))
    if sy & te:
        raise AssertionError(f"synthetic samples of test towers {sorted(sy & te)[:5]} leaked into training")
    if not sy <= tr:
        raise AssertionError("synthetic samples of towers that are not in the training fold")


def cv_augmented(table: pd.DataFrame, features, target: str, *, method: str | None = "smote", n_splits: int = 5,
                 seed: int = 0, aug_kw=None, **forest_kw):
    """Leave-sites-out CV where augmentation (``"smote"``, ``"weights"`` or None) sees training folds only.

    Returns the out-of-fold prediction of every original row (np.ndarray) and the fold of each row; every
    fold's synthetic samples are checked with :func:`check_no_leak`.
    """
    from sklearn.model_selection import GroupKFold

    from .core import make_forest

    if method not in (None, "smote", "weights"):
        raise ConfigError(located(f"unknown augmentation {method!r}", where="cv_augmented",
                                  fix="use 'smote', 'weights' or None"))
    feats = list(features)
    sites = table["site"].to_numpy().astype(str)
    uniq = np.unique(sites)
    rng = np.random.default_rng(seed)
    perm = {s: i for i, s in enumerate(rng.permutation(uniq))}
    groups = np.array([perm[s] for s in sites])
    oof = np.full(len(table), np.nan)
    fold = np.full(len(table), -1)
    for kf, (tr, te) in enumerate(GroupKFold(n_splits=n_splits).split(table, groups=groups)):
        train = table.iloc[tr]
        w = None
        if method == "smote":
            train = augment_table(train.reset_index(drop=True), feats, target, seed=seed + kf, **(aug_kw or {}))
            check_no_leak(np.unique(sites[tr]), np.unique(sites[te]), train.loc[train["synthetic"], "site"].unique())
        elif method == "weights":
            kw = aug_kw or {}
            w = density_weights(train[list(kw.get("climate", CLIMATE_FEATURES))].to_numpy(dtype=float),
                                reference=kw.get("reference"))
        rf = make_forest(seed + 1000 + kf, **forest_kw)
        rf.fit(train[feats].to_numpy(dtype=np.float32), train[target].to_numpy(dtype=float), sample_weight=w)
        oof[te] = rf.predict(table.iloc[te][feats].to_numpy(dtype=np.float32))
        fold[te] = kf
    return oof, fold
