"""Electron MC kernels: random streams, energy conservation, thread independence, no-JIT path."""
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from numba import njit

from dosimetry import _electron_mc as mc
from dosimetry.electron_physics import build_tables
from dosimetry.rng import seed_hash, xoshiro_seed, xoshiro_uniform


@njit(cache=True)
def uniform_stream(key, index, n):
    """First ``n`` uniforms of history ``index``'s stream."""
    s = np.empty(4, dtype=np.uint64)
    xoshiro_seed(s, key, index)
    out = np.empty(n)
    for k in range(n):
        out[k] = xoshiro_uniform(s)
    return out

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tables():
    return build_tables(3.0)


def test_random_streams():
    h = seed_hash(1)
    a = uniform_stream(h, 0, 20000)
    assert np.all((a > 0) & (a < 1))
    assert abs(a.mean() - 0.5) < 4 * np.sqrt(1 / 12 / a.size)
    np.testing.assert_array_equal(a, uniform_stream(h, 0, 20000))
    b = uniform_stream(h, 1, 20000)
    assert not np.any(a == b)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(a.size)
    assert seed_hash(1) != seed_hash(2)


def _run(tables, **kw):
    args = dict(histories=300, seed=5, batches=4, shell_width_mm=0.05, n_shells=100,
                step_fraction=0.04)
    args.update(kw)
    return mc.simulate_point_source(np.array([1.0, 1.0]), np.array([0.0, 1.0]), tables, **args)


def test_energy_conservation_and_thread_independence(tables):
    tally, acc, counts = _run(tables)
    assert counts.sum() == 300
    total = tally.sum() + acc[:, mc.ACC_BREMS].sum()
    assert total == pytest.approx(300 * 1.0, rel=1e-10)
    assert acc[:, mc.ACC_DROPPED].sum() == 0.0
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        tally1, acc1, _ = _run(tables)
    finally:
        numba.set_num_threads(n)
    np.testing.assert_array_equal(tally, tally1)
    np.testing.assert_array_equal(acc, acc1)
    other, _, _ = _run(tables, seed=6)
    assert not np.array_equal(tally, other)


def test_argument_validation(tables):
    with pytest.raises(ValueError):
        _run(tables, histories=2, batches=4)
    with pytest.raises(ValueError):
        _run(tables, step_fraction=0.7)
    with pytest.raises(ValueError):
        _run(tables, cutoff_mev=0.05)  # above the Moller cut
    with pytest.raises(ValueError):
        mc.simulate_point_source(np.array([5.0, 5.0]), np.array([0.0, 1.0]), tables, histories=10)


_SCRIPT = """
import json, numpy as np
from dosimetry import _electron_mc as mc
from dosimetry.electron_physics import build_tables
with np.errstate(over="ignore"):
    t, a, _ = mc.simulate_point_source(np.array([0.2, 0.2]), np.array([0.0, 1.0]), build_tables(3.0),
        histories=4, seed=9, batches=2, shell_width_mm=0.01, n_shells=60, step_fraction=0.1)
print(json.dumps({"tally": t.ravel().tolist(), "acc": a.ravel().tolist()}))
"""


def test_python_path_matches_jit(tables):
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=REPO)
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    py = json.loads(res.stdout.strip().splitlines()[-1])
    t, a, _ = mc.simulate_point_source(np.array([0.2, 0.2]), np.array([0.0, 1.0]), tables,
                                       histories=4, seed=9, batches=2, shell_width_mm=0.01,
                                       n_shells=60, step_fraction=0.1)
    np.testing.assert_allclose(np.array(py["tally"]), t.ravel(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.array(py["acc"]), a.ravel(), rtol=1e-9, atol=1e-15)


def test_monoenergetic_smoke():
    from dosimetry.kernel_build import monoenergetic_kernel

    k = monoenergetic_kernel(0.5, histories=3000, step_fraction=0.04)
    assert k.energy_per_decay_MeV + k.bremsstrahlung_MeV_per_decay == pytest.approx(0.5, rel=1e-10)
    r0 = k.metadata["csda_range_mm"]
    assert 0.74 < k.x90_mm() / r0 < 0.84
    assert k.metadata["histories"] == 3000 and k.metadata["source_energy_MeV"] == 0.5
