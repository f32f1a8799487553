"""Compartments on the dose grid are the tissue: geometry with voxel fractions, the treated
territory of the injection, the untreated liver around it, escape = energy leaving the liver."""
import numpy as np
import pytest

from dosimetry.kernels import load_kernel
from dosimetry.photons import absorbed_energy_per_decay_MeV
from sim.dose import compute_dose
from sim.dose.compartments import (NORMAL, OUTSIDE, UNTREATED, compartments_on_grid,
                                   grid_for_tree)
from sim.transport import TransportParams, transport_spheres
from sim.tree import Ellipsoid, Tumour, grow_tree
from sim.tree.tissue import TissueGeometry

DOMAIN = Ellipsoid((0, 0, 0), (9.0, 7.0, 6.0))
TUMOURS = [Tumour((2.0, 1.0, 0), 3.0, vascularity=3.0), Tumour((-4.0, -2.0, 1.0), 1.8)]
GEOMETRY = TissueGeometry.of(DOMAIN, TUMOURS, 1.06)


@pytest.fixture(scope="module")
def tree():
    return grow_tree(domain=DOMAIN, root_xyz_mm=(-11, 0, 0), root_radius_um=400.0,
                     tumours=TUMOURS, rng=11)


def _exact_masses_mg():
    # ellipsoid and spheres wholly inside it, not overlapping: exact volumes
    vt = [4 / 3 * np.pi * 3.0**3, 4 / 3 * np.pi * 1.8**3]
    vd = 4 / 3 * np.pi * 9 * 7 * 6
    return np.array([vd - sum(vt)] + vt) * 1.06


@pytest.mark.parametrize("h", [0.25, 0.5, 1.0])
def test_masses_on_the_grid_are_the_geometry_and_the_tree(tree, h):
    exact = _exact_masses_mg()
    o, sp, sh = grid_for_tree(tree, h, geometry=GEOMETRY)
    c = compartments_on_grid(GEOMETRY, tree, 0, o, sp, sh, 1.06)
    for k, m in enumerate(exact):
        grid_mg = c.mass_kg(k) * 1e6
        tree_mg = tree.terminal_mass_mg[tree.is_terminal & (tree.region == k)].sum()
        assert tree_mg == pytest.approx(m, rel=1e-9)  # terminal masses are the geometry's
        # boundary voxels sampled on a 4^3 sub-grid: the error falls with the voxel size
        assert grid_mg == pytest.approx(m, rel=2e-3 * max(h / 0.25, 1) ** 2), (k, h)
    # every boundary voxel's fractions add up to one
    assert np.allclose(c.mixed_fraction.sum(axis=1), 1.0, atol=1e-6)
    assert c.mass_kg(UNTREATED) == 0.0  # an injection at the root treats the whole liver


def test_segmental_territory_and_untreated_liver(tree):
    seg = int(np.flatnonzero((tree.depth == 2) & ~tree.is_terminal)[0])
    sub = tree.subtree(seg)
    o, sp, sh = grid_for_tree(tree, 0.25, geometry=GEOMETRY)
    c = compartments_on_grid(GEOMETRY, tree, seg, o, sp, sh, 1.06)
    treated = sum(c.mass_kg(k) for k in (NORMAL, 1, 2)) * 1e6
    untreated = c.mass_kg(UNTREATED) * 1e6
    # the territory (points nearest to the subtree's portal tracts) holds the subtree's mass
    # to within its boundary cells; treated + untreated = the whole liver
    assert treated == pytest.approx(tree.terminal_mass_mg[sub].sum(), rel=0.03)
    assert treated + untreated == pytest.approx(_exact_masses_mg().sum(), rel=2e-3)
    assert 0.1 < treated / (treated + untreated) < 0.9


#: Share of the absorbed energy per decay that photons carry (Y-90 in liver), from the kernels.
PHOTON_SHARE = 1.0 - (load_kernel("Y-90", density_g_cm3=1.06).energy_per_decay_MeV
                      / absorbed_energy_per_decay_MeV("Y-90", 1.06))


def test_untreated_liver_receives_cross_fire_and_escape_leaves_the_liver(tree):
    seg = int(np.flatnonzero((tree.depth == 2) & ~tree.is_terminal)[0])
    dep = transport_spheres(tree, np.full(20_000, 25.0), 2500.0, injection=seg,
                            params=TransportParams(embolic="none"), rng=2)
    liver = dep.fate == 0
    res = compute_dose(tree, dep.position_mm[liver], dep.activity_Bq[liver], spacing_mm=0.5,
                       margin_mm=12.0, geometry=GEOMETRY, injection_segment=seg)
    m = res.metrics
    assert 0 < m["untreated"]["mean_Gy"] < 0.5 * m["normal"]["mean_Gy"]
    # all energy on the grid: emitted = deposited in every compartment + off the liver
    for src, row in res.energy.items():
        deposited = sum(v for k, v in row.items() if isinstance(k, int) and k != OUTSIDE)
        assert deposited + row["off_liver"] == pytest.approx(row["emitted_J"], rel=3e-3), src
        # the betas stay on the grid (12 mm margin); photons leave it: at most their share
        assert -3e-3 * row["emitted_J"] < row["beyond_grid"] <= PHOTON_SHARE * row["emitted_J"]
    e = res.planning["explanation_by_region"]["normal"]
    # crossing out of the treated normal liver includes what the untreated liver receives
    assert e["crossing_out_Gy"] < 0 and e["escape_Gy"] < 0
    total = e["partition_kernel_K_Gy"] + e["escape_Gy"] + e["crossing_out_Gy"] + e["crossing_in_Gy"]
    assert total == pytest.approx(e["simulated_mean_Gy"], rel=3e-3)
