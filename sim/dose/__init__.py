"""The dose stage: cross-fire dose of the deposited spheres on a grid over the perfused volume,
compartments, dose-volume metrics, lobule doses, radiobiology and the comparison with the
planning models; and its figures."""
from sim.dose.compartments import grid_for_tree, region_grid
from sim.dose.stage import DEFAULT_RADIOBIOLOGY, DoseResult, compute_dose

__all__ = ["compute_dose", "DoseResult", "region_grid", "grid_for_tree", "DEFAULT_RADIOBIOLOGY"]
