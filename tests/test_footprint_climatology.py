"""Footprint climatologies: numba kernel vs the NumPy reference, the authors' climatology code, dask."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import landcarbon.footprint as fp
from landcarbon.footprint import climatology as C

THREE = xr.Dataset({"USTAR": ("time", [0.4, 0.3, 0.35]), "V_SIGMA": ("time", [0.6, 0.5, 0.4]),
                    "MO_LENGTH": ("time", [-100.0, -500.0, 150.0]), "WD": ("time", [30.0, 120.0, 250.0]),
                    "PBLH": ("time", [2000.0, 1500.0, 800.0])})
#: ∫ of the authors' climatology of THREE over their default domain (±1000 m, 1001 x 1001 nodes, dx = 2 m),
#: without and with their smoothing (pyffp 0.0.2, calc_footprint_FFP_climatology v1.42).
AUTHORS_INTEGRAL = {False: 0.8654823, True: 0.8653907}


def _random_turbulence(n, seed=0):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random(n) < 0.5, -rng.uniform(10, 800, n), rng.uniform(10, 800, n))
    wd = rng.uniform(0, 360, n)
    wd[:4] = [0.0, 90.0, 180.0, 270.0][:min(n, 4)]  # axis-parallel winds: the kernel's row ranges degenerate
    return xr.Dataset({"USTAR": ("time", rng.uniform(0.15, 0.7, n)), "V_SIGMA": ("time", rng.uniform(0.3, 1.2, n)),
                       "MO_LENGTH": ("time", L), "WD": ("time", wd), "PBLH": ("time", rng.uniform(300, 2000, n))})


def _numpy_climatology(turb, grid, zm, z0):
    """Slow, obvious oracle: the mean of footprint_2d over the time steps."""
    X, Y = np.meshgrid(grid.x, grid.y)
    acc = np.zeros(X.shape)
    for t in range(turb.sizes["time"]):
        acc += fp.footprint_2d(X, Y, zm_m=zm, z0_m=z0, h_m=float(turb.PBLH[t]), obukhov_length_m=float(turb.MO_LENGTH[t]),
                               sigma_v_ms=float(turb.V_SIGMA[t]), ustar_ms=float(turb.USTAR[t]),
                               wind_dir_deg=float(turb.WD[t]))
    return acc / turb.sizes["time"]


@pytest.mark.parametrize("parallel", [True, False])
def test_kernel_equals_numpy_oracle(parallel):
    turb = _random_turbulence(24)
    g = C.FootprintGrid(-301.5, -298.5, 3.0, 3.0, 200, 200)  # tower between cell centres, non-symmetric
    ref = _numpy_climatology(turb, g, 10.0, 0.3)
    exact = fp.footprint_climatology(turb, zm_m=10.0, z0_m=0.3, grid=g, nsigma=40.0, parallel=parallel)
    np.testing.assert_allclose(exact.values, ref, rtol=1e-10, atol=1e-16)
    fast = fp.footprint_climatology(turb, zm_m=10.0, z0_m=0.3, grid=g, parallel=parallel)  # n_sigma = 6
    assert np.abs(fast.values - ref).max() <= 2e-8 * ref.max()
    assert abs(fast.attrs["mass_in_domain"] - ref.sum() * 9.0) < 1e-8


def test_cell_by_cell_against_authors_climatology():
    pytest.importorskip("matplotlib")
    P = pytest.importorskip("pyffp.calc_footprint_FFP_climatology", reason="oracle pyffp not installed")
    g = C.FootprintGrid(-1000.0, -1000.0, 2.0, 2.0, 1001, 1001)  # the authors' nodes
    kw = {k: list(map(float, THREE[v].values)) for k, v in (("ustar", "USTAR"), ("sigmav", "V_SIGMA"),
                                                           ("ol", "MO_LENGTH"), ("wind_dir", "WD"), ("h", "PBLH"))}
    r = P.FFP_climatology(zm=20.0, z0=0.1, rs=None, verbosity=0, smooth_data=None, **kw)
    ours = fp.footprint_climatology(THREE, zm_m=20.0, z0_m=0.1, grid=g, nsigma=40.0)
    np.testing.assert_allclose(ours.values, r["fclim_2d"], rtol=1e-9, atol=1e-14 * r["fclim_2d"].max())
    assert r["fclim_2d"].sum() * 4.0 == pytest.approx(AUTHORS_INTEGRAL[False], abs=1e-6)
    # their smoothing is scipy's convolution (test_smoothing_equals_authors_convolution); pinned value:
    assert fp.smooth_authors(r["fclim_2d"]).sum() * 4.0 == pytest.approx(AUTHORS_INTEGRAL[True], abs=1e-6)


@pytest.mark.parametrize("smooth", [False, True])
def test_three_step_climatology_integral(smooth):
    """Acceptance: on the default 1000 x 1000 grid the climatology integrates to the authors' value within 0.005."""
    c = fp.footprint_climatology(THREE, zm_m=20.0, z0_m=0.1, smooth=smooth)
    assert c.shape == (1000, 1000)
    assert c.attrs["mass_in_domain"] == pytest.approx(AUTHORS_INTEGRAL[smooth], abs=0.005)
    assert c.attrs["mass_in_domain"] == pytest.approx(AUTHORS_INTEGRAL[smooth], abs=5e-4)  # in fact much closer


