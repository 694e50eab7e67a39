"""Unit conversions of landcarbon — the only place where carbon-flux units are converted.

Conventions:

* half-hourly fluxes: µmol CO2 m-2 s-1;
* daily fluxes: gC m-2 d-1;
* annual / regional totals: PgC yr-1 or TgC yr-1;
* atmospheric CO2: ppm (dry-air mole fraction, µmol mol-1); 1 ppm ≈ 2.124 PgC
  (Global Carbon Budget convention, Ballantyne et al. 2012, doi:10.1038/nature11299).

Sign convention for fluxes: NEE > 0 is a release to the atmosphere; NEE = RECO − GPP;
NEP = −NEE; a land sink is a positive uptake in PgC yr-1.
"""
from __future__ import annotations

import numpy as np

from .errors import UnitsError, located

__all__ = [
    "format_units",
    "MOLAR_MASS_C",
    "PGC_PER_PPM",
    "SECONDS_PER_DAY",
    "DAYS_PER_YEAR",
    "SECONDS_PER_YEAR",
    "EARTH_RADIUS_M",
    "G_PER_PG",
    "G_PER_TG",
    "umol_m2_s_to_gC_m2_per_step",
    "umol_m2_s_to_gC_m2_d",
    "gC_m2_d_to_umol_m2_s",
    "per_day_to_per_month",
    "per_month_to_per_day",
    "gC_m2_yr_to_PgC_yr",
    "PgC_to_ppm",
    "ppm_to_PgC",
    "TgC_to_PgC",
    "PgC_to_TgC",
    "ktC_to_PgC",
    "G_PER_KT",
    "CO2_PER_C",
    "celsius_to_kelvin",
    "kelvin_to_celsius",
    "hPa_to_kPa",
    "PLANCK_J_S",
    "SPEED_OF_LIGHT_M_S",
    "AVOGADRO_PER_MOL",
    "PAR_FRACTION_OF_SW",
    "UMOL_PER_J_PAR",
    "wm2_to_mj_m2_d",
    "mj_m2_d_to_wm2",
    "sw_to_par_mj_m2_d",
    "par_mj_m2_d_to_umol_m2_s",
    "sif_radiance_to_photon_flux",
    "sif_photon_flux_to_radiance",
    "grid_cell_area_m2",
    "normalise_unit",
    "convert",
]

#: Molar mass of carbon [g mol-1]; REddyProc uses 12.011 for annual sums.
MOLAR_MASS_C = 12.011
#: Mass of carbon per ppm of atmospheric CO2 [PgC ppm-1] (Ballantyne et al. 2012).
PGC_PER_PPM = 2.124
SECONDS_PER_DAY = 86400.0
#: Days per (mean Julian) year, used for yr-1 conversions of mean rates.
DAYS_PER_YEAR = 365.25
SECONDS_PER_YEAR = SECONDS_PER_DAY * DAYS_PER_YEAR
#: Mean Earth radius [m] (IUGG), used for grid-cell areas.
EARTH_RADIUS_M = 6.371e6
G_PER_PG = 1e15
G_PER_TG = 1e12
#: Grams per thousand metric tonnes (the CDIAC national-emission unit, "thousand metric tons of carbon").
G_PER_KT = 1e9
#: Mass ratio CO2 : C = 44.009 / 12.011 = 3.664 (the factor the Global Carbon Budget workbooks state).
CO2_PER_C = 3.664
#: Planck constant [J s] (SI 2019 exact value).
PLANCK_J_S = 6.62607015e-34
#: Speed of light in vacuum [m s-1] (exact).
SPEED_OF_LIGHT_M_S = 299792458.0
#: Avogadro constant [mol-1] (SI 2019 exact value).
AVOGADRO_PER_MOL = 6.02214076e23
#: Fraction of incoming shortwave radiation that is photosynthetically active (400-700 nm), as in
#: MOD17: PAR = 0.45 SW (Running et al. 2004, BioScience 54:547, doi:10.1641/0006-3568(2004)054[0547:ACSMOG]2.0.CO;2).
PAR_FRACTION_OF_SW = 0.45
#: Photon content of PAR [µmol J-1] for the solar spectrum, 4.57 µmol J-1 (McCree 1972,
#: Agric. Meteorol. 10:443, doi:10.1016/0002-1571(72)90045-3; daylight value also used by the P-model).
UMOL_PER_J_PAR = 4.57


