"""Side-by-side planning comparison of a scenario: MIRD, partition and BSA.

Each model prescribes its own activity; the compartment doses at that activity follow from the
partition model with the scenario's T/N (MIRD's own assumption is uniform uptake, reported as
``liver_dose_Gy``); the sphere count comes from the device library for the treatment day.

References
----------
See :mod:`dosimetry.planning` (Gulec 2006, Ho 1996, Kennedy 2007) and the EANM 2022
guideline (Weber et al., EJNMMI 2022;49:1682) for the device-specific dose limits.
"""
from __future__ import annotations

from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value
from sim.config import Liver, Scenario
from sim.pipeline import build_anatomy
from sim.tree import summary

__all__ = ["plan_scenario", "liver_from_tree", "patient_warnings"]


def liver_from_tree(scenario: Scenario):
    """Planning masses from the scenario's tree: perfused and tumour mass, and T/N as the
    tumour-to-normal perfusion ratio of the hemodynamics (what 99mTc-MAA would show)."""
    anatomy = build_anatomy(scenario)
    s = summary(anatomy.tree, anatomy.flow, territory=anatomy.tree.subtree(anatomy.injection))
    mass = s["perfused_mass_g"] * 1e-3
    tumour = sum(v for k, v in s["mass_g_by_region"].items() if k > 0) * 1e-3
    whole = scenario.liver.whole_liver_mass_kg if scenario.liver is not None else None
    if whole is not None and whole < mass:
        raise ValueError(f"liver.whole_liver_mass_kg = {whole}: must be at least the tree's "
                         f"perfused mass ({mass:.4g} kg)")
    return Liver(perfused_mass_kg=mass, tumour_mass_kg=tumour,
                 tumour_to_normal=float(s.get("tumour_to_normal_ratio", 1.0)),
                 whole_liver_mass_kg=whole)


def patient_warnings(scenario: Scenario) -> list[str]:
    """Exclusion / caution criteria of the patient (El-Haddad & Strosberg 2021)."""
    p, liv = scenario.patient, scenario.liver
    out = []
    if p.ecog is not None and p.ecog > 2:
        out.append(f"ECOG performance status {p.ecog} > 2")
    if p.bilirubin_mg_dL is not None and p.bilirubin_mg_dL > 2.0:
        out.append(f"bilirubin {p.bilirubin_mg_dL:g} mg/dL > 2 mg/dL")
    if liv.tumour_fraction > 0.5 and p.albumin_g_dL is not None and p.albumin_g_dL < 3.0:
        out.append(f"tumour volume {100 * liv.tumour_fraction:.0f} % > 50 % with albumin "
                   f"{p.albumin_g_dL:g} g/dL < 3 g/dL")
    return out


def _device_dose_warnings(material: str, normal_dose: float, scenario: Scenario) -> list[str]:
    liv = scenario.liver
    whole = (liv.whole_liver_mass_kg - liv.tumour_mass_kg
             if liv.whole_liver_mass_kg is not None else None)
    return planning.normal_liver_warnings(material, normal_dose, normal_mass_kg=liv.normal_mass_kg,
                                          whole_normal_mass_kg=whole)


