"""Volumes of interest on a clinical image grid, as delineated on the CT: tumours, treated
normal liver, liver outside the treated territory, and vascular segments.

The compartments come from the tissue geometry and the treated territory (the terminals below
the treatment's catheter), with voxel fractions at boundaries
(:func:`sim.dose.compartments_on_grid`); a clinical VOI is the set of voxels whose largest
fraction is that compartment (binary, as drawn on the CT). Masses are the geometry's (CT
volumes), not the VOI's voxel count. Means and DVHs use partial-voxel VOIs: every voxel
weighted by the fraction of it the compartment fills (:meth:`VOIs.weights`; a pure voxel has
weight 1), so that a tumour smaller than a voxel still has a VOI.

Segments stand in for Couinaud segments: the heaviest territory is cut in two along its main
artery (the path into the heaviest branch) where the two parts come closest to equal mass,
until there are the asked number of territories. A cut at vessel k leaves the territory
below k and the rest of the parent territory (on a tree of comparable daughters: the two
subtrees of a branch point; on a trunk tree: the side branches along a stretch of trunk).
Each voxel of treated liver takes the territory of its nearest terminal (portal tract), as
each voxel of the dose grid does.
"""
from __future__ import annotations

from dataclasses import dataclass
import heapq

import numpy as np
from scipy.spatial import cKDTree

from sim.dose import compartments_on_grid
from sim.dose.compartments import NORMAL, UNTREATED

__all__ = ["VOIs", "build_vois", "split_territory", "terminal_segments", "segment_of_points"]


@dataclass
class VOIs:
    """VOIs of one image grid.

    Attributes
    ----------
    grid : sim.imaging.ImageGrid
    compartments : sim.dose.Compartments
        Fractions of every compartment in every voxel.
    label : int8 array
        Majority compartment of each voxel (-1 off the liver, -2 untreated liver, 0 treated
        normal liver, k tumour k).
    segment : int16 array
        Vascular segment of each treated-liver voxel (0..S-1), -1 elsewhere.
    n_segments : int
    """

    grid: object
    compartments: object
    label: np.ndarray
    segment: np.ndarray
    n_segments: int

    @property
    def tumour_codes(self) -> list[int]:
        return [c for c in self.compartments.codes if c > 0 and self.mass_kg(c) > 0]

    def mask(self, code) -> np.ndarray:
        """Voxels of a compartment code, ``"tumour"`` (all tumours), ``"treated"`` (tumours and
        treated normal liver) or ``"liver"`` (all liver)."""
        if code == "tumour":
            return self.label > 0
        if code == "treated":
            return self.label >= 0
        if code == "liver":
            return (self.label >= 0) | (self.label == UNTREATED)
        return self.label == code

    def weights(self, code) -> tuple[np.ndarray, np.ndarray]:
        """Flat voxel indices and volume fractions of a compartment code, ``"tumour"`` (all
        tumours) or ``"treated"`` (tumours and treated normal liver): the partial-voxel VOI
        (a boundary voxel counts with the fraction of it the compartment fills)."""
        comp = self.compartments
        if code == "tumour":
            codes = [c for c in comp.codes if c > 0]
        elif code == "treated":
            codes = [c for c in comp.codes if c >= 0]
        else:
            codes = [code]
        idx, w = [], []
        for c in codes:
            i, f = comp.voxels(c)
            idx.append(i)
            w.append(f)
        if not idx:
            return np.zeros(0, np.int64), np.zeros(0)
        i, f = np.concatenate(idx), np.concatenate(w)
        if len(codes) > 1:  # a voxel shared by several of the codes: add its fractions
            u, inv = np.unique(i, return_inverse=True)
            return u, np.bincount(inv, weights=f)
        return i, f

    def fraction(self, code) -> np.ndarray:
        """Volume fraction of a compartment (or ``"tumour"``, ``"treated"``) in every voxel."""
        out = np.zeros(self.label.size)
        i, f = self.weights(code)
        out[i] = f
        return out.reshape(self.label.shape)

    def mass_kg(self, code) -> float:
        """Geometric (CT) mass of a compartment code, ``"tumour"`` or ``"treated"`` [kg]."""
        if code == "tumour":
            return sum(self.compartments.mass_kg(c) for c in self.compartments.codes if c > 0)
        if code == "treated":
            return self.mass_kg("tumour") + self.compartments.mass_kg(NORMAL)
        return self.compartments.mass_kg(code)

    @property
    def voxel_mass_kg(self) -> float:
        return self.compartments.voxel_mass_kg


