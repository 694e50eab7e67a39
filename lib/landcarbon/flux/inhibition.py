"""Apparent light inhibition of day-time respiration (Keenan et al. 2019) and the modified DT/NT.

Keenan T.F. et al. (2019) Widespread inhibition of daytime ecosystem respiration. Nature Ecology &
Evolution 3:407–415, doi:10.1038/s41559-019-0809-2.

Per DT window (E0 from night data): Rref_N = night-time reference respiration (regression with E0
fixed) and Rref_D = the light-response intercept rb from day-time data (both at Tref = 15 °C):

.. math:: Inhibition = (R_{ref,N} - R_{ref,D}) / R_{ref,N}

(> 0: day-time respiration suppressed). Windows with a failed or refitted LRC (qc > 0) or with
SD(Rref_D)/Rref_D > 0.5 are skipped. The modified DT method ("DT-LI"; REddyProc
``sTKFluxPartition``) uses Rref_D by day and Rref_N at night:
night RECO = LT(Rref_N(t), E0(t), T) with Rref_N and E0 interpolated linearly between window centres;
day RECO and GPP are the DT ones. The modified NT multiplies the NT day-time RECO by
(1 − Inhibition(t)) and sets GPP = RECO − NEE (not in REddyProc; our implementation of the paper's
description).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._common import PartitionResult, flux_dataarray, interpolate_at_records, prepare_inputs
from .respiration import TREF_DEGC
from .daytime import partition_dt
from .respiration import lloyd_taylor

__all__ = ["light_inhibition", "inhibition_by_period", "partition_dt_keenan", "partition_nt_keenan"]

_SEASON = {12: "DJF", 1: "DJF", 2: "DJF", 3: "MAM", 4: "MAM", 5: "MAM", 6: "JJA", 7: "JJA", 8: "JJA",
           9: "SON", 10: "SON", 11: "SON"}


def light_inhibition(dt: PartitionResult, *, max_rel_sd: float = 0.5) -> pd.DataFrame:
    """Per-window apparent inhibition (dimensionless; × 100 for %) from a DT result.

    Returns the DT window table rows that pass the filters with columns time, rref_night,
    rref_day (= rb), inhibition, month, season.
    """
    p = dt.params
    ok = (p.code == 0) & (p.qc == 0) & (p.rb_sd / p.rb <= max_rel_sd) & (p.rref_night > 0)
    out = p.loc[ok, ["time", "rec_mean", "rref_night", "rb", "rb_sd", "e0_night"]].rename(columns={"rb": "rref_day"})
    out["inhibition"] = (out.rref_night - out.rref_day) / out.rref_night
    t = pd.DatetimeIndex(out.time)
    out["month"] = t.month
    out["season"] = [_SEASON[m] for m in t.month]
    return out.reset_index(drop=True)


def inhibition_by_period(inh: pd.DataFrame, by: str = "season") -> pd.DataFrame:
    """Robust aggregation (median, 25 %, 75 %, n) of the per-window inhibition by month or season."""
    g = inh.groupby(by).inhibition
    return pd.DataFrame({"median": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75), "n": g.size()})


def partition_dt_keenan(ds: xr.Dataset, dt: PartitionResult | None = None, *,
                        tref_degc: float = TREF_DEGC) -> PartitionResult:
    """Modified DT with day-time Rref by day and night-time Rref at night (Keenan et al. 2019).

    Returns
    -------
    PartitionResult (method "DT-LI")
        GPP as DT; RECO [umol CO2 m-2 s-1] = DT RECO by day (potential radiation > 0 and Rg > 4)
        and LT(Rref_N(t), E0(t), T) at night (NEE > 0 release, NEE = RECO − GPP);
        ``info['inhibition']`` = the per-window table of :func:`light_inhibition`.
    """
    inp = prepare_inputs(ds, where=f"site {ds.attrs.get('site', '?')} (DT-LI)")
    dt = partition_dt(ds) if dt is None else dt
    p = dt.params
    n = inp.nee_f.size
    rec = p.rec_mean.fillna(p.rec_centre).to_numpy(float)
    rref_n = interpolate_at_records(n, rec, p.rref_night.to_numpy(float))
    e0 = interpolate_at_records(n, rec, p.e0_night.to_numpy(float))
    reco_night = lloyd_taylor(inp.ta, rref_n, e0, tref_degc=tref_degc)
    rg = np.where(np.isfinite(inp.rg_f), inp.rg_f, inp.rg)
    day = (inp.potrad > 0) & (np.nan_to_num(rg) > 4.0)
    reco = np.where(day, dt.reco.values, reco_night)
    inh = light_inhibition(dt)
    return PartitionResult(
        method="DT-LI",
        gpp=flux_dataarray(dt.gpp.values, ds, "GPP", "gross primary production (DT, Keenan et al. 2019)", "DT-LI"),
        reco=flux_dataarray(reco, ds, "RECO", "ecosystem respiration (DT with night Rref at night, Keenan 2019)",
                            "DT-LI"),
        params=p, info={"inhibition": inh, "inhibition_by_season": inhibition_by_period(inh)},
        extra={"RREF_NIGHT": xr.DataArray(rref_n, coords={"time": ds["time"].values}, dims="time",
                                          attrs={"units": "umol m-2 s-1", "tref_degC": tref_degc})},
    )


def partition_nt_keenan(ds: xr.Dataset, nt: PartitionResult, dt: PartitionResult) -> PartitionResult:
    """Modified NT: day-time NT RECO × (1 − Inhibition(t)), GPP = RECO − NEE_f (Keenan et al. 2019 Methods).

    Inhibition(t) is interpolated linearly between the window times of :func:`light_inhibition`.
    """
    inp = prepare_inputs(ds)
    inh = light_inhibition(dt)
    i_t = interpolate_at_records(inp.nee_f.size, inh.rec_mean.to_numpy(float), inh.inhibition.to_numpy(float))
    i_t = np.nan_to_num(i_t)
    day = inp.potrad > 0
    reco = np.where(day, nt.reco.values * (1.0 - i_t), nt.reco.values)
    gpp = reco - inp.nee_f
    return PartitionResult(method="NT-LI",
                           gpp=flux_dataarray(gpp, ds, "GPP", "gross primary production (NT, Keenan 2019)", "NT-LI"),
                           reco=flux_dataarray(reco, ds, "RECO", "ecosystem respiration (NT, Keenan 2019)", "NT-LI"),
                           params=nt.params, info={"inhibition": inh})
