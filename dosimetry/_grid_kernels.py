"""Numba kernels of the grid-mode cross-fire dose (plain arrays; see :mod:`dosimetry.crossfire`).

Radial functions of the point kernel (per decay, at the medium's density):

* ``e(r)`` [Gy mm^3]: 4 pi int_0^r D(s) s^2 ds = E(r) / rho, the energy absorbed inside radius r
  over the density (``DoseKernel.energy_within_MeV``);
* ``Q(r)`` [Gy mm^2]: int e(s) / s^2 ds, tabulated with cubic Hermite interpolation (slopes
  e / r^2 exact at the nodes); ``Q(r) = a1 ln r + a2 r + a3 r^2 / 2`` on the first shell where
  ``e`` is the cubic ``a1 r + a2 r^2 + a3 r^3``, and ``Q_end + e_tot (1/r_end - 1/r)`` beyond
  the kernel's range. ``qpar`` packs the scalars (see ``QP_*``).

Voxel integral of the point kernel from a point p (inside or outside the box): the field
V = e(r) / (4 pi r^2) r_hat has div V = D(r), so by the divergence theorem
int_box D dV = sum over faces of d_f / (4 pi) int_face e(r) / r^3 dA, d_f the signed distance
from p to the face plane (> 0 on the inner side). Each face is split at the foot of p into four
corner rectangles (signed), each rectangle into two triangles with a vertex at the foot; in
polar coordinates about the foot the radial integral is exact (r dr = rho drho):
int_0^{rho_max} e(r) / r^3 rho drho = Q(R) - Q(|d|), R = sqrt(d^2 + rho_max^2), leaving a 1-D
Gauss-Legendre integral over the polar angle, done along the triangle's far edge (composite,
geometric pieces where the foot is close to that edge). For the box containing p this is the
ray formula (1 / 4 pi) int dOmega e(t_exit); outside it, e(t_out) - e(t_in) along each ray.

References
----------
.. [1] Any vector calculus text (Gauss divergence theorem); the reduction of the face integral
       to Q(r) is specific to this module and verified against the ray formula in
       tests/verification/test_crossfire_grid.py.
"""
import math

import numpy as np
from numba import njit, prange

# indices into qpar
QP_R1 = 0      # end of the analytic first piece = start of the table [mm]
QP_DQ = 1      # table step [mm]
QP_A1 = 2      # e(r) = a1 r + a2 r^2 + a3 r^3 on [0, r1]
QP_A2 = 3
QP_A3 = 4
QP_REND = 5    # kernel range [mm]: e(r) = e_tot beyond
QP_QEND = 6    # Q(r_end)
QP_ETOT = 7    # e_tot [Gy mm^3]
QP_INV_DQ = 8  # 1 / table step [1/mm]
QP_N = 9

FOUR_PI = 4.0 * math.pi


@njit(cache=True, inline="always")
def q_value(r, qtab, qslope, qpar):
    """Q(r) [Gy mm^2] for r > 0 (see the module docstring)."""
    r1 = qpar[QP_R1]
    rend = qpar[QP_REND]
    if r < r1:
        val = qpar[QP_A1] * math.log(r) + qpar[QP_A2] * r + 0.5 * qpar[QP_A3] * r * r
    elif r >= rend:
        val = qpar[QP_QEND] + qpar[QP_ETOT] * (1.0 / rend - 1.0 / r)
    else:
        # (multiply by 1/dq and clamp with an if: min() and a division here cost 8x)
        dq = qpar[QP_DQ]
        x = (r - r1) * qpar[QP_INV_DQ]
        k = int(x)
        if k > qtab.size - 2:
            k = qtab.size - 2
        t = x - k
        t2 = t * t
        t3 = t2 * t
        val = ((2 * t3 - 3 * t2 + 1) * qtab[k] + (t3 - 2 * t2 + t) * dq * qslope[k]
               + (-2 * t3 + 3 * t2) * qtab[k + 1] + (t3 - t2) * dq * qslope[k + 1])
    return val


@njit(cache=True)
def _triangle(a, y_end, ad, qd, qtab, qslope, qpar, gx, gw):
    """int_0^{atan(y_end/a)} [Q(sqrt(ad^2 + a^2 sec^2 phi)) - Q(ad)] dphi.

    The triangle (foot, (a, 0), (a, y_end)) in polar coordinates about the foot, integrated
    along its far edge: y = a tan(phi), dphi = a dy / (a^2 + y^2). Composite Gauss on [0, a]
    then on geometric pieces of ratio 4, so that the Lorentzian and Q (which varies on scales
    >= sqrt(ad^2 + a^2 + y^2)) are smooth on each piece.
    """
    tot = 0.0
    y0 = 0.0
    c2 = ad * ad + a * a
    a2 = a * a
    while y0 < y_end:
        y1 = min(y_end, max(a, 4.0 * y0))
        span = y1 - y0
        acc = 0.0
        for i in range(gx.size):
            y = y0 + span * gx[i]
            y2 = y * y
            acc += gw[i] * (q_value(math.sqrt(c2 + y2), qtab, qslope, qpar) - qd) / (a2 + y2)
        tot += span * acc
        y0 = y1
    return a * tot


@njit(cache=True, inline="always")
def long_share(r, r1w, r2w):
    """Long-range share w(r) of the kernel: 0 below r1w, 1 above r2w, quintic step between."""
    t = (r - r1w) / (r2w - r1w)
    if t < 0.0:
        t = 0.0
    if t > 1.0:
        t = 1.0
    return t * t * t * (10.0 + t * (6.0 * t - 15.0))


@njit(cache=True, inline="always")
def point_dose(r2, g, inv_h, d_near, r_cut2):
    """Point kernel D at squared distance r2 [Gy per decay] (as in point mode: r^2 D tabulated)."""
    val = 0.0
    if r2 < r_cut2:
        r = math.sqrt(r2)
        x = r * inv_h
        k = int(x)
        if k == 0:
            val = d_near
        else:
            f = x - k
            val = (g[k] * (1.0 - f) + g[k + 1] * f) / r2
    return val


