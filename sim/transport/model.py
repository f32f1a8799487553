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
  The flow is updated exactly after every lodged sphere, never batched. The
  inlet is pressure-driven during the injection (arterial pressure is held by the systemic
  circulation; a prescribed inlet flow is converted to the equivalent inlet pressure), so
  embolization lowers the injected flow; when it falls below ``stasis_fraction`` of its start
  value the remaining spheres reflux (non-target) or stay in the vial (``after_stasis``).
* Engines (:mod:`sim.transport.engines`): without feedback the spheres are independent and
  cost O(1) each after an O(segments) set-up (``split``); with feedback a node-by-node walk
  (``walk``, O(depth) per sphere) or a heavy-path decomposition (``paths``, O(log^2 n) per
  sphere, independent of depth) is chosen for the tree; all are exact, agree in distribution
  and draw from one random stream per sphere.
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
from sim.transport.engines import transport_parcels
from sim.transport.fates import FATE_NAMES, LIVER
from sim.transport.layout import straight_children

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
    activity_Bq : (N,) float32 [Bq] at the treatment time (a read-only broadcast view when
        every sphere has the same activity).
    position_mm : (N, 3) float32 [mm], NaN for spheres not in the liver; computed from
        ``tree`` on first use (:meth:`liver_positions_mm` and :meth:`iter_liver_positions`
        give the liver spheres' without the (N, 3) array).
    injection_segment : int
    stasis_at_sphere : int
        Index of the first sphere not transported because of stasis, -1 if never.
    injected_flow_mL_min : tuple (start, end) of the injected segment's flow [mL/min].
    n_lodged : (n_segments,) int64
        Spheres lodged in each segment.
    engine : str
        Transport engine that ran (``split``, ``walk`` or ``paths``).
    tree : TreeArrays
        The tree the spheres lodged in (for their positions).
    """

    fate: np.ndarray
    segment: np.ndarray
    stacked: np.ndarray
    diameter_um: np.ndarray
    activity_Bq: np.ndarray
    injection_segment: int
    stasis_at_sphere: int = -1
    injected_flow_mL_min: tuple = (math.nan, math.nan)
    n_lodged: np.ndarray = field(default=None, repr=False)
    engine: str = ""
    tree: object = field(default=None, repr=False)
    _positions: np.ndarray = field(default=None, repr=False)

    @property
    def position_mm(self) -> np.ndarray:
        if self._positions is None:
            self._positions = sphere_positions(self.tree, self.segment, self.fate,
                                               self.diameter_um)
        return self._positions

    def iter_liver_positions(self, chunk: int = _CHUNK):
        """Yield the liver spheres' centres [mm], (k, 3) float32 blocks in sphere order."""
        filled = np.zeros(self.tree.n_segments)
        tr = self.tree
        prox, dist = np.ascontiguousarray(tr.proximal_mm), np.ascontiguousarray(tr.distal_mm)
        for start in range(0, self.fate.size, chunk):
            sl = slice(start, start + chunk)
            liver = self.fate[sl] == LIVER
            seg = np.ascontiguousarray(self.segment[sl][liver])
            out = np.empty((seg.size, 3), np.float32)
            _tk.string_positions(seg, np.zeros(seg.size, np.int8),
                                 np.ascontiguousarray(self.diameter_um[sl][liver]), prox, dist,
                                 filled, out)
            yield out

    def liver_positions_mm(self, dtype=np.float32) -> np.ndarray:
        """The liver spheres' centres [mm], (n_liver, 3), built block by block."""
        out = np.empty((int(np.count_nonzero(self.fate == LIVER)), 3), dtype)
        k = 0
        for block in self.iter_liver_positions():
            out[k:k + len(block)] = block
            k += len(block)
        return out

    def counts(self) -> dict:
        """Sphere counts and activities [GBq] per compartment; they add up to the injection."""
        out = {"injected": int(self.fate.size)}
        act = np.asarray(self.activity_Bq)
        uniform = act.size > 0 and act.strides == (0,)
        out["injected_activity_GBq"] = float(act.sum(dtype=np.float64) * 1e-9)
        for code, name in FATE_NAMES.items():
            sel = self.fate == code
            k = int(np.count_nonzero(sel))
            out[name] = k
            a = float(act[0]) * k if uniform else act[sel].sum(dtype=np.float64)
            out[f"{name}_activity_GBq"] = float(a * 1e-9)
        return out


def injection_segment(tree, flow, where) -> int:
    """Resolve a catheter position to a segment index.

    Parameters
    ----------
    where : int or {"root", "lobar", "segmental", "selective"}
        A segment index, or a level: the segment of largest flow at depth 0 / 1 / 3 / 5 from
        the tree root (clamped to the deepest non-terminal level). ``flow`` (a FlowField or
        a FlowState) is only used for the levels.
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
    if depth == 0:
        return 0
    if isinstance(flow, FlowState):
        flow = flow.field()
    internal = ~tree.is_terminal
    max_depth = int(tree.depth[internal].max()) if internal.any() else 0
    depth = min(depth, max_depth)
    cand = np.flatnonzero(tree.depth == depth)
    return int(cand[np.argmax(flow.flow_mL_min[cand])])


def transport_spheres(tree, diameters_um, activity_Bq, *, injection=0, params=None, rng=None,
                      progress=False, flow_kwargs=None, flow_state=None, engine="auto",
                      multiplicity=None) -> Deposition:
    """Transport spheres through a tree and return their deposition.

    Parameters
    ----------
    tree : TreeArrays
    diameters_um : (N,) array [um]
        Sphere diameters in injection order (kept as float32; the transport compares the
        float32 values with the vessel diameters).
    activity_Bq : float or (N,) array [Bq]
        Activity per entry at the treatment time (per aggregate with ``multiplicity``).
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
    engine : {"auto", "split", "walk", "paths"}
        Transport engine (:mod:`sim.transport.engines`); ``auto`` picks the fastest.
    multiplicity : (N,) int array, optional
        Treat entry i as an aggregate of ``multiplicity[i]`` spheres that travels and lodges
        as one (embolic increment = multiplicity); default 1 each.

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
    d = np.ascontiguousarray(diameters_um, dtype=np.float32)
    n = d.size
    act = np.asarray(activity_Bq, dtype=np.float32)
    act = np.broadcast_to(act, (n,)) if act.ndim == 0 else np.ascontiguousarray(act)
    if act.shape != (n,):
        raise ValueError(f"activity_Bq must be a number or hold one value per sphere ({n})")
    state = flow_state if flow_state is not None else FlowState(tree, **(flow_kwargs or {}))
    inject = injection_segment(tree, state, injection)
    if n and float(d.max()) > 2.0 * tree.radius_um[inject]:
        raise ValueError(f"spheres up to {d.max():.1f} um cannot enter the injected vessel "
                         f"(segment {inject}, diameter {2 * tree.radius_um[inject]:.1f} um)")
    seed = int(np.random.default_rng(rng).integers(0, 2**63 - 1))
    with Progress.of(progress, "transport", total=n if n >= _CHUNK else None) as bar:
        res = transport_parcels(tree, d, multiplicity, inject=inject, params=params, seed=seed,
                                state=state, engine=engine, chunk=_CHUNK, bar=bar)
    return Deposition(fate=res.fate, segment=res.segment, stacked=res.stacked, diameter_um=d,
                      activity_Bq=act, injection_segment=inject, stasis_at_sphere=res.stasis_at,
                      injected_flow_mL_min=res.injected_flow_mL_min, n_lodged=res.n_lodged,
                      engine=res.engine, tree=tree)


def sphere_positions(tree, segment, fate, diameters_um) -> np.ndarray:
    """Sphere centres [mm], (N, 3) float32: strings stacked back from each vessel's distal end.

    The k-th sphere (arrival order) of a segment sits at the distal end minus the diameters of
    the earlier ones plus half its own, along the segment axis; a string longer than the
    segment continues straight past its proximal end. NaN for spheres not in the liver.
    """
    pos = np.empty((segment.size, 3), np.float32)
    _tk.string_positions(np.ascontiguousarray(segment), np.ascontiguousarray(fate),
                         np.ascontiguousarray(diameters_um),
                         np.ascontiguousarray(tree.proximal_mm), np.ascontiguousarray(tree.distal_mm),
                         np.zeros(tree.n_segments), pos)
    return pos
