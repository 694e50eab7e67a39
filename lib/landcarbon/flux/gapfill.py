"""Marginal Distribution Sampling (MDS) gap filling of fluxes and meteorological drivers.

Method: Reichstein et al. (2005), Global Change Biology 11:1424–1439,
doi:10.1111/j.1365-2486.2005.001002.x (appendix), as implemented in REddyProc ``sMDSGapFill``
(Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018), default "Reichstein05" statistics. For each record
to fill, the steps below are tried in order; the first that finds at least 2 measured values
gives the fill value = their mean, the fill SD = their sample SD (``_fsd``; the σ used by the
day-time partitioning), their number and a quality flag:

====  =============================================================  =================  ==============
step  look-up                                                        window (± days)    quality flag
====  =============================================================  =================  ==============
1     LUT: |SW_IN−SW_IN₀| < tol, |VPD−VPD₀| < 5 hPa, |TA−TA₀| < 2.5 °C  7                  1
2     same LUT                                                         14                 2
3     LUT with SW_IN only                                              7                  1
4     mean diurnal course (MDC): same day, ±2 records (±1 h at 30 min) 0                  1
5     MDC over ±1 and ±2 days                                          1, 2               2
6     three-driver LUT                                                 21 … 70 (step 7)   2 (≤ 28 d) / 3
7     SW_IN-only LUT                                                   14 … 70 (step 7)   2 (14 d) / 3
8     MDC                                                              7 … 210 (step 7)   3
====  =============================================================  =================  ==============

The SW_IN tolerance is reduced to max(20, min(50, SW_IN₀)) W m-2 (REddyProc, after the PV-Wave
code). Drivers are used as measured (with gaps): a record whose own drivers are missing cannot
use the LUT. Gaps longer than 60 days are left unfilled. With ``fill_all=True`` (REddyProc default)
every record is processed, so measured records also get ``_fall``/``_fsd`` (uncertainty estimates),
while ``_f`` keeps measured values. When a driver itself is filled it is removed from the LUT
conditions (SW_IN: MDC only; TA or VPD: SW_IN-only LUT and MDC), as in REddyProc.

Sign convention of filled fluxes: NEE > 0 = release to the atmosphere, µmol CO2 m-2 s-1.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigError, DataError, located
from ._kernels_mds import mds_fill

__all__ = ["mds_gapfill", "gapfill_site", "filter_long_runs", "ustar_filter_and_gapfill"]


def filter_long_runs(x, min_run: int = 8):
    """Set runs of ``min_run`` or more numerically equal consecutive values to NaN.

    As REddyProc ``filterLongRuns`` (default ``minNRunLength = 8``): runs are counted over the
    non-missing values (missing records do not break a run); such runs indicate a stuck sensor or
    a filled value and would distort the MDS statistics. Returns (filtered copy, mask of removed).
    """
    v = np.asarray(x, dtype=float).copy()
    pos = np.flatnonzero(np.isfinite(v))
    w = v[pos]
    mask = np.zeros(v.size, dtype=bool)
    if w.size:
        start = np.r_[0, np.flatnonzero(np.diff(w) != 0) + 1]
        length = np.diff(np.r_[start, w.size])
        for s0, ln in zip(start, length):
            if ln >= min_run:
                mask[pos[s0:s0 + ln]] = True
    v[mask] = np.nan
    return v, mask


def mds_gapfill(
    ds: xr.Dataset,
    var: str = "NEE",
    *,
    drivers: tuple[str, str, str] = ("SW_IN", "VPD", "TA"),
    tolerances: tuple[float, float, float] = (50.0, 5.0, 2.5),
    fill_all: bool = True,
    max_gap_days: float = 60.0,
) -> xr.Dataset:
    """MDS gap filling of ``ds[var]`` (Reichstein et al. 2005 as REddyProc ``sMDSGapFill``).

    Parameters
    ----------
    ds : standard site dataset (regular time axis) holding ``var`` and the drivers.
    var : variable to fill (NaN = gap), e.g. u*-filtered "NEE", or a driver "TA", "SW_IN", "VPD".
    drivers : LUT drivers (radiation [W m-2], VPD [hPa], air temperature [degC]); the first one
        gets the radiation-specific tolerance reduction.
    tolerances : LUT half-widths (50 W m-2, 5 hPa, 2.5 degC).
    fill_all : also process measured records (for ``_fsd`` of all records).
    max_gap_days : longer gaps stay unfilled.

    Returns
    -------
    xarray.Dataset on ``ds.time`` with
    ``<var>_f`` filled values (units of ``var``; NEE > 0 = release), ``<var>_fqc`` int8 (0 measured,
    1..3 fill quality, -1 not filled), ``<var>_fsd`` SD of the values used (units of ``var``),
    ``<var>_fnum`` their number, ``<var>_fmeth`` (1 LUT 3 drivers, 2 LUT radiation only, 3 MDC),
    ``<var>_fwin`` full window [d], ``<var>_fall`` fill value of every processed record.
    """
    if var not in ds:
        raise DataError(located(f"missing variable {var}", where="mds_gapfill", fix="pass a dataset holding it"))
    step = int(ds.attrs.get("timestep_seconds", 0)) or int(
        np.median(np.diff(ds["time"].values).astype("timedelta64[s]").astype(np.int64)))
    if 86400 % step:
        raise ConfigError(located(f"time step {step} s does not divide a day", where="mds_gapfill",
                                  fix="use half-hourly or hourly data"))
    d = np.diff(ds["time"].values).astype("timedelta64[s]").astype(np.int64)
    if d.size and not (d == step).all():
        raise DataError(located("time axis is not regular", where="mds_gapfill",
                                fix="regularise the dataset first (loaders: regularise=True)"))
    spd = 86400 // step
    y = ds[var].values.astype(np.float64)
    names = list(drivers)
    used = [nm if (nm != var and nm in ds and np.isfinite(ds[nm].values).any()) else None for nm in names]
    if used[0] is not None and used[1] is not None and used[2] is not None:
        met = 3
    elif used[0] is not None:
        met = 1
    else:
        met = 0
    n = y.size
    arr = [ds[nm].values.astype(np.float64) if nm is not None else np.full(n, np.nan) for nm in used]
    v1_is_rg = bool(used[0] is not None)
    fall, fnum, fsd, fmeth, fwin, fqc_all = mds_fill(
        y, arr[0], arr[1], arr[2], float(tolerances[0]), float(tolerances[1]), float(tolerances[2]),
        met, v1_is_rg, spd, bool(fill_all), int(round(max_gap_days * spd)))
    gap = np.isnan(y)
    f = np.where(gap, fall, y)
    fqc = np.where(gap, np.where(np.isfinite(fall), fqc_all, -1), 0).astype(np.int8)
    units = ds[var].attrs.get("units", "1")
    out = xr.Dataset(
        {
            f"{var}_f": ("time", f, {"units": units, "long_name": f"{var} gap-filled by MDS"}),
            f"{var}_fqc": ("time", fqc, {"units": "1", "flag_meaning": "0 measured, 1..3 MDS fill quality (1 best), -1 not filled"}),
            f"{var}_fsd": ("time", fsd, {"units": units, "long_name": f"SD of the {var} values used by MDS"}),
            f"{var}_fnum": ("time", fnum.astype(np.int32), {"units": "1"}),
            f"{var}_fmeth": ("time", fmeth.astype(np.int8), {"units": "1", "flag_meaning": "1 LUT(3 drivers), 2 LUT(radiation), 3 MDC, 0 none"}),
            f"{var}_fwin": ("time", fwin, {"units": "d", "long_name": "full MDS window length"}),
            f"{var}_fall": ("time", fall, {"units": units, "long_name": "MDS estimate for every processed record"}),
        },
        coords={"time": ds["time"]},
        attrs={"mds_method": "Reichstein et al. 2005 (REddyProc sMDSGapFill, Reichstein05)",
               "mds_drivers": ",".join(nm or "none" for nm in used), "mds_level": met,
               "mds_unfilled": int(np.isnan(f).sum())},
    )
    return out


def gapfill_site(ds: xr.Dataset, variables=("TA", "SW_IN", "VPD", "NEE"), **kw) -> xr.Dataset:
    """Copy of ``ds`` with MDS-filled ``<var>_f``, ``_fqc``, ``_fsd`` for each of ``variables``.

    Drivers are filled from the original (unfilled) drivers, like REddyProc's workflow
    (``sMDSGapFill('Tair')`` etc.). NEE should be u*-filtered first
    (:func:`landcarbon.flux.ustar.apply_ustar_filter`).
    """
    out = ds.copy()
    for v in variables:
        if v not in ds:
            continue
        r = mds_gapfill(ds, v, **kw)
        for k in (f"{v}_f", f"{v}_fqc", f"{v}_fsd"):
            out[k] = r[k]
    return out


def ustar_filter_and_gapfill(
    ds: xr.Dataset,
    threshold=None,
    *,
    ustar: str = "estimate",
    n_boot: int = 100,
    seed: int | np.random.Generator | None = 0,
    scenario: str = "uStar",
    long_run_min: int | None = 8,
    drivers=("TA", "SW_IN", "VPD"),
    fill_all: bool = True,
):
    """REddyProc's standard pre-processing chain: long-run filter, u* threshold and filter, MDS.

    Steps (Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018, useCase vignette):
    (1) runs of >= ``long_run_min`` equal NEE values -> NaN (``filterLongRuns``; None to skip);
    (2) u* threshold by :func:`landcarbon.flux.ustar.ustar_threshold` (``n_boot`` samples, ``seed``)
    unless ``threshold`` [m s-1] or a :class:`~landcarbon.flux.ustar.UstarResult` is given;
    (3) night-time NEE with u* below the threshold (``scenario`` "uStar", "U05", "U50", "U95") -> NaN;
    (4) MDS of the drivers (gaps only) and of NEE (``fill_all``).

    ``ustar="skip"`` leaves out steps (2)–(3): for data that are already u*-filtered (e.g. FLUXNET2015
    ``NEE_VUT_REF`` with ``NEE_QC == 0``, filtered by ONEFlux) or have no u*. The dataset then needs no
    ``USTAR``; ``attrs['ustar_threshold']`` is NaN and ``attrs['ustar_filter']`` says it was skipped.

    Returns
    -------
    (xarray.Dataset, UstarResult or None)
        Copy of ``ds`` whose ``NEE`` is the filtered measured NEE, plus ``NEE_f``, ``NEE_fqc``,
        ``NEE_fsd`` (µmol m-2 s-1, NEE > 0 = release), ``<driver>_f``/``_fqc``/``_fsd``,
        ``USTAR_FLAG``, ``USTAR_THRESHOLD``; attrs ``ustar_threshold`` [m s-1] and, when estimated,
        ``ustar_q05``/``ustar_q50``/``ustar_q95``.
    """
    from .ustar import UstarResult, apply_ustar_filter, ustar_threshold

    work = ds.copy()
    if long_run_min:
        v, m = filter_long_runs(ds["NEE"].values, long_run_min)
        work["NEE"] = (ds["NEE"].dims, v, ds["NEE"].attrs)
        work.attrs["long_run_records_removed"] = int(m.sum())
    res = None
    if ustar not in ("estimate", "skip"):
        raise ConfigError(located(f"ustar={ustar!r}", where="ustar_filter_and_gapfill",
                                  fix="use 'estimate' (u* threshold and filter) or 'skip' (data already u*-filtered)"))
    if ustar == "skip":
        filt = work
    else:
        if threshold is None:
            res = ustar_threshold(work, n_boot=n_boot, seed=seed)
            threshold = res
        if isinstance(threshold, UstarResult):
            res = threshold
        filt = apply_ustar_filter(work, threshold, scenario=scenario)
    out = gapfill_site(filt, tuple(d for d in drivers if d in filt), fill_all=False)
    r = mds_gapfill(filt, "NEE", fill_all=fill_all)
    for k in ("NEE_f", "NEE_fqc", "NEE_fsd"):
        out[k] = r[k]
    if ustar == "skip":
        out.attrs["ustar_threshold"] = float("nan")
        out.attrs["ustar_filter"] = "skipped (data already u*-filtered or without u*)"
    elif res is not None:
        out.attrs["ustar_threshold"] = float(res.threshold if scenario == "uStar" else
                                             res.quantiles[int(scenario[1:])])
        for p, q in res.quantiles.items():
            out.attrs[f"ustar_q{p:02d}"] = float(q)
    else:
        out.attrs["ustar_threshold"] = float(np.nanmedian(np.asarray(threshold, dtype=float)))
    return out, res
