"""DT-RH: day-time partitioning with asymmetric day/night temperature sensitivity and a relative-
humidity modifier of day-time respiration — **our formulation after Li et al. 2022**.

Li N., Shao J., Zhou G., Zhou L., Du Z., Zhou X. (2022) Improving estimations of ecosystem
respiration with asymmetric daytime and nighttime temperature sensitivity and relative humidity.
Agricultural and Forest Meteorology, 108709, doi:10.1016/j.agrformet.2021.108709. The paper's
equations were not available to us; the model below only shares the two ingredients named in the
paper's title:

.. math::

    ER_N(t) = R_{ref}(t)\\,e^{E_{0,N}\\,x(T)},\\qquad
    ER_D(t) = ER_N(t)\\;\\underbrace{e^{(E_{0,D}-E_{0,N})\\,(x(T) - x(T_a))}}_{\\text{day/night ratio}}\\;h(RH),

    NEE_{day} = -GPP_{lrc}(R_g;\\,\\alpha, \\beta(VPD)) + ER_D,

with x(T) = 1/(Tref − T0) − 1/(T − T0) the Lloyd–Taylor term (:mod:`landcarbon.flux.respiration`),
T_a the **day's minimum air temperature** (the day/night transition at dawn, where day and night
respiration are equal) and h a pluggable humidity function, by default h = exp(c (RH − 100 %)).

Re-anchoring (our formulation; :func:`~landcarbon.flux.respiration.day_night_ratio`): an earlier
version shared Rref at Tref = 15 °C between day and night with E0,D = r·E0,N, so the day/night ratio
pivoted at 15 °C — with r < 1 day respiration fell below night respiration above 15 °C but rose above
it below 15 °C (1.6 at 0 °C), and predicted respiration depended on Tref. Here the asymmetry is
referenced to T_a: every day-time temperature is ≥ T_a, so r ≤ 1 gives a ratio ≤ 1 at every
temperature, and Tref only rescales the reported Rref (predicted RECO is invariant; the fits run at
the internal reference 15 °C and Rref is reported at ``tref_degc``).

Bounds (our choice, so that the multipliers stay physical): r = E0,D/E0,N ∈ [0, 1] — light can inhibit
leaf respiration but not raise it above the dark rate (Kok effect; Keenan et al. 2019), so day
respiration never exceeds night respiration at the same temperature; r = 1 is the day-time method;
c ∈ [−0.005, 0.02] %⁻¹, so h ∈ [e⁻², e^0.5] = [0.14, 1.65] for any RH in [0, 100] % (h = 1 in saturated
air, like the night anchor; c > 0: dry air reduces day-time respiration). The alternative
``"bounded"``: h = 1 − c·max(0, RHc − RH)/RHc, RHc = 70 %, c ∈ [0, 0.9] (h ∈ [0.1, 1]).

Fitting (our formulation):

1. E0,N and Rref,N from night data: by default the night-time method (one E0 per site-year with its
   SD, Rref every 4 days; ``night_model="nt"``), or per window as the DT method (``"dt"``).
2. r and c are constant within blocks of ``block_days`` (default 30 days) and estimated by profile
   likelihood: for every candidate (r, c) the light-response curve is refitted in all 4-day windows
   and the costs of the windows of a block are summed (coarse grid, then a 3 × 3 stencil at half the
   spacing around each block's optimum; weak Gaussian priors keep c near 0 and r near 1). The
   stencil's curvature gives the SD of r and c per block (Δχ² = 1, cost scaled by the dispersion
   factor and the 2× window overlap).
3. The shared Rref is the identifiability anchor: the day-time rb of each window gets a Gaussian
   prior centred on the night Rref with SD = max(SD(Rref,N), ``anchor_rel_sd``·Rref,N).
4. GPP and RECO from the shared light-response fitter (:mod:`landcarbon.flux.lightresponse`);
   RECO_SD and GPP_SD propagate each window's parameter covariance, the SD of E0,N and the SD of the
   asymmetry (r); the totals' SDs aggregate the windows (:func:`landcarbon.flux.lightresponse.annual_sum_sd`)
   and add the effect of the shared E0,N error, obtained by refitting with E0,N + SD(E0,N)
   (:func:`landcarbon.flux.lightresponse.e0_sensitivity`), and of the block parameters r and c: their 2 × 2
   covariance per block from the curvature of the profile (3 × 3 stencil, including the r–c cross term),
   the sensitivities of the totals from refits with r and c moved, the blocks added in quadrature (they
   are estimated independently). The rb prior includes the SD of the night Rref.

The model nests DT with the same night anchor (r = 1, c = 0): a likelihood-ratio test
(quasi-likelihood, χ² with 2 × n_blocks degrees of freedom, cost scaled by the residual variance
factor and corrected for the 2× overlap of the windows) and ΔAIC tell whether the extension is
supported per site-year (r = 1 lies on the boundary of its range, so the χ² reference is conservative).
A nested test of the RH term alone (r free, c = 0 vs r, c free) is reported as well.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import chi2

from ..errors import ConfigError, DataError, located
from ..units import umol_m2_s_to_gC_m2_per_step
from ._common import (PartitionResult, day_night_masks, flux_dataarray, interpolate_at_records, prepare_inputs,
                      window_layout)
from .lightresponse import (LightResponseCurve, RectangularHyperbola, annual_sum_sd, e0_sensitivity, fit_lrc_windows,
                            nee_sd_for_fit, predict_lrc)
from .nighttime import partition_nt
from .respiration import TREF_DEGC, arrhenius_term, lloyd_taylor, night_temperature_sensitivity

__all__ = ["partition_dtrh", "RH_FUNCTIONS", "RH_REF", "rh_exponential", "rh_bounded", "anchor_temperature",
           "R_BOUNDS", "E0_DAY_MAX"]

#: reference RH [%] of the exponential modifier: h(RH_REF) = 1 (saturated air, as at night)
RH_REF = 100.0
#: bounds of r = E0,D / E0,N (day respiration never above night respiration at equal temperature)
R_BOUNDS = (0.0, 1.0)
#: upper bound of E0,D [K]
E0_DAY_MAX = 400.0


def rh_exponential(rh, c, *, rhref: float = RH_REF):
    """Humidity modifier h(RH) = exp(c (RH − RHref)) [1] of day-time respiration (our formulation).

    RH in %, c in %⁻¹ (c = 0: no RH effect), RHref = 100 % (saturation, h = 1 as for the night anchor;
    c > 0: dry air reduces day-time respiration).

    Examples
    --------
    >>> round(float(rh_exponential(50.0, 0.01)), 4)
    0.6065
    """
    return np.exp(np.asarray(c) * (np.asarray(rh, float) - rhref))


def rh_bounded(rh, c, *, rhc: float = 70.0):
    """h(RH) = 1 − c·max(0, RHc − RH)/RHc [1]; 0 <= c < 1 (c = 0: no RH effect; our formulation).

    Examples
    --------
    >>> float(rh_bounded(35.0, 0.5))
    0.75
    """
    return 1.0 - np.asarray(c) * np.maximum(0.0, rhc - np.asarray(rh, float)) / rhc


def _no_rh(rh, c):
    return np.ones_like(np.asarray(rh, float))


#: name -> (function h(rh, c), coarse grid of c, null value of c, prior SD of c, bounds of c)
RH_FUNCTIONS: dict[str, tuple[Callable, np.ndarray, float, float, tuple[float, float]]] = {
    "exp": (rh_exponential, np.array([-0.005, 0.0, 0.005, 0.01, 0.015, 0.02]), 0.0, 0.02, (-0.005, 0.02)),
    "bounded": (rh_bounded, np.linspace(0.0, 0.9, 6), 0.0, 0.5, (0.0, 0.9)),
    "none": (_no_rh, np.array([0.0]), 0.0, np.inf, (0.0, 0.0)),
}


def anchor_temperature(time, t_degc, *, step_seconds: float, time_label: str = "end") -> np.ndarray:
    """The day's minimum air temperature [°C] for every record (local calendar day of the interval).

    The anchor T_a of the DT-RH day/night asymmetry (see the module docstring). Records are assigned
    to the day of their interval middle; a day without any finite temperature gives NaN.
    """
    t = pd.DatetimeIndex(time)
    shift = step_seconds / 2.0 if time_label == "end" else (-step_seconds / 2.0 if time_label == "start" else 0.0)
    day = (t - pd.Timedelta(seconds=shift)).floor("D")
    return pd.Series(np.asarray(t_degc, float), index=day).groupby(level=0).transform("min").to_numpy()


def partition_dtrh(ds: xr.Dataset, *, rh_function: str | tuple = "exp", block_days: int = 30,
                   r_grid: np.ndarray | None = None, anchor_rel_sd: float = 0.05, r_prior_sd: float = 0.3,
                   refine: bool = True, beta_prior_factor: float = 20.0, night_model: str = "nt",
                   tref_degc: float = TREF_DEGC, lrc: LightResponseCurve | None = None,
                   nt_result: PartitionResult | None = None) -> PartitionResult:
    """DT-RH partitioning (our formulation after Li et al. 2022; see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        Standard site dataset after u* filtering and gap filling (as for
        :func:`~landcarbon.flux.daytime.partition_dt`) with RH [%] or VPD [hPa] and TA (RH is then
        derived with :func:`landcarbon.meteo.rh_from_vpd`).
    rh_function : "exp" | "bounded" | "none" | (h, grid, null, prior_sd, bounds)
        Humidity modifier of day-time respiration (pluggable; "none" = asymmetric E0 only).
    block_days : int
        Length of the blocks in which E0,D/E0,N and the RH parameter are constant [days].
    r_grid : array, optional
        Coarse grid of r = E0,D/E0,N (default 0.2, 0.4, 0.6, 0.8, 1.0).
    anchor_rel_sd : float
        Relative SD of the rb prior around the night Rref (the shared-Rref anchor).
    r_prior_sd : float
        SD of the weak Gaussian prior of r around 1.
    beta_prior_factor : float
        SD factor of REddyProc's β0 prior (20 as REddyProc, ``inf`` = off).
    night_model : {"nt", "dt"}
        Source of E0,N and the night Rref anchor: the night-time method (default; one E0 per
        site-year) or the DT night-time windows (E0 per window, GP-smoothed).
    tref_degc : float
        Reference temperature of the reported Rref (``params.rb_tref``) [°C]; RECO does not depend on it.
    lrc : LightResponseCurve, optional
        Light-response curve (default rectangular hyperbola).
    nt_result : PartitionResult, optional
        A night-time result to reuse (saves a second NT run); computed here when absent.

    Returns
    -------
    PartitionResult
        GPP and RECO [µmol CO2 m-2 s-1] (NEE > 0 release, NEE = RECO − GPP); ``params`` = 4-day
        windows with E0,N, E0,D, r, c, rb (at 15 °C) and ``rb_tref`` (at ``tref_degc``); ``info``
        with the per-block table (``blocks``: r, c and their SDs), the likelihood-ratio tests
        (``lr_test``: statistic, df, p, delta_aic, supported), ``lr_test_rh`` (RH term alone) and
        ``annual_sd`` [gC m-2]; ``extra`` = GPP_SD, RECO_SD, FP_qc, H_RH, DAY_NIGHT_RATIO (temperature
        part of ER_D/ER_N per record), T_ANCHOR.
    """
    where = f"site {ds.attrs.get('site', '?')} (DT-RH)"
    inp = prepare_inputs(ds, where=where)
    lrc = RectangularHyperbola() if lrc is None else lrc
    if isinstance(rh_function, str):
        if rh_function not in RH_FUNCTIONS:
            raise ConfigError(located(f"rh_function={rh_function!r}", where=where, fix=f"use one of {sorted(RH_FUNCTIONS)}"))
        h, c_grid, c_null, c_prior_sd, c_bounds = RH_FUNCTIONS[rh_function]
        rh_name = rh_function
    else:
        h, c_grid, c_null, c_prior_sd, c_bounds = rh_function
        rh_name = getattr(h, "__name__", "custom")
    if rh_name != "none" and not np.isfinite(inp.rh).any():
        raise DataError(located("no relative humidity: neither RH nor VPD (with TA) in the dataset", where=where,
                                fix="add RH [%] or VPD [hPa], or use rh_function='none'"))
    c_grid = np.asarray(c_grid, float)
    r_grid = np.array([0.2, 0.4, 0.6, 0.8, 1.0]) if r_grid is None else np.asarray(r_grid, float)
    n = inp.nee_f.size
    layout = window_layout(n, inp.rec_per_day)
    day, night = day_night_masks(inp.rg, inp.potrad)
    tfit = TREF_DEGC  # internal reference: predictions are invariant, Rref is reported at tref_degc
    if night_model == "dt":
        ts = night_temperature_sensitivity(inp.nee_meas, inp.ta, night, layout, rec_per_day=inp.rec_per_day,
                                           tref_degc=tfit)
    elif night_model == "nt":
        nt = partition_nt(ds, tref_degc=tfit) if nt_result is None else nt_result
        e0 = float(nt.info["e0"])
        # the NT Rref at its own Tref, converted to the internal reference
        conv = np.exp(e0 * arrhenius_term(tfit, tref_degc=float(nt.info.get("tref_degC", tfit))))
        rr = nt.extra["RREF"].values * conv
        cs = np.concatenate([[0.0], np.cumsum(rr)])
        rs, re_ = layout.rec_start.to_numpy(), layout.rec_end.to_numpy()
        p = nt.params
        sd_rr = interpolate_at_records(n, p.rec.to_numpy(float), p.sd_rref.to_numpy(float) * conv)
        ts = pd.DataFrame({"e0_night": np.full(len(layout), e0),
                           "sd_e0_night": float(nt.info.get("e0_sd", 0.0)),
                           "rref_night": (cs[re_] - cs[rs]) / np.maximum(re_ - rs, 1),
                           "sd_rref_night": sd_rr[layout.rec_centre.to_numpy()]})
    else:
        raise ConfigError(located(f"night_model={night_model!r}", where=where, fix="use 'nt' or 'dt'"))
    e0n = ts.e0_night.to_numpy()
    rrefn = ts.rref_night.to_numpy()
    rb_sd = np.maximum(np.nan_to_num(ts.sd_rref_night.to_numpy(), nan=0.0), anchor_rel_sd * rrefn)
    nw = len(layout)
    wblock = (layout.start_day.to_numpy() + 2) // block_days
    nblock = int(wblock.max()) + 1
    rec_block = np.minimum(np.arange(n) // inp.rec_per_day // block_days, nblock - 1)
    x = arrhenius_term(inp.ta, tref_degc=tfit)
    t_anchor = anchor_temperature(inp.time, inp.ta, step_seconds=inp.step_seconds,
                                  time_label=inp.attrs.get("time_label", "end"))
    yterm = x - arrhenius_term(t_anchor, tref_degc=tfit)
    sd = nee_sd_for_fit(inp, day)
    nee_day = np.where(day, inp.nee_meas, np.nan)
    rh = inp.rh

    def b_of(r_b, e0=e0n):
        r = np.clip(r_b, *R_BOUNDS)[wblock]
        return np.minimum(r * e0, E0_DAY_MAX) - e0

    def fit(r_b, c_b, n_starts=1, e0=e0n):
        return fit_lrc_windows(nee_day, inp.rg, inp.vpd, sd, layout, xterm=x, yterm=yterm, a_win=e0,
                               b_win=b_of(r_b, e0), mult=h(rh, np.clip(c_b, *c_bounds)[rec_block]), rb_prior_mu=rrefn,
                               rb_prior_sd=rb_sd, lrc=lrc, n_starts=n_starts, beta_prior_factor=beta_prior_factor,
                               time=inp.time)

    def run(r_b, c_b):
        tab = fit(r_b, c_b)
        return tab.cost.to_numpy(), (tab.code == 0).to_numpy()

    def prior_pen(c, r=1.0):
        pc = 0.0 if not np.isfinite(c_prior_sd) else ((c - c_null) / c_prior_sd) ** 2
        return pc + ((r - 1.0) / r_prior_sd) ** 2

    # ---- coarse profile on the (r, c) grid, all blocks at once
    combos = [(r, c) for r in r_grid for c in c_grid]
    costs = np.empty((len(combos), nw))
    valid = np.empty((len(combos), nw), bool)
    for g, (r, c) in enumerate(combos):
        costs[g], valid[g] = run(np.full(nblock, r), np.full(nblock, c))
    null_cost, null_valid = run(np.full(nblock, 1.0), np.full(nblock, c_null))
    allv = valid.all(axis=0) & null_valid

    def block_cost(cost_mat, cands_per_block):
        """(n_cand, nblock) block costs incl. priors; cands_per_block[g] = (r_b, c_b) arrays."""
        prof = np.full((cost_mat.shape[0], nblock), np.nan)
        for b in range(nblock):
            m = allv & (wblock == b)
            if m.sum() == 0:
                continue
            prof[:, b] = cost_mat[:, m].sum(axis=1) + np.array([prior_pen(cc[1][b], cc[0][b]) for cc in cands_per_block])
        return prof

    grid_cands = [(np.full(nblock, r), np.full(nblock, c)) for r, c in combos]
    prof = block_cost(costs, grid_cands)
    has = np.isfinite(prof).any(axis=0)
    i_sym = int(np.argmin([abs(r - 1.0) + abs(c - c_null) for r, c in combos]))
    best = np.where(has, np.argmin(np.where(np.isfinite(prof), prof, np.inf), axis=0), i_sym)
    r_b = np.array([combos[i][0] for i in best], float)
    c_b = np.array([combos[i][1] for i in best], float)
    i_null_c = [g for g, (_, c) in enumerate(combos) if np.isclose(c, c_null)]
    # ---- 3 x 3 stencil at half the grid spacing: refinement and curvature (SDs of r and c)
    dr = (r_grid[1] - r_grid[0]) / 2 if len(r_grid) > 1 else 0.0
    dc = (c_grid[1] - c_grid[0]) / 2 if len(c_grid) > 1 else 0.0
    sd_r = np.full(nblock, r_prior_sd)
    sd_c = np.full(nblock, c_prior_sd if np.isfinite(c_prior_sd) else 0.0)
    rho_rc = np.zeros(nblock)
    overlap = 2.0  # 4-day windows moved by 2 days: each record enters two windows
    if refine and (dr > 0 or dc > 0):
        offs = [(a, b) for a in (-dr, 0.0, dr) for b in (-dc, 0.0, dc)]
        offs = list(dict.fromkeys(offs))
        st_c = [(np.clip(r_b + a, *R_BOUNDS), np.clip(c_b + b, *c_bounds)) for a, b in offs]
        st_cost = np.empty((len(offs), nw))
        for g, (rr_, cc_) in enumerate(st_c):
            st_cost[g], v = run(rr_, cc_)
            allv &= v
        sprof = block_cost(st_cost, st_c)
        i0 = offs.index((0.0, 0.0))
        fbest = np.where(np.isfinite(sprof).any(axis=0), np.argmin(np.where(np.isfinite(sprof), sprof, np.inf), axis=0), i0)
        rho_rc = np.zeros(nblock)
        for b in range(nblock):
            col = sprof[:, b]
            if not np.isfinite(col).all():
                continue
            at = {o: col[i] for i, o in enumerate(offs)}

            def curvature(d, key_p, key_m, lo, hi, x):
                """Second difference; one-sided (minimum at the bound) when the estimate sits on a bound."""
                c0 = at[(0.0, 0.0)]
                if x + d > hi + 1e-12:
                    return 2.0 * (at[key_m] - c0) / d**2, True
                if x - d < lo - 1e-12:
                    return 2.0 * (at[key_p] - c0) / d**2, True
                return (at[key_p] + at[key_m] - 2 * c0) / d**2, False

            hrr, r_edge = curvature(dr, (dr, 0.0), (-dr, 0.0), *R_BOUNDS, r_b[b]) if dr else (np.nan, True)
            hcc, c_edge = curvature(dc, (0.0, dc), (0.0, -dc), *c_bounds, c_b[b]) if dc else (np.nan, True)
            if dr and hrr > 0:
                sd_r[b] = np.sqrt(2.0 * overlap / hrr)
            if dc and hcc > 0:
                sd_c[b] = np.sqrt(2.0 * overlap / hcc)
            if dr and dc and hrr > 0 and hcc > 0 and not (r_edge or c_edge):  # full 2 x 2 curvature: r and c trade off
                hrc = (at[(dr, dc)] - at[(dr, -dc)] - at[(-dr, dc)] + at[(-dr, -dc)]) / (4 * dr * dc)
                det = hrr * hcc - hrc**2
                if det > 0:
                    cov = 2.0 * overlap * np.array([[hcc, -hrc], [-hrc, hrr]]) / det
                    sd_r[b], sd_c[b] = np.sqrt(cov[0, 0]), np.sqrt(cov[1, 1])
                    rho_rc[b] = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
        r_b = np.array([st_c[fbest[b]][0][b] for b in range(nblock)])
        c_b = np.array([st_c[fbest[b]][1][b] for b in range(nblock)])
    # ---- final fit (3 starts) and prediction
    tab = fit(r_b, c_b, n_starts=3)
    tab = pd.concat([tab, ts], axis=1)
    mult = h(rh, np.clip(c_b, *c_bounds)[rec_block])
    tab["e0_day"] = e0n + tab["b"]
    tab["r_day_night"] = np.clip(r_b, *R_BOUNDS)[wblock]
    tab["c_rh"] = c_b[wblock]
    tab["block"] = wblock
    # residual variance factor: scales the curvature SDs (quasi-likelihood)
    ok = allv & (tab.code == 0).to_numpy()
    alt_cost = float(tab.cost.to_numpy()[ok].sum() + sum(prior_pen(c, r) for r, c in zip(r_b, c_b)))
    nul_cost = float(null_cost[ok].sum() + nblock * prior_pen(c_null, 1.0))
    n_obs = float(tab.n_day.to_numpy()[ok].sum()) / overlap
    n_par = 4.0 * ok.sum() / overlap + 2 * nblock
    phi = max(alt_cost / overlap / max(n_obs - n_par, 1.0), 1e-12)
    sd_r, sd_c = sd_r * np.sqrt(phi), sd_c * np.sqrt(phi)
    tab["sd_b"] = sd_r[wblock] * e0n
    tab["rb_tref"] = lloyd_taylor(tref_degc, tab["rb"].to_numpy(float), e0n, tref_degc=tfit)
    day_pred = (np.where(np.isfinite(inp.rg_f), inp.rg_f, 0.0) > 4.0) & (inp.potrad > 0)
    rg_pred = np.where(np.isfinite(inp.rg_f), inp.rg_f, inp.rg)
    pred = predict_lrc(tab, rg_wm2=rg_pred, vpd_hpa=inp.vpd, xterm=x, yterm=yterm, mult=mult, day=day_pred,
                       rec_per_day=inp.rec_per_day, lrc=lrc, sd_a_col="sd_e0_night", sd_b_col="sd_b")
    sums_sd = annual_sum_sd(pred, step_seconds=inp.step_seconds, xterm=x, lrc=lrc, rg_wm2=rg_pred, vpd_hpa=inp.vpd,
                            yterm=yterm, mult=mult, day=day_pred, sd_a_col=None, sd_b_col=None)

    def refit_totals(r_s, c_s, e0=e0n):
        """Half-hourly GPP, RECO after refitting every window with shifted block parameters."""
        t_s = pd.concat([fit(r_s, c_s, n_starts=1, e0=e0), ts], axis=1)
        m_s = h(rh, np.clip(c_s, *c_bounds)[rec_block])
        return predict_lrc(t_s, rg_wm2=rg_pred, vpd_hpa=inp.vpd, xterm=x, yterm=yterm, mult=m_s, day=day_pred,
                           rec_per_day=inp.rec_per_day, lrc=lrc)

    # E0,N is shared by all windows: its error moves every window the same way -> refit with E0,N + SD
    sd_e0 = np.nan_to_num(ts.sd_e0_night.to_numpy(float))
    if np.any(sd_e0 > 0):
        sums_sd = e0_sensitivity(sums_sd, pred, refit_totals(r_b, c_b, e0n + sd_e0), inp.step_seconds)
    # r and c are block parameters, estimated independently per block: refit with each block's r (then c)
    # moved by its SD (towards the inside of its range); with the blocks' 2 x 2 covariance of (r, c) the
    # change of the totals is propagated per block and the blocks are added in quadrature
    to_g = umol_m2_s_to_gC_m2_per_step(1.0, inp.step_seconds)
    grads = {}
    for name, base, sdv, lo_hi in (("r", r_b, sd_r, R_BOUNDS), ("c", c_b, sd_c, c_bounds)):
        if not np.any(sdv > 0) or lo_hi[0] == lo_hi[1]:
            continue
        up = np.where(base + sdv <= lo_hi[1], base + sdv, base - sdv)
        p_s = refit_totals(up, c_b) if name == "r" else refit_totals(r_b, up)
        step = np.where(up - base != 0, up - base, np.nan)
        for flux, key in (("GPP", "gpp"), ("RECO", "reco")):
            d = np.bincount(rec_block, weights=np.nan_to_num(p_s[key] - pred[key]), minlength=nblock) * to_g
            grads[(flux, name)] = np.nan_to_num(d / step)
    for flux in ("GPP", "RECO"):
        gr = grads.get((flux, "r"), np.zeros(nblock))
        gc = grads.get((flux, "c"), np.zeros(nblock))
        var = (gr * sd_r) ** 2 + (gc * sd_c) ** 2 + 2 * rho_rc * gr * gc * sd_r * sd_c
        sums_sd[f"{flux}_rc_part"] = float(np.sqrt(max(var.sum(), 0.0)))
        sums_sd[flux] = float(np.sqrt(sums_sd[flux] ** 2 + max(var.sum(), 0.0)))

    def lr(cost0, cost1, df):
        stat = max((cost0 - cost1) / overlap / phi, 0.0)
        return {"statistic": stat, "df": int(df), "p_value": float(chi2.sf(stat, df)),
                "delta_aic": float(stat - 2 * df), "supported": bool(stat - 2 * df > 0)}

    test = lr(nul_cost, alt_cost, 2 * nblock)
    if len(c_grid) > 1 and i_null_c:
        sub = np.where(np.isfinite(prof[i_null_c]), prof[i_null_c], np.inf).min(axis=0)
        full = np.where(np.isfinite(prof), prof, np.inf).min(axis=0)
        okb = np.isfinite(sub) & np.isfinite(full)
        test_rh = lr(float(sub[okb].sum()), float(full[okb].sum()), int(okb.sum()))
    else:
        test_rh = None
    blocks = pd.DataFrame({"block": np.arange(nblock), "start_day": np.arange(nblock) * block_days,
                           "r_day_night": np.clip(r_b, *R_BOUNDS), "r_sd": sd_r, "c_rh": c_b, "c_sd": sd_c,
                           "rho_r_c": rho_rc,
                           "e0_night": [np.nanmean(e0n[wblock == b]) for b in range(nblock)]})
    blocks["e0_day"] = np.minimum(blocks.r_day_night * blocks.e0_night, E0_DAY_MAX)
    okw = tab.rec_mean.notna().to_numpy()
    b_rec = np.interp(np.arange(n), tab.rec_mean.to_numpy(float)[okw], tab["b"].to_numpy(float)[okw]) if okw.any() \
        else np.zeros(n)
    ratio_t = np.where(day_pred, np.exp(b_rec * yterm), 1.0)
    time = ds["time"].values

    def da(v, units):
        return xr.DataArray(v, coords={"time": time}, dims="time", attrs={"units": units})

    return PartitionResult(
        method="DT-RH",
        gpp=flux_dataarray(pred["gpp"], ds, "GPP", "gross primary production (DT-RH, our formulation after Li et al. 2022)",
                           "DT-RH"),
        reco=flux_dataarray(pred["reco"], ds, "RECO", "ecosystem respiration (DT-RH, our formulation after Li et al. 2022)",
                            "DT-RH"),
        params=tab,
        info={"blocks": blocks, "lr_test": test, "lr_test_rh": test_rh, "rh_function": rh_name,
              "block_days": block_days, "anchor_rel_sd": anchor_rel_sd, "dispersion": phi, "tref_degC": tref_degc,
              "lrc": lrc.name, "annual_sd": sums_sd, "night_model": night_model},
        extra={"GPP_SD": da(pred["gpp_sd"], "umol m-2 s-1"), "RECO_SD": da(pred["reco_sd"], "umol m-2 s-1"),
               "FP_qc": da(pred["qc"].astype(np.int8), "1"), "H_RH": da(mult, "1"),
               "DAY_NIGHT_RATIO": da(ratio_t, "1"), "T_ANCHOR": da(t_anchor, "degC")},
    )
