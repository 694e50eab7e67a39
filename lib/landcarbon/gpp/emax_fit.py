"""Seasonal maximum light-use efficiency ε_max per vegetation class, fitted to flux-tower GPP.

MOD17 is linear in ε_max: GPP = ε_max · X with X = f(Tmin) f(VPD) FPAR PAR (the stress-scaled absorbed
PAR, :func:`landcarbon.gpp.lue.potential_apar`). For one vegetation class c and one season month m two
estimators are offered (``estimator=``):

* ``"ratio"`` (default), the ratio of sums

  .. math:: \\hat\\varepsilon_{c,m} = \\frac{\\sum_{s \\in c} \\sum_{t \\in m} GPP_{st}}{\\sum_{s \\in c} \\sum_{t \\in m} X_{st}}

  the weighted least-squares estimate when the error variance grows in proportion to the flux (the random
  error of eddy-covariance fluxes grows with their magnitude, Richardson et al. 2006, Agric. For. Meteorol.
  136:1). It stays unbiased to first order when X itself is noisy (FPAR from a satellite product: errors in the
  regressor), because E[Σ X_obs] = Σ X;
* ``"least_squares"``, through the origin, Σ X·GPP / Σ X² (the posterior mean under a flat prior and
  constant Gaussian errors); errors in X attenuate it by Σ X² / Σ (X² + var X_err) — on the twin about −1 %
  on average and −2 % in sparse shrubland.

Uncertainty is a **bootstrap over sites** (towers resampled with replacement within the class; the site is
the unit of independent information, as months of one tower share its representativeness error), and skill is judged by **leave-sites-out**
cross-validation. A constant ε_max (one per class) is the same estimator with all months pooled. The
data-model fusion of the source study (seasonal ε_max per vegetation type, optimised against Chinese
towers; the study's DLM model itself is not reproduced) is the idea; the estimators are our formulation.

Season month: the calendar month in the northern hemisphere, shifted by six months in the southern
(:func:`landcarbon.gpp.demo.season_month`), so that one seasonal curve per class serves both hemispheres.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, located
from . import lue

__all__ = ["EmaxFit", "ESTIMATORS", "design_matrix", "fit_emax", "predict_gpp", "leave_sites_out", "gpp_metrics",
           "monthly_bias", "seasonal_bias_amplitude", "recovery_table"]


@dataclass
class EmaxFit:
    """Fitted ε_max [gC MJ⁻¹] per class (rows) and season month 1..12 (columns; one column if constant).

    ``sigma`` is the bootstrap standard deviation, ``lo``/``hi`` the 2.5/97.5 % bootstrap quantiles,
    ``identified`` marks class-months with enough signal (others are interpolated, flagged False), ``n_sites`` the number of towers per class.
    """

    classes: list
    emax: np.ndarray
    sigma: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    identified: np.ndarray
    n_sites: np.ndarray
    seasonal: bool
    boot: np.ndarray = field(repr=False, default=None)

    def value(self, pft, smonth):
        """ε_max for class names ``pft`` and season months ``smonth`` (broadcasting); NaN for unknown classes."""
        pft = np.asarray(pft)
        sm = np.asarray(smonth)
        pft, sm = np.broadcast_arrays(pft, sm)
        idx = {c: k for k, c in enumerate(self.classes)}
        row = np.vectorize(lambda p: idx.get(str(p), -1), otypes=[int])(pft) if pft.size else np.zeros(pft.shape, int)
        col = (sm.astype(int) - 1) if self.seasonal else np.zeros(sm.shape, dtype=int)
        out = self.emax[np.maximum(row, 0), np.clip(col, 0, self.emax.shape[1] - 1)]
        return np.where(row >= 0, out, np.nan)

    def to_frame(self) -> pd.DataFrame:
        """Long table: class, season month, ε_max, σ, 2.5 %, 97.5 %, identified, towers."""
        rows = []
        for k, c in enumerate(self.classes):
            for m in range(self.emax.shape[1]):
                rows.append({"class": c, "season_month": m + 1 if self.seasonal else 0, "emax": self.emax[k, m],
                             "sigma": self.sigma[k, m], "lo": self.lo[k, m], "hi": self.hi[k, m],
                             "identified": bool(self.identified[k, m]), "n_sites": int(self.n_sites[k])})
        return pd.DataFrame(rows)


def design_matrix(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, pft):
    """X = f(Tmin) f(VPD) FPAR PAR [MJ m⁻² d⁻¹] with the MOD17 ramps of each site's class (site, time) arrays;
    ``pft`` has one class name per site (first axis)."""
    p = lue.mod17_parameters(np.asarray(pft))
    ramps = {k: np.asarray(v)[:, None] for k, v in p.items() if k != "lue_max_gc_mj"}
    return lue.potential_apar(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, **ramps)


ESTIMATORS = ("ratio", "least_squares")


def _sums(y, x, smonth, seasonal, estimator="ratio"):
    """Per-site numerator and denominator sums (site, n_col) over finite pairs: (Σ GPP, Σ X) for the ratio
    estimator, (Σ X·GPP, Σ X²) for least squares."""
    ok = np.isfinite(y) & np.isfinite(x)
    if estimator == "ratio":
        num, den = np.where(ok, y, 0.0), np.where(ok, x, 0.0)
    else:
        num, den = np.where(ok, x * y, 0.0), np.where(ok, x * x, 0.0)
    ncol = 12 if seasonal else 1
    col = (smonth.astype(int) - 1) if seasonal else np.zeros(y.shape, dtype=int)
    snum = np.zeros((y.shape[0], ncol))
    sden = np.zeros((y.shape[0], ncol))
    for m in range(ncol):
        sel = col == m
        snum[:, m] = np.sum(np.where(sel, num, 0.0), axis=1)
        sden[:, m] = np.sum(np.where(sel, den, 0.0), axis=1)
    return snum, sden


def _check(y, x, pft, smonth):
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    smonth = np.asarray(smonth)
    pft = np.asarray(pft)
    if y.shape != x.shape or y.ndim != 2 or smonth.shape != y.shape or pft.shape != (y.shape[0],):
        raise DataError(located(f"shapes must be (site, time) for GPP, X and season month and (site,) for the class; "
                                f"got {y.shape}, {x.shape}, {smonth.shape}, {pft.shape}", where="landcarbon.gpp.emax_fit"))
    sm = smonth[np.isfinite(y) & np.isfinite(x)]
    if sm.size and (sm.min() < 1 or sm.max() > 12):
        raise DataError(located("season months must be 1..12", where="landcarbon.gpp.emax_fit"))
    return y, x, pft, smonth


def fit_emax(gpp, x, pft, smonth, *, seasonal: bool = True, n_boot: int = 200, seed=0, min_sites: int = 3,
             min_signal: float = 0.1, estimator: str = "ratio") -> EmaxFit:
    """Fit ε_max per class (and season month), with a bootstrap over sites.

    Parameters
    ----------
    gpp : (site, time) array   tower GPP [gC m⁻² d⁻¹]
    x : (site, time) array     stress-scaled APAR [MJ m⁻² d⁻¹] (:func:`design_matrix`)
    pft : (site,) array        vegetation class of each tower
    smonth : (site, time)      season month 1..12
    seasonal : bool            12 values per class (True) or one (False)
    n_boot : int               bootstrap resamples of the towers of each class
    seed : int or Generator    random stream of the bootstrap
    min_sites : int            a class-month needs at least this many towers with data
    min_signal : float         ... and Σ X² (the information on ε_max) at least this fraction of the class's
                               best month
    estimator : str            ``"ratio"`` (Σ GPP / Σ X) or ``"least_squares"`` (Σ X·GPP / Σ X²); see the module

    Returns
    -------
    :class:`EmaxFit`. Class-months that are not identified are interpolated (circularly) between the
    identified months of the class, or get the class's constant ε_max when fewer than two are identified.
    """
    y, x, pft, smonth = _check(gpp, x, pft, smonth)
    if estimator not in ESTIMATORS:
        raise ConfigError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    classes = sorted({str(c) for c in pft})
    ncol = 12 if seasonal else 1
    shape = (len(classes), ncol)
    emax, sigma, lo, hi = (np.full(shape, np.nan) for _ in range(4))
    ident = np.zeros(shape, dtype=bool)
    nsite = np.zeros(len(classes), dtype=int)
    boot = np.full((len(classes), ncol, n_boot), np.nan)
    snum, sden = _sums(y, x, smonth, seasonal, estimator)
    snum1, sden1 = snum.sum(axis=1), sden.sum(axis=1)
    sxx = sden if estimator == "least_squares" else _sums(y, x, smonth, seasonal, "least_squares")[1]
    for k, c in enumerate(classes):
        sel = np.flatnonzero(pft == c)
        nsite[k] = sel.size
        counts = rng.multinomial(sel.size, np.full(sel.size, 1.0 / sel.size), size=n_boot).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            const = snum1[sel].sum() / sden1[sel].sum()
            const_b = (counts @ snum1[sel]) / (counts @ sden1[sel])
            est = snum[sel].sum(axis=0) / sden[sel].sum(axis=0)
            est_b = (counts @ snum[sel]) / (counts @ sden[sel])          # (n_boot, ncol)
        sites_with = (sxx[sel] > 0).sum(axis=0)
        power = sxx[sel].sum(axis=0)
        ok = (sites_with >= min_sites) & (power >= min_signal * power.max()) & np.isfinite(est) if power.max() > 0 \
            else np.zeros(ncol, bool)
        ident[k] = ok
        emax[k] = _fill(est, ok, const)
        eb = np.stack([_fill(est_b[b], ok, const_b[b]) for b in range(n_boot)])
        boot[k] = eb.T
        sigma[k] = np.nanstd(eb, axis=0, ddof=1)
        lo[k], hi[k] = np.nanquantile(eb, [0.025, 0.975], axis=0)
    return EmaxFit(classes, emax, sigma, lo, hi, ident, nsite, seasonal, boot)


def _fill(values, ok, const):
    """Class-months without signal: circular linear interpolation between identified season months (our
    formulation; a seasonal curve is smooth), or the class's constant ε_max when fewer than two are identified."""
    if ok.all():
        return values
    if values.size == 1 or ok.sum() < 2:
        return np.where(ok, values, const)
    m = np.arange(1, values.size + 1, dtype=float)
    return np.where(ok, values, np.interp(m, m[ok], values[ok], period=values.size))


