"""Voxel S values: Lanconelli 2012 source-voxel fraction, energy sums, independent MC check."""
import math

import numpy as np
import pytest

from dosimetry.constants import J_PER_MEV
from dosimetry.kernels import load_kernel
from dosimetry.voxel_s import mirror_octant, voxel_energy_fractions, voxel_s_values


@pytest.fixture(scope="module")
def y90_tissue():
    return load_kernel("Y-90", density_g_cm3=1.04)


def test_lanconelli_source_voxel_fraction(y90_tissue):
    # Lanconelli et al. 2012 (soft tissue 1.04 g/cm^3, 4.42 mm voxels): ~0.41 of the Y-90 beta
    # energy stays in the source voxel
    frac = voxel_energy_fractions(y90_tissue, 4.42, 1)
    assert frac[0, 0, 0] == pytest.approx(0.41, abs=0.02)


@pytest.mark.parametrize("voxel, n", [(4.42, 5), (2.0, 6), ((4.42, 4.42, 2.0), 6), ((3.0, 4.0, 5.0), 4)])
def test_s_values_sum_to_energy_per_decay(y90_tissue, voxel, n):
    s = voxel_s_values("Y-90", voxel, density_g_cm3=1.04, n=n)
    size = np.broadcast_to(np.asarray(voxel, float), (3,))
    mass_kg = np.prod(size) * 1.04e-6
    total_MeV = mirror_octant(s).sum() * 1e-9 * mass_kg / J_PER_MEV
    assert total_MeV == pytest.approx(y90_tissue.energy_per_decay_MeV, rel=1e-3)


def test_symmetry_and_units(y90_tissue):
    s = voxel_s_values("Y-90", 4.42, density_g_cm3=1.04, n=3)
    assert s.shape == (4, 4, 4)
    np.testing.assert_array_equal(s, np.transpose(s, (1, 0, 2)))
    np.testing.assert_array_equal(s, np.transpose(s, (2, 1, 0)))
    frac = voxel_energy_fractions(y90_tissue, 4.42, 3, quad_points=16)
    mass = 4.42**3 * 1.04e-6
    assert s[0, 0, 0] == pytest.approx(frac[0, 0, 0] * y90_tissue.energy_per_decay_MeV * J_PER_MEV / mass * 1e9,
                                       rel=1e-12)
    a = voxel_s_values("Y-90", (4.42, 4.42, 2.0), density_g_cm3=1.04, n=2)
    np.testing.assert_allclose(a, np.transpose(a, (1, 0, 2)), rtol=1e-12)
    full = mirror_octant(s)
    assert full.shape == (7, 7, 7) and full[3, 3, 3] == s[0, 0, 0] and full[0, 3, 3] == s[3, 0, 0]
    assert np.all(np.diff(s[0, 0, :]) < 0)


@pytest.mark.parametrize("target", [(0, 0, 2), (0, 1, 1), (1, 1, 1)])
def test_against_monte_carlo_quadrature(y90_tissue, target):
    # independent estimate: E_T = V * E[g(|y - x|) / (4 pi |y - x|^2)], x ~ U(source), y ~ U(target)
    L = 4.42
    rng = np.random.default_rng(2024)
    m = 400_000
    x = rng.random((m, 3)) * L
    y = (rng.random((m, 3)) + np.array(target)) * L
    r = np.linalg.norm(y - x, axis=1)
    vals = y90_tissue.energy_density_MeV_per_mm(r) / (4 * math.pi * r**2) * L**3
    est, err = vals.mean(), vals.std(ddof=1) / math.sqrt(m)
    quad = voxel_energy_fractions(y90_tissue, L, 2)[target] * y90_tissue.energy_per_decay_MeV
    assert abs(quad - est) < 4 * err
    assert err / est < 0.01


def test_small_voxels_approach_point_kernel(y90_tissue):
    # 0.2 mm voxels: the voxel-averaged dose at 2 mm equals the point kernel there
    L, k = 0.2, 10
    frac = voxel_energy_fractions(y90_tissue, L, k)[0, 0, k]
    dose = frac * y90_tissue.energy_per_decay_MeV * J_PER_MEV / (L**3 * 1.04e-6)
    assert dose == pytest.approx(float(y90_tissue.dose_per_decay_Gy(k * L)), rel=2e-3)


def test_bad_input(y90_tissue):
    with pytest.raises(ValueError):
        voxel_energy_fractions(y90_tissue, -1.0)
    with pytest.raises(ValueError):
        voxel_energy_fractions(y90_tissue, 1.0, n=-1)
