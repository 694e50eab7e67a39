"""Shared plumbing of the partitioning methods: inputs, masks, windows, results.

Input convention of every ``partition_*`` function (an ``xarray.Dataset`` on the standard site time
axis, see CONTRACTS.md; time stamp = END of the interval, local standard time):

=============  ======================================================================================
``NEE_f``      gap-filled NEE [umol m-2 s-1] (falls back to ``NEE`` when absent)
``NEE_fqc``    0 where NEE was measured and kept (u*-filtered, not gap-filled); >0 = gap filled.
               Absent: records with finite ``NEE`` count as measured.
``NEE_fsd``    MDS fill SD [umol m-2 s-1] (σ of the day-time fit). Absent: REddyProc fallback
               σ = max(0.7, 0.2 |NEE|).
``TA``         air temperature [degC]; ``TA_f`` (gap-filled) preferred, ``TA_fqc`` optional
``SW_IN``      global radiation [W m-2] as measured (used for the day/night masks);
               ``SW_IN_f`` (gap-filled) used for prediction when present
``VPD``        [hPa] (``VPD_f`` preferred); ``RH`` [%], ``TS`` [degC], ``SWC`` [%], ``WS`` [m s-1]
``SW_IN_POT``  potential radiation [W m-2] (optional; else computed from attrs lat/lon/utc_offset)
=============  ======================================================================================

Sign convention of all outputs: NEE > 0 is release to the atmosphere, NEE = RECO − GPP, GPP and
RECO in umol CO2 m-2 s-1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, UnitsError, located
from ..units import normalise_unit

FLUX_UNITS = "umol m-2 s-1"
SIGN_CONVENTION = "NEE > 0 is release to the atmosphere; NEE = RECO - GPP; GPP >= 0, RECO >= 0"

_EXPECTED_UNITS = {
    "NEE": "umol m-2 s-1", "NEE_f": "umol m-2 s-1", "NEE_fsd": "umol m-2 s-1",
    "TA": "degC", "TA_f": "degC", "TS": "degC", "SW_IN": "W m-2", "SW_IN_f": "W m-2",
    "VPD": "hPa", "VPD_f": "hPa", "RH": "%", "RH_f": "%",
}


@dataclass
class PartitionResult:
    """Result of one partitioning method on one site-year.

    Attributes
    ----------
    method : str
        "NT", "DT", "DT-RH", "DT-LI" (Keenan), "RF", "NN", "SP" (semi-parametric ML).
    gpp, reco : xarray.DataArray
        Half-hourly GPP and RECO [umol CO2 m-2 s-1] on the input time axis
        (NEE > 0 release, NEE = RECO − GPP).
    params : pandas.DataFrame
        One row per window with the fitted parameters, their SDs and a quality code ``qc``
        (0 = all parameters fitted, 1 = some fixed/refit, >= 1000 REddyProc-style failure codes).
    info : dict
        Scalars of the fit (e.g. E0, tests, diagnostics).
    extra : dict of DataArray
        Further half-hourly outputs (uncertainties, Rref(t), E0(t), ...).
    """

    method: str
    gpp: xr.DataArray
    reco: xr.DataArray
    params: pd.DataFrame
    info: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_dataset(self) -> xr.Dataset:
        """GPP, RECO (+ extras) as one Dataset; variable names suffixed with the method."""
        tag = self.method.replace("-", "_")
        out = {f"GPP_{tag}": self.gpp, f"RECO_{tag}": self.reco}
        out.update({f"{k}_{tag}": v for k, v in self.extra.items()})
        ds = xr.Dataset(out)
        ds.attrs.update({"method": self.method, "sign_convention": SIGN_CONVENTION})
        return ds

    def annual_sums(self) -> dict:
        """Annual sums [gC m-2 yr-1] of GPP and RECO (REddyProc convention, NaN ignored)."""
        return {"GPP": annual_sum(self.gpp), "RECO": annual_sum(self.reco)}


def annual_sum(flux: xr.DataArray | np.ndarray, step_seconds: float | None = None) -> float:
    """Sum of a flux [umol CO2 m-2 s-1] over all steps in gC m-2 (REddyProc convention, NaN skipped)."""
    from ..units import umol_m2_s_to_gC_m2_per_step

    if step_seconds is None:
        step_seconds = getattr(flux, "attrs", {}).get("timestep_seconds")
        if step_seconds is None and isinstance(flux, xr.DataArray) and "time" in flux.coords and flux.sizes.get("time", 0) > 1:
            step_seconds = float(np.median(np.diff(flux["time"].values).astype("timedelta64[s]").astype(float)))
        step_seconds = float(step_seconds or 1800.0)
    return float(np.nansum(umol_m2_s_to_gC_m2_per_step(np.asarray(flux, dtype=float), step_seconds)))


# ---------------------------------------------------------------------------------------------
# potential radiation (one implementation: landcarbon.flux.solar)
# ---------------------------------------------------------------------------------------------
def potential_radiation_for(ds: xr.Dataset) -> np.ndarray:
    """Potential radiation [W m-2] at the middle of each interval (``SW_IN_POT`` if present)."""
    if "SW_IN_POT" in ds:
        return np.asarray(ds["SW_IN_POT"].values, dtype=float)
    for key in ("lat", "lon"):
        if ds.attrs.get(key) is None:
            raise DataError(located(f"attrs['{key}'] missing: needed for potential radiation",
                                    where=f"site {ds.attrs.get('site', '?')}",
                                    fix="set ds.attrs['lat'], ['lon'], ['utc_offset_hours'] or add SW_IN_POT"))
    from .solar import potential_radiation

    step = float(ds.attrs.get("timestep_seconds", _step_seconds(ds)))
    lat, lon = float(ds.attrs["lat"]), float(ds.attrs["lon"])
    off = float(ds.attrs.get("utc_offset_hours", round(lon / 15.0)))
    return potential_radiation(ds["time"].values, lat, lon, off, timestep_seconds=step,
                               time_label=ds.attrs.get("time_label", "end"))


def _step_seconds(ds: xr.Dataset) -> float:
    t = ds["time"].values
    if t.size < 2:
        return 1800.0
    return float(np.median(np.diff(t).astype("timedelta64[s]").astype(float)))


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
@dataclass
class Inputs:
    """Plain arrays for the kernels (float64, NaN = missing)."""

    time: np.ndarray
    nee_f: np.ndarray        # gap-filled NEE
    nee_meas: np.ndarray     # measured (fqc == 0) NEE, NaN elsewhere
    nee_sd: np.ndarray
    ta: np.ndarray           # gap-filled air temperature [degC]
    ta_meas: np.ndarray      # measured (fqc == 0) air temperature
    rg: np.ndarray           # measured radiation (masks)
    rg_f: np.ndarray         # gap-filled radiation (prediction)
    vpd: np.ndarray
    rh: np.ndarray
    potrad: np.ndarray
    day_counter: np.ndarray  # REddyProc DayCounter: (record number) %/% records per day
    rec_per_day: int
    step_seconds: float
    others: dict
    attrs: dict


def _pick(ds: xr.Dataset, names, *, required=False, what="variable", where="dataset"):
    for n in names:
        if n in ds:
            _check_units(ds, n, where)
            return np.array(ds[n].values, dtype=float)
    if required:
        raise DataError(located(f"missing required {what} (one of {list(names)})", where=where,
                                fix="run u* filtering and MDS gap filling first, or rename the variable"))
    return None


def _check_units(ds: xr.Dataset, name: str, where: str) -> None:
    exp = _EXPECTED_UNITS.get(name)
    u = ds[name].attrs.get("units")
    if exp is None or u is None:
        return
    try:
        got = normalise_unit(u)
    except Exception:  # noqa: BLE001 - unknown unit string
        got = u
    if got != exp:
        raise UnitsError(located(f"variable {name!r} has units {u!r}, expected {exp!r}", where=where,
                                 fix=f"convert with landcarbon.units.convert(..., {u!r}, {exp!r})"))


def prepare_inputs(ds: xr.Dataset, *, where: str | None = None) -> Inputs:
    """Validate a site dataset and return the kernel arrays (see the module docstring)."""
    where = where or f"site {ds.attrs.get('site', '?')}"
    if "time" not in ds.dims:
        raise DataError(located("dataset has no 'time' dimension", where=where, fix="use the standard site dataset"))
    n = ds.sizes["time"]
    nee_f = _pick(ds, ("NEE_f", "NEE"), required=True, what="NEE", where=where)
    if "NEE_fqc" in ds:
        fqc = np.asarray(ds["NEE_fqc"].values, dtype=float)
        nee_meas = np.where(fqc == 0, nee_f, np.nan)
    else:
        raw = _pick(ds, ("NEE",), where=where)
        nee_meas = raw.copy() if raw is not None else nee_f.copy()
    nee_sd = _pick(ds, ("NEE_fsd",), where=where)
    if nee_sd is None:
        nee_sd = np.maximum(0.7, 0.2 * np.abs(nee_f))
    else:
        miss = ~np.isfinite(nee_sd)
        nee_sd[miss] = np.maximum(0.7, 0.2 * np.abs(nee_f[miss]))
    ta = _pick(ds, ("TA_f", "TA"), required=True, what="air temperature TA", where=where)
    if "TA_fqc" in ds:
        ta_meas = np.where(np.asarray(ds["TA_fqc"].values) == 0, ta, np.nan)
    else:
        ta_raw = _pick(ds, ("TA",), where=where)
        ta_meas = ta_raw if ta_raw is not None else ta.copy()
    rg = _pick(ds, ("SW_IN", "SW_IN_f"), required=True, what="global radiation SW_IN", where=where)
    rg_f = _pick(ds, ("SW_IN_f", "SW_IN"), where=where)
    vpd = _pick(ds, ("VPD_f", "VPD"), where=where)
    rh = _pick(ds, ("RH_f", "RH"), where=where)
    if vpd is None:
        vpd = np.zeros(n)
    if rh is None:
        rh = np.full(n, 70.0)
    # short driver gaps (not MDS-filled drivers such as RH): linear interpolation in time
    vpd = _interp_short(vpd)
    rh = _interp_short(rh)
    for name, arr in (("NEE_f", nee_f), ("TA", ta)):
        bad = np.isclose(arr, -9999.0)
        if bad.any():
            raise DataError(located(f"{name} contains the fill value -9999 ({int(bad.sum())} records)",
                                    where=where, fix="convert -9999 to NaN when loading"))
    step = float(ds.attrs.get("timestep_seconds", _step_seconds(ds)))
    rpd = int(round(86400.0 / step))
    potrad = potential_radiation_for(ds)
    day_counter = (np.arange(1, n + 1) // rpd).astype(np.int64)
    others = {}
    for v in ("TS", "SWC", "WS", "P"):
        a = _pick(ds, (f"{v}_f", v), where=where)
        if a is not None:
            others[v] = _interp_short(a)
    return Inputs(time=ds["time"].values, nee_f=nee_f, nee_meas=nee_meas, nee_sd=nee_sd, ta=ta, ta_meas=ta_meas,
                  rg=rg, rg_f=rg_f if rg_f is not None else rg, vpd=vpd, rh=rh, potrad=potrad,
                  day_counter=day_counter, rec_per_day=rpd, step_seconds=step, others=others,
                  attrs=dict(ds.attrs))


def _interp_short(a: np.ndarray, limit: int = 48) -> np.ndarray:
    """Fill runs of NaN up to ``limit`` records by linear interpolation (ends: nearest value)."""
    if np.isfinite(a).all() or not np.isfinite(a).any():
        return a
    return pd.Series(a).interpolate(limit=limit, limit_direction="both").to_numpy()


def flux_dataarray(values: np.ndarray, ds_or_time, name: str, long_name: str, method: str) -> xr.DataArray:
    """Half-hourly flux DataArray with units and the sign convention."""
    time = ds_or_time["time"].values if isinstance(ds_or_time, xr.Dataset) else ds_or_time
    attrs = {"units": FLUX_UNITS, "long_name": long_name, "method": method, "sign_convention": SIGN_CONVENTION}
    if isinstance(ds_or_time, xr.Dataset):
        attrs["timestep_seconds"] = float(ds_or_time.attrs.get("timestep_seconds", _step_seconds(ds_or_time)))
    return xr.DataArray(np.asarray(values, dtype=float), coords={"time": time}, dims="time", name=name, attrs=attrs)


def interpolate_at_records(n: int, rec: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of window values attached to records ``rec``; constant at the ends
    (REddyProc ``fInterpolateGaps``)."""
    ok = np.isfinite(values) & np.isfinite(rec)
    if not ok.any():
        return np.full(n, np.nan)
    r = rec[ok].astype(float)
    v = values[ok]
    order = np.argsort(r, kind="stable")
    r, v = r[order], v[order]
    r, first = np.unique(r, return_index=True)
    v = v[first]
    return np.interp(np.arange(n, dtype=float), r, v)


