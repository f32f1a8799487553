"""Numba kernels of the transport with embolic feedback: units one after the other, exact
flow updates after every lodged unit. Two engines share the unit loop
(:func:`transport_feedback`):

``walk``
    A unit steps node by node (one branch choice per bifurcation) and the conductances on its
    path are refreshed node by node afterwards: O(depth) per unit with sequential memory
    access (heavy paths are contiguous), the fastest on shallow trees.

``paths`` (heavy-path decomposition)
    Each heavy path keeps, in a segment tree, the products of its nodes' 2x2 transfer
    matrices. For node k with segment resistance R and light-children conductance L, the flow
    Q into k and the pressure P at its proximal end (over the terminal pressure) follow from
    those of its heavy child: (Q_k, P_k) = [[1, L], [R, 1 + L R]] (Q_k+1, P_k+1). A terminal
    gives (G_end, 1) P. So the subtree conductance of a path's top, Q/P of the product, is
    exact after O(log n) matrix products per changed node and O(log^2 n) per lodged unit.
    A unit entering a path at node a continues to node k with probability Q_k / Q_a
    (flow-proportional choices telescope), and Q falls along the path, so its exit is found
    by one uniform u and a search for the first k with Q_k <= u Q_a: O(log n) per path,
    O(log^2 n) per unit, whatever the depth. A straight-ratio bias is handled exactly by
    thinning: exits are proposed with the dominating per-node probability 1 - p^kappa
    (threshold u^(1/kappa) Q_a) and accepted with probability (1 - p_biased) / (1 - p^kappa),
    valid because p_biased >= p^kappa when kappa >= light bias / heavy bias (kappa = 0
    stands for no bias at all: no thinning).

Hot loops take plain arrays and per-path scalars, not the named tuples: extracting arrays
from tuples inside helpers costs reference-count calls that dominated the run time.

Matrices and vectors carry a power-of-two exponent (mantissas rescaled when they leave
[2^-400, 2^400]), so no product over- or underflows. An occluded internal node (R = inf) maps to [[0, 0], [0, 1]] (no flow
enters it; the pressure below is carried up) and is counted as a cut: the search never looks
past the first cut.

References
----------
.. [1] Sleator DD, Tarjan RE. A data structure for dynamic trees. J Comput Syst Sci
       1983;26:362-391 (heavy-path decomposition).
.. [2] Lewis PAW, Shedler GS. Simulation of nonhomogeneous Poisson processes by thinning.
       Naval Res Logist Q 1979;26:403-413.
"""
import math
from typing import NamedTuple

import numpy as np
from numba import njit

from dosimetry.rng import stream_state as _stream, xorshift_next as _next
from sim.transport._kernels import (BIAS, DIAM, G, INF, LW, L, R, R0, TR, branch_weight,
                                    embolized_resistance, injected_flow, internal_g,
                                    light_sums, terminal_g)
from sim.transport.fates import EMB_NONE, LIVER, LUNG, REFLUX, UNDELIVERED

WALK = 0
PATHS = 1
#: Columns of a path record ``pinfo[path]``.
TOP, LEN, SIZE, OFF, MONO = range(5)
#: Columns of a stored segment-tree node: the matrix, its exponent and its cut count.
M00, M01, M10, M11, MEXP, MCUT = range(6)


class Paths(NamedTuple):
    """Heavy paths and their segment trees (heap order, internal nodes only: a path of size
    S = 2^m >= length has S - 1 stored nodes; leaves are computed from the node records)."""

    path_of: np.ndarray   # (n,) int64
    pinfo: np.ndarray     # (P, 5) int64: first node, length, size, first stored node, monotone
    gtop: np.ndarray      # (P,) float64, conductance of the path's top node
    seg: np.ndarray       # (M, 6) float64: m00, m01, m10, m11, exponent, cut count


# ---------------------------------------------------------------- walk engine

@njit(cache=True)
def walk_descend(terminal, lstart, lindex, nd, d, state, lodged, plug):
    """Step one unit of diameter d from node 0; returns (node, stacked, state). With
    ``plug`` a vessel already holding a lodged unit stops it (``lodged`` per node)."""
    k = 0
    while True:
        if d > nd[k, DIAM] or terminal[k] or (plug and lodged[k] > 0):
            return k, False, state
        h = k + 1
        wh = branch_weight(nd[h, BIAS], nd[h, G])
        tot = wh + nd[k, LW]
        if tot <= 0.0:
            return k, True, state
        state, u = _next(state)
        x = u * tot
        if x < wh:
            k = h
            continue
        x -= wh
        nxt = h if wh > 0.0 else -1
        for t in range(lstart[k], lstart[k + 1]):
            c = lindex[t]
            w = branch_weight(nd[c, BIAS], nd[c, G])
            if w > 0.0:
                nxt = c
                if x < w:
                    break
                x -= w
        k = nxt


