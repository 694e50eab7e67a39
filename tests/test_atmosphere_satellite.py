"""Satellite XCO2 operator (Connor et al. 2008), Lite reader/writer, GOSAT/OCO-2 sampling geometry,
H_sat against a forward run, EnSRF with satellite data against the analytic posterior."""
from __future__ import annotations

import netCDF4
import numpy as np
import pandas as pd
import pytest

from landcarbon.atmosphere import _kernels
from landcarbon.atmosphere import satellite as S
from landcarbon.atmosphere.ensrf import ensrf_update, make_ensemble
from landcarbon.atmosphere.inversion import posterior_prior_space
from landcarbon.atmosphere.io import read_xco2_lite, write_xco2_lite
from landcarbon.atmosphere.transport import TransportModel, preset
from landcarbon.errors import DataError

F = (0.15, 0.35, 0.50)   # layer mass fractions of the transport presets (surface first)


# ------------------------------------------------------------------ the operator
def test_kernel_one_and_layer_weights_give_the_column_mean():
    """a = 1 and h = the layer mass fractions (levels = the model's layers): XCO2 = column mean to 1e-9 ppm."""
    rng = np.random.default_rng(0)
    c = 380 + 5 * rng.normal(size=(50, 3))                    # layer mixing ratios [ppm], surface first
    u_prior = 370 + rng.normal(size=(50, 3))
    h = np.broadcast_to(F, c.shape)
    x = S.xco2_operator(c, xco2_apriori=np.sum(h * u_prior, axis=1), pressure_weight=h,
                        averaging_kernel=np.ones_like(c), co2_profile_apriori=u_prior)
    np.testing.assert_allclose(x, c @ np.asarray(F), atol=1e-9, rtol=0)


def test_twenty_lite_levels_map_layers_exactly():
    """20 Lite levels (space to surface): pressure weights sum to 1, L rows sum to 1, sum_j h_j L_jk = f_k,
    and with a = 1 the operator on L c is the model's column mean to 1e-9 ppm."""
    rng = np.random.default_rng(1)
    for ps in (1013.25, 850.0, 600.0):
        lev = S.sigma_levels(surface_hpa=ps)
        assert lev.shape == (20,) and lev[0] == pytest.approx(0.1) and lev[-1] == ps
        h = S.pressure_weights(lev)
        L = S.layer_to_level(lev, F)
        assert h.sum() == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(L.sum(axis=1), 1.0, atol=1e-14)
        np.testing.assert_allclose(h @ L, F, atol=1e-14)
        c = 390 + 3 * rng.normal(size=3)
        u_prior = 385 + rng.normal(size=20)
        x = S.xco2_operator(L @ c, xco2_apriori=h @ u_prior, pressure_weight=h, averaging_kernel=np.ones(20),
                            co2_profile_apriori=u_prior)
        assert abs(x - c @ np.asarray(F)) < 1e-9


def test_kernel_zero_returns_the_prior_exactly():
    rng = np.random.default_rng(2)
    lev = S.sigma_levels()
    h = S.pressure_weights(lev)
    u_prior = 380 + rng.normal(size=(7, 20))
    x_prior = u_prior @ h
    x = S.xco2_operator(400 + rng.normal(size=(7, 20)), xco2_apriori=x_prior, pressure_weight=h,
                        averaging_kernel=np.zeros(20), co2_profile_apriori=u_prior)
    assert np.array_equal(x, x_prior)


