"""Lobule-level (ball-average) dose: exact limits of the ball kernel."""
from functools import partial
import math

import numpy as np
import pytest

from dosimetry.crossfire import decays_complete, radial_table
from dosimetry.kernels import load_kernel
from dosimetry.lobule import LOBULE_BALL_RADIUS_MM, LOBULE_VOLUME_MM3, dose_in_balls

MEV_J = 1.602176634e-13
# ball means against the charged-particle kernel in soft tissue (photons: test_photon_dose.py)
ball_dose = partial(dose_in_balls, photons=False, density_g_cm3=1.04)


def test_lobule_volume():
    # classic lobule: hexagonal prism, apothem 0.6 mm, height 1.5 mm (Gulec 2010): ~1.9 mm^3
    assert LOBULE_VOLUME_MM3 == pytest.approx(1.87, abs=0.01)
    assert 4 / 3 * math.pi * LOBULE_BALL_RADIUS_MM**3 == pytest.approx(LOBULE_VOLUME_MM3)


@pytest.mark.parametrize("R", [0.5, 2.0])
def test_source_at_the_centre_gives_energy_within_R(R):
    k = load_kernel("Y-90", density_g_cm3=1.04)
    d = ball_dose([[0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]], 1e3, radius_mm=R)
    mass_kg = 1.04e-6 * 4 / 3 * math.pi * R**3
    expected = decays_complete(1e3) * k.energy_within_MeV(R) * MEV_J / mass_kg
    assert d[0] == pytest.approx(expected, rel=2e-3)


def test_far_source_matches_the_point_kernel():
    # far from the ball the kernel is nearly linear across it: ball mean ~ point value
    tab = radial_table("Y-90", 1.04, photons=False)
    s = 4.0
    d = ball_dose([[0.0, 0.0, 0.0]], [[s, 0.0, 0.0]], 1e3, radius_mm=0.2)
    assert d[0] == pytest.approx(decays_complete(1e3) * tab.dose_per_decay_Gy(s), rel=5e-3)


def test_energy_closure_over_a_lattice_of_balls():
    """Balls tiling the whole range of one source (a fine cubic lattice of centres, each ball
    of the lattice cell's volume) collect all absorbed energy: sum(dose x ball mass) = energy."""
    a = 0.5
    R = (3 * a**3 / (4 * math.pi)) ** (1 / 3)
    ax = np.arange(-13.0, 13.0 + 1e-9, a)
    c = np.stack(np.meshgrid(ax, ax, ax, indexing="ij"), -1).reshape(-1, 3)
    src = np.array([[0.123, -0.2, 0.07]])
    d = ball_dose(c, src, 1.0, radius_mm=R)
    k = load_kernel("Y-90", density_g_cm3=1.04)
    mass = 1.04e-6 * a**3  # ball mass = cell mass
    total = np.sum(d) * mass
    assert total == pytest.approx(decays_complete(1.0) * k.energy_per_decay_MeV * MEV_J, rel=5e-3)


def test_split_method_equals_the_exact_sum_on_a_clustered_field():
    """The near/far split (exact near part, FFT far part) against the plain cell-list sum of
    the ball kernel, on clusters of 30 touching spheres plus a dense background: the hard case
    for any grid method (a cluster next to a lobule)."""
    rng = np.random.default_rng(3)
    c = rng.uniform(0, 30, (300, 3))
    src = (c[:, None, :] + rng.normal(0, 0.05, (300, 30, 3))).reshape(-1, 3)
    src = np.concatenate([src, rng.uniform(0, 30, (20000, 3))])
    centres = np.concatenate([rng.uniform(3, 27, (2000, 3)), c[:200] + 0.4])
    exact = ball_dose(centres, src, 2500.0, method="exact", density_g_cm3=1.06)
    split = ball_dose(centres, src, 2500.0, method="split", density_g_cm3=1.06)
    err = np.abs(split / exact - 1)
    assert err.max() < 1e-3
    # auto picks the exact sum on a case this small
    assert np.array_equal(ball_dose(centres, src, 2500.0, density_g_cm3=1.06), exact)
