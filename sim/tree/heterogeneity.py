"""Perfusion heterogeneity: terminal flows that are not proportional to tissue mass.

Regional blood flow per unit mass varies between tissue pieces, and the more so the smaller
the pieces: the relative dispersion (SD / mean) of flows per mass in pieces of mass m follows
the fractal law RD(m) = RD(1 g) (m / 1 g)^(1 - D) (Bassingthwaighte et al. 1989). A branching
tree produces it when each bifurcation splits its flow with some randomness about the demand
of its subtrees (asymmetric fractal branching: van Beek et al. 1989; Marxen & Henkelman 2003).

Model. Top-down over the tree, the flow of a segment i (subtree mass m_i) is split among its
children c (mass share p_c, demand share f0_c = q_c / q_i, demand q = mass x vascularity) with
random shares f ~ Dirichlet(kappa_i f0) (a Beta distribution for a bifurcation): E[f_c] =
f0_c exactly, and kappa_i is set so that the children's flows per mass gain, mass-weighted,
the dispersion that takes pieces of mass m_i to pieces of mass m_c on the fractal law:
sum_c p_c var(f_c / f0_c) = sum_c p_c delta_c^2 with
(1 + RD(m_c)^2) = (1 + RD(m_i)^2)(1 + delta_c^2). Terminal flow demands are replaced by the
resulting flows; radii are then sized for them (Poiseuille reproduces them exactly), so the
heterogeneity is a property of the vessels, not of the transport. Tumour vascularity stays the
mean flow-per-mass multiplier of a tumour. Within a simulated territory of mass M, pieces of
mass m then show RD_M(m)^2 = (1 + RD(m)^2) / (1 + RD(M)^2) - 1 about the territory's mean.

Parameters and sources. D = 1.2 is borrowed from heart (Bassingthwaighte et al. 1989:
"the fractal Ds being about 1.2") and lung (Glenny et al.: D = 1.2 down to the acinar scale);
no liver value of D was found. RD(1 g) = 0.31 is calibrated on one named data set: the
microsphere flow CV of 30 % in ~100 mg pieces of perfused rat liver with hepatic-artery flow
(Burczynski, Luxon & Weisiger), measured as the experiment cuts it: cubes of 100 mg from grown
trees of a 10 g liver (an assumed typical rat liver mass; the abstract read does not give
it), mean over 12 trees (:func:`sim.validation.studies.calibrate_rd_1g`: 0.310). Cubes mix
neighbouring subtrees, so their CV is below that of subtrees of the same mass (for which the
law alone would give 0.21). Liver CVs of 15-22 % between adjacent samples (cat, dog) are a
check, not a fit. Simplification: the law is applied down to single terminals (~1 mg), below the
smallest pieces measured in the liver (lung data reach the acinar scale).

References
----------
.. [1] Bassingthwaighte JB, King RB, Roger SA. Fractal nature of regional myocardial blood
       flow heterogeneity. Circ Res 1989;65:578-590.
.. [2] Glenny RW, Bernard SL, Robertson HT. Pulmonary blood flow remains fractal down to the
       level of gas exchange. J Appl Physiol.
.. [3] van Beek JH, Roger SA, Bassingthwaighte JB. Regional myocardial flow heterogeneity
       explained with fractal networks. Am J Physiol 1989;257:H1670.
.. [4] Marxen M, Henkelman RM. Branching tree model with fractal vascular resistance explains
       fractal perfusion heterogeneity. Am J Physiol Heart Circ Physiol 2003;284:H1848.
.. [5] Burczynski FJ, Luxon BA, Weisiger RA. Intrahepatic blood flow distribution in the
       perfused rat liver: effect of hepatic artery perfusion. Am J Physiol.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from sim.tree import _kernels as _k

__all__ = ["relative_dispersion", "heterogeneous_flows", "DEFAULT_RD_1G",
           "DEFAULT_FRACTAL_DIMENSION"]

#: Relative dispersion of flow per mass in 1 g pieces (calibrated, see the module docstring).
DEFAULT_RD_1G = 0.31
#: Fractal dimension of flow heterogeneity (heart and lung value; none found for liver).
DEFAULT_FRACTAL_DIMENSION = 1.2


def relative_dispersion(mass_g, rd_1g: float = DEFAULT_RD_1G,
                        fractal_dimension: float = DEFAULT_FRACTAL_DIMENSION):
    """RD(m) = RD(1 g) (m / 1 g)^(1 - D) [1] for pieces of mass ``mass_g`` [g].

    Examples
    --------
    >>> round(float(relative_dispersion(0.1)), 3)  # 100 mg pieces
    0.491
    """
    return rd_1g * np.asarray(mass_g, dtype=float) ** (1.0 - fractal_dimension)


@njit(cache=True)
def _concentrations(child_start, child_index, mass_mg, demand, rd_1g, d_exp, kappa):
    """Dirichlet concentration kappa of every segment's split (0: deterministic split)."""
    n = child_start.shape[0] - 1
    for i in range(n):
        c0 = child_start[i]
        c1 = child_start[i + 1]
        kappa[i] = 0.0
        if c1 - c0 < 2 or mass_mg[i] <= 0.0 or demand[i] <= 0.0:
            continue
        rd_p = rd_1g * (mass_mg[i] * 1e-3) ** (1.0 - d_exp)
        target = 0.0
        spread = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            p = mass_mg[c] / mass_mg[i]
            f0 = demand[c] / demand[i]
            if p <= 0.0 or f0 <= 0.0:
                continue
            rd_c = rd_1g * (mass_mg[c] * 1e-3) ** (1.0 - d_exp)
            target += p * max((1.0 + rd_c * rd_c) / (1.0 + rd_p * rd_p) - 1.0, 0.0)
            spread += p * (1.0 - f0) / f0
        if target > 0.0:
            # Dirichlet: var(f_c) / f0_c^2 = (1 - f0_c) / (f0_c (kappa + 1))
            kappa[i] = max(spread / target - 1.0, 1e-9)


