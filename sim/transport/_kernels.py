"""Numba kernels shared by the transport engines (see :mod:`sim.transport.engines`).

Transport units ("parcels") run on the subtree of the injected segment relabelled in
heavy-first depth-first order (:mod:`sim.transport.layout`): node 0 is the injected segment,
a non-terminal node k has its heavy child (the child with the largest subtree) at k + 1, and
every heavy path is a contiguous range of nodes ending at a terminal.

Per-node state is one 64-byte record per node, ``nd[k]`` (columns :data:`R0` ... :data:`DIAM`),
so a unit's walk streams through one array: start and current segment resistance and the
terminal resistance [mmHg min/mL]; ``G`` the conductance of segment k and everything below it
to the terminal pressure [mL/min/mmHg], ``L`` the sum of its light children's G and ``LW``
the same sum weighted by each child's branch bias; ``BIAS`` node k's bias at its parent's
bifurcation and ``DIAM`` its diameter [um]. A unit at node k enters child c with probability
``bias[c] G[c] / sum_children(bias G)`` (:func:`branch_weight`: flow-proportional times the
straight-ratio bias; the one place where a bias is applied).

Random numbers: every unit has its own stream (:mod:`dosimetry.rng`), seeded by SplitMix64
from (stage seed, global unit index) and advanced by xorshift64*, so a unit's path does not
depend on chunks or threads.
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.transport.fates import EMB_LINEAR, LIVER

INF = np.inf
#: Conductance standing in for a zero resistance (as the flow kernels do).
BIG = 1e300
#: Columns of the node record ``nd``.
R0, R, TR, G, L, LW, BIAS, DIAM = range(8)
NODE_COLUMNS = 8


class Layout(NamedTuple):
    """The injected subtree in heavy-first order (n nodes; see the module notes)."""

    order: np.ndarray         # (n,) int64, tree segment of node k
    parent: np.ndarray        # (n,) int64, -1 for node 0
    terminal: np.ndarray      # (n,) bool
    light_start: np.ndarray   # (n + 1,) int64, CSR of light children
    light_index: np.ndarray   # (n_light,) int64
    region: np.ndarray        # (n,) int64


class FeedbackParams(NamedTuple):
    """Scalars of a transport run (see :class:`sim.config.TransportParams`).

    ``e_th``, ``r_th``: Thevenin source [mmHg] and resistance [mmHg min/mL] of the tree
    outside the injected subtree, so that the injected flow is ``e G / (1 + r G)``;
    ``q0`` the injected flow at the start [mL/min]; ``kappa`` the thinning bound of the
    heavy-path engine (max over bifurcations of light bias / heavy bias, >= 1; 0 when
    there is no bias); ``plug``
    whether a vessel holding a lodged sphere stops every later unit that enters it.
    """

    lsf: float
    tumour_shunt: float
    emb_mode: int
    n_occlude: float
    emb_fraction: float
    stasis_fraction: float
    q0: float
    e_th: float
    r_th: float
    reflux_undelivered: bool
    kappa: float
    plug: bool


@njit(cache=True, inline="always")
def branch_weight(bias_c, g_c):
    """Weight of a child at a bifurcation: its conductance times its bias (straight ratio,
    Crookston et al. 2019); the branch probability is the weight over the children's sum."""
    return bias_c * g_c


@njit(cache=True, inline="always")
def conductance(r):
    """1 / r with an occluded (inf) resistance -> 0 and a zero one -> :data:`BIG`."""
    if r == INF:
        return 0.0
    if r == 0.0:
        return BIG
    return 1.0 / r


@njit(cache=True, inline="always")
def terminal_g(r, tr):
    """Conductance of a terminal segment of resistance r behind an extra resistance tr."""
    s = r + tr
    if s == INF:
        return 0.0
    if s == 0.0:
        return BIG
    g = 1.0 / s
    return g if g < BIG else BIG


@njit(cache=True, inline="always")
def internal_g(r, s):
    """Conductance of a segment of resistance r in series with a conductance s below it."""
    if r == INF or s == 0.0:
        return 0.0
    t = r * s
    if t < INF:
        return s / (1.0 + t)
    return 1.0 / (r + 1.0 / s)


@njit(cache=True, inline="always")
def light_sums(light_start, light_index, nd, k):
    """(sum of G, sum of bias G) over the light children of node k."""
    s = 0.0
    sw = 0.0
    for t in range(light_start[k], light_start[k + 1]):
        c = light_index[t]
        g = nd[c, G]
        s += g
        sw += branch_weight(nd[c, BIAS], g)
    return s, sw


