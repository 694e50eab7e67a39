"""China land carbon budget: top-down / bottom-up closure (Jiang et al. 2016).

Everything the chapter ``notebooks/05_budget_closure.ipynb`` computes lives here:

* :func:`read_budget_table` — the literature table ``china_budget_components.csv`` (manifest id
  ``china-budget-jiang2016``), validated, as an :class:`xarray.Dataset`;
* the accounting identities :func:`topdown_land_sink`, :func:`bottomup_land_sink`,
  :func:`net_ecosystem_production` and the RCC correction :func:`rcc_unseen`;
* the error conventions :func:`combine` (``"linear"`` = fully correlated errors add,
  ``"quadrature"`` = independent errors add in quadrature), :func:`mean_of_estimates` and
  :func:`inverse_variance_mean`, and the Monte Carlo check :func:`monte_carlo_sum`;
* :func:`reproduce_jiang2016` — the published headline numbers with the convention that
  produces each (a reconstruction: the paper's full text and SI were not available to us).

Sign convention (DESIGN.md): a land *sink* is a positive uptake of carbon from the atmosphere,
in PgC yr-1. NEP is positive for net ecosystem uptake (NEP = −NEE). Lateral fluxes (river
leaching, burial, export, trade, RCC emissions) are given as positive magnitudes; each identity
states the sign with which it enters.

Reference: Jiang F., Chen J.M., Zhou L., Ju W., Zhang H., Machida T., Ciais P., Peters W.,
Wang H., Chen B., Liu L., Zhang C., Matsueda H., Sawa Y. (2016) A comprehensive estimate of recent
carbon sinks in China using both top-down and bottom-up approaches. Sci. Rep. 6, 22130,
doi:10.1038/srep22130. Lateral-flux accounting after Ciais et al. (2008, doi:10.5194/bg-5-1259-2008);
reduced-carbon-compound (RCC) correction after Suntharalingam et al. (2005, doi:10.1029/2005GB002466).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .errors import ConfigError, DataError, UnitsError, located
from .units import convert, normalise_unit

__all__ = [
    "Estimate",
    "REQUIRED_COLUMNS",
    "ALLOWED_UNITS",
    "read_budget_table",
    "get",
    "pool_table",
    "pool_sum",
    "combine",
    "mean_of_estimates",
    "inverse_variance_mean",
    "monte_carlo_sum",
    "rcc_unseen",
    "topdown_land_sink",
    "bottomup_land_sink",
    "net_ecosystem_production",
    "implied_residual",
    "land_sink_conventions",
    "read_inversion_land_sink",
    "reproduce_jiang2016",
    "round_half_up",
]

PGC = "PgC yr-1"
#: Columns every budget table must have (``sigma``, ``area``, ``pool`` and ``note`` may be blank).
REQUIRED_COLUMNS = ("id", "category", "pool", "kind", "value", "sigma", "units", "period", "method", "area",
                    "source", "note")
#: Units a row may use: carbon fluxes, or a dimensionless share (``%`` or ``1``).
ALLOWED_UNITS = ("PgC yr-1", "TgC yr-1", "%", "1")
_STRING_COLUMNS = ("category", "pool", "kind", "units", "period", "method", "source", "note")


@dataclass(frozen=True)
class Estimate:
    """A flux with its 1-sigma uncertainty, in ``units`` (default PgC yr-1, uptake positive)."""

    value: float
    sigma: float = 0.0
    units: str = PGC

    def __iter__(self):  # allows ``v, s = estimate``
        yield self.value
        yield self.sigma

    def __neg__(self) -> "Estimate":
        return Estimate(-self.value, self.sigma, self.units)

    def rounded(self, ndigits: int = 2) -> tuple[float, float]:
        """(value, sigma) rounded half-up, the way a table in a paper is rounded."""
        return round_half_up(self.value, ndigits), round_half_up(self.sigma, ndigits)


def round_half_up(x: float, ndigits: int = 2) -> float:
    """Round like a printed table (0.455 -> 0.46), independent of binary floating point."""
    q = Decimal(1).scaleb(-ndigits)
    # 12 significant digits first, so that 0.35 + 0.105 = 0.45499999999999996 prints as 0.46
    return float(Decimal(f"{float(x):.12g}").quantize(q, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------
# The literature table
# ---------------------------------------------------------------------------------------------
def _parse_float(text: str, *, where: str, column: str, allow_blank: bool) -> float:
    t = (text or "").strip()
    if t == "":
        if allow_blank:
            return math.nan
        raise DataError(located(f"column {column!r} is empty", where=where,
                                fix=f"give a number for {column!r} (decimal point, no units)"))
    try:
        v = float(t)
    except ValueError:
        raise DataError(located(f"column {column!r} is not a number: {t!r}", where=where,
                                fix=f"write {column!r} as a plain decimal number (e.g. 0.175); put units in "
                                    "the 'units' column and text in 'note'")) from None
    if not math.isfinite(v) or v == -9999:
        raise DataError(located(f"column {column!r} holds a missing-value code or non-finite number ({t})",
                                where=where, fix="leave sigma blank when unknown; every value must be a number"))
    return v


def read_budget_table(paths: Sequence[Path | str] | Path | str):
    """Read and validate the China budget literature table(s) into an :class:`xarray.Dataset`.

    Parameters
    ----------
    paths : list of path-like (or one path)
        CSV files with the columns :data:`REQUIRED_COLUMNS` (UTF-8, optional BOM, LF or CRLF line
        endings). Several files are concatenated; ids must be unique across them.

    Returns
    -------
    xarray.Dataset
        Dimension ``component`` (the row ids). Variables: ``value`` and ``sigma`` as published
        (float64, sigma NaN when none is given; per-row units in the ``units`` variable),
        ``value_pgc``/``sigma_pgc`` converted to PgC yr-1 (NaN for shares), ``fraction`` (shares
        as a number in [0, 1], NaN otherwise), ``area`` [1e6 ha] and the string variables
        ``category``, ``pool``, ``kind``, ``units``, ``period``, ``method``, ``source``, ``note``,
        ``line`` (line number in the file). Sign convention: a sink is positive uptake; lateral
        fluxes are positive magnitudes.

    Raises
    ------
    DataError
        Missing columns, empty or duplicate ids, non-numeric values or sigmas, negative sigmas
        (message names file, line, column and the fix).
    UnitsError
        A unit outside :data:`ALLOWED_UNITS`.
    """
    import xarray as xr

    if isinstance(paths, (str, Path)):
        paths = [paths]
    records: list[dict] = []
    seen: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        try:
            fh = open(path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise DataError(located(f"cannot open budget table ({exc.strerror})", where=str(path),
                                    fix="check the path (landcarbon data where china-budget-jiang2016)")) from exc
        with fh:
            try:
                reader = csv.DictReader(fh)
                header = [h.strip() for h in (reader.fieldnames or [])]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise DataError(located(f"budget table lacks the column(s) {missing}",
                                            where=f"{path}, line 1 (header)",
                                            fix="the header must be: " + ",".join(REQUIRED_COLUMNS)))
                reader.fieldnames = header
                for row in reader:
                    line = reader.line_num
                    records.append(_validate_row(row, path, line, seen))
            except UnicodeDecodeError as exc:
                raise DataError(located("budget table is not UTF-8 text", where=str(path),
                                        fix="save the file as UTF-8 CSV")) from exc
            except csv.Error as exc:
                raise DataError(located(f"malformed CSV ({exc})", where=f"{path}", fix="check quoting")) from exc
    if not records:
        raise DataError(located("budget table has no rows", where=", ".join(str(p) for p in paths),
                                fix="add the literature rows below the header"))

    ids = [r["id"] for r in records]
    data_vars = {
        "value": ("component", np.array([r["value"] for r in records]), {"long_name": "value as published",
                                                                        "units": "see variable 'units'"}),
        "sigma": ("component", np.array([r["sigma"] for r in records]), {"long_name": "1-sigma as published",
                                                                        "units": "see variable 'units'"}),
        "value_pgc": ("component", np.array([r["value_pgc"] for r in records]),
                      {"units": PGC, "long_name": "value in PgC yr-1 (sink = uptake positive)"}),
        "sigma_pgc": ("component", np.array([r["sigma_pgc"] for r in records]), {"units": PGC}),
        "fraction": ("component", np.array([r["fraction"] for r in records]), {"units": "1"}),
        "area": ("component", np.array([r["area"] for r in records]), {"units": "1e6 ha"}),
        "line": ("component", np.array([r["line"] for r in records])),
    }
    for col in _STRING_COLUMNS:
        data_vars[col] = ("component", np.array([r[col] for r in records], dtype=object))
    ds = xr.Dataset(data_vars, coords={"component": ids})
    ds.attrs.update({
        "title": "China land carbon-budget components (Jiang et al. 2016 and the sources cited there)",
        "citation": "Jiang F. et al. (2016) Sci. Rep. 6, 22130, doi:10.1038/srep22130",
        "sign_convention": "sink = positive uptake; lateral fluxes positive magnitudes",
        "files": ";".join(str(p) for p in paths),
    })
    return ds


def _validate_row(row: dict, path: Path, line: int, seen: dict) -> dict:
    def where(col: str) -> str:
        return f"{path}, line {line}, column {col!r}"

    if None in row:  # more fields than header columns
        raise DataError(located(f"row has {len(row[None])} field(s) more than the header", where=f"{path}, line {line}",
                                fix="quote text containing commas with double quotes"))
    if any(v is None for v in row.values()):
        raise DataError(located("row has fewer fields than the header", where=f"{path}, line {line}",
                                fix="every row needs all columns (leave unknown ones empty, keep the commas)"))
    rid = (row["id"] or "").strip()
    if not rid:
        raise DataError(located("empty component id", where=where("id"), fix="give every row a unique id"))
    if rid in seen:
        raise DataError(located(f"duplicate component id {rid!r} (first at {seen[rid]})", where=where("id"),
                                fix="ids must be unique"))
    seen[rid] = f"{path.name}:{line}"
    unit_raw = (row["units"] or "").strip()
    unit = normalise_unit(unit_raw) if unit_raw not in ("%",) else "%"
    if unit not in ALLOWED_UNITS:
        raise UnitsError(located(f"unknown units {unit_raw!r}", where=where("units"),
                                 fix=f"use one of {list(ALLOWED_UNITS)}"))
    value = _parse_float(row["value"], where=where("value"), column="value", allow_blank=False)
    sigma = _parse_float(row["sigma"], where=where("sigma"), column="sigma", allow_blank=True)
    if sigma < 0:
        raise DataError(located(f"negative sigma {sigma}", where=where("sigma"),
                                fix="sigma is a 1-sigma uncertainty (>= 0); put the sign on the value"))
    area = _parse_float(row["area"], where=where("area"), column="area", allow_blank=True)
    if unit in ("PgC yr-1", "TgC yr-1"):
        value_pgc = float(convert(value, unit, PGC, where=where("units")))
        sigma_pgc = float(convert(sigma, unit, PGC, where=where("units")))
        fraction = math.nan
    else:
        value_pgc = sigma_pgc = math.nan
        fraction = value / 100.0 if unit == "%" else value
        if not 0.0 <= fraction <= 1.0:
            raise DataError(located(f"share {value} {unit} outside [0, 100 %]", where=where("value"),
                                    fix="give shares in % (0-100) or as a number in [0, 1]"))
    out = {c: (row[c] or "").strip() for c in _STRING_COLUMNS}
    out.update(id=rid, units=unit, value=value, sigma=sigma, area=area, value_pgc=value_pgc, sigma_pgc=sigma_pgc,
               fraction=fraction, line=line)
    return out


def get(ds, component: str, units: str = PGC) -> Estimate:
    """One table row as an :class:`Estimate` in ``units`` (sigma 0 when the table has none).

    Shares (``%``/``1``) are returned as a number in [0, 1] with ``units="1"``.
    """
    if component not in ds["component"].values:
        raise DataError(located(f"component {component!r} not in the budget table",
                                where=ds.attrs.get("files", "budget table"),
                                fix="see the ids in lib/landcarbon/data/embedded/china_budget_components.csv"))
    row = ds.sel(component=component)
    u = str(row["units"].values)
    if u in ("%", "1"):
        return Estimate(float(row["fraction"]), 0.0 if np.isnan(row["sigma"]) else float(row["sigma"]) / (100.0 if u == "%" else 1.0), "1")
    v = float(convert(float(row["value"]), u, units, where=component))
    s = float(row["sigma"])
    s = 0.0 if np.isnan(s) else float(convert(s, u, units, where=component))
    return Estimate(v, s, normalise_unit(units))


# ---------------------------------------------------------------------------------------------
# Error conventions
# ---------------------------------------------------------------------------------------------
def combine(values: Iterable[float], sigmas: Iterable[float | None] | None = None, mode: str = "linear",
            weights: Iterable[float] | None = None) -> Estimate:
    r"""Weighted sum of estimates and its 1-sigma uncertainty under an explicit convention.

    .. math::  S = \sum_i w_i x_i,\qquad
               \sigma_S^{lin} = \sum_i |w_i|\,\sigma_i,\qquad
               \sigma_S^{quad} = \sqrt{\sum_i w_i^2 \sigma_i^2}

    ``"linear"`` is exact for fully (positively) correlated errors and is the conservative upper
    bound; ``"quadrature"`` is exact for independent errors (Taylor 1997, *An Introduction to Error
    Analysis*, ch. 3). Which one a synthesis used is often unstated: Jiang et al. (2016) reproduce
    only with ``"linear"`` (see :func:`reproduce_jiang2016`).

    Parameters
    ----------
    values : sequence of float
        Component values (same units, e.g. PgC yr-1).
    sigmas : sequence of float or None, optional
        1-sigma uncertainties; ``None``/NaN count as 0 (a component without a published sigma).
    mode : {"linear", "quadrature"}
    weights : sequence of float, optional
        Coefficients (default 1; use -1 to subtract a term).

    Returns
    -------
    Estimate
    """
    x = np.asarray(list(values), dtype=float)
    s = np.zeros_like(x) if sigmas is None else np.array([np.nan if v is None else v for v in sigmas], dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(list(weights), dtype=float)
    if not (x.shape == s.shape == w.shape):
        raise ConfigError(located(f"combine(): {x.size} values, {s.size} sigmas and {w.size} weights",
                                  fix="give one sigma and one weight per value"))
    s = np.where(np.isnan(s), 0.0, s)
    if np.any(s < 0):
        raise ConfigError(located("combine(): negative sigma", fix="sigmas are >= 0"))
    total = float(np.sum(w * x))
    if mode == "linear":
        sig = float(np.sum(np.abs(w) * s))
    elif mode == "quadrature":
        sig = float(np.sqrt(np.sum((w * s) ** 2)))
    else:
        raise ConfigError(located(f"unknown error-combination mode {mode!r}", where="combine",
                                  fix="use 'linear' (fully correlated) or 'quadrature' (independent)"))
    return Estimate(total, sig)


def _as_est(x) -> Estimate:
    if isinstance(x, Estimate):
        return x
    if isinstance(x, tuple):
        return Estimate(float(x[0]), 0.0 if x[1] is None else float(x[1]))
    return Estimate(float(x), 0.0)


def _identity(terms: Sequence[tuple[float, object]], mode: str) -> Estimate:
    ests = [_as_est(t) for _, t in terms]
    return combine([e.value for e in ests], [e.sigma for e in ests], mode=mode, weights=[w for w, _ in terms])


def mean_of_estimates(values: Sequence[float], sigmas: Sequence[float | None] | None = None,
                      mode: str = "linear") -> Estimate:
    r"""Arithmetic mean of n estimates with the sigma of the mean under ``mode``.

    :math:`\bar x = \frac1n\sum x_i`; linear: :math:`\sigma = \frac1n\sum\sigma_i` (fully correlated);
    quadrature: :math:`\sigma = \frac1n\sqrt{\sum\sigma_i^2}` (independent). This is how we read
    "the mean of the top-down and bottom-up estimates" (our formulation; the paper's rule is not
    stated in the material we have).
    """
    n = len(values)
    return combine(values, sigmas, mode=mode, weights=[1.0 / n] * n)


def inverse_variance_mean(values: Sequence[float], sigmas: Sequence[float]) -> Estimate:
    r"""Inverse-variance weighted mean of independent estimates (the maximum-likelihood combination).

    .. math::  \hat x = \frac{\sum x_i/\sigma_i^2}{\sum 1/\sigma_i^2},\qquad
               \sigma_{\hat x} = \Big(\sum 1/\sigma_i^2\Big)^{-1/2}

    Every sigma must be > 0 (an estimate without uncertainty would get infinite weight).
    """
    x = np.asarray(values, dtype=float)
    s = np.asarray(sigmas, dtype=float)
    if x.shape != s.shape or x.size == 0:
        raise ConfigError(located("inverse_variance_mean(): need one sigma per value", fix="pass equal-length lists"))
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ConfigError(located(f"inverse_variance_mean(): sigmas must be finite and > 0, got {s.tolist()}",
                                  fix="give every estimate a positive uncertainty"))
    w = 1.0 / s**2
    return Estimate(float(np.sum(w * x) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w))))


def monte_carlo_sum(values: Sequence[float], sigmas: Sequence[float], *, weights: Sequence[float] | None = None,
                    correlation: str = "independent", n: int = 100_000,
                    rng: np.random.Generator | int | None = 0, return_samples: bool = False):
    r"""Monte Carlo propagation of a weighted sum of Gaussian components.

    ``correlation="independent"`` draws :math:`x_i = \mu_i + \sigma_i z_i` with independent
    :math:`z_i\sim N(0,1)` (analytic counterpart: :func:`combine` ``mode="quadrature"``);
    ``"full"`` uses one common :math:`z` for all components (fully correlated; counterpart
    ``mode="linear"`` when all weights are positive).

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Generator or seed (no global RNG state is touched).

    Returns
    -------
    Estimate (sample mean, sample standard deviation), plus the samples if ``return_samples``.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    mu = np.asarray(values, dtype=float)
    s = np.nan_to_num(np.asarray(sigmas, dtype=float), nan=0.0)
    w = np.ones_like(mu) if weights is None else np.asarray(weights, dtype=float)
    if correlation == "independent":
        z = gen.standard_normal((int(n), mu.size))
    elif correlation == "full":
        z = np.repeat(gen.standard_normal((int(n), 1)), mu.size, axis=1)
    else:
        raise ConfigError(located(f"unknown correlation {correlation!r}", where="monte_carlo_sum",
                                  fix="use 'independent' or 'full'"))
    samples = (mu + s * z) @ w
    est = Estimate(float(samples.mean()), float(samples.std(ddof=1)))
    return (est, samples) if return_samples else est