# kernel parts (the levels of grid mode): multipliers of D(r), w the long-range share (r1w..r2w)
# and tau the tail share (rt1..rt2)
PART_ALL = 0        # D
PART_FINE = 1       # D (1 - w)
PART_FINE_BODY = 2  # D (1 - w) (1 - tau)
PART_COARSE = 3     # D w (1 - tau)
PART_TAIL = 4       # D tau


@njit(cache=True, inline="always")
def part_factor(r, split, part):
    """Multiplier of D(r) for a kernel part; split = (r1w, r2w, rt1, rt2) [mm]."""
    if part == PART_ALL:
        return 1.0
    w = long_share(r, split[0], split[1])
    tau = long_share(r, split[2], split[3])
    if part == PART_FINE:
        return 1.0 - w
    if part == PART_FINE_BODY:
        return (1.0 - w) * (1.0 - tau)
    if part == PART_COARSE:
        return w * (1.0 - tau)
    return tau


@njit(cache=True)
def gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, split, part, gx, gw):
    """Mean over the box centred at c (sides h) of a kernel part (tensor Gauss rule)."""
    r_cut2 = r_cut * r_cut
    acc = 0.0
    for i in range(gx.size):
        x = cx + (gx[i] - 0.5) * h[0]
        for j in range(gx.size):
            y = cy + (gx[j] - 0.5) * h[1]
            wij = gw[i] * gw[j]
            for k in range(gx.size):
                z = cz + (gx[k] - 0.5) * h[2]
                r2 = x * x + y * y + z * z
                d = point_dose(r2, g, inv_h, d_near, r_cut2)
                if part != PART_ALL and d != 0.0:
                    d *= part_factor(math.sqrt(r2), split, part)
                acc += wij * gw[k] * d
    return acc


@njit(cache=True, inline="always")
def _box_gap(c, half):
    """Distance from the origin to the nearest point of [c - half, c + half] (one axis)."""
    return max(abs(c) - half, 0.0)


@njit(cache=True, inline="always")
def _quart_weights(d, w):
    """5-point Lagrange weights of nodes -2..2 at d in [-1/2, 1/2] (moments 0-4 of a point)."""
    a = d + 2.0
    b = d + 1.0
    c = d - 1.0
    e = d - 2.0
    w[0] = b * d * c * e / 24.0
    w[1] = -a * d * c * e / 6.0
    w[2] = a * b * c * e / 4.0
    w[3] = -a * b * d * e / 6.0
    w[4] = a * b * d * c / 24.0