@njit(cache=True)
def walk_update(parent, terminal, lstart, lindex, nd, k):
    """Refresh G, L, LW from node k (whose R changed) up to node 0: O(depth)."""
    if terminal[k]:
        g = terminal_g(nd[k, R], nd[k, TR])
    else:
        g = internal_g(nd[k, R], nd[k, L] + nd[k + 1, G])
    if g == nd[k, G]:
        return
    nd[k, G] = g
    j = k
    while j > 0:
        p = parent[j]
        if j != p + 1:  # a light child changed: its parent's light sums
            nd[p, L], nd[p, LW] = light_sums(lstart, lindex, nd, p)
        g = internal_g(nd[p, R], nd[p, L] + nd[p + 1, G])
        if g == nd[p, G]:
            return  # unchanged here, so unchanged above
        nd[p, G] = g
        j = p


# ---------------------------------------------------------------- 2x2 algebra

# Rescaling (by an exact power of two) only when the largest entry leaves [2^-400, 2^400]:
# the common case costs two comparisons, and no product of two stored values can overflow.
_LO = 2.0 ** -400
_HI = 2.0 ** 400


@njit(cache=True)
def _rescale4(a, b, c, d, e):
    m = max(a, b, c, d)
    if m == 0.0 or m == INF:
        return a, b, c, d, e
    _, k = math.frexp(m)
    return (math.ldexp(a, -k), math.ldexp(b, -k), math.ldexp(c, -k), math.ldexp(d, -k),
            e + k)


@njit(cache=True, inline="always")
def _norm4(a, b, c, d, e):
    m = max(a, b, c, d)
    if _LO < m < _HI:
        return a, b, c, d, e
    return _rescale4(a, b, c, d, e)


@njit(cache=True)
def _rescale2(q, p, e):
    m = max(q, p)
    if m == 0.0:
        return q, p, e
    _, k = math.frexp(m)
    return math.ldexp(q, -k), math.ldexp(p, -k), e + k


@njit(cache=True, inline="always")
def _mv(a0, a1, a2, a3, me, q, p, e):
    """Matrix times vector, rescaled when needed."""
    q2 = a0 * q + a1 * p
    p2 = a2 * q + a3 * p
    m = max(q2, p2)
    if _LO < m < _HI:
        return q2, p2, e + me
    return _rescale2(q2, p2, e + me)


@njit(cache=True, inline="always")
def _le(q, e, tq, te):
    """q 2^e <= tq 2^te (non-negative mantissas)."""
    if e == te or q == 0.0:
        return q <= tq
    return math.ldexp(q, e - te) <= tq


@njit(cache=True, inline="always")
def _mat(x, s, ln, t0, off, seg, nd):
    """Matrix of heap node x of a path (size s, length ln, first node t0, first stored node
    off): (m00, m01, m10, m11, exponent, cut). Leaves come from the node records: a terminal
    gives (G_end, 1), an occluded node [[0, 0], [0, 1]] (a cut), padding the identity."""
    if x >= s:
        pos = x - s
        if pos >= ln:
            return 1.0, 0.0, 0.0, 1.0, 0, 0
        k = t0 + pos
        if pos == ln - 1:
            return 0.0, terminal_g(nd[k, R], nd[k, TR]), 0.0, 1.0, 0, 0
        r = nd[k, R]
        if r == INF:
            return 0.0, 0.0, 0.0, 1.0, 0, 1
        lk = nd[k, L]
        a, b, c, d, e = _norm4(1.0, lk, r, 1.0 + lk * r, 0)
        return a, b, c, d, e, 0
    i = off + x - 1
    return (seg[i, M00], seg[i, M01], seg[i, M10], seg[i, M11], int(seg[i, MEXP]),
            int(seg[i, MCUT]))


@njit(cache=True, inline="always")
def _iscut(x, s, ln, t0, off, seg, nd):
    """Whether heap node x holds an occluded internal node."""
    cut = False
    if x >= s:
        pos = x - s
        if pos < ln - 1:
            cut = nd[t0 + pos, R] == INF
    else:
        cut = seg[off + x - 1, MCUT] > 0.0
    return cut


