"""The clinical chain end to end (``taresim chain``): scout -> plan -> treatment -> imaging ->
voxel dosimetry -> comparison with the microscale truth, written to one results file with a
report, figures and NIfTI images.

Every step is a function of :mod:`sim.clinical.steps`; :func:`run_chain` strings them
together on one anatomy (tree and flow built once: the scout runs first without embolic
effect, so the treatment starts from the same flow field).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import time

from sim.clinical import compare, steps
from sim.clinical.outputs import write_outputs
from sim.clinical.scout import ScoutResult, run_scout
from sim.config import resolve_scenario
from sim.config.clinical import ChainSpec
from sim.pipeline import build_anatomy
from sim.progress import Progress
from sim.results.io import check_writable
from sim.results.schema import KEEP_LEVELS

__all__ = ["ChainResult", "run_chain_steps", "run_chain", "chain_output", "POST_MODALITIES",
           "CHAIN_METRICS", "comparisons", "chain_summary", "clinical_maps"]

#: Post-treatment images simulated (and dosimetry done on each).
POST_MODALITIES = ("pet_y90", "spect_y90")
#: Clinical maps compared with the truth: the truth on the image's voxels, LDM, voxel-S.
_MAPS = tuple(f"{k}_{m}" for m in POST_MODALITIES for k in ("truth", "ldm", "vsv"))
_STATS = ("mean_Gy", "cv", "D90_Gy", "above_response", "below_nonresponse")
#: Numeric keys of a chain summary (sweep metrics and summary.csv columns).
CHAIN_METRICS = (
    "activity_GBq", "activity_truth_planning_GBq", "activity_error_vs_truth_planning",
    "scout_particles", "lsf_patient", "lsf_maa_true", "lsf_measured", "tn_measured",
    "tn_maa_true", "tn_spheres", "lung_dose_predicted_Gy", "lung_dose_true_Gy",
    *(f"{c}_predicted_Gy" for c in ("tumour", "normal", "treated")),
    *(f"{c}_{m}_{k}" for c in ("tumour", "normal", "treated") for m in ("microscale",) + _MAPS
      for k in _STATS),
    *(f"segments_{e}_{k}" for e in ("predicted_vs_microscale",
                                    *(f"predicted_vs_{m}" for m in _MAPS if "truth" not in m),
                                    *(f"{m}_vs_microscale" for m in _MAPS if "truth" not in m))
      for k in ("above_10pct", "above_20pct", "above_30pct", "median_abs")))


@dataclass
class ChainResult:
    """Everything the chain computed (see :func:`run_chain_steps`)."""

    scenario: object
    anatomy: object
    scout: ScoutResult
    scout_image: object
    scout_vois: object
    lung_counts: float
    planning: dict
    treated_scenario: object
    transport: object
    dose: object
    post: dict
    comparison: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def chain_output(scenario) -> Path:
    """Default results file of a chain: ``results/NAME.chain.h5``."""
    return Path("results") / f"{scenario.name}.chain.h5"


def run_chain_steps(scenario, *, progress=None) -> ChainResult:
    """Run every step of the chain on a validated scenario (nothing is written)."""
    display = progress if isinstance(progress, Progress) else Progress("off")
    steps.check_chain_scenario(scenario)
    with display.task("tree and flow"):
        anatomy = build_anatomy(scenario)
    rngs = steps.image_rngs(scenario.seed)
    with display.task("scout and its SPECT"):
        scout = run_scout(scenario, anatomy)
        img, vois, lung = steps.image_scout(scenario, anatomy, scout, rngs)
        plan = steps.plan_treatment(scenario, anatomy, scout, img, vois, lung)
    with display.task("treatment"):
        treated, transport, dose = steps.treat(
            scenario, anatomy, plan["activity_GBq"], progress=display,
            source=f"the scout ({plan['plans']['chosen']} model)")
    with display.task("post-treatment imaging and voxel dosimetry"):
        post = {m: steps.image_treatment(treated, anatomy, transport, dose, m, rngs[m], plan)
                for m in POST_MODALITIES}
    res = ChainResult(scenario, anatomy, scout, img, vois, lung, plan, treated, transport,
                      dose, post)
    with display.task("comparison"):
        res.comparison = comparisons(res)
        res.summary = chain_summary(res)
    return res


def clinical_maps(res: ChainResult) -> dict:
    """name -> (dose grid, VOIs): truth on the clinical voxels, LDM and voxel-S per image."""
    maps = {}
    for m, p in res.post.items():
        maps[f"truth_{m}"] = (p.truth_Gy, p.vois)
        maps[f"ldm_{m}"] = (p.ldm_Gy, p.vois)
        maps[f"vsv_{m}"] = (p.vsv_Gy, p.vois)
    return maps


def comparisons(res: ChainResult) -> dict:
    """Compartments, segments and DVH metrics: prediction, clinical dosimetry, truth."""
    chain = res.scenario.chain or ChainSpec()
    maps = clinical_maps(res)
    pred = res.planning["predicted"]
    comp = compare.compartment_comparison(res.dose, pred, maps, chain.response_Gy,
                                          chain.nonresponse_Gy)
    a = res.anatomy
    n_seg = res.scout_vois.n_segments
    truth, mass = compare.segment_truth(res.dose, a.tree, a.injection, n_seg)
    seg_maps = {k: v for k, v in maps.items() if not k.startswith("truth_")}
    seg = compare.segment_comparison(res.planning["measured"], res.planning["activity_GBq"],
                                     pred["dose_constant_Gy_kg_per_GBq"], truth, mass,
                                     seg_maps)
    counts = res.transport.summary["counts"]
    lung_true = counts["lung_activity_GBq"] * pred["dose_constant_Gy_kg_per_GBq"] \
        / res.scenario.patient.lung_mass_kg
    return {"compartments": comp, "segments": seg,
            "lung": {"predicted_Gy": pred["lung"], "microscale_Gy": lung_true},
            "wondergem_2013": compare.WONDERGEM_2013,
            "thresholds_Gy": {"response": chain.response_Gy,
                              "nonresponse": chain.nonresponse_Gy}}


def _flat(prefix, metrics: dict, keys=("mean_Gy", "cv", "D90_Gy", "above_response",
                                       "below_nonresponse")) -> dict:
    return {f"{prefix}_{k}": metrics[k] for k in keys if k in metrics}


def chain_summary(res: ChainResult) -> dict:
    """Flat numeric summary (sweep columns) plus the headline texts."""
    p = res.planning
    meas, truth = p["measured"], p["truth"]
    s = {"scenario": res.scenario.name, "seed": res.scenario.seed,
         "device": res.treated_scenario.device().name,
         "planning_model": p["plans"]["chosen"], "activity_GBq": p["activity_GBq"],
         "activity_truth_planning_GBq": p["truth_plans"]["activity_GBq"],
         "scout_particles": res.scout.info["particles"],
         "lsf_patient": res.scenario.patient.lung_shunt_fraction,
         "lsf_maa_true": res.scout.info["lsf_at_scan"],
         "lsf_measured": meas.lung_shunt_fraction,
         "tn_measured": meas.tumour_to_normal, "tn_maa_true": truth.tumour_to_normal,
         "tn_spheres": res.transport.summary.get("tumour_to_normal"),
         "lung_dose_predicted_Gy": res.comparison["lung"]["predicted_Gy"],
         "lung_dose_true_Gy": res.comparison["lung"]["microscale_Gy"]}
    a_truth = s["activity_truth_planning_GBq"]
    s["activity_error_vs_truth_planning"] = (s["activity_GBq"] / a_truth - 1.0
                                             if a_truth and a_truth > 0 else float("nan"))
    for name, row in res.comparison["compartments"].items():
        if name not in ("tumour", "normal", "treated"):
            continue
        if "predicted_Gy" in row:
            s[f"{name}_predicted_Gy"] = row["predicted_Gy"]
        for method, met in row.items():
            if isinstance(met, dict):
                s.update(_flat(f"{name}_{method}", met))
    for key, e in res.comparison["segments"]["errors"].items():
        for k in ("above_10pct", "above_20pct", "above_30pct", "median_abs"):
            if k in e:
                s[f"segments_{key}_{k}"] = e[k]
    return s


def run_chain(config, *, output=None, seed=None, overrides=(), progress=False, figures=True,
              nifti=None, keep="full"):
    """Run the chain and write the results file (atomic), its report, figures and NIfTI.

    Parameters
    ----------
    config : str, Path, dict or Scenario
    output : str or Path, optional
        Results file (default ``results/NAME.chain.h5``); ``NAME_figures/``,
        ``NAME_report.md`` and ``NAME_nifti/`` go beside it.
    seed, overrides, progress, figures
        As for :func:`sim.pipeline.run`.
    nifti : bool, optional
        Write NIfTI images (default ``chain.nifti``).
    keep : {"full", "counts", "summary"}
        What the results file keeps (:data:`sim.results.schema.KEEP_LEVELS`; sweeps: counts).

    Returns
    -------
    (sim.results.Results, ChainResult)
    """
    t0 = time.perf_counter()
    if keep not in KEEP_LEVELS:
        raise ValueError(f"keep: {keep!r} is not one of {', '.join(KEEP_LEVELS)}")
    scenario = resolve_scenario(config, seed=seed, overrides=overrides)
    steps.check_chain_scenario(scenario)
    out = Path(output) if output is not None else chain_output(scenario)
    check_writable(out)
    display = progress if isinstance(progress, Progress) else Progress(progress or "off")
    with display:
        res = run_chain_steps(scenario, progress=display)
        res.summary["elapsed_s"] = time.perf_counter() - t0
        with display.task("write"):
            results = write_outputs(res, out, figures=figures, nifti=nifti, keep=keep)
    return results, res