def predict_gpp(fit: EmaxFit, x, pft, smonth):
    """GPP = ε̂_max(class, season month) · X [gC m⁻² d⁻¹]; ``pft`` broadcasts against ``x`` (e.g. (site, 1))."""
    return fit.value(pft, smonth) * np.asarray(x, dtype=float)


def gpp_metrics(pred, obs) -> dict:
    """R² (1 − SSE/SST), RMSE [gC m⁻² d⁻¹] and relative bias Σ(pred − obs)/Σ obs over finite pairs."""
    p, o = np.asarray(pred, dtype=float).ravel(), np.asarray(obs, dtype=float).ravel()
    ok = np.isfinite(p) & np.isfinite(o)
    p, o = p[ok], o[ok]
    if p.size < 2:
        raise DataError(located("fewer than 2 finite pairs", where="gpp_metrics"))
    sse = np.sum((p - o) ** 2)
    # rounded to 12 decimals so that an exact zero (a least-squares intercept) does not print as 1e-16
    return {"r2": round(float(1.0 - sse / np.sum((o - o.mean()) ** 2)), 12), "rmse": round(float(np.sqrt(sse / p.size)), 12),
            "bias_rel": round(float((p - o).sum() / o.sum()), 12), "n": int(p.size)}


def _folds(pft, n_folds, rng):
    """Fold of each site: within each class, a random permutation dealt round-robin (every class is in
    every training set when it has more than one tower)."""
    fold = np.zeros(pft.size, dtype=int)
    for c in np.unique(pft):
        sel = np.flatnonzero(pft == c)
        perm = rng.permutation(sel)
        fold[perm] = (np.arange(perm.size) + rng.integers(n_folds)) % n_folds
    return fold


