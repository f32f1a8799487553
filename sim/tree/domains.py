"""Perfused domains of a grown tree: ellipsoid, box, or voxel mask (.npy / NIfTI)."""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
from scipy import ndimage

__all__ = ["Ellipsoid", "Box", "MaskSurface", "VoxelMask", "load_mask", "mask_at", "vec3"]


def vec3(x, name):
    """Three finite numbers (a scalar is repeated) as a float64 array; ValueError naming ``name``."""
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 1:
        a = np.repeat(a, 3)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be 3 finite numbers, got {x!r}")
    return a


@dataclasses.dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipsoid: centre [mm] and semi-axes [mm] (a scalar means a sphere)."""

    centre_mm: tuple
    semi_axes_mm: tuple

    def __post_init__(self):
        object.__setattr__(self, "centre_mm", vec3(self.centre_mm, "centre_mm"))
        object.__setattr__(self, "semi_axes_mm", vec3(self.semi_axes_mm, "semi_axes_mm"))
        if np.any(self.semi_axes_mm <= 0):
            raise ValueError("semi_axes_mm must be > 0")

    def contains(self, p):
        q = (np.asarray(p) - self.centre_mm) / self.semi_axes_mm
        return np.einsum("ij,ij->i", q, q) <= 1.0

    def bounds(self):
        return self.centre_mm - self.semi_axes_mm, self.centre_mm + self.semi_axes_mm

    def near_surface(self, p, dist_mm):
        """True where the surface may lie within ``dist_mm`` of the points (conservative:
        |p - x| >= a_min |q(p) - 1| for every surface point x, q the normalised radius)."""
        q = (np.asarray(p) - self.centre_mm) / self.semi_axes_mm
        q = np.sqrt(np.einsum("ij,ij->i", q, q))
        return np.abs(q - 1.0) * float(self.semi_axes_mm.min()) < dist_mm

    @property
    def volume_mm3(self):
        return 4.0 / 3.0 * np.pi * float(np.prod(self.semi_axes_mm))


@dataclasses.dataclass(frozen=True)
class Box:
    """Axis-aligned box between ``min_mm`` and ``max_mm`` [mm]."""

    min_mm: tuple
    max_mm: tuple

    def __post_init__(self):
        object.__setattr__(self, "min_mm", vec3(self.min_mm, "min_mm"))
        object.__setattr__(self, "max_mm", vec3(self.max_mm, "max_mm"))
        if np.any(self.max_mm <= self.min_mm):
            raise ValueError("max_mm must exceed min_mm on every axis")

    def contains(self, p):
        p = np.asarray(p)
        return np.all((p >= self.min_mm) & (p <= self.max_mm), axis=1)

    def bounds(self):
        return self.min_mm, self.max_mm

    def near_surface(self, p, dist_mm):
        """True where a face of the box lies within ``dist_mm`` of the points."""
        p = np.asarray(p)
        inside = self.contains(p)
        face = np.minimum(np.abs(p - self.min_mm), np.abs(self.max_mm - p)).min(axis=1)
        gap = np.linalg.norm(np.maximum(np.maximum(self.min_mm - p, p - self.max_mm), 0.0),
                             axis=1)
        return np.where(inside, face < dist_mm, gap < dist_mm)

    @property
    def volume_mm3(self):
        return float(np.prod(self.max_mm - self.min_mm))


class MaskSurface:
    """Distances to the surface of a voxel mask (``mask``, ``spacing_mm`` [mm] per axis) by
    the Euclidean distance transform, computed once per mask."""

    def near_surface_of_voxels(self, ijk, dist_mm):
        """True where the surface may lie within ``dist_mm`` of voxels ``ijk`` (N, 3): the
        distance from each voxel to one of the other kind, less one voxel diagonal
        (conservative); voxels off the grid count as near."""
        edt = self._edt()
        ijk = np.asarray(ijk) + 1  # the transform is of the mask padded by one voxel
        ok = np.all((ijk >= 0) & (ijk < np.array(edt.shape)), axis=1)
        d = np.zeros(ijk.shape[0])
        i = ijk[ok]
        d[ok] = edt[i[:, 0], i[:, 1], i[:, 2]]
        return ~ok | (d - float(np.linalg.norm(self.spacing_mm)) < dist_mm)

    def _edt(self):
        if "_edt_cache" not in self.__dict__:
            padded = np.pad(self.mask, 1)
            sp = tuple(float(v) for v in self.spacing_mm)
            d = np.where(padded, ndimage.distance_transform_edt(padded, sampling=sp),
                         ndimage.distance_transform_edt(~padded, sampling=sp))
            object.__setattr__(self, "_edt_cache", d)
        return self.__dict__["_edt_cache"]


def mask_at(mask, ijk) -> np.ndarray:
    """Value of a boolean 3-D ``mask`` at voxel indices ``ijk`` (N, 3); False outside it."""
    ok = np.all((ijk >= 0) & (ijk < np.array(mask.shape)), axis=1)
    out = np.zeros(ijk.shape[0], bool)
    i = ijk[ok]
    out[ok] = mask[i[:, 0], i[:, 1], i[:, 2]]
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class VoxelMask(MaskSurface):
    """Boolean voxel mask; ``origin_mm`` is the centre of voxel (0, 0, 0), axes x, y, z."""

    mask: np.ndarray
    origin_mm: tuple = (0.0, 0.0, 0.0)
    spacing_mm: tuple = (1.0, 1.0, 1.0)

    def __post_init__(self):
        m = np.ascontiguousarray(np.asarray(self.mask) != 0)
        if m.ndim != 3 or not m.any():
            raise ValueError("mask must be a 3-D array with at least one voxel set")
        object.__setattr__(self, "mask", m)
        object.__setattr__(self, "origin_mm", vec3(self.origin_mm, "origin_mm"))
        object.__setattr__(self, "spacing_mm", vec3(self.spacing_mm, "spacing_mm"))
        if np.any(self.spacing_mm <= 0):
            raise ValueError("spacing_mm must be > 0")

    def contains(self, p):
        ijk = np.rint((np.asarray(p) - self.origin_mm) / self.spacing_mm).astype(np.int64)
        return mask_at(self.mask, ijk)

    def bounds(self):
        nz = np.argwhere(self.mask)
        lo = self.origin_mm + (nz.min(axis=0) - 0.5) * self.spacing_mm
        hi = self.origin_mm + (nz.max(axis=0) + 0.5) * self.spacing_mm
        return lo, hi

    @property
    def volume_mm3(self):
        return float(self.mask.sum() * np.prod(self.spacing_mm))

    def near_surface(self, p, dist_mm):
        """True where the mask's surface may lie within ``dist_mm`` of the points: the
        distance from the nearest mask voxel to a voxel of the other kind (Euclidean distance
        transform), less one mask-voxel diagonal."""
        ijk = np.rint((np.asarray(p) - self.origin_mm) / self.spacing_mm).astype(np.int64)
        return self.near_surface_of_voxels(ijk, dist_mm)


def load_mask(path, *, origin_mm=(0.0, 0.0, 0.0), spacing_mm=(1.0, 1.0, 1.0)) -> VoxelMask:
    """Read a domain mask from ``.npy`` (with the given geometry) or NIfTI (needs nibabel).

    NIfTI geometry comes from the image affine; only axis-aligned affines are supported.
    """
    path = pathlib.Path(path)
    name = path.name.lower()
    if name.endswith(".npy"):
        return VoxelMask(np.load(path, allow_pickle=False), origin_mm, spacing_mm)
    if name.endswith((".nii", ".nii.gz")):
        try:
            import nibabel
        except ImportError as exc:
            raise ImportError(
                f"reading the NIfTI mask {path} needs nibabel (pip install nibabel); "
                "or save the mask as .npy with origin_mm and spacing_mm"
            ) from exc
        img = nibabel.load(str(path))
        data = np.asanyarray(img.dataobj) > 0
        aff = np.asarray(img.affine, dtype=float)
        lin = aff[:3, :3]
        if np.any(np.abs(lin - np.diag(np.diag(lin))) > 1e-9 * np.abs(lin).max()):
            raise ValueError(f"{path}: only axis-aligned NIfTI affines are supported")
        sp = np.diag(lin).copy()
        org = aff[:3, 3].copy()
        for ax in range(3):
            if sp[ax] < 0:  # flip so that spacing is positive
                data = np.flip(data, axis=ax)
                org[ax] += sp[ax] * (data.shape[ax] - 1)
                sp[ax] = -sp[ax]
        return VoxelMask(data, org, sp)
    raise ValueError(f"unknown mask format {path.suffix!r}: use .npy, .nii or .nii.gz")
