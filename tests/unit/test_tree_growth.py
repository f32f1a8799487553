"""Space-filling growth: domains, terminal placement, topology, non-intersection, determinism."""

import numpy as np
import pytest

from sim.tree import Box, Ellipsoid, Tumour, VoxelMask, grow_tree, load_mask, place_terminals


def seg_seg_distance(p1, q1, p2, q2):
    """Closest distance between segments p1-q1 and p2-q2, vectorised over rows.

    Clamped closest-point parameters (Ericson, Real-Time Collision Detection, 2005, 5.1.9).
    """
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    den = a * e - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(den > 1e-14 * a * e, np.clip((b * f - c * e) / den, 0, 1), 0.0)
        t = (b * s + f) / e
        s = np.where(t < 0, np.clip(-c / a, 0, 1), np.where(t > 1, np.clip((b - c) / a, 0, 1), s))
        t = np.clip(t, 0, 1)
    x = p1 + s[:, None] * d1 - (p2 + t[:, None] * d2)
    return np.sqrt(np.einsum("ij,ij->i", x, x))


def min_nonadjacent_distance(tree):
    """Smallest distance between two segments sharing no end point (parent/child/sibling)."""
    p, q, par = tree.proximal_mm, tree.distal_mm, tree.parent
    n = tree.n_segments
    best = np.inf
    for i in range(n - 1):
        j = np.arange(i + 1, n)
        j = j[~((par[j] == i) | (par[i] == j) | (par[j] == par[i]))]
        if j.size:
            pi = np.broadcast_to(p[i], (j.size, 3))
            qi = np.broadcast_to(q[i], (j.size, 3))
            d = seg_seg_distance(pi, qi, p[j], q[j])
            best = min(best, d.min())
    return best


def test_domains():
    e = Ellipsoid((1, 2, 3), (4, 5, 6))
    inside = e.contains(np.array([[1, 2, 3], [5, 2, 3], [5.01, 2, 3]]))
    assert inside.tolist() == [True, True, False]
    np.testing.assert_allclose(e.volume_mm3, 4 / 3 * np.pi * 120)
    b = Box((0, 0, 0), (1, 2, 3))
    assert b.contains(np.array([[0.5, 1, 1], [1.5, 1, 1]])).tolist() == [True, False]
    m = np.zeros((3, 4, 5), bool)
    m[1, 2, 3] = True
    v = VoxelMask(m, origin_mm=(10, 20, 30), spacing_mm=(1, 2, 3))
    assert v.contains(np.array([[11, 24, 39], [11.4, 24.9, 40.4], [12, 24, 39]])).tolist() == [
        True, True, False]
    lo, hi = v.bounds()
    np.testing.assert_allclose(lo, [10.5, 23, 37.5])
    np.testing.assert_allclose(hi, [11.5, 25, 40.5])
    assert v.volume_mm3 == 6.0
    with pytest.raises(ValueError):
        Ellipsoid((0, 0, 0), (1, -1, 1))
    with pytest.raises(ValueError):
        Box((0, 0, 0), (1, 0, 1))


def test_load_mask_npy_and_nifti_message(tmp_path):
    m = np.zeros((4, 4, 4), np.uint8)
    m[1:3, 1:3, 1:3] = 1
    np.save(tmp_path / "m.npy", m)
    v = load_mask(tmp_path / "m.npy", spacing_mm=(2, 2, 2))
    assert v.volume_mm3 == 64.0
    try:
        import nibabel  # noqa: F401
    except ImportError:
        (tmp_path / "m.nii.gz").write_bytes(b"")
        with pytest.raises(ImportError, match="nibabel"):
            load_mask(tmp_path / "m.nii.gz")
    with pytest.raises(ValueError, match="unknown mask format"):
        load_mask(tmp_path / "m.txt")


@pytest.mark.parametrize(
    "domain",
    [Ellipsoid((0, 0, 0), (12, 9, 7)), Box((-5, -6, -4), (6, 5, 7))],
    ids=["ellipsoid", "box"],
)
def test_terminal_density_and_containment(domain):
    mass, rho = 1.0, 1.06
    pts, reg, m = place_terminals(domain, terminal_mass_mg=mass, tissue_density_g_cm3=rho, rng=3)
    expected = domain.volume_mm3 * rho / mass  # 1 g/cm^3 = 1 mg/mm^3
    assert abs(pts.shape[0] / expected - 1) < 0.05
    assert domain.contains(pts).all()
    np.testing.assert_array_equal(m, mass)
    assert np.all(reg == 0)


