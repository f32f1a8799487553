"""taresim, the simulation side: scenarios, devices, arterial tree, flow, sphere transport,
the dose stage, results, sweeps and the command line.

The public face for notebooks and scripts:

>>> import sim
>>> scenario = sim.load_scenario("configs/default.toml")      # doctest: +SKIP
>>> res = sim.run(scenario, output="results/default.h5")       # doctest: +SKIP
>>> res.summary()["normal_mean_Gy"]                             # doctest: +SKIP

The stages, each a plain function on plain arrays, are in :mod:`sim.pipeline`; the layout is
described in ``docs/architecture.md``.
"""
from sim._version import __version__
from sim.config import ConfigError, Scenario, load_scenario
from sim.pipeline import run
from sim.results import Results, ResultsError, open_results

__all__ = ["run", "open_results", "Results", "Scenario", "load_scenario", "ConfigError",
           "ResultsError", "__version__"]
