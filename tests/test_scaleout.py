"""Scale-out: the gridded steps on dask (lazy = eager to 1e-12), chunk sizing, atomic chunk-wise zarr
writing, and the er_upscaling + er_trends analyses through ``landcarbon run --scheduler`` on a LocalCluster
(2 worker processes, 1 thread each): the kernels run on the workers, the results equal the local run, and
killing a worker mid-run never leaves ``results/`` half written.

The oracle of the lazy paths is the eager NumPy path of the same functions (the code the local run uses);
the oracle of the cluster run is the local run of the pipeline.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landcarbon import scale
from landcarbon import trends as tr
from landcarbon.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# ------------------------------------------------------------------------------------------------
# library level
# ------------------------------------------------------------------------------------------------
def _field(rng, ny=30, nl=12, no=20, name="ER"):
    a = rng.normal(size=(ny, nl, no)) + 0.1 * np.arange(ny)[:, None, None]
    a[:, 0, :3] = np.nan           # ocean
    a[5, 1, 4] = np.nan            # one missing year
    return xr.DataArray(a, dims=("year", "lat", "lon"), name=name, attrs={"units": "gC m-2 yr-1"},
                        coords={"year": np.arange(1989, 1989 + ny), "lat": np.arange(nl) - 5.5, "lon": np.arange(no) + 0.5})


def _assert_same(a: xr.Dataset, b: xr.Dataset):
    assert set(a.data_vars) == set(b.data_vars)
    for v in a.data_vars:
        x, y = np.asarray(a[v].values, float), np.asarray(b[v].values, float)
        assert x.shape == y.shape, v
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=v)
        # same numbers up to the order of floating-point sums (contiguous vs strided reductions)
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-14, err_msg=v)


def test_lazy_gridded_steps_equal_eager():
    """Every trend-chapter step run per dask chunk gives the eager NumPy numbers (to 1e-12)."""
    rng = np.random.default_rng(3)
    er = _field(rng)
    drivers = {k: _field(rng, name=k) for k in ("TA", "SWC", "RH")}
    lazy = {k: v.chunk({"lat": 5, "lon": 7}) for k, v in drivers.items()}
    ler = er.chunk({"lat": 5, "lon": 7})
    steps = {
        "trend": lambda e, d: tr.trend_field(e, "year", "hamed_rao"),
        "detrend": lambda e, d: tr.detrend(e, "year").to_dataset(),
        "detrend_ols": lambda e, d: tr.detrend(e, "year", "ols").to_dataset(),
        "lag1": lambda e, d: tr.lag1_autocorrelation(e).to_dataset(),
        "partial": lambda e, d: tr.partial_correlation(e, d, "year"),
        "dominant": lambda e, d: tr.dominant_driver(tr.partial_correlation(e, d, "year"), ["TA"], ["SWC", "RH"],
                                                    0.5).to_dataset(name="dom"),
        "rf": lambda e, d: tr.rf_importance(e, d, "year", max_pixels=8, n_estimators=4, seed=1),
    }
    for name, fn in steps.items():
        eager = fn(er, drivers)
        out = fn(ler, lazy)
        assert scale.is_lazy(out) or name in ("rf", "dominant"), f"{name} was computed eagerly"  # 2-D results: computed
        _assert_same(eager, out.compute())
    # the dominant-driver classes are not all one value (the comparison above can fail)
    dom = steps["dominant"](er, drivers)["dom"].values
    assert len(np.unique(dom)) == 3


def test_regional_totals_lazy_equal_eager():
    from landcarbon.upscaling import area_of

    rng = np.random.default_rng(0)
    a = rng.normal(500, 50, size=(30, 20, 30))
    a[:, :3] = np.nan
    er = xr.DataArray(a, dims=("year", "lat", "lon"), attrs={"units": "gC m-2 yr-1"},
                      coords={"year": np.arange(30), "lat": np.linspace(-80, 80, 20), "lon": np.linspace(-170, 170, 30)})
    mat = xr.DataArray(rng.uniform(-10, 30, size=(20, 30)), dims=("lat", "lon"), coords={"lat": er.lat, "lon": er.lon},
                       attrs={"units": "degC"}).where(er.isel(year=0).notnull())
    zones, lazy_zones = tr.climate_zones(mat), tr.climate_zones(mat.chunk({"lat": 7}))
    assert lazy_zones.chunks is None and bool((zones == lazy_zones).all())
    assert set(np.unique(zones.values)) == {0, 1, 2, 3}
    area = area_of(er)
    eager = tr.regional_totals(er, area, zones)
    lazy = tr.regional_totals(er.chunk({"lat": 7}), area, lazy_zones)
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-12)
    assert lazy.dims == eager.dims and list(lazy.region.values) == list(eager.region.values)


def test_chunk_rows_and_grid_chunks():
    # rows = floor(0.05 * 4e9 / (4 * 8 * 30 * 7200)) = 28
    assert scale.chunk_rows(30, 3600, 7200, memory_bytes=4_000_000_000) == 28
    assert scale.chunk_rows(30, 10, 7200, memory_bytes=4 * 10**12) == 10          # clipped to n_lat
    assert scale.chunk_rows(360, 3600, 7200, memory_bytes=10**6) == 1             # at least one row
    with pytest.raises(ConfigError):
        scale.chunk_rows(0, 10, 10)
    with pytest.raises(ConfigError):
        scale.chunk_rows(30, 10, 10, fraction=0.0)
    ds = xr.Dataset({"ER": (("year", "lat", "lon"), np.zeros((30, 40, 50)))})
    ch = scale.grid_chunks(ds, memory_bytes=4 * 8 * 30 * 50 * 7 / 0.05)
    assert ch == {"year": -1, "lat": 7, "lon": -1}
    with pytest.raises(DataError):
        scale.grid_chunks(xr.Dataset({"x": ("t", [1.0])}))


def _boom(x):
    raise RuntimeError("chunk failed")


def test_write_zarr_is_atomic_and_chunkwise(tmp_path):
    rng = np.random.default_rng(0)
    ds = _field(rng).to_dataset().chunk({"lat": 4})
    target = tmp_path / "p.zarr"
    scale.write_zarr(ds, target)
    back = xr.open_zarr(target)
    assert back["ER"].encoding["chunks"] == (30, 4, 20)                   # one zarr chunk per dask chunk
    np.testing.assert_array_equal(back["ER"].values, ds["ER"].values)
    # a failing chunk: the previous complete store stays, no temporary store is left behind
    bad = ds.copy()
    bad["ER"] = bad["ER"].copy(data=bad["ER"].data.map_blocks(_boom, dtype=float))
    bad["ER"] = bad["ER"] + 1.0
    with pytest.raises(RuntimeError, match="chunk failed"):
        scale.write_zarr(bad, target)
    np.testing.assert_array_equal(xr.open_zarr(target)["ER"].values, ds["ER"].values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zarr"]
    # a successful rewrite replaces it
    scale.write_zarr((ds * 2).assign_attrs(ds.attrs), target)
    np.testing.assert_array_equal(xr.open_zarr(target)["ER"].values, 2 * ds["ER"].values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zarr"]
    with pytest.raises(ConfigError):
        scale.write_zarr(ds, tmp_path / "p.nc")


def test_load_er_products_lazy_equals_eager(tmp_path):
    """The trends chapter's reader: NetCDF and zarr products, lazily (whole series per chunk) and eagerly."""
    from landcarbon.upscaling import area_of, write_netcdf

    rng = np.random.default_rng(5)
    ds = xr.Dataset({"ER": _field(rng).astype("float32"), "TA": _field(rng, name="TA").astype("float32")})
    ds["TA"].attrs["units"] = "degC"
    ds["area"] = area_of(ds)
    ds.attrs["source"] = "demo:test@5"
    write_netcdf(ds, tmp_path / "nc" / "er_annual.nc")
    scale.write_zarr(ds.chunk({"lat": 5}), tmp_path / "zarr" / "er_annual.zarr")
    eager, _ = tr.load_er_products(tmp_path / "nc", monthly=False)
    assert not scale.is_lazy(eager)
    for folder in ("nc", "zarr"):
        lazy, _ = tr.load_er_products(tmp_path / folder, monthly=False, lazy=True)
        assert lazy["ER"].chunks is not None and len(lazy["ER"].chunksizes["year"]) == 1
        assert lazy["ER"].dtype == np.float64
        _assert_same(eager[["ER", "TA", "area"]], lazy[["ER", "TA", "area"]].compute())
        _assert_same(tr.trend_field(eager["ER"]), tr.trend_field(lazy["ER"]).compute())
    with pytest.raises(DataError, match="missing"):
        tr.load_er_products(tmp_path / "nothing", lazy=True)