@njit(cache=True, parallel=True)
def bin_quart(xyz, decays, slab_start, origin, inv_step, start, out):
    """Spread each source's decays over the 5 x 5 x 5 nodes around it (Lagrange weights).

    Node (i, j, k) (global index) sits at origin + (i, j, k) * step; ``out[a, b, c]`` holds
    node ``start + (a, b, c)``; nodes outside ``out`` are dropped. Sources are sorted by their
    x node and grouped in slabs of 5 nodes (CSR ``slab_start``); slabs of one parity write
    disjoint x ranges, so each parity runs in parallel.
    """
    nslab = slab_start.size - 1
    for parity in range(2):
        for sb in prange((nslab - parity + 1) // 2):
            slab = 2 * sb + parity
            w = np.empty((3, 5))
            for s in range(slab_start[slab], slab_start[slab + 1]):
                _spread_quart(xyz, decays, s, origin, inv_step, start, w, out)


@njit(cache=True, parallel=True)
def bin_quart_chunks(xyz, decays, origin, inv_step, out):
    """:func:`bin_quart` (start 0) of unsorted sources: chunk c of ``out.shape[0]`` equal
    chunks of the sources (in input order) is spread into ``out[c]``, in parallel; the sum
    over axis 0 is the binned grid (the same for any number of threads)."""
    n = xyz.shape[0]
    nchunk = out.shape[0]
    start = np.zeros(3, np.int64)
    for c in prange(nchunk):
        w = np.empty((3, 5))
        for s in range(c * n // nchunk, (c + 1) * n // nchunk):
            _spread_quart(xyz, decays, s, origin, inv_step, start, w, out[c])


@njit(cache=True, inline="always")
def _spread_quart(xyz, decays, s, origin, inv_step, start, w, out):
    """out += source s spread over its 5 x 5 x 5 nodes (see :func:`bin_quart`)."""
    nx, ny, nz = out.shape
    ux = (xyz[s, 0] - origin[0]) * inv_step[0]
    uy = (xyz[s, 1] - origin[1]) * inv_step[1]
    uz = (xyz[s, 2] - origin[2]) * inv_step[2]
    ix = int(math.floor(ux + 0.5))
    iy = int(math.floor(uy + 0.5))
    iz = int(math.floor(uz + 0.5))
    bx = ix - 2 - start[0]
    by = iy - 2 - start[1]
    bz = iz - 2 - start[2]
    if bx + 4 < 0 or bx >= nx or by + 4 < 0 or by >= ny or bz + 4 < 0 or bz >= nz:
        return
    _quart_weights(ux - ix, w[0])
    _quart_weights(uy - iy, w[1])
    _quart_weights(uz - iz, w[2])
    dec = decays[s]
    for a in range(5):
        xa = bx + a
        if xa < 0 or xa >= nx:
            continue
        for b in range(5):
            yb = by + b
            if yb < 0 or yb >= ny:
                continue
            wab = dec * w[0, a] * w[1, b]
            for c in range(5):
                zc = bz + c
                if zc >= 0 and zc < nz:
                    out[xa, yb, zc] += wab * w[2, c]


@njit(cache=True, inline="always")
def _graded_cell(x, m, nodes):
    """Cell a (0 <= a < m) of the graded nodes x_a = (1 - (1 - a/m)^2) / 2 holding x in [0, 1/2]."""
    s = 1.0 - 2.0 * x
    if s < 0.0:
        s = 0.0
    a = int(m * (1.0 - math.sqrt(s)))
    if a > m - 1:
        a = m - 1
    if a < 0:
        a = 0
    if x < nodes[a] and a > 0:  # guard against rounding at a node
        a -= 1
    elif x > nodes[a + 1] and a < m - 1:
        a += 1
    return a


@njit(cache=True, inline="always")
def _trilinear(table, a0, a1, a2, t0, t1, t2, tx, ty, tz):
    """Trilinear interpolation of table[., ., ., tx, ty, tz] in the cell (a0, a1, a2)."""
    c00 = (1 - t2) * table[a0, a1, a2, tx, ty, tz] + t2 * table[a0, a1, a2 + 1, tx, ty, tz]
    c01 = (1 - t2) * table[a0, a1 + 1, a2, tx, ty, tz] + t2 * table[a0, a1 + 1, a2 + 1, tx, ty, tz]
    c10 = (1 - t2) * table[a0 + 1, a1, a2, tx, ty, tz] + t2 * table[a0 + 1, a1, a2 + 1, tx, ty, tz]
    c11 = ((1 - t2) * table[a0 + 1, a1 + 1, a2, tx, ty, tz]
           + t2 * table[a0 + 1, a1 + 1, a2 + 1, tx, ty, tz])
    return (1 - t0) * ((1 - t1) * c00 + t1 * c01) + t0 * ((1 - t1) * c10 + t1 * c11)


def cubic_lagrange_weights(t):
    """(n, 4) weights of nodes -1, 0, 1, 2 at positions t in [0, 1) (numpy; the array form of
    :func:`cubic_weights`)."""
    t = np.asarray(t, dtype=float)
    return np.ascontiguousarray(np.stack(
        [-t * (t - 1.0) * (t - 2.0) / 6.0, (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0,
         -(t + 1.0) * t * (t - 2.0) / 2.0, (t + 1.0) * t * (t - 1.0) / 6.0], axis=1))


@njit(cache=True, inline="always")
def cubic_weights(t, w):
    """4-point Lagrange weights of nodes -1, 0, 1, 2 at t in [0, 1)."""
    w[0] = -t * (t - 1.0) * (t - 2.0) / 6.0
    w[1] = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0
    w[2] = -(t + 1.0) * t * (t - 2.0) / 2.0
    w[3] = (t + 1.0) * t * (t - 1.0) / 6.0


@njit(cache=True, inline="always")
def q_slope(r, qtab, qslope, qpar):
    """Q'(r) = e(r) / r^2 [Gy mm] for r > 0 (derivative of the same interpolant as q_value)."""
    r1 = qpar[QP_R1]
    rend = qpar[QP_REND]
    if r < r1:
        val = qpar[QP_A1] / r + qpar[QP_A2] + qpar[QP_A3] * r
    elif r >= rend:
        val = qpar[QP_ETOT] / (r * r)
    else:
        dq = qpar[QP_DQ]
        x = (r - r1) * qpar[QP_INV_DQ]
        k = int(x)
        if k > qtab.size - 2:
            k = qtab.size - 2
        t = x - k
        t2 = t * t
        val = ((6 * t2 - 6 * t) * (qtab[k] - qtab[k + 1]) * qpar[QP_INV_DQ]
               + (3 * t2 - 4 * t + 1) * qslope[k] + (3 * t2 - 2 * t) * qslope[k + 1])
    return val


@njit(cache=True)
def _face_direct(d, pi, pj, ui0, ui1, uj0, uj1, qtab, qslope, qpar, gx, gw):
    """int over the face [ui0, ui1] x [uj0, uj1] (plane at signed distance d from p, whose foot
    is (pi, pj)) of d e(r) / r^3 dA, by a tensor Gauss rule (foot far from the face)."""
    acc = 0.0
    si = ui1 - ui0
    sj = uj1 - uj0
    d2 = d * d
    for a in range(gx.size):
        x = ui0 + si * gx[a] - pi
        for b in range(gx.size):
            y = uj0 + sj * gx[b] - pj
            r = math.sqrt(d2 + x * x + y * y)
            acc += gw[a] * gw[b] * q_slope(r, qtab, qslope, qpar) / r
    return d * acc * si * sj


@njit(cache=True)
def box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw, g8x, g8w):
    """int_box D(|y - p|) dy [Gy mm^3 per decay] for the box [lo, hi] and any point p.

    Faces whose foot (the projection of p on their plane) lies within one face size of them
    are split into the signed corner triangles of the module docstring (``gx, gw``: Gauss rule
    along the far edges); faces farther from the foot are integrated directly with the tensor
    rule ``g8x, g8w`` (the signed rectangles would cancel to ~(distance / size)^2 and lose
    that many digits: 80 % errors for 25-100 um boxes at 10 mm).
    """
    tot = 0.0
    for k in range(3):
        i = (k + 1) % 3
        j = (k + 2) % 3
        size = max(hi[i] - lo[i], hi[j] - lo[j])
        oi = max(max(lo[i] - p[i], p[i] - hi[i]), 0.0)
        oj = max(max(lo[j] - p[j], p[j] - hi[j]), 0.0)
        far = math.sqrt(oi * oi + oj * oj) > size
        for side in range(2):
            d = p[k] - lo[k] if side == 0 else hi[k] - p[k]
            ad = abs(d)
            if ad < 1e-12:
                continue
            if far:
                tot += _face_direct(d, p[i], p[j], lo[i], hi[i], lo[j], hi[j], qtab, qslope,
                                    qpar, g8x, g8w)
                continue
            qd = q_value(ad, qtab, qslope, qpar)
            face = 0.0
            for ci in range(2):
                u = lo[i] if ci == 0 else hi[i]
                su = (1.0 if ci == 1 else -1.0) * (1.0 if u >= p[i] else -1.0)
                a = abs(u - p[i])
                if a == 0.0:
                    continue
                for cj in range(2):
                    v = lo[j] if cj == 0 else hi[j]
                    sv = (1.0 if cj == 1 else -1.0) * (1.0 if v >= p[j] else -1.0)
                    b = abs(v - p[j])
                    if b == 0.0:
                        continue
                    jab = (_triangle(a, b, ad, qd, qtab, qslope, qpar, gx, gw)
                           + _triangle(b, a, ad, qd, qtab, qslope, qpar, gx, gw))
                    face += su * sv * jab
            tot += d * face
    return tot / FOUR_PI


@njit(cache=True)
def box_mean(p, lo, hi, qtab, qslope, qpar, gx, gw, g8x, g8w, g, inv_h, d_near, r_cut,
             g6x, g6w, hbuf):
    """Exact mean of D over the box [lo, hi] from the point p [Gy per decay].

    The face formula (:func:`box_integral`) for boxes closer than 1.5 box sizes or larger than
    0.25 mm; a 6^3 Gauss rule of the point kernel for small boxes farther away (relative
    accuracy ~1e-6 either way); 0 beyond the kernel's range.
    """
    gap2 = 0.0
    size = 0.0
    for a in range(3):
        ga = max(max(lo[a] - p[a], p[a] - hi[a]), 0.0)
        gap2 += ga * ga
        size = max(size, hi[a] - lo[a])
    gap = math.sqrt(gap2)
    if gap >= r_cut:
        return 0.0
    vol = (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2])
    if gap < 1.5 * size or size > 0.25:
        return box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw, g8x, g8w) / vol
    for a in range(3):
        hbuf[a] = hi[a] - lo[a]
    return gauss_box_mean(0.5 * (lo[0] + hi[0]) - p[0], 0.5 * (lo[1] + hi[1]) - p[1],
                          0.5 * (lo[2] + hi[2]) - p[2], hbuf, g, inv_h, d_near, r_cut,
                          np.zeros(4), PART_ALL, g6x, g6w)


