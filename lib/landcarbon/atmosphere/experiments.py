"""Observing-system experiments over many draws: identical twin vs transport error, in situ vs GOSAT/OCO-2.

An *honest* OSSE (Houweling et al. 2010, doi:10.5194/acp-10-9981-2010; Chevallier et al. 2014,
doi:10.1002/2014GL061103 on transport errors): the prior is drawn from the prior error covariance around
the truth (never a fixed fraction of it), the observations are made with a *different* transport model
than the one that inverts them, their noise differs from the R the inversion assumes, and the results
are statistics over many prior and noise draws, with chi^2 and rank histograms as consistency checks.

Design (:func:`design_observations`): observing blocks on the inversion's (coarse) grid — the in-situ
network parts ``global``, ``cma``, ``aircraft`` (sites sampled every window/month) and the satellites
``GOSAT`` and ``OCO-2`` (super-observations of clear-sky land soundings per cell and window/month, see
:mod:`landcarbon.atmosphere.satellite`) — each at two resolutions: ``window`` (~weekly, for the
GCAS-like two-step EnSRF) and ``month`` (for the synthesis inversion). Every observation is a weighted
sum of the layers of one column (in situ: one layer, weight 1), so one code path serves both.

Truths (:func:`simulate_truth`), OUR FORMULATION:

* ``identical``: the inversion's own transport model makes the data (with the truth's within-region
  structure), noise drawn from R — the classic identical twin;
* ``transport-error``: the data come from :data:`TRUTH_TRANSPORT`, another resolution (4 x 5 instead of
  6 x 7.5 deg) with slower boundary-layer and free-troposphere exchange, weaker meridional mixing and
  Hadley cell and faster jets; the noise is Student-t (5 degrees of freedom) with a standard deviation
  that differs from sqrt(R) by a lognormal factor (sd 0.35 in log) per site or cell.

The fossil and fire background is always simulated with the inversion's model and presubtracted, so its
transport error reaches the inversion as it would in reality.

Evaluation (:func:`linear_osse`): the synthesis inversion is linear, so for prior draws
``s_p = s_true + Q^(1/2) z`` and noise draws ``e`` the error of any aggregate ``a`` is
``a^T A (Q^-1 (s_p - s_true) + sum_b M_b^T R_b^-1 (delta_b + e_b))`` with ``delta_b = y_b - M_b s_true``
(transport, aggregation and truncation error). The information form with one normal matrix per block
makes every observing system (a union of blocks) and every draw cheap; chi^2 = 2 J_min / m per draw
(Michalak et al. 2005, doi:10.1029/2005JD005970) and rank histograms (Talagrand diagrams: rank of the
truth among posterior samples; flat when the posterior spread is right) diagnose consistency.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import linalg as sla

from ..errors import ConfigError, located
from . import network as _network
from . import satellite as _sat
from .inversion import annual_aggregation
from .transport import PRESETS, TransportModel

__all__ = ["TRUTH_TRANSPORT", "NOISE_LOG_SD", "NOISE_DOF", "ObsBlock", "OSSEDesign", "design_observations",
           "window_edges", "simulate_truth", "block_arrays", "design_response_functions", "aggregation_vectors",
           "linear_osse", "rank_histogram", "SYSTEMS", "SYSTEM_LABELS", "weekly_systems", "osse_table", "indicators",
           "design_counts", "transport_mismatch", "kernel_comparison", "weekly_summary"]

#: Transport of the truth in the transport-error OSSE (see the module docstring).
TRUTH_TRANSPORT = replace(PRESETS["standard"], K0=0.8 * PRESETS["standard"].K0, tau_bl_days=(3.0, 6.0),
                          tau_ft_days=(10.0, 28.0), hadley_kg_s=6.4e10, u_jet=(6.6, 16.5, 27.5))
#: Log standard deviation of the per-site/cell factor between true noise sd and sqrt(R).
NOISE_LOG_SD = 0.35
#: Degrees of freedom of the Student-t noise of the transport-error OSSE.
NOISE_DOF = 5

#: Observing systems as unions of blocks.
SYSTEMS = {"case1": ("global",), "case2": ("global", "cma"), "case3": ("global", "cma", "aircraft"),
           "GOSAT": ("GOSAT",), "OCO-2": ("OCO-2",), "GOSAT + in situ": ("global", "cma", "aircraft", "GOSAT"),
           "OCO-2 + in situ": ("global", "cma", "aircraft", "OCO-2")}


@dataclass
class ObsBlock:
    """Observations of one block at one resolution; every row is a weighted column (see module docstring)."""

    name: str
    kind: str                 # "insitu" | "satellite"
    resolution: str           # "window" | "month"
    time: np.ndarray          # (m,) window or month index
    points: np.ndarray        # (m, K) index into OSSEDesign.points of each layer of the column
    weights: np.ndarray       # (m, K) true (kernel-aware) layer weights
    constant: np.ndarray      # (m,) true operator constant [ppm]
    r: np.ndarray             # (m,) error variance the inversion assumes [ppm2]
    group: np.ndarray         # (m,) site/cell id (noise scaling)
    n_soundings: np.ndarray = None

    @property
    def m(self) -> int:
        return len(self.time)


@dataclass
class OSSEDesign:
    world: object
    periods_per_month: int
    points: pd.DataFrame                       # lat, lon, level
    blocks: dict = field(default_factory=dict)  # name -> {"window": ObsBlock, "month": ObsBlock}
    soundings: dict = field(default_factory=dict)

    @property
    def n_windows(self) -> int:
        return self.world.n_months * self.periods_per_month


def window_edges(world, periods_per_month: int) -> pd.DatetimeIndex:
    """Boundaries (n_windows + 1) of the model's sub-monthly windows (quarter months for 4) as timestamps."""
    b = world.model.period_steps(periods_per_month) / world.model.config.steps_per_month
    out = []
    for t0 in world.time:
        out.extend(t0 + pd.to_timedelta(b[:-1] * t0.days_in_month, unit="D"))
    out.append(world.time[-1] + pd.offsets.MonthBegin(1))
    return pd.DatetimeIndex(out)


