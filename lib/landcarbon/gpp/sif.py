"""GPP from solar-induced chlorophyll fluorescence (SIF) through the light reactions.

The chain (semi-mechanistic, after Gu et al. 2019 and the P-model), each step one function:

1. canopy escape probability of far-red SIF, f_esc ≈ NIRv / fPAR (Zeng et al. 2019):
   :func:`nirv`, :func:`escape_probability`;
2. radiance → photon flux (:func:`landcarbon.units.sif_radiance_to_photon_flux`, assumptions there) and
   SIF_total = SIF_obs / f_esc: :func:`total_sif`;
3. actual electron transport of PSII from the total SIF (Gu et al. 2019):
   J = q_L · Φ_PSIImax / (1 − Φ_PSIImax) · (1 + k_D / k_F) · SIF_total: :func:`electron_transport`;
4. carbon reactions, electron-transport-limited: GPP = J (C_i − Γ*) / (4 C_i + 8 Γ*) with C_i = χ C_a and
   χ, Γ* from :mod:`landcarbon.gpp.pmodel`: :func:`gpp_from_electron_transport`;
5. instantaneous (satellite overpass) → daily mean with a cos(SZA) day-length factor:
   :func:`daily_correction_factor`.

Every step has its exact inverse (``*_inverse`` / :func:`gpp_to_sif`) so that the demo twin can generate
SIF from a known GPP and the round trip GPP → SIF → GPP can be tested. The linear SIF–GPP regression that
the mechanistic model must beat is :func:`fit_linear_sif_gpp`.

Units: SIF radiance mW m⁻² sr⁻¹ nm⁻¹ (TROPOMI, 740 nm); photon fluxes, J and instantaneous GPP in
µmol m⁻² s⁻¹ (J in µmol e⁻, GPP in µmol CO2); daily GPP in gC m⁻² d⁻¹ (uptake > 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import units
from ..errors import DataError, located
from . import pmodel

__all__ = ["PHI_PSII_MAX", "KD_OVER_KF", "nirv", "ndvi", "escape_probability", "total_sif", "electron_transport",
           "electron_transport_inverse", "gpp_from_electron_transport", "electron_transport_from_gpp",
           "daily_correction_factor", "sif_to_gpp", "gpp_to_sif", "LinearSifGpp", "fit_linear_sif_gpp"]

#: Maximum photochemical yield of PSII of dark-adapted leaves, Φ_PSIImax [1] (≈ 0.83; Gu et al. 2019).
PHI_PSII_MAX = 0.83
#: Ratio of the rate constants of constitutive heat dissipation and fluorescence, k_D / k_F [1] (≈ 19,
#: i.e. k_F = 0.05, k_D = 0.95 of their sum; Gu et al. 2019).
KD_OVER_KF = 19.0


def _arr(x):
    return np.asarray(x, dtype=float)


def ndvi(red, nir):
    """Normalised difference vegetation index (ρ_NIR − ρ_red)/(ρ_NIR + ρ_red) [1] from reflectances [1]."""
    red, nir = _arr(red), _arr(nir)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (nir - red) / (nir + red)


def nirv(red, nir):
    """Near-infrared reflectance of vegetation NIRv = NDVI · ρ_NIR [1] (Badgley et al. 2017, Sci. Adv.
    3:e1602244, doi:10.1126/sciadv.1602244).

    Examples
    --------
    >>> round(float(nirv(0.05, 0.45)), 4)
    0.36
    """
    return ndvi(red, nir) * _arr(nir)


def escape_probability(nirv_, fpar, *, min_fpar: float = 0.05):
    """Escape probability of far-red SIF from the canopy, f_esc ≈ NIRv / fPAR [1] (Zeng et al. 2019,
    Remote Sens. Environ. 232:111209, doi:10.1016/j.rse.2019.05.028).

    Cells with fPAR < ``min_fpar`` (bare or snow-covered) are NaN: the ratio is unstable there.
    """
    nv, fp = _arr(nirv_), _arr(fpar)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(fp >= min_fpar, nv / fp, np.nan)


def total_sif(sif_obs, f_esc):
    """Total canopy SIF emission = observed SIF / f_esc (same units as ``sif_obs``)."""
    f = _arr(f_esc)
    if np.any(f <= 0):
        raise DataError(located("f_esc must be > 0", where="landcarbon.gpp.sif.total_sif",
                                fix="mask non-vegetated cells (fPAR < 0.05) before inverting"))
    return _arr(sif_obs) / f


def _yield_factor(q_l, phi_psii_max, kd_over_kf):
    if not (0.0 < phi_psii_max < 1.0) or kd_over_kf <= 0:
        raise DataError(located(f"need 0 < Φ_PSIImax < 1 and k_D/k_F > 0, got {phi_psii_max}, {kd_over_kf}",
                                where="landcarbon.gpp.sif"))
    q = _arr(q_l)
    if np.any((q <= 0) | (q > 1)):
        raise DataError(located("q_L (fraction of open PSII reaction centres) must lie in (0, 1]",
                                where="landcarbon.gpp.sif", fix="check the q_L field"))
    return q * phi_psii_max / (1.0 - phi_psii_max) * (1.0 + kd_over_kf)


def electron_transport(sif_total_umol, q_l, *, phi_psii_max: float = PHI_PSII_MAX, kd_over_kf: float = KD_OVER_KF):
    """Actual PSII electron transport rate J [µmol e⁻ m⁻² s⁻¹] from total SIF [µmol photons m⁻² s⁻¹].

    .. math:: J = q_L \\, \\frac{\\Phi_{PSIImax}}{1 - \\Phi_{PSIImax}} \\, \\left(1 + \\frac{k_D}{k_F}\\right) SIF_{total}

    References
    ----------
    .. [1] Gu, L., Han, J., Wood, J. D., Chang, C. Y.-Y. & Sun, Y. (2019) Sun-induced Chl fluorescence and
       its importance for biophysical modeling of photosynthesis based on light reactions. New Phytologist
       223:1179, doi:10.1111/nph.15796

    Examples
    --------
    >>> round(float(electron_transport(1.0, 0.5)), 3)
    48.824
    """
    return _yield_factor(q_l, phi_psii_max, kd_over_kf) * _arr(sif_total_umol)


def electron_transport_inverse(j_umol, q_l, *, phi_psii_max: float = PHI_PSII_MAX, kd_over_kf: float = KD_OVER_KF):
    """Total SIF [µmol m⁻² s⁻¹] that corresponds to electron transport J (inverse of :func:`electron_transport`)."""
    return _arr(j_umol) / _yield_factor(q_l, phi_psii_max, kd_over_kf)


def gpp_from_electron_transport(j_umol, ci_pa, gammastar_pa):
    """Electron-transport-limited gross assimilation [µmol CO2 m⁻² s⁻¹]:
    GPP = J (C_i − Γ*) / (4 C_i + 8 Γ*) (Farquhar et al. 1980; von Caemmerer 2000), C_i and Γ* in Pa."""
    ci, gs = _arr(ci_pa), _arr(gammastar_pa)
    return _arr(j_umol) * (ci - gs) / (4.0 * ci + 8.0 * gs)


def electron_transport_from_gpp(gpp_umol, ci_pa, gammastar_pa):
    """Inverse of :func:`gpp_from_electron_transport`: J = GPP (4 C_i + 8 Γ*) / (C_i − Γ*)."""
    ci, gs = _arr(ci_pa), _arr(gammastar_pa)
    if np.any(ci <= gs):
        raise DataError(located("C_i must exceed Γ* to invert the carbon reactions", where="landcarbon.gpp.sif"))
    return _arr(gpp_umol) * (4.0 * ci + 8.0 * gs) / (ci - gs)


def daily_correction_factor(lat_deg, doy, *, overpass_hour: float = 13.5, n_steps: int = 288):
    """Ratio of the daily mean of cos(SZA)⁺ to cos(SZA) at the overpass local solar time [1].

    A quantity proportional to the cosine of the solar zenith angle has its daily mean (over 24 h) equal to
    the overpass value times this factor — the daily-averaging of TROPOSIF and of Frankenberg et al. (2011,
    Geophys. Res. Lett. 38:L17706, doi:10.1029/2011GL048738). Declination after Cooper (1969); ``n_steps``
    points per day (midpoint rule). NaN where the sun is below the horizon at the overpass (polar night).
    """
    lat = np.deg2rad(_arr(lat_deg))
    doy = _arr(doy)
    dec = np.deg2rad(23.44) * np.sin(2.0 * np.pi * (284.0 + doy) / 365.0)
    lat, dec = np.broadcast_arrays(lat, dec)

    def cos_sza(hour):
        h = np.deg2rad(15.0 * (hour - 12.0))
        return np.sin(lat) * np.sin(dec) + np.cos(lat) * np.cos(dec) * np.cos(h)

    hours = (np.arange(n_steps) + 0.5) * 24.0 / n_steps
    mean = np.zeros(lat.shape)
    for h in hours:
        mean += np.clip(cos_sza(h), 0.0, None)
    mean /= n_steps
    c0 = cos_sza(overpass_hour)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c0 > 0.01, mean / c0, np.nan)


def _carbon(t_degc, vpd_hpa, co2_ppm, patm_pa, chi):
    env = pmodel.pmodel_environment(t_degc, vpd_hpa, co2_ppm, patm_pa)
    if chi is not None:
        env["chi"] = _arr(chi)
        env["ci_pa"] = env["chi"] * env["ca_pa"]
    return env


def sif_to_gpp(sif_obs_mw, *, f_esc, q_l, t_degc, vpd_hpa, co2_ppm, patm_pa, dcf=None, chi=None,
               phi_psii_max: float = PHI_PSII_MAX, kd_over_kf: float = KD_OVER_KF, wavelength_nm: float = 740.0,
               band_width_nm: float = 90.0) -> dict:
    """GPP from observed SIF through the light and carbon reactions.

    Parameters
    ----------
    sif_obs_mw : array_like
        Observed (top-of-canopy) SIF at the overpass [mW m⁻² sr⁻¹ nm⁻¹].
    f_esc : array_like
        Escape probability [1] (:func:`escape_probability`).
    q_l : array_like
        Fraction of open PSII reaction centres [1].
    t_degc, vpd_hpa, co2_ppm, patm_pa : array_like
        Environment for Γ* and χ (:mod:`landcarbon.gpp.pmodel`).
    dcf : array_like, optional
        Daily correction factor (:func:`daily_correction_factor`); given, the result includes daily GPP.
    chi : array_like, optional
        Use this χ instead of the P-model's optimal χ.

    Returns
    -------
    dict with ``sif_total_umol``, ``j_umol``, ``chi``, ``gammastar_pa``, ``gpp_umol`` (instantaneous,
    µmol CO2 m⁻² s⁻¹) and, when ``dcf`` is given, ``gpp_gc_m2_d`` (daily, gC m⁻² d⁻¹, uptake > 0).
    """
    photons = units.sif_radiance_to_photon_flux(sif_obs_mw, wavelength_nm=wavelength_nm, band_width_nm=band_width_nm)
    s_tot = total_sif(photons, f_esc)
    j = electron_transport(s_tot, q_l, phi_psii_max=phi_psii_max, kd_over_kf=kd_over_kf)
    env = _carbon(t_degc, vpd_hpa, co2_ppm, patm_pa, chi)
    g = gpp_from_electron_transport(j, env["ci_pa"], env["gammastar_pa"])
    out = {"sif_total_umol": s_tot, "j_umol": j, "chi": env["chi"], "gammastar_pa": env["gammastar_pa"], "gpp_umol": g}
    if dcf is not None:
        out["gpp_gc_m2_d"] = units.umol_m2_s_to_gC_m2_d(g * _arr(dcf))
    return out


def gpp_to_sif(gpp_gc_m2_d, *, f_esc, q_l, t_degc, vpd_hpa, co2_ppm, patm_pa, dcf, chi=None,
               phi_psii_max: float = PHI_PSII_MAX, kd_over_kf: float = KD_OVER_KF, wavelength_nm: float = 740.0,
               band_width_nm: float = 90.0):
    """Observed SIF at the overpass [mW m⁻² sr⁻¹ nm⁻¹] that a daily GPP [gC m⁻² d⁻¹] produces: the exact
    inverse of :func:`sif_to_gpp` with the same arguments (used by the demo twin and the round-trip test)."""
    g_inst = units.gC_m2_d_to_umol_m2_s(_arr(gpp_gc_m2_d)) / _arr(dcf)
    env = _carbon(t_degc, vpd_hpa, co2_ppm, patm_pa, chi)
    j = electron_transport_from_gpp(g_inst, env["ci_pa"], env["gammastar_pa"])
    s_tot = electron_transport_inverse(j, q_l, phi_psii_max=phi_psii_max, kd_over_kf=kd_over_kf)
    return units.sif_photon_flux_to_radiance(s_tot * _arr(f_esc), wavelength_nm=wavelength_nm,
                                             band_width_nm=band_width_nm)


@dataclass(frozen=True)
class LinearSifGpp:
    """Linear SIF–GPP regression GPP = slope · SIF + intercept (the empirical baseline)."""

    slope: float
    intercept: float

    def predict(self, sif):
        return self.slope * _arr(sif) + self.intercept


def fit_linear_sif_gpp(sif, gpp, *, through_origin: bool = False) -> LinearSifGpp:
    """Ordinary least-squares fit of daily GPP on SIF over all finite pairs (the usual empirical SIF→GPP model,
    e.g. one slope per biome). ``through_origin`` forces the intercept to 0."""
    x, y = _arr(sif).ravel(), _arr(gpp).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        raise DataError(located("fewer than 3 finite SIF-GPP pairs", where="fit_linear_sif_gpp"))
    x, y = x[ok], y[ok]
    if through_origin:
        return LinearSifGpp(float(np.dot(x, y) / np.dot(x, x)), 0.0)
    slope, intercept = np.polyfit(x, y, 1)
    return LinearSifGpp(float(slope), float(intercept))
