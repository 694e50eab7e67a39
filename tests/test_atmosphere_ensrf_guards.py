"""EnSRF input validation: every bad input gets a typed error, none can crash the interpreter.

The issue's crash cases (``y`` longer than ``H`` has rows: ``double free or corruption``, exit 134;
``y``/``r``/``rho`` too short: silent out-of-bounds reads; negative ``r`` or NaN in ``y``: an all-NaN
mean; N = 1: a raw ZeroDivisionError) each run in their own subprocess, so that a crash fails the test
instead of killing the test session. A hypothesis search over shapes and values (also in a subprocess)
checks that no input crashes: each call either returns finite arrays or raises a LandcarbonError.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from landcarbon.atmosphere.ensrf import ensrf_update, make_ensemble
from landcarbon.errors import ConfigError, DataError

PRELUDE = """
import numpy as np
from landcarbon.atmosphere.ensrf import ensrf_update
from landcarbon.errors import LandcarbonError
rng = np.random.default_rng(0)
n, N, m = 4, 6, 5
x = rng.normal(size=n); X = rng.normal(size=(n, N)); X -= X.mean(axis=1, keepdims=True)
H = rng.normal(size=(m, n)); y = rng.normal(size=m); r = np.full(m, 0.5); rho = np.ones((m, n))
"""


def _run(code: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env)


CRASH_CASES = {
    # name: (call, expected error class name)
    "y_longer_than_H_rows": ("ensrf_update(x, X, H, np.r_[y, 1.0, 2.0, 3.0], np.full(m + 3, 0.5))", "ConfigError"),
    "y_too_short": ("ensrf_update(x, X, H, y[:2], r)", "ConfigError"),
    "r_too_short": ("ensrf_update(x, X, H, y, r[:1])", "ConfigError"),
    "rho_too_short": ("ensrf_update(x, X, H, y, r, rho=rho[:2, :1])", "ConfigError"),
    "negative_r": ("ensrf_update(x, X, H, y, np.r_[r[:-1], -0.5])", "DataError"),
    "nan_in_y": ("ensrf_update(x, X, H, np.r_[np.nan, y[1:]], r)", "DataError"),
    "one_member": ("ensrf_update(x, X[:, :1], H, y, r)", "ConfigError"),
}


@pytest.mark.parametrize("case", sorted(CRASH_CASES))
def test_issue_crash_cases_raise_typed_errors_in_subprocess(case):
    call, expected = CRASH_CASES[case]
    code = PRELUDE + textwrap.dedent(f"""
    try:
        {call}
    except LandcarbonError as exc:
        print("RAISED", type(exc).__name__, str(exc))
    else:
        print("NO ERROR")
    """)
    res = _run(code)
    assert res.returncode == 0, f"interpreter died (exit {res.returncode}):\n{res.stderr[-2000:]}"
    assert f"RAISED {expected}" in res.stdout, res.stdout + res.stderr[-2000:]
    assert "[where: ensrf_update]" in res.stdout and "Fix:" in res.stdout


def test_kernel_itself_refuses_inconsistent_shapes_in_subprocess():
    """The numba kernel re-checks the index ranges it uses (defence when called directly)."""
    code = PRELUDE + textwrap.dedent("""
    from landcarbon.atmosphere import _kernels
    hxm = H @ x; HX = np.ascontiguousarray(H @ X)
    yl = np.r_[y, 1.0, 2.0]
    for args in [(x.copy(), X.copy(), hxm.copy(), HX.copy(), yl, np.full(m + 2, 0.5), rho),
                 (x.copy(), X.copy(), hxm.copy(), HX.copy(), y, r[:2], rho),
                 (x.copy(), X[:, :1].copy(), hxm.copy(), HX[:, :1].copy(), y, r, rho),
                 (x.copy(), X.copy(), hxm.copy(), HX.copy(), y, -r, rho)]:
        try:
            _kernels.ensrf_serial(*args, False)
        except ValueError as exc:
            print("KERNEL-REFUSED", exc)
    """)
    res = _run(code)
    assert res.returncode == 0, f"interpreter died (exit {res.returncode}):\n{res.stderr[-2000:]}"
    assert res.stdout.count("KERNEL-REFUSED") == 4, res.stdout


HYPOTHESIS_SCRIPT = """
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from landcarbon.atmosphere.ensrf import ensrf_update
from landcarbon.errors import LandcarbonError

