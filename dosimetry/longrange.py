"""Sums of a smooth radial kernel over many sources, at arbitrary points, by FFT on a grid.

For a kernel K that is smooth on the scale of a few grid steps H (a long-range photon kernel,
or the far part of a split kernel), the field F(p) = sum_s n_s K(|p - x_s|) is computed as in
particle-mesh methods: each source's decays are spread over the 5^3 nodes around it with
5-point Lagrange weights (they reproduce the moments 0-4 of a point, so the field is exact to
O((H / L)^5) for a kernel varying on the scale L), the node values are convolved with the
kernel sampled at node offsets (scipy.fft), and the field is interpolated to the points with
4-point (cubic) Lagrange weights per axis (O((H / L)^4)). Cost O(G log G) for G nodes,
independent of the number of sources.

A radial kernel with a singular near field is split as K = K (1 - w) + K w with a smooth step
w(r) (:func:`split_weight`): the near part is summed exactly over the few sources within its
short range (cell list), the far part here.

References
----------
.. [1] Hockney RW, Eastwood JW. Computer Simulation Using Particles. IOP, 1988 (charge
       assignment, particle-mesh and P3M splitting).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange
from scipy import fft as sfft

from dosimetry import _grid_kernels as gk
from dosimetry._fft import irfftn_overwrite

__all__ = ["smooth_field_at_points", "smooth_field_on_grid", "split_weight", "over_r2_table"]


def split_weight(r_mm, r1_mm: float, r2_mm: float):
    """Smooth step w(r): 0 below r1, 1 above r2, quintic (C2) between."""
    t = np.clip((np.asarray(r_mm, dtype=float) - r1_mm) / (r2_mm - r1_mm), 0.0, 1.0)
    return t * t * t * (10.0 + t * (6.0 * t - 15.0))


def over_r2_table(g, step_mm: float, r_mm):
    """g(r) / r^2 at r [mm] for g tabulated on r = 0, step, 2 step, ... (linear in g, the
    last interval extended beyond the table); nan/inf at r = 0 left to the caller's mask."""
    x = np.minimum(r_mm / step_mm, g.size - 2.0)
    k = x.astype(np.int64)
    f = x - k
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g[k] * (1.0 - f) + g[k + 1] * f) / (r_mm * r_mm)


@njit(cache=True, inline="always")
def _tricubic(field, i, j, k, wx, wy, wz):
    """Sum of the 4x4x4 node values around (i, j, k) (nodes -1..2) with weights wx wy wz."""
    acc = 0.0
    for a in range(4):
        for b in range(4):
            wab = wx[a] * wy[b]
            for c in range(4):
                acc += wab * wz[c] * field[i - 1 + a, j - 1 + b, k - 1 + c]
    return acc


@njit(cache=True, parallel=True)
def _interpolate(field, origin, inv_h, points, out):
    """Tricubic Lagrange interpolation of node values at the points (nodes -1..2 around)."""
    for p in prange(points.shape[0]):
        wx = np.empty(4)
        wy = np.empty(4)
        wz = np.empty(4)
        u = (points[p, 0] - origin[0]) * inv_h
        v = (points[p, 1] - origin[1]) * inv_h
        t = (points[p, 2] - origin[2]) * inv_h
        i = int(math.floor(u))
        j = int(math.floor(v))
        k = int(math.floor(t))
        gk.cubic_weights(u - i, wx)
        gk.cubic_weights(v - j, wy)
        gk.cubic_weights(t - k, wz)
        out[p] = _tricubic(field, i, j, k, wx, wy, wz)


