"""GPP models against independent oracles: MOD17 (mod17 package), the P-model (pyrealm), hand and
quadrature calculations for the SIF chain, and exact round trips."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.constants as sc
import xarray as xr
from scipy import integrate

from landcarbon import units
from landcarbon.errors import ConfigError, DataError, UnitsError
from landcarbon.gpp import lue, pmodel, sif


# ------------------------------------------------------------------ MOD17
def _mod17_oracle_params(name):
    """Parameters of the mod17 package's own C5.1 BPLUT (kgC, Pa), read from its shipped CSV."""
    import csv
    from importlib.resources import files

    rows = list(csv.reader(files("mod17").joinpath("data/MOD17_BPLUT_C5.1_MERRA_NASA.csv").open()))
    cols = [c.split("=")[0].strip() for c in rows[0][1:]]
    alias = {"CShrub": "CSH", "OShrub": "OSH", "WSavannas": "WSA", "Savannas": "SAV", "Grass": "GRA", "Crop": "CRO"}
    k = [alias.get(c, c) for c in cols].index(name)
    table = {r[0]: float(r[1 + k]) for r in rows[1:6]}
    return table


@pytest.mark.parametrize("name", [c for c in lue.MOD17_CLASSES])
def test_mod17_matches_the_mod17_package(name):
    from mod17 import MOD17

    t = _mod17_oracle_params(name)
    rng = np.random.default_rng(1)
    n = 2000
    fpar, par = rng.uniform(0, 1, n), rng.uniform(0, 15, n)
    tmin, vpd_hpa = rng.uniform(-15, 25, n), rng.uniform(0, 60, n)
    tmin[:3] = [t["Tmin_min(C)"], t["Tmin_max(C)"], 0.0]      # ramp ends exactly
    vpd_hpa[:3] = [t["VPD_min(Pa)"] / 100, t["VPD_max(Pa)"] / 100, 0.0]
    params = [t["LUEmax(KgC/m^2/d/MJ)"], t["Tmin_min(C)"], t["Tmin_max(C)"], t["VPD_min(Pa)"], t["VPD_max(Pa)"]]
    ref = MOD17._gpp(params, fpar, tmin, vpd_hpa * 100.0, par)          # gC m-2 d-1 (1e3 x kgC)
    got = lue.mod17_gpp(fpar, par, tmin, vpd_hpa, **lue.mod17_parameters(name))
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-12)
    assert np.any(got == 0) and np.any(got > 0)


def test_mod17_table_is_the_packages_table():
    for name in lue.MOD17_CLASSES:
        t = _mod17_oracle_params(name)
        p = lue.mod17_parameters(name)
        assert p["lue_max_gc_mj"] == pytest.approx(1e3 * t["LUEmax(KgC/m^2/d/MJ)"], rel=1e-9)
        assert p["vpd_max_hpa"] == pytest.approx(t["VPD_max(Pa)"] / 100, rel=1e-9)
        assert p["tmin_min_degc"] == t["Tmin_min(C)"]


def test_mod17_vectorised_over_classes_and_xarray_dask():
    names = np.array(["ENF", "CRO", "GRA"])
    p = lue.mod17_parameters(names)
    fpar = np.array([0.5, 0.6, 0.7])
    one = [lue.mod17_gpp(f, 10.0, 5.0, 12.0, **lue.mod17_parameters(n)) for f, n in zip(fpar, names)]
    np.testing.assert_allclose(lue.mod17_gpp(fpar, 10.0, 5.0, 12.0, **p), one, rtol=1e-14)
    da = xr.DataArray(np.tile(fpar, (4, 1)), dims=("time", "x")).chunk({"time": 2})
    ramps = {k: xr.DataArray(v, dims="x") for k, v in p.items() if k != "lue_max_gc_mj"}
    out = lue.mod17_gpp_xr(da, 10.0, 5.0, 12.0, lue_max_gc_mj=xr.DataArray(p["lue_max_gc_mj"], dims="x"), params=ramps)
    assert out.chunks is not None and out.attrs["units"] == "gC m-2 d-1"
    np.testing.assert_allclose(out.values[0], one, rtol=1e-14)


