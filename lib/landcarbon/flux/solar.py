"""Solar geometry, potential (extraterrestrial) radiation and day/night masks for flux sites.

Formulas as in REddyProc (``fCalcPotRadiation``, ``fCalcExtRadiation``) and its helper package
solartime (``computeSunPositionDoyHour``; credits there to A. Moffat and A. Cescatti), i.e. the
Fourier series of Spencer (1971, "Fourier series representation of the position of the sun",
Search 2:172) for declination and equation of time, and the eccentricity correction of Lanini (2010):

* fractional year  :math:`\\gamma = 2\\pi (DoY - 1) / 365.24`
* declination  :math:`\\delta = (0.33281 - 22.984\\cos\\gamma - 0.34990\\cos 2\\gamma - 0.13980\\cos 3\\gamma
  + 3.7872\\sin\\gamma + 0.03205\\sin 2\\gamma + 0.07187\\sin 3\\gamma)\\,\\pi/180`
* equation of time [h]  :math:`EoT = 0.0072\\cos\\gamma - 0.0528\\cos 2\\gamma - 0.0012\\cos 3\\gamma
  - 0.1229\\sin\\gamma - 0.1565\\sin 2\\gamma - 0.0041\\sin 3\\gamma`
* solar time [h]  :math:`t_s = t_{local} + lon/15 - tz + EoT`, hour angle :math:`h = (t_s - 12)\\pi/12`
* elevation  :math:`\\sin\\beta = \\sin\\delta\\sin\\varphi + \\cos\\delta\\cos\\varphi\\cos h`
* extraterrestrial irradiance  :math:`S = 1366.1\\,(1.00011 + 0.034221\\cos\\gamma + 0.00128\\sin\\gamma
  + 0.000719\\cos 2\\gamma + 0.000077\\sin 2\\gamma)` W m-2
* potential radiation  :math:`R_{pot} = S \\sin\\beta` for :math:`\\beta > 0`, else 0 [W m-2].

Time stamps of the standard site dataset mark interval ENDS; the geometry is evaluated at the
interval MIDDLE (as REddyProc does with its ``sDateTime`` = end − 15 min).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigError, located

__all__ = [
    "sun_position",
    "extraterrestrial_radiation",
    "potential_radiation",
    "potential_radiation_ds",
    "day_night_mask",
    "is_night_reddyproc",
]

SOLAR_CONSTANT = 1366.1  # W m-2 (REddyProc fCalcExtRadiation)


def _frac_year(doy):
    return 2.0 * np.pi * (np.asarray(doy, dtype=float) - 1.0) / 365.24


def sun_position(doy, hour, lat: float, lon: float, utc_offset_hours: float):
    """Solar time [h], declination [rad] and elevation [rad] (REddyProc/solartime formulas).

    Parameters
    ----------
    doy : array-like, day of year (1..366) of the local standard time.
    hour : array-like, local standard (winter) time in decimal hours [0, 24).
    lat, lon : degrees (north, east positive).
    utc_offset_hours : hours local standard time is ahead of UTC (Central Europe +1).
    """
    for name, v in (("lat", lat), ("lon", lon), ("utc_offset_hours", utc_offset_hours)):
        if v is None or not np.isfinite(v):
            raise ConfigError(located(f"{name} is {v!r}", where="solar geometry",
                                      fix=f"give the site's {name} (dataset attrs lat/lon/utc_offset_hours)"))
    g = _frac_year(doy)
    eot = (0.0072 * np.cos(g) - 0.0528 * np.cos(2 * g) - 0.0012 * np.cos(3 * g)
           - 0.1229 * np.sin(g) - 0.1565 * np.sin(2 * g) - 0.0041 * np.sin(3 * g))
    solar_hour = np.asarray(hour, dtype=float) + (lon / 15.0 - utc_offset_hours) + eot
    h = (solar_hour - 12.0) * np.pi / 12.0
    decl = (0.33281 - 22.984 * np.cos(g) - 0.34990 * np.cos(2 * g) - 0.13980 * np.cos(3 * g)
            + 3.7872 * np.sin(g) + 0.03205 * np.sin(2 * g) + 0.07187 * np.sin(3 * g)) / 180.0 * np.pi
    phi = np.deg2rad(lat)
    elev = np.arcsin(np.clip(np.sin(decl) * np.sin(phi) + np.cos(decl) * np.cos(phi) * np.cos(h), -1, 1))
    return solar_hour, decl, elev


def extraterrestrial_radiation(doy):
    """Extraterrestrial irradiance normal to the beam [W m-2] (Lanini 2010, as REddyProc)."""
    g = _frac_year(doy)
    return SOLAR_CONSTANT * (1.00011 + 0.034221 * np.cos(g) + 0.00128 * np.sin(g)
                             + 0.000719 * np.cos(2 * g) + 0.000077 * np.sin(2 * g))


def _doy_hour_mid(time, timestep_seconds: float, time_label: str = "end"):
    t = np.asarray(time).astype("datetime64[ns]")
    if time_label == "end":
        t = t - np.timedelta64(int(timestep_seconds * 1e9 / 2), "ns")
    elif time_label == "start":
        t = t + np.timedelta64(int(timestep_seconds * 1e9 / 2), "ns")
    elif time_label != "middle":
        raise ConfigError(located(f"time_label {time_label!r} unknown", fix="use 'end', 'start' or 'middle'"))
    day = t.astype("datetime64[D]")
    doy = (day - day.astype("datetime64[Y]")).astype(np.int64) + 1
    hour = (t - day).astype("timedelta64[ns]").astype(np.int64) / 3.6e12
    return doy, hour


def potential_radiation(time, lat: float, lon: float, utc_offset_hours: float, *,
                        timestep_seconds: float = 1800, time_label: str = "end") -> np.ndarray:
    """Potential (top-of-atmosphere, horizontal) radiation [W m-2] for local-standard-time stamps.

    ``R_pot = S(DoY) * sin(elevation)`` if the sun is above the horizon, else 0, evaluated at the
    middle of each averaging interval (stamps are interval ends by default). Equations in the
    module docstring (REddyProc ``fCalcPotRadiation``, Wutzler et al. 2018, doi:10.5194/bg-15-5015-2018).
    """
    doy, hour = _doy_hour_mid(time, timestep_seconds, time_label)
    _, _, elev = sun_position(doy, hour, lat, lon, utc_offset_hours)
    return np.where(elev <= 0, 0.0, extraterrestrial_radiation(doy) * np.sin(elev))


def potential_radiation_ds(ds: xr.Dataset) -> xr.DataArray:
    """Potential radiation [W m-2] on the time axis of a standard site dataset (uses its attrs)."""
    v = potential_radiation(ds["time"].values, ds.attrs.get("lat"), ds.attrs.get("lon"),
                            ds.attrs.get("utc_offset_hours"),
                            timestep_seconds=ds.attrs.get("timestep_seconds", 1800),
                            time_label=ds.attrs.get("time_label", "end"))
    return xr.DataArray(v, coords={"time": ds["time"]}, dims="time", name="SW_IN_POT",
                        attrs={"units": "W m-2", "long_name": "potential (extraterrestrial) radiation"})


def day_night_mask(sw_in, sw_in_pot, *, sw_threshold: float = 10.0, rule: str = "reddyproc_nt"):
    """Boolean NIGHT mask from global radiation SW_IN [W m-2] and potential radiation [W m-2].

    Rules
    -----
    ``"reddyproc_nt"`` (default; REddyProc ``sMRFluxPartition``, Reichstein et al. 2005,
        doi:10.1111/j.1365-2486.2005.001002.x): night where NOT (SW_IN > threshold OR R_pot > 0),
        i.e. ``SW_IN <= 10`` (or SW_IN missing) AND ``R_pot == 0``.
    ``"reddyproc_dt"`` (Lasslop et al. 2010, doi:10.1111/j.1365-2486.2009.02041.x; threshold 4):
        night where ``SW_IN <= threshold`` AND ``R_pot == 0``; pass ``sw_threshold=4``.
    ``"sw_only"`` (REddyProc u* filter and MDS night flag): night where ``SW_IN < threshold``;
        missing SW_IN counts as night only when ``R_pot == 0``.

    Day = NOT night. Returns a NumPy bool array (or DataArray if ``sw_in`` is one).
    """
    sw = np.asarray(sw_in, dtype=float)
    pot = np.asarray(sw_in_pot, dtype=float)
    if rule in ("reddyproc_nt", "reddyproc_dt"):
        night = ~(sw > sw_threshold) & (pot <= 0)
    elif rule == "sw_only":
        night = np.where(np.isfinite(sw), sw < sw_threshold, pot <= 0)
    else:
        raise ConfigError(located(f"rule {rule!r} unknown", fix="use 'reddyproc_nt', 'reddyproc_dt' or 'sw_only'"))
    if isinstance(sw_in, xr.DataArray):
        return xr.DataArray(night, coords=sw_in.coords, dims=sw_in.dims, name="is_night")
    return night


def is_night_reddyproc(ds: xr.Dataset, sw_threshold: float = 10.0) -> np.ndarray:
    """Night mask of a standard site dataset with the ``"reddyproc_nt"`` rule (SW_IN and R_pot)."""
    return np.asarray(day_night_mask(ds["SW_IN"].values, potential_radiation_ds(ds).values,
                                     sw_threshold=sw_threshold, rule="reddyproc_nt"))
