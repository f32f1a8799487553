"""The results schema (docs/architecture.md): writers and readers of the stage groups
``/tree``, ``/flow``, ``/deposition``, ``/dose``, ``/metrics`` and ``/planning``."""
from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import tomllib

import h5py
import numpy as np

from sim.config import Scenario, scenario_from_dict, scenario_to_toml
from sim.results.io import ResultsError, attrs_dict, open_results, results_writer, write_dataset
from sim.transport.fates import LIVER
from sim.transport.stats import spheres_per_segment
from sim.tree.io import read_tree_hdf5, write_tree_hdf5

__all__ = ["KEEP_LEVELS", "write_stage_results", "load_stage_results", "write_tree_group",
           "write_deposition_group", "write_dose_groups", "add_dose_to_results"]


def write_tree_group(f, tree, flow) -> None:
    """Write ``/tree`` (with ``/flow``) of the results schema."""
    write_tree_hdf5(f.create_group("tree"), tree, compression="gzip")
    flow.write_hdf5(f.create_group("flow"), compression="gzip")


#: What a results file keeps: everything; per-segment and per-lobule data without the
#: per-sphere arrays and the dose grid (sweep default); the summary, metrics and planning only.
KEEP_LEVELS = ("full", "counts", "summary")


def write_deposition_group(f, tree, result, keep: str = "full") -> None:
    """Write ``/deposition``: the liver spheres (segment, position, activity, diameter; not
    with ``keep="counts"``), spheres per segment, the compartment counts and the transport
    engine as attributes."""
    dep = result.deposition
    g = f.create_group("deposition")
    if keep == "full":
        liver = dep.fate == LIVER
        write_dataset(g, "segment", dep.segment[liver], "1")
        # positions are made and written block by block: never the (N, 3) array in memory
        pos = write_dataset(g, "position_mm", None, "mm", shape=(int(liver.sum()), 3),
                            dtype=np.float32)
        k = 0
        for block in dep.iter_liver_positions():
            pos[k:k + len(block)] = block
            k += len(block)
        write_dataset(g, "activity_Bq", dep.activity_Bq[liver], "Bq")
        write_dataset(g, "diameter_um", dep.diameter_um[liver], "um")
        write_dataset(g, "stacked", dep.stacked[liver], "1")
    write_dataset(g, "spheres_per_segment", spheres_per_segment(tree, dep).astype(np.int32), "1")
    for k, v in dep.counts().items():
        g.attrs[k] = v
    g.attrs["injection_segment"] = int(dep.injection_segment)
    g.attrs["stasis_at_sphere"] = int(dep.stasis_at_sphere)
    g.attrs["transport_engine"] = str(dep.engine)
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


def write_stage_results(path, scenario: Scenario, tree, flow, transport=None, dose=None,
                        summary=None, territory_summary=None, keep: str = "full"):
    """Write a results file with the stages computed so far (atomic).

    ``territory_summary`` (the tree summary over the treated territory) and the transport
    summary are stored so that ``taresim dose`` can rebuild the run summary later. ``keep``
    (:data:`KEEP_LEVELS`, stored as the root attribute ``kept``): ``"counts"`` leaves out the
    per-sphere arrays and the dose grid, ``"summary"`` also the tree, flow and deposition.
    """
    if keep not in KEEP_LEVELS:
        raise ValueError(f"keep: {keep!r} is not one of {', '.join(KEEP_LEVELS)}")
    with results_writer(path, seed=scenario.seed, config_toml=scenario_to_toml(scenario)) as f:
        f.attrs["scenario"] = scenario.name
        f.attrs["kept"] = keep
        if keep != "summary":
            write_tree_group(f, tree, flow)
            if territory_summary is not None:
                f["tree"].attrs["territory_summary_json"] = json.dumps(territory_summary,
                                                                       default=float)
        if transport is not None and keep != "summary":
            write_deposition_group(f, tree, transport, keep)
            f["deposition"].attrs["summary_json"] = json.dumps(
                {"prescription": transport.prescription, **transport.summary}, default=float)
        if dose is not None:
            write_dose_groups(f, dose, keep)
        if summary is not None:
            f.attrs["summary_json"] = json.dumps(summary, default=float)


