# Frozen copy of dosimetry/_grid_kernels.py at commit d7b62af, for benchmarks/dose.py only.
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


@njit(cache=True)
def box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw):
    """int_box D(|y - p|) dy [Gy mm^3 per decay] for the box [lo, hi] and any point p."""
    tot = 0.0
    for k in range(3):
        i = (k + 1) % 3
        j = (k + 2) % 3
        for side in range(2):
            d = p[k] - lo[k] if side == 0 else hi[k] - p[k]
            ad = abs(d)
            if ad < 1e-12:
                continue  # e(0) = 0: no flux through a face containing p
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


@njit(cache=True)
def gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, r1w, r2w, part, gx, gw):
    """Mean over the box centred at c (size h) of D (part 0), D (1 - w) (part 1) or D w (part 2)."""
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
                if part != 0 and d != 0.0:
                    w = long_share(math.sqrt(r2), r1w, r2w)
                    d *= (1.0 - w) if part == 1 else w
                acc += wij * gw[k] * d
    return acc


@njit(cache=True, inline="always")
def _box_gap(c, half):
    """Distance from the origin to the nearest point of [c - half, c + half] (one axis)."""
    return max(abs(c) - half, 0.0)


@njit(cache=True, parallel=True)
def fine_kernel_octant(kmax, h, exact_mm, r1w, r2w, g, inv_h, d_near, r_cut,
                       qtab, qslope, qpar, gx, gw, g4x, g4w, g3x, g3w):
    """Target-voxel mean of D (1 - w) from a point at the centre of voxel 0, offsets 0..kmax.

    Boxes closer to the source than ``exact_mm`` use the exact face formula (there w = 0),
    others a tensor Gauss rule (4 points per axis within 8 voxels, else 3).
    """
    out = np.zeros((kmax[0] + 1, kmax[1] + 1, kmax[2] + 1))
    vol = h[0] * h[1] * h[2]
    hmax = max(h[0], max(h[1], h[2]))
    for i in prange(kmax[0] + 1):
        p = np.zeros(3)
        lo = np.empty(3)
        hi = np.empty(3)
        cx = i * h[0]
        gxi = _box_gap(cx, 0.5 * h[0])
        for j in range(kmax[1] + 1):
            cy = j * h[1]
            gyj = _box_gap(cy, 0.5 * h[1])
            for k in range(kmax[2] + 1):
                cz = k * h[2]
                gzk = _box_gap(cz, 0.5 * h[2])
                gap = math.sqrt(gxi * gxi + gyj * gyj + gzk * gzk)
                if gap >= r_cut:
                    continue
                if gap < exact_mm:
                    lo[0] = cx - 0.5 * h[0]
                    lo[1] = cy - 0.5 * h[1]
                    lo[2] = cz - 0.5 * h[2]
                    hi[0] = lo[0] + h[0]
                    hi[1] = lo[1] + h[1]
                    hi[2] = lo[2] + h[2]
                    out[i, j, k] = box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw) / vol
                elif gap < 8.0 * hmax:
                    out[i, j, k] = gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, r1w,
                                                  r2w, 1, g4x, g4w)
                else:
                    out[i, j, k] = gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, r1w,
                                                  r2w, 1, g3x, g3w)
    return out


@njit(cache=True, parallel=True)
def coarse_kernel_octant(kmax, step, h, r1w, r2w, g, inv_h, d_near, r_cut, g3x, g3w):
    """Mean of D w over a fine voxel (size h) centred at coarse offsets J * step, J = 0..kmax."""
    out = np.zeros((kmax[0] + 1, kmax[1] + 1, kmax[2] + 1))
    for i in prange(kmax[0] + 1):
        for j in range(kmax[1] + 1):
            for k in range(kmax[2] + 1):
                cx = i * step[0]
                cy = j * step[1]
                cz = k * step[2]
                if math.sqrt(cx * cx + cy * cy + cz * cz) - 0.87 * (h[0] + h[1] + h[2]) > r_cut:
                    continue
                if math.sqrt(cx * cx + cy * cy + cz * cz) + 0.87 * (h[0] + h[1] + h[2]) < r1w:
                    continue
                out[i, j, k] = gauss_box_mean(cx, cy, cz, h, g, inv_h, d_near, r_cut, r1w, r2w,
                                              2, g3x, g3w)
    return out


