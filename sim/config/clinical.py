"""Scenario sections of the clinical chain (``taresim chain``): ``[scout]``, ``[imaging]`` and
``[chain]``.

Every default is either a published value or a stated choice; the sources and the values that
could not be found are listed in docs/physics.md ("The clinical chain") and on each field.

References
----------
.. [1] Pulmolite (kit for Tc-99m albumin aggregated) US package insert: 1.0 mg aggregated
       albumin and 3.6-6.5 x 10^6 particles per vial; > 90 % of the particles 10-90 um, typical
       average size 15-30 um, none > 150 um.
.. [2] Grosser OS et al. J Nucl Med 2016;57:925 (abstract): the apparent lung shunt of
       Tc-99m-MAA rises from 3.9 % (1 h) to 7.7 % (5 h) and 9.9 % (24 h).
.. [3] Rausch I et al. EJNMMI Phys 2015;2:26; De Ponti E et al. Med Phys 2011 (NEMA
       sensitivity 9.6 cps/kBq of F-18).
.. [4] Willowson KP et al. EJNMMI 2015 (QUEST): 31.86 +- 0.47 positrons per 10^6 Y-90 decays
       (Selwyn et al.), random fraction ~80 % in Y-90 PET.
"""
from __future__ import annotations

from typing import Literal

from icrp107_database import get_icrp107_spectrum
from pydantic import Field, model_validator

from sim.config.base import Fraction, KeyValueError, Section

__all__ = ["ScoutSpec", "ModalitySpec", "SpectTcSpec", "PetY90Spec", "SpectY90Spec",
           "ImagingSpec", "ChainSpec", "MODALITIES", "Y90_POSITRONS_PER_DECAY",
           "PET_NEMA_CPS_PER_KBQ_F18"]

#: Internal pair production of Y-90: positrons per decay (Selwyn et al., as cited in [4]_).
Y90_POSITRONS_PER_DECAY = 31.86e-6
#: NEMA NU-2 sensitivity of a current PET/CT (Biograph mCT Flow, Discovery 600) [cps/kBq of
#: F-18] ([3]_).
PET_NEMA_CPS_PER_KBQ_F18 = 9.6


def _f18_positrons_per_decay() -> float:
    """Positrons per F-18 decay from ICRP-107 (0.9673)."""
    return float(get_icrp107_spectrum("F-18", "beta+")["weights"].sum())


#: Y-90 PET sensitivity in air [cps per MBq of Y-90]: NEMA F-18 sensitivity per positron times
#: the Y-90 positron yield (9600 x 31.86e-6 / 0.9673 = 0.316).
PET_Y90_CPS_PER_MBQ = PET_NEMA_CPS_PER_KBQ_F18 * 1e3 * Y90_POSITRONS_PER_DECAY \
    / _f18_positrons_per_decay()


class ScoutSpec(Section):
    """The Tc-99m-MAA scout (``[scout]``): activity, particles, sizes, shunting, breakdown.

    Particles per injection: ``particles`` when given, otherwise the vial's particle count
    times the share of the vial's activity drawn, ``activity_MBq`` / (``vial_activity_MBq``
    decayed over ``hours_labelling_to_injection``) ([1]_). Diameters: log-normal with
    ``median_diameter_um`` and geometric SD ``gsd`` truncated to [``min_diameter_um``,
    ``max_diameter_um``]; the defaults put 94 % of the particles in 10-90 um with a mean of
    29 um and none above 150 um ([1]_). Activity per particle grows as d^``activity_exponent``
    (3: the label is bound to the albumin mass; an assumption, not found). Particles smaller
    than ``passage_diameter_um`` pass the hepatic capillary bed to the lungs (a choice: the
    lower end of the kit's size specification). Breakdown: a ``labile_fraction`` of the
    activity of liver-lodged MAA is released (and leaves the liver) with half-time
    ``release_half_time_h`` (evaluated at the start of the SPECT,
    ``imaging.spect_tc99m.delay_h`` after the injection; lung-lodged MAA is held fixed); the
    defaults reproduce the three mean apparent lung shunts of [2]_ exactly (fit,
    docs/physics.md).
    """

    activity_MBq: float = Field(default=150.0, gt=0.0, le=2000.0)
    particles: int | None = Field(default=None, ge=1, le=10**8)
    particles_per_vial: float = Field(default=5.0e6, gt=0.0, le=1e9)
    vial_activity_MBq: float = Field(default=2775.0, gt=0.0, le=20000.0)
    hours_labelling_to_injection: float = Field(default=1.0, ge=0.0, le=24.0)
    median_diameter_um: float = Field(default=25.0, gt=1.0, le=500.0)
    gsd: float = Field(default=1.75, ge=1.0, le=5.0)
    min_diameter_um: float = Field(default=2.0, gt=0.0, le=500.0)
    max_diameter_um: float = Field(default=150.0, gt=1.0, le=1000.0)
    activity_exponent: float = Field(default=3.0, ge=0.0, le=3.0)
    passage_diameter_um: float = Field(default=10.0, ge=0.0, le=100.0)
    labile_fraction: Fraction = 0.7223
    release_half_time_h: float = Field(default=1.647, gt=0.0, le=1000.0)
    injection: int | Literal["root", "lobar", "segmental", "selective"] | None = None

    @model_validator(mode="after")
    def _sizes(self):
        if not self.min_diameter_um < self.median_diameter_um < self.max_diameter_um:
            raise KeyValueError("median_diameter_um", self.median_diameter_um,
                                f"must lie between min_diameter_um ({self.min_diameter_um}) "
                                f"and max_diameter_um ({self.max_diameter_um})")
        if self.particles is None and self.activity_MBq > self.vial_activity_MBq:
            raise KeyValueError("activity_MBq", self.activity_MBq,
                                f"exceeds vial_activity_MBq ({self.vial_activity_MBq})")
        return self


