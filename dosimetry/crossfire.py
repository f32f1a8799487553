"""Cross-fire absorbed dose from deposited microspheres with a beta dose point kernel.

Each sphere is a point source of ``A tau`` decays (complete decay, activity A at the start);
the dose at r is the sum over spheres of decays x D(r), D the project's dose point kernel
(:mod:`dosimetry.kernels`) scaled to the tissue density (D_rho(r) = rho^2 D_w(rho r)).

* Point mode (:func:`dose_at_points`): direct summation over the spheres within the kernel's
  range using a cell list, parallel over points; exact at any distance from a sphere (no voxel
  smearing). The point kernel is used uncapped down to 1 um from a sphere's centre (closer
  points lie inside the sphere itself).
* Grid mode (:func:`dosimetry.grid.dose_on_grid`): voxel-average dose on a regular grid.

Notes
-----
Homogeneous medium of water composition at ``density_g_cm3`` (soft tissue / liver 1.04-1.06);
the spheres' own material (glass 3.6 g/cm^3, resin 1.6) is not modelled: self-absorption in a
25 um glass sphere is a few per cent of the lowest-energy betas only. Photons (bremsstrahlung,
Ho-166's gamma and X lines) are included by default (:mod:`dosimetry.photons`).

References
----------
.. [1] Graves SA, Flynn RT, Hyer DE. Dose point kernels for 2,174 radionuclides. Med Phys
       2019;46:5284-5293.
.. [2] Walrand S et al. J Nucl Med 2014;55:135-140 (sphere-scale dosimetry of 90Y).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math

import numpy as np

from dosimetry import _crossfire_kernels as _ck
from dosimetry.constants import J_PER_MEV, LIVER_DENSITY_G_CM3
from dosimetry.decay import get_nuclide
from dosimetry.kernels import load_kernel
from dosimetry.photons import long_range_at_points, short_range_kernel

__all__ = ["dose_at_points", "sum_radial_kernel", "radial_table", "RadialTable",
           "decays_complete", "dose_rate_fraction_per_h", "as_points_mm", "sphere_decays",
           "TABLE_STEP_MM", "dose_kernel"]

#: Radial step of the point-kernel lookup table [mm] (1 um).
TABLE_STEP_MM = 1e-3


@dataclass(frozen=True)
class RadialTable:
    """Point kernel tabulated for fast lookup (see :mod:`dosimetry._crossfire_kernels`).

    Attributes
    ----------
    g : ndarray
        r^2 D(r) on r_k = k h [mm^2 Gy per decay], D the uncapped point kernel
        (dE/dr) / (4 pi r^2 rho).
    h_mm : float
        Table step [mm].
    d_near : float
        D(h) [Gy per decay], used for r < h.
    r_cut_mm : float
        Range of the kernel at this density [mm]: outer radius of its last non-empty shell.
    energy_per_decay_MeV : float
        Absorbed energy per decay of the kernel [MeV].
    """

    nuclide: str
    density_g_cm3: float
    g: np.ndarray
    h_mm: float
    d_near: float
    r_cut_mm: float
    energy_per_decay_MeV: float

    def dose_per_decay_Gy(self, r_mm):
        """The tabulated kernel at distances ``r_mm`` [Gy per decay] (as the kernels use it)."""
        r = np.asarray(r_mm, dtype=float)
        x = r / self.h_mm
        k = np.minimum(x.astype(np.int64), self.g.size - 2)
        f = x - k
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (self.g[k] * (1 - f) + self.g[k + 1] * f) / (r * r)
        val = np.where(k == 0, self.d_near, val)
        return np.where(r >= self.r_cut_mm, 0.0, val)


def dose_kernel(nuclide: str, density_g_cm3: float, photons: bool = True):
    """The finite-range kernel the dose engines sum exactly: the charged-particle kernel, with
    the near share of the photon kernel when ``photons`` (:mod:`dosimetry.photons`)."""
    if photons:
        return short_range_kernel(nuclide, density_g_cm3)
    return load_kernel(nuclide, density_g_cm3=density_g_cm3)


@lru_cache(maxsize=16)
def radial_table(nuclide: str = "Y-90", density_g_cm3: float = LIVER_DENSITY_G_CM3,
                 h_mm: float = TABLE_STEP_MM, photons: bool = True) -> RadialTable:
    """Point-kernel lookup table of :func:`dose_kernel` at a density (cached)."""
    k = dose_kernel(nuclide, density_g_cm3, photons)
    nz = np.flatnonzero(k.energy_MeV_per_decay > 0)
    r_cut = float(k.r_outer_mm[nz[-1]])
    n = int(math.ceil(r_cut / h_mm)) + 2
    r = np.arange(n) * h_mm
    # r^2 D = (dE/dr) / (4 pi rho): the uncapped point kernel, finite and smooth in r, so the
    # dose next to a sphere keeps its full 1/r^2 rise and no energy is lost near the source
    rho_kg_mm3 = density_g_cm3 * 1e-6
    g = k.energy_density_MeV_per_mm(r) * J_PER_MEV / (4.0 * math.pi * rho_kg_mm3)
    d = np.empty_like(g)
    d[1:] = g[1:] / (r[1:] * r[1:])
    d[0] = d[1]
    return RadialTable(nuclide=k.nuclide, density_g_cm3=float(density_g_cm3),
                       g=np.ascontiguousarray(g), h_mm=h_mm, d_near=float(d[1]),
                       r_cut_mm=r_cut, energy_per_decay_MeV=k.energy_per_decay_MeV)


def decays_complete(activity_Bq, nuclide: str = "Y-90"):
    """Decays of a source decaying completely: A tau, tau = T1/2 / ln 2 [s]."""
    tau_s = get_nuclide(nuclide).half_life_h * 3600.0 / math.log(2.0)
    return np.asarray(activity_Bq, dtype=np.float64) * tau_s


def dose_rate_fraction_per_h(time_h, nuclide: str = "Y-90"):
    """Dose rate over total dose at time t for a permanent implant: lambda exp(-lambda t) [1/h].

    Multiply a complete-decay dose [Gy] by it for the dose rate [Gy/h] at ``time_h``.
    """
    lam = math.log(2.0) / get_nuclide(nuclide).half_life_h
    return lam * np.exp(-lam * np.asarray(time_h, dtype=float))


def as_points_mm(a, name):
    """Validate an (N, 3) array of positions [mm] (finite), as contiguous float64."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3) [mm], got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide):
    """Validated sphere positions [mm] and their complete-decay decays (A tau) [1]."""
    xyz = as_points_mm(sphere_xyz_mm, "sphere_xyz_mm")
    act = np.broadcast_to(np.asarray(sphere_activity_Bq, dtype=np.float64), (xyz.shape[0],))
    if np.any(~np.isfinite(act)) or np.any(act < 0):
        raise ValueError("sphere_activity_Bq must be finite and >= 0 [Bq]")
    return xyz, np.ascontiguousarray(decays_complete(act, nuclide))