class _Points:
    def __init__(self):
        self.index, self.rows = {}, []

    def add(self, lat, lon, level) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([np.round(np.atleast_1d(lat).astype(float), 4),
                                          np.round(np.atleast_1d(lon).astype(float), 4),
                                          np.atleast_1d(level).astype(int)])
        uniq = keys.unique()
        new = [k for k in uniq if k not in self.index]
        for k in new:
            self.index[k] = len(self.rows)
            self.rows.append(k)
        lookup = pd.Series([self.index[k] for k in uniq], index=uniq)
        return lookup.loc[keys].to_numpy(int)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["lat", "lon", "level"])


def _insitu_block(world, pts, part, resolution, n_times):
    p = _network.observation_points(part, n_levels=world.model.nlev)
    K = world.model.nlev
    idx = pts.add(p["lat"].values, p["lon"].values, p["level"].values)
    S = len(p)
    time = np.repeat(np.arange(n_times), S)
    site = np.tile(np.arange(S), n_times)
    W = np.zeros((S * n_times, K))
    W[np.arange(S * n_times), p["level"].values[site]] = 1.0
    return ObsBlock(part, "insitu", resolution, time, np.repeat(idx[site][:, None], K, axis=1), W,
                    np.zeros(S * n_times), (p["mdm_ppm"].values[site]) ** 2, site)


def _satellite_block(world, pts, name, soundings, edges, resolution):
    m = world.model
    so = _sat.super_observations(name, soundings, m, window_edges=edges)
    K = m.nlev
    lat = np.repeat(so["lat"].values[:, None], K, axis=1)
    lon = np.repeat(so["lon"].values[:, None], K, axis=1)
    lev = np.broadcast_to(np.arange(K), lat.shape)
    P = pts.add(lat.ravel(), lon.ravel(), lev.ravel()).reshape(lat.shape)
    cell = so["j"].values * m.nlon + so["i"].values
    return ObsBlock(name, "satellite", resolution, so["window"].values, P, so["layer_weights"].values,
                    so["constant"].values, so["sigma"].values ** 2, cell, so["n_soundings"].values)


