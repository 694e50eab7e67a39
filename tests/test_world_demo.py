"""Demo world: determinism, land mask, climate structure, trends, truth model, site network."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.errors import ConfigError
from landcarbon.units import grid_cell_area_m2
from landcarbon.world import demo, grid

RES = 5.0  # coarse grid keeps these tests fast


@pytest.fixture(scope="module")
def world():
    return demo.demo_drivers(11, years=(1989, 2018), resolution=RES).load()


def test_grid_coords_and_area_cover_the_sphere():
    lat, lon = grid.grid_coords(2.0)
    assert lat[0] == -89.0 and lat[-1] == 89.0 and np.all(np.diff(lat) > 0)
    assert lon[0] == -179.0 and lon[-1] == 179.0
    area = grid.cell_area(lat, lon, 2.0)
    assert float(area.sum()) == pytest.approx(4 * np.pi * 6.371e6**2, rel=1e-12)
    with pytest.raises(ConfigError, match="resolution"):
        grid.grid_coords(0.7)


def test_land_mask_matches_known_places_and_area():
    m = grid.land_mask(0.5)
    lat, lon = grid.grid_coords(0.5)
    # ~62,000 land cells at 0.5 deg without Antarctica (CRU TS has ~67,000 incl. small islands)
    assert 55_000 < m.sum() < 70_000
    area = grid_cell_area_m2(lat, 0.5, 0.5)[:, None] * np.ones(lon.size)
    land_area = float((area * m).sum())
    assert 1.25e14 < land_area < 1.45e14  # ice-free land + Greenland ~ 1.34e14 m2
    i, j = grid.nearest_cell(lat, lon, [23.0, 52.0, -3.0, 0.0, 30.0, -75.0], [10.0, 13.4, -60.0, -30.0, -40.0, 0.0])
    assert list(m[i, j]) == [True, True, True, False, False, False]  # Sahara, Berlin, Amazon | Atlantic x2, Antarctica


def test_determinism_and_window_independence():
    a = demo.demo_drivers(5, years=(1990, 1992), resolution=RES, variables=["TA", "SWC", "ER_true"]).load()
    b = demo.demo_drivers(5, years=(1990, 1992), resolution=RES, variables=["TA", "SWC", "ER_true"]).load()
    c = demo.demo_drivers(5, years=(1989, 1993), resolution=RES, variables=["TA", "SWC", "ER_true"]).load()
    d = demo.demo_drivers(6, years=(1990, 1992), resolution=RES, variables=["TA"]).load()
    for v in ("TA", "SWC", "ER_true"):
        np.testing.assert_array_equal(a[v].values, b[v].values)
        np.testing.assert_array_equal(a[v].values, c[v].sel(time=a.time).values)
    assert not np.allclose(a.TA.values, d.TA.values, equal_nan=True)


def test_structure_units_and_ranges(world):
    for v in demo.DRIVER_VARS + ("ER_true",):
        assert world[v].attrs["units"] == demo.UNITS[v]
        assert world[v].dtype == np.float32
    land = world.land.values
    assert np.isnan(world.TA.values[:, ~land]).all()
    assert np.isfinite(world.TA.values[:, land]).all()
    assert (world.lat.diff("lat") > 0).all() and float(world.lon.min()) > -180
    assert float(world.RH.min()) >= 5 and float(world.RH.max()) <= 99
    assert float(world.VPD.min()) >= 0 and float(world.P.min()) >= 0 and float(world.PET.min()) >= 0
    np.testing.assert_allclose(world.TMAX - world.TMIN, world.DTR, atol=1e-4)
    np.testing.assert_allclose(world.VPD + world.VAP, demo._es_hpa(world.TA.values), rtol=1e-4)
    assert float(world.ER_true.min()) >= 0


def test_latitudinal_and_seasonal_structure(world):
    mat = world.TA.mean("time")
    trop = float(mat.sel(lat=slice(-15, 15)).mean())
    temp = float(mat.sel(lat=slice(35, 55)).mean())
    bor = float(mat.sel(lat=slice(55, 75)).mean())
    assert trop > temp > bor
    jul = world.TA.where(world.time.dt.month == 7).mean("time")
    jan = world.TA.where(world.time.dt.month == 1).mean("time")
    assert float((jul - jan).sel(lat=slice(40, 70)).mean()) > 10      # NH summer in July
    assert float((jul - jan).sel(lat=slice(-45, -25)).mean()) < 0     # SH summer in January
    p = world.P.mean("time")
    assert float(p.sel(lat=slice(-10, 10)).mean()) > 2 * float(p.sel(lat=slice(15, 30)).mean())  # wet tropics, dry subtropics


def _trend(da):
    y = da.groupby("time.year").mean().values
    return np.polyfit(np.arange(y.size), y, 1)[0]


def test_trends_warming_and_drying(world):
    w = world.area.where(world.land)
    glob = lambda v: (world[v] * w).sum(("lat", "lon")) / w.sum()  # noqa: E731
    assert 0.01 < _trend(glob("TA")) < 0.06  # degC yr-1
    warm = world.MAT > 6
    swc = (world.SWC * w).where(warm).sum(("lat", "lon")) / w.where(warm).sum()
    assert _trend(swc) < 0  # drying soils in temperate and tropical regions
    rh = (world.RH * w).where(warm).sum(("lat", "lon")) / w.where(warm).sum()
    assert _trend(rh) < 0
    assert _trend(glob("WET")) < 0  # fewer rain days (rain intensification), as the seed reports
    assert _trend(glob("P")) > 0    # while total precipitation increases slightly


def test_er_true_is_the_documented_model(world):
    rref = np.array([demo.PFT_BASE_RATE[p] for p in demo.PFTS])
    land = world.land.values
    pft = world.PFT.values[land]
    got = world.ER_true.values[:, land]
    ta, swc = world.TA.values[:, land].astype(float), world.SWC.values[:, land].astype(float)
    mat, map_ = world.MAT.values[land].astype(float), world.MAP.values[land].astype(float)
    # independent oracle written from the docstring
    tacc = np.maximum(ta - 0.4 * np.maximum(mat - 10, 0), -40)
    ft = np.exp(308.56 * (1 / (15 + 46.02) - 1 / (tacc + 46.02)))
    beta = 0.3 + 1.7 * np.clip((mat - 1.0) / 6.0, 0, 1)  # water sensitivity: 0.3 boreal .. 2.0 warm
    fw = ((swc / (swc + 0.15)) / (0.40 / 0.55)) ** beta
    g = 0.35 + 0.65 * (1 - np.exp(-map_ / 800))
    np.testing.assert_allclose(got, demo._ER_SCALE * rref[pft] * g * ft * fw, rtol=2e-3)
    np.testing.assert_allclose(demo.water_sensitivity(np.array([-5.0, 1.0, 4.0, 7.0, 25.0])),
                               [0.3, 0.3, 1.15, 2.0, 2.0])


def test_global_true_er_is_plausible():
    ds = demo.demo_drivers(2022, years=(1999, 2000), resolution=2.0, variables=["ER_true"])
    er = ds.ER_true.load()
    annual = (er * er.time.dt.days_in_month).groupby("time.year").sum(min_count=12)
    total = (annual * ds.area).sum(("lat", "lon")) / 1e15
    assert np.all((total > 100) & (total < 135))  # PgC yr-1, same order as FLUXCOM (~115)


def test_site_network_like_fluxnet():
    s = demo.demo_site_observations(2022, n_sites=200, years=(1989, 2018), resolution=2.0)
    assert s.sizes["site"] == 200 and len(set(s.site.values)) == 200
    reg = s.region.to_series().value_counts(normalize=True)
    assert reg.get("North America", 0) + reg.get("Europe", 0) > 0.55
    assert (s.climate_zone == "tropical").mean() < 0.35
    zone = demo.climate_zone(s.MAT.values)
    np.testing.assert_array_equal(zone, s.climate_zone.values)
    assert set(np.unique(s.PFT.values)) <= set(demo.PFTS)
    yrs = s.time.dt.year
    obs = np.isfinite(s.RECO_NT)
    assert int(obs.where(yrs < 1991, False).sum()) == 0 and int(obs.where(yrs > 2014, False).sum()) == 0
    frac = float(obs.sum() / (s.sizes["site"] * 24 * 12))
    assert 0.1 < frac < 0.8
    # truth at the site = truth of the world at the site's cell
    w = demo.demo_drivers(2022, years=(1989, 2018), resolution=2.0, variables=["ER_true"])
    i, j = grid.nearest_cell(w.lat.values, w.lon.values, s.lat.values[:5], s.lon.values[:5])
    cell = w.ER_true.isel(time=slice(120, 132)).load().values[:, i, j].T
    np.testing.assert_allclose(s.RECO_true.isel(site=slice(0, 5), time=slice(120, 132)).values, cell, rtol=1e-6)
    # observations scatter around the truth (site bias + noise), unbiased on average within ~10 %
    ratio = float(s.RECO_NT.sum() / s.RECO_true.where(obs).sum())
    assert 0.9 < ratio < 1.1


def test_bad_arguments():
    with pytest.raises(ConfigError, match="year"):
        demo.demo_drivers(1, years=(2000, 1990), resolution=RES)
    with pytest.raises(ConfigError, match="unknown demo variables"):
        demo.demo_drivers(1, years=(2000, 2000), resolution=RES, variables=["NOPE"])
    with pytest.raises(ConfigError):
        demo.demo_drivers(1, years=(2000, 2000), resolution=0.33)


@pytest.fixture(scope="module")
def truth_2deg():
    """Annual true ER and drivers on the quick-profile grid (2 deg) of the notebooks' default seed."""
    from landcarbon import trends as tr
    from landcarbon import upscaling as up
    d = demo.demo_drivers(2022, years=(1989, 2018), resolution=2.0,
                          variables=["TA", "SWC", "RH", "P", "ER_true", "ER_DT_true", "ER_DTRH_true", "GPP_true",
                                     "NEP_true"]).load()
    er = up.annual_sum(d.ER_true)
    ann = up.annual_drivers(d)
    land = er.notnull().all("year")
    zones = tr.climate_zones(ann.TA.mean("year").where(land).assign_attrs(units="degC"))
    return d, er, ann, land, zones