@njit(cache=True, inline="always")
def _combine(x, s, ln, t0, off, seg, nd):
    """Store the product of heap node x's children."""
    a0, a1, a2, a3, ae, ac = _mat(2 * x, s, ln, t0, off, seg, nd)
    b0, b1, b2, b3, be, bc = _mat(2 * x + 1, s, ln, t0, off, seg, nd)
    m0, m1, m2, m3, me = _norm4(a0 * b0 + a1 * b2, a0 * b1 + a1 * b3,
                                a2 * b0 + a3 * b2, a2 * b1 + a3 * b3, ae + be)
    i = off + x - 1
    seg[i, M00] = m0
    seg[i, M01] = m1
    seg[i, M10] = m2
    seg[i, M11] = m3
    seg[i, MEXP] = me
    seg[i, MCUT] = ac + bc


@njit(cache=True, inline="always")
def _top_g(s, t0, off, seg, nd):
    """Conductance of a path's top node: Q / P of its product applied to (0, 1)."""
    if s == 1:
        return terminal_g(nd[t0, R], nd[t0, TR])
    return seg[off, M01] / seg[off, M11]


@njit(cache=True)
def paths_build(pt, lay, nd):
    """Fill every segment tree, light sum and top conductance, deepest paths first."""
    pinfo, gtop, path_of, seg = pt.pinfo, pt.gtop, pt.path_of, pt.seg
    lstart, lindex = lay.light_start, lay.light_index
    for pth in range(pinfo.shape[0] - 1, -1, -1):
        t0, ln, s, off = pinfo[pth, TOP], pinfo[pth, LEN], pinfo[pth, SIZE], pinfo[pth, OFF]
        for k in range(t0, t0 + ln):
            nd[k, L], nd[k, LW] = _light_sums(lstart, lindex, nd, path_of, gtop, k)
        for x in range(s - 1, 0, -1):
            _combine(x, s, ln, t0, off, seg, nd)
        gtop[pth] = _top_g(s, t0, off, seg, nd)


@njit(cache=True, inline="always")
def _light_sums(lstart, lindex, nd, path_of, gtop, k):
    """(sum of G, sum of bias G) over the light children of k, from their paths' tops."""
    s = 0.0
    sw = 0.0
    for t in range(lstart[k], lstart[k + 1]):
        c = lindex[t]
        g = gtop[path_of[c]]
        s += g
        sw += branch_weight(nd[c, BIAS], g)
    return s, sw


@njit(cache=True)
def paths_update(parent, lstart, lindex, path_of, pinfo, gtop, seg, nd, k):
    """Refresh the paths from node k (whose R changed) up to node 0: O(log^2 n)."""
    pth = path_of[k]
    while True:
        t0, ln, s, off = pinfo[pth, TOP], pinfo[pth, LEN], pinfo[pth, SIZE], pinfo[pth, OFF]
        x = (k - t0 + s) >> 1
        while x >= 1:
            _combine(x, s, ln, t0, off, seg, nd)
            x >>= 1
        g = _top_g(s, t0, off, seg, nd)
        if g == gtop[pth]:
            return
        gtop[pth] = g
        if t0 == 0:
            return
        k = parent[t0]
        nd[k, L], nd[k, LW] = _light_sums(lstart, lindex, nd, path_of, gtop, k)
        pth = path_of[k]


# ---------------------------------------------------------------- paths engine: descent

@njit(cache=True)
def _trap(nd, t0, lo, hi, mono, d):
    """First position in [lo, hi] whose vessel is narrower than d, or hi + 1: a binary search
    when diameters do not increase along the path, else a scan."""
    if mono:
        if lo > hi or nd[t0 + hi, DIAM] >= d:
            return hi + 1  # the narrowest vessel of the range lets the unit through
        hi += 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if nd[t0 + mid, DIAM] < d:
                hi = mid
            else:
                lo = mid + 1
        return lo
    for pos in range(lo, hi + 1):
        if nd[t0 + pos, DIAM] < d:
            return pos
    return hi + 1


