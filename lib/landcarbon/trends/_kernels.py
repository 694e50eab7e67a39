"""Numba kernels of the Mann–Kendall family over ``(pixel, time)`` arrays.

Everything here works on plain float64 arrays, row = pixel (C-contiguous), NaN = missing value. The
public, documented entry points are in :mod:`landcarbon.trends.mk`; this module only holds the
compiled code.

Design (why it is fast)
-----------------------
* ``prange`` over *blocks* of pixels, not pixels: all scratch arrays (compacted values, time
  indices, pairwise slopes, work arrays) are allocated once per block of ``BLOCK`` pixels and
  reused, so there is no allocation per pixel.
* One branch-free O(n²) pass over the pairs computes the Mann–Kendall score S, all pairwise Sen
  slopes and, per value, the counts of smaller values and of equal earlier values — which give the
  tie-group term of Var(S) (telescoping: Σ_groups t(t−1)(2t+5) = Σ_values 6e(e+2), e = equal values
  before it) and the median of the values (the value of rank less + e) without sorting.
* The Sen slope (median) and the lower/upper confidence limits are order statistics of the
  N = n(n−1)/2 slopes; they are found by bucket selection (:func:`_rank_values`: one pass for a
  histogram over 512 bins plus per-bin member lists, a scan of the cumulative counts, then counting
  inside the ~15 members of each wanted bin) — no sort, O(N). The modified tests (pre-whitened
  series) and the rare degenerate cases fall back to an insertion sort / quickselect.
* ``z`` is computed inside; the p-value is computed vectorised outside (``scipy.special.ndtr``) so
  that it can reproduce pymannkendall's formula bit for bit or use the accurate tail formula.

Conventions reproduced from pymannkendall 1.4.3 (Hussain & Mahmud 2019, doi:10.21105/joss.01556):
listwise NaN removal for S and Var(S), Sen slopes over pairs of valid values with their true
index distance, Conover intercept with index time starting at 0, continuity-corrected Z, Kendall
tau-a, detrending of the *compacted* series with t = 1..n in the modified tests. The confidence
interval of the Sen slope reproduces ``scipy.stats.theilslopes`` (Sen 1968, eq. 2.6, with scipy's
rounding of the ranks).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# method codes ---------------------------------------------------------------------------------
ORIGINAL = 0
HAMED_RAO = 1
YUE_WANG = 2
PRE_WHITENING = 3
TREND_FREE_PRE_WHITENING = 4

# what to do with a negative Hamed–Rao variance
HR_AS_PAPER = 0   # keep it (pymannkendall 1.4.3): z and p become NaN (unless S == 0)
HR_ABS = 1        # use |sum| of the correction (pymannkendall master, commit 2776409, issue #29)

# output rows ----------------------------------------------------------------------------------
OUT_S = 0
OUT_VAR_S = 1
OUT_Z = 2
OUT_TAU = 3
OUT_SLOPE = 4
OUT_INTERCEPT = 5
OUT_CI_LOW = 6
OUT_CI_HIGH = 7
OUT_N = 8
OUT_VAR_S0 = 9     # uncorrected (tie-corrected only) Var(S) of the series the test used
OUT_NNS = 10       # variance correction factor n/n* (1 for original / PW / TFPW / seasonal)
NOUT = 11
OUT_NAMES = ("s", "var_s", "z", "tau", "slope", "intercept", "slope_low", "slope_high", "n",
             "var_s_uncorrected", "variance_factor")

#: pixels per block of the parallel loop (scratch is allocated once per block)
BLOCK = 512

_JIT = dict(cache=True, error_model="numpy", nogil=True)


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
@njit(**_JIT)
def _insertion_sort(a, lo, hi):
    """Sort ``a[lo:hi]`` in place (ascending)."""
    for i in range(lo + 1, hi):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(**_JIT)
def _select(a, lo, hi, k):
    """Quickselect: reorder ``a[lo:hi]`` so that ``a[k]`` is its (k−lo)-th smallest element,
    everything left of k is <= a[k] and everything right of k is >= a[k]. Expected O(hi − lo)."""
    hi = hi - 1
    while hi > lo:
        if hi - lo < 24:
            _insertion_sort(a, lo, hi + 1)
            return
        mid = (lo + hi) >> 1
        # median of three as pivot
        if a[mid] < a[lo]:
            t = a[mid]; a[mid] = a[lo]; a[lo] = t
        if a[hi] < a[lo]:
            t = a[hi]; a[hi] = a[lo]; a[lo] = t
        if a[hi] < a[mid]:
            t = a[hi]; a[hi] = a[mid]; a[mid] = t
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]; a[i] = a[j]; a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(**_JIT)
def _order_stats(a, nt, r, nr):
    """Select the ranks ``r[:nr]`` (any order, duplicates allowed) of ``a[:nt]`` in place; ranks are
    sorted first and each is selected in the part right of the previous one."""
    _insertion_sort_int(r, 0, nr)
    lo = 0
    prev = -1
    for q in range(nr):
        k = r[q]
        if k == prev:
            continue
        _select(a, lo, nt, k)
        lo = k + 1
        prev = k


NBINS = 512


@njit(cache=True, error_model="numpy", nogil=True, fastmath={"nnan", "nsz"})
def _minmax(a, nt):
    """min and max of ``a[:nt]`` (NaN-free input; fastmath lets LLVM vectorise the reduction)."""
    lo = a[0]
    hi = a[0]
    for i in range(1, nt):
        v = a[i]
        lo = min(lo, v)
        hi = max(hi, v)
    return lo, hi


@njit(**_JIT)
def _bin_of(x):
    """Histogram bin of a scaled value, clamped to [0, NBINS-1]; NaN goes to bin 0 (never indexes
    outside the histogram, whatever the input)."""
    if x >= NBINS - 1:
        return NBINS - 1
    if x >= 0.0:
        return int(x)
    return 0


@njit(**_JIT)
def _rank_values(a, nt, r, vals_out, hist, buf, bins, ci):
    """Values of the order statistics ``r[0..3]`` of ``a[:nt]``, non-destructively; requires
    r[0] <= r[2] <= r[3] <= r[1] < nt and r[3] - r[2] <= 1 (CI limits around the median pair).

    Bucket selection: one pass builds a histogram of the values over NBINS equal bins of
    [min, max] and a linked list of the members of every bin (``bins[:nt]`` = next member,
    ``bins[nt:]`` = list heads); the cumulative histogram gives, for each wanted rank, its bin and
    the number of smaller elements; the exact element is then found by counting within its bin (a
    dozen elements on average). The bin is a monotone function of the value, so the result is
    exact. Falls back to quickselect when the range is not finite.
    """
    lo, hi = _minmax(a, nt)
    scale = NBINS / (hi - lo) if hi > lo else 0.0
    # Bucketing needs a finite, positive scale: a range that overflows (|values| ~ 1e308) or is so small
    # that NBINS / range overflows (all slopes below ~1e-306, i.e. subnormal differences) would turn
    # (a - lo) * scale into inf or NaN and int() of that into a wild index (the segfault of issue 18).
    if not (hi > lo) or not (scale < np.inf) or not (hi - lo < np.inf):
        if hi == lo:
            for q in range(4):
                vals_out[q] = lo if (ci or q >= 2) else np.nan
            return
        for q in range(4):
            _select(a, 0, nt, r[q])
            vals_out[q] = a[r[q]] if (ci or q >= 2) else np.nan
        return
    head = bins[nt:]                     # bins = scratch of length >= nt + NBINS
    for b in range(NBINS):
        hist[b] = 0
        head[b] = -1
    # histogram + one linked list of members per bin (nxt[i] = previous member of the same bin)
    for i in range(nt):
        b = _bin_of((a[i] - lo) * scale)
        hist[b] += 1
        bins[i] = head[b]
        head[b] = i
    # ranks are ordered r[0] <= r[2] <= r[3] <= r[1] (lower limit, median pair, upper limit)
    cum = 0
    b = 0
    while cum + hist[b] <= r[0]:
        cum += hist[b]
        b += 1
    tb0 = b
    off0 = r[0] - cum
    while cum + hist[b] <= r[2]:
        cum += hist[b]
        b += 1
    tb2 = b
    off2 = r[2] - cum
    off3 = r[3] - cum
    while cum + hist[b] <= r[1]:
        cum += hist[b]
        b += 1
    tb1 = b
    off1 = r[1] - cum
    m2 = _collect(a, bins, head[tb2], buf[2])
    vals_out[2] = _kth_small(buf[2], m2, off2)
    if ci:
        m0 = _collect(a, bins, head[tb0], buf[0])
        vals_out[0] = _kth_small(buf[0], m0, off0)
        m1 = _collect(a, bins, head[tb1], buf[1])
        vals_out[1] = _kth_small(buf[1], m1, off1)
    else:
        vals_out[0] = np.nan
        vals_out[1] = np.nan
    if off3 == off2:
        vals_out[3] = vals_out[2]
    elif off3 < m2:                      # rank r[3] in the same bin as r[2]
        vals_out[3] = _kth_small(buf[2], m2, off3)
    else:                                # else: the minimum of the next non-empty bin
        nb = tb2 + 1
        while hist[nb] == 0:
            nb += 1
        mm = _collect(a, bins, head[nb], buf[3])
        v = buf[3, 0]
        for q in range(1, mm):
            v = min(v, buf[3, q])
        vals_out[3] = v


@njit(**_JIT)
def _collect(a, nxt, i, out):
    """Copy the members of one bin (linked list starting at index ``i``) into ``out``; return count."""
    m = 0
    while i >= 0:
        out[m] = a[i]
        m += 1
        i = nxt[i]
    return m


@njit(**_JIT)
def _kth_small(b, m, k):
    """k-th smallest of the few values ``b[:m]`` by counting (no reordering)."""
    if m > 96:
        _select(b, 0, m, k)
        return b[k]
    for i in range(m):
        v = b[i]
        less = 0
        eq = 0
        for j in range(m):
            w = b[j]
            less += w < v
            eq += w == v
        if less <= k and k < less + eq:
            return v
    return np.nan


@njit(**_JIT)
def _insertion_sort_int(a, lo, hi):
    for i in range(lo + 1, hi):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(**_JIT)
def _tie_numerator(srt, m):
    """n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5) for the *sorted* values ``srt[:m]`` (int64, exact)."""
    num = m * (m - 1) * (2 * m + 5)
    i = 0
    while i < m:
        j = i + 1
        while j < m and srt[j] == srt[i]:
            j += 1
        t = j - i
        if t > 1:
            num -= t * (t - 1) * (2 * t + 5)
        i = j
    return num


@njit(**_JIT)
def _mk_score(a, m):
    s = 0
    for k in range(m - 1):
        ak = a[k]
        for j in range(k + 1, m):
            if a[j] > ak:
                s += 1
            elif a[j] < ak:
                s -= 1
    return s


@njit(**_JIT)
def _z_score(s, var_s):
    """Continuity-corrected Z (Kendall 1975): (S−1)/σ, 0, (S+1)/σ; NaN when Var(S) < 0."""
    if s > 0:
        return (s - 1.0) / np.sqrt(var_s)
    elif s == 0:
        return 0.0
    return (s + 1.0) / np.sqrt(var_s)


@njit(**_JIT)
def _pw_leaf(a, lo, n):
    """numpy's pairwise summation kernel for n <= 128 (8 accumulators)."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0 = a[lo]; r1 = a[lo + 1]; r2 = a[lo + 2]; r3 = a[lo + 3]
    r4 = a[lo + 4]; r5 = a[lo + 5]; r6 = a[lo + 6]; r7 = a[lo + 7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[lo + i]; r1 += a[lo + i + 1]; r2 += a[lo + i + 2]; r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]; r5 += a[lo + i + 5]; r6 += a[lo + i + 6]; r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