def test_true_er_trends_follow_the_seed_study(truth_2deg):
    """As Li et al. find: global ER decreases significantly 1989-2018, temperate and tropical decrease, boreal increases."""
    from landcarbon import trends as tr
    d, er, _, _, zones = truth_2deg
    table = tr.regional_trend_table(tr.regional_totals(er.assign_attrs(units="gC m-2 yr-1"), d.area, zones))
    assert 105 < table.loc["global", "mean"] < 130  # PgC yr-1
    assert table.loc["global", "trend"] < 0 and table.loc["global", "p"] < 0.05
    assert table.loc["temperate", "trend"] < 0 and table.loc["tropical", "trend"] < 0
    assert table.loc["tropical", "p"] < 0.05
    assert table.loc["boreal", "trend"] > 0 and table.loc["boreal", "p"] < 0.05


def test_true_er_variability_water_dominated_in_warm_zones(truth_2deg):
    """Partial-correlation attribution of detrended ER (as in the trends chapter): water dominates in
    temperate + tropical cells, temperature in boreal cells."""
    from landcarbon import trends as tr
    d, er, ann, land, zones = truth_2deg
    part = tr.partial_correlation(er, {k: ann[k] for k in ("TA", "SWC", "RH", "P")}, "year")
    dom = tr.dominant_driver(part, ["TA"], ["SWC", "RH", "P"]).where(land, 0)
    valid = dom["valid"] & land
    warm = valid & (zones >= 2)
    boreal = valid & (zones == 1)
    assert tr.share_of_pixels(dom == 2, warm, d.area) > 0.6
    assert tr.share_of_pixels(dom == 1, boreal, d.area) > 0.8