def umol_m2_s_to_gC_m2_per_step(flux, step_seconds: float = 1800.0):
    """Carbon mass per time step [gC m-2] from a mean flux [µmol CO2 m-2 s-1].

    ``flux * 1e-6 mol/µmol * 12.011 g/mol * step_seconds``; with a half-hour step this is the
    REddyProc annual-sum convention (sum over half-hours of flux * 12.011e-6 * 1800).
    """
    factor = 1e-6 * MOLAR_MASS_C * step_seconds
    return flux * factor if _is_xr(flux) else np.asarray(flux, dtype=float) * factor


def umol_m2_s_to_gC_m2_d(flux):
    """Daily carbon flux [gC m-2 d-1] from a mean flux [µmol CO2 m-2 s-1]."""
    return flux * (1e-6 * MOLAR_MASS_C * SECONDS_PER_DAY)


def gC_m2_d_to_umol_m2_s(flux):
    """Mean flux [µmol CO2 m-2 s-1] from a daily flux [gC m-2 d-1]."""
    return flux / (1e-6 * MOLAR_MASS_C * SECONDS_PER_DAY)


def gC_m2_yr_to_PgC_yr(flux_gC_m2_yr, area_m2):
    """Area-integrated total [PgC yr-1] of a flux density [gC m-2 yr-1] over ``area_m2`` [m2].

    NaN cells (e.g. ocean) are ignored; ``area_m2`` broadcasts against the flux.
    """
    prod = np.asarray(flux_gC_m2_yr, dtype=float) * np.asarray(area_m2, dtype=float)
    return float(np.nansum(prod) / G_PER_PG)


def per_day_to_per_month(x, days_in_month):
    """Monthly total from a monthly mean of daily values: x [… d-1] × days in the month → [… month-1].

    E.g. FLUXNET2015 MM fluxes [gC m-2 d-1] → gC m-2 month-1, or P [mm d-1] → mm month-1. ``days_in_month``
    broadcasts against ``x`` (28–31).
    """
    return x * days_in_month if _is_xr(x) else np.asarray(x, dtype=float) * np.asarray(days_in_month, dtype=float)


def per_month_to_per_day(x, days_in_month):
    """Monthly mean of daily values from a monthly total: x [… month-1] / days in the month → [… d-1]
    (e.g. CRU TS / demo precipitation in mm month-1 → mm d-1, the unit of FLUXNET2015 MM ``P_F``)."""
    return x / days_in_month if _is_xr(x) else np.asarray(x, dtype=float) / np.asarray(days_in_month, dtype=float)


def PgC_to_ppm(mass_pgc):
    """Atmospheric CO2 change [ppm] equivalent to a carbon mass [PgC] (1 ppm = 2.124 PgC)."""
    return mass_pgc / PGC_PER_PPM


def ppm_to_PgC(ppm):
    """Carbon mass [PgC] equivalent to an atmospheric CO2 change [ppm] (1 ppm = 2.124 PgC)."""
    return ppm * PGC_PER_PPM


def TgC_to_PgC(x):
    """TgC → PgC (1 PgC = 1000 TgC)."""
    return x / 1000.0


def PgC_to_TgC(x):
    """PgC → TgC (1 PgC = 1000 TgC)."""
    return x * 1000.0


def ktC_to_PgC(x):
    """Thousand tonnes of carbon (CDIAC, Boden, Marland & Andres) → PgC (1 PgC = 10⁶ ktC)."""
    return x * (G_PER_KT / G_PER_PG)


def celsius_to_kelvin(t):
    """Temperature °C → K."""
    return t + 273.15


def kelvin_to_celsius(t):
    """Temperature K → °C."""
    return t - 273.15


def hPa_to_kPa(p):
    """Pressure (or VPD) hPa → kPa."""
    return p / 10.0


def wm2_to_mj_m2_d(flux_wm2):
    """Daily radiation sum [MJ m-2 d-1] from a daily-mean flux density [W m-2] (× 86400 s / 1e6)."""
    return flux_wm2 * (SECONDS_PER_DAY / 1e6)


