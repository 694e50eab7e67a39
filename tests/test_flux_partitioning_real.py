"""Real-data regression tests: DE-Tha 1998 against REddyProc 1.3.3 (skip without LANDCARBON_DATA_PATH).

Partitioning is tested on REddyProc's own gap-filled NEE_f (so this tests partitioning separately
from the u* filter and MDS gap filling).
"""
from __future__ import annotations

import json


import numpy as np
import pytest

from _flux_ref_helpers import load_reddyproc_reference_input, r2

pytestmark = pytest.mark.realdata

REF_NT = {"GPP": 1918.0, "RECO": 1305.6}
REF_DT = {"GPP": 1795.5, "RECO": 1191.2}


@pytest.fixture(scope="module")
def ref(detha_reference_dir):
    return load_reddyproc_reference_input(detha_reference_dir)


@pytest.fixture(scope="module")
def nt(ref):
    from landcarbon.flux.nighttime import partition_nt

    return partition_nt(ref[0])


def test_reference_summary_matches_constants(detha_reference_dir):
    s = json.loads((detha_reference_dir / "DETha98_REddyProc_summary.json").read_text())["annual_sums_gC_m2_yr"]
    assert s["GPP_f"] == pytest.approx(REF_NT["GPP"], abs=0.1)
    assert s["Reco_DT"] == pytest.approx(REF_DT["RECO"], abs=0.1)


def test_nt_annual_sums_and_r2(nt, ref):
    ds, df = ref
    sums = nt.annual_sums()
    assert sums["GPP"] == pytest.approx(REF_NT["GPP"], rel=0.05)
    assert sums["RECO"] == pytest.approx(REF_NT["RECO"], rel=0.05)
    assert r2(nt.reco.values, df.Reco) >= 0.95
    assert nt.info["e0"] == pytest.approx(df.E_0.iloc[0], rel=0.10)
    # sign convention: NEE = RECO - GPP
    np.testing.assert_allclose(nt.reco.values - nt.gpp.values, ds.NEE_f.values, atol=1e-9)
    assert nt.reco.attrs["units"] == "umol m-2 s-1"


def test_nt_night_mask_close_to_reddyproc(nt, ref):
    _, df = ref
    mine = np.isfinite(nt.extra["NEE_night"].values)
    theirs = np.isfinite(df.FP_NEEnight_uStar.to_numpy())
    assert (mine != theirs).sum() < 0.05 * theirs.sum()


@pytest.fixture(scope="module")
def dt(ref):
    from landcarbon.flux.daytime import partition_dt

    return partition_dt(ref[0])


def test_dt_annual_sums_and_r2(dt, ref):
    _, df = ref
    sums = dt.annual_sums()
    assert sums["GPP"] == pytest.approx(REF_DT["GPP"], rel=0.07)
    assert sums["RECO"] == pytest.approx(REF_DT["RECO"], rel=0.07)
    assert r2(dt.gpp.values, df.GPP_DT) >= 0.95
    assert np.isfinite(dt.gpp.values).all() and (dt.gpp.values >= 0).all()


def test_dt_window_table_quality_codes(dt):
    p = dt.params
    assert set(p.code.unique()) <= {0, 1002, 1005, 1010, 1011}
    ok = p[p.code == 0]
    assert len(ok) > 100
    # accepted windows respect the Lasslop Table A1 bounds
    assert (ok.alpha >= 0).all() and (ok.rb >= 0).all() and (ok.beta < 250).all() and (ok.k >= 0).all()
    assert ok.qc.isin([0, 1]).all()
    assert p.e0_night.between(50, 400).all()
