"""Grid mode of the cross-fire dose: voxel-average dose on a regular grid from point sources.

See :func:`dose_on_grid` for the method (FFT convolution of binned decays with a
voxel-integrated kernel, exact near field, optional coarse level for the long range). Point
mode and the kernel tables are in :mod:`dosimetry.crossfire`.

References
----------
.. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
.. [2] Hockney RW, Eastwood JW. Computer Simulation Using Particles (1988): charge assignment,
       P3M near/far splitting.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
import math
import time

import numba
import numpy as np
from scipy import fft as sfft

from dosimetry import _grid_kernels as gk
from dosimetry.constants import J_PER_MEV, SOFT_TISSUE_DENSITY_G_CM3
from dosimetry.crossfire import radial_table, sphere_decays
from dosimetry.kernels import load_kernel

__all__ = ["dose_on_grid", "grid_kernel", "GridKernel", "q_table", "voxel_mean_dose_from_point",
           "moment_degrees"]


def _fft_workers() -> int:
    """FFT threads: as many as numba's (a sweep worker sets both to its share of the cores)."""
    return max(1, numba.get_num_threads())


#: Step of the Q(r) = int e(s)/s^2 ds table of grid mode [mm].
Q_TABLE_STEP_MM = 1e-3
_GAUSS_CACHE: dict = {}


def _gauss01(n: int):
    if n not in _GAUSS_CACHE:
        x, w = np.polynomial.legendre.leggauss(n)
        _GAUSS_CACHE[n] = (np.ascontiguousarray(0.5 * (x + 1.0)), np.ascontiguousarray(0.5 * w))
    return _GAUSS_CACHE[n]


@lru_cache(maxsize=16)
def q_table(nuclide: str = "Y-90", density_g_cm3: float = SOFT_TISSUE_DENSITY_G_CM3):
    """Radial functions of grid mode: Q(r) = int_0^r e(s) / s^2 ds, e = E(r) / rho [Gy mm^3].

    Returns ``(qtab, qslope, qpar)`` for :func:`dosimetry._grid_kernels.q_value`: Q and its
    slope e / r^2 on a 1 um grid from the first shell edge r1 to the kernel's range, and the
    scalars (first-piece cubic e = a1 r + a2 r^2 + a3 r^3, which is the kernel's monotone cubic
    E(r) itself on [0, r1], so Q = a1 ln r + a2 r + a3 r^2 / 2 there).

    Notes
    -----
    E(r) is :meth:`dosimetry.kernels.DoseKernel.energy_within_MeV` (piecewise cubic Hermite,
    exact shell energies), so grid mode deposits exactly the kernel's absorbed energy; the
    point kernel's cap below r1 / sqrt(3) (point mode) does not enter.
    """

    k = load_kernel(nuclide, density_g_cm3=density_g_cm3)
    conv = J_PER_MEV / (density_g_cm3 * 1e-6)  # MeV -> Gy mm^3
    nz = np.flatnonzero(k.energy_MeV_per_decay > 0)
    r_end = float(k.r_outer_mm[nz[-1]])
    r1 = float(k.r_outer_mm[0])
    s0 = float(k.energy_density_MeV_per_mm(0.0)) * conv
    e1 = float(k.energy_within_MeV(r1)) * conv
    s1 = float(k.energy_density_MeV_per_mm(r1 * (1 - 1e-12))) * conv
    a2, a3 = np.linalg.solve([[r1**2, r1**3], [2 * r1, 3 * r1**2]], [e1 - s0 * r1, s1 - s0])
    n = int(math.ceil((r_end - r1) / Q_TABLE_STEP_MM))
    dq = (r_end - r1) / n
    nodes = r1 + dq * np.arange(n + 1)
    x, w = _gauss01(6)
    s = nodes[:-1, None] + dq * x[None, :]
    inc = dq * ((k.energy_within_MeV(s) * conv / s**2) @ w)
    q1 = s0 * math.log(r1) + a2 * r1 + 0.5 * a3 * r1**2
    qtab = q1 + np.concatenate(([0.0], np.cumsum(inc)))
    qslope = k.energy_within_MeV(nodes) * conv / nodes**2
    qpar = np.zeros(gk.QP_N)
    qpar[gk.QP_R1], qpar[gk.QP_DQ], qpar[gk.QP_INV_DQ] = r1, dq, 1.0 / dq
    qpar[gk.QP_A1], qpar[gk.QP_A2], qpar[gk.QP_A3] = s0, a2, a3
    qpar[gk.QP_REND], qpar[gk.QP_QEND] = r_end, qtab[-1]
    qpar[gk.QP_ETOT] = k.energy_per_decay_MeV * conv
    for a in (qtab, qslope, qpar):
        a.setflags(write=False)
    return qtab, qslope, qpar


