"""The steps of the clinical chain, each a plain function (usable alone from Python):

    scout -> scout SPECT -> planning -> treatment (transport, microscale dose)
          -> post-treatment PET / bremsstrahlung SPECT -> voxel dosimetry -> comparison

:func:`sim.clinical.chain.run_chain` strings them together.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dosimetry.decay import dose_constant as dose_constant_value, half_life_h
from sim.anatomy import AffineMask, is_nifti, mask_volume_mm3
from sim.clinical import scout_plan, voxel_dosimetry as vd
from sim.clinical.scout import TC99M
from sim.clinical.vois import build_vois
from sim.config import resolve_scenario
from sim.config.clinical import ChainSpec, ImagingSpec, MODALITIES
from sim.imaging import FWHM_PER_SIGMA, cover, noisy_counts, reference_anchor, simulate_image
from sim.imaging.forward import counts_per_Bq
from sim.pipeline import liver_activities_Bq, run_dose, run_transport
from sim.seeding import stage_seed

__all__ = ["PostImage", "check_chain_scenario", "imaging_grid", "image_rngs", "image_scout",
           "plan_treatment", "treat", "image_treatment", "whole_liver_mass_kg"]


@dataclass
class PostImage:
    """A post-treatment image with its VOIs and clinical voxel dosimetry.

    ``ldm_Gy``, ``vsv_Gy``: LDM and voxel-S dose from the (calibrated) image; ``truth_Gy``:
    the microscale dose averaged over the image's voxels; ``activity_Bq``: the calibrated
    activity at the implant.
    """

    image: object
    vois: object
    activity_Bq: np.ndarray
    ldm_Gy: np.ndarray
    vsv_Gy: np.ndarray
    truth_Gy: np.ndarray
    info: dict


def check_chain_scenario(scenario) -> None:
    """The chain needs a grown tree (tissue geometry for the VOIs) and a Y-90 device.

    Raises
    ------
    ValueError
    """
    if scenario.tree is None or scenario.tree.generator != "grown":
        raise ValueError("the clinical chain needs a grown tree ([tree] generator = \"grown\"): "
                         "its volumes of interest come from the tissue geometry")
    nuclide = scenario.device().nuclide
    if nuclide != "Y-90":
        raise ValueError(f"treatment.device = {scenario.treatment.device!r} ({nuclide}): the "
                         "chain images Y-90 only (PET, bremsstrahlung SPECT)")


def imaging_grid(geometry, spec, tree=None):
    """The grid of a modality over the liver (and the whole tree, so that particles lodged in
    feeding vessels outside the liver are in the field of view): voxel ``spec.voxel_mm``, a
    margin of 4 sigma plus a voxel (the blur stays on the grid), voxel boundaries on those of
    a NIfTI reference grid when the anatomy has an axis-aligned one."""
    margin = 4.0 * spec.fwhm_mm / FWHM_PER_SIGMA + spec.voxel_mm
    lo, hi = (np.asarray(v, dtype=float) for v in geometry.domain.bounds())
    if tree is not None:
        ends = np.concatenate((tree.proximal_mm, tree.distal_mm))
        lo, hi = np.minimum(lo, ends.min(axis=0)), np.maximum(hi, ends.max(axis=0))
    anchor = (reference_anchor(geometry.domain.affine)
              if isinstance(geometry.domain, AffineMask) else None)
    return cover(lo, hi, spec.voxel_mm, margin, anchor)


def image_rngs(seed: int) -> dict:
    """Independent counting-noise streams of the imaging stage, one per use."""
    names = ("spect_tc99m", "lung", "pet_y90", "spect_y90")
    kids = stage_seed(seed, "imaging").spawn(len(names))
    return {n: np.random.default_rng(k) for n, k in zip(names, kids)}


def image_scout(scenario, anatomy, scout, rngs):
    """Scout SPECT, its VOIs and the lung counts (same camera, same acquisition)."""
    spec = (scenario.imaging or ImagingSpec()).spect_tc99m
    t_half = half_life_h(TC99M)
    grid = imaging_grid(anatomy.geometry, spec, anatomy.tree)
    img = simulate_image("spect_tc99m", grid, scout.xyz_mm, scout.activity_Bq, spec, t_half,
                         rngs["spect_tc99m"])
    lung = float(noisy_counts(scout.lung_activity_Bq * counts_per_Bq(spec, t_half), spec,
                              rngs["lung"]))
    chain = scenario.chain or ChainSpec()
    vois = build_vois(anatomy.geometry, anatomy.tree, anatomy.injection, grid,
                      scenario.tissue_density_g_cm3, chain.segments)
    return img, vois, lung


def whole_liver_mass_kg(scenario, vois) -> float:
    """Whole-liver mass for the BSA method [kg]: ``liver.whole_liver_mass_kg``, else the NIfTI
    liver mask's mass, else the treated territory's."""
    if scenario.liver is not None and scenario.liver.whole_liver_mass_kg is not None:
        return scenario.liver.whole_liver_mass_kg
    dom = scenario.tree.domain
    if dom is not None and dom.shape == "mask" and is_nifti(dom.path):
        return mask_volume_mm3(dom.path) * scenario.tissue_density_g_cm3 * 1e-6
    return vois.mass_kg("treated")


def plan_treatment(scenario, anatomy, scout, image, vois, lung_counts) -> dict:
    """Plan from the scout image and, for reference, from the scout's truth."""
    chain = scenario.chain or ChainSpec()
    whole = whole_liver_mass_kg(scenario, vois)
    meas = scout_plan.measure_image(image.counts, vois, lung_counts)
    truth = scout_plan.measure_truth(scout, vois, anatomy.geometry, anatomy.tree,
                                     anatomy.injection)
    plans = scout_plan.plan_from_scout(meas, scenario, whole_liver_kg=whole,
                                       model=chain.planning_model)
    truth_plans = scout_plan.plan_from_scout(truth, scenario, whole_liver_kg=whole,
                                             model=chain.planning_model)
    a = plans["activity_GBq"]
    if not a > 0:
        raise ValueError(f"planning from the scout gives no activity ({plans['chosen']}: "
                         + "; ".join(plans[plans["chosen"]].warnings) + ")")
    return {"measured": meas, "truth": truth, "plans": plans, "truth_plans": truth_plans,
            "activity_GBq": a, "whole_liver_kg": whole,
            "predicted": scout_plan.predicted_doses(meas, a, scenario)}


