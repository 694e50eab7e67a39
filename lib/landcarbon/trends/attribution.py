"""Attributing inter-annual variability of a field to its drivers, pixel by pixel.

Recipe (Jung et al. 2017, doi:10.1038/nature20780):
work with annual values per pixel, **detrend** every variable first (otherwise shared trends inflate
the correlations), then

* **partial correlation** of the target (e.g. ER) with each driver, controlling for all the other
  drivers: from the per-pixel correlation matrix C of [target, drivers], with P = C⁻¹,
  ρ_{0j·rest} = −P_{0j} / √(P_00 P_jj); two-sided t-test with df = n − 2 − k (k = number of
  controlled drivers), t = ρ √(df / (1 − ρ²)).
* **random-forest importance** per pixel (scikit-learn, impurity importance of a small forest on
  the detrended anomalies) — kept small and run on a sample of pixels; it describes the model, so
  it is a cross-check of the partial-correlation map, not the primary result.
* **dominant driver** (our formulation): temperature-dominated where the strongest temperature
  partial correlation exceeds (in magnitude) the strongest water-variable one and is significant;
  water-dominated in the opposite case; "none" where the stronger group is not significant.

All functions take xarray objects with a ``year``-like dimension and keep the other coordinates.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import ConfigError, DataError, located

__all__ = ["detrend", "partial_correlation", "dominant_driver", "rf_importance",
           "DRIVER_CLASSES", "share_of_pixels", "lag1_autocorrelation"]

#: codes of :func:`dominant_driver`
DRIVER_CLASSES = {0: "none significant", 1: "temperature", 2: "water"}


def _index(n: int) -> np.ndarray:
    return np.arange(n, dtype=float)


def detrend(da: xr.DataArray, dim: str = "year", method: str = "sen") -> xr.DataArray:
    """Remove a linear trend along ``dim`` pixel by pixel (NaN-aware).

    ``method="sen"``: residual r_t = x_t − (b + Q·t), Theil–Sen slope Q and Conover intercept b
    (t = 0, 1, … along ``dim``; :func:`landcarbon.trends.mk_test`). ``method="ols"``: ordinary
    least squares line over the valid values. Units are those of ``da``.
    """
    if dim not in da.dims:
        raise DataError(located(f"dimension {dim!r} not found", where=str(da.name), fix="pass dim="))
    if method not in ("sen", "ols"):
        raise ConfigError(located(f"unknown detrending method {method!r}", where="detrend",
                                  fix="use 'sen' or 'ols'"))
    x = da.transpose(..., dim)
    if x.chunks is not None:  # dask: one task per chunk of whole series (single-threaded kernel)
        x = x.chunk({dim: -1}).astype(float)
        out = xr.apply_ufunc(_detrend_block, x, kwargs={"method": method, "parallel": False},
                             input_core_dims=[[dim]], output_core_dims=[[dim]], dask="parallelized",
                             output_dtypes=[np.float64]).transpose(*da.dims)
        out.attrs = dict(da.attrs, detrended=method)
        return out
    out = x.copy(data=_detrend_block(np.asarray(x.values, dtype=float), method=method)).transpose(*da.dims)
    out.attrs = dict(da.attrs, detrended=method)
    return out


def _detrend_block(vals: np.ndarray, *, method: str, parallel: bool = True) -> np.ndarray:
    """Residuals of :func:`detrend` for an array (..., time) (NumPy; one dask chunk at a time)."""
    t = _index(vals.shape[-1])
    if method == "sen":
        from .mk import sens_slope

        r = sens_slope(vals, parallel=parallel)
        fit = r["intercept"][..., None] + r["slope"][..., None] * t
    else:
        ok = ~np.isnan(vals)
        n = ok.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            tm = np.where(ok, t, 0).sum(-1) / n
            xm = np.nansum(vals, -1) / n
            dt = np.where(ok, t - tm[..., None], 0.0)
            slope = np.nansum(dt * (vals - xm[..., None]), -1) / np.sum(dt * dt, -1)
        fit = xm[..., None] + slope[..., None] * (t - tm[..., None])
    return vals - fit


def _pixel_matrix(target, drivers, dim, detrend_method):
    """Detrend (optionally), stack target + drivers, and reshape to (pixel, variable, time).

    Returns ``names, other, tmpl, X, lead`` with ``X`` of shape (P, V, T) and ``lead`` the
    original pixel shape (for unstacking the results).
    """
    if detrend_method:
        target = detrend(target, dim, detrend_method)
        drivers = {k: detrend(v, dim, detrend_method) for k, v in drivers.items()}
    names, other, tmpl, X = _stack(target, drivers, dim)
    lead = X.shape[:-2]
    return names, other, tmpl, X.reshape(-1, *X.shape[-2:]), lead


def _stack(target: xr.DataArray, drivers: Mapping[str, xr.DataArray], dim: str):
    names = list(drivers)
    if not names:
        raise ConfigError(located("no drivers given", where="partial_correlation"))
    arrs = [target] + [drivers[k] for k in names]
    arrs = xr.broadcast(*arrs)
    other = [d for d in arrs[0].dims if d != dim]
    data = np.stack([np.asarray(a.transpose(*other, dim).values, float) for a in arrs], axis=-2)
    return names, other, arrs[0], data      # data: (..., V, T)


def partial_correlation(target: xr.DataArray, drivers: Mapping[str, xr.DataArray], dim: str = "year", *,
                        detrend_method: str | None = "sen") -> xr.Dataset:
    """Partial correlation of ``target`` with each driver, controlling for all the other drivers.

    Parameters
    ----------
    target : xarray.DataArray
        e.g. annual ER [gC m-2 yr-1] with dims (year, lat, lon).
    drivers : mapping name -> DataArray
        Annual drivers on the same grid (e.g. ``{"TA": ..., "SWC": ..., "RH": ..., "P": ...}``).
    dim : str
        Time dimension.
    detrend_method : {"sen", "ols", None}
        Detrend every variable first (:func:`detrend`); None = use the values as they are.

    Returns
    -------
    xarray.Dataset
        ``r_<name>`` (partial correlation, 1) and ``p_<name>`` (two-sided p of the t-test with
        df = n − 2 − k), plus ``n`` (complete years used). Pixels with fewer than k + 4 complete
        years or a singular correlation matrix are NaN. Equation: ρ_{0j·rest} = −P_{0j}/√(P_00 P_jj),
        P the inverse of the correlation matrix (e.g. Whittaker 1990).
    """
    if detrend_method:
        target = detrend(target, dim, detrend_method)
        drivers = {k: detrend(v, dim, detrend_method) for k, v in drivers.items()}
    names = list(drivers)
    if not names:
        raise ConfigError(located("no drivers given", where="partial_correlation"))
    arrs = xr.broadcast(target, *[drivers[k] for k in names])
    other = [d for d in arrs[0].dims if d != dim]
    V = len(arrs)
    if any(a.chunks is not None for a in arrs):  # dask: one task per chunk of pixels, whole series
        import dask.array as dsa

        data = dsa.stack([dsa.asarray(a.transpose(*other, dim).data).astype(float) for a in arrs], axis=-2)
        stacked = xr.DataArray(data, dims=(*other, "_variable", dim)).chunk({"_variable": -1, dim: -1})
        res = xr.apply_ufunc(_partial_block, stacked, input_core_dims=[["_variable", dim]],
                             output_core_dims=[["_partial_stat"]], dask="parallelized", output_dtypes=[np.float64],
                             dask_gufunc_kwargs={"output_sizes": {"_partial_stat": 2 * (V - 1) + 1}})
        res = res.data
    else:
        X = np.stack([np.asarray(a.transpose(*other, dim).values, float) for a in arrs], axis=-2)
        res = _partial_block(X)
    coords = {c: v for c, v in arrs[0].coords.items() if dim not in v.dims}
    out = xr.Dataset(coords=coords)
    for j, nm in enumerate(names):
        out[f"r_{nm}"] = (other, res[..., j], {"long_name": f"partial correlation of "
                          f"{target.name or 'target'} with {nm} given the other drivers", "units": "1"})
        out[f"p_{nm}"] = (other, res[..., V - 1 + j], {"long_name": f"two-sided p of r_{nm} (t-test)",
                                                       "units": "1"})
    out["n"] = (other, res[..., -1].astype(np.int64), {"long_name": "complete years used"})
    out.attrs = {"drivers": ",".join(names), "detrended": str(detrend_method), "controls": V - 2}
    from ..scale import persist

    return persist(out)


def _partial_block(X: np.ndarray) -> np.ndarray:
    """Partial correlations of :func:`partial_correlation` for X (..., V, T) (variable 0 = target).

    Returns (..., 2(V−1)+1): r of drivers 1..V−1, their p-values, and the complete years used.
    """
    lead = X.shape[:-2]
    V, T = X.shape[-2:]
    X = X.reshape(-1, V, T)
    ok = np.all(np.isfinite(X), axis=1)                    # (P, T) complete years
    n = ok.sum(-1)
    k = V - 2
    Xz = np.where(ok[:, None, :], X, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = Xz.sum(-1) / n[:, None]
        Xc = np.where(ok[:, None, :], X - mean[..., None], 0.0)
        C = np.einsum("pvt,pwt->pvw", Xc, Xc)
        d = np.sqrt(np.einsum("pvv->pv", C))
        R = C / (d[:, :, None] * d[:, None, :])
    good = (n >= k + 4) & np.all(np.isfinite(R), axis=(1, 2))
    R[~good] = np.eye(V)
    # singular matrices (perfectly collinear drivers) -> NaN
    cond = np.linalg.cond(R) if R.shape[0] else np.zeros(0)
    good &= np.isfinite(cond) & (cond < 1e12)
    R[~good] = np.eye(V)
    P = np.linalg.inv(R) if R.shape[0] else R
    r = -P[:, 0, 1:] / np.sqrt(P[:, 0, 0][:, None] * np.einsum("pvv->pv", P)[:, 1:])
    r[~good] = np.nan
    df = (n - 2 - k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tstat = r * np.sqrt(df[:, None] / (1.0 - r * r))
        p = 2.0 * stats.t.sf(np.abs(tstat), df[:, None])
    out = np.concatenate([r, p, np.where(good, n, 0)[:, None].astype(float)], axis=1)
    return out.reshape(*lead, out.shape[-1])


def dominant_driver(part: xr.Dataset, temperature: Sequence[str] = ("TA",),
                    water: Sequence[str] = ("SWC", "RH", "P"), alpha: float = 0.05, *,
                    prefix: str = "r_", p_prefix: str = "p_") -> xr.DataArray:
    """Temperature- vs water-dominated pixels from partial correlations or importances (our formulation).

    For each pixel, the temperature group's score is max |r| over ``temperature`` and the water
    group's max |r| over ``water``; the larger group wins if its strongest driver is significant
    (p < ``alpha``; skipped when the Dataset has no ``p_`` variables, e.g. for RF importance).
    Returns int8 codes 0 = none significant, 1 = temperature, 2 = water (NaN input -> 0 and masked
    by ``valid``); attrs ``flag_values``/``flag_meanings``.
    """
    def group(names):
        names = [n for n in names if f"{prefix}{n}" in part]
        if not names:
            raise DataError(located("none of the drivers " + ", ".join(names) + " found", where=str(list(part)),
                                    fix="pass the driver names used in partial_correlation"))
        score = xr.concat([abs(part[f"{prefix}{n}"]) for n in names], "drv")
        best = score.fillna(-1).argmax("drv")
        sc = score.max("drv")
        if all(f"{p_prefix}{n}" in part for n in names):
            stack = xr.concat([part[f"{p_prefix}{n}"] for n in names], "drv")
            # the p-value of the best driver; lazy-friendly (no indexing by a dask array), same numbers
            pv = stack.where(xr.DataArray(np.arange(len(names)), dims="drv") == best).max("drv")
        else:
            pv = xr.zeros_like(sc)
        return sc, pv

    st, pt = group(temperature)
    sw, pw = group(water)
    valid = st.notnull() & sw.notnull()
    t_wins = st > sw
    code = xr.where(t_wins & (pt < alpha), 1, 0)
    code = xr.where(~t_wins & (pw < alpha), 2, code)
    code = code.where(valid, 0).astype("int8")
    if code.chunks is not None or valid.chunks is not None:  # small 2-D maps used many times: compute once
        import dask

        code, valid = dask.compute(code, valid)
    code.name = "dominant_driver"
    code.attrs = {"flag_values": [0, 1, 2], "flag_meanings": "none_significant temperature water",
                  "long_name": "dominant driver of inter-annual variability", "alpha": alpha,
                  "temperature_drivers": ",".join(temperature), "water_drivers": ",".join(water)}
    code.coords["valid"] = valid
    return code


def share_of_pixels(mask: xr.DataArray, valid: xr.DataArray, weights: xr.DataArray | None = None) -> float:
    """Area-weighted share (0–1) of ``valid`` pixels where ``mask`` is True."""
    w = xr.ones_like(mask, dtype=float) if weights is None else weights.broadcast_like(mask)
    w = w.where(valid, 0.0)
    if w.chunks is not None or (w * mask).chunks is not None:  # both sums in one pass (one cluster round trip)
        import dask

        tot, hit = (float(x) for x in dask.compute(w.sum(), (w * mask).sum()))
        return hit / tot if tot > 0 else float("nan")
    tot = float(w.sum())
    return float((w * mask).sum()) / tot if tot > 0 else float("nan")


def rf_importance(target: xr.DataArray, drivers: Mapping[str, xr.DataArray], dim: str = "year", *,
                  max_pixels: int = 200, n_estimators: int = 25, max_depth: int | None = 3,
                  seed: int = 0, detrend_method: str | None = "sen") -> xr.Dataset:
    """Random-forest impurity importance of each driver, per pixel, on a sample of pixels.

    One small ``sklearn.ensemble.RandomForestRegressor`` (``n_estimators`` trees, ``max_depth``) per
    pixel, fitted to the detrended annual series (n ≈ 30 samples); ``feature_importances_`` are
    normalised to sum to 1. Impurity importance is biased towards correlated and high-variance
    predictors — use it as a cross-check of :func:`partial_correlation`.

    Parameters
    ----------
    max_pixels : int
        Pixels sampled (without replacement, ``seed``) among those with complete series.

    Returns
    -------
    xarray.Dataset on a ``pixel`` dimension with coordinates of the sampled pixels and
    ``imp_<name>`` (importance share, 1) — feed it to :func:`dominant_driver` with ``prefix="imp_"``.
    """
    from sklearn.ensemble import RandomForestRegressor

    lazy = target.chunks is not None or any(v.chunks is not None for v in drivers.values())
    if lazy:  # only the complete-series mask and the sampled pixels leave the cluster
        names, other, tmpl, X, lead, complete = _sampled_pixels(target, drivers, dim, detrend_method)
    else:
        names, other, tmpl, X, lead = _pixel_matrix(target, drivers, dim, detrend_method)
        complete = np.flatnonzero(np.all(np.isfinite(X), axis=(1, 2)))
    V, T = X.shape[-2:]
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(complete, size=min(max_pixels, complete.size), replace=False))
    if lazy:
        X = _pull_pixels(X, pick, lead, detrend_method)
        rows = np.arange(pick.size)
    else:
        rows = pick
    imp = np.full((pick.size, V - 1), np.nan)
    for q, (i, row) in enumerate(zip(pick, rows)):
        rf = RandomForestRegressor(n_estimators=n_estimators, max_depth=max_depth, random_state=seed + int(i),
                                   n_jobs=1)
        rf.fit(X[row, 1:, :].T, X[row, 0, :])
        imp[q] = rf.feature_importances_
    idx = np.unravel_index(pick, lead) if lead else ()
    out = xr.Dataset()
    for d, ix in zip(other, idx):
        out.coords[d] = ("pixel", tmpl[d].values[ix] if d in tmpl.coords else ix)
    for j, nm in enumerate(names):
        out[f"imp_{nm}"] = ("pixel", imp[:, j], {"long_name": f"RF impurity importance of {nm}", "units": "1"})
    out.attrs = {"n_estimators": n_estimators, "max_depth": str(max_depth), "seed": seed,
                 "detrended": str(detrend_method)}
    return out


def _sampled_pixels(target, drivers, dim, detrend_method):
    """Lazy twin of :func:`_pixel_matrix`: the raw stacked (..., V, T) dask array and the flat indices of
    the pixels with complete series (a pixel's detrended series is complete exactly when its raw one is)."""
    names = list(drivers)
    if not names:
        raise ConfigError(located("no drivers given", where="rf_importance"))
    arrs = xr.broadcast(target, *[drivers[k] for k in names])
    other = [d for d in arrs[0].dims if d != dim]
    import dask.array as dsa

    X = dsa.stack([dsa.asarray(a.transpose(*other, dim).data).astype(float) for a in arrs], axis=-2)
    complete = np.flatnonzero(np.asarray(dsa.isfinite(X).all(axis=(-2, -1)).compute()).ravel())
    return names, other, arrs[0], X, X.shape[:-2], complete


def _pull_pixels(X, pick: np.ndarray, lead, detrend_method) -> np.ndarray:
    """(len(pick), V, T) NumPy array of the picked flat pixel indices of a lazy raw (..., V, T) array,
    detrended here pixel by pixel (:func:`detrend` is per pixel: the same numbers as on the whole grid)."""
    idx = np.unravel_index(pick, lead) if lead else ()
    raw = np.asarray(X.vindex[tuple(idx)].compute()) if len(pick) else np.zeros((0,) + X.shape[-2:])
    return _detrend_block(raw, method=detrend_method) if detrend_method else raw


def lag1_autocorrelation(da: xr.DataArray, dim: str = "year") -> xr.DataArray:
    """Lag-1 autocorrelation along ``dim`` per pixel (biased estimator of pymannkendall's ``__acf``:
    r₁ = Σ_t y_t y_{t+1} / Σ_t y_t², y = x − mean; series with NaN are NaN). Use on detrended data
    to decide between the original and the autocorrelation-corrected Mann–Kendall tests; under
    white noise |r₁| < 1.96/√n with 95 % probability."""
    if da.chunks is not None:
        da = da.chunk({dim: -1})
    y = da - da.mean(dim)
    n = da.sizes[dim]
    # .data keeps dask arrays lazy (the same NumPy reductions run per chunk)
    num = (y.isel({dim: slice(1, None)}).data * y.isel({dim: slice(0, n - 1)}).data)
    ax = y.get_axis_num(dim)
    r = num.sum(axis=ax) / (y.data ** 2).sum(axis=ax)
    out = y.isel({dim: 0}, drop=True).copy(data=r)
    out.name = "r1"
    out.attrs = {"long_name": f"lag-1 autocorrelation along {dim}", "units": "1"}
    return out