def plan_scenario(scenario: Scenario) -> dict:
    """Compare the planning models for a scenario.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    dict
        ``models``: a dict per model (``mird``, ``partition``, ``bsa`` and, when the scenario
        gives ``treatment.activity_GBq``, ``prescribed``) with ``activity_GBq``,
        ``tumour_dose_Gy``, ``normal_dose_Gy``, ``liver_dose_Gy``, ``lung_dose_Gy``,
        ``n_spheres``, ``activity_per_sphere_Bq``, ``spheres_per_GBq`` and ``warnings``;
        plus ``scenario``, ``device``, ``dose_constant_Gy_kg_per_GBq`` and
        ``patient_warnings``.
    """
    liver_source = "[liver]"
    if scenario.liver is None or scenario.liver.perfused_mass_kg is None:
        scenario = scenario.model_copy(update={"liver": liver_from_tree(scenario)})
        liver_source = "the tree (masses) and its hemodynamics (T/N)"
    p, liv, tr = scenario.patient, scenario.liver, scenario.treatment
    dev = scenario.device()
    k = dose_constant_value(tr.dose_constant, dev.nuclide)
    common = dict(lung_shunt_fraction=p.lung_shunt_fraction, lung_mass_kg=p.lung_mass_kg,
                  dose_constant=k, prior_lung_dose_Gy=p.prior_lung_dose_Gy)
    part_kw = dict(tumour_mass_kg=liv.tumour_mass_kg, normal_mass_kg=liv.normal_mass_kg,
                   tumour_to_normal=liv.tumour_to_normal, **common)

    results = _model_results(scenario, common, part_kw)
    models = {name: _model_row(name, model, doses, dev, scenario)
              for name, (model, doses) in results.items()}
    return {
        "scenario": scenario.name,
        "device": dev.key,
        "device_name": dev.name,
        "nuclide": dev.nuclide,
        "days_after_calibration": tr.days_after_calibration,
        "dose_constant": tr.dose_constant,
        "dose_constant_Gy_kg_per_GBq": k,
        "lung_shunt_fraction": p.lung_shunt_fraction,
        "perfused_mass_kg": liv.perfused_mass_kg,
        "tumour_mass_kg": liv.tumour_mass_kg,
        "tumour_to_normal": liv.tumour_to_normal,
        "patient_warnings": patient_warnings(scenario),
        "liver_source": liver_source,
        "models": models,
    }


def _model_results(scenario, common, part_kw) -> dict:
    """(model result, compartment doses at its activity) for every planning model."""
    p, liv, tr = scenario.patient, scenario.liver, scenario.treatment
    results = {}
    m = planning.mird(perfused_mass_kg=liv.perfused_mass_kg,
                      target_dose_Gy=scenario.plan.mird_dose_Gy, **common)
    results["mird"] = (m, planning.partition(activity_GBq=m.activity_GBq, **part_kw))
    pt = planning.partition(**scenario.plan.partition_target, **part_kw)
    results["partition"] = (pt, pt)
    # BSA uses the tumour involvement of the whole liver and scales by the treated fraction.
    whole = liv.whole_liver_mass_kg or liv.perfused_mass_kg
    b = planning.bsa(height_m=p.height_m, weight_kg=p.weight_kg,
                     tumour_fraction=liv.tumour_mass_kg / whole,
                     perfused_fraction=liv.perfused_mass_kg / whole, **common)
    dose_b = (planning.partition(activity_GBq=b.activity_GBq, **part_kw)
              if b.activity_GBq > 0 else None)
    results["bsa"] = (b, dose_b)
    if tr.activity_GBq is not None:
        given = planning.partition(activity_GBq=tr.activity_GBq, **part_kw)
        results["prescribed"] = (given, given)
    return results


def _model_row(name, model, doses, dev, scenario) -> dict:
    """One column of the planning table: doses, sphere count and warnings of a model."""
    tr = scenario.treatment
    row = {"activity_GBq": model.activity_GBq, "lung_dose_Gy": model.lung_dose_Gy,
           "liver_dose_Gy": doses.liver_dose_Gy if doses else 0.0,
           "tumour_dose_Gy": doses.tumour_dose_Gy if doses else 0.0,
           "normal_dose_Gy": doses.normal_dose_Gy if doses else 0.0}
    warnings = list(model.warnings)
    if doses is not None and doses is not model:
        warnings += [w for w in doses.warnings if w not in warnings]
    if model.activity_GBq > 0:
        rx = dev.prescribe(model.activity_GBq, tr.days_after_calibration)
        row.update(n_spheres=rx.n_spheres, activity_per_sphere_Bq=rx.activity_per_sphere_Bq,
                   spheres_per_GBq=rx.spheres_per_GBq, vial_GBq=rx.vial_GBq,
                   vial_fraction=rx.vial_fraction)
        warnings += list(rx.warnings)
        warnings += _device_dose_warnings(dev.spec.material, row["normal_dose_Gy"], scenario)
    else:
        row.update(n_spheres=0, activity_per_sphere_Bq=float(dev.activity_per_sphere_Bq(
            tr.days_after_calibration)), spheres_per_GBq=float(dev.spheres_per_GBq(
            tr.days_after_calibration)), vial_GBq=None, vial_fraction=None)
    row["warnings"] = warnings
    if name == "bsa":
        row["bsa_m2"] = model.extra["bsa_m2"]
    return row
