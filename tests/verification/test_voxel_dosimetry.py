"""Clinical voxel dosimetry against analytic expectations: LDM on a uniform map gives K A / M,
voxel-S convolution deep inside a uniform map gives the kernel's absorbed energy per decay
times the decays per mass, and the truth averaged onto clinical voxels keeps the mean."""
import math

import numpy as np
import pytest

from dosimetry.kernels import load_kernel
from sim.clinical.voxel_dosimetry import (activity_at_implant_Bq, ldm_dose_Gy, truth_on_grid,
                                          vsv_dose_Gy, vsv_extent)
from sim.imaging import ImageGrid

J_PER_MEV = 1.602176634e-13


def test_ldm_on_a_uniform_map_is_k_a_over_m():
    """K = 1e9 T1/2/ln2 E_mean J/MeV per GBq and kg: ICRP-107 Y-90, T1/2 64.1 h, mean beta
    energy 0.93290 MeV -> 49.76 Gy kg/GBq; 1 GBq in 1 kg gives K Gy."""
    k = 1e9 * 64.1 * 3600.0 / math.log(2.0) * 0.93290 * J_PER_MEV
    voxel = 4.0
    rho = 1.06
    n = 25
    m_kg = rho * voxel ** 3 * 1e-6 * n ** 3
    act = np.full((n, n, n), 1e9 / n ** 3)  # 1 GBq spread uniformly
    d = ldm_dose_Gy(act, voxel, dose_constant_Gy_kg_per_GBq=k, density_g_cm3=rho)
    assert np.allclose(d, k * 1.0 / m_kg, rtol=1e-12)
    assert k == pytest.approx(49.76, abs=0.01)


def test_vsv_deep_in_a_uniform_map_gives_the_absorbed_energy():
    """Electron-only voxel S values: inside a uniform region wider than the beta range every
    voxel receives A tau E_abs / m, E_abs the kernel's absorbed energy per decay."""
    voxel, rho, n = 4.0, 1.06, 15
    a_vox = 1e6  # Bq per voxel at the implant
    act = np.full((n, n, n), a_vox)
    d = vsv_dose_Gy(act, voxel, nuclide="Y-90", density_g_cm3=rho, photons=False)
    kern = load_kernel("Y-90", density_g_cm3=rho)
    tau = 64.1 * 3600.0 / math.log(2.0)
    m = rho * voxel ** 3 * 1e-6
    expected = a_vox * tau * kern.energy_per_decay_MeV * J_PER_MEV / m
    c = n // 2
    assert d[c, c, c] == pytest.approx(expected, rel=2e-3)
    # a voxel on a face keeps its self-dose and at least half of the cross-fire (the other
    # half-space is empty): between half and all of the interior dose
    assert 0.5 * expected < d[0, c, c] < expected


def test_vsv_extent_covers_the_beta_range():
    assert vsv_extent(4.0, 1.06) * 4.0 > 11.3 / 1.06 + 4.0 - 1e-9


def test_truth_on_grid_keeps_uniform_and_linear_doses():
    """A fine dose averaged over clinical voxels that it tiles: uniform stays uniform, a
    linear gradient gives its value at each clinical voxel's centre."""
    h, v = 0.25, 4.0
    fine_shape = (64, 48, 32)
    fine_origin = np.array([h / 2, h / 2, h / 2])
    x = fine_origin[0] + h * np.arange(fine_shape[0])
    lin = np.broadcast_to((2.0 + 0.5 * x)[:, None, None], fine_shape)
    grid = ImageGrid(np.full(3, v / 2), v, (4, 3, 2))  # tiled by 16^3 fine voxels each
    out = truth_on_grid(lin, fine_origin, h, grid)
    xc = grid.origin_mm[0] + v * np.arange(4)
    assert np.allclose(out, (2.0 + 0.5 * xc)[:, None, None], rtol=1e-12)
    # a clinical grid one voxel larger on every side: the outer voxels are not covered
    big = ImageGrid(grid.origin_mm - v, v, (6, 5, 4))
    out = truth_on_grid(np.ones(fine_shape), fine_origin, h, big)
    assert np.allclose(out[1:-1, 1:-1, 1:-1], 1.0) and out[0].max() == 0.0


def test_decay_correction_to_the_implant():
    assert activity_at_implant_Bq(1.0, 64.1, 64.1) == pytest.approx(2.0)