def test_lue_bad_input_raises_clear_errors():
    with pytest.raises(DataError, match="FPAR must lie in"):
        lue.mod17_gpp(1.5, 10, 5, 5, **lue.mod17_parameters("ENF"))
    with pytest.raises(ConfigError, match="no MOD17 parameters"):
        lue.mod17_parameters(["ENF", "XXX"])
    with pytest.raises(ConfigError, match="upper limit"):
        lue.tmin_scalar(0.0, tmin_min_degc=5.0, tmin_max_degc=5.0)


def test_vpm_scalars_against_the_written_formula():
    t = np.linspace(-5, 45, 101)
    tmin, topt, tmax = 0.0, 20.0, 40.0
    slow = np.array([0.0 if not (tmin < x < tmax) else (x - tmin) * (x - tmax) / ((x - tmin) * (x - tmax) - (x - topt) ** 2)
                     for x in t])
    np.testing.assert_allclose(lue.tem_temperature_scalar(t), slow, rtol=1e-14, atol=1e-15)
    assert lue.tem_temperature_scalar(20.0) == 1.0
    np.testing.assert_allclose(lue.lswi_water_scalar([0.1, 0.3, 0.5], lswi_max=0.3), [1.1 / 1.3, 1.0, 1.0])
    g = lue.vpm_gpp(0.5, 8.0, 25.0, 0.9, lue_max_gc_mj=2.2)
    assert g == pytest.approx(2.2 * lue.tem_temperature_scalar(25.0) * 0.9 * 0.5 * 8.0, rel=1e-14)


def test_par_and_radiation_units():
    assert units.wm2_to_mj_m2_d(100.0) == pytest.approx(8.64)
    assert units.sw_to_par_mj_m2_d(100.0) == pytest.approx(0.45 * 8.64)
    assert units.mj_m2_d_to_wm2(units.wm2_to_mj_m2_d(123.4)) == pytest.approx(123.4, rel=1e-15)
    assert units.convert(100.0, "W m-2", "MJ m-2 d-1") == pytest.approx(8.64)


# ------------------------------------------------------------------ P-model
def test_chi_gammastar_kmm_nsstar_match_pyrealm_on_a_grid():
    from pyrealm.pmodel import PModelEnvironment
    from pyrealm.pmodel.optimal_chi import OptimalChiPrentice14

    T, D, C, P = np.meshgrid(np.linspace(-10, 45, 12), np.array([0.2, 2.0, 8.0, 15.0, 30.0, 60.0]),
                             np.array([280.0, 350.0, 410.0, 550.0, 800.0]), np.array([55000.0, 75000.0, 90000.0, 101325.0]),
                             indexing="ij")
    env = PModelEnvironment(tc=T, vpd=D * 100.0, co2=C, patm=P)
    ref = OptimalChiPrentice14(env=env)
    mine = pmodel.pmodel_environment(T, D, C, P)
    for key, r in (("gammastar_pa", env.gammastar), ("kmm_pa", env.kmm), ("ns_star", env.ns_star),
                   ("ca_pa", env.ca), ("chi", ref.chi), ("xi", ref.xi), ("mj", ref.mj)):
        np.testing.assert_allclose(mine[key], r, rtol=1e-6, err_msg=key)


def test_pmodel_published_numbers():
    assert float(pmodel.gammastar(25.0, 101325.0)) == pytest.approx(4.332, rel=1e-12)   # Bernacchi et al. 2001
    assert float(pmodel.kmm(25.0, 101325.0)) == pytest.approx(39.97 * (1 + 0.209476 * 101325 / 27480), rel=1e-12)
    assert float(pmodel.viscosity_h2o(20.0, 101325.0)) == pytest.approx(1.0016e-3, rel=2e-4)  # Huber et al. 2009
    assert float(pmodel.density_h2o(4.0, 101325.0)) == pytest.approx(999.97, abs=0.02)
    assert float(pmodel.ns_star(25.0, pmodel.P0_PA)) == pytest.approx(1.0, rel=1e-14)
    # chi -> Gamma*/ca + (1 - Gamma*/ca) as VPD -> 0
    env = pmodel.pmodel_environment(20.0, 0.0, 400.0, 101325.0)
    assert float(env["chi"]) == pytest.approx(1.0, rel=1e-12)


def test_pmodel_rejects_out_of_range_inputs():
    with pytest.raises(DataError, match="VPD"):
        pmodel.optimal_chi(20.0, -1.0, 400.0, 101325.0)
    with pytest.raises(DataError, match="pressure"):
        pmodel.optimal_chi(20.0, 10.0, 400.0, 1013.25)   # hPa given instead of Pa