@njit(cache=True)
def solve(lay, nd):
    """Every node's G, L and LW in one reverse pass (the full solve the incremental updates
    must reproduce)."""
    ls, li, term = lay.light_start, lay.light_index, lay.terminal
    for k in range(nd.shape[0] - 1, -1, -1):
        if term[k]:
            nd[k, G] = terminal_g(nd[k, R], nd[k, TR])
            nd[k, L] = 0.0
            nd[k, LW] = 0.0
            continue
        s, sw = light_sums(ls, li, nd, k)
        nd[k, L] = s
        nd[k, LW] = sw
        nd[k, G] = internal_g(nd[k, R], s + nd[k + 1, G])


@njit(cache=True, inline="always")
def embolized_resistance(p, r0, r, n_lodged, mult):
    """Segment resistance after ``mult`` more spheres lodged (``n_lodged`` in total):
    linear G = G0 (1 - n / N_occ), or G -> G (1 - f) per sphere."""
    if p.emb_mode == EMB_LINEAR:
        left = 1.0 - n_lodged / p.n_occlude
        return r0 / left if left > 0.0 else INF
    if p.emb_fraction >= 1.0:
        return INF
    for _ in range(mult):
        r = r / (1.0 - p.emb_fraction)
    return r


@njit(cache=True, inline="always")
def injected_flow(p, g):
    """Flow into the injected segment [mL/min] for a subtree conductance g (Thevenin)."""
    if g == 0.0 or p.e_th == 0.0:
        return 0.0
    return p.e_th * g / (1.0 + p.r_th * g)


@njit(cache=True)
def heavy_first_order(parent, child_start, child_index, inject):
    """Nodes of the subtree of ``inject`` in heavy-first depth-first order.

    Returns (order, heavy): ``order[k]`` is the tree segment of node k; ``heavy[i]`` the
    child of segment i with the largest subtree (first of equals), -1 for terminals.
    """
    n_all = parent.shape[0]
    inside = np.zeros(n_all, dtype=np.bool_)
    inside[inject] = True
    for i in range(inject + 1, n_all):
        if parent[i] >= 0 and inside[parent[i]]:
            inside[i] = True
    size = np.zeros(n_all, dtype=np.int64)
    for i in range(n_all - 1, inject - 1, -1):
        if inside[i]:
            size[i] += 1
            if i != inject:
                size[parent[i]] += size[i]
    heavy = np.full(n_all, -1, dtype=np.int64)
    for i in range(inject, n_all):
        if not inside[i]:
            continue
        best = -1
        for t in range(child_start[i], child_start[i + 1]):
            c = child_index[t]
            if best < 0 or size[c] > size[best]:
                best = c
        heavy[i] = best
    n = size[inject]
    order = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    stack[0] = inject
    top = 1
    m = 0
    while top > 0:
        top -= 1
        i = stack[top]
        order[m] = i
        m += 1
        for t in range(child_start[i + 1] - 1, child_start[i] - 1, -1):
            c = child_index[t]
            if c != heavy[i]:
                stack[top] = c
                top += 1
        if heavy[i] >= 0:
            stack[top] = heavy[i]  # popped next: the heavy child follows its parent
            top += 1
    return order, heavy


@njit(cache=True)
def layout_reach(lay, nd):
    """pi[k]: probability that an untrapped unit entering node 0 passes node k (the branch
    probabilities of the current flow, on the layout)."""
    n = nd.shape[0]
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(n):
        if lay.terminal[k] or pi[k] == 0.0:
            continue
        wh = branch_weight(nd[k + 1, BIAS], nd[k + 1, G])
        tot = wh + nd[k, LW]
        if tot <= 0.0:
            continue
        pi[k + 1] = pi[k] * (wh / tot)
        for t in range(lay.light_start[k], lay.light_start[k + 1]):
            c = lay.light_index[t]
            pi[c] = pi[k] * (branch_weight(nd[c, BIAS], nd[c, G]) / tot)
    return pi


@njit(cache=True)
def path_counts(parent):
    """Nodes and light edges from node 0 to each node of a heavy-first layout."""
    n = parent.shape[0]
    depth = np.zeros(n)
    lights = np.zeros(n)
    for k in range(1, n):
        p = parent[k]
        depth[k] = depth[p] + 1.0
        lights[k] = lights[p] + (1.0 if p != k - 1 else 0.0)
    return depth, lights


@njit(cache=True)
def string_positions(segment, fate, diam_um, proximal_mm, distal_mm, filled, out_pos):
    """Sphere centres [mm] on strings stacked back from each vessel's distal end.

    Spheres of one segment, in arrival order, touch one another: the k-th centre lies at the
    sum of the earlier diameters plus half its own from the distal end, along the segment axis
    (past the proximal end if the string is longer than the segment). ``filled`` [mm] is the
    string length per segment so far (carried from one chunk of spheres to the next).
    Non-liver spheres get NaN.
    """
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
