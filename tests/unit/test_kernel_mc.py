"""Electron / photon MC kernels: random streams, energy conservation, thread independence,
stratified sources, no-JIT path."""
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
                step_fraction=0.04, n_photon_shells=100)
    args.update(kw)
    return mc.simulate_point_source(np.array([1.0, 1.0]), np.array([0.0, 1.0]), tables, **args)


def test_energy_conservation_and_thread_independence(tables):
    tally, acc, counts, ptally = _run(tables)
    assert counts.sum() == 300
    # every MeV ends in the electron tally or (bremsstrahlung photons) in the photon tally
    total = tally.sum() + ptally.sum() + acc[:, mc.ACC_BREMS].sum()
    assert total == pytest.approx(300 * 1.0, rel=1e-10)
    assert acc[:, mc.ACC_BREMS].sum() == 0.0  # discrete bremsstrahlung: nothing escapes
    assert ptally.sum() == pytest.approx(acc[:, mc.ACC_PHOTON_E].sum(), rel=1e-10)
    assert acc[:, mc.ACC_PHOTONS].sum() > 0 and acc[:, mc.ACC_ELASTIC].sum() > 0
    assert acc[:, mc.ACC_DROPPED].sum() == 0.0
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        tally1, acc1, _, ptally1 = _run(tables)
    finally:
        numba.set_num_threads(n)
    np.testing.assert_array_equal(tally, tally1)
    np.testing.assert_array_equal(ptally, ptally1)
    np.testing.assert_array_equal(acc, acc1)
    other = _run(tables, seed=6).tally
    assert not np.array_equal(tally, other)
    assert not np.array_equal(tally, _run(tables, stream=1).tally)


def test_continuous_bremsstrahlung_escapes():
    t = build_tables(3.0, brems="continuous")
    tally, acc, _, ptally = _run(t)
    assert ptally.sum() == 0.0 and acc[:, mc.ACC_PHOTONS].sum() == 0.0
    assert tally.sum() + acc[:, mc.ACC_BREMS].sum() == pytest.approx(300.0, rel=1e-10)


def test_legacy_wentzel_model_runs(tables):
    tally, acc, _, ptally = _run(tables, ms_model=mc.MS_WENTZEL1)
    assert tally.sum() + ptally.sum() == pytest.approx(300.0, rel=1e-10)
    assert acc[:, mc.ACC_ELASTIC].sum() == 0.0  # no hard elastic events in the legacy model


def test_stratified_line_source_shares():
    # two lines with yields 0.25 / 0.75: stratification gives each batch its exact share
    from dosimetry.kernel_build import line_source_cdf

    e, cdf, total, mean = line_source_cdf([0.02, 0.05], [0.25, 0.75])
    assert total == 1.0 and mean == pytest.approx(0.0425)
    res = mc.simulate_photon_source(e, cdf, histories=400, seed=2, batches=4, n_photon_shells=10)
    per_batch = res.photon_tally.sum(axis=1)
    np.testing.assert_allclose(per_batch, 100 * mean, rtol=0, atol=0.031)  # +-1 line of 30 keV


def test_photon_source_energy_conservation():
    res = mc.simulate_photon_source(np.array([0.0806, 0.0806]), np.array([0.0, 1.0]),
                                    histories=2000, seed=1, batches=4, r_kill_mm=100.0,
                                    n_photon_shells=400)
    assert res.tally.sum() == 0.0
    assert res.photon_tally.sum() == pytest.approx(2000 * 0.0806, rel=1e-10)
    assert res.photon_tally[:, -1].sum() > 0  # photons beyond 40 mm counted in the overflow


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
    t, a, _, p = mc.simulate_point_source(np.array([0.2, 0.2]), np.array([0.0, 1.0]), build_tables(3.0),
        histories=4, seed=9, batches=2, shell_width_mm=0.01, n_shells=60, step_fraction=0.1,
        n_photon_shells=50)
print(json.dumps({"tally": t.ravel().tolist(), "acc": a.ravel().tolist(), "p": p.ravel().tolist()}))
"""


def test_python_path_matches_jit(tables):
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=REPO)
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    py = json.loads(res.stdout.strip().splitlines()[-1])
    t, a, _, p = mc.simulate_point_source(np.array([0.2, 0.2]), np.array([0.0, 1.0]), tables,
                                          histories=4, seed=9, batches=2, shell_width_mm=0.01,
                                          n_shells=60, step_fraction=0.1, n_photon_shells=50)
    np.testing.assert_allclose(np.array(py["tally"]), t.ravel(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.array(py["acc"]), a.ravel(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.array(py["p"]), p.ravel(), rtol=1e-9, atol=1e-15)


def test_monoenergetic_smoke():
    from dosimetry.kernel_build import monoenergetic_kernel

    k = monoenergetic_kernel(0.5, histories=3000, step_fraction=0.04, batches=10)
    assert k.energy_per_decay_MeV + k.bremsstrahlung_MeV_per_decay == pytest.approx(0.5, rel=1e-10)
    assert k.metadata["photon_kernel_energy_MeV_per_decay"] + \
        k.metadata["photon_energy_beyond_table_MeV_per_decay"] == \
        pytest.approx(k.bremsstrahlung_MeV_per_decay, rel=1e-9)
    r0 = k.metadata["csda_range_mm"]
    assert 0.74 < k.x90_mm() / r0 < 0.84
    assert k.metadata["histories"] == 3000 and k.metadata["source_energy_MeV"] == 0.5
