"""The short summary of a run (printed by ``taresim run`` and ``taresim show``, stored in the
results file, and one row of a sweep's ``summary.csv``), with the warnings the run raises.

Every key names what it means and its unit: ``mird_planned_Gy`` is the MIRD model's prediction
for the administered activity with the patient's lung shunt (what the plan expects),
``mird_delivered_Gy`` its prediction for the activity that reached the liver; the partition
keys use the delivered activity and the simulated tumour-to-normal uptake ratio.
"""
from __future__ import annotations

from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value

__all__ = ["SUMMARY_METRICS", "run_summary", "run_warnings", "REFLUX_WARNING_FRACTION",
           "RESIDUAL_WARNING_FRACTION"]

#: Any activity refluxed to non-target vessels is reported (gastro-intestinal toxicity).
REFLUX_WARNING_FRACTION = 0.0
#: Activity left in the vial above this fraction is reported (taresim's choice: a few per cent
#: is usual residual; Hoang et al., JVIR: median 3.0 % resin, 0.6 % glass).
RESIDUAL_WARNING_FRACTION = 0.05

_PER_REGION = ("mean_Gy", "cv", "D90_Gy", "below_40Gy", "below_70Gy")
_GROUPS = ("normal", "tumour", "perfused", "untreated", "lobules_normal", "lobules_tumour",
           "lobules_untreated")
#: Numeric keys of a run summary (sweep metrics and summary.csv columns).
SUMMARY_METRICS = (
    "activity_GBq", "days_after_calibration", "n_spheres", "activity_per_sphere_Bq",
    "treated_mass_g", "terminals", "delivered_fraction", "lung_fraction", "reflux_fraction",
    "undelivered_fraction", "lung_activity_GBq", "lung_dose_Gy", "spheres_per_terminal_mean",
    "spheres_per_terminal_cv", "tumour_to_normal_uptake", "mird_planned_Gy",
    "mird_delivered_Gy", "partition_normal_delivered_Gy", "partition_tumour_delivered_Gy",
    "grid_um", "normal_mean_BED_Gy", "normal_NTCP_LKB", "normal_NTCP_parallel",
    "normal_damaged_fraction",
    *(f"{g}_{k}" for g in _GROUPS for k in _PER_REGION))


def _fractions(counts) -> dict:
    a = counts["injected_activity_GBq"]
    out = {}
    for fate, key in (("liver", "delivered"), ("lung", "lung"), ("reflux", "reflux"),
                      ("undelivered", "undelivered")):
        out[f"{key}_fraction"] = counts[f"{fate}_activity_GBq"] / a if a > 0 else 0.0
    return out


