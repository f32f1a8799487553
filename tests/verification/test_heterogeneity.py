"""Perfusion heterogeneity: the fractal law of flow dispersion is reproduced, mean flows per
region are preserved, grown trees realise the heterogeneous flows in their vessels, and the
random 60/40 teaching tree splits as Walrand et al. describe."""
import math

import numpy as np
import pytest

from sim.flow import solve_flow
from sim.tree import Ellipsoid, Tumour, bifurcating_tree, grow_tree
from sim.tree import _kernels as _k
from sim.tree.heterogeneity import heterogeneous_flows, relative_dispersion


def _masses(tree):
    m = np.zeros(tree.n_segments)
    m[tree.is_terminal] = tree.terminal_mass_mg[tree.is_terminal]
    return _k.subtree_sum(tree.parent, m)


def test_fractal_law_on_a_balanced_tree():
    """Pieces of mass m (subtrees of a 2^13-lobule tree) have the relative dispersion of flow
    per mass that the law predicts within the tree, (1 + RD(m)^2) / (1 + RD(M)^2) - 1, to
    within the sampling error of the SD (4 sigma, sigma = RD sqrt((kurtosis - 1) / 4n),
    kurtosis bounded by 6 for these mixtures)."""
    tree = bifurcating_tree(generations=13)
    mass = _masses(tree)
    q0 = mass.copy()
    big_m = mass[0] * 1e-3
    for level in (0, 3, 6, 9):
        m = tree.terminal_mass_mg[tree.is_terminal][0] * 2**level
        sel = np.isclose(mass, m)
        n = int(sel.sum())
        sds = []
        for seed in range(4):
            q = heterogeneous_flows(tree, q0, rng=seed)
            ratio = (q[sel] / mass[sel]) / (q[0] / mass[0])
            sds.append(ratio.std())
        want = math.sqrt((1 + relative_dispersion(m * 1e-3) ** 2)
                         / (1 + relative_dispersion(big_m) ** 2) - 1)
        sigma = want * math.sqrt(5.0 / (4 * n * 4))
        assert np.mean(sds) == pytest.approx(want, abs=4 * sigma), (level, np.mean(sds), want)


def test_flows_add_up_and_means_follow_the_demand():
    """Children's flows add up to their parent's; over many draws each child's mean share is
    its demand share (no bias between tumour and normal subtrees)."""
    tree = bifurcating_tree(generations=6)
    mass = _masses(tree)
    demand = mass.copy()
    # a 3x vascular subtree under the root's second child
    term = np.flatnonzero(tree.is_terminal)
    sub = term[tree.subtree(2)[term]]
    d_term = np.zeros(tree.n_segments)
    d_term[term] = tree.terminal_mass_mg[term]
    d_term[sub] *= 3.0
    demand = _k.subtree_sum(tree.parent, d_term)
    shares = []
    for seed in range(400):
        q = heterogeneous_flows(tree, demand, rng=seed)
        kids = tree.child_index[tree.child_start[0]:tree.child_start[1]]
        assert q[kids].sum() == pytest.approx(q[0], rel=1e-12)
        shares.append(q[2] / q[0])
    f0 = demand[2] / demand[0]
    se = np.std(shares) / math.sqrt(len(shares))
    assert np.mean(shares) == pytest.approx(f0, abs=4 * se)
    assert np.std(shares) > 0.0


def test_no_heterogeneity_gives_the_demand():
    tree = bifurcating_tree(generations=5)
    mass = _masses(tree)
    assert np.array_equal(heterogeneous_flows(tree, mass, rd_1g=0.0), mass)
    with pytest.raises(ValueError):
        heterogeneous_flows(tree, mass, fractal_dimension=2.5)


def test_grown_tree_vessels_carry_the_heterogeneous_flows():
    """Radii are sized for the heterogeneous flows, so a Poiseuille solve with equal terminal
    pressures gives terminal flows per mass that vary (RD > 0.3 at 1 mg), while the tumour's
    mean flow per mass stays its vascularity times the normal liver's (within the spread of
    the tumour's ~400 terminals)."""
    dom = Ellipsoid(centre_mm=(0, 0, 0), semi_axes_mm=(12.0, 9.0, 9.0))
    tum = Tumour(centre_mm=(3.0, 0.0, 0.0), radius_mm=4.0, vascularity=3.0)
    flat = grow_tree(domain=dom, root_xyz_mm=(-14, 0, 0), root_radius_um=600.0, tumours=[tum],
                     flow_rd_1g=0.0, rng=2)
    het = grow_tree(domain=dom, root_xyz_mm=(-14, 0, 0), root_radius_um=600.0, tumours=[tum],
                    rng=2)
    out = {}
    for name, tree in (("flat", flat), ("het", het)):
        f = solve_flow(tree)
        t = tree.is_terminal
        per_mass = np.asarray(f.flow_mL_min)[t] / tree.terminal_mass_mg[t]
        reg = tree.region[t]
        out[name] = (per_mass[reg == 0], per_mass[reg == 1])
    n_flat, t_flat = out["flat"]
    assert n_flat.std() / n_flat.mean() < 1e-6
    assert t_flat.mean() / n_flat.mean() == pytest.approx(3.0, rel=1e-6)
    n_het, t_het = out["het"]
    assert n_het.std() / n_het.mean() > 0.3
    rel_se = t_het.std() / t_het.mean() / math.sqrt(t_het.size)
    assert t_het.mean() / n_het.mean() == pytest.approx(3.0, rel=4 * rel_se + 0.05)


def test_random_sixty_forty_tree():
    """Walrand et al.'s random 60/40 spreading: every terminal's flow share is
    0.6^k 0.4^(G - k), with k ~ Binomial(G, 1/2) over the terminals (chi-square, 4 sigma)."""
    g = 10
    tree = bifurcating_tree(generations=g, split_ratio=0.6, random_split=True, rng=5)
    f = solve_flow(tree)
    term = tree.is_terminal
    share = np.asarray(f.flow_mL_min)[term] / float(f.flow_mL_min[0])
    k = np.log(share / 0.4**g) / np.log(1.5)
    assert np.allclose(k, np.round(k), atol=1e-6)
    counts = np.bincount(np.round(k).astype(int), minlength=g + 1)
    expect = np.array([math.comb(g, j) for j in range(g + 1)], float) / 2**g * term.sum()
    ok = expect >= 5
    chi2 = float(np.sum((counts[ok] - expect[ok]) ** 2 / expect[ok]))
    dof = int(ok.sum()) - 1
    assert chi2 < dof + 4 * math.sqrt(2 * dof)
    # without random_split the first daughter always takes 60 %
    fixed = bifurcating_tree(generations=g, split_ratio=0.6)
    ff = solve_flow(fixed)
    assert float(ff.flow_mL_min[1]) / float(ff.flow_mL_min[0]) == pytest.approx(0.6)