def test_operator_matches_slow_loop_and_linear_form():
    """Oracle: an explicit loop over levels; the linear form w^T c + constant equals the operator."""
    rng = np.random.default_rng(3)
    lev = S.sigma_levels(surface_hpa=950.0)
    h, L = S.pressure_weights(lev), S.layer_to_level(lev, F)
    a = S.averaging_kernel_profile(lev, "GOSAT", surface_scale=1.1)
    u_prior = S.retrieval_prior_profile(lev, 35.0, 2003.4)
    c = 375 + rng.normal(size=3)
    u = L @ c
    slow = u_prior @ h
    for j in range(20):
        slow += h[j] * a[j] * (u[j] - u_prior[j])
    x = S.xco2_operator(u, xco2_apriori=u_prior @ h, pressure_weight=h, averaging_kernel=a, co2_profile_apriori=u_prior)
    assert x == pytest.approx(slow, abs=1e-10)
    w = S.column_layer_weights(h, a, L)
    const = S.operator_constant(xco2_apriori=u_prior @ h, pressure_weight=h, averaging_kernel=a,
                                co2_profile_apriori=u_prior)
    assert w @ c + const == pytest.approx(x, abs=1e-10)
    assert 0.5 < w.sum() < 1.0                       # GOSAT kernel < 1 at the top and the surface


def test_level_order_is_checked():
    with pytest.raises(DataError, match="increase strictly"):
        S.pressure_weights(S.sigma_levels()[::-1])
    with pytest.raises(DataError, match="finite"):
        S.pressure_weights([0.1, np.nan, 1000.0])


# ------------------------------------------------------------------ H_sat x = forward run; EnSRF vs analytic
@pytest.fixture(scope="module")
def small_problem():
    """Coarse model, 3 regions, 3 months, response functions run fully in 3-D (near field = memory)."""
    m = TransportModel(preset("coarse"))
    R = 3
    P = np.zeros((R, m.nlat, m.nlon))
    P[0, 20, 30:34] = 1; P[1, 22, 38:42] = 1; P[2, 12, 8:12] = 1
    P /= P.sum(axis=(1, 2), keepdims=True)
    cols = [(21, 33), (22, 40), (19, 30), (12, 9), (25, 36)]
    sk = np.tile(np.arange(3), len(cols))
    sj = np.repeat([c[0] for c in cols], 3)
    si = np.repeat([c[1] for c in cols], 3)
    rf = m.response_functions(P, (sk, sj, si), memory=3, near_field=3)
    return m, P, cols, rf


def _column_operator(cols, n_months, seed):
    rng = np.random.default_rng(seed)
    lev = S.sigma_levels()
    h, L = S.pressure_weights(lev), S.layer_to_level(lev, F)
    rows = []
    for mo in range(n_months):
        for q in range(len(cols)):
            a = S.averaging_kernel_profile(lev, "OCO-2", surface_scale=rng.uniform(0.85, 1.15))
            rows.append((mo, q, S.column_layer_weights(h, a, L)))
    months = np.array([r[0] for r in rows])
    samples = np.array([[3 * r[1] + k for k in range(3)] for r in rows])
    W = np.stack([r[2] for r in rows])
    return months, samples, W