def test_cluster_facts_local_record():
    f = scale.cluster_facts(False)
    assert f["scheduler"] == "local threaded" and f["threads"] >= 1 and f["memory_bytes"] > 0


# ------------------------------------------------------------------------------------------------
# the pipeline on a LocalCluster
# ------------------------------------------------------------------------------------------------
#: small parameters: the two chapters in about a minute each on 2 cores
SMALL = {"er_upscaling": {"resolution": 5.0, "n_twin_towers": 40, "n_splits": 3, "n_estimators": 5, "n_members": 2,
                          "n_boot": 20},
         "er_trends": {"rf_pixels": 10, "rf_trees": 3, "n_sim": 50}}
#: functions whose tasks must run on the workers (the kernels of the gridded steps)
KERNELS = ("predict_block", "mk_block", "detrend_block", "partial_block")


def _run(root: Path, results: Path, names, scheduler=None, wait=True):
    cmd = [str(BIN / "landcarbon"), "run", "--only", *names, "--force", "--no-progress", "--data-source", "demo"]
    for n in names:
        for k, v in SMALL[n].items():
            cmd += ["-p", n, f"{k}={v}"]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    env = {k: v for k, v in os.environ.items() if k not in ("LANDCARBON_DATA_PATH", "LANDCARBON_DASK_SCHEDULER")}
    env.update(LANDCARBON_ROOT=str(root), LANDCARBON_RESULTS=str(results), MPLBACKEND="Agg",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    p = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return p
    out, _ = p.communicate(timeout=900)
    return p.returncode, out


def _numbers(results: Path) -> dict:
    """Every number the two analyses wrote (NetCDF variables and CSV columns), by file and variable."""
    out = {}
    for f in sorted(results.glob("er_*/*.nc")):
        with xr.open_dataset(f) as ds:
            for v in ds.data_vars:
                if ds[v].dtype.kind in "fiub":
                    out[f"{f.parent.name}/{f.name}:{v}"] = np.asarray(ds[v].values, float)
    for f in sorted(results.glob("er_*/*.csv")):
        df = pd.read_csv(f)
        for c in df.columns:
            if pd.api.types.is_numeric_dtype(df[c]):
                out[f"{f.parent.name}/{f.name}:{c}"] = df[c].to_numpy(float)
    return out


def _assert_close(ref: dict, got: dict):
    assert set(ref) == set(got) and ref
    for k in ref:
        a, b = ref[k], got[k]
        assert a.shape == b.shape, k
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=k)
        ok = np.isfinite(a)
        np.testing.assert_allclose(b[ok], a[ok], rtol=1e-12, atol=1e-12, err_msg=k)


