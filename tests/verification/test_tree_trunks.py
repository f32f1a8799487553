"""Deep trees grown with side branches along trunks (branching = "trunks"): a valid binary
tree with Murray radii and demanded flows, and depth growing as the cube root of the terminal
count (trunk length over branch spacing), unlike the partition trees."""
import math

import numpy as np
import pytest

from sim.flow import solve_flow
from sim.tree import Ellipsoid, Tumour, grow_tree, summary
from sim.tree._kernels import bifurcation_depth


def liver(n):
    """A liver-shaped ellipsoid (semi-axes 1.5 : 1 : 0.8) holding n terminals of 1 mg."""
    a = (n / 1.06 / (4.0 / 3.0 * math.pi * 1.5 * 0.8)) ** (1.0 / 3.0)
    return Ellipsoid((0, 0, 0), (1.5 * a, a, 0.8 * a)), (-1.5 * a - 3.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def deep():
    dom, root = liver(8000)
    tumours = (Tumour((4.0, 0.0, 0.0), 3.0, vascularity=3.0),)
    t = grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=900.0, tumours=tumours,
                  branching="trunks", flow_rd_1g=0.0, rng=5)
    return t, tumours


def test_binary_tree_with_murray_radii_and_demanded_flows(deep):
    """Perfusion heterogeneity off: every terminal gets mass x vascularity."""
    t, tumours = deep
    inner = np.flatnonzero(~t.is_terminal)
    assert np.all(t.child_start[inner + 1] - t.child_start[inner] == 2)
    assert t.n_segments == 2 * t.is_terminal.sum() - 1
    c1 = t.child_index[t.child_start[inner]]
    c2 = t.child_index[t.child_start[inner] + 1]
    r = t.radius_um
    np.testing.assert_allclose(r[c1] ** 3 + r[c2] ** 3, r[inner] ** 3, rtol=1e-12)
    f = solve_flow(t)
    term = t.terminals
    vasc = np.array([1.0, tumours[0].vascularity])
    demand = t.terminal_mass_mg[term] * vasc[t.region[term]]
    np.testing.assert_allclose(f.flow_mL_min[term] / f.flow_mL_min[0], demand / demand.sum(),
                               rtol=1e-9)


def test_terminal_segments_keep_a_length(deep):
    """A side branch leaves its trunk at least half a spacing from its group's centroid, so
    a terminal segment is never shorter than half a spacing (0.75 cell sides here)."""
    t, _ = deep
    cell = (1.0 / 1.06) ** (1.0 / 3.0)
    assert t.length_mm[t.terminals].min() >= 0.5 * 0.75 * cell * (1 - 1e-9)


def test_depth_is_deep_and_grows_as_the_cube_root():
    """Depth ~ trunk length / spacing ~ n^(1/3): 8x the terminals doubles it (within 15 %),
    while a partition tree of the same terminals stays ~log n deep."""
    means = {}
    for n in (2000, 16000):
        dom, root = liver(n)
        t = grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=900.0, branching="trunks",
                      rng=2)
        means[n] = bifurcation_depth(t.parent, t.child_start)[t.is_terminal].mean()
    assert means[16000] / means[2000] == pytest.approx(2.0, rel=0.15)
    dom, root = liver(16000)
    part = grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=900.0, rng=2)
    s = summary(part)
    assert means[16000] > 3 * s["bifurcations_to_terminal_mean"]
    # Crookston's 221 at 2.3e5 terminals scaled by the cube root: ~90 at 16000 (loose)
    assert 221 * (16000 / 2.3e5) ** (1 / 3) * 0.7 < means[16000] < 221 * (16000 / 2.3e5) ** (1 / 3) * 1.3


def test_summary_reports_bifurcation_depth(deep):
    t, _ = deep
    s = summary(t)
    b = bifurcation_depth(t.parent, t.child_start)[t.is_terminal]
    # a binary tree: every ancestor of a terminal is a bifurcation
    np.testing.assert_array_equal(b, t.depth[t.is_terminal])
    assert s["bifurcations_to_terminal_mean"] == pytest.approx(b.mean())
    assert s["bifurcations_to_terminal_max"] == b.max()
    assert s["bifurcations_to_terminal_sd"] == pytest.approx(b.std())


def test_deterministic_and_validated():
    dom, root = liver(500)
    a = grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=500.0, branching="trunks", rng=3)
    b = grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=500.0, branching="trunks", rng=3)
    assert np.array_equal(a.parent, b.parent) and np.array_equal(a.distal_mm, b.distal_mm)
    with pytest.raises(ValueError, match="branching"):
        grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=500.0, branching="deep")
    with pytest.raises(ValueError, match="spacing"):
        grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=500.0, branching="trunks",
                  side_branch_spacing=0.0)
