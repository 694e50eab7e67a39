"""Transport model: NumPy oracle of one step, mass conservation, exchange time, linearity, response functions."""
from __future__ import annotations

import numpy as np
import pytest

from landcarbon.atmosphere.transport import (PRESETS, ResponseFunctions, TransportConfig, TransportModel,
                                             preset, read_response_functions)
from landcarbon.errors import ConfigError, DataError


def _tiny(**kw):
    cfg = TransportConfig(dlat=20.0, dlon=45.0, steps_per_month=8, **kw)
    return TransportModel(cfg)


def _numpy_step(m: TransportModel, c, emis, met):
    """Slow, obvious NumPy version of one model step (the oracle of _kernels._one_step)."""
    c = c.copy()
    K, J, I = c.shape
    cap = m.cap
    c[0] += emis / cap[0][:, None]
    for k in range(K):
        for j in range(J):
            C = met["ushift"][k, j]
            n = int(np.floor(C))
            f = C - n
            row = c[k, j].copy()
            new = (1 - f) * np.roll(row, n) + f * np.roll(row, n + 1)
            c[k, j] = new + met["zrelax"][k, j] * (new.mean() - new)
    # Hadley upwind in mass form
    mass = c * cap[:, :, None]
    V, W = met["V"], met["W"]
    dm = np.zeros_like(mass)
    for k in range(K):
        for jf in range(J - 1):
            up = np.where(V[k, jf] > 0, c[k, jf], c[k, jf + 1])
            F = V[k, jf] * up
            dm[k, jf] -= F
            dm[k, jf + 1] += F
    for kf in range(K - 1):
        for j in range(J):
            up = np.where(W[kf, j] > 0, c[kf, j], c[kf + 1, j])
            F = W[kf, j] * up
            dm[kf, j] -= F
            dm[kf + 1, j] += F
    c = c + dm / cap[:, :, None]
    # implicit meridional diffusion: dense solve
    for k in range(K):
        A = np.diag(cap[k].copy())
        for jf in range(J - 1):
            x = met["Xm"][k, jf]
            A[jf, jf] += x; A[jf + 1, jf + 1] += x; A[jf, jf + 1] -= x; A[jf + 1, jf] -= x
        c[k] = np.linalg.solve(A, cap[k][:, None] * c[k])
    for j in range(J):
        A = np.diag(cap[:, j].copy())
        for kf in range(K - 1):
            x = met["Xv"][kf, j]
            A[kf, kf] += x; A[kf + 1, kf + 1] += x; A[kf, kf + 1] -= x; A[kf + 1, kf] -= x
        c[:, j] = np.linalg.solve(A, cap[:, j][:, None] * c[:, j])
    return c


def test_one_step_matches_numpy_oracle():
    m = _tiny()
    rng = np.random.default_rng(0)
    c = rng.uniform(300, 400, m.shape)
    E = rng.uniform(0, 5, (1, m.nlat, m.nlon))  # PgC/yr
    for month in (0, 6):
        met = m._met[month]
        from landcarbon.atmosphere import _kernels
        ck = c[None].copy()
        buf = np.zeros((1, 0))
        z = np.zeros(0, np.int64)
        _kernels.advance(ck, E * m.dt_yr, m.cap, met["ushift"], met["zrelax"], met["Xm"], met["Xv"], met["V"],
                         met["W"], 1, z, z, z, buf, True)
        co = _numpy_step(m, c, E[0] * m.dt_yr, met)
        np.testing.assert_allclose(ck[0], co, rtol=1e-12, atol=1e-10)
        assert np.abs(ck[0] - c).max() > 1e-3  # the step did something


@pytest.mark.parametrize("name", ["coarse", "standard"])
def test_exchange_time_calibrated(name):
    tau = TransportModel(preset(name)).exchange_time()
    assert 1.0 <= tau <= 1.4, tau
    assert abs(tau - 1.2) < 0.05


def test_exchange_time_responds_to_diffusivity():
    base = TransportModel(preset("coarse"))
    faster = TransportModel(TransportConfig(**{**base.config.__dict__, "K0": 2 * base.config.K0}))
    assert faster.exchange_time() < 0.75 * base.exchange_time()


def test_mass_conservation_exact():
    m = TransportModel(preset("coarse"))
    rng = np.random.default_rng(1)
    c0 = rng.uniform(350, 400, (2,) + m.shape)
    E = rng.normal(0, 3, (2, 3, m.nlat, m.nlon))
    c, _ = m.run(c0, E, start_month=4, n_months=3)
    expected = m.total_mass(c0) + E.sum(axis=(2, 3)).sum(axis=1) / 12.0
    np.testing.assert_allclose(m.total_mass(c), expected, rtol=1e-13)


