"""Compartments on the dose grid: which voxels are perfused, and the region of each.

Voxels take the region of their nearest portal tract (terminal); the perfused volume is the
set of voxels nearest to a terminal, up to a distance chosen so that its mass equals the tree's
perfused mass.
"""
from __future__ import annotations

import numpy as np

from dosimetry.constants import LIVER_DENSITY_G_CM3
from sim.dose._kernels import nearest_terminal_region

__all__ = ["region_grid", "grid_for_tree"]


def region_grid(tree, origin_mm, spacing_mm, shape, density_g_cm3=LIVER_DENSITY_G_CM3) -> np.ndarray:
    """Region of each voxel: -1 outside the perfused volume, 0 normal, k tumour k (int8).

    Voxels take the region of their nearest portal tract (terminal). The perfused volume is
    the set of voxels nearest to a terminal, up to a distance chosen so that its mass equals
    the tree's perfused mass (the terminals sample the domain on a jittered lattice, so the
    closest voxels are the domain's); without that matching, a shell of up to one lattice
    cell around the domain would count as liver.
    """
    term = np.flatnonzero(tree.is_terminal)
    side = (np.median(tree.terminal_mass_mg[term]) / density_g_cm3) ** (1.0 / 3.0)  # mm
    n = int(np.prod(shape))
    out = np.full(n, -1, np.int8)
    best = np.full(n, np.inf)
    nearest_terminal_region(np.ascontiguousarray(tree.distal_mm[term]),
                            np.ascontiguousarray(tree.region[term].astype(np.int8)),
                            np.asarray(origin_mm, float), np.asarray(spacing_mm, float),
                            np.asarray(shape, np.int64), float(1.5 * side), out, best)
    vox_mass_mg = density_g_cm3 * float(np.prod(spacing_mm))  # g/cm^3 = mg/mm^3
    n_perfused = int(round(tree.terminal_mass_mg[term].sum() / vox_mass_mg))
    finite = np.flatnonzero(np.isfinite(best))
    if 0 < n_perfused < finite.size:
        keep = finite[np.argpartition(best[finite], n_perfused - 1)[:n_perfused]]
        mask = np.zeros(n, bool)
        mask[keep] = True
        out[~mask] = -1
    return out.reshape(shape)


def grid_for_tree(tree, spacing_mm: float, margin_voxels: int = 2, margin_mm: float = 0.0,
                  density_g_cm3: float = LIVER_DENSITY_G_CM3):
    """Origin (centre of voxel 0) and shape of a grid covering the perfused volume."""
    term = tree.is_terminal
    lo = tree.distal_mm[term].min(axis=0)
    hi = tree.distal_mm[term].max(axis=0)
    side = (np.median(tree.terminal_mass_mg[term]) / density_g_cm3) ** (1.0 / 3.0)
    lo = lo - side - margin_voxels * spacing_mm - margin_mm
    hi = hi + side + margin_voxels * spacing_mm + margin_mm
    shape = tuple(int(v) for v in np.ceil((hi - lo) / spacing_mm).astype(int) + 1)
    return lo, np.full(3, float(spacing_mm)), shape
