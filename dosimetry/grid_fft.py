"""The FFT levels of grid mode: tiling under a memory budget, spectra of the even/odd kernel
octants, the moment level (one forward FFT per moment, one inverse), the coarse and tail
levels and their interpolation to the fine grid. Used by :func:`dosimetry.grid.dose_on_grid`.
"""
from __future__ import annotations

from collections import OrderedDict
import math
import time

import numba
import numpy as np
from scipy import fft as sfft
from scipy.ndimage import maximum_filter

from dosimetry import _grid_kernels as gk
from dosimetry._fft import irfftn_overwrite, rfftn_into
from dosimetry._workspace import Workspace
from dosimetry.grid_kernel import (COARSE_STEP_MAX, SPLIT_R1, SPLIT_R2, TAIL_R1,
                                   moment_degrees)

__all__ = ["moment_level", "single_error_estimate", "coarse_level", "upsample_add",
           "upsample_lebesgue", "block_occupancy", "blocks_all_occupied", "reach_map",
           "auto_coarse_factor", "slabs", "fft_budget_tiles"]


def _fft_workers() -> int:
    """FFT threads: as many as numba's (a sweep worker sets both to its share of the cores)."""
    return max(1, numba.get_num_threads())


def fft_budget_tiles(n_out, kmax, bytes_per_element, max_fft_bytes):
    """Tile sizes T and FFT sizes L = fast(T + 2K) per axis: the least total FFT work
    (tiles x L^3) whose arrays fit in ``max_fft_bytes``."""
    n_out = np.asarray(n_out, dtype=np.int64)
    kmax = np.asarray(kmax, dtype=np.int64)
    cand = []
    for k in range(3):
        nt = np.arange(1, min(int(n_out[k]), 64) + 1)
        t = -(-n_out[k] // nt)
        nt = -(-n_out[k] // t)
        # even sizes: the kernels' spectra are then DCT-I / DST-I of their octants
        lens = np.array([2 * sfft.next_fast_len(int(v + 2 * kmax[k] + 1) // 2 + 1, real=True)
                         for v in t], dtype=float)
        cand.append((nt.astype(float), t, lens))
    (n0, t0, l0), (n1, t1, l1), (n2, t2, l2) = cand
    size = l0[:, None, None] * l1[None, :, None] * l2[None, None, :]
    work = size * (n0[:, None, None] * n1[None, :, None] * n2[None, None, :])
    work = np.where(size * bytes_per_element <= max_fft_bytes, work, np.inf)
    best = np.unravel_index(int(np.argmin(work)), work.shape)
    if not np.isfinite(work[best]):
        need = np.prod((2 * kmax + 2).astype(float)) * bytes_per_element
        raise MemoryError(f"grid mode needs FFTs of at least {need / 1e9:.2f} GB "
                          f"(kernel half-width {kmax.tolist()} voxels) but max_fft_bytes is "
                          f"{max_fft_bytes / 1e9:.2f} GB; raise it or use a coarse level")
    tsize = np.array([t0[best[0]], t1[best[1]], t2[best[2]]], dtype=np.int64)
    lens = np.array([l0[best[0]], l1[best[1]], l2[best[2]]], dtype=np.int64)
    return tsize, lens


def slabs(ix, width):
    """CSR starts of groups of ``width`` consecutive x indices in the sorted array ``ix``."""
    first = int(ix[0])
    nslab = int((ix[-1] - first) // width) + 1
    return np.searchsorted(ix, first + width * np.arange(nslab + 1)).astype(np.int64)


def _trig_matrix(n_half_plus1, kmax, length, odd):
    """A[xi, o] with sum_o A[xi, o] k(o) = DCT-I (even k) or DST-I (odd k) of the octant:
    the real factor of the DFT of k(m) = +-k(|m|) on a periodic grid of ``length``."""
    xi = np.arange(n_half_plus1)[:, None]
    o = np.arange(kmax + 1)[None, :]
    ang = 2.0 * math.pi * xi * o / length
    if odd:
        a = 2.0 * np.sin(ang)
        a[:, 0] = 0.0
    else:
        a = 2.0 * np.cos(ang)
        a[:, 0] = 1.0
    return a


def _octant_spectrum(octant, parity, lens):
    """Real factor R(xi), xi = 0..L/2, of the spectrum of the kernel k(m) = s(m) octant[|m|]
    (s = prod over odd axes of sign m_k) on a periodic grid of even sizes ``lens``: the DFT is
    (-i)^(number of odd axes) R(|xi|) prod sign(xi_k) (separable matrix products: the octant
    is small compared with the grid)."""
    x = octant
    mats = [_trig_matrix(int(lens[a]) // 2 + 1, octant.shape[a] - 1, int(lens[a]), parity[a])
            for a in range(3)]
    x = x @ mats[2].T                                                  # (k0, k1, n2)
    x = np.swapaxes(np.swapaxes(x, 1, 2) @ mats[1].T, 1, 2)             # (k0, n1, n2)
    k0 = x.shape[0]
    x = (mats[0] @ x.reshape(k0, -1)).reshape(mats[0].shape[0], x.shape[1], x.shape[2])
    return np.ascontiguousarray(x)


#: Kernel spectra kept between calls (same grid and kernel: sweeps, the dose stage's one call
#: per compartment), least recently used first out [bytes].
SPECTRUM_CACHE_BYTES = 6e8
_SPECTRUM_CACHE: OrderedDict = OrderedDict()


def _cache_put(key, spec):
    """Store a kernel spectrum (read-only) with its largest magnitude; evict the oldest entries
    beyond SPECTRUM_CACHE_BYTES. Returns (spec, max |spec|)."""
    spec.setflags(write=False)
    _SPECTRUM_CACHE[key] = (spec, float(np.abs(spec).max()))
    while (sum(v[0].nbytes for v in _SPECTRUM_CACHE.values()) > SPECTRUM_CACHE_BYTES
           and len(_SPECTRUM_CACHE) > 1):
        _SPECTRUM_CACHE.popitem(last=False)
    return _SPECTRUM_CACHE[key]


def _cached(key, make):
    """The cached (spectrum, max |spectrum|) of ``key``, computed by ``make()`` if absent."""
    if key in _SPECTRUM_CACHE:
        _SPECTRUM_CACHE.move_to_end(key)
        return _SPECTRUM_CACHE[key]
    return _cache_put(key, make())


def _cached_spectrum(gkern, k, parity, lens):
    """(R, max |R|): the kernel's real spectrum factor (see :func:`_octant_spectrum`), cached."""
    key = (gkern.nuclide, gkern.density_g_cm3, tuple(gkern.spacing_mm.tolist()),
           gkern.near_voxels, None if gkern.coarse_factor is None else
           tuple(gkern.coarse_factor.tolist()), gkern.degrees.tobytes(), k, tuple(int(v) for v in lens))
    return _cached(key, lambda: _octant_spectrum(gkern.moments[k], parity, lens))


def _cached_octant_spectrum(octant, lens):
    """(S, max |S|): spectrum of an even kernel given by its octant (coarse and tail levels),
    cached."""
    key = ("even", octant.shape, hash(octant.tobytes()), tuple(int(v) for v in lens))
    return _cached(key, lambda: _octant_spectrum(octant, (0, 0, 0), lens))


def _tile_loop(n_out, kmax, bytes_per_element, max_fft_bytes, g0):
    """Yield (start a (global), size t, fft sizes) of the output tiles."""
    tsize, lens = fft_budget_tiles(n_out, kmax, bytes_per_element, max_fft_bytes)
    ntiles = [int(-(-n_out[k] // tsize[k])) for k in range(3)]
    for tx in range(ntiles[0]):
        for ty in range(ntiles[1]):
            for tz in range(ntiles[2]):
                a = np.array([tx, ty, tz]) * tsize + g0
                yield a, np.minimum(tsize, np.asarray(n_out) - (a - g0)), lens


#: Peak bytes per real FFT element: input, spectrum, accumulated spectrum and the inverse's
#: output coexist (float64), plus one kernel spectrum on 1/8 of the elements.
_MOMENT_BYTES_PER_ELEMENT = 36.0
_PLAIN_BYTES_PER_ELEMENT = 26.0


#: float32 unit round-off.
U_SINGLE = 2.0 ** -24
#: Safety factor of the single-precision round-off estimate (see :func:`moment_level`).
SINGLE_SAFETY = 30.0


def _fft_roundoff(norm2, spec_max, nfft):
    """SINGLE_SAFETY u sqrt(log2 N) ||x||_2 ||S||_inf / sqrt(N): the round-off, in any output
    of a float32 FFT convolution of size N, of an input of 2-norm ``norm2`` with a kernel of
    spectrum bound ``spec_max`` (see :func:`single_error_estimate`)."""
    return SINGLE_SAFETY * U_SINGLE * math.sqrt(math.log2(nfft)) * norm2 * spec_max / math.sqrt(nfft)


def single_error_estimate(decays, idx, gkern, n_out, max_fft_bytes):
    """Round-off of the moment level computed in float32 (:func:`moment_level` with
    ``single``), estimated before computing it: (E [Gy], b [1]).

    FFT round-off, an absolute error E in any voxel:

        E = SINGLE_SAFETY u sqrt(log2 N) ||M_0||_2 sum_k ||C_k||_inf max|phi_k| / sqrt(N),

    u = 2^-24, N the FFT size of a tile, C_k the kernel spectra, M_0 the moment-0 grid of the
    sources in the level's domain (||M_k||_2 <= max|phi_k| ||M_0||_2 since decays >= 0).
    ``||C_k|| ||M_k||_2`` bounds the 2-norm of each convolution (Parseval); FFT round-off grows
    like u sqrt(log2 N) relative to it and spreads over the N outputs like independent errors
    (Higham & Mary 2019), whose maximum is a few times their rms; SINGLE_SAFETY covers that
    factor with margin.

    Binning round-off, relative to the voxel's total dose (a bound): the float32 sums of n
    sources per voxel err by n u max|phi_k| M_0(v) at most; since the moment level's kernel
    T >= 0, |c_k| <= max|phi_k| c_0 and the error in a voxel is at most
    n_max u sum_k max|phi_k|^2 F_0, F_0 the moment-0 field (<= 1.2 x the total dose: the
    expansion's first-order terms are below 20 % beyond the near box), so b = 1.2 n_max u
    sum_k max|phi_k|^2.

    Measured on single spheres, 30-sphere clusters, dense fields and up to 1e5 sources in one
    voxel (tests/verification): the error is below (E + b x dose) / 10.

    References
    ----------
    .. [1] Higham NJ, Mary T. A new approach to probabilistic rounding error analysis. SIAM J
           Sci Comput 2019;41:A2815.
    """
    kmax = gkern.moment_halfwidth
    n_out = np.asarray(n_out, dtype=np.int64)
    _, lens = fft_budget_tiles(n_out, kmax, _MOMENT_BYTES_PER_ELEMENT, max_fft_bytes)
    sum_sq, n_max = gk.voxel_sum_squares(idx, decays, -kmax, n_out + kmax)
    spec_sum = 0.0
    phi_sq = 0.0
    for k, (dx, dy, dz) in enumerate(gkern.degrees):
        spec_max = _cached_spectrum(gkern, k, (dx % 2, dy % 2, dz % 2), lens)[1]
        phi_max2 = float((2 * dx + 1) * (2 * dy + 1) * (2 * dz + 1))
        spec_sum += spec_max * math.sqrt(phi_max2)
        phi_sq += phi_max2
    fft = _fft_roundoff(math.sqrt(sum_sq), spec_sum, float(np.prod(lens)))
    return fft, 1.2 * n_max * U_SINGLE * phi_sq


def moment_level(out, xyz, decays, idx, origin, h, gkern, max_fft_bytes, times, single=False,
                 reach=None, block=8, ws=None):
    """out += sum_k M_k (*) c_k: the far field of the fine level (see :func:`dose_on_grid`);
    ``single``: moment grids, FFTs and spectrum sums in float32 (round-off:
    :func:`single_error_estimate`); ``reach`` (one boolean per ``block``^3 voxels): added only
    in the blocks marked; ``ws``: the :class:`dosimetry._workspace.Workspace` whose buffers
    "acc", "spec" and "grid" hold the FFT arrays. Returns the number of tiles."""
    real, cplx = (np.float32, np.complex64) if single else (np.float64, np.complex128)
    ws = Workspace() if ws is None else ws
    kmax = gkern.moment_halfwidth
    n_out = np.array(out.shape, dtype=np.int64)
    inv_h = 1.0 / h
    count = 0
    degs = gkern.degrees
    spectra = {}
    for a, t_here, lens in _tile_loop(n_out, kmax, _MOMENT_BYTES_PER_ELEMENT, max_fft_bytes,
                                      np.zeros(3, np.int64)):
        lo = a - kmax
        sel = np.flatnonzero(gk.in_box(idx, lo, a + t_here + kmax))
        if sel.size == 0:
            continue
        xs, ds = np.ascontiguousarray(xyz[sel]), np.ascontiguousarray(decays[sel])
        shp = tuple(int(v) for v in lens)
        half = (shp[0], shp[1], shp[2] // 2 + 1)
        acc = ws.array("acc", half, cplx)  # set by the first moment
        spec = ws.array("spec", half, cplx)
        order, bstart = gk.plane_blocks(xs, origin, inv_h, int(lo[0]), shp[0],
                                        4 * _fft_workers())
        buf = ws.array("grid", shp, real, zero=True)  # one moment grid, reused
        for k, (dx, dy, dz) in enumerate(degs):
            t0 = time.perf_counter()
            key = (k, shp)
            if key not in spectra:
                spectra[key] = _cached_spectrum(gkern, k, (dx % 2, dy % 2, dz % 2), lens)
            times["spectra"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            gk.bin_moment(xs, ds, origin, inv_h, lo, int(dx), int(dy), int(dz), order, bstart, buf)
            times["binning"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            # r2c keeps its input: only the sources' voxels are reset afterwards
            spec_m = rfftn_into(buf, spec, _fft_workers())
            gk.clear_source_voxels(xs, origin, inv_h, lo, order, bstart, buf)
            times["fft"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            nodd = int(dx % 2 + dy % 2 + dz % 2)
            ph = (1.0, 0.0) if nodd == 0 else (0.0, -1.0) if nodd == 1 else \
                (-1.0, 0.0) if nodd == 2 else (0.0, 1.0)
            gk.accumulate_spectrum(acc, spec_m, spectra[key][0], bool(dx % 2), bool(dy % 2),
                                   *ph, k == 0)
            del spec_m
            times["multiply"] += time.perf_counter() - t0
        ws.mark_clean("grid")
        del buf
        t0 = time.perf_counter()
        # the real result fits in the half spectrum's buffer, no longer needed
        res = irfftn_overwrite(acc, shp, _fft_workers(), out=_real_view(spec, shp, real))
        del acc, spec
        o = a
        if reach is None:
            out[o[0]:o[0] + t_here[0], o[1]:o[1] + t_here[1], o[2]:o[2] + t_here[2]] += \
                res[kmax[0]:kmax[0] + t_here[0], kmax[1]:kmax[1] + t_here[1],
                    kmax[2]:kmax[2] + t_here[2]]
        else:
            gk.add_tile_reached(out, res, o.astype(np.int64), kmax.astype(np.int64),
                                t_here.astype(np.int64), reach, block)
        del res
        times["fft"] += time.perf_counter() - t0
        count += 1
    return count


def _real_view(cplx_arr, shape, real):
    """The first prod(shape) reals of a C-contiguous complex array's memory, as ``shape``."""
    n = int(np.prod(shape))
    return cplx_arr.reshape(-1).view(real)[:n].reshape(shape)


def coarse_level(out_c, g0, xyz, decays, node_idx, origin, step, octant, binning,
                 max_fft_bytes, single=False, ws=None):
    """out_c[i - g0] += sum over sources of decays * sum_c w_c * kernel(i - c), by FFT tiles.

    Nodes with global index i sit at origin + i * step; each source spreads over the nodes
    around it with 5-point Lagrange weights (``binning="quart"``, exact for moments 0-4) or
    trilinear ones (``"cic"``, all >= 0); ``octant`` is the kernel for offsets 0..K (mirror-
    symmetric). ``single``: the binned grid is rounded to float32 and convolved in float32.
    Returns (number of tiles, E [Gy]): E estimates the float32 round-off in any node (0 in
    float64), the FFT term of :func:`single_error_estimate` with the binned grid B for the
    moment grid, plus u ||B||_1 max|kernel| for the rounding of B. ``ws``: the
    :class:`dosimetry._workspace.Workspace` whose buffers "acc" and "spec" hold the FFT arrays.
    """
    ws = Workspace() if ws is None else ws
    kmax = np.array(octant.shape, dtype=np.int64) - 1
    n_out = np.array(out_c.shape, dtype=np.int64)
    inv_step = 1.0 / np.asarray(step, dtype=float)
    count = 0
    err = 0.0
    spec_k = None
    first, last = node_idx.min(axis=0), node_idx.max(axis=0)
    for a, t_here, lens in _tile_loop(n_out, kmax, _PLAIN_BYTES_PER_ELEMENT, max_fft_bytes, g0):
        lo = a - kmax
        if np.all(first >= lo - 2) and np.all(last < a + t_here + kmax + 2):
            sel = np.arange(node_idx.shape[0])  # every source is in this tile's window
        else:
            sel = np.flatnonzero(gk.in_box(node_idx, lo - 2, a + t_here + kmax + 2))
        if sel.size == 0:
            continue
        if spec_k is None or spec_k[0] != tuple(lens):
            spec_k = (tuple(lens),) + _cached_octant_spectrum(octant, lens)
        shp = tuple(int(v) for v in lens)
        half = (shp[0], shp[1], shp[2] // 2 + 1)
        buf = ws.array("acc", shp, np.float64, zero=True)
        xs, ds = np.ascontiguousarray(xyz[sel]), np.ascontiguousarray(decays[sel])
        if binning == "quart":
            order = gk.stable_order(np.ascontiguousarray(node_idx[sel, 0]))
            xs, ds = xs[order], ds[order]
            gk.bin_quart(xs, ds, slabs(node_idx[sel[order], 0], 5), origin, inv_step, lo, buf)
        else:
            gk.bin_cic(xs, ds, origin, inv_step, lo, buf)
        if single:
            norm1, norm2 = gk.norms_1_2(buf)
            err = max(err, _fft_roundoff(norm2, spec_k[2], float(np.prod(lens)))
                      + U_SINGLE * norm1 * float(octant.max()))
            grid = ws.array("spec", shp, np.float32)
            gk.copy_cast(buf, grid)
            # the spectrum goes where the float64 grid was
            spec = rfftn_into(grid, ws.array("acc", half, np.complex64), _fft_workers())
        else:
            grid = buf
            spec = rfftn_into(grid, ws.array("spec", half, np.complex128), _fft_workers())
        del buf
        gk.scale_spectrum(spec, spec_k[1])
        # the result goes where the transformed grid was
        res = irfftn_overwrite(spec, lens, _fft_workers(), out=grid)
        del spec, grid
        o = a - g0
        out_c[o[0]:o[0] + t_here[0], o[1]:o[1] + t_here[1], o[2]:o[2] + t_here[2]] += \
            res[kmax[0]:kmax[0] + t_here[0], kmax[1]:kmax[1] + t_here[1],
                kmax[2]:kmax[2] + t_here[2]]
        del res
        count += 1
    return count, err


def _upsample_weights(m, n_out, kind):
    """Weights of fine voxel i from the coarse nodes J - 1 .. J + 2 (J = i // m; array index
    J + 1 holds node J): cubic Lagrange, or linear (nodes J, J + 1 only, weights >= 0)."""
    i = np.arange(n_out)
    j = i // m
    t = (i - j * m) / m
    if kind == "cubic":
        w = gk.cubic_lagrange_weights(t)
    else:
        w = np.ascontiguousarray(np.stack([np.zeros_like(t), 1 - t, t, np.zeros_like(t)], axis=1))
    return j.astype(np.int64), w


def block_occupancy(idx, origin, lo, hi, block, shape):
    """Boolean array of ``shape`` blocks: block b is True when one of the indices ``idx``
    (N x 3) with lo <= idx < hi lies in it, b = (idx - origin) // block."""
    occ = np.zeros(tuple(int(v) for v in shape), dtype=np.bool_)
    sel = gk.in_box(idx, np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64))
    b = (idx[sel] - origin) // block
    occ[b[:, 0], b[:, 1], b[:, 2]] = True
    return occ


def reach_map(idx, kmax, shape, block):
    """Blocks of ``block``^3 voxels that hold a voxel within Chebyshev distance kmax of a
    source's voxel (boolean, one entry per block)."""
    b = block
    shp = np.array(shape, dtype=np.int64)
    grow = kmax // b + 1  # |v - s| <= K  =>  block distance <= K // b + 1
    nb = -(-shp // b)
    occ = block_occupancy(idx, -grow * b, -kmax, shp + kmax, b, nb + 2 * grow)
    reach = maximum_filter(occ.view(np.uint8), size=tuple(int(v) for v in 2 * grow + 1),
                           mode="constant")
    return np.ascontiguousarray(reach[grow[0]:grow[0] + nb[0], grow[1]:grow[1] + nb[1],
                                      grow[2]:grow[2] + nb[2]].astype(np.bool_))


def blocks_all_occupied(node_idx, n_nodes, g0, block):
    """Whether every block of ``block``^3 nodes of a grid of ``n_nodes`` nodes (global index
    of node 0: ``g0``) holds at least one of the nodes ``node_idx`` (N x 3)."""
    shp = np.array(n_nodes, dtype=np.int64)
    return bool(block_occupancy(node_idx, g0, g0, g0 + shp, block, -(-shp // block)).all())


def upsample_lebesgue(m, kind):
    """Largest sum of |weights| of :func:`upsample_add` over the fine voxels: a value error
    e on the coarse nodes gives at most this times e on the fine grid."""
    lam = 1.0
    for mk in np.asarray(m).ravel():
        lam *= float(np.abs(_upsample_weights(int(mk), int(mk), kind)[1]).sum(axis=1).max())
    return lam


def upsample_add(coarse, m, out, kind):
    """out += the interpolation of node values ``coarse`` (step ``m`` voxels per axis,
    weights of ``kind``) at the voxel centres."""
    bw = [_upsample_weights(int(m[d]), out.shape[d], kind) for d in range(3)]
    gk.separable_add(coarse, [v[0] for v in bw], [v[1] for v in bw], out)


def auto_coarse_factor(shape, h, r_cut, near_voxels, max_fft_bytes, degree):
    """Coarse step factor minimising the FFT work (None: one level is cheapest)."""
    nk = len(moment_degrees(degree))

    def work(n_out, kmax, nfft, bpe):
        t, lens = fft_budget_tiles(n_out, kmax, bpe, max_fft_bytes)
        ntiles = np.prod(-(-np.asarray(n_out) // t))
        tot = float(np.prod(lens.astype(float))) * ntiles
        return nfft * tot * math.log2(max(tot / ntiles, 2.0))

    shape = np.asarray(shape, dtype=np.int64)
    best, best_cost = None, math.inf
    try:
        k1 = np.maximum(np.ceil(r_cut / h + 1.0).astype(np.int64), near_voxels + 1)
        best_cost = work(shape, k1, nk + 1, _MOMENT_BYTES_PER_ELEMENT)
    except MemoryError:
        pass
    hmax = float(h.max())
    for target in (2, 3, 4, 5, 6, 8, 10, 12, 16):
        m = np.maximum(np.rint(target * float(h.min()) / h).astype(np.int64), 1)
        big_h = float((m * h).max())
        if (SPLIT_R1 * big_h < (near_voxels + 3) * math.sqrt(3.0) * hmax
                or big_h > COARSE_STEP_MAX * r_cut or SPLIT_R2 * big_h > TAIL_R1 * r_cut
                or np.all(m == 1)):
            continue
        kf = np.maximum(np.ceil(SPLIT_R2 * big_h / h + 1.0).astype(np.int64), near_voxels + 1)
        nc = (shape - 1) // m + 4
        kc = np.ceil((r_cut + 0.87 * h.sum()) / (m * h)).astype(np.int64) + 1
        try:
            # two coarse FFT pairs (body and tail) and their upsampling (~12 flops per voxel)
            cost = (work(shape, kf, nk + 1, _MOMENT_BYTES_PER_ELEMENT)
                    + 1.2 * work(nc, kc, 2, _PLAIN_BYTES_PER_ELEMENT)
                    + 24.0 * float(np.prod(shape)))
        except MemoryError:
            continue
        if cost < 0.9 * best_cost:
            best, best_cost = tuple(int(v) for v in m), cost
    return best


#: Near box half-width [voxels] by default: with degree-2 moments the far field's worst case
#: (a sphere in a corner of its voxel) is 3.4 % at Chebyshev distance 3, 1.4 % at 4, 0.7 % at 5.