# numpy recurses (n > 128: split at n2 = n//2 rounded down to a multiple of 8). numba cannot cache
# self-recursive functions, so the recursion is unrolled into levels (exact for n <= 4096).
@njit(**_JIT)
def _pw_l1(a, lo, n):
    if n <= 128:
        return _pw_leaf(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pw_leaf(a, lo, n2) + _pw_leaf(a, lo + n2, n - n2)


@njit(**_JIT)
def _pw_l2(a, lo, n):
    if n <= 256:
        return _pw_l1(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pw_l1(a, lo, n2) + _pw_l1(a, lo + n2, n - n2)


@njit(**_JIT)
def _pw_l3(a, lo, n):
    if n <= 512:
        return _pw_l2(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pw_l2(a, lo, n2) + _pw_l2(a, lo + n2, n - n2)


@njit(**_JIT)
def _pw_l4(a, lo, n):
    if n <= 1024:
        return _pw_l3(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pw_l3(a, lo, n2) + _pw_l3(a, lo + n2, n - n2)


@njit(**_JIT)
def _pw_l5(a, lo, n):
    if n <= 2048:
        return _pw_l4(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pw_l4(a, lo, n2) + _pw_l4(a, lo + n2, n - n2)


@njit(**_JIT)
def _pairwise_sum(a, lo, n):
    """numpy's pairwise summation of ``a[lo:lo+n]`` (same association order as ``np.sum``),
    valid for n <= 4096 (longer series: the difference is at rounding level only)."""
    if n <= 4096:
        return _pw_l5(a, lo, n)
    s = 0.0
    for i in range(lo, lo + n):
        s += a[i]
    return s


@njit(**_JIT)
def _center(a, m, y):
    """y = a − mean(a) with numpy's mean (pairwise sum / m)."""
    mu = (0.0 + _pairwise_sum(a, 0, m)) / m
    for k in range(m):
        y[k] = a[k] - mu


@njit(**_JIT)
def _acov(y, m, lag):
    """Σ_t y[t+lag]·y[t] / m (the biased autocovariance of pymannkendall's ``__acf``).

    Summed in the same order as ``np.correlate(y, y, "full")``, which pymannkendall uses: numpy
    computes the zero lag of series shorter than 12 with a plain loop ("small_correlate") and every
    other lag with BLAS ``ddot`` — reproduced here with ``np.dot`` (the same OpenBLAS kernel through
    scipy), so the autocorrelations, and hence the pre-whitened series and their ties, are
    bit-identical to the peer's on this platform.
    """
    if lag == 0 and m <= 11:
        c = 0.0
        for t in range(m):
            c += y[t] * y[t]
        return c / m
    if m - lag <= 0:
        return 0.0
    return (0.0 + np.dot(y[lag:m], y[0:m - lag])) / m


@njit(**_JIT)
def _acf1(a, m, y):
    _center(a, m, y)
    return _acov(y, m, 1) / _acov(y, m, 0)


@njit(**_JIT)
def _mk_on(a, m, srt):
    """(S, Var(S) numerator) of ``a[:m]``; ``srt`` is scratch."""
    s = _mk_score(a, m)
    for k in range(m):
        srt[k] = a[k]
    _insertion_sort(srt, 0, m)
    return s, _tie_numerator(srt, m)


# ---------------------------------------------------------------------------------------------
# one pixel
# ---------------------------------------------------------------------------------------------
@njit(**_JIT)
def _mk_pixel(row, T, method, zcrit, zq, lag, hr_mode, ci, out, i,
              vals, idx, srt, slopes, w1, w2, ranks, rv, hist, buf, bins, less, eqb):
    n = 0
    for t in range(T):
        v = row[t]
        if v == v:
            vals[n] = v
            idx[n] = t
            n += 1
    out[OUT_N, i] = n
    if n < 2:
        for q in range(NOUT):
            if q != OUT_N:
                out[q, i] = np.nan
        return

    # One pass over the pairs (valid values, true index distance): S, all Sen slopes, and per value
    # the number of smaller values and of equal earlier values (-> tie groups and the median).
    for k in range(n):
        less[k] = 0
        eqb[k] = 0
    s = 0
    nt = 0
    for k in range(n - 1):
        vk = vals[k]
        ik = idx[k]
        lk = 0
        gk = 0
        for j in range(k + 1, n):
            vj = vals[j]
            gt = np.int64(vj > vk)
            lt = np.int64(vj < vk)
            gk += gt
            lk += lt
            less[j] += gt
            eqb[j] += np.int64(vj == vk)
            slopes[nt + j - k - 1] = (vj - vk) / (idx[j] - ik)
        nt += n - k - 1
        s += gk - lk
        less[k] += lk
    # Var(S) numerator: n(n-1)(2n+5) - sum_groups t(t-1)(2t+5) = ... - sum_values 6 e(e+2),
    # e = number of equal values before it (telescoping sum over each tie group)
    num = n * (n - 1) * (2 * n + 5)
    for k in range(n):
        e = eqb[k]
        num -= 6 * e * (e + 2)
    var0 = num / 18.0
    # with ties ranked by position, value k has the unique rank less[k] + eqb[k]
    h = n // 2
    lo_v = np.nan
    hi_v = np.nan
    for k in range(n):
        rk = less[k] + eqb[k]
        if rk == h:
            hi_v = vals[k]
        elif rk == h - 1:
            lo_v = vals[k]
    if n % 2 == 1:
        med_v = hi_v
        med_t = float(idx[h])
    else:
        med_v = (lo_v + hi_v) / 2.0
        med_t = (float(idx[h - 1]) + float(idx[h])) / 2.0

    # Sen slope and scipy.stats.theilslopes confidence limits (Sen 1968 eq. 2.6)
    sigma = math.sqrt((1.0 / 18.0) * num)
    ru = int(np.rint((nt - zq * sigma) / 2.0))
    if ru > nt - 1:
        ru = nt - 1
    rl = int(np.rint((nt + zq * sigma) / 2.0)) - 1
    if rl < 0:
        rl = 0
    hm = nt // 2
    ranks[0] = rl
    ranks[1] = ru
    if nt % 2 == 1:
        ranks[2] = hm
        ranks[3] = hm
    else:
        ranks[2] = hm - 1
        ranks[3] = hm
    if not ci:
        ranks[0] = ranks[2]
        ranks[1] = ranks[3]
    _rank_values(slopes, nt, ranks, rv, hist, buf, bins, ci)
    if nt % 2 == 1:
        slope = rv[2]
    else:
        slope = (rv[2] + rv[3]) / 2.0
    out[OUT_SLOPE, i] = slope
    out[OUT_INTERCEPT, i] = med_v - med_t * slope
    out[OUT_CI_LOW, i] = rv[0]
    out[OUT_CI_HIGH, i] = rv[1]

    nns = 1.0
    m = n
    if method == ORIGINAL:
        var_s = var0
    elif method == HAMED_RAO or method == YUE_WANG:
        L = n if lag <= 0 else lag + 1
        if L > n:
            L = n
        for k in range(n):
            w1[k] = vals[k] - (k + 1) * slope          # detrended, t = 1..n
        if method == HAMED_RAO:
            if n < 3:
                nns = np.nan
            else:
                # average ranks of the detrended values (scipy.stats.rankdata 'average')
                for k in range(n):
                    less = 0
                    eq = 0
                    wk = w1[k]
                    for j in range(n):
                        if w1[j] < wk:
                            less += 1
                        elif w1[j] == wk:
                            eq += 1
                    w2[k] = less + (eq + 1) / 2.0
                _center(w2, n, w1)                     # ranks − mean (exact: half-integers)
                c0 = _acov(w1, n, 0)
                interval = zcrit / math.sqrt(n)
                ub = 0.0 + interval
                lb = 0.0 - interval
                sni = 0.0
                for k in range(1, L):
                    r = _acov(w1, n, k) / c0
                    if r <= ub and r >= lb:
                        continue
                    sni += float((n - k) * (n - k - 1) * (n - k - 2)) * r
                if hr_mode == HR_ABS:
                    sni = abs(sni)
                nns = 1.0 + (2.0 / float(n * (n - 1) * (n - 2))) * sni
        else:
            _center(w1, n, w2)
            c0 = _acov(w2, n, 0)
            for k in range(1, L):
                w1[k - 1] = (1.0 - k / n) * (_acov(w2, n, k) / c0)
            sni = 0.0 + _pairwise_sum(w1, 0, L - 1)
            nns = 1.0 + 2.0 * sni
        var_s = var0 * nns
    else:
        # pre-whitening (Yue & Wang 2002) / trend-free pre-whitening (Yue et al. 2002)
        if method == PRE_WHITENING:
            r1 = _acf1(vals, n, w2)
            for k in range(n - 1):
                w1[k] = vals[k + 1] - vals[k] * r1
        else:
            for k in range(n):
                w1[k] = vals[k] - (k + 1) * slope
            r1 = _acf1(w1, n, w2)
            for k in range(n - 1):
                w2[k] = w1[k + 1] - w1[k] * r1
            for k in range(n - 1):
                w1[k] = w2[k] + (k + 1) * slope
        m = n - 1
        s, num = _mk_on(w1, m, srt)
        var0 = num / 18.0
        var_s = var0
    out[OUT_S, i] = s
    out[OUT_VAR_S0, i] = var0
    out[OUT_VAR_S, i] = var_s
    out[OUT_NNS, i] = nns
    out[OUT_TAU, i] = s / ((0.5 * m) * (m - 1))
    out[OUT_Z, i] = _z_score(s, var_s)


@njit(**_JIT)
def _mk_block(x, start, stop, method, zcrit, zq, lag, hr_mode, ci, out):
    T = x.shape[1]
    vals = np.empty(T, np.float64)
    idx = np.empty(T, np.int64)
    srt = np.empty(T, np.float64)
    slopes = np.empty(max(1, T * (T - 1) // 2), np.float64)
    w1 = np.empty(T, np.float64)
    w2 = np.empty(T, np.float64)
    ranks = np.empty(4, np.int64)
    rv = np.empty(4, np.float64)
    hist = np.empty(NBINS, np.int64)
    buf = np.empty((4, slopes.shape[0]), np.float64)
    bins = np.empty(slopes.shape[0] + NBINS, np.int64)
    less = np.empty(T, np.int64)
    eqb = np.empty(T, np.int64)
    for i in range(start, stop):
        _mk_pixel(x[i], T, method, zcrit, zq, lag, hr_mode, ci, out, i,
                  vals, idx, srt, slopes, w1, w2, ranks, rv, hist, buf, bins, less, eqb)


@njit(parallel=True, **_JIT)
def mk_rows_parallel(x, method, zcrit, zq, lag, hr_mode, ci, out):
    """Fill ``out[NOUT, npix]`` for every row of ``x[npix, T]`` (numba threads over blocks)."""
    npix = x.shape[0]
    nblk = (npix + BLOCK - 1) // BLOCK
    for b in prange(nblk):
        stop = (b + 1) * BLOCK
        if stop > npix:
            stop = npix
        _mk_block(x, b * BLOCK, stop, method, zcrit, zq, lag, hr_mode, ci, out)


@njit(**_JIT)
def mk_rows_serial(x, method, zcrit, zq, lag, hr_mode, ci, out):
    """Single-threaded twin of :func:`mk_rows_parallel` (for dask workers: one level of parallelism)."""
    _mk_block(x, 0, x.shape[0], method, zcrit, zq, lag, hr_mode, ci, out)


# ---------------------------------------------------------------------------------------------
# seasonal Mann–Kendall (Hirsch, Slack & Smith 1982) as pymannkendall.seasonal_test
# ---------------------------------------------------------------------------------------------
@njit(**_JIT)
def _seasonal_pixel(row, T, period, zq, out, i, col, colidx, srt, slopes, allv, ranks, rv, hist, buf, bins):
    ny = (T + period - 1) // period
    s = 0
    var_s = 0.0
    num_tot = 0
    denom = 0.0
    nt = 0
    for g in range(period):
        m = 0
        for y in range(ny):
            t = y * period + g
            if t < T:
                v = row[t]
                if v == v:
                    col[m] = v
                    colidx[m] = y
                    m += 1
        for k in range(m - 1):
            vk = col[k]
            ik = colidx[k]
            for j in range(k + 1, m):
                vj = col[j]
                if vj > vk:
                    s += 1
                elif vj < vk:
                    s -= 1
                slopes[nt] = (vj - vk) / (colidx[j] - ik)
                nt += 1
        for k in range(m):
            srt[k] = col[k]
        _insertion_sort(srt, 0, m)
        num = _tie_numerator(srt, m)
        num_tot += num
        var_s = var_s + num / 18.0
        denom = denom + (0.5 * m) * (m - 1)
    # all valid values (for the Conover intercept)
    nv = 0
    for t in range(T):
        v = row[t]
        if v == v:
            allv[nv] = v
            colidx[nv] = t
            nv += 1
    out[OUT_N, i] = nv
    if nt == 0:
        for q in range(NOUT):
            if q != OUT_N:
                out[q, i] = np.nan
        return
    sigma = math.sqrt((1.0 / 18.0) * num_tot)
    ru = int(np.rint((nt - zq * sigma) / 2.0))
    if ru > nt - 1:
        ru = nt - 1
    rl = int(np.rint((nt + zq * sigma) / 2.0)) - 1
    if rl < 0:
        rl = 0
    hm = nt // 2
    ranks[0] = rl
    ranks[1] = ru
    if nt % 2 == 1:
        ranks[2] = hm
        ranks[3] = hm
    else:
        ranks[2] = hm - 1
        ranks[3] = hm
    _rank_values(slopes, nt, ranks, rv, hist, buf, bins, True)
    if nt % 2 == 1:
        slope = rv[2]
    else:
        slope = (rv[2] + rv[3]) / 2.0
    h = nv // 2
    if nv % 2 == 1:
        _select(allv, 0, nv, h)
        med_v = allv[h]
        med_t = float(colidx[h])
    else:
        _select(allv, 0, nv, h - 1)
        _select(allv, h, nv, h)
        med_v = (allv[h - 1] + allv[h]) / 2.0
        med_t = (float(colidx[h - 1]) + float(colidx[h])) / 2.0
    out[OUT_S, i] = s
    out[OUT_VAR_S, i] = var_s
    out[OUT_VAR_S0, i] = var_s
    out[OUT_NNS, i] = 1.0
    out[OUT_TAU, i] = s / denom
    out[OUT_Z, i] = _z_score(s, var_s)
    out[OUT_SLOPE, i] = slope
    out[OUT_INTERCEPT, i] = med_v - med_t / period * slope
    out[OUT_CI_LOW, i] = rv[0]
    out[OUT_CI_HIGH, i] = rv[1]


@njit(**_JIT)
def _seasonal_block(x, start, stop, period, zq, out):
    T = x.shape[1]
    ny = (T + period - 1) // period
    col = np.empty(ny, np.float64)
    colidx = np.empty(max(T, ny), np.int64)
    srt = np.empty(ny, np.float64)
    slopes = np.empty(max(1, period * ny * (ny - 1) // 2), np.float64)
    allv = np.empty(T, np.float64)
    ranks = np.empty(4, np.int64)
    rv = np.empty(4, np.float64)
    hist = np.empty(NBINS, np.int64)
    buf = np.empty((4, slopes.shape[0]), np.float64)
    bins = np.empty(slopes.shape[0] + NBINS, np.int64)
    for i in range(start, stop):
        _seasonal_pixel(x[i], T, period, zq, out, i, col, colidx, srt, slopes, allv, ranks, rv, hist, buf, bins)


@njit(parallel=True, **_JIT)
def seasonal_rows_parallel(x, period, zq, out):
    npix = x.shape[0]
    nblk = (npix + BLOCK - 1) // BLOCK
    for b in prange(nblk):
        stop = (b + 1) * BLOCK
        if stop > npix:
            stop = npix
        _seasonal_block(x, b * BLOCK, stop, period, zq, out)


@njit(**_JIT)
def seasonal_rows_serial(x, period, zq, out):
    _seasonal_block(x, 0, x.shape[0], period, zq, out)


# ---------------------------------------------------------------------------------------------
# correlated multivariate / correlated seasonal / partial Mann–Kendall (pymannkendall 1.4.3)
# ---------------------------------------------------------------------------------------------
# output rows of the correlated kernels (the slope comes from the seasonal / original kernels)
COR_S = 0          # S summed over the columns (partial: S of column 0 minus rho * S of column 1)
COR_VAR_S = 1      # Var(S) including the covariances between columns (partial: (1 - rho^2) Var0)
COR_TAU = 2
COR_N = 3          # complete rows (all columns valid) used by the test
COR_VAR_S0 = 4     # sum of the per-column variances only (no covariance) / partial: Var0
COR_RHO = 5        # partial test: correlation rho of the S of the two columns; NaN otherwise
NCOR = 6

MODE_CORRELATED = 0
MODE_PARTIAL = 1


@njit(**_JIT)
def _sign(v):
    if v > 0:
        return 1
    if v < 0:
        return -1
    return 0


@njit(**_JIT)
def _cor_pixel(X, T, C, mode, out, i, cols, sg, r2, gam):
    """One pixel of the correlated multivariate (Hirsch & Slack 1984; Libiseller & Grimvall 2002)
    or the partial Mann–Kendall test, with pymannkendall 1.4.3's conventions.

    ``X`` is (T, C); rows with a NaN in any column are dropped (listwise). With ``n`` complete rows,
    for columns g, h: K_gh = Σ_{i<j} sgn(x_gj − x_gi)·sgn(x_hj − x_hi), R_g = mid-ranks and
    Γ_gh = [K_gh + 4 Σ_t R_gt R_ht − n(n+1)²] / 3, an integer numerator divided by 3 exactly as the
    peer. Var(S) = Σ_gh Γ_gh summed in numpy's pairwise order over the row-major C×C matrix.
    """
    n = 0
    for t in range(T):
        ok = True
        for c in range(C):
            v = X[t, c]
            if v != v:
                ok = False
                break
        if ok:
            for c in range(C):
                cols[c, n] = X[t, c]
            n += 1
    out[COR_N, i] = n
    if n < 2:
        for q in range(NCOR):
            if q != COR_N:
                out[q, i] = np.nan
        return
    npair = n * (n - 1) // 2
    s_cols = np.zeros(C, np.int64)
    for c in range(C):
        p = 0
        for k in range(n - 1):
            vk = cols[c, k]
            for j in range(k + 1, n):
                sv = _sign(cols[c, j] - vk)
                sg[c, p] = sv
                s_cols[c] += sv
                p += 1
        # twice the mid-rank: n + 1 + sum_i sgn(x_j - x_i)
        for j in range(n):
            vj = cols[c, j]
            acc = n + 1
            for k in range(n):
                acc += _sign(vj - cols[c, k])
            r2[c, j] = acc
    base = n * (n + 1) * (n + 1)
    var0 = 0.0
    for g in range(C):
        for h in range(g, C):
            kk = 0
            for p in range(npair):
                kk += sg[g, p] * sg[h, p]
            rr = 0
            for t in range(n):
                rr += r2[g, t] * r2[h, t]
            val = (kk + rr - base) / 3.0
            gam[g * C + h] = val
            gam[h * C + g] = val
        var0 = var0 + gam[g * C + g]
    nn = n * (n - 1) * (2 * n + 5)
    if mode == MODE_PARTIAL:
        sigma = gam[1]
        rho = sigma / (nn / 18.0)
        s = s_cols[0] - rho * s_cols[1]
        var_s = (1.0 - rho * rho) * nn / 18.0
        out[COR_S, i] = s
        out[COR_VAR_S, i] = var_s
        out[COR_VAR_S0, i] = nn / 18.0
        out[COR_RHO, i] = rho
        out[COR_TAU, i] = s_cols[0] / (0.5 * n * (n - 1))
        return
    s = 0
    for c in range(C):
        s += s_cols[c]
    out[COR_S, i] = s
    out[COR_VAR_S, i] = 0.0 + _pairwise_sum(gam, 0, C * C)
    out[COR_VAR_S0, i] = var0
    out[COR_RHO, i] = np.nan
    out[COR_TAU, i] = s / (C * (0.5 * n * (n - 1)))


@njit(**_JIT)
def _cor_block(x, start, stop, mode, out):
    T = x.shape[1]
    C = x.shape[2]
    cols = np.empty((C, max(T, 1)), np.float64)
    sg = np.empty((C, max(1, T * (T - 1) // 2)), np.int8)
    r2 = np.empty((C, max(T, 1)), np.int64)
    gam = np.empty(C * C, np.float64)
    for i in range(start, stop):
        _cor_pixel(x[i], T, C, mode, out, i, cols, sg, r2, gam)


@njit(parallel=True, **_JIT)
def cor_rows_parallel(x, mode, out):
    """Fill ``out[NCOR, npix]`` for every ``x[npix, T, C]`` (numba threads over blocks)."""
    npix = x.shape[0]
    nblk = (npix + BLOCK - 1) // BLOCK
    for b in prange(nblk):
        stop = (b + 1) * BLOCK
        if stop > npix:
            stop = npix
        _cor_block(x, b * BLOCK, stop, mode, out)


@njit(**_JIT)
def cor_rows_serial(x, mode, out):
    _cor_block(x, 0, x.shape[0], mode, out)
