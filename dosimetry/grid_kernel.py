"""The kernels of grid mode, built once per (nuclide, density, voxel size, levels) and cached:
the exact near table, the moment kernels of the far field, the coarse and tail levels, and the
radial function Q(r) behind the exact voxel integrals. The method is described in
:func:`dosimetry.grid.dose_on_grid`.

References
----------
.. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
.. [2] Greengard L, Rokhlin V. J Comput Phys 1987;73:325 (moment expansions of a source cell).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math

import numpy as np

from dosimetry import _grid_kernels as gk
from dosimetry.constants import J_PER_MEV, LIVER_DENSITY_G_CM3
from dosimetry.crossfire import dose_kernel, radial_table

__all__ = ["GridKernel", "grid_kernel", "q_table", "voxel_mean_dose_from_point", "gauss01",
           "moment_degrees", "full_range_voxels", "SPLIT_R1", "SPLIT_R2", "COARSE_STEP_MAX",
           "TAIL_R1", "TAIL_COARSEN", "SUBGRID_MAX_MM"]


#: Step of the Q(r) = int e(s)/s^2 ds table of grid mode [mm].
Q_TABLE_STEP_MM = 1e-3
_GAUSS_CACHE: dict = {}


def gauss01(n: int):
    """Gauss-Legendre nodes and weights on [0, 1] (cached)."""
    if n not in _GAUSS_CACHE:
        x, w = np.polynomial.legendre.leggauss(n)
        _GAUSS_CACHE[n] = (np.ascontiguousarray(0.5 * (x + 1.0)), np.ascontiguousarray(0.5 * w))
    return _GAUSS_CACHE[n]


@lru_cache(maxsize=16)
def q_table(nuclide: str = "Y-90", density_g_cm3: float = LIVER_DENSITY_G_CM3,
            photons: bool = True):
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

    k = dose_kernel(nuclide, density_g_cm3, photons)
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
    x, w = gauss01(6)
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


def voxel_mean_dose_from_point(point_mm, lo_mm, hi_mm, *, nuclide="Y-90",
                               density_g_cm3=LIVER_DENSITY_G_CM3, gauss_points=6, photons=True):
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
    photons : bool
        Kernel of :func:`dosimetry.crossfire.dose_kernel`: with the near share of the photons
        (their long-range share is not included here; see :mod:`dosimetry.photons`).

    Returns
    -------
    float
        Mean absorbed dose over the box per decay [Gy].
    """
    qtab, qslope, qpar = q_table(str(nuclide), float(density_g_cm3), bool(photons))
    gx, gw = gauss01(int(gauss_points))
    p = np.asarray(point_mm, dtype=float).reshape(3).copy()
    lo = np.asarray(lo_mm, dtype=float).reshape(3).copy()
    hi = np.asarray(hi_mm, dtype=float).reshape(3).copy()
    if np.any(hi <= lo):
        raise ValueError("hi_mm must exceed lo_mm on every axis")
    gap = np.linalg.norm(np.maximum(np.maximum(lo - p, p - hi), 0.0))
    if gap >= qpar[gk.QP_REND]:
        return 0.0
    return gk.box_integral(p, lo, hi, qtab, qslope, qpar, gx, gw, *gauss01(8)) / float(np.prod(hi - lo))


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
    x, w = gauss01(half_points)
    tx = np.concatenate([x - 1.0, x])
    tw = np.concatenate([w, w])
    gx, gw = gauss01(pmax + 2)
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
                coarse_factor: tuple | None = None, degree: int = 2,
                photons: bool = True) -> GridKernel:
    """Build (and cache) the kernels of grid mode; see :func:`dose_on_grid` for the method
    (``photons``: the finite-range kernel includes the photons' near share)."""
    h = np.array(spacing_mm, dtype=float)
    n = int(near_voxels)
    tab = radial_table(nuclide, density_g_cm3, photons=photons)
    qtab, qslope, qpar = q_table(nuclide, density_g_cm3, photons)
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
    g6 = gauss01(6)
    near = gk.near_table(nodes, n, h, qtab, qslope, qpar, *g6, *gauss01(8), tab.g,
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
        g4 = gauss01(4)
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
