"""Command-line options that override no scenario key: their bounds, written once."""
from __future__ import annotations

from pydantic import Field

from sim.config.base import Section

__all__ = ["KernelOptions", "SweepOptions", "HistologyOptions"]


class KernelOptions(Section):
    """Options of ``taresim kernel``: medium density [g/cm^3] and cubic voxel size [mm]."""

    density_g_cm3: float = Field(default=1.06, ge=0.1, le=25.0)
    voxel_mm: float | None = Field(default=None, ge=0.001, le=50.0)


class SweepOptions(Section):
    """Options of ``taresim sweep``: LocalCluster worker processes."""

    workers: int | None = Field(default=None, ge=1, le=512)


class HistologyOptions(Section):
    """Options of ``taresim histology`` (:mod:`sim.histology`): the virtual protocol.

    Defaults follow Högberg et al., EJNMMI Phys 2015;2:10 (16 serially sectioned normal-liver
    punch biopsies 6-8 mm wide from 1-2 mm slabs, 15 sections of 30 um each); the cluster gap
    (0 um: touching) is this project's assumption, the paper's definition was not found.
    """

    biopsies: int = Field(default=16, ge=1, le=500)
    tumour_biopsies: int = Field(default=4, ge=0, le=100)
    diameter_mm: float = Field(default=7.0, ge=0.5, le=30.0)
    slab_mm: float = Field(default=1.5, ge=0.05, le=20.0)
    sections: int = Field(default=15, ge=1, le=500)
    section_um: float = Field(default=30.0, ge=1.0, le=2000.0)
    gap_um: float = Field(default=0.0, ge=0.0, le=1000.0)
    dose_spacing_um: float = Field(default=100.0, ge=5.0, le=2000.0)
    true_points: int = Field(default=4000, ge=10, le=1_000_000)
    samples_per_mass: int = Field(default=300, ge=10, le=100_000)
    seed: int = Field(default=12, ge=0, lt=2**63)
