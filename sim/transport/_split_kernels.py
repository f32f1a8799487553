"""Numba kernels of the transport without embolic feedback (``split`` engine).

With a frozen flow field, units are independent and each one's walk is a Markov chain down
the tree (this engine runs on the tree's own segment order, without the feedback layout). Walked without size trapping it ends at a terminal T with probability pi(T), the
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
from sim.transport._kernels import branch_weight, conductance
from sim.transport.fates import LIVER, LUNG, REFLUX


@njit(cache=True)
def reach_probabilities(parent, child_start, child_index, sub_R, bias, inject):
    """pi[i]: probability that an untrapped unit entering segment ``inject`` passes segment i
    (terminals: ends there), from the subtree resistances of a frozen flow field. Returns
    (pi, blocked): ``blocked`` when no child of ``inject`` carries flow (every unit stacks
    at the catheter). An empty ``bias`` means no bias."""
    n = parent.shape[0]
    unbiased = bias.shape[0] == 0
    pi = np.zeros(n)
    pi[inject] = 1.0
    blocked = False
    for i in range(inject, n):
        c0 = child_start[i]
        c1 = child_start[i + 1]
        if c0 == c1 or pi[i] == 0.0:
            continue
        tot = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            tot += branch_weight(1.0 if unbiased else bias[c], conductance(sub_R[c]))
        if tot <= 0.0:
            blocked = i == inject
            continue
        for t in range(c0, c1):
            c = child_index[t]
            w = branch_weight(1.0 if unbiased else bias[c], conductance(sub_R[c]))
            pi[c] = pi[i] * (w / tot)
    return pi, blocked


@njit(cache=True)
def records(parent, radius_um, inject):
    """Running minimum ``pm`` of the vessel diameter [um] from ``inject`` down to each
    segment of its subtree and the deepest "record" segment ``rec`` at or above it (where the
    running minimum last dropped); ``pm`` is inf above ``inject``."""
    n = parent.shape[0]
    pm = np.full(n, np.inf)
    rec = np.full(n, -1, dtype=np.int32)
    pm[inject] = 2.0 * radius_um[inject]
    rec[inject] = inject
    for k in range(inject + 1, n):
        p = parent[k]
        if p < inject or rec[p] < 0:
            continue  # not below the catheter
        d = 2.0 * radius_um[k]
        if d < pm[p]:
            pm[k] = d
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


#: Columns of a slot record: acceptance probability, then for the slot's terminal and for
#: its alias (3 columns further) the tree segment, the narrowest diameter above the terminal
#: [um] and a tumour flag, so that a draw reads one 64-byte record.
ACCEPT, SEG, PM, TUMOUR, A_SEG, A_PM, A_TUMOUR = range(7)


@njit(cache=True)
def slot_records(terminals, prob, pm, parent, region):
    """Alias table over ``terminals`` (probabilities ``prob``) as (K, 8) slot records."""
    accept, alias = alias_table(prob)
    k = terminals.shape[0]
    out = np.zeros((k, 8))
    for j in range(k):
        out[j, ACCEPT] = accept[j]
        for side in range(2):
            a = terminals[j] if side == 0 else terminals[alias[j]]
            o = 3 * side
            out[j, SEG + o] = a
            out[j, PM + o] = pm[parent[a]] if parent[a] >= 0 else np.inf
            out[j, TUMOUR + o] = 1.0 if region[a] > 0 else 0.0
    return out


@njit(cache=True, inline="always")
def _draw(seed, index, kslots):
    """The unit's first three draws: lung-shunt uniform, slot, acceptance uniform."""
    state = _stream(seed, index)
    state, u = _next(state)
    state, v = _next(state)
    j = min(int(v * kslots), kslots - 1)
    state, w = _next(state)
    return state, u, j, w


@njit(cache=True, parallel=True)
def transport_split(slots, lsf, tumour_shunt, blocked, trap_d, start_index, seed, out_segment,
                    out_fate):
    """Transport independent units in parallel, pass 1.

    Without branches, so that the random slot reads overlap: lung shunt, then the terminal
    drawn from pi by the alias table. A unit that may be trapped above its terminal or be
    shunted by a tumour gets the segment -2 - terminal, for :func:`finish_split` (a separate
    kernel: fused into one loop, the rare branchy work slowed every unit four-fold).
    """
    n = trap_d.shape[0]
    kslots = slots.shape[0]
    shunt = tumour_shunt > 0.0
    stop = int(blocked)
    for t in prange(n):
        state, u, j, w = _draw(seed, start_index + t, kslots)
        o = 3 * int(w >= slots[j, ACCEPT])  # the alias side
        seg = int(slots[j, SEG + o])
        lung = int(u < lsf)
        gone = lung | stop  # blocked: stacked at the catheter, refluxed
        more = int((float(trap_d[t]) > slots[j, PM + o]) | (shunt & (slots[j, TUMOUR + o] > 0.0)))
        seg = seg - more * (2 * seg + 2)  # -2 - seg when marked
        out_segment[t] = seg - gone * (seg + 1)
        out_fate[t] = LIVER + lung * (LUNG - LIVER) + (gone - lung) * (REFLUX - LIVER)


@njit(cache=True, parallel=True)
def finish_split(parent, region, pm, rec, tumour_shunt, trap_d, start_index, seed,
                 out_segment, out_fate):
    """Pass 2 for the marked units: the trapping vessel is the first record node narrower
    than the unit on the path to its terminal; then the tumour shunt draw (the unit's fourth
    draw)."""
    for t in prange(trap_d.shape[0]):
        if out_segment[t] > -2:
            continue
        site = -2 - out_segment[t]
        d = float(trap_d[t])
        if d > pm[site]:  # the first record narrower than d on the path
            x = rec[site]
            while True:
                y = parent[x]
                if y < 0:
                    break
                z = rec[y]
                if z < 0 or pm[z] >= d:
                    break
                x = z
            site = x
        out_segment[t] = site
        if tumour_shunt > 0.0 and region[site] > 0:
            state = _stream(seed, start_index + t)
            for _ in range(4):
                state, u = _next(state)
            if u < tumour_shunt:
                out_fate[t] = LUNG
                out_segment[t] = -1


@njit(cache=True, parallel=True)
def lodged_counts(segment, fate, mult, n_segments, n_blocks):
    """Spheres lodged per segment: liver units' multiplicities (``mult`` empty: 1 each),
    counted in ``n_blocks`` private histograms (no shared writes) and summed."""
    n = segment.shape[0]
    hist = np.zeros((n_blocks, n_segments), dtype=np.int32)
    step = (n + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for t in range(b * step, min(n, (b + 1) * step)):
            if fate[t] == LIVER:
                hist[b, segment[t]] += 1 if mult.shape[0] == 0 else mult[t]
    out = hist[0].astype(np.int64)
    for b in range(1, n_blocks):
        out += hist[b]
    return out
