"""Brute-force reference for grid mode: the exact voxel-mean dose by cubature, sphere by sphere.

Used by the verification tests and the benchmark; O(spheres x voxels), for small cases only.
Each (sphere, voxel) pair is the mean of the point kernel over the voxel
(:func:`dosimetry._grid_kernels.box_mean`: the divergence-theorem face formula near the sphere,
a 6^3 Gauss rule of the point kernel for small voxels farther than 1.5 voxel sizes; relative
accuracy ~1e-6). The photons' long-range share (:mod:`dosimetry.photons`) is added pair by
pair with a 6^3 Gauss rule over the voxel (2^3 where the voxel is more than R2 + 2 voxel
diagonals from the sphere and the kernel varies on the scale of the distance), not by FFT.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from dosimetry import _grid_kernels as gk
from dosimetry.constants import LIVER_DENSITY_G_CM3
from dosimetry.crossfire import radial_table, sphere_decays
from dosimetry.grid_kernel import gauss01, q_table
from dosimetry.photons import _long_table, split_radii_mm

__all__ = ["exact_voxel_dose", "relative_errors", "nearest_sphere_mm", "TAIL_START"]


@njit(cache=True, parallel=True)
def _exact(vox, origin, h, xyz, decays, qtab, qslope, qpar, gx, gw, g8x, g8w, g, inv_h, d_near,
           r_cut, g6x, g6w):
    out = np.zeros(vox.shape[0])
    for v in prange(vox.shape[0]):
        lo = np.empty(3)
        hi = np.empty(3)
        p = np.empty(3)
        hb = np.empty(3)
        for a in range(3):
            lo[a] = origin[a] + (vox[v, a] - 0.5) * h[a]
            hi[a] = lo[a] + h[a]
        acc = 0.0
        for s in range(xyz.shape[0]):
            gap2 = 0.0
            for a in range(3):
                p[a] = xyz[s, a]
                ga = max(max(lo[a] - p[a], p[a] - hi[a]), 0.0)
                gap2 += ga * ga
            if gap2 >= r_cut * r_cut:
                continue
            acc += decays[s] * gk.box_mean(p, lo, hi, qtab, qslope, qpar, gx, gw, g8x, g8w, g,
                                           inv_h, d_near, r_cut, g6x, g6w, hb)
        out[v] = acc
    return out


@njit(cache=True, inline="always")
def _long_value(r, g, inv_step, r1, r_end):
    if r <= r1 or r >= r_end:
        return 0.0
    x = r * inv_step
    k = int(x)
    f = x - k
    return (g[k] * (1.0 - f) + g[k + 1] * f) / (r * r)


@njit(cache=True, parallel=True)
def _long_exact(vox, origin, h, xyz, decays, g, inv_step, r1, r_end, r_far, g6x, g6w, g2x,
                g2w):
    out = np.zeros(vox.shape[0])
    half = 0.5 * np.sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2])
    for v in prange(vox.shape[0]):
        acc = 0.0
        for s in range(xyz.shape[0]):
            dx = origin[0] + vox[v, 0] * h[0] - xyz[s, 0]
            dy = origin[1] + vox[v, 1] * h[1] - xyz[s, 1]
            dz = origin[2] + vox[v, 2] * h[2] - xyz[s, 2]
            dist = np.sqrt(dx * dx + dy * dy + dz * dz)
            if dist + half <= r1 or dist - half >= r_end:
                continue
            gx, gw = (g2x, g2w) if dist > r_far + 4.0 * half else (g6x, g6w)
            box = 0.0
            for a in range(gx.shape[0]):
                x = dx + (gx[a] - 0.5) * h[0]
                for b in range(gx.shape[0]):
                    y = dy + (gx[b] - 0.5) * h[1]
                    wab = gw[a] * gw[b]
                    for c in range(gx.shape[0]):
                        z = dz + (gx[c] - 0.5) * h[2]
                        box += wab * gw[c] * _long_value(np.sqrt(x * x + y * y + z * z), g,
                                                         inv_step, r1, r_end)
            acc += decays[s] * box
        out[v] = acc
    return out


def exact_voxel_dose(sphere_xyz_mm, sphere_activity_Bq, voxels, *, origin_mm, spacing_mm,
                     nuclide="Y-90", density_g_cm3=LIVER_DENSITY_G_CM3, photons=True):
    """Exact voxel-mean dose [Gy] (complete decay) in the voxels ``voxels`` ((P, 3) integer
    indices of the grid of :func:`dosimetry.grid.dose_on_grid`), summed over every sphere;
    with ``photons``, their long-range share included pair by pair."""
    xyz, decays = sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide)
    tab = radial_table(str(nuclide), float(density_g_cm3), photons=bool(photons))
    qtab, qslope, qpar = q_table(str(nuclide), float(density_g_cm3), bool(photons))
    h = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)).copy()
    origin = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,)).copy()
    vox = np.ascontiguousarray(np.asarray(voxels, dtype=np.int64).reshape(-1, 3))
    out = _exact(vox, origin, h, xyz, decays, qtab, qslope, qpar, *gauss01(6), *gauss01(8),
                 tab.g, 1.0 / tab.h_mm, tab.d_near, tab.r_cut_mm, *gauss01(6))
    if photons and tab.r_cut_mm > 0:
        try:
            g, step, r1, r_end = _long_table(str(nuclide), float(density_g_cm3))
        except ValueError:  # no photon kernel for this nuclide
            return out
        r2 = split_radii_mm(str(nuclide), float(density_g_cm3))[1]
        out += _long_exact(vox, origin, h, xyz, decays, g, 1.0 / step, r1, r_end, r2,
                           *gauss01(6), *gauss01(2))
    return out


#: Share of the kernel's range beyond which a voxel counts as "where the kernel tail ends"
#: (Y-90 at 1.04 g/cm^3: 8.5 mm, where D is < 3e-6 of D(1 mm)).
TAIL_START = 0.75


def relative_errors(got, exact, floor=1e-6, nearest_mm=None, r_cut_mm=None):
    """|got / exact - 1| over the voxels whose exact dose exceeds ``floor`` x max(exact) and,
    when ``nearest_mm`` (distance from each voxel centre to the nearest sphere) is given, that
    have a sphere within TAIL_START x ``r_cut_mm`` (the metric of the verification tests)."""
    got = np.asarray(got, dtype=float)
    exact = np.asarray(exact, dtype=float)
    sel = exact > floor * exact.max()
    if nearest_mm is not None:
        sel &= np.asarray(nearest_mm) <= TAIL_START * r_cut_mm
    return np.abs(got[sel] / exact[sel] - 1.0)


def nearest_sphere_mm(sphere_xyz_mm, centres_mm):
    """Distance from each point to the nearest sphere [mm] (KD tree)."""
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(sphere_xyz_mm, dtype=float)).query(np.asarray(centres_mm))[0]
