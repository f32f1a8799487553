"""The scenario model: patient, liver, treatment, plan, devices and the stage sections.

Read scenarios with :func:`sim.config.load_scenario`; the stage sections are in
:mod:`sim.config.stages`.
"""
from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from dosimetry.constants import LIVER_DENSITY_G_CM3
from dosimetry.decay import DOSE_CONSTANT_NAMES
from sim.config.base import Fraction, KeyValueError as _KeyError, Section as _Section
from sim.config.devices import Device, DeviceSpec, device_library
from sim.config.clinical import ChainSpec, ImagingSpec, ScoutSpec
from sim.config.stages import DoseSpec, FlowSpec, TransportSpec, TreeSpec

__all__ = ["Patient", "Liver", "Treatment", "Plan", "Scenario"]


class Patient(_Section):
    """Patient data used by the planning models and their warnings."""

    height_m: float = Field(default=1.70, gt=0.3, le=2.5)
    weight_kg: float = Field(default=70.0, gt=2.0, le=400.0)
    lung_shunt_fraction: Fraction = 0.05
    lung_mass_kg: float = Field(default=1.0, gt=0.0, le=5.0)
    prior_lung_dose_Gy: float = Field(default=0.0, ge=0.0, le=1000.0)
    ecog: int | None = Field(default=None, ge=0, le=5)
    bilirubin_mg_dL: float | None = Field(default=None, ge=0.0, le=100.0)
    albumin_g_dL: float | None = Field(default=None, ge=0.0, le=10.0)


class Liver(_Section):
    """Masses of the treated (perfused) volume.

    ``perfused_mass_kg`` includes the tumour; ``tumour_to_normal`` is the T/N ratio of activity
    concentrations the partition model uses (a later simulation measures it instead). With a
    ``[tree]`` section, ``perfused_mass_kg`` may be left out: planning then takes the masses
    and T/N from the tree.
    """

    perfused_mass_kg: float | None = Field(default=None, gt=0.0, le=5.0)
    tumour_mass_kg: float = Field(default=0.0, ge=0.0, le=5.0)
    tumour_to_normal: float = Field(default=1.0, gt=0.0, le=100.0)
    whole_liver_mass_kg: float | None = Field(default=None, gt=0.0, le=6.0)

    @model_validator(mode="after")
    def _masses(self):
        if self.perfused_mass_kg is None:
            return self
        if self.tumour_mass_kg >= self.perfused_mass_kg:
            raise _KeyError("tumour_mass_kg", self.tumour_mass_kg,
                            f"must be less than liver.perfused_mass_kg ({self.perfused_mass_kg})")
        if self.whole_liver_mass_kg is not None and self.whole_liver_mass_kg < self.perfused_mass_kg:
            raise _KeyError("whole_liver_mass_kg", self.whole_liver_mass_kg,
                            f"must be at least liver.perfused_mass_kg ({self.perfused_mass_kg})")
        return self

    @property
    def normal_mass_kg(self) -> float:
        """Perfused normal liver mass [kg]."""
        return self.perfused_mass_kg - self.tumour_mass_kg

    @property
    def tumour_fraction(self) -> float:
        """Tumour involvement of the perfused volume [1]."""
        return self.tumour_mass_kg / self.perfused_mass_kg


class Treatment(_Section):
    """Device, activity and timing."""

    device: str = "glass"
    activity_GBq: float | None = Field(default=None, gt=0.0, le=50.0)
    days_after_calibration: float = Field(default=0.0, ge=-14.0, le=28.0)
    dose_constant: str | float = "icrp107"

    @field_validator("dose_constant")
    @classmethod
    def _dose_constant(cls, v):
        if isinstance(v, str):
            if v.strip().lower() not in DOSE_CONSTANT_NAMES:
                raise ValueError(f"must be one of {', '.join(DOSE_CONSTANT_NAMES)} "
                                 "or a number [Gy kg/GBq]")
            return v.strip().lower()
        if not (0 < v <= 1000):
            raise ValueError("must be a positive number [Gy kg/GBq] (allowed: 0 < K <= 1000)")
        return float(v)