def design_observations(world, *, parts=("global", "cma", "aircraft"), instruments=("GOSAT", "OCO-2"),
                        periods_per_month: int = 4, seed: int = 0) -> OSSEDesign:
    """Sampling layout of every block at window and month resolution (no values yet; see simulate_truth).

    Satellite soundings: :func:`satellite.ground_track` over the whole period, land from the world's
    region map, clear sky by :func:`satellite.sample_soundings` (``seed``).
    """
    pts = _Points()
    des = OSSEDesign(world, int(periods_per_month), None)
    nw, nm = world.n_months * periods_per_month, world.n_months
    for part in parts:
        des.blocks[part] = {"window": _insitu_block(world, pts, part, "window", nw),
                            "month": _insitu_block(world, pts, part, "month", nm)}
    wedges = window_edges(world, periods_per_month)
    medges = pd.DatetimeIndex(list(world.time) + [world.time[-1] + pd.offsets.MonthBegin(1)])
    n_days = (medges[-1] - medges[0]).days
    for q, name in enumerate(instruments):
        track = _sat.ground_track(name, str(world.time[0].date()), n_days)
        snd = _sat.sample_soundings(name, track, world.regions.is_land, np.random.default_rng([seed, q]))
        des.soundings[name] = snd
        des.blocks[name] = {"window": _satellite_block(world, pts, name, snd, wedges, "window"),
                            "month": _satellite_block(world, pts, name, snd, medges, "month")}
    des.points = pts.frame()
    return des


def _run_points(model, fields, c0, world, points, p):
    """Window means (T, P, n_windows) at lat/lon/level points of fluxes ``fields`` (T, n_months, J, I)."""
    cells = model.cell_index(points["lat"].values, points["lon"].values, points["level"].values)
    start = np.zeros((len(fields),) + model.shape)
    start[:] = np.asarray(c0, float)[:, None, None, None]
    _, s = model.run(start, np.stack(fields), start_month=0, n_months=world.n_months, samples=cells,
                     periods_per_month=p)
    return s.transpose(0, 2, 1)


def simulate_truth(design: OSSEDesign, kinds=("identical", "transport-error")) -> dict:
    """Noise-free window means at every design point.

    Returns dict with ``background`` (P, n_windows): the prescribed fossil + fire contribution simulated
    by the inversion's model (to be presubtracted), and per truth kind (P, n_windows) the full true
    mixing ratio (c0 + true biosphere/ocean + fossil + fire) from that kind's transport; plus
    ``window_weights`` (p,) for monthly means.
    """
    w, p = design.world, design.periods_per_month
    A = w.model
    bg_A = w.field(w.fossil_flux + w.fire_flux)
    out = {}
    runs = [w.field(w.truth_flux, w.truth_patterns) + bg_A, bg_A] if "identical" in kinds else [bg_A]
    s = _run_points(A, runs, [w.c0_true, 0.0][-len(runs):], w, design.points, p)
    out["background"] = s[-1]
    if "identical" in kinds:
        out["identical"] = s[0]
    if "transport-error" in kinds:
        B = TransportModel(TRUTH_TRANSPORT)
        pat, tp = w.patterns_on(B)
        fB = np.einsum("tr,rji->tji", w.truth_flux, tp) + np.einsum("tr,rji->tji", w.fossil_flux + w.fire_flux, pat)
        out["transport-error"] = _run_points(B, [fB], [w.c0_true], w, design.points, p)[0]
    steps = np.diff(A.period_steps(p)).astype(float)
    out["window_weights"] = steps / steps.sum()
    return out


def _at_resolution(series, block, p, ww):
    if block.resolution == "window":
        return series
    nm = series.shape[-1] // p
    return (series.reshape(series.shape[:-1] + (nm, p)) * ww).sum(axis=-1)


def block_arrays(design, sim, name, resolution, kind, operator="aware"):
    """(y, r): noise-free presubtracted observations and assumed variances of one block.

    ``y = constant + sum_k w_k c_true,k - (constant_op + sum_k w_op,k background_k)`` with the true
    (kernel-aware) operator making the data and ``operator`` ("aware" or "naive") used by the inversion.
    """
    b = design.blocks[name][resolution]
    p, ww = design.periods_per_month, sim["window_weights"]
    tru = _at_resolution(sim[kind], b, p, ww)
    bg = _at_resolution(sim["background"], b, p, ww)
    raw = b.constant + np.einsum("mk,mk->m", b.weights, tru[b.points, b.time[:, None]])
    if operator == "aware" or b.kind == "insitu":
        Wop, cop = b.weights, b.constant
    elif operator == "naive":
        Wop = np.broadcast_to(_sat.naive_layer_weights(design.world.model.config.mass_fractions), b.weights.shape)
        cop = np.zeros(b.m)
    else:
        raise ConfigError(located(f"unknown operator {operator!r}", where="block_arrays", fix="'aware' or 'naive'"))
    return raw - cop - np.einsum("mk,mk->m", Wop, bg[b.points, b.time[:, None]]), b.r.copy()


