"""Voxel masks placed in the world by a general affine (patient anatomy from NIfTI).

A mask voxel (i, j, k) has its centre at ``affine @ (i, j, k, 1)`` [mm] (the NIfTI
convention that nibabel follows: the affine maps 0-based voxel indices to scanner RAS+
coordinates). The affine may flip, permute, rotate or shear the axes; it must be invertible.
:class:`AffineMask` is a domain or tumour shape of the tree stage (the same interface as
:class:`sim.tree.domains.VoxelMask`: ``contains``, ``bounds``, ``near_surface``,
``volume_mm3``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from sim.tree.domains import MaskSurface, mask_at
from sim.tree.growth import check_tumour_parameters

__all__ = ["AffineMask", "MaskTumour", "check_affine", "voxel_centres"]


def check_affine(affine, what: str = "affine") -> np.ndarray:
    """A 4x4 float64 affine that maps voxel indices to world [mm], checked invertible.

    Raises
    ------
    ValueError
        Not 4x4, not finite, last row not (0, 0, 0, 1), or singular (the voxel axes do not
        span 3-D space).
    """
    a = np.asarray(affine, dtype=np.float64)
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be a finite 4x4 matrix")
    if not np.allclose(a[3], (0.0, 0.0, 0.0, 1.0)):
        raise ValueError(f"{what}: last row must be (0, 0, 0, 1)")
    lin = a[:3, :3]
    scale = float(np.prod(np.linalg.norm(lin, axis=0)))
    if scale == 0.0 or abs(np.linalg.det(lin)) < 1e-9 * scale:
        raise ValueError(f"{what} is not invertible (the voxel axes do not span 3-D space)")
    return a


def voxel_centres(shape, affine, index=None) -> np.ndarray:
    """World coordinates [mm] of voxel centres: all voxels, or the flat indices ``index``."""
    if index is None:
        index = np.arange(int(np.prod(shape)))
    ijk = np.stack(np.unravel_index(np.asarray(index), tuple(shape)), axis=1).astype(float)
    return ijk @ affine[:3, :3].T + affine[:3, 3]


@dataclasses.dataclass(frozen=True, eq=False)
class AffineMask(MaskSurface):
    """Boolean voxel mask with a voxel-to-world affine (4x4, [mm])."""

    mask: np.ndarray
    affine: np.ndarray

    def __post_init__(self):
        m = np.ascontiguousarray(np.asarray(self.mask) != 0)
        if m.ndim != 3 or not m.any():
            raise ValueError("mask must be a 3-D array with at least one voxel set")
        a = check_affine(self.affine)
        object.__setattr__(self, "mask", m)
        object.__setattr__(self, "affine", a)
        object.__setattr__(self, "_inverse", np.linalg.inv(a))

    @property
    def spacing_mm(self) -> np.ndarray:
        """Length of each voxel axis in the world [mm]."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def voxel_volume_mm3(self) -> float:
        return float(abs(np.linalg.det(self.affine[:3, :3])))

    def index_of(self, p) -> np.ndarray:
        """Nearest voxel index (N, 3) int64 of world points (N, 3) [mm]."""
        p = np.asarray(p, dtype=np.float64).reshape(-1, 3)
        inv = self.__dict__["_inverse"]
        return np.rint(p @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)

    def contains(self, p) -> np.ndarray:
        return mask_at(self.mask, self.index_of(p))

    def bounds(self):
        """World bounding box (lo, hi) [mm] of the set voxels (their whole extent)."""
        nz = np.argwhere(self.mask)
        lo, hi = nz.min(axis=0) - 0.5, nz.max(axis=0) + 0.5
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
        w = corners @ self.affine[:3, :3].T + self.affine[:3, 3]
        return w.min(axis=0), w.max(axis=0)

    @property
    def volume_mm3(self) -> float:
        return float(self.mask.sum()) * self.voxel_volume_mm3

    def near_surface(self, p, dist_mm):
        """True where the mask's surface may lie within ``dist_mm`` of the points.

        For a distance below half a voxel the cube of half-side ``dist_mm`` around each point
        spans at most two voxels per axis: the point is near exactly when those voxels (the
        index box of the cube's corners) do not all agree. Larger distances use the
        Euclidean distance transform in voxel space scaled by the axis lengths, less one voxel
        diagonal (conservative). Points off the mask's grid count as near.
        """
        p = np.asarray(p, dtype=np.float64).reshape(-1, 3)
        if dist_mm < 0.5 * float(self.spacing_mm.min()) / np.sqrt(3.0):
            return self._near_small(p, float(dist_mm))
        return self.near_surface_of_voxels(self.index_of(p), dist_mm)

    def _near_small(self, p, dist_mm):
        inv = self.__dict__["_inverse"]
        corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)],
                           dtype=float) * dist_mm
        u = p @ inv[:3, :3].T + inv[:3, 3]
        du = corners @ inv[:3, :3].T  # corner offsets in index space
        lo = np.rint(u + du.min(axis=0)).astype(np.int64)
        hi = np.rint(u + du.max(axis=0)).astype(np.int64)
        shape = np.array(self.mask.shape)
        off = np.any((lo < 0) | (hi >= shape), axis=1)
        lo, hi = np.clip(lo, 0, shape - 1), np.clip(hi, 0, shape - 1)
        first = self.mask[lo[:, 0], lo[:, 1], lo[:, 2]]
        near = off.copy()
        for c in ((0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)):
            idx = np.where(np.array(c, bool), hi, lo)
            near |= self.mask[idx[:, 0], idx[:, 1], idx[:, 2]] != first
        return near


@dataclasses.dataclass(frozen=True, eq=False)
class MaskTumour:
    """A tumour given as a mask (the tree stage's tumour interface: ``shape``,
    ``terminal_mass_mg`` [mg] (None: the normal liver's), ``vascularity`` (flow per mass
    relative to normal liver))."""

    mask: AffineMask
    terminal_mass_mg: float | None = None
    vascularity: float = 3.0

    def __post_init__(self):
        check_tumour_parameters(self.vascularity, self.terminal_mass_mg)

    @property
    def shape(self) -> AffineMask:
        return self.mask