@njit(cache=True)
def exit_search(s, ln, t0, off, seg, nd, a, u, nodes, wq, wp, we):
    """Where a unit at position a of a path leaves it: the first k > a with Q_k <= u Q_a.

    Returns (k, q_k, p_k, Q_{k-1}) with the vector (Q_k, P_k) and Q_{k-1} as mantissas of one
    exponent; k = -1 when no flow enters node a (the unit stacks), k >= ln when it reaches
    the path's terminal. From the top (a = 0) the search runs down from the root of the
    segment tree; otherwise over the canonical nodes of [a + 1, s).
    """
    if a == 0 and s > 1 and nd[t0, R] != INF:
        # Q_0 from the stored root (an occluded node 0, only the injection, takes the
        # canonical route: row 0 of its matrix is [1, L] whatever its R)
        qa = seg[off, M01]
        if not qa > 0.0:
            return -1, 0.0, 0.0, 0.0
        return _descend(1, s, ln, t0, off, seg, nd, 0.0, 1.0, 0, u * qa, int(seg[off, MEXP]))
    m = 0
    lo = a + 1 + s
    hi = 2 * s
    while lo < hi:  # canonical nodes of [a + 1, s), left to right
        if lo & 1:
            nodes[m] = lo
            m += 1
            lo += 1
        lo >>= 1
        hi >>= 1
    q, p, e = 0.0, 1.0, 0
    for i in range(m - 1, -1, -1):
        wq[i], wp[i], we[i] = q, p, e  # the vector just after canonical node i
        a0, a1, a2, a3, me, _ = _mat(nodes[i], s, ln, t0, off, seg, nd)
        q, p, e = _mv(a0, a1, a2, a3, me, q, p, e)
    qa = q + nd[t0 + a, L] * p  # row 0 of node a's matrix
    if not qa > 0.0:
        return -1, 0.0, 0.0, 0.0
    tq, te = u * qa, e
    for i in range(m):
        x = nodes[i]
        if _iscut(x, s, ln, t0, off, seg, nd) or _le(wq[i], we[i], tq, te):
            return _descend(x, s, ln, t0, off, seg, nd, wq[i], wp[i], we[i], tq, te)
    return s, 0.0, 0.0, 0.0


@njit(cache=True, inline="always")
def _descend(x, s, ln, t0, off, seg, nd, cq, cp, ce, tq, te):
    """Inside heap node x (right context (cq, cp) 2^ce), known to hold the first position
    with Q <= tq 2^te or to have it just after its range: find it (see exit_search)."""
    while x < s:
        a0, a1, a2, a3, me, _ = _mat(2 * x + 1, s, ln, t0, off, seg, nd)
        mq, mp, mee = _mv(a0, a1, a2, a3, me, cq, cp, ce)
        if _iscut(2 * x, s, ln, t0, off, seg, nd) or _le(mq, mee, tq, te):
            x = 2 * x
            cq, cp, ce = mq, mp, mee
        else:
            x = 2 * x + 1
    pos = x - s
    a0, a1, a2, a3, me, _ = _mat(x, s, ln, t0, off, seg, nd)
    lq, lp, le_ = _mv(a0, a1, a2, a3, me, cq, cp, ce)
    if _le(lq, le_, tq, te):
        k, cq, cp = pos, lq, lp
    else:
        k = pos + 1
    if k >= ln:
        return k, 0.0, 0.0, 0.0
    return k, cq, cp, cq + nd[t0 + k - 1, L] * cp