def design_response_functions(design, *, memory: int = 12, near_field: int = 2):
    """Response functions of the inversion's model at every design point (samples = design points)."""
    w = design.world
    cells = w.model.cell_index(design.points["lat"].values, design.points["lon"].values,
                               design.points["level"].values)
    return w.model.response_functions(w.patterns, cells, region_codes=list(w.regions.codes), memory=memory,
                                      near_field=near_field)


def _block_matrix(design, rf, name, operator):
    b = design.blocks[name]["month"]
    W = b.weights
    if operator == "naive" and b.kind == "satellite":
        W = np.broadcast_to(_sat.naive_layer_weights(design.world.model.config.mass_fractions), W.shape)
    return _sat.satellite_matrix(rf, b.points, W, b.time, design.world.n_months)


def aggregation_vectors(world, *, sets: dict | None = None):
    """Period-mean aggregation vectors (n_agg, n) of China and the 22 TransCom regions, and their names.

    State order as :meth:`ResponseFunctions.matrix` (month-major regions, then c0). A region belongs to
    TransCom region t by its parent (``regions.transcom``).
    """
    reg = world.regions
    from .regions import TRANSCOM_CODES

    nm, R = world.n_months, reg.n
    sets = sets or {"China": np.asarray(reg.china, bool)}
    for t, code in TRANSCOM_CODES.items():
        sets.setdefault(code, np.asarray(reg.transcom) == t)
    names = [k for k, v in sets.items() if np.any(v)]
    A = np.stack([annual_aggregation(nm, R, sets[k]).mean(axis=0) for k in names])
    return A, names


def _stable_id(name: str) -> int:
    """A process-independent integer for a block name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def _noise(rng_seed, block, kind, n_draws):
    """Standardised noise draws (m, D) scaled to the block's true noise sd of this truth kind."""
    rng = np.random.default_rng(rng_seed)
    sd = np.sqrt(block.r)
    if kind == "identical":
        return sd[:, None] * rng.standard_normal((block.m, n_draws))
    groups = np.unique(block.group, return_inverse=True)[1]
    fac = np.exp(NOISE_LOG_SD * rng.standard_normal(groups.max() + 1))[groups]
    t = rng.standard_t(NOISE_DOF, (block.m, n_draws)) / np.sqrt(NOISE_DOF / (NOISE_DOF - 2.0))
    return (sd * fac)[:, None] * t


