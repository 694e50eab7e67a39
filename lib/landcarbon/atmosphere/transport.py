"""A reduced-complexity, mass-conserving global CO2 tracer-transport model and its response functions.

Design (OUR FORMULATION, a teaching model in the spirit of the 2-D models of Pearman & Hyson 1980 and
Plumb & Mahlman 1987, extended to 3-D): a regular latitude-longitude grid (default 4 x 5 degrees) with a
few sigma-like levels (default 3 layers holding 15, 35 and 50 % of the atmospheric mass), driven by a
cyclostationary (12-month) climatology:

* zonal advection by jets and trade winds (exact integer shift + fractional upwind, so any Courant
  number is stable) and zonal mixing (relaxation of each latitude row to its mean, time scale ~10 d);
* a Hadley overturning circulation from a mass stream function (non-divergent, so a uniform field stays
  uniform), with a seasonally migrating ITCZ;
* meridional eddy diffusion K(lat) (reduced by 70 % in the ITCZ band, enhanced in mid-latitudes),
  implicit in time;
* vertical exchange between layers (boundary layer ~2-4 days, free troposphere ~1-3 weeks), implicit.

Every operator moves tracer mass between cells in flux form, so total mass changes only by emissions
(exact to rounding). The global diffusivity scale ``K0`` is calibrated so that the inter-hemispheric
exchange time is 1.0-1.4 yr (SF6: 1.4 yr, Maiss & Levin 1994, doi:10.1029/94GL00179; 1.3 yr,
Geller et al. 1997; TransCom 2, Denning et al. 1999, doi:10.3402/tellusb.v51i2.16286). Mass units:
tracer mixing ratio in ppm; a cell holding the fraction f of the atmosphere has the capacity
f * 2.124 PgC ppm-1 (``landcarbon.units.PGC_PER_PPM``).

Response functions (Rayner et al. 1999, doi:10.1034/j.1600-0889.1999.t01-1-00008.x; Gurney et al. 2004):
one pulse of 1 PgC yr-1 during one month per (region, emission month), cyclostationary, tracked for a
finite memory (``memory`` months) and treated as well mixed afterwards. For speed the pulses run in 3-D
for ``near_field`` months and then in the exactly equivalent zonal-mean (2-D) version of the same model
(all meridional and vertical coefficients are zonally uniform, so the zonal mean obeys the 2-D model
exactly; only the sampling loses the zonal structure, which is small after a few months).

Sub-monthly windows (e.g. quarter months, ~weekly as in GCAS) are available through
``run(..., periods_per_month=p)`` and :meth:`TransportModel.run_window`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from ..errors import ConfigError, DataError, located
from ..units import EARTH_RADIUS_M, PGC_PER_PPM, SECONDS_PER_YEAR
from . import _kernels

__all__ = ["TransportConfig", "TransportModel", "ResponseFunctions", "read_response_functions",
           "DEFAULT_K0", "PRESETS", "preset"]

#: Meridional diffusivity scale [m2 s-1] calibrated (TransportModel.calibrate, 4x5 grid, 60 steps per
#: month) to an inter-hemispheric exchange time of 1.2 yr.
DEFAULT_K0 = 1.218e6
MONTH_SECONDS = SECONDS_PER_YEAR / 12.0
ATMOSPHERE_KG = 5.148e18  # dry-air mass of the atmosphere [kg]


@dataclass(frozen=True)
class TransportConfig:
    """Parameters of :class:`TransportModel` (all OUR FORMULATION unless a reference is given)."""

    dlat: float = 4.0
    dlon: float = 5.0
    mass_fractions: tuple = (0.15, 0.35, 0.50)
    steps_per_month: int = 60
    K0: float = DEFAULT_K0              # m2 s-1, meridional eddy diffusivity scale
    itcz_reduction: float = 0.7         # K reduced by this fraction at the ITCZ (Gaussian, 8 deg)
    midlat_boost: float = 0.5           # K increased by this fraction around 45 deg
    hadley_kg_s: float = 8.0e10         # Hadley-cell mass stream function amplitude [kg s-1]
    tau_zonal_days: float = 10.0
    tau_bl_days: tuple = (2.0, 4.0)     # tropics, extratropics: boundary layer <-> level 1
    tau_ft_days: tuple = (7.0, 20.0)    # tropics, extratropics: level 1 <-> level 2 (...)
    u_jet: tuple = (6.0, 15.0, 25.0)    # m s-1 jet maxima per level
    u_trade: tuple = (5.0, 4.0, 2.0)    # m s-1 easterly trade-wind maxima per level

    def __post_init__(self):
        if abs(sum(self.mass_fractions) - 1.0) > 1e-9:
            raise ConfigError(located("mass_fractions must sum to 1", where="TransportConfig",
                                      fix="give the share of atmospheric mass in each layer"))
        if 180.0 / self.dlat % 1 or 360.0 / self.dlon % 1:
            raise ConfigError(located("dlat/dlon must divide 180/360", where="TransportConfig"))
        if self.steps_per_month < 4:
            raise ConfigError(located("steps_per_month must be >= 4", where="TransportConfig"))


#: Named configurations: "standard" 4x5 deg, 60 steps per month (~12 h); "coarse" 6x7.5 deg, 30 steps
#: per month (~24 h) for quick runs. K0 of each calibrated to tau_ex = 1.2 yr (TransportModel.calibrate).
PRESETS = {
    "standard": TransportConfig(),
    "coarse": TransportConfig(dlat=6.0, dlon=7.5, steps_per_month=30, K0=1.193e6),
}


def preset(name: str) -> TransportConfig:
    """The named transport configuration (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(located(f"unknown transport preset {name!r}", where="transport.preset",
                                  fix=f"use one of {sorted(PRESETS)}")) from None


def _itcz(month: int) -> float:
    return 3.0 + 6.0 * np.sin(2 * np.pi * (month - 3) / 12.0)


class TransportModel:
    """Cyclostationary tracer-transport model (see module docstring).

    Parameters
    ----------
    config : TransportConfig, optional
    zonal_mean : bool
        If True, the model is the exact zonal mean (one longitude cell) of the 3-D model.
    """

    def __init__(self, config: TransportConfig | None = None, *, zonal_mean: bool = False):
        self.config = cfg = config or TransportConfig()
        self.zonal_mean = zonal_mean
        self.lat_edges = np.arange(-90.0, 90.0 + 1e-9, cfg.dlat)
        self.lon_edges = np.arange(-180.0, 180.0 + 1e-9, cfg.dlon)
        self.lat = 0.5 * (self.lat_edges[1:] + self.lat_edges[:-1])
        self.lon = 0.5 * (self.lon_edges[1:] + self.lon_edges[:-1])
        self.nlev = len(cfg.mass_fractions)
        self.nlat = len(self.lat)
        self.nlon = 1 if zonal_mean else len(self.lon)
        self.dt = MONTH_SECONDS / cfg.steps_per_month
        self.dt_yr = 1.0 / (12.0 * cfg.steps_per_month)
        dlam = 2 * np.pi if zonal_mean else np.deg2rad(cfg.dlon)
        self._dlam = dlam
        f = np.asarray(cfg.mass_fractions)[:, None]
        sn = np.sin(np.deg2rad(self.lat_edges[1:]))
        ss = np.sin(np.deg2rad(self.lat_edges[:-1]))
        self.cap = PGC_PER_PPM * f * ((sn - ss) / 2.0 * dlam / (2 * np.pi))[None, :]  # PgC ppm-1 per cell
        self._met = [self._meteorology(m) for m in range(12)]

    # ------------------------------------------------------------------ meteorology (cyclostationary)
    def _meteorology(self, m: int):
        cfg = self.config
        K, J = self.nlev, self.nlat
        lat, phf = self.lat, self.lat_edges[1:-1]
        itcz = _itcz(m)
        season = np.sin(2 * np.pi * (m - 3) / 12.0)  # +1 in July, -1 in January
        # zonal wind [m s-1] and Courant number [cells per step]
        jn, js = 40.0 + 5.0 * season, -(45.0 - 5.0 * season)
        ushift = np.zeros((K, J))
        for k in range(K):
            uj = cfg.u_jet[min(k, len(cfg.u_jet) - 1)]
            ut = cfg.u_trade[min(k, len(cfg.u_trade) - 1)]
            u = uj * (np.exp(-((lat - jn) / 12.0) ** 2) + np.exp(-((lat - js) / 12.0) ** 2)) \
                - ut * np.exp(-((lat - itcz) / 15.0) ** 2)
            dx = EARTH_RADIUS_M * np.cos(np.deg2rad(lat)) * np.deg2rad(cfg.dlon)
            ushift[k] = 0.0 if self.zonal_mean else u * self.dt / dx
        zrelax = np.full((K, J), 0.0 if self.zonal_mean else 1.0 - np.exp(-self.dt / (cfg.tau_zonal_days * 86400)))
        # meridional diffusion coefficients at faces
        Kf = cfg.K0 * (1 + cfg.midlat_boost * np.exp(-((np.abs(phf) - 45.0) / 15.0) ** 2)) \
            * (1 - cfg.itcz_reduction * np.exp(-((phf - itcz) / 8.0) ** 2))
        dphi = np.deg2rad(cfg.dlat)
        fr = np.asarray(cfg.mass_fractions)[:, None]
        Xm = PGC_PER_PPM * fr * (np.cos(np.deg2rad(phf)) * self._dlam * Kf * self.dt
                                 / (4 * np.pi * EARTH_RADIUS_M ** 2 * dphi))[None, :]
        # vertical exchange
        trop = np.exp(-((lat - itcz) / 20.0) ** 2)
        Xv = np.zeros((max(K - 1, 0), J))
        for kf in range(K - 1):
            taus = cfg.tau_bl_days if kf == 0 else cfg.tau_ft_days
            tau = (taus[0] * trop + taus[1] * (1 - trop)) * 86400.0
            lower, upper = self.cap[kf], self.cap[kf + 1]
            Xv[kf] = np.minimum(lower, upper) * self.dt / tau
        # Hadley overturning: stream function at interfaces (K-1, faces J-1)
        psi_face = np.zeros(J - 1)
        amp_n = 1.0 - 0.5 * season  # stronger in the winter hemisphere
        amp_s = 1.0 + 0.5 * season
        nh = (phf > itcz) & (phf < 30.0)
        sh = (phf < itcz) & (phf > -30.0)
        psi_face[nh] = -amp_n * np.sin(np.pi * (phf[nh] - itcz) / (30.0 - itcz))
        psi_face[sh] = amp_s * np.sin(np.pi * (itcz - phf[sh]) / (itcz + 30.0))
        amp = cfg.hadley_kg_s * self.dt / ATMOSPHERE_KG * PGC_PER_PPM * self._dlam / (2 * np.pi)
        g = np.linspace(1.0, 0.0, K)[:-1] if K > 1 else np.zeros(0)
        psi = amp * g[:, None] * psi_face[None, :]            # (K-1, J-1)
        V = np.zeros((K, J - 1))
        for k in range(K):
            up = psi[k] if k < K - 1 else 0.0
            lo = psi[k - 1] if k > 0 else 0.0
            V[k] = up - lo
        W = np.zeros((max(K - 1, 0), J))
        for kf in range(K - 1):
            pf = np.concatenate([[0.0], psi[kf], [0.0]])   # faces -1/2 .. J-1/2
            W[kf] = pf[:-1] - pf[1:]
        return dict(ushift=np.ascontiguousarray(ushift), zrelax=zrelax, Xm=np.ascontiguousarray(Xm),
                    Xv=np.ascontiguousarray(Xv), V=np.ascontiguousarray(V), W=np.ascontiguousarray(W))

    # ------------------------------------------------------------------ helpers
    @property
    def shape(self):
        return (self.nlev, self.nlat, self.nlon)

    def cell_index(self, lat, lon, level=0):
        """(k, j, i) indices of the grid cells holding points (lat, lon [deg], level index)."""
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = ((np.atleast_1d(np.asarray(lon, float)) + 180.0) % 360.0) - 180.0
        j = np.clip(np.searchsorted(self.lat_edges, lat, side="right") - 1, 0, self.nlat - 1)
        i = np.zeros_like(j) if self.zonal_mean else np.clip(
            np.searchsorted(self.lon_edges, lon, side="right") - 1, 0, self.nlon - 1)
        k = np.broadcast_to(np.asarray(level, int), j.shape).copy()
        if np.any((k < 0) | (k >= self.nlev)):
            raise ConfigError(located(f"level must be in 0..{self.nlev - 1}", where="cell_index"))
        return k.astype(np.int64), j.astype(np.int64), i.astype(np.int64)

    def total_mass(self, c) -> np.ndarray:
        """Tracer mass [PgC] of field(s) ``c`` (..., K, J, I) in ppm."""
        return np.einsum("...kji,kj->...", np.asarray(c), self.cap)

    def area_m2(self) -> np.ndarray:
        """Cell areas [m2] (J, I) of the 3-D grid."""
        from ..units import grid_cell_area_m2

        return grid_cell_area_m2(self.lat, self.config.dlat, self.config.dlon)[:, None] * np.ones(len(self.lon))

    # ------------------------------------------------------------------ running
    def period_steps(self, periods_per_month: int = 1) -> np.ndarray:
        """Step boundaries (p+1,) splitting a month into ``p`` sub-periods ("windows") of ~equal length."""
        p = int(periods_per_month)
        if p < 1 or p > self.config.steps_per_month:
            raise ConfigError(located(f"periods_per_month must be in 1..{self.config.steps_per_month}",
                                      where="TransportModel.period_steps"))
        return np.floor(np.arange(p + 1) * self.config.steps_per_month / p + 1e-9).astype(int)

    def _advance(self, c, em_per_step, calendar_month: int, n_steps: int, samples):
        """Advance c (T,K,J,I) in place by n_steps with emission em_per_step (T,J,I) [PgC per step]."""
        met = self._met[calendar_month % 12]
        sk, sj, si = samples
        buf = np.zeros((c.shape[0], len(sk)))
        _kernels.advance(c, np.ascontiguousarray(em_per_step), self.cap, met["ushift"], met["zrelax"], met["Xm"],
                         met["Xv"], met["V"], met["W"], int(n_steps), sk, sj, si, buf, self.config.hadley_kg_s > 0)
        return buf

    def run_window(self, c0, flux, calendar_month: int, period: int, periods_per_month: int, samples=None):
        """Advance fields through ONE sub-monthly window with a constant flux.

        Parameters
        ----------
        c0 : (T, K, J, I) [ppm] (copied); flux : (T, J, I) [PgC yr-1 per cell] or None;
        calendar_month : 0-11; period : index 0..p-1 of the window inside the month.

        Returns
        -------
        (c, samples_mean (T, S)) — the field at the end of the window and the window-mean samples.
        """
        c = np.array(c0, dtype=float, copy=True)
        b = self.period_steps(periods_per_month)
        n = int(b[period + 1] - b[period])
        em = np.zeros((c.shape[0], self.nlat, self.nlon)) if flux is None else np.asarray(flux, float) * self.dt_yr
        if samples is None:
            samples = (np.zeros(0, np.int64),) * 3
        samples = tuple(np.ascontiguousarray(a, dtype=np.int64) for a in samples)
        return c, self._advance(c, em, calendar_month, n, samples)

    def run(self, c0, emissions=None, *, start_month: int = 0, n_months: int = 1, samples=None,
            emission_months=None, periods_per_month: int = 1):
        """Integrate tracers for ``n_months`` months.

        Parameters
        ----------
        c0 : array (T, K, J, I) or (K, J, I) [ppm]
            Initial mixing ratios (copied).
        emissions : array or None
            Surface fluxes [PgC yr-1 per cell], shape (T, n_months, J, I) or (n_months, J, I) for one
            tracer, or (T, J, I) together with ``emission_months`` (list of month offsets during which
            that constant flux is emitted). None = no emission.
        start_month : int
            Calendar month (0 = January) of the first month (meteorology is cyclostationary).
        samples : tuple (k, j, i) of index arrays, optional
            Cells whose monthly-mean mixing ratio is returned.

        periods_per_month : int
            Return means over ``p`` sub-monthly windows instead of months: s has shape
            (T, n_months * p, S) (window boundaries from :meth:`period_steps`).

        Returns
        -------
        c : array (T, K, J, I) final field [ppm]; s : array (T, n_months, S) monthly means [ppm].
        """
        c = np.array(c0, dtype=float, copy=True)
        single = c.ndim == 3
        if single:
            c = c[None]
        if c.shape[1:] != self.shape:
            raise ConfigError(located(f"field shape {c.shape[1:]} does not match the grid {self.shape}",
                                      where="TransportModel.run"))
        T = c.shape[0]
        if samples is None:
            sk = sj = si = np.zeros(0, np.int64)
        else:
            sk, sj, si = (np.ascontiguousarray(a, dtype=np.int64) for a in samples)
        zero = np.zeros((T, self.nlat, self.nlon))
        E = None
        if emissions is not None:
            E = np.asarray(emissions, dtype=float)
            if single and E.ndim == 3 and emission_months is None:
                E = E[None]
        p = int(periods_per_month)
        out = np.zeros((T, n_months * p, len(sk)))
        bounds = self.period_steps(p)
        for mo in range(n_months):
            if E is None:
                em = zero
            elif emission_months is not None:
                em = E * self.dt_yr if mo in emission_months else zero
            else:
                em = E[:, mo] * self.dt_yr
            for q in range(p):
                buf = self._advance(c, em, (start_month + mo) % 12, bounds[q + 1] - bounds[q], (sk, sj, si))
                out[:, mo * p + q] = buf
        if single:
            return c[0], out[0]
        return c, out

    # ------------------------------------------------------------------ diagnostics
    def hemispheric_means(self, c):
        """Mass-weighted mean mixing ratio [ppm] of the northern and southern hemisphere."""
        c = np.asarray(c)
        w = self.cap[:, :, None] * np.ones(self.nlon)
        n = self.lat > 0
        return ((c[..., n, :] * w[:, n, :]).sum(axis=(-3, -2, -1)) / w[:, n, :].sum(),
                (c[..., ~n, :] * w[:, ~n, :]).sum(axis=(-3, -2, -1)) / w[:, ~n, :].sum())

    def exchange_time(self, years: int = 3, fit_from_month: int = 4) -> float:
        """Inter-hemispheric exchange time tau_ex [yr].

        Start from +1 ppm in the NH and -1 ppm in the SH and fit the decay of the hemispheric
        difference, d(C_N - C_S)/dt = -2 (C_N - C_S) / tau_ex (two-box model, Jacob 1999), by
        least squares on log(C_N - C_S) from month ``fit_from_month`` to the end.
        """
        c = np.where(self.lat[None, :, None] > 0, 1.0, -1.0) * np.ones(self.shape)
        diffs = []
        for mo in range(12 * years):
            c, _ = self.run(c, start_month=mo % 12, n_months=1)
            n, s = self.hemispheric_means(c)
            diffs.append(n - s)
        d = np.asarray(diffs)
        t = (np.arange(len(d)) + 1) / 12.0
        sel = slice(fit_from_month, None)
        slope = np.polyfit(t[sel], np.log(d[sel]), 1)[0]
        return float(-2.0 / slope)

    def calibrate(self, target_years: float = 1.2, tol: float = 0.01, max_iter: int = 8) -> "TransportModel":
        """Return a model whose K0 gives the exchange time ``target_years`` (secant on log K0)."""
        if not 0.3 <= target_years <= 5:
            raise ConfigError(located(f"target exchange time {target_years} yr is implausible",
                                      where="calibrate", fix="use 1.0-1.4 yr"))
        m = self
        for _ in range(max_iter):
            tau = m.exchange_time()
            if abs(tau - target_years) < tol:
                break
            m = TransportModel(replace(m.config, K0=m.config.K0 * (tau / target_years) ** 1.1),
                               zonal_mean=self.zonal_mean)
        return m

    def zonal_mean_model(self) -> "TransportModel":
        return TransportModel(self.config, zonal_mean=True)

    # ------------------------------------------------------------------ response functions
    def response_functions(self, patterns, sample_cells, *, region_codes=None, sample_ids=None,
                           memory: int = 24, near_field: int = 3, emission_months=range(12)):
        """Cyclostationary response functions of unit regional flux pulses.

        Parameters
        ----------
        patterns : array (R, J, I)
            Spatial pattern of each region's basis function (non-negative; normalised to sum 1, i.e. a
            flux of 1 PgC yr-1 distributed with this shape).
        sample_cells : tuple (k, j, i)
            Observation cells (3-D indices).
        memory : int
            Months each pulse is tracked; afterwards it is treated as well mixed.
        near_field : int
            Months run in 3-D before switching to the exact zonal-mean model.

        Returns
        -------
        ResponseFunctions with G[emission_month, lag, sample, region] in ppm per (PgC yr-1 for one month).
        """
        P = np.asarray(patterns, float)
        if P.ndim != 3 or P.shape[1:] != (self.nlat, self.nlon):
            raise ConfigError(located(f"patterns must have shape (R, {self.nlat}, {self.nlon})",
                                      where="response_functions"))
        tot = P.sum(axis=(1, 2), keepdims=True)
        if np.any(tot <= 0):
            raise ConfigError(located("a region pattern is empty", where="response_functions",
                                      fix="check the region fractions on the transport grid"))
        P = P / tot
        near_field = int(min(near_field, memory))
        R = P.shape[0]
        sk, sj, si = (np.asarray(a, np.int64) for a in sample_cells)
        zm = self.zonal_mean_model()
        months = list(emission_months)
        G = np.zeros((12, memory, len(sk), R))
        for m0 in months:
            c = np.zeros((R,) + self.shape)
            c, s3 = self.run(c, P, start_month=m0, n_months=near_field, samples=(sk, sj, si),
                             emission_months=[0])
            G[m0, :near_field] = s3.transpose(1, 2, 0)
            if memory > near_field:
                c2 = c.mean(axis=-1, keepdims=True)
                _, s2 = zm.run(c2, start_month=m0 + near_field, n_months=memory - near_field,
                               samples=(sk, sj, np.zeros_like(si)))
                G[m0, near_field:] = s2.transpose(1, 2, 0)
        tail = 1.0 / 12.0 / PGC_PER_PPM
        return ResponseFunctions(G=G, tail=tail, region_codes=list(region_codes or range(R)),
                                 sample_ids=list(sample_ids or range(len(sk))),
                                 attrs={"model": "landcarbon.atmosphere.transport", "memory": memory,
                                        "near_field": near_field, "K0": self.config.K0,
                                        "steps_per_month": self.config.steps_per_month,
                                        "dlat": self.config.dlat, "dlon": self.config.dlon})


@dataclass
class ResponseFunctions:
    """Cyclostationary response functions ("basis functions") of a transport model.

    ``G[m, lag, s, r]``: monthly-mean mixing ratio [ppm] at sample ``s`` ``lag`` months after a flux of
    1 PgC yr-1 from region ``r`` during calendar month ``m``; beyond the memory the pulse is well mixed:
    ``tail`` = (1/12 PgC) / 2.124 PgC ppm-1 everywhere.
    """

    G: np.ndarray
    tail: float
    region_codes: list
    sample_ids: list
    attrs: dict = field(default_factory=dict)

    @property
    def memory(self) -> int:
        return self.G.shape[1]

    def aggregate_regions(self, W, codes) -> "ResponseFunctions":
        """Response functions of coarser regions: G_c = sum_r W[c, r] G_r (see RegionSystem.aggregation_matrix)."""
        G = np.einsum("mlsr,cr->mlsc", self.G, np.asarray(W))
        return ResponseFunctions(G=G, tail=self.tail, region_codes=list(codes), sample_ids=self.sample_ids,
                                 attrs=dict(self.attrs))

    def matrix(self, obs_sample, obs_month, n_months: int, start_month: int = 0,
               include_initial: bool = True) -> np.ndarray:
        """Transport operator M (m x n) of the time-dependent synthesis inversion.

        State order: flux of region r in month tau at column ``tau * R + r`` [PgC yr-1], then (if
        ``include_initial``) the initial well-mixed mixing ratio c0 [ppm] in the last column.
        Observation i is the monthly mean at sample ``obs_sample[i]`` in month ``obs_month[i]``
        (0 = first month of the inversion).
        """
        obs_sample = np.asarray(obs_sample, int)
        obs_month = np.asarray(obs_month, int)
        R = self.G.shape[3]
        L = self.memory
        m = len(obs_sample)
        n = n_months * R + (1 if include_initial else 0)
        M = np.empty((m, n))
        for tau in range(n_months):
            lag = obs_month - tau
            block = np.zeros((m, R))
            cal = (start_month + tau) % 12
            near = (lag >= 0) & (lag < L)
            block[near] = self.G[cal, lag[near], obs_sample[near], :]
            block[lag >= L] = self.tail
            M[:, tau * R:(tau + 1) * R] = block
        if include_initial:
            M[:, -1] = 1.0
        return M

    def to_netcdf(self, path) -> None:
        """Write in the exchange format read by :func:`read_response_functions` (atomic)."""
        from ..publish.atomic import atomic_path

        ds = xr.Dataset(
            {"response": (("emission_month", "lag", "sample", "region"), self.G,
                          {"units": "ppm (PgC yr-1)-1", "long_name": "monthly-mean response to a one-month pulse"})},
            coords={"emission_month": np.arange(1, 13), "lag": np.arange(self.memory),
                    "sample": [str(s) for s in self.sample_ids], "region": [str(r) for r in self.region_codes]},
            attrs={**{k: v for k, v in self.attrs.items() if isinstance(v, (int, float, str))},
                   "tail_ppm": self.tail, "conventions": "landcarbon response functions v1"})
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp)


