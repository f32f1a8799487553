"""Vascular segments of the clinical chain (stand-ins for Couinaud segments): the treated
territory cut into parts of comparable mass along its arteries, on shallow (partition) and
deep (trunk) trees alike."""
import math

import numpy as np

from sim.clinical.vois import split_territory, terminal_segments
from sim.tree import Ellipsoid, bifurcating_tree, from_parent, grow_tree


def territory_masses_mg(tree, roots):
    lab = terminal_segments(tree, roots)
    term = tree.is_terminal
    assert np.all(lab[term] >= 0)  # every terminal below the root has a territory
    return np.array([tree.terminal_mass_mg[term & (lab == k)].sum() for k in range(len(roots))])


def test_symmetric_tree_splits_into_its_generation_subtrees():
    """A complete binary tree of equal lobules: 8 territories are the 8 subtrees at
    generation 3, each 1/8 of the mass."""
    t = bifurcating_tree(generations=6, lobule_mass_mg=1.0)
    roots = split_territory(t, 0, 8)
    m = territory_masses_mg(t, roots)
    np.testing.assert_allclose(m, t.terminal_mass_mg.sum() / 8, rtol=1e-12)
    lab = terminal_segments(t, roots)
    term = np.flatnonzero(t.is_terminal)
    for g in np.flatnonzero(t.depth == 3):
        below = term[t.subtree(g)[term]]
        assert np.unique(lab[below]).size == 1  # one generation-3 subtree, one territory


def test_trunk_tree_gives_comparable_territories():
    """On a trunk tree every branch point sheds a small side branch, so cutting a territory
    into its subtrees would leave one territory with nearly all the mass. Cut along the trunk
    where the parts are closest to equal, 8 territories each hold 1/8 of the liver to within
    the side branches' granularity (here +-20 %)."""
    n = 4000
    a = (n / 1.06 / (4.0 / 3.0 * math.pi * 1.5 * 0.8)) ** (1.0 / 3.0)
    t = grow_tree(domain=Ellipsoid((0, 0, 0), (1.5 * a, a, 0.8 * a)),
                  root_xyz_mm=(-1.5 * a - 3.0, 0.0, 0.0), root_radius_um=900.0,
                  branching="trunks", flow_rd_1g=0.0, rng=5)
    roots = split_territory(t, 0, 8)
    assert len(roots) == 8
    m = territory_masses_mg(t, roots)
    total = t.terminal_mass_mg.sum()
    np.testing.assert_allclose(m.sum(), total, rtol=1e-12)
    np.testing.assert_allclose(m, total / 8, rtol=0.20)


def test_no_empty_territory_through_chains():
    """Root -> single child -> {terminal, branch -> 2 terminals}: 3 terminals of 1 mg give at
    most 3 territories of 1 mg each, never an empty one, however many are asked."""
    parent = np.array([-1, 0, 1, 1, 3, 3])
    z = np.arange(6, dtype=float)
    prox = np.stack([z, 0 * z, 0 * z], 1)
    tree = from_parent(parent, np.full(6, 50.0), prox, prox + [1.0, 0.0, 0.0],
                       terminal_mass_mg=np.array([0, 0, 1.0, 0, 1.0, 1.0]))
    for n in (2, 3, 8):
        roots = split_territory(tree, 0, n)
        assert len(roots) == min(n, 3)
        m = territory_masses_mg(tree, roots)
        assert np.all(m > 0) and m.sum() == 3.0
    np.testing.assert_array_equal(territory_masses_mg(tree, split_territory(tree, 0, 8)), 1.0)
