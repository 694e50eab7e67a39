"""Trend fields on xarray objects (lazy with dask) and their field significance.

:func:`trend_field` runs the Mann–Kendall/Theil–Sen kernels of :mod:`.mk` through
``xarray.apply_ufunc(..., dask="parallelized")``: on a NumPy-backed DataArray the kernel uses numba
threads over pixels; on a dask-backed one every chunk is handled by the single-threaded twin of the
kernel, so dask (threads, processes or a ``dask.distributed`` cluster) provides the parallelism — one
level of parallelism at a time. With a distributed client active (``landcarbon run --scheduler``) the
statistics are persisted on the workers (:func:`landcarbon.scale.persist`), so the maps, shares and
files derived from them reuse one kernel pass.

:func:`fdr_significance` controls the false discovery rate of the many per-pixel tests
(Benjamini & Hochberg 1995, doi:10.1111/j.2517-6161.1995.tb02031.x) with the recommendation of
Wilks (2016, doi:10.1175/BAMS-D-15-00267.1) to use α_FDR = 2·α_global for spatially correlated fields.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigError, DataError, located
from . import _kernels as K
from .mk import METHODS, _ALIASES, critical_z, mk_test

__all__ = ["trend_field", "fdr_significance", "field_significance", "trend_categories", "trend_agreement",
           "STAT_NAMES"]

#: variables returned by :func:`trend_field` (in the order of the kernel's stat axis)
STAT_NAMES = K.OUT_NAMES + ("p",)
_DESCRIPTIONS = {
    "s": ("Mann-Kendall score S", "1"),
    "var_s": ("variance of S used by the test (corrected for the modified tests)", "1"),
    "z": ("standardised Mann-Kendall statistic (continuity corrected)", "1"),
    "tau": ("Kendall tau-a = S / (n(n-1)/2)", "1"),
    "slope": ("Theil-Sen slope", None),
    "intercept": ("Conover intercept: fitted value at the first time step", None),
    "slope_low": ("lower confidence limit of the Theil-Sen slope", None),
    "slope_high": ("upper confidence limit of the Theil-Sen slope", None),
    "n": ("number of valid values", "1"),
    "var_s_uncorrected": ("tie-corrected variance of S before autocorrelation correction", "1"),
    "variance_factor": ("autocorrelation correction n/n* applied to Var(S)", "1"),
    "p": ("two-sided p-value of the trend test", "1"),
}


def _mk_block(x, *, method, alpha, lag, period, hamed_rao_negative, p_formula, parallel):
    r = mk_test(x, method, alpha, lag=lag, period=period, hamed_rao_negative=hamed_rao_negative,
                p_formula=p_formula, parallel=parallel)
    return np.stack([r[k] for k in STAT_NAMES], axis=-1)


def trend_field(da: xr.DataArray, dim: str = "year", method: str = "original", alpha: float = 0.05, *,
                lag: int | None = None, period: int = 12, hamed_rao_negative: str = "nan",
                p_formula: str = "accurate", step_units: str = "yr") -> xr.Dataset:
    """Mann–Kendall test and Theil–Sen slope of every series of ``da`` along ``dim``.

    Parameters
    ----------
    da : xarray.DataArray
        Field with a time-like dimension ``dim`` (equally spaced; NaN = missing, e.g. ocean). May be
        dask-backed; ``dim`` is rechunked into one chunk if needed (the test needs whole series).
        ``attrs["units"]`` (e.g. ``gC m-2 yr-1``) is carried to the slope units.
    dim : str
        Dimension along which trends are computed (``"year"`` for annual data, ``"time"`` for
        monthly data with ``method="seasonal"``).
    method : str
        One of :data:`landcarbon.trends.METHODS` (see :func:`landcarbon.trends.mk_test`).
    alpha : float
        Significance level (two-sided) and 1 − confidence level of the slope interval.
    step_units : str
        Unit of one step along ``dim`` (``"yr"``; for the seasonal test the slope is per cycle,
        i.e. per year for monthly data with period 12).

    Returns
    -------
    xarray.Dataset
        ``slope``/``slope_low``/``slope_high`` [units of ``da`` per ``step_units``], ``intercept``
        [units of ``da``], ``p``, ``z``, ``tau``, ``s``, ``var_s``, ``n``, ``var_s_uncorrected``,
        ``variance_factor`` and the boolean ``significant`` (|Z| > z_{1−α/2}); the other dimensions
        and coordinates of ``da`` are kept; lazy if ``da`` is.
    """
    if not isinstance(da, xr.DataArray):
        raise DataError(located("trend_field needs an xarray.DataArray", where=type(da).__name__,
                                fix="select one variable, e.g. ds['ER']"))
    if dim not in da.dims:
        raise DataError(located(f"dimension {dim!r} not found", where=f"{da.name}: dims {da.dims}",
                                fix="pass dim= the time dimension (e.g. 'year' or 'time')"))
    name = _ALIASES.get(method, method)
    if name not in METHODS:
        raise ConfigError(located(f"unknown trend test {method!r}", where="trend_field",
                                  fix="use one of " + ", ".join(METHODS)))
    is_dask = da.chunks is not None
    if is_dask and len(da.chunksizes[dim]) > 1:
        da = da.chunk({dim: -1})
    kw = dict(method=name, alpha=alpha, lag=lag, period=period, hamed_rao_negative=hamed_rao_negative,
              p_formula=p_formula, parallel=not is_dask)
    stats = xr.apply_ufunc(
        _mk_block, da.astype(np.float64), kwargs=kw,
        input_core_dims=[[dim]], output_core_dims=[["trend_stat"]],
        dask="parallelized", output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"trend_stat": len(STAT_NAMES)}},
    )
    from ..scale import persist

    stats = persist(stats)  # on a cluster: computed once, kept on the workers for every later use
    units = da.attrs.get("units", "1")
    out = xr.Dataset(coords={c: v for c, v in da.coords.items() if dim not in v.dims})
    for k, nm in enumerate(STAT_NAMES):
        v = stats.isel(trend_stat=k, drop=True)
        desc, u = _DESCRIPTIONS[nm]
        if u is None:
            u = units if nm == "intercept" else f"{units} {step_units}-1"
        v.attrs = {"long_name": desc, "units": u}
        out[nm] = v
    zc = critical_z(alpha)
    out["significant"] = (np.abs(out["z"]) > zc).where(out["n"] >= 2, False)
    out["significant"].attrs = {"long_name": f"trend significant at alpha={alpha} (|Z| > {zc:.4f})"}
    out.attrs = {
        "trend_method": name, "alpha": alpha, "dim": dim, "period": period if name == "seasonal" else 0,
        "hamed_rao_negative": hamed_rao_negative, "p_formula": p_formula,
        "references": "Mann 1945; Kendall 1975; Sen 1968; Hamed & Rao 1998; Yue & Wang 2002, 2004; "
                      "Yue et al. 2002; Hirsch et al. 1982 (as pymannkendall 1.4.3)",
    }
    if "source" in da.attrs:
        out.attrs["source"] = da.attrs["source"]
    return out


def fdr_significance(p, alpha_fdr: float = 0.10):
    """Benjamini–Hochberg false-discovery-rate control of many p-values.

    With the m valid p-values sorted, p_(1) ≤ … ≤ p_(m), the threshold is
    p* = max{ p_(i) : p_(i) ≤ (i/m)·α_FDR } and every test with p ≤ p* is a discovery
    (Benjamini & Hochberg 1995; Wilks 2016 eq. 3). NaN p-values (ocean, too short series) are not
    counted in m and are never significant.

    Parameters
    ----------
    p : array_like or xarray.DataArray
        p-values (computed into memory).
    alpha_fdr : float
        Controlled false discovery rate. Wilks (2016) recommends α_FDR = 2·α_global (0.10 for a
        global 5 % test) when the field is spatially correlated.

    Returns
    -------
    significant : same type/shape as ``p`` (bool)
    p_threshold : float
        p*, or 0.0 if nothing is significant.
    q : same type/shape as ``p``
        BH-adjusted p-values (``statsmodels.stats.multitest.multipletests(method="fdr_bh")``).
    """
    if not (0 < alpha_fdr < 1):
        raise ConfigError(located(f"alpha_fdr must be in (0, 1), got {alpha_fdr}", where="fdr_significance"))
    is_xr = isinstance(p, xr.DataArray)
    arr = np.asarray(p.values if is_xr else p, dtype=float)
    flat = arr.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    m = ok.size
    sig = np.zeros(flat.shape, bool)
    q = np.full(flat.shape, np.nan)
    thr = 0.0
    if m:
        order = ok[np.argsort(flat[ok], kind="stable")]
        ps = flat[order]
        ranks = np.arange(1, m + 1)
        below = ps <= ranks / m * alpha_fdr
        if below.any():
            kmax = np.flatnonzero(below)[-1]
            thr = float(ps[kmax])
            sig[order[: kmax + 1]] = True
        qs = np.minimum.accumulate((ps * m / ranks)[::-1])[::-1]
        q[order] = np.minimum(qs, 1.0)
    sig = sig.reshape(arr.shape)
    q = q.reshape(arr.shape)
    if is_xr:
        sig = p.copy(data=sig)
        sig.attrs = {"long_name": f"significant after Benjamini-Hochberg FDR control at {alpha_fdr}"}
        q = p.copy(data=q)
        q.attrs = {"long_name": "Benjamini-Hochberg adjusted p-value", "units": "1"}
    return sig, thr, q


def field_significance(trend: xr.Dataset, alpha_global: float = 0.05, *, factor: float = 2.0) -> xr.Dataset:
    """Add FDR field significance to a :func:`trend_field` result (Wilks 2016).

    Uses α_FDR = ``factor``·α_global (Wilks' recommendation factor = 2 for spatially correlated
    fields) and adds ``significant_fdr``, ``q`` and the attributes ``alpha_fdr``, ``p_fdr_threshold``,
    ``field_significant`` (any local discovery = the global null is rejected).
    """
    a_fdr = factor * alpha_global
    sig, thr, q = fdr_significance(trend["p"].compute(), a_fdr)
    out = trend.copy()
    out["significant_fdr"] = sig
    out["q"] = q
    out.attrs.update(alpha_fdr=a_fdr, p_fdr_threshold=thr, field_significant=int(bool(sig.any())),
                     fdr_reference="Benjamini & Hochberg 1995; Wilks 2016 (alpha_FDR = 2 alpha_global)")
    return out


def trend_categories(trend: xr.Dataset, significant: str = "significant") -> xr.DataArray:
    """−1 significant decrease, 0 not significant, +1 significant increase (int8; NaN slope -> 0)."""
    sig = trend[significant].fillna(False).astype(bool)
    c = xr.where(sig & (trend["slope"] > 0), 1, xr.where(sig & (trend["slope"] < 0), -1, 0)).astype("int8")
    c.name = "trend_category"
    c.attrs = {"flag_values": [-1, 0, 1], "flag_meanings": "significant_decrease not_significant significant_increase"}
    return c


def trend_agreement(estimate: xr.Dataset, truth: xr.Dataset, mask: xr.DataArray | None = None, *,
                    significant: str = "significant", weights: xr.DataArray | None = None) -> dict[str, float]:
    """How well a trend map reproduces a reference (truth) trend map (our definitions, shares 0–1).

    * ``sign_agreement_truth_significant``: where the truth's trend is significant, share of
      pixels whose estimated slope has the same sign;
    * ``category_agreement_truth_significant``: there, share with the same category (same sign
      AND significant in the estimate) — the detection rate;
    * ``category_agreement_union``: over pixels significant in either map, share with identical
      category (penalises misses and false alarms alike);
    * ``precision``: among pixels significant in the estimate, share significant with the same
      sign in the truth;
    * ``slope_correlation``: Pearson correlation of the two slope fields; ``slope_regression``:
      least-squares slope of estimate on truth (1 = no attenuation).
    Shares are area-weighted when ``weights`` (e.g. cell area) are given.
    """
    ce, ct = trend_categories(estimate, significant), trend_categories(truth, significant)
    valid = estimate["slope"].notnull() & truth["slope"].notnull()
    if mask is not None:
        valid = valid & mask
    w = (xr.ones_like(estimate["slope"]) if weights is None else weights.broadcast_like(estimate["slope"]))
    w = w.where(valid, 0.0)

    def share(cond, where):
        ww = w.where(where, 0.0)
        tot = float(ww.sum())
        return float((ww * cond).sum()) / tot if tot > 0 else float("nan")

    ts = ct != 0
    es = ce != 0
    same_sign = np.sign(estimate["slope"]) == np.sign(truth["slope"])
    a = estimate["slope"].where(valid).values.ravel()
    b = truth["slope"].where(valid).values.ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    return {
        "sign_agreement_truth_significant": share(same_sign, ts),
        "category_agreement_truth_significant": share(ce == ct, ts),
        "category_agreement_union": share(ce == ct, ts | es),
        "precision": share(ce == ct, es),
        "share_significant_estimate": share(es, valid),
        "share_significant_truth": share(ts, valid),
        "slope_correlation": float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 else float("nan"),
        "slope_regression": float(np.polyfit(b[ok], a[ok], 1)[0]) if ok.sum() > 2 else float("nan"),
        "n_pixels": int(ok.sum()),
    }
