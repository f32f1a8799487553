"""The simulation pipeline, stage by stage (see DESIGN.md):

    scenario -> tree -> flow -> transport -> (dose -> metrics -> planning) -> results

Each stage is one call on plain data; the CLI commands ``tree`` and ``transport`` run the
first stages and write their part of the results schema.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value
from sim import _transport_kernels as _tk
from sim.anatomy import build_flow, build_tree, calibrate_tree
from sim.config import Scenario, scenario_to_toml
from sim.results_io import results_writer, write_dataset
from sim.seeding import stage_rng
from sim.transport import Deposition, TransportParams, transport_spheres
from sim.transport_stats import deposition_summary, spheres_per_segment
from sim.tree import summary as tree_summary


@dataclass
class TransportResult:
    """Output of the transport stage."""

    deposition: Deposition
    prescription: dict
    summary: dict


def tree_and_flow(scenario: Scenario):
    """Stage 1-2: the arterial tree and its Poiseuille flow.

    Raises
    ------
    ValueError
        When the scenario has no ``[tree]`` section.
    """
    if scenario.tree is None:
        raise ValueError("the scenario has no [tree] section")
    tree = build_tree(scenario.tree, stage_rng(scenario.seed, "tree"))
    tree = calibrate_tree(tree, scenario.flow)
    return tree, build_flow(tree, scenario.flow)


def treatment_activity_GBq(scenario: Scenario, tree) -> tuple[float, str]:
    """Administered activity [GBq] and where it came from.

    ``treatment.activity_GBq`` when given; otherwise the MIRD activity for
    ``plan.mird_dose_Gy`` over the tree's perfused mass with the patient's LSF.
    """
    if scenario.treatment.activity_GBq is not None:
        return scenario.treatment.activity_GBq, "treatment.activity_GBq"
    dev = scenario.device()
    mass_kg = float(tree.terminal_mass_mg.sum() * 1e-6)
    k = dose_constant_value(scenario.treatment.dose_constant, dev.nuclide)
    plan = planning.mird(perfused_mass_kg=mass_kg, target_dose_Gy=scenario.plan.mird_dose_Gy,
                         lung_shunt_fraction=scenario.patient.lung_shunt_fraction, dose_constant=k)
    return plan.activity_GBq, f"MIRD {scenario.plan.mird_dose_Gy:g} Gy over {mass_kg * 1e3:.1f} g"


def transport_params(scenario: Scenario) -> TransportParams:
    """Transport parameters of a scenario (global or tumour lung shunt)."""
    t = scenario.transport
    lsf = scenario.patient.lung_shunt_fraction if t.lung_shunt == "global" else 0.0
    return TransportParams(straight_ratio=t.straight_ratio, embolic=t.embolic,
                           spheres_to_occlude=t.spheres_to_occlude,
                           embolic_fraction=t.embolic_fraction, stasis_fraction=t.stasis_fraction,
                           after_stasis=t.after_stasis, lung_shunt_fraction=lsf,
                           tumour_shunt_fraction=t.tumour_shunt_fraction)


def run_transport(scenario: Scenario, tree, *, progress=False) -> TransportResult:
    """Stage 3: sphere count from the device library, diameters, transport, statistics."""
    dev = scenario.device()
    activity, source = treatment_activity_GBq(scenario, tree)
    rx = dev.prescribe(activity, scenario.treatment.days_after_calibration)
    d = dev.sample_diameters_um(rx.n_spheres, stage_rng(scenario.seed, "diameters"))
    dep = transport_spheres(tree, d, rx.activity_per_sphere_Bq,
                            injection=scenario.transport.injection,
                            params=transport_params(scenario),
                            rng=stage_rng(scenario.seed, "transport"), progress=progress,
                            flow_kwargs=scenario.flow.kwargs())
    pres = rx.to_dict()
    pres["activity_source"] = source
    pres["device_name"] = dev.name
    pres["nuclide"] = dev.nuclide
    return TransportResult(dep, pres, deposition_summary(tree, dep))


def write_tree_group(f, tree, flow) -> None:
    """Write ``/tree`` (with ``/flow``) of the results schema."""
    from sim.tree_io import write_flow_hdf5, write_tree_hdf5

    write_tree_hdf5(f.create_group("tree"), tree)
    write_flow_hdf5(f.create_group("flow"), flow)


def write_deposition_group(f, tree, result: TransportResult) -> None:
    """Write ``/deposition``: the liver spheres (segment, position, activity, diameter) and
    the compartment counts as attributes."""
    dep = result.deposition
    g = f.create_group("deposition")
    liver = dep.fate == _tk.LIVER
    write_dataset(g, "segment", dep.segment[liver], "1")
    write_dataset(g, "position_mm", dep.position_mm[liver], "mm")
    write_dataset(g, "activity_Bq", dep.activity_Bq[liver], "Bq")
    write_dataset(g, "diameter_um", dep.diameter_um[liver], "um")
    write_dataset(g, "stacked", dep.stacked[liver], "1")
    write_dataset(g, "spheres_per_segment", spheres_per_segment(tree, dep).astype(np.int32), "1")
    for k, v in dep.counts().items():
        g.attrs[k] = v
    g.attrs["injection_segment"] = int(dep.injection_segment)
    g.attrs["stasis_at_sphere"] = int(dep.stasis_at_sphere)
    g.attrs["injected_flow_mL_min_start"] = float(dep.injected_flow_mL_min[0])
    g.attrs["injected_flow_mL_min_end"] = float(dep.injected_flow_mL_min[1])
    for k, v in result.prescription.items():
        if v is None or isinstance(v, (list, tuple)):
            continue
        g.attrs[f"prescription_{k}"] = v
    s = result.summary
    if "tumour_to_normal" in s:
        g.attrs["tumour_to_normal"] = s["tumour_to_normal"]
    for k, v in s["spheres_per_terminal"].items():
        g.attrs[f"spheres_per_terminal_{k}"] = v


def write_stage_results(path, scenario: Scenario, tree, flow, transport: TransportResult | None = None):
    """Write a results file with the stages computed so far (atomic)."""
    with results_writer(path, seed=scenario.seed, config_toml=scenario_to_toml(scenario)) as f:
        f.attrs["scenario"] = scenario.name
        write_tree_group(f, tree, flow)
        if transport is not None:
            write_deposition_group(f, tree, transport)


def tree_report(tree, flow) -> dict:
    """Summary of the tree and flow stage (JSON-friendly)."""
    return tree_summary(tree, flow)


# ------------------------------------------------------------------------------------- dose
def load_stage_results(path):
    """Read a transport results file: (scenario, tree, liver sphere xyz [mm], activity [Bq],
    deposition attributes)."""
    import tomllib

    from sim.config import scenario_from_dict
    from sim.results_io import ResultsError, attrs_dict, open_results
    from sim.tree_io import read_tree_hdf5

    with open_results(path) as f:
        if "deposition" not in f or "tree" not in f:
            raise ResultsError(f"{path}: no /tree and /deposition groups (run `taresim "
                               "transport` first)")
        scenario = scenario_from_dict(tomllib.loads(str(f.attrs["config_toml"])), str(path))
        tree = read_tree_hdf5(f["tree"])
        g = f["deposition"]
        xyz = g["position_mm"][()].astype(np.float64)
        act = g["activity_Bq"][()].astype(np.float64)
        dep_attrs = attrs_dict(g)
    return scenario, tree, xyz, act, dep_attrs


def run_dose(scenario: Scenario, tree, xyz, act, *, injected_activity_GBq=None, grid_um=None,
             points_mm=None):
    """Stage 4-5: cross-fire dose, metrics and the planning comparison."""
    from sim.dose_stage import compute_dose

    d = scenario.dose
    return compute_dose(tree, xyz, act, nuclide=scenario.device().nuclide,
                        spacing_mm=(grid_um or d.grid_um) * 1e-3, density_g_cm3=d.density_g_cm3,
                        injected_activity_GBq=injected_activity_GBq,
                        dose_constant=scenario.treatment.dose_constant,
                        lobule_radius_mm=d.lobule_radius_mm,
                        radiobiology={"alpha_beta_Gy": d.alpha_beta_Gy,
                                      "repair_half_time_h": d.repair_half_time_h, "lkb": d.lkb},
                        points_mm=points_mm)


def _write_tree_of_dicts(group, d: dict):
    for k, v in d.items():
        if isinstance(v, dict):
            _write_tree_of_dicts(group.require_group(str(k)), v)
        elif v is None:
            continue
        else:
            group.attrs[str(k)] = v


def write_dose_groups(f, result) -> None:
    """Write ``/dose``, ``/metrics`` and ``/planning`` (replacing earlier ones)."""
    for name in ("dose", "metrics", "planning"):
        if name in f:
            del f[name]
    g = f.create_group("dose")
    write_dataset(g, "dose_Gy", result.dose_Gy.astype(np.float32), "Gy", compression="gzip",
                  compression_opts=1)
    write_dataset(g, "origin_mm", result.origin_mm, "mm")
    write_dataset(g, "spacing_mm", result.spacing_mm, "mm")
    write_dataset(g, "region", result.region, "1", compression="gzip", compression_opts=1)
    write_dataset(g, "lobule_dose_Gy", result.lobule_dose_Gy, "Gy")
    write_dataset(g, "lobule_region", result.lobule_region, "1")
    if result.points_mm is not None:
        write_dataset(g, "points_mm", result.points_mm, "mm")
        write_dataset(g, "points_dose_Gy", result.points_dose_Gy, "Gy")
    g.attrs["origin_is"] = "centre of voxel (0, 0, 0)"
    g.attrs["lobule_radius_mm"] = result.extra["lobule_radius_mm"]
    _write_tree_of_dicts(f.create_group("metrics"), result.metrics)
    plan = f.create_group("planning")
    _write_tree_of_dicts(plan, {k: v for k, v in result.planning.items()
                                if k not in ("masses_kg", "explanation_by_region")})
    _write_tree_of_dicts(plan.create_group("masses_kg"), result.planning["masses_kg"])
    _write_tree_of_dicts(plan.create_group("explanation_by_region"),
                         result.planning["explanation_by_region"])
    _write_tree_of_dicts(f.create_group("metrics/energy_J"), result.energy)


def add_dose_to_results(path, result) -> None:
    """Add the dose groups to an existing results file atomically (copy, write, rename)."""
    import os
    import shutil

    import h5py

    from pathlib import Path

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            write_dose_groups(f, result)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