def implied_residual(total, parts: Sequence, mode: str = "linear") -> Estimate:
    r"""What the unreported terms must sum to so that ``sum(parts) + residual == total``.

    Value :math:`r = T - \sum p_i`; sigma linear :math:`\sigma_T - \sum\sigma_i`, quadrature
    :math:`\sqrt{\sigma_T^2 - \sum\sigma_i^2}` (NaN when negative: the convention cannot produce the
    published sigma). Our formulation, used to show what a published total implies.
    """
    t = _as_est(total)
    ps = [_as_est(p) for p in parts]
    v = t.value - sum(p.value for p in ps)
    if mode == "linear":
        s = t.sigma - sum(p.sigma for p in ps)
    elif mode == "quadrature":
        s2 = t.sigma**2 - sum(p.sigma**2 for p in ps)
        s = math.sqrt(s2) if s2 >= 0 else math.nan
    else:
        raise ConfigError(located(f"unknown mode {mode!r}", where="implied_residual", fix="'linear' or 'quadrature'"))
    return Estimate(v, s if s >= 0 else math.nan)


# ---------------------------------------------------------------------------------------------
# Pools (vegetation, soil)
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Accounting identities (Jiang et al. 2016, slide "closure"; signs: sink = uptake positive)
# ---------------------------------------------------------------------------------------------
def rcc_unseen(emission, fraction_unseen: float) -> Estimate:
    r"""Part of a reduced-carbon-compound (VOC, CO, CH4) emission the inversion does not see [PgC yr-1].

    :math:`E_{unseen} = f\,E_{RCC}`. Jiang et al. (2016): 14 % is oxidised to CO2 inside China's
    boundary layer (seen), 74 % is exported and oxidised elsewhere (unseen); the remaining 12 %
    are not assigned on the slides (deposition is our reading). Positive magnitude.
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

    (Jiang et al. 2016, closure slide: "land sink (top-down) = inverted sink − fossil RCC exported to
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

    (Jiang et al. 2016 closure slide: vegetation and soil stock change + wood-product stock change +
    burial in river and lake beds + riverine export to the ocean). All terms [PgC yr-1]; stock
    gains positive.
    """
    return _identity([(1, vegetation), (1, soil), (1, wood_products), (1, burial), (1, to_ocean)], mode)


