"""Poiseuille blood flow in an arterial tree: full O(N) solve and O(depth) updates.

Units at this boundary: flow [mL/min], pressure [mmHg], resistance [mmHg min/mL], viscosity
[mPa s], radius [um], length [mm]. All terminals drain to one terminal pressure (optionally
through a per-terminal extra resistance); the inlet is driven by a flow or a pressure.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.flow import _kernels as _fk
from sim.flow.field import FlowField
from sim.tree.arrays import TreeArrays

__all__ = ["FlowState", "solve_flow", "calibrate_radii", "poiseuille_resistance",
           "segment_viscosity", "pries_relative_viscosity", "MMHG_PA",
           "DEFAULT_VISCOSITY_MPA_S", "DEFAULT_INLET_PRESSURE_MMHG",
           "DEFAULT_TERMINAL_PRESSURE_MMHG"]

MMHG_PA = 133.322387415  # 1 mmHg [Pa]
#: [Pa s/m^3] -> [mmHg min/mL]
_SI_TO_MMHG_MIN_ML = 1.0 / (MMHG_PA * 60.0 * 1e6)

DEFAULT_VISCOSITY_MPA_S = 3.5  # blood (Crookston et al. 2019)
DEFAULT_INLET_PRESSURE_MMHG = 98.0
DEFAULT_TERMINAL_PRESSURE_MMHG = 25.0


def pries_relative_viscosity(diameter_um, hematocrit=0.45):
    """In vitro relative apparent viscosity of blood in a tube (Fåhræus–Lindqvist effect).

    Parameters
    ----------
    diameter_um : array [um]. hematocrit : discharge hematocrit H_D [1].

    Returns
    -------
    array [1], apparent viscosity over plasma viscosity.

    References
    ----------
    Pries AR, Neuhaus D, Gaehtgens P. Blood viscosity in tube flow: dependence on diameter
    and hematocrit. Am J Physiol 1992;263:H1770-H1778 (eqs. for eta_0.45 and C).
    """
    d = np.asarray(diameter_um, dtype=np.float64)
    eta45 = 220.0 * np.exp(-1.3 * d) + 3.2 - 2.44 * np.exp(-0.06 * d**0.645)
    s = 1.0 / (1.0 + 1e-11 * d**12)
    c = (0.8 + np.exp(-0.075 * d)) * (-1.0 + s) + s
    return 1.0 + (eta45 - 1.0) * ((1.0 - hematocrit) ** c - 1.0) / ((1.0 - 0.45) ** c - 1.0)


def segment_viscosity(tree, *, viscosity_mPa_s=DEFAULT_VISCOSITY_MPA_S,
                      fahraeus_lindqvist=False, hematocrit=0.45):
    """Viscosity of each segment [mPa s].

    With ``fahraeus_lindqvist`` the Pries (1992) relative viscosity is scaled so that its
    large-vessel limit equals ``viscosity_mPa_s`` (the bulk viscosity): mu(D) = mu_bulk *
    eta_rel(D, H) / eta_rel(inf, H), with eta_rel(inf, H) from C -> -0.8, eta_0.45 -> 3.2.
    """
    if not viscosity_mPa_s > 0:
        raise ValueError("viscosity_mPa_s must be > 0")
    n = tree.n_segments
    if not fahraeus_lindqvist:
        return np.full(n, float(viscosity_mPa_s))
    if not 0.0 <= hematocrit < 1.0:
        raise ValueError("hematocrit must lie in [0, 1)")
    bulk = 1.0 + 2.2 * ((1.0 - hematocrit) ** -0.8 - 1.0) / (0.55**-0.8 - 1.0)
    return viscosity_mPa_s * pries_relative_viscosity(2.0 * tree.radius_um, hematocrit) / bulk


def poiseuille_resistance(radius_um, length_mm, viscosity_mPa_s):
    """R = 8 mu L / (pi r^4) [mmHg min/mL] (Hagen–Poiseuille)."""
    r = np.asarray(radius_um, dtype=np.float64) * 1e-6
    L = np.asarray(length_mm, dtype=np.float64) * 1e-3
    mu = np.asarray(viscosity_mPa_s, dtype=np.float64) * 1e-3
    return 8.0 * mu * L / (np.pi * r**4) * _SI_TO_MMHG_MIN_ML


def _boundary(inlet_flow_mL_min, inlet_pressure_mmHg, terminal_pressure_mmHg):
    if inlet_flow_mL_min is not None and inlet_pressure_mmHg is not None:
        raise ValueError("give inlet_flow_mL_min or inlet_pressure_mmHg, not both")
    if inlet_flow_mL_min is None and inlet_pressure_mmHg is None:
        inlet_pressure_mmHg = DEFAULT_INLET_PRESSURE_MMHG
    if inlet_flow_mL_min is not None and not inlet_flow_mL_min >= 0:
        raise ValueError("inlet_flow_mL_min must be >= 0")
    if inlet_pressure_mmHg is not None and not inlet_pressure_mmHg >= terminal_pressure_mmHg:
        raise ValueError("inlet_pressure_mmHg must be >= terminal_pressure_mmHg")
    return inlet_flow_mL_min, inlet_pressure_mmHg


class FlowState:
    """Mutable flow state for transport: O(depth) resistance updates and flow queries.

    Parameters are those of :func:`solve_flow`. Public arrays (pass them to the kernels of
    ``sim.flow._kernels`` from numba code): ``segment_resistance``, ``subtree_resistance``,
    ``terminal_resistance`` [mmHg min/mL], and the tree's ``parent``, ``child_start``,
    ``child_index``.
    """

    def __init__(self, tree: TreeArrays, *, viscosity_mPa_s=DEFAULT_VISCOSITY_MPA_S,
                 inlet_flow_mL_min=None, inlet_pressure_mmHg=None,
                 terminal_pressure_mmHg=DEFAULT_TERMINAL_PRESSURE_MMHG,
                 fahraeus_lindqvist=False, hematocrit=0.45,
                 terminal_resistance_mmHg_min_mL=None):
        self.tree = tree
        self.inlet_flow_mL_min, self.inlet_pressure_mmHg = _boundary(
            inlet_flow_mL_min, inlet_pressure_mmHg, terminal_pressure_mmHg)
        self.terminal_pressure_mmHg = float(terminal_pressure_mmHg)
        self.viscosity_mPa_s = segment_viscosity(
            tree, viscosity_mPa_s=viscosity_mPa_s, fahraeus_lindqvist=fahraeus_lindqvist,
            hematocrit=hematocrit)
        self.segment_resistance = np.ascontiguousarray(
            poiseuille_resistance(tree.radius_um, tree.length_mm, self.viscosity_mPa_s))
        self.terminal_resistance = np.zeros(tree.n_segments)
        if terminal_resistance_mmHg_min_mL is not None:
            tr = np.asarray(terminal_resistance_mmHg_min_mL, dtype=np.float64)
            if tr.shape != (tree.n_segments,) or np.any(tr < 0) or np.any(np.isnan(tr)):
                raise ValueError("terminal_resistance_mmHg_min_mL must be (N,) and >= 0")
            self.terminal_resistance[tree.is_terminal] = tr[tree.is_terminal]
        self.subtree_resistance = np.empty(tree.n_segments)
        self.resolve()

    def resolve(self):
        """Recompute every subtree resistance from ``segment_resistance`` (O(N))."""
        t = self.tree
        _fk.subtree_resistance(t.child_start, t.child_index, self.segment_resistance,
                               self.terminal_resistance, self.subtree_resistance)

    def set_resistance(self, i, resistance_mmHg_min_mL):
        """Set the resistance of segment i (``inf`` occludes it): O(depth)."""
        r = float(resistance_mmHg_min_mL)
        if not r >= 0:
            raise ValueError("resistance must be >= 0")
        t = self.tree
        _fk.update_resistance(t.parent, t.child_start, t.child_index, self.terminal_resistance,
                              self.segment_resistance, self.subtree_resistance, int(i), r)

    def scale_conductance(self, i, factor):
        """Multiply the conductance of segment i by ``factor`` in [0, inf) (0 occludes)."""
        if not factor >= 0:
            raise ValueError("factor must be >= 0")
        r = self.segment_resistance[i]
        self.set_resistance(i, np.inf if factor == 0 else r / factor)

    def occlude(self, i):
        self.set_resistance(i, np.inf)

    def inlet_flow(self) -> float:
        """Current inlet flow [mL/min]."""
        if self.inlet_flow_mL_min is not None:
            return float(self.inlet_flow_mL_min)
        r = self.subtree_resistance[0]
        dp = self.inlet_pressure_mmHg - self.terminal_pressure_mmHg
        return 0.0 if r == np.inf else (dp / r if r > 0 else np.inf)

    def segment_flow(self, i) -> float:
        """Current flow in segment i [mL/min]: O(depth)."""
        t = self.tree
        return self.inlet_flow() * _fk.flow_fraction(t.parent, t.child_start, t.child_index,
                                                     self.subtree_resistance, int(i))

    def split_fractions(self, i) -> np.ndarray:
        """Flow shares of the children of segment i (in child order; sum 1 unless blocked)."""
        t = self.tree
        out = np.empty(t.child_start[i + 1] - t.child_start[i])
        _fk.split_fractions(t.child_start, t.child_index, self.subtree_resistance, int(i), out)
        return out

    def field(self) -> FlowField:
        """Full flow field for the current resistances (O(N))."""
        t = self.tree
        q0 = self.inlet_flow()
        if self.inlet_flow_mL_min is not None and q0 > 0 and self.subtree_resistance[0] == np.inf:
            raise ValueError("the tree is fully occluded: a prescribed inlet flow cannot enter")
        flow = np.empty(t.n_segments)
        pres = np.empty(t.n_segments)
        p_in = (self.inlet_pressure_mmHg if self.inlet_pressure_mmHg is not None
                else self.terminal_pressure_mmHg + q0 * self.subtree_resistance[0])
        _fk.forward(t.parent, t.child_start, t.child_index, self.segment_resistance,
                    self.terminal_resistance, self.subtree_resistance, q0,
                    self.terminal_pressure_mmHg, p_in, flow, pres)
        return FlowField(flow, pres, float(p_in), float(q0), self.terminal_pressure_mmHg,
                         self.viscosity_mPa_s.copy(), self.segment_resistance.copy(),
                         self.subtree_resistance.copy())


def solve_flow(tree: TreeArrays, *, viscosity_mPa_s=DEFAULT_VISCOSITY_MPA_S,
               inlet_flow_mL_min=None, inlet_pressure_mmHg=None,
               terminal_pressure_mmHg=DEFAULT_TERMINAL_PRESSURE_MMHG,
               fahraeus_lindqvist=False, hematocrit=0.45,
               terminal_resistance_mmHg_min_mL=None) -> FlowField:
    """Steady Poiseuille flow in the tree, O(N): one reverse pass, one forward pass.

    Parameters
    ----------
    tree : TreeArrays.
    viscosity_mPa_s : float [mPa s], blood viscosity (bulk value with Fåhræus–Lindqvist).
    inlet_flow_mL_min : float [mL/min] or None; inlet_pressure_mmHg : float [mmHg] or None.
        Give one; with neither, the inlet pressure is 98 mmHg (Crookston et al. 2019).
    terminal_pressure_mmHg : float [mmHg], the same at every terminal (default 25).
    fahraeus_lindqvist : bool, diameter-dependent apparent viscosity (Pries et al. 1992).
    hematocrit : float, discharge hematocrit for Fåhræus–Lindqvist.
    terminal_resistance_mmHg_min_mL : (N,) float or None, extra resistance behind each
        terminal (capillary bed); entries of internal segments are ignored.

    Returns
    -------
    FlowField.

    Notes
    -----
    Rigid straight tubes, steady laminar Newtonian flow per segment, no junction losses.
    Pressure at the distal end of segment i: p_term + Q_i R_down,i (no accumulated
    round-off along deep paths).

    References
    ----------
    Sutera SP, Skalak R. The history of Poiseuille's law. Annu Rev Fluid Mech 1993;25:1-19.
    Crookston NR et al. IEEE Trans Radiat Plasma Med Sci 2019;3:31-46 (default pressures).

    Examples
    --------
    A symmetric tree driven at 98 mmHg splits its flow equally between the two daughters.

    >>> from sim.tree import bifurcating_tree
    >>> f = solve_flow(bifurcating_tree(generations=1))
    >>> bool(abs(f.flow_mL_min[1] / f.flow_mL_min[0] - 0.5) < 1e-12)
    True
    """
    return FlowState(tree, viscosity_mPa_s=viscosity_mPa_s, inlet_flow_mL_min=inlet_flow_mL_min,
                     inlet_pressure_mmHg=inlet_pressure_mmHg,
                     terminal_pressure_mmHg=terminal_pressure_mmHg,
                     fahraeus_lindqvist=fahraeus_lindqvist, hematocrit=hematocrit,
                     terminal_resistance_mmHg_min_mL=terminal_resistance_mmHg_min_mL).field()


def calibrate_radii(tree: TreeArrays, *, inlet_flow_mL_min,
                    inlet_pressure_mmHg=DEFAULT_INLET_PRESSURE_MMHG,
                    terminal_pressure_mmHg=DEFAULT_TERMINAL_PRESSURE_MMHG,
                    viscosity_mPa_s=DEFAULT_VISCOSITY_MPA_S) -> TreeArrays:
    """Scale all radii by one factor so that the inlet pressure drives the inlet flow.

    Uniform scaling keeps Murray's law and all flow splits; Poiseuille resistance scales as
    s^-4, so s = (Q R_eq / ΔP)^(1/4). Constant viscosity only (Fåhræus–Lindqvist would make
    the splits radius-dependent).
    """
    st = FlowState(tree, viscosity_mPa_s=viscosity_mPa_s, inlet_pressure_mmHg=inlet_pressure_mmHg,
                   terminal_pressure_mmHg=terminal_pressure_mmHg)
    dp = inlet_pressure_mmHg - terminal_pressure_mmHg
    if not (dp > 0 and inlet_flow_mL_min > 0):
        raise ValueError("need inlet_pressure_mmHg > terminal_pressure_mmHg and a flow > 0")
    s = (inlet_flow_mL_min * st.subtree_resistance[0] / dp) ** 0.25
    r = np.ascontiguousarray(tree.radius_um * s)
    r.flags.writeable = False
    return dataclasses.replace(tree, radius_um=r)
