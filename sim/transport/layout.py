"""The injected subtree in heavy-first order, its flow state and heavy paths: what the
transport engines run on (:mod:`sim.transport.engines`).

Only the subtree of the injected segment changes during an injection, so the engines relabel
it (node 0 = the injected segment, heavy child of node k at k + 1, heavy paths contiguous)
and see the rest of the tree as a fixed Thevenin source: the injected flow is
``e_th G / (1 + r_th G)`` for the subtree conductance G. Branch biases come from
:func:`branch_bias`, the one place where the straight ratio (or any other static per-child
bias) enters the branch probabilities.
"""
from __future__ import annotations

import numpy as np

from sim.transport import _feedback_kernels as _fk
from sim.transport import _kernels as _k

__all__ = ["branch_bias", "straight_children", "build_layout", "node_records", "build_paths",
           "thevenin", "thinning_bound", "depth_profile"]


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


def branch_bias(tree, straight_ratio: float) -> np.ndarray:
    """Weight of each segment at its parent's bifurcation, (N,) float64, or an empty array
    when there is no bias (every weight 1).

    A unit enters child c with probability ``bias[c] G[c] / sum(bias G)`` over the children
    (G the subtree conductances): the straight (best-aligned) child gets s and the others
    1 - s (Crookston et al. 2019); s = 0.5 is flow-proportional. Other static per-child
    biases multiply in here.
    """
    if straight_ratio == 0.5:
        return np.zeros(0)
    bias = np.full(tree.n_segments, 1.0 - straight_ratio)
    k = straight_children(tree)
    bias[k[k >= 0]] = straight_ratio
    bias[0] = 1.0
    return bias


def build_layout(tree, inject: int) -> _k.Layout:
    """The subtree of ``inject`` in heavy-first depth-first order (see :mod:`_kernels`)."""
    order, heavy = _k.heavy_first_order(tree.parent, tree.child_start, tree.child_index,
                                        int(inject))
    n = order.size
    new = np.full(tree.n_segments, -1, np.int64)
    new[order] = np.arange(n)
    parent = np.where(np.arange(n) > 0, new[tree.parent[order]], -1)
    terminal = np.ascontiguousarray(tree.is_terminal[order])
    is_light = np.zeros(n, bool)
    is_light[1:] = parent[1:] != np.arange(n - 1)
    light = np.flatnonzero(is_light)
    lp = parent[light]  # already sorted: DFS visits a parent's light children after it
    srt = np.argsort(lp, kind="stable")
    light, lp = light[srt], lp[srt]
    light_start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(lp, minlength=n), out=light_start[1:])
    del heavy
    return _k.Layout(order=order, parent=parent, terminal=terminal, light_start=light_start,
                     light_index=np.ascontiguousarray(light),
                     region=np.ascontiguousarray(tree.region[order], dtype=np.int64))


def node_records(tree, lay, state, bias) -> np.ndarray:
    """The (n, 8) node records of the layout (:mod:`sim.transport._kernels`): resistances
    of the flow state, branch biases, diameters [um], and the solved G, L, LW."""
    o = lay.order
    nd = np.empty((o.size, _k.NODE_COLUMNS))
    nd[:, _k.R0] = state.segment_resistance[o]
    nd[:, _k.R] = nd[:, _k.R0]
    nd[:, _k.TR] = state.terminal_resistance[o]
    nd[:, _k.BIAS] = np.asarray(bias, np.float64)[o]
    nd[:, _k.DIAM] = 2.0 * tree.radius_um[o]
    _k.solve(lay, nd)
    return nd


def build_paths(lay, nd) -> _fk.Paths:
    """Heavy paths of the layout with their segment trees filled (O(n))."""
    n = lay.parent.size
    k = np.arange(n)
    is_top = np.ones(n, bool)
    is_top[1:] = lay.parent[1:] != k[:-1]
    top = np.flatnonzero(is_top)
    length = np.diff(np.append(top, n))
    size = 1 << np.ceil(np.log2(np.maximum(length, 1))).astype(np.int64)
    size = np.where(size < length, size * 2, size)  # guard the float log2
    off = np.zeros(top.size, np.int64)
    np.cumsum(size[:-1] - 1, out=off[1:])
    path_of = np.cumsum(is_top) - 1
    dd = np.diff(nd[:, _k.DIAM])
    rising = np.zeros(n, bool)
    rising[1:] = (dd > 0) & ~is_top[1:]
    mono = np.add.reduceat(rising, top) == 0
    m = int((size - 1).sum())
    pinfo = np.stack([top, length, size, off, mono], axis=1).astype(np.int64)
    pt = _fk.Paths(path_of=path_of, pinfo=np.ascontiguousarray(pinfo), gtop=np.empty(top.size),
                   seg=np.zeros((max(m, 1), 6)))
    _fk.paths_build(pt, lay, nd)
    return pt


def thevenin(tree, state, inject: int, dp: float) -> tuple[float, float]:
    """(e [mmHg], r [mmHg min/mL]) of the tree outside the subtree of ``inject`` seen from the
    injected segment's proximal end, for a pressure drop ``dp`` root -> terminals: the
    injected flow is e G / (1 + r G) for the subtree's conductance G."""
    path = [int(inject)]
    while tree.parent[path[-1]] >= 0:
        path.append(int(tree.parent[path[-1]]))
    path.reverse()
    e, r = float(dp), 0.0
    sub = state.subtree_resistance
    seg = state.segment_resistance
    for a, b in zip(path[:-1], path[1:]):
        r += seg[a]
        sib = [c for c in tree.children(a) if c != b]
        s = sum(0.0 if sub[c] == np.inf else (1e300 if sub[c] == 0 else 1.0 / sub[c])
                for c in sib)
        if r == np.inf:
            return 0.0, 0.0
        e, r = e / (1.0 + r * s), r / (1.0 + r * s)
    return e, r


def thinning_bound(lay, nd) -> float:
    """Largest light-child bias over heavy-child bias at any bifurcation (>= 1)."""
    n = lay.parent.size
    internal = np.flatnonzero(~lay.terminal)
    if lay.light_index.size == 0 or internal.size == 0:
        return 1.0
    bias = nd[:, _k.BIAS]
    heavy_bias = bias[internal + 1]
    lp = lay.parent[lay.light_index]
    max_light = np.zeros(n)
    np.maximum.at(max_light, lp, bias[lay.light_index])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = max_light[internal] / heavy_bias
    ratio = np.where(max_light[internal] > 0, ratio, 0.0)
    return float(max(1.0, ratio.max()))


def depth_profile(lay, pi) -> dict:
    """Expected work per unit: mean number of nodes and of light edges from node 0 to a
    terminal, weighted by the reach probabilities ``pi`` (for the engine choice)."""
    depth, lights = _k.path_counts(lay.parent)
    w = pi * lay.terminal
    tot = w.sum()
    if not tot > 0:
        return {"depth": 0.0, "light_edges": 0.0}
    return {"depth": float((w * depth).sum() / tot),
            "light_edges": float((w * lights).sum() / tot)}
