"""Numba kernels of the MDS gap filling (Reichstein et al. 2005 as REddyProc ``sMDSGapFill``).

Private; the documented API is :func:`landcarbon.flux.gapfill.mds_gapfill`; the slow NumPy oracle is
in ``tests/test_flux_gapfill.py``.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _store(i, mean, num, sd, meth, win, qc, fall, fnum, fsd, fmeth, fwin, fqc_all, todo):
    fall[i] = mean
    fnum[i] = num
    fsd[i] = sd
    fmeth[i] = meth
    fwin[i] = win
    fqc_all[i] = qc
    todo[i] = False


@nb.njit(cache=True)
def _lut_step(y, v1, v2, v3, t1, t2, t3, nvar, v1_is_rg, win_days, spd, todo,
              fall, fnum, fsd, fmeth, fwin, fqc_all):
    n = y.size
    half = win_days * spd
    # decide all records of this step first (REddyProc writes results after the loop; LUT uses y only)
    cand = np.flatnonzero(todo)
    res_mean = np.full(cand.size, np.nan)
    res_num = np.zeros(cand.size)
    res_sd = np.full(cand.size, np.nan)
    for c in range(cand.size):
        i = cand[c]
        a = max(0, i - half)
        b = min(n - 1, i + half)
        x1 = v1[i]
        if np.isnan(x1):
            continue
        tol1 = t1
        if v1_is_rg:
            tol1 = max(min(t1, x1), 20.0)
        if nvar == 3:
            x2 = v2[i]
            x3 = v3[i]
            if np.isnan(x2) or np.isnan(x3):
                continue
        s = 0.0
        ss = 0.0
        k = 0
        for j in range(a, b + 1):
            yj = y[j]
            if np.isnan(yj):
                continue
            d1 = abs(v1[j] - x1)
            if not d1 < tol1:  # also rejects NaN
                continue
            if nvar == 3:
                if not abs(v2[j] - x2) < t2:
                    continue
                if not abs(v3[j] - x3) < t3:
                    continue
            s += yj
            k += 1
        if k > 1:
            m = s / k
            for j in range(a, b + 1):
                yj = y[j]
                if np.isnan(yj):
                    continue
                if not abs(v1[j] - x1) < tol1:
                    continue
                if nvar == 3:
                    if not abs(v2[j] - x2) < t2:
                        continue
                    if not abs(v3[j] - x3) < t3:
                        continue
                ss += (yj - m) ** 2
            res_mean[c] = m
            res_num[c] = k
            res_sd[c] = np.sqrt(ss / (k - 1))
    w = 2 * win_days
    if nvar == 3:
        meth = 1
        qc = 1 if w <= 14 else (2 if w <= 56 else 3)
    else:
        meth = 2
        qc = 1 if w <= 14 else (2 if w <= 28 else 3)
    for c in range(cand.size):
        if res_num[c] > 1:
            _store(cand[c], res_mean[c], res_num[c], res_sd[c], meth, w, qc,
                   fall, fnum, fsd, fmeth, fwin, fqc_all, todo)


@nb.njit(cache=True)
def _mdc_step(y, win_days, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all):
    n = y.size
    cand = np.flatnonzero(todo)
    res_mean = np.full(cand.size, np.nan)
    res_num = np.zeros(cand.size)
    res_sd = np.full(cand.size, np.nan)
    for c in range(cand.size):
        i = cand[c]
        s = 0.0
        k = 0
        for day in range(win_days + 1):
            for sign in (-1, 1):
                if day == 0 and sign == 1:
                    continue
                centre = i + sign * day * spd
                for o in range(-2, 3):
                    j = centre + o
                    if j < 0 or j >= n:
                        continue
                    if not np.isnan(y[j]):
                        s += y[j]
                        k += 1
        if k > 1:
            m = s / k
            ss = 0.0
            for day in range(win_days + 1):
                for sign in (-1, 1):
                    if day == 0 and sign == 1:
                        continue
                    centre = i + sign * day * spd
                    for o in range(-2, 3):
                        j = centre + o
                        if j < 0 or j >= n:
                            continue
                        if not np.isnan(y[j]):
                            ss += (y[j] - m) ** 2
            res_mean[c] = m
            res_num[c] = k
            res_sd[c] = np.sqrt(ss / (k - 1))
    w = 2 * win_days + 1
    qc = 1 if w <= 1 else (2 if w <= 5 else 3)
    for c in range(cand.size):
        if res_num[c] > 1:
            _store(cand[c], res_mean[c], res_num[c], res_sd[c], 3, w, qc,
                   fall, fnum, fsd, fmeth, fwin, fqc_all, todo)


@nb.njit(cache=True)
def mds_fill(y, v1, v2, v3, t1, t2, t3, met, v1_is_rg, spd, fill_all, max_gap):
    """Full MDS sequence. ``met`` = 3 (LUT with 3 drivers), 1 (Rg-only LUT) or 0 (MDC only).

    Returns (fall, fnum, fsd, fmeth, fwin, fqc_all): value, count, SD, method (1 LUT-3, 2 LUT-1, 3 MDC),
    full window [days] and quality (1..3) for every processed record (NaN / 0 where not filled).
    """
    n = y.size
    fall = np.full(n, np.nan)
    fnum = np.zeros(n)
    fsd = np.full(n, np.nan)
    fmeth = np.zeros(n)
    fwin = np.zeros(n)
    fqc_all = np.zeros(n)
    todo = np.isnan(y) if not fill_all else np.ones(n, dtype=np.bool_)
    # long gaps (> max_gap records) are not filled
    i = 0
    while i < n:
        if np.isnan(y[i]):
            j = i
            while j < n and np.isnan(y[j]):
                j += 1
            if j - i > max_gap:
                for q in range(i, j):
                    todo[q] = False
            i = j
        else:
            i += 1
    if met == 3:
        _lut_step(y, v1, v2, v3, t1, t2, t3, 3, v1_is_rg, 7, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
        _lut_step(y, v1, v2, v3, t1, t2, t3, 3, v1_is_rg, 14, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    if met >= 1:
        _lut_step(y, v1, v2, v3, t1, t2, t3, 1, v1_is_rg, 7, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    _mdc_step(y, 0, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    _mdc_step(y, 1, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    _mdc_step(y, 2, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    if met == 3:
        for w in range(21, 71, 7):
            _lut_step(y, v1, v2, v3, t1, t2, t3, 3, v1_is_rg, w, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    if met >= 1:
        for w in range(14, 71, 7):
            _lut_step(y, v1, v2, v3, t1, t2, t3, 1, v1_is_rg, w, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    for w in range(7, 211, 7):
        _mdc_step(y, w, spd, todo, fall, fnum, fsd, fmeth, fwin, fqc_all)
    return fall, fnum, fsd, fmeth, fwin, fqc_all
