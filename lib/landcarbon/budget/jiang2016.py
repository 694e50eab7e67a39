"""Reconstruction of the China land-sink budget of Jiang et al. (2016, Sci. Rep. 6, 22130,
doi:10.1038/srep22130) from the literature table, under one stated set of rules.

The paper's full text and SI were not available: each number's rule is a reconstruction, and the
reproduction table says which published numbers the rules reproduce and which they do not.
"""
from __future__ import annotations

from typing import Mapping

from ..publish.reporting import format_value, round_half_up
from .combination import Estimate, combine, implied_residual, inverse_variance_mean, mean_of_estimates
from .identities import net_ecosystem_production, pool_sum, topdown_land_sink
from .io import SOURCE_LABEL, get

__all__ = ["CLOSURE_RULE", "TRADE_READING", "TRADE_UNPLACED", "land_sink_conventions", "reproduce_jiang2016",
           "reproduction_table", "indicators"]


def land_sink_conventions(topdown: Estimate, bottomup_value: float, bottomup_sigmas: Mapping[str, float]):
    """Closure estimate (top-down with bottom-up) under several combination rules.

    Parameters
    ----------
    topdown : Estimate
        Top-down land sink (value, sigma) [PgC yr-1].
    bottomup_value : float
        Bottom-up land sink [PgC yr-1].
    bottomup_sigmas : mapping label -> sigma
        Candidate bottom-up sigmas (e.g. vegetation+soil only, + inland-water burial, ...).

    Returns
    -------
    pandas.DataFrame: one row per (bottom-up sigma, rule) with value and sigma.
    """
    import pandas as pd

    rows = []
    for label, sbu in bottomup_sigmas.items():
        vals, sigs = [topdown.value, bottomup_value], [topdown.sigma, sbu]
        lin = mean_of_estimates(vals, sigs, "linear")
        quad = mean_of_estimates(vals, sigs, "quadrature")
        ivw = inverse_variance_mean(vals, sigs)
        for rule, e in (("arithmetic mean, linear sigma", lin), ("arithmetic mean, quadrature sigma", quad),
                        ("inverse-variance mean", ivw),
                        ("arithmetic mean, inverse-variance sigma", Estimate(lin.value, ivw.sigma))):
            rows.append({"bottom-up sigma": label, "sigma_BU": sbu, "rule": rule, "value": e.value, "sigma": e.sigma})
    return pd.DataFrame(rows)



#: The closure rule of this chapter (one rule for value and sigma).
CLOSURE_RULE = ("inverse-variance weighted mean of the top-down and bottom-up land sinks (value and sigma: "
                "the maximum-likelihood combination of two independent estimates)")
#: Our reading of the trade / wood-product diagram (TgC yr-1): which number sits on which arrow. The study's
#: arrow labels were only partly transcribed ("import", "harvest"); the rest is our reading and is marked so.
TRADE_READING = {
    "trade_slide_19a": ("rest of world", "products in China", "import (1st number)"),
    "trade_slide_12": ("rest of world", "products in China", "import (2nd number)"),
    "trade_slide_6": ("products in China", "rest of world", "export"),
    "trade_slide_25": (None, None, "net import = 19 + 12 − 6"),
    "trade_harvest_10": ("ecosystems", "products in China", "harvest"),
}
#: Trade-diagram numbers whose role we cannot recover (listed on the figure, not placed on an arrow).
TRADE_UNPLACED = ("trade_import_19", "trade_slide_5", "trade_slide_7", "trade_slide_1", "trade_slide_95")