def test_hsat_times_flux_equals_forward_run(small_problem):
    m, P, cols, rf = small_problem
    months, samples, W = _column_operator(cols, 3, 4)
    M = S.satellite_matrix(rf, samples, W, months, 3)
    x = np.random.default_rng(5).normal(size=3 * 3)          # monthly fluxes [PgC yr-1] of 3 regions
    c0 = 371.0
    flux = np.einsum("tr,rji->tji", x.reshape(3, 3), P)
    _, s = m.run(np.full(m.shape, c0), flux, n_months=3, samples=rf_cells(cols))
    layer = s.reshape(3, len(cols), 3)                       # (month, column, layer) monthly means
    forward = np.array([W[i] @ layer[months[i], samples[i, 0] // 3] for i in range(len(months))])
    np.testing.assert_allclose(M @ np.r_[x, c0], forward, atol=1e-6, rtol=0)
    np.testing.assert_allclose(M[:, -1], W.sum(axis=1))      # a well-mixed c0 seen through the kernel


def rf_cells(cols):
    return (np.tile(np.arange(3), len(cols)), np.repeat([c[0] for c in cols], 3),
            np.repeat([c[1] for c in cols], 3))


def test_ensrf_with_satellite_data_only_matches_analytic(small_problem):
    m, P, cols, rf = small_problem
    months, samples, W = _column_operator(cols, 3, 6)
    M = S.satellite_matrix(rf, samples, W, months, 3)
    rng = np.random.default_rng(7)
    n = M.shape[1]
    Q = np.r_[np.full(n - 1, 4.0), 1.0]
    sp = np.r_[np.zeros(n - 1), 371.0]
    r = np.full(M.shape[0], 1.0 ** 2)
    y = M @ (sp + np.sqrt(Q) * rng.normal(size=n)) + rng.normal(size=M.shape[0])
    s, A = posterior_prior_space(M, y, sp, Q, r)
    X = make_ensemble(Q, 30, seed=8, exact=True)                   # exact sampling: EnSRF = analytic
    xm, Xa = ensrf_update(sp, X, M, y, r)
    np.testing.assert_allclose(xm, s, atol=1e-8)
    np.testing.assert_allclose(Xa @ Xa.T / 29, A, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_ensemble_with_satellite_rows_meets_the_statistical_criterion(seed):
    """Random ensemble, satellite data only (every row a kernel-weighted column of K = 3 layer footprints),
    TransCom-sized problem: the criterion of tests/test_atmosphere_ensrf_random.py (RMS mean error < 5 % of
    the prior sigma, aggregate < 5 %, spread within 10 %). Measured: with N = 500 members the RMS mean error
    is 0.057-0.061 on these seeds (column rows are smoother than station rows), so the criterion needs
    N = 1000 here."""
    rng = np.random.default_rng(200 + seed)
    n, m, N = 23, 300, 1000
    lev = S.sigma_levels()
    h, L = S.pressure_weights(lev), S.layer_to_level(lev, F)
    W = np.stack([S.column_layer_weights(h, S.averaging_kernel_profile(lev, "GOSAT", surface_scale=f), L)
                  for f in rng.uniform(0.85, 1.15, m)])
    G = np.abs(rng.normal(size=(3, m, n))) * 0.3          # layer footprints, scaled as the in-situ test
    M = np.einsum("mk,kmn->mn", W, G)
    Q = rng.uniform(0.5, 2.0, size=n) ** 2
    sp = rng.normal(size=n)
    r = np.ones(m)
    y = M @ (sp + np.sqrt(Q) * rng.normal(size=n)) + rng.normal(size=m)
    s, A = posterior_prior_space(M, y, sp, Q, r)
    xm, Xa = ensrf_update(sp, make_ensemble(Q, N, seed), M, y, r)
    assert np.sqrt(np.mean(((xm - s) / np.sqrt(Q)) ** 2)) < 0.05
    a = np.ones(n)
    assert abs(a @ xm - a @ s) < 0.05 * np.sqrt(a @ (Q * a))
    assert np.max(np.abs(Xa.std(axis=1, ddof=1) / np.sqrt(np.diag(A)) - 1)) < 0.10


def test_linear_kernel_equals_classic_kernel():
    """ensrf_serial_linear (simulated values from the current state) == ensrf_serial (carried HX)."""
    rng = np.random.default_rng(10)
    n, N, m = 6, 25, 40
    x = rng.normal(size=n); X = make_ensemble(np.ones(n), N, 1); H = rng.normal(size=(m, n))
    off = rng.normal(size=m); y = rng.normal(size=m) + off; r = rng.uniform(0.3, 1.0, m)
    x1, X1 = x.copy(), X.copy()
    _kernels.ensrf_serial(x1, X1, H @ x1 + off, np.ascontiguousarray(H @ X1), y, r, np.ones((m, n)), False)
    x2, X2 = x.copy(), X.copy()
    _kernels.ensrf_serial_linear(x2, X2, H, off, y, r)
    np.testing.assert_allclose(x2, x1, atol=1e-10)
    np.testing.assert_allclose(X2, X1, atol=1e-10)


# ------------------------------------------------------------------ sampling geometry
@pytest.mark.parametrize("name, lt, days, asc", [("OCO-2", 13.6, 16, True), ("GOSAT", 13.0, 3, False)])
def test_orbit_repeats_and_crosses_the_equator_at_its_local_time(name, lt, days, asc):
    inst = S.instrument(name)
    tr = S.ground_track(inst, "2002-03-21", 2 * days, step_km=50.0)
    t = (tr["time"] - tr["time"].iloc[0]).dt.total_seconds().values
    # repeat cycle: every point of the first cycle recurs one cycle later
    first = tr[t < days * 86400 - 3600]
    later = tr[t >= days * 86400]
    d = np.hypot(first["lat"].values[:, None] - later["lat"].values[None, :200],
                 ((first["lon"].values[:, None] - later["lon"].values[None, :200] + 180) % 360) - 180)
    assert np.min(d[:5], axis=1).max() < 0.5
    # equator crossings of the nadir track on the day side happen at the instrument's local time
    centre = tr if len(inst.cross_track_km) == 1 else tr.iloc[1::3]
    eq = centre[np.abs(centre["lat"]) < 1.0]
    lst = (eq["time"].dt.hour + eq["time"].dt.minute / 60 + eq["lon"] / 15.0) % 24
    assert np.median(np.abs(lst - lt)) < 0.25


def test_sounding_rates_match_the_published_orders_of_magnitude():
    oco = S.ground_track("OCO-2", "2002-01-01", 4)
    gos = S.ground_track("GOSAT", "2002-01-01", 4)
    per_day = {"OCO-2": oco["n_footprints"].sum() / 4, "GOSAT": gos["n_footprints"].sum() / 4}
    assert 5e5 < per_day["OCO-2"] < 1.2e6          # ~1 million soundings per day (Crisp et al. 2017)
    assert 3e3 < per_day["GOSAT"] < 2e4            # 3-point scanning, 3 exposures per point
    clear = S.clear_sky_fraction("OCO-2", np.array([45.0]), np.array([1]))[0]
    assert 0.5e5 < per_day["OCO-2"] * clear < 1.5e5   # ~100 000 cloud-free per day (O'Dell et al. 2018)


def test_super_observation_is_the_operator_of_the_mean():
    m = TransportModel(preset("coarse"))
    snd = pd.DataFrame({"time": pd.to_datetime(["2002-01-02", "2002-01-03", "2002-01-10"]),
                        "lat": [30.5, 31.0, 30.7], "lon": [108.0, 109.0, 110.0], "n_good": [10, 30, 4],
                        "surface_scale": [0.9, 1.1, 1.0], "sza": 40.0, "n_footprints": 50})
    edges = pd.DatetimeIndex(["2002-01-01", "2002-01-08", "2002-01-15"])
    so = S.super_observations("OCO-2", snd, m, window_edges=edges)
    assert so.sizes["obs"] == 2 and so["n_soundings"].values.tolist() == [40, 4]
    inst = S.OCO2
    s_ret = np.sqrt(inst.sigma_single_ppm ** 2 / 40 + inst.sigma_corr_ppm ** 2)
    assert float(so["sigma_retrieval"][0]) == pytest.approx(s_ret)
    assert float(so["sigma"][0]) == pytest.approx(max(1.0, np.hypot(s_ret, inst.sigma_repr_ppm)))
    lev = S.sigma_levels()
    h, L = S.pressure_weights(lev), S.layer_to_level(lev, F)
    w_each = [S.column_layer_weights(h, S.averaging_kernel_profile(lev, inst, surface_scale=f), L) for f in (0.9, 1.1)]
    np.testing.assert_allclose(so["layer_weights"].values[0], (10 * w_each[0] + 30 * w_each[1]) / 40, atol=1e-12)


# ------------------------------------------------------------------ Lite files
def test_lite_roundtrip_of_the_demo_soundings(tmp_path):
    from landcarbon.atmosphere.demo import demo_xco2

    ds = demo_xco2(2016, years=1, grid="coarse", n_per_month=20, instrument="OCO-2")
    p = write_xco2_lite(ds, tmp_path / "oco2_LtCO2_020101_demo.nc4")
    back = read_xco2_lite(p, good_only=False)
    assert back.sizes["sounding"] == ds.sizes["sounding"] and back.sizes["level"] == 20
    for v in ("xco2", "xco2_apriori", "pressure_levels", "pressure_weight", "xco2_averaging_kernel",
              "co2_profile_apriori"):
        np.testing.assert_allclose(back[v].values, ds[v].values, rtol=2e-7, atol=1e-4)
    assert back.attrs["levels_flipped"] == 0
    # the operator on the file's fields reproduces the noise-free XCO2 from the model profile (float32 file)
    x_prior = np.sum(back["pressure_weight"].values * back["co2_profile_apriori"].values, axis=1)
    np.testing.assert_allclose(x_prior, back["xco2_apriori"].values, atol=1e-3)
    good = read_xco2_lite(p)
    assert good.sizes["sounding"] == int((ds["xco2_quality_flag"] == 0).sum())


def _write_raw_lite(path, *, flip=False, pa=False, weight_scale=1.0, fill_at=None):
    n, lev = 6, S.sigma_levels()
    h = S.pressure_weights(lev) * weight_scale
    a = S.averaging_kernel_profile(lev, "GOSAT")
    u = np.full(20, 380.0)
    cols = [lev * (100.0 if pa else 1.0), h, a, u]
    if flip:
        cols = [c[::-1] for c in cols]
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("sounding_id", n)
        nc.createDimension("levels", 20)
        for v, val in (("xco2", 400.0), ("xco2_uncertainty", 1.0), ("xco2_apriori", 380.0),
                       ("latitude", 30.0), ("longitude", 110.0)):
            x = nc.createVariable(v, "f4", ("sounding_id",)); x[:] = np.full(n, val)
            if v.startswith("xco2"):
                x.units = "ppm"
        t = nc.createVariable("time", "f8", ("sounding_id",)); t[:] = 1.0e9 + np.arange(n)
        nc.createVariable("xco2_quality_flag", "i1", ("sounding_id",))[:] = np.zeros(n, "i1")
        for v, val, units in zip(("pressure_levels", "pressure_weight", "xco2_averaging_kernel", "co2_profile_apriori"),
                                 cols, ("Pa" if pa else "hPa", "1", "1", "ppm")):
            x = nc.createVariable(v, "f4", ("sounding_id", "levels"))
            arr = np.tile(val, (n, 1))
            if fill_at is not None and v == "xco2_averaging_kernel":
                arr[fill_at, 5] = -999999.0
            x[:] = arr
            x.units = units


def test_lite_reader_checks_order_units_weights_and_fill(tmp_path):
    ref = read_xco2_lite(_write_raw_lite(tmp_path / "a.nc4") or tmp_path / "a.nc4")
    flipped = read_xco2_lite(_write_raw_lite(tmp_path / "b.nc4", flip=True) or tmp_path / "b.nc4")
    assert flipped.attrs["levels_flipped"] == 1
    np.testing.assert_allclose(flipped["pressure_levels"].values, ref["pressure_levels"].values)
    np.testing.assert_allclose(flipped["xco2_averaging_kernel"].values, ref["xco2_averaging_kernel"].values)
    pa = read_xco2_lite(_write_raw_lite(tmp_path / "c.nc4", pa=True) or tmp_path / "c.nc4")
    np.testing.assert_allclose(pa["pressure_levels"].values, ref["pressure_levels"].values, rtol=1e-6)
    with pytest.raises(DataError, match="pressure weights sum to"):
        read_xco2_lite(_write_raw_lite(tmp_path / "d.nc4", weight_scale=1.1) or tmp_path / "d.nc4")
    filled = read_xco2_lite(_write_raw_lite(tmp_path / "e.nc4", fill_at=2) or tmp_path / "e.nc4")
    assert filled.sizes["sounding"] == 5