def test_voxel_mask_domain():
    # a sphere of radius 8 mm sampled on 0.5 mm voxels
    ax = np.arange(-20, 21) * 0.5
    x, y, z = np.meshgrid(ax, ax, ax, indexing="ij")
    mask = x**2 + y**2 + z**2 <= 64
    dom = VoxelMask(mask, origin_mm=(-10, -10, -10), spacing_mm=(0.5, 0.5, 0.5))
    pts, _, _ = place_terminals(dom, terminal_mass_mg=0.5, rng=1)
    assert abs(pts.shape[0] / (dom.volume_mm3 * 1.06 / 0.5) - 1) < 0.05
    assert dom.contains(pts).all()


def test_tumour_terminals():
    dom = Ellipsoid((0, 0, 0), (12, 10, 8))
    tum = [Tumour((4, 0, 0), 3.0, terminal_mass_mg=0.5, vascularity=4.0),
           Tumour((-5, 2, 0), (2, 3, 2))]
    pts, reg, m = place_terminals(dom, terminal_mass_mg=1.0, tumours=tum, rng=7)
    for k, t in enumerate(tum, start=1):
        sel = reg == k
        assert t.shape.contains(pts[sel]).all()
        n_exp = t.shape.volume_mm3 * 1.06 / (t.terminal_mass_mg or 1.0)
        assert abs(sel.sum() / n_exp - 1) < 0.1  # small tumours: boundary cells matter more
    normal = reg == 0
    assert not any(t.shape.contains(pts[normal]).any() for t in tum)
    np.testing.assert_array_equal(m[reg == 1], 0.5)


@pytest.fixture(scope="module")
def small_tree():
    return grow_tree(domain=Ellipsoid((0, 0, 0), (8, 6, 5)), root_xyz_mm=(-9, 0, 0),
                     root_radius_um=300.0, tumours=[Tumour((3, 0, 0), 2.5)], rng=11)


def test_binary_topology(small_tree):
    t = small_tree
    nchild = np.diff(t.child_start)
    assert set(np.unique(nchild).tolist()) == {0, 2}
    assert t.is_terminal.sum() == (t.n_segments + 1) // 2
    assert np.all(t.parent[1:] < np.arange(1, t.n_segments))
    # connectivity: a child starts where its parent ends
    np.testing.assert_array_equal(t.proximal_mm[1:], t.distal_mm[t.parent[1:]])
    # internal regions: a segment feeding only tumour 1 is marked 1
    feeders = np.flatnonzero((t.region == 1) & ~t.is_terminal)
    assert feeders.size > 0


@pytest.mark.parametrize("root", [(-9.0, 0.0, 0.0), (0.5, 0.3, -0.2)], ids=["hilum", "inside"])
def test_no_self_intersection(root):
    t = grow_tree(domain=Ellipsoid((0, 0, 0), (8, 6, 5)), root_xyz_mm=root, root_radius_um=300.0,
                  rng=5)
    assert t.n_segments > 2000
    # guaranteed > 0 by construction; 1e-6 mm guards against merely touching centerlines
    assert min_nonadjacent_distance(t) > 1e-6


def test_deterministic_for_a_seed(small_tree):
    again = grow_tree(domain=Ellipsoid((0, 0, 0), (8, 6, 5)), root_xyz_mm=(-9, 0, 0),
                      root_radius_um=300.0, tumours=[Tumour((3, 0, 0), 2.5)],
                      rng=np.random.default_rng(11))
    for name in ("parent", "radius_um", "proximal_mm", "distal_mm", "region", "terminal_mass_mg"):
        np.testing.assert_array_equal(getattr(again, name), getattr(small_tree, name))
    other = grow_tree(domain=Ellipsoid((0, 0, 0), (8, 6, 5)), root_xyz_mm=(-9, 0, 0),
                      root_radius_um=300.0, rng=12)
    assert other.n_segments != small_tree.n_segments or not np.array_equal(
        other.distal_mm, small_tree.distal_mm)


def test_growth_rejects_bad_input():
    dom = Ellipsoid((0, 0, 0), (3, 3, 3))
    with pytest.raises(ValueError, match="root_radius_um"):
        grow_tree(domain=dom, root_xyz_mm=(0, 0, 0), root_radius_um=0.0)
    with pytest.raises(ValueError, match="no terminal"):
        grow_tree(domain=dom, root_xyz_mm=(0, 0, 0), root_radius_um=10.0,
                  terminal_mass_mg=1e6)
    with pytest.raises(ValueError, match="vascularity"):
        Tumour((0, 0, 0), 1.0, vascularity=0.0)
