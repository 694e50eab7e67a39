"""Numba kernels of the moving-point u* threshold (Papale et al. 2006 as coded in REddyProc).

All functions are private; see :mod:`landcarbon.flux.ustar` for the documented API and
``tests/test_flux_ustar.py`` for the slow NumPy oracle.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _bin_balanced(x_sorted, n_bin, tol):
    """REddyProc ``.binWithEqualValuesBalanced``: classes of ~equal size, equal values kept together.

    Returns 1-based class ids. Class k starts at the first value change at or after position
    round((k-1)*floor(n/n_bin)) (0-based), so later classes shrink when ties straddle a border.
    """
    n = x_sorted.size
    bin_id = np.ones(n, dtype=np.int64)
    if n_bin <= 1 or n == 0:
        return bin_id
    bin_size = np.floor(n / n_bin)
    # 0-based positions where a new value starts
    breaks = np.empty(n, dtype=np.int64)
    nb_ = 0
    for i in range(n - 1):
        if x_sorted[i + 1] - x_sorted[i] > tol:
            breaks[nb_] = i + 1
            nb_ += 1
    ib = 0
    for k in range(2, n_bin + 1):
        # R: start0 = round((k-1)*binSize) + 1 (1-based) -> 0-based start0 - 1; R rounds half to even
        start0 = np.round((k - 1) * bin_size)
        while ib < nb_ and breaks[ib] < start0:
            ib += 1
        if ib >= nb_:
            break
        s = breaks[ib]
        for j in range(s, n):
            bin_id[j] = k
    return bin_id


@nb.njit(cache=True)
def _bin_min_rec(x_sorted, n_bin, tol):
    """REddyProc ``.binWithEqualValuesMinRec``: bins of at least floor(n/n_bin) records, extended over
    ties; a last bin shorter than 90 % of the bin size joins the previous one; ids capped at n_bin."""
    n = x_sorted.size
    bin_id = np.zeros(n, dtype=np.int64)
    bin_size = int(np.floor(n / n_bin))
    # 1-based positions i where x[i+1] differs from x[i] (R: which(diff(x) > tol))
    brk = np.empty(n, dtype=np.int64)
    nbk = 0
    for i in range(n - 1):
        if x_sorted[i + 1] - x_sorted[i] > tol:
            brk[nbk] = i + 1
            nbk += 1
    i_break = -1  # 0-based index into brk of the previous break
    i_end = 0  # 1-based end of previous bin
    i_bin = 0
    while i_end < n:
        i_bin += 1
        i_start = i_end + 1
        i_end = i_end + bin_size
        j = i_break + 1
        while j < nbk and brk[j] < i_end:
            j += 1
        if j >= nbk:
            if (n + 1 - i_start) < bin_size * 0.9 and i_bin != 1:
                i_bin -= 1
            for q in range(i_start - 1, n):
                bin_id[q] = i_bin
            break
        i_break = j
        i_end = brk[j]
        for q in range(i_start - 1, i_end):
            bin_id[q] = i_bin
    for q in range(n):
        if bin_id[q] > n_bin:
            bin_id[q] = n_bin
    return bin_id


@nb.njit(cache=True)
def _fw2(ust_avg, nee_avg, n, plateau_fwd, plateau_crit, min_n_plateau):
    """REddyProc ``usEstUstarThresholdSingleFw2Binned``: first bin u whose mean NEE and that of u+1 both
    reach ``plateau_crit`` times the mean of their following ``plateau_fwd`` bins; NaN if none."""
    umax = n - max(2, min_n_plateau)  # 1-based upper bound of u
    for u in range(umax):  # 0-based u corresponds to R's u+1
        s1 = 0.0
        c1 = 0
        for j in range(u + 1, min(u + 1 + plateau_fwd, n)):
            s1 += nee_avg[j]
            c1 += 1
        s2 = 0.0
        c2 = 0
        for j in range(u + 2, min(u + 2 + plateau_fwd, n)):
            s2 += nee_avg[j]
            c2 += 1
        if c1 == 0 or c2 == 0:
            continue
        if nee_avg[u] >= plateau_crit * (s1 / c1) and nee_avg[u + 1] >= plateau_crit * (s2 / c2):
            return ust_avg[u]
    return np.nan


@nb.njit(cache=True)
def season_temp_class_thresholds(T, U, F, n_tclass, n_uclass, plateau_fwd, plateau_crit, corr_check,
                                 first_ustar_mean_check, min_n_plateau, min_rec_season, min_rec_temp):
    """u* threshold per temperature class of one season (REddyProc ``.estimateUStarSeason``).

    T, U, F: air temperature, u*, NEE of the valid night records of the season (any order).
    Returns an array of length ``n_tclass`` (NaN = no estimate).
    """
    out = np.full(n_tclass, np.nan)
    n = T.size
    if n < min_rec_season or n / n_tclass < min_rec_temp:
        return out
    o = np.argsort(T, kind="mergesort")
    Ts = T[o]
    Us = U[o]
    Fs = F[o]
    tid = _bin_balanced(Ts, n_tclass, 1e-8)
    for k in range(1, n_tclass + 1):
        m = tid == k
        nk = m.sum()
        if nk < 2:
            continue
        tk = Ts[m]
        uk = Us[m]
        fk = Fs[m]
        # Pearson correlation of u* and T
        mt = tk.mean()
        mu = uk.mean()
        sxy = ((tk - mt) * (uk - mu)).sum()
        sxx = ((tk - mt) ** 2).sum()
        syy = ((uk - mu) ** 2).sum()
        if sxx <= 0 or syy <= 0:
            continue
        r = abs(sxy / np.sqrt(sxx * syy))
        if not r < corr_check:
            continue
        ou = np.argsort(uk, kind="mergesort")
        us = uk[ou]
        fs = fk[ou]
        bid = _bin_min_rec(us, n_uclass, 1e-14)
        nbin = bid.max()
        sa = np.zeros(nbin)
        sf = np.zeros(nbin)
        cnt = np.zeros(nbin)
        for q in range(nk):
            b = bid[q] - 1
            sa[b] += us[q]
            sf[b] += fs[q]
            cnt[b] += 1
        # bins are consecutive 1..nbin (ids assigned in order); guard empty ones anyway
        nn = 0
        ua = np.empty(nbin)
        fa = np.empty(nbin)
        for b in range(nbin):
            if cnt[b] > 0:
                ua[nn] = sa[b] / cnt[b]
                fa[nn] = sf[b] / cnt[b]
                nn += 1
        if nn == 0 or ua[0] > first_ustar_mean_check:
            continue
        out[k - 1] = _fw2(ua, fa, nn, plateau_fwd, plateau_crit, min_n_plateau)
    return out
