"""The installed taresim version (the package metadata), or a marker for a source tree."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("taresim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+unknown"
