"""Patient anatomy: voxel masks placed in the world by an affine (liver, perfused territory,
tumours from NIfTI) and NIfTI output of images on the same world frame."""
from sim.anatomy.masks import AffineMask, MaskTumour, check_affine, voxel_centres
from sim.anatomy.nifti import (anatomy_domain, grid_affine, is_nifti, load_nifti_mask,
                               mask_volume_mm3, read_nifti, resample_to_reference, write_nifti)

__all__ = ["AffineMask", "MaskTumour", "check_affine", "voxel_centres", "anatomy_domain",
           "grid_affine", "is_nifti", "load_nifti_mask", "mask_volume_mm3", "read_nifti",
           "resample_to_reference", "write_nifti"]
