"""The numeric CSV tables shipped in ``dosimetry/data`` (physics data and reference kernels).

Format: ``#`` comment lines (the source of the numbers), one header line, then rows of
comma-separated numbers; an empty field is a value not given (NaN).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DATA_DIR", "read_table"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_table(name: str) -> np.ndarray:
    """Rows of ``DATA_DIR / name`` below its comments and header, as a float array (NaN for an
    empty field)."""
    lines = (DATA_DIR / name).read_text().splitlines()
    rows = [ln for ln in lines if ln and not ln.startswith("#")][1:]
    return np.array([[float(v) if v else np.nan for v in ln.split(",")] for ln in rows])
