"""Satellite XCO2 in the inversion: the averaging-kernel observation operator, GOSAT and OCO-2 sampling.

Observation operator (Connor et al. 2008, J. Geophys. Res. 113, D05305, doi:10.1029/2006JD008336; the
OCO-2/ACOS Lite conventions, O'Dell et al. 2012, doi:10.5194/amt-5-99-2012 and 2018,
doi:10.5194/amt-11-6539-2018)::

    XCO2_model = XCO2_prior + sum_j h_j a_j (u_j,model - u_j,prior)

with pressure weights ``h`` (sum 1), the column averaging kernel ``a`` and the retrieval's prior profile
``u_prior`` on the retrieval levels (ACOS Lite: 20 levels, space to surface, fill -999999). A transport
model with K layers reaches the levels through the mass-conserving mapping ``L`` (:func:`layer_to_level`):
``u_model = L c``, so the operator is linear in the layer mixing ratios ``c`` with layer weights
``w = (h * a) @ L`` and a constant ``XCO2_prior - sum_j h_j a_j u_j,prior``; in the inversion
``H_sat = w^T H_transport`` (:func:`satellite_matrix`). A *kernel-naive* operator ignores the kernel and
the prior profile and takes the pressure-weighted column mean, ``w = layer mass fractions``.

Sampling (OUR FORMULATION, a teaching model of the two instruments' observing geometry): circular
sun-synchronous orbits with the published repeat cycles and overpass times give ground tracks
(:func:`ground_track`); day-lit points (solar zenith angle < 70 deg) over land are kept; each track point
carries the number of footprints of the instrument, of which a clear-sky fraction passes cloud screening
and quality filtering (Binomial draw). Soundings are averaged per transport-grid cell and assimilation
window into *super-observations* (:func:`super_observations`) with the retrieval error
``sigma_single^2 / n + sigma_corr^2`` (errors shared by the soundings of one cell and window do not
average out; Kulawik et al. 2016, doi:10.5194/amt-9-683-2016) plus a representation error, floored
as in GCAS (Jiang et al. 2021, doi:10.5194/acp-21-1963-2021: sigma_R >= 1 ppm).

Instrument settings (:data:`INSTRUMENTS`): GOSAT TANSO-FTS (Kuze et al. 2009, Appl. Opt. 48, 6716,
doi:10.1364/AO.48.006716): 10.5 km circular footprints, 3-day repeat (44 orbits), 13:00 local time
(descending), 3-point cross-track scanning (~260 km spacing); OCO-2 (Crisp et al. 2017,
doi:10.5194/amt-10-59-2017): 8 footprints of 1.3 x 2.3 km across a ~10 km swath, 16-day repeat (233
orbits), 13:36 local time (ascending), ~1 million soundings per day of which roughly 100 000 are cloud-free
(O'Dell et al. 2018). Noise levels and clear-sky fractions are OUR SETTINGS of typical magnitude; the
averaging-kernel shapes are illustrative (our formulation after the kernels shown by Connor et al. 2008
and O'Dell et al. 2012: near 1 in the troposphere, smaller in the stratosphere and, over land, near the
surface). Real Lite files provide every sounding's own kernel (:func:`landcarbon.atmosphere.io.read_xco2_lite`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError, located
from ..units import EARTH_RADIUS_M, SECONDS_PER_DAY

__all__ = ["N_LITE_LEVELS", "Instrument", "GOSAT", "OCO2", "INSTRUMENTS", "instrument", "sigma_levels",
           "level_edges", "pressure_weights", "layer_to_level", "column_layer_weights", "xco2_operator",
           "operator_constant", "averaging_kernel_profile", "retrieval_prior_profile", "ground_track",
           "clear_sky_fraction", "sample_soundings", "super_observations", "satellite_matrix",
           "naive_layer_weights"]

#: Retrieval levels of the ACOS/OCO-2 Lite files (space first, surface last).
N_LITE_LEVELS = 20
#: Solar zenith angle above which no soundings are kept [deg] (our setting).
SZA_MAX_DEG = 70.0
_R_KM = EARTH_RADIUS_M / 1000.0


# ------------------------------------------------------------------------------------------ operator
def _levels(p, where="pressure levels"):
    p = np.asarray(p, float)
    if p.ndim < 1 or p.shape[-1] < 2:
        raise DataError(located(f"need at least 2 pressure levels, got shape {p.shape}", where=where,
                                fix="pass the levels along the last axis, space first, surface last"))
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise DataError(located("pressure levels must be finite and >= 0", where=where,
                                fix="drop soundings with fill values (-999999) first"))
    if np.any(np.diff(p, axis=-1) <= 0):
        raise DataError(located("pressure levels must increase strictly from space to the surface", where=where,
                                fix="reverse the level axis (surface last, as in the ACOS Lite files)"))
    return p


def sigma_levels(n_levels: int = N_LITE_LEVELS, *, top_hpa: float = 0.1, surface_hpa: float = 1000.0):
    """Retrieval levels [hPa], space to surface: ``top_hpa`` then equal steps to ``surface_hpa`` (Lite layout)."""
    if n_levels < 2 or not 0 <= top_hpa < surface_hpa:
        raise ConfigError(located("need n_levels >= 2 and 0 <= top < surface", where="sigma_levels"))
    return np.concatenate([[top_hpa], np.linspace(surface_hpa / (n_levels - 1), surface_hpa, n_levels - 1)])


def level_edges(pressure_levels_hpa):
    r"""Edges [hPa] of the pressure interval each retrieval level represents (..., L+1).

    Level j stands for :math:`[\tfrac12(p_{j-1}+p_j),\ \tfrac12(p_j+p_{j+1})]`, the first from 0, the last to
    the surface (the last level). With these intervals the weights :func:`pressure_weights` are the
    trapezoidal weights of a mixing ratio varying linearly in pressure between levels (O'Dell et al. 2012)
    except that the top interval starts at 0 hPa, so that the weights sum to exactly 1 (our formulation).
    """
    p = _levels(pressure_levels_hpa)
    mid = 0.5 * (p[..., 1:] + p[..., :-1])
    zero = np.zeros(p.shape[:-1] + (1,))
    return np.concatenate([zero, mid, p[..., -1:]], axis=-1)


def pressure_weights(pressure_levels_hpa):
    r"""Pressure weights h (..., L) [1], :math:`h_j = \Delta p_j / p_s` over the intervals of :func:`level_edges`.

    Sum exactly 1. Examples
    --------
    >>> np.round(pressure_weights([0.0, 500.0, 1000.0]), 3).tolist()
    [0.25, 0.5, 0.25]
    """
    e = level_edges(pressure_levels_hpa)
    return np.diff(e, axis=-1) / e[..., -1:]


def layer_to_level(pressure_levels_hpa, layer_mass_fractions):
    r"""Mapping L (..., L_levels, K) from K transport-model layers to the retrieval levels.

    The model's layers hold the atmospheric mass fractions ``layer_mass_fractions`` from the surface up
    (layer 0 = boundary layer, :class:`~landcarbon.atmosphere.transport.TransportConfig.mass_fractions`);
    in pressure, layer k spans :math:`p_s(1-\sum_{k'\le k} f_{k'})` to :math:`p_s(1-\sum_{k'<k} f_{k'})`.
    ``L[j, k]`` is the share of level j's interval (:func:`level_edges`) inside layer k, so a level's value
    is the mass-weighted mean of the layers it overlaps (rows sum to 1) and
    :math:`\sum_j h_j L_{jk} = f_k`: with a = 1 the operator reproduces the model's column mean exactly.
    """
    f = np.asarray(layer_mass_fractions, float)
    if f.ndim != 1 or np.any(f <= 0) or abs(f.sum() - 1) > 1e-9:
        raise ConfigError(located("layer mass fractions must be positive and sum to 1", where="layer_to_level"))
    e = level_edges(pressure_levels_hpa)
    ps = e[..., -1:]
    cum = np.concatenate([[0.0], np.cumsum(f)])
    top = ps[..., None] * (1.0 - cum[1:])            # (..., 1, K) upper edge (lower pressure)
    bot = ps[..., None] * (1.0 - cum[:-1])           # lower edge (higher pressure)
    lo = e[..., :-1, None]
    hi = e[..., 1:, None]
    overlap = np.clip(np.minimum(hi, bot) - np.maximum(lo, top), 0.0, None)
    return overlap / (hi - lo)


def column_layer_weights(pressure_weight, averaging_kernel, mapping):
    """Layer weights w (..., K) = sum_j h_j a_j L_jk of the linear operator (XCO2 per ppm in each layer)."""
    ha = np.asarray(pressure_weight, float) * np.asarray(averaging_kernel, float)
    return np.einsum("...j,...jk->...k", ha, np.asarray(mapping, float))


def naive_layer_weights(layer_mass_fractions):
    """Kernel-naive layer weights: the pressure-weighted column mean (a = 1, no prior term)."""
    return np.asarray(layer_mass_fractions, float).copy()


def xco2_operator(u_model_ppm, *, xco2_apriori, pressure_weight, averaging_kernel, co2_profile_apriori):
    r"""Modelled XCO2 [ppm] from a model profile on the retrieval levels (Connor et al. 2008, eq. 5).

    .. math:: X_{model} = X_{prior} + \sum_j h_j a_j (u_{j,model} - u_{j,prior})

    Parameters
    ----------
    u_model_ppm : (..., L) model CO2 on the retrieval levels [ppm] (e.g. ``L_map @ c_layers``)
    xco2_apriori : (...) retrieval prior XCO2 [ppm]
    pressure_weight, averaging_kernel, co2_profile_apriori : (..., L) h [1], a [1], u_prior [ppm]

    Examples
    --------
    >>> float(xco2_operator([400.0, 410.0], xco2_apriori=395.0, pressure_weight=[0.5, 0.5],
    ...                     averaging_kernel=[1.0, 0.5], co2_profile_apriori=[395.0, 395.0]))
    401.25
    """
    u = np.asarray(u_model_ppm, float)
    return (np.asarray(xco2_apriori, float)
            + np.sum(np.asarray(pressure_weight) * np.asarray(averaging_kernel) * (u - np.asarray(co2_profile_apriori)),
                     axis=-1))


def operator_constant(*, xco2_apriori, pressure_weight, averaging_kernel, co2_profile_apriori):
    """Constant term of the linear operator: XCO2_prior - sum_j h_j a_j u_j,prior [ppm]."""
    return np.asarray(xco2_apriori, float) - np.sum(
        np.asarray(pressure_weight) * np.asarray(averaging_kernel) * np.asarray(co2_profile_apriori), axis=-1)


# --------------------------------------------------------------------------------------- instruments
@dataclass(frozen=True)
class Instrument:
    """Observing geometry and error settings of an XCO2 instrument (see the module docstring)."""

    name: str
    footprint: str
    repeat_days: int
    orbits_per_repeat: int
    node_local_time_h: float        # local solar time of the day-side equator crossing
    day_side_ascending: bool
    cross_track_km: tuple           # centres of the pointed cross-track positions [km] (GOSAT scanning)
    along_track_km: float           # distance between scan lines along the track [km]
    soundings_per_point: int        # soundings per scan line and cross-track position (footprints, repeats)
    clear_fraction: float           # share of soundings passing cloud screening + quality filter
    sigma_single_ppm: float         # random error of one sounding
    sigma_corr_ppm: float           # error shared by the soundings of one cell and window
    sigma_repr_ppm: float           # representation error of a super-observation
    ak_top: float = 0.5             # averaging kernel at the top of the atmosphere
    ak_mid: float = 1.0             # ... in the mid troposphere (sigma = 0.6)
    ak_surface: float = 0.8         # ... at the surface over land
    inclination_deg: float = 98.2

    @property
    def orbit_seconds(self) -> float:
        return self.repeat_days * SECONDS_PER_DAY / self.orbits_per_repeat


#: GOSAT: 3-point cross-track scanning, each point observed 3 times (Kuze et al. 2009).
GOSAT = Instrument("GOSAT", "10.5 km circles", 3, 44, 13.0, False, (-260.0, 0.0, 260.0), 260.0, 3,
                   clear_fraction=0.20, sigma_single_ppm=1.8, sigma_corr_ppm=0.8, sigma_repr_ppm=0.5,
                   ak_top=0.45, ak_mid=1.05, ak_surface=0.7, inclination_deg=98.0)
#: OCO-2: 8 footprints across a ~10 km swath every 2.25 km along track (Crisp et al. 2017).
OCO2 = Instrument("OCO-2", "1.3 x 2.3 km, 8 across a ~10 km swath", 16, 233, 13.6, True, (0.0,), 2.25, 8,
                  clear_fraction=0.10, sigma_single_ppm=0.8, sigma_corr_ppm=0.5, sigma_repr_ppm=0.5,
                  ak_top=0.5, ak_mid=1.0, ak_surface=0.85)
INSTRUMENTS = {"GOSAT": GOSAT, "OCO-2": OCO2}


def instrument(name) -> Instrument:
    """The :class:`Instrument` called ``name`` ("GOSAT" or "OCO-2"), or ``name`` itself if it is one."""
    if isinstance(name, Instrument):
        return name
    try:
        return INSTRUMENTS[str(name)]
    except KeyError:
        raise ConfigError(located(f"unknown instrument {name!r}", where="satellite.instrument",
                                  fix=f"use one of {sorted(INSTRUMENTS)}")) from None


def averaging_kernel_profile(pressure_levels_hpa, inst, *, surface_scale=1.0):
    """Illustrative column averaging kernel a (..., L) on the levels (our formulation, see module docstring).

    Piecewise linear in sigma = p / p_s: ``ak_top`` at sigma 0, ``ak_mid`` at sigma 0.6, ``ak_surface *
    surface_scale`` at the surface.
    """
    inst = instrument(inst)
    p = _levels(pressure_levels_hpa)
    s = p / p[..., -1:]
    surf = inst.ak_surface * np.asarray(surface_scale, float)[..., None]
    upper = inst.ak_top + (inst.ak_mid - inst.ak_top) * np.clip(s / 0.6, 0, 1)
    lower = inst.ak_mid + (surf - inst.ak_mid) * np.clip((s - 0.6) / 0.4, 0, 1)
    return np.where(s <= 0.6, upper, lower)


def retrieval_prior_profile(pressure_levels_hpa, lat, decimal_year, *, c_ref=372.0, year_ref=2002.0,
                            growth_ppm_yr=1.9, seasonal_ppm=3.0):
    """The twin's retrieval prior u_prior (..., L) [ppm]: a smooth climatology (our formulation).

    A global trend, a north-south gradient and a seasonal cycle growing towards the surface (peak in
    April in the north); none of the regional flux signals the inversion is after. Real ACOS priors come
    from a climatological model (O'Dell et al. 2012).
    """
    p = _levels(pressure_levels_hpa)
    s = p / p[..., -1:]
    lat = np.asarray(lat, float)[..., None]
    t = np.asarray(decimal_year, float)[..., None]
    trend = c_ref + growth_ppm_yr * (t - year_ref)
    gradient = 0.05 * lat * s ** 2
    season = seasonal_ppm * np.sin(np.deg2rad(lat)) * s ** 2 * np.cos(2 * np.pi * (t - year_ref - 0.29))
    return trend + gradient + season


# ----------------------------------------------------------------------------------- orbits, sampling
def ground_track(inst, start: str = "2002-01-01", n_days: float = 7.0, *, step_km: float | None = None):
    """Day-lit sub-satellite track of a sun-synchronous orbit, with the instrument's cross-track footprints.

    OUR FORMULATION (circular orbit, spherical Earth, orbit plane fixed relative to the Sun, so every
    equator crossing on the day side happens at ``node_local_time_h``; successive orbits shift west by
    360 deg x orbit period / day; the pattern repeats after ``repeat_days``).

    ``step_km`` (default: the scan-line spacing, at least 200 km) sets the spacing of the returned points;
    each carries the soundings taken along its step.

    Returns
    -------
    pandas.DataFrame with one row per (track point, cross-track position): ``time``, ``lat``, ``lon``
    [-180, 180), ``sza`` [deg] and ``n_footprints`` (soundings the instrument takes there, before clouds).
    """
    inst = instrument(inst)
    if n_days <= 0:
        raise ConfigError(located("n_days must be > 0", where="ground_track"))
    step = float(step_km or max(inst.along_track_km, 200.0))
    per_point = inst.soundings_per_point * max(1, int(round(step / inst.along_track_km)))
    T = inst.orbit_seconds
    inc = np.deg2rad(inst.inclination_deg)
    u = np.arange(0.0, 2 * np.pi * n_days * SECONDS_PER_DAY / T, step / _R_KM)
    t = u / (2 * np.pi) * T                                            # s since start
    lat = np.arcsin(np.sin(inc) * np.sin(u))
    node_lt = inst.node_local_time_h if inst.day_side_ascending else (inst.node_local_time_h + 12.0) % 24
    lon0 = np.deg2rad(15.0 * (node_lt - 12.0) + 180.0)                 # sun at 180 E at t = 0 (00 UTC)
    lon = lon0 + np.arctan2(np.cos(inc) * np.sin(u), np.cos(u)) - 2 * np.pi * t / SECONDS_PER_DAY
    start_ts = pd.Timestamp(start)
    decl = np.deg2rad(23.44) * np.sin(2 * np.pi * ((start_ts.day_of_year - 1) + t / SECONDS_PER_DAY - 80.0) / 365.25)
    sun_lon = np.pi - 2 * np.pi * t / SECONDS_PER_DAY

    def cos_sza(la, lo, sel):
        return np.sin(la) * np.sin(decl[sel]) + np.cos(la) * np.cos(decl[sel]) * np.cos(lo - sun_lon[sel])

    # day side only (with a margin for the cross-track offsets), before the more expensive steps
    day = np.flatnonzero(cos_sza(lat, lon, slice(None)) > np.cos(np.deg2rad(SZA_MAX_DEG + 5.0)))
    u, t, lat, lon = u[day], t[day], lat[day], lon[day]
    # track heading from the analytic derivatives of lat(u) and lon(u) (Earth rotation included)
    dn = np.sin(inc) * np.cos(u) / np.cos(lat)
    de = (np.cos(inc) / (np.cos(u) ** 2 + (np.cos(inc) * np.sin(u)) ** 2) - T / SECONDS_PER_DAY) * np.cos(lat)
    norm = np.hypot(de, dn)
    pe, pn = -dn / norm, de / norm                                     # unit vector to the right of the track
    parts = []
    for off in inst.cross_track_km:
        la = lat + off / _R_KM * pn
        lo = lon + off / _R_KM * pe / np.cos(lat)
        sza = np.rad2deg(np.arccos(np.clip(cos_sza(la, lo, day), -1, 1)))
        keep = sza < SZA_MAX_DEG
        parts.append((t[keep], np.rad2deg(la[keep]), (np.rad2deg(lo[keep]) + 180.0) % 360.0 - 180.0, sza[keep]))
    tt, la, lo, sz = (np.concatenate(x) for x in zip(*parts))
    order = np.argsort(tt, kind="stable")
    df = pd.DataFrame({"time": start_ts + (tt[order] * 1e9).astype("timedelta64[ns]"), "lat": la[order],
                       "lon": lo[order], "sza": sz[order]})
    df["n_footprints"] = per_point
    return df[["time", "lat", "lon", "sza", "n_footprints"]]


def clear_sky_fraction(inst, lat, month):
    """Share of soundings passing cloud screening and quality filtering (our formulation).

    The instrument's ``clear_fraction``, halved in a 12-deg band around the seasonally migrating ITCZ
    and, from May to September, over the East Asian monsoon (20-35 N).
    """
    inst = instrument(inst)
    lat = np.asarray(lat, float)
    month = np.asarray(month, int)
    itcz = 3.0 + 6.0 * np.sin(2 * np.pi * (month - 1 - 3) / 12.0)
    f = inst.clear_fraction * (1.0 - 0.5 * np.exp(-0.5 * ((lat - itcz) / 12.0) ** 2))
    monsoon = (month >= 5) & (month <= 9) & (lat >= 20) & (lat <= 35)
    return np.where(monsoon, 0.5 * f, f)


def sample_soundings(inst, track: pd.DataFrame, land, rng) -> pd.DataFrame:
    """Clear-sky land soundings along a track: Binomial(n_footprints, clear_sky_fraction) per point.

    ``land`` is a callable (lat, lon) -> bool (e.g. :meth:`RegionSystem.is_land`); ``rng`` a seed or
    Generator. Returns the track rows with ``n_good`` > 0 (column added), plus ``surface_scale`` (a
    per-point factor of the surface sensitivity of the kernel, U(0.85, 1.15), our formulation).
    """
    inst = instrument(inst)
    rng = np.random.default_rng(rng)
    ok = np.asarray(land(track["lat"].values, track["lon"].values), bool)
    df = track.loc[ok].copy()
    f = clear_sky_fraction(inst, df["lat"].values, pd.DatetimeIndex(df["time"]).month.values)
    df["n_good"] = rng.binomial(df["n_footprints"].values, f)
    df["surface_scale"] = rng.uniform(0.85, 1.15, len(df))
    return df[df["n_good"] > 0].reset_index(drop=True)


def super_observations(inst, soundings: pd.DataFrame, model, *, window_edges, levels_hpa=None,
                       sigma_floor_ppm: float = 1.0) -> xr.Dataset:
    """Average soundings per transport-grid cell and window into super-observations with their operator.

    Parameters
    ----------
    inst : Instrument or name
    soundings : output of :func:`sample_soundings` (time, lat, lon, n_good, surface_scale)
    model : TransportModel (grid and layer mass fractions)
    window_edges : DatetimeIndex of window boundaries (n_windows + 1), e.g. weekly or monthly
    levels_hpa : retrieval levels (default :func:`sigma_levels`)
    sigma_floor_ppm : floor of the total error (GCAS: 1 ppm)

    Returns
    -------
    xr.Dataset dim ``obs``: ``window``, ``j``, ``i``, ``lat``, ``lon`` (cell centre), ``n_soundings``,
    ``sigma_retrieval`` = sqrt(sigma_single^2 / n + sigma_corr^2), ``sigma`` (with the representation
    error, floored) [ppm]; ``layer_weights`` (obs, layer) and ``constant`` [ppm] of the kernel-aware
    operator (sounding-weighted means of the soundings' operators: the operator of the mean),
    ``averaging_kernel``, ``pressure_weight``, ``co2_profile_apriori`` (obs, level) and ``xco2_apriori``.
    """
    inst = instrument(inst)
    edges = pd.DatetimeIndex(window_edges)
    lev = sigma_levels() if levels_hpa is None else _levels(levels_hpa)
    t = pd.DatetimeIndex(soundings["time"])
    w = np.searchsorted(edges.values, t.values, side="right") - 1
    inside = (w >= 0) & (w < len(edges) - 1)
    df = soundings.loc[inside].copy()
    df["window"] = w[inside]
    k, j, i = model.cell_index(df["lat"].values, df["lon"].values, np.zeros(len(df), int))
    df["j"], df["i"] = j, i
    df["ns"] = df["n_good"] * df["surface_scale"]
    g = df.groupby(["window", "j", "i"], sort=True).agg(n=("n_good", "sum"), ns=("ns", "sum"))
    if g.empty:
        raise DataError(located("no soundings inside the windows", where="super_observations",
                                fix="check window_edges against the soundings' times"))
    win = g.index.get_level_values("window").values
    jj = g.index.get_level_values("j").values
    ii = g.index.get_level_values("i").values
    n = g["n"].values.astype(float)
    scale = g["ns"].values / n
    h = pressure_weights(lev)
    L = layer_to_level(lev, model.config.mass_fractions)
    a = averaging_kernel_profile(np.broadcast_to(lev, (len(n), len(lev))), inst, surface_scale=scale)
    mid = edges[:-1] + (edges[1:] - edges[:-1]) / 2
    tmid = mid[win]
    dec = tmid.year + (tmid.day_of_year - 1) / 365.25
    lat_c = model.lat[jj]
    u_prior = retrieval_prior_profile(np.broadcast_to(lev, (len(n), len(lev))), lat_c, dec)
    x_prior = u_prior @ h
    wts = column_layer_weights(h[None, :], a, L[None])
    const = operator_constant(xco2_apriori=x_prior, pressure_weight=h[None, :], averaging_kernel=a,
                              co2_profile_apriori=u_prior)
    s_ret = np.sqrt(inst.sigma_single_ppm ** 2 / n + inst.sigma_corr_ppm ** 2)
    sigma = np.maximum(np.sqrt(s_ret ** 2 + inst.sigma_repr_ppm ** 2), sigma_floor_ppm)
    nl = len(lev)
    return xr.Dataset(
        {"window": ("obs", win), "j": ("obs", jj), "i": ("obs", ii),
         "n_soundings": ("obs", n.astype(int)),
         "sigma_retrieval": ("obs", s_ret, {"units": "ppm"}), "sigma": ("obs", sigma, {"units": "ppm"}),
         "layer_weights": (("obs", "layer"), wts, {"units": "1", "long_name": "kernel-aware layer weights"}),
         "constant": ("obs", const, {"units": "ppm", "long_name": "XCO2_prior - sum h a u_prior"}),
         "averaging_kernel": (("obs", "level"), a), "pressure_weight": (("obs", "level"), np.broadcast_to(h, (len(n), nl))),
         "co2_profile_apriori": (("obs", "level"), u_prior, {"units": "ppm"}),
         "xco2_apriori": ("obs", x_prior, {"units": "ppm"})},
        coords={"lat": ("obs", lat_c), "lon": ("obs", model.lon[ii]), "pressure_levels": ("level", lev)},
        attrs={"instrument": inst.name, "n_windows": len(edges) - 1, "sigma_floor_ppm": sigma_floor_ppm})


def satellite_matrix(rf, column_samples, layer_weights, obs_month, n_months: int, *, start_month: int = 0):
    """Rows of the synthesis-inversion operator M for column observations (H_sat = w^T H_transport).

    Parameters
    ----------
    rf : ResponseFunctions with a sample for every layer of every observed column
    column_samples : (m, K) int, the rf sample index of each observation's layer k
    layer_weights : (m, K) layer weights w (kernel-aware or naive)
    obs_month : (m,) month of each observation (0 = first month)

    Returns
    -------
    (m, n) operator, initial-concentration column = sum_k w_k (a well-mixed c0 seen through the kernel).
    """
    cs = np.asarray(column_samples, int)
    W = np.asarray(layer_weights, float)
    if cs.shape != W.shape or cs.ndim != 2:
        raise ConfigError(located(f"column_samples {cs.shape} and layer_weights {W.shape} must both be (m, K)",
                                  where="satellite_matrix"))
    M = None
    for k in range(cs.shape[1]):
        Mk = rf.matrix(cs[:, k], obs_month, n_months, start_month=start_month) * W[:, k:k + 1]
        M = Mk if M is None else M + Mk
    return M
