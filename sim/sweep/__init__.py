"""Parameter sweeps on Dask: many scenarios from one base config, resumable and reproducible
(see :mod:`sim.sweep.runner`), with one figure per metric (:mod:`sim.sweep.plot`)."""
from sim.sweep.plot import plot_sweep, read_summary
from sim.sweep.runner import SweepSpec, expand_points, load_sweep, run_sweep

__all__ = ["run_sweep", "load_sweep", "expand_points", "SweepSpec", "plot_sweep",
           "read_summary"]
