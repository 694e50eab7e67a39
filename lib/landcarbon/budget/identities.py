"""Accounting identities of China's land carbon budget (Jiang et al. 2016, closure scheme) and pool sums.

Signs: sink = uptake positive [PgC yr-1]; lateral fluxes (river leaching, burial, export, trade, RCC
emissions) are positive magnitudes and each identity states the sign with which they enter.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError, located
from .combination import Estimate, _as_est, _identity, combine

__all__ = ["pool_table", "pool_sum", "rcc_unseen", "topdown_land_sink", "bottomup_land_sink",
           "net_ecosystem_production"]


def pool_table(ds, category: str, rule: str = "published"):
    """One row per pool of ``category`` ("vegetation" or "soil"): value and sigma [PgC yr-1].

    rule="published": the published average row of the pool (``kind == "average"``), else its single
    estimate. rule="mean_of_estimates": the arithmetic mean of the pool's source estimates
    (recomputed, unrounded), sigma taken from the published average (the paper's sigma rule per pool
    is not recoverable: half range, mean sigma and SD all occur).

    Returns
    -------
    pandas.DataFrame with columns pool, value, sigma, n_estimates, component.
    """
    import pandas as pd

    if rule not in ("published", "mean_of_estimates"):
        raise ConfigError(located(f"unknown pool rule {rule!r}", where="pool_table",
                                  fix="use 'published' or 'mean_of_estimates'"))
    sub = ds.where(ds["category"] == category, drop=True)
    if sub.sizes.get("component", 0) == 0:
        raise DataError(located(f"no rows of category {category!r}", where=ds.attrs.get("files", "budget table"),
                                fix="categories are vegetation, soil, bottom_up, river, trade, rcc, top_down, result"))
    rows = []
    pools = [p for p in dict.fromkeys(sub["pool"].values.tolist()) if p not in ("", "total")]
    for p in pools:
        q = sub.where(sub["pool"] == p, drop=True)
        kinds = q["kind"].values.tolist()
        est = q.where(q["kind"] == "estimate", drop=True)
        avg = q.where(q["kind"] == "average", drop=True)
        if avg.sizes.get("component", 0):
            a_val, a_sig, comp = float(avg["value_pgc"][0]), float(avg["sigma_pgc"][0]), str(avg["component"][0].values)
        else:
            a_val, a_sig, comp = float(est["value_pgc"][0]), float(est["sigma_pgc"][0]), str(est["component"][0].values)
        if rule == "mean_of_estimates" and est.sizes.get("component", 0):
            val = float(np.mean(est["value_pgc"].values))
        else:
            val = a_val
        rows.append({"pool": p, "value": val, "sigma": 0.0 if np.isnan(a_sig) else a_sig,
                     "n_estimates": int(sum(k == "estimate" for k in kinds)), "component": comp})
    return pd.DataFrame(rows)


def pool_sum(ds, category: str, *, mode: str = "linear", rule: str = "published") -> Estimate:
    """Carbon accumulation of all pools of ``category`` [PgC yr-1, uptake positive]: sum of
    :func:`pool_table` values, sigma by :func:`combine` (``mode``)."""
    t = pool_table(ds, category, rule=rule)
    return combine(t["value"], t["sigma"], mode=mode)



def rcc_unseen(emission, fraction_unseen: float) -> Estimate:
    r"""Part of a reduced-carbon-compound (VOC, CO, CH4) emission the inversion does not see [PgC yr-1].

    :math:`E_{unseen} = f\,E_{RCC}`. Jiang et al. (2016): 14 % is oxidised to CO2 inside China's
    boundary layer (seen), 74 % is exported and oxidised elsewhere (unseen); the remaining 12 %
    are not assigned in our sources (deposition is our reading). Positive magnitude.
    """
    e = _as_est(emission)
    if not 0.0 <= fraction_unseen <= 1.0:
        raise ConfigError(located(f"fraction_unseen must be in [0, 1], got {fraction_unseen}", where="rcc_unseen"))
    return Estimate(fraction_unseen * e.value, fraction_unseen * e.sigma)


def topdown_land_sink(inversion_sink, *, fossil_rcc_exported=0.0, fossil_rcc_deposited=0.0,
                      natural_rcc_exported=0.0, net_trade_import=0.0, unitemised_correction=0.0,
                      mode: str = "linear") -> Estimate:
    r"""Top-down land sink from an atmospheric inversion [PgC yr-1, uptake positive].

    .. math::  S_{TD} = F_{inv} - RCC^{ff}_{exp} - RCC^{ff}_{dep} - RCC^{nat}_{exp} + I_{trade}

    (Jiang et al. 2016, closure scheme: "land sink (top-down) = inverted sink − fossil RCC exported to
    the global atmosphere − fossil RCC deposited at the surface − natural RCC exported + net carbon
    import by international trade"). ``inversion_sink`` is the inversion's China land flux
    excluding fossil fuel and cement (uptake positive); the other terms are positive magnitudes
    [PgC yr-1]; each may be a float, ``(value, sigma)`` or :class:`Estimate`. Rivers do not appear:
    the land sink so defined includes carbon buried in inland waters or exported to the ocean.
    ``unitemised_correction`` (signed, added) carries the net of these terms when only their sum is
    known (our addition: the itemised RCC and trade magnitudes are not in our sources).
    """
    return _identity([(1, inversion_sink), (-1, fossil_rcc_exported), (-1, fossil_rcc_deposited),
                      (-1, natural_rcc_exported), (1, net_trade_import), (1, unitemised_correction)], mode)


def bottomup_land_sink(vegetation, soil, *, wood_products=0.0, burial=0.0, to_ocean=0.0,
                       mode: str = "linear") -> Estimate:
    r"""Bottom-up land sink from stock changes [PgC yr-1, uptake positive].

    .. math::  S_{BU} = \Delta C_{veg} + \Delta C_{soil} + \Delta C_{wood\,products} + B_{inland\,waters} + E_{ocean}

    (Jiang et al. 2016 closure scheme: vegetation and soil stock change + wood-product stock change +
    burial in river and lake beds + riverine export to the ocean). All terms [PgC yr-1]; stock
    gains positive.
    """
    return _identity([(1, vegetation), (1, soil), (1, wood_products), (1, burial), (1, to_ocean)], mode)


def net_ecosystem_production(land_sink, *, fire=0.0, inland_water_outgassing=0.0, natural_rcc_emission=0.0,
                             natural_rcc_deposition=0.0, mode: str = "linear") -> Estimate:
    r"""Net ecosystem production of China's ecosystems [PgC yr-1, uptake positive, NEP = −NEE].

    .. math::  NEP = S + F_{fire} + O_{inland\,waters} + RCC^{nat}_{emis} - RCC^{nat}_{dep}

    (Jiang et al. 2016 closure scheme: NEP = land sink + biomass-burning emission + river/lake CO2
    release + natural RCC emission − natural RCC deposition). Emissions are positive magnitudes.
    """
    return _identity([(1, land_sink), (1, fire), (1, inland_water_outgassing), (1, natural_rcc_emission),
                      (-1, natural_rcc_deposition)], mode)