def linear_osse(design, rf, sim, *, systems=None, kinds=("identical", "transport-error"), n_draws: int = 100,
                seed: int = 0, operators=None, priors=("drawn",), n_members: int = 19):
    """Posterior errors over prior and noise draws for each observing system, truth kind and prior mode.

    Parameters
    ----------
    systems : dict name -> tuple of block names (default :data:`SYSTEMS` restricted to the design's blocks)
    operators : dict system -> "aware"/"naive" for its satellite blocks (default aware)
    priors : prior modes: "drawn" (s_p = truth + Q^(1/2) z, the honest OSSE) and/or "world" (the world's
        own climatological prior, e.g. biased low; the same prior in every draw, only the noise varies)

    Returns
    -------
    (table, ranks): ``table`` one row per (system, kind, prior, aggregate) with ``truth_sink`` [PgC yr-1],
    ``estimate_draw0`` (the posterior estimate of the first draw: one realisation, as a single inversion), ``bias`` (mean of estimate - truth, sink convention), ``rmse``, ``error_sd``, ``posterior_sigma``,
    ``prior_sigma``, ``uncertainty_reduction``, ``coverage_1sigma`` (share of draws with |error| < sigma),
    ``chi2_mean``, ``chi2_sd`` (2 J_min / m), ``n_obs``; ``ranks`` dict (system, kind, prior) ->
    (n_draws, n_agg) rank of the truth among ``n_members`` posterior samples. Sink errors are -(NEE
    errors): fire is prescribed. The same prior and noise draws serve every system (common random numbers).
    """
    w = design.world
    systems = systems or {k: v for k, v in SYSTEMS.items() if set(v) <= set(design.blocks)}
    operators = operators or {}
    nm, R = w.n_months, w.regions.n
    n = nm * R + 1
    s_true = np.concatenate([w.truth_flux.ravel(), [w.c0_true]])
    q = np.concatenate([w.prior_sigma.ravel() ** 2, [w.c0_sigma ** 2]])
    Agg, names = aggregation_vectors(w)
    rng = np.random.default_rng(seed)
    Ep_modes = {}
    for mode in priors:
        if mode == "drawn":
            Ep_modes[mode] = np.sqrt(q)[:, None] * rng.standard_normal((n, n_draws))
        elif mode == "world":
            dev = np.concatenate([w.prior_flux.ravel(), [w.c0_prior]]) - s_true
            Ep_modes[mode] = np.repeat(dev[:, None], n_draws, axis=1)
        else:
            raise ConfigError(located(f"unknown prior mode {mode!r}", where="linear_osse", fix="'drawn' or 'world'"))
    rows, ranks, cache = [], {}, {}
    truth_sink = -(Agg @ s_true)

    def block_terms(bn, op):
        """Per block and operator: m, N = M^T R^-1 M, N Ep per prior mode, (v, sum d^2/r) per truth kind."""
        if (bn, op) not in cache:
            M = _block_matrix(design, rf, bn, op)
            r = design.blocks[bn]["month"].r
            MR = (M / r[:, None]).T                                  # M^T R^-1 (n, m)
            N = MR @ M
            per_kind = {}
            for kind in kinds:
                y, _ = block_arrays(design, sim, bn, "month", kind, op)
                e = _noise([seed, 7, _stable_id(bn), kinds.index(kind)], design.blocks[bn]["month"], kind, n_draws)
                de = (y - M @ s_true)[:, None] + e                   # delta + noise (m, D)
                per_kind[kind] = (MR @ de, np.sum(de * de / r[:, None], axis=0))
            cache[(bn, op)] = (M.shape[0], N, {mode: N @ Ep for mode, Ep in Ep_modes.items()}, per_kind)
        return cache[(bn, op)]

    for sname, blocks in systems.items():
        op = operators.get(sname, "aware")
        terms = [block_terms(bn, op) for bn in blocks]
        P = np.diag(1.0 / q) + sum(t[1] for t in terms)
        m_tot = sum(t[0] for t in terms)
        U = sla.cholesky(P, lower=False)
        G = sla.cho_solve((U, False), Agg.T)                      # A a  (n, n_agg)
        post_sd = np.sqrt(np.einsum("an,na->a", Agg, G))
        prior_sd = np.sqrt((Agg ** 2) @ q)
        for kind in kinds:
            v = sum(t[3][kind][0] for t in terms)                    # sum_b M^T R^-1 (delta + e)
            c1 = sum(t[3][kind][1] for t in terms)
            for mode, Ep in Ep_modes.items():
                NEp = sum(t[2][mode] for t in terms)
                err = G.T @ (Ep / q[:, None] + v)                    # aggregate NEE errors (n_agg, D)
                u = v - NEp                                          # M^T R^-1 d, d = delta + e - M Ep
                chi = c1 - 2 * np.sum(v * Ep, axis=0) + np.sum(Ep * NEp, axis=0)
                chi = (chi - np.einsum("nd,nd->d", u, sla.cho_solve((U, False), u))) / m_tot
                sink_err = -err                                     # sink = -(NEE + fire)
                z = np.random.default_rng([seed, 11]).standard_normal((n_members,) + sink_err.shape)
                ranks[(sname, kind, mode)] = (z * post_sd[:, None] < -sink_err[None]).sum(axis=0).T
                for a, name in enumerate(names):
                    e_a = sink_err[a]
                    rows.append(dict(system=sname, kind=kind, prior=mode, aggregate=name, operator=op, n_obs=m_tot,
                                     truth_sink=truth_sink[a], estimate_draw0=truth_sink[a] + e_a[0], bias=e_a.mean(), rmse=np.sqrt(np.mean(e_a ** 2)),
                                     error_sd=e_a.std(ddof=1), posterior_sigma=post_sd[a], prior_sigma=prior_sd[a],
                                     uncertainty_reduction=1 - post_sd[a] / prior_sd[a],
                                     coverage_1sigma=np.mean(np.abs(e_a) < post_sd[a]),
                                     chi2_mean=chi.mean(), chi2_sd=chi.std(ddof=1)))
    out = pd.DataFrame(rows)
    out.attrs["n_draws"] = int(n_draws)
    return out, ranks


