"""Reusable work arrays of the grid levels' FFTs (:mod:`dosimetry.grid_fft`).

A fresh 130 MB array costs its page faults when first written (the kernel zeroes and maps
its pages; with transparent huge pages it may first compact memory, which took 0.1-0.5 s in
some calls on a busy machine). :func:`dosimetry.grid.dose_on_grid` therefore keeps three raw
buffers between calls and views them as the arrays each level needs: the FFT arrays of one
tile (``max_fft_bytes`` at most; 0.4 GB for a 256^3 grid at 100 um). After each call the
buffers that call did not need, or needed much less of, are freed; :func:`release` frees all.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

from dosimetry import _grid_kernels as gk


class Workspace:
    """Named raw buffers, grown on demand and viewed as arrays of any shape and dtype."""

    def __init__(self):
        self._raw = {}
        self._clean = set()
        self._used = {}

    def array(self, name, shape, dtype, zero=False):
        """A C-contiguous view of buffer ``name`` as ``shape`` and ``dtype`` (all zeros when
        ``zero``; otherwise its content is undefined). The buffer counts as written until
        :meth:`mark_clean`."""
        dtype = np.dtype(dtype)
        shape = tuple(int(v) for v in shape)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        self._used[name] = max(self._used.get(name, 0), nbytes)
        raw = self._raw.get(name)
        if raw is None or raw.nbytes < nbytes:
            self._raw.pop(name, None)
            del raw
            # complex128 storage: 16-byte aligned for every dtype viewed on it; zeros on demand
            raw = np.zeros(-(-nbytes // 16), np.complex128).view(np.uint8)
            self._raw[name] = raw
            self._clean.add(name)
        if zero and name not in self._clean:
            gk.zero_fill(raw.view(np.float64))
        self._clean.discard(name)
        return raw[:nbytes].view(dtype).reshape(shape)

    def mark_clean(self, name):
        """Declare buffer ``name`` all zeros again (its user restored them)."""
        if name in self._raw:
            self._clean.add(name)

    @property
    def nbytes(self):
        """Bytes held."""
        return sum(v.nbytes for v in self._raw.values())

    def trim(self):
        """Free the buffers not asked for since the last trim, or more than 1.25 times larger
        than the largest view asked for."""
        for name in list(self._raw):
            used = self._used.get(name, 0)
            if used == 0 or self._raw[name].nbytes > 1.25 * used + 4096:
                del self._raw[name]
                self._clean.discard(name)
        self._used.clear()

    def clear(self):
        self._raw.clear()
        self._clean.clear()
        self._used.clear()


_SHARED = Workspace()
_LOCK = threading.Lock()


@contextmanager
def workspace():
    """The shared workspace, or a private one while another thread uses it."""
    if _LOCK.acquire(blocking=False):
        try:
            yield _SHARED
        finally:
            _SHARED.trim()
            _LOCK.release()
    else:
        yield Workspace()


def release():
    """Free the work arrays kept between calls of the grid mode; returns the bytes freed."""
    with _LOCK:
        n = _SHARED.nbytes
        _SHARED.clear()
    return n
