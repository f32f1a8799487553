"""Numba kernels for tree topology, space-filling growth and Murray radii.

Plain contiguous arrays in, plain arrays out; no Python objects. The public wrappers live in
``sim.tree.arrays`` and ``sim.tree.growth``.
"""

import numpy as np
from numba import njit

_STACK_CAPACITY = 192  # smaller-child-first DFS keeps the stack <= log2(n) + 1 deep


@njit(cache=True)
def depth_topological(parent):
    """Depth of every node when ``parent[i] < i`` (root depth 0)."""
    n = parent.shape[0]
    depth = np.zeros(n, dtype=np.int32)
    for i in range(n):
        p = parent[i]
        if p >= 0:
            depth[i] = depth[p] + 1
    return depth


@njit(cache=True)
def depth_any_order(parent, root):
    """Depth of every node for an arbitrary node order; -1 marks nodes not reaching ``root``."""
    n = parent.shape[0]
    depth = np.full(n, -2, dtype=np.int64)  # -2 unknown, -1 bad
    depth[root] = 0
    path = np.empty(n, dtype=np.int64)
    for i in range(n):
        if depth[i] != -2:
            continue
        m = 0
        j = i
        while depth[j] == -2 and m <= n:
            depth[j] = -3  # on the current path: a revisit means a cycle
            path[m] = j
            m += 1
            j = parent[j]
            if j < 0:
                break
        base = -1 if (j < 0 or depth[j] < 0) else depth[j]
        for t in range(m - 1, -1, -1):
            if base < 0:
                depth[path[t]] = -1
            else:
                base += 1
                depth[path[t]] = base
    return depth


@njit(cache=True)
def _unit(x, y, z):
    nrm = np.sqrt(x * x + y * y + z * z)
    return x / nrm, y / nrm, z / nrm


@njit(cache=True)
def _principal_axis(pts, idx, start, end):
    """Direction of largest extent of a point subset (power iteration on the covariance)."""
    n = end - start
    mx = 0.0
    my = 0.0
    mz = 0.0
    for t in range(start, end):
        j = idx[t]
        mx += pts[j, 0]
        my += pts[j, 1]
        mz += pts[j, 2]
    mx /= n
    my /= n
    mz /= n
    cxx = cyy = czz = cxy = cxz = cyz = 0.0
    for t in range(start, end):
        j = idx[t]
        dx = pts[j, 0] - mx
        dy = pts[j, 1] - my
        dz = pts[j, 2] - mz
        cxx += dx * dx
        cyy += dy * dy
        czz += dz * dz
        cxy += dx * dy
        cxz += dx * dz
        cyz += dy * dz
    # start from the coordinate axis of largest variance, then iterate
    if cxx >= cyy and cxx >= czz:
        vx, vy, vz = 1.0, 0.0, 0.0
    elif cyy >= czz:
        vx, vy, vz = 0.0, 1.0, 0.0
    else:
        vx, vy, vz = 0.0, 0.0, 1.0
    for _ in range(12):
        wx = cxx * vx + cxy * vy + cxz * vz
        wy = cxy * vx + cyy * vy + cyz * vz
        wz = cxz * vx + cyz * vy + czz * vz
        nrm = np.sqrt(wx * wx + wy * wy + wz * wz)
        if nrm == 0.0:
            break
        vx, vy, vz = wx / nrm, wy / nrm, wz / nrm
    return vx, vy, vz


@njit(cache=True)
def _perpendicular(ax, ay, az):
    """A unit vector perpendicular to unit vector a."""
    if abs(ax) <= abs(ay) and abs(ax) <= abs(az):
        bx, by, bz = 0.0, -az, ay
    elif abs(ay) <= abs(az):
        bx, by, bz = -az, 0.0, ax
    else:
        bx, by, bz = -ay, ax, 0.0
    return _unit(bx, by, bz)


