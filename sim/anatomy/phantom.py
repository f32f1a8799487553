"""A small synthetic patient in NIfTI: liver, perfused territory and tumour label masks on a
CT-like grid (no download). ``python -m sim.anatomy.phantom FOLDER`` writes the one
``configs/nifti_phantom.toml`` uses.

The liver is an ellipsoid, the territory the part of it on one side of an oblique plane (a
sector fed by one artery), the tumours two balls inside the territory (labels 1 and 2). The
default grid is what DICOM-converted CTs usually give: voxels of 2 x 2 x 2.5 mm with the x
and y axes flipped (LPS data in a RAS+ file); ``rotation_deg`` tilts the grid about z to
exercise oblique affines.
"""
from __future__ import annotations

from pathlib import Path
import sys

import numpy as np

from sim.anatomy.masks import voxel_centres
from sim.anatomy.nifti import write_nifti

__all__ = ["PHANTOM", "phantom_affine", "phantom_masks", "tumour_balls", "write_phantom", "main"]

#: Geometry of the phantom in world (RAS+) millimetres.
PHANTOM = {
    "liver_centre_mm": (10.0, -20.0, 5.0),
    "liver_semi_axes_mm": (45.0, 35.0, 30.0),
    "territory_normal": (1.0, 0.3, 0.0),     # territory: (p - centre) . n > offset
    "territory_offset_mm": -5.0,
    "tumours": (((25.0, -15.0, 5.0), 10.0), ((12.0, -35.0, 14.0), 6.0)),  # centre, radius
}


def phantom_affine(voxel_mm=(2.0, 2.0, 2.5), shape=(56, 44, 30), rotation_deg: float = 0.0,
                   flip_xy: bool = True) -> np.ndarray:
    """Affine of a grid whose centre voxel sits on the liver's centre: spacing ``voxel_mm``,
    x and y flipped (``flip_xy``), rotated about z by ``rotation_deg``."""
    t = np.deg2rad(rotation_deg)
    rot = np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])
    sign = np.array([-1.0, -1.0, 1.0]) if flip_xy else np.ones(3)
    lin = rot @ np.diag(sign * np.asarray(voxel_mm, dtype=float))
    a = np.eye(4)
    a[:3, :3] = lin
    centre_index = (np.asarray(shape, dtype=float) - 1.0) / 2.0
    a[:3, 3] = np.asarray(PHANTOM["liver_centre_mm"]) - lin @ centre_index
    return a


def tumour_balls(scale: float = 1.0) -> list:
    """(centre [mm], radius [mm]) of the phantom's tumours, shrunk about the liver's centre
    by ``scale``."""
    c = np.asarray(PHANTOM["liver_centre_mm"])
    return [(c + scale * (np.asarray(t) - c), scale * r) for t, r in PHANTOM["tumours"]]


def phantom_masks(affine, shape, scale: float = 1.0) -> dict:
    """Liver (bool), territory (bool) and tumour labels (uint8) on a grid; ``scale`` shrinks
    the phantom about the liver's centre."""
    p = voxel_centres(shape, affine).reshape(tuple(shape) + (3,))
    c = np.asarray(PHANTOM["liver_centre_mm"])
    q = (p - c) / (scale * np.asarray(PHANTOM["liver_semi_axes_mm"]))
    liver = np.einsum("...i,...i->...", q, q) <= 1.0
    n = np.asarray(PHANTOM["territory_normal"])
    territory = liver & ((p - c) @ (n / np.linalg.norm(n))
                         > scale * PHANTOM["territory_offset_mm"])
    labels = np.zeros(tuple(shape), np.uint8)
    for k, (centre, r) in enumerate(tumour_balls(scale), start=1):
        d = p - centre
        labels[(np.einsum("...i,...i->...", d, d) <= r * r) & territory] = k
    return {"liver": liver, "territory": territory, "tumours": labels}


def write_phantom(folder, *, voxel_mm=(2.0, 2.0, 2.5), shape=(56, 44, 30),
                  rotation_deg: float = 0.0, flip_xy: bool = True, scale: float = 1.0) -> dict:
    """Write ``liver.nii.gz``, ``territory.nii.gz`` and ``tumours.nii.gz``; returns their
    paths and the affine."""
    folder = Path(folder)
    aff = phantom_affine(voxel_mm, shape, rotation_deg, flip_xy)
    out = {"affine": aff}
    for name, arr in phantom_masks(aff, shape, scale).items():
        out[name] = write_nifti(folder / f"{name}.nii.gz", arr.astype(np.uint8), aff,
                                description=f"taresim synthetic phantom: {name}")
    return out


def main(argv=None) -> int:
    """``python -m sim.anatomy.phantom FOLDER``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.anatomy.phantom FOLDER", file=sys.stderr)
        return 2
    for name, path in write_phantom(args[0]).items():
        if name != "affine":
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
