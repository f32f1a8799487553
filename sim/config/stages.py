"""Scenario sections of the simulation stages: ``[tree]``, ``[flow]``, ``[transport]``,
``[dose]``.

Validated like the rest of the scenario (see :mod:`sim.config`); relative file paths are
resolved against the directory of the scenario file.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from dosimetry.constants import LIVER_DENSITY_G_CM3
from sim.config.base import Fraction, InputPath, KeyValueError, Section as _Section, Vec3
from sim.config.base import check_vec3 as _vec3
from sim.tree.heterogeneity import DEFAULT_FRACTAL_DIMENSION, DEFAULT_RD_1G

__all__ = ["DomainSpec", "TumourSpec", "TreeSpec", "FlowSpec", "TransportParams",
           "TransportSpec", "DoseSpec", "GENERATOR_KEYS", "INJECTION_LEVELS"]


class DomainSpec(_Section):
    """Perfused domain of a grown tree: ellipsoid, box or voxel mask (.npy, or NIfTI placed
    by its affine; a NIfTI liver mask may be cut to a perfused ``territory`` mask on the same
    grid)."""

    shape: Literal["ellipsoid", "box", "mask"] = "ellipsoid"
    centre_mm: Vec3 | None = None
    semi_axes_mm: Vec3 | None = None
    min_mm: Vec3 | None = None
    max_mm: Vec3 | None = None
    path: InputPath | None = None
    territory: InputPath | None = None
    origin_mm: Vec3 = [0.0, 0.0, 0.0]
    spacing_mm: Vec3 = [1.0, 1.0, 1.0]

    _v = field_validator("centre_mm", "semi_axes_mm", "min_mm", "max_mm", "origin_mm",
                         "spacing_mm")(lambda v, info: _vec3(v, info.field_name))

    @model_validator(mode="after")
    def _keys(self):
        need = {"ellipsoid": ("centre_mm", "semi_axes_mm"), "box": ("min_mm", "max_mm"),
                "mask": ("path",)}[self.shape]
        for key in need:
            if getattr(self, key) is None:
                raise KeyValueError(key, None, f"required for a {self.shape} domain")
        if self.shape == "ellipsoid" and min(self.semi_axes_mm) <= 0:
            raise KeyValueError("semi_axes_mm", self.semi_axes_mm, "must all be > 0")
        if self.shape == "box" and any(b <= a for a, b in zip(self.min_mm, self.max_mm)):
            raise KeyValueError("max_mm", self.max_mm, "must exceed min_mm on every axis")
        if min(self.spacing_mm) <= 0:
            raise KeyValueError("spacing_mm", self.spacing_mm, "must all be > 0")
        if self.territory is not None and not (self.shape == "mask" and _nifti(self.path)
                                               and _nifti(self.territory)):
            raise KeyValueError("territory", self.territory, "needs a NIfTI mask domain "
                                "(shape = \"mask\", path and territory .nii or .nii.gz)")
        return self


def _nifti(path) -> bool:
    return path is not None and str(path).lower().endswith((".nii", ".nii.gz"))


class TumourSpec(_Section):
    """A tumour: sphere (``radius_mm`` scalar), axis-aligned ellipsoid (3 semi-axes), or the
    voxels of a NIfTI ``mask`` (those equal to ``label``, or all non-zero ones)."""

    centre_mm: Vec3 | None = None
    radius_mm: float | Vec3 | None = None
    mask: InputPath | None = None
    label: int | None = Field(default=None, ge=1, le=65535)
    terminal_mass_mg: float | None = Field(default=None, gt=0.0, le=1000.0)
    vascularity: float = Field(default=3.0, gt=0.0, le=100.0)

    _c = field_validator("centre_mm")(lambda v: _vec3(v, "centre_mm"))

    @field_validator("radius_mm")
    @classmethod
    def _radius(cls, v):
        vals = v if isinstance(v, list) else [v]
        if v is not None and (len(vals) not in (1, 3) or min(vals) <= 0):
            raise ValueError("must be one radius or 3 semi-axes, all > 0 [mm]")
        return v

    @model_validator(mode="after")
    def _one_shape(self):
        if self.mask is not None:
            if self.centre_mm is not None or self.radius_mm is not None:
                raise KeyValueError("mask", self.mask, "give a mask or centre_mm and "
                                    "radius_mm, not both")
            if not _nifti(self.mask):
                raise KeyValueError("mask", self.mask, "must be a NIfTI file (.nii, .nii.gz)")
            return self
        if self.label is not None:
            raise KeyValueError("label", self.label, "needs a mask")
        for key in ("centre_mm", "radius_mm"):
            if getattr(self, key) is None:
                raise KeyValueError(key, None, "required key is missing (or give a mask)")
        return self


GENERATOR_KEYS = {
    "bifurcating": {"generations", "split_ratio", "terminal_radius_um", "root_radius_um",
                    "murray_exponent", "lobule_mass_mg", "root_xyz_mm", "length_to_radius",
                    "random_split"},
    "grown": {"domain", "root_xyz_mm", "root_radius_um", "terminal_mass_mg",
              "tissue_density_g_cm3", "murray_exponent", "tumours", "minor_share_beta",
              "flow_rd_1g", "flow_fractal_dimension", "branching", "side_branch_spacing"},
    "file": {"path"},
}


class TreeSpec(_Section):
    """Arterial tree: ``bifurcating`` (teaching tree), ``grown`` (space filling) or ``file``.

    A grown tree's ``branching`` is ``partition`` (shallow: binary space partition, minor
    shares from ``minor_share_beta``) or ``trunks`` (deep: side branches every
    ``side_branch_spacing`` terminal cell sides along long trunks, as in CCO trees; see
    :mod:`sim.tree.trunks`)."""

    generator: Literal["bifurcating", "grown", "file"] = "grown"
    generations: int = Field(default=10, ge=0, le=22)
    split_ratio: float = Field(default=0.5, gt=0.0, lt=1.0)
    terminal_radius_um: float = Field(default=15.0, gt=1.0, le=500.0)
    root_radius_um: float | None = Field(default=None, gt=1.0, le=10000.0)
    murray_exponent: float = Field(default=3.0, ge=2.0, le=4.0)
    lobule_mass_mg: float | None = Field(default=None, gt=0.0, le=1000.0)
    length_to_radius: float = Field(default=20.0, gt=0.0, le=1000.0)
    root_xyz_mm: Vec3 = [0.0, 0.0, 0.0]
    domain: DomainSpec | None = None
    terminal_mass_mg: float = Field(default=1.0, gt=0.01, le=1000.0)
    tissue_density_g_cm3: float = Field(default=LIVER_DENSITY_G_CM3, gt=0.5, le=2.0)
    tumours: list[TumourSpec] = []
    minor_share_beta: list[float] = [2.0, 1.0]
    flow_rd_1g: float = Field(default=DEFAULT_RD_1G, ge=0.0, le=5.0)
    flow_fractal_dimension: float = Field(default=DEFAULT_FRACTAL_DIMENSION, ge=1.0, lt=2.0)
    random_split: bool = False
    branching: Literal["partition", "trunks"] = "partition"
    side_branch_spacing: float = Field(default=0.75, gt=0.05, le=100.0)
    path: InputPath | None = None

    _r = field_validator("root_xyz_mm")(lambda v: _vec3(v, "root_xyz_mm"))

    @model_validator(mode="after")
    def _keys(self):
        allowed = GENERATOR_KEYS[self.generator] | {"generator"}
        for key in sorted(self.model_fields_set - allowed):
            raise KeyValueError(key, getattr(self, key),
                                f"not a key of the {self.generator!r} generator (its keys: "
                                f"{', '.join(sorted(allowed - {'generator'}))})")
        if self.generator == "grown":
            if self.domain is None:
                raise KeyValueError("domain", None, "required for a grown tree")
            if self.root_radius_um is None:
                raise KeyValueError("root_radius_um", None, "required for a grown tree [um]")
        if self.generator == "file" and self.path is None:
            raise KeyValueError("path", None, "required for a tree loaded from a file "
                                "(.csv or .h5)")
        unused = {"partition": "side_branch_spacing", "trunks": "minor_share_beta"}[self.branching]
        if getattr(self, unused) != type(self).model_fields[unused].default:
            raise KeyValueError(unused, getattr(self, unused),
                                f"not used by branching = {self.branching!r}")
        if len(self.minor_share_beta) != 2 or min(self.minor_share_beta) <= 0:
            raise KeyValueError("minor_share_beta", self.minor_share_beta,
                                "needs two numbers > 0 (Beta(a, b) parameters)")
        return self


class FlowSpec(_Section):
    """Boundary conditions and blood rheology (defaults: Crookston et al. 2019)."""

    viscosity_mPa_s: float = Field(default=3.5, gt=0.5, le=20.0)
    inlet_flow_mL_min: float | None = Field(default=None, gt=0.0, le=5000.0)
    inlet_pressure_mmHg: float | None = Field(default=None, gt=0.0, le=300.0)
    terminal_pressure_mmHg: float = Field(default=25.0, ge=0.0, le=200.0)
    fahraeus_lindqvist: bool = False
    hematocrit: float = Field(default=0.45, ge=0.0, lt=1.0)
    calibrate_perfusion_mL_min_g: float | None = Field(default=None, gt=0.0, le=20.0)

    @model_validator(mode="after")
    def _bc(self):
        if self.calibrate_perfusion_mL_min_g is not None and self.fahraeus_lindqvist:
            raise KeyValueError("calibrate_perfusion_mL_min_g", self.calibrate_perfusion_mL_min_g,
                                "needs fahraeus_lindqvist = false (the radii are scaled at "
                                "constant viscosity)")
        if self.calibrate_perfusion_mL_min_g is not None and self.inlet_flow_mL_min is not None:
            raise KeyValueError("calibrate_perfusion_mL_min_g", self.calibrate_perfusion_mL_min_g,
                                "needs a pressure-driven inlet: remove inlet_flow_mL_min")
        if self.inlet_flow_mL_min is not None and self.inlet_pressure_mmHg is not None:
            raise KeyValueError("inlet_flow_mL_min", self.inlet_flow_mL_min,
                                "give inlet_flow_mL_min or inlet_pressure_mmHg, not both")
        p_in = self.inlet_pressure_mmHg
        if p_in is not None and p_in <= self.terminal_pressure_mmHg:
            raise KeyValueError("inlet_pressure_mmHg", p_in,
                                f"must exceed terminal_pressure_mmHg ({self.terminal_pressure_mmHg})")
        return self

    def kwargs(self) -> dict:
        """Keyword arguments of :class:`sim.flow.FlowState` / ``solve_flow``.

        ``calibrate_perfusion_mL_min_g`` acts on the tree's radii (:func:`sim.flow.calibrate_tree`),
        not on the solve.
        """
        return dict(viscosity_mPa_s=self.viscosity_mPa_s, inlet_flow_mL_min=self.inlet_flow_mL_min,
                    inlet_pressure_mmHg=self.inlet_pressure_mmHg,
                    terminal_pressure_mmHg=self.terminal_pressure_mmHg,
                    fahraeus_lindqvist=self.fahraeus_lindqvist, hematocrit=self.hematocrit)


#: Catheter levels of ``transport.injection``: depth from the root of the largest-flow segment.
INJECTION_LEVELS = {"root": 0, "lobar": 1, "segmental": 3, "selective": 5}


class _TransportPhysics(_Section):
    """Transport parameters shared by the config section and the transport model (see
    :mod:`sim.transport`): each bound is written here once."""

    # open interval: s = 0 or 1 would shut a vessel's only child or stack spheres at an
    # open bifurcation
    straight_ratio: float = Field(default=0.5, gt=0.0, lt=1.0)
    embolic: Literal["linear", "multiplicative", "none"] = "linear"
    spheres_to_occlude: float = Field(default=50.0, ge=1.0, le=1e6)
    embolic_fraction: float = Field(default=0.02, gt=0.0, le=1.0)
    stasis_fraction: Fraction = 0.05
    after_stasis: Literal["reflux", "undelivered"] = "reflux"
    tumour_shunt_fraction: Fraction = 0.0
    plug: bool = False


class TransportParams(_TransportPhysics):
    """Parameters of :func:`sim.transport.transport_spheres`.

    Attributes
    ----------
    straight_ratio : float
        Bias s in (0, 1) toward the child continuing the parent's direction; 0.5 = none.
    embolic : {"linear", "multiplicative", "none"}
    spheres_to_occlude : float
        N_occ of the linear model [spheres].
    embolic_fraction : float
        f of the multiplicative model [1].
    stasis_fraction : float
        Injected-flow fraction below which stasis stops delivery [1].
    after_stasis : {"reflux", "undelivered"}
    lung_shunt_fraction : float
        Global LSF [1].
    tumour_shunt_fraction : float
        Probability that a sphere reaching a tumour terminal passes to the lungs through
        arteriovenous shunts [1] (0: off).
    plug : bool
        Whether a vessel that holds a lodged sphere stops every later sphere entering it
        (conglomerates behind a sphere lodged in a small artery; see docs/physics.md).
    """

    lung_shunt_fraction: Fraction = 0.0


class TransportSpec(_TransportPhysics):
    """The ``[transport]`` section (see :mod:`sim.transport`); ``engine`` picks the transport
    engine (:mod:`sim.transport.engines`, default ``auto``: the fastest for the tree)."""

    injection: int | Literal["root", "lobar", "segmental", "selective"] = "root"
    lung_shunt: Literal["global", "tumour"] = "global"
    max_spheres: int = Field(default=200_000_000, ge=1, le=10**9)
    engine: Literal["auto", "split", "walk", "paths"] = "auto"

    @model_validator(mode="after")
    def _engine(self):
        if self.engine == "split" and self.embolic != "none":
            raise KeyValueError("engine", self.engine, "needs embolic = \"none\" (the split "
                                "engine has no embolic feedback; use walk, paths or auto)")
        if self.engine in ("split", "paths") and self.plug:
            raise KeyValueError("engine", self.engine, "has no plugs: use plug = false, or "
                                "the walk or auto engine")
        return self

    def params(self, lung_shunt_fraction: float) -> TransportParams:
        """The model parameters, with the patient's LSF when the shunt is global."""
        lsf = lung_shunt_fraction if self.lung_shunt == "global" else 0.0
        keep = set(_TransportPhysics.model_fields)
        return TransportParams(lung_shunt_fraction=lsf,
                               **{k: v for k, v in self.model_dump().items() if k in keep})


class DoseSpec(_Section):
    """Cross-fire dose, metrics and radiobiology (see :mod:`sim.dose`)."""

    grid_um: float = Field(default=250.0, ge=25.0, le=2000.0)
    density_g_cm3: float | None = Field(default=None, gt=0.5, le=2.0)
    alpha_beta_Gy: float = Field(default=2.5, gt=0.0, le=50.0)
    tumour_alpha_beta_Gy: float = Field(default=10.0, gt=0.0, le=50.0)
    tumour_eud_alpha_per_Gy: float = Field(default=0.01, gt=0.0, le=2.0)
    repair_half_time_h: float = Field(default=1.5, gt=0.0, le=100.0)
    lkb: Literal["burman1991_liver", "dawson2002_primary", "dawson2002_metastases"] = \
        "dawson2002_primary"
    lobule_radius_mm: float | None = Field(default=None, gt=0.05, le=5.0)
