"""The footprint twin: planted location bias recovered, truth by quadrature checked, generators sane."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import quad

import landcarbon.footprint as fp
from landcarbon.footprint import demo as D


@pytest.fixture(scope="module")
def field_setup():
    g = fp.footprint_grid(600.0, 2.0)
    land = fp.demo_field_landscape(grid=g, radius_m=250.0, pixel_centre_m=(150.0, 100.0), pixel_size_m=500.0)
    return g, land


def _estimate(turb, land, g):
    clim = fp.footprint_climatology(turb, grid=g)
    ndvi_fp = fp.footprint_weighted_mean(land["NDVI"], clim)
    pix = fp.pixel_weights(clim, centre_m=land.attrs["pixel_centre_m"], size_m=land.attrs["pixel_size_m"])
    ndvi_px = float((pix * land["NDVI"]).sum() / pix.sum())
    return float(fp.location_bias(ndvi_fp, ndvi_px)), clim


@pytest.mark.parametrize("seed, canopy", [(11, 0.4), (12, 0.4), (13, 6.0)])
def test_planted_location_bias_is_recovered(field_setup, seed, canopy):
    """Across realisations and two tower types the estimate is within 1e-3 of the planted truth."""
    g, land = field_setup
    turb = fp.demo_turbulence(seed, n_days=3, start="2014-06-01", canopy_height_m=canopy)
    truth = fp.field_truth(turb, land, grid=g)
    bias, clim = _estimate(turb, land, g)
    assert abs(bias - truth["location_bias"]) < 1e-3, (bias, truth)
    assert abs(clim.attrs["mass_in_domain"] - truth["mass_in_domain"]) < 1e-3
    assert truth["location_bias"] > 0.05  # the planted offset is not trivially zero
    assert clim.attrs["n_valid"] == truth["n_valid"]


def test_truth_quadrature_against_brute_force_2d():
    """The 1-D quadrature of field_truth against a brute-force 2-D sum of footprint_2d on a fine grid."""
    rng = np.random.default_rng(4)
    step = 0.25
    x = np.arange(-80.0, 80.0, step) + step / 2
    X, Y = np.meshgrid(x, x)
    R = 35.0
    inside_disc = np.hypot(X, Y) <= R
    for L in (-30.0, -300.0, 80.0):  # unstable, near-neutral, stable
        wd = float(rng.uniform(0, 360))
        kw = dict(zm_m=3.0, z0_m=0.03, h_m=800.0, obukhov_length_m=L, sigma_v_ms=0.7, ustar_ms=0.35)
        f = fp.footprint_2d(X, Y, wind_dir_deg=wd, **kw)
        lam = float(fp.length_scale(zm_m=3.0, z0_m=0.03, h_m=800.0, obukhov_length_m=L))
        ss = 3.0 * 0.7 / (float(fp.crosswind_scale(3.0, L)) * 0.35)
        m_rect, m_disc = D._masses(np.array([lam]), np.array([ss]), np.deg2rad([wd]), (-80.0, 80.0, -80.0, 80.0), R)
        assert m_rect[0] == pytest.approx(f.sum() * step**2, rel=2e-4)
        assert m_disc[0] == pytest.approx(f[inside_disc].sum() * step**2, rel=2e-3)


def test_disc_rectangle_area_against_quadrature():
    rng = np.random.default_rng(1)

    def oracle(r, x1, x2, y1, y2):
        a, b = max(x1, -r), min(x2, r)
        if b <= a:
            return 0.0
        def chord(x):
            h = math.sqrt(max(r * r - x * x, 0.0))
            return max(0.0, min(y2, h) - max(y1, -h))
        pts = [p for p in (-r, r, 0.0) if a < p < b]
        for yy in (y1, y2):
            if abs(yy) < r:
                t = math.sqrt(r * r - yy * yy)
                pts += [p for p in (-t, t) if a < p < b]
        return quad(chord, a, b, points=sorted(pts) or None, limit=400, epsabs=1e-12)[0]

    for _ in range(300):
        r = rng.uniform(1, 10)
        x1, x2 = np.sort(rng.uniform(-12, 12, 2))
        y1, y2 = np.sort(rng.uniform(-12, 12, 2))
        assert float(D.disc_rectangle_area(r, x1, x2, y1, y2)) == pytest.approx(oracle(r, x1, x2, y1, y2), abs=1e-7)
    assert float(D.disc_rectangle_area(2.0, -5, 5, -5, 5)) == pytest.approx(4 * math.pi, rel=1e-12)


def test_field_landscape_raster_holds_exact_cell_averages(field_setup):
    g, land = field_setup
    area_field = float(land["field_fraction"].sum()) * g.cell_area
    assert area_field == pytest.approx(math.pi * 250.0**2, rel=1e-10)
    nb, nf = land.attrs["ndvi_background"], land.attrs["ndvi_field"]
    assert float(land["NDVI"].min()) == pytest.approx(nb) and float(land["NDVI"].max()) == pytest.approx(nf)


def test_demo_turbulence_is_deterministic_and_physical():
    a = fp.demo_turbulence(5, n_days=20)
    b = fp.demo_turbulence(5, n_days=20)
    c = fp.demo_turbulence(6, n_days=20)
    xr.testing.assert_identical(a, b)
    assert not np.allclose(a["USTAR"].values, c["USTAR"].values, equal_nan=True)
    assert a.sizes["time"] == 20 * 48
    # z0 form and wind-speed form of FFP describe the same flow (exact log profile)
    lz = fp.length_scale(zm_m=a.attrs["zm_m"], z0_m=a.attrs["z0_m"], h_m=a["PBLH"].values,
                         obukhov_length_m=a["MO_LENGTH"].values)
    lu = fp.length_scale(zm_m=a.attrs["zm_m"], umean_ms=a["WS"].values, ustar_ms=a["USTAR"].values, h_m=a["PBLH"].values)
    ok = np.isfinite(lz)
    np.testing.assert_allclose(lz[ok], lu[ok], rtol=1e-10)
    # daytime unstable, night-time mostly stable; a realistic share of records fails FFP's limits
    hour = a["time"].dt.hour.values
    zl = a["ZL"].values
    assert np.nanmedian(zl[(hour >= 11) & (hour <= 14)]) < 0 < np.nanmedian(zl[(hour <= 2) | (hour >= 23)])
    flags = fp.validity_flags(zm_m=a.attrs["zm_m"], z0_m=a.attrs["z0_m"], h_m=a["PBLH"].values,
                              obukhov_length_m=a["MO_LENGTH"].values, sigma_v_ms=a["V_SIGMA"].values,
                              ustar_ms=a["USTAR"].values, wind_dir_deg=a["WD"].values)
    assert 0.5 < np.mean(flags == 0) < 0.97
    assert np.nanmin(a["PBLH"].values) > a.attrs["measurement_height_m"]


def test_demo_landscape_classes_and_stand():
    g = fp.footprint_grid(500.0, 5.0)
    ds = fp.demo_landscape(3, grid=g, dominant="DBF", others=("GRA", "CRO"), dominant_share=0.5, stand_radius_m=100.0)
    names = ds["land_cover"].attrs["flag_meanings"].split()
    assert names[0] == "DBF"
    lc = ds["land_cover"].values
    X, Y = np.meshgrid(g.x, g.y)
    assert (lc[np.hypot(X, Y) < 100.0] == 0).all()
    share = (lc == 0).mean()
    assert 0.5 <= share < 0.56  # quantile share + the stand
    for k, name in enumerate(names):
        assert float(ds["NDVI"].values[lc == k].mean()) == pytest.approx(D.IGBP_NDVI[name], abs=0.02)
    xr.testing.assert_identical(ds, fp.demo_landscape(3, grid=g, dominant="DBF", others=("GRA", "CRO"),
                                                      dominant_share=0.5, stand_radius_m=100.0))


def test_weighted_means_against_loops():
    g = fp.footprint_grid(100.0, 10.0)
    rng = np.random.default_rng(0)
    f = g.to_dataarray(rng.random((g.ny, g.nx)), "footprint", "m-2")
    p = g.to_dataarray(rng.random((g.ny, g.nx)), "NDVI", "1")
    p[3, 4] = np.nan
    w = rng.random((g.ny, g.nx))
    num = den = 0.0
    for j in range(g.ny):
        for i in range(g.nx):
            if np.isfinite(p.values[j, i]):
                num += f.values[j, i] * w[j, i] * p.values[j, i]
                den += f.values[j, i] * w[j, i]
    assert fp.footprint_weighted_mean(p, f, region=w) == pytest.approx(num / den, rel=1e-12)
    lc = g.to_dataarray(rng.integers(0, 3, (g.ny, g.nx)), "land_cover", "1")
    lc.attrs.update(flag_values=[0, 1, 2], flag_meanings="ENF GRA CRO")
    fr = fp.class_fractions(lc, f)
    assert fr.sum() == pytest.approx(1.0) and list(fr.index) == ["ENF", "GRA", "CRO"]
    assert fr["GRA"] == pytest.approx(float((f * (lc == 1)).sum() / f.sum()))


def test_pixel_weights_are_exact_overlaps():
    g = fp.footprint_grid(100.0, 10.0)
    like = g.to_dataarray(np.zeros((g.ny, g.nx)), "z", "1")
    w = fp.pixel_weights(like, centre_m=(13.0, -7.0), size_m=33.0)
    assert float(w.sum()) * g.cell_area == pytest.approx(33.0**2)
    assert float(w.max()) == 1.0
    from landcarbon.errors import DataError

    with pytest.raises(DataError, match="beyond the grid"):
        fp.pixel_weights(like, centre_m=(90.0, 0.0), size_m=50.0)


def test_uniform_landscape_is_perfectly_representative():
    g = fp.footprint_grid(300.0, 5.0)
    land = fp.demo_landscape(1, grid=g, dominant="GRA", others=(), dominant_share=0.5)
    land["NDVI"][:] = 0.6
    clim = fp.footprint_climatology(fp.demo_turbulence(2, n_days=2, canopy_height_m=0.3), grid=g)
    rep = fp.tower_representativeness(land, clim, pixel_centre_m=(0.0, 0.0), pixel_size_m=250.0)
    assert rep["ftvt"] == pytest.approx(1.0) and rep["pixel_tvt"] == pytest.approx(1.0)
    assert rep["location_bias"] == pytest.approx(0.0, abs=1e-12)