special = st.sampled_from([0.0, -1.0, 1.0, 1e-300, 1e300, -1e300, np.nan, np.inf, -np.inf, 1e-12])
value = st.one_of(st.floats(-1e3, 1e3), special)


def arr(draw, shape):
    size = int(np.prod(shape)) if len(shape) else 1
    vals = draw(st.lists(value, min_size=size, max_size=size))
    return np.asarray(vals, dtype=float).reshape(shape)


@st.composite
def inputs(draw):
    n = draw(st.integers(0, 5)); N = draw(st.integers(0, 6)); m = draw(st.integers(0, 6))
    d = lambda k: max(0, k + draw(st.sampled_from([0, 0, 0, -1, 1, 2])))   # mostly consistent sizes
    kw = {}
    if draw(st.booleans()):
        kw["rho"] = arr(draw, (d(m), d(n)))
    if draw(st.booleans()):
        kw["hx_offset"] = arr(draw, (d(m),))
    if draw(st.booleans()):
        kw["inflation"] = draw(value)
    return (arr(draw, (d(n),)), arr(draw, (d(n), d(N))), arr(draw, (d(m), d(n))), arr(draw, (d(m),)),
            arr(draw, (d(m),)), kw)


@settings(max_examples=int(__import__("sys").argv[1]), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(inputs())
def check(args):
    x, X, H, y, r, kw = args
    try:
        xm, Xa = ensrf_update(x, X, H, y, r, **kw)
    except LandcarbonError:
        return
    assert np.all(np.isfinite(xm)) and np.all(np.isfinite(Xa))
    assert xm.shape == x.shape and Xa.shape == X.shape


check()
print("HYPOTHESIS-OK")
"""


def test_no_input_crashes_ensrf_update_hypothesis_in_subprocess():
    """Hypothesis (derandomised, 400 examples) in a subprocess: typed error or finite result, never a crash."""
    res = subprocess.run([sys.executable, "-c", HYPOTHESIS_SCRIPT, "400"], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    assert res.returncode == 0, f"exit {res.returncode}:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert "HYPOTHESIS-OK" in res.stdout


# ------------------------------------------------------------------ in-process checks of the messages
def test_messages_name_argument_and_fix():
    rng = np.random.default_rng(1)
    x = rng.normal(size=3); X = make_ensemble(np.ones(3), 5, 0); H = rng.normal(size=(4, 3))
    y = rng.normal(size=4); r = np.full(4, 0.3)
    with pytest.raises(ConfigError, match="y has 6 elements but H has 4 rows"):
        ensrf_update(x, X, H, np.r_[y, 0, 0], r)
    with pytest.raises(DataError, match=r"r\[2\] = -1.0 is not > 0.*square the 1-sigma"):
        ensrf_update(x, X, H, y, np.r_[r[:2], -1.0, r[3]])
    with pytest.raises(DataError, match=r"y contains NaN or inf \(first at index 1\)"):
        ensrf_update(x, X, H, np.r_[y[0], np.nan, y[2:]], r)
    with pytest.raises(DataError, match="rho must lie in"):
        ensrf_update(x, X, H, y, r, rho=np.full((4, 3), 1.5))
    with pytest.raises(ConfigError, match="inflation must be finite and > 0"):
        ensrf_update(x, X, H, y, r, inflation=0.0)
    with pytest.raises(ConfigError, match="N >= 2"):
        make_ensemble(np.ones(3), 1, 0)
    with pytest.raises(DataError, match="overflowed"):
        ensrf_update(x, X * 1e200, H * 1e200, y, r)
    # valid input still works, and does not modify its arguments
    X0 = X.copy()
    xm, Xa = ensrf_update(x, X, H, y, r)
    assert np.all(np.isfinite(xm)) and np.array_equal(X, X0)
