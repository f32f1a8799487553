"""Compartments on the dose grid: the tissue, with voxel fractions at its boundaries.

A voxel holds fractions of: liver outside the treated territory (``UNTREATED``), treated
normal liver (``NORMAL`` = 0), treated tumour k (k), and non-liver (``OUTSIDE``). The tissue is
the scenario's geometry (domain and tumours, :class:`sim.tree.tissue.TissueGeometry`); the
treated territory is the set of points whose nearest portal tract (terminal) lies below the
injected segment (the whole liver for an injection at the root). Voxels the domain, a tumour
or the territory's edge may cross are sampled on an m^3 sub-grid; the others are pure. Masses
on the grid then equal the geometry's masses, and the tree's (its terminal masses are scaled
to the geometry, :func:`sim.tree.growth.geometric_masses`), up to the sub-grid sampling of the
boundary voxels.

Trees without geometry (the teaching tree, trees read from files) fall back to the terminals:
a voxel belongs to the liver when a terminal lies near its centre, takes the region of the
nearest terminal, and the liver is cut to the tree's perfused mass (no fractions).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from dosimetry.constants import LIVER_DENSITY_G_CM3
from sim.dose._kernels import nearest_terminal_region

__all__ = ["Compartments", "compartments_on_grid", "compartments_from_terminals", "point_codes",
           "grid_for_tree", "treated_territory",
           "region_grid", "OUTSIDE", "UNTREATED", "NORMAL", "MIXED"]

OUTSIDE = -1
UNTREATED = -2
NORMAL = 0
MIXED = -3


@dataclass
class Compartments:
    """Compartment of every voxel of a grid, with fractions in boundary voxels.

    Attributes
    ----------
    label : int8 array of the grid's shape
        Compartment code of pure voxels; ``MIXED`` for boundary voxels.
    codes : tuple of int
        Codes present: ``OUTSIDE``, ``UNTREATED``, ``NORMAL``, tumours 1..K.
    mixed_index : (M,) int64
        Flat indices of the boundary voxels.
    mixed_fraction : (M, len(codes)) float32
        Volume fraction of each code in each boundary voxel (rows sum to 1).
    voxel_mass_kg : float
        Mass of a whole voxel [kg].
    """

    label: np.ndarray
    codes: tuple
    mixed_index: np.ndarray
    mixed_fraction: np.ndarray
    voxel_mass_kg: float

    def voxels(self, code) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of the voxels holding compartment ``code`` and their fractions."""
        pure = np.flatnonzero(self.label.ravel() == code)
        if code not in self.codes or self.mixed_index.size == 0:
            return pure, np.ones(pure.size)
        f = self.mixed_fraction[:, self.codes.index(code)]
        sel = f > 0
        return (np.concatenate((pure, self.mixed_index[sel])),
                np.concatenate((np.ones(pure.size), f[sel].astype(np.float64))))

    def mass_kg(self, code) -> float:
        """Mass of compartment ``code`` on the grid [kg]."""
        return float(self.voxels(code)[1].sum() * self.voxel_mass_kg)

    def majority(self) -> np.ndarray:
        """The code of the largest fraction of every voxel (int8; for figures)."""
        out = self.label.copy()
        if self.mixed_index.size:
            best = np.asarray(self.codes, dtype=np.int8)[np.argmax(self.mixed_fraction, axis=1)]
            out.ravel()[self.mixed_index] = best
        return out


def grid_for_tree(tree, spacing_mm: float, margin_voxels: int = 2, margin_mm: float = 0.0,
                  density_g_cm3: float = LIVER_DENSITY_G_CM3, geometry=None):
    """Origin (centre of voxel 0) and shape of a grid covering the liver (the geometry's
    domain, or the terminals and their cells) with a margin."""
    if geometry is not None:
        lo, hi = (np.asarray(v, dtype=float) for v in geometry.domain.bounds())
    else:
        term = tree.is_terminal
        side = (np.median(tree.terminal_mass_mg[term]) / density_g_cm3) ** (1.0 / 3.0)
        lo = tree.distal_mm[term].min(axis=0) - side
        hi = tree.distal_mm[term].max(axis=0) + side
    lo = lo - margin_voxels * spacing_mm - margin_mm
    hi = hi + margin_voxels * spacing_mm + margin_mm
    shape = tuple(int(v) for v in np.ceil((hi - lo) / spacing_mm).astype(int) + 1)
    return lo, np.full(3, float(spacing_mm)), shape


def point_codes(points, geometry, territory) -> np.ndarray:
    """Compartment code of points (N, 3) [mm]: geometry region inside the treated territory,
    ``UNTREATED`` for liver outside it, ``OUTSIDE`` off the liver.

    ``territory`` is None (everything treated) or ``(kd_tree_of_terminals, in_territory)``.
    """
    code = geometry.label(points)
    if territory is not None and code.size:
        kd, inside = territory
        _, nearest = kd.query(points, workers=-1)
        code = np.where((code >= 0) & ~inside[nearest], UNTREATED, code)
    return code.astype(np.int32)


def treated_territory(tree, injected):
    """(KD tree of the terminals, bool per terminal: below the injected segment), or None
    when every terminal is below it."""
    term = np.flatnonzero(tree.is_terminal)
    inside = tree.subtree(injected)[term]
    if inside.all():
        return None
    return cKDTree(tree.distal_mm[term]), inside


