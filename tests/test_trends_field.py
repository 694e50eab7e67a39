"""xarray/dask wrappers, FDR field significance, regional totals and driver attribution."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from landcarbon.errors import DataError
from landcarbon.trends import (climate_zones, detrend, dominant_driver, fdr_significance, field_significance,
                               mk_test, partial_correlation, regional_totals, rf_importance, share_of_pixels,
                               trend_field)


def _field(seed=0, ny=30, nlat=9, nlon=14):
    rng = np.random.default_rng(seed)
    years = np.arange(1989, 1989 + ny)
    lat = np.linspace(-60, 70, nlat)
    lon = np.linspace(-170, 170, nlon)
    trend = rng.normal(0, 2, (nlat, nlon))
    x = 500 + trend[None] * np.arange(ny)[:, None, None] + rng.normal(0, 15, (ny, nlat, nlon))
    x = np.round(x, 0)                                   # ties
    x[:, 0, :3] = np.nan                                 # "ocean"
    x[rng.random(x.shape) < 0.05] = np.nan               # gaps
    return xr.DataArray(x, dims=("year", "lat", "lon"), coords={"year": years, "lat": lat, "lon": lon},
                        name="ER", attrs={"units": "gC m-2 yr-1"})


@pytest.mark.parametrize("method", ["original", "hamed_rao", "tfpw"])
def test_dask_path_equals_numpy_path(method):
    da = _field()
    eager = trend_field(da, "year", method)
    lazy = trend_field(da.chunk({"lat": 4, "lon": 5, "year": 10}), "year", method)
    assert lazy["slope"].chunks is not None                      # still lazy
    lazy = lazy.compute()
    for v in eager.data_vars:
        np.testing.assert_array_equal(eager[v].values, lazy[v].values, err_msg=v)
    assert eager["slope"].attrs["units"] == "gC m-2 yr-1 yr-1"
    assert eager["intercept"].attrs["units"] == "gC m-2 yr-1"
    assert eager["slope"].dims == ("lat", "lon")
    # equals the array function
    r = mk_test(np.moveaxis(da.values, 0, -1), method)
    np.testing.assert_array_equal(eager["p"].values, r["p"])
    assert np.all(np.isnan(eager["slope"].values[0, :3])) and not eager["significant"].values[0, :3].any()


def test_seasonal_field_on_monthly_time():
    rng = np.random.default_rng(1)
    time = xr.date_range("1989-01-01", periods=120, freq="MS", use_cftime=False)
    x = rng.normal(size=(120, 3, 4)) + np.sin(np.arange(120) / 12 * 2 * np.pi)[:, None, None]
    da = xr.DataArray(x, dims=("time", "lat", "lon"), coords={"time": time}, attrs={"units": "gC m-2 d-1"})
    ds = trend_field(da, "time", "seasonal", period=12)
    r = mk_test(np.moveaxis(x, 0, -1), "seasonal", period=12)
    np.testing.assert_array_equal(ds["s"].values, r["s"])
    with pytest.raises(DataError, match="dimension 'year' not found"):
        trend_field(da, "year")


def test_sen_ci_coverage_and_false_positive_rate_on_known_truth():
    """Planted truth: iid noise + known slope -> ~95 % CI coverage, ~5 % false positives at slope 0."""
    rng = np.random.default_rng(42)
    n, T = 4000, 30
    slope = rng.uniform(-1, 1, n)
    x = slope[:, None] * np.arange(T) + rng.normal(0, 5, (n, T))
    r = mk_test(x)
    cover = np.mean((r["slope_low"] <= slope) & (slope <= r["slope_high"]))
    assert 0.93 < cover < 0.97, cover
    r0 = mk_test(rng.normal(0, 5, (n, T)))
    assert 0.03 < r0["significant"].mean() < 0.07
    assert np.corrcoef(r["slope"], slope)[0, 1] > 0.95


def test_fdr_equals_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=800), rng.uniform(0, 0.002, size=200)])
    p[rng.random(p.size) < 0.1] = np.nan
    p = p.reshape(25, 40)
    for a in (0.05, 0.1):
        sig, thr, q = fdr_significance(p, a)
        ok = ~np.isnan(p)
        rej, qs, _, _ = multipletests(p[ok], alpha=a, method="fdr_bh")
        np.testing.assert_array_equal(sig[ok], rej)
        np.testing.assert_allclose(q[ok], qs, rtol=1e-13)
        assert not sig[~ok].any() and np.all(np.isnan(q[~ok]))
        assert thr == (p[ok][rej].max() if rej.any() else 0.0)


def test_field_significance_wilks():
    ds = trend_field(_field(5), "year")
    fs = field_significance(ds, 0.05)
    assert fs.attrs["alpha_fdr"] == pytest.approx(0.10)
    sig, thr, _ = fdr_significance(ds["p"].values, 0.10)
    np.testing.assert_array_equal(fs["significant_fdr"].values, sig)
    assert fs["significant_fdr"].sum() <= (ds["p"] <= 0.10).sum()
    assert fs.attrs["field_significant"] == 1


def test_detrend_oracles():
    da = _field(7)
    ols = detrend(da, "year", "ols")
    sen = detrend(da, "year", "sen")
    for i, j in [(3, 4), (5, 0), (8, 13)]:
        y = da.values[:, i, j]
        ok = ~np.isnan(y)
        t = np.arange(y.size)[ok]
        b1, b0 = np.polyfit(t, y[ok], 1)
        np.testing.assert_allclose(ols.values[ok, i, j], y[ok] - (b0 + b1 * t), rtol=1e-9, atol=1e-9)
        ts = stats.theilslopes(y[ok], t)
        np.testing.assert_allclose(sen.values[ok, i, j], y[ok] - (ts.intercept + ts.slope * t), atol=1e-9)
    assert np.isnan(ols.values[:, 0, 0]).all()


def _synthetic_drivers(seed=0, ny=30, npix=(12, 20), noise=0.5):
    """Drivers with trends and cross-correlation; ER driven by TA in the west, by SWC in the east."""
    rng = np.random.default_rng(seed)
    shp = (ny,) + npix
    t = np.arange(ny)[:, None, None]
    ta = 0.03 * t + rng.normal(size=shp)
    swc = -0.01 * t + 0.4 * ta + rng.normal(size=shp)          # correlated with temperature
    rh = 0.6 * swc + rng.normal(size=shp)
    pr = 0.5 * swc + rng.normal(size=shp)
    truth = np.zeros(npix, int)
    truth[:, : npix[1] // 2] = 1
    truth[:, npix[1] // 2:] = 2
    er = 3.0 * t + np.where(truth == 1, 2.0 * ta, 2.0 * swc) + noise * rng.normal(size=shp)
    coords = {"year": np.arange(1989, 1989 + ny), "lat": np.arange(npix[0]), "lon": np.arange(npix[1])}
    mk = lambda a, u: xr.DataArray(a, dims=("year", "lat", "lon"), coords=coords, attrs={"units": u})  # noqa: E731
    return mk(er, "gC m-2 yr-1"), {"TA": mk(ta, "degC"), "SWC": mk(swc, "%"), "RH": mk(rh, "%"),
                                   "P": mk(pr, "mm yr-1")}, truth


def test_partial_correlation_equals_residual_regression_oracle():
    er, drv, _ = _synthetic_drivers(1, npix=(3, 4))
    er = er.copy()
    er.values[[2, 7], 1, 1] = np.nan                               # missing years -> listwise
    part = partial_correlation(er, drv, "year", detrend_method=None)
    names = list(drv)
    for (i, j) in [(0, 0), (1, 1), (2, 3)]:
        Y = np.column_stack([er.values[:, i, j]] + [drv[k].values[:, i, j] for k in names])
        Y = Y[np.all(np.isfinite(Y), axis=1)]
        n = len(Y)
        for q, nm in enumerate(names):
            ctrl = np.column_stack([np.ones(n)] + [Y[:, 1 + c] for c in range(len(names)) if c != q])
            ry = Y[:, 0] - ctrl @ np.linalg.lstsq(ctrl, Y[:, 0], rcond=None)[0]
            rx = Y[:, 1 + q] - ctrl @ np.linalg.lstsq(ctrl, Y[:, 1 + q], rcond=None)[0]
            r = np.corrcoef(ry, rx)[0, 1]
            df = n - 2 - (len(names) - 1)
            p = 2 * stats.t.sf(abs(r) * np.sqrt(df / (1 - r * r)), df)
            assert part[f"r_{nm}"].values[i, j] == pytest.approx(r, rel=1e-10, abs=1e-12)
            assert part[f"p_{nm}"].values[i, j] == pytest.approx(p, rel=1e-8, abs=1e-14)
        assert part["n"].values[i, j] == n


def test_attribution_recovers_planted_driver():
    er, drv, truth = _synthetic_drivers(2)
    part = partial_correlation(er, drv, "year")
    dom = dominant_driver(part, ("TA",), ("SWC", "RH", "P"))
    acc = np.mean(dom.values == truth)
    assert acc >= 0.95, acc
    assert share_of_pixels(dom == 1, dom["valid"]) == pytest.approx(np.mean(dom.values == 1))
    # without detrending the shared trends would leak into the correlations; detrended ER has no trend
    imp = rf_importance(er, drv, "year", max_pixels=40, n_estimators=20, seed=1)
    dom_rf = dominant_driver(imp, ("TA",), ("SWC", "RH", "P"), prefix="imp_")
    t_rf = truth[imp["lat"].values, imp["lon"].values]
    assert np.mean(dom_rf.values == t_rf) >= 0.85


def test_climate_zones_and_regional_totals():
    mat = xr.DataArray([[np.nan, -5.0, 2.0], [10.0, 17.0, 25.0]], dims=("lat", "lon"), attrs={"units": "degC"})
    z = climate_zones(mat)
    np.testing.assert_array_equal(z.values, [[0, 1, 2], [2, 2, 3]])
    er = xr.DataArray(np.ones((2, 2, 3)) * 100.0, dims=("year", "lat", "lon"), coords={"year": [2000, 2001]},
                      attrs={"units": "gC m-2 yr-1"})
    er = er.where(mat.notnull())
    area = xr.DataArray(np.full((2, 3), 1e12), dims=("lat", "lon"))
    tot = regional_totals(er, area, z)
    assert tot.sel(region="global").values.tolist() == pytest.approx([0.5, 0.5])       # 5 cells * 100 g * 1e12 m2
    assert tot.sel(region="boreal").values[0] == pytest.approx(0.1)
    assert tot.attrs["units"] == "PgC yr-1"
    with pytest.raises(DataError, match="degC"):
        climate_zones(mat.assign_attrs(units="K"))


def _write_product(folder, *, units="gC m-2 yr-1", source="demo:landcarbon.world.demo:demo_drivers@1", drop=None):
    da = _field(9, ny=6, nlat=4, nlon=5)
    ds = xr.Dataset({"ER": da.assign_attrs(units=units), "TA": (da * 0 + 10).assign_attrs(units="degC"),
                     "area": xr.DataArray(np.ones((4, 5)), dims=("lat", "lon"), attrs={"units": "m2"})})
    ds = ds.isel(lat=slice(None, None, -1))                     # north-to-south on disk
    if drop:
        ds = ds.drop_vars(drop)
    ds.attrs["source"] = source
    folder.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(folder / "er_annual.nc")
    return ds


def test_load_er_products_and_bad_inputs(tmp_path):
    from landcarbon.errors import UnitsError
    from landcarbon.trends import load_er_products

    with pytest.raises(DataError, match="run the er_upscaling analysis first"):
        load_er_products(tmp_path / "nothing")
    _write_product(tmp_path / "ok")
    ann, mon = load_er_products(tmp_path / "ok")
    assert mon is None and ann["ER"].dtype == np.float64 and bool((ann.lat.diff("lat") > 0).all())
    with pytest.raises(DataError, match="computed from demo data"):
        load_er_products(tmp_path / "ok", data_source="real")
    _write_product(tmp_path / "units", units="gC m-2 d-1")
    with pytest.raises(UnitsError, match="expected 'gC m-2 yr-1'"):
        load_er_products(tmp_path / "units")
    _write_product(tmp_path / "nota", drop="TA")
    with pytest.raises(DataError, match="'TA' missing"):
        load_er_products(tmp_path / "nota")


def test_lag1_autocorrelation_equals_pymannkendall_acf():
    from landcarbon.trends import lag1_autocorrelation

    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 3, 2)).cumsum(axis=0)
    da = xr.DataArray(x, dims=("year", "a", "b"))
    r = lag1_autocorrelation(da)
    for i in range(3):
        for j in range(2):
            y = x[:, i, j] - x[:, i, j].mean()
            ref = np.correlate(y, y, "full")[len(y):][0] / np.sum(y * y)
            assert r.values[i, j] == pytest.approx(ref, rel=1e-12)


def test_trend_field_on_dask_distributed_cluster():
    """The same call runs on a dask.distributed cluster (local, 2 worker processes)."""
    distributed = pytest.importorskip("distributed")
    da = _field(12)
    eager = trend_field(da, "year")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl):
        lazy = trend_field(da.chunk({"lat": 3}), "year").compute()
    for v in ("slope", "p", "slope_low", "significant"):
        np.testing.assert_array_equal(eager[v].values, lazy[v].values)
