"""FLUXNET2015 monthly files: the real 171 towers, malformed copies, the site metadata of every tower."""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from landcarbon.errors import DataError
from landcarbon.world import fluxnet as fx

SHARED = Path("/work/shared/data/fluxnet2015-mm")
HEADER = ["TIMESTAMP", "TA_F", "SW_IN_F", "VPD_F", "P_F", "NEE_VUT_REF", "NEE_VUT_REF_QC", "RECO_NT_VUT_REF",
          "RECO_DT_VUT_REF", "GPP_NT_VUT_REF", "GPP_DT_VUT_REF", "TA_ERA", "SW_IN_ERA", "VPD_ERA", "P_ERA"]


def _write(folder: Path, site="DE-Tha", n=24, y0=2004, **override) -> Path:
    rows = []
    for k in range(n):
        r = {"TIMESTAMP": f"{y0 + k // 12}{k % 12 + 1:02d}", "TA_F": 5.0 + k % 12, "SW_IN_F": 150.5, "VPD_F": 5.25,
             "P_F": 2.0, "NEE_VUT_REF": -1.0, "NEE_VUT_REF_QC": 0.8, "RECO_NT_VUT_REF": 2.0 + 0.01 * k,
             "RECO_DT_VUT_REF": 2.1, "GPP_NT_VUT_REF": 3.0, "GPP_DT_VUT_REF": 3.1, "TA_ERA": 5.5, "SW_IN_ERA": 140.0,
             "VPD_ERA": 5.0, "P_ERA": 1.9}
        r.update({c: f(k) for c, f in override.items() if callable(f)})
        rows.append(r)
    p = folder / f"FLX_{site}_FLUXNET2015_FULLSET_MM_{y0}-{y0 + (n - 1) // 12}_1-4.csv"
    p.write_text("\n".join([",".join(HEADER)] + [",".join(str(r[c]) for c in HEADER) for r in rows]) + "\n")
    return p


def test_fixture_reads_with_shipped_metadata(tmp_path):
    ds = fx.read_fluxnet_monthly([_write(tmp_path, "DE-Tha"), _write(tmp_path, "US-Wi9", y0=2005)])
    assert list(ds.site.values) == ["DE-Tha", "US-Wi9"] and ds.sizes["time"] == 36
    assert ds.RECO_NT.attrs["units"] == "gC m-2 d-1" and ds.P_ERA.attrs["units"] == "mm d-1"
    tha, wi9 = ds.sel(site="DE-Tha"), ds.sel(site="US-Wi9")
    assert str(tha.meta_source.values) == "site-info" and str(tha.PFT.values) == "ENF" and str(tha.koeppen.values)
    # US-Wi9 is not in FluxDataKit's table: coordinates and IGBP from the FLUXNET2015 site database copy
    assert str(wi9.meta_source.values) == "fluxnet2015-site-supplement"
    assert float(wi9.lat) == pytest.approx(46.6188) and float(wi9.lon) == pytest.approx(-91.0814)
    assert str(wi9.PFT.values) == "ENF" and str(wi9.koeppen.values) == ""
    # MAT = mean of the 12 calendar-month means of TA (5..16 degC -> 10.5)
    assert float(tha.MAT) == pytest.approx(10.5) and str(tha.climate_zone.values) == "temperate"


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.rsplit("\n", 2)[0] + "\n" + t.rsplit("\n", 2)[1][:30] + "\n", r"fields.*line 25"),   # truncated row
    (lambda t: t.replace("2.05,", "1e30,", 1), r"RECO_NT.*plausible.*1e\+30"),
    (lambda t: t.replace("2.05,", "inf,", 1), r"RECO_NT"),
    (lambda t: t.replace("2.05,", "nan,", 1), r"non-numeric value 'nan'.*line 7, column RECO_NT_VUT_REF"),
    (lambda t: t.replace("2.05,", "2,05,", 1), r"fields.*line 7"),
    (lambda t: t.replace("2.05,", "abc,", 1), r"non-numeric value 'abc'.*line 7, column RECO_NT_VUT_REF"),
    (lambda t: t.replace("200406", "2004-6", 1), r"'2004-6' is not YYYYMM.*line 7"),
    (lambda t: t.replace("200406", "200405", 1), r"duplicate month 200405.*line 7"),
    (lambda t: "", r"empty"),
    (lambda t: t.split("\n")[0] + "\n", r"no data rows"),
    (lambda t: t.replace("TIMESTAMP", "TIME", 1), r"TIMESTAMP missing"),
    (lambda t: t.replace("-1.0,0.8", "-1.0,1.8", 1), r"NEE_QC.*plausible"),
])
def test_malformed_copies_are_refused_with_place_and_fix(tmp_path, damage, message):
    p = _write(tmp_path, "DE-Tha")
    p.write_text(damage(p.read_text()))
    with pytest.raises(DataError, match=message) as info:
        fx.read_fluxnet_monthly([p])
    assert str(p) in str(info.value) and "Fix:" in str(info.value)