def test_invalid_steps_are_skipped_and_counted():
    turb = _random_turbulence(10, seed=3)
    bad = turb.copy(deep=True)
    bad["USTAR"][1] = 0.05
    bad["MO_LENGTH"][2] = -1.0  # zm/L = -10/1*... < -15.5 with zm = 20
    bad["WD"][3] = np.nan
    g = fp.footprint_grid(300.0, 5.0)
    c = fp.footprint_climatology(bad, zm_m=20.0, z0_m=0.1, grid=g)
    keep = [0] + list(range(4, 10))
    ref = fp.footprint_climatology(turb.isel(time=keep), zm_m=20.0, z0_m=0.1, grid=g)
    np.testing.assert_allclose(c.values, ref.values, rtol=1e-12)
    assert c.attrs["n_total"] == 10 and c.attrs["n_valid"] == 7
    inv = json.loads(c.attrs["invalid"])
    assert inv["u* must be > 0.1 m/s"] == 1 and inv["missing input (no value)"] == 1 and inv["zm/L must be > -15.5 (stability limit)"] == 1


def test_all_invalid_raises_naming_the_limits():
    turb = _random_turbulence(3).assign(USTAR=("time", [0.05, 0.02, 0.08]))
    with pytest.raises(fp.FootprintValidityError, match=r"u\* must be > 0.1"):
        fp.footprint_climatology(turb, zm_m=20.0, z0_m=0.1, grid=fp.footprint_grid(100.0, 5.0))


def test_missing_variables_and_heights_are_clear_errors():
    from landcarbon.errors import DataError

    with pytest.raises(DataError, match="V_SIGMA missing"):
        fp.footprint_climatology(THREE.drop_vars("V_SIGMA"), zm_m=20.0, z0_m=0.1)
    with pytest.raises(DataError, match="zm_m"):
        fp.footprint_climatology(THREE, z0_m=0.1)
    with pytest.raises(DataError, match="PBLH"):
        fp.footprint_climatology(THREE.drop_vars("PBLH"), zm_m=20.0, z0_m=0.1)
    with pytest.raises(DataError, match="WS"):
        fp.footprint_climatology(THREE, zm_m=20.0)


