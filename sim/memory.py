"""Peak memory of a run, estimated from its sizes before it starts, and the machine's
available memory: a run that would not fit is refused with both numbers instead of ending
in a MemoryError after minutes.

The coefficients are measured peak resident set sizes (``/usr/bin/time -v``) of
``taresim run`` on this project's reference machine (Linux, numpy/numba/scipy as pinned):
a baseline of libraries and compiled kernels, then per sphere (transport arrays, positions,
the dose stage's sorted copies), per dose-grid voxel (dose, per-compartment parts, FFT tiles)
and per tree segment (tree, flow state, growth). They are rounded up; the estimate is meant to
be pessimistic by ~20 %.
"""
from __future__ import annotations

import os

__all__ = ["estimate_peak_bytes", "available_bytes", "MemoryBudgetError", "check_memory",
           "BASE_BYTES", "BYTES_PER_SPHERE", "BYTES_PER_VOXEL", "BYTES_PER_SEGMENT"]

#: Libraries, compiled kernels and the lobule far-field grid [bytes].
BASE_BYTES = 1.0e9
#: Per administered sphere [bytes] (measured: 95 B between 0.73 and 5.9 million spheres).
BYTES_PER_SPHERE = 115.0
#: Per voxel of the dose grid [bytes] (measured: 46-50 B between 1e5 and 2.3e7 voxels).
BYTES_PER_VOXEL = 60.0
#: Per tree segment [bytes] (growth of 10^6 terminals: 716 MB for 2e6 segments).
BYTES_PER_SEGMENT = 420.0


class MemoryBudgetError(ValueError):
    """A run that would need more memory than the machine has available."""


def estimate_peak_bytes(n_spheres: int, n_segments: int, n_voxels: int) -> float:
    """Estimated peak resident memory of a run [bytes]."""
    return (BASE_BYTES + BYTES_PER_SPHERE * n_spheres + BYTES_PER_SEGMENT * n_segments
            + BYTES_PER_VOXEL * n_voxels)


def available_bytes() -> float | None:
    """Memory available to a new process [bytes] (Linux ``MemAvailable``; else the physical
    memory), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(estimate: float, what: str, available: float | None = None) -> None:
    """Raise :class:`MemoryBudgetError` when ``estimate`` exceeds the available memory."""
    available = available_bytes() if available is None else available
    if available is not None and estimate > available:
        raise MemoryBudgetError(
            f"{what} needs about {estimate / 1e9:.1f} GB of memory (estimated peak) but "
            f"{available / 1e9:.1f} GB are available: lower the activity or sphere count, "
            "coarsen dose.grid_um, or run on a larger machine")