def test_method_truths_carry_the_published_ratios(truth_2deg):
    """DT/NT and DT-RH/NT global ratios are the study's 116.21/115.51 and 122.77/115.51 (calibrated here);
    ER_DTRH = ER_NT x method_ratio exactly, crops above forests."""
    from landcarbon import upscaling as up
    d, er, _, _, _ = truth_2deg
    tot = {v: float(up.global_total(up.annual_sum(d[v]), d.area).mean()) for v in ("ER_true", "ER_DT_true", "ER_DTRH_true")}
    assert tot["ER_DT_true"] / tot["ER_true"] == pytest.approx(116.21 / 115.51, abs=5e-4)
    assert tot["ER_DTRH_true"] / tot["ER_true"] == pytest.approx(122.77 / 115.51, abs=5e-4)
    land = d.land.values
    r = demo.method_ratio("DT-RH", d.PFT.values[land], d.MAT.values[land], d.MAP.values[land])
    np.testing.assert_allclose(d.ER_DTRH_true.values[5][land], d.ER_true.values[5][land] * r, rtol=1e-5)
    assert demo.method_ratio("DT-RH", np.array(["CRO"]), 12.0, 800.0) > demo.method_ratio("DT-RH", np.array(["ENF"]), 12.0, 800.0)


def test_true_nep_structure(truth_2deg):
    """NEP = GPP - ER; each cell's climatological NEP/ER equals its class's kappa over the GPP reference
    years; northern temperate summers take up, winters release; tropical NEP is small."""
    from landcarbon import upscaling as up
    d, _, _, land, zones = truth_2deg
    np.testing.assert_allclose(d.NEP_true.values, d.GPP_true.values - d.ER_true.values, atol=1e-4)
    ref = d.sel(time=slice("1989", "1998"))
    days = ref.time.dt.days_in_month
    ratio = ((ref.NEP_true * days).sum("time") / (ref.ER_true * days).sum("time")).values[land.values]
    kappa = np.array([demo.NEP_FRACTION[p] for p in demo.PFTS])[d.PFT.values[land.values]]
    np.testing.assert_allclose(ratio, kappa, rtol=2e-3)
    north = (d.lat > 35) & (d.lat < 55)
    w = d.area.where(land & north)
    season = (d.NEP_true * w).sum(("lat", "lon")).groupby("time.month").mean()
    assert float(season.sel(month=7)) > 0 > float(season.sel(month=1))
    nep = up.global_total(up.annual_sum(d.NEP_true), d.area)
    assert 5 < float(nep.mean()) < 20                      # PgC yr-1 (a related product: 13.8)


