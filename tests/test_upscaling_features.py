"""One predictor set for towers and grids: slow loop oracles, unit handling, and tower = grid cell."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landcarbon import upscaling as up
from landcarbon.errors import DataError, UnitsError


def _sites(n_sites=3, n_months=30, seed=0):
    rng = np.random.default_rng(seed)
    time = pd.date_range("2001-01-01", periods=n_months, freq="MS")
    shape = (n_sites, n_months)
    ds = xr.Dataset({"TA": (("site", "time"), rng.normal(10, 8, shape), {"units": "degC"}),
                     "SW_IN": (("site", "time"), rng.uniform(20, 300, shape), {"units": "W m-2"}),
                     "VPD": (("site", "time"), rng.uniform(0, 20, shape), {"units": "hPa"}),
                     "P": (("site", "time"), rng.uniform(0, 6, shape), {"units": "mm d-1"}),
                     "RECO_NT": (("site", "time"), rng.uniform(0, 5, shape), {"units": "gC m-2 d-1"}),
                     "NEE_QC": (("site", "time"), rng.uniform(0, 1, shape), {"units": "1"})},
                    coords={"site": [f"S{k}" for k in range(n_sites)], "time": time, "lat": ("site", [1.0, 30.0, 60.0][:n_sites]),
                            "lon": ("site", [0.0, 10.0, 20.0][:n_sites]), "PFT": ("site", ["EBF", "CRO", "ENF"][:n_sites]),
                            "MAT": ("site", [25.0, 10.0, -1.0][:n_sites])})
    return ds


def test_site_features_equal_a_loop_oracle():
    ds = _sites()
    ds["TA"][1, 7] = np.nan
    tab = up.site_feature_table(ds, targets=["RECO_NT"])
    for _, row in tab.sample(15, random_state=1).iterrows():
        s = list(ds.site.values).index(row.site)
        t = list(ds.time.values).index(row.time)
        ta, p, sw = (ds[v].values[s].astype(float) for v in ("TA", "P", "SW_IN"))
        lag = lambda x, k: x[k - 1] if k > 0 else x[k]  # noqa: E731 - the first month lags itself
        assert row.TA == ta[t] and row.TA_lag1 == lag(ta, t)
        assert row.P_3m == pytest.approx((p[t] + lag(p, t) + lag(p, max(t - 1, 0)) if t > 1 else
                                          (p[t] + lag(p, t) + lag(p, t)) if t == 1 else 3 * p[t]) / 3, rel=1e-12) or t < 2
        months = ds.time.dt.month.values
        same = months == months[t]
        assert row.TA_anom == pytest.approx(ta[t] - np.nanmean(ta[same]), abs=1e-9)
        assert row.P_anom == pytest.approx(p[t] - p[same].mean(), abs=1e-9)
        assert row.SW_IN_anom == pytest.approx(sw[t] - sw[same].mean(), abs=1e-9)
        assert row.zone == {"S0": 3, "S1": 2, "S2": 1}[row.site]
        assert row[f"IGBP_{row.PFT}"] == 1 and sum(row[f"IGBP_{c}"] for c in up.IGBP_CLASSES) == 1
    assert not ((tab.site == "S1") & (tab.time == ds.time.values[7])).any()       # NaN driver -> row dropped
    qc = up.site_feature_table(ds, targets=["RECO_NT"], qc_min=0.5)
    assert (qc.merge(ds.NEE_QC.to_dataframe().reset_index(), on=["site", "time"]).NEE_QC >= 0.5).all()


def test_units_are_checked_and_precipitation_converted():
    ds = _sites()
    with pytest.raises(UnitsError, match="TA"):
        up.site_feature_table(ds.assign(TA=ds.TA.assign_attrs(units="K")))
    monthly = ds.assign(P=(ds.P * ds.time.dt.days_in_month).assign_attrs(units="mm month-1"))
    a, b = up.site_feature_table(ds), up.site_feature_table(monthly)
    np.testing.assert_allclose(a.P, b.P, rtol=1e-12)
    with pytest.raises(DataError, match="ERA"):
        up.site_feature_table(ds, drivers="ERA")


def test_a_tower_in_a_cell_sees_the_cells_grid_features():
    """The same function builds both tables: a tower whose drivers are its cell's series gets the cell's
    grid features (the model that is cross-validated is the model that predicts the grid)."""
    from landcarbon.world import demo

    world = demo.demo_drivers(5, years=(2001, 2003), resolution=10.0, variables=["TA", "SW_IN", "VPD", "P"]).compute()
    grid = up.grid_features(world).compute()
    land = np.argwhere(world.land.values)[:4]
    cells = [(world.lat.values[i], world.lon.values[j]) for i, j in land]
    names = np.array(str(world.PFT.attrs["flag_meanings"]).split())
    sites = xr.Dataset({v: (("site", "time"), np.stack([world[v].values[:, i, j] for i, j in land]),
                            {"units": "mm d-1" if v == "P" else world[v].attrs["units"]}) for v in ("TA", "SW_IN", "VPD", "P")},
                       coords={"site": [f"C{k}" for k in range(4)], "time": world.time.values,
                               "lat": ("site", [c[0] for c in cells]), "lon": ("site", [c[1] for c in cells]),
                               "PFT": ("site", names[[world.PFT.values[i, j] for i, j in land]]),
                               "MAT": ("site", [float(world.MAT.values[i, j]) for i, j in land])})
    sites["P"] = sites["P"] / sites.time.dt.days_in_month          # tower P is in mm d-1
    sites["RECO_NT"] = sites["TA"] * 0 + 1.0
    tab = up.site_feature_table(sites, targets=["RECO_NT"])
    for k, (i, j) in enumerate(land):
        rows = tab[tab.site == f"C{k}"]
        for f in up.FEATURES:
            g = grid[f].values[:, i, j] if "time" in grid[f].dims else np.full(len(rows), grid[f].values[i, j])
            np.testing.assert_allclose(rows[f].to_numpy(), g, rtol=1e-5, atol=1e-4, err_msg=f)  # grid is float32