def test_uniform_field_stays_uniform():
    m = TransportModel(preset("coarse"))
    c, _ = m.run(np.full(m.shape, 380.0), start_month=0, n_months=12)
    assert np.ptp(c) < 1e-9


def test_linearity():
    m = TransportModel(preset("coarse"))
    rng = np.random.default_rng(2)
    x0, y0 = rng.uniform(0, 1, (2,) + m.shape)
    Ex, Ey = rng.normal(0, 1, (2, 2, m.nlat, m.nlon))
    cells = m.cell_index([19.5, -40.7, 36.3], [-155.6, 144.7, 100.9], [1, 0, 1])
    a, b = 2.5, -0.7
    cx, sx = m.run(x0, Ex, n_months=2, samples=cells)
    cy, sy = m.run(y0, Ey, n_months=2, samples=cells)
    cz, sz = m.run(a * x0 + b * y0, a * Ex + b * Ey, n_months=2, samples=cells)
    np.testing.assert_allclose(cz, a * cx + b * cy, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(sz, a * sx + b * sy, rtol=1e-11, atol=1e-11)


def test_zonal_mean_model_is_exact_zonal_mean():
    m = TransportModel(preset("coarse"))
    zm = m.zonal_mean_model()
    rng = np.random.default_rng(3)
    c0 = rng.uniform(0, 1, m.shape)
    E = rng.uniform(0, 1, (2, m.nlat, m.nlon))
    c, _ = m.run(c0, E, start_month=3, n_months=2)
    c2, _ = zm.run(c0.mean(axis=-1, keepdims=True), E.sum(axis=-1, keepdims=True), start_month=3, n_months=2)
    np.testing.assert_allclose(c.mean(axis=-1), c2[..., 0], rtol=1e-11)


def test_response_functions_reproduce_forward_run():
    """With memory = near_field = run length, M s equals the forward run exactly (linearity)."""
    m = TransportModel(preset("coarse"))
    rng = np.random.default_rng(4)
    R, nm = 3, 3
    P = rng.uniform(0, 1, (R, m.nlat, m.nlon)) * (rng.uniform(0, 1, (R, m.nlat, m.nlon)) > 0.8)
    P /= P.sum(axis=(1, 2), keepdims=True)
    cells = m.cell_index([19.5, 71.3, -89.9, 36.3], [-155.6, -156.6, -24.8, 100.9], [1, 0, 1, 1])
    rf = m.response_functions(P, cells, memory=nm, near_field=nm, emission_months=[0, 1, 2])
    s = rng.normal(0, 2, (nm, R))
    c0 = 370.0
    M = rf.matrix(np.repeat(np.arange(4), nm), np.tile(np.arange(nm), 4), nm)
    pred = M @ np.concatenate([s.ravel(), [c0]])
    E = np.einsum("tr,rji->tji", s, P)
    _, samp = m.run(np.full(m.shape, c0), E, n_months=nm, samples=cells)
    np.testing.assert_allclose(pred, samp.T.ravel(), rtol=1e-12)
    # the well-mixed tail: a pulse far beyond the memory contributes (1/12 PgC)/2.124
    M2 = rf.matrix([0], [nm + 5], nm + 6, include_initial=False)
    assert M2[0, 0] == pytest.approx(1 / 12 / 2.124)


def test_response_functions_netcdf_roundtrip(tmp_path):
    G = np.random.default_rng(5).uniform(0, 1, (12, 4, 3, 2))
    rf = ResponseFunctions(G=G, tail=0.04, region_codes=["A", "B"], sample_ids=["MLO", "BRW", "SPO"])
    p = tmp_path / "rf.nc"
    rf.to_netcdf(p)
    back = read_response_functions(p)
    np.testing.assert_array_equal(back.G, G)
    assert back.region_codes == ["A", "B"] and back.tail == 0.04
    with pytest.raises(DataError, match="cannot open"):
        (tmp_path / "bad.nc").write_bytes(b"not a netcdf")
        read_response_functions(tmp_path / "bad.nc")


def test_bad_config():
    with pytest.raises(ConfigError):
        TransportConfig(mass_fractions=(0.5, 0.6))
    with pytest.raises(ConfigError):
        preset("nope")
    m = TransportModel(preset("coarse"))
    with pytest.raises(ConfigError):
        m.response_functions(np.zeros((1, m.nlat, m.nlon)), m.cell_index([0], [0]))
    assert set(PRESETS) == {"standard", "coarse"}