@njit(cache=True)
def _sweep_cut(a_sorted, demand, idx, start, m, total, target):
    """Cut-line angle through an entry point that may lie inside the point cloud.

    Side A is the half-plane of angles outside (theta, theta + pi); candidate cuts sit midway
    between consecutive angles; the one whose side-A share is closest to ``target`` wins.
    """
    a2 = np.empty(2 * m)
    p2 = np.zeros(2 * m + 1)
    for t in range(m):
        a2[t] = a_sorted[t]
        a2[m + t] = a_sorted[t] + 2.0 * np.pi
    for t in range(2 * m):
        p2[t + 1] = p2[t] + demand[idx[start + (t % m)]]
    best_theta = 0.0
    best_err = 2.0
    for g in range(m):
        a0 = a2[g]
        a1 = a2[g + 1]
        if a1 <= a0:
            continue
        th = 0.5 * (a0 + a1)
        if th > np.pi:
            th -= 2.0 * np.pi
        lo = np.searchsorted(a2, th, side="right")
        hi = np.searchsorted(a2, th + np.pi, side="left")
        side_b = p2[hi] - p2[lo]
        err = abs(1.0 - side_b / total - target)
        if err < best_err:
            best_err = err
            best_theta = th
    return best_theta


@njit(cache=True)
def _cut_frame(pts, idx, start, end, face, fx, fy, fz):
    """Rotation axis l of the cut plane through the entry point and the basis (u, v) of the
    plane of angles: on a face (the parent's cut), l lies in the face; else l is perpendicular
    to the cell's principal axis d."""
    dx, dy, dz = _principal_axis(pts, idx, start, end)
    if face:
        lx, ly, lz = dy * fz - dz * fy, dz * fx - dx * fz, dx * fy - dy * fx
        if np.sqrt(lx * lx + ly * ly + lz * lz) < 1e-6:
            lx, ly, lz = _perpendicular(fx, fy, fz)
        else:
            lx, ly, lz = _unit(lx, ly, lz)
        vx, vy, vz = fx, fy, fz
    else:
        lx, ly, lz = _perpendicular(dx, dy, dz)
        # v = l x d
        vx, vy, vz = ly * dz - lz * dy, lz * dx - lx * dz, lx * dy - ly * dx
    ux, uy, uz = vy * lz - vz * ly, vz * lx - vx * lz, vx * ly - vy * lx  # u = v x l
    return ux, uy, uz, vx, vy, vz


@njit(cache=True)
def _sort_by_angle(pts, idx, demand, start, end, e, u, v, ang, tmp):
    """Sort the cell's points by their angle about the rotation axis (in place in ``idx``);
    returns the sorted angles and the cell's total demand."""
    m = end - start
    total = 0.0
    for t in range(start, end):
        j = idx[t]
        rx = pts[j, 0] - e[0]
        ry = pts[j, 1] - e[1]
        rz = pts[j, 2] - e[2]
        ang[t - start] = np.arctan2(rx * v[0] + ry * v[1] + rz * v[2],
                                    rx * u[0] + ry * u[1] + rz * u[2])
        total += demand[j]
    order = np.argsort(ang[:m])
    a_sorted = ang[:m][order]
    for t in range(m):
        tmp[t] = idx[start + order[t]]
    for t in range(m):
        idx[start + t] = tmp[t]
    return a_sorted, total


@njit(cache=True)
def _face_cut(a_sorted, demand, idx, start, m, total, target):
    """Cut angle on a face: angles lie in (0, pi), so a cut between sorted positions k - 1 and
    k reaches any share; the one closest to ``target`` wins."""
    best_k = -1
    best_err = 2.0
    cum = 0.0
    for k in range(1, m):
        cum += demand[idx[start + k - 1]]
        err = abs(cum / total - target)
        if err < best_err and a_sorted[k] > a_sorted[k - 1]:
            best_err = err
            best_k = k
    if best_k < 0:
        raise ValueError("degenerate split: terminal points are not in general position")
    return 0.5 * (a_sorted[best_k - 1] + a_sorted[best_k])


@njit(cache=True)
def _partition(pts, idx, start, end, e, nrm, tmp):
    """Stable partition of ``idx[start:end]`` by side of the cut plane (N.r < 0 first);
    returns the size of side A."""
    na = 0
    nb = 0
    for t in range(start, end):
        j = idx[t]
        sd = (pts[j, 0] - e[0]) * nrm[0] + (pts[j, 1] - e[1]) * nrm[1] + (pts[j, 2] - e[2]) * nrm[2]
        if sd < 0.0:
            idx[start + na] = j
            na += 1
        else:
            tmp[nb] = j
            nb += 1
    for t in range(nb):
        idx[start + na + t] = tmp[t]
    if na == 0 or nb == 0:
        raise ValueError("degenerate split: terminal points are not in general position")
    return na