def read_response_functions(path) -> ResponseFunctions:
    """Read response functions (or an external model's Jacobian in the same layout) from netCDF.

    Expected: variable ``response`` (emission_month=12, lag, sample, region) in ppm per (PgC yr-1 for one
    month), coordinates ``sample`` and ``region`` (strings), attribute ``tail_ppm`` (well-mixed value after
    the last lag; default (1/12)/2.124). This lets footprints of TM5, STILT or FLEXPART, converted to
    regional monthly pulses, replace the built-in model.
    """
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as exc:
        raise DataError(located(f"cannot open response-function file ({exc})", where=str(path),
                                fix="give a netCDF file written by ResponseFunctions.to_netcdf")) from exc
    with ds:
        if "response" not in ds:
            raise DataError(located("variable 'response' missing", where=str(path),
                                    fix="name the Jacobian 'response' with dims (emission_month, lag, sample, region)"))
        da = ds["response"]
        want = ("emission_month", "lag", "sample", "region")
        if tuple(da.dims) != want:
            try:
                da = da.transpose(*want)
            except ValueError:
                raise DataError(located(f"'response' has dims {da.dims}, expected {want}", where=str(path))) from None
        if da.sizes["emission_month"] != 12:
            raise DataError(located("emission_month must have 12 entries (cyclostationary)", where=str(path)))
        G = np.asarray(da.values, float)
        if not np.all(np.isfinite(G)):
            raise DataError(located("'response' contains NaN/inf", where=f"{path}: response",
                                    fix="fill missing responses (0 where the pulse does not reach the sample)"))
        units = da.attrs.get("units", "")
        if units and units.replace(" ", "") not in ("ppm(PgCyr-1)-1", "ppm/(PgC/yr)"):
            raise DataError(located(f"unexpected units {units!r} of 'response'", where=str(path),
                                    fix="convert to ppm per (PgC yr-1) for one month"))
        return ResponseFunctions(G=G, tail=float(ds.attrs.get("tail_ppm", 1 / 12 / PGC_PER_PPM)),
                                 region_codes=[str(x) for x in ds["region"].values],
                                 sample_ids=[str(x) for x in ds["sample"].values],
                                 attrs={k: v for k, v in ds.attrs.items()})