@njit(cache=True)
def _split_down(child_start, child_index, demand, kappa, gamma, out):
    """Top-down flows (preorder): Dirichlet shares from the gamma variates, or the demand
    shares where kappa = 0; ``out[0]`` is set."""
    n = child_start.shape[0] - 1
    for i in range(n):
        c0 = child_start[i]
        c1 = child_start[i + 1]
        if c0 == c1:
            continue
        total = 0.0
        for t in range(c0, c1):
            c = child_index[t]
            total += gamma[c] if kappa[i] > 0.0 else demand[c]
        for t in range(c0, c1):
            c = child_index[t]
            share = gamma[c] if kappa[i] > 0.0 else demand[c]
            out[c] = out[i] * share / total if total > 0.0 else 0.0


def heterogeneous_flows(tree, subtree_demand, *, rd_1g: float = DEFAULT_RD_1G,
                        fractal_dimension: float = DEFAULT_FRACTAL_DIMENSION, rng=None):
    """Segment flows [demand units] with fractal perfusion heterogeneity (module docstring).

    Parameters
    ----------
    tree : sim.tree.TreeArrays
        Topology (DFS preorder) and ``terminal_mass_mg``.
    subtree_demand : (n_segments,) array
        Demand-proportional flow of each segment (mass x vascularity summed over its subtree).
    rd_1g, fractal_dimension : float
        RD(1 g) [1] and D (1 <= D < 2); ``rd_1g = 0`` returns ``subtree_demand``.
    rng : numpy Generator or int

    Returns
    -------
    (n_segments,) ndarray
        Flows, the root's equal to its demand; each bifurcation's children add up to it.
    """
    q = np.asarray(subtree_demand, dtype=np.float64)
    if rd_1g < 0 or not 1.0 <= fractal_dimension < 2.0:
        raise ValueError("rd_1g must be >= 0 and fractal_dimension in [1, 2)")
    if rd_1g == 0.0:
        return q.copy()
    rng = np.random.default_rng(rng)
    mass = np.zeros(tree.n_segments)
    mass[tree.is_terminal] = tree.terminal_mass_mg[tree.is_terminal]
    mass = _k.subtree_sum(tree.parent, mass)
    kappa = np.zeros(tree.n_segments)
    _concentrations(tree.child_start, tree.child_index, mass, q, float(rd_1g),
                    float(fractal_dimension), kappa)
    # Dirichlet(kappa f0) = normalised Gamma(kappa f0_c) variates, drawn for every segment
    shape = np.zeros(tree.n_segments)
    has_parent = tree.parent >= 0
    par = tree.parent[has_parent]
    shape[has_parent] = kappa[par] * np.where(q[par] > 0, q[has_parent] / np.where(
        q[par] > 0, q[par], 1.0), 0.0)
    gamma = rng.standard_gamma(shape)
    out = np.zeros(tree.n_segments)
    out[0] = q[0]
    _split_down(tree.child_start, tree.child_index, q, kappa, gamma, out)
    return out