def net_ecosystem_production(land_sink, *, fire=0.0, inland_water_outgassing=0.0, natural_rcc_emission=0.0,
                             natural_rcc_deposition=0.0, mode: str = "linear") -> Estimate:
    r"""Net ecosystem production of China's ecosystems [PgC yr-1, uptake positive, NEP = −NEE].

    .. math::  NEP = S + F_{fire} + O_{inland\,waters} + RCC^{nat}_{emis} - RCC^{nat}_{dep}

    (Jiang et al. 2016 closure slide: NEP = land sink + biomass-burning emission + river/lake CO2
    release + natural RCC emission − natural RCC deposition). Emissions are positive magnitudes.
    """
    return _identity([(1, land_sink), (1, fire), (1, inland_water_outgassing), (1, natural_rcc_emission),
                      (-1, natural_rcc_deposition)], mode)


# ---------------------------------------------------------------------------------------------
# Reconstruction of the published numbers
# ---------------------------------------------------------------------------------------------
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


def read_inversion_land_sink(path) -> tuple[Estimate, str]:
    """The inversion chapter's ``china_land_sink`` indicator (PgC yr-1, uptake positive) and its data source.

    ``path`` is the ``summary.json`` of ``nested_inversion`` or its folder.
    """
    from .publish.reporting import read_summary

    doc = read_summary(path)
    ind = doc["indicators"].get("china_land_sink")
    if ind is None:
        raise DataError(located("the inversion summary has no indicator 'china_land_sink'", where=str(path),
                                fix="rerun the nested_inversion chapter (it writes china_land_sink)"))
    try:
        value = float(convert(float(ind["value"]), ind.get("units", PGC), PGC, where=f"{path}: china_land_sink"))
        sig = ind.get("sigma")
        sigma = 0.0 if sig is None else float(convert(float(sig), ind.get("units", PGC), PGC))
    except UnitsError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise DataError(located(f"china_land_sink is malformed ({exc})", where=str(path),
                                fix="value and sigma must be numbers in PgC yr-1")) from exc
    return Estimate(value, sigma), str(doc.get("data_source", "unknown"))


