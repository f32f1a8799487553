"""The short summary of a run (printed by ``taresim run``, stored in the results file, and one
row of a sweep's ``summary.csv``)."""
from __future__ import annotations

__all__ = ["SUMMARY_METRICS", "run_summary"]

_PER_REGION = ("mean_Gy", "cv", "D90_Gy", "below_40Gy", "below_70Gy")
_GROUPS = ("normal", "tumour", "perfused", "untreated", "lobules_normal", "lobules_tumour",
           "lobules_untreated")
#: Numeric keys of a run summary (sweep metrics and summary.csv columns).
SUMMARY_METRICS = (
    "activity_GBq", "days_after_calibration", "n_spheres", "activity_per_sphere_Bq",
    "perfused_mass_g", "terminals", "spheres_per_terminal_mean", "spheres_per_terminal_cv",
    "tumour_to_normal_uptake", "mird_liver_dose_Gy", "partition_normal_dose_Gy",
    "partition_tumour_dose_Gy", "grid_um", "normal_mean_BED_Gy", "normal_NTCP_LKB",
    "treated_mass_g",
    *(f"{g}_{k}" for g in _GROUPS for k in _PER_REGION))


def run_summary(scenario, tree_info: dict, transport, dose) -> dict:
    """The short summary a run prints and stores (JSON-friendly)."""
    rx, c = transport.prescription, transport.summary["counts"]
    m, p = dose.metrics, dose.planning
    out = {
        "scenario": scenario.name, "seed": scenario.seed, "device": rx["device_name"],
        "nuclide": rx["nuclide"], "activity_GBq": rx["activity_GBq"],
        "activity_source": rx["activity_source"],
        "days_after_calibration": rx["days_after_calibration"], "n_spheres": rx["n_spheres"],
        "activity_per_sphere_Bq": rx["activity_per_sphere_Bq"],
        "perfused_mass_g": tree_info["perfused_mass_g"], "terminals": tree_info["terminals"],
        "counts": c,
        "spheres_per_terminal_mean": transport.summary["spheres_per_terminal"]["mean"],
        "spheres_per_terminal_cv": transport.summary["spheres_per_terminal"]["cv"],
        "tumour_to_normal_uptake": p.get("tumour_to_normal_measured"),
        "mird_liver_dose_Gy": p["mird_liver_dose_Gy"],
        "partition_normal_dose_Gy": p.get("partition_normal_dose_Gy"),
        "partition_tumour_dose_Gy": p.get("partition_tumour_dose_Gy"),
        "grid_um": float(dose.spacing_mm[0] * 1e3),
    }
    if "perfused" in m:
        out["treated_mass_g"] = m["perfused"]["mass_g"]
    for name in _GROUPS:
        if name in m:
            s = m[name]
            for k in _PER_REGION:
                out[f"{name}_{k}"] = s[k]
    if "normal" in m:
        out["normal_mean_BED_Gy"] = m["normal"]["mean_BED_Gy"]
        out["normal_NTCP_LKB"] = m["normal"].get("NTCP_LKB")
    return out