def rank_histogram(ranks, n_members: int = 19) -> np.ndarray:
    """Counts of the truth's rank 0..n_members among the posterior samples (flat = consistent spread)."""
    return np.bincount(np.asarray(ranks, int).ravel(), minlength=n_members + 1)


def weekly_systems(design, sim, *, systems=None, kind="transport-error", N: int = 100, seed: int = 0,
                   operators=None, inflation: float = 1.0):
    """GOSAT / OCO-2 / in situ through the GCAS-like weekly two-step EnSRF (one prior and noise draw).

    The prior is drawn from B around the truth (draw 0 of ``seed``), the observations of truth ``kind``
    get one noise draw; all systems share the window ensembles and the basis-function transport
    (:func:`landcarbon.atmosphere.ensrf.ensrf_window_systems`). Returns ``(table, out)``: per system
    and aggregate (China, TransCom regions) the period-mean sink error, posterior and prior sigma and
    uncertainty reduction [PgC yr-1]; ``out`` the raw filter output.
    """
    from .ensrf import ensrf_window_systems

    w = design.world
    systems = systems or {k: v for k, v in SYSTEMS.items() if k in ("case3", "GOSAT", "OCO-2", "GOSAT + in situ",
                                                                    "OCO-2 + in situ") and set(v) <= set(design.blocks)}
    operators = operators or {}
    rng = np.random.default_rng(seed)
    prior = w.truth_flux + w.prior_sigma * rng.standard_normal(w.truth_flux.shape)
    obs = {}
    for sname, blocks in systems.items():
        op = operators.get(sname, "aware")
        parts = []
        for bn in blocks:
            b = design.blocks[bn]["window"]
            y, r = block_arrays(design, sim, bn, "window", kind, op)
            y = y + _noise([seed, 3, _stable_id(bn)], b, kind, 1)[:, 0]
            Wop = b.weights if (op == "aware" or b.kind == "insitu") else np.broadcast_to(
                _sat.naive_layer_weights(w.model.config.mass_fractions), b.weights.shape)
            k, j, i = w.model.cell_index(design.points["lat"].values[b.points[:, 0]],
                                         design.points["lon"].values[b.points[:, 0]], 0)
            parts.append(pd.DataFrame({"window": b.time, "j": j, "i": i, "y": y, "r": r,
                                       **{f"w{q}": Wop[:, q] for q in range(Wop.shape[1])}}))
        obs[sname] = pd.concat(parts, ignore_index=True)
    out = ensrf_window_systems(w.model, w.patterns, obs, prior, w.prior_sigma, design.periods_per_month, N, seed,
                               w.c0_true, inflation=inflation)
    Agg, names = aggregation_vectors(w)
    p, nm, R = design.periods_per_month, w.n_months, w.regions.n
    ww = np.tile(out["window_weights"], nm) / nm                  # period-mean weight of each window
    truth = -(Agg[:, :-1] @ w.truth_flux.ravel())
    prior_sd = np.sqrt((Agg[:, :-1] ** 2) @ (w.prior_sigma.ravel() ** 2))
    rows = []
    for sname, res in out["systems"].items():
        mem = np.einsum("w,wrn->rn", ww, res["members"])                   # (R, N) period-mean members
        mean = np.einsum("w,wr->r", ww, res["flux"])
        for a, name in enumerate(names):
            sel = Agg[a, :R] > 0
            est = -mean[sel].sum()
            sd = mem[sel].sum(axis=0).std(ddof=1)
            rows.append(dict(system=sname, aggregate=name, truth_sink=truth[a], estimate=est, error=est - truth[a],
                             posterior_sigma=sd, prior_sigma=prior_sd[a], uncertainty_reduction=1 - sd / prior_sd[a]))
    return pd.DataFrame(rows), out