def reproduce_jiang2016(ds, *, inversion: Estimate | None = None) -> dict:
    """Headline numbers of Jiang et al. (2016) recomputed from the table, with the convention of each.

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
        Keys: vegetation, vegetation_pools, soil, veg_soil, topdown_inversion, lateral_correction,
        topdown, bottomup, land_sink, nep, nep_slide_residual. All PgC yr-1, uptake positive.
        These are reconstructions: Jiang et al. give the rules only partly (see chapter 05).
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
    td_pub = pub("result_topdown_lateral")
    corr = td_pub.value - pub("inv_case3").value
    out["lateral_correction"] = {"estimate": Estimate(corr, 0.0), "published": None,
                                 "convention": "implied net lateral + trade correction 0.35 − 0.45 (RCC and "
                                               "trade magnitudes are not in our sources)"}
    td = topdown_land_sink(inv, unitemised_correction=Estimate(corr, 0.0))
    out["topdown"] = {"estimate": td, "published": td_pub,
                      "convention": "top-down identity with the implied net correction; sigma of the "
                                    "correction unknown (0)"}
    bu = pub("result_bottomup")
    out["bottomup"] = {"estimate": bu, "published": bu,
                       "convention": "published bottom-up land sink (its non-vegetation/soil terms are not "
                                     "itemised in our sources)"}
    burial = get(ds, "river_burial")
    sbu = combine([0, 0, 0], [veg_pub.sigma, soil_pub.sigma, burial.sigma], mode="linear").sigma
    ivw = inverse_variance_mean([td.value, bu.value], [inv.sigma, sbu])
    mean = mean_of_estimates([td.value, bu.value])
    out["land_sink"] = {"estimate": Estimate(mean.value, ivw.sigma), "published": pub("result_land_sink"),
                        "convention": "arithmetic mean of top-down and bottom-up; sigma = inverse-variance "
                                      f"combination of sigma_TD = {inv.sigma:.2f} and sigma_BU = {sbu:.3f} "
                                      "(vegetation + soil + inland-water burial, linear)"}
    leaching = get(ds, "river_leaching")
    land_for_nep = Estimate(td.value, out["land_sink"]["estimate"].sigma)
    nep = combine([land_for_nep.value, leaching.value], [land_for_nep.sigma, leaching.sigma], mode="linear")
    out["nep"] = {"estimate": nep, "published": pub("result_nep"),
                  "convention": "top-down land sink + all carbon leached to rivers (105 ± 50 TgC/yr), sigma "
                                "linear (quadrature: "
                                f"{combine([0, 0], [land_for_nep.sigma, leaching.sigma], mode='quadrature').sigma:.3f})"}
    slide_known = net_ecosystem_production(out["land_sink"]["estimate"], inland_water_outgassing=get(ds, "river_outgassing"))
    out["nep_slide_residual"] = {
        "estimate": implied_residual(pub("result_nep"), [out["land_sink"]["estimate"], get(ds, "river_outgassing")],
                                     mode="linear"),
        "published": None,
        "convention": "slide NEP identity: fire + natural RCC (emission − deposition) implied by NEP 0.46 ± 0.16 "
                      f"given land sink and outgassing (known part {slide_known.value:.3f} ± {slide_known.sigma:.3f})"}
    return out


# ---------------------------------------------------------------------------------------------
# Sensitivity of the closure to the (unstated) conventions
# ---------------------------------------------------------------------------------------------
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

    Route A (brief, reproduces 0.46 ± 0.16 with linear errors): top-down land sink + all carbon
    leached to rivers. Route B (slide identity, :func:`net_ecosystem_production`): land sink +
    inland-water outgassing (+ fire and natural RCC, not in our sources, set to 0 here).
    """
    import pandas as pd

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


