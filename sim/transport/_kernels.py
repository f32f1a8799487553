"""Numba kernels of microsphere transport (plain arrays and tuples of arrays; see
:mod:`sim.transport`).

Random numbers: every sphere has its own stream (:mod:`dosimetry.rng`), seeded by SplitMix64
from (stage seed, global sphere index) and advanced by xorshift64*, so a sphere's path does not
depend on how spheres are split into chunks or threads. Fate and embolic-model codes are in
:mod:`sim.transport.fates`.
"""
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from dosimetry.rng import stream_state as _stream, xorshift_next as _next
from sim.flow._kernels import flow_fraction, update_resistance
from sim.transport.fates import EMB_LINEAR, EMB_NONE, LIVER, LUNG, REFLUX, UNDELIVERED

INF = np.inf


class TreeCSR(NamedTuple):
    """The tree arrays the kernels walk: topology (CSR children), radii [um], regions and the
    straight (best-aligned) child of each segment (-1 for terminals)."""

    parent: np.ndarray
    child_start: np.ndarray
    child_index: np.ndarray
    radius_um: np.ndarray
    region: np.ndarray
    straight_child: np.ndarray


class FlowArrays(NamedTuple):
    """Resistances of the flow state [mmHg min/mL]: start and current segment resistances,
    subtree resistances and terminal resistances (updated in place by the feedback)."""

    seg_R0: np.ndarray
    seg_R: np.ndarray
    sub_R: np.ndarray
    term_R: np.ndarray


class FeedbackParams(NamedTuple):
    """Scalars of the feedback transport (see :class:`sim.config.TransportParams`)."""

    s_ratio: float
    lsf: float
    tumour_shunt: float
    emb_mode: int
    n_occlude: float
    emb_fraction: float
    stasis_fraction: float
    q_inject0: float
    dp: float
    reflux_undelivered: bool


@njit(cache=True, inline="always")
def _conductance(r):
    """1 / r with occluded (inf) -> 0 and a zero resistance -> a huge conductance."""
    if r == INF:
        return 0.0
    if r == 0.0:
        return 1e300
    return 1.0 / r


@njit(cache=True)
def _choose_child(child_start, child_index, sub_R, straight_child, s_ratio, i, u):
    """Pick the child of i a sphere enters: flow-proportional, with the straight-ratio bias.

    Returns -1 when no child carries flow. The flow share of child c is its subtree
    conductance over the sum of its siblings' (all children see the same pressure at the
    bifurcation). The straight child k gets weight Q_k s and the others Q_o (1 - s)
    (Crookston et al. 2019); s = 0.5 is flow-proportional.
    """
    c0 = child_start[i]
    c1 = child_start[i + 1]
    k = straight_child[i]
    biased = k >= 0 and s_ratio != 0.5
    wsum = 0.0
    for t in range(c0, c1):
        c = child_index[t]
        w = _conductance(sub_R[c])
        if biased:
            w *= s_ratio if c == k else 1.0 - s_ratio
        wsum += w
    if wsum <= 0.0:
        return -1
    x = u * wsum
    last = -1
    for t in range(c0, c1):
        c = child_index[t]
        w = _conductance(sub_R[c])
        if biased:
            w *= s_ratio if c == k else 1.0 - s_ratio
        if w > 0.0:
            last = c
            if x < w:
                return c
            x -= w
    return last


@njit(cache=True)
def _descend(child_start, child_index, radius_um, sub_R, straight_child, s_ratio, inject, d_um,
             state):
    """Follow one sphere from the injection segment; return (segment, stacked, state)."""
    i = inject
    while True:
        if d_um > 2.0 * radius_um[i]:
            return i, False, state
        if child_start[i] == child_start[i + 1]:
            return i, False, state
        state, u = _next(state)
        c = _choose_child(child_start, child_index, sub_R, straight_child, s_ratio, i, u)
        if c < 0:  # every child occluded: the sphere stacks behind them
            return i, True, state
        i = c


@njit(cache=True)
def injected_flow(parent, child_start, child_index, sub_R, inject, dp):
    """Flow into the injected segment for a pressure drop ``dp`` root -> terminals."""
    r0 = sub_R[0]
    if r0 == INF:
        return 0.0
    return dp / r0 * flow_fraction(parent, child_start, child_index, sub_R, inject)


@njit(cache=True)
def _embolize(tree, flow, p, seg, n_lodged_seg):
    """Lower the conductance of ``seg`` after a sphere lodged in it (O(depth) update)."""
    if p.emb_mode == EMB_LINEAR:
        left = 1.0 - n_lodged_seg / p.n_occlude
        new_R = flow.seg_R0[seg] / left if left > 0.0 else INF
    else:
        new_R = flow.seg_R[seg] / (1.0 - p.emb_fraction) if p.emb_fraction < 1.0 else INF
    update_resistance(tree.parent, tree.child_start, tree.child_index, flow.term_R, flow.seg_R,
                      flow.sub_R, seg, new_R)