def test_weighted_climatology_is_the_weighted_mean():
    turb = _random_turbulence(6, seed=5)
    g = fp.footprint_grid(200.0, 4.0)
    w = np.array([1.0, 0.0, 2.0, 0.5, 3.0, 1.0])
    c = fp.footprint_climatology(turb, zm_m=8.0, z0_m=0.05, grid=g, weights=w)
    singles = [fp.footprint_climatology(turb.isel(time=[t]), zm_m=8.0, z0_m=0.05, grid=g).values for t in range(6)]
    np.testing.assert_allclose(c.values, np.tensordot(w, singles, 1) / w.sum(), rtol=1e-12, atol=1e-18)


def test_source_area_is_the_smallest_set_holding_r():
    c = fp.footprint_climatology(_random_turbulence(8, seed=2), zm_m=10.0, z0_m=0.1, grid=fp.footprint_grid(600.0, 6.0))
    f = c.values
    for r in (0.3, 0.5, 0.8):
        lev = fp.source_area_level(c, r)
        inside = f[f >= lev].sum() * 36.0
        assert inside >= r and inside - lev * 36.0 < r  # one cell fewer would not hold r
        order = np.sort(f.ravel())[::-1]
        k = np.searchsorted(np.cumsum(order) * 36.0, r)
        assert lev == order[k]


def test_smoothing_equals_authors_convolution():
    from scipy.signal import convolve2d

    f = np.random.default_rng(0).random((30, 40))
    k = np.array([[0.05, 0.1, 0.05], [0.1, 0.4, 0.1], [0.05, 0.1, 0.05]])
    np.testing.assert_allclose(fp.smooth_authors(f), convolve2d(convolve2d(f, k, mode="same"), k, mode="same"), rtol=1e-12)


def test_sites_in_parallel_with_dask_equal_serial_runs():
    g = fp.footprint_grid(200.0, 4.0)
    inputs = {f"S{i}": {"turbulence": _random_turbulence(5, seed=i), "zm_m": 5.0 + i, "z0_m": 0.05} for i in range(4)}
    par = fp.climatologies(inputs, grid=g)
    for site, kw in inputs.items():
        kw = dict(kw)
        one = fp.footprint_climatology(kw.pop("turbulence"), grid=g, **kw)
        np.testing.assert_array_equal(par[site].values, one.values)
        assert par[site].attrs["site"] == site


def test_contours_close_and_reach_the_edge_flag():
    small = fp.footprint_grid(150.0, 2.0)
    f = fp.footprint_on_grid(zm_m=20.0, z0_m=0.1, h_m=2000.0, obukhov_length_m=-100.0, sigma_v_ms=0.6, ustar_ms=0.4,
                             grid=small)
    cont = fp.source_area_contours(f, (0.3,))
    assert not cont[0.3]["closed"]  # the 30 % area of a ±150 m grid reaches its edge (x_peak = 84 m)


KERNEL_ABUSE = r"""
import numpy as np
from landcarbon.footprint._kernels import accumulate_serial as k
out = np.zeros((5, 5))
ok = np.ones(3)
for args in [
    (out, -10.0, 5.0, -10.0, 5.0, ok, ok, ok, ok, np.ones(2), 6.0),        # lengths differ
    (out, -10.0, 0.0, -10.0, 5.0, ok, ok, ok, ok, ok, 6.0),                 # dx = 0
    (out, -10.0, 5.0, -10.0, 5.0, ok, ok, -ok, ok, ok, 6.0),                # negative length scale
    (out, -10.0, 5.0, -10.0, 5.0, ok, ok, ok * np.nan, ok, ok, 6.0),        # NaN length scale
    (out, -1e308, 1e308, -10.0, 5.0, ok, ok, ok, ok, ok, 6.0),              # absurd grid
]:
    try:
        k(*args)
    except ValueError as e:
        print("ValueError", e)
print("survived")
"""


def test_kernel_rejects_bad_input_without_crashing():
    r = subprocess.run([sys.executable, "-c", KERNEL_ABUSE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ValueError") == 4 and "survived" in r.stdout
