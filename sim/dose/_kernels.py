"""Numba kernels of the dose stage (plain arrays; see :mod:`sim.dose.compartments`)."""
import numpy as np
from numba import njit


@njit(cache=True)
def nearest_terminal_region(points, region, origin, spacing, shape, max_dist, out_region, best):
    """Label voxels with the region of the nearest terminal within ``max_dist`` [mm].

    Splats each terminal over the voxels of its neighbourhood and keeps the nearest one;
    ``best`` receives the squared distance to it [mm^2] (inf where no terminal is that close,
    and the label stays -1).
    """
    nx, ny, nz = shape[0], shape[1], shape[2]
    rx = int(np.ceil(max_dist / spacing[0]))
    ry = int(np.ceil(max_dist / spacing[1]))
    rz = int(np.ceil(max_dist / spacing[2]))
    md2 = max_dist * max_dist
    for t in range(points.shape[0]):
        fx = (points[t, 0] - origin[0]) / spacing[0]
        fy = (points[t, 1] - origin[1]) / spacing[1]
        fz = (points[t, 2] - origin[2]) / spacing[2]
        cx = int(np.floor(fx + 0.5))
        cy = int(np.floor(fy + 0.5))
        cz = int(np.floor(fz + 0.5))
        for i in range(max(cx - rx, 0), min(cx + rx, nx - 1) + 1):
            dx = (i - fx) * spacing[0]
            for j in range(max(cy - ry, 0), min(cy + ry, ny - 1) + 1):
                dy = (j - fy) * spacing[1]
                for k in range(max(cz - rz, 0), min(cz + rz, nz - 1) + 1):
                    dz = (k - fz) * spacing[2]
                    d2 = dx * dx + dy * dy + dz * dz
                    if d2 <= md2:
                        v = (i * ny + j) * nz + k
                        if d2 < best[v]:
                            best[v] = d2
                            out_region[v] = region[t]