def format_estimate(e, ndigits: int = 2) -> str:
    """``'0.34 ± 0.11'`` rounded half-up (as printed in a paper's table)."""
    v, s = (e.value, e.sigma) if isinstance(e, Estimate) else e
    return f"{round_half_up(v, ndigits):.{ndigits}f} ± {round_half_up(s, ndigits):.{ndigits}f}"


# ---------------------------------------------------------------------------------------------
# Figures (kept here so the chapter stays narrative)
# ---------------------------------------------------------------------------------------------
def plot_lateral_flows(ds, ax=None):
    """Box-and-arrow diagram of China's lateral carbon fluxes (rivers, RCC, trade) [TgC yr-1].

    River numbers, RCC shares and trade numbers are read from the table; the roles of the trade
    numbers on the source slide are not recoverable and are listed, not assigned.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from .plotting import OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.9, 6.3)
    ax.axis("off")
    boxes = {
        "glob": (8.4, 5.6, "Global atmosphere\n(outside China)", OKABE_ITO[2]),
        "atm": (4.6, 5.6, "China's atmosphere\n(boundary layer, seen\nby the inversion)", OKABE_ITO[2]),
        "eco": (1.5, 3.3, "Terrestrial ecosystems\n(vegetation + soil)", OKABE_ITO[3]),
        "riv": (4.6, 3.3, "Rivers and lakes", OKABE_ITO[5]),
        "bed": (4.6, 0.9, "River and lake beds\n(burial)", OKABE_ITO[7]),
        "ocn": (8.4, 3.3, "Ocean", OKABE_ITO[5]),
        "wood": (1.5, 0.9, "Wood and food\nproducts in China", OKABE_ITO[1]),
        "row": (8.4, 0.9, "Rest of the world\n(international trade)", OKABE_ITO[1]),
    }
    for x, y, text, col in boxes.values():
        ax.add_patch(FancyBboxPatch((x - 1.05, y - 0.5), 2.1, 1.0, boxstyle="round,pad=0.05", fc=col, ec="k",
                                    alpha=0.25, lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5)

    def arrow(a, b, label, col="k", offset=(0, 0), rad=0.0):
        (xa, ya, *_), (xb, yb, *_) = boxes[a], boxes[b]
        vx, vy = xb - xa, yb - ya
        t = min(1.12 / abs(vx) if vx else np.inf, 0.58 / abs(vy) if vy else np.inf)  # leave the box edge
        ax.annotate("", xy=(xb - t * vx, yb - t * vy), xytext=(xa + t * vx, ya + t * vy),
                    arrowprops=dict(arrowstyle="-|>", color=col, lw=2, shrinkA=2, shrinkB=2,
                                    connectionstyle=f"arc3,rad={rad}"))
        ax.text((xa + xb) / 2 + offset[0], (ya + yb) / 2 + offset[1], label, ha="center", va="center", fontsize=8,
                color=col, bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))

    def tg(cid):
        e = get(ds, cid, "TgC yr-1")
        return f"{e.value:.0f} ± {e.sigma:.0f}"

    arrow("eco", "riv", f"leaching\n{tg('river_leaching')}", OKABE_ITO[5], offset=(0, 0.45))
    arrow("riv", "atm", f"outgassing\n{tg('river_outgassing')}", OKABE_ITO[5], offset=(0.55, 0))
    arrow("riv", "bed", f"burial\n{tg('river_burial')}", OKABE_ITO[5], offset=(0.5, 0))
    arrow("riv", "ocn", f"export to ocean\n{tg('river_to_ocean')}", OKABE_ITO[5], offset=(0, 0.45))
    f_bl = get(ds, "rcc_frac_boundary_layer").value
    f_ex = get(ds, "rcc_frac_exported").value
    arrow("eco", "atm", f"RCC emission\n(VOC, CO, CH4)\n{f_bl:.0%} oxidised\nin China", OKABE_ITO[6],
          offset=(-0.75, 0.15))
    arrow("atm", "glob", f"RCC exported: {f_ex:.0%}\n(oxidised elsewhere,\nunseen by the inversion)", OKABE_ITO[6],
          offset=(0, -0.55))
    trade = ds.where(ds["category"] == "trade", drop=True)
    nums = ", ".join(f"{v:g}" for v in trade["value"].values)
    arrow("row", "wood", "net carbon import (wood, food)", OKABE_ITO[1], offset=(0, -1.3), rad=-0.4)
    arrow("eco", "wood", "harvest", OKABE_ITO[1], offset=(-0.35, 0))
    ax.text(5.0, -0.85, f"Trade / wood-product diagram numbers on the source slide (TgC yr-1): {nums}; "
                       "their arrow roles are not recoverable from our transcription.", ha="center", fontsize=7.5,
            style="italic")
    ax.set_title("Lateral carbon fluxes of China's land (TgC yr$^{-1}$; Jiang et al. 2016)", fontsize=11)
    return ax


def plot_topdown_bottomup(rep: dict, ax=None):
    """Bar chart of the top-down and bottom-up components with 1-sigma error bars [PgC yr-1, uptake +]."""
    import matplotlib.pyplot as plt

    from .plotting import METHOD_COLOURS, OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    items = [
        ("inversion\n(case 3)", rep["topdown_inversion"]["estimate"], METHOD_COLOURS["top-down"], True),
        ("lateral +\ntrade corr.", rep["lateral_correction"]["estimate"], METHOD_COLOURS["top-down"], False),
        ("top-down\nland sink", rep["topdown"]["estimate"], METHOD_COLOURS["top-down"], False),
        ("vegetation", rep["vegetation"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("soil", rep["soil"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("vegetation\n+ soil", rep["veg_soil"]["estimate"], METHOD_COLOURS["bottom-up"], True),
        ("bottom-up\nland sink", rep["bottomup"]["estimate"], METHOD_COLOURS["bottom-up"], False),
        ("closure:\nland sink", rep["land_sink"]["estimate"], OKABE_ITO[0], True),
        ("closure:\nNEP", rep["nep"]["estimate"], OKABE_ITO[7], True),
    ]
    x = np.arange(len(items))
    for i, (label, e, col, has_sig) in enumerate(items):
        nd = 3 if label in ("vegetation", "soil") else 2
        ax.bar(i, e.value, color=col, alpha=0.8, yerr=e.sigma if has_sig else None, capsize=4,
               hatch=None if has_sig else "//", edgecolor="k", lw=0.5)
        y = e.value + (e.sigma if has_sig else 0.0) + 0.02 if e.value >= 0 else e.value - 0.05
        ax.text(i, y, format_estimate(e, nd) if has_sig else f"{round_half_up(e.value, 2):.2f}", ha="center",
                fontsize=7.5)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(-0.2, None)
    ax.set_xticks(x, [it[0] for it in items], fontsize=8)
    ax.set_ylabel("carbon sink (PgC yr$^{-1}$, uptake > 0)")
    ax.set_title("China's land sink: top-down (blue), bottom-up (green), closure; hatched = no sigma published",
                 fontsize=10)
    return ax


def plot_closure_sensitivity(table, ax=None, published: Estimate | None = None):
    """Land-sink estimate ± 1 sigma per bottom-up variant and combination rule (from :func:`closure_sensitivity`)."""
    import matplotlib.pyplot as plt

    from .plotting import OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8))
    variants = list(dict.fromkeys(table["variant"]))
    rules = list(dict.fromkeys(table["rule"]))
    for j, rule in enumerate(rules):
        sub = table[table["rule"] == rule].set_index("variant").loc[variants]
        y = np.arange(len(variants)) + (j - (len(rules) - 1) / 2) * 0.18
        col = (OKABE_ITO[1], OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[7], OKABE_ITO[6])[j % 5]
        ax.errorbar(sub["value"], y, xerr=sub["sigma"], fmt="o", ms=4, capsize=3, color=col, label=rule)
    if published is not None:
        ax.axvspan(published.value - published.sigma, published.value + published.sigma, color="0.85", zorder=0,
                   label=f"published {format_estimate(published)}")
        ax.axvline(published.value, color="0.4", lw=1, zorder=0)
    ax.set_yticks(np.arange(len(variants)), variants, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("land sink (PgC yr$^{-1}$, uptake > 0)")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.4, -0.13), ncol=3)
    ax.set_title("Closure land sink under alternative conventions (1 sigma bars)")
    return ax


_RECAP = (("vegetation_pools", "vegetation (pools as transcribed)", 3), ("vegetation", "vegetation subtotal", 3),
          ("soil", "soil subtotal", 3), ("veg_soil", "vegetation + soil (bottom-up)", 2),
          ("topdown_inversion", "top-down inversion (case 3)", 2), ("topdown", "top-down land sink", 2),
          ("land_sink", "land sink (closure)", 2), ("nep", "NEP", 2))


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
        rows.append({"quantity": label,
                     "published": format_estimate(p, nd) if p.sigma > 0 else f"{p.value:.{nd}f}",
                     "reproduced": format_estimate(e, nd), "reproduced?": verdict, "convention": rep[key]["convention"]})
    return pd.DataFrame(rows)
