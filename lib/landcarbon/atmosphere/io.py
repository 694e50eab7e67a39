"""Readers for atmospheric CO2 observations: ObsPack/GLOBALVIEWplus, CONTRAIL, ACOS Lite XCO2.

* ObsPack (Masarie et al. 2014, doi:10.5194/essd-6-375-2014; GLOBALVIEWplus, Schuldt et al. 2021):
  one netCDF per record, dimension ``obs``, variables ``time`` (seconds since 1970-01-01), ``value``
  (mol mol-1), optional ``value_unc``, ``qcflag``, and ``latitude``/``longitude``/``altitude`` [m a.s.l.];
  global attribute ``site_code``. :func:`read_obspack` returns monthly means with uncertainties.
* CONTRAIL (Machida et al. 2008, doi:10.1175/2008JTECHA1082.1): whitespace/CSV text with a header row
  (date/time, lat, lon, alt [m], co2 [ppm]) or ObsPack aircraft netCDF; :func:`read_contrail` returns
  the individual samples, :func:`aircraft_monthly_profiles` bins them into monthly profiles near airports.
* ACOS Level-2 Lite (GOSAT, OCO-2; O'Dell et al. 2018, doi:10.5194/amt-11-6539-2018): netCDF4 with
  dimension ``sounding_id`` and ``xco2``, ``xco2_uncertainty``, ``latitude``, ``longitude``, ``time``
  (seconds since 1970-01-01), ``xco2_quality_flag`` (0 = good), and on dimension ``levels`` (20, space
  to surface) the averaging-kernel operator fields; :func:`write_xco2_lite` writes the same layout.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, UnitsError, located
from ..units import convert, normalise_unit
from .network import FREE_TROPOSPHERE_ALT_M, MDM_PPM

__all__ = ["read_obspack", "read_contrail", "read_xco2_lite", "write_xco2_lite", "aircraft_monthly_profiles"]

_FILL_LIMIT = -900.0  # ObsPack/CONTRAIL fill values are -999.99, -9999, ...


def _ppm_factor(units: str, where: str) -> float:
    u = (units or "").strip().lower().replace("^", "")
    if u in ("mol mol-1", "mol/mol", "mol mol-1 (dry air)", "1"):
        return 1e6
    if u in ("ppm", "umol mol-1", "micromol mol-1", "µmol mol-1", "ppmv"):
        return 1.0
    raise UnitsError(located(f"unknown CO2 units {units!r}", where=where,
                             fix="expected 'mol mol-1' (ObsPack) or 'ppm'"))


def _open(path: Path) -> xr.Dataset:
    try:
        return xr.open_dataset(path, decode_times=False, mask_and_scale=True)
    except (OSError, ValueError) as exc:
        raise DataError(located(f"cannot read netCDF file ({exc})", where=str(path),
                                fix="check that the file is complete (re-download) and is netCDF")) from exc


def _seconds_to_time(sec, where):
    sec = np.asarray(sec, dtype="float64")
    if np.any(~np.isfinite(sec)):
        raise DataError(located("time contains missing values", where=where))
    return pd.to_datetime(sec, unit="s", origin="unix")


def _require(ds, names, where):
    miss = [n for n in names if n not in ds.variables]
    if miss:
        raise DataError(located(f"variable(s) {miss} missing", where=where,
                                fix="give an ObsPack/ACOS file with the standard variable names"))


def read_obspack(paths, min_per_month: int = 1, apply_qc: bool = True) -> xr.Dataset:
    """Monthly-mean CO2 records from ObsPack netCDF files (one file per site record).

    Parameters
    ----------
    paths : list of path-like
    min_per_month : int
        Months with fewer valid samples are NaN.
    apply_qc : bool
        Keep only samples whose ``qcflag`` starts with '.' (ObsPack: passed), when present.

    Returns
    -------
    xr.Dataset dims (site, time) [time = month start]: ``co2`` [ppm], ``co2_sigma`` [ppm] (standard
    error of the monthly mean, combined with the mean reported ``value_unc``; falls back to the
    'mixed' model-data-mismatch class when a month has a single sample without uncertainty),
    ``co2_n``; coords latitude, longitude, altitude [m], level (0 = boundary layer; 1 above 2000 m).
    """
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if not paths:
        raise DataError(located("no ObsPack files given", where="read_obspack"))
    recs = []
    for p in paths:
        with _open(p) as ds:
            _require(ds, ["time", "value", "latitude", "longitude"], str(p))
            fac = _ppm_factor(ds["value"].attrs.get("units", "mol mol-1"), f"{p}: value")
            t = _seconds_to_time(ds["time"].values, f"{p}: time")
            v = ds["value"].values.astype(float) * fac
            v[~np.isfinite(v) | (v <= 0)] = np.nan
            unc = ds["value_unc"].values.astype(float) * fac if "value_unc" in ds else np.full(v.shape, np.nan)
            unc[unc < 0] = np.nan
            if apply_qc and "qcflag" in ds:
                q = ds["qcflag"].values
                if q.dtype.kind in "SU":
                    qs = np.char.decode(q, "ascii") if q.dtype.kind == "S" else q
                    if qs.ndim == 2:
                        qs = np.array(["".join(r) for r in qs])
                    ok = np.array([s[:1] in (".", "") for s in qs])
                else:
                    ok = q == 0
                v[~ok] = np.nan
            code = ds.attrs.get("site_code") or re.sub(r"^co2_", "", p.stem).split("_")[0]
            lat = float(np.nanmedian(ds["latitude"].values))
            lon = float(np.nanmedian(ds["longitude"].values))
            alt = float(np.nanmedian(ds["altitude"].values)) if "altitude" in ds else float(ds.attrs.get("site_elevation", 0.0))
        df = pd.DataFrame({"v": v, "u": unc}, index=t).dropna(subset=["v"])
        if df.empty:
            raise DataError(located("no valid CO2 values (all missing or flagged)", where=str(p),
                                    fix="check qcflag/fill values or use apply_qc=False"))
        g = df.groupby(df.index.to_period("M"))
        mean = g["v"].mean()
        n = g["v"].count()
        se = (g["v"].std(ddof=1) / np.sqrt(n)).fillna(np.nan)
        u_mean = np.sqrt((g["u"].apply(lambda x: np.nanmean(x ** 2) if x.notna().any() else np.nan)) / n)
        sig = np.sqrt(np.nan_to_num(se.values) ** 2 + np.nan_to_num(u_mean.values) ** 2)
        sig[(sig == 0)] = MDM_PPM["mixed"]
        s = pd.DataFrame({"co2": mean.values, "co2_sigma": sig, "co2_n": n.values},
                         index=mean.index.to_timestamp())
        s.loc[s["co2_n"] < min_per_month, ["co2", "co2_sigma"]] = np.nan
        recs.append((code.upper(), lat, lon, alt, s))
    codes = [r[0] for r in recs]
    if len(set(codes)) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise DataError(located(f"several files for site(s) {dup}", where="read_obspack",
                                fix="pass one record per site (e.g. only the surface-flask or the in-situ file)"))
    time = pd.DatetimeIndex(sorted(set().union(*[set(r[4].index) for r in recs])))
    arrs = {k: np.full((len(recs), len(time)), np.nan) for k in ("co2", "co2_sigma", "co2_n")}
    for i, r in enumerate(recs):
        s = r[4].reindex(time)
        for k in arrs:
            arrs[k][i] = s[k].values
    alt = np.array([r[3] for r in recs])
    return xr.Dataset(
        {"co2": (("site", "time"), arrs["co2"], {"units": "ppm", "long_name": "monthly-mean CO2 dry-air mole fraction"}),
         "co2_sigma": (("site", "time"), arrs["co2_sigma"], {"units": "ppm", "long_name": "1-sigma of the monthly mean"}),
         "co2_n": (("site", "time"), np.nan_to_num(arrs["co2_n"]).astype(int), {"long_name": "samples per month"})},
        coords={"site": codes, "time": time,
                "latitude": ("site", [r[1] for r in recs], {"units": "degrees_north"}),
                "longitude": ("site", [r[2] for r in recs], {"units": "degrees_east"}),
                "altitude": ("site", alt, {"units": "m"}),
                "level": ("site", (alt >= FREE_TROPOSPHERE_ALT_M).astype(int)),
                "network": ("site", ["global"] * len(recs)), "kind": ("site", ["station"] * len(recs))},
        attrs={"title": "ObsPack CO2 monthly means (landcarbon.atmosphere.io.read_obspack)"})


_TEXT_ALIASES = {"lat": "latitude", "latitude": "latitude", "lon": "longitude", "longitude": "longitude",
                 "alt": "altitude", "altitude": "altitude", "alt_m": "altitude", "gps_alt": "altitude",
                 "co2": "co2", "co2_ppm": "co2", "xco2": "co2"}


def read_contrail(paths) -> xr.Dataset:
    """CONTRAIL (CME) aircraft CO2 samples from text tables or ObsPack aircraft netCDF.

    Text layout: '#' comment lines, then a header row; columns (case-insensitive) either ``datetime``
    (ISO 8601, UTC) or ``year month day hour minute [second]``, plus ``lat``, ``lon``, ``alt`` [m] and
    ``co2`` [ppm]; separators: whitespace or comma; CR/LF line endings accepted; fill values <= -900.

    Returns xr.Dataset dim (obs,): ``co2`` [ppm], coords time, latitude, longitude, altitude [m].
    """
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    frames = []
    for p in paths:
        if p.suffix in (".nc", ".nc4"):
            with _open(p) as ds:
                _require(ds, ["time", "value", "latitude", "longitude", "altitude"], str(p))
                fac = _ppm_factor(ds["value"].attrs.get("units", "mol mol-1"), f"{p}: value")
                frames.append(pd.DataFrame({"time": _seconds_to_time(ds["time"].values, str(p)),
                                            "latitude": ds["latitude"].values, "longitude": ds["longitude"].values,
                                            "altitude": ds["altitude"].values,
                                            "co2": ds["value"].values.astype(float) * fac}))
            continue
        try:
            text = p.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(located(f"cannot read text file ({exc})", where=str(p))) from exc
        lines = [ln for ln in text.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
        if len(lines) < 2:
            raise DataError(located("no data rows", where=str(p), fix="the file needs a header row and data rows"))
        sep = "," if "," in lines[0] else None
        header = [h.strip().lower() for h in (lines[0].split(sep) if sep else lines[0].split())]
        rows = [(ln.split(sep) if sep else ln.split()) for ln in lines[1:]]
        bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
        if bad:
            raise DataError(located(f"row has {len(rows[bad[0]])} fields, header has {len(header)}",
                                    where=f"{p}, data row {bad[0] + 1}", fix="repair the truncated/malformed line"))
        df = pd.DataFrame(rows, columns=header)
        out = pd.DataFrame()
        try:
            if "datetime" in df:
                out["time"] = pd.to_datetime(df["datetime"].str.strip(), utc=True).dt.tz_convert(None)
            elif {"year", "month", "day"}.issubset(df.columns):
                comp = {k: pd.to_numeric(df[k]) for k in ("year", "month", "day", "hour", "minute", "second")
                        if k in df}
                out["time"] = pd.to_datetime(pd.DataFrame(comp))
            else:
                raise DataError(located("no time columns (datetime or year/month/day)", where=str(p),
                                        fix="add a 'datetime' column in ISO format"))
        except (ValueError, TypeError) as exc:
            raise DataError(located(f"cannot parse times ({exc})", where=f"{p}: time columns")) from exc
        for col in df.columns:
            std = _TEXT_ALIASES.get(col)
            if std:
                vals = pd.to_numeric(df[col], errors="coerce").astype(float)
                if vals.isna().any():
                    i = int(np.flatnonzero(vals.isna().values)[0])
                    raise DataError(located(f"non-numeric value {df[col].iloc[i]!r}", where=f"{p}, column {col}, data row {i + 1}"))
                out[std] = vals
        miss = {"latitude", "longitude", "altitude", "co2"} - set(out.columns)
        if miss:
            raise DataError(located(f"column(s) {sorted(miss)} missing", where=str(p),
                                    fix="header needs lat, lon, alt (m) and co2 (ppm)"))
        frames.append(out)
    df = pd.concat(frames, ignore_index=True)
    df.loc[df["co2"] <= _FILL_LIMIT, "co2"] = np.nan
    df = df.dropna(subset=["co2"]).sort_values("time").reset_index(drop=True)
    return xr.Dataset({"co2": ("obs", df["co2"].values, {"units": "ppm"})},
                      coords={"time": ("obs", df["time"].values),
                              "latitude": ("obs", df["latitude"].values, {"units": "degrees_north"}),
                              "longitude": ("obs", df["longitude"].values, {"units": "degrees_east"}),
                              "altitude": ("obs", df["altitude"].values, {"units": "m"})},
                      attrs={"title": "CONTRAIL aircraft CO2 samples (landcarbon.atmosphere.io.read_contrail)"})


def aircraft_monthly_profiles(samples: xr.Dataset, airports: pd.DataFrame, radius_km: float = 300.0,
                              level_top_m=(1500.0, 5500.0, 13000.0)) -> xr.Dataset:
    """Monthly-mean profiles near airports: samples within ``radius_km`` binned into model levels.

    Returns the (site, time) layout of :func:`read_obspack` with sites ``<code>_L<level>`` and kind
    'profile'; sigma = standard error of the mean combined with the 'aircraft' MDM class floor.
    """
    from .ensrf import great_circle_km

    rows = []
    for _, a in airports.iterrows():
        d = great_circle_km(samples["latitude"].values, samples["longitude"].values, a["lat"], a["lon"])
        near = d <= radius_km
        lev = np.searchsorted(np.asarray(level_top_m), samples["altitude"].values)
        for k in range(len(level_top_m)):
            m = near & (lev == k)
            if not m.any():
                continue
            s = pd.Series(samples["co2"].values[m], index=pd.DatetimeIndex(samples["time"].values[m]))
            g = s.groupby(s.index.to_period("M"))
            rows.append((f"{a['code']}_L{k}", a["lat"], a["lon"], k, g.mean(), g.count(), g.std(ddof=1)))
    if not rows:
        raise DataError(located("no aircraft samples near the airports", where="aircraft_monthly_profiles",
                                fix="increase radius_km or check coordinates"))
    time = pd.DatetimeIndex(sorted(set().union(*[set(r[4].index.to_timestamp()) for r in rows])))
    co2 = np.full((len(rows), len(time)), np.nan)
    sig = np.full_like(co2, np.nan)
    for i, r in enumerate(rows):
        mean = r[4].copy(); mean.index = mean.index.to_timestamp()
        se = (r[6] / np.sqrt(r[5])).fillna(0.0); se.index = se.index.to_timestamp()
        co2[i] = mean.reindex(time).values
        sig[i] = np.sqrt(se.reindex(time).values ** 2 + MDM_PPM["aircraft"] ** 2)
    return xr.Dataset({"co2": (("site", "time"), co2, {"units": "ppm"}),
                       "co2_sigma": (("site", "time"), sig, {"units": "ppm"})},
                      coords={"site": [r[0] for r in rows], "time": time,
                              "latitude": ("site", [r[1] for r in rows]), "longitude": ("site", [r[2] for r in rows]),
                              "level": ("site", [r[3] for r in rows]), "network": ("site", ["aircraft"] * len(rows)),
                              "kind": ("site", ["profile"] * len(rows))})


_LITE_PROFILES = ("pressure_levels", "pressure_weight", "xco2_averaging_kernel", "co2_profile_apriori")
_LITE_FILL = -999998.0   # ACOS Lite fill value is -999999 (attribute missing_value)


def _lite_profile(ds, name, p, flip):
    a = ds[name].values.astype(float)
    if a.ndim != 2:
        raise DataError(located(f"{name} must be (sounding_id, levels), got {ds[name].dims}", where=f"{p}: {name}"))
    a = np.where(a <= _LITE_FILL, np.nan, a)
    return a[:, ::-1] if flip else a


def read_xco2_lite(paths, good_only: bool = True) -> xr.Dataset:
    """XCO2 soundings from ACOS Level-2 Lite netCDF4 files (GOSAT or OCO-2), with their averaging kernels.

    Reads the root variables ``xco2``, ``xco2_uncertainty``, ``xco2_quality_flag`` (0 = good),
    ``latitude``, ``longitude``, ``time`` (seconds since 1970-01-01) and, when present, the operator fields
    ``xco2_apriori`` [ppm], ``pressure_levels`` [hPa; Pa accepted], ``pressure_weight`` [1],
    ``xco2_averaging_kernel`` [1] and ``co2_profile_apriori`` [ppm; mol mol-1 accepted] on dimension
    ``levels`` (O'Dell et al. 2018; the modelled XCO2 is :func:`landcarbon.atmosphere.satellite.xco2_operator`).

    Checks: levels are oriented space to surface as in the Lite files (a file with the surface first is
    flipped, recorded in ``attrs["levels_flipped"]``); pressure strictly increasing; pressure weights sum
    to 1 (within 1e-3) and kernels finite. Soundings with fill values (-999999) in any field are dropped.

    Returns
    -------
    xr.Dataset dim (sounding,) [and (sounding, level), level 0 = top of the atmosphere]: ``xco2``,
    ``xco2_uncertainty`` [ppm], ``xco2_quality_flag`` and, if in the files, ``xco2_apriori``,
    ``pressure_levels`` [hPa], ``pressure_weight``, ``xco2_averaging_kernel``, ``co2_profile_apriori`` [ppm];
    coords time, latitude, longitude.
    """
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    parts, profs, flipped = [], [], False
    for p in paths:
        with _open(p) as ds:
            need = ["xco2", "xco2_uncertainty", "latitude", "longitude", "time", "xco2_quality_flag"]
            _require(ds, need, str(p))
            fac = _ppm_factor(ds["xco2"].attrs.get("units", "ppm"), f"{p}: xco2")
            x = ds["xco2"].values.astype(float) * fac
            u = ds["xco2_uncertainty"].values.astype(float) * fac
            q = ds["xco2_quality_flag"].values.astype(int)
            la = ds["latitude"].values.astype(float)
            lo = ds["longitude"].values.astype(float)
            t = _seconds_to_time(ds["time"].values, f"{p}: time")
            has = [v for v in _LITE_PROFILES if v in ds.variables]
            if has and set(has) != set(_LITE_PROFILES):
                raise DataError(located(f"operator fields incomplete: {sorted(set(_LITE_PROFILES) - set(has))} "
                                        "missing", where=str(p),
                                        fix="a Lite file has all of pressure_levels, pressure_weight, "
                                            "xco2_averaging_kernel and co2_profile_apriori"))
            prof = None
            if has:
                _require(ds, ["xco2_apriori"], str(p))
                plev = ds["pressure_levels"].values.astype(float)
                plev = np.where(plev <= _LITE_FILL, np.nan, plev)
                punits = ds["pressure_levels"].attrs.get("units", "hPa")
                if normalise_unit(punits) not in ("hPa", "Pa"):
                    raise UnitsError(located(f"unknown pressure units {punits!r}", where=f"{p}: pressure_levels",
                                             fix="expected 'hPa' (Lite files) or 'Pa'"))
                plev = np.asarray(convert(plev, normalise_unit(punits), "hPa", where=f"{p}: pressure_levels"))
                finite_rows = np.all(np.isfinite(plev), axis=1)
                flip = bool(np.any(finite_rows) and np.nanmedian(plev[finite_rows, 0] - plev[finite_rows, -1]) > 0)
                flipped |= flip
                plev = plev[:, ::-1] if flip else plev
                cfac = _ppm_factor(ds["co2_profile_apriori"].attrs.get("units", "ppm"), f"{p}: co2_profile_apriori")
                prof = {"pressure_levels": plev,
                        "pressure_weight": _lite_profile(ds, "pressure_weight", p, flip),
                        "xco2_averaging_kernel": _lite_profile(ds, "xco2_averaging_kernel", p, flip),
                        "co2_profile_apriori": _lite_profile(ds, "co2_profile_apriori", p, flip) * cfac,
                        "xco2_apriori": np.where(ds["xco2_apriori"].values <= _LITE_FILL, np.nan,
                                                 ds["xco2_apriori"].values.astype(float)) * fac}
        if np.any((np.abs(la) > 90) | (np.abs(lo) > 180)):
            raise DataError(located("latitude/longitude out of range", where=str(p)))
        ok = np.isfinite(x) & (x > 0) & ((q == 0) if good_only else True)
        if prof is not None:
            for k, v in prof.items():
                ok &= np.all(np.isfinite(v), axis=1) if v.ndim == 2 else np.isfinite(v)
            good = ok & np.all(np.isfinite(prof["pressure_levels"]), axis=1)
            if np.any(np.diff(prof["pressure_levels"][good], axis=1) <= 0):
                bad = int(np.flatnonzero(good)[np.flatnonzero(np.any(np.diff(prof["pressure_levels"][good], axis=1) <= 0,
                                                                     axis=1))[0]])
                raise DataError(located("pressure levels are not strictly monotonic", where=f"{p}: sounding {bad}",
                                        fix="pressure_levels must run from space to the surface"))
            sums = prof["pressure_weight"][ok].sum(axis=1)
            if np.any(np.abs(sums - 1) > 1e-3):
                bad = int(np.flatnonzero(ok)[np.flatnonzero(np.abs(sums - 1) > 1e-3)[0]])
                raise DataError(located(f"pressure weights sum to {sums[np.abs(sums - 1) > 1e-3][0]:.4f}, not 1",
                                        where=f"{p}: pressure_weight, sounding {bad}",
                                        fix="check that pressure_weight is the Lite pressure weighting function"))
            profs.append({k: v[ok] for k, v in prof.items()})
        elif profs:
            raise DataError(located("some files carry averaging kernels and others not", where=str(p),
                                    fix="read Lite files of one product version together"))
        parts.append(pd.DataFrame({"time": t[ok], "latitude": la[ok], "longitude": lo[ok], "xco2": x[ok],
                                   "xco2_uncertainty": u[ok], "xco2_quality_flag": q[ok]}))
    df = pd.concat(parts, ignore_index=True)
    order = np.argsort(df["time"].values, kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    data = {"xco2": ("sounding", df["xco2"].values, {"units": "ppm"}),
            "xco2_uncertainty": ("sounding", df["xco2_uncertainty"].values, {"units": "ppm"}),
            "xco2_quality_flag": ("sounding", df["xco2_quality_flag"].values.astype(np.int8))}
    if profs:
        cat = {k: np.concatenate([d[k] for d in profs])[order] for k in profs[0]}
        data["xco2_apriori"] = ("sounding", cat.pop("xco2_apriori"), {"units": "ppm"})
        units = {"pressure_levels": "hPa", "pressure_weight": "1", "xco2_averaging_kernel": "1",
                 "co2_profile_apriori": "ppm"}
        for k, v in cat.items():
            data[k] = (("sounding", "level"), v, {"units": units[k]})
    return xr.Dataset(data,
                      coords={"time": ("sounding", df["time"].values),
                              "latitude": ("sounding", df["latitude"].values),
                              "longitude": ("sounding", df["longitude"].values)},
                      attrs={"title": "ACOS Lite XCO2 soundings (landcarbon.atmosphere.io.read_xco2_lite)",
                             "levels": "space to surface (Lite convention)", "levels_flipped": int(flipped)})


def write_xco2_lite(ds: xr.Dataset, path) -> Path:
    """Write soundings in the ACOS Lite layout (netCDF4; dims ``sounding_id``, ``levels``; fill -999999).

    ``ds`` as returned by :func:`read_xco2_lite` (or :func:`landcarbon.atmosphere.demo.demo_xco2`). Time
    is written as seconds since 1970-01-01, as in the Lite files. Atomic (temporary file, then rename).
    """
    from ..publish.atomic import atomic_path

    t = (pd.DatetimeIndex(ds["time"].values) - pd.Timestamp("1970-01-01")).total_seconds().values
    out = xr.Dataset(attrs={"title": "ACOS L2 Lite Output (layout written by landcarbon)"})
    fill = {"missing_value": -999999.0}
    out["time"] = ("sounding_id", t, {"units": "seconds since 1970-01-01 00:00:00"})
    for v, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        out[v] = ("sounding_id", ds[v].values.astype("float32"), {"units": units})
    for v in ("xco2", "xco2_uncertainty", "xco2_apriori"):
        if v in ds:
            out[v] = ("sounding_id", ds[v].values.astype("float32"), {"units": "ppm", **fill})
    out["xco2_quality_flag"] = ("sounding_id", ds["xco2_quality_flag"].values.astype("int8"))
    units = {"pressure_levels": "hPa", "pressure_weight": "1", "xco2_averaging_kernel": "1",
             "co2_profile_apriori": "ppm"}
    for v in _LITE_PROFILES:
        if v in ds:
            out[v] = (("sounding_id", "levels"), ds[v].values.astype("float32"), {"units": units[v], **fill})
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, format="NETCDF4", encoding={v: {"_FillValue": None} for v in out.variables})
    return Path(path)
