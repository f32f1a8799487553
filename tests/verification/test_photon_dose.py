"""Photons in the dose engines: the short/long split of the photon kernel is exact, and point,
grid and ball means with photons match direct sums of the complete kernel (charged particles
+ photons) near and far from the spheres, for Y-90 and Ho-166.

References computed here: the shipped charged-particle kernel and the smoothed photon kernel
(its Monte Carlo shells fitted within their statistical errors, checked below) summed source
by source (point mode), the brute-force voxel means of :mod:`dosimetry.grid_reference`
(exact near part + Gauss cubature of the long part, no FFT), and the ray formula for the
photon energy absorbed in a cube.
"""
import math

import numpy as np
import pytest

from dosimetry import crossfire as cf
from dosimetry import grid
from dosimetry.grid_reference import exact_voxel_dose
from dosimetry.kernels import load_kernel, load_photon_kernel
from dosimetry.lobule import dose_in_balls
from dosimetry.photons import (_long_kernel, absorbed_energy_per_decay_MeV, long_range_energy_MeV,
                               photon_energy_density, short_range_kernel, split_radii_mm)

MEV_J = 1.602176634e-13
RHO = 1.06


def photon_dose(nuclide, r):
    """Smoothed photon kernel D(r) = (dE/dr) / (4 pi r^2 rho) [Gy per decay]."""
    return photon_energy_density(nuclide, RHO, r) * MEV_J / (4 * math.pi * r**2 * RHO * 1e-6)


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_smoothed_photon_kernel_agrees_with_its_monte_carlo_shells(nuclide):
    """Shell energies of the smoothed dE/dr against the Monte Carlo tally: chi^2 per shell
    ~1 (within the statistical errors, no bias), same total energy."""
    p = load_photon_kernel(nuclide, density_g_cm3=1.0)
    x, w = np.polynomial.legendre.leggauss(8)
    a, b = p.r_inner_mm[:, None], p.r_outer_mm[:, None]
    r = 0.5 * (a + b) + 0.5 * (b - a) * x
    e = (photon_energy_density(nuclide, 1.0, r) * 0.5 * (b - a) * w).sum(axis=1)
    z = (e - p.energy_MeV_per_decay) / (p.energy_MeV_per_decay * p.rel_std_err)
    assert np.mean(z**2) < 1.5 and np.abs(z).max() < 4.0
    assert e.sum() == pytest.approx(p.energy_per_decay_MeV, rel=1e-6)
    # density scaling: rho dE/dr_w(rho r)
    assert photon_energy_density(nuclide, RHO, 10.0 / RHO) == pytest.approx(
        RHO * photon_energy_density(nuclide, 1.0, 10.0), rel=1e-12)


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_split_adds_up_to_the_complete_kernel(nuclide):
    c = load_kernel(nuclide, density_g_cm3=RHO)
    p = load_photon_kernel(nuclide, density_g_cm3=RHO)
    s = short_range_kernel(nuclide, RHO)
    long_k, _ = _long_kernel(nuclide, RHO)
    r1, r2 = split_radii_mm(nuclide, RHO)
    assert r2 == pytest.approx(c.range_mm) and r1 == pytest.approx(r2 / 2)
    # energy: short + long = charged + photons within the table
    total = c.energy_per_decay_MeV + p.energy_per_decay_MeV
    assert s.energy_per_decay_MeV + long_range_energy_MeV(nuclide, RHO) == pytest.approx(total,
                                                                                         rel=1e-8)
    assert absorbed_energy_per_decay_MeV(nuclide, RHO) == pytest.approx(total, rel=1e-8)
    # dose per decay at r: short (shell-averaged near share) + long = charged + photon
    r = np.array([0.3, 1.0, 3.0, 0.75 * r2, 1.2 * r2, 30.0, 100.0, 300.0])
    got = s.dose_per_decay_Gy(r) + long_k(r)
    want = c.dose_per_decay_Gy(r) + photon_dose(nuclide, r)
    assert np.allclose(got, want, rtol=0.01)


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_point_mode_with_photons_equals_the_complete_kernel_sum(nuclide):
    """A cluster and a few scattered spheres; points from 0.2 mm to 150 mm: point mode (exact
    short part + FFT long part) vs the direct sum of the two shipped kernels."""
    rng = np.random.default_rng(5)
    src = np.concatenate([rng.normal(0, 0.05, (30, 3)), rng.uniform(-20, 20, (20, 3))])
    act = rng.uniform(50, 2500, len(src))
    u = rng.normal(size=(200, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    pts = u * np.geomspace(0.2, 150.0, 200)[:, None]
    got = cf.dose_at_points(pts, src, act, nuclide=nuclide, density_g_cm3=RHO)
    c = load_kernel(nuclide, density_g_cm3=RHO)
    dec = cf.decays_complete(act, nuclide)
    r = np.linalg.norm(pts[:, None, :] - src[None], axis=2)
    want = ((c.dose_per_decay_Gy(r) + photon_dose(nuclide, r)) * dec).sum(axis=1)
    err = np.abs(got / want - 1)
    assert err.max() < 0.01, err.max()
    # beyond every beta range only photons remain, and they are there
    far = np.min(r, axis=1) > c.range_mm + 1
    assert far.sum() > 50 and np.all(got[far] > 0)


def _cluster(rng, n, centre):
    return np.asarray(centre) + rng.normal(0, 0.05, (n, 3))


@pytest.mark.parametrize("h, shape", [(0.25, (100, 20, 20)), (4.42, (30, 30, 30))])
def test_grid_mode_with_photons_equals_the_exact_voxel_means(h, shape):
    """Voxel means with photons (fine voxels from a cluster to 25 mm away; clinical 4.42 mm
    voxels over ~130 mm) against the brute-force reference: every voxel above 1e-6 of the
    maximum within 2 %, 99 % within 1 %; never negative."""
    rng = np.random.default_rng(11)
    centre = np.array([min(3.0, shape[0] * h / 2), shape[1] * h / 2, shape[2] * h / 2])
    src = np.concatenate([_cluster(rng, 25, centre), centre + rng.uniform(-3, 3, (15, 3)) * h])
    act = rng.uniform(50, 2500, len(src))
    d = grid.dose_on_grid(src, act, origin_mm=np.zeros(3), spacing_mm=h, shape=shape,
                          density_g_cm3=RHO)
    assert d.min() >= 0.0
    vox = np.unique(np.concatenate([rng.integers(0, shape, (700, 3)),
                                    np.floor(src / h + 0.5).astype(int)]), axis=0)
    vox = vox[np.all((vox >= 0) & (vox < np.array(shape)), axis=1)]
    ex = exact_voxel_dose(src, act, vox, origin_mm=np.zeros(3), spacing_mm=h, density_g_cm3=RHO)
    got = d[vox[:, 0], vox[:, 1], vox[:, 2]]
    # voxels that only photons reach (beyond every beta range) count whatever their dose
    r = np.linalg.norm(vox[:, None, :] * h - src[None], axis=2).min(axis=1)
    photon_only = r > load_kernel("Y-90", density_g_cm3=RHO).range_mm + max(2 * h, 1.0)
    keep = (ex > 1e-6 * ex.max()) | photon_only
    err = np.abs(got[keep] / ex[keep] - 1)
    assert err.max() < 0.02 and np.percentile(err, 99) < 0.01, (err.max(), np.percentile(err, 99))
    assert np.count_nonzero(photon_only) > 50


def test_photon_energy_in_a_large_cube():
    """One sphere at the centre of a 200 mm cube of 5 mm voxels: the energy on the grid is the
    short kernel's plus the long part's energy within the cube, by the ray formula
    (1/4 pi) int dOmega E_long(t_exit(Omega))."""
    h, n = 5.0, 40
    p = np.full(3, n * h / 2) + 0.3
    d = grid.dose_on_grid([p], 1.0, origin_mm=np.full(3, h / 2), spacing_mm=h, shape=(n, n, n),
                          density_g_cm3=RHO)
    got = d.sum() * RHO * 1e-6 * h**3 / (cf.decays_complete(1.0) * MEV_J)
    r1, r2 = split_radii_mm("Y-90", RHO)
    e_short = short_range_kernel("Y-90", RHO).energy_per_decay_MeV
    # long part's cumulative energy: photon energy weighted by the split step
    rr = np.linspace(0, 400, 40001)
    from dosimetry.longrange import split_weight

    dens = photon_energy_density("Y-90", RHO, rr) * split_weight(rr, r1, r2)
    cum = np.concatenate([[0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(rr))])
    u = np.random.default_rng(2).normal(size=(200000, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    lo, hi = np.zeros(3) - p, np.full(3, n * h) - p
    with np.errstate(divide="ignore"):
        t = np.min(np.where(u > 0, hi / u, lo / u), axis=1)
    e_long = np.interp(t, rr, cum).mean()
    assert got == pytest.approx(e_short + e_long, rel=0.01)
    # and the photons carry energy out of the cube: less than the complete kernel's
    assert got < absorbed_energy_per_decay_MeV("Y-90", RHO)


def test_ball_mean_of_the_long_part_is_its_centre_value():
    """The lobule dose takes the long part at the ball's centre: over a classic-lobule ball its
    mean (Monte Carlo over the ball) differs by < 1e-3 of the ball's total dose, at distances
    from the ramp start to far away."""
    long_k, _ = _long_kernel("Y-90", RHO)
    r1, r2 = split_radii_mm("Y-90", RHO)
    a = 0.7646
    rng = np.random.default_rng(4)
    v = rng.normal(size=(200000, 3))
    v *= (a * rng.uniform(0, 1, 200000) ** (1 / 3) / np.linalg.norm(v, axis=1))[:, None]
    for s in (r1 + 0.5, 0.5 * (r1 + r2), r2, 20.0):
        centre = long_k(np.array([s]))[0]
        mean = long_k(np.linalg.norm(v + [s, 0, 0], axis=1)).mean()
        total = dose_in_balls([[s, 0, 0]], [[0.0, 0, 0]], 1.0, density_g_cm3=RHO)[0] / \
            cf.decays_complete(1.0)
        assert abs(mean - centre) < 1e-3 * total, (s, mean, centre, total)


def test_photon_share_of_the_emitted_energy():
    # docs/kernels.md bookkeeping per decay: Y-90 bremsstrahlung 0.004196 + lines 0.000001 of
    # 0.933108 MeV; Ho-166 bremsstrahlung 0.002291 + lines 0.030074 of 0.726412 MeV
    from dosimetry.photons import photon_emitted_fraction

    assert photon_emitted_fraction("Y-90") == pytest.approx(0.004197 / 0.933108, rel=1e-3)
    assert photon_emitted_fraction("Ho-166") == pytest.approx(0.032365 / 0.726412, rel=1e-3)