def compartments_on_grid(geometry, tree, injected, origin, spacing, shape, density_g_cm3,
                         subsamples: int = 4) -> Compartments:
    """Compartments of a grid from the tissue geometry and the treated territory.

    Parameters
    ----------
    geometry : TissueGeometry
    tree : TreeArrays
    injected : int
        The injected segment (its subtree's terminals define the treated territory).
    origin, spacing, shape
        The grid (origin: centre of voxel 0) [mm].
    density_g_cm3 : float
        Tissue density [g/cm^3] (voxel mass).
    subsamples : int
        m: boundary voxels are sampled on an m^3 sub-grid.
    """
    terr = treated_territory(tree, injected)
    shape = tuple(int(v) for v in shape)
    spacing = np.asarray(spacing, dtype=float)
    label = np.empty(shape, np.int8)
    near = np.zeros(shape, bool)
    half_diag = 0.5 * float(np.linalg.norm(spacing))
    jj, kk = np.meshgrid(np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    for i in range(shape[0]):  # slab by slab: memory of one slab of centres
        c = origin + np.stack([np.full(jj.size, i), jj.ravel(), kk.ravel()], 1) * spacing
        label[i] = geometry.label(c).reshape(shape[1:])
        near[i] = geometry.near_boundary(c, half_diag).reshape(shape[1:])
    if terr is not None:
        _apply_territory(label, near, tree, injected, origin, spacing, density_g_cm3)
    codes = tuple(sorted({OUTSIDE, UNTREATED, NORMAL} | set(range(1, len(geometry.tumours) + 1))))
    mixed_index, mixed_fraction = _mixed(label, near, geometry, terr, origin, spacing,
                                         codes, subsamples)
    vox_mass_kg = density_g_cm3 * 1e-6 * float(np.prod(spacing))
    return Compartments(label, codes, mixed_index, mixed_fraction, vox_mass_kg)


def _apply_territory(label, near, tree, injected, origin, spacing, density_g_cm3):
    """Mark liver voxels whose nearest terminal is outside the injected subtree as untreated,
    and voxels on the territory's edge as boundary voxels."""
    term = np.flatnonzero(tree.is_terminal)
    inside = tree.subtree(injected)[term].astype(np.int8)
    side = (np.median(tree.terminal_mass_mg[term]) / density_g_cm3) ** (1.0 / 3.0)
    flag = np.full(label.size, -1, np.int8)
    best = np.full(label.size, np.inf)
    nearest_terminal_region(np.ascontiguousarray(tree.distal_mm[term]), inside,
                            np.asarray(origin, float), np.asarray(spacing, float),
                            np.asarray(label.shape, np.int64), float(3.0 * side), flag, best)
    flag = flag.reshape(label.shape)
    liver = label >= 0
    label[liver & (flag != 1)] = UNTREATED
    edge = np.zeros(label.shape, bool)
    for ax in range(3):
        a = np.swapaxes(flag, 0, ax)
        e = np.swapaxes(edge, 0, ax)
        diff = a[1:] != a[:-1]
        e[1:] |= diff
        e[:-1] |= diff
    near |= edge & liver


def _mixed(label, near, geometry, territory, origin, spacing, codes, m):
    """Fractions of every code in the boundary voxels (m^3 sub-grid per voxel)."""
    idx = np.flatnonzero(near.ravel())
    sub = (np.arange(m) + 0.5) / m - 0.5
    offs = np.stack(np.meshgrid(sub, sub, sub, indexing="ij"), -1).reshape(-1, 3) * spacing
    fractions = np.zeros((idx.size, len(codes)), np.float32)
    lut = np.full(max(codes) - min(codes) + 1, -1, np.int64)
    lut[np.asarray(codes) - min(codes)] = np.arange(len(codes))
    chunk = max(1, 2_000_000 // offs.shape[0])
    for start in range(0, idx.size, chunk):
        ijk = np.stack(np.unravel_index(idx[start:start + chunk], label.shape), 1)
        pts = (origin + ijk * spacing)[:, None, :] + offs[None]
        c = point_codes(pts.reshape(-1, 3), geometry, territory).reshape(len(ijk), -1)
        col = lut[c - min(codes)]
        for j in range(len(codes)):
            fractions[start:start + len(ijk), j] = (col == j).mean(axis=1)
    # voxels all of whose samples agree are pure after all
    pure = fractions.max(axis=1) == 1.0
    flat = label.ravel()
    flat[idx[pure]] = np.asarray(codes)[np.argmax(fractions[pure], axis=1)]
    flat[idx[~pure]] = MIXED
    return idx[~pure], fractions[~pure]


def region_grid(tree, origin_mm, spacing_mm, shape, density_g_cm3=LIVER_DENSITY_G_CM3) -> np.ndarray:
    """Fallback for trees without geometry: region of each voxel (-1 outside the liver, 0
    normal, k tumour k; int8) from the nearest terminal, the liver cut to the tree's mass.

    The liver is the set of voxels nearest to a terminal, up to a distance chosen so that its
    mass equals the tree's perfused mass.
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


def compartments_from_terminals(tree, origin, spacing, shape, density_g_cm3) -> Compartments:
    """Compartments of a tree without geometry (:func:`region_grid`, no fractions)."""
    label = region_grid(tree, origin, spacing, shape, density_g_cm3)
    k = int(max(label.max(), 0))
    codes = tuple([OUTSIDE, NORMAL] + list(range(1, k + 1)))
    return Compartments(label, codes, np.zeros(0, np.int64), np.zeros((0, len(codes)), np.float32),
                        density_g_cm3 * 1e-6 * float(np.prod(spacing)))
