"""Base of every config model: strict pydantic sections, precise key errors, path and vector
types, and the bounded number types that several sections share (each bound written once)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

__all__ = ["Section", "KeyValueError", "InputPath", "Vec3", "Fraction", "check_vec3"]


class KeyValueError(ValueError):
    """Raised inside validators to name the offending key and value precisely.

    ``key`` is relative to the model being validated unless ``absolute`` is true.
    """

    def __init__(self, key, value, message, *, absolute: bool = False):
        self.key = (key,) if isinstance(key, str) else tuple(key)
        self.value = value
        self.absolute = absolute
        super().__init__(message)


class Section(BaseModel):
    """Base of every config model: unknown keys and loose types are errors; immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _resolve(path: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir")
    p = Path(path).expanduser()
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    if not p.exists():
        raise ValueError(f"file not found: {p}")
    return str(p)


#: A file path in a scenario: resolved against the scenario file's folder, must exist.
InputPath = Annotated[str, AfterValidator(_resolve)]

#: Three coordinates or sizes [x, y, z] (checked by :func:`check_vec3`).
Vec3 = list[float]

#: A probability or fraction in [0, 1) (lung shunt, stasis, tumour shunt).
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]


def check_vec3(v, name):
    """``v`` unchanged when it is None or has 3 entries; otherwise a ValueError naming it."""
    if v is not None and len(v) != 3:
        raise ValueError(f"{name} needs 3 numbers [x, y, z]")
    return v
