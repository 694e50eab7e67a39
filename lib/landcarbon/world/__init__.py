"""Gridded world: loaders of monthly climate grids and flux-site tables (CRU TS, ERA5, FLUXNET2015),
the demo world with a known true ecosystem respiration, and grid helpers.

Submodules are imported lazily: ``landcarbon.world.io``, ``landcarbon.world.demo``,
``landcarbon.world.grid``.
"""
from __future__ import annotations

__all__ = ["io", "demo", "grid"]