# ------------------------------------------------------------------ SIF chain
def test_sif_unit_conversion_by_hand():
    lam, width = 740e-9, 90.0
    photon_j = sc.h * sc.c / lam
    hand = np.pi * 1.0 * width * 1e-3 / photon_j / sc.N_A * 1e6   # mW m-2 sr-1 nm-1 -> µmol m-2 s-1
    assert float(units.sif_radiance_to_photon_flux(1.0)) == pytest.approx(hand, rel=1e-9)
    x = np.array([0.1, 1.3, 2.7])
    np.testing.assert_allclose(units.sif_photon_flux_to_radiance(units.sif_radiance_to_photon_flux(x, band_width_nm=70.0),
                                                                 band_width_nm=70.0), x, rtol=1e-15)
    with pytest.raises(UnitsError, match="positive"):
        units.sif_radiance_to_photon_flux(1.0, band_width_nm=0.0)


def test_electron_transport_by_hand():
    j = sif.electron_transport(2.0, 0.5, phi_psii_max=0.8, kd_over_kf=19.0)
    assert float(j) == pytest.approx(0.5 * 0.8 / 0.2 * 20.0 * 2.0, rel=1e-15)
    g = sif.gpp_from_electron_transport(100.0, 30.0, 4.0)
    assert float(g) == pytest.approx(100.0 * 26.0 / 152.0, rel=1e-15)
    with pytest.raises(DataError, match="q_L"):
        sif.electron_transport(1.0, 1.5)
    with pytest.raises(DataError, match="f_esc"):
        sif.total_sif(1.0, 0.0)


def test_gpp_sif_gpp_round_trip_is_exact():
    rng = np.random.default_rng(7)
    n = 5000
    kw = dict(f_esc=rng.uniform(0.2, 0.8, n), q_l=rng.uniform(0.2, 0.95, n), t_degc=rng.uniform(-5, 40, n),
              vpd_hpa=rng.uniform(0.1, 40, n), co2_ppm=rng.uniform(300, 600, n), patm_pa=rng.uniform(6e4, 1.02e5, n),
              dcf=rng.uniform(0.2, 0.7, n))
    gpp = rng.uniform(0.01, 20.0, n)
    s = sif.gpp_to_sif(gpp, **kw)
    back = sif.sif_to_gpp(s, **kw)["gpp_gc_m2_d"]
    np.testing.assert_allclose(back, gpp, rtol=1e-8)
    assert np.max(np.abs(back / gpp - 1)) < 1e-12


def test_daily_correction_factor_against_quadrature():
    def oracle(lat, doy, hour=13.5):
        phi = np.deg2rad(lat)
        dec = np.deg2rad(23.44) * np.sin(2 * np.pi * (284 + doy) / 365)

        def cz(h):
            return np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(np.deg2rad(15 * (h - 12)))
        mean = integrate.quad(lambda h: max(cz(h), 0.0), 0, 24, limit=200)[0] / 24
        return mean / cz(hour)

    for lat, doy in ((0.0, 80.0), (45.0, 172.0), (-30.0, 15.0), (60.0, 355.0), (70.0, 180.0)):
        got = float(sif.daily_correction_factor(lat, doy, n_steps=2880))
        assert got == pytest.approx(oracle(lat, doy), rel=1e-5)
    assert np.isnan(sif.daily_correction_factor(80.0, 355.0))   # polar night at the overpass


def test_nirv_fesc_and_linear_baseline():
    assert float(sif.nirv(0.05, 0.45)) == pytest.approx(0.4 / 0.5 * 0.45)
    np.testing.assert_allclose(sif.escape_probability([0.2, 0.2], [0.5, 0.01]), [0.4, np.nan])
    from scipy.stats import linregress

    rng = np.random.default_rng(3)
    x = rng.uniform(0, 2, 300)
    y = 3.0 * x + 0.5 + rng.normal(0, 0.2, 300)
    y[:5] = np.nan
    fit = sif.fit_linear_sif_gpp(x, y)
    ref = linregress(x[5:], y[5:])
    assert fit.slope == pytest.approx(ref.slope, rel=1e-10) and fit.intercept == pytest.approx(ref.intercept, rel=1e-9)
    with pytest.raises(DataError):
        sif.fit_linear_sif_gpp([1.0, np.nan], [2.0, 3.0])