def test_towers_at_the_real_fluxnet2015_locations():
    s = demo.demo_site_observations(2022, years=(1989, 2018), resolution=2.0, network="fluxnet2015")
    assert s.sizes["site"] == 171 and "US-Ha1" in s.site.values and s.attrs["network"] == "fluxnet2015"
    ha1 = s.sel(site="US-Ha1")
    assert float(ha1.lat) == pytest.approx(42.5378, abs=0.01)
    yrs = s.time.dt.year.values[np.isfinite(ha1.RECO_NT.values) | np.isfinite(ha1.TA.values)]
    assert yrs.min() >= 1991 and yrs.max() <= 2012          # the real record, FLX_US-Ha1_..._1991-2012
    # footprints keep their real IGBP class where it fits the twin's climate zone
    assert (s.PFT.values != s.PFT_cell.values).mean() > 0.2


def test_tower_heterogeneity_is_unbiased_in_expectation():
    """Towers report their cell's truth times the footprint/cell base-rate ratio, on average (no bias from
    the soil-water factor; our formulation) — and each tower deviates (heterogeneity)."""
    s = demo.demo_site_observations(2022, n_sites=200, years=(1995, 2005), resolution=2.0, record_years=(1995, 2005))
    rref = {p: demo.PFT_BASE_RATE[p] for p in demo.PFTS}
    fac = np.array([rref[a] / rref[b] for a, b in zip(s.PFT.values, s.PFT_cell.values)])
    obs = np.isfinite(s.RECO_NT)
    ratio = (s.RECO_NT.where(obs).sum("time") / s.RECO_true.where(obs).sum("time")).values / fac
    assert 0.9 < np.median(ratio) < 1.1 and 0.2 < np.std(np.log(ratio)) < 0.6
