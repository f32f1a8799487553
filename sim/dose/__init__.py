"""The dose stage: cross-fire dose of the deposited spheres on a grid over the liver,
compartments (the tissue, with voxel fractions), dose-volume metrics, lobule doses,
radiobiology and the comparison with the planning models; and its figures."""
from sim.dose.compartments import (Compartments, compartments_on_grid, grid_for_tree,
                                   point_codes, region_grid)
from sim.dose.stage import DEFAULT_RADIOBIOLOGY, DoseResult, compartment_name, compute_dose

__all__ = ["compute_dose", "DoseResult", "Compartments", "compartments_on_grid",
           "point_codes", "region_grid", "grid_for_tree", "compartment_name",
           "DEFAULT_RADIOBIOLOGY"]
