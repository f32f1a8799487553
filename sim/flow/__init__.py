"""Poiseuille blood flow in an arterial tree: full O(N) solve, O(depth) updates for the
transport's embolic feedback, radius calibration to a physiological perfusion, and the flow
field's HDF5 form."""
from sim.flow.build import build_flow, calibrate_tree, flow_state
from sim.flow.field import FLOW_UNITS, FlowField, read_flow_hdf5, write_flow_hdf5
from sim.flow.hemodynamics import (DEFAULT_INLET_PRESSURE_MMHG, DEFAULT_TERMINAL_PRESSURE_MMHG,
                                   DEFAULT_VISCOSITY_MPA_S, FlowState, calibrate_radii,
                                   poiseuille_resistance, pries_relative_viscosity,
                                   segment_viscosity, solve_flow)

__all__ = ["FlowState", "FlowField", "solve_flow", "calibrate_radii", "calibrate_tree",
           "flow_state", "build_flow", "read_flow_hdf5", "write_flow_hdf5", "FLOW_UNITS",
           "poiseuille_resistance", "segment_viscosity", "pries_relative_viscosity",
           "DEFAULT_VISCOSITY_MPA_S", "DEFAULT_INLET_PRESSURE_MMHG",
           "DEFAULT_TERMINAL_PRESSURE_MMHG"]