@njit(cache=True, parallel=True)
def near_table(nodes, n, h, qtab, qslope, qpar, gx, gw, g8x, g8w, g, inv_h, d_near, r_cut,
               g6x, g6w):
    """Mean dose [Gy per decay] over voxel o (|o_k| <= n) from a point at (nodes[a], nodes[b],
    nodes[c]) * h relative to the centre of voxel 0 (:func:`box_mean`)."""
    m1 = nodes.size
    nn = 2 * n + 1
    out = np.zeros((m1, m1, m1, nn, nn, nn))
    for a in prange(m1):
        p = np.empty(3)
        lo = np.empty(3)
        hi = np.empty(3)
        hbuf = np.empty(3)
        p[0] = nodes[a] * h[0]
        for b in range(m1):
            p[1] = nodes[b] * h[1]
            for c in range(m1):
                p[2] = nodes[c] * h[2]
                for ox in range(-n, n + 1):
                    lo[0] = (ox - 0.5) * h[0]
                    hi[0] = lo[0] + h[0]
                    for oy in range(-n, n + 1):
                        lo[1] = (oy - 0.5) * h[1]
                        hi[1] = lo[1] + h[1]
                        for oz in range(-n, n + 1):
                            lo[2] = (oz - 0.5) * h[2]
                            hi[2] = lo[2] + h[2]
                            out[a, b, c, ox + n, oy + n, oz + n] = box_mean(
                                p, lo, hi, qtab, qslope, qpar, gx, gw, g8x, g8w, g, inv_h,
                                d_near, r_cut, g6x, g6w, hbuf)
    return out


@njit(cache=True, inline="always")
def legendre_row(x, pmax, out):
    """out[j] = sqrt(2 j + 1) P_j(x), j = 0..pmax (orthonormal on [-1, 1] / 2)."""
    out[0] = 1.0
    if pmax >= 1:
        out[1] = x
    for j in range(1, pmax):
        out[j + 1] = ((2 * j + 1) * x * out[j] - j * out[j - 1]) / (j + 1)
    for j in range(pmax + 1):
        out[j] *= math.sqrt(2.0 * j + 1.0)


@njit(cache=True, parallel=True)
def moment_kernels(kmax, h, n, degs, tx_n, tw_n, wt_n, tx_f, tw_f, wt_f, s_far, split, g, inv_h,
                   d_near, r_cut):
    """Coefficients c_k(o) of the moment expansion of the far field, offsets o = 0..kmax.

    c_k(o) = int T(delta, o) phi_k(delta) d delta with T the mean of the fine part of the kernel
    over voxel o from a point at delta h in voxel 0 and phi_k(delta) = prod_axes
    sqrt(2 d + 1) P_d(2 delta) (degrees ``degs[k]``). With t = u - delta (u in the target
    voxel) this is int_{[-1,1]^3} D((o + t) h) prod_axes W_d(t) dt, W_d(t) = int phi_d over
    {delta : |delta| <= 1/2, |t + delta| <= 1/2}, a polynomial on each half of [-1, 1]: the
    rule (tx, tw) is Gauss on each half and ``wt[i, d]`` = W_d(tx[i]) (the ``_n`` rule up to
    Chebyshev distance ``s_far``, the cheaper ``_f`` one beyond). k = 0 uses D (1 - w)
    (with the tail), k > 0 D (1 - w)(1 - tau). Offsets with max |o_k| <= n (the exact near
    box) are 0.
    """
    nk = degs.shape[0]
    pmax = 0
    for k in range(nk):
        for a in range(3):
            pmax = max(pmax, degs[k, a])
    p1 = pmax + 1
    out = np.zeros((nk, kmax[0] + 1, kmax[1] + 1, kmax[2] + 1))
    r_cut2 = r_cut * r_cut
    for i in prange(kmax[0] + 1):
        sz0 = np.empty(p1)
        sz1 = np.empty(p1)
        syz0 = np.empty((p1, p1))
        syz1 = np.empty((p1, p1))
        for j in range(kmax[1] + 1):
            for k in range(kmax[2] + 1):
                if max(i, max(j, k)) <= n:
                    continue
                gx_ = max(i - 1.0, 0.0) * h[0]
                gy_ = max(j - 1.0, 0.0) * h[1]
                gz_ = max(k - 1.0, 0.0) * h[2]
                if gx_ * gx_ + gy_ * gy_ + gz_ * gz_ >= r_cut2:
                    continue
                acc0 = np.zeros((p1, p1, p1))
                acc1 = np.zeros((p1, p1, p1))
                if max(i, max(j, k)) <= s_far:
                    tx, tw, wt = tx_n, tw_n, wt_n
                else:
                    tx, tw, wt = tx_f, tw_f, wt_f
                nt = tx.size
                for a in range(nt):
                    x = (i + tx[a]) * h[0]
                    syz0[:, :] = 0.0
                    syz1[:, :] = 0.0
                    for b in range(nt):
                        y = (j + tx[b]) * h[1]
                        sz0[:] = 0.0
                        sz1[:] = 0.0
                        for c in range(nt):
                            z = (k + tx[c]) * h[2]
                            r2 = x * x + y * y + z * z
                            d = point_dose(r2, g, inv_h, d_near, r_cut2)
                            if d == 0.0:
                                continue
                            r = math.sqrt(r2)
                            v0 = tw[c] * d * part_factor(r, split, PART_FINE)
                            v1 = tw[c] * d * part_factor(r, split, PART_FINE_BODY)
                            for q in range(p1):
                                sz0[q] += v0 * wt[c, q]
                                sz1[q] += v1 * wt[c, q]
                        for q in range(p1):
                            f = tw[b] * wt[b, q]
                            for q2 in range(p1):
                                syz0[q, q2] += f * sz0[q2]
                                syz1[q, q2] += f * sz1[q2]
                    for q in range(p1):
                        f = tw[a] * wt[a, q]
                        for q1 in range(p1):
                            for q2 in range(p1):
                                acc0[q, q1, q2] += f * syz0[q1, q2]
                                acc1[q, q1, q2] += f * syz1[q1, q2]
                for kk in range(nk):
                    if degs[kk, 0] + degs[kk, 1] + degs[kk, 2] == 0:
                        out[kk, i, j, k] = acc0[0, 0, 0]
                    else:
                        out[kk, i, j, k] = acc1[degs[kk, 0], degs[kk, 1], degs[kk, 2]]
    return out