def load_stage_results(path):
    """Read a transport results file: (scenario, tree, liver sphere xyz [mm], activity [Bq],
    deposition attributes)."""
    with open_results(path) as f:
        if "deposition" not in f or "tree" not in f:
            raise ResultsError(f"{path}: no /tree and /deposition groups (run `taresim "
                               "transport` first)")
        try:
            scenario = scenario_from_dict(tomllib.loads(str(f.attrs["config_toml"])), str(path))
            tree = read_tree_hdf5(f["tree"])
        except (KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise ResultsError(f"{path}: damaged results file ({exc})") from None
        kept = str(f.attrs.get("kept", "full"))
        if kept != "full":
            raise ResultsError(f"{path}: the file keeps {kept} only (no sphere positions): run "
                               "the scenario again with the full results (a sweep's "
                               "keep = \"full\")")
        g = f["deposition"]
        xyz = g["position_mm"][()].astype(np.float64)
        act = g["activity_Bq"][()].astype(np.float64)
        dep_attrs = attrs_dict(g)
        dep_attrs["territory_summary_json"] = f["tree"].attrs.get("territory_summary_json")
    return scenario, tree, xyz, act, dep_attrs


def _write_tree_of_dicts(group, d: dict):
    for k, v in d.items():
        if isinstance(v, dict):
            _write_tree_of_dicts(group.require_group(str(k)), v)
        elif v is None:
            continue
        else:
            group.attrs[str(k)] = v


def write_dose_groups(f, result, keep: str = "full") -> None:
    """Write ``/dose``, ``/metrics`` and ``/planning`` (replacing earlier ones); ``/dose``
    holds the grid with ``keep="full"``, the lobule doses with ``"counts"``, nothing with
    ``"summary"``."""
    for name in ("dose", "metrics", "planning"):
        if name in f:
            del f[name]
    if keep != "summary":
        _write_dose_group(f.create_group("dose"), result, keep)
    _write_tree_of_dicts(f.create_group("metrics"), result.metrics)
    plan = f.create_group("planning")
    _write_tree_of_dicts(plan, {k: v for k, v in result.planning.items()
                                if k not in ("masses_kg", "explanation_by_region")})
    _write_tree_of_dicts(plan.create_group("masses_kg"), result.planning["masses_kg"])
    _write_tree_of_dicts(plan.create_group("explanation_by_region"),
                         result.planning["explanation_by_region"])
    _write_tree_of_dicts(f.create_group("metrics/energy_J"), result.energy)


def _write_dose_group(g, result, keep):
    write_dataset(g, "lobule_dose_Gy", result.lobule_dose_Gy, "Gy")
    write_dataset(g, "lobule_region", result.lobule_region.astype(np.int32), "1")
    if result.lobule_treated is not None:
        write_dataset(g, "lobule_treated", result.lobule_treated, "1")
    g.attrs["lobule_radius_mm"] = result.extra["lobule_radius_mm"]
    if keep != "full":
        return
    write_dataset(g, "dose_Gy", result.dose_Gy.astype(np.float32), "Gy")
    write_dataset(g, "origin_mm", result.origin_mm, "mm")
    write_dataset(g, "spacing_mm", result.spacing_mm, "mm")
    write_dataset(g, "region", result.region, "1")
    comp = result.compartments
    if comp is not None:
        c = g.create_group("compartments")
        c.attrs["codes"] = np.asarray(comp.codes, dtype=np.int64)
        c.attrs["meaning"] = ("code -1 off the liver, -2 liver outside the treated territory, "
                              "0 treated normal liver, k treated tumour k; label -3: a "
                              "boundary voxel, its fractions in mixed_fraction")
        write_dataset(c, "label", comp.label, "1")
        write_dataset(c, "mixed_index", comp.mixed_index, "1")
        write_dataset(c, "mixed_fraction", comp.mixed_fraction, "1")
        c.attrs["voxel_mass_kg"] = comp.voxel_mass_kg
    if result.points_mm is not None:
        write_dataset(g, "points_mm", result.points_mm, "mm")
        write_dataset(g, "points_dose_Gy", result.points_dose_Gy, "Gy")
    g.attrs["origin_is"] = "centre of voxel (0, 0, 0)"
    g.attrs["region_is"] = ("majority compartment of each voxel: -1 off the liver, -2 liver "
                            "outside the treated territory, 0 treated normal, k treated tumour k")


def add_dose_to_results(path, result, *, scenario=None, summary=None) -> None:
    """Add the dose groups to an existing results file atomically (copy, write, rename), with
    the scenario the dose was computed for and the run summary rebuilt from it (so nothing
    stored describes an older dose)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            write_dose_groups(f, result)
            if scenario is not None:
                f.attrs["config_toml"] = scenario_to_toml(scenario)
            if summary is not None:
                f.attrs["summary_json"] = json.dumps(summary, default=float)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