def _subtree_masses(tree) -> np.ndarray:
    mass = np.asarray(tree.terminal_mass_mg, dtype=np.float64).copy()
    depth = np.asarray(tree.depth)
    for d in range(int(depth.max()), 0, -1):
        sel = np.flatnonzero(depth == d)
        np.add.at(mass, tree.parent[sel], mass[sel])
    return mass


def split_territory(tree, injection: int, n: int) -> list[int]:
    """Roots of ``n`` (or fewer, when the tree runs out of branches) vascular territories
    that partition the subtree of ``injection``.

    The heaviest territory is cut at the vessel on its main artery (from its root, always
    into the heaviest child still in the territory) whose subtree mass is closest to half the
    territory's. Territories nest: that of root r is r's subtree less the territories of the
    roots below it (:func:`terminal_segments`).

    Returns
    -------
    list of int
        Root segments in increasing index order (``injection`` first).
    """
    eff = _subtree_masses(tree)  # [mg], less the territories carved out below
    parent = np.asarray(tree.parent)
    is_root = np.zeros(tree.n_segments, bool)
    is_root[injection] = True
    heap = [(-eff[injection], int(injection))]
    done: list[int] = []
    while heap and len(heap) + len(done) < n:
        _, r = heapq.heappop(heap)
        half, x, best, gap = 0.5 * eff[r], r, -1, np.inf
        while True:
            kids = [int(c) for c in tree.children(x) if not is_root[c] and eff[c] > 0]
            if not kids:
                break
            x = max(kids, key=lambda c: eff[c])
            if eff[x] < eff[r] and abs(eff[x] - half) < gap:  # leaves r a part
                best, gap = x, abs(eff[x] - half)
            if eff[x] <= half:
                break
        if best < 0:
            done.append(r)
            continue
        m, a = eff[best], int(parent[best])
        while True:  # the ancestors up to r lose the carved territory
            eff[a] -= m
            if a == r:
                break
            a = int(parent[a])
        is_root[best] = True
        heapq.heappush(heap, (-eff[r], r))
        heapq.heappush(heap, (-m, best))
    return sorted(done + [s for _, s in heap])


def terminal_segments(tree, roots) -> np.ndarray:
    """Territory index of every segment (-1 when no root is above): that of the deepest root
    above it, so that nested territories exclude the ones carved out below them."""
    out = np.full(tree.n_segments, -1, np.int16)
    depth = np.asarray(tree.depth)
    for k, r in sorted(enumerate(roots), key=lambda kr: depth[kr[1]]):
        out[tree.subtree(r)] = k
    return out


def segment_of_points(points, kd, terminal_segment) -> np.ndarray:
    """Territory of each point (N, 3) [mm]: that of its nearest terminal (chunked queries)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    out = np.empty(points.shape[0], np.int16)
    step = 1 << 20
    for s in range(0, points.shape[0], step):
        _, i = kd.query(points[s:s + step], workers=-1)
        out[s:s + step] = terminal_segment[i]
    return out


def build_vois(geometry, tree, injection: int, grid, density_g_cm3: float,
               n_segments: int) -> VOIs:
    """Compartments, clinical VOIs and vascular segments on an image grid."""
    comp = compartments_on_grid(geometry, tree, injection, grid.origin_mm, grid.spacing_mm,
                                grid.shape, density_g_cm3)
    label = comp.majority()
    roots = split_territory(tree, injection, n_segments)
    term = np.flatnonzero(tree.is_terminal)
    seg_of = terminal_segments(tree, roots)[term]
    treated = seg_of >= 0
    kd = cKDTree(tree.distal_mm[term[treated]])
    segment = np.full(grid.shape, -1, np.int16)
    vox = np.flatnonzero((label >= 0).ravel())
    segment.ravel()[vox] = segment_of_points(grid.centres(vox), kd, seg_of[treated])
    return VOIs(grid, comp, label, segment, len(roots))