@njit(cache=True)
def plane_blocks(xyz, origin, inv_h, start0, nx, nblock):
    """Sources grouped by blocks of x planes of a grid of ``nx`` planes starting at global
    plane ``start0``, blocks of about equal source counts: (order, block_start), the sources of
    block b being order[block_start[b]:block_start[b + 1]] in their input order; sources
    outside the planes are left out."""
    n = xyz.shape[0]
    plane = np.empty(n, np.int64)
    count = np.zeros(nx + 1, np.int64)
    for s in range(n):
        a = int(math.floor((xyz[s, 0] - origin[0]) * inv_h[0] + 0.5)) - start0
        plane[s] = a if 0 <= a < nx else -1
        if plane[s] >= 0:
            count[a + 1] += 1
    for a in range(nx):
        count[a + 1] += count[a]
    total = count[nx]
    # block of each plane: planes in order, a new block when the count passes b total / nblock
    block_of = np.empty(nx, np.int64)
    b = 0
    for a in range(nx):
        while b < nblock - 1 and count[a] >= ((b + 1) * total) // nblock and count[a] > 0:
            b += 1
        block_of[a] = b
    bstart = np.zeros(nblock + 1, np.int64)
    for s in range(n):
        if plane[s] >= 0:
            bstart[block_of[plane[s]] + 1] += 1
    for k in range(nblock):
        bstart[k + 1] += bstart[k]
    fill = bstart[:-1].copy()
    order = np.empty(total, np.int64)
    for s in range(n):
        if plane[s] >= 0:
            k = block_of[plane[s]]
            order[fill[k]] = s
            fill[k] += 1
    return order, bstart


@njit(cache=True, parallel=True)
def bin_moment(xyz, decays, origin, inv_h, start, dx, dy, dz, order, block_start, out):
    """out[v - start] += decays x phi(delta) for each source in voxel v (phi: normalised
    Legendre polynomials of degrees (dx, dy, dz) of 2 delta, delta in [-1/2, 1/2)^3 the
    source's position in its voxel); sources whose voxel is outside ``out`` are dropped.

    Parallel over the blocks of x planes of :func:`plane_blocks` (``order``, ``block_start``):
    no two threads write the same voxel, and each voxel's sum is taken in source order, so the
    result does not depend on the number of threads."""
    ny, nz = out.shape[1], out.shape[2]
    pm = max(dx, max(dy, dz))
    for b in prange(block_start.size - 1):
        lx = np.empty(pm + 1)
        ly = np.empty(pm + 1)
        lz = np.empty(pm + 1)
        for j in range(block_start[b], block_start[b + 1]):
            s = order[j]
            ux = (xyz[s, 0] - origin[0]) * inv_h[0]
            uy = (xyz[s, 1] - origin[1]) * inv_h[1]
            uz = (xyz[s, 2] - origin[2]) * inv_h[2]
            ix = int(math.floor(ux + 0.5))
            iy = int(math.floor(uy + 0.5))
            iz = int(math.floor(uz + 0.5))
            bb = iy - start[1]
            c = iz - start[2]
            if bb < 0 or bb >= ny or c < 0 or c >= nz:
                continue
            legendre_row(2.0 * (ux - ix), dx, lx)
            legendre_row(2.0 * (uy - iy), dy, ly)
            legendre_row(2.0 * (uz - iz), dz, lz)
            out[ix - start[0], bb, c] += decays[s] * lx[dx] * ly[dy] * lz[dz]


