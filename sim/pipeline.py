"""The simulation pipeline, stage by stage (docs/architecture.md)::

    scenario -> anatomy (tree + flow) -> transport -> dose (metrics, planning) -> results

Each stage is one call on plain data; :func:`run` strings them together and writes one results
file, up to the stage asked for. The ``tree``, ``transport``, ``run`` and ``dose`` commands of
the CLI all go through this module.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import math
from pathlib import Path
import time
from types import SimpleNamespace

import numpy as np

from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value
from sim.config import Scenario, resolve_scenario
from sim.dose import DoseResult, compute_dose, grid_for_tree
from sim.flow import FlowField, FlowState, calibrate_tree, flow_state
from sim.memory import check_memory, estimate_peak_bytes
from sim.progress import Progress
from sim.results import Results, open_results, run_summary
from sim.results.figures import draw_all
from sim.results.io import check_writable
from sim.results.schema import (KEEP_LEVELS, add_dose_to_results, load_stage_results,
                                write_stage_results)
from sim.seeding import stage_rng
from sim.transport import Deposition, deposition_summary, injection_segment, transport_spheres
from sim.tree import TreeArrays, build_tree, summary as tree_summary
from sim.tree.arrays import connection_warnings
from sim.tree.build import tissue_geometry
from sim.tree.tissue import TissueGeometry

__all__ = ["Anatomy", "TransportResult", "build_anatomy", "treatment_activity_GBq",
           "run_transport", "run_dose", "run", "add_dose", "default_output", "STAGES"]

#: Stages :func:`run` can stop after.
STAGES = ("tree", "transport", "dose")


@dataclass
class Anatomy:
    """Output of the tree and flow stage.

    ``flow`` is the field at the start of the injection; ``state`` is the same solution in
    mutable form, which the transport's embolic effect updates in place. ``geometry`` is the
    tissue (domain and tumours) of a grown tree, None otherwise; ``injection`` the catheter
    segment, whose subtree is the treated territory.
    """

    tree: TreeArrays
    flow: FlowField
    state: FlowState
    geometry: TissueGeometry | None
    injection: int
    warnings: tuple = ()

    @property
    def territory_mass_kg(self) -> float:
        """Perfused mass of the treated territory (the tree below the injection) [kg]."""
        return float(self.tree.terminal_mass_mg[self.tree.subtree(self.injection)].sum() * 1e-6)


@dataclass
class TransportResult:
    """Output of the transport stage."""

    deposition: Deposition
    prescription: dict
    summary: dict


def build_anatomy(scenario: Scenario) -> Anatomy:
    """Stage 1-2: the arterial tree and its Poiseuille flow (solved once).

    Raises
    ------
    ValueError
        When the scenario has no ``[tree]`` section.
    """
    if scenario.tree is None:
        raise ValueError("the scenario has no [tree] section")
    tree = build_tree(scenario.tree, stage_rng(scenario.seed, "tree"))
    tree = calibrate_tree(tree, scenario.flow)
    state = flow_state(tree, scenario.flow)
    flow = state.field()
    inject = injection_segment(tree, flow, scenario.transport.injection)
    geometry = tissue_geometry(scenario.tree)
    warnings = connection_warnings(tree) + (geometry.warnings() if geometry else [])
    return Anatomy(tree, flow, state, geometry, inject, tuple(warnings))


def treatment_activity_GBq(scenario: Scenario, anatomy: Anatomy) -> tuple[float, str]:
    """Administered activity [GBq] and where it came from.

    ``treatment.activity_GBq`` when given; otherwise the MIRD activity for
    ``plan.mird_dose_Gy`` over the perfused mass of the treated territory (the tree below the
    injection segment) with the patient's LSF.
    """
    if scenario.treatment.activity_GBq is not None:
        return scenario.treatment.activity_GBq, "treatment.activity_GBq"
    dev = scenario.device()
    mass_kg = anatomy.territory_mass_kg
    k = dose_constant_value(scenario.treatment.dose_constant, dev.nuclide)
    plan = planning.mird(perfused_mass_kg=mass_kg, target_dose_Gy=scenario.plan.mird_dose_Gy,
                         lung_shunt_fraction=scenario.patient.lung_shunt_fraction, dose_constant=k)
    return plan.activity_GBq, f"MIRD {scenario.plan.mird_dose_Gy:g} Gy over {mass_kg * 1e3:.1f} g"


def run_transport(scenario: Scenario, anatomy: Anatomy, *, progress=False) -> TransportResult:
    """Stage 3: sphere count from the device library, diameters, transport, statistics.

    The transport updates ``anatomy.state`` (the embolic effect).
    """
    dev = scenario.device()
    tree = anatomy.tree
    activity, source = treatment_activity_GBq(scenario, anatomy)
    rx = dev.prescribe(activity, scenario.treatment.days_after_calibration)
    if rx.n_spheres > scenario.transport.max_spheres:
        raise ValueError(f"{rx.n_spheres:.3g} spheres ({activity:.3g} GBq of {dev.key} on day "
                         f"{rx.days_after_calibration:g}) exceed transport.max_spheres "
                         f"({scenario.transport.max_spheres:.3g})")
    t = scenario.transport
    # the linear embolic model occludes a vessel after N_occ spheres: at most ceil(N_occ) per
    # segment can lodge (the estimate's bound on the spheres in the liver)
    cap = (math.ceil(t.spheres_to_occlude) * int(tree.subtree(anatomy.injection).sum())
           if t.embolic == "linear" else None)
    check_memory(estimate_peak_bytes(rx.n_spheres, tree.n_segments,
                                     grid_voxels(scenario, anatomy), n_liver=cap),
                 f"{rx.n_spheres:,} spheres of {dev.key} in a {tree.n_segments:,}-segment tree")
    d = dev.sample_diameters_um(rx.n_spheres, stage_rng(scenario.seed, "diameters"),
                                dtype=np.float32)
    params = scenario.transport.params(scenario.patient.lung_shunt_fraction)
    dep = transport_spheres(tree, d, rx.activity_per_sphere_Bq,
                            injection=anatomy.injection, params=params,
                            rng=stage_rng(scenario.seed, "transport"), progress=progress,
                            flow_state=anatomy.state, engine=scenario.transport.engine)
    pres = rx.to_dict()
    pres["activity_source"] = source
    pres["device_name"] = dev.name
    pres["nuclide"] = dev.nuclide
    return TransportResult(dep, pres, deposition_summary(tree, dep))


def liver_activities_Bq(dep: Deposition) -> np.ndarray:
    """Activities of the liver spheres [Bq], float64: a broadcast view (no per-sphere
    array) when every sphere carries the same activity."""
    act = np.asarray(dep.activity_Bq)
    n = int(np.count_nonzero(dep.fate == 0))
    if act.strides == (0,) and act.size:
        return np.broadcast_to(np.float64(act[0]), (n,))
    return act[dep.fate == 0].astype(np.float64)


def grid_voxels(scenario: Scenario, anatomy: Anatomy) -> int:
    """Voxels of the dose grid the scenario will use."""
    _, _, shape = grid_for_tree(anatomy.tree, scenario.dose.grid_um * 1e-3,
                                density_g_cm3=scenario.tissue_density_g_cm3,
                                geometry=anatomy.geometry)
    return int(np.prod(shape))


def run_dose(scenario: Scenario, tree, xyz, act, *, injected_activity_GBq=None,
             points_mm=None, injection_segment=0) -> DoseResult:
    """Stage 4-5: cross-fire dose, metrics and the planning comparison (``[dose]`` section).

    The tissue geometry comes from the scenario's ``[tree]`` (grown trees); the treated
    territory is the tree below ``injection_segment``.
    """
    d = scenario.dose
    return compute_dose(tree, xyz, act, nuclide=scenario.device().nuclide,
                        spacing_mm=d.grid_um * 1e-3, density_g_cm3=scenario.tissue_density_g_cm3,
                        geometry=tissue_geometry(scenario.tree) if scenario.tree else None,
                        injection_segment=injection_segment,
                        injected_activity_GBq=injected_activity_GBq,
                        dose_constant=scenario.treatment.dose_constant,
                        lobule_radius_mm=d.lobule_radius_mm,
                        radiobiology={"alpha_beta_Gy": d.alpha_beta_Gy,
                                      "tumour_alpha_beta_Gy": d.tumour_alpha_beta_Gy,
                                      "tumour_eud_alpha_per_Gy": d.tumour_eud_alpha_per_Gy,
                                      "repair_half_time_h": d.repair_half_time_h, "lkb": d.lkb},
                        points_mm=points_mm,
                        whole_liver_mass_kg=(scenario.liver.whole_liver_mass_kg
                                             if scenario.liver is not None else None))


def default_output(scenario: Scenario, until: str = "dose") -> Path:
    """Default results file of a run that stops after ``until``: ``results/NAME.h5`` for a
    whole run, ``results/NAME.tree.h5`` and ``results/NAME.transport.h5`` for partial ones."""
    suffix = "" if until == "dose" else f".{until}"
    return Path("results") / f"{scenario.name}{suffix}.h5"


def run(config, *, output=None, seed=None, overrides=(), progress=False, figures=True,
        until="dose", keep="full") -> Results:
    """Run a scenario end to end: tree -> flow -> transport -> dose -> metrics -> planning.

    Parameters
    ----------
    config : str, Path, dict or Scenario
        The scenario (TOML path, raw dict or validated scenario).
    output : str or Path, optional
        Results file (default :func:`default_output`); figures go to ``NAME_figures`` beside it.
    seed : int, optional
        Root seed (overrides the scenario's).
    overrides : sequence of str
        ``key.path=value`` settings applied before validation.
    progress : bool or sim.progress.Progress
        Show a progress display per stage.
    figures : bool
        Draw the figures.
    until : {"tree", "transport", "dose"}
        Last stage to run; the file holds the groups of the stages run and their summary.
    keep : {"full", "counts", "summary"}
        What the file keeps (:data:`sim.results.schema.KEEP_LEVELS`): everything; no
        per-sphere arrays and no dose grid; or the summary, metrics and planning only.

    Returns
    -------
    sim.results.Results
    """
    if until not in STAGES:
        raise ValueError(f"until: {until!r} is not one of {', '.join(STAGES)}")
    if keep not in KEEP_LEVELS:
        raise ValueError(f"keep: {keep!r} is not one of {', '.join(KEEP_LEVELS)}")
    t0 = time.perf_counter()
    scenario = resolve_scenario(config, seed=seed, overrides=overrides)
    if scenario.tree is None:
        raise ValueError("the scenario has no [tree] section: `taresim plan` compares the "
                         "planning models without one")
    out = Path(output) if output is not None else default_output(scenario, until)
    check_writable(out)  # before any work
    display = progress if isinstance(progress, Progress) else Progress(progress or "off")
    with display:
        with display.task("tree and flow"):
            anatomy = build_anatomy(scenario)
        territory = anatomy.tree.subtree(anatomy.injection)
        summary = dict(tree_summary(anatomy.tree, anatomy.flow), warnings=list(anatomy.warnings))
        transport = dose = None
        if until != "tree":
            with display.task("transport"):
                transport = run_transport(scenario, anatomy, progress=display)
            summary = {"scenario": scenario.name, "seed": scenario.seed,
                       "prescription": transport.prescription, **transport.summary,
                       "warnings": list(anatomy.warnings)}
        if until == "dose":
            with display.task("dose"):
                dep = transport.deposition
                dose = run_dose(scenario, anatomy.tree, dep.liver_positions_mm(np.float64),
                                liver_activities_Bq(dep),
                                injected_activity_GBq=transport.summary["counts"][
                                    "injected_activity_GBq"],
                                injection_segment=anatomy.injection)
            summary = run_summary(scenario, tree_summary(anatomy.tree, anatomy.flow,
                                                         territory=territory), transport, dose)
            summary["warnings"] = list(anatomy.warnings) + summary["warnings"]
        summary["elapsed_s"] = time.perf_counter() - t0
        with display.task("write"):
            write_stage_results(out, scenario, anatomy.tree, anatomy.flow, transport, dose,
                                summary, tree_summary(anatomy.tree, anatomy.flow,
                                                      territory=territory), keep=keep)
            results = open_results(out)
        if figures:
            with display.task("figures"):
                draw_all(results)
    return results


def add_dose(path, *, overrides=(), points_mm=None) -> tuple[Results, DoseResult]:
    """Add ``/dose``, ``/metrics`` and ``/planning`` to a transport results file (atomic).

    ``overrides`` (``key.path=value``, e.g. ``dose.grid_um=500``) change the stored scenario's
    dose settings; the stored scenario and run summary are replaced by the ones this dose was
    computed with.
    """
    scenario, tree, xyz, act, dep = load_stage_results(path)
    scenario = resolve_scenario(scenario, overrides=overrides)
    res = run_dose(scenario, tree, xyz, act,
                   injected_activity_GBq=dep.get("injected_activity_GBq"), points_mm=points_mm,
                   injection_segment=int(dep.get("injection_segment", 0)))
    summary = None
    if dep.get("summary_json") and dep.get("territory_summary_json"):
        stored = json.loads(dep["summary_json"])
        transport = SimpleNamespace(prescription=stored.pop("prescription"), summary=stored)
        summary = run_summary(scenario, json.loads(dep["territory_summary_json"]), transport,
                              res)
    add_dose_to_results(path, res, scenario=scenario, summary=summary)
    return open_results(path), res
