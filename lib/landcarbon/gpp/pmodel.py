"""The carbon-reaction side of the P-model: Γ*, K, η* and the optimal ratio χ = C_i / C_a.

Optimality theory (Prentice et al. 2014; Wang et al. 2017, Nature Plants 3:734, doi:10.1038/s41477-017-0006-8; Stocker et al. 2020, Geosci. Model Dev. 13:1545,
doi:10.5194/gmd-13-1545-2020) predicts the leaf-internal to ambient CO2 ratio

.. math:: \\chi = \\frac{\\Gamma^*}{c_a} + \\left(1 - \\frac{\\Gamma^*}{c_a}\\right) \\frac{\\xi}{\\xi + \\sqrt{D}},
   \\qquad \\xi = \\sqrt{\\frac{\\beta (K + \\Gamma^*)}{1.6 \\, \\eta^*}}

with D the vapour-pressure deficit [Pa], c_a the ambient CO2 partial pressure [Pa], β = 146 the unit
cost ratio (Stocker et al. 2020), Γ* the photorespiratory compensation point and K the effective
Michaelis–Menten coefficient of Rubisco (Bernacchi et al. 2001), and η* the viscosity of water relative
to 25 °C (Huber et al. 2009; density of water after Fisher & Dial 1975). All numbers are the published
ones (the same as in the P-model implementations rpmodel and pyrealm, which the tests use as an oracle).

Inputs follow the package conventions: temperature [°C], VPD [hPa], pressure [Pa], CO2 [ppm].
Outputs in Pa (Γ*, K, c_a, C_i) or dimensionless (χ, η*, m_j).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, located

__all__ = ["R_GAS", "P0_PA", "TK_REF", "BETA_C3", "GAMMASTAR25_PA", "KC25_PA", "KO25_PA", "patm_from_elevation",
           "density_h2o", "viscosity_h2o", "ns_star", "arrhenius_factor", "gammastar", "kmm", "co2_partial_pressure",
           "optimal_chi", "electron_to_carbon_factor", "pmodel_environment"]

#: Universal gas constant [J mol⁻¹ K⁻¹] (value of the P-model, Stocker et al. 2020).
R_GAS = 8.3145
#: Standard sea-level pressure [Pa] (Allen 1973).
P0_PA = 101325.0
#: Reference temperature of the photosynthetic parameters [K].
TK_REF = 298.15
#: Unit cost ratio β for C3 plants [1] (Stocker et al. 2020).
BETA_C3 = 146.0
#: Γ* at 25 °C and sea level [Pa] (Bernacchi et al. 2001, 42.75 µmol mol⁻¹ × 101325 Pa); ΔH = 37830 J mol⁻¹.
GAMMASTAR25_PA, DHA_GAMMASTAR = 4.332, 37830.0
#: Rubisco Michaelis constants at 25 °C [Pa] and activation energies [J mol⁻¹] (Bernacchi et al. 2001,
#: Plant Cell Environ. 24:253, doi:10.1111/j.1365-3040.2001.00668.x).
KC25_PA, KO25_PA, DHA_KC, DHA_KO = 39.97, 27480.0, 79430.0, 36380.0
#: O2 mole fraction of dry air [1].
O2_FRACTION = 0.209476
# standard atmosphere (Allen 1973): lapse rate [K m-1], gravity [m s-2], molar mass of dry air [kg mol-1]
_LAPSE, _G, _MA = 0.0065, 9.80665, 0.028963

# Fisher & Dial (1975) Tumlirz-equation polynomials in T [°C] (density of water)
_FD_LAMBDA = (1788.316, 21.55053, -0.4695911, 0.003096363, -7.341182e-06)
_FD_PO = (5918.499, 58.05267, -1.1253317, 0.0066123869, -1.4661625e-05)
_FD_VINF = (0.6980547, -0.0007435626, 3.704258e-05, -6.315724e-07, 9.829576e-09, -1.197269e-10,
            1.005461e-12, -5.437898e-15, 1.69946e-17, -2.295063e-20)
# Huber et al. (2009, J. Phys. Chem. Ref. Data 38:101, doi:10.1063/1.3088050) viscosity of water,
# Tables 2 and 3 (rows i = power of (ρ̄ − 1), columns j = power of (1/T̄ − 1))
_HU_TK, _HU_RHO, _HU_MU = 647.096, 322.0, 1e-6
_HU_HI = (1.67752, 2.20462, 0.6366564, -0.241605)
_HU_HIJ = np.array([
    [0.520094, 0.0850895, -1.08374, -0.289555, 0.0, 0.0],
    [0.222531, 0.999115, 1.88797, 1.26613, 0.0, 0.120573],
    [-0.281378, -0.906851, -0.772479, -0.489837, -0.25704, 0.0],
    [0.161913, 0.257399, 0.0, 0.0, 0.0, 0.0],
    [-0.0325372, 0.0, 0.0, 0.0698452, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.00872102, 0.0],
    [0.0, 0.0, 0.0, -0.00435673, 0.0, -0.000593264],
])


def _poly(t, coefs):
    out = np.zeros_like(t, dtype=float)
    for c in reversed(coefs):
        out = out * t + c
    return out


def _arr(x):
    return np.asarray(x, dtype=float)


def patm_from_elevation(elevation_m):
    """Atmospheric pressure [Pa] at elevation [m] for the standard atmosphere (Allen 1973):
    p = p0 (1 − L z / T0)^(g M_a / (R L)), p0 = 101325 Pa, L = 0.0065 K m⁻¹, T0 = 298.15 K.

    Examples
    --------
    >>> round(float(patm_from_elevation(1000.0)), 2)
    90241.54
    """
    z = _arr(elevation_m)
    return P0_PA * (1.0 - _LAPSE * z / TK_REF) ** (_G * _MA / (R_GAS * _LAPSE))


def density_h2o(t_degc, patm_pa):
    """Density of liquid water [kg m⁻³] (Fisher & Dial 1975, Tumlirz equation; pressure in bar).

    Examples
    --------
    >>> round(float(density_h2o(20.0, 101325.0)), 3)
    998.206
    """
    t = _arr(t_degc)
    pbar = 1e-5 * _arr(patm_pa)
    spec_vol = _poly(t, _FD_VINF) + _poly(t, _FD_LAMBDA) / (_poly(t, _FD_PO) + pbar)
    return 1e3 / spec_vol


def viscosity_h2o(t_degc, patm_pa):
    """Dynamic viscosity of water [Pa s] (Huber et al. 2009, eqs. 2, 11, 12 with μ₂ = 1).

    Examples
    --------
    >>> round(float(viscosity_h2o(20.0, 101325.0)), 7)
    0.0010016
    """
    t = _arr(t_degc)
    rho = density_h2o(t, patm_pa)
    tbar = (t + 273.15) / _HU_TK
    rbar = rho / _HU_RHO
    mu0 = 1e2 * np.sqrt(tbar) / (_HU_HI[0] + _HU_HI[1] / tbar + _HU_HI[2] / tbar**2 + _HU_HI[3] / tbar**3)
    ctbar = 1.0 / tbar - 1.0
    rpow = [np.ones_like(rbar)]
    for _ in range(_HU_HIJ.shape[0] - 1):
        rpow.append(rpow[-1] * (rbar - 1.0))
    s = np.zeros(np.broadcast(tbar, rbar).shape)
    cpow = np.ones_like(ctbar)
    for j in range(_HU_HIJ.shape[1]):
        inner = np.zeros_like(rbar)
        for i in range(_HU_HIJ.shape[0]):
            if _HU_HIJ[i, j] != 0.0:
                inner = inner + _HU_HIJ[i, j] * rpow[i]
        s = s + cpow * inner
        cpow = cpow * ctbar
    return mu0 * np.exp(rbar * s) * _HU_MU


def ns_star(t_degc, patm_pa):
    """Viscosity of water relative to 25 °C and 101325 Pa, η* [1] (Stocker et al. 2020)."""
    return viscosity_h2o(t_degc, patm_pa) / viscosity_h2o(25.0, P0_PA)


def arrhenius_factor(t_degc, dha_j_mol):
    """Arrhenius temperature factor relative to 25 °C: exp(ΔH (T − T_ref) / (R T_ref T)), T in K [1]."""
    tk = _arr(t_degc) + 273.15
    return np.exp(dha_j_mol * (tk - TK_REF) / (TK_REF * R_GAS * tk))


def gammastar(t_degc, patm_pa):
    """Photorespiratory CO2 compensation point Γ* [Pa] (Bernacchi et al. 2001; Stocker et al. 2020):

    .. math:: \\Gamma^* = \\Gamma^*_{25} \\, \\frac{p}{p_0} \\, \\exp\\left(\\frac{\\Delta H (T - 298.15)}{R \\cdot 298.15 \\cdot T}\\right)

    Γ*₂₅ = 4.332 Pa, ΔH = 37830 J mol⁻¹.

    Examples
    --------
    >>> round(float(gammastar(25.0, 101325.0)), 3)
    4.332
    """
    return GAMMASTAR25_PA * _arr(patm_pa) / P0_PA * arrhenius_factor(t_degc, DHA_GAMMASTAR)


def kmm(t_degc, patm_pa):
    """Effective Michaelis–Menten coefficient of Rubisco K = K_c (1 + p_O2 / K_o) [Pa], p_O2 = 0.209476 p
    (Bernacchi et al. 2001; Stocker et al. 2020)."""
    kc = KC25_PA * arrhenius_factor(t_degc, DHA_KC)
    ko = KO25_PA * arrhenius_factor(t_degc, DHA_KO)
    return kc * (1.0 + O2_FRACTION * _arr(patm_pa) / ko)


def co2_partial_pressure(co2_ppm, patm_pa):
    """Ambient CO2 partial pressure c_a = 10⁻⁶ · CO2 [ppm] · p [Pa] → [Pa]."""
    return 1e-6 * _arr(co2_ppm) * _arr(patm_pa)


def _check(t, vpd, co2, patm):
    for name, x, lo, hi in (("temperature [degC]", t, -25.0, 80.0), ("VPD [hPa]", vpd, 0.0, 200.0),
                            ("CO2 [ppm]", co2, 1.0, 5000.0), ("pressure [Pa]", patm, 3e4, 1.1e5)):
        x = np.asarray(x, dtype=float)
        ok = np.isnan(x) | ((x >= lo) & (x <= hi))
        if not np.all(ok):
            bad = x[~ok].ravel()[0]
            raise DataError(located(f"{name} outside the range of the P-model formulas ({lo}..{hi}): {bad}",
                                    where="landcarbon.gpp.pmodel", fix="check units (°C, hPa, ppm, Pa) and mask bad values"))


def optimal_chi(t_degc, vpd_hpa, co2_ppm, patm_pa, *, beta: float = BETA_C3):
    """Optimal ratio χ = C_i / C_a [1] of C3 plants (Prentice et al. 2014; Wang et al. 2017; Stocker et al. 2020).

    Parameters
    ----------
    t_degc : array_like     air temperature [°C] (−25 to 80)
    vpd_hpa : array_like    vapour-pressure deficit [hPa] (≥ 0; converted to Pa inside)
    co2_ppm : array_like    ambient CO2 [ppm]
    patm_pa : array_like    atmospheric pressure [Pa] (:func:`patm_from_elevation`)
    beta : float            unit cost ratio (146 for C3)

    Returns
    -------
    χ [1]; the formula is in the module docstring.

    Examples
    --------
    >>> round(float(optimal_chi(20.0, 10.0, 400.0, 101325.0)), 4)
    0.6944
    """
    return pmodel_environment(t_degc, vpd_hpa, co2_ppm, patm_pa, beta=beta)["chi"]


def electron_to_carbon_factor(ci_pa, gammastar_pa):
    """m_j = (C_i − Γ*) / (C_i + 2 Γ*) [1]; electron-transport-limited assimilation is A_J = (J / 4) · m_j
    (Farquhar et al. 1980; the form used in the P-model, Wang et al. 2017)."""
    ci, gs = _arr(ci_pa), _arr(gammastar_pa)
    return (ci - gs) / (ci + 2.0 * gs)


def pmodel_environment(t_degc, vpd_hpa, co2_ppm, patm_pa, *, beta: float = BETA_C3) -> dict:
    """Γ*, K, η*, c_a, ξ, χ, C_i and m_j for the given environment (all NumPy, broadcasting).

    Returns a dict with keys ``gammastar_pa``, ``kmm_pa``, ``ns_star``, ``ca_pa``, ``xi`` [Pa^½], ``chi``,
    ``ci_pa`` and ``mj``.
    """
    _check(t_degc, vpd_hpa, co2_ppm, patm_pa)
    gs = gammastar(t_degc, patm_pa)
    k = kmm(t_degc, patm_pa)
    eta = ns_star(t_degc, patm_pa)
    ca = co2_partial_pressure(co2_ppm, patm_pa)
    xi = np.sqrt(beta * (k + gs) / (1.6 * eta))
    vpd_pa = 100.0 * _arr(vpd_hpa)
    chi = gs / ca + (1.0 - gs / ca) * xi / (xi + np.sqrt(vpd_pa))
    ci = chi * ca
    return {"gammastar_pa": gs, "kmm_pa": k, "ns_star": eta, "ca_pa": ca, "xi": xi, "chi": chi, "ci_pa": ci,
            "mj": electron_to_carbon_factor(ci, gs)}
