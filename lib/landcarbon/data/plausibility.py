"""Physical plausibility ranges of observed variables, checked by every loader of real files.

Real files carry sentinels that are not the documented missing value (``1e30``, ``inf``, ``-6999``),
unit mix-ups (mol/mol read as ppm: 1e30 mol/mol becomes 2.5e35 ppm) and truncated or entirely empty
columns. Loaders call :func:`check_plausible` on what they read, so such values are either refused with a
message naming the file, the variable, the first bad record and the fix, or — when the caller asks —
masked (set to NaN) and counted.

The ranges are deliberately generous *physical* limits (our formulation), not quality-control
thresholds: a value outside them cannot be a measurement of that quantity in that unit. They are keyed by
standard variable name and canonical unit (:func:`landcarbon.units.normalise_unit`); a user overrides
them per call (``ranges={"TA": (-80, 60)}``) or globally by editing :data:`PLAUSIBLE_RANGES`.

===========  ===============  ==================  =========================================================
variable     unit             range               why
===========  ===============  ==================  =========================================================
NEE/GPP/RECO umol m-2 s-1     −100 … 100          largest half-hourly fluxes reported ≈ ±70 (crops, C4)
NEE/GPP/RECO gC m-2 d-1       −100 … 100          daily sums; same physical bound (×1.04 gC/µmol·d)
TA           degC             −80 … 60            world records −89 / +57 °C (air); towers never beyond
TS           degC             −60 … 80            bare soil surfaces reach ≈ 70 °C
SW_IN        W m-2            −50 … 1500          solar constant 1361; small negatives are sensor offsets
PPFD_IN      umol m-2 s-1     −50 … 3000
VPD          hPa              −5 … 150            small negatives from RH > 100 %; 120 hPa desert extremes
RH           %                −5 … 110
USTAR        m s-1            0 … 10              REddyProc's DE-Tha 1998 example holds sonic spikes up to 8 m s-1
WS           m s-1            0 … 75
SWC          %                0 … 100
P            mm (per record)  0 … 500
co2          ppm              150 … 2000          background air 280–430; polluted towers < 1000
xco2         ppm              300 … 600
===========  ===============  ==================  =========================================================
"""
from __future__ import annotations

from typing import Literal, Mapping

import numpy as np

from ..errors import DataError, located
from ..units import normalise_unit

__all__ = ["PLAUSIBLE_RANGES", "plausible_range", "check_plausible", "check_not_empty"]

#: (variable, canonical unit) -> (lowest, highest) physically possible value.
PLAUSIBLE_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    **{(v, "umol m-2 s-1"): (-100.0, 100.0) for v in ("NEE", "GPP", "RECO", "FC")},
    **{(v, "gC m-2 d-1"): (-100.0, 100.0) for v in ("NEE", "GPP", "RECO")},
    ("TA", "degC"): (-80.0, 60.0),
    ("TS", "degC"): (-60.0, 80.0),
    ("SW_IN", "W m-2"): (-50.0, 1500.0),
    ("PPFD_IN", "umol m-2 s-1"): (-50.0, 3000.0),
    ("VPD", "hPa"): (-5.0, 150.0),
    ("RH", "%"): (-5.0, 110.0),
    ("USTAR", "m s-1"): (0.0, 10.0),
    ("WS", "m s-1"): (0.0, 75.0),
    ("SWC", "%"): (0.0, 100.0),
    ("P", "mm"): (0.0, 500.0),
    ("co2", "ppm"): (150.0, 2000.0),
    ("xco2", "ppm"): (300.0, 600.0),
}


def plausible_range(variable: str, units: str | None) -> tuple[float, float] | None:
    """The (low, high) range for ``variable`` in ``units``, or ``None`` when none is defined."""
    return PLAUSIBLE_RANGES.get((variable, normalise_unit(units)))


def _label(index, coord) -> str:
    if coord is None:
        return f"record {index}"
    try:
        return f"record {index} ({coord[index]})"
    except Exception:  # noqa: BLE001 - the label is best effort
        return f"record {index}"


def check_plausible(ds, *, where: str, ranges: Mapping[str, tuple[float, float]] | None = None,
                    action: Literal["raise", "mask"] = "raise", variables=None):
    """Refuse (or mask) non-finite and physically impossible values of an :class:`xarray.Dataset`.

    Parameters
    ----------
    ds : xarray.Dataset
        Variables with ``units`` attributes (standard names, e.g. NEE, TA, co2).
    where : str
        The file (and anything else) to name in an error message.
    ranges : mapping, optional
        Per-variable overrides ``{name: (low, high)}`` in the variable's own units.
    action : {"raise", "mask"}
        ``"raise"``: :class:`DataError` at the first variable with an impossible value. ``"mask"``: set
        such values to NaN and record their number in the variable's ``n_masked_implausible`` attribute.
    variables : iterable of str, optional
        Restrict the check to these variables (default: all with a known range, plus ±inf everywhere).

    Returns
    -------
    The dataset (a copy when values were masked).
    """
    ranges = dict(ranges or {})
    names = list(variables) if variables is not None else list(ds.data_vars)
    out = ds
    for name in names:
        if name not in ds or not np.issubdtype(ds[name].dtype, np.number):
            continue
        da = ds[name]
        lo_hi = ranges.get(name) or plausible_range(name, da.attrs.get("units"))
        vals = np.asarray(da.values, dtype=float)
        bad = np.isinf(vals)
        if lo_hi is not None:
            with np.errstate(invalid="ignore"):
                bad |= (vals < lo_hi[0]) | (vals > lo_hi[1])
        n_bad = int(bad.sum())
        if not n_bad:
            continue
        if action == "raise":
            flat = int(np.flatnonzero(bad.ravel())[0])
            idx = np.unravel_index(flat, bad.shape)
            coord = None
            if da.ndim == 1 and da.dims[0] in ds.coords:
                coord = ds[da.dims[0]].values
            label = _label(idx[0] if da.ndim == 1 else idx, coord)
            rng = f"[{lo_hi[0]}, {lo_hi[1]}] {da.attrs.get('units', '')}" if lo_hi else "finite values"
            raise DataError(located(
                f"variable {name!r} has {n_bad} value(s) outside the physically plausible range {rng}; "
                f"first: {vals.ravel()[flat]!r} at {label}",
                where=where,
                fix="check the file's units and missing-value code (FLUXNET uses -9999); to keep the file, "
                    "pass action='mask' (bad values become NaN) or ranges={'%s': (low, high)}" % name))
        if out is ds:
            out = ds.copy()
        out[name] = da.where(~bad)
        out[name].attrs = {**da.attrs, "n_masked_implausible": n_bad}
    return out


def check_not_empty(ds, required, *, where: str) -> None:
    """Raise :class:`DataError` when a required variable is absent or has no finite value at all."""
    for name in required:
        if name not in ds:
            raise DataError(located(f"required variable {name!r} is missing", where=where,
                                    fix="check the column names of the file"))
        vals = np.asarray(ds[name].values, dtype=float) if np.issubdtype(ds[name].dtype, np.number) else None
        if vals is not None and not np.isfinite(vals).any():
            raise DataError(located(f"required variable {name!r} has no valid value (all missing)", where=where,
                                    fix="the column is empty or entirely the missing-value code; use a file with data"))