class Plan(_Section):
    """Dose targets of the planning models."""

    mird_dose_Gy: float = Field(default=120.0, gt=0.0, le=2000.0)
    partition_normal_dose_Gy: float | None = Field(default=None, gt=0.0, le=2000.0)
    partition_tumour_dose_Gy: float | None = Field(default=None, gt=0.0, le=5000.0)

    @model_validator(mode="after")
    def _one_target(self):
        if self.partition_normal_dose_Gy is not None and self.partition_tumour_dose_Gy is not None:
            raise _KeyError("partition_tumour_dose_Gy", self.partition_tumour_dose_Gy,
                            "give either partition_normal_dose_Gy or partition_tumour_dose_Gy, "
                            "not both")
        return self

    @property
    def partition_target(self) -> dict:
        """Keyword for :func:`dosimetry.planning.partition` (default: 40 Gy normal liver)."""
        if self.partition_tumour_dose_Gy is not None:
            return {"tumour_dose_Gy": self.partition_tumour_dose_Gy}
        return {"normal_dose_Gy": self.partition_normal_dose_Gy or 40.0}


class Scenario(_Section):
    """A validated scenario. Sections: ``patient``, ``liver``, ``treatment``, ``plan``,
    ``devices`` (custom devices), ``tree``, ``flow``, ``transport``, ``dose``, the clinical
    chain's ``scout``, ``imaging`` and ``chain`` (defaults when absent), plus the root ``seed``
    and ``name``. ``liver`` (masses for planning) is required unless a ``tree`` section gives
    the anatomy."""

    name: str = "scenario"
    seed: int = Field(default=20261127, ge=0, lt=2**63)
    patient: Patient = Patient()
    liver: Liver | None = None
    treatment: Treatment = Treatment()
    plan: Plan = Plan()
    devices: dict[str, DeviceSpec] = {}
    tree: TreeSpec | None = None
    flow: FlowSpec = FlowSpec()
    transport: TransportSpec = TransportSpec()
    dose: DoseSpec = DoseSpec()
    scout: ScoutSpec | None = None
    imaging: ImagingSpec | None = None
    chain: ChainSpec | None = None

    @model_validator(mode="after")
    def _anatomy(self):
        if self.liver is None and self.tree is None:
            raise _KeyError("liver", None, "required key is missing (give [liver] masses, "
                            "or a [tree] section)", absolute=True)
        if self.tree is None and self.liver.perfused_mass_kg is None:
            raise _KeyError(("liver", "perfused_mass_kg"), None, "required key is missing "
                            "(or give a [tree] section)", absolute=True)
        return self

    @model_validator(mode="after")
    def _device_known(self):
        lib = device_library(self.devices)
        if self.treatment.device not in lib:
            raise _KeyError(("treatment", "device"), self.treatment.device,
                            f"unknown device (allowed: {', '.join(sorted(lib))})", absolute=True)
        return self

    @model_validator(mode="after")
    def _one_density(self):
        tree = self.tree
        d = self.dose.density_g_cm3
        if d is not None and tree is not None and tree.generator == "grown" \
                and "tissue_density_g_cm3" in tree.model_fields_set and d != tree.tissue_density_g_cm3:
            raise _KeyError(("dose", "density_g_cm3"), d,
                            f"must equal tree.tissue_density_g_cm3 ({tree.tissue_density_g_cm3}): "
                            "one tissue, one density", absolute=True)
        return self

    @property
    def tissue_density_g_cm3(self) -> float:
        """The tissue's density [g/cm^3]: ``[dose]``'s, else the grown tree's, else liver's."""
        if self.dose.density_g_cm3 is not None:
            return self.dose.density_g_cm3
        if self.tree is not None and self.tree.generator == "grown":
            return self.tree.tissue_density_g_cm3
        return LIVER_DENSITY_G_CM3

    def device(self) -> Device:
        """The :class:`sim.config.devices.Device` of the treatment."""
        return device_library(self.devices)[self.treatment.device]
