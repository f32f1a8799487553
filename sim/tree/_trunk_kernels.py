"""Numba kernel of trunk growth: side branches shed along long trunks (see
:mod:`sim.tree.trunks`).

A cell (a set of terminal points entered at a point E) gets a trunk along its principal axis;
the points are cut into slabs of thickness ``spacing`` across the trunk, each slab into two
half-slabs on either side of it, and every half-slab becomes a side branch (a new cell) of
the trunk, in the order of their positions along it; the farthest one continues the trunk.
Cost O(n log n) per nesting level; output in DFS preorder (parents before children).
"""

import numpy as np
from numba import njit

from dosimetry.rng import splitmix64_mix as _mix
from sim.tree._kernels import _perpendicular, _principal_axis

_TWO_PI = 2.0 * np.pi
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _uniform(key, k):
    """Uniform in [0, 1) number k of the stream ``key`` (SplitMix64 of a counter)."""
    z = _mix(key + np.uint64(k) * np.uint64(0x9E3779B97F4A7C15))
    return float(z >> np.uint64(11)) * _INV_2_53


@njit(cache=True)
def _axis_and_order(pts, demand, idx, start, end, e, t):
    """Principal axis d of the cell oriented into it from E, the demand-weighted centroid c,
    and the cell's points sorted by their coordinate t = (p - E).d (in place in ``idx``)."""
    dx, dy, dz = _principal_axis(pts, idx, start, end)
    cx = cy = cz = w = tm = 0.0
    for k in range(start, end):
        j = idx[k]
        q = demand[j]
        cx += q * pts[j, 0]
        cy += q * pts[j, 1]
        cz += q * pts[j, 2]
        w += q
    cx /= w
    cy /= w
    cz /= w
    if (cx - e[0]) * dx + (cy - e[1]) * dy + (cz - e[2]) * dz < 0.0:
        dx, dy, dz = -dx, -dy, -dz
    for k in range(start, end):
        j = idx[k]
        t[k - start] = (pts[j, 0] - e[0]) * dx + (pts[j, 1] - e[1]) * dy + (pts[j, 2] - e[2]) * dz
    order = np.argsort(t[: end - start])
    tmp = idx[start:end].copy()
    ts = t[: end - start].copy()
    for k in range(end - start):
        idx[start + k] = tmp[order[k]]
        t[k] = ts[order[k]]
    return dx, dy, dz, cx, cy, cz


@njit(cache=True)
def _halve(pts, idx, a, b, cx, cy, cz, d, phi0):
    """Sort the slab idx[a:b] by angle about the trunk axis (from a random origin ``phi0``);
    the two halves [a, mid) and [mid, b) are the branches on either side of the trunk."""
    ux, uy, uz = _perpendicular(d[0], d[1], d[2])
    vx = d[1] * uz - d[2] * uy
    vy = d[2] * ux - d[0] * uz
    vz = d[0] * uy - d[1] * ux
    m = b - a
    ang = np.empty(m)
    for k in range(m):
        j = idx[a + k]
        rx = pts[j, 0] - cx
        ry = pts[j, 1] - cy
        rz = pts[j, 2] - cz
        phi = np.arctan2(rx * vx + ry * vy + rz * vz, rx * ux + ry * uy + rz * uz) - phi0
        ang[k] = phi % _TWO_PI
    order = np.argsort(ang)
    tmp = idx[a:b].copy()
    for k in range(m):
        idx[a + k] = tmp[order[k]]
    return a + (m + 1) // 2


@njit(cache=True)
def _groups(pts, demand, idx, start, end, t, spacing, d, cx, cy, cz, key, draw, g_range, g_t):
    """Cut the sorted cell into slabs of thickness ``spacing`` and each slab of two or more
    points into two half-slabs; returns (number of groups, draws used). ``g_t`` is the
    coordinate along the trunk (from the centroid) of each group's branch point."""
    m = end - start
    ng = 0
    a = 0
    while a < m:
        b = a + 1
        while b < m and t[b] < t[a] + spacing:
            b += 1
        if b - a == 1:
            bounds = (a, b, b)
        else:
            mid = _halve(pts, idx, start + a, start + b, cx, cy, cz, d,
                         _TWO_PI * _uniform(key, draw)) - start
            draw += 1
            bounds = (a, mid, b)
        for h in range(2):
            lo, hi = bounds[h], bounds[h + 1]
            if hi == lo:
                continue
            w = 0.0
            gx = gy = gz = 0.0
            for k in range(lo, hi):
                j = idx[start + k]
                w += demand[j]
                gx += demand[j] * (pts[j, 0] - cx)
                gy += demand[j] * (pts[j, 1] - cy)
                gz += demand[j] * (pts[j, 2] - cz)
            gx /= w
            gy /= w
            gz /= w
            along = gx * d[0] + gy * d[1] + gz * d[2]
            rho2 = gx * gx + gy * gy + gz * gz - along * along
            # branch point at least half a spacing from the group's centroid: a group near
            # the axis (the last terminals of a strip) keeps a side branch of finite length
            back = 0.25 * spacing * spacing - rho2
            g_range[ng, 0] = start + lo
            g_range[ng, 1] = start + hi
            g_t[ng] = along - (np.sqrt(back) if back > 0.0 else 0.0)
            ng += 1
        a = b
    return ng, draw


