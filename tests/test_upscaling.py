"""RF upscaling: metrics vs sklearn, grouped CV without site leakage, grid prediction and totals vs
slow oracles, and the demo truth goal (upscaled global ER within 5 % of the true global ER)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landcarbon import upscaling as up
from landcarbon.errors import DataError
from landcarbon.world import demo


@pytest.fixture(scope="module")
def small_world():
    years = (2001, 2004)
    drivers = up.add_static_features(demo.demo_drivers(3, years=years, resolution=5.0))
    sites = demo.demo_site_observations(3, n_sites=60, years=years, resolution=5.0, record_years=years)
    return drivers, sites


def test_metrics_equal_sklearn():
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    o = rng.gamma(2.0, 1.5, 500)
    p = o + rng.normal(0, 0.7, 500)
    p = np.clip(p, 0, None)
    m = up.regression_metrics(o, p)
    assert m["r2"] == pytest.approx(skm.r2_score(o, p), rel=1e-12)
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(o, p)), rel=1e-12)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(o, p), rel=1e-12)
    assert m["rmsle"] == pytest.approx(np.sqrt(skm.mean_squared_log_error(o, p)), rel=1e-12)
    with pytest.raises(DataError):
        up.regression_metrics([1.0], [np.nan])


def test_training_table_takes_drivers_at_the_site_cell(small_world):
    drivers, sites = small_world
    tab = up.site_training_table(sites, drivers)
    assert np.isfinite(tab[tab.attrs["features"] + ["RECO_NT"]].to_numpy()).all()
    assert len(tab) == int(np.isfinite(sites.RECO_NT).sum())
    row = tab.iloc[len(tab) // 2]
    cell = drivers.sel(lat=row.lat, lon=row.lon, method="nearest").sel(time=row.time)
    assert row.TA == pytest.approx(float(cell.TA), rel=1e-6)
    assert row.SWC == pytest.approx(float(cell.SWC), rel=1e-6)
    with pytest.raises(DataError, match="not in the driver dataset"):
        up.site_training_table(sites, drivers, features=["TA", "NOPE"])
    with pytest.raises(DataError, match="target"):
        up.site_training_table(sites, drivers, target="NOPE")


def test_grouped_cv_never_leaks_a_site(small_world):
    drivers, sites = small_world
    tab = up.site_training_table(sites, drivers)
    cv = up.grouped_cv(tab, n_splits=4, seed=1, n_estimators=10)
    folds = pd.Series(cv.fold).groupby(tab["site"].to_numpy()).nunique()
    assert (folds == 1).all()                     # every site sits in exactly one test fold
    assert set(np.unique(cv.fold)) == {0, 1, 2, 3}
    assert np.isfinite(cv.prediction).all()
    # out-of-fold metrics are recomputable from the predictions
    assert cv.test["r2"] == pytest.approx(up.regression_metrics(tab["RECO_NT"], cv.prediction)["r2"])
    assert cv.train["r2"] > cv.test["r2"] > 0.5
    # same seed -> same numbers
    cv2 = up.grouped_cv(tab, n_splits=4, seed=1, n_estimators=10)
    np.testing.assert_array_equal(cv.prediction, cv2.prediction)


def test_predict_grid_equals_direct_prediction(small_world):
    drivers, sites = small_world
    tab = up.site_training_table(sites, drivers)
    ens = up.fit_ensemble(tab, n_members=2, seed=4, n_estimators=5)
    pred = up.predict_grid(ens, drivers, time_chunk=7)
    assert pred.chunks is not None
    got = pred.compute()
    # oracle: stack land cells of one month and predict with the member directly
    t = 13
    X = np.stack([np.broadcast_to(drivers[f].isel(time=t).values if "time" in drivers[f].dims
                                  else drivers[f].values, drivers.land.shape)[drivers.land.values]
                  for f in ens.features], axis=1).astype(np.float32)
    for k, model in enumerate(ens.models):
        np.testing.assert_allclose(got.isel(time=t, member=k).values[drivers.land.values], model.predict(X), rtol=1e-6)
    assert np.isnan(got.isel(time=t).values[~drivers.land.values]).all()
    with pytest.raises(DataError, match="lack predictors"):
        up.predict_grid(ens, drivers.drop_vars("SWC"))


def test_annual_and_global_totals_vs_loop_oracle():
    rng = np.random.default_rng(1)
    lat = np.arange(-87.5, 90, 5.0)
    lon = np.arange(-177.5, 180, 5.0)
    time = pd.date_range("2000-01-01", "2001-12-01", freq="MS")
    vals = rng.gamma(2, 1, (time.size, lat.size, lon.size)).astype("float32")
    vals[:, rng.random((lat.size, lon.size)) < 0.6] = np.nan  # ocean
    da = xr.DataArray(vals, dims=("time", "lat", "lon"), coords={"time": time, "lat": lat, "lon": lon},
                      attrs={"units": "gC m-2 d-1"})
    ann = up.annual_sum(da)
    tot = up.global_total(ann)
    R = 6.371e6
    for yi, y in enumerate((2000, 2001)):
        s = 0.0
        for i, la in enumerate(lat):  # slow, obvious oracle
            a = R**2 * np.deg2rad(5.0) * (np.sin(np.deg2rad(la + 2.5)) - np.sin(np.deg2rad(la - 2.5)))
            for j in range(lon.size):
                cell = 0.0
                for m in range(12):
                    ti = yi * 12 + m
                    cell += float(vals[ti, i, j]) * time[ti].days_in_month
                if np.isfinite(cell):
                    s += cell * a
        assert float(tot.sel(year=y)) == pytest.approx(s / 1e15, rel=1e-5)
    zon = up.zonal_totals(ann, band_deg=30.0)
    np.testing.assert_allclose(zon.sum("lat_band"), tot, rtol=1e-6)
    with pytest.raises(DataError, match="12 months"):
        up.annual_sum(da.isel(time=slice(0, 18)))
    # groupby path (incomplete years dropped) agrees with the block-wise path
    part = up.annual_sum(da.isel(time=slice(6, 24)), require_complete=False)
    assert list(part.year.values) == [2001]
    np.testing.assert_allclose(part.sel(year=2001), ann.sel(year=2001), rtol=1e-6)
    with pytest.raises(DataError, match="gC m-2 d-1"):
        up.annual_sum(da.assign_attrs(units="umol m-2 s-1"))


def test_er_annual_product_layout(small_world):
    drivers, _ = small_world
    ann = up.annual_sum(drivers.ER_true).compute()
    prod = up.er_annual_product(ann, drivers, er_true_annual=ann, source="demo:x@1")
    assert prod.ER.dims == ("year", "lat", "lon") and prod.attrs["source"] == "demo:x@1"
    assert prod.ER.attrs["units"] == "gC m-2 yr-1" and prod.P.attrs["units"] == "mm yr-1"
    assert (np.diff(prod.lat) > 0).all() and float(prod.lon.max()) < 180
    np.testing.assert_allclose(prod.P.isel(year=0), drivers.P.isel(time=slice(0, 12)).sum("time", min_count=12), rtol=1e-5)