def _interpolate_grid_add(field, origin, inv_h, g_origin, g_step, out):
    """out += tricubic Lagrange interpolation of node values at the centres of a regular grid
    (``out`` has the grid's shape; voxel (i, j, k) is at g_origin + (i, j, k) g_step), one
    axis at a time (the same sum as :func:`_tricubic`, 12 instead of 64 products per voxel)."""
    base, wts = [], []
    for a in range(3):
        u = (g_origin[a] + np.arange(out.shape[a]) * g_step[a] - origin[a]) * inv_h
        j = np.floor(u).astype(np.int64)
        t = u - j
        base.append(j - 1)
        wts.append(gk.cubic_lagrange_weights(t))
    gk.separable_add(np.ascontiguousarray(field, dtype=float), base, wts, out)


def _kernel_octant(kernel, kmax, h, r_cut_mm, box_mm, shape):
    """The kernel at node offsets (0..kmax per axis), or its mean over a box centred there
    (3-point Gauss-Legendre per axis) when ``box_mm`` is given."""
    x = np.arange(kmax + 1) * h
    octant = np.zeros(shape)
    if box_mm is None:
        r = np.sqrt(x[:, None, None] ** 2 + x[None, :, None] ** 2 + x[None, None, :] ** 2)
        octant[:kmax + 1, :kmax + 1, :kmax + 1] = np.where(r < r_cut_mm, kernel(r), 0.0)
        return octant
    g, gw = np.polynomial.legendre.leggauss(3)
    box = np.broadcast_to(np.asarray(box_mm, dtype=float), (3,))
    acc = np.zeros((kmax + 1,) * 3)
    for a, wa in zip(g, gw):
        xa = (x + 0.5 * box[0] * a)[:, None, None] ** 2
        for b, wb in zip(g, gw):
            yb = (x + 0.5 * box[1] * b)[None, :, None] ** 2
            for c, wc in zip(g, gw):
                r = np.sqrt(xa + yb + (x + 0.5 * box[2] * c)[None, None, :] ** 2)
                acc += (wa * wb * wc / 8.0) * np.where(r < r_cut_mm, kernel(r), 0.0)
    octant[:kmax + 1, :kmax + 1, :kmax + 1] = acc
    return octant


#: Chunks of sources binned in parallel by :func:`_node_field` (fixed, so that the float32
#: sums do not depend on the number of threads).
BIN_CHUNKS = 4


