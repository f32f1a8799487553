"""taresim: the simulation side (configs, devices, tree, transport, pipeline, CLI)."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("taresim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+unknown"


def run(config, **kwargs):
    """Run a scenario end to end; see :func:`sim.pipeline.run`."""
    from sim.pipeline import run as _run

    return _run(config, **kwargs)


def open_results(path):
    """Open a results file; see :class:`sim.results.Results`."""
    from sim.results import open_results as _open

    return _open(path)