def neighbour_weights(n: int, centres: np.ndarray):
    """For each record: index (into ``centres``) of the previous and next window and linear weights
    (REddyProc ``.partGPAssociateSpecialRows``: weights ∝ 1 − distance/gap, 0.5/0.5 at and beyond
    the ends). Returns (i_before, i_after, w_before, w_after, distance_to_nearest [records])."""
    c = np.asarray(centres, dtype=float)
    rec = np.arange(n, dtype=float)
    ia = np.searchsorted(c, rec, side="left")  # first centre >= rec
    ia = np.clip(ia, 0, c.size - 1)
    ib = np.where(c[ia] > rec, ia - 1, ia)
    ib = np.clip(ib, 0, c.size - 1)
    at = c[ia] == rec
    ib = np.where(at, ia, ib)
    gap = c[ia] - c[ib]
    wa = np.where(gap > 0, (rec - c[ib]) / np.where(gap > 0, gap, 1), 0.5)
    wb = np.where(gap > 0, 1 - wa, 0.5)
    before_first = rec < c[0]
    after_last = rec > c[-1]
    ia = np.where(before_first, 0, ia)
    ib = np.where(before_first, 0, ib)
    ia = np.where(after_last, c.size - 1, ia)
    ib = np.where(after_last, c.size - 1, ib)
    wa = np.where(before_first | after_last, 0.5, wa)
    wb = np.where(before_first | after_last, 0.5, wb)
    dist = np.minimum(np.abs(rec - c[ib]), np.abs(c[ia] - rec))
    return ib, ia, wb, wa, dist


def as_result_info(**kw: Any) -> dict:
    return {k: (float(v) if isinstance(v, (np.floating, np.integer)) else v) for k, v in kw.items()}
