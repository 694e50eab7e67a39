"""Gross primary production from space: light-use efficiency (MOD17, VPM/EC-LUE) with a seasonal
ε_max fitted to flux towers, and the semi-mechanistic SIF → electron transport → GPP chain with χ and Γ*
from the P-model; a GPP digital twin with known truth; loaders of MOD15A2H FPAR and TROPOSIF files.

Submodules: ``lue``, ``emax_fit``, ``pmodel``, ``sif``, ``demo``, ``io``.
"""
from __future__ import annotations

__all__ = ["lue", "emax_fit", "pmodel", "sif", "demo", "io"]