def mj_m2_d_to_wm2(flux_mj_m2_d):
    """Daily-mean flux density [W m-2] from a daily radiation sum [MJ m-2 d-1]."""
    return flux_mj_m2_d / (SECONDS_PER_DAY / 1e6)


def sw_to_par_mj_m2_d(sw_wm2):
    """Daily PAR [MJ m-2 d-1] from daily-mean incoming shortwave [W m-2]: PAR = 0.45 · SW↓ · 0.0864.

    The 0.45 PAR fraction is MOD17's (Running et al. 2004); see :data:`PAR_FRACTION_OF_SW`.
    """
    return PAR_FRACTION_OF_SW * wm2_to_mj_m2_d(sw_wm2)


def par_mj_m2_d_to_umol_m2_s(par_mj_m2_d):
    """Daily-mean PAR photon flux [µmol m-2 s-1] from daily PAR energy [MJ m-2 d-1] (4.57 µmol J-1)."""
    return mj_m2_d_to_wm2(par_mj_m2_d) * UMOL_PER_J_PAR


def _sif_factor(wavelength_nm: float, band_width_nm: float) -> float:
    if not (wavelength_nm > 0 and band_width_nm > 0):
        raise UnitsError(located(f"SIF conversion needs positive wavelength and band width, got "
                                 f"{wavelength_nm} nm and {band_width_nm} nm",
                                 where="landcarbon.units.sif_radiance_to_photon_flux",
                                 fix="pass wavelength_nm > 0 and band_width_nm > 0"))
    # mW m-2 sr-1 nm-1 -> W m-2 (×π sr × Δλ nm × 1e-3) -> µmol m-2 s-1 (× λ / (h c N_A) × 1e6)
    joule_per_mol = PLANCK_J_S * SPEED_OF_LIGHT_M_S * AVOGADRO_PER_MOL / (wavelength_nm * 1e-9)
    return np.pi * band_width_nm * 1e-3 / joule_per_mol * 1e6


def sif_radiance_to_photon_flux(sif_mw_m2_sr_nm, *, wavelength_nm: float = 740.0, band_width_nm: float = 90.0):
    """Total emitted-equivalent SIF photon flux [µmol m-2 s-1] from a spectral radiance at one wavelength.

    Parameters
    ----------
    sif_mw_m2_sr_nm : array_like
        SIF spectral radiance [mW m-2 sr-1 nm-1] (e.g. TROPOMI SIF at 740 nm).
    wavelength_nm : float
        Wavelength of the retrieval and of the representative photon energy [nm] (default 740).
    band_width_nm : float
        Effective width Δλ of the emission spectrum [nm]: the full-spectrum flux divided by the spectral
        flux at ``wavelength_nm`` (default 90 nm, our choice).

    Returns
    -------
    SIF photon flux [µmol m-2 s-1]

    Notes
    -----
    .. math:: F = \\pi L_\\lambda \\, \\Delta\\lambda \\, 10^{-3} \\cdot \\frac{\\lambda}{h c N_A} \\cdot 10^{6}

    Assumptions (our formulation; the literature uses several): (1) the canopy-leaving SIF is
    isotropic (Lambertian), so the hemispherical flux is π times the radiance; (2) the whole emission
    spectrum (≈ 650–850 nm) is represented by the value at ``wavelength_nm`` times an effective band
    width ``band_width_nm``; (3) every photon carries the energy of a ``wavelength_nm`` photon. With
    the defaults 1 mW m-2 sr-1 nm-1 = 1.749 µmol m-2 s-1. Exact constants h, c and N_A (SI 2019). The
    absolute scale of a mechanistic SIF→GPP chain inherits Δλ: state it with any result.

    Examples
    --------
    >>> round(float(sif_radiance_to_photon_flux(1.0)), 4)
    1.749
    """
    return np.asarray(sif_mw_m2_sr_nm, dtype=float) * _sif_factor(wavelength_nm, band_width_nm)


def sif_photon_flux_to_radiance(sif_umol_m2_s, *, wavelength_nm: float = 740.0, band_width_nm: float = 90.0):
    """Inverse of :func:`sif_radiance_to_photon_flux`: SIF radiance [mW m-2 sr-1 nm-1] from a photon flux
    [µmol m-2 s-1], with the same assumptions."""
    return np.asarray(sif_umol_m2_s, dtype=float) / _sif_factor(wavelength_nm, band_width_nm)