def leave_sites_out(gpp, x, pft, smonth, *, n_folds: int = 5, seed=0, seasonal: bool = True, **fit_kw):
    """Leave-sites-out cross-validation: each tower is predicted by a fit that never saw it.

    Returns ``(pred, fold)``: held-out predictions (site, time) [gC m⁻² d⁻¹] and the fold of each site.
    Towers of a class with a single tower are predicted with NaN (nothing to learn from).
    """
    y, x, pft, smonth = _check(gpp, x, pft, smonth)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    fold = _folds(pft, n_folds, rng)
    pred = np.full(y.shape, np.nan)
    for f in range(n_folds):
        test = fold == f
        if not test.any() or test.all():
            continue
        fit = fit_emax(y[~test], x[~test], pft[~test], smonth[~test], seasonal=seasonal, n_boot=2, seed=rng, **fit_kw)
        pred[test] = predict_gpp(fit, x[test], pft[test][:, None], smonth[test])
    return pred, fold


def monthly_bias(pred, obs, pft, smonth, *, min_share: float = 0.05) -> pd.DataFrame:
    """Relative bias Σ(pred − obs)/Σ obs per class and season month (rows with less than ``min_share`` of the
    class's GPP are dropped: winter months carry no weight)."""
    p, o = np.asarray(pred, dtype=float), np.asarray(obs, dtype=float)
    rows = []
    for c in np.unique(pft):
        sel = np.asarray(pft) == c
        ps, os_, ss = p[sel], o[sel], np.asarray(smonth)[sel]
        ok = np.isfinite(ps) & np.isfinite(os_)
        total = os_[ok].sum()
        for m in range(1, 13):
            mm = ok & (ss == m)
            if total <= 0 or os_[mm].sum() < min_share * total:
                continue
            rows.append({"class": str(c), "season_month": m, "bias_rel": (ps[mm] - os_[mm]).sum() / os_[mm].sum(),
                         "share": os_[mm].sum() / total})
    return pd.DataFrame(rows, columns=["class", "season_month", "bias_rel", "share"])


def seasonal_bias_amplitude(table: pd.DataFrame) -> pd.Series:
    """Half the range (max − min)/2 of the monthly relative bias of each class [1] — how much a model is
    too high in one season and too low in another."""
    g = table.groupby("class")["bias_rel"]
    return (g.max() - g.min()) / 2.0


def recovery_table(fit: EmaxFit, truth) -> pd.DataFrame:
    """Fitted vs planted ε_max per class and season month; ``truth(class, smonth)`` returns the planted value.

    Columns: class, season_month, emax, sigma, planted, rel_error (fit/planted − 1), identified, n_sites.
    """
    df = fit.to_frame()
    df["planted"] = truth(df["class"].to_numpy(), np.maximum(df["season_month"].to_numpy(), 1))
    df["rel_error"] = df["emax"] / df["planted"] - 1.0
    return df