def voxel_mean_dose_from_point(point_mm, lo_mm, hi_mm, *, nuclide="Y-90", density_g_cm3=SOFT_TISSUE_DENSITY_G_CM3,
                               gauss_points=6):
    """Exact mean dose per decay over a box from a point source anywhere [Gy per decay].

    (1 / V) int_box D(|y - p|) dy by the divergence theorem (see
    :mod:`dosimetry._grid_kernels`): a sum over the six faces of 1-D integrals of the tabulated
    Q(r) (``gauss_points`` per piece) for faces near the foot of p, and of a direct 8 x 8 Gauss
    rule for faces far from it (relative accuracy ~1e-6 at any distance; 0 beyond the
    kernel's range).

    Parameters
    ----------
    point_mm : (3,) array [mm]
        Source position.
    lo_mm, hi_mm : (3,) arrays [mm]
        Corners of the box (hi > lo on every axis).
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_cm3 : float
        Tissue density [g/cm^3].
    gauss_points : int
        Gauss points per piece of the 1-D integrals.

    Returns
    -------
    float
        Mean absorbed dose over the box per decay [Gy].
    """
    qtab, qslope, qpar = q_table(str(nuclide), float(density_g_cm3))
    gx, gw = _gauss01(int(gauss_points))
    p = np.asarray(point_mm, dtype=float).reshape(3).copy()
    lo = np.asarray(lo_mm, dtype=float).reshape(3).copy()
    hi = np.asarray(hi_mm, dtype=float).reshape(3).copy()
    if np.any(hi <= lo):
        raise ValueError("hi_mm must exceed lo_mm on every axis")
    gap = np.linalg.norm(np.maximum(np.maximum(lo - p, p - hi), 0.0))
    if gap >= qpar[gk.QP_REND]:
        return 0.0
    return gk.box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw, *_gauss01(8)) / float(np.prod(hi - lo))


def _mirror(octant):
    a = np.concatenate([octant[:0:-1], octant], axis=0)
    a = np.concatenate([a[:, :0:-1], a], axis=1)
    return np.ascontiguousarray(np.concatenate([a[:, :, :0:-1], a], axis=2))


def moment_degrees(degree: int) -> np.ndarray:
    """Degrees (dx, dy, dz) of the moment basis: all with dx + dy + dz <= degree, (K, 3)."""
    degs = [(a, b, c) for a in range(degree + 1) for b in range(degree + 1)
            for c in range(degree + 1) if a + b + c <= degree]
    degs.sort(key=lambda d: (sum(d), d[::-1]))
    return np.array(degs, dtype=np.int64).reshape(-1, 3)


def _moment_t_rule(pmax: int, half_points: int):
    """Gauss rule on [-1, 0] and [0, 1] and the weights W_d(t) = int phi_d(delta) d delta over
    {|delta| <= 1/2, |t + delta| <= 1/2} at its nodes (see
    :func:`dosimetry._grid_kernels.moment_kernels`)."""
    x, w = _gauss01(half_points)
    tx = np.concatenate([x - 1.0, x])
    tw = np.concatenate([w, w])
    gx, gw = _gauss01(pmax + 2)
    wt = np.empty((tx.size, pmax + 1))
    for i, t in enumerate(tx):
        a, b = max(-0.5, -0.5 - t), min(0.5, 0.5 - t)
        d = a + (b - a) * gx
        leg = np.polynomial.legendre.legvander(2.0 * d, pmax) * np.sqrt(2.0 * np.arange(pmax + 1) + 1)
        wt[i] = (b - a) * (gw @ leg)
    return tx, tw, wt


@dataclass(frozen=True)
class GridKernel:
    """Precomputed kernels of grid mode for one (nuclide, density, spacing, levels) (cached).

    Attributes
    ----------
    spacing_mm : (3,) ndarray
        Voxel size h [mm].
    near_voxels : int
        Half-width n of the exact near box [voxels].
    near_nodes : (m+1,) ndarray
        Graded sub-voxel positions (fraction of h, 0..1/2) of the near table.
    near : (m+1, m+1, m+1, 2n+1, 2n+1, 2n+1) ndarray
        Mean of D over voxel o from a point at near_nodes[(a, b, c)] * h [Gy per decay].
    near_log : ndarray or None
        log of ``near`` (-1e308 where 0) for large voxels (interpolated in log), else None.
    degrees : (K, 3) ndarray of int
        Legendre degrees per axis of the moment basis phi_k.
    moments : (K, M0+1, M1+1, M2+1) ndarray or None
        Octants of the moment kernels c_k(o) [Gy per decay] (0 inside the near box); None when
        the near box holds the kernel's whole range.
    coarse_factor : (3,) ndarray of int or None
        Coarse step H = coarse_factor * h of the long-range level (None: one level).
    coarse : ndarray or None
        Octant of the coarse kernel: mean of D w (1 - tau) over a fine voxel at J * H.
    tail : ndarray or None
        Octant of the tail kernel: mean of D tau over a fine voxel at J * H.
    split_mm : (4,) ndarray
        (R1, R2, Rt1, Rt2): the long-range share w rises from 0 at R1 to 1 at R2, the tail
        share tau from Rt1 to Rt2 [mm] (R1 = R2 = inf for one level).
    r_cut_mm : float
        Range of the kernel [mm].
    """

    nuclide: str
    density_g_cm3: float
    spacing_mm: np.ndarray
    near_voxels: int
    near_nodes: np.ndarray
    near: np.ndarray
    near_log: np.ndarray | None
    degrees: np.ndarray
    moments: np.ndarray | None
    coarse_factor: np.ndarray | None
    coarse: np.ndarray | None
    tail: np.ndarray | None
    split_mm: np.ndarray
    r_cut_mm: float
    energy_per_decay_MeV: float

    @property
    def moment_halfwidth(self):
        return None if self.moments is None else np.array(self.moments.shape[1:]) - 1

    @property
    def coarse_halfwidth(self):
        return None if self.coarse is None else np.array(self.coarse.shape) - 1


