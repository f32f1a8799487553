"""Clinical voxel dosimetry of a post-treatment image, and the true dose at the same voxels.

* local deposition (LDM): all energy in the voxel where the image puts the activity,
  D = K A / (rho V), K the dose constant [Gy kg / GBq] (complete decay of the activity at the
  time of the implant);
* voxel-S convolution (VSV): D = S * A~, the cumulated activity convolved with the project's
  own voxel S values (:func:`dosimetry.voxel_s_values`, charged particles and photons, cube of
  +-n voxels) by FFT (``scipy.signal.fftconvolve``);
* truth: the microscale (fine-grid) dose averaged over each clinical voxel (a fine voxel
  belongs to the clinical voxel holding its centre; parts of a clinical voxel beyond the
  fine grid count as 0 Gy: the fine grid covers the liver with a thin margin).

Both methods assume the MIRD pamphlet 17 / EANM conventions: a homogeneous medium of the
tissue's density and activity uniform within each voxel.

References
----------
.. [1] Bolch WE et al. MIRD Pamphlet No. 17. J Nucl Med 1999;40:11S.
.. [2] Chiesa C et al. EANM dosimetry SOP for 90Y radioembolization. EJNMMI Phys 2021 (LDM
       and patient-relative calibration as basic assumptions).
.. [3] Dieudonne A et al. J Nucl Med 2010;51:1600 (voxel S values at any voxel size).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import signal

from dosimetry.constants import LN2, SECONDS_PER_HOUR
from dosimetry.decay import get_nuclide
from dosimetry.voxel_s import mirror_octant, voxel_s_values

__all__ = ["activity_at_implant_Bq", "ldm_dose_Gy", "vsv_dose_Gy", "vsv_extent",
           "truth_on_grid", "scale_to_total"]


def activity_at_implant_Bq(activity_Bq, delay_h: float, half_life_h: float):
    """Activity decay-corrected from the start of the acquisition back to the implant [Bq]."""
    return np.asarray(activity_Bq, dtype=np.float64) * 2.0 ** (delay_h / half_life_h)


def ldm_dose_Gy(activity_Bq, voxel_mm: float, *, dose_constant_Gy_kg_per_GBq: float,
                density_g_cm3: float) -> np.ndarray:
    """Local deposition: D = K A / (rho V) per voxel [Gy] (A at the implant [Bq]).

    Examples
    --------
    1 GBq in one 4 mm voxel of 1.06 g/cm^3 with K = 49.76 Gy kg/GBq:

    >>> round(float(ldm_dose_Gy([1e9], 4.0, dose_constant_Gy_kg_per_GBq=49.76,
    ...                         density_g_cm3=1.06)[0]), 0)
    733491.0
    """
    mass_kg = density_g_cm3 * voxel_mm ** 3 * 1e-6  # g/cm^3 x mm^3 = mg
    return dose_constant_Gy_kg_per_GBq * np.asarray(activity_Bq, dtype=np.float64) * 1e-9 \
        / mass_kg


def vsv_extent(voxel_mm: float, density_g_cm3: float, range_mm: float = 11.3) -> int:
    """Voxel offsets n of the S-value cube: the Y-90 beta range (11.3 mm CSDA at the
    endpoint in water) scaled by density, plus one voxel."""
    return max(1, math.ceil(range_mm / density_g_cm3 / voxel_mm) + 1)


def vsv_dose_Gy(activity_Bq, voxel_mm: float, *, nuclide: str, density_g_cm3: float,
                photons: bool = True, n: int | None = None) -> np.ndarray:
    """Voxel-S convolution of the complete decay of ``activity_Bq`` (at the implant) [Gy]."""
    n = vsv_extent(voxel_mm, density_g_cm3) if n is None else int(n)
    s = mirror_octant(voxel_s_values(nuclide, voxel_mm, density_g_cm3=density_g_cm3, n=n,
                                     photons=photons))  # mGy / (MBq s)
    tau_s = get_nuclide(nuclide).half_life_h * SECONDS_PER_HOUR / LN2
    cumulated = np.asarray(activity_Bq, dtype=np.float64) * 1e-6 * tau_s  # MBq s
    dose = signal.fftconvolve(cumulated, s, mode="same") * 1e-3
    return np.maximum(dose, 0.0)  # FFT round-off leaves ~1e-16 relative negatives


def _axis_map(fine_origin, fine_step, n_fine, coarse_origin, voxel, n_coarse):
    x = fine_origin + np.arange(n_fine) * fine_step
    i = np.floor((x - (coarse_origin - 0.5 * voxel)) / voxel).astype(np.int64)
    i[(i < 0) | (i >= n_coarse)] = -1
    return i


def truth_on_grid(fine_dose, fine_origin_mm, fine_spacing_mm, grid) -> np.ndarray:
    """Mean of a fine dose grid over each voxel of a clinical grid [Gy] (module notes)."""
    fine_dose = np.asarray(fine_dose)
    fo = np.asarray(fine_origin_mm, dtype=float)
    fs = np.broadcast_to(np.asarray(fine_spacing_mm, dtype=float), (3,))
    maps = [_axis_map(fo[a], fs[a], fine_dose.shape[a], grid.origin_mm[a], grid.voxel_mm,
                      grid.shape[a]) for a in range(3)]
    ny, nz = grid.shape[1], grid.shape[2]
    yz = (maps[1][:, None] * nz + maps[2][None, :])
    ok_yz = (maps[1][:, None] >= 0) & (maps[2][None, :] >= 0)
    total = np.zeros(grid.size)
    for i, ci in enumerate(maps[0]):
        if ci < 0:
            continue
        idx = ci * ny * nz + yz[ok_yz]
        total += np.bincount(idx, weights=fine_dose[i][ok_yz].astype(np.float64),
                             minlength=grid.size)
    return (total * float(np.prod(fs)) / grid.voxel_volume_mm3).reshape(grid.shape)


def scale_to_total(image, total: float) -> np.ndarray:
    """An image scaled so that it sums to ``total`` (patient-relative calibration)."""
    img = np.asarray(image, dtype=np.float64)
    s = float(img.sum())
    return img * (total / s) if s > 0 else img.copy()
