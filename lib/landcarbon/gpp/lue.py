"""Light-use-efficiency (LUE) models of gross primary production.

Two models, one function each, with explicit units:

* :func:`mod17_gpp` — the MODIS MOD17 algorithm (Running et al. 2004):
  GPP = ε_max · f(Tmin) · f(VPD) · FPAR · PAR, PAR = 0.45 · SW↓;
* :func:`vpm_gpp` — the VPM / EC-LUE family (Xiao et al. 2004; Yuan et al. 2007):
  GPP = ε_max · T_scalar · W_scalar · FPAR_green · PAR with the TEM temperature scalar and the LSWI
  water scalar.

Units throughout: ε_max in gC MJ⁻¹ (of absorbed PAR), PAR in MJ m⁻² d⁻¹, GPP in gC m⁻² d⁻¹ (uptake > 0;
NEE = RECO − GPP). Temperatures in °C, VPD in hPa (the MOD17 table is in Pa: :data:`MOD17_BPLUT`
converts). Everything is elementwise NumPy and broadcasts over sites and grids (numba brings nothing to an
elementwise product; dask-backed xarray inputs work through ``xarray.apply_ufunc`` in
:func:`mod17_gpp_xr`).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError, located

__all__ = ["MOD17_BPLUT", "MOD17_CLASSES", "linear_ramp", "tmin_scalar", "vpd_scalar", "mod17_gpp",
           "mod17_parameters", "tem_temperature_scalar", "lswi_water_scalar", "vpm_gpp", "mod17_gpp_xr",
           "potential_apar"]

#: Vegetation classes of the MOD17 biome property look-up table (UMD land cover; IGBP-like names).
MOD17_CLASSES = ("ENF", "EBF", "DNF", "DBF", "MF", "CSH", "OSH", "WSA", "SAV", "GRA", "CRO")

#: MOD17 Collection 5.1 biome property look-up table (BPLUT), GPP part: ε_max [gC MJ⁻¹], Tmin ramp
#: [°C] (f = 0 at ``tmin_min``, 1 at ``tmin_max``) and VPD ramp [hPa] (f = 1 at ``vpd_min``, 0 at
#: ``vpd_max``). Numbers of the C5.1 MERRA/NASA table (Running & Zhao 2015, MOD17 User's Guide;
#: Zhao et al. 2005, Remote Sens. Environ. 95:164, doi:10.1016/j.rse.2004.12.011), VPD converted from
#: Pa to hPa. ``WET`` (wetlands, absent from the UMD table) takes the grassland values: our choice.
MOD17_BPLUT = {
    #        lue_max   tmin_min tmin_max vpd_min vpd_max
    "ENF": (1.211, -8.0, 8.31, 6.5, 30.0),
    "EBF": (1.405, -8.0, 9.09, 10.0, 40.0),
    "DNF": (1.227, -8.0, 10.44, 6.5, 35.0),
    "DBF": (1.526, -6.0, 9.94, 6.5, 29.0),
    "MF": (1.226, -7.0, 9.50, 6.5, 29.0),
    "CSH": (1.495, -8.0, 8.61, 6.5, 43.0),
    "OSH": (1.027, -8.0, 8.80, 6.5, 44.0),
    "WSA": (1.498, -8.0, 11.39, 6.5, 35.0),
    "SAV": (1.454, -8.0, 11.39, 6.5, 36.0),
    "GRA": (1.215, -8.0, 12.02, 6.5, 42.0),
    "CRO": (1.300, -8.0, 12.02, 6.5, 45.0),
    "WET": (1.215, -8.0, 12.02, 6.5, 42.0),
}
_BPLUT_KEYS = ("lue_max_gc_mj", "tmin_min_degc", "tmin_max_degc", "vpd_min_hpa", "vpd_max_hpa")


def linear_ramp(x, lo, hi, *, reversed_: bool = False):
    """Linear ramp on [0, 1]: 0 for x ≤ lo, 1 for x ≥ hi, (x − lo)/(hi − lo) between (``reversed_``: 1 − that).

    The MOD17 attenuation scalar (Running et al. 2004). ``lo`` and ``hi`` broadcast against ``x``;
    ``hi`` must exceed ``lo``. NaN in ``x`` gives NaN.
    """
    x = np.asarray(x, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if np.any(hi <= lo):
        raise ConfigError(located("ramp upper limit must exceed the lower limit", where="landcarbon.gpp.lue",
                                  fix="check the biome parameters (tmin_max > tmin_min, vpd_max > vpd_min)"))
    f = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return 1.0 - f if reversed_ else f


def tmin_scalar(tmin_degc, *, tmin_min_degc, tmin_max_degc):
    """MOD17 minimum-temperature scalar f(Tmin) [1]: 0 at or below ``tmin_min_degc``, 1 at or above
    ``tmin_max_degc``, linear in between (Running et al. 2004).

    Examples
    --------
    >>> float(tmin_scalar(0.0, tmin_min_degc=-8.0, tmin_max_degc=8.0))
    0.5
    """
    return linear_ramp(tmin_degc, tmin_min_degc, tmin_max_degc)


def vpd_scalar(vpd_hpa, *, vpd_min_hpa, vpd_max_hpa):
    """MOD17 vapour-pressure-deficit scalar f(VPD) [1]: 1 at or below ``vpd_min_hpa``, 0 at or above
    ``vpd_max_hpa``, linear in between (Running et al. 2004). VPD in hPa (MOD17 tables use Pa).

    Examples
    --------
    >>> float(vpd_scalar(20.0, vpd_min_hpa=10.0, vpd_max_hpa=30.0))
    0.5
    """
    return linear_ramp(vpd_hpa, vpd_min_hpa, vpd_max_hpa, reversed_=True)


def mod17_gpp(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, *, lue_max_gc_mj, tmin_min_degc, tmin_max_degc,
              vpd_min_hpa, vpd_max_hpa):
    """Daily GPP of the MOD17 light-use-efficiency model [gC m⁻² d⁻¹, uptake > 0].

    Parameters
    ----------
    fpar : array_like
        Fraction of PAR absorbed by the canopy [1] (MOD15A2H FPAR).
    par_mj_m2_d : array_like
        Incident photosynthetically active radiation [MJ m⁻² d⁻¹]; from shortwave with
        :func:`landcarbon.units.sw_to_par_mj_m2_d` (PAR = 0.45 SW↓).
    tmin_degc, vpd_hpa : array_like
        Daily minimum air temperature [°C] and daytime vapour-pressure deficit [hPa].
    lue_max_gc_mj : array_like
        Maximum light-use efficiency ε_max [gC MJ⁻¹]; may vary by class and season (broadcasts).
    tmin_min_degc, tmin_max_degc, vpd_min_hpa, vpd_max_hpa : array_like
        Ramp limits of the biome (see :data:`MOD17_BPLUT`, :func:`mod17_parameters`).

    Returns
    -------
    GPP [gC m⁻² d⁻¹]

    Notes
    -----
    .. math:: GPP = \\varepsilon_{max} \\, f(T_{min}) \\, f(VPD) \\, FPAR \\, PAR

    References
    ----------
    .. [1] Running, S. W. et al. (2004) A continuous satellite-derived measure of global terrestrial
       primary production. BioScience 54:547, doi:10.1641/0006-3568(2004)054[0547:ACSMOG]2.0.CO;2

    Examples
    --------
    >>> p = mod17_parameters("ENF")
    >>> round(float(mod17_gpp(0.8, 10.0, 20.0, 5.0, **p)), 4)
    9.688
    """
    fpar = np.asarray(fpar, dtype=float)
    par = np.asarray(par_mj_m2_d, dtype=float)
    if np.any(fpar < 0) or np.any(fpar > 1) or np.any(par < 0):
        raise DataError(located("FPAR must lie in [0, 1] and PAR must be >= 0", where="landcarbon.gpp.lue.mod17_gpp",
                                fix="mask fill values (MOD15A2H 249-255) and check the PAR units (MJ m-2 d-1)"))
    f_t = tmin_scalar(tmin_degc, tmin_min_degc=tmin_min_degc, tmin_max_degc=tmin_max_degc)
    f_d = vpd_scalar(vpd_hpa, vpd_min_hpa=vpd_min_hpa, vpd_max_hpa=vpd_max_hpa)
    return np.asarray(lue_max_gc_mj, dtype=float) * f_t * f_d * fpar * par


def potential_apar(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, *, tmin_min_degc, tmin_max_degc, vpd_min_hpa,
                   vpd_max_hpa, **ignored):
    """Stress-scaled absorbed PAR X = f(Tmin) · f(VPD) · FPAR · PAR [MJ m⁻² d⁻¹], so GPP = ε_max · X.

    MOD17 is linear in ε_max; the ε_max fit (:mod:`landcarbon.gpp.emax_fit`) regresses tower GPP on X.
    """
    return mod17_gpp(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, lue_max_gc_mj=1.0, tmin_min_degc=tmin_min_degc,
                     tmin_max_degc=tmin_max_degc, vpd_min_hpa=vpd_min_hpa, vpd_max_hpa=vpd_max_hpa)


def mod17_parameters(classes) -> dict:
    """MOD17 parameters (keywords of :func:`mod17_gpp`) for one class name or an array of class names.

    Returns floats for a single name, arrays of the same shape for an array. Unknown names raise
    :class:`~landcarbon.errors.ConfigError`.
    """
    names = np.asarray(classes)
    flat = names.ravel()
    bad = sorted({str(c) for c in flat if str(c) not in MOD17_BPLUT})
    if bad:
        raise ConfigError(located(f"no MOD17 parameters for vegetation classes {bad}", where="mod17_parameters",
                                  fix=f"use one of {sorted(MOD17_BPLUT)}"))
    table = np.array([MOD17_BPLUT[str(c)] for c in flat], dtype=float).reshape(names.shape + (5,))
    out = {k: table[..., i] for i, k in enumerate(_BPLUT_KEYS)}
    if names.ndim == 0:
        out = {k: float(v) for k, v in out.items()}
    return out


def tem_temperature_scalar(t_degc, *, t_min_degc=0.0, t_opt_degc=20.0, t_max_degc=40.0):
    """Temperature scalar of TEM used by VPM and EC-LUE [1] (Raich et al. 1991; Xiao et al. 2004):

    .. math:: T_s = \\frac{(T - T_{min})(T - T_{max})}{(T - T_{min})(T - T_{max}) - (T - T_{opt})^2}

    1 at T_opt, 0 at or outside [T_min, T_max] (set to 0 there).

    Examples
    --------
    >>> float(tem_temperature_scalar(20.0))
    1.0
    """
    t = np.asarray(t_degc, dtype=float)
    if not (t_min_degc < t_opt_degc < t_max_degc):
        raise ConfigError(located("need t_min < t_opt < t_max", where="tem_temperature_scalar"))
    a = (t - t_min_degc) * (t - t_max_degc)
    with np.errstate(invalid="ignore", divide="ignore"):
        ts = a / (a - (t - t_opt_degc) ** 2)
    inside = (t > t_min_degc) & (t < t_max_degc)
    return np.where(inside, ts, np.where(np.isnan(t), np.nan, 0.0))


def lswi_water_scalar(lswi, *, lswi_max):
    """VPM water scalar W_s = (1 + LSWI) / (1 + LSWI_max) [1], capped at 1 (Xiao et al. 2004,
    Remote Sens. Environ. 91:256, doi:10.1016/j.rse.2004.03.010). LSWI = (ρ_NIR − ρ_SWIR)/(ρ_NIR + ρ_SWIR)."""
    lswi = np.asarray(lswi, dtype=float)
    return np.clip((1.0 + lswi) / (1.0 + np.asarray(lswi_max, dtype=float)), 0.0, 1.0)


def vpm_gpp(fpar_green, par_mj_m2_d, t_degc, water_scalar, *, lue_max_gc_mj, t_min_degc=0.0, t_opt_degc=20.0,
            t_max_degc=40.0):
    """Daily GPP of the VPM / EC-LUE type [gC m⁻² d⁻¹, uptake > 0].

    .. math:: GPP = \\varepsilon_{max} \\, T_s(T) \\, W_s \\, FPAR_{green} \\, PAR

    with the TEM temperature scalar :func:`tem_temperature_scalar` and a water scalar in [0, 1]:
    VPM's (1 + LSWI)/(1 + LSWI_max) (:func:`lswi_water_scalar`; Xiao et al. 2004) or EC-LUE's
    evaporative fraction (Yuan et al. 2007, Agric. For. Meteorol. 143:189,
    doi:10.1016/j.agrformet.2006.12.001; EC-LUE takes min(T_s, W_s), VPM the product — here the
    product). FPAR_green is the fraction of PAR absorbed by chlorophyll (VPM: 1.25 (EVI − 0.1)).

    Examples
    --------
    >>> round(float(vpm_gpp(0.5, 10.0, 20.0, 1.0, lue_max_gc_mj=2.0)), 6)
    10.0
    """
    fg = np.asarray(fpar_green, dtype=float)
    if np.any(fg < 0) or np.any(fg > 1):
        raise DataError(located("green FPAR must lie in [0, 1]", where="landcarbon.gpp.lue.vpm_gpp"))
    ts = tem_temperature_scalar(t_degc, t_min_degc=t_min_degc, t_opt_degc=t_opt_degc, t_max_degc=t_max_degc)
    return np.asarray(lue_max_gc_mj, dtype=float) * ts * np.asarray(water_scalar, dtype=float) * fg * \
        np.asarray(par_mj_m2_d, dtype=float)


def mod17_gpp_xr(fpar, par_mj_m2_d, tmin_degc, vpd_hpa, *, lue_max_gc_mj, params: dict):
    """:func:`mod17_gpp` on xarray objects (dask-backed allowed, ``dask="parallelized"``).

    ``params`` holds the four ramp limits (arrays broadcastable against the inputs, e.g. per pixel from
    :func:`mod17_parameters` of a PFT map). Returns a DataArray with ``units = gC m-2 d-1``.
    """
    import xarray as xr

    def _f(fp, pa, tn, vd, lue, a, b, c, d):
        return mod17_gpp(fp, pa, tn, vd, lue_max_gc_mj=lue, tmin_min_degc=a, tmin_max_degc=b, vpd_min_hpa=c,
                         vpd_max_hpa=d)

    args = [params[k] for k in _BPLUT_KEYS[1:]]
    out = xr.apply_ufunc(_f, fpar, par_mj_m2_d, tmin_degc, vpd_hpa, lue_max_gc_mj, *args, dask="parallelized",
                         output_dtypes=[float])
    out.attrs.update({"units": "gC m-2 d-1", "long_name": "GPP (MOD17 light-use efficiency), uptake > 0"})
    return out
