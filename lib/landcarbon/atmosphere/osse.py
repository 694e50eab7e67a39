"""Observing-system experiments (OSSEs) with the nested synthesis inversion (thin glue for the chapter).

Cases after Jiang et al. 2016 (doi:10.1038/srep22130; case definitions reconstructed, brief section 4.1):
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
           "run_cases", "CaseSummary", "summary_table"]


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


def setup_inversion(ds: xr.Dataset, rf: ResponseFunctions, sites=None, n_months: int | None = None,
                    sigma_floor: float = 0.0) -> InversionSetup:
    """Assemble M, y, R, prior and Q from an observation/flux dataset (``demo_observations`` layout).

    ``sites``: iterable of site ids (default all); missing (NaN) observations are dropped.
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
    rows_site, rows_month, y, r = [], [], [], []
    for s in sel:
        if s not in rf_idx:
            raise DataError(located(f"site {s!r} has no response function", where="setup_inversion",
                                    fix="rebuild the response functions with this site"))
        i = idx[s]
        for t in range(nm):
            if np.isfinite(obs[i, t]):
                rows_site.append(rf_idx[s]); rows_month.append(t)
                y.append(obs[i, t] - bg[i, t]); r.append(max(sd[i, t], sigma_floor) ** 2)
    rows_site = np.asarray(rows_site)
    rows_month = np.asarray(rows_month)
    M = rf.matrix(rows_site, rows_month, nm)
    sp = np.concatenate([ds["prior_flux"].values[:nm].ravel(), [ds.attrs.get("c0_prior", 0.0)]])
    Q = np.concatenate([ds["prior_sigma"].values[:nm].ravel() ** 2, [ds.attrs.get("c0_sigma", 5.0) ** 2]])
    if ds["prior_flux"].shape[1] != R:
        raise DataError(located("regions of the fluxes and of the response functions differ", where="setup_inversion"))
    return InversionSetup(M=M, y=np.asarray(y), r=np.asarray(r), s_prior=sp, Q=Q, obs_site=rows_site,
                          obs_month=rows_month, n_regions=R, n_months=nm, sites=sel)


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
              form: str = "auto") -> dict:
    """Run the analytic inversion for each observing-system case; returns {case: CaseSummary}."""
    out = {}
    for case in cases:
        parts = NETWORKS[case]
        sites = [str(s) for s, nw in zip(ds["site"].values, ds["network"].values) if nw in parts]
        st = setup_inversion(ds, rf, sites, n_months)
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
