"""The flow stage from a scenario's ``[flow]`` section: radius calibration and the solve."""

from __future__ import annotations

from sim.flow.field import FlowField
from sim.flow.hemodynamics import DEFAULT_INLET_PRESSURE_MMHG, FlowState, calibrate_radii
from sim.tree.arrays import TreeArrays

__all__ = ["calibrate_tree", "flow_state", "build_flow"]


def calibrate_tree(tree: TreeArrays, spec) -> TreeArrays:
    """Scale all radii so the inlet pressure drives ``calibrate_perfusion_mL_min_g`` x mass.

    A uniform scale keeps Murray's law and every flow split (Poiseuille: R ~ r^-4). Used to
    give a grown tree a physiological hepatic arterial perfusion, e.g. 400 mL/min for a
    1.5 kg liver = 0.27 mL/min/g (Crookston et al. 2019). Returns the tree unchanged when the
    option is off.
    """
    if spec.calibrate_perfusion_mL_min_g is None:
        return tree
    mass_g = float(tree.terminal_mass_mg.sum() * 1e-3)
    p_in = spec.inlet_pressure_mmHg or DEFAULT_INLET_PRESSURE_MMHG
    return calibrate_radii(tree, inlet_flow_mL_min=spec.calibrate_perfusion_mL_min_g * mass_g,
                           inlet_pressure_mmHg=p_in,
                           terminal_pressure_mmHg=spec.terminal_pressure_mmHg,
                           viscosity_mPa_s=spec.viscosity_mPa_s)


def flow_state(tree: TreeArrays, spec) -> FlowState:
    """The mutable flow state of a tree with the scenario's boundary conditions (solved once;
    the transport updates it sphere by sphere)."""
    return FlowState(tree, **spec.kwargs())


def build_flow(tree: TreeArrays, spec) -> FlowField:
    """Solve the Poiseuille flow of a tree with the scenario's boundary conditions."""
    return flow_state(tree, spec).field()