@njit(cache=True)
def grow_trunks(pts, demand, root_xyz, spacing, seed):
    """Binary tree over terminal points by side branches shed along trunks.

    Parameters
    ----------
    pts : (n, 3) float64, terminal points [mm].
    demand : (n,) float64, terminal flow demands (> 0).
    root_xyz : (3,) float64, inlet point [mm].
    spacing : float, slab thickness along a trunk [mm] (side branches per unit length).
    seed : uint64, key of the random slab orientations.

    Returns
    -------
    parent (2n-1,) int64, proximal (2n-1, 3), distal (2n-1, 3), terminal_of (2n-1,) int64
    (point index of terminal segments, -1 otherwise), in DFS preorder.
    """
    n = pts.shape[0]
    nseg = 2 * n - 1
    parent = np.full(nseg, -1, dtype=np.int64)
    prox = np.zeros((nseg, 3))
    dist = np.zeros((nseg, 3))
    term_of = np.full(nseg, -1, dtype=np.int64)
    idx = np.arange(n)
    t = np.empty(n)
    g_range = np.empty((n, 2), dtype=np.int64)
    g_t = np.empty(n)
    # pending cells: every one owns distinct points, so at most n are pending
    s_range = np.empty((n, 3), dtype=np.int64)
    s_e = np.empty((n, 3))
    s_range[0, 0], s_range[0, 1], s_range[0, 2] = 0, n, -1
    s_e[0, :] = root_xyz
    top = 1
    seg = 0
    draw = 0
    key = np.uint64(seed)
    d = np.empty(3)
    while top > 0:
        top -= 1
        start, end, par = s_range[top, 0], s_range[top, 1], s_range[top, 2]
        e = s_e[top].copy()
        if end - start == 1:
            parent[seg] = par
            prox[seg, :] = e
            dist[seg, :] = pts[idx[start]]
            term_of[seg] = idx[start]
            seg += 1
            continue
        d[0], d[1], d[2], cx, cy, cz = _axis_and_order(pts, demand, idx, start, end, e, t)
        ng, draw = _groups(pts, demand, idx, start, end, t, spacing, d, cx, cy, cz, key, draw,
                           g_range, g_t)
        order = np.argsort(g_t[:ng])
        # the trunk: E -> B_0 -> ... -> B_{ng-2}, B_k on the axis beside group k
        prev = par
        bx, by, bz = e[0], e[1], e[2]
        first = top
        for k in range(ng):
            g = order[k]
            if k < ng - 1:
                parent[seg] = prev
                prox[seg, 0], prox[seg, 1], prox[seg, 2] = bx, by, bz
                off = g_t[g]
                bx, by, bz = cx + off * d[0], cy + off * d[1], cz + off * d[2]
                dist[seg, 0], dist[seg, 1], dist[seg, 2] = bx, by, bz
                prev = seg
                seg += 1
            s_range[top, 0], s_range[top, 1], s_range[top, 2] = g_range[g, 0], g_range[g, 1], prev
            s_e[top, 0], s_e[top, 1], s_e[top, 2] = bx, by, bz
            top += 1
        # nearest groups first: reverse the pushed block so the stack pops them in order
        lo, hi = first, top - 1
        while lo < hi:
            for c in range(3):
                tmp_r = s_range[lo, c]
                s_range[lo, c] = s_range[hi, c]
                s_range[hi, c] = tmp_r
                tmp_e = s_e[lo, c]
                s_e[lo, c] = s_e[hi, c]
                s_e[hi, c] = tmp_e
            lo += 1
            hi -= 1
    return parent, prox, dist, term_of