@njit(cache=True)
def _branch_point(pts, idx, demand, start, end, na, e, nrm, branch_pull):
    """Branch point: on the cut plane where the line between the two sides' demand-weighted
    centroids crosses it, pulled toward the entry point by ``branch_pull``."""
    ca = np.zeros(3)
    cb3 = np.zeros(3)
    wa = 0.0
    wb = 0.0
    for t in range(start, end):
        j = idx[t]
        w = demand[j]
        if t < start + na:
            wa += w
            for c in range(3):
                ca[c] += w * pts[j, c]
        else:
            wb += w
            for c in range(3):
                cb3[c] += w * pts[j, c]
    for c in range(3):
        ca[c] /= wa
        cb3[c] /= wb
    pa = (ca[0] - e[0]) * nrm[0] + (ca[1] - e[1]) * nrm[1] + (ca[2] - e[2]) * nrm[2]
    pb = (cb3[0] - e[0]) * nrm[0] + (cb3[1] - e[1]) * nrm[1] + (cb3[2] - e[2]) * nrm[2]
    tt = -pa / (pb - pa)
    bx = e[0] + branch_pull * (ca[0] + tt * (cb3[0] - ca[0]) - e[0])
    by = e[1] + branch_pull * (ca[1] + tt * (cb3[1] - ca[1]) - e[1])
    bz = e[2] + branch_pull * (ca[2] + tt * (cb3[2] - ca[2]) - e[2])
    return bx, by, bz


@njit(cache=True)
def grow_bsp(pts, demand, root_xyz, minor_share, minor_side, branch_pull):
    """Binary tree over terminal points by angular binary space partition.

    Every cell C (a subset of points, convex region) is entered at a point E. C is split by a
    plane through E (rotated about a line through E) at the requested demand fraction; the
    branch point B lies on that plane strictly inside C, so the entry segment E->B lies on the
    interface between the two child cells and every descendant segment lies in the open child
    cells: centerlines of distinct subtrees cannot cross (see ``sim.tree.growth``).

    Parameters
    ----------
    pts : (n, 3) float64, terminal points [mm].
    demand : (n,) float64, terminal flow demands (> 0).
    root_xyz : (3,) float64, inlet point [mm].
    minor_share : (n,) float64, minor-daughter demand share in (0, 0.5] per split, in order.
    minor_side : (n,) bool, whether the minor share goes to the low-angle side, per split.
    branch_pull : float, in (0, 1]: branch point at E + pull * (X - E), X on the centroid line.

    Returns
    -------
    parent (2n-1,) int64, proximal (2n-1, 3), distal (2n-1, 3), terminal_of (2n-1,) int64
    (point index for terminal segments, -1 otherwise). Order is DFS preorder (topological).
    """
    n = pts.shape[0]
    nseg = 2 * n - 1
    parent = np.full(nseg, -1, dtype=np.int64)
    prox = np.zeros((nseg, 3))
    dist = np.zeros((nseg, 3))
    term_of = np.full(nseg, -1, dtype=np.int64)
    idx = np.arange(n)
    ang = np.empty(n)
    tmp = np.empty(n, dtype=np.int64)
    # DFS stack of cells: point range, parent segment, entry point, face normal, on a face
    s_range = np.empty((_STACK_CAPACITY, 3), dtype=np.int64)
    s_e = np.empty((_STACK_CAPACITY, 3))
    s_nf = np.empty((_STACK_CAPACITY, 3))
    s_face = np.zeros(_STACK_CAPACITY, dtype=np.bool_)
    s_range[0, 0], s_range[0, 1], s_range[0, 2] = 0, n, -1
    s_e[0, :] = root_xyz
    top = 1
    seg = 0
    draw = 0
    while top > 0:
        top -= 1
        start, end, par = s_range[top, 0], s_range[top, 1], s_range[top, 2]
        e = s_e[top].copy()
        me = seg
        seg += 1
        parent[me] = par
        prox[me, :] = e
        m = end - start
        if m == 1:
            dist[me, :] = pts[idx[start]]
            term_of[me] = idx[start]
            continue
        f = s_nf[top]
        ux, uy, uz, vx, vy, vz = _cut_frame(pts, idx, start, end, s_face[top], f[0], f[1], f[2])
        u = np.array((ux, uy, uz))
        v = np.array((vx, vy, vz))
        a_sorted, total = _sort_by_angle(pts, idx, demand, start, end, e, u, v, ang, tmp)
        s = minor_share[draw]
        target = s if minor_side[draw] else 1.0 - s  # demand share of the low-angle side A
        draw += 1
        if s_face[top]:
            theta = _face_cut(a_sorted, demand, idx, start, m, total, target)
        else:
            theta = _sweep_cut(a_sorted, demand, idx, start, m, total, target)
        ct = np.cos(theta)
        st = np.sin(theta)
        nrm = np.array((-st * ux + ct * vx, -st * uy + ct * vy, -st * uz + ct * vz))
        na = _partition(pts, idx, start, end, e, nrm, tmp)
        bx, by, bz = _branch_point(pts, idx, demand, start, end, na, e, nrm, branch_pull)
        dist[me, 0], dist[me, 1], dist[me, 2] = bx, by, bz
        # push the larger child first so the smaller one is processed next
        if na >= end - start - na:
            order = ((start, start + na, -1.0), (start + na, end, 1.0))
        else:
            order = ((start + na, end, 1.0), (start, start + na, -1.0))
        if top + 2 > _STACK_CAPACITY:
            raise ValueError("growth stack overflow")
        for (cs, ce, sg) in order:
            s_range[top, 0], s_range[top, 1], s_range[top, 2] = cs, ce, me
            s_e[top, 0], s_e[top, 1], s_e[top, 2] = bx, by, bz
            s_nf[top, :] = sg * nrm
            s_face[top] = True
            top += 1
    return parent, prox, dist, term_of


