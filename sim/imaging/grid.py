"""The voxel grid of a clinical image: cubic voxels, axis-aligned in the world frame.

World coordinates are millimetres in the frame of the anatomy (scanner RAS+ for NIfTI
input). Voxel (0, 0, 0) is centred at ``origin_mm``; the NIfTI affine of the grid is
``diag(v, v, v)`` with that origin, so images on any grid land on the anatomy in a viewer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageGrid", "cover", "reference_anchor"]


@dataclass(frozen=True, eq=False)
class ImageGrid:
    """A grid of cubic voxels.

    Attributes
    ----------
    origin_mm : (3,) array
        Centre of voxel (0, 0, 0) [mm].
    voxel_mm : float
        Voxel side [mm].
    shape : tuple of 3 int
    """

    origin_mm: np.ndarray
    voxel_mm: float
    shape: tuple

    def __post_init__(self):
        object.__setattr__(self, "origin_mm", np.asarray(self.origin_mm, dtype=float).reshape(3))
        object.__setattr__(self, "voxel_mm", float(self.voxel_mm))
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        if not self.voxel_mm > 0 or min(self.shape) < 1:
            raise ValueError("an image grid needs a voxel > 0 mm and at least one voxel")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def spacing_mm(self) -> np.ndarray:
        return np.full(3, self.voxel_mm)

    @property
    def voxel_volume_mm3(self) -> float:
        return self.voxel_mm ** 3

    @property
    def affine(self) -> np.ndarray:
        """Voxel index -> world [mm] (4x4)."""
        a = np.eye(4)
        a[:3, :3] *= self.voxel_mm
        a[:3, 3] = self.origin_mm
        return a

    def centres(self, index=None) -> np.ndarray:
        """World coordinates [mm] of voxel centres (all voxels, or flat indices)."""
        if index is None:
            index = np.arange(self.size)
        ijk = np.stack(np.unravel_index(np.asarray(index), self.shape), axis=1)
        return self.origin_mm + ijk * self.voxel_mm

    def flat_index(self, xyz) -> np.ndarray:
        """Flat index of the voxel holding each point (N, 3) [mm], -1 off the grid."""
        ijk = np.floor((np.asarray(xyz, dtype=float).reshape(-1, 3) - self.origin_mm)
                       / self.voxel_mm + 0.5).astype(np.int64)
        ok = np.all((ijk >= 0) & (ijk < np.array(self.shape)), axis=1)
        out = np.full(ijk.shape[0], -1, np.int64)
        out[ok] = np.ravel_multi_index(tuple(ijk[ok].T), self.shape)
        return out

    def refined(self, m: int) -> "ImageGrid":
        """The grid with every voxel split into m^3 (m odd keeps each coarse centre a fine
        centre); block sums of m^3 fine voxels give the coarse voxels back."""
        if m < 1 or m % 2 == 0:
            raise ValueError("the refinement factor must be an odd integer >= 1")
        vf = self.voxel_mm / m
        return ImageGrid(self.origin_mm - 0.5 * (m - 1) * vf, vf,
                         tuple(m * n for n in self.shape))

    def describe(self) -> dict:
        return {"origin_mm": self.origin_mm.tolist(), "voxel_mm": self.voxel_mm,
                "shape": list(self.shape)}


def reference_anchor(affine) -> np.ndarray | None:
    """World position of the outer corner of voxel (0, 0, 0) of an axis-aligned reference
    grid (a diagonal affine, flips allowed), or None for a rotated or permuted one."""
    a = np.asarray(affine, dtype=float)
    lin = a[:3, :3]
    if np.any(np.abs(lin - np.diag(np.diag(lin))) > 1e-9 * np.abs(lin).max()):
        return None
    return a[:3, 3] - 0.5 * np.diag(lin)


def cover(lo_mm, hi_mm, voxel_mm: float, margin_mm: float = 0.0, anchor=None) -> ImageGrid:
    """The smallest grid whose voxels cover the box [lo, hi] grown by ``margin_mm``, with its
    voxel boundaries on the lattice ``anchor + k voxel_mm`` (default anchor: the world
    origin), so that a grid of the reference's voxel size (or a multiple) shares its
    boundaries."""
    v = float(voxel_mm)
    anchor = np.zeros(3) if anchor is None else np.asarray(anchor, dtype=float)
    lo = np.asarray(lo_mm, dtype=float) - margin_mm
    hi = np.asarray(hi_mm, dtype=float) + margin_mm
    k_lo = np.floor((lo - anchor) / v + 1e-9)
    k_hi = np.ceil((hi - anchor) / v - 1e-9)
    shape = tuple(int(max(1, k)) for k in (k_hi - k_lo))
    origin = anchor + (k_lo + 0.5) * v
    return ImageGrid(origin, v, shape)