def reproduce_jiang2016(ds, *, inversion: Estimate | None = None) -> dict:
    """Headline numbers of Jiang et al. (2016) recomputed from the table under one stated set of rules.

    Rules (our formulation where the paper's text was not available): pool sums with linear error
    addition; top-down land sink = inversion + net trade import (our reading of the trade diagram,
    :data:`TRADE_READING`) − exported reduced carbon compounds, whose magnitude is not in our sources and is
    therefore *implied* by the published 0.35 (the top-down value is then not a reproduction); closure land
    sink by :data:`CLOSURE_RULE`; NEP = closure land sink + carbon leached to rivers, linear errors.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`read_budget_table` output.
    inversion : Estimate, optional
        Inversion land sink (case 3 by default: ``inv_case3`` = 0.45 ± 0.25 PgC yr-1) — e.g. from
        :func:`read_inversion_land_sink`.

    Returns
    -------
    dict name -> {"estimate": Estimate, "published": Estimate | None, "convention": str}
        Keys: vegetation, vegetation_pools, soil, veg_soil, topdown_inversion, trade_import, rcc_implied,
        lateral_correction, topdown, bottomup, land_sink, land_sink_arithmetic, nep, nep_slide_residual.
        All PgC yr-1, uptake positive.
    """
    def pub(cid):
        return get(ds, cid)

    out: dict = {}
    veg_pub, soil_pub = pub("veg_subtotal"), pub("soil_subtotal")
    veg_pools = pool_sum(ds, "vegetation", mode="linear", rule="mean_of_estimates")
    out["vegetation_pools"] = {"estimate": veg_pools, "published": veg_pub,
                               "convention": "sum of the transcribed pool values (mean of estimates), sigma linear; "
                                             "sigma reproduced, mean 0.009 short of the published subtotal"}
    out["vegetation"] = {"estimate": Estimate(veg_pub.value, veg_pools.sigma), "published": veg_pub,
                         "convention": "published subtotal 0.175; sigma = linear sum of pool sigmas "
                                       f"({veg_pools.sigma:.4f}); quadrature would give "
                                       f"{pool_sum(ds, 'vegetation', mode='quadrature').sigma:.3f}"}
    soil = pool_sum(ds, "soil", mode="linear", rule="mean_of_estimates")
    out["soil"] = {"estimate": soil, "published": soil_pub,
                   "convention": "sum of pool means of the source estimates, sigma linear (quadrature: "
                                 f"{pool_sum(ds, 'soil', mode='quadrature').sigma:.3f})"}
    vs = combine([veg_pub.value, soil_pub.value], [veg_pub.sigma, soil_pub.sigma], mode="linear")
    out["veg_soil"] = {"estimate": vs, "published": pub("bottomup_veg_soil"),
                       "convention": "vegetation + soil subtotals, sigma linear (quadrature: "
                                     f"{combine([0, 0], [veg_pub.sigma, soil_pub.sigma], mode='quadrature').sigma:.3f})"}
    inv = inversion if inversion is not None else pub("inv_case3")
    lo, hi = pub("inv_range_low").value, pub("inv_range_high").value
    out["topdown_inversion"] = {"estimate": inv, "published": pub("inv_case3"),
                                "convention": ("inversion chapter's china_land_sink" if inversion is not None else
                                               f"case 3 as published (= midpoint of the two systems' range "
                                               f"{lo:.2f}-{hi:.2f}: {0.5 * (lo + hi):.2f})")}
    trade = get(ds, "trade_slide_25")
    out["trade_import"] = {"estimate": Estimate(trade.value, 0.0), "published": None,
                           "convention": "net import of wood and food carbon, our reading of the trade diagram "
                                         "(19 + 12 − 6 = 25 TgC/yr; no sigma published)"}
    td_pub = pub("result_topdown_lateral")
    rcc = pub("inv_case3").value + trade.value - td_pub.value
    f_exp = get(ds, "rcc_frac_exported").value
    out["rcc_implied"] = {"estimate": Estimate(rcc, 0.0), "published": None,
                          "convention": f"exported reduced carbon compounds implied by the published 0.35 "
                                        f"({rcc * 1000:.0f} TgC/yr; with {f_exp:.0%} exported this means RCC "
                                        f"emissions of {rcc / f_exp * 1000:.0f} TgC/yr) — not in our sources"}
    out["lateral_correction"] = {"estimate": Estimate(trade.value - rcc, 0.0), "published": None,
                                 "convention": "net trade import − implied exported RCC (implied by the published "
                                               "numbers, not an independent estimate)"}
    td = topdown_land_sink(inv, natural_rcc_exported=Estimate(rcc, 0.0), net_trade_import=Estimate(trade.value, 0.0))
    out["topdown"] = {"estimate": td, "published": td_pub,
                      "convention": "top-down identity; the RCC term is implied by the published value, so this "
                                    "row is not a reproduction (sigma = the inversion's)"}
    bu = pub("result_bottomup")
    out["bottomup"] = {"estimate": bu, "published": bu,
                       "convention": "published bottom-up land sink (its non-vegetation/soil terms are not "
                                     "itemised in our sources)"}
    burial = get(ds, "river_burial")
    sbu = combine([0, 0, 0], [veg_pub.sigma, soil_pub.sigma, burial.sigma], mode="linear").sigma
    out["bottomup_closure"] = {"estimate": Estimate(bu.value, sbu), "published": bu,
                               "convention": "published bottom-up land sink with the sigma the closure uses "
                                             "(vegetation + soil + inland-water burial, linear)"}
    land = inverse_variance_mean([td.value, bu.value], [td.sigma, sbu])
    out["land_sink"] = {"estimate": land, "published": pub("result_land_sink"),
                        "convention": f"{CLOSURE_RULE}; sigma_TD = {td.sigma:.2f}, sigma_BU = {sbu:.3f} (vegetation + "
                                      "soil + inland-water burial, linear)"}
    arith = mean_of_estimates([td.value, bu.value], [td.sigma, sbu], mode="quadrature")
    out["land_sink_arithmetic"] = {"estimate": arith, "published": pub("result_land_sink"),
                                   "convention": "alternative: arithmetic mean (the published 0.34) with the sigma "
                                                 f"of a mean of independent estimates ({arith.sigma:.3f}; linear: "
                                                 f"{mean_of_estimates([td.value, bu.value], [td.sigma, sbu]).sigma:.3f})"}
    leaching = get(ds, "river_leaching")
    nep = combine([land.value, leaching.value], [land.sigma, leaching.sigma], mode="linear")
    out["nep"] = {"estimate": nep, "published": pub("result_nep"),
                  "convention": "closure land sink + all carbon leached to rivers (105 ± 50 TgC/yr), sigma linear "
                                f"(quadrature: {combine([0, 0], [land.sigma, leaching.sigma], mode='quadrature').sigma:.3f})"}
    slide_known = net_ecosystem_production(land, inland_water_outgassing=get(ds, "river_outgassing"))
    out["nep_slide_residual"] = {
        "estimate": implied_residual(pub("result_nep"), [land, get(ds, "river_outgassing")], mode="linear"),
        "published": None,
        "convention": "the study's NEP identity: fire + natural RCC (emission − deposition) implied by NEP 0.46 ± 0.16 "
                      f"given land sink and outgassing (known part {slide_known.value:.3f} ± {slide_known.sigma:.3f})"}
    return out