def grid_cell_area_m2(lat, dlat: float, dlon: float):
    """Area [m2] of regular lat-lon cells centred at ``lat`` [deg] with sizes ``dlat``, ``dlon`` [deg].

    Exact spherical zone formula: A = R² · Δλ · (sin φ_n − sin φ_s), R = 6.371e6 m.
    """
    lat = np.asarray(lat, dtype=float)
    phi_n = np.deg2rad(np.clip(lat + dlat / 2.0, -90, 90))
    phi_s = np.deg2rad(np.clip(lat - dlat / 2.0, -90, 90))
    return EARTH_RADIUS_M**2 * np.deg2rad(dlon) * (np.sin(phi_n) - np.sin(phi_s))


# ---------------------------------------------------------------------------------------------
# Unit strings: normalisation and generic conversion for loaders
# ---------------------------------------------------------------------------------------------
_ALIASES = {
    # flux densities
    "umolm-2s-1": "umol m-2 s-1",
    "umol m-2 s-1": "umol m-2 s-1",
    "µmol m-2 s-1": "umol m-2 s-1",
    "µmolco2 m-2 s-1": "umol m-2 s-1",
    "umolco2 m-2 s-1": "umol m-2 s-1",
    "umol co2 m-2 s-1": "umol m-2 s-1",
    "µmol co2 m-2 s-1": "umol m-2 s-1",
    "umolm-2s-1co2": "umol m-2 s-1",
    "gc m-2 d-1": "gC m-2 d-1",
    "gcm-2d-1": "gC m-2 d-1",
    "gc m-2 day-1": "gC m-2 d-1",
    "gc m-2 yr-1": "gC m-2 yr-1",
    "mj m-2 d-1": "MJ m-2 d-1",
    "mj m-2 day-1": "MJ m-2 d-1",
    "mw m-2 sr-1 nm-1": "mW m-2 sr-1 nm-1",
    "mw/m2/sr/nm": "mW m-2 sr-1 nm-1",
    # radiation / energy
    "wm-2": "W m-2",
    "w m-2": "W m-2",
    "w/m2": "W m-2",
    "j m-2": "J m-2",
    # temperature
    "degc": "degC",
    "deg c": "degC",
    "°c": "degC",
    "c": "degC",
    "celsius": "degC",
    "k": "K",
    "kelvin": "K",
    # humidity / pressure
    "%": "%",
    "percent": "%",
    "hpa": "hPa",
    "kpa": "kPa",
    "pa": "Pa",
    # wind / friction velocity
    "ms-1": "m s-1",
    "m s-1": "m s-1",
    "m/s": "m s-1",
    # precipitation
    "mm": "mm",
    "mm/month": "mm month-1",
    "mm month-1": "mm month-1",
    "mm/day": "mm d-1",
    "mm d-1": "mm d-1",
    "m": "m",
    "-": "1",
    "1": "1",
    "": "1",
    "ppm": "ppm",
    "umol mol-1": "ppm",
    "pgc yr-1": "PgC yr-1",
    "pgc/yr": "PgC yr-1",
    # Global Carbon Budget workbooks: 1 GtC = 1 PgC = 10^15 gC ("billion tonnes of carbon")
    "gtc/yr": "PgC yr-1",
    "gtc yr-1": "PgC yr-1",
    "ppm/yr": "ppm yr-1",
    "ppm yr-1": "ppm yr-1",
    "ktc yr-1": "ktC yr-1",
    "tgc yr-1": "TgC yr-1",
}

