"""NIfTI in and out: liver, territory and tumour masks that define the tree's anatomy, and
images written on the same world frame so they open over the CT in 3D Slicer.

Reading uses nibabel's ``img.affine`` (the sform when set, else the qform: the NIfTI rule),
which maps 0-based voxel indices to scanner RAS+ coordinates [mm]; taresim's world
coordinates are those RAS+ millimetres. Writing stores the same kind of affine as both sform
and qform (code 1, scanner), so every image taresim writes lands where its voxels are in the
world, whatever its voxel size.

References
----------
.. [1] NIfTI-1 data format, header fields ``sform_code`` / ``qform_code`` (nifti.nimh.nih.gov).
.. [2] Brett M et al. nibabel (nipy.org/nibabel): coordinate systems and affines.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import ndimage

from sim.anatomy.masks import AffineMask, check_affine

__all__ = ["is_nifti", "read_nifti", "load_nifti_mask", "anatomy_domain", "grid_affine",
           "write_nifti", "resample_to_reference", "mask_volume_mm3"]


def is_nifti(path) -> bool:
    """True for ``.nii`` and ``.nii.gz`` file names."""
    return str(path).lower().endswith((".nii", ".nii.gz"))


def _nibabel():
    try:
        import nibabel
    except ImportError as exc:  # a declared dependency; an old environment may lack it
        raise ImportError("NIfTI input and output need nibabel (pip install nibabel)") from exc
    return nibabel


def read_nifti(path) -> tuple[np.ndarray, np.ndarray]:
    """Voxel data (3-D; a 4-D image with one volume is squeezed) and affine (4x4) [mm].

    Raises
    ------
    ValueError
        Unreadable file, more than one volume, or an affine that is not invertible.
    """
    nib = _nibabel()
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises several types for damaged files
        raise ValueError(f"{path}: not a readable NIfTI image ({exc})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f"{path}: a 3-D image is needed (shape {data.shape})")
    try:
        affine = check_affine(img.affine, f"{path}: affine")
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return np.asarray(data), affine


def load_nifti_mask(path, label: int | None = None) -> AffineMask:
    """A mask from a NIfTI image: voxels equal to ``label``, or all non-zero voxels.

    Raises
    ------
    ValueError
        No voxel is set (or none carries the label).
    """
    data, affine = read_nifti(path)
    sel = (data == label) if label is not None else (data != 0)
    if not sel.any():
        what = f"label {label}" if label is not None else "a non-zero voxel"
        raise ValueError(f"{path}: no voxel carries {what}")
    return AffineMask(sel, affine)


def anatomy_domain(liver_path, territory_path=None) -> AffineMask:
    """The tree's domain: the liver mask, cut to the perfused territory when one is given.

    Raises
    ------
    ValueError
        Territory on another grid (shape or affine) than the liver, or no voxel in common.
    """
    liver = load_nifti_mask(liver_path)
    if territory_path is None:
        return liver
    terr = load_nifti_mask(territory_path)
    if terr.mask.shape != liver.mask.shape or not np.allclose(terr.affine, liver.affine,
                                                             atol=1e-4):
        raise ValueError(f"{territory_path}: the territory mask must be on the liver mask's "
                         f"grid (shape {liver.mask.shape} and the same affine)")
    both = liver.mask & terr.mask
    if not both.any():
        raise ValueError(f"{territory_path}: the territory mask does not overlap the liver "
                         f"mask {liver_path}")
    return AffineMask(both, liver.affine)


def mask_volume_mm3(path) -> float:
    """Volume of the non-zero voxels of a NIfTI mask [mm^3]."""
    return load_nifti_mask(path).volume_mm3


def grid_affine(origin_mm, spacing_mm) -> np.ndarray:
    """Affine of an axis-aligned world grid: voxel (0, 0, 0) centred at ``origin_mm``."""
    a = np.eye(4)
    a[:3, :3] = np.diag(np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)))
    a[:3, 3] = np.asarray(origin_mm, dtype=float)
    return a


def write_nifti(path, data, affine, *, description: str = "", intent: str = "") -> Path:
    """Write a 3-D image as NIfTI-1 (``.nii`` or ``.nii.gz``) atomically.

    The affine goes into sform and qform (code 1, scanner RAS+); ``description`` (at most
    80 characters) and ``intent`` (e.g. the unit) are stored in the header.
    """
    nib = _nibabel()
    path = Path(path)
    if not is_nifti(path):
        raise ValueError(f"{path}: a NIfTI file name ends in .nii or .nii.gz")
    arr = np.asarray(data)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    elif arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.int64:  # nibabel refuses 64-bit integers without an explicit type
        if arr.size and (arr.min() < np.iinfo(np.int32).min or arr.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{path}: integer values beyond the int32 range cannot be stored")
        arr = arr.astype(np.int32)
    affine = check_affine(affine)
    img = nib.Nifti1Image(arr, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header["descrip"] = description[:79].encode()
    if intent:
        img.header.set_intent("estimate", name=intent[:15])
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".nii.gz" if str(path).lower().endswith(".gz") else ".nii"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        nib.save(img, str(tmp))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def resample_to_reference(data, affine, ref_shape, ref_affine, *, order: int = 0,
                          cval: float = 0.0) -> np.ndarray:
    """An image resampled onto a reference grid (e.g. the CT or mask the anatomy came from).

    Each reference voxel centre is mapped into the source's voxel space and interpolated
    (``order`` 0: nearest, for label maps; 1: linear) with ``scipy.ndimage.affine_transform``.
    """
    src = check_affine(affine)
    ref = check_affine(ref_affine)
    m = np.linalg.inv(src) @ ref  # reference index -> source index
    return ndimage.affine_transform(np.asarray(data), m[:3, :3], offset=m[:3, 3],
                                    output_shape=tuple(int(v) for v in ref_shape),
                                    order=order, mode="constant", cval=cval, prefilter=False)
