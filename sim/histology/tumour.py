"""Tumour against nearby normal liver: the sphere-density and dose ratios (the Roberson
check of cross-fire damping) and the deposition at the tumour's edge against its centre.

Definitions (this project's; the published ones are not stated in the abstracts):

* *Nearby normal liver* of tumour k: the normal liver within ``shell_mm`` (default 2 mm,
  about a nodule's diameter in the rabbit study) outside the tumour's ellipsoid, i.e. inside
  the ellipsoid with every semi-axis grown by ``shell_mm``.
* Sphere-density ratio: spheres per mm^3 in the tumour over those in its nearby normal liver
  (volumes by quasi-Monte Carlo points).
* Mean-dose ratio: the mean true dose at points uniformly spread over the tumour over the mean
  at points over its nearby normal liver; minimum-dose ratio: the smallest tumour point dose
  over the same normal mean.
* Edge and centre: spheres per mm^3 in the outer shell q in [0.8, 1) and the core q < 0.5
  of the tumour, q the ellipsoidal radius (1 on the tumour's surface).

The published nodule was 2 mm wide; cross-fire from the surrounding liver (electron range
~11 mm) damps the dose ratio far more in a small nodule than in a tumour of centimetres, so
the check compares like with like only for small tumours.

References
----------
.. [1] Roberson PL, Ten Haken RK, McShan DL et al. Three-dimensional tumor dosimetry for
       hepatic yttrium-90-microsphere therapy. 1992 (rabbit VX2, 200-um serial sections: a
       2-mm nodule with 15 times the sphere density of nearby normal liver had dose ratios
       of 2.6 (mean) and 1.9 (minimum)).
.. [2] Kennedy AS et al. Int J Radiat Oncol Biol Phys 2004;60:1552 (preferential deposition
       at the edge of tumour nodules; tumour doses 100 Gy to more than 3000 Gy).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from sim.tree.domains import Ellipsoid

__all__ = ["tumour_points", "density_ratio", "edge_to_centre", "roberson_check"]


def _box_points(lo, hi, n, seed):
    """Scrambled Sobol points in a box (n rounded up to a power of two)."""
    m = int(np.ceil(np.log2(max(n, 2))))
    return lo + (hi - lo) * qmc.Sobol(3, scramble=True, seed=seed).random_base2(m)


def tumour_points(label, tumour: Ellipsoid, k: int, n: int, *, shell_mm=2.0, seed=0):
    """Points uniformly spread over tumour k and over its nearby normal liver.

    Returns
    -------
    tumour_pts, normal_pts : (n_t, 3), (n_n, 3) arrays [mm]
        At most ``n`` each.
    volumes_mm3 : (2,) array
        Volumes of the tumour (as labelled) and of its nearby normal liver [mm^3].
    """
    grown = Ellipsoid(tumour.centre_mm, tumour.semi_axes_mm + shell_mm)
    lo, hi = grown.bounds()
    pts = _box_points(lo, hi, max(16 * n, 1 << 16), seed)
    lab = label(pts)
    box = float(np.prod(hi - lo))
    in_t = lab == k
    in_n = (lab == 0) & grown.contains(pts)
    vols = np.array([in_t.mean() * box, in_n.mean() * box])
    return pts[in_t][:n], pts[in_n][:n], vols


def density_ratio(label, tumour: Ellipsoid, k: int, xyz_mm, *, shell_mm=2.0, seed=0):
    """Spheres per mm^3 in tumour k, in its nearby normal liver, and their ratio."""
    grown = Ellipsoid(tumour.centre_mm, tumour.semi_axes_mm + shell_mm)
    lo, hi = grown.bounds()
    xyz = np.asarray(xyz_mm, dtype=float).reshape(-1, 3)
    near = xyz[np.all((xyz >= lo) & (xyz <= hi), axis=1)]
    lab = label(near)
    _, _, vols = tumour_points(label, tumour, k, 1, shell_mm=shell_mm, seed=seed)
    n_t = int(np.sum(lab == k))
    n_n = int(np.sum((lab == 0) & grown.contains(near)))
    dens = (n_t / vols[0] if vols[0] > 0 else float("nan"),
            n_n / vols[1] if vols[1] > 0 else float("nan"))
    return dens[0], dens[1], dens[0] / dens[1] if dens[1] > 0 else float("nan")


def edge_to_centre(label, tumour: Ellipsoid, k: int, xyz_mm, *, seed=0):
    """Spheres per mm^3 in the tumour's outer shell (q in [0.8, 1)) and core (q < 0.5), and
    their ratio (> 1: more at the edge)."""
    lo, hi = tumour.bounds()
    pts = _box_points(lo, hi, 1 << 17, seed)
    q_p = _q(pts, tumour)
    mine = label(pts) == k
    box = float(np.prod(hi - lo))
    vol_edge = float(np.mean(mine & (q_p >= 0.8) & (q_p < 1.0))) * box
    vol_core = float(np.mean(mine & (q_p < 0.5))) * box
    xyz = np.asarray(xyz_mm, dtype=float).reshape(-1, 3)
    xyz = xyz[np.all((xyz >= lo) & (xyz <= hi), axis=1)]
    q = _q(xyz, tumour)
    own = label(xyz) == k
    edge = np.sum(own & (q >= 0.8) & (q < 1.0)) / vol_edge if vol_edge > 0 else float("nan")
    core = np.sum(own & (q < 0.5)) / vol_core if vol_core > 0 else float("nan")
    return float(edge), float(core), float(edge / core) if core > 0 else float("nan")


def _q(p, e: Ellipsoid):
    z = (np.asarray(p) - e.centre_mm) / e.semi_axes_mm
    return np.sqrt(np.einsum("ij,ij->i", z, z))


def roberson_check(label, tumours, xyz_mm, dose_fn, *, n_points=2000, shell_mm=2.0, seed=0):
    """Sphere-density and dose ratios of every tumour against its nearby normal liver.

    Parameters
    ----------
    label : callable
        Regions of points (:meth:`sim.tree.tissue.TissueGeometry.label`).
    tumours : sequence of Ellipsoid
        Tumour k is ``tumours[k - 1]``.
    xyz_mm : (N, 3) array [mm]
        Every sphere of the liver.
    dose_fn : callable
        True dose [Gy] at points (P, 3) [mm] (called once, with every tumour's points).
    n_points : int
        Dose points in each tumour and in each nearby normal shell.

    Returns
    -------
    list of dict
        Per tumour: ``tumour``, ``semi_axes_mm``, ``density_tumour_per_mm3``,
        ``density_normal_per_mm3``, ``density_ratio``, ``mean_dose_tumour_Gy``,
        ``mean_dose_normal_Gy``, ``mean_dose_ratio``, ``min_dose_ratio``, ``edge_to_centre``.
    """
    sets = []
    for k, t in enumerate(tumours, start=1):
        tp, npts, _ = tumour_points(label, t, k, n_points, shell_mm=shell_mm, seed=seed + k)
        if tp.shape[0] and npts.shape[0]:
            sets.append((k, t, tp, npts))
    if not sets:
        return []
    dose = dose_fn(np.concatenate([np.concatenate([tp, npts]) for _, _, tp, npts in sets]))
    out, at = [], 0
    for k, t, tp, npts in sets:
        d_t = dose[at:at + tp.shape[0]]
        d_n = dose[at + tp.shape[0]:at + tp.shape[0] + npts.shape[0]]
        at += tp.shape[0] + npts.shape[0]
        dt, dn, ratio = density_ratio(label, t, k, xyz_mm, shell_mm=shell_mm, seed=seed + k)
        edge, core, e2c = edge_to_centre(label, t, k, xyz_mm, seed=seed + k)
        out.append({"tumour": k, "semi_axes_mm": t.semi_axes_mm.tolist(),
                    "density_tumour_per_mm3": dt, "density_normal_per_mm3": dn,
                    "density_ratio": ratio, "mean_dose_tumour_Gy": float(d_t.mean()),
                    "mean_dose_normal_Gy": float(d_n.mean()),
                    "mean_dose_ratio": float(d_t.mean() / d_n.mean()),
                    "min_dose_ratio": float(d_t.min() / d_n.mean()),
                    "edge_density_per_mm3": edge, "core_density_per_mm3": core,
                    "edge_to_centre": e2c})
    return out
