"""Point-mode cross-fire dose against the kernel, linearity, additivity and energy closure."""
from functools import partial
import math

import numpy as np
import pytest

from numba import njit

from dosimetry import _crossfire_kernels as ck
from dosimetry import crossfire as cf
from dosimetry.kernels import load_kernel

MEV_J = 1.602176634e-13
TAU_Y90_S = 64.1 * 3600 / math.log(2)
# point mode against the charged-particle kernel in soft tissue (photons: test_photon_dose.py)
point_dose = partial(cf.dose_at_points, photons=False, density_g_cm3=1.04)


@njit(cache=True)
def _direct_sum(points, src_xyz, src_decays, g, inv_h, d_near, r_cut, out):
    r_cut2 = r_cut * r_cut
    for p in range(points.shape[0]):
        acc = 0.0
        for j in range(src_xyz.shape[0]):
            ex = src_xyz[j, 0] - points[p, 0]
            ey = src_xyz[j, 1] - points[p, 1]
            ez = src_xyz[j, 2] - points[p, 2]
            acc += src_decays[j] * ck.kernel_value(ex * ex + ey * ey + ez * ez, g, inv_h,
                                                   d_near, r_cut2)
        out[p] = acc


def dose_at_points_direct(points_mm, sphere_xyz_mm, sphere_activity_Bq):
    """The same sum as point mode by a plain O(P N) double loop (no cell list)."""
    pts = cf.as_points_mm(points_mm, "points_mm")
    xyz, decays = cf.sphere_decays(sphere_xyz_mm, sphere_activity_Bq, "Y-90")
    tab = cf.radial_table("Y-90", 1.04, photons=False)
    out = np.zeros(pts.shape[0])
    _direct_sum(pts, xyz, decays, tab.g, 1.0 / tab.h_mm, tab.d_near, tab.r_cut_mm, out)
    return out


def test_single_sphere_reproduces_the_kernel():
    k = load_kernel("Y-90", density_g_cm3=1.04)
    r = np.array([0.02, 0.05, 0.3, 1.0, 2.5, 5.0, 9.0])
    pts = np.c_[r, np.zeros_like(r), np.zeros_like(r)] + 3.0
    d = point_dose(pts, [[3.0, 3.0, 3.0]], 1e5)
    # the point kernel D = (dE/dr) / (4 pi r^2 rho), uncapped near the source
    point = k.energy_density_MeV_per_mm(r) * MEV_J / (4 * math.pi * r**2 * 1.04e-6)
    expected = 1e5 * TAU_Y90_S * point
    assert np.allclose(d, expected, rtol=2e-3)  # 1 um table with linear interpolation of r^2 D
    # zero beyond the range
    far = point_dose([[3.0 + 13.0, 3.0, 3.0]], [[3.0, 3.0, 3.0]], 1e5)
    assert far[0] == 0.0


def test_linearity_and_additivity():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 4, (300, 3))
    act = rng.uniform(10, 3000, 300)
    pts = rng.uniform(0, 4, (200, 3))
    d = point_dose(pts, src, act)
    assert np.allclose(point_dose(pts, src, 3.0 * act), 3.0 * d, rtol=1e-12)
    parts = point_dose(pts, src[:120], act[:120]) + point_dose(pts, src[120:], act[120:])
    assert np.allclose(parts, d, rtol=1e-12)
    # the cell list examines a subset of pairs but finds the same sum as the plain double loop
    assert np.allclose(dose_at_points_direct(pts, src, act), d, rtol=1e-12)


def test_cell_list_matches_direct_sum_over_a_large_box():
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 40, (3000, 3))
    pts = rng.uniform(0, 40, (300, 3))
    d, pairs = point_dose(pts, src, 2500.0, return_pairs=True)
    assert pairs < 300 * 3000  # cells far away were skipped
    assert np.allclose(dose_at_points_direct(pts, src, 2500.0), d, rtol=1e-12)


def test_lattice_of_glass_spheres_gives_K_A_over_M():
    """One 2,500 Bq sphere per 1 mg of tissue (1.04 g/cm^3): the mean dose over a unit cell is
    the energy of its sphere over its mass, K A / M ~ 120 Gy (Walrand et al., J Nucl Med 2014;55:135).

    The unit-cell mean is taken on a regular grid of points in one octant of the cell (the
    lattice is symmetric), which samples the integrable 1/r^2 peak at each sphere with a
    midpoint rule: the energy within ~h/2 of a sphere is sampled coarsely, a bias below ~0.5 %
    for h = 25 um.
    """
    rho = 1.04
    a = (1.0 / rho) ** (1 / 3)  # lattice constant [mm]: one sphere per 1 mg
    tab = cf.radial_table("Y-90", rho)
    n = int(math.ceil(tab.r_cut_mm / a)) + 2
    ijk = np.arange(-n, n + 1) * a
    lat = np.stack(np.meshgrid(ijk, ijk, ijk, indexing="ij"), -1).reshape(-1, 3)
    m = 20
    u = (np.arange(m) + 0.5) / m * (a / 2)
    pts = np.stack(np.meshgrid(u, u, u, indexing="ij"), -1).reshape(-1, 3)
    d = point_dose(pts, lat, 2500.0, density_g_cm3=rho)
    expected = 2500.0 * TAU_Y90_S * tab.energy_per_decay_MeV * MEV_J / 1e-6  # Gy in 1 mg
    assert d.mean() == pytest.approx(expected, rel=0.01)
    assert 115 < expected < 125


def test_dose_rate_integrates_to_one():
    t = np.linspace(0, 64.1 * 40, 400001)
    assert np.trapezoid(cf.dose_rate_fraction_per_h(t), t) == pytest.approx(1.0, rel=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="points_mm"):
        point_dose(np.zeros((3, 2)), np.zeros((1, 3)), 1.0)
    with pytest.raises(ValueError, match="sphere_activity_Bq"):
        point_dose(np.zeros((3, 3)), np.zeros((1, 3)), -1.0)