def test_binary_garbage_and_mask_mode(tmp_path):
    p = _write(tmp_path, "DE-Tha")
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(DataError, match="not a text CSV"):
        fx.read_fluxnet_monthly([p])
    q = _write(tmp_path, "DE-Tha")
    q.write_text(q.read_text().replace("2.05,", "1e30,", 1))
    ds = fx.read_fluxnet_monthly([q], plausibility="mask")
    assert np.isnan(ds.RECO_NT.values[0, 5]) and ds.RECO_NT.attrs["n_masked_implausible"] == 1
    with pytest.raises(DataError, match="two files"):
        fx.read_fluxnet_monthly([q, q])


def test_extract_reader_refuses_a_damaged_extract(tmp_path):
    p = _write(tmp_path, "DE-Tha")
    out = fx.build_fluxnet_mm_extract([p], tmp_path / "ex")
    ex = fx.read_fluxnet_mm_extract(out)
    raw = fx.read_fluxnet_monthly([p])
    for v in ex.data_vars:
        np.testing.assert_array_equal(ex[v].values, raw[v].values)
    with gzip.open(out[0], "rt") as fh:
        text = fh.read()
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write(text.replace("2.05,", "1e30,", 1))
    with pytest.raises(DataError, match=r"bad.csv.gz \(site DE-Tha\).*RECO_NT"):
        fx.read_fluxnet_mm_extract([bad])
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read the extract"):
        fx.read_fluxnet_mm_extract([bad])
    # bytes are deterministic (gzip mtime 0)
    again = fx.build_fluxnet_mm_extract([p], tmp_path / "ex2")
    assert again[0].read_bytes() == out[0].read_bytes()


def test_supplement_agrees_with_fluxdatakit_where_both_know_the_site():
    """The FLUXNET2015 site-database copy is independent of FluxDataKit's table: on the 128 towers both list,
    coordinates agree within 0.1 degree (median < 0.001) and the IGBP class in >= 95 % of the towers."""
    from landcarbon.data import open_dataset

    sup = open_dataset("fluxnet2015-site-supplement", source="real")
    fdk = open_dataset("site-info", source="real")
    common = np.intersect1d(sup.site.values, fdk.site.values)
    assert common.size == 128 and sup.sizes["site"] == 171
    a, b = sup.sel(site=common), fdk.sel(site=common)
    d = np.maximum(abs(a.lat.values - b.lat.values), abs(a.lon.values - b.lon.values))
    assert np.median(d) < 1e-3 and d.max() < 0.1
    assert np.mean(a.igbp.values == b.igbp.values) >= 0.95
    missing = np.setdiff1d(sup.site.values, fdk.site.values)
    assert missing.size == 43 and "US-Wi9" in missing and "GH-Ank" in missing


@pytest.mark.realdata
def test_all_171_real_towers_load_and_have_metadata():
    if not SHARED.is_dir():
        pytest.skip("shared FLUXNET2015 monthly files not available")
    ds = fx.read_fluxnet_monthly(sorted(SHARED.glob("FLX_*_MM_*.csv")))
    assert ds.sizes["site"] == 171 and ds.sizes["time"] == 288
    assert np.isfinite(ds.lat).all() and np.isfinite(ds.lon).all() and (ds.PFT != "unknown").all()
    assert (ds.meta_source == "fluxnet2015-site-supplement").sum() == 43
    assert set(np.unique(ds.climate_zone.values)) == {"boreal", "temperate", "tropical"}
    # monthly means of daily sums: RECO in a plausible range; NEE ~ RECO - GPP (NT). Not exact: ONEFlux picks
    # the reference (REF) u*-threshold version of NEE, GPP and RECO separately (median |residual| 0.02).
    ok = np.isfinite(ds.NEE) & np.isfinite(ds.RECO_NT) & np.isfinite(ds.GPP_NT)
    resid = (ds.RECO_NT - ds.GPP_NT - ds.NEE).where(ok)
    assert float(abs(resid).quantile(0.5)) < 0.05 and float(abs(resid).quantile(0.5)) < 0.02 * float(ds.RECO_NT.mean())
    assert 0 < float(ds.RECO_NT.mean()) < 10


@pytest.mark.realdata
def test_a_damaged_copy_of_a_real_file_names_the_month(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("shared FLUXNET2015 monthly files not available")
    src = SHARED / "FLX_DE-Tha_FLUXNET2015_FULLSET_MM_1996-2014_1-4.csv"
    dst = tmp_path / src.name
    lines = src.read_text().splitlines()
    header = lines[0].split(",")
    j = header.index("RECO_NT_VUT_REF")
    fields = lines[40].split(",")
    fields[j] = "1e30"
    lines[40] = ",".join(fields)
    dst.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"RECO_NT.*1e\+30.*1999-04") as info:
        fx.read_fluxnet_monthly([dst])
    assert src.name in str(info.value)
    shutil.copy(src, dst)
    dst.write_text(dst.read_text()[:-200])                  # truncated download
    with pytest.raises(DataError, match="fields"):
        fx.read_fluxnet_monthly([dst])