def treat(scenario, anatomy, activity_GBq: float, progress=False, source="the scout"):
    """The treatment at the planned activity: transport (embolic effect on) and the
    microscale dose. Returns (scenario with the activity, transport result, dose result)."""
    if activity_GBq > 50.0:
        raise ValueError(f"planning from the scout gives {activity_GBq:.3g} GBq, more than "
                         "treatment.activity_GBq allows (50 GBq)")
    treated = resolve_scenario(scenario, overrides=[f"treatment.activity_GBq={activity_GBq!r}"])
    transport = run_transport(treated, anatomy, progress=progress)
    transport.prescription["activity_source"] = f"planned from {source}"
    dep = transport.deposition
    dose = run_dose(treated, anatomy.tree, dep.liver_positions_mm(np.float64),
                    liver_activities_Bq(dep),
                    injected_activity_GBq=transport.summary["counts"]["injected_activity_GBq"],
                    injection_segment=anatomy.injection)
    return treated, transport, dose


def image_treatment(scenario, anatomy, transport, dose, name: str, rng,
                    planned: dict) -> PostImage:
    """A post-treatment image of the deposited Y-90, calibrated, with LDM and voxel-S dose
    and the true dose on its voxels."""
    spec = getattr(scenario.imaging or ImagingSpec(), name)
    chain = scenario.chain or ChainSpec()
    nuclide = MODALITIES[name][0]
    t_half = half_life_h(nuclide)
    dep = transport.deposition
    act_liver = liver_activities_Bq(dep)
    decay = 2.0 ** (-spec.delay_h / t_half)
    grid = imaging_grid(anatomy.geometry, spec, anatomy.tree)
    img = simulate_image(name, grid, dep.liver_positions_mm(np.float64), act_liver * decay,
                         spec, t_half, rng)
    act = img.activity_Bq
    if chain.calibration == "patient_relative":
        act = vd.scale_to_total(act, planned["predicted"]["liver_activity_GBq"] * 1e9 * decay)
    a0 = vd.activity_at_implant_Bq(act, spec.delay_h, t_half)
    rho = scenario.tissue_density_g_cm3
    k = dose_constant_value(scenario.treatment.dose_constant, nuclide)
    ldm = vd.ldm_dose_Gy(a0, grid.voxel_mm, dose_constant_Gy_kg_per_GBq=k, density_g_cm3=rho)
    vsv = vd.vsv_dose_Gy(a0, grid.voxel_mm, nuclide=nuclide, density_g_cm3=rho)
    truth = vd.truth_on_grid(dose.dose_Gy, dose.origin_mm, dose.spacing_mm, grid)
    vois = build_vois(anatomy.geometry, anatomy.tree, anatomy.injection, grid, rho,
                      chain.segments)
    info = {"calibration": chain.calibration, "dose_constant_Gy_kg_per_GBq": k,
            "calibrated_activity_at_implant_GBq": float(a0.sum() * 1e-9),
            "true_liver_activity_GBq": float(act_liver.sum() * 1e-9),
            "vsv_extent_voxels": vd.vsv_extent(grid.voxel_mm, rho)}
    return PostImage(img, vois, a0, ldm, vsv, truth, info)