@njit(cache=True, parallel=True)
def clear_source_voxels(xyz, origin, inv_h, start, order, block_start, out):
    """out[v - start] = 0 in the voxels that :func:`bin_moment` writes for these sources (to
    reuse a moment grid without clearing all of it)."""
    ny, nz = out.shape[1], out.shape[2]
    for b in prange(block_start.size - 1):
        for j in range(block_start[b], block_start[b + 1]):
            s = order[j]
            ix = int(math.floor((xyz[s, 0] - origin[0]) * inv_h[0] + 0.5))
            iy = int(math.floor((xyz[s, 1] - origin[1]) * inv_h[1] + 0.5))
            iz = int(math.floor((xyz[s, 2] - origin[2]) * inv_h[2] + 0.5))
            bb = iy - start[1]
            c = iz - start[2]
            if bb < 0 or bb >= ny or c < 0 or c >= nz:
                continue
            out[ix - start[0], bb, c] = 0.0


@njit(cache=True, parallel=True)
def norms_1_2(a):
    """(sum |a|, sqrt(sum a^2)) of a 3-D array."""
    n0 = a.shape[0]
    s1 = np.zeros(n0)
    s2 = np.zeros(n0)
    for i in prange(n0):
        t1 = 0.0
        t2 = 0.0
        for j in range(a.shape[1]):
            for k in range(a.shape[2]):
                v = a[i, j, k]
                t1 += abs(v)
                t2 += v * v
        s1[i] = t1
        s2[i] = t2
    return s1.sum(), math.sqrt(s2.sum())


@njit(cache=True, parallel=True)
def node_index(xyz, origin, inv_step, shift):
    """floor((xyz - origin) inv_step + shift) per axis (N x 3 int64)."""
    n = xyz.shape[0]
    idx = np.empty((n, 3), np.int64)
    for s in prange(n):
        for a in range(3):
            idx[s, a] = int(math.floor((xyz[s, a] - origin[a]) * inv_step[a] + shift))
    return idx


@njit(cache=True)
def stable_order(keys):
    """Stable ordering of integer keys by counting sort (O(N + key range))."""
    n = keys.size
    order = np.empty(n, np.int64)
    if n == 0:
        return order
    lo = keys.min()
    counts = np.zeros(keys.max() - lo + 2, np.int64)
    for s in range(n):
        counts[keys[s] - lo + 1] += 1
    for k in range(counts.size - 1):
        counts[k + 1] += counts[k]
    for s in range(n):
        j = keys[s] - lo
        order[counts[j]] = s
        counts[j] += 1
    return order


@njit(cache=True)
def bounding_box(xyz):
    """(min, max) per axis of the rows of ``xyz`` (N x 3, N >= 1)."""
    lo = xyz[0].copy()
    hi = xyz[0].copy()
    for s in range(1, xyz.shape[0]):
        for a in range(3):
            v = xyz[s, a]
            if v < lo[a]:
                lo[a] = v
            elif v > hi[a]:
                hi[a] = v
    return lo, hi


@njit(cache=True, parallel=True)
def points_in_box(xyz, lo, hi):
    """Mask of the rows of ``xyz`` (N x 3) with lo <= xyz <= hi on every axis."""
    n = xyz.shape[0]
    ok = np.empty(n, np.bool_)
    for s in prange(n):
        ok[s] = (lo[0] <= xyz[s, 0] <= hi[0] and lo[1] <= xyz[s, 1] <= hi[1]
                 and lo[2] <= xyz[s, 2] <= hi[2])
    return ok


@njit(cache=True, parallel=True)
def in_box(idx, lo, hi):
    """Mask of the rows of ``idx`` (N x 3 voxel indices) with lo <= idx < hi on every axis."""
    n = idx.shape[0]
    ok = np.empty(n, np.bool_)
    for s in prange(n):
        ok[s] = (lo[0] <= idx[s, 0] < hi[0] and lo[1] <= idx[s, 1] < hi[1]
                 and lo[2] <= idx[s, 2] < hi[2])
    return ok


@njit(cache=True, parallel=True)
def accumulate_spectrum(acc, spec, r_oct, odd0, odd1, ph_re, ph_im, first):
    """acc += spec x S (acc = spec x S when ``first``) for a real kernel of parity
    (odd0, odd1, .) per axis whose spectrum is S(xi) = (ph_re + i ph_im) R(|xi|) sign(xi), R
    given on xi = 0..L/2 (``r_oct``, the DCT-I / DST-I of the kernel's octant); rfftn layout
    (full first two axes, half last)."""
    n0, n1, n2 = spec.shape
    for p in prange(n0):
        i0 = np.int64(p)
        j0 = i0
        s0 = 1.0
        if 2 * i0 > n0:
            j0 = n0 - i0
            if odd0:
                s0 = -1.0
        for i1 in range(n1):
            j1 = i1
            s1 = s0
            if 2 * i1 > n1:
                j1 = n1 - i1
                if odd1:
                    s1 = -s0
            cr = s1 * ph_re
            ci = s1 * ph_im
            for i2 in range(n2):
                rv = r_oct[j0, j1, i2]
                z = spec[i0, i1, i2]
                p = complex(rv * (z.real * cr - z.imag * ci), rv * (z.real * ci + z.imag * cr))
                if first:
                    acc[i0, i1, i2] = p
                else:
                    acc[i0, i1, i2] += p