@njit(cache=True)
def murray_radius_ratios(parent, child_start, child_index, length, flow, exponent):
    """Radius of each segment relative to its parent (root: 1).

    Bottom-up reduced resistances R* (Karch et al. 1999): children of one node get radii
    r_c proportional to (Q_c R*_c)^(1/4) (equal pressure drop to every terminal), scaled so
    that r_p^k = sum r_c^k (Murray); R*_p = L_p + 1 / sum_c (beta_c^4 / R*_c).
    """
    n = parent.shape[0]
    rstar = np.empty(n)
    beta = np.ones(n)
    for i in range(n - 1, -1, -1):
        c0 = child_start[i]
        c1 = child_start[i + 1]
        if c1 == c0:
            rstar[i] = length[i]
            continue
        sk = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            w = (flow[c] * rstar[c]) ** 0.25
            beta[c] = w
            sk += w ** exponent
        norm = sk ** (1.0 / exponent)
        g = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            beta[c] /= norm
            g += beta[c] ** 4 / rstar[c]
        rstar[i] = length[i] + 1.0 / g
    return beta


@njit(cache=True)
def radii_from_ratios(parent, beta, root_radius):
    n = parent.shape[0]
    r = np.empty(n)
    for i in range(n):
        p = parent[i]
        r[i] = root_radius if p < 0 else r[p] * beta[i]
    return r


@njit(cache=True)
def subtree_sum(parent, values):
    """Sum of ``values`` over each node's subtree (topological order)."""
    out = values.copy()
    for i in range(parent.shape[0] - 1, 0, -1):
        p = parent[i]
        if p >= 0:
            out[p] += out[i]
    return out


@njit(cache=True)
def common_region(parent, region):
    """Region of each segment: terminals keep theirs; internal segments get the region shared
    by all terminals below, else 0 (mixed). ``region`` must hold the terminals' values."""
    n = parent.shape[0]
    is_leaf = np.ones(n, dtype=np.bool_)
    for i in range(1, n):
        is_leaf[parent[i]] = False
    out = np.full(n, -1, dtype=np.int32)
    for i in range(n):
        if is_leaf[i]:
            out[i] = region[i]
    for i in range(n - 1, 0, -1):
        p = parent[i]
        if out[p] == -1:
            out[p] = out[i]
        elif out[p] != out[i]:
            out[p] = 0
    return out


@njit(cache=True)
def subtree_mask(parent, root):
    """True for ``root`` and every node below it (topological order: parents first)."""
    n = parent.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    out[root] = True
    for i in range(root + 1, n):
        p = parent[i]
        if p >= 0 and out[p]:
            out[i] = True
    return out


@njit(cache=True)
def bifurcation_depth(parent, child_start):
    """Branch points (segments with two or more children) above each segment's distal end,
    root to the segment itself excluded (topological order)."""
    n = parent.shape[0]
    out = np.zeros(n, dtype=np.int32)
    for i in range(1, n):
        p = parent[i]
        out[i] = out[p] + (1 if child_start[p + 1] - child_start[p] >= 2 else 0)
    return out
