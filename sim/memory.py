"""Peak memory of a run, estimated from its sizes before it starts, and the machine's
available memory: a run that would not fit is refused with both numbers instead of ending
in a MemoryError after minutes.

The coefficients are measured peak resident set sizes (``/usr/bin/time -v`` and
``ru_maxrss``) of ``taresim run`` on this project's reference machine (Linux, numpy/numba/scipy
as pinned), ``configs/default.toml`` (2.98e5 segments, 1.82e7 dose voxels at 250 um):

========================================  ===========  ============  =========
run                                       injected     in the liver  peak RSS
========================================  ===========  ============  =========
glass, day 7 (the default)                1.18e6       1.11e6        2.33 GB
resin 1 GBq, day 7 (stasis: reflux)       9.02e7       8.93e6        3.69 GB
resin 3 GBq, day 0, embolic "none"        4.40e7       4.14e7        7.40 GB
========================================  ===========  ============  =========

A baseline of libraries, compiled kernels and the lobule far-field grid, per dose-grid voxel
and per tree segment (earlier measurements, consistent with these: 2.2 GB for the fixed part
of the default run), per injected sphere (the transport's arrays, kept during the dose
stage: 14 B measured at 4.4e7 spheres) and per sphere lodged in the liver (positions and the
dose stage's copies: 121 B fitted to the three runs). They are rounded up; the estimate is
meant to be pessimistic by ~20 % (+2 %, +15 % and +32 % on the runs above).
"""
from __future__ import annotations

import os

__all__ = ["estimate_peak_bytes", "available_bytes", "MemoryBudgetError", "check_memory",
           "BASE_BYTES", "BYTES_PER_SPHERE", "BYTES_PER_LIVER_SPHERE", "BYTES_PER_VOXEL",
           "BYTES_PER_SEGMENT"]

#: Libraries, compiled kernels and the lobule far-field grid [bytes].
BASE_BYTES = 1.0e9
#: Per injected sphere [bytes]: diameters, fates, segments (measured 14 B at 4.4e7 spheres).
BYTES_PER_SPHERE = 16.0
#: Per sphere lodged in the liver [bytes]: positions and the dose stage (fitted: 121 B).
BYTES_PER_LIVER_SPHERE = 135.0
#: Per voxel of the dose grid [bytes] (measured: 46-50 B between 1e5 and 2.3e7 voxels).
BYTES_PER_VOXEL = 60.0
#: Per tree segment [bytes] (growth of 10^6 terminals: 716 MB for 2e6 segments).
BYTES_PER_SEGMENT = 420.0


class MemoryBudgetError(ValueError):
    """A run that would need more memory than the machine has available."""


def estimate_peak_bytes(n_spheres: int, n_segments: int, n_voxels: int,
                        n_liver: int | None = None) -> float:
    """Estimated peak resident memory of a run [bytes].

    ``n_liver`` bounds the spheres that can lodge in the liver (default ``n_spheres``: all of
    them, the pessimistic case; with the linear embolic model at most N_occ per segment).
    """
    n_liver = n_spheres if n_liver is None else min(n_liver, n_spheres)
    return (BASE_BYTES + BYTES_PER_SPHERE * n_spheres + BYTES_PER_LIVER_SPHERE * n_liver
            + BYTES_PER_SEGMENT * n_segments + BYTES_PER_VOXEL * n_voxels)


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
