"""TreeArrays construction, validation, summary and the bifurcating teaching tree."""

import numpy as np
import pytest

from dosimetry.constants import LOBULE_VOLUME_MM3
from sim.tree import bifurcating_tree, from_parent, summary


def _small():
    #      0
    #    1   2
    #   3 4    5 (2 has one child)
    parent = np.array([-1, 0, 0, 1, 1, 2])
    prox = np.zeros((6, 3))
    dist = np.arange(18, dtype=float).reshape(6, 3)
    for i in range(1, 6):
        prox[i] = dist[parent[i]]
    return parent, np.full(6, 10.0), prox, dist


def test_csr_depth_and_terminals():
    parent, r, prox, dist = _small()
    t = from_parent(parent, r, prox, dist)
    assert t.child_start.tolist() == [0, 2, 4, 5, 5, 5, 5]
    assert t.child_index.tolist() == [1, 2, 3, 4, 5]
    assert t.is_terminal.tolist() == [False, False, False, True, True, True]
    assert t.depth.tolist() == [0, 1, 1, 2, 2, 2]
    np.testing.assert_array_equal(t.length_mm, np.linalg.norm(dist - prox, axis=1))
    assert not t.radius_um.flags.writeable


def test_reorders_non_topological_input():
    parent, r, prox, dist = _small()
    perm = np.array([4, 2, 0, 5, 3, 1])  # new row j = old row perm[j]
    inv = np.argsort(perm)
    p2 = np.where(parent[perm] >= 0, inv[np.maximum(parent[perm], 0)], -1)
    t, order = from_parent(p2, r[perm] * (1 + np.arange(6)), prox[perm], dist[perm],
                           return_order=True)
    assert np.all(t.parent[1:] < np.arange(1, 6))
    assert t.parent[0] == -1
    # same geometry per segment, reached through ``order``
    np.testing.assert_array_equal(t.distal_mm, dist[perm][order])
    # parent relation preserved: parent's distal point is each child's proximal point
    np.testing.assert_array_equal(t.proximal_mm[1:], t.distal_mm[t.parent[1:]])


@pytest.mark.parametrize(
    "parent, msg",
    [([-1, 0, -1], "exactly one root"), ([-1, 2, 1], "cycle"), ([-1, 0, 5], r"\[-1, N\)")],
)
def test_invalid_parent(parent, msg):
    n = len(parent)
    with pytest.raises(ValueError, match=msg):
        from_parent(np.array(parent), np.ones(n), np.zeros((n, 3)), np.ones((n, 3)))


def test_invalid_values():
    parent, r, prox, dist = _small()
    with pytest.raises(ValueError, match="radius_um"):
        from_parent(parent, -r, prox, dist)
    with pytest.raises(ValueError, match="shape"):
        from_parent(parent, r[:3], prox, dist)
    mass = np.ones(6)
    with pytest.raises(ValueError, match="internal"):
        from_parent(parent, r, prox, dist, terminal_mass_mg=mass)


@pytest.mark.parametrize("k", [3.0, 2.7])
def test_bifurcating_tree_murray_and_lengths(k):
    g, s = 5, 0.6
    t = bifurcating_tree(generations=g, split_ratio=s, murray_exponent=k)
    assert t.n_segments == 2 ** (g + 1) - 1 and t.is_terminal.sum() == 2**g
    inner = np.flatnonzero(~t.is_terminal)
    for i in inner:
        c = t.children(i)
        assert len(c) == 2
        np.testing.assert_allclose(t.radius_um[i] ** k, (t.radius_um[c] ** k).sum(), rtol=1e-12)
        # first daughter carries the share s: r1/r2 = (s / (1 - s))^(1/k)
        np.testing.assert_allclose(t.radius_um[c[0]] / t.radius_um[c[1]], (s / (1 - s)) ** (1 / k),
                                   rtol=1e-12)
    # L proportional to r^(4-k)
    ratio = t.length_mm / t.radius_um ** (4 - k)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    assert np.all(t.depth[t.is_terminal] == g)


def test_bifurcating_tree_lattice_and_summary():
    g = 6
    t = bifurcating_tree(generations=g, density_g_cm3=1.06)
    term = t.distal_mm[t.is_terminal]
    # distinct lobule centres, nearest neighbour distance = 2 * apothem (1.2 mm) in-plane
    d = np.linalg.norm(term[:, None] - term[None], axis=2) + np.eye(len(term)) * 1e9
    np.testing.assert_allclose(d.min(), 1.2, rtol=1e-12)
    s = summary(t)
    assert s["terminals"] == 2**g and s["segments"] == 2 ** (g + 1) - 1
    np.testing.assert_allclose(s["perfused_mass_g"], 2**g * LOBULE_VOLUME_MM3 * 1.06e-3, rtol=1e-12)
    assert s["terminal_depth_min"] == s["terminal_depth_max"] == g
    side = 0.6 / np.cos(np.pi / 6)  # hexagon side from the apothem: 0.693 mm
    np.testing.assert_allclose(LOBULE_VOLUME_MM3, 3 * np.sqrt(3) / 2 * side**2 * 1.5, rtol=1e-12)


def test_bifurcating_tree_rejects_bad_input():
    with pytest.raises(ValueError, match="split_ratio"):
        bifurcating_tree(generations=3, split_ratio=1.0)
    with pytest.raises(ValueError, match="generations"):
        bifurcating_tree(generations=2.5)
