"""Work arrays kept between grid-mode calls (dosimetry._workspace): a kept buffer must never
leak values from one call into the next, whatever the sizes, precisions and threads."""
import threading

import numpy as np
import pytest
from scipy import fft as sfft

from dosimetry import grid
from dosimetry._fft import irfftn_overwrite, rfftn_into
from dosimetry._workspace import Workspace, release, workspace


def test_views_zeroing_and_trim():
    ws = Workspace()
    a = ws.array("a", (4, 5), np.float64, zero=True)
    assert a.shape == (4, 5) and a.dtype == np.float64 and not a.any()
    a[:] = 7.0
    b = ws.array("a", (3, 3), np.complex64)  # same memory, other dtype; content undefined
    assert np.shares_memory(a, b)
    c = ws.array("a", (4, 5), np.float64, zero=True)  # written since: zeroed again
    assert not c.any()
    c[1, 1] = 1.0
    c[1, 1] = 0.0  # restored by its user, who says so: no fill needed, same memory
    ws.mark_clean("a")
    d = ws.array("a", (4, 5), np.float64, zero=True)
    assert np.shares_memory(d, c) and not d.any()
    big = ws.array("a", (100, 100), np.float64)  # grows: a new buffer
    assert not np.shares_memory(big, a)
    ws.array("b", (10,), np.float32)
    ws.trim()  # both asked for since the last trim, at their size: kept
    assert ws.nbytes >= 100 * 100 * 8
    ws.array("a", (2, 2), np.float64)
    ws.trim()  # "a" is now far larger than asked, "b" not asked: both freed
    assert ws.nbytes == 0


def test_fft_into_given_arrays_equals_scipy():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        x = rng.random((6, 10, 12)).astype(dtype)
        cplx = np.complex64 if dtype == np.float32 else np.complex128
        spec = rfftn_into(x, np.empty((6, 10, 7), cplx), 2)
        tol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(spec, sfft.rfftn(x), atol=tol * np.abs(spec).max())
        back = irfftn_overwrite(spec.copy(), x.shape, 2, out=np.empty(x.shape, dtype))
        np.testing.assert_allclose(back, x, atol=tol * 10)
        np.testing.assert_allclose(irfftn_overwrite(spec, x.shape, 2), x, atol=tol * 10)


def _dense(n, h, count, seed):
    rng = np.random.default_rng(seed)
    side = (n + 16) * h
    xyz = rng.uniform(-8 * h, side - 8 * h, (count, 3))
    return xyz, dict(origin_mm=np.zeros(3), spacing_mm=h, shape=(n, n, n), density_g_cm3=1.04,
                     coarse_factor=(2, 2, 2), photons=True, return_info=True)


def test_repeated_calls_equal_fresh_calls():
    """Calls of other sizes and precisions in between leave no trace: the same call gives
    the same array, bit for bit, with kept buffers as after release()."""
    xyz_a, kw_a = _dense(40, 0.1, 40_000, 1)   # dense: float32 levels
    xyz_b, kw_b = _dense(52, 0.1, 3, 2)        # three spheres: float64 levels, larger FFTs
    release()
    first, info = grid.dose_on_grid(xyz_a, 2500.0, **kw_a)
    assert info["fft_precision"] == "single" and info["coarse_tiles"] > 0
    other, info_b = grid.dose_on_grid(xyz_b, 2500.0, **kw_b)
    assert info_b["fft_precision"].startswith("double")
    again, _ = grid.dose_on_grid(xyz_a, 2500.0, **kw_a)
    np.testing.assert_array_equal(again, first)
    release()
    np.testing.assert_array_equal(grid.dose_on_grid(xyz_b, 2500.0, **kw_b)[0], other)
    assert grid.release_workspace() > 0  # the last call kept its work arrays


def test_without_fft_output_arguments(monkeypatch):
    """Where scipy's pocketfft binding cannot be imported, new arrays are used instead: the
    same dose to round-off."""
    from dosimetry import _fft

    xyz, kw = _dense(40, 0.1, 40_000, 1)
    ref = grid.dose_on_grid(xyz, 2500.0, **kw)[0]
    monkeypatch.setattr(_fft, "_pfft", None)
    got = grid.dose_on_grid(xyz, 2500.0, **kw)[0]
    np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_concurrent_calls_use_private_work_arrays():
    xyz, kw = _dense(40, 0.1, 40_000, 1)
    serial = grid.dose_on_grid(xyz, 2500.0, **kw)[0]
    results = [None] * 3

    def run(i):
        results[i] = grid.dose_on_grid(xyz, 2500.0, **kw)[0]

    with workspace():  # held by this thread: every call below gets a private workspace
        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for r in results:
        np.testing.assert_array_equal(r, serial)


@pytest.fixture(autouse=True)
def _free_after():
    yield
    release()
