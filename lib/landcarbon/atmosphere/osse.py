"""Observing-system experiments (OSSEs) with the nested synthesis inversion (thin glue for the chapter).

Cases after Jiang et al. 2016 (doi:10.1038/srep22130; case definitions reconstructed from the paper's abstract):
Case 1 global (GLOBALVIEW-like) stations; Case 2 + the CMA regional stations LFS, SDZ, LAN; Case 3 +
CONTRAIL-like aircraft profiles. Sign convention of the reported China sink: uptake > 0,
sink = -(NEE + fire) in PgC yr-1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located
from .inversion import InversionResult, aggregate, annual_aggregation, invert
from .network import NETWORKS
from .transport import ResponseFunctions, TransportModel

__all__ = ["InversionSetup", "response_functions_for", "setup_inversion", "china_sink",
           "run_cases", "CaseSummary", "summary_table", "load_observations", "region_field",
           "period_mean_regions", "fit_statistics", "ensrf_china", "prior_covariance",
           "simulated_at_site", "noise_experiment", "ensrf_batch_check", "ensrf_weekly_china",
           "transcom_configuration", "region_sink_comparison"]


def response_functions_for(model: TransportModel, patterns, ds: xr.Dataset, region_codes, *, memory: int = 24,
                           near_field: int = 3) -> ResponseFunctions:
    """Response functions of the regions (patterns (R, J, I)) at the sampling sites of ``ds``."""
    cells = model.cell_index(ds["latitude"].values, ds["longitude"].values, ds["level"].values)
    return model.response_functions(patterns, cells, region_codes=list(region_codes),
                                    sample_ids=[str(s) for s in ds["site"].values], memory=memory,
                                    near_field=near_field)


@dataclass
class InversionSetup:
    """Arrays of one synthesis inversion (state: monthly regional fluxes [PgC yr-1] + initial c0 [ppm])."""

    M: np.ndarray
    y: np.ndarray          # observations minus presubtracted background [ppm]
    r: np.ndarray          # observation-error variances [ppm2]
    s_prior: np.ndarray
    Q: np.ndarray          # prior variances
    obs_site: np.ndarray   # site index into ds.site
    obs_month: np.ndarray
    n_regions: int
    n_months: int
    sites: list
    sample_ids: list = None
    y_true: np.ndarray = None   # noise-free observations (demo only)

    @property
    def n(self) -> int:
        return self.M.shape[1]

    @property
    def m(self) -> int:
        return self.M.shape[0]

    def truth_vector(self, ds: xr.Dataset) -> np.ndarray:
        if "truth_flux" not in ds:
            raise DataError(located("no truth in this dataset", where="truth_vector", fix="use demo data"))
        return np.concatenate([ds["truth_flux"].values[: self.n_months].ravel(), [ds.attrs["c0_true"]]])


def prior_covariance(sigma, corr_months: float = 0.0, c0_sigma: float = 2.0):
    """Prior covariance of the state (monthly regional fluxes + c0).

    ``sigma`` (n_months, R) 1-sigma [PgC yr-1]. With ``corr_months`` > 0 the errors of each region are
    correlated in time, rho = exp(-|t - t'| / corr_months) (OUR FORMULATION: persistent prior biases,
    e.g. a mis-estimated sink, are then represented); regions are independent. Returns variances (n,)
    when ``corr_months`` is 0, else the dense (n, n) matrix.
    """
    sig = np.asarray(sigma, float)
    nm, R = sig.shape
    var = np.concatenate([sig.ravel() ** 2, [c0_sigma ** 2]])
    if not corr_months:
        return var
    t = np.arange(nm)
    rho = np.exp(-np.abs(t[:, None] - t[None, :]) / float(corr_months))
    Q = np.zeros((nm * R + 1, nm * R + 1))
    for r in range(R):
        idx = np.arange(nm) * R + r
        Q[np.ix_(idx, idx)] = rho * np.outer(sig[:, r], sig[:, r])
    Q[-1, -1] = c0_sigma ** 2
    return Q


def setup_inversion(ds: xr.Dataset, rf: ResponseFunctions, sites=None, n_months: int | None = None,
                    sigma_floor: float = 0.0, prior_corr_months: float = 0.0) -> InversionSetup:
    """Assemble M, y, R, prior and Q from an observation/flux dataset (``demo_observations`` layout).

    ``sites``: iterable of site ids (default all); missing (NaN) observations are dropped.
    ``prior_corr_months``: temporal correlation length of prior errors (see :func:`prior_covariance`).
    """
    for v in ("co2", "co2_sigma", "prior_flux", "prior_sigma"):
        if v not in ds:
            raise DataError(located(f"variable {v!r} missing", where="setup_inversion",
                                    fix="use demo_observations() or add priors to real observations"))
    all_sites = [str(s) for s in ds["site"].values]
    idx = {s: i for i, s in enumerate(all_sites)}
    rf_idx = {str(s): i for i, s in enumerate(rf.sample_ids)}
    sel = all_sites if sites is None else [str(s) for s in sites]
    nm = ds.sizes["time"] if n_months is None else int(n_months)
    R = len(rf.region_codes)
    obs = ds["co2"].values
    bg = ds["co2_background"].values if "co2_background" in ds else np.zeros_like(obs)
    sd = ds["co2_sigma"].values
    truth = (ds["co2_true"].values - bg) if "co2_true" in ds else None
    rows_site, rows_month, y, r, yt = [], [], [], [], []
    for s in sel:
        if s not in rf_idx:
            raise DataError(located(f"site {s!r} has no response function", where="setup_inversion",
                                    fix="rebuild the response functions with this site"))
        i = idx[s]
        for t in range(nm):
            if np.isfinite(obs[i, t]):
                rows_site.append(rf_idx[s]); rows_month.append(t)
                y.append(obs[i, t] - bg[i, t]); r.append(max(sd[i, t], sigma_floor) ** 2)
                yt.append(truth[i, t] if truth is not None else np.nan)
    rows_site = np.asarray(rows_site)
    rows_month = np.asarray(rows_month)
    M = rf.matrix(rows_site, rows_month, nm)
    sp = np.concatenate([ds["prior_flux"].values[:nm].ravel(), [ds.attrs.get("c0_prior", 0.0)]])
    Q = prior_covariance(ds["prior_sigma"].values[:nm], prior_corr_months, ds.attrs.get("c0_sigma", 5.0))
    if ds["prior_flux"].shape[1] != R:
        raise DataError(located("regions of the fluxes and of the response functions differ", where="setup_inversion"))
    return InversionSetup(M=M, y=np.asarray(y), r=np.asarray(r), s_prior=sp, Q=Q, obs_site=rows_site,
                          obs_month=rows_month, n_regions=R, n_months=nm, sites=sel,
                          sample_ids=[str(x) for x in rf.sample_ids],
                          y_true=np.asarray(yt) if truth is not None else None)


def china_sink(setup: InversionSetup, s, cov, ds: xr.Dataset):
    """China's land sink [PgC yr-1, uptake > 0] per year and over the period, with 1-sigma.

    sink = -(a^T s + fire), sigma = sqrt(a^T A a) with a the annual-mean aggregation over the China
    zones. Returns (annual value (Y,), annual sigma (Y,), period value, period sigma).
    """
    china = ds["china"].values.astype(bool)
    a = annual_aggregation(setup.n_months, setup.n_regions, china)
    fire = ds["fire_flux"].values[: setup.n_months][:, china].sum(axis=1)
    fire_y = fire.reshape(-1, 12).mean(axis=1)
    v, sd = aggregate(s, cov, a)
    vp, sdp = aggregate(s, cov, a.mean(axis=0))
    return -(v + fire_y), sd, -(vp + fire_y.mean()), sdp


@dataclass
class CaseSummary:
    name: str
    n_obs: int
    result: InversionResult
    setup: InversionSetup
    china_prior: float
    china_prior_sigma: float
    china_post: float
    china_post_sigma: float
    china_true: float
    china_post_annual: np.ndarray
    china_post_annual_sigma: np.ndarray
    china_true_annual: np.ndarray
    china_prior_annual: np.ndarray


def run_cases(ds: xr.Dataset, rf: ResponseFunctions, cases=("case1", "case2", "case3"), n_months=None,
              form: str = "auto", prior_corr_months: float = 0.0) -> dict:
    """Run the analytic inversion for each observing-system case; returns {case: CaseSummary}."""
    out = {}
    for case in cases:
        parts = NETWORKS[case]
        sites = [str(s) for s, nw in zip(ds["site"].values, ds["network"].values) if nw in parts]
        st = setup_inversion(ds, rf, sites, n_months, prior_corr_months=prior_corr_months)
        res = invert(st.M, st.y, st.s_prior, st.Q, st.r, form=form)
        pa, psa, pv, ps = china_sink(st, st.s_prior, st.Q, ds)
        qa, qsa, qv, qs = china_sink(st, res.s_hat, res.A, ds)
        if "truth_flux" in ds:
            ta, _, tv, _ = china_sink(st, st.truth_vector(ds), np.zeros(st.n), ds)
        else:
            ta, tv = np.full_like(qa, np.nan), np.nan
        out[case] = CaseSummary(case, st.m, res, st, pv, ps, qv, qs, tv, qa, qsa, ta, pa)
    return out


def summary_table(cases: dict) -> pd.DataFrame:
    """One row per case: number of observations, China sink prior/posterior/truth, error, UR, chi2."""
    rows = []
    for k, c in cases.items():
        rows.append(dict(case=k, n_obs=c.n_obs, prior=c.china_prior, prior_sigma=c.china_prior_sigma,
                         posterior=c.china_post, posterior_sigma=c.china_post_sigma, truth=c.china_true,
                         error=c.china_post - c.china_true,
                         uncertainty_reduction=1 - c.china_post_sigma / c.china_prior_sigma,
                         chi2=c.result.chi2))
    return pd.DataFrame(rows).set_index("case")


def load_observations(data_source: str = "auto", seed: int = 2016, years: int = 7, grid: str = "standard",
                      **world_kw):
    """Observations for the chapter: the digital-twin dataset (always; the OSSE needs the truth) and the
    real ObsPack records when ``data_source`` allows and files are found.

    Returns ``(twin, real)``; ``real`` is None without real files. ``twin.attrs["source"]`` and
    ``real.attrs["source"]`` say which is which (``demo:...`` / ``real:<sha256>``).
    """
    from ..data import open_dataset
    from ..errors import LandcarbonError

    real = None
    if data_source in ("auto", "real"):
        try:
            real = open_dataset("obspack-co2", source="real")
        except LandcarbonError:
            if data_source == "real":
                raise
    twin = open_dataset("obspack-co2", source="demo", seed=seed, network="case3", years=years, grid=grid,
                        **world_kw)
    return twin, real


def region_field(regions, values, per_area: bool = True, name: str = "flux") -> xr.DataArray:
    """Map regional values onto the 1-degree region grid.

    ``per_area=True`` converts a regional total [PgC yr-1] into a flux density [gC m-2 yr-1]
    (value / region area); NaN outside the regions. Sign as given.
    """
    from ..units import G_PER_PG

    vals = np.asarray(values, float)
    ids = regions.ids.values
    area = regions.areas_m2()
    v = vals / area * G_PER_PG if per_area else vals
    out = np.where(ids >= 0, v[np.maximum(ids, 0)], np.nan)
    return xr.DataArray(out, coords={"lat": regions.ids["lat"], "lon": regions.ids["lon"]}, dims=("lat", "lon"),
                        name=name, attrs={"units": "gC m-2 yr-1" if per_area else ""})


def period_mean_regions(setup: InversionSetup, s, cov=None):
    """Period-mean flux per region [PgC yr-1] (and its sigma from the covariance when given)."""
    R, nm = setup.n_regions, setup.n_months
    a = np.zeros((R, setup.n))
    for r in range(R):
        a[r, r:nm * R:R] = 1.0 / nm
    v = a @ s
    if cov is None:
        return v
    _, sd = aggregate(s, cov, a)
    return v, sd


def fit_statistics(cases: dict, ds: xr.Dataset) -> pd.DataFrame:
    """RMS misfit [ppm] of prior and posterior simulations at every network part, per case.

    Each case's posterior is also evaluated at the observations it did NOT assimilate (e.g. the CMA
    stations and aircraft for Case 1): an independent check, as in Jiang et al. 2014.
    """
    full = cases[max(cases, key=lambda k: cases[k].n_obs)].setup
    rows = []
    nw = np.asarray([str(x) for x in ds["network"].values])
    site_nw = nw[full.obs_site] if len(full.sites) == len(nw) else None
    for k, c in cases.items():
        post = np.concatenate([c.result.s_hat])
        for part in ("global", "cma", "aircraft"):
            sel = site_nw == part
            if not sel.any():
                continue
            prior_res = full.y[sel] - full.M[sel] @ full.s_prior
            post_res = full.y[sel] - full.M[sel] @ post
            used = part in NETWORKS[k]
            rows.append(dict(case=k, network=part, assimilated=used, n=int(sel.sum()),
                             rms_prior=float(np.sqrt(np.mean(prior_res ** 2))),
                             rms_posterior=float(np.sqrt(np.mean(post_res ** 2)))))
    return pd.DataFrame(rows)


def simulated_at_site(setup: InversionSetup, site: str, s):
    """(months, simulated values [ppm, background removed], observations) at one assimilated site."""
    if setup.sample_ids is None or site not in setup.sample_ids:
        raise DataError(located(f"site {site!r} has no response function", where="simulated_at_site"))
    rows = np.flatnonzero(setup.obs_site == setup.sample_ids.index(site))
    return setup.obs_month[rows], setup.M[rows] @ s, setup.y[rows]


def ensrf_china(case: CaseSummary, ds: xr.Dataset, N: int, seed: int, nlag: int = 1, inflation: float = 1.0):
    """China sink from the GCAS-like windowed EnSRF on a case's linear problem.

    Returns dict with annual values/sigmas and period value/sigma (uptake > 0, PgC yr-1). The period sigma
    is computed from the ensemble members of the finalised windows (aggregate of the member anomalies).
    """
    from .ensrf import ensrf_windows

    st = case.setup
    out = ensrf_windows(st.M, st.obs_month, st.y, st.r, st.s_prior, st.Q, st.n_regions, st.n_months, N, seed,
                        nlag=nlag, inflation=inflation)
    china = ds["china"].values.astype(bool)
    a = annual_aggregation(st.n_months, st.n_regions, china)
    fire = ds["fire_flux"].values[: st.n_months][:, china].sum(axis=1).reshape(-1, 12).mean(axis=1)
    X = out["members"]
    ann = -(a @ out["mean"] + fire)
    ann_sd = (a @ X).std(axis=1, ddof=1)
    per = -(a.mean(axis=0) @ out["mean"] + fire.mean())
    per_sd = float((a.mean(axis=0) @ X).std(ddof=1))
    return {"annual": ann, "annual_sigma": ann_sd, "period": float(per), "period_sigma": per_sd, "raw": out}


def noise_experiment(cases: dict, ds: xr.Dataset, n_realisations: int = 200, seed: int = 0) -> pd.DataFrame:
    """Error of the period-mean China sink over many observation-noise realisations, per case.

    The posterior mean is linear in the data: China = a^T s_p + g^T (y - M s_p) with the gain
    g = R^-1 M A a. Re-drawing the noise (same R) of the noise-free demo observations gives the
    error distribution at no extra inversion cost. Columns: ``error_noise_free`` (the part due to the
    prior bias that the data could not remove), ``rmse`` and ``mean_abs_error`` over realisations,
    ``posterior_sigma`` (should match the spread of the errors around their mean).
    """
    rng = np.random.default_rng(seed)
    rows = []
    china = ds["china"].values.astype(bool)
    for k, c in cases.items():
        st = c.setup
        if st.y_true is None:
            raise DataError(located("noise experiment needs the noise-free demo observations",
                                    where="noise_experiment", fix="use demo data"))
        a = annual_aggregation(st.n_months, st.n_regions, china).mean(axis=0)
        fire = ds["fire_flux"].values[: st.n_months][:, china].sum(axis=1).mean()
        Aa = c.result.A @ a
        g = (st.M @ Aa) / st.r
        base = a @ st.s_prior
        d0 = st.y_true - st.M @ st.s_prior
        noise_free = -(base + g @ d0 + fire)
        eps = rng.standard_normal((n_realisations, st.m)) * np.sqrt(st.r)[None, :]
        vals = -(base + (d0[None, :] + eps) @ g + fire)
        err = vals - c.china_true
        rows.append(dict(case=k, n_obs=st.m, error_noise_free=noise_free - c.china_true,
                         rmse=float(np.sqrt(np.mean(err ** 2))), mean_abs_error=float(np.mean(np.abs(err))),
                         error_spread=float(err.std()), posterior_sigma=c.china_post_sigma))
    return pd.DataFrame(rows).set_index("case")


def ensrf_batch_check(case: CaseSummary, N: int, seed: int, months: int = 12, exact: bool = True) -> dict:
    """Serial EnSRF on the first ``months`` months of a case (one batch, no localisation) vs analytic.

    Returns max and RMS |mean difference| / prior sigma and the max |spread / analytic sigma - 1|.
    ``exact=True`` uses second-order exact sampling of Q (needs N > n); otherwise random draws.
    """
    from .ensrf import ensrf_update, make_ensemble
    from .inversion import posterior_prior_space

    st = case.setup
    keep = st.obs_month < months
    cols = np.r_[np.arange(months * st.n_regions), st.n - 1]
    M = st.M[np.ix_(keep, cols)]
    Q = st.Q[cols] if st.Q.ndim == 1 else np.diag(st.Q)[cols]
    sp = st.s_prior[cols]
    s, A = posterior_prior_space(M, st.y[keep], sp, Q, st.r[keep])
    X = make_ensemble(Q, N, seed, exact=exact)
    xm, Xa = ensrf_update(sp, X, M, st.y[keep], st.r[keep])
    err = np.abs(xm - s) / np.sqrt(Q)
    spread = Xa.std(axis=1, ddof=1) / np.sqrt(np.diag(A))
    return {"n": len(cols), "m": int(keep.sum()), "N": N, "max_mean_error": float(err.max()),
            "rms_mean_error": float(np.sqrt(np.mean(err ** 2))), "max_spread_error": float(np.abs(spread - 1).max())}


def ensrf_weekly_china(world, ds: xr.Dataset, N: int, seed: int, periods_per_month: int = 4, network: str = "case3",
                       inflation: float = 1.0) -> dict:
    """China sink from the GCAS-like EnSRF with ~weekly windows on the digital twin.

    Simulates window-mean observations of ``network`` (same truth, new noise), runs
    :func:`ensrf.ensrf_transport_windows` and aggregates: annual/period China sink (uptake > 0,
    PgC yr-1, NEE + fire) with sigma from the members (window ensembles are independent).
    """
    from . import network as _network
    from .demo import simulate_observations
    from .ensrf import ensrf_transport_windows

    pts = _network.observation_points(network, n_levels=world.model.nlev)
    wobs = simulate_observations(world, pts, seed + 2, periods_per_month=periods_per_month)
    out = ensrf_transport_windows(world.model, world.patterns, wobs, world.prior_flux, world.prior_sigma,
                                  periods_per_month, N, seed, world.c0_true, inflation=inflation)
    china = np.asarray(world.regions.china, bool)
    p = periods_per_month
    nm = world.n_months
    w = np.tile(out["window_weights"], nm) / 12.0                     # annual-mean weights per window
    fire = world.fire_flux[:, china].sum(axis=1).reshape(-1, 12).mean(axis=1)
    years = nm // 12
    ann = np.zeros(years)
    ann_sd = np.zeros(years)
    Xc = out["members"][:, china, :].sum(axis=1)                      # (n_windows, N)
    xc = out["flux"][:, china].sum(axis=1)
    for yv in range(years):
        sl = slice(yv * 12 * p, (yv + 1) * 12 * p)
        ann[yv] = -(w[sl] @ xc[sl] + fire[yv])
        ann_sd[yv] = float((w[sl] @ Xc[sl]).std(ddof=1))
    per = float(ann.mean())
    per_sd = float(((w @ Xc) / years).std(ddof=1))
    return {"annual": ann, "annual_sigma": ann_sd, "period": per, "period_sigma": per_sd, "raw": out,
            "observations": wobs}


def transcom_configuration(ds: xr.Dataset, rf: ResponseFunctions, nested, coarse=None):
    """The global 22-region (TransCom) configuration derived from the nested 43-region one.

    Response functions: G_c = sum_r W[c, r] G_r (W = area shares, exact for uniform-per-area basis
    functions); regional fluxes are summed, prior variances summed (independent sub-regions).
    Returns ``(ds22, rf22, W)``; ``ds22`` has ``china`` all False (China is not a region there).
    """
    from .regions import transcom_regions

    coarse = coarse or transcom_regions()
    W = nested.aggregation_matrix(coarse)
    S = (W > 0).astype(float)                       # membership (sums of fluxes)
    rf22 = rf.aggregate_regions(W, coarse.codes)
    keep = [v for v in ds.data_vars if "region" not in ds[v].dims]
    out = ds[keep].copy()
    for v in ("truth_flux", "prior_flux", "fire_flux", "fossil_flux"):
        if v in ds:
            out[v] = (("time", "region"), ds[v].values @ S.T, ds[v].attrs)
    out["prior_sigma"] = (("time", "region"), np.sqrt((ds["prior_sigma"].values ** 2) @ S.T), ds["prior_sigma"].attrs)
    out = out.assign_coords(region=coarse.codes, china=("region", np.zeros(coarse.n, bool)))
    out.attrs = dict(ds.attrs)
    return out, rf22, W


def region_sink_comparison(ds43, cases43: dict, ds22, rf22, code: str = "EUT", case: str = "case3",
                           W=None, coarse_codes=None) -> pd.DataFrame:
    """Period-mean sink [PgC yr-1, uptake > 0, incl. fire] of one TransCom region from the nested and the
    global configurations (same observations), with prior and truth."""
    c = cases43[case]
    st43 = c.setup
    ci = list(coarse_codes).index(code)
    members = W[ci] > 0
    R, nm = st43.n_regions, st43.n_months
    a = np.zeros(st43.n)
    for r in np.flatnonzero(members):
        a[r:nm * R:R] = 1.0 / nm
    fire = ds43["fire_flux"].values[:nm][:, members].sum(axis=1).mean()
    v43, s43 = aggregate(c.result.s_hat, c.result.A, a)
    vp, sp_ = aggregate(st43.s_prior, st43.Q, a)
    truth = ds43["truth_flux"].values[:nm][:, members].sum(axis=1).mean()
    sites = [str(s) for s, nw in zip(ds22["site"].values, ds22["network"].values) if nw in NETWORKS[case]]
    st22 = setup_inversion(ds22, rf22, sites, nm)
    res22 = invert(st22.M, st22.y, st22.s_prior, st22.Q, st22.r)
    a22 = np.zeros(st22.n)
    a22[ci:nm * st22.n_regions:st22.n_regions] = 1.0 / nm
    v22, s22 = aggregate(res22.s_hat, res22.A, a22)
    return pd.DataFrame({"sink": [-(vp + fire), -(v43 + fire), -(v22 + fire), -(truth + fire)],
                         "sigma": [sp_, s43, s22, np.nan]},
                        index=["prior", "nested 43 regions", "TransCom 22 regions", "truth"])