@njit(cache=True, parallel=True)
def near_add(xyz, decays, slab_start, origin, inv_step, shape, n, nodes, table, logtab, use_log,
             out):
    """out[v + o] += decays x T(delta, o) for |o_k| <= n around each source's voxel v, T the
    near table (trilinear on its graded nodes after reflecting delta into the octant; with
    ``use_log``, trilinear in log T, exact for exponential fall-off, where the cell's eight
    values are > 0: large voxels, whose T varies by orders of magnitude across one voxel).

    Sources are sorted by their x index and grouped in slabs of 2n + 1 voxels; slabs of the
    same parity never write the same voxels, so each parity runs in parallel.
    """
    m = nodes.size - 1
    nslab = slab_start.size - 1
    for parity in range(2):
        for sb in prange((nslab - parity + 1) // 2):
            slab = 2 * sb + parity
            for s in range(slab_start[slab], slab_start[slab + 1]):
                u0 = (xyz[s, 0] - origin[0]) * inv_step[0]
                u1 = (xyz[s, 1] - origin[1]) * inv_step[1]
                u2 = (xyz[s, 2] - origin[2]) * inv_step[2]
                i0 = int(math.floor(u0 + 0.5))
                i1 = int(math.floor(u1 + 0.5))
                i2 = int(math.floor(u2 + 0.5))
                d0 = u0 - i0
                d1 = u1 - i1
                d2 = u2 - i2
                s0 = 1 if d0 >= 0.0 else -1
                s1 = 1 if d1 >= 0.0 else -1
                s2 = 1 if d2 >= 0.0 else -1
                x0 = abs(d0)
                x1 = abs(d1)
                x2 = abs(d2)
                a0 = _graded_cell(x0, m, nodes)
                a1 = _graded_cell(x1, m, nodes)
                a2 = _graded_cell(x2, m, nodes)
                t0 = (x0 - nodes[a0]) / (nodes[a0 + 1] - nodes[a0])
                t1 = (x1 - nodes[a1]) / (nodes[a1 + 1] - nodes[a1])
                t2 = (x2 - nodes[a2]) / (nodes[a2 + 1] - nodes[a2])
                dec = decays[s]
                for ox in range(-n, n + 1):
                    vx = i0 + ox
                    if vx < 0 or vx >= shape[0]:
                        continue
                    tx = s0 * ox + n
                    for oy in range(-n, n + 1):
                        vy = i1 + oy
                        if vy < 0 or vy >= shape[1]:
                            continue
                        ty = s1 * oy + n
                        for oz in range(-n, n + 1):
                            vz = i2 + oz
                            if vz < 0 or vz >= shape[2]:
                                continue
                            tz = s2 * oz + n
                            if use_log:
                                lv = _trilinear(logtab, a0, a1, a2, t0, t1, t2, tx, ty, tz)
                                if lv > -1e300:
                                    out[vx, vy, vz] += dec * math.exp(lv)
                                    continue
                            out[vx, vy, vz] += dec * _trilinear(table, a0, a1, a2, t0, t1, t2,
                                                                tx, ty, tz)


@njit(cache=True)
def bin_cic(xyz, decays, origin, inv_step, start, out):
    """Spread each source's decays over the 2 x 2 x 2 nodes around it with trilinear (cloud in
    cell) weights, all >= 0; node i at origin + i step, out[a] holds node start + a."""
    nx, ny, nz = out.shape
    for s in range(xyz.shape[0]):
        ux = (xyz[s, 0] - origin[0]) * inv_step[0]
        uy = (xyz[s, 1] - origin[1]) * inv_step[1]
        uz = (xyz[s, 2] - origin[2]) * inv_step[2]
        ix = int(math.floor(ux))
        iy = int(math.floor(uy))
        iz = int(math.floor(uz))
        fx = ux - ix
        fy = uy - iy
        fz = uz - iz
        for a in range(2):
            xa = ix + a - start[0]
            if xa < 0 or xa >= nx:
                continue
            wa = fx if a == 1 else 1.0 - fx
            for b in range(2):
                yb = iy + b - start[1]
                if yb < 0 or yb >= ny:
                    continue
                wb = wa * (fy if b == 1 else 1.0 - fy)
                for c in range(2):
                    zc = iz + c - start[2]
                    if zc >= 0 and zc < nz:
                        out[xa, yb, zc] += decays[s] * wb * (fz if c == 1 else 1.0 - fz)


@njit(cache=True, parallel=True)
def upsample0(a, base, w, n_out):
    """out[i] = sum_q w[i, q] a[base[i] + q] along axis 0 (4 weights per output)."""
    out = np.empty((n_out, a.shape[1], a.shape[2]))
    for i in prange(n_out):
        j = base[i]
        for p in range(a.shape[1]):
            for q in range(a.shape[2]):
                out[i, p, q] = (w[i, 0] * a[j, p, q] + w[i, 1] * a[j + 1, p, q]
                                + w[i, 2] * a[j + 2, p, q] + w[i, 3] * a[j + 3, p, q])
    return out


@njit(cache=True, parallel=True)
def upsample1(a, base, w, n_out):
    """As :func:`upsample0` along axis 1."""
    out = np.empty((a.shape[0], n_out, a.shape[2]))
    for p in prange(a.shape[0]):
        for i in range(n_out):
            j = base[i]
            for q in range(a.shape[2]):
                out[p, i, q] = (w[i, 0] * a[p, j, q] + w[i, 1] * a[p, j + 1, q]
                                + w[i, 2] * a[p, j + 2, q] + w[i, 3] * a[p, j + 3, q])
    return out


@njit(cache=True, parallel=True)
def upsample2_add(a, base, w, out):
    """As :func:`upsample0` along axis 2, added into ``out``."""
    n_out = out.shape[2]
    for p in prange(a.shape[0]):
        for q in range(a.shape[1]):
            for i in range(n_out):
                j = base[i]
                out[p, q, i] += (w[i, 0] * a[p, q, j] + w[i, 1] * a[p, q, j + 1]
                                 + w[i, 2] * a[p, q, j + 2] + w[i, 3] * a[p, q, j + 3])


def separable_add(a, bases, weights, out):
    """out += the interpolation of node values ``a`` at the points of a regular grid, one axis
    at a time: along axis d, output i takes ``weights[d][i, q]`` x node ``bases[d][i] + q``,
    q = 0..3 (:func:`upsample0`, :func:`upsample1`, :func:`upsample2_add`)."""
    c1 = upsample0(a, bases[0], weights[0], out.shape[0])
    c2 = upsample1(c1, bases[1], weights[1], out.shape[1])
    del c1
    upsample2_add(c2, bases[2], weights[2], out)


@njit(cache=True, parallel=True)
def coarse_kernel_octant(kmax, step, h, split, part, r_lo, g, inv_h, d_near, r_cut, g4x, g4w):
    """Mean of a kernel part over a fine voxel (sides h) centred at coarse offsets J step,
    J = 0..kmax; 0 where the box lies within r_lo or beyond r_cut."""
    out = np.zeros((kmax[0] + 1, kmax[1] + 1, kmax[2] + 1))
    diag = 0.5 * math.sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2])
    for i in prange(kmax[0] + 1):
        for j in range(kmax[1] + 1):
            for k in range(kmax[2] + 1):
                cx = i * step[0]
                cy = j * step[1]
                cz = k * step[2]
                r = math.sqrt(cx * cx + cy * cy + cz * cz)
                if r - diag > r_cut or r + diag < r_lo:
                    continue
                out[i, j, k] = gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, split,
                                              part, g4x, g4w)
    return out


