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
    x = da.transpose(..., dim)
    vals = np.asarray(x.values, dtype=float)
    t = _index(vals.shape[-1])
    if method == "sen":
        from .mk import sens_slope

        r = sens_slope(vals)
        fit = r["intercept"][..., None] + r["slope"][..., None] * t
    elif method == "ols":
        ok = ~np.isnan(vals)
        n = ok.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            tm = np.where(ok, t, 0).sum(-1) / n
            xm = np.nansum(vals, -1) / n
            dt = np.where(ok, t - tm[..., None], 0.0)
            slope = np.nansum(dt * (vals - xm[..., None]), -1) / np.sum(dt * dt, -1)
        fit = xm[..., None] + slope[..., None] * (t - tm[..., None])
    else:
        raise ConfigError(located(f"unknown detrending method {method!r}", where="detrend",
                                  fix="use 'sen' or 'ols'"))
    out = x.copy(data=vals - fit).transpose(*da.dims)
    out.attrs = dict(da.attrs, detrended=method)
    return out


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
    names, other, tmpl, X, lead = _pixel_matrix(target, drivers, dim, detrend_method)
    V, T = X.shape[-2:]
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
    cond = np.linalg.cond(R)
    good &= np.isfinite(cond) & (cond < 1e12)
    R[~good] = np.eye(V)
    P = np.linalg.inv(R)
    r = -P[:, 0, 1:] / np.sqrt(P[:, 0, 0][:, None] * np.einsum("pvv->pv", P)[:, 1:])
    r[~good] = np.nan
    df = (n - 2 - k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tstat = r * np.sqrt(df[:, None] / (1.0 - r * r))
        p = 2.0 * stats.t.sf(np.abs(tstat), df[:, None])
    coords = {c: v for c, v in tmpl.coords.items() if dim not in v.dims}
    out = xr.Dataset(coords=coords)
    for j, nm in enumerate(names):
        out[f"r_{nm}"] = (other, r[:, j].reshape(lead), {"long_name": f"partial correlation of "
                          f"{target.name or 'target'} with {nm} given the other drivers", "units": "1"})
        out[f"p_{nm}"] = (other, p[:, j].reshape(lead), {"long_name": f"two-sided p of r_{nm} (t-test)",
                                                         "units": "1"})
    out["n"] = (other, np.where(good, n, 0).reshape(lead), {"long_name": "complete years used"})
    out.attrs = {"drivers": ",".join(names), "detrended": str(detrend_method), "controls": k}
    return out


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
            pv = xr.concat([part[f"{p_prefix}{n}"] for n in names], "drv").isel(drv=best)
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

    names, other, tmpl, X, lead = _pixel_matrix(target, drivers, dim, detrend_method)
    V, T = X.shape[-2:]
    complete = np.flatnonzero(np.all(np.isfinite(X), axis=(1, 2)))
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(complete, size=min(max_pixels, complete.size), replace=False))
    imp = np.full((pick.size, V - 1), np.nan)
    for q, i in enumerate(pick):
        rf = RandomForestRegressor(n_estimators=n_estimators, max_depth=max_depth, random_state=seed + int(i),
                                   n_jobs=1)
        rf.fit(X[i, 1:, :].T, X[i, 0, :])
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


def lag1_autocorrelation(da: xr.DataArray, dim: str = "year") -> xr.DataArray:
    """Lag-1 autocorrelation along ``dim`` per pixel (biased estimator of pymannkendall's ``__acf``:
    r₁ = Σ_t y_t y_{t+1} / Σ_t y_t², y = x − mean; series with NaN are NaN). Use on detrended data
    to decide between the original and the autocorrelation-corrected Mann–Kendall tests; under
    white noise |r₁| < 1.96/√n with 95 % probability."""
    y = da - da.mean(dim)
    n = da.sizes[dim]
    num = (y.isel({dim: slice(1, None)}).values * y.isel({dim: slice(0, n - 1)}).values)
    ax = y.get_axis_num(dim)
    r = np.sum(num, axis=ax) / np.sum(y.values ** 2, axis=ax)
    out = y.isel({dim: 0}, drop=True).copy(data=r)
    out.name = "r1"
    out.attrs = {"long_name": f"lag-1 autocorrelation along {dim}", "units": "1"}
    return out