@njit(cache=True)
def transport_feedback(tree, flow, p, inject, diam_um, start_index, seed, n_lodged, stasis,
                       out_segment, out_fate, out_stacked):
    """Transport spheres one after the other with exact per-sphere flow updates.

    ``tree`` is a :class:`TreeCSR`, ``flow`` a :class:`FlowArrays` (updated in place), ``p`` a
    :class:`FeedbackParams`. ``stasis[0]`` (int64) is 1 once the injected flow fell below
    ``stasis_fraction`` of its start value; later spheres (here and in later chunks) reflux,
    or stay undelivered when ``reflux_undelivered`` is true. Returns the number of spheres
    processed.
    """
    n = diam_um.shape[0]
    for t in range(n):
        out_segment[t] = -1
        out_stacked[t] = False
        if stasis[0] != 0:
            out_fate[t] = UNDELIVERED if p.reflux_undelivered else REFLUX
            continue
        state = _stream(seed, start_index + t)
        state, u = _next(state)
        if u < p.lsf:
            out_fate[t] = LUNG
            continue
        seg, stacked, state = _descend(tree.child_start, tree.child_index, tree.radius_um,
                                       flow.sub_R, tree.straight_child, p.s_ratio, inject,
                                       diam_um[t], state)
        if stacked and seg == inject and flow.sub_R[inject] == INF:
            out_fate[t] = REFLUX
            continue
        if p.tumour_shunt > 0.0 and tree.region[seg] > 0:
            state, u = _next(state)
            if u < p.tumour_shunt:
                out_fate[t] = LUNG
                continue
        out_fate[t] = LIVER
        out_segment[t] = seg
        out_stacked[t] = stacked
        n_lodged[seg] += 1
        if p.emb_mode == EMB_NONE:
            continue
        _embolize(tree, flow, p, seg, n_lodged[seg])
        q = injected_flow(tree.parent, tree.child_start, tree.child_index, flow.sub_R, inject,
                          p.dp)
        if q < p.stasis_fraction * p.q_inject0:
            stasis[0] = 1
    return n


@njit(cache=True)
def branch_cdf(child_start, child_index, sub_R, straight_child, s_ratio, cdf):
    """Cumulative branch probabilities per child slot for a frozen flow field.

    ``cdf[t]`` for slot t of node i's children is the probability of entering one of the
    children up to slot t; a node whose children all carry no flow gets ``cdf = -1``.
    """
    n = child_start.shape[0] - 1
    for i in range(n):
        c0 = child_start[i]
        c1 = child_start[i + 1]
        if c0 == c1:
            continue
        k = straight_child[i]
        biased = k >= 0 and s_ratio != 0.5
        wsum = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            w = _conductance(sub_R[c])
            if biased:
                w *= s_ratio if c == k else 1.0 - s_ratio
            wsum += w
            cdf[t] = wsum
        for t in range(c0, c1):
            cdf[t] = cdf[t] / wsum if wsum > 0.0 else -1.0
        if wsum > 0.0:
            cdf[c1 - 1] = 2.0  # guards against round-off: the last child takes u -> 1


@njit(cache=True, parallel=True)
def transport_static(child_start, child_index, radius_um, region, cdf, inject, diam_um,
                     start_index, seed, lsf, tumour_shunt, out_segment, out_fate, out_stacked):
    """Transport independent spheres (no embolic feedback), in parallel over spheres.

    The flow field is frozen, so branch probabilities come from the precomputed ``cdf``
    (:func:`branch_cdf`); a child with zero probability is never entered.
    """
    n = diam_um.shape[0]
    for t in prange(n):
        state = _stream(seed, start_index + t)
        state, u = _next(state)
        out_segment[t] = -1
        out_stacked[t] = False
        if u < lsf:
            out_fate[t] = LUNG
            continue
        d = diam_um[t]
        i = inject
        stacked = False
        while d <= 2.0 * radius_um[i]:
            c0 = child_start[i]
            c1 = child_start[i + 1]
            if c0 == c1:
                break
            if cdf[c0] < 0.0:
                stacked = True
                break
            state, u = _next(state)
            j = c0
            while u >= cdf[j]:
                j += 1
            i = child_index[j]
        if tumour_shunt > 0.0 and region[i] > 0:
            state, u = _next(state)
            if u < tumour_shunt:
                out_fate[t] = LUNG
                continue
        out_fate[t] = LIVER
        out_segment[t] = i
        out_stacked[t] = stacked


@njit(cache=True)
def string_positions(segment, fate, diam_um, proximal_mm, distal_mm, out_pos):
    """Sphere centres [mm] on strings stacked back from each vessel's distal end.

    Spheres of one segment, in arrival order, touch one another: the k-th centre lies at the
    sum of the earlier diameters plus half its own from the distal end, along the segment axis
    (past the proximal end if the string is longer than the segment). Non-liver spheres get NaN.
    """
    nseg = proximal_mm.shape[0]
    filled = np.zeros(nseg)  # string length so far [mm]
    for t in range(segment.shape[0]):
        s = segment[t]
        if fate[t] != LIVER or s < 0:
            out_pos[t, 0] = np.nan
            out_pos[t, 1] = np.nan
            out_pos[t, 2] = np.nan
            continue
        ax0 = distal_mm[s, 0] - proximal_mm[s, 0]
        ax1 = distal_mm[s, 1] - proximal_mm[s, 1]
        ax2 = distal_mm[s, 2] - proximal_mm[s, 2]
        norm = np.sqrt(ax0 * ax0 + ax1 * ax1 + ax2 * ax2)
        if norm > 0.0:
            ax0 /= norm
            ax1 /= norm
            ax2 /= norm
        d = diam_um[t] * 1e-3
        off = filled[s] + 0.5 * d
        filled[s] += d
        out_pos[t, 0] = distal_mm[s, 0] - ax0 * off
        out_pos[t, 1] = distal_mm[s, 1] - ax1 * off
        out_pos[t, 2] = distal_mm[s, 2] - ax2 * off