def _kill_one_worker_during(proc, client, staging: Path, phase: str) -> dict:
    """SIGKILL one worker process as soon as the analysis ``phase`` runs and the scheduler has a task
    in flight; returns what was killed when (or ``{}`` if the run ended first)."""
    pids = client.run(os.getpid)
    addr, pid = sorted(pids.items())[0]
    while proc.poll() is None:
        if any(p.name.startswith(f"{phase}-") for p in staging.glob("*")) and any(client.processing().values()):
            busy = {k: [str(x) for x in v] for k, v in client.processing().items() if v}
            os.kill(pid, signal.SIGKILL)
            return {"worker": addr, "pid": pid, "busy": busy}
        time.sleep(0.02)
    return {}


@pytest.fixture(scope="module")
def cluster_runs(tmp_path_factory):
    """A compendium root with the real notebooks; the local run; a LocalCluster and the cluster run, during
    which one worker is killed (SIGKILL) while er_trends computes."""
    try:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1.5GB",
                               dashboard_address=None)
    except Exception as exc:  # noqa: BLE001 - e.g. no sockets or no process spawning in a sandbox
        pytest.skip(f"dask.distributed cannot start local worker processes here: {type(exc).__name__}: {exc}")
    client = Client(cluster, set_as_default=False)   # this process computes locally unless a test says otherwise
    base = tmp_path_factory.mktemp("scaleout")
    roots = {}
    for kind in ("local", "cluster"):       # two compendium roots: the two runs go side by side
        roots[kind] = root = base / f"root_{kind}"
        root.mkdir()
        (root / "notebooks").symlink_to(ROOT / "notebooks")
        (root / "data_manifest.yaml").symlink_to(ROOT / "data_manifest.yaml")
    root = roots["cluster"]
    names = ["er_upscaling", "er_trends"]
    try:
        client.get_task_stream()                    # installs the scheduler's task-stream plugin
        workers_before = set(client.scheduler_info()["workers"])
        t0 = time.time()
        local = _run(roots["local"], base / "local", names, wait=False)
        proc = _run(root, base / "cluster", names, scheduler=cluster.scheduler_address, wait=False)
        killed = _kill_one_worker_during(proc, client, root / ".landcarbon" / "staging", "er_trends")
        out, _ = proc.communicate(timeout=900)
        stream = client.get_task_stream(start=t0)
        local_out, _ = local.communicate(timeout=900)
        assert local.returncode == 0, local_out[-3000:]
        yield {"root": root, "base": base, "client": client, "cluster": cluster, "stream": stream, "rc": proc.returncode,
               "out": out, "killed": killed, "workers_before": workers_before}
    finally:
        client.close()
        cluster.close()