@njit(cache=True)
def paths_descend(lstart, lindex, path_of, pinfo, gtop, seg, nd, d, kappa, state, nodes, wq,
                  wp, we):
    """Route one unit of diameter d from node 0 path by path; returns (node, stacked,
    state). Trapping is checked where the unit leaves a path: diameters fall along a
    monotone path, so only a unit narrower than the vessel it leaves from can have been
    trapped before it, and a binary search finds where."""
    pth = path_of[0]
    a = 0
    while True:
        t0, ln, s, off = pinfo[pth, TOP], pinfo[pth, LEN], pinfo[pth, SIZE], pinfo[pth, OFF]
        mono = pinfo[pth, MONO] != 0
        if d > nd[t0 + a, DIAM]:
            return t0 + a, False, state
        while True:
            if a == ln - 1:
                return t0 + a, False, state
            state, u = _next(state)
            if kappa > 1.0:
                u = u ** (1.0 / kappa)
            k, qk, pk, qe = exit_search(s, ln, t0, off, seg, nd, a, u, nodes, wq, wp, we)
            if k < 0:
                return t0 + a, True, state
            last = min(k, ln) - 1  # the unit passes positions a .. last on this path
            trap = _trap(nd, t0, a + 1, last, mono, d)
            if trap <= last:
                return t0 + trap, False, state
            if k >= ln:
                return t0 + ln - 1, False, state
            if kappa == 0.0:
                break  # no bias: the flow-proportional exit is exact
            # thinning: accept the proposed exit with (1 - p_biased) / (1 - p^kappa)
            bh = nd[t0 + k, BIAS]
            pb = bh * qk / (bh * qk + nd[t0 + k - 1, LW] * pk)
            state, v = _next(state)
            if v * (1.0 - (qk / qe) ** kappa) < 1.0 - pb:
                break
            a = k  # rejected: the unit continues along the path
            if d > nd[t0 + a, DIAM]:
                return t0 + a, False, state
        e = t0 + k - 1
        state, u = _next(state)
        x = u * nd[e, LW]
        c = -1
        for t in range(lstart[e], lstart[e + 1]):
            cc = lindex[t]
            w = branch_weight(nd[cc, BIAS], gtop[path_of[cc]])
            if w > 0.0:
                c = cc
                if x < w:
                    break
                x -= w
        if c < 0:
            a = k  # round-off: no light child carries flow after all
            continue
        pth = path_of[c]
        a = 0


# ---------------------------------------------------------------- the unit loop

@njit(cache=True)
def transport_feedback(lay, nd, pt, p, mode, trap_d, mult, start_index, seed, n_lodged,
                       stasis, out_node, out_fate, out_stacked):
    """Transport units one after the other with exact flow updates after each lodged one.

    ``mode`` is :data:`WALK` or :data:`PATHS`; ``mult`` the units' multiplicities (empty: 1
    each; the embolic increment of a lodged unit is its multiplicity). ``stasis[0]`` is set
    to 1 once the injected flow fell below ``stasis_fraction`` of its start value and
    ``stasis[1]`` to the global index of the first unit not transported; later units reflux,
    or stay undelivered when ``reflux_undelivered``. ``out_node`` holds layout nodes.
    """
    parent, terminal, lstart, lindex = lay.parent, lay.terminal, lay.light_start, lay.light_index
    region = lay.region
    path_of, pinfo, gtop, seg = pt.path_of, pt.pinfo, pt.gtop, pt.seg
    n = trap_d.shape[0]
    nodes = np.empty(64, dtype=np.int64)
    wq = np.empty(64)
    wp = np.empty(64)
    we = np.empty(64, dtype=np.int64)
    p0 = 0 if mode == WALK else path_of[0]
    for t in range(n):
        out_node[t] = -1
        out_stacked[t] = False
        if stasis[0] != 0:
            out_fate[t] = UNDELIVERED if p.reflux_undelivered else REFLUX
            continue
        state = _stream(seed, start_index + t)
        state, u = _next(state)
        if u < p.lsf:
            out_fate[t] = LUNG
            continue
        d = float(trap_d[t])
        if mode == WALK:
            site, stacked, state = walk_descend(terminal, lstart, lindex, nd, d, state,
                                                       n_lodged, p.plug)
            g_in = nd[0, G]
        else:
            site, stacked, state = paths_descend(lstart, lindex, path_of, pinfo, gtop, seg, nd,
                                                 d, p.kappa, state, nodes, wq, wp, we)
            g_in = gtop[p0]
        if stacked and site == 0 and g_in == 0.0:
            out_fate[t] = REFLUX  # nothing below the catheter takes flow
            continue
        if p.tumour_shunt > 0.0 and region[site] > 0:
            state, u = _next(state)
            if u < p.tumour_shunt:
                out_fate[t] = LUNG
                continue
        m = 1 if mult.shape[0] == 0 else mult[t]
        out_fate[t] = LIVER
        out_node[t] = site
        out_stacked[t] = stacked
        n_lodged[site] += m
        if p.emb_mode == EMB_NONE:
            continue
        nd[site, R] = embolized_resistance(p, nd[site, R0], nd[site, R], n_lodged[site], m)
        if mode == WALK:
            walk_update(parent, terminal, lstart, lindex, nd, site)
            g_in = nd[0, G]
        else:
            paths_update(parent, lstart, lindex, path_of, pinfo, gtop, seg, nd, site)
            g_in = gtop[p0]
        if injected_flow(p, g_in) < p.stasis_fraction * p.q0:
            stasis[0] = 1
            stasis[1] = start_index + t + 1
    return n
