"""Command-line options that override no scenario key: their bounds, written once."""
from __future__ import annotations

from pydantic import Field

from sim.config.base import Section

__all__ = ["KernelOptions", "SweepOptions"]


class KernelOptions(Section):
    """Options of ``taresim kernel``: medium density [g/cm^3] and cubic voxel size [mm]."""

    density_g_cm3: float = Field(default=1.06, ge=0.1, le=25.0)
    voxel_mm: float | None = Field(default=None, ge=0.001, le=50.0)


class SweepOptions(Section):
    """Options of ``taresim sweep``: LocalCluster worker processes."""

    workers: int | None = Field(default=None, ge=1, le=512)