class ModalitySpec(Section):
    """One imaging system as the clinic reconstructs it.

    ``fwhm_mm``: system resolution of the reconstructed image [mm] (0: ideal imaging, no
    blur; otherwise at least ``voxel_mm``). ``voxel_mm``: cubic voxel [mm].
    ``sensitivity_cps_per_MBq``: detected counts per second per MBq of the nuclide in air;
    ``transmission``: fraction escaping the patient (attenuation; the image is corrected for
    it, the noise is not). ``acquisition_min``, ``delay_h``: acquisition time [min] and its
    start after the injection [h]. ``noise``: Poisson counting noise or none;
    ``noise_equivalent_fraction``: noise-equivalent counts over trues (randoms and scatter).
    """

    fwhm_mm: float = Field(ge=0.0, le=100.0)
    voxel_mm: float = Field(ge=0.25, le=20.0)
    sensitivity_cps_per_MBq: float = Field(gt=0.0, le=1e5)
    transmission: float = Field(gt=0.0, le=1.0)
    acquisition_min: float = Field(gt=0.0, le=600.0)
    delay_h: float = Field(ge=0.0, le=1000.0)
    noise: Literal["poisson", "none"] = "poisson"
    noise_equivalent_fraction: float = Field(default=1.0, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _resolution(self):
        if 0.0 < self.fwhm_mm < self.voxel_mm:
            raise KeyValueError("fwhm_mm", self.fwhm_mm,
                                f"below the voxel size voxel_mm = {self.voxel_mm} (allowed: "
                                "fwhm_mm >= voxel_mm, or 0 for ideal imaging)")
        return self


class SpectTcSpec(ModalitySpec):
    """Tc-99m SPECT/CT, LEHR collimator. FWHM 12.8 mm: 9.1 mm system resolution of a Symbia
    LEHR at 15 cm (collimator geometry with 3.8 mm intrinsic) and a 9 mm Gaussian post-filter
    in quadrature (derived; clinical reconstructed FWHM not found). 4.42 mm voxels (128^2
    matrix). 182 cps/MBq: 2 heads x 91 cps/MBq (cited for the Symbia LEHR). Transmission 0.30:
    exp(-0.15/cm x 8 cm) (a choice). 20 min (60 stops x 20 s), 1.5 h after the injection."""

    fwhm_mm: float = Field(default=12.8, ge=0.0, le=100.0)
    voxel_mm: float = Field(default=4.42, ge=0.25, le=20.0)
    sensitivity_cps_per_MBq: float = Field(default=182.0, gt=0.0, le=1e5)
    transmission: float = Field(default=0.30, gt=0.0, le=1.0)
    acquisition_min: float = Field(default=20.0, gt=0.0, le=600.0)
    delay_h: float = Field(default=1.5, ge=0.0, le=1000.0)


class PetY90Spec(ModalitySpec):
    """Y-90 PET/CT (internal pair production). FWHM 8 mm and 4 mm voxels: choices (the
    reconstructed Y-90 PET resolution was not found; NEMA F-18 resolution is 4.3-5.6 mm).
    Sensitivity: 9.6 cps/kBq of F-18 ([3]_) per positron (ICRP-107: 0.9673 per F-18 decay)
    times 31.86e-6 positrons per Y-90 decay ([4]_) = 0.316 cps/MBq. Transmission 0.10:
    exp(-0.096/cm x 24 cm) for the pair (a choice). Noise-equivalent fraction 0.2: ~80 %
    randoms ([4]_). 15 min per bed; 4 h after the treatment (a choice)."""

    fwhm_mm: float = Field(default=8.0, ge=0.0, le=100.0)
    voxel_mm: float = Field(default=4.0, ge=0.25, le=20.0)
    sensitivity_cps_per_MBq: float = Field(default=PET_Y90_CPS_PER_MBQ, gt=0.0, le=1e5)
    transmission: float = Field(default=0.10, gt=0.0, le=1.0)
    acquisition_min: float = Field(default=15.0, gt=0.0, le=600.0)
    delay_h: float = Field(default=4.0, ge=0.0, le=1000.0)
    noise_equivalent_fraction: float = Field(default=0.2, gt=0.0, le=1.0)


class SpectY90Spec(ModalitySpec):
    """Y-90 bremsstrahlung SPECT/CT, HEGP collimator, window ~100-200 keV. Resolution and
    sensitivity were not found: FWHM 15 mm is a choice; 0.5 cps/MBq is an order-of-magnitude
    estimate (Kramers thick-target spectrum: ~5e-3 primary photons per decay in 100-200 keV,
    times an assumed 2-head HEGP efficiency of 1e-4 per photon). Scatter and septal
    penetration are not modelled. Transmission 0.30 (a choice); 30 min, 4 h after treatment."""

    fwhm_mm: float = Field(default=15.0, ge=0.0, le=100.0)
    voxel_mm: float = Field(default=4.42, ge=0.25, le=20.0)
    sensitivity_cps_per_MBq: float = Field(default=0.5, gt=0.0, le=1e5)
    transmission: float = Field(default=0.30, gt=0.0, le=1.0)
    acquisition_min: float = Field(default=30.0, gt=0.0, le=600.0)
    delay_h: float = Field(default=4.0, ge=0.0, le=1000.0)


#: Imaging modalities: key -> (nuclide, what it images).
MODALITIES = {"spect_tc99m": ("Tc-99m", "scout"), "pet_y90": ("Y-90", "treatment"),
              "spect_y90": ("Y-90", "treatment")}


class ImagingSpec(Section):
    """The imaging systems (``[imaging.spect_tc99m]``, ``[imaging.pet_y90]``,
    ``[imaging.spect_y90]``)."""

    spect_tc99m: SpectTcSpec = SpectTcSpec()
    pet_y90: PetY90Spec = PetY90Spec()
    spect_y90: SpectY90Spec = SpectY90Spec()


class ChainSpec(Section):
    """The clinical chain (``[chain]``).

    ``planning_model``: the model that prescribes the treatment from the scout.
    ``calibration``: post-treatment images scaled so the liver holds the administered
    activity less the scout's lung shunt (patient-relative, the EANM default) or taken at
    the imaging system's sensitivity (absolute). ``segments``: vascular territories compared
    segment by segment (the treated subtree split until it has this many). ``response_Gy``
    and ``nonresponse_Gy``: tumour dose thresholds reported (191.3 / 72.8 Gy as quoted by the
    issue from El-Haddad & Strosberg 2021; their primary source was not seen).
    ``nifti``: write NIfTI images beside the results; ``nifti_fine_dose``: also the fine
    (microscale) dose grid.
    """

    planning_model: Literal["partition", "mird", "bsa"] = "partition"
    calibration: Literal["patient_relative", "absolute"] = "patient_relative"
    segments: int = Field(default=8, ge=1, le=100)
    response_Gy: float = Field(default=191.3, gt=0.0, le=5000.0)
    nonresponse_Gy: float = Field(default=72.8, gt=0.0, le=5000.0)
    nifti: bool = True
    nifti_fine_dose: bool = True

    @model_validator(mode="after")
    def _thresholds(self):
        if self.nonresponse_Gy >= self.response_Gy:
            raise KeyValueError("nonresponse_Gy", self.nonresponse_Gy,
                                f"must be below response_Gy ({self.response_Gy})")
        return self
