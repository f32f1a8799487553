# Frozen copy of dosimetry/grid.py at commit d7b62af (5-point Lagrange binning), for benchmarks/dose.py only.
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

from dataclasses import dataclass
from functools import lru_cache
import math

import numba
import numpy as np
from scipy import fft as sfft

from legacy import grid_kernels_v1 as gk  # benchmarks/ is on sys.path (benchmarks/dose.py)
from dosimetry.constants import J_PER_MEV, SOFT_TISSUE_DENSITY_G_CM3
from dosimetry.crossfire import radial_table, sphere_decays
from dosimetry.kernels import load_kernel

__all__ = ["dose_on_grid", "grid_kernel", "GridKernel", "q_table", "voxel_mean_dose_from_point"]


def _fft_workers() -> int:
    """FFT threads: as many as numba's (a sweep worker sets both to its share of the cores)."""
    return max(1, numba.get_num_threads())


#: Step of the Q(r) = int e(s)/s^2 ds table of grid mode [mm].
Q_TABLE_STEP_MM = 1e-3
#: Graded cells per half voxel of the near-field table (nodes x_a = (1 - (1 - a/m)^2) / 2).
NEAR_TABLE_CELLS = 12
#: Kernel split of the two-level scheme, in units of the largest coarse step H: the fine FFT
#: carries D (1 - w), the coarse one D w, w rising from 0 at SPLIT_R1 H to 1 at SPLIT_R2 H.
SPLIT_R1 = 6.0
SPLIT_R2 = 14.0
#: Largest coarse step, as a fraction of the kernel range: beyond ~5 mm the Y-90 kernel falls
#: with a scale length of ~0.7 mm (at 1.04 g/cm^3), which cubic interpolation on a step H
#: follows to ~0.02 (H / 0.7 mm)^4.
COARSE_STEP_MAX = 1.0 / 40.0
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
    Q(r) (relative accuracy ~1e-6 with 6 Gauss points).
    """
    qtab, qslope, qpar = q_table(str(nuclide), float(density_g_cm3))
    gx, gw = _gauss01(int(gauss_points))
    p = np.asarray(point_mm, dtype=float).reshape(3).copy()
    lo = np.asarray(lo_mm, dtype=float).reshape(3).copy()
    hi = np.asarray(hi_mm, dtype=float).reshape(3).copy()
    if np.any(hi <= lo):
        raise ValueError("hi_mm must exceed lo_mm on every axis")
    return gk.box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw) / float(np.prod(hi - lo))


def _mirror(octant):
    a = np.concatenate([octant[:0:-1], octant], axis=0)
    a = np.concatenate([a[:, :0:-1], a], axis=1)
    return np.ascontiguousarray(np.concatenate([a[:, :, :0:-1], a], axis=2))


@dataclass(frozen=True)
class GridKernel:
    """Precomputed kernels of grid mode for one (nuclide, density, spacing, levels) (cached).

    Attributes
    ----------
    spacing_mm : (3,) ndarray
        Voxel size h [mm].
    near_voxels : int
        Half-width n of the exact near-field box.
    fine : (K0+1, K1+1, K2+1) ndarray
        Octant of the fine FFT kernel [Gy per decay]: mean of D (1 - w) over the voxel at
        offset (i, j, k) from a point at the centre of voxel 0 (w = 0 for one level).
    near_nodes : (m+1,) ndarray
        Graded sub-voxel positions (fraction of h, 0..1/2) of the near table.
    near : (m+1, m+1, m+1, 2n+1, 2n+1, 2n+1) ndarray
        Mean of D over voxel o from a point at near_nodes[(a, b, c)] * h [Gy per decay].
    coarse_factor : (3,) ndarray of int or None
        Coarse step H = coarse_factor * h of the long-range level (None: one level).
    coarse : ndarray or None
        Octant of the coarse kernel: mean of D w over a fine voxel at J * H [Gy per decay].
    split_mm : tuple
        (R1, R2) of the long-range share w [mm] (None for one level).
    """

    nuclide: str
    density_g_cm3: float
    spacing_mm: np.ndarray
    near_voxels: int
    fine: np.ndarray
    near_nodes: np.ndarray
    near: np.ndarray
    coarse_factor: np.ndarray | None
    coarse: np.ndarray | None
    split_mm: tuple | None
    energy_per_decay_MeV: float

    @property
    def fine_halfwidth(self):
        return np.array(self.fine.shape) - 1

    @property
    def coarse_halfwidth(self):
        return None if self.coarse is None else np.array(self.coarse.shape) - 1


@lru_cache(maxsize=8)
def grid_kernel(nuclide: str, density_g_cm3: float, spacing_mm: tuple, near_voxels: int = 2,
                coarse_factor: tuple | None = None) -> GridKernel:
    """Build (and cache) the kernels of grid mode; see :func:`dose_on_grid` for the method."""
    h = np.array(spacing_mm, dtype=float)
    n = int(near_voxels)
    tab = radial_table(nuclide, density_g_cm3)
    qtab, qslope, qpar = q_table(nuclide, density_g_cm3)
    r_cut = tab.r_cut_mm
    gx6, gw6 = _gauss01(6)
    hmax = float(h.max())
    if coarse_factor is None:
        r1w, r2w, reach = 1e30, 2e30, r_cut
        split = None
    else:
        m = np.array(coarse_factor, dtype=np.int64)
        big_h = float((m * h).max())
        r1w, r2w = SPLIT_R1 * big_h, SPLIT_R2 * big_h
        if r1w < (n + 3) * math.sqrt(3.0) * hmax:
            raise ValueError("coarse_factor too small for near_voxels: the long-range share "
                             "must vanish over the exact near box")
        reach = min(r2w, r_cut)
        split = (r1w, r2w)
    kmax = np.maximum(np.ceil(reach / h + 0.5).astype(np.int64), n + 3)
    fine = gk.fine_kernel_octant(kmax, h, 2.6 * hmax, r1w, r2w, tab.g, 1.0 / tab.h_mm,
                                 tab.d_near, r_cut, qtab, qslope, qpar, gx6, gw6,
                                 *_gauss01(4), *_gauss01(3))
    mcell = NEAR_TABLE_CELLS
    nodes = 0.5 * (1.0 - ((mcell - np.arange(mcell + 1)) / mcell) ** 2)
    near = gk.near_table(nodes, n, h, 1.25 * hmax, tab.g, 1.0 / tab.h_mm, tab.d_near, r_cut,
                         qtab, qslope, qpar, gx6, gw6, gx6, gw6)
    coarse = None
    cf = None
    if coarse_factor is not None:
        cf = np.array(coarse_factor, dtype=np.int64)
        step = cf * h
        kc = np.ceil((r_cut + 0.87 * h.sum()) / step).astype(np.int64) + 1
        coarse = gk.coarse_kernel_octant(kc, step, h, r1w, r2w, tab.g, 1.0 / tab.h_mm,
                                         tab.d_near, r_cut, *_gauss01(3))
    for a in (h, fine, nodes, near) + ((coarse, cf) if coarse is not None else ()):
        a.setflags(write=False)
    return GridKernel(nuclide=nuclide, density_g_cm3=density_g_cm3, spacing_mm=h, near_voxels=n,
                      fine=fine, near_nodes=nodes, near=near, coarse_factor=cf, coarse=coarse,
                      split_mm=split, energy_per_decay_MeV=tab.energy_per_decay_MeV)


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
        # even sizes: the mirror-symmetric kernel's spectrum is then a DCT-I of its octant
        lens = np.array([2 * sfft.next_fast_len(int(v + 2 * kmax[k] + 1) // 2, real=True) for v in t],
                        dtype=float)
        cand.append((nt.astype(float), t, lens))
    (n0, t0, l0), (n1, t1, l1), (n2, t2, l2) = cand
    size = l0[:, None, None] * l1[None, :, None] * l2[None, None, :]
    work = size * (n0[:, None, None] * n1[None, :, None] * n2[None, None, :])
    work = np.where(size * bytes_per_element <= max_fft_bytes, work, np.inf)
    best = np.unravel_index(int(np.argmin(work)), work.shape)
    if not np.isfinite(work[best]):
        need = np.prod((2 * kmax + 1).astype(float)) * bytes_per_element
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


def _symmetric_spectrum(octant, lens, dtype):
    """rfftn of the kernel k(m) = octant[|m|] on a periodic grid of even sizes ``lens``, on the
    frequencies 0..L/2 of every axis (:func:`dosimetry._grid_kernels.multiply_even_spectrum`
    mirrors the first two axes).

    The kernel is even in every axis, so its spectrum is real, even, and equal to the DCT-I of
    the octant zero-padded to L / 2 + 1: about 1/8 of the work and memory of an FFT.
    """
    pad = np.zeros(tuple(int(v) // 2 + 1 for v in lens), dtype=dtype)
    k = octant.shape
    pad[:k[0], :k[1], :k[2]] = octant
    return sfft.dctn(pad, type=1, workers=_fft_workers(), overwrite_x=True)


def _fft_convolve_sources(out, g0, xyz, decays, node_idx, origin, step, octant, max_fft_bytes,
                          dtype):
    """out[i - g0] += sum over sources of decays * sum_c w_c * kernel(i - c), by FFT tiles.

    Nodes with global index i sit at origin + i * step; each source spreads over the 5^3 nodes
    around it (:func:`dosimetry._grid_kernels.bin_quart`); ``octant`` is the kernel for
    offsets 0..K (mirror-symmetric). Each output tile of T nodes convolves the sources' nodes in
    [tile - K, tile + T + K) with an FFT of size >= T + 2K, whose central T values are free of
    wrap-around. Returns the number of tiles.
    """
    kmax = np.array(octant.shape, dtype=np.int64) - 1
    n_out = np.array(out.shape, dtype=np.int64)
    tsize, lens = _fft_budget_tiles(n_out, kmax, _fft_bytes_per_element(dtype), max_fft_bytes)
    kf = _symmetric_spectrum(octant, lens, dtype)
    inv_step = 1.0 / np.asarray(step, dtype=float)
    ntiles = [int(-(-n_out[k] // tsize[k])) for k in range(3)]
    count = 0
    for tx in range(ntiles[0]):
        for ty in range(ntiles[1]):
            for tz in range(ntiles[2]):
                a = np.array([tx, ty, tz]) * tsize + g0          # global start of the tile
                t_here = np.minimum(tsize, n_out - (a - g0))
                lo = a - kmax
                sel = np.flatnonzero(np.all((node_idx >= lo - 2)
                                            & (node_idx < a + t_here + kmax + 2), axis=1))
                if sel.size == 0:
                    continue
                buf = np.zeros(tuple(int(v) for v in lens), dtype=dtype)
                gk.bin_quart(np.ascontiguousarray(xyz[sel]), np.ascontiguousarray(decays[sel]),
                             _slabs(node_idx[sel, 0], 5), origin, inv_step, lo, buf)
                spec = sfft.rfftn(buf, workers=_fft_workers(), overwrite_x=True)
                del buf
                gk.multiply_even_spectrum(spec, kf)
                res = sfft.irfftn(spec, s=tuple(int(v) for v in lens), workers=_fft_workers(),
                                  overwrite_x=True)
                del spec
                o = a - g0
                out[o[0]:o[0] + t_here[0], o[1]:o[1] + t_here[1], o[2]:o[2] + t_here[2]] += \
                    res[kmax[0]:kmax[0] + t_here[0], kmax[1]:kmax[1] + t_here[1],
                        kmax[2]:kmax[2] + t_here[2]]
                del res
                count += 1
    return count


def _fft_bytes_per_element(dtype):
    """Peak memory of one tile per real FFT element: input, spectrum and output coexist in
    irfftn (measured ~2.95 x the input with scipy's pocketfft), plus the kernel's spectrum on
    1/8 of the elements."""
    return 3.25 * np.dtype(dtype).itemsize


def _auto_coarse_factor(shape, h, r_cut, near_voxels, max_fft_bytes, dtype):
    """Coarse step factor minimising the FFT work (None: one level is cheapest)."""
    def work(n_out, kmax):
        t, lens = _fft_budget_tiles(n_out, kmax, _fft_bytes_per_element(dtype), max_fft_bytes)
        ntiles = np.prod(-(-np.asarray(n_out) // t))
        tot = float(np.prod(lens.astype(float))) * ntiles
        return tot * math.log2(max(tot / ntiles, 2.0))

    shape = np.asarray(shape, dtype=np.int64)
    best, best_cost = None, math.inf
    try:
        k1 = np.maximum(np.ceil(r_cut / h + 0.5).astype(np.int64), near_voxels + 3)
        best_cost = work(shape, k1)
    except MemoryError:
        pass
    hmax = float(h.max())
    for target in (2, 3, 4, 5, 6, 8, 10, 12, 16):
        m = np.maximum(np.rint(target * float(h.min()) / h).astype(np.int64), 1)
        big_h = float((m * h).max())
        if (SPLIT_R1 * big_h < (near_voxels + 3) * math.sqrt(3.0) * hmax
                or big_h > COARSE_STEP_MAX * r_cut or np.all(m == 1)):
            continue
        kf = np.maximum(np.ceil(SPLIT_R2 * big_h / h + 0.5).astype(np.int64), near_voxels + 3)
        nc = (shape - 1) // m + 4
        kc = np.ceil((r_cut + 0.87 * h.sum()) / (m * h)).astype(np.int64) + 1
        try:
            # the interpolation back to the fine grid costs about 12 flops per voxel
            cost = work(shape, kf) + work(nc, kc) + 12.0 * float(np.prod(shape))
        except MemoryError:
            continue
        if cost < 0.9 * best_cost:
            best, best_cost = tuple(int(v) for v in m), cost
    return best


def dose_on_grid(sphere_xyz_mm, sphere_activity_Bq, *, origin_mm, spacing_mm, shape,
                 nuclide="Y-90", density_g_cm3=SOFT_TISSUE_DENSITY_G_CM3, max_fft_bytes=2e9, near_voxels=2,
                 coarse_factor="auto", fft_precision="single", return_info=False):
    """Voxel-mean absorbed dose on a regular grid from point sources, for complete decay [Gy].

    Parameters
    ----------
    sphere_xyz_mm : (N, 3) array [mm]
        Sphere positions; spheres outside the grid contribute within the kernel's range.
    sphere_activity_Bq : float or (N,) array [Bq]
        Activity of each sphere at the start of the decay.
    origin_mm : (3,) array [mm]
        Position of the CENTRE of voxel (0, 0, 0); voxel (i, j, k) is the box centred at
        ``origin_mm + (i, j, k) * spacing_mm`` with sides ``spacing_mm``.
    spacing_mm : float or (3,) array [mm]
        Voxel size (anisotropic allowed; 0.025-0.5 mm is the intended range).
    shape : 3 ints
        Number of voxels per axis.
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_cm3 : float
        Tissue density [g/cm^3].
    max_fft_bytes : float
        Memory allowed for the FFT arrays of one tile [bytes]; larger grids are tiled.
    near_voxels : int
        Half-width n of the box of voxels around each sphere's voxel where the exact voxel means
        from a point at the sphere's position are used (see Notes for the accuracy beyond it).
    coarse_factor : "auto", None or 3 ints
        Step of the long-range level in voxels per axis (None: one level; "auto": whichever
        needs the least FFT work).
    fft_precision : {"single", "double"}
        Floating point type of the FFTs (results are accumulated in float64).
    return_info : bool
        Also return a dict with the levels, kernel half-widths and tile counts.

    Returns
    -------
    dose_Gy : ndarray of shape ``shape`` [Gy]
        Mean absorbed dose in each voxel.

    Notes
    -----
    The dose is sum_s A_s tau D-bar(voxel, x_s) with D-bar the voxel mean of the point kernel
    from a point at the sphere's position x_s; it is split into three parts.

    1. Far field by FFT. Each sphere's decays are spread over the 5^3 voxel centres around it
       with 5-point Lagrange weights per axis (they reproduce the moments 0-4 of a point, so
       the far field is accurate to 5th order in h / r; nearest-grid-point binning would be
       first order and trilinear (CIC) binning second order, errors that decay only as
       (h / r)^2: with CIC and h = 100 um, 6 % at 4 voxels, 2.6 % at 6). The binned decays
       are convolved with the kernel "mean of D over the target voxel from a point at the
       centre of the source voxel" (scipy.fft, zero padded, tiled when the FFT arrays would
       exceed ``max_fft_bytes``: a tile of T voxels takes the sources within T + 2K and an FFT
       of size >= T + 2K, whose central T values are free of wrap-around). Kernel values for
       voxels within 2.6 h of the source are exact (face formula below), the others use a
       tensor Gauss rule (4 or 3 points per axis, ~1e-4).
    2. Near field, exact: in the (2n+1)^3 voxels around each sphere's voxel the far-field
       response F(delta, o) = sum_c w_c(delta) kernel(o - c) is replaced by the exact voxel
       mean from a point at the sphere's offset delta, T(delta, o). T is tabulated on graded
       sub-voxel nodes (finer towards the faces, where T has a d ln d singularity; 13^3 nodes
       per octant, trilinear: ~0.3 % rms, < 0.7 % worst in the sphere's own voxel) and
       computed with the divergence theorem: int_V D dV = sum over faces of
       (d_f / 4 pi) int_face e(r) / r^3 dA, e(r) = E(r) / rho the absorbed energy within r,
       each face integral reducing to 1-D integrals of Q(r) = int e / r^2 dr
       (:mod:`dosimetry._grid_kernels`). For the voxel containing the point this equals the
       ray formula (1 / (rho V)) <E(t_exit)> over directions.
    3. Long range on a coarse grid (two levels, when cheaper): D = D (1 - w) + D w with w a
       quintic step from R1 = 6 H to R2 = 14 H (H the coarse step). The fine FFT carries
       D (1 - w) (half-width R2 / h instead of the kernel range / h); D w is smooth on the
       scale of H, so it is convolved on the coarse grid (Lagrange binning, fine-voxel mean
       of D w as kernel) and interpolated to the voxel centres with cubic Lagrange weights.

    Energy: the near table and the kernels use E(r) of the shell table, so sum(dose x voxel
    mass) equals sum(decays) x absorbed energy per decay for spheres whose range lies inside
    the grid (measured: 1e-5). Point mode caps D within r1 / sqrt(3) (29 um at 1.04 g/cm^3),
    which removes 0.44 % of the energy, all of it within 29 um of the sphere: point-mode
    samples of a voxel holding a sphere are low by up to ~30 % of that sphere's own-voxel dose
    (100 um voxels); grid mode is not.

    Accuracy against exact voxel means, single sphere, h = 100 um, by Chebyshev distance s
    (voxels) from the sphere's voxel, worst case / rms over the sphere's position (n = 2):
    s <= n (table) 0.3 % / 0.1 %; s = 3: 6-11 % / 0.9 %; s = 4: 0.8-1.3 % / 0.15 %; s = 5:
    0.45 % / 0.07 %; s >= 6: ~0.1 %. ``near_voxels=3`` keeps every voxel within 1.3 %. For
    dense distributions the far errors average out: 2,000 random spheres in 4 mm, 0.15 mm
    voxels, 0.1 % worst. With two levels the kernel beyond R2 is represented on the coarse
    step, i.e. smoothed over its shell-to-shell Monte Carlo noise (0.5-1 % per shell beyond
    6 mm): up to ~1-2 % local differences from point mode at r > 6 mm, where D is < 1e-3 of
    its value at 1 mm. Single-precision FFTs (default) add ~1e-3 relative round-off in the
    far field of an isolated sphere ("double" for exactness tests).

    References
    ----------
    .. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
    .. [2] Hockney RW, Eastwood JW. Computer Simulation Using Particles (1988): charge
           assignment, P3M near/far splitting.
    .. [3] Franquiz JM et al. Beta voxel S values for internal emitter dosimetry. Med Phys
           2003;30:1030 (voxel S by integrating the point kernel).
    """
    shape = tuple(int(v) for v in np.broadcast_to(np.asarray(shape), (3,)))
    if any(v < 1 for v in shape):
        raise ValueError(f"shape {shape} must have 3 positive sizes")
    h = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"spacing_mm {spacing_mm!r} must be positive [mm]")
    origin = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(origin)):
        raise ValueError("origin_mm must be finite [mm]")
    n = int(near_voxels)
    if n != near_voxels or n < 0:
        raise ValueError(f"near_voxels {near_voxels!r} must be a non-negative integer")
    if fft_precision not in ("single", "double"):
        raise ValueError("fft_precision must be 'single' or 'double'")
    dtype = np.float32 if fft_precision == "single" else np.float64
    xyz, decays = sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide)
    tab = radial_table(str(nuclide), float(density_g_cm3))
    if isinstance(coarse_factor, str):
        if coarse_factor != "auto":
            raise ValueError("coarse_factor must be 'auto', None or 3 positive integers")
        cfac = _auto_coarse_factor(shape, h, tab.r_cut_mm, n, max_fft_bytes, dtype)
    elif coarse_factor is None:
        cfac = None
    else:
        cfac = tuple(int(v) for v in np.broadcast_to(np.asarray(coarse_factor), (3,)))
        if any(v < 1 for v in cfac):
            raise ValueError("coarse_factor must be positive integers")
    gk_ = grid_kernel(str(nuclide), float(density_g_cm3), tuple(float(v) for v in h), n, cfac)
    out = np.zeros(shape)
    info = {"coarse_factor": cfac, "fine_halfwidth": gk_.fine_halfwidth.tolist(),
            "fine_tiles": 0, "coarse_tiles": 0}
    keep = decays > 0
    xyz, decays = xyz[keep], decays[keep]
    if xyz.shape[0] == 0:
        return (out, info) if return_info else out
    inv_h = 1.0 / h
    idx = np.floor((xyz - origin) * inv_h + 0.5).astype(np.int64)
    # sources sorted by voxel (x, then y): slabs for the parallel scatter kernels, and locality
    order = np.lexsort((idx[:, 1], idx[:, 0]))
    xyz, decays, idx = xyz[order], decays[order], idx[order]
    # 1. far field, fine level
    info["fine_tiles"] = _fft_convolve_sources(out, np.zeros(3, np.int64), xyz, decays, idx,
                                               origin, h, gk_.fine, max_fft_bytes, dtype)
    # 3. long range, coarse level
    if gk_.coarse is not None:
        m = gk_.coarse_factor
        nc = (np.array(shape) - 1) // m + 4
        cidx = np.floor((xyz - origin) * (1.0 / (m * h)) + 0.5).astype(np.int64)
        corder = np.argsort(cidx[:, 0], kind="stable")  # x-sorted for the slabs of bin_quart
        coarse = np.zeros(tuple(int(v) for v in nc))
        info["coarse_tiles"] = _fft_convolve_sources(coarse, -np.ones(3, np.int64), xyz[corder],
                                                     decays[corder], cidx[corder], origin, m * h,
                                                     gk_.coarse, max_fft_bytes, dtype)
        info["coarse_halfwidth"] = gk_.coarse_halfwidth.tolist()
        c1 = gk.upsample0(coarse, int(m[0]), shape[0])
        del coarse
        c2 = gk.upsample1(c1, int(m[1]), shape[1])
        del c1
        gk.upsample2_add(c2, int(m[2]), out)
        del c2
    # 2. near field
    inside = np.flatnonzero(np.all((idx >= -n) & (idx < np.array(shape) + n), axis=1))
    if inside.size:
        gk.near_correction(np.ascontiguousarray(xyz[inside]), np.ascontiguousarray(decays[inside]),
                           _slabs(idx[inside, 0], 2 * n + 1), origin, inv_h,
                           np.array(shape, dtype=np.int64), n, gk_.near_nodes, gk_.near,
                           gk_.fine, out)
    return (out, info) if return_info else out