#: Reader-facing names of the observing systems (tables and figures).
SYSTEM_LABELS = {"case1": "global stations", "case2": "+ CMA stations", "case3": "+ aircraft (in situ)",
                 "GOSAT": "GOSAT", "OCO-2": "OCO-2", "GOSAT + in situ": "GOSAT + in situ",
                 "OCO-2 + in situ": "OCO-2 + in situ"}


def osse_table(table: pd.DataFrame, aggregate: str = "China", prior: str = "drawn") -> pd.DataFrame:
    """The chapter's OSSE table: one row per system, identical twin vs transport error side by side.

    Rows: the systems under their reader-facing names (:data:`SYSTEM_LABELS`). Columns: observations,
    posterior sigma, uncertainty reduction, and per truth kind the RMSE, bias,
    coverage of the 1-sigma interval and mean chi^2 over the draws [PgC yr-1, sink convention].
    """
    t = table[(table["aggregate"] == aggregate) & (table["prior"] == prior)]
    base = t[t["kind"] == t["kind"].iloc[0]].set_index("system")[["n_obs", "posterior_sigma", "uncertainty_reduction"]]
    base.columns = ["observations", "posterior σ [PgC/yr]", "uncertainty reduction"]
    parts = [base]
    tag = {"identical": "twin", "transport-error": "transport error"}
    for kind, sub in t.groupby("kind", sort=False):
        s = sub.set_index("system")[["rmse", "bias", "coverage_1sigma", "chi2_mean"]]
        s.columns = [f"RMSE, {tag[kind]} [PgC/yr]", f"mean error, {tag[kind]} [PgC/yr]",
                     f"coverage ±1σ, {tag[kind]}", f"χ², {tag[kind]}"]
        parts.append(s)
    out = pd.concat(parts, axis=1).loc[list(dict.fromkeys(t["system"]))]
    out.index = [SYSTEM_LABELS.get(s, s) for s in out.index]
    out.index.name = "observing system"
    return out


def indicators(table: pd.DataFrame, weekly: pd.DataFrame | None = None, *, source_demo: str = "") -> dict:
    """Indicators of the nested-inversion chapter (names read by the report's front page and chapter 05).

    ``china_land_sink_case1`` / ``china_land_sink``: the posterior China sink of ONE realisation (draw 0:
    drawn prior, transport-error twin) with global stations only / stations + CMA + aircraft, with the
    posterior sigma; ``china_land_sink_truth``; RMSE over draws for both truths; chi^2; and, when given,
    the weekly EnSRF's GOSAT and OCO-2 errors.
    """
    from ..publish.reporting import Indicator

    def row(system, kind="transport-error", prior="drawn", agg="China"):
        t = table[(table["system"] == system) & (table["kind"] == kind) & (table["prior"] == prior)
                  & (table["aggregate"] == agg)]
        return t.iloc[0]

    c1, c3 = row("case1"), row("case3")
    n = int(table.attrs.get("n_draws", 0))
    out = {
        "china_land_sink_case1": Indicator(c1["estimate_draw0"], "PgC yr-1", "China land sink (uptake > 0), one "
                                           "realisation of the transport-error twin, global stations only",
                                           c1["posterior_sigma"]),
        "china_land_sink": Indicator(c3["estimate_draw0"], "PgC yr-1", "China land sink (uptake > 0), one realisation "
                                     "of the transport-error twin, global + CMA stations + aircraft", c3["posterior_sigma"]),
        "china_land_sink_truth": Indicator(c3["truth_sink"], "PgC yr-1", "China land sink of the digital twin (truth)"),
    }
    for system in ("case1", "case3", "GOSAT", "OCO-2"):
        for kind, tag in (("identical", "twin"), ("transport-error", "transport_error")):
            r = row(system, kind)
            key = system.lower().replace("-", "")
            out[f"rmse_{key}_{tag}"] = Indicator(r["rmse"], "PgC yr-1", f"RMSE of the China sink over the draws, "
                                                 f"{system}, {kind.replace('-', ' ')} OSSE")
    for system in ("case1", "case3"):
        for kind, tag in (("identical", "twin"), ("transport-error", "transport_error")):
            r = row(system, kind, prior="world")
            out[f"bias_world_prior_{system}_{tag}"] = Indicator(
                r["bias"], "PgC yr-1", f"mean error of the China sink over noise draws with the twin's biased-low "
                f"climatological prior, {system}, {kind.replace('-', ' ')} OSSE")
    out["bias_case3_transport_error"] = Indicator(c3["bias"], "PgC yr-1", "mean error of the China sink over the draws, "
                                                  "global + CMA + aircraft, transport-error OSSE")
    out["chi2_case3_twin"] = Indicator(row("case3", "identical")["chi2_mean"], "1", "mean chi2 = 2 J / m, identical twin")
    out["chi2_case3_transport_error"] = Indicator(c3["chi2_mean"], "1", "mean chi2 = 2 J / m, transport-error OSSE")
    out["n_draws"] = Indicator(n, "1", "prior and noise draws of the OSSE")
    if weekly is not None:
        for system in ("GOSAT", "OCO-2", "case3"):
            w = weekly[(weekly["system"] == system) & (weekly["aggregate"] == "China")]
            if len(w):
                key = system.lower().replace("-", "")
                out[f"weekly_error_{key}"] = Indicator(w["error"].iloc[0], "PgC yr-1",
                                                       f"China sink error of the weekly two-step EnSRF, {system}, one "
                                                       "realisation of the transport-error twin", w["posterior_sigma"].iloc[0])
    return out