def indicators(rep: dict, *, inversion_source: str | None = None) -> dict:
    """The chapter's indicators. A number taken as published carries the source label
    ``literature:china-budget-jiang2016``; one computed here from those numbers (a sum, an identity, the
    closure, a sigma by our convention) carries ``derived:china-budget-jiang2016``; the top-down sink carries
    the inversion chapter's source when it comes from there."""
    from ..publish.reporting import Indicator

    derived = "derived:" + SOURCE_LABEL.partition(":")[2]

    def ind(key, desc, source=derived):
        e = rep[key]["estimate"]
        return Indicator(value=e.value, sigma=e.sigma, units="PgC yr-1", description=desc, source=source)

    return {
        "china_sink_topdown": ind("topdown_inversion", "China land sink from the atmospheric inversion ("
                                  + rep["topdown_inversion"]["convention"] + ")", inversion_source or SOURCE_LABEL),
        "china_sink_bottomup": ind("veg_soil", "Bottom-up vegetation + soil carbon accumulation, errors added linearly"),
        "china_sink_topdown_lateral": ind("topdown", "Top-down land sink after lateral fluxes (inversion + net "
                                          "trade import − exported reduced carbon compounds): "
                                          + rep["topdown"]["convention"]),
        "china_sink_bottomup_lateral": ind("bottomup_closure", "Bottom-up land sink after lateral fluxes: "
                                           + rep["bottomup_closure"]["convention"]),
        "china_land_sink": ind("land_sink", "Closed land sink: " + rep["land_sink"]["convention"]),
        "china_nep": ind("nep", "Net ecosystem production: " + rep["nep"]["convention"]),
        "vegetation_sink": ind("vegetation", "Vegetation carbon accumulation: " + rep["vegetation"]["convention"]),
        "soil_sink": ind("soil", "Soil carbon accumulation: " + rep["soil"]["convention"]),
    }


