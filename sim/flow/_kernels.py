"""Numba kernels for Poiseuille network flow on a tree (plain arrays, any consistent units).

State: ``seg_R[i]`` the resistance of segment i, ``term_R[i]`` an extra resistance between a
terminal's distal end and the terminal pressure (0 for none; ignored on internal segments),
``sub_R[i]`` the equivalent resistance of segment i and everything below it:

    sub_R[i] = seg_R[i] + down(i),  down(i) = 1 / sum_c 1 / sub_R[c]   (terminal: term_R[i])

Resistances may be ``inf`` (occluded: zero conductance); no NaN is produced. A change of
``seg_R[i]`` only changes ``sub_R`` on the path i -> root, so updates cost O(depth).
"""

import numpy as np
from numba import njit

INF = np.inf


# Helpers use a single return and inline="always": early returns inside these small
# functions made the O(N) passes ~10x slower (measured with numba 0.68).
@njit(cache=True, inline="always")
def _children_conductance(child_start, child_index, sub_R, i):
    """(sum of finite child conductances, number of zero-resistance children) of segment i."""
    g = 0.0
    nzero = 0
    for t in range(child_start[i], child_start[i + 1]):
        r = sub_R[child_index[t]]
        if r == 0.0:
            nzero += 1
        elif r < INF:
            g += 1.0 / r
    return g, nzero


@njit(cache=True, inline="always")
def _down(is_leaf, term_r, g, nzero):
    if is_leaf:
        d = term_r
    elif nzero > 0:
        d = 0.0
    elif g == 0.0:
        d = INF
    else:
        d = 1.0 / g
    return d


@njit(cache=True, inline="always")
def _fraction(rc, g, nzero):
    """Share of a parent's flow entering a child of resistance rc (zero-resistance children
    take everything, shared equally; occluded children get nothing)."""
    if nzero > 0:
        f = 1.0 / nzero if rc == 0.0 else 0.0
    elif g == 0.0 or rc == INF:
        f = 0.0
    else:
        f = (1.0 / rc) / g
    return f


@njit(cache=True)
def subtree_resistance(child_start, child_index, seg_R, term_R, sub_R):
    """Fill ``sub_R`` in one reverse pass (children have larger indices than parents)."""
    for i in range(seg_R.shape[0] - 1, -1, -1):
        g, nz = _children_conductance(child_start, child_index, sub_R, i)
        sub_R[i] = seg_R[i] + _down(child_start[i] == child_start[i + 1], term_R[i], g, nz)


@njit(cache=True, inline="always")
def _child_fraction(child_start, child_index, sub_R, p, c):
    """Share of the flow of segment p that enters its child c."""
    g, nz = _children_conductance(child_start, child_index, sub_R, p)
    return _fraction(sub_R[c], g, nz)


@njit(cache=True)
def split_fractions(child_start, child_index, sub_R, i, out):
    """Write the flow shares of the children of segment i into ``out``; return their count."""
    c0 = child_start[i]
    nc = child_start[i + 1] - c0
    for t in range(nc):
        out[t] = _child_fraction(child_start, child_index, sub_R, i, child_index[c0 + t])
    return nc


@njit(cache=True)
def forward(parent, child_start, child_index, seg_R, term_R, sub_R, q_root, p_term, p_in,
            flow, pressure):
    """Flows and distal pressures in one forward pass, given ``sub_R`` and the root flow.

    Distal pressure: p_term + Q down(i) when the subtree drains; below a full occlusion the
    blood column is stagnant and takes the proximal pressure (or p_term when the segment
    itself is occluded).
    """
    n = seg_R.shape[0]
    flow[0] = q_root
    for i in range(n):
        g, nz = _children_conductance(child_start, child_index, sub_R, i)
        d = _down(child_start[i] == child_start[i + 1], term_R[i], g, nz)
        if d < INF:
            pressure[i] = p_term + flow[i] * d if flow[i] > 0.0 else p_term
        else:
            pp = p_in if parent[i] < 0 else pressure[parent[i]]
            pressure[i] = pp if seg_R[i] < INF else p_term
        for t in range(child_start[i], child_start[i + 1]):
            c = child_index[t]
            flow[c] = flow[i] * _fraction(sub_R[c], g, nz)


@njit(cache=True)
def update_resistance(parent, child_start, child_index, term_R, seg_R, sub_R, i, new_R):
    """Set ``seg_R[i] = new_R`` and refresh ``sub_R`` on the path to the root: O(depth)."""
    seg_R[i] = new_R
    j = i
    while j >= 0:
        g, nz = _children_conductance(child_start, child_index, sub_R, j)
        r = seg_R[j] + _down(child_start[j] == child_start[j + 1], term_R[j], g, nz)
        if r == sub_R[j]:
            j = -1  # unchanged here, so unchanged above
        else:
            sub_R[j] = r
            j = parent[j]


@njit(cache=True)
def flow_fraction(parent, child_start, child_index, sub_R, i):
    """Share of the inlet flow that passes through segment i: O(depth)."""
    f = 1.0
    j = i
    while parent[j] >= 0 and f != 0.0:
        p = parent[j]
        f *= _child_fraction(child_start, child_index, sub_R, p, j)
        j = p
    return f
