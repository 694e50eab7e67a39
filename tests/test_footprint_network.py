"""Network part: tower table from the site table, per-tower climatologies, climate-space coverage."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import landcarbon.footprint as fp
from landcarbon.data import open_dataset
from landcarbon.errors import DataError


@pytest.fixture(scope="module")
def site_info():
    return open_dataset("site-info")


def test_tower_list_is_the_shared_half_hourly_folder(shared_data):
    files = sorted(p.name.split("_")[1] for p in (shared_data / "fluxnet2015-hh").glob("FLX_*_FLUXNET2015_HH_*.nc"))
    assert tuple(files) == fp.FLUXNET2015_HH_TOWERS


def test_tower_table_geometry_and_flags(site_info):
    t = fp.tower_table(site_info)
    assert t.attrs["missing"] == ["BR-Sa1", "CA-Oas", "CN-Ha2", "CN-Sw2", "GH-Ank"]
    assert len(t) == 35
    row = t.loc["DE-Tha"]  # 26.5 m spruce, sensor at 42 m
    assert row["displacement_m"] == pytest.approx(0.67 * 26.5) and row["z0_m"] == pytest.approx(2.65)
    assert row["zm_m"] == pytest.approx(42.0 - 0.67 * 26.5)
    assert not row["ffp_valid"] and not row["height_imputed"]  # 24.2 m < 12.5 * 2.65 m
    assert t.loc["AU-How", "height_imputed"] and t.loc["AU-How", "ffp_valid"]
    np.testing.assert_array_equal(t["ffp_valid"], t["zm_m"] > 12.5 * t["z0_m"])
    with pytest.raises(DataError, match="none of the towers"):
        fp.tower_table(site_info, towers=["XX-Nop"])


def test_tower_climatologies_on_scaled_grids(site_info):
    t = fp.tower_table(site_info, towers=("US-Var", "CH-Dav", "DE-Tha"))
    cl = fp.tower_climatologies(t, n_days=2, cells=60)
    assert set(cl) == {"US-Var", "CH-Dav"}  # DE-Tha is inside the roughness sublayer
    for site, c in cl.items():
        half = float(c.x[-1] + (c.x[1] - c.x[0]) / 2)
        assert half == pytest.approx(max(10.0, np.ceil(80 * t.loc[site, "zm_m"])))
        assert 0.85 < c.attrs["mass_in_domain"] <= 1.0
    sizes = fp.source_area_sizes(cl, t)
    assert sizes.loc["CH-Dav", "area80_m2"] > 1000 * sizes.loc["US-Var", "area80_m2"]


def _toy_climate():
    lat = np.arange(-45.0, 50.0, 10.0)
    lon = np.arange(-170.0, 180.0, 20.0)
    rng = np.random.default_rng(0)
    mat = 25 - 0.5 * np.abs(lat)[:, None] + rng.normal(0, 2, (lat.size, lon.size))
    mp = np.exp(rng.normal(6.5, 0.6, (lat.size, lon.size)))
    mat[0, :3] = np.nan  # "ocean"
    pft = rng.integers(0, 3, (lat.size, lon.size)).astype(np.int16)
    ds = xr.Dataset({"MAT": (("lat", "lon"), mat), "MAP": (("lat", "lon"), mp),
                     "PFT": (("lat", "lon"), pft, {"flag_meanings": "ENF GRA CRO"})}, coords={"lat": lat, "lon": lon})
    sites = xr.Dataset({"lat": ("site", [5.0, 25.0, -35.0]), "lon": ("site", [10.0, -90.0, 130.0]),
                        "igbp": ("site", ["ENF", "GRA", "ENF"])}, coords={"site": ["A", "B", "C"]})
    return ds, sites


def test_network_distance_against_loops():
    rng = np.random.default_rng(1)
    cells, sites = rng.normal(size=(50, 2)), rng.normal(size=(6, 2))
    scale = np.array([2.0, 0.5])
    cc, sc = rng.integers(0, 3, 50), rng.integers(0, 2, 6)
    d, idx = fp.network_distance(cells, sites, scale=scale, cell_class=cc, site_class=sc)
    for i in range(50):
        best, arg = np.inf, -1
        for j in range(6):
            if cc[i] == sc[j]:
                dd = np.sqrt((((cells[i] - sites[j]) / scale) ** 2).sum())
                if dd < best:
                    best, arg = dd, j
        assert d[i] == pytest.approx(best) and idx[i] == arg


def test_network_representativeness_by_hand():
    ds, sites = _toy_climate()
    rep = fp.network_representativeness(ds, sites, threshold=0.3)
    feats = fp.climate_features(ds.MAT.values, ds.MAP.values)
    land = np.all(np.isfinite(feats), axis=-1)
    w = np.broadcast_to(np.cos(np.deg2rad(ds.lat.values))[:, None], land.shape)
    # the towers' own cells are at distance 0
    for k in range(3):
        i = int(np.argmin(np.abs(ds.lat.values - float(sites.lat[k]))))
        j = int(np.argmin(np.abs(ds.lon.values - float(sites.lon[k]))))
        assert rep.distance.values[i, j] == 0.0
    expect = w[land][rep.distance.values[land] <= 0.3].sum() / w[land].sum()
    assert rep.attrs["represented_fraction"] == pytest.approx(expect)
    assert np.isnan(rep.distance.values[0, 0]) and not rep.represented.values[0, 0]
    by = fp.network_representativeness(ds, sites, threshold=0.3, by_class=True)
    cro = ds.PFT.values == 2  # no CRO tower: never represented
    assert np.isinf(by.distance.values[cro & land]).all() and not by.represented.values[cro].any()
    assert by.attrs["represented_fraction"] <= rep.attrs["represented_fraction"]
    curve = fp.coverage_curve(rep, [0.0, 0.3, 100.0])
    assert curve.represented_fraction.is_monotonic_increasing
    assert curve.represented_fraction.iloc[1] == pytest.approx(rep.attrs["represented_fraction"])
    assert curve.represented_fraction.iloc[2] == pytest.approx(1.0)


def test_annual_climate_from_monthly_fields():
    t = pd.date_range("2000-01-01", periods=24, freq="MS")
    ta = xr.DataArray(np.arange(24.0)[:, None, None] * np.ones((1, 2, 3)), dims=("time", "lat", "lon"),
                      coords={"time": t, "lat": [0.0, 1.0], "lon": [0.0, 1.0, 2.0]}, attrs={"units": "degC"})
    ds = xr.Dataset({"TA": ta, "P": (ta * 0 + 50.0).assign_attrs(units="mm month-1")})
    c = fp.annual_climate(ds)
    np.testing.assert_allclose(c.MAT.values, 11.5)
    np.testing.assert_allclose(c.MAP.values, 600.0)
    with pytest.raises(DataError, match="mm month-1"):
        fp.annual_climate(ds.assign(P=ds.P.assign_attrs(units="mm d-1")))
    with pytest.raises(DataError, match="MAT and MAP"):
        fp.annual_climate(ds.drop_vars("P"))
