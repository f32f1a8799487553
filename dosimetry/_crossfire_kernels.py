"""Numba kernels of the cross-fire dose (plain arrays; see :mod:`dosimetry.crossfire`).

Point kernel lookup: ``g[k] = r_k^2 D(r_k)`` on a uniform grid r_k = k h (D per decay [Gy]);
D(r) = g(r) / r^2 with g linear between nodes, and D(r) = D(h) for r < h (inside the sphere
source itself). Zero beyond the cut-off radius.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def kernel_value(r2, g, inv_h, d_near, r_cut2):
    """Dose per decay [Gy] at squared distance r2 [mm^2] (0 beyond the cut-off)."""
    if r2 >= r_cut2:
        return 0.0
    r = np.sqrt(r2)
    x = r * inv_h
    k = int(x)
    if k == 0:
        return d_near
    f = x - k
    return (g[k] * (1.0 - f) + g[k + 1] * f) / r2


@njit(cache=True)
def build_cells(xyz, origin, cell_mm, dims):
    """Bin points into cubic cells: returns (order, cell_start) for a CSR cell list."""
    n = xyz.shape[0]
    nx, ny, nz = dims[0], dims[1], dims[2]
    cell = np.empty(n, np.int64)
    counts = np.zeros(nx * ny * nz + 1, np.int64)
    for i in range(n):
        cx = min(max(int((xyz[i, 0] - origin[0]) / cell_mm), 0), nx - 1)
        cy = min(max(int((xyz[i, 1] - origin[1]) / cell_mm), 0), ny - 1)
        cz = min(max(int((xyz[i, 2] - origin[2]) / cell_mm), 0), nz - 1)
        c = (cx * ny + cy) * nz + cz
        cell[i] = c
        counts[c + 1] += 1
    for c in range(nx * ny * nz):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        c = cell[i]
        order[fill[c]] = i
        fill[c] += 1
    return order, counts


@njit(cache=True, parallel=True)
def dose_at_points(points, src_xyz, src_decays, cell_start, origin, cell_mm, dims, g, inv_h,
                   d_near, r_cut, out):
    """Sum the point kernel over the sources near each point (cell list, parallel over points).

    ``src_xyz`` and ``src_decays`` are sorted by cell (``cell_start`` is the CSR index).
    Returns the number of source-point pairs examined.
    """
    nx, ny, nz = dims[0], dims[1], dims[2]
    r_cut2 = r_cut * r_cut
    span = int(np.ceil(r_cut / cell_mm))
    pairs = np.zeros(points.shape[0], np.int64)
    for p in prange(points.shape[0]):
        px = points[p, 0]
        py = points[p, 1]
        pz = points[p, 2]
        fx = (px - origin[0]) / cell_mm
        fy = (py - origin[1]) / cell_mm
        fz = (pz - origin[2]) / cell_mm
        cx = int(np.floor(fx))
        cy = int(np.floor(fy))
        cz = int(np.floor(fz))
        acc = 0.0
        npair = 0
        for ix in range(max(cx - span, 0), min(cx + span, nx - 1) + 1):
            # distance from the point to the cell slab along x
            dx = 0.0
            if px < origin[0] + ix * cell_mm:
                dx = origin[0] + ix * cell_mm - px
            elif px > origin[0] + (ix + 1) * cell_mm:
                dx = px - origin[0] - (ix + 1) * cell_mm
            if dx * dx >= r_cut2:
                continue
            for iy in range(max(cy - span, 0), min(cy + span, ny - 1) + 1):
                dy = 0.0
                if py < origin[1] + iy * cell_mm:
                    dy = origin[1] + iy * cell_mm - py
                elif py > origin[1] + (iy + 1) * cell_mm:
                    dy = py - origin[1] - (iy + 1) * cell_mm
                if dx * dx + dy * dy >= r_cut2:
                    continue
                for iz in range(max(cz - span, 0), min(cz + span, nz - 1) + 1):
                    dz = 0.0
                    if pz < origin[2] + iz * cell_mm:
                        dz = origin[2] + iz * cell_mm - pz
                    elif pz > origin[2] + (iz + 1) * cell_mm:
                        dz = pz - origin[2] - (iz + 1) * cell_mm
                    if dx * dx + dy * dy + dz * dz >= r_cut2:
                        continue
                    c = (ix * ny + iy) * nz + iz
                    for j in range(cell_start[c], cell_start[c + 1]):
                        ex = src_xyz[j, 0] - px
                        ey = src_xyz[j, 1] - py
                        ez = src_xyz[j, 2] - pz
                        acc += src_decays[j] * kernel_value(ex * ex + ey * ey + ez * ez, g,
                                                            inv_h, d_near, r_cut2)
                    npair += cell_start[c + 1] - cell_start[c]
        out[p] = acc
        pairs[p] = npair
    return pairs.sum()
