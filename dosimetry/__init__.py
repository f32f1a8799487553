"""Physics of absorbed dose for radioembolization: decay data, planning models, dose point
kernels, cross-fire dose, dose-volume metrics and radiobiology.

Arrays in, arrays out; this package never imports :mod:`sim`, so a planner can use the
planning models without growing a tree:

>>> from dosimetry import mird
>>> round(mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.10, target_dose_Gy=120,
...            dose_constant="therasphere").activity_GBq, 3)
4.0

The physics and its sources are described in ``docs/physics.md``.
"""
from dosimetry.constants import (J_PER_MEV, LIVER_DENSITY_G_CM3, LOBULE_BALL_RADIUS_MM,
                                 LOBULE_VOLUME_MM3, SOFT_TISSUE_DENSITY_G_CM3)
from dosimetry.crossfire import decays_complete, dose_at_points, radial_table
from dosimetry.decay import dose_constant, get_nuclide
from dosimetry.grid import dose_on_grid, voxel_mean_dose_from_point
from dosimetry.kernels import DoseKernel, load_kernel, load_photon_kernel, total_kernel
from dosimetry.lobule import dose_in_balls
from dosimetry.metrics import cumulative_dvh, dose_statistics
from dosimetry.planning import PlanResult, bsa, lung_dose_Gy, mird, partition
from dosimetry.radiobiology import bed_Gy, eqd2_Gy, eud_Gy, geud_Gy, lkb_ntcp
from dosimetry.voxel_s import voxel_s_values

__all__ = [
    # planning models
    "mird", "partition", "bsa", "lung_dose_Gy", "PlanResult",
    # decay data
    "get_nuclide", "dose_constant",
    # kernels
    "DoseKernel", "load_kernel", "load_photon_kernel", "total_kernel", "voxel_s_values",
    "radial_table",
    # cross-fire dose
    "dose_at_points", "dose_on_grid", "dose_in_balls", "voxel_mean_dose_from_point",
    "decays_complete",
    # metrics and radiobiology
    "dose_statistics", "cumulative_dvh", "bed_Gy", "eqd2_Gy", "eud_Gy", "geud_Gy", "lkb_ntcp",
    # constants
    "J_PER_MEV", "LIVER_DENSITY_G_CM3", "SOFT_TISSUE_DENSITY_G_CM3", "LOBULE_VOLUME_MM3",
    "LOBULE_BALL_RADIUS_MM",
]