#: Long-range share w of the two-level scheme, in units of the largest coarse step H: the fine
#: level carries D (1 - w), the coarse one D w, w rising from 0 at SPLIT_R1 H to 1 at SPLIT_R2 H.
SPLIT_R1 = 6.0
SPLIT_R2 = 14.0
#: Largest coarse step, as a fraction of the kernel range: beyond ~5 mm the Y-90 kernel falls
#: with a scale length of ~0.7 mm (at 1.04 g/cm^3), which cubic interpolation on a step H
#: follows to ~0.02 (H / 0.7 mm)^4.
COARSE_STEP_MAX = 1.0 / 40.0
#: Tail share tau of the kernel (fractions of its range): rises from 0 at TAIL_R1 to 1 at
#: TAIL_R2; the tail is carried by a level with non-negative weights only.
TAIL_R1 = 0.84
TAIL_R2 = 0.94
#: Step of the tail level in coarse steps (the tail is smooth and small: a cheap grid).
TAIL_COARSEN = 2
#: Gauss points per half of [-1, 1] for the moment kernels, up to Chebyshev distance
#: MOMENT_T_FAR [voxels] and beyond (where D is smooth on the voxel scale).
MOMENT_T_POINTS = 6
MOMENT_T_POINTS_FAR = 4
MOMENT_T_FAR = 8
#: Voxel size from which the near table is interpolated in log T [mm]: the kernel falls by
#: e over ~0.25-0.7 mm at 5-10 mm, so T varies by orders of magnitude across a large voxel.
LOG_TABLE_MIN_MM = 0.35
#: Graded cells per half voxel of the near-field table (nodes x_a = (1 - (1 - a/m)^2) / 2), and
#: for large voxels whose table holds at most 7^3 offsets.
NEAR_TABLE_CELLS = 12
NEAR_TABLE_CELLS_LARGE = 20
#: Largest voxel size computed directly when the near table cannot hold the kernel's range
#: [mm]; larger voxels are computed as the means of m^3 sub-voxels of at most this size
#: (degree-2 moments over a voxel wider than ~0.3 mm miss the kernel's steep tail).
SUBGRID_MAX_MM = 0.25


def full_range_voxels(r_cut_mm: float, spacing_mm) -> int:
    """Smallest n such that every voxel reached by a source lies within n voxels (Chebyshev) of
    the source's voxel: (n + 1 - 1) h_min >= r_cut."""
    return int(math.ceil(r_cut_mm / float(np.min(spacing_mm))))


@lru_cache(maxsize=8)
def grid_kernel(nuclide: str, density_g_cm3: float, spacing_mm: tuple, near_voxels: int = 3,
                coarse_factor: tuple | None = None, degree: int = 2) -> GridKernel:
    """Build (and cache) the kernels of grid mode; see :func:`dose_on_grid` for the method."""
    h = np.array(spacing_mm, dtype=float)
    n = int(near_voxels)
    tab = radial_table(nuclide, density_g_cm3)
    qtab, qslope, qpar = q_table(nuclide, density_g_cm3)
    r_cut = tab.r_cut_mm
    hmax = float(h.max())
    n_full = full_range_voxels(r_cut, h)
    n = min(n, n_full)
    if coarse_factor is None or n >= n_full:
        split = np.array([1e30, 2e30, TAIL_R1 * r_cut, TAIL_R2 * r_cut])
        cf = None
        reach = r_cut
    else:
        cf = np.array(coarse_factor, dtype=np.int64)
        big_h = float((cf * h).max())
        split = np.array([SPLIT_R1 * big_h, SPLIT_R2 * big_h, TAIL_R1 * r_cut, TAIL_R2 * r_cut])
        if split[0] < (n + 3) * math.sqrt(3.0) * hmax:
            raise ValueError("coarse_factor too small for near_voxels: the long-range share "
                             "must vanish over the exact near box")
        if split[1] > split[2]:
            raise ValueError("coarse_factor too large: the long-range share must be complete "
                             "where the tail begins")
        reach = min(split[1], r_cut)
    mcell = NEAR_TABLE_CELLS if n > 3 or hmax < LOG_TABLE_MIN_MM else NEAR_TABLE_CELLS_LARGE
    nodes = 0.5 * (1.0 - ((mcell - np.arange(mcell + 1)) / mcell) ** 2)
    g6 = _gauss01(6)
    near = gk.near_table(nodes, n, h, qtab, qslope, qpar, *g6, *_gauss01(8), tab.g,
                         1.0 / tab.h_mm, tab.d_near, r_cut, *g6)
    near_log = None
    if hmax >= LOG_TABLE_MIN_MM:
        with np.errstate(divide="ignore"):
            near_log = np.where(near > 0, np.log(np.maximum(near, 1e-300)), -1e308)
    degs = moment_degrees(int(degree))
    moments = None
    if n < n_full:
        kmax = np.maximum(np.ceil(reach / h + 1.0).astype(np.int64), n + 1)
        pm = int(degs.max())
        moments = gk.moment_kernels(kmax, h, n, degs, *_moment_t_rule(pm, MOMENT_T_POINTS),
                                    *_moment_t_rule(pm, MOMENT_T_POINTS_FAR), MOMENT_T_FAR,
                                    split, tab.g, 1.0 / tab.h_mm, tab.d_near, r_cut)
    coarse = tail = None
    if cf is not None:
        step = cf * h
        kc = np.ceil((r_cut + 0.87 * h.sum()) / step).astype(np.int64) + 1
        g4 = _gauss01(4)
        coarse = gk.coarse_kernel_octant(kc, step, h, split, gk.PART_COARSE, split[0], tab.g,
                                         1.0 / tab.h_mm, tab.d_near, r_cut, *g4)
        step_t = TAIL_COARSEN * step
        kt = np.ceil((r_cut + 0.87 * h.sum()) / step_t).astype(np.int64) + 1
        tail = gk.coarse_kernel_octant(kt, step_t, h, split, gk.PART_TAIL, split[2], tab.g,
                                       1.0 / tab.h_mm, tab.d_near, r_cut, *g4)
    for a in (h, nodes, near, degs, split) + tuple(x for x in (moments, coarse, tail, cf, near_log)
                                                   if x is not None):
        a.setflags(write=False)
    return GridKernel(nuclide=nuclide, density_g_cm3=density_g_cm3, spacing_mm=h, near_voxels=n,
                      near_nodes=nodes, near=near, near_log=near_log, degrees=degs, moments=moments,
                      coarse_factor=cf, coarse=coarse, tail=tail, split_mm=split,
                      r_cut_mm=r_cut, energy_per_decay_MeV=tab.energy_per_decay_MeV)