# (from, to) -> function
_CONVERSIONS = {
    ("K", "degC"): kelvin_to_celsius,
    ("degC", "K"): celsius_to_kelvin,
    ("hPa", "kPa"): hPa_to_kPa,
    ("kPa", "hPa"): lambda p: p * 10.0,
    ("Pa", "hPa"): lambda p: p / 100.0,
    ("Pa", "kPa"): lambda p: p / 1000.0,
    ("umol m-2 s-1", "gC m-2 d-1"): umol_m2_s_to_gC_m2_d,
    ("gC m-2 d-1", "umol m-2 s-1"): gC_m2_d_to_umol_m2_s,
    ("TgC yr-1", "PgC yr-1"): TgC_to_PgC,
    ("PgC yr-1", "TgC yr-1"): PgC_to_TgC,
    ("ktC yr-1", "PgC yr-1"): ktC_to_PgC,
    ("ppm yr-1", "PgC yr-1"): ppm_to_PgC,
    ("m", "mm"): lambda x: x * 1000.0,
    ("J m-2", "W m-2"): lambda x: x / SECONDS_PER_DAY,  # daily accumulation -> daily mean
    ("W m-2", "MJ m-2 d-1"): wm2_to_mj_m2_d,
    ("MJ m-2 d-1", "W m-2"): mj_m2_d_to_wm2,
}


def normalise_unit(unit: str | None) -> str:
    """Canonical spelling of a unit string (e.g. ``'umolm-2s-1'`` → ``'umol m-2 s-1'``).

    Unknown strings are returned stripped but otherwise unchanged.
    """
    if unit is None:
        return "1"
    # separators: "umol_m-2_s-1" (netCDF files written by some tools) and "umol.m-2.s-1" as spaces
    key = " ".join(str(unit).strip().lower().replace("^", "").replace("_", " ").replace(".", " ").split())
    return _ALIASES.get(key, _ALIASES.get(key.replace(" ", ""), str(unit).strip()))


def convert(values, from_unit: str, to_unit: str, *, where: str | None = None):
    """Convert ``values`` from ``from_unit`` to ``to_unit``.

    Raises :class:`~landcarbon.errors.UnitsError` (naming ``where``) when no conversion is known.
    """
    a, b = normalise_unit(from_unit), normalise_unit(to_unit)
    if a == b:
        return values
    fn = _CONVERSIONS.get((a, b))
    if fn is None:
        raise UnitsError(
            located(
                f"cannot convert units {from_unit!r} to {to_unit!r}",
                where=where,
                fix=f"provide the variable in {to_unit!r} or add the conversion to landcarbon.units",
            )
        )
    return fn(values)


def _is_xr(obj) -> bool:
    return type(obj).__module__.startswith("xarray")


# ---------------------------------------------------------------------------------------------
# Unit strings for readers (tables, axis labels, indicator lists)
# ---------------------------------------------------------------------------------------------
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_FORMULAE = {"CO2", "CH4", "N2O", "H2O", "O2", "O3", "N2"}


def format_units(unit: str | None) -> str:
    """A unit string as a reader expects it: superscript exponents, µ, "fraction" for dimensionless.

    Examples
    --------
    >>> format_units("gC m-2 yr-1"), format_units("umol m-2 s-1"), format_units("PgC/yr")
    ('gC m⁻² yr⁻¹', 'µmol m⁻² s⁻¹', 'PgC yr⁻¹')
    >>> format_units("1"), format_units("%"), format_units("PgC yr-2"), format_units("degC")
    ('fraction', '%', 'PgC yr⁻²', '°C')
    >>> format_units("umol CO2 m-2 s-1")  # a chemical formula keeps its subscript
    'µmol CO₂ m⁻² s⁻¹'
    """
    if unit is None:
        return ""
    u = str(unit).strip()
    if u in ("1", "-", "", "fraction"):
        return "fraction"
    special = {"degC": "°C", "degC-1": "°C⁻¹", "K-1": "K⁻¹", "percent": "%"}
    if u in special:
        return special[u]
    u = u.replace("umol", "µmol").replace("ug", "µg")
    parts = []
    for token in u.split():
        if "/" in token:  # "PgC/yr" -> "PgC yr-1"
            num, *dens = token.split("/")
            parts.append(num)
            parts.extend(d + "-1" for d in dens)
        else:
            parts.append(token)
    out = []
    for token in parts:
        if token in _FORMULAE:
            out.append(token.translate(_SUBSCRIPT))
            continue
        i = len(token)
        while i > 0 and (token[i - 1].isdigit() or token[i - 1] == "-"):
            i -= 1
        base, exp = token[:i], token[i:]
        if base and exp and exp != "-":
            out.append(base + exp.translate(_SUPERSCRIPT))
        else:
            out.append(token)
    return " ".join(out)
