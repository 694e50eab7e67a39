"""Sensitivity of the closure to the conventions the paper does not state (bottom-up definition, rule)."""
from __future__ import annotations

from .combination import Estimate, combine, inverse_variance_mean, mean_of_estimates
from .identities import net_ecosystem_production
from .io import get

__all__ = ["closure_sensitivity", "nep_sensitivity"]


def closure_sensitivity(ds, topdown: Estimate | None = None):
    """Land sink (closure of top-down and bottom-up) under alternative bottom-up definitions and rules.

    Bottom-up variants: the published 0.33 with sigmas from different term sets (linear or
    quadrature), and bottom-up sums rebuilt from the table with or without inland waters
    (lake/reservoir burial, riverine export to the ocean). Rules: arithmetic mean with linear or
    quadrature sigma, inverse-variance mean, arithmetic mean with inverse-variance sigma.
    All values PgC yr-1, uptake positive. Our formulation (the paper's rule is not recoverable).

    Returns
    -------
    pandas.DataFrame with columns variant, includes_inland_waters, BU, sigma_BU, rule, value, sigma.
    """
    import pandas as pd

    from .jiang2016 import reproduce_jiang2016

    rep = reproduce_jiang2016(ds) if topdown is None else None
    td = topdown if topdown is not None else rep["topdown"]["estimate"]
    if td.sigma <= 0:
        td = Estimate(td.value, get(ds, "inv_case3").sigma)
    veg, soil = get(ds, "veg_subtotal"), get(ds, "soil_subtotal")
    burial, ocean = get(ds, "river_burial"), get(ds, "river_to_ocean")
    bu_pub = get(ds, "result_bottomup").value

    def bu(terms, mode):
        return combine([t.value for t in terms], [t.sigma for t in terms], mode=mode)

    variants = [
        ("published 0.33, sigma: veg+soil+burial (linear)", True, bu_pub, bu([veg, soil, burial], "linear").sigma),
        ("published 0.33, sigma: veg+soil (linear)", False, bu_pub, bu([veg, soil], "linear").sigma),
        ("published 0.33, sigma: veg+soil+burial+ocean (linear)", True, bu_pub,
         bu([veg, soil, burial, ocean], "linear").sigma),
        ("published 0.33, sigma: veg+soil+burial (quadrature)", True, bu_pub, bu([veg, soil, burial], "quadrature").sigma),
        ("rebuilt: veg+soil only (no inland waters)", False, *bu([veg, soil], "linear")),
        ("rebuilt: veg+soil+burial", True, *bu([veg, soil, burial], "linear")),
        ("rebuilt: veg+soil+burial+ocean export", True, *bu([veg, soil, burial, ocean], "linear")),
    ]
    rows = []
    for label, inland, v_bu, s_bu in variants:
        vals, sigs = [td.value, v_bu], [td.sigma, s_bu]
        lin, quad, ivw = (mean_of_estimates(vals, sigs, "linear"), mean_of_estimates(vals, sigs, "quadrature"),
                          inverse_variance_mean(vals, sigs))
        for rule, e in (("mean, linear sigma", lin), ("mean, quadrature sigma", quad),
                        ("inverse-variance mean", ivw), ("mean, inverse-variance sigma", Estimate(lin.value, ivw.sigma))):
            rows.append({"variant": label, "includes_inland_waters": inland, "BU": v_bu, "sigma_BU": s_bu,
                         "rule": rule, "value": e.value, "sigma": e.sigma})
    return pd.DataFrame(rows)


def nep_sensitivity(ds, rep: dict | None = None):
    """NEP under the candidate routes and error conventions [PgC yr-1, uptake positive].

    Route A (our reconstruction, reproduces 0.46 ± 0.16 with linear errors): top-down land sink + all carbon
    leached to rivers. Route B (slide identity, :func:`net_ecosystem_production`): land sink +
    inland-water outgassing (+ fire and natural RCC, not in our sources, set to 0 here).
    """
    import pandas as pd

    from .jiang2016 import reproduce_jiang2016

    rep = rep or reproduce_jiang2016(ds)
    land, td = rep["land_sink"]["estimate"], rep["topdown"]["estimate"]
    leach, outg = get(ds, "river_leaching"), get(ds, "river_outgassing")
    rows = []
    for mode in ("linear", "quadrature"):
        a = combine([td.value, leach.value], [land.sigma, leach.sigma], mode=mode)
        a2 = combine([land.value, leach.value], [land.sigma, leach.sigma], mode=mode)
        b = net_ecosystem_production(land, inland_water_outgassing=outg, mode=mode)
        rows += [
            {"route": "A: top-down sink (0.35) + river leaching", "mode": mode, "value": a.value, "sigma": a.sigma},
            {"route": "A': closure land sink (0.34) + river leaching", "mode": mode, "value": a2.value, "sigma": a2.sigma},
            {"route": "B: slide identity, fire and natural RCC = 0", "mode": mode, "value": b.value, "sigma": b.sigma},
        ]
    return pd.DataFrame(rows)


