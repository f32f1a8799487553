"""Numba kernels of the transport without embolic feedback (``split`` engine).

With a frozen flow field, units are independent and each one's walk is a Markov chain down
the tree. Walked without size trapping it ends at a terminal T with probability pi(T), the
product of the branch probabilities on the way (:func:`reach_probabilities`); size trapping
stops it at the first vessel on the path root -> T narrower than the unit, a function of T
and the unit's diameter alone. So each unit draws T from pi with Walker's alias method (O(1))
and then finds its trapping vessel among the "record" vessels of its path (where the running
minimum of the diameter drops), which is exact in distribution and costs O(segments) once plus
O(1) per unit, whatever the depth.

References
----------
.. [1] Walker AJ. An efficient method for generating discrete random variables with general
       distributions. ACM Trans Math Softw 1977;3:253-256.
.. [2] Vose MD. A linear algorithm for generating random numbers with a given distribution.
       IEEE Trans Softw Eng 1991;17:972-975.
"""
import numpy as np
from numba import njit, prange

from dosimetry.rng import stream_state as _stream, xorshift_next as _next
from sim.transport._kernels import BIAS, DIAM, G, LW, branch_weight
from sim.transport.fates import LIVER, LUNG, REFLUX


@njit(cache=True)
def reach_probabilities(lay, nd):
    """pi[k]: probability that an untrapped unit entering node 0 passes node k (terminals:
    ends there). Returns (pi, blocked): ``blocked`` when no child of node 0 carries flow
    (every unit stacks at the injection)."""
    n = nd.shape[0]
    pi = np.zeros(n)
    pi[0] = 1.0
    blocked = False
    for k in range(n):
        if lay.terminal[k] or pi[k] == 0.0:
            continue
        wh = branch_weight(nd[k + 1, BIAS], nd[k + 1, G])
        tot = wh + nd[k, LW]
        if tot <= 0.0:
            blocked = k == 0
            continue
        pi[k + 1] = pi[k] * (wh / tot)
        for t in range(lay.light_start[k], lay.light_start[k + 1]):
            c = lay.light_index[t]
            pi[c] = pi[k] * (branch_weight(nd[c, BIAS], nd[c, G]) / tot)
    return pi, blocked


@njit(cache=True)
def records(lay, nd):
    """Running minimum ``pm`` of the vessel diameter from node 0 down to each node and the
    deepest "record" node ``rec`` at or above it (where the running minimum last dropped)."""
    n = nd.shape[0]
    pm = np.empty(n)
    rec = np.empty(n, dtype=np.int64)
    pm[0] = nd[0, DIAM]
    rec[0] = 0
    for k in range(1, n):
        p = lay.parent[k]
        if nd[k, DIAM] < pm[p]:
            pm[k] = nd[k, DIAM]
            rec[k] = k
        else:
            pm[k] = pm[p]
            rec[k] = rec[p]
    return pm, rec


@njit(cache=True)
def alias_table(prob):
    """Walker/Vose alias table of a discrete distribution (``prob`` > 0, any sum).

    Returns (accept, alias): draw j uniform in [0, K), keep it with probability
    ``accept[j]``, else take ``alias[j]``.
    """
    k = prob.shape[0]
    total = 0.0
    for j in range(k):
        total += prob[j]
    scaled = prob * (k / total)
    accept = np.ones(k)
    alias = np.arange(k)
    small = np.empty(k, dtype=np.int64)
    large = np.empty(k, dtype=np.int64)
    ns = 0
    nl = 0
    for j in range(k):
        if scaled[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # leftovers hold 1 up to round-off
    return accept, alias


@njit(cache=True, parallel=True)
def transport_split(lay, slot_node, slot_pm, accept, alias, pm, rec, lsf, tumour_shunt, blocked,
                    trap_d, start_index, seed, out_segment, out_fate, out_stacked):
    """Transport independent units in parallel: lung shunt, terminal drawn from pi by the
    alias table, trapping vessel among the path's record nodes, tumour shunt. Segments are
    written as tree segment indices."""
    n = trap_d.shape[0]
    kslots = accept.shape[0]
    parent, region, order = lay.parent, lay.region, lay.order
    for t in prange(n):
        state = _stream(seed, start_index + t)
        state, u = _next(state)
        out_segment[t] = -1
        out_stacked[t] = False
        if u < lsf:
            out_fate[t] = LUNG
            continue
        if blocked:  # stacked behind an occluded injection: refluxed
            out_fate[t] = REFLUX
            continue
        state, u = _next(state)
        j = int(u * kslots)
        if j >= kslots:
            j = kslots - 1
        state, u = _next(state)
        if u >= accept[j]:
            j = alias[j]
        site = slot_node[j]
        d = float(trap_d[t])
        if d > slot_pm[j]:  # trapped above the terminal: the first record narrower than d
            x = rec[site]
            while True:
                y = parent[x]
                if y < 0:
                    break
                z = rec[y]
                if pm[z] < d:
                    x = z
                else:
                    break
            site = x
        if tumour_shunt > 0.0 and region[site] > 0:
            state, u = _next(state)
            if u < tumour_shunt:
                out_fate[t] = LUNG
                continue
        out_fate[t] = LIVER
        out_segment[t] = order[site]
