"""The trend kernels never crash the interpreter: property-based tests (hypothesis) and the crashes found
by independent testers, each run in a subprocess so that a segmentation fault fails the test instead of
killing the session."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, timeout: float = 600.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _explain(proc: subprocess.CompletedProcess) -> str:
    sig = f" (killed by signal {-proc.returncode})" if proc.returncode < 0 else ""
    return f"exit {proc.returncode}{sig}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"


def test_subnormal_slopes_do_not_crash():
    """Issue 18: all pairwise slopes below ~1e-306 made the bucket scale infinite -> int(NaN) index ->
    exit 139 (segfault) or heap corruption."""
    proc = _run("""
        import numpy as np
        from landcarbon.trends import mk_test, trend_field
        r = mk_test(np.array([0.0, 1e-310, 3e-310]), confidence_interval=False)
        assert r["slope"] == 1.5e-310 - 0.0 or abs(r["slope"] - 1.5e-310) < 1e-320, r["slope"]
        r = mk_test(np.array([0.0, 1e-310, 3e-310, 5e-320, 2e-310]))
        assert r["slope_low"] <= r["slope"] <= r["slope_high"]
        x = np.random.default_rng(0).normal(size=(2000, 30)) * 1e-312
        for m in ("original", "hamed_rao", "yue_wang", "pre_whitening", "tfpw", "seasonal", "correlated_seasonal"):
            mk_test(x, m, period=5)
        y = np.random.default_rng(1).normal(size=(500, 30)) * 1e307
        for m in ("original", "hamed_rao", "tfpw", "seasonal"):
            mk_test(y, m, period=5)
        print("ok")
    """)
    assert proc.returncode == 0 and "ok" in proc.stdout, _explain(proc)


def test_hypothesis_suite_in_subprocess():
    env = {**os.environ, "LC_HYPOTHESIS_EXAMPLES": os.environ.get("LC_HYPOTHESIS_EXAMPLES", "80")}
    # the timeouts only guard against a hang: on a loaded 2-core machine numba compilation alone takes minutes
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "hypothesis_trends_kernels.py"),
                           "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert proc.returncode == 0, _explain(proc)
    assert " passed" in proc.stdout


@pytest.mark.parametrize("call, error", [
    ("mk_test(np.arange(10.0), 'hamed_rao', lag=0)", "ConfigError"),
    ("mk_test(np.arange(10.0), 'yue_wang', lag=-1)", "ConfigError"),
    ("mk_test(np.arange(24.0), 'seasonal', period=12.5)", "ConfigError"),
    ("mk_test(np.arange(24.0), 'seasonal', period=True)", "ConfigError"),
    ("mk_test(np.array([]))", "DataError"),
    ("mk_test(np.zeros((4, 0)))", "DataError"),
    ("mk_test(xr.DataArray(np.zeros((10, 3)), dims=('time2', 'lon')))", "DataError"),
    ("mk_test(xr.DataArray(np.zeros((10, 3)), dims=('time', 'lon')), dim='year')", "DataError"),
    ("mk_test(np.array([1.0, np.inf, 2.0]))", "DataError"),
    ("mk_test(np.arange(5) + 1j)", "DataError"),
    ("mk_test(pd.DataFrame({'a': np.arange(5.0)}))", "DataError"),
    ("mk_test(np.arange(5.0), alpha=1.5)", "ConfigError"),
    ("mk_test(np.zeros(10000))", "ConfigError"),
    ("multivariate_test(np.zeros((10, 3)), 'partial')", "DataError"),
    ("multivariate_test(np.zeros(10), 'regional')", "DataError"),
])
def test_invalid_input_gives_typed_errors(call, error):
    import numpy as np  # noqa: F401
    import pandas as pd  # noqa: F401
    import xarray as xr  # noqa: F401

    from landcarbon import errors
    from landcarbon.trends import mk_test, multivariate_test  # noqa: F401

    with pytest.raises(getattr(errors, error)) as info:
        eval(call)
    assert "landcarbon.trends" in str(info.value)


def test_xarray_time_axis_is_found_by_name():
    import numpy as np
    import xarray as xr

    from landcarbon.trends import mk_test

    rng = np.random.default_rng(3)
    data = rng.normal(size=(30, 4)) + np.arange(30)[:, None] * 0.2
    da = xr.DataArray(data, dims=("year", "site"))          # time is NOT the last axis
    r = mk_test(da)
    np.testing.assert_array_equal(r["slope"], mk_test(data.T)["slope"])
    np.testing.assert_array_equal(mk_test(da.rename(year="t"), dim="t")["s"], r["s"])
    # an integral float period or lag is accepted; the result equals the integer one
    np.testing.assert_array_equal(mk_test(data.T, "seasonal", period=5.0)["s"], mk_test(data.T, "seasonal", period=5)["s"])