@njit(cache=True)
def sort_by_voxel(xyz, decays, origin, inv_h, shape, pad):
    """Sources ordered by voxel (x, then y; a counting sort, O(N)), with their voxel indices.

    Indices outside [-pad - 1, shape + pad] per axis are clamped for the ordering only (those
    sources reach no voxel of the near box); the returned ``idx`` are exact.
    """
    n = xyz.shape[0]
    idx = node_index(xyz, origin, inv_h, 0.5)
    w0 = shape[0] + 2 * pad + 3
    w1 = shape[1] + 2 * pad + 3
    key = np.empty(n, np.int64)
    counts = np.zeros(w0 * w1 + 1, np.int64)
    for s in range(n):
        k0 = min(max(idx[s, 0], -pad - 1), shape[0] + pad + 1) + pad + 1
        k1 = min(max(idx[s, 1], -pad - 1), shape[1] + pad + 1) + pad + 1
        key[s] = k0 * w1 + k1
        counts[key[s] + 1] += 1
    for k in range(w0 * w1):
        counts[k + 1] += counts[k]
    xs = np.empty_like(xyz)
    ds = np.empty_like(decays)
    ids = np.empty_like(idx)
    for s in range(n):
        j = counts[key[s]]
        counts[key[s]] += 1
        for a in range(3):
            xs[j, a] = xyz[s, a]
            ids[j, a] = idx[s, a]
        ds[j] = decays[s]
    return xs, ds, ids


@njit(cache=True)
def voxel_sum_squares(idx, decays, lo, hi):
    """(sum over voxels v in [lo, hi) of (sum of the decays of the sources in v)^2, the largest
    number of sources in one such voxel): the squared 2-norm of the moment-0 grid and its
    largest occupancy, for sources in any order."""
    w1 = hi[1] - lo[1]
    w2 = hi[2] - lo[2]
    keys = np.empty(idx.shape[0], np.int64)
    vals = np.empty(idx.shape[0])
    m = 0
    for s in range(idx.shape[0]):
        if (lo[0] <= idx[s, 0] < hi[0] and lo[1] <= idx[s, 1] < hi[1]
                and lo[2] <= idx[s, 2] < hi[2]):
            keys[m] = ((idx[s, 0] - lo[0]) * w1 + idx[s, 1] - lo[1]) * w2 + idx[s, 2] - lo[2]
            vals[m] = decays[s]
            m += 1
    order = np.argsort(keys[:m])
    total = 0.0
    most = 0
    a = 0
    while a < m:
        acc = 0.0
        b = a
        while b < m and keys[order[b]] == keys[order[a]]:
            acc += vals[order[b]]
            b += 1
        total += acc * acc
        most = max(most, b - a)
        a = b
    return total, most


@njit(cache=True, parallel=True)
def min_reached(out, reach, block):
    """Smallest value of ``out`` over the voxels whose block is reached (inf if none)."""
    n0, n1, n2 = out.shape
    part = np.full(n0, np.inf)
    for i in prange(n0):
        m = np.inf
        for j in range(n1):
            for k in range(n2):
                if reach[i // block, j // block, k // block] and out[i, j, k] < m:
                    m = out[i, j, k]
        part[i] = m
    return part.min()


@njit(cache=True, parallel=True)
def add_tile_reached(out, res, o, k, t, reach, block):
    """out[o + i] += res[k + i] for 0 <= i < t (per axis) in the voxels whose block is reached
    (elsewhere ``res`` is round-off only)."""
    for i in prange(t[0]):
        gi = o[0] + i
        for j in range(t[1]):
            gj = o[1] + j
            for m in range(t[2]):
                gm = o[2] + m
                if reach[gi // block, gj // block, gm // block]:
                    out[gi, gj, gm] += res[k[0] + i, k[1] + j, k[2] + m]


@njit(cache=True, parallel=True)
def scale_spectrum(spec, s_oct):
    """spec[k] *= S(k) for a real spectrum S even in every axis given on k = 0..L/2 (rfftn
    layout of ``spec``: full first two axes of even sizes, half last axis)."""
    n0, n1, n2 = spec.shape
    for p in prange(n0):
        i0 = np.int64(p)
        j0 = i0 if 2 * i0 <= n0 else n0 - i0
        for i1 in range(n1):
            j1 = i1 if 2 * i1 <= n1 else n1 - i1
            for i2 in range(n2):
                spec[i0, i1, i2] *= s_oct[j0, j1, i2]


@njit(cache=True, parallel=True)
def zero_fill(a):
    """a[:] = 0 (1-D), in parallel."""
    n = a.size
    step = 1 << 16
    for b in prange((n + step - 1) // step):
        for i in range(b * step, min(n, (b + 1) * step)):
            a[i] = 0.0


@njit(cache=True, parallel=True)
def copy_cast(src, dst):
    """dst[...] = src[...] (same shape, 3-D; e.g. float64 to float32), in parallel."""
    for i in prange(src.shape[0]):
        for j in range(src.shape[1]):
            for k in range(src.shape[2]):
                dst[i, j, k] = src[i, j, k]


@njit(cache=True, parallel=True)
def add_positive_part(out, a):
    """out += max(a, 0) (3-D, same shape); returns min(a)."""
    lows = np.empty(a.shape[0])
    for i in prange(a.shape[0]):
        low = np.inf
        for j in range(a.shape[1]):
            for k in range(a.shape[2]):
                v = a[i, j, k]
                low = min(low, v)
                if v > 0.0:
                    out[i, j, k] += v
        lows[i] = low
    return lows.min()