def _prefix(key) -> str:
    k = key[0] if isinstance(key, tuple) else key
    return str(k)


@pytest.mark.slow
def test_cluster_run_executes_kernels_on_workers_and_equals_local_run(cluster_runs):
    assert cluster_runs["rc"] == 0, cluster_runs["out"][-3000:]
    stream = cluster_runs["stream"]
    ran = Counter()
    on = {k: set() for k in KERNELS}
    for t in stream:
        for k in KERNELS:
            if k in _prefix(t["key"]):
                ran[k] += 1
                on[k].add(t["worker"])
    assert all(ran[k] > 0 for k in KERNELS), f"kernel tasks seen on the workers: {dict(ran)}"
    # both original workers computed kernel tasks (the restarted one has a new address)
    assert cluster_runs["workers_before"] <= set().union(*on.values()), on
    base = cluster_runs["base"]
    _assert_close(_numbers(base / "local"), _numbers(base / "cluster"))
    prov = json.loads((base / "cluster" / "er_trends" / "provenance.json").read_text())
    assert prov["cluster"]["workers"] == 2 and prov["cluster"]["threads"] == 2
    assert prov["cluster"]["scheduler"] == cluster_runs["cluster"].scheduler_address
    local = json.loads((base / "local" / "er_trends" / "provenance.json").read_text())
    assert local["cluster"]["scheduler"] == "local threaded"


@pytest.mark.slow
def test_killing_a_worker_mid_run_completes_after_retry(cluster_runs):
    """One worker was SIGKILLed while er_trends had tasks in flight: the scheduler reran its tasks (and
    the ones whose results it held) on the other worker, the nanny restarted it, and the run finished
    with the local run's numbers (previous test). The staging area is gone, nothing half written."""
    killed = cluster_runs["killed"]
    assert killed, "the run ended before er_trends sent tasks: nothing was killed\n" + cluster_runs["out"][-2000:]
    assert cluster_runs["rc"] == 0, cluster_runs["out"][-3000:]
    client = cluster_runs["client"]
    assert killed["worker"] not in client.scheduler_info()["workers"]          # it really died
    retried = {t["worker"] for t in cluster_runs["stream"]} - cluster_runs["workers_before"]
    assert retried or len(client.scheduler_info()["workers"]) >= 1
    results = cluster_runs["base"] / "cluster"
    assert sorted(p.name for p in results.iterdir() if p.is_dir()) == ["er_trends", "er_upscaling"]
    for name in ("er_upscaling", "er_trends"):
        summary = json.loads((results / name / "summary.json").read_text())
        assert summary["indicators"], name
    staging = cluster_runs["root"] / ".landcarbon" / "staging"
    assert not staging.exists() or not any(staging.iterdir())


@pytest.mark.slow
def test_tower_batch_goes_to_the_cluster(cluster_runs):
    """``flux.run_towers`` sends one task per site-year to the connected cluster, keeps the input order and
    returns what the local loop returns (site-years without data fail fast, so the batch is cheap)."""
    import warnings

    from landcarbon.flux.towers import run_towers

    items = [("CN-Qia", 1990), ("DE-Tha", 1850), ("CN-Qia", 1991)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = cluster_runs["client"]
        t0 = time.time()
        with client.as_current():
            assert scale.active_client() is client
            remote = run_towers(items, progress=False)
        stream = client.get_task_stream(start=t0)
        local = run_towers(items, n_jobs=1, progress=False)
    ran = [t for t in stream if _prefix(t["key"]).startswith("_worker-")]
    assert len(ran) == len(items), [_prefix(t["key"]) for t in stream]
    assert list(zip(remote.site, remote.year)) == items
    assert remote["error"].tolist() == local["error"].tolist()
    # raw files (LANDCARBON_DATA_PATH) and the embedded extract word it differently; both name the year
    assert all(e.startswith("DataError") and str(y) in e for e, (_, y) in zip(remote["error"], items))


def test_report_names_where_a_run_was_computed():
    from landcarbon.publish.report.provenance import cluster_text

    assert cluster_text(scale.cluster_facts(False)).startswith("this machine (")
    rec = {"scheduler": "tcp://10.0.0.5:8786", "workers": 64, "threads": 64, "memory_bytes": 256e9,
           "memory_per_worker_bytes": 4e9}
    assert cluster_text(rec) == "dask cluster: 64 workers, 64 threads, 256 GB"
    assert cluster_text({"scheduler": "tcp://x:1", "error": "OSError: timed out"}) == "dask cluster (size not recorded)"
    assert cluster_text(None) == "not recorded"