@njit(cache=True, parallel=True)
def near_table(nodes, n, h, exact_mm, g, inv_h, d_near, r_cut, qtab, qslope, qpar, gx, gw,
               g6x, g6w):
    """Mean dose [Gy per decay] over voxel o (|o_k| <= n) from a point at (nodes[a], nodes[b],
    nodes[c]) * h relative to the centre of voxel 0; exact face formula for voxels closer than
    ``exact_mm`` to the point, a 6-point tensor Gauss rule for the others."""
    m1 = nodes.size
    nn = 2 * n + 1
    out = np.zeros((m1, m1, m1, nn, nn, nn))
    vol = h[0] * h[1] * h[2]
    for a in prange(m1):
        p = np.empty(3)
        lo = np.empty(3)
        hi = np.empty(3)
        p[0] = nodes[a] * h[0]
        for b in range(m1):
            p[1] = nodes[b] * h[1]
            for c in range(m1):
                p[2] = nodes[c] * h[2]
                for ox in range(-n, n + 1):
                    lo[0] = (ox - 0.5) * h[0]
                    hi[0] = lo[0] + h[0]
                    gx0 = max(max(lo[0] - p[0], p[0] - hi[0]), 0.0)
                    for oy in range(-n, n + 1):
                        lo[1] = (oy - 0.5) * h[1]
                        hi[1] = lo[1] + h[1]
                        gy0 = max(max(lo[1] - p[1], p[1] - hi[1]), 0.0)
                        for oz in range(-n, n + 1):
                            lo[2] = (oz - 0.5) * h[2]
                            hi[2] = lo[2] + h[2]
                            gz0 = max(max(lo[2] - p[2], p[2] - hi[2]), 0.0)
                            if math.sqrt(gx0 * gx0 + gy0 * gy0 + gz0 * gz0) < exact_mm:
                                v = box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw) / vol
                            else:
                                v = gauss_box_mean(ox * h[0] - p[0], oy * h[1] - p[1],
                                                   oz * h[2] - p[2], h, g, inv_h, d_near, r_cut,
                                                   1e30, 2e30, 0, g6x, g6w)
                            out[a, b, c, ox + n, oy + n, oz + n] = v
    return out


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
    nx, ny, nz = out.shape
    nslab = slab_start.size - 1
    for parity in range(2):
        for sb in prange((nslab - parity + 1) // 2):
            slab = 2 * sb + parity
            wx = np.empty(5)
            wy = np.empty(5)
            wz = np.empty(5)
            for s in range(slab_start[slab], slab_start[slab + 1]):
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
                    continue
                _quart_weights(ux - ix, wx)
                _quart_weights(uy - iy, wy)
                _quart_weights(uz - iz, wz)
                dec = decays[s]
                for a in range(5):
                    xa = bx + a
                    if xa < 0 or xa >= nx:
                        continue
                    for b in range(5):
                        yb = by + b
                        if yb < 0 or yb >= ny:
                            continue
                        wab = dec * wx[a] * wy[b]
                        for c in range(5):
                            zc = bz + c
                            if zc >= 0 and zc < nz:
                                out[xa, yb, zc] += wab * wz[c]


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


@njit(cache=True, parallel=True)
def near_correction(xyz, decays, slab_start, origin, inv_step, shape, n, nodes, table, kf, out):
    """Replace, in the voxels within n of each source's voxel, the far-field response by the
    exact voxel means from a point at the source's position.

    For each source: out[v + o] += decays * (T(delta, o) - F(delta, o)), |o_k| <= n, where T is
    the near table (trilinear on its graded nodes after reflecting delta into the octant) and
    F(delta, o) = sum_c w_c(delta) kf(o - c) the response of the binned FFT part (5-point
    Lagrange weights, same kernel). Sources are sorted by their x index and grouped in slabs
    of 2n + 1 voxels; slabs of the same parity never write the same voxels, so each parity is
    processed in parallel.
    """
    nn = 2 * n + 1
    ne = nn + 4
    m = nodes.size - 1
    nslab = slab_start.size - 1
    for parity in range(2):
        for sb in prange((nslab - parity + 1) // 2):
            slab = 2 * sb + parity
            wx = np.empty(5)
            wy = np.empty(5)
            wz = np.empty(5)
            g1 = np.empty((ne, ne, nn))
            g2 = np.empty((ne, nn, nn))
            f = np.empty((nn, nn, nn))
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
                _quart_weights(d0, wx)
                _quart_weights(d1, wy)
                _quart_weights(d2, wz)
                # F by separable passes: z, then y, then x
                for a in range(ne):
                    ka = abs(a - n - 2)
                    for b in range(ne):
                        kb = abs(b - n - 2)
                        for c in range(nn):
                            acc = 0.0
                            for q in range(5):
                                acc += wz[q] * kf[ka, kb, abs(c - n - q + 2)]
                            g1[a, b, c] = acc
                for a in range(ne):
                    for b in range(nn):
                        for c in range(nn):
                            acc = 0.0
                            for q in range(5):
                                acc += wy[q] * g1[a, b + 4 - q, c]
                            g2[a, b, c] = acc
                for a in range(nn):
                    for b in range(nn):
                        for c in range(nn):
                            acc = 0.0
                            for q in range(5):
                                acc += wx[q] * g2[a + 4 - q, b, c]
                            f[a, b, c] = acc
                # trilinear position in the octant table
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
                            tv = _trilinear(table, a0, a1, a2, t0, t1, t2, tx, ty, tz)
                            out[vx, vy, vz] += dec * (tv - f[ox + n, oy + n, oz + n])


@njit(cache=True, inline="always")
def _cubic_weights(t, w):
    """4-point Lagrange weights of nodes -1, 0, 1, 2 at t in [0, 1)."""
    w[0] = -t * (t - 1.0) * (t - 2.0) / 6.0
    w[1] = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0
    w[2] = -(t + 1.0) * t * (t - 2.0) / 2.0
    w[3] = (t + 1.0) * t * (t - 1.0) / 6.0


@njit(cache=True, parallel=True)
def upsample0(a, m, n_out):
    """Cubic Lagrange interpolation along axis 0: fine i from coarse nodes J = i // m (- 1 .. + 2);
    coarse node J is a[J + 1]."""
    out = np.empty((n_out, a.shape[1], a.shape[2]))
    for i in prange(n_out):
        w = np.empty(4)
        j = i // m
        _cubic_weights((i - j * m) / m, w)
        for p in range(a.shape[1]):
            for q in range(a.shape[2]):
                out[i, p, q] = (w[0] * a[j, p, q] + w[1] * a[j + 1, p, q] + w[2] * a[j + 2, p, q]
                                + w[3] * a[j + 3, p, q])
    return out


@njit(cache=True, parallel=True)
def upsample1(a, m, n_out):
    """As :func:`upsample0` along axis 1."""
    out = np.empty((a.shape[0], n_out, a.shape[2]))
    for p in prange(a.shape[0]):
        w = np.empty(4)
        for i in range(n_out):
            j = i // m
            _cubic_weights((i - j * m) / m, w)
            for q in range(a.shape[2]):
                out[p, i, q] = (w[0] * a[p, j, q] + w[1] * a[p, j + 1, q] + w[2] * a[p, j + 2, q]
                                + w[3] * a[p, j + 3, q])
    return out


@njit(cache=True, parallel=True)
def upsample2_add(a, m, out):
    """As :func:`upsample0` along axis 2, added into ``out``."""
    n_out = out.shape[2]
    w = np.empty((n_out, 4))
    for i in range(n_out):
        _cubic_weights((i - (i // m) * m) / m, w[i])
    for p in prange(a.shape[0]):
        for q in range(a.shape[1]):
            for i in range(n_out):
                j = i // m
                out[p, q, i] += (w[i, 0] * a[p, q, j] + w[i, 1] * a[p, q, j + 1]
                                 + w[i, 2] * a[p, q, j + 2] + w[i, 3] * a[p, q, j + 3])


@njit(cache=True, parallel=True)
def multiply_even_spectrum(spec, s_oct):
    """spec[k] *= S(k) for a real spectrum S even in every axis, given on k = 0..L/2 (the
    rfftn layout of spec: full first two axes of even sizes L0, L1, half last axis)."""
    n0, n1, n2 = spec.shape
    for p in prange(n0):
        i0 = np.int64(p)
        j0 = i0 if 2 * i0 <= n0 else n0 - i0
        for i1 in range(n1):
            j1 = i1 if 2 * i1 <= n1 else n1 - i1
            for i2 in range(n2):
                spec[i0, i1, i2] *= s_oct[j0, j1, i2]