_RECAP = (("vegetation_pools", "vegetation (pools as transcribed)", 3), ("vegetation", "vegetation subtotal", 3),
          ("soil", "soil subtotal", 3), ("veg_soil", "vegetation + soil (bottom-up)", 2),
          ("topdown_inversion", "top-down inversion (case 3)", 2), ("topdown", "top-down land sink", 2),
          ("land_sink", "land sink (closure rule)", 2), ("land_sink_arithmetic", "land sink (arithmetic mean)", 2),
          ("nep", "NEP", 2))


#: Reader-facing names of the steps of :func:`reproduce_jiang2016` (keys of its result).
QUANTITY_LABELS = {key: label for key, label, _ in _RECAP} | {
    "trade_import": "net import of wood and food carbon (trade)",
    "rcc_implied": "exported reduced carbon compounds (implied)",
    "lateral_correction": "lateral correction (trade − exported RCC)",
    "bottomup": "bottom-up land sink (published)", "bottomup_closure": "bottom-up land sink (closure σ)",
    "nep_slide_residual": "fire + natural RCC (emission − deposition), implied",
}


def steps_table(rep: dict, keys, digits: int = 3):
    """The steps ``keys`` of :func:`reproduce_jiang2016` as a reader's table: quantity (from
    :data:`QUANTITY_LABELS`), value ± 1σ [PgC yr⁻¹, uptake > 0] and the convention used."""
    import pandas as pd

    return pd.DataFrame([{"quantity": QUANTITY_LABELS.get(k, k), "value": rep[k]["estimate"].format(digits),
                          "convention": rep[k]["convention"]} for k in keys])


def reproduction_table(rep: dict, input_rounding: float = 0.0015):
    """Published vs reproduced numbers with a verdict and the convention used.

    Verdict: ``"yes"`` when the reproduced value and sigma print as the published ones (half-up at the
    paper's precision); ``"within input rounding"`` when they differ by at most ``input_rounding``
    PgC yr-1 (e.g. three inputs each rounded to 0.001); ``"NO"`` otherwise.
    """
    import pandas as pd

    rows = []
    for key, label, nd in _RECAP:
        e, p = rep[key]["estimate"], rep[key]["published"]
        if p is None:
            continue
        dv = abs(e.value - p.value)
        ds_ = abs(e.sigma - p.sigma) if p.sigma > 0 else 0.0
        exact = round_half_up(e.value, nd) == round_half_up(p.value, nd) and (
            p.sigma == 0 or round_half_up(e.sigma, nd) == round_half_up(p.sigma, nd))
        verdict = "yes" if exact else ("within input rounding" if max(dv, ds_) <= input_rounding + 1e-12 else "NO")
        if key == "topdown":
            verdict = "by construction (RCC implied)"
        rows.append({"quantity": label,
                     "published": format_value(p.value, p.sigma, digits=nd) if p.sigma > 0 else f"{round_half_up(p.value, nd):.{nd}f}",
                     "reproduced": format_value(e.value, e.sigma, digits=nd), "reproduced?": verdict, "convention": rep[key]["convention"]})
    return pd.DataFrame(rows)
