"""The flow field of a tree (flows, pressures, resistances) and its HDF5 form (``/flow``)."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["FlowField", "FLOW_UNITS", "write_flow_hdf5", "read_flow_hdf5"]

#: HDF5 dataset name -> units attribute (results schema ``/flow``, docs/architecture.md).
FLOW_UNITS = {
    "flow_mL_min": "mL/min",
    "pressure_mmHg": "mmHg",
    "viscosity_mPa_s": "mPa s",
    "segment_resistance_mmHg_min_mL": "mmHg min/mL",
    "subtree_resistance_mmHg_min_mL": "mmHg min/mL",
}


@dataclasses.dataclass(frozen=True, eq=False)
class FlowField:
    """Flow solution. ``pressure_mmHg[i]`` is the pressure at the distal end of segment i."""

    flow_mL_min: np.ndarray
    pressure_mmHg: np.ndarray
    inlet_pressure_mmHg: float
    inlet_flow_mL_min: float
    terminal_pressure_mmHg: float
    viscosity_mPa_s: np.ndarray
    segment_resistance_mmHg_min_mL: np.ndarray
    subtree_resistance_mmHg_min_mL: np.ndarray

    def write_hdf5(self, group, *, compression=None) -> None:
        """Write this field into an h5py group (see :func:`write_flow_hdf5`)."""
        write_flow_hdf5(group, self, compression=compression)


def write_flow_hdf5(group, flow: FlowField, *, compression=None) -> None:
    """Write a :class:`FlowField` (datasets with ``units``; scalars as attributes)."""
    for name, units in FLOW_UNITS.items():
        ds = group.create_dataset(name, data=getattr(flow, name), compression=compression,
                                  shuffle=compression is not None)
        ds.attrs["units"] = units
    group.attrs["inlet_pressure_mmHg"] = flow.inlet_pressure_mmHg
    group.attrs["inlet_flow_mL_min"] = flow.inlet_flow_mL_min
    group.attrs["terminal_pressure_mmHg"] = flow.terminal_pressure_mmHg


def read_flow_hdf5(group) -> FlowField:
    """Read a :class:`FlowField` written by :func:`write_flow_hdf5`."""
    return FlowField(
        *(group[name][()] for name in ("flow_mL_min", "pressure_mmHg")),
        float(group.attrs["inlet_pressure_mmHg"]),
        float(group.attrs["inlet_flow_mL_min"]),
        float(group.attrs["terminal_pressure_mmHg"]),
        *(group[name][()] for name in list(FLOW_UNITS)[2:]),
    )
