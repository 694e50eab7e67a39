"""Atmospheric CO2 inversion: regions, observing network, transport, synthesis inversion, EnSRF, demo twin.

Submodules
----------
regions    TransCom-3 22 regions and the China-nested 43-region system (our zoning, replaceable JSON).
network    Station and aircraft sampling (real coordinates, CTDAS model-data-mismatch classes).
transport  Reduced-complexity mass-conserving transport model (numba) and response functions.
inversion  Bayesian synthesis inversion (prior- and observation-space Cholesky forms), aggregation.
ensrf      Serial ensemble square-root filter and the GCAS-like windowed two-step scheme.
demo       Digital-twin atmosphere with known truth (OSSEs); demo generators of the data manifest.
io         Readers: ObsPack (read_obspack), CONTRAIL (read_contrail), ACOS Lite XCO2 (read_xco2_lite).
osse       Glue for the observing-system experiments of the nested-inversion chapter.
"""
from __future__ import annotations

import importlib

__all__ = ["demo", "ensrf", "inversion", "io", "network", "osse", "regions", "satellite", "transport"]


def __getattr__(name: str):
    """Import submodules on first use (``landcarbon.atmosphere.osse``), so that importing the EnSRF alone
    does not pull in xarray/pandas (PEP 562)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
