"""The simulation pipeline, stage by stage (see DESIGN.md):

    scenario -> tree -> flow -> transport -> (dose -> metrics -> planning) -> results

Each stage is one call on plain data; the CLI commands ``tree`` and ``transport`` run the
first stages and write their part of the results schema.
"""
from __future__ import annotations

from dataclasses import dataclass


from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value
from sim.anatomy import build_flow, build_tree, calibrate_tree
from sim.config import Scenario
from sim.seeding import stage_rng
from sim.transport import Deposition, TransportParams, transport_spheres
from sim.transport_stats import deposition_summary
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
    if rx.n_spheres > scenario.transport.max_spheres:
        raise ValueError(f"{rx.n_spheres:.3g} spheres ({activity:.3g} GBq of {dev.key} on day "
                         f"{rx.days_after_calibration:g}) exceed transport.max_spheres "
                         f"({scenario.transport.max_spheres:.3g}; ~25 bytes of memory each)")
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


def tree_report(tree, flow) -> dict:
    """Summary of the tree and flow stage (JSON-friendly)."""
    return tree_summary(tree, flow)


# ------------------------------------------------------------------------------------- dose
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
                                      "tumour_alpha_beta_Gy": d.tumour_alpha_beta_Gy,
                                      "tumour_eud_alpha_per_Gy": d.tumour_eud_alpha_per_Gy,
                                      "repair_half_time_h": d.repair_half_time_h, "lkb": d.lkb},
                        points_mm=points_mm,
                        whole_liver_mass_kg=(scenario.liver.whole_liver_mass_kg
                                             if scenario.liver is not None else None))




# -------------------------------------------------------------------------------- whole run
def apply_overrides(data: dict, overrides=(), source="--set") -> dict:
    """Apply ``key.path=value`` overrides to a raw scenario dict (values parsed as TOML,
    bare words as strings)."""
    import copy
    import tomllib

    from sim.config import ConfigError

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{source} {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                try:
                    node = node[int(part)]
                    continue
                except (ValueError, IndexError):
                    raise ConfigError(f"{source} {key}: {part!r} is not an index of a list") from None
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"{source} {key}: {part!r} is not a table")
        node[parts[-1]] = value
    return data


def resolve_scenario(config, *, seed=None, overrides=()) -> Scenario:
    """A scenario from a path, a raw dict or a Scenario, with a seed and ``--set`` overrides."""
    from pathlib import Path

    from sim.config import read_toml, scenario_from_dict

    if isinstance(config, Scenario):
        if not overrides and seed is None:
            return config
        data, source, base = config.model_dump(exclude_none=True), "<scenario>", None
    elif isinstance(config, dict):
        data, source, base = config, "<config>", None
    else:
        path = Path(config)
        data = read_toml(path)
        source, base = str(path), path.resolve().parent
    data = apply_overrides(data, overrides)
    if seed is not None:
        data["seed"] = seed
    return scenario_from_dict(data, source, base_dir=base)


_PER_REGION = ("mean_Gy", "cv", "D90_Gy", "below_40Gy", "below_70Gy")
#: Numeric keys of a run summary (sweep metrics and summary.csv columns).
SUMMARY_METRICS = (
    "activity_GBq", "days_after_calibration", "n_spheres", "activity_per_sphere_Bq",
    "perfused_mass_g", "terminals", "spheres_per_terminal_mean", "spheres_per_terminal_cv",
    "tumour_to_normal_uptake", "mird_liver_dose_Gy", "partition_normal_dose_Gy",
    "partition_tumour_dose_Gy", "grid_um", "normal_mean_BED_Gy", "normal_NTCP_LKB",
    *(f"{g}_{k}" for g in ("normal", "tumour", "perfused", "lobules_normal", "lobules_tumour")
      for k in _PER_REGION))


def run_summary(scenario: Scenario, tree_info: dict, transport: TransportResult, dose) -> dict:
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
    for name in ("normal", "tumour", "perfused", "lobules_normal", "lobules_tumour"):
        if name in m:
            s = m[name]
            for k in _PER_REGION:
                out[f"{name}_{k}"] = s[k]
    if "normal" in m:
        out["normal_mean_BED_Gy"] = m["normal"]["mean_BED_Gy"]
        out["normal_NTCP_LKB"] = m["normal"].get("NTCP_LKB")
    return out


def run(config, *, output=None, seed=None, overrides=(), progress=False, figures=True):
    """Run a scenario end to end: tree -> flow -> transport -> dose -> metrics -> planning.

    Parameters
    ----------
    config : str, Path, dict or Scenario
        The scenario (TOML path, raw dict or validated scenario).
    output : str or Path, optional
        Results file (default ``results/NAME.h5``); figures go to ``NAME_figures`` beside it.
    seed : int, optional
        Root seed (overrides the scenario's).
    overrides : sequence of str
        ``key.path=value`` settings applied before validation.
    progress : bool
        Show a progress bar per stage.
    figures : bool
        Draw the figures.

    Returns
    -------
    sim.results.Results
    """
    from pathlib import Path

    from sim.figures import draw_all
    from sim.results import open_results
    from sim.results_schema import write_stage_results

    scenario = resolve_scenario(config, seed=seed, overrides=overrides)
    if scenario.tree is None:
        raise ValueError("the scenario has no [tree] section: `taresim plan` compares the "
                         "planning models without one")
    out = Path(output) if output is not None else Path("results") / f"{scenario.name}.h5"
    with _Stages(progress) as stage:
        stage("tree and flow")
        tree, flow = tree_and_flow(scenario)
        stage("transport")
        transport = run_transport(scenario, tree)
        stage("dose")
        dep = transport.deposition
        liver = dep.fate == 0
        dose = run_dose(scenario, tree, dep.position_mm[liver].astype(float),
                        dep.activity_Bq[liver].astype(float),
                        injected_activity_GBq=transport.summary["counts"]["injected_activity_GBq"])
        summary = run_summary(scenario, tree_summary(tree, flow), transport, dose)
        stage("write")
        write_stage_results(out, scenario, tree, flow, transport, dose, summary)
        results = open_results(out)
        if figures:
            stage("figures")
            draw_all(results)
    return results


class _Stages:
    """A progress display of the pipeline's stages (silent when disabled)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._p = None
        self._task = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._p = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                               TimeElapsedColumn(), transient=True)
            self._p.start()
        return self

    def __call__(self, name: str):
        if self._p is None:
            return
        if self._task is not None:
            self._p.remove_task(self._task)
        self._task = self._p.add_task(name, total=None)

    def __exit__(self, *exc):
        if self._p is not None:
            self._p.stop()
        return False
