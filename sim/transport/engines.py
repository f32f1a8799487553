"""Transport engines on transport units ("parcels"): a unit is one sphere or an aggregate of
``multiplicity`` spheres travelling, trapping and lodging together; its embolic increment is
its multiplicity.

``split`` (no embolic feedback)
    Units are independent: each draws the terminal its untrapped walk would reach from the
    reach probabilities (alias method) and lodges at the first record vessel narrower than
    itself on that path. O(segments) once plus O(1) per unit, parallel, whatever the depth
    (:mod:`sim.transport._split_kernels`).
``walk`` (feedback)
    Node by node descent and O(depth) exact conductance updates on a heavy-first layout
    (heavy paths contiguous in memory): fastest on shallow trees.
``paths`` (feedback)
    Heavy-path decomposition with segment trees of 2x2 transfer matrices: O(log^2 n) per unit
    for the descent and for the exact update, independent of the depth
    (:mod:`sim.transport._feedback_kernels`).

With ``plug`` (:class:`sim.config.TransportParams`) a vessel that holds a lodged unit stops
every later unit entering it: units depend on one another even without embolic feedback, and
only ``walk`` checks every node on the way, so ``auto`` takes ``walk``.

``auto`` takes ``split`` without feedback or plugs and, with feedback, whichever of ``walk`` and
``paths`` the measured cost model says is faster for the tree's flow-weighted depth. All
engines draw from one stream per unit (stage seed, unit index), so results do not depend on
chunks or threads; they agree in distribution (not unit by unit) with one another.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numba
import numpy as np

from sim.transport import _feedback_kernels as _fk
from sim.transport import _kernels as _k
from sim.transport import _split_kernels as _sk
from sim.transport import layout as _lay
from sim.transport.fates import EMB_NONE, EMBOLIC_MODES

__all__ = ["ENGINES", "ParcelResult", "transport_parcels", "choose_engine", "pressure_drop"]

#: Engine names accepted by :func:`transport_parcels`.
ENGINES = ("auto", "split", "walk", "paths")
#: Cost model of the feedback engines [ns per unit], fitted to ``benchmarks/transport.py``
#: runs (CPU time, 2e5 resin spheres, 10 trees of 4e4-3.7e6 segments and flow-weighted depths
#: 16-450; it picks the faster engine on all ten): with d the mean number of nodes and l the
#: mean number of light edges from the catheter to a terminal, and g = max(0, log2 n - 15)
#: for n nodes (cache misses grow with the tree),
#: walk = (6 + 2 g) d + 150 (l + 1) and paths = 230 (l + 1) + 600 g.
#: Above this thinning bound (strong straight-ratio bias) ``paths`` proposes too many exits.
MAX_KAPPA = 4.0


@dataclass
class ParcelResult:
    """Where every unit ended (tree segment indices) and the flow at start and end."""

    fate: np.ndarray        # (n,) int8
    segment: np.ndarray     # (n,) int32, -1 when not in the liver
    stacked: np.ndarray     # (n,) bool
    n_lodged: np.ndarray    # (n_segments,) int64, spheres (multiplicities) per segment
    stasis_at: int          # first unit not transported, -1 if none
    injected_flow_mL_min: tuple
    engine: str


def pressure_drop(state) -> float:
    """Inlet minus terminal pressure [mmHg] of a flow state (pressure-driven injection)."""
    if state.inlet_pressure_mmHg is not None:
        return float(state.inlet_pressure_mmHg - state.terminal_pressure_mmHg)
    q = state.inlet_flow()
    return float(q * state.subtree_resistance[0]) if q > 0 else 0.0


def choose_engine(lay, nd, params, kappa) -> tuple[str, dict]:
    """The engine ``auto`` runs and the numbers it was chosen on (see the cost model)."""
    if params.plug:
        return "walk", {}  # plugs are sequential and only the walk looks at every node
    if EMBOLIC_MODES[params.embolic] == EMB_NONE:
        return "split", {}
    prof = _lay.depth_profile(lay, _k.layout_reach(lay, nd))
    g = max(0.0, math.log2(max(lay.parent.size, 2)) - 15.0)
    walk = (6.0 + 2.0 * g) * prof["depth"] + 150.0 * (prof["light_edges"] + 1.0)
    paths = 230.0 * (prof["light_edges"] + 1.0) + 600.0 * g
    prof.update(walk_ns=walk, paths_ns=paths, kappa=kappa)
    if kappa > MAX_KAPPA or not np.isfinite(kappa):
        return "walk", prof
    return ("walk" if walk <= paths else "paths"), prof


def transport_parcels(tree, trap_diameter_um, multiplicity=None, *, inject, params, seed,
                      state, engine="auto", chunk=1 << 20, bar=None) -> ParcelResult:
    """Transport units through the subtree of ``inject`` (see the module notes).

    Parameters
    ----------
    tree : TreeArrays
    trap_diameter_um : (n,) array [um], the size each unit is trapped by, injection order.
    multiplicity : (n,) int array or None (1 each), spheres per unit.
    inject : int, the catheter segment.
    params : TransportParams
    seed : int, stage seed of the per-unit streams.
    state : sim.flow.FlowState, updated in place by the embolic effect.
    engine : {"auto", "split", "walk", "paths"}
    chunk : int, units per kernel call (progress granularity; results do not depend on it).
    bar : sim.progress.Progress or None.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "split" and params.embolic != "none":
        raise ValueError("the split engine has no embolic feedback: use embolic = \"none\", "
                         "or the walk, paths or auto engine")
    if engine in ("split", "paths") and params.plug:
        raise ValueError(f"the {engine} engine has no plugs: use plug = false, or the walk "
                         f"or auto engine")
    d = np.ascontiguousarray(trap_diameter_um, dtype=np.float32)
    mult = (np.zeros(0, np.int64) if multiplicity is None
            else np.ascontiguousarray(multiplicity, dtype=np.int64))
    if mult.size and (mult.shape != d.shape or mult.min() < 1):
        raise ValueError("multiplicity must hold one integer >= 1 per unit")
    emb = EMBOLIC_MODES[params.embolic]
    bias = _lay.branch_bias(tree, params.straight_ratio)
    e_th, r_th = _lay.thevenin(tree, state, inject, pressure_drop(state))
    p = _k.FeedbackParams(params.lung_shunt_fraction, params.tumour_shunt_fraction, emb,
                          float(params.spheres_to_occlude), float(params.embolic_fraction),
                          params.stasis_fraction, 0.0, e_th, r_th,
                          params.after_stasis == "undelivered", 1.0, bool(params.plug))
    q0 = float(_k.injected_flow(p, _k.conductance(state.subtree_resistance[inject])))
    n = d.size
    fate = np.empty(n, np.int8)
    seg = np.empty(n, np.int32)
    if engine == "split" or (engine == "auto" and emb == EMB_NONE and not params.plug):
        _run_split(tree, state, inject, bias, p, d, seed, fate, seg, chunk, bar)
        n_lodged = _sk.lodged_counts(seg, fate, mult, tree.n_segments,
                                     max(1, min(numba.get_num_threads(), n // 100_000)))
        # nothing stacks without feedback (only at a blocked catheter, and that refluxes)
        stacked = np.broadcast_to(np.False_, (n,))
        return ParcelResult(fate, seg, stacked, n_lodged, -1, (q0, q0), "split")
    stacked = np.empty(n, np.bool_)
    lay = _lay.build_layout(tree, inject)
    biased = bias.size > 0
    nd = _lay.node_records(tree, lay, state, np.ones(tree.n_segments) if not biased
                           else bias)
    del bias
    kappa = _lay.thinning_bound(lay, nd)
    if engine == "paths" and not kappa <= MAX_KAPPA:
        raise ValueError(f"the paths engine needs a straight ratio within [0.2, 0.8] "
                         f"(bias bound {kappa:.3g} > {MAX_KAPPA:g}): use walk or auto")
    q0 = float(_k.injected_flow(p, nd[0, _k.G]))
    # kappa = 0: no bias, no thinning (a bias with kappa = 1 still needs the acceptance step)
    p = p._replace(q0=q0, kappa=kappa if biased else 0.0)
    if engine == "auto":
        engine, _ = choose_engine(lay, nd, params, kappa)
    lodged = np.zeros(lay.parent.size, np.int64)
    stasis_at = _run_feedback(lay, nd, p, engine, d, mult, seed, lodged, fate, seg, stacked,
                              chunk, bar)
    n_lodged = np.zeros(tree.n_segments, np.int64)
    n_lodged[lay.order] = lodged
    if emb != EMB_NONE:
        state.segment_resistance[lay.order] = nd[:, _k.R]
        state.resolve()
    q1 = float(_k.injected_flow(p, _k.conductance(state.subtree_resistance[inject])))
    return ParcelResult(fate, seg, stacked, n_lodged, stasis_at, (q0, q1), engine)


def _run_split(tree, state, inject, bias, p, d, seed, fate, seg, chunk, bar):
    """No feedback: reach probabilities, alias table, records, then the parallel kernels."""
    pi, blocked = _sk.reach_probabilities(tree.parent, tree.child_start, tree.child_index,
                                          state.subtree_resistance, bias, inject)
    term = np.flatnonzero(tree.is_terminal & (pi > 0))
    if term.size == 0:
        term = np.array([inject], np.int64)  # unused: every unit stacks (blocked)
        blocked = True
    prob = np.ascontiguousarray(pi[term])
    del pi
    pm, rec = _sk.records(tree.parent, tree.radius_um, inject)
    slots = _sk.slot_records(term, prob, pm, tree.parent, tree.region)
    del term, prob
    for start in range(0, d.size, chunk):
        sl = slice(start, min(d.size, start + chunk))
        _sk.transport_split(slots, p.lsf, p.tumour_shunt, blocked, d[sl], start, seed,
                            seg[sl], fate[sl])
        _sk.finish_split(tree.parent, tree.region, pm, rec, p.tumour_shunt, d[sl], start, seed,
                         seg[sl], fate[sl])
        if bar is not None:
            bar.advance(sl.stop - start)


def _run_feedback(lay, nd, p, engine, d, mult, seed, lodged, fate, seg, stacked, chunk, bar):
    """Feedback: units one after the other; returns the first unit not transported."""
    mode = _fk.WALK if engine == "walk" else _fk.PATHS
    pt = _lay.build_paths(lay, nd) if mode == _fk.PATHS else _empty_paths()
    stasis = np.array([0, -1], np.int64)
    node = np.empty(min(chunk, max(d.size, 1)), np.int64)
    n = d.size
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        sl = slice(start, stop)
        out = node[:stop - start]
        _fk.transport_feedback(lay, nd, pt, p, mode, d[sl], mult[sl] if mult.size else mult,
                               start, seed, lodged, stasis, out, fate[sl], stacked[sl])
        seg[sl] = np.where(out >= 0, lay.order[np.maximum(out, 0)], -1)
        if bar is not None:
            bar.advance(stop - start)
    return int(stasis[1]) if stasis[0] else -1


def _empty_paths():
    return _fk.Paths(path_of=np.zeros(1, np.int64), pinfo=np.zeros((0, 5), np.int64),
                     gtop=np.zeros(0), seg=np.zeros((0, 6)))