def _node_field(lo_mm, hi_mm, src, w, kernel, r_cut_mm, h, box_mm):
    """Field on the nodes covering [lo, hi] with 2 nodes of interpolation margin: (field,
    origin of node 0)."""
    kmax = int(math.ceil(r_cut_mm / h)) + 1
    lo = np.floor(np.asarray(lo_mm) / h) - 2
    hi = np.ceil(np.asarray(hi_mm) / h) + 3
    n_out = (hi - lo).astype(np.int64)
    origin = lo * h
    # sources matter within r_cut of the node box; bin them with their 2-node Lagrange reach
    keep = gk.points_in_box(src, origin - (kmax + 3) * h, (hi + kmax + 3) * h)
    if not keep.all():
        src, w = np.ascontiguousarray(src[keep]), np.ascontiguousarray(w[keep])
    start = -(kmax + 3)
    n_src = (n_out + 2 * (kmax + 3)).astype(np.int64)
    # even FFT sizes: the even kernel's spectrum is then the DCT-I of its octant (1/8 memory)
    lens = [2 * sfft.next_fast_len(int(n + 2 * kmax + 2) // 2, real=True) for n in n_src]
    buf = np.zeros(lens, dtype=np.float32)
    # BIN_CHUNKS chunks of the sources in input order, binned in parallel and summed
    parts = np.zeros((BIN_CHUNKS,) + tuple(int(v) for v in n_src), dtype=np.float32)
    gk.bin_quart_chunks(src, w, origin + start * h, np.full(3, 1.0 / h), parts)
    np.sum(parts, axis=0, out=buf[:n_src[0], :n_src[1], :n_src[2]])
    del parts
    octant = _kernel_octant(kernel, kmax, h, r_cut_mm, box_mm, [n // 2 + 1 for n in lens])
    workers = max(1, numba.get_num_threads())
    s_oct = sfft.dctn(octant, type=1, workers=workers).astype(np.float32)
    del octant
    spec = sfft.rfftn(buf, workers=workers, overwrite_x=True)
    del buf
    gk.scale_spectrum(spec, s_oct)
    full = irfftn_overwrite(spec, lens, workers)
    del spec
    # circular convolution with the kernel centred at index 0: node n of the output box is
    # buffer node n - start
    a = -start
    field = np.ascontiguousarray(full[a:a + n_out[0], a:a + n_out[1], a:a + n_out[2]],
                                 dtype=np.float64)
    return field, origin


def _prepare(sources_mm, decays):
    src = np.ascontiguousarray(sources_mm, dtype=np.float64).reshape(-1, 3)
    w = np.ascontiguousarray(decays, dtype=np.float64).reshape(-1)
    return src, w


def smooth_field_at_points(points_mm, sources_mm, decays, kernel, r_cut_mm: float,
                           step_mm: float, box_mm=None) -> np.ndarray:
    """F(p) = sum_s decays_s K(|p - x_s|) for a kernel smooth on the scale of ``step_mm``.

    Parameters
    ----------
    points_mm : (P, 3) array [mm]
        Where to evaluate the field.
    sources_mm : (N, 3) array [mm]
        Source positions.
    decays : (N,) array
        Source weights (decays, or any linear weight).
    kernel : callable
        K(r_mm) -> values (vectorised); zero at and beyond ``r_cut_mm``.
    r_cut_mm : float
        Range of the kernel [mm].
    step_mm : float
        Grid step H [mm]; the kernel must vary slowly on the scale of a few H.
    box_mm : float or 3 floats, optional
        Give the mean of F over a box of this size centred at each point instead of its value
        (the kernel is averaged over the box, 3-point Gauss-Legendre per axis).

    Returns
    -------
    (P,) ndarray
        The field at the points (units of ``decays`` x ``kernel``).
    """
    pts = np.ascontiguousarray(points_mm, dtype=np.float64).reshape(-1, 3)
    src, w = _prepare(sources_mm, decays)
    out = np.zeros(pts.shape[0])
    if pts.shape[0] == 0 or src.shape[0] == 0:
        return out
    h = float(step_mm)
    field, origin = _node_field(pts.min(axis=0), pts.max(axis=0), src, w, kernel, r_cut_mm,
                                h, box_mm)
    _interpolate(field, origin, 1.0 / h, pts, out)
    return out


def smooth_field_on_grid(origin_mm, spacing_mm, shape, sources_mm, decays, kernel,
                         r_cut_mm: float, step_mm: float, voxel_mean: bool = True,
                         add_to=None) -> np.ndarray:
    """:func:`smooth_field_at_points` at the centres of a regular grid (no point array is
    built), as voxel means (default) or centre values.

    Parameters
    ----------
    origin_mm, spacing_mm : 3 floats [mm]
        Centre of voxel (0, 0, 0) and voxel size.
    shape : 3 ints
    sources_mm, decays, kernel, r_cut_mm, step_mm
        As for :func:`smooth_field_at_points`.
    voxel_mean : bool
        Mean over each voxel (kernel averaged over the voxel box) or the value at its centre.
    add_to : ndarray of ``shape``, optional
        Add the field into this array (a view is fine) instead of a new one.

    Returns
    -------
    ndarray of ``shape`` (``add_to`` when given)
    """
    g0 = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,)).copy()
    gs = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)).copy()
    shape = tuple(int(v) for v in shape)
    src, w = _prepare(sources_mm, decays)
    out = np.zeros(shape) if add_to is None else add_to
    if src.shape[0] == 0 or min(shape) == 0:
        return out
    h = float(step_mm)
    hi = g0 + gs * (np.array(shape) - 1)
    field, origin = _node_field(g0, hi, src, w, kernel, r_cut_mm, h,
                                gs if voxel_mean else None)
    _interpolate_grid_add(field, origin, 1.0 / h, g0, gs, out)
    return out