def _fft_budget_tiles(n_out, kmax, bytes_per_element, max_fft_bytes):
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


def _slabs(ix, width):
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


def _cached_spectrum(gkern, k, parity, lens):
    key = (gkern.nuclide, gkern.density_g_cm3, tuple(gkern.spacing_mm.tolist()),
           gkern.near_voxels, None if gkern.coarse_factor is None else
           tuple(gkern.coarse_factor.tolist()), gkern.degrees.tobytes(), k, tuple(int(v) for v in lens))
    if key in _SPECTRUM_CACHE:
        _SPECTRUM_CACHE.move_to_end(key)
        return _SPECTRUM_CACHE[key]
    spec = _octant_spectrum(gkern.moments[k], parity, lens)
    spec.setflags(write=False)
    _SPECTRUM_CACHE[key] = spec
    while sum(v.nbytes for v in _SPECTRUM_CACHE.values()) > SPECTRUM_CACHE_BYTES and len(_SPECTRUM_CACHE) > 1:
        _SPECTRUM_CACHE.popitem(last=False)
    return spec


def _tile_loop(n_out, kmax, bytes_per_element, max_fft_bytes, g0):
    """Yield (start a (global), size t, fft sizes) of the output tiles."""
    tsize, lens = _fft_budget_tiles(n_out, kmax, bytes_per_element, max_fft_bytes)
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