def dose_at_points(points_mm, sphere_xyz_mm, sphere_activity_Bq, *, nuclide="Y-90",
                   density_g_cm3=LIVER_DENSITY_G_CM3, photons=True, return_pairs=False):
    """Absorbed dose at points from spheres, for complete decay [Gy].

    Parameters
    ----------
    points_mm : (P, 3) array [mm]
        Where to compute the dose (cells, lobule centres, a line profile...).
    sphere_xyz_mm : (N, 3) array [mm]
        Sphere positions.
    sphere_activity_Bq : float or (N,) array [Bq]
        Activity of each sphere at the start of the decay.
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"`` (a shipped kernel).
    density_g_cm3 : float
        Tissue density [g/cm^3]; the water kernel is scaled to it.
    photons : bool
        Include the photons (bremsstrahlung, gamma and X lines): their near share exactly with
        the betas, their long-range share by FFT (:mod:`dosimetry.photons`); False: the
        charged particles only.
    return_pairs : bool
        Also return the number of sphere-point pairs examined (for benchmarks).

    Returns
    -------
    dose_Gy : (P,) ndarray [Gy]

    Examples
    --------
    One glass sphere (2,500 Bq, complete decay): the dose 1 mm away, and beyond the beta range
    only the bremsstrahlung's (a few uGy at 20 mm).

    >>> d = dose_at_points([[1.0, 0, 0], [20.0, 0, 0]], [[0.0, 0, 0]], 2500.0)
    >>> bool(d[0] > 1.0), bool(0 < d[1] < 1e-4)
    (True, True)
    >>> float(dose_at_points([[20.0, 0, 0]], [[0.0, 0, 0]], 2500.0, photons=False)[0])
    0.0
    """
    pts = as_points_mm(points_mm, "points_mm")
    xyz, decays = sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide)
    tab = radial_table(str(nuclide), float(density_g_cm3), photons=bool(photons))
    out, pairs = sum_radial_kernel(pts, xyz, decays, tab.g, tab.h_mm, tab.d_near, tab.r_cut_mm)
    if photons:
        out += long_range_at_points(pts, xyz, decays, nuclide=str(nuclide),
                                    density_g_cm3=float(density_g_cm3))
    return (out, pairs) if return_pairs else out


def sum_radial_kernel(points, xyz, decays, g, h_mm, d_near, r_cut_mm):
    """Sum ``decays x K(r)`` over the sources within ``r_cut_mm`` of each point (cell list).

    K is a tabulated radial kernel: g = r^2 K(r) on r_k = k h, K = d_near below h (see
    :mod:`dosimetry._crossfire_kernels`). Returns the sums (P,) and the pairs examined.
    """
    out = np.zeros(points.shape[0])
    if xyz.shape[0] == 0 or points.shape[0] == 0:
        return out, 0
    cell = r_cut_mm / 2.0
    lo = xyz.min(axis=0)
    dims = np.maximum(np.ceil((xyz.max(axis=0) - lo) / cell).astype(np.int64), 1)
    if np.prod(dims) > 4 * xyz.shape[0] + 64:  # sparse sources: coarser cells
        cell *= (np.prod(dims) / (4 * xyz.shape[0] + 64)) ** (1 / 3)
        dims = np.maximum(np.ceil((xyz.max(axis=0) - lo) / cell).astype(np.int64), 1)
    order, start = _ck.build_cells(xyz, lo, cell, dims)
    pairs = _ck.dose_at_points(points, np.ascontiguousarray(xyz[order]),
                               np.ascontiguousarray(decays[order]), start, lo, cell, dims,
                               g, 1.0 / h_mm, d_near, r_cut_mm, out)
    return out, int(pairs)