def run_summary(scenario, tree_info: dict, transport, dose) -> dict:
    """The short summary a run prints and stores (JSON-friendly).

    ``tree_info`` is the tree summary over the treated territory; ``transport`` has
    ``prescription`` and ``summary``; ``dose`` is a :class:`sim.dose.DoseResult`.
    """
    rx, c = transport.prescription, transport.summary["counts"]
    m, p = dose.metrics, dose.planning
    k = dose_constant_value(scenario.treatment.dose_constant, rx["nuclide"])
    treated_kg = tree_info["perfused_mass_g"] * 1e-3
    lsf = scenario.patient.lung_shunt_fraction
    out = {
        "scenario": scenario.name, "seed": scenario.seed, "device": rx["device_name"],
        "nuclide": rx["nuclide"], "activity_GBq": rx["activity_GBq"],
        "activity_source": rx["activity_source"],
        "days_after_calibration": rx["days_after_calibration"], "n_spheres": rx["n_spheres"],
        "activity_per_sphere_Bq": rx["activity_per_sphere_Bq"],
        "injection_segment": transport.summary["injection_segment"],
        "treated_mass_g": tree_info["perfused_mass_g"],
        "terminals": tree_info.get("territory_terminals", tree_info["terminals"]),
        "counts": c, **_fractions(c),
        "lung_activity_GBq": c["lung_activity_GBq"],
        "lung_dose_Gy": k * c["lung_activity_GBq"] / scenario.patient.lung_mass_kg,
        "stasis_at_sphere": transport.summary["stasis_at_sphere"],
        "transport_engine": transport.summary.get("transport_engine", ""),
        "spheres_per_terminal_mean": transport.summary["spheres_per_terminal"].get("mean"),
        "spheres_per_terminal_cv": transport.summary["spheres_per_terminal"].get("cv"),
        "tumour_to_normal_uptake": p.get("tumour_to_normal_measured"),
        "mird_planned_Gy": k * rx["activity_GBq"] * (1 - lsf) / treated_kg if treated_kg else None,
        "mird_delivered_Gy": k * c["liver_activity_GBq"] / treated_kg if treated_kg else None,
        "partition_normal_delivered_Gy": p.get("partition_normal_dose_Gy"),
        "partition_tumour_delivered_Gy": p.get("partition_tumour_dose_Gy"),
        "grid_um": float(dose.spacing_mm[0] * 1e3),
    }
    for name in _GROUPS:
        if name in m:
            for key in _PER_REGION:
                out[f"{name}_{key}"] = m[name][key]
    if "normal" in m:
        out["normal_mean_BED_Gy"] = m["normal"]["mean_BED_Gy"]
        out["normal_NTCP_LKB"] = m["normal"].get("NTCP_LKB")
    if "lobules_parallel" in m:
        out["normal_NTCP_parallel"] = m["lobules_parallel"]["NTCP"]
        out["normal_damaged_fraction"] = m["lobules_parallel"]["damaged_fraction"]
    out["warnings"] = run_warnings(scenario, out, m, p)
    return out


def run_warnings(scenario, s: dict, metrics: dict, plan: dict) -> list[str]:
    """What a physicist must not miss in a run: lung dose over the limits of the planning
    models, reflux or stasis, activity left in the vial, EANM normal-liver limits for the
    simulated dose, and outcomes that leave a model undefined (no sphere, no tumour sphere)."""
    out = list(planning.lung_warnings(s["lung_dose_Gy"], scenario.patient.prior_lung_dose_Gy))
    if s["n_spheres"] == 0:
        out.append("no sphere was administered: the activity is below one sphere's")
    if s["reflux_fraction"] > REFLUX_WARNING_FRACTION:
        at = (f"after {s['stasis_at_sphere']:,} spheres " if s["stasis_at_sphere"] >= 0 else "")
        out.append(f"stasis {at}sent {100 * s['reflux_fraction']:.1f} % of the activity back "
                   "up the artery (reflux, non-target)")
    if s["undelivered_fraction"] > RESIDUAL_WARNING_FRACTION:
        out.append(f"{100 * s['undelivered_fraction']:.1f} % of the activity stayed in the "
                   "vial (stasis)")
    if s["mird_planned_Gy"] and s["mird_delivered_Gy"] is not None and \
            s["mird_delivered_Gy"] < (1.0 - RESIDUAL_WARNING_FRACTION) * s["mird_planned_Gy"]:
        out.append(f"the treated liver received {s['mird_delivered_Gy']:.1f} Gy (MIRD, "
                   f"delivered activity) against {s['mird_planned_Gy']:.1f} Gy planned")
    if "normal" in metrics:
        liv = scenario.liver
        tumour_kg = metrics["tumour"]["mass_g"] * 1e-3 if "tumour" in metrics else 0.0
        whole = (liv.whole_liver_mass_kg - tumour_kg
                 if liv is not None and liv.whole_liver_mass_kg else None)
        out += planning.normal_liver_warnings(
            scenario.device().spec.material, metrics["normal"]["mean_Gy"],
            normal_mass_kg=metrics["normal"]["mass_g"] * 1e-3, whole_normal_mass_kg=whole)
    if plan.get("notes"):
        out.append(plan["notes"])
    return out