def _moment_level(out, xyz, decays, idx, origin, h, gkern, max_fft_bytes, times):
    """out += sum_k M_k (*) c_k: the far field of the fine level (see :func:`dose_on_grid`)."""
    kmax = gkern.moment_halfwidth
    n_out = np.array(out.shape, dtype=np.int64)
    inv_h = 1.0 / h
    count = 0
    degs = gkern.degrees
    spectra = {}
    for a, t_here, lens in _tile_loop(n_out, kmax, _MOMENT_BYTES_PER_ELEMENT, max_fft_bytes,
                                      np.zeros(3, np.int64)):
        lo = a - kmax
        sel = np.flatnonzero(np.all((idx >= lo) & (idx < a + t_here + kmax), axis=1))
        if sel.size == 0:
            continue
        xs, ds = np.ascontiguousarray(xyz[sel]), np.ascontiguousarray(decays[sel])
        shp = tuple(int(v) for v in lens)
        acc = np.zeros((shp[0], shp[1], shp[2] // 2 + 1), dtype=np.complex128)
        for k, (dx, dy, dz) in enumerate(degs):
            t0 = time.perf_counter()
            key = (k, shp)
            if key not in spectra:
                spectra[key] = _cached_spectrum(gkern, k, (dx % 2, dy % 2, dz % 2), lens)
            times["spectra"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            buf = np.zeros(shp)
            gk.bin_moment(xs, ds, origin, inv_h, lo, int(dx), int(dy), int(dz), buf)
            times["binning"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            spec = sfft.rfftn(buf, workers=_fft_workers(), overwrite_x=True)
            del buf
            times["fft"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            nodd = int(dx % 2 + dy % 2 + dz % 2)
            ph = (1.0, 0.0) if nodd == 0 else (0.0, -1.0) if nodd == 1 else \
                (-1.0, 0.0) if nodd == 2 else (0.0, 1.0)
            gk.accumulate_spectrum(acc, spec, spectra[key], bool(dx % 2), bool(dy % 2), *ph)
            del spec
            times["multiply"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        res = sfft.irfftn(acc, s=shp, workers=_fft_workers(), overwrite_x=True)
        del acc
        o = a
        out[o[0]:o[0] + t_here[0], o[1]:o[1] + t_here[1], o[2]:o[2] + t_here[2]] += \
            res[kmax[0]:kmax[0] + t_here[0], kmax[1]:kmax[1] + t_here[1],
                kmax[2]:kmax[2] + t_here[2]]
        del res
        times["fft"] += time.perf_counter() - t0
        count += 1
    return count


def _coarse_level(out_c, g0, xyz, decays, node_idx, origin, step, octant, binning,
                  max_fft_bytes):
    """out_c[i - g0] += sum over sources of decays * sum_c w_c * kernel(i - c), by FFT tiles.

    Nodes with global index i sit at origin + i * step; each source spreads over the nodes
    around it with 5-point Lagrange weights (``binning="quart"``, exact for moments 0-4) or
    trilinear ones (``"cic"``, all >= 0); ``octant`` is the kernel for offsets 0..K (mirror-
    symmetric). Returns the number of tiles.
    """
    kmax = np.array(octant.shape, dtype=np.int64) - 1
    n_out = np.array(out_c.shape, dtype=np.int64)
    inv_step = 1.0 / np.asarray(step, dtype=float)
    count = 0
    spec_k = None
    for a, t_here, lens in _tile_loop(n_out, kmax, _PLAIN_BYTES_PER_ELEMENT, max_fft_bytes, g0):
        lo = a - kmax
        sel = np.flatnonzero(np.all((node_idx >= lo - 2) & (node_idx < a + t_here + kmax + 2),
                                    axis=1))
        if sel.size == 0:
            continue
        if spec_k is None or spec_k[0] != tuple(lens):
            spec_k = (tuple(lens), _octant_spectrum(octant, (0, 0, 0), lens))
        buf = np.zeros(tuple(int(v) for v in lens))
        xs, ds = np.ascontiguousarray(xyz[sel]), np.ascontiguousarray(decays[sel])
        if binning == "quart":
            order = np.argsort(node_idx[sel, 0], kind="stable")
            xs, ds = xs[order], ds[order]
            gk.bin_quart(xs, ds, _slabs(node_idx[sel[order], 0], 5), origin, inv_step, lo, buf)
        else:
            gk.bin_cic(xs, ds, origin, inv_step, lo, buf)
        spec = sfft.rfftn(buf, workers=_fft_workers(), overwrite_x=True)
        del buf
        acc = np.zeros_like(spec)
        gk.accumulate_spectrum(acc, spec, spec_k[1], False, False, 1.0, 0.0)
        del spec
        res = sfft.irfftn(acc, s=tuple(int(v) for v in lens), workers=_fft_workers(),
                          overwrite_x=True)
        del acc
        o = a - g0
        out_c[o[0]:o[0] + t_here[0], o[1]:o[1] + t_here[1], o[2]:o[2] + t_here[2]] += \
            res[kmax[0]:kmax[0] + t_here[0], kmax[1]:kmax[1] + t_here[1],
                kmax[2]:kmax[2] + t_here[2]]
        del res
        count += 1
    return count


def _upsample_weights(m, n_out, kind):
    """Weights of fine voxel i from the coarse nodes J - 1 .. J + 2 (J = i // m; array index
    J + 1 holds node J): cubic Lagrange, or linear (nodes J, J + 1 only, weights >= 0)."""
    i = np.arange(n_out)
    j = i // m
    t = (i - j * m) / m
    if kind == "cubic":
        w = np.stack([-t * (t - 1) * (t - 2) / 6, (t + 1) * (t - 1) * (t - 2) / 2,
                      -(t + 1) * t * (t - 2) / 2, (t + 1) * t * (t - 1) / 6], axis=1)
    else:
        w = np.stack([np.zeros_like(t), 1 - t, t, np.zeros_like(t)], axis=1)
    return j.astype(np.int64), np.ascontiguousarray(w)


def _upsample_add(coarse, m, out, kind):
    b0, w0 = _upsample_weights(int(m[0]), out.shape[0], kind)
    b1, w1 = _upsample_weights(int(m[1]), out.shape[1], kind)
    b2, w2 = _upsample_weights(int(m[2]), out.shape[2], kind)
    c1 = gk.upsample0(coarse, b0, w0, out.shape[0])
    c2 = gk.upsample1(c1, b1, w1, out.shape[1])
    del c1
    gk.upsample2_add(c2, b2, w2, out)


def _auto_coarse_factor(shape, h, r_cut, near_voxels, max_fft_bytes, degree):
    """Coarse step factor minimising the FFT work (None: one level is cheapest)."""
    nk = len(moment_degrees(degree))

    def work(n_out, kmax, nfft, bpe):
        t, lens = _fft_budget_tiles(n_out, kmax, bpe, max_fft_bytes)
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
DEFAULT_NEAR_VOXELS = 3
#: Largest near box that is used instead of the FFT levels when it holds the kernel's whole
#: range (large voxels): (2n + 1)^3 table look-ups per sphere.
MAX_FULL_NEAR_VOXELS = 6
#: Relative size of the FFT round-off below which negative values are set to 0.
ROUNDOFF_CLIP = 1e-12
SPACING_RANGE_MM = (0.01, 10.0)


def _check_choice(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be 'auto' or an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def dose_on_grid(sphere_xyz_mm, sphere_activity_Bq, *, origin_mm, spacing_mm, shape,
                 nuclide="Y-90", density_g_cm3=SOFT_TISSUE_DENSITY_G_CM3, max_fft_bytes=2e9,
                 near_voxels="auto", coarse_factor="auto", fft_precision="double",
                 return_info=False, degree="auto"):
    """Voxel-mean absorbed dose on a regular grid from point sources, for complete decay [Gy].

    Parameters
    ----------
    sphere_xyz_mm : (N, 3) array [mm]
        Sphere positions; spheres outside the grid contribute within the kernel's range.
    sphere_activity_Bq : float or (N,) array [Bq]
        Activity of each sphere at the start of the decay (>= 0).
    origin_mm : (3,) array [mm]
        Position of the CENTRE of voxel (0, 0, 0); voxel (i, j, k) is the box centred at
        ``origin_mm + (i, j, k) * spacing_mm`` with sides ``spacing_mm``.
    spacing_mm : float or (3,) array [mm]
        Voxel size, 0.01-10 mm per axis (anisotropic allowed; verified 0.025-5 mm).
    shape : 3 ints
        Number of voxels per axis (>= 1).
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_cm3 : float
        Tissue density [g/cm^3].
    max_fft_bytes : float
        Memory allowed for the FFT arrays of one tile [bytes]; larger grids are tiled.
    near_voxels : "auto" or int
        Half-width n >= 2 of the box of voxels around each sphere's voxel whose dose is taken
        from the exact near table ("auto": 3, or the whole kernel range when that is at most
        6 voxels, i.e. voxels >= ~1.9 mm for Y-90).
    coarse_factor : "auto", None or 3 ints
        Step of the long-range level in voxels per axis (None: one level; "auto": whichever
        needs the least FFT work).
    fft_precision : {"double", "single"}
        Accepted for compatibility; every FFT is in float64 (float32 round-off, ~1e-7 of the
        largest value, would exceed the tail doses this function resolves and make them
        negative).
    return_info : bool
        Also return a dict with the levels, kernel half-widths, tile counts and a timing
        breakdown [s].
    degree : "auto" or int
        Total degree (1-4) of the moment basis of the far field ("auto": 2).

    Returns
    -------
    dose_Gy : ndarray of shape ``shape`` [Gy]
        Mean absorbed dose in each voxel (>= 0).
    info : dict
        Only with ``return_info``.

    Notes
    -----
    The dose in voxel v is sum_s A_s tau T(delta_s, v - v_s): T(delta, o) is the exact mean of
    the point kernel D over the voxel at offset o from the sphere's voxel v_s, for a sphere at
    position delta (in voxel units, [-1/2, 1/2]^3) in its voxel. It is split by offset and
    distance into four levels, each exact where it is used or smooth enough for its
    representation:

    1. Near box (|o_k| <= n, exact): T is tabulated on graded sub-voxel nodes (finer towards
       the faces, where T has a d ln d singularity; 13^3 nodes per octant of delta,
       trilinear) and computed by the divergence theorem: int_V D dV = sum over faces of
       (d_f / 4 pi) int_face e(r) / r^3 dA, e(r) = E(r) / rho the absorbed energy within r
       (face integrals as 1-D integrals of Q(r) = int e / r^2 dr, :mod:`dosimetry._grid_kernels`).
       Each sphere adds its table values to the (2n + 1)^3 voxels around it; no FFT value is
       subtracted, so nothing cancels.
    2. Far field by moments (|o_k| > n somewhere, distance < R2): T(delta, o) is expanded in
       the Legendre polynomials phi_k(delta) of total degree <= p (p = 2: K = 10 functions),
       T ~ sum_k phi_k(delta) c_k(o), c_k(o) = int T phi_k d delta. The polynomial only has
       to follow T over one voxel of source positions, not over the +-2 voxels that a
       5-point charge assignment spans, so it converges like (1 / (2s))^(p+1) at Chebyshev
       distance s (p = 2, worst case over delta: 1.4 % at s = 4, 0.7 % at s = 5, 0.1-0.3 %
       beyond; rms 0.25 % at s = 4). The moment grids M_k(v) = sum over spheres in v of
       decays x phi_k(delta) are convolved with c_k by FFT and summed in Fourier space (one
       inverse FFT); c_k is even or odd per axis with the parity of phi_k, so its spectrum
       is a real DCT-I / DST-I of its octant times (-i)^(odd axes). c_k = 0 inside the near
       box. c_k is computed as int_{[-1,1]^3} D((o + t) h) prod W_d(t_k) dt with the
       piecewise polynomial weights W_d of the change of variables t = u - delta.
    3. Long range on a coarse grid (two levels, when cheaper): D = D (1 - w) + D w with w a
       quintic step from R1 = 6 H to R2 = 14 H (H the coarse step, R1 beyond the near box).
       The moment level carries D (1 - w); D w is smooth on the scale of H and is convolved on
       the coarse grid (5-point Lagrange binning, fine-voxel mean of D w as kernel) and
       interpolated to the voxel centres with cubic Lagrange weights.
    4. Tail (the last ~16 % of the range: D tau, tau a quintic step from 0.84 to 0.94 of the
       range): carried by weights that are all >= 0 (trilinear binning and interpolation on
       the coarse grid, or the moment k = 0 alone with one level), so that the signed
       weights of levels 2-3 never act on a kernel that ends: every contribution is
       (1 + e) T with |e| < 1, hence >= 0. The tail holds D < 5e-14 Gy per decay at
       1.04 g/cm^3 (< 1e-7 of a 100 um sphere voxel's dose); its representation is accurate
       to ~10-30 %.

    Large voxels: when the kernel's range spans at most ``MAX_FULL_NEAR_VOXELS`` voxels the
    near table covers it and levels 2-4 are not needed.

    All FFTs are double precision. Values in [-1e-12 S, 0), S the own-voxel dose of the
    strongest sphere (or the grid's maximum if larger), are set to 0 (``info["clipped"]``
    counts them, ``info["negative_min_rel"]`` gives the most negative value over S): FFT
    round-off (~1e-16 S) in voxels that no sphere reaches, and, at the kernel's last ~1 mm
    (D ~ 1e-16 Gy per decay), the signed weights of the coarse level acting on the kernel's
    end (measured down to ~1e-19 S). No other clipping: a larger negative value would be
    returned as is.

    Energy: the near table and the kernels use E(r) of the shell table, so sum(dose x voxel
    mass) equals sum(decays) x absorbed energy per decay for spheres whose range lies inside
    the grid. Point mode caps D within r1 / sqrt(3) (29 um at 1.04 g/cm^3); grid mode is the
    mean of the uncapped kernel.

    References
    ----------
    .. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
    .. [2] Hockney RW, Eastwood JW. Computer Simulation Using Particles (1988): charge
           assignment, P3M near/far splitting.
    .. [3] Greengard L, Rokhlin V. A fast algorithm for particle simulations. J Comput Phys
           1987;73:325 (moment expansions of a source cell).
    .. [4] Franquiz JM et al. Beta voxel S values for internal emitter dosimetry. Med Phys
           2003;30:1030 (voxel S by integrating the point kernel).
    """
    t_start = time.perf_counter()
    try:
        shape = tuple(int(v) for v in np.broadcast_to(np.asarray(shape), (3,)))
    except (TypeError, ValueError):
        raise ValueError(f"shape {shape!r} must be 3 positive integers") from None
    if any(v < 1 for v in shape):
        raise ValueError(f"shape {shape} must be 3 positive integers")
    try:
        h = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f"spacing_mm {spacing_mm!r} must be 1 or 3 numbers in "
                         f"[{SPACING_RANGE_MM[0]}, {SPACING_RANGE_MM[1]}] mm") from None
    if not np.all(np.isfinite(h)) or np.any(h < SPACING_RANGE_MM[0]) or np.any(h > SPACING_RANGE_MM[1]):
        raise ValueError(f"spacing_mm {spacing_mm!r} must lie in [{SPACING_RANGE_MM[0]}, "
                         f"{SPACING_RANGE_MM[1]}] mm on every axis")
    try:
        origin = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f"origin_mm {origin_mm!r} must be 3 finite numbers [mm]") from None
    if not np.all(np.isfinite(origin)):
        raise ValueError("origin_mm must be 3 finite numbers [mm]")
    if not (isinstance(density_g_cm3, (int, float, np.floating, np.integer))
            and 0.1 <= float(density_g_cm3) <= 25.0):
        raise ValueError(f"density_g_cm3 {density_g_cm3!r} must lie in [0.1, 25] g/cm^3")
    if not (isinstance(max_fft_bytes, (int, float, np.floating, np.integer))
            and float(max_fft_bytes) > 0):
        raise ValueError(f"max_fft_bytes {max_fft_bytes!r} must be a positive number of bytes")
    if fft_precision not in ("single", "double"):
        raise ValueError("fft_precision must be 'single' or 'double'")
    deg = 2 if isinstance(degree, str) and degree == "auto" else _check_choice("degree", degree, 1, 4)
    xyz, decays = sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide)
    tab = radial_table(str(nuclide), float(density_g_cm3))
    n_full = full_range_voxels(tab.r_cut_mm, h)
    if isinstance(near_voxels, str) and near_voxels == "auto":
        n = n_full if n_full <= MAX_FULL_NEAR_VOXELS else DEFAULT_NEAR_VOXELS
    else:
        n = min(_check_choice("near_voxels", near_voxels, 2, 64), n_full)
    if n < n_full and float(h.max()) > SUBGRID_MAX_MM * 1.2:
        return _dose_by_subgrid(sphere_xyz_mm, sphere_activity_Bq, origin, h, shape, nuclide,
                                density_g_cm3, max_fft_bytes, near_voxels, coarse_factor, degree,
                                return_info, t_start)
    if isinstance(coarse_factor, str):
        if coarse_factor != "auto":
            raise ValueError("coarse_factor must be 'auto', None or 3 positive integers")
        cfac = None if n >= n_full else _auto_coarse_factor(shape, h, tab.r_cut_mm, n,
                                                             float(max_fft_bytes), deg)
    elif coarse_factor is None or n >= n_full:
        cfac = None
    else:
        try:
            cfac = tuple(int(v) for v in np.broadcast_to(np.asarray(coarse_factor), (3,)))
        except (TypeError, ValueError):
            raise ValueError("coarse_factor must be 'auto', None or 3 positive integers") from None
        if any(v < 1 for v in cfac):
            raise ValueError("coarse_factor must be 'auto', None or 3 positive integers")
    t0 = time.perf_counter()
    gkern = grid_kernel(str(nuclide), float(density_g_cm3), tuple(float(v) for v in h), n, cfac,
                        deg)
    times = {"kernels": time.perf_counter() - t0, "spectra": 0.0, "binning": 0.0, "fft": 0.0,
             "multiply": 0.0, "coarse": 0.0, "tail": 0.0, "near": 0.0}
    out = np.zeros(shape)
    info = {"near_voxels": gkern.near_voxels, "degree": deg, "moments": len(gkern.degrees),
            "coarse_factor": cfac,
            "fine_halfwidth": (None if gkern.moments is None else gkern.moment_halfwidth.tolist()),
            "split_mm": gkern.split_mm.tolist(), "fine_tiles": 0, "coarse_tiles": 0,
            "tail_tiles": 0, "clipped": 0, "times_s": times}
    keep = decays > 0
    xyz, decays = xyz[keep], decays[keep]
    if xyz.shape[0] == 0:
        times["total"] = time.perf_counter() - t_start
        return (out, info) if return_info else out
    inv_h = 1.0 / h
    idx = np.floor((xyz - origin) * inv_h + 0.5).astype(np.int64)
    # sources sorted by voxel (x, then y): slabs for the parallel near kernel, and locality
    order = np.lexsort((idx[:, 1], idx[:, 0]))
    xyz, decays, idx = xyz[order], decays[order], idx[order]
    shp = np.array(shape, dtype=np.int64)
    # 2. far field by moments
    if gkern.moments is not None:
        info["fine_tiles"] = _moment_level(out, xyz, decays, idx, origin, h, gkern,
                                           float(max_fft_bytes), times)
    # 3-4. long range and tail on the coarse grid
    if gkern.coarse is not None:
        t0 = time.perf_counter()
        m = gkern.coarse_factor
        nc = tuple(int(v) for v in (shp - 1) // m + 4)
        cidx = np.floor((xyz - origin) * (1.0 / (m * h)) + 0.5).astype(np.int64)
        g0 = -np.ones(3, np.int64)
        coarse = np.zeros(nc)
        info["coarse_tiles"] = _coarse_level(coarse, g0, xyz, decays, cidx, origin, m * h,
                                             gkern.coarse, "quart", float(max_fft_bytes))
        info["coarse_halfwidth"] = gkern.coarse_halfwidth.tolist()
        _upsample_add(coarse, m, out, "cubic")
        del coarse
        times["coarse"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        mt = TAIL_COARSEN * m
        tail = np.zeros(tuple(int(v) for v in (shp - 1) // mt + 4))
        tidx = np.floor((xyz - origin) * (1.0 / (mt * h))).astype(np.int64)
        info["tail_tiles"] = _coarse_level(tail, g0, xyz, decays, tidx, origin, mt * h,
                                           gkern.tail, "cic", float(max_fft_bytes))
        _upsample_add(tail, mt, out, "linear")
        del tail
        times["tail"] = time.perf_counter() - t0
    # 1. near box
    t0 = time.perf_counter()
    nb = gkern.near_voxels
    inside = np.flatnonzero(np.all((idx >= -nb) & (idx < shp + nb), axis=1))
    if inside.size:
        gk.near_add(np.ascontiguousarray(xyz[inside]), np.ascontiguousarray(decays[inside]),
                    _slabs(idx[inside, 0], 2 * nb + 1), origin, inv_h, shp, nb,
                    gkern.near_nodes, gkern.near,
                    gkern.near if gkern.near_log is None else gkern.near_log,
                    gkern.near_log is not None, out)
    times["near"] = time.perf_counter() - t0
    # round-off (see Notes): relative to the dose scale of the sources (the own-voxel dose of
    # the strongest sphere), not to the grid's maximum, which a grid far from every sphere lacks
    neg = out < 0.0
    if neg.any():
        scale = max(float(out.max(initial=0.0)),
                    float(decays.max()) * float(gkern.near[(0, 0, 0) + (nb, nb, nb)]))
        info["negative_min_rel"] = float(out.min()) / scale
        tiny = neg & (out >= -ROUNDOFF_CLIP * scale)
        info["clipped"] = int(np.count_nonzero(tiny))
        out[tiny] = 0.0
    times["total"] = time.perf_counter() - t_start
    return (out, info) if return_info else out


#: Largest number of sub-voxels computed at once by :func:`_dose_by_subgrid`.
SUBGRID_CHUNK_VOXELS = 32 * 1024 ** 2


def _dose_by_subgrid(xyz, act, origin, h, shape, nuclide, density, max_fft_bytes, near_voxels,
                     coarse_factor, degree, return_info, t_start):
    """Dose on voxels larger than SUBGRID_MAX_MM: the mean over m^3 sub-voxels of size h / m
    (exact: a voxel mean is the mean of its equal sub-voxels' means), in slabs along x."""
    m = np.ceil(h / SUBGRID_MAX_MM - 1e-9).astype(np.int64)
    hs = h / m
    out = np.zeros(shape)
    plane = int(np.prod(m[1:])) * shape[1] * shape[2] * int(m[0])
    slab = max(1, min(shape[0], SUBGRID_CHUNK_VOXELS // max(plane, 1)))
    info = None
    for i0 in range(0, shape[0], slab):
        nx = min(slab, shape[0] - i0)
        sub_shape = (nx * int(m[0]), shape[1] * int(m[1]), shape[2] * int(m[2]))
        # centre of sub-voxel 0 of voxel (i0, 0, 0)
        sub_origin = origin + np.array([i0, 0, 0]) * h - 0.5 * h + 0.5 * hs
        d, inf = dose_on_grid(xyz, act, origin_mm=sub_origin, spacing_mm=hs, shape=sub_shape,
                              nuclide=nuclide, density_g_cm3=density, max_fft_bytes=max_fft_bytes,
                              near_voxels=near_voxels, coarse_factor=coarse_factor,
                              return_info=True, degree=degree)
        out[i0:i0 + nx] = d.reshape(nx, m[0], shape[1], m[1], shape[2], m[2]).mean(axis=(1, 3, 5))
        if info is None:
            info = dict(inf, subgrid=m.tolist(), subgrid_slabs=0)
            info["times_s"] = dict(inf["times_s"])
        else:
            info["clipped"] += inf["clipped"]
            for k, v in inf["times_s"].items():
                info["times_s"][k] += v
        info["subgrid_slabs"] += 1
    info["times_s"]["total"] = time.perf_counter() - t_start
    return (out, info) if return_info else out
