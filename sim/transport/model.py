"""Microsphere transport through an arterial tree, one sphere at a time, with embolic effect.

Model
-----
* Injection at a catheter segment; a sphere first leaves for the lungs with probability LSF
  (global shunt) or, optionally, through the arteriovenous shunts of tumours it reaches.
* Branch choice: at a bifurcation the sphere enters a child with probability equal to the
  child's share of the current flow, optionally biased toward the child that continues the
  parent's direction (the straight ratio s: p_k = Q_k s / (Q_k s + Q_o (1 - s)), Crookston et al.
  2019). s = 0.5 is pure flow-proportional choice. Beyond the first bifurcations the particle
  share follows the flow share (Basciano et al. 2010; Bomberna et al. 2022).
* Trapping: a sphere lodges in the first vessel whose diameter is smaller than its own, or in
  the terminal arteriole it reaches; when every child of a vessel is occluded it stacks in that
  vessel behind the spheres already lodged (``stacked`` flag).
* Embolic effect: each lodged sphere lowers its vessel's conductance, ``linear``:
  G = G0 (1 - n / N_occ) (N_occ spheres occlude the vessel: each removes 1/N_occ of its
  start flow, as in Crookston et al. 2019, default 1/50) or ``multiplicative``: G -> G (1 - f).
  Subtree resistances are updated in O(depth) after every lodged sphere: the update is
  exact, never batched (fast enough: ~8e5 spheres/s on a 1e5-terminal tree). The
  inlet is pressure-driven during the injection (arterial pressure is held by the systemic
  circulation; a prescribed inlet flow is converted to the equivalent inlet pressure), so
  embolization lowers the injected flow; when it falls below ``stasis_fraction`` of its start
  value the remaining spheres reflux (non-target) or stay in the vial (``after_stasis``).
* Positions: the spheres of a vessel form a string stacked back from its distal end (the
  portal-tract end of a terminal arteriole) in arrival order, each sphere touching the next.

The parameters and their bounds are :class:`sim.config.TransportParams`.

References
----------
.. [1] Crookston NR, Fung GSK, Frey EC. Development of a customizable hepatic arterial tree
       and particle transport model for use in treatment planning. IEEE TRPMS 2019;3:31-37.
.. [2] Walrand S et al. The low hepatic toxicity per gray of 90Y glass microspheres is linked
       to their transport in the arterial tree favoring a nonuniform trapping as observed in
       posttherapy PET imaging. J Nucl Med 2014;55:135-140.
.. [3] Hogberg J et al. Heterogeneity of microsphere distribution in resected liver and tumour
       tissue following selective intrahepatic radiotherapy. EJNMMI Res 2014;4:48.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np

from sim.config.stages import INJECTION_LEVELS, TransportParams
from sim.flow.hemodynamics import FlowState
from sim.progress import Progress
from sim.transport import _kernels as _tk
from sim.transport.fates import EMB_NONE, EMBOLIC_MODES, FATE_NAMES, LIVER, REFLUX

__all__ = ["Deposition", "transport_spheres", "injection_segment", "straight_children",
           "sphere_positions", "TransportParams"]

_CHUNK = 1 << 20


@dataclass
class Deposition:
    """Where every injected sphere ended.

    Attributes
    ----------
    fate : (N,) int8
        0 liver, 1 lung, 2 reflux, 3 undelivered (see :data:`sim.transport.fates.FATE_NAMES`).
    segment : (N,) int32
        Segment a liver sphere lodged in, -1 otherwise.
    stacked : (N,) bool
        Lodged behind occluded children (in a vessel wider than itself).
    diameter_um : (N,) float32 [um].
    activity_Bq : (N,) float32 [Bq] at the treatment time.
    position_mm : (N, 3) float32 [mm], NaN for spheres not in the liver.
    injection_segment : int
    stasis_at_sphere : int
        Index of the sphere after which stasis set in, -1 if never.
    injected_flow_mL_min : tuple (start, end) of the injected segment's flow [mL/min].
    n_lodged : (n_segments,) int64
        Spheres lodged in each segment.
    """

    fate: np.ndarray
    segment: np.ndarray
    stacked: np.ndarray
    diameter_um: np.ndarray
    activity_Bq: np.ndarray
    position_mm: np.ndarray
    injection_segment: int
    stasis_at_sphere: int = -1
    injected_flow_mL_min: tuple = (math.nan, math.nan)
    n_lodged: np.ndarray = field(default=None, repr=False)

    def counts(self) -> dict:
        """Sphere counts and activities [GBq] per compartment; they add up to the injection."""
        out = {"injected": int(self.fate.size)}
        act = self.activity_Bq.astype(np.float64)
        out["injected_activity_GBq"] = float(act.sum() * 1e-9)
        for code, name in FATE_NAMES.items():
            sel = self.fate == code
            out[name] = int(sel.sum())
            out[f"{name}_activity_GBq"] = float(act[sel].sum() * 1e-9)
        return out


def straight_children(tree) -> np.ndarray:
    """For each segment, the child best aligned with it (largest cosine), -1 for terminals."""
    n = tree.n_segments
    out = np.full(n, -1, np.int64)
    d = tree.distal_mm - tree.proximal_mm
    norm = np.linalg.norm(d, axis=1)
    u = d / np.where(norm > 0, norm, 1.0)[:, None]
    child = np.arange(n)[tree.parent >= 0]
    par = tree.parent[child]
    cos = np.einsum("ij,ij->i", u[child], u[par])
    # take the child of largest cosine per parent (ties: lower index)
    order = np.lexsort((child, -cos, par))
    first = np.ones(order.size, bool)
    first[1:] = par[order][1:] != par[order][:-1]
    out[par[order][first]] = child[order][first]
    return out


def injection_segment(tree, flow, where) -> int:
    """Resolve a catheter position to a segment index.

    Parameters
    ----------
    where : int or {"root", "lobar", "segmental", "selective"}
        A segment index, or a level: the segment of largest flow at depth 0 / 1 / 3 / 5 from
        the tree root (clamped to the deepest non-terminal level).
    """
    if isinstance(where, (int, np.integer)) and not isinstance(where, bool):
        i = int(where)
        if not (0 <= i < tree.n_segments):
            raise ValueError(f"injection segment {i} is out of range (allowed: 0 <= segment < "
                             f"{tree.n_segments})")
        return i
    if where not in INJECTION_LEVELS:
        raise ValueError(f"injection {where!r} is not a segment index or one of "
                         f"{', '.join(INJECTION_LEVELS)}")
    depth = INJECTION_LEVELS[where]
    internal = ~tree.is_terminal
    max_depth = int(tree.depth[internal].max()) if internal.any() else 0
    depth = min(depth, max_depth)
    cand = np.flatnonzero(tree.depth == depth)
    return int(cand[np.argmax(flow.flow_mL_min[cand])])


def transport_spheres(tree, diameters_um, activity_Bq, *, injection=0, params=None, rng=None,
                      progress=False, flow_kwargs=None, flow_state=None) -> Deposition:
    """Transport spheres through a tree and return their deposition.

    Parameters
    ----------
    tree : TreeArrays
    diameters_um : (N,) array [um]
        Sphere diameters in injection order.
    activity_Bq : float or (N,) array [Bq]
        Activity per sphere at the treatment time.
    injection : int or str
        Catheter segment (see :func:`injection_segment`).
    params : TransportParams
    rng : int or numpy.random.Generator
        Stage seed source; the same seed gives the same deposition whatever the thread count.
    progress : bool or sim.progress.Progress
        Show a progress bar.
    flow_kwargs : dict
        Boundary conditions and viscosity for :class:`sim.flow.FlowState` (when no
        ``flow_state`` is given).
    flow_state : sim.flow.FlowState, optional
        The tree's solved flow state (not re-solved; updated in place by the embolic effect).

    Returns
    -------
    Deposition

    Raises
    ------
    ValueError
        Spheres larger than the injected vessel, bad parameters.

    Examples
    --------
    Without embolic feedback every sphere reaches a terminal of the teaching tree:

    >>> import numpy as np
    >>> from sim.config import TransportParams
    >>> from sim.tree import bifurcating_tree
    >>> tree = bifurcating_tree(generations=4)
    >>> dep = transport_spheres(tree, np.full(1000, 25.0), 2500.0,
    ...                         params=TransportParams(embolic="none"), rng=1)
    >>> dep.counts()["liver"], bool(np.all(tree.is_terminal[dep.segment]))
    (1000, True)
    """
    params = params or TransportParams()
    d = np.ascontiguousarray(diameters_um, dtype=np.float64)
    n = d.size
    act = np.broadcast_to(np.asarray(activity_Bq, dtype=np.float32), (n,)).copy()
    state = flow_state if flow_state is not None else FlowState(tree, **(flow_kwargs or {}))
    field0 = state.field()
    inject = injection_segment(tree, field0, injection)
    if n and d.max() > 2.0 * tree.radius_um[inject]:
        raise ValueError(f"spheres up to {d.max():.1f} um cannot enter the injected vessel "
                         f"(segment {inject}, diameter {2 * tree.radius_um[inject]:.1f} um)")
    seed = int(np.random.default_rng(rng).integers(0, 2**63 - 1))
    # Pressure-driven during injection (see module notes).
    dp = field0.inlet_pressure_mmHg - field0.terminal_pressure_mmHg
    csr = _tk.TreeCSR(tree.parent, tree.child_start, tree.child_index,
                      np.ascontiguousarray(tree.radius_um),
                      np.ascontiguousarray(tree.region, dtype=np.int64), straight_children(tree))
    q0 = _tk.injected_flow(tree.parent, tree.child_start, tree.child_index,
                           state.subtree_resistance, inject, dp)
    out = _Outputs(n, tree.n_segments)
    emb_mode = EMBOLIC_MODES[params.embolic]
    with Progress.of(progress, "transport", total=n if n >= _CHUNK else None) as bar:
        if emb_mode == EMB_NONE:
            _run_static(csr, state, params, inject, d, seed, out, bar)
        else:
            p = _tk.FeedbackParams(params.straight_ratio, params.lung_shunt_fraction,
                                   params.tumour_shunt_fraction, emb_mode,
                                   float(params.spheres_to_occlude),
                                   float(params.embolic_fraction), params.stasis_fraction,
                                   q0, dp, params.after_stasis == "undelivered")
            _run_feedback(csr, state, p, inject, d, seed, out, bar)
    q1 = _tk.injected_flow(tree.parent, tree.child_start, tree.child_index,
                           state.subtree_resistance, inject, dp)
    pos = sphere_positions(tree, out.seg, out.fate, d)
    return Deposition(fate=out.fate, segment=out.seg, stacked=out.stacked,
                      diameter_um=d.astype(np.float32), activity_Bq=act, position_mm=pos,
                      injection_segment=inject, stasis_at_sphere=out.stasis_at,
                      injected_flow_mL_min=(float(q0), float(q1)), n_lodged=out.n_lodged)


class _Outputs:
    """Per-sphere outputs of the transport kernels and per-segment counts."""

    def __init__(self, n, n_segments):
        self.fate = np.empty(n, np.int8)
        self.seg = np.empty(n, np.int32)
        self.stacked = np.empty(n, np.bool_)
        self.n_lodged = np.zeros(n_segments, np.int64)
        self.stasis_at = -1


def _run_static(csr, state, params, inject, d, seed, out, bar):
    """No embolic feedback: the flow field is frozen, spheres run in parallel."""
    cdf = np.empty(csr.child_index.size)
    _tk.branch_cdf(csr.child_start, csr.child_index, state.subtree_resistance,
                   csr.straight_child, params.straight_ratio, cdf)
    n = d.size
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        _tk.transport_static(csr.child_start, csr.child_index, csr.radius_um, csr.region, cdf,
                             inject, d[sl], start, seed, params.lung_shunt_fraction,
                             params.tumour_shunt_fraction, out.seg[sl], out.fate[sl],
                             out.stacked[sl])
        bar.advance(sl.stop - start)
    out.n_lodged = np.bincount(out.seg[out.fate == LIVER],
                               minlength=out.n_lodged.size).astype(np.int64)


def _run_feedback(csr, state, p, inject, d, seed, out, bar):
    """Embolic feedback: spheres one after the other, exact flow updates after each."""
    flow = _tk.FlowArrays(state.segment_resistance.copy(), state.segment_resistance,
                          state.subtree_resistance, state.terminal_resistance)
    stasis = np.zeros(1, np.int64)
    n = d.size
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        sl = slice(start, stop)
        was = stasis[0]
        _tk.transport_feedback(csr, flow, p, inject, d[sl], start, seed, out.n_lodged, stasis,
                               out.seg[sl], out.fate[sl], out.stacked[sl])
        if stasis[0] and not was:
            blocked = np.flatnonzero(out.fate[sl] >= REFLUX)
            out.stasis_at = start + (int(blocked[0]) if blocked.size else stop - start)
        bar.advance(stop - start)


def sphere_positions(tree, segment, fate, diameters_um) -> np.ndarray:
    """Sphere centres [mm], (N, 3) float32: strings stacked back from each vessel's distal end.

    The k-th sphere (arrival order) of a segment sits at the distal end minus the diameters of
    the earlier ones plus half its own, along the segment axis; a string longer than the
    segment continues straight past its proximal end. NaN for spheres not in the liver.
    """
    pos = np.empty((segment.size, 3), np.float32)
    _tk.string_positions(np.ascontiguousarray(segment), np.ascontiguousarray(fate),
                         np.ascontiguousarray(diameters_um, dtype=np.float64),
                         np.ascontiguousarray(tree.proximal_mm), np.ascontiguousarray(tree.distal_mm),
                         pos)
    return pos
