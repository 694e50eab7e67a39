"""Global ER by three partitioning methods — night-time (NT), day-time (DT) and DT-RH — side by side.

NT and DT ER are upscaled directly (towers report ``RECO_NT_VUT_REF`` and ``RECO_DT_VUT_REF``). DT-RH ER
exists only where half-hourly data allowed the flux chapter to run the DT-RH partitioning; it reports per
tower the ratio of annual ER by DT-RH to ER by NT (``results/flux_partitioning/dtrh_site_ratios.csv``). We
carry that relation to the globe as a **learned correction** of the upscaled NT field (our formulation):

* a ratio model r̂(IGBP class): per class, the mean tower ratio shrunk towards the all-tower mean with
  empirical-Bayes weights w = τ² / (τ² + s²/n) (τ² the between-class variance of the class means, s² the
  within-class variance, n the towers of the class; Efron & Morris 1975, doi:10.1080/01621459.1975.10479864)
  — classes without towers get the all-tower mean;
* ER_DT-RH(cell, month) = ER_NT(cell, month) · r̂(class of the cell);
* uncertainty by resampling the towers (bootstrap) and refitting r̂, combined with the spread of the NT
  ensemble members; the DT-RH − NT difference [PgC yr-1] gets the same treatment.

Study numbers for the comparison (1989–2018, mean ± SD of the annual values, PgC yr-1): DT-RH 122.77 ± 0.73
(the study's own upscaling), NT 115.51 ± 0.31 and DT 116.21 ± 0.31 (FLUXCOM, as quoted by the study).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, located

__all__ = ["STUDY_GLOBAL_ER", "RATIO_COLUMNS", "read_dtrh_ratios", "RatioModel", "fit_ratio_model",
           "bootstrap_ratio_models", "apply_ratio", "dtrh_difference"]

#: the study's global ER 1989-2018 [PgC yr-1]: (mean, SD of annual values) by method
STUDY_GLOBAL_ER = {"NT": (115.51, 0.31), "DT": (116.21, 0.31), "DT-RH": (122.77, 0.73)}
RATIO_COLUMNS = ("site", "igbp", "koeppen", "lat", "lon", "n_site_years", "ratio_dtrh_nt_daytime",
                 "ratio_dtrh_nt_daytime_sd", "ratio_dtrh_nt_annual", "ratio_dtrh_nt_annual_sd",
                 "ratio_dtrh_dt_annual", "ratio_dtrh_dt_annual_sd")


def read_dtrh_ratios(path) -> pd.DataFrame | None:
    """Read the flux chapter's per-tower DT-RH ratios; ``None`` when the file does not exist.

    Towers without an eligible site-year (``n_site_years == 0``, NaN ratios by the flux chapter's contract,
    :func:`landcarbon.flux.towers.dtrh_site_ratios`) are left out. Raises :class:`DataError` (file, line,
    column) for a missing column, a duplicate site, a bad ``n_site_years``, or a ratio of a tower with
    eligible site-years that is not a positive finite number.
    """
    p = Path(path)
    if not p.is_file():
        return None
    try:
        df = pd.read_csv(p, dtype={"site": str, "igbp": str, "koeppen": str}, keep_default_na=False,
                         na_values={c: ["", "NA", "nan", "NaN"] for c in RATIO_COLUMNS if c not in ("site", "igbp", "koeppen")})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(located(f"cannot read the ratio table ({exc})", where=str(p),
                                fix="rerun the flux_partitioning analysis")) from exc
    miss = [c for c in RATIO_COLUMNS if c not in df.columns]
    if miss:
        raise DataError(located(f"ratio table lacks columns {miss}", where=f"{p}, line 1",
                                fix="the flux chapter writes " + ", ".join(RATIO_COLUMNS)))
    if df["site"].duplicated().any():
        raise DataError(located(f"site {df['site'][df['site'].duplicated()].iloc[0]!r} appears twice", where=str(p)))
    n_years = pd.to_numeric(df["n_site_years"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(n_years) & (n_years >= 0)).all():
        i = int(np.flatnonzero(~(np.isfinite(n_years) & (n_years >= 0)))[0])
        raise DataError(located(f"n_site_years {df['n_site_years'].iloc[i]!r} is not a count",
                                where=f"{p}, line {i + 2}, column n_site_years", fix="rerun flux_partitioning"))
    v = pd.to_numeric(df["ratio_dtrh_nt_annual"], errors="coerce").to_numpy(dtype=float)
    bad = (n_years > 0) & ~(np.isfinite(v) & (v > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(located(f"ratio_dtrh_nt_annual {df['ratio_dtrh_nt_annual'].iloc[i]!r} is not a positive number",
                                where=f"{p}, line {i + 2}, column ratio_dtrh_nt_annual", fix="rerun flux_partitioning"))
    df["ratio_dtrh_nt_annual"] = v
    return df[n_years > 0].reset_index(drop=True)


@dataclass
class RatioModel:
    """Shrunk per-class mean ratio (see module docstring)."""

    by_class: dict
    overall: float
    n_sites: int

    def predict(self, classes) -> np.ndarray:
        """Ratio for each class name (unknown classes → the all-tower mean)."""
        c = np.asarray(classes).astype(str)
        return np.array([self.by_class.get(k, self.overall) for k in c.ravel()], dtype=float).reshape(c.shape)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"ratio": self.by_class}).rename_axis("igbp")


def fit_ratio_model(ratios: pd.DataFrame, *, column: str = "ratio_dtrh_nt_annual") -> RatioModel:
    """Empirical-Bayes per-class mean of ``column`` (module docstring)."""
    if ratios is None or len(ratios) == 0:
        raise DataError(located("no tower ratios to learn from", where="fit_ratio_model",
                                fix="run flux_partitioning (it writes dtrh_site_ratios.csv)"))
    r = ratios[column].to_numpy(dtype=float)
    cls = ratios["igbp"].astype(str).to_numpy()
    overall = float(np.mean(r))
    groups = {k: r[cls == k] for k in np.unique(cls)}
    within = [np.var(g, ddof=1) for g in groups.values() if g.size > 1]
    s2 = float(np.mean(within)) if within else float(np.var(r, ddof=1)) if r.size > 1 else 0.0
    means = np.array([g.mean() for g in groups.values()])
    tau2 = max(float(np.var(means, ddof=1)) - s2 * float(np.mean([1 / g.size for g in groups.values()])), 0.0) \
        if means.size > 1 else 0.0
    by_class = {}
    for k, g in groups.items():
        w = tau2 / (tau2 + s2 / g.size) if (tau2 + s2 / g.size) > 0 else 1.0
        by_class[k] = float(w * g.mean() + (1 - w) * overall)
    return RatioModel(by_class=by_class, overall=overall, n_sites=int(r.size))


def bootstrap_ratio_models(ratios: pd.DataFrame, *, n_boot: int = 200, seed: int = 0, column: str = "ratio_dtrh_nt_annual"):
    """Ratio models refitted on ``n_boot`` resamples of the towers (with replacement)."""
    rng = np.random.default_rng([int(seed), 181])
    n = len(ratios)
    return [fit_ratio_model(ratios.iloc[rng.integers(0, n, n)], column=column) for _ in range(int(n_boot))]


def apply_ratio(er_nt: xr.DataArray, cell_class: xr.DataArray, model: RatioModel) -> xr.DataArray:
    """DT-RH ER field: NT field × r̂(class of each cell); ``cell_class`` holds IGBP names on (lat, lon)."""
    r = xr.DataArray(model.predict(cell_class.values), dims=cell_class.dims, coords=cell_class.coords)
    out = er_nt * r
    out.attrs = {**er_nt.attrs, "method": "DT-RH (learned ratio correction of NT)"}
    return out


def dtrh_difference(nt_total: float, nt_weights: xr.DataArray, cell_class: xr.DataArray, models) -> dict[str, float]:
    """DT-RH − NT global difference [PgC yr-1] and its bootstrap SD.

    ``nt_weights`` is the NT flux integrated per cell [PgC yr-1 per cell] (annual mean × area / 1e15);
    each bootstrap model gives Σ w·(r̂ − 1). Returns mean, sd and the 2.5/97.5 % quantiles, plus the
    implied DT-RH/NT global ratio.
    """
    w = np.nan_to_num(nt_weights.values)
    cls = cell_class.values
    diffs = np.array([float(np.sum(w * (m.predict(cls) - 1.0))) for m in models])
    return {"difference": float(diffs.mean()), "sd": float(diffs.std(ddof=1)) if diffs.size > 1 else 0.0,
            "low": float(np.quantile(diffs, 0.025)), "high": float(np.quantile(diffs, 0.975)),
            "ratio": float(1.0 + diffs.mean() / nt_total)}
