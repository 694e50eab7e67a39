"""Atmospheric CO2 inversion: regions, observing network, transport, synthesis inversion, EnSRF, demo twin.

Submodules
----------
regions    TransCom-3 22 regions and the China-nested 43-region system (our zoning, replaceable JSON).
network    Station and aircraft sampling (real coordinates, CTDAS model-data-mismatch classes).
transport  Reduced-complexity mass-conserving transport model (numba) and response functions.
inversion  Bayesian synthesis inversion (prior- and observation-space Cholesky forms), aggregation.
ensrf      Serial ensemble square-root filter (validated input) and the GCAS-like windowed two-step scheme.
satellite  XCO2 averaging-kernel operator, GOSAT/OCO-2 orbits and sampling, super-observations.
experiments  Honest OSSE over many draws (identical twin vs transport error), weekly multi-system EnSRF.
demo       Digital-twin atmosphere with known truth (OSSEs); demo generators of the data manifest.
io         Readers: ObsPack (read_obspack), CONTRAIL (read_contrail), ACOS Lite XCO2 (read/write_xco2_lite).
osse       Glue for the case experiments with the world's own prior.
plots      Figures of the nested-inversion chapter.
"""
from __future__ import annotations

import importlib

__all__ = ["demo", "ensrf", "experiments", "inversion", "io", "network", "osse", "plots", "regions", "satellite",
           "transport"]


def __getattr__(name: str):
    """Import submodules on first use (``landcarbon.atmosphere.osse``), so that importing the EnSRF alone
    does not pull in xarray/pandas (PEP 562)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
