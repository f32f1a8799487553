"""What every command shares: the user-error type, output checks before any work, JSON and
console output."""
from __future__ import annotations

from contextlib import contextmanager
import json
import math
from pathlib import Path
import sys

import numpy as np
from rich.console import Console

from sim.results.io import check_writable

__all__ = ["UserError", "EXIT_USAGE", "FIG_SUFFIXES", "input_errors", "check_output",
           "print_json", "console", "fmt", "show_progress"]

EXIT_USAGE = 2
FIG_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit status 2."""


@contextmanager
def input_errors(prefix: str = ""):
    """Report the plain ValueErrors that the physics raises for impossible input (values that
    pass the config's ranges but not the model) as one-line user errors; subclasses (pydantic,
    ConfigError, numpy) keep their own handling."""
    try:
        yield
    except ValueError as exc:
        if type(exc) is not ValueError:
            raise
        raise UserError(f"{prefix}{exc}") from None


def check_output(path, what, suffixes=None, folder=False):
    """Refuse an output path that cannot be written, before any work starts."""
    if path is None:
        return
    p = Path(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise UserError(f"{what} {path}: exists and is not a folder")
    else:
        if p.is_dir():
            raise UserError(f"{what} {path}: is a folder, give a file name")
        if suffixes and p.suffix.lower() not in suffixes:
            raise UserError(f"{what} {path}: unsupported file type (allowed: "
                            f"{', '.join(suffixes)})")
    for up in [p.parent, *p.parent.parents]:
        if up.exists():
            if not up.is_dir():
                raise UserError(f"{what} {path}: {up} is not a folder")
            break
    try:
        check_writable(p / "x" if folder else p)
    except OSError as exc:
        raise UserError(f"{what} {path}: cannot be written ({exc})") from None


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _finite(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def print_json(obj) -> None:
    """Print ``obj`` as JSON (NaN/inf become null)."""
    print(json.dumps(_finite(obj), indent=2, default=_json_default))


def console() -> Console:
    """A rich console; pipes and files get a fixed wide layout so tables are never squeezed."""
    con = Console(highlight=False)
    return con if con.is_terminal else Console(highlight=False, width=160)


def fmt(v, digits=3) -> str:
    """A number for a table cell: thousands separators for integers and large values."""
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:,.0f}"


def show_progress(args) -> str:
    """Progress mode: off with ``--quiet``; a live display on a terminal, one log line per
    stage otherwise."""
    if getattr(args, "quiet", False):
        return "off"
    return "bar" if sys.stderr.isatty() else "log"
