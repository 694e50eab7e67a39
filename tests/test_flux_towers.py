"""The FLUXNET2015 towers against ONEFlux (issue 11): one real site-year end to end (raw files or the
embedded extract), and the statistics, the contract table and the verdict on Li et al.'s range."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from landcarbon.flux.towers import (LI2022_RATIO_RANGE, MIN_COVERAGE, SUPPLEMENTARY_SITE_INFO, _block_bootstrap_ratio,
                                    biome_table, climate_zone, compare_with_li2022, dtrh_site_ratios,
                                    process_tower_site_year, validate_against_oneflux)

CONTRACT = ["site", "igbp", "koeppen", "lat", "lon", "n_site_years", "ratio_dtrh_nt_daytime", "ratio_dtrh_nt_daytime_sd",
            "ratio_dtrh_nt_annual", "ratio_dtrh_nt_annual_sd", "ratio_dtrh_dt_annual", "ratio_dtrh_dt_annual_sd"]


@pytest.fixture(scope="module")
def qia():
    """CN-Qia 2004 (Qianyanzhou, one of Li et al.'s isotope sites): from the raw files or the embedded extract."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return process_tower_site_year("CN-Qia", 2004, n_boot=50)


def test_one_real_site_year_against_oneflux(qia):
    assert qia["error"] is None, qia["error"]
    assert qia["reference"] == "ONEFlux" and qia["source"].startswith("real:")
    assert qia["coverage"] >= MIN_COVERAGE
    assert abs(qia["d_nt"]) < 5.0 and abs(qia["d_dt"]) < 8.0
    assert qia["r_daily_nt"] > 0.95 and qia["r_daily_dt"] > 0.95
    assert 1000 < qia["gpp_nt_oneflux"] < 3000  # a subtropical plantation forest
    for k in ("ratio_dtrh_nt_daytime", "ratio_dtrh_nt_annual", "ratio_dtrh_dt_annual"):
        assert 0.3 < qia[k] < 2.0 and 0 < qia[k + "_sd"] < 0.5
    assert len(qia["monthly"]["ONEFlux NT"]) == 12


def _table():
    rng = np.random.default_rng(1)
    rows = []
    for i, (site, igbp) in enumerate([("AA-One", "ENF"), ("BB-Two", "DBF"), ("CC-Thr", "GRA"), ("DD-Fou", "CRO")]):
        for y in (2001, 2002):
            rows.append({"site": site, "year": y, "igbp": igbp, "koeppen": "Cfb", "lat": 40.0 + i, "lon": 5.0,
                         "biome": igbp, "error": None, "coverage": 0.95 if not (site == "DD-Fou" and y == 2002) else 0.5,
                         "measured_share": 0.4, "d_nt": rng.normal(0, 3), "d_dt": rng.normal(0, 5),
                         "r_daily_nt": 0.98, "r_daily_dt": 0.96, "gpp_nt_oneflux": 1500.0, "ta_mean": 10.0,
                         **{f"ratio_dtrh_{b}_{k}": 0.9 + 0.01 * i + 0.01 * (y - 2001) for b in ("nt", "dt")
                            for k in ("daytime", "annual")},
                         **{f"ratio_dtrh_{b}_{k}_sd": 0.02 for b in ("nt", "dt") for k in ("daytime", "annual")},
                         "class_source": "test"})
    tab = pd.DataFrame(rows)
    from landcarbon.flux.towers import _eligibility

    tab["eligible"], tab["excluded_because"] = zip(*[_eligibility(r) for r in tab.to_dict("records")])
    return tab


def test_eligibility_rule_and_summary():
    tab = _table()
    assert tab.eligible.sum() == 7 and "coverage 50 %" in tab.excluded_because[~tab.eligible].iloc[0]
    s = validate_against_oneflux(tab)
    ok = tab[tab.eligible]
    assert s["n_site_years"] == 8 and s["n_eligible"] == 7 and s["n_sites_eligible"] == 4
    assert s["median_abs_d_nt"] == pytest.approx(np.median(ok.d_nt.abs()))
    lo, hi = s["median_abs_d_nt_ci"]
    assert lo <= s["median_abs_d_nt"] <= hi
    assert s["bar_r_met"]
    b = biome_table(tab)
    assert set(b.biome) == {"ENF", "DBF", "GRA", "CRO"} and b["site-years"].sum() == 7


def test_contract_table_columns_and_sd_combination():
    tab = _table()
    sr = dtrh_site_ratios(tab)
    assert list(sr.columns[:len(CONTRACT)]) == CONTRACT
    assert len(sr) == 4
    one = sr.set_index("site").loc["AA-One"]
    v = np.array([0.90, 0.91])
    assert one.n_site_years == 2 and one.ratio_dtrh_nt_daytime == pytest.approx(v.mean())
    assert one.ratio_dtrh_nt_daytime_sd == pytest.approx(np.sqrt(0.02**2 / 2 + v.var(ddof=1) / 2))
    assert sr.set_index("site").loc["DD-Fou"].n_site_years == 1


def test_verdict_on_li2022_is_worded_by_the_numbers():
    lo, hi = LI2022_RATIO_RANGE
    mk = lambda vals: pd.DataFrame({"ratio_dtrh_nt_daytime": vals, "ratio_dtrh_nt_daytime_sd": 0.01})  # noqa: E731
    assert compare_with_li2022(mk(np.full(12, 0.75) + np.linspace(-0.02, 0.02, 12)))["verdict"] == "supports"
    assert compare_with_li2022(mk(np.full(12, 1.02) + np.linspace(-0.02, 0.02, 12)))["verdict"] == "contradicts"
    assert compare_with_li2022(mk(np.linspace(0.6, 1.1, 12)))["verdict"] == "inconclusive"
    assert compare_with_li2022(mk([0.75, 0.76]))["verdict"] == "inconclusive"  # too few sites
    assert (lo, hi) == (0.63, 0.84)


def test_block_bootstrap_ratio():
    rng = np.random.default_rng(3)
    den = rng.uniform(1, 2, 365)
    assert _block_bootstrap_ratio(0.8 * den, den) == pytest.approx(0.0, abs=1e-12)  # constant ratio
    num = 0.8 * den * (1 + rng.normal(0, 0.1, 365))
    sd = _block_bootstrap_ratio(num, den, n_boot=400)
    assert 0.002 < sd < 0.02  # about 0.8 * 0.1 / sqrt(365) = 0.004 for independent days
    assert _block_bootstrap_ratio(num, den, n_boot=400) == sd  # seeded


def test_site_classes_and_zones():
    assert set(SUPPLEMENTARY_SITE_INFO) == {"BR-Sa1", "CA-Oas", "CN-Ha2", "CN-Sw2", "GH-Ank"}
    assert all(v["source"] for v in SUPPLEMENTARY_SITE_INFO.values())
    assert (climate_zone(-1.0), climate_zone(10.0), climate_zone(25.0)) == ("boreal", "temperate", "tropical")


def test_select_site_years():
    import pandas as pd

    from landcarbon.errors import ConfigError
    from landcarbon.flux import towers as T

    sy = pd.DataFrame({"site": ["A", "A", "B", "US-Ha1", "US-Ha1"], "year": [2001, 2003, 2002, 2011, 2012],
                       "origin": "raw files"})
    assert T.select_site_years(sy, "all").equals(sy)
    one = T.select_site_years(sy, "one_per_site")
    assert sorted(zip(one.site, one.year)) == [("A", 2003), ("B", 2002), ("US-Ha1", 2012)]
    assert list(zip(*T.select_site_years(sy, "extract")[["site", "year"]].to_numpy().T)) == [("US-Ha1", 2012)]
    shares = sy.assign(measured_share=[0.6, 0.2, np.nan, 0.4, 0.4])  # the best-measured year; ties -> latest
    one = T.select_site_years(shares, "one_per_site")
    assert sorted(zip(one.site, one.year)) == [("A", 2001), ("B", 2002), ("US-Ha1", 2012)]
    with pytest.raises(ConfigError, match="one_per_site"):
        T.select_site_years(sy, "some")
