"""Shared plumbing of the partitioning methods: inputs, masks, windows, results.

Input convention of every ``partition_*`` function (an ``xarray.Dataset`` on the standard site time
axis of :mod:`landcarbon.flux.io`; time stamp = END of the interval, local standard time):

=============  ======================================================================================
``NEE_f``      gap-filled NEE [umol m-2 s-1] (falls back to ``NEE`` when absent)
``NEE_fqc``    0 where NEE was measured and kept (u*-filtered, not gap-filled); >0 = gap filled.
               Absent: records with finite ``NEE`` count as measured.
``NEE_fsd``    MDS fill SD [umol m-2 s-1] (σ of the day-time fit). Absent: estimated as the MDS
               similar-condition spread of the measured NEE (:func:`estimate_nee_sd`; REddyProc
               ``FillAll``); records without an estimate get σ = max(0.7, 0.2 |NEE|) (REddyProc).
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

    def annual_sums(self, *, min_coverage: float = 0.95, on_low: str = "raise") -> dict:
        """Totals [gC m-2 per period, per year for a site-year] of GPP and RECO as :class:`FluxSum`
        (coverage attached; see :func:`flux_sum`)."""
        return {"GPP": flux_sum(self.gpp, min_coverage=min_coverage, on_low=on_low, where=f"{self.method} GPP"),
                "RECO": flux_sum(self.reco, min_coverage=min_coverage, on_low=on_low, where=f"{self.method} RECO")}


class FluxSum(float):
    """A flux total [gC m-2] that carries its coverage (a float with extra attributes).

    Attributes
    ----------
    coverage : float
        Share [0–1] of the records of the calendar period (whole calendar years spanned by the time
        axis; the series length when there is no time axis) that hold a finite value.
    n_valid, n_expected : int
        Finite records and records of the calendar period.
    flagged : bool
        True when ``coverage`` is below the ``min_coverage`` the sum was computed with.
    """

    coverage: float
    n_valid: int
    n_expected: int
    flagged: bool

    def __new__(cls, value, coverage, n_valid, n_expected, flagged):
        obj = super().__new__(cls, value)
        obj.coverage, obj.n_valid, obj.n_expected, obj.flagged = float(coverage), int(n_valid), int(n_expected), bool(flagged)
        return obj

    def __reduce__(self):
        return (FluxSum, (float(self), self.coverage, self.n_valid, self.n_expected, self.flagged))


def _expected_records(time: np.ndarray, step_seconds: float, label: str = "end") -> int:
    """Records in the calendar years spanned by ``time`` (interval stamps labelled ``label``)."""
    t = pd.DatetimeIndex(time)
    if label == "end":
        t = t - pd.Timedelta(seconds=1)
    years = np.unique(t.year)
    secs = sum((pd.Timestamp(int(y) + 1, 1, 1) - pd.Timestamp(int(y), 1, 1)).total_seconds() for y in years)
    return int(round(secs / step_seconds))


def flux_sum(flux: xr.DataArray | np.ndarray, step_seconds: float | None = None, *, min_coverage: float = 0.95,
             on_low: str = "raise", where: str = "flux_sum") -> FluxSum:
    """Total of a flux [µmol CO2 m-2 s-1] over all records in gC m-2, with its coverage.

    Missing records are skipped (REddyProc convention), so a sum over a partial or un-gap-filled
    year would be too small without a word; the coverage (finite records / records of the calendar
    years spanned, :class:`FluxSum`) comes with every sum. Below ``min_coverage`` the sum is refused
    (``on_low="raise"``: :class:`~landcarbon.errors.DataError`), returned flagged (``"flag"``:
    ``.flagged = True``) or returned as NaN (``"nan"``).

    Parameters
    ----------
    flux : DataArray (with ``time``) or array
        Flux per record [µmol CO2 m-2 s-1] (NEE > 0 release, GPP and RECO ≥ 0).
    step_seconds : float, optional
        Record length [s]; default from ``attrs['timestep_seconds']`` or the time axis (else 1800).
    min_coverage : float
        Least coverage [0–1] of an accepted sum (default 0.95).

    Returns
    -------
    FluxSum [gC m-2] (a float) with ``coverage``, ``n_valid``, ``n_expected``, ``flagged``.
    """
    from ..units import umol_m2_s_to_gC_m2_per_step

    has_time = isinstance(flux, xr.DataArray) and "time" in flux.coords and flux.sizes.get("time", 0) > 1
    if step_seconds is None:
        step_seconds = getattr(flux, "attrs", {}).get("timestep_seconds")
        if step_seconds is None and has_time:
            step_seconds = float(np.median(np.diff(flux["time"].values).astype("timedelta64[s]").astype(float)))
        step_seconds = float(step_seconds or 1800.0)
    v = np.asarray(flux, dtype=float)
    n_valid = int(np.isfinite(v).sum())
    n_exp = _expected_records(flux["time"].values, step_seconds, flux.attrs.get("time_label", "end")) if has_time \
        else int(v.size)
    cov = n_valid / max(n_exp, 1)
    total = float(np.nansum(umol_m2_s_to_gC_m2_per_step(v, step_seconds)))
    low = cov < min_coverage
    if low and on_low == "raise":
        raise DataError(located(f"only {100 * cov:.1f} % of the records of the period are finite "
                                f"({n_valid} of {n_exp}); the sum would be too small by the missing share",
                                where=where, fix="gap-fill the series first, or pass min_coverage=... / "
                                                 "on_low='flag' to accept a partial sum knowingly"))
    if low and on_low == "nan":
        total = float("nan")
    return FluxSum(total, cov, n_valid, n_exp, low)


def annual_sum(flux: xr.DataArray | np.ndarray, step_seconds: float | None = None, **kw) -> FluxSum:
    """Old name of :func:`flux_sum` (same contract); kept so that user code keeps working."""
    return flux_sum(flux, step_seconds, **kw)


def sums_by_year(flux: xr.DataArray, *, min_coverage: float = 0.0) -> pd.DataFrame:
    """Calendar-year totals [gC m-2 yr-1] of a flux [µmol CO2 m-2 s-1] with their coverage.

    Records are assigned to the year of their interval (end stamps minus 1 s). Returns a DataFrame
    indexed by year with columns ``sum``, ``coverage``, ``n_valid``, ``n_expected``, ``flagged``.
    """
    t = pd.DatetimeIndex(flux["time"].values) - pd.Timedelta(seconds=1)
    rows = {}
    for y in np.unique(t.year):
        sub = flux.isel(time=np.flatnonzero(t.year == y))
        s = flux_sum(sub, min_coverage=min_coverage, on_low="flag")
        rows[int(y)] = {"sum": float(s), "coverage": s.coverage, "n_valid": s.n_valid, "n_expected": s.n_expected,
                        "flagged": s.flagged}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("year")


# ---------------------------------------------------------------------------------------------
# potential radiation (one implementation: landcarbon.flux.solar)
# ---------------------------------------------------------------------------------------------
def potential_radiation_for(ds: xr.Dataset) -> np.ndarray:
    """Potential radiation [W m-2] at the middle of each interval (``SW_IN_POT`` if present)."""
    if "SW_IN_POT" in ds:
        return np.asarray(ds["SW_IN_POT"].values, dtype=float)
    for key in ("lat", "lon"):
        v = ds.attrs.get(key)
        try:
            ok = v is not None and np.isfinite(float(v))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(located(f"attrs['{key}'] is {v!r}: a finite site {key} is needed for potential radiation",
                                    where=f"site {ds.attrs.get('site', '?')}",
                                    fix="read the file with lat=..., lon=... (loaders also take them from the file's "
                                        "Latitude/Longitude attributes or variables), or add SW_IN_POT"))
    from .solar import potential_radiation

    step = float(ds.attrs.get("timestep_seconds", _step_seconds(ds)))
    lat, lon = float(ds.attrs["lat"]), float(ds.attrs["lon"])
    off = ds.attrs.get("utc_offset_hours")
    off = float(off) if off is not None and np.isfinite(float(off)) else float(round(lon / 15.0))
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
        nee_sd = estimate_nee_sd(ds, nee_meas)
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
    # humidity: one from the other through landcarbon.meteo (Alduchov & Eskridge 1996)
    from ..meteo import rh_from_vpd, vpd_from_rh

    if vpd is None and rh is not None:
        vpd = np.asarray(vpd_from_rh(ta, rh), dtype=float)
    if rh is None and vpd is not None:
        rh = np.asarray(rh_from_vpd(ta, vpd), dtype=float)
    if vpd is None:  # neither: VPD below VPD0 (no limitation), RH undefined (DT-RH refuses, see dtrh)
        vpd = np.zeros(n)
        rh = np.full(n, np.nan)
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


def estimate_nee_sd(ds: xr.Dataset, nee_meas: np.ndarray | None = None) -> np.ndarray:
    """Random error σ [µmol m-2 s-1] of NEE where the dataset has no ``NEE_fsd``.

    The SD of the measured NEE under similar conditions (radiation, VPD, air temperature within the
    MDS tolerances, ±7 to ±70 days; the MDS look-up of :func:`landcarbon.flux.gapfill.mds_gapfill`
    with ``fill_all=True``), which is how REddyProc obtains σ for the day-time fit (Reichstein et al.
    2005; Lasslop et al. 2008, doi:10.5194/bg-5-1311-2008: the error SD grows with the flux, which
    the similar-condition spread captures). Returns NaN where no similar records exist.
    """
    from .gapfill import mds_gapfill

    nee = np.asarray(nee_meas if nee_meas is not None else ds["NEE"].values, dtype=float)
    tmp = xr.Dataset({"NEE": ("time", nee, {"units": FLUX_UNITS})}, coords={"time": ds["time"].values},
                     attrs={"timestep_seconds": ds.attrs.get("timestep_seconds", _step_seconds(ds))})
    for v in ("SW_IN", "VPD", "TA"):
        for cand in (f"{v}_f", v):
            if cand in ds:
                tmp[v] = ("time", np.asarray(ds[cand].values, dtype=float))
                break
    return np.asarray(mds_gapfill(tmp, "NEE", fill_all=True)["NEE_fsd"].values, dtype=float).copy()


def window_layout(n: int, rec_per_day: int, *, win_days: int = 4, stride_days: int = 2) -> pd.DataFrame:
    """Windows of ``win_days`` moved by ``stride_days`` over ``n`` records (REddyProc ``applyWindows``).

    Columns: start_day (0-based), rec_start, rec_end (exclusive), rec_centre. Shared by the
    day-time methods (DT, DT-RH, Keenan).
    """
    nday = int(np.ceil(n / rec_per_day))
    starts = np.arange(0, max(nday - win_days // 2, 1), stride_days)
    rs = starts * rec_per_day
    re_ = np.minimum((starts + win_days) * rec_per_day, n)
    centre = np.minimum(rs + win_days * rec_per_day // 2, n - 1)
    return pd.DataFrame({"start_day": starts, "rec_start": rs, "rec_end": re_, "rec_centre": centre})


def day_night_masks(rg_wm2: np.ndarray, potrad: np.ndarray, *, threshold: float = 4.0):
    """(day, night) masks of the day-time methods from measured Rg [W m-2] and potential radiation:
    day = Rg > threshold and potential radiation > 0; night = Rg <= threshold and potential radiation
    <= 0 (REddyProc ``partGLExtractStandardData``); missing Rg is neither."""
    rg = np.asarray(rg_wm2, float)
    fin = np.isfinite(rg)
    day = fin & (rg > threshold) & (potrad > 0)
    night = fin & (rg <= threshold) & (potrad <= 0)
    return day, night


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