def design_counts(design) -> pd.DataFrame:
    """Observations per block at the window and month resolutions (and satellite soundings used)."""
    rows = {}
    for k, b in design.blocks.items():
        rows[k] = {"weekly observations": b["window"].m, "monthly observations": b["month"].m,
                   "soundings": int(b["month"].n_soundings.sum()) if b["month"].n_soundings is not None else np.nan}
    return pd.DataFrame(rows).T


def transport_mismatch(design, sim) -> pd.DataFrame:
    """RMS and mean difference [ppm] between the transport-error and the identical-twin observations per block.

    Noise-free monthly observations, background presubtracted with the inversion's model: the error the
    inversion's transport makes in mapping the same true fluxes to each observing system.
    """
    rows = {}
    for k in design.blocks:
        a, _ = block_arrays(design, sim, k, "month", "identical")
        b, _ = block_arrays(design, sim, k, "month", "transport-error")
        d = b - a
        rows[k] = {"RMS difference [ppm]": float(np.sqrt(np.mean(d ** 2))), "mean difference [ppm]": float(d.mean()),
                   "assumed error sqrt(R) [ppm]": float(np.sqrt(np.mean(design.blocks[k]["month"].r)))}
    return pd.DataFrame(rows).T


def kernel_comparison(aware: pd.DataFrame, naive: pd.DataFrame, aggregate: str = "China") -> pd.DataFrame:
    """Kernel-aware vs kernel-naive satellite inversions (identical twin, drawn priors): bias, RMSE, sigma."""
    rows = []
    for tab, op in ((aware, "aware"), (naive, "naive")):
        t = tab[(tab["aggregate"] == aggregate) & (tab["kind"] == "identical") & (tab["prior"] == "drawn")
                & tab["system"].isin(["GOSAT", "OCO-2"])]
        for _, r in t.iterrows():
            rows.append({"system": r["system"], "operator": f"kernel-{op}", "bias": r["bias"], "rmse": r["rmse"],
                         "posterior_sigma": r["posterior_sigma"], "coverage_1sigma": r["coverage_1sigma"]})
    return pd.DataFrame(rows).sort_values(["system", "operator"]).set_index(["system", "operator"])


def weekly_summary(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per system: China error and uncertainty reduction, and the mean |error| and mean UR over the TransCom
    land regions (weekly EnSRF, one realisation) [PgC yr-1]."""
    from .regions import TRANSCOM_CODES

    land = [TRANSCOM_CODES[t] for t in range(1, 12)]
    rows = {}
    for s, sub in weekly.groupby("system", sort=False):
        c = sub[sub["aggregate"] == "China"].iloc[0]
        tl = sub[sub["aggregate"].isin(land)]
        rows[s] = {"China error": c["error"], "China sigma": c["posterior_sigma"],
                   "China UR": c["uncertainty_reduction"], "TransCom land mean |error|": tl["error"].abs().mean(),
                   "TransCom land mean UR": tl["uncertainty_reduction"].mean()}
    return pd.DataFrame(rows).T
