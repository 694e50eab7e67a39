"""Observing network: surface stations (GLOBALVIEW/ObsPack-like, CMA regional) and aircraft sampling.

The station list (``data/embedded/atmosphere/stations.csv``) holds real coordinates (NOAA/ObsPack
site metadata, provenance ``V``; others recalled from WMO-GAW/WDCGG, ``R``).
Aircraft sampling (``aircraft_routes.csv``) is OUR design after CONTRAIL (Machida et al. 2008,
doi:10.1175/2008JTECHA1082.1): vertical profiles over airports plus upper-level cruise points.

Model-data mismatch (MDM) classes and values follow CTDAS ``sites_and_weights_ctdas.rc``
(van der Laan-Luijkx et al. 2017, doi:10.5194/gmd-10-2785-2017).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, located

__all__ = ["MDM_PPM", "read_stations", "read_aircraft_routes", "observation_points", "NETWORKS"]

#: CTDAS model-data mismatch classes [ppm] (1-sigma, monthly-mean use here).
MDM_PPM = {"mbl": 0.75, "deepSH": 0.75, "mixed": 1.5, "aircraft": 2.0, "land": 2.5, "tower": 3.0,
           "problem": 7.5}

#: Observing-system cases of the OSSE: 1 global stations; 2 + CMA stations; 3 + aircraft.
NETWORKS = {"case1": ("global",), "case2": ("global", "cma"), "case3": ("global", "cma", "aircraft")}

FREE_TROPOSPHERE_ALT_M = 2000.0


def _embedded(name: str) -> Path:
    return Path(str(resources.files("landcarbon.data").joinpath("embedded", "atmosphere", name)))


def read_stations(path=None) -> pd.DataFrame:
    """Station table (code, name, lat, lon, alt_m, intake_m, network, mdm_class, mdm_ppm, provenance)."""
    p = Path(path) if path else _embedded("stations.csv")
    try:
        df = pd.read_csv(p, comment="#")
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(located(f"cannot read station table ({exc})", where=str(p))) from exc
    need = {"code", "lat", "lon", "alt_m", "network", "mdm_class"}
    miss = need - set(df.columns)
    if miss:
        raise DataError(located(f"station table lacks columns {sorted(miss)}", where=str(p),
                                fix="use the header of the shipped stations.csv"))
    bad = ~df["mdm_class"].isin(MDM_PPM.keys())
    if bad.any():
        raise DataError(located(f"unknown MDM class {df.loc[bad, 'mdm_class'].iloc[0]!r}",
                                where=f"{p}: row {int(np.flatnonzero(bad)[0]) + 2}",
                                fix=f"use one of {sorted(MDM_PPM)}"))
    if ((df["lat"].abs() > 90) | (df["lon"].abs() > 180)).any():
        raise DataError(located("station coordinates out of range", where=str(p)))
    df["mdm_ppm"] = df["mdm_class"].map(MDM_PPM)
    return df


def read_aircraft_routes(path=None) -> pd.DataFrame:
    """Aircraft sampling table (code, name, kind=profile|cruise, lat, lon, lat2, lon2, n_points)."""
    p = Path(path) if path else _embedded("aircraft_routes.csv")
    df = pd.read_csv(p, comment="#")
    if not set(df["kind"]).issubset({"profile", "cruise"}):
        raise DataError(located("aircraft kind must be 'profile' or 'cruise'", where=str(p)))
    return df


def observation_points(network=("global", "cma", "aircraft"), n_levels: int = 3, stations=None,
                       routes=None) -> pd.DataFrame:
    """Sampling points of a network: one row per (station) or (aircraft profile level / cruise point).

    Columns: id, network, lat, lon, level (model level index: 0 = boundary layer; mountain stations
    above 2000 m a.s.l. sample level 1; cruise points the top level), mdm_ppm, kind.
    """
    if isinstance(network, str):
        network = NETWORKS.get(network, (network,))
    unknown = set(network) - {"global", "cma", "aircraft"}
    if unknown:
        raise ConfigError(located(f"unknown network part(s) {sorted(unknown)}", where="observation_points",
                                  fix="use 'global', 'cma', 'aircraft' or case1/case2/case3"))
    rows = []
    st = read_stations() if stations is None else stations
    for _, s in st[st["network"].isin(network)].iterrows():
        lev = 1 if (s["alt_m"] >= FREE_TROPOSPHERE_ALT_M and n_levels > 1) else 0
        rows.append(dict(id=s["code"], network=s["network"], lat=s["lat"], lon=s["lon"], level=lev,
                         mdm_ppm=s["mdm_ppm"], kind="station"))
    if "aircraft" in network:
        ac = read_aircraft_routes() if routes is None else routes
        for _, a in ac.iterrows():
            if a["kind"] == "profile":
                for lev in range(n_levels):
                    rows.append(dict(id=f"{a['code']}_L{lev}", network="aircraft", lat=a["lat"], lon=a["lon"],
                                     level=lev, mdm_ppm=MDM_PPM["aircraft"], kind="profile"))
            else:
                n = int(a["n_points"])
                f = (np.arange(n) + 0.5) / n
                for q, fr in enumerate(f):
                    rows.append(dict(id=f"{a['code']}_P{q}", network="aircraft",
                                     lat=a["lat"] + fr * (a["lat2"] - a["lat"]),
                                     lon=a["lon"] + fr * (a["lon2"] - a["lon"]), level=n_levels - 1,
                                     mdm_ppm=MDM_PPM["aircraft"], kind="cruise"))
    return pd.DataFrame(rows)
