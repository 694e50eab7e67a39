"""Statistics behind the chapter's worded claims: paired tests, recovery intervals, interval coverage."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from landcarbon.flux.metrics import coverage_table, interval_coverage, paired_comparison, recovery_test


def _errors(a_vals, b_vals, metric="RECO_day_bias_monthly_abs", scenario="S1"):
    rows = [{"scenario": scenario, "realisation": i, "method": "DT-RH", metric: a} for i, a in enumerate(a_vals)]
    rows += [{"scenario": scenario, "realisation": i, "method": "DT", metric: b} for i, b in enumerate(b_vals)]
    return pd.DataFrame(rows)


def test_paired_comparison_matches_scipy_and_words_the_result():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.2, 0.3, 12)
    a = b - 0.05 + rng.normal(0, 0.01, 12)
    c = paired_comparison(_errors(a, b), "RECO_day_bias_monthly_abs", "DT-RH", "DT", "S1")
    assert c["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    d = a - b
    half = stats.t.ppf(0.975, 11) * d.std(ddof=1) / np.sqrt(12)
    assert c["ci"] == pytest.approx((d.mean() - half, d.mean() + half))
    assert c["verdict"] == "smaller" and c["n"] == 12
    noise = paired_comparison(_errors(b + rng.normal(0, 0.02, 12), b), "RECO_day_bias_monthly_abs", "DT-RH", "DT", "S1")
    assert noise["verdict"] in ("not distinguishable", "smaller", "larger")
    assert paired_comparison(_errors([0.1], [0.2]), "RECO_day_bias_monthly_abs", "DT-RH", "DT", "S1")["verdict"] \
        == "not distinguishable"  # one pair cannot show a difference


def test_recovery_test_verdicts():
    assert recovery_test(0.5 + np.linspace(-0.02, 0.02, 10), 0.5)["verdict"] == "recovers"
    assert recovery_test(0.6 + np.linspace(-0.02, 0.02, 10), 0.5)["verdict"] == "biased"
    assert recovery_test([0.2, 0.9], 0.5)["verdict"] == "undetermined"


def test_interval_coverage_wilson_interval():
    z = np.r_[np.zeros(38), np.full(12, 3.0)]  # 38 of 50 inside ±1σ
    e = pd.DataFrame({"method": "DT-RH", "GPP_annual_z": z})
    c = interval_coverage(e, "DT-RH")
    q, n, p = 1.959963984540054, 50, 0.76
    centre = (p + q**2 / (2 * n)) / (1 + q**2 / n)
    half = q * np.sqrt(p * (1 - p) / n + q**2 / (4 * n**2)) / (1 + q**2 / n)
    assert c["coverage"] == 0.76 and c["ci"] == pytest.approx((centre - half, centre + half))
    assert c["expected"] == pytest.approx(0.6827, abs=1e-4)


def test_coverage_table_pools_the_calibration_scenarios():
    rows = []
    for sc, inside in (("S0", 14), ("S1", 16), ("S4", 0)):
        for i in range(20):
            rows.append({"scenario": sc, "realisation": i, "method": "DT-RH", "GPP_annual_z": 0.5 if i < inside else 2.0,
                         "GPP_annual_err_pct": 1.0, "GPP_annual_sd": 10.0, "GPP_annual_true": 1000.0})
    t = coverage_table(pd.DataFrame(rows)).set_index("scenario")
    assert t.loc["S0", "coverage"] == 70 and t.loc["S4", "coverage"] == 0 and t.loc["S0+S1", "coverage"] == 75
    assert t.loc["S0+S1", "n"] == 40 and t.loc["S1", "stated_sd"] == pytest.approx(1.0)
