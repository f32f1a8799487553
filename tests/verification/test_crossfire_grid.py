"""Grid-mode cross-fire dose: exact voxel means near spheres, agreement with point mode, energy
closure, K A / M for a uniform lattice, linearity, tiling and the two-level scheme.

Reference values come from physics computed independently here: the ray formula for a voxel mean
(mean over directions of E(t_exit) - E(t_entry), with the kernel's E(r)), point-mode doses
averaged over each voxel with a 6^3 Gauss rule, and the absorbed energy per decay.
"""
from functools import partial
import math

import numpy as np
import pytest

from dosimetry import crossfire as cf
from dosimetry import grid
from dosimetry._grid_kernels import sort_by_voxel
from dosimetry.crossfire import sphere_decays
from dosimetry.grid import SINGLE_REL_TOL
from dosimetry.grid_fft import moment_level, single_error_estimate
from dosimetry.grid_kernel import grid_kernel
from dosimetry.kernels import load_kernel

MEV_J = 1.602176634e-13
TAU_Y90_S = 64.1 * 3600 / math.log(2)
RHO = 1.04

# the engines against the charged-particle kernel (photons: test_photon_dose.py)
grid_dose = partial(grid.dose_on_grid, photons=False, density_g_cm3=RHO)
point_dose = partial(cf.dose_at_points, photons=False, density_g_cm3=RHO)
voxel_mean = partial(grid.voxel_mean_dose_from_point, photons=False, density_g_cm3=RHO)


def ray_voxel_mean(p, lo, hi, n=500, rho=RHO):
    """Mean dose per decay over the box [lo, hi] from a point p [Gy], by rays.

    int_box D dV = (1 / 4 pi rho) int dOmega [E(t_out) - E(t_in)]; directions on the six faces
    of a cube around p (gnomonic grid, n x n midpoints per face, dOmega = ds dt / (1+s^2+t^2)^1.5).
    """
    k = load_kernel("Y-90", density_g_cm3=rho)
    p, lo, hi = (np.asarray(v, dtype=float) for v in (p, lo, hi))
    s = (np.arange(n) + 0.5) / n * 2 - 1
    ss, tt = (a.ravel() for a in np.meshgrid(s, s, indexing="ij"))
    domega = (2.0 / n) ** 2 / (1 + ss**2 + tt**2) ** 1.5
    total = 0.0
    for ax in range(3):
        for sign in (-1.0, 1.0):
            u = np.empty((ss.size, 3))
            u[:, ax], u[:, (ax + 1) % 3], u[:, (ax + 2) % 3] = sign, ss, tt
            u /= np.linalg.norm(u, axis=1)[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                t1, t2 = (lo - p) / u, (hi - p) / u
            t_in = np.maximum(np.nanmax(np.minimum(t1, t2), axis=1), 0.0)
            t_out = np.nanmin(np.maximum(t1, t2), axis=1)
            ok = t_out > t_in
            de = np.zeros(ss.size)
            de[ok] = k.energy_within_MeV(t_out[ok]) - k.energy_within_MeV(t_in[ok])
            total += np.sum(de * domega)
    vol_mm3 = float(np.prod(hi - lo))
    return total / (4 * math.pi) * MEV_J / (rho * 1e-6 * vol_mm3)


def point_mode_voxel_mean(src, act, centres, h, q=6):
    """Point-mode dose averaged over voxels with a q^3 Gauss-Legendre rule [Gy]."""
    x, w = np.polynomial.legendre.leggauss(q)
    grid = np.stack(np.meshgrid(x, x, x, indexing="ij"), -1).reshape(-1, 3) * 0.5 * np.asarray(h)
    wts = (w[:, None, None] * w[None, :, None] * w[None, None, :]).ravel() / 8.0
    pts = (np.asarray(centres)[:, None, :] + grid[None]).reshape(-1, 3)
    d = point_dose(pts, src, act, density_g_cm3=RHO)
    return (d.reshape(len(centres), -1) * wts).sum(axis=1)


def test_face_formula_matches_ray_formula():
    """The divergence-theorem voxel mean equals the ray formula, inside and outside the box."""
    h = np.array([0.1, 0.1, 0.1])
    cases = [((0.0, 0.0, 0.0), (-0.05, -0.05, -0.05)),       # point at the centre
             ((0.049, 0.01, -0.03), (-0.05, -0.05, -0.05)),  # near a face, inside
             ((0.049, 0.01, -0.03), (0.05, -0.05, -0.05)),   # face neighbour
             ((0.0, 0.0, 0.0), (0.25, 0.05, -0.05))]         # two voxels away
    for p, lo in cases:
        lo = np.array(lo)
        got = voxel_mean(p, lo, lo + h, density_g_cm3=RHO)
        assert got == pytest.approx(ray_voxel_mean(p, lo, lo + h), rel=2e-4)
    # anisotropic box
    lo, hi = np.array([-0.02, -0.1, -0.3]), np.array([0.03, 0.1, 0.2])
    got = voxel_mean((0.01, 0.02, -0.05), lo, hi, density_g_cm3=RHO)
    assert got == pytest.approx(ray_voxel_mean((0.01, 0.02, -0.05), lo, hi), rel=2e-4)


@pytest.mark.parametrize("spacing", [(0.1, 0.1, 0.1), (0.1, 0.15, 0.2)])
def test_near_table_averages_to_voxel_s_values(spacing):
    """Averaged over the source position, the near-field table (point source -> voxel mean)
    gives the voxel S values of a uniform source voxel, computed independently in
    :mod:`dosimetry.voxel_s` (Duffy quadrature of the kernel against the box autocorrelation).
    The average uses the trapezoid rule on the table's graded nodes (octant x 8 reflections),
    whose error near the d ln d face singularity is ~0.3 % for the source voxel itself."""
    from dosimetry.voxel_s import voxel_s_values

    g = grid.grid_kernel("Y-90", RHO, tuple(float(v) for v in spacing), 2, None)
    x = g.near_nodes
    w = np.zeros_like(x)
    w[:-1] += np.diff(x) / 2
    w[1:] += np.diff(x) / 2
    w /= w.sum()
    wts = w[:, None, None] * w[None, :, None] * w[None, None, :]
    s_avg = np.zeros((3, 3, 3))
    for i, j, k in np.ndindex(3, 3, 3):
        for sx, sy, sz in np.ndindex(2, 2, 2):
            o = (2 + (1 - 2 * sx) * i, 2 + (1 - 2 * sy) * j, 2 + (1 - 2 * sz) * k)
            s_avg[i, j, k] += np.sum(wts * g.near[:, :, :, o[0], o[1], o[2]]) / 8
    ref = voxel_s_values("Y-90", spacing, RHO, n=2) * 1e-9  # mGy/(MBq s) -> Gy per decay
    rel = np.abs(s_avg / ref - 1)
    shell = np.indices((3, 3, 3)).max(axis=0)
    assert rel[0, 0, 0] < 5e-3
    assert np.max(rel[shell == 1]) < 3e-3
    assert np.max(rel[shell == 2]) < 5e-4


@pytest.mark.parametrize("coarse", [pytest.param(None, marks=pytest.mark.slow), (2, 2, 2)])
def test_single_sphere_own_voxel_and_far_voxels(coarse):
    """Own voxel = exact ray-formula mean; far voxels = point-mode voxel means within 1 %."""
    h, n = 0.1, 72
    centre = np.array([36, 36, 36])
    act = 1000.0
    # sphere exactly at a voxel centre (a node of the near table: exact)
    p = centre * h
    d = grid_dose([p], act, origin_mm=np.zeros(3), spacing_mm=h, shape=(n, n, n),
                        coarse_factor=coarse)
    own = ray_voxel_mean(p, p - h / 2, p + h / 2) * act * TAU_Y90_S
    assert d[tuple(centre)] == pytest.approx(own, rel=1e-4)
    # sphere off-centre: table interpolation (graded trilinear, < 0.7 % in the own voxel)
    p = centre * h + np.array([0.031, -0.017, 0.0441])
    d = grid_dose([p], act, origin_mm=np.zeros(3), spacing_mm=h, shape=(n, n, n),
                        coarse_factor=coarse)
    own = ray_voxel_mean(p, centre * h - h / 2, centre * h + h / 2) * act * TAU_Y90_S
    assert d[tuple(centre)] == pytest.approx(own, rel=0.01)
    # far voxels: Chebyshev distance >= 5 voxels (beyond the near box and the 5-point binning,
    # where the far field is 5th order in h / r), r < 5 mm (beyond, the kernel's shell noise is
    # > 0.5 % and two levels smooth it on the coarse step)
    rng = np.random.default_rng(11)
    offs = rng.integers(-30, 31, (400, 3))
    offs = offs[(np.abs(offs).max(axis=1) >= 5) & (np.linalg.norm(offs * h, axis=1) < 5.0)][:120]
    vox = centre + offs
    ref = point_mode_voxel_mean([p], act, vox * h, (h, h, h))
    got = d[vox[:, 0], vox[:, 1], vox[:, 2]]
    assert np.max(np.abs(got / ref - 1)) < 0.01


@pytest.mark.parametrize("spacing", [(0.15, 0.15, 0.15),
                                     pytest.param((0.1, 0.15, 0.2), marks=pytest.mark.slow)])
def test_dense_random_spheres_match_point_mode(spacing):
    """2,000 spheres in a 4 mm box (~30 per mm^3): interior voxels agree within 1 %.

    Reference: point mode averaged over each voxel with a 6^3 Gauss rule, except that spheres
    within 1.5 voxels of the voxel centre, where the 1/r^2 peak defeats a fixed rule (and the
    point kernel is capped within 29 um), contribute their exact voxel mean (face formula,
    verified against the ray formula above). Grid mode is exact in the near box; its far-field
    error (5-point binning, single precision FFT) is ~0.1 % for such dense sources, so 1 %
    leaves a wide margin.
    """
    h = np.array(spacing)
    rng = np.random.default_rng(7)
    src = rng.uniform(0.0, 4.0, (2000, 3))
    act = rng.uniform(500.0, 3000.0, 2000)
    origin = np.full(3, -1.0) + h / 2
    shape = tuple(int(v) for v in np.ceil(6.0 / h))
    d = grid_dose(src, act, origin_mm=origin, spacing_mm=h, shape=shape,
                        density_g_cm3=RHO)
    lo = np.ceil(2.0 / h).astype(int)
    hi = np.floor(4.0 / h).astype(int)
    vox = rng.integers(lo, hi, (60, 3))
    centres = origin + vox * h
    ref = point_mode_voxel_mean(src, act, centres, h)
    for i, c in enumerate(centres):
        near = np.flatnonzero(np.linalg.norm((src - c) / h, axis=1) < 1.5)
        if near.size:
            ref[i] -= point_mode_voxel_mean(src[near], act[near], c[None], h)[0]
            ref[i] += sum(act[s] * TAU_Y90_S * voxel_mean(
                src[s], c - h / 2, c + h / 2, density_g_cm3=RHO, gauss_points=10) for s in near)
    got = d[vox[:, 0], vox[:, 1], vox[:, 2]]
    assert np.max(np.abs(got / ref - 1)) < 0.01


def test_energy_closure():
    """sum(dose x voxel mass) = sum(decays) x absorbed energy per decay for spheres whose whole
    kernel range lies inside the grid (the kernel deposits exactly E(r_max) per decay)."""
    h, n = 0.2, 128  # 25.6 mm > 2 x 11.35 mm + cluster
    rng = np.random.default_rng(3)
    src = 12.8 + rng.normal(0.0, 0.3, (40, 3))
    act = rng.uniform(1000.0, 3000.0, 40)
    d = grid_dose(src, act, origin_mm=np.full(3, h / 2), spacing_mm=h, shape=(n, n, n),
                        density_g_cm3=RHO)
    mass_kg = h**3 * RHO * 1e-6
    e_abs = load_kernel("Y-90", density_g_cm3=RHO).energy_per_decay_MeV
    expected_J = act.sum() * TAU_Y90_S * e_abs * MEV_J
    assert d.sum() * mass_kg == pytest.approx(expected_J, rel=1e-3)


def test_lattice_gives_K_A_over_M():
    """One 2,500 Bq sphere per 1 mg (lattice constant (1/1.04)^(1/3) mm) in a volume wider than
    the kernel's range: the mean over a unit cell of voxels is the energy of one sphere over
    1 mg, K A / M ~ 120 Gy ("one sphere per portal tract ~ 120 Gy", Walrand et al., J Nucl Med 2014;55:135); the voxel
    farthest from the spheres agrees with point mode."""
    a = (1.0 / RHO) ** (1.0 / 3.0)
    n = int(math.ceil(11.35 / a)) + 2
    ijk = np.arange(-n, n + 1) * a
    lat = np.stack(np.meshgrid(ijk + 0.3 * a, ijk + 0.11 * a, ijk - 0.07 * a, indexing="ij"),
                   -1).reshape(-1, 3)
    h = a / 8  # 8^3 voxels tile one unit cell exactly
    d = grid_dose(lat, 2500.0, origin_mm=np.full(3, h / 2), spacing_mm=h, shape=(8, 8, 8),
                        density_g_cm3=RHO)
    e_abs = load_kernel("Y-90", density_g_cm3=RHO).energy_per_decay_MeV
    ka_over_m = 2500.0 * TAU_Y90_S * e_abs * MEV_J / 1e-6
    assert 115 < ka_over_m < 125
    assert d.mean() == pytest.approx(ka_over_m, rel=0.01)
    low = np.unravel_index(np.argmin(d), d.shape)
    ref = point_mode_voxel_mean(lat, 2500.0, [(np.array(low) + 0.5) * h], (h, h, h))[0]
    assert d[low] == pytest.approx(ref, rel=0.01)


def test_linearity_additivity_and_outside_spheres():
    rng = np.random.default_rng(5)
    src = rng.uniform(-2.0, 6.0, (400, 3))  # many outside the 4 mm grid
    act = rng.uniform(100.0, 3000.0, 400)
    kw = dict(origin_mm=np.full(3, 0.1), spacing_mm=0.2, shape=(20, 20, 20),
              fft_precision="double", coarse_factor=None)
    d = grid_dose(src, act, **kw)
    assert np.allclose(grid_dose(src, 2.5 * act, **kw), 2.5 * d, rtol=1e-11, atol=0)
    parts = (grid_dose(src[:150], act[:150], **kw)
             + grid_dose(src[150:], act[150:], **kw))
    assert np.allclose(parts, d, rtol=1e-11, atol=0)
    # a sub-grid sees the spheres outside it: it equals the same voxels of the larger grid
    sub = grid_dose(src, act, **dict(kw, origin_mm=0.1 + 0.2 * np.array([5, 8, 11]),
                                           shape=(12, 10, 9)))
    assert np.allclose(sub, d[5:17, 8:18, 11:20], rtol=1e-11, atol=0)
    # a sphere 1 mm outside the grid deposits what point mode says
    far = np.array([[-1.0, 2.0, 2.0]])
    d1 = grid_dose(far, 1000.0, **kw)
    vox = np.array([[0, 10, 10], [3, 5, 15], [10, 10, 10]])
    ref = point_mode_voxel_mean(far, 1000.0, 0.1 + vox * 0.2, (0.2, 0.2, 0.2))
    assert np.allclose(d1[vox[:, 0], vox[:, 1], vox[:, 2]], ref, rtol=0.01)


@pytest.mark.parametrize("coarse", [None, (2, 2, 2)])
def test_tiling_gives_the_same_result(coarse):
    rng = np.random.default_rng(9)
    src = rng.uniform(0.0, 4.0, (300, 3))
    act = rng.uniform(100.0, 3000.0, 300)
    h, shape = ((0.2, 0.25, 0.3), (25, 20, 17)) if coarse is None else \
        ((0.1, 0.125, 0.15), (50, 40, 34))
    kw = dict(origin_mm=(-0.5, -0.3, -0.2), spacing_mm=h, shape=shape, coarse_factor=coarse)
    one, info1 = grid_dose(src, act, return_info=True, fft_precision="double", **kw)
    budget = 5e7 if coarse is None else 3.3e7  # ~36 bytes per FFT element (moment level)
    tiled, info2 = grid_dose(src, act, max_fft_bytes=budget, return_info=True,
                                   fft_precision="double", **kw)
    assert info1["fine_tiles"] == 1 and info2["fine_tiles"] > 1
    assert coarse is None or info2["coarse_tiles"] > 1
    assert np.allclose(tiled, one, rtol=1e-11, atol=0)
    # the default tries the float32 moment level and keeps it only within its tolerance
    single, info = grid_dose(src, act, return_info=True, **kw)
    assert info["fft_precision"] in ("single", "double (single rejected)")
    assert np.max(np.abs(single / one - 1)) <= SINGLE_REL_TOL


def _moment_level_both(src, act, h, n):
    """The moment level alone in float64 and float32, and the float32 error estimate [Gy]."""
    hh = np.full(3, h)
    origin = np.full(3, h / 2)
    xyz, dec = sphere_decays(src, act, "Y-90")
    gkern = grid_kernel("Y-90", 1.06, tuple(hh), 3, (2, 2, 2), 2, True)
    xyz, dec, idx = sort_by_voxel(np.ascontiguousarray(xyz), dec, origin, 1 / hh,
                                  np.array([n, n, n]), 3)
    out = {}
    for single in (False, True):
        out[single] = np.zeros((n, n, n), np.float32 if single else np.float64)
        times = dict.fromkeys(("spectra", "binning", "fft", "multiply"), 0.0)
        moment_level(out[single], xyz, dec, idx, origin, hh, gkern, 2e9, times, single=single)
    return out[False], out[True], single_error_estimate(dec, idx, gkern, (n, n, n), 2e9)


@pytest.mark.parametrize("h, n", [(0.05, 64), (0.25, 48)])
def test_single_precision_error_estimate(h, n):
    """The float32 round-off estimate (E + b x dose) bounds the measured error 10 times over
    in every voxel (E's safety factor is 30) for one sphere, a 30-sphere cluster, dense random
    spheres, sources interleaved between two voxels outside the grid (input order must not
    matter) and 1e5 sources in two voxels (binning round-off)."""
    rng = np.random.default_rng(5)
    side = n * h
    cluster = [np.full(3, side / 2)]
    for _ in range(29):
        d = rng.normal(size=3)
        cluster.append(cluster[int(rng.integers(len(cluster)))] + d / np.linalg.norm(d) * 0.032)
    outside = np.array([[(n + 8 + s % 2 + 0.1) * h, side / 2, side / 2] for s in range(1000)])
    crowded = np.array([[side / 2 + (s % 2) * h, side / 2, side / 2] for s in range(100_000)])
    cases = [np.array([[side / 2 + 0.01, side / 2 - 0.013, side / 2 + 0.02]]), np.array(cluster),
             rng.uniform(-1.0, side + 1.0, (20000, 3)), outside, crowded]
    for src in cases:
        double, single, (fft_err, binning) = _moment_level_both(src, 2500.0, h, n)
        assert fft_err > 0 and binning > 0
        assert np.all(np.abs(single - double) <= (fft_err + binning * np.abs(double)) / 10)


def test_single_precision_used_on_dense_spheres_not_on_one():
    """Dense spheres: the moment level runs in float32 and the result agrees with float64
    within its estimate (<= SINGLE_REL_TOL) everywhere; one sphere (doses spanning many
    decades): float64, the same result as fft_precision="double"."""
    rng = np.random.default_rng(2)
    kw = dict(origin_mm=np.full(3, 0.05), spacing_mm=0.1, shape=(64, 64, 64), photons=False,
              coarse_factor=(2, 2, 2))
    src = rng.uniform(-1.0, 7.4, (30000, 3))
    d64 = grid_dose(src, 2500.0, fft_precision="double", **kw)
    for budget in (2e9, 6e7):  # one FFT tile, several
        d32, info = grid_dose(src, 2500.0, return_info=True, max_fft_bytes=budget, **kw)
        assert info["fft_precision"] == "single" and info["single_error_rel"] <= SINGLE_REL_TOL
        assert (info["fine_tiles"] > 1) == (budget < 1e8)
        assert np.max(np.abs(d32 / d64 - 1)) <= info["single_error_rel"]
    one = [[3.2, 3.1, 3.3]]
    d64 = grid_dose(one, 2500.0, fft_precision="double", **kw)
    d32, info = grid_dose(one, 2500.0, return_info=True, **kw)
    assert info["fft_precision"] == "double (single rejected)"
    assert np.array_equal(d32, d64)


def test_two_levels_match_one_level():
    """The long-range share on a coarse grid (step 2 h) agrees with one fine FFT."""
    rng = np.random.default_rng(4)
    src = rng.uniform(0.0, 3.0, (200, 3))
    act = rng.uniform(100.0, 3000.0, 200)
    kw = dict(origin_mm=np.full(3, 0.05), spacing_mm=0.1, shape=(30, 30, 30))
    one = grid_dose(src, act, coarse_factor=None, **kw)
    two, info = grid_dose(src, act, coarse_factor=(2, 2, 2), return_info=True, **kw)
    assert info["coarse_tiles"] == 1
    assert np.max(np.abs(two / one - 1)) < 2e-3


def test_bad_input():
    kw = dict(origin_mm=np.zeros(3), spacing_mm=0.1, shape=(4, 4, 4))
    with pytest.raises(ValueError, match="spacing_mm"):
        grid_dose(np.zeros((1, 3)), 1.0, **dict(kw, spacing_mm=-0.1))
    with pytest.raises(ValueError, match="shape"):
        grid_dose(np.zeros((1, 3)), 1.0, **dict(kw, shape=(0, 4, 4)))
    with pytest.raises(ValueError, match="sphere_activity_Bq"):
        grid_dose(np.zeros((1, 3)), -1.0, **kw)
    with pytest.raises(MemoryError, match="max_fft_bytes"):
        grid_dose(np.zeros((1, 3)), 1.0, max_fft_bytes=1e3, coarse_factor=None, **kw)
    assert not np.any(grid_dose(np.zeros((0, 3)), 1.0, **kw))
    for bad, name in ((dict(spacing_mm=20.0), "spacing_mm"), (dict(spacing_mm=np.nan), "spacing_mm"),
                      (dict(origin_mm=(0, np.inf, 0)), "origin_mm"),
                      (dict(density_g_cm3=-1.0), "density_g_cm3"),
                      (dict(near_voxels=1), "near_voxels"), (dict(degree=9), "degree"),
                      (dict(max_fft_bytes=0), "max_fft_bytes"), (dict(shape=(4, 4)), "shape"),
                      (dict(coarse_factor=(0, 1, 1)), "coarse_factor")):
        with pytest.raises(ValueError, match=name):
            grid_dose(np.zeros((1, 3)), 1.0, **dict(kw, **bad))
    with pytest.raises(ValueError, match="sphere_xyz_mm"):
        grid_dose(np.zeros((1, 2)), 1.0, **kw)


def test_near_voxels_3_bounds_single_sphere_errors():
    """With a 7^3 exact box, every voxel is within 1.5 % of the exact voxel means for a sphere
    anywhere in its voxel: the table to < 1 %, the first far-field shell (4 voxels, 5-point
    binning error ~ (h / r)^5) to ~1.3 % at worst."""
    h, n = 0.1, 24
    rng = np.random.default_rng(21)
    centre = np.array([12, 12, 12])
    p = (centre + rng.uniform(-0.5, 0.5, 3)) * h
    d = grid_dose([p], 1.0, origin_mm=np.zeros(3), spacing_mm=h, shape=(n, n, n),
                        near_voxels=3, fft_precision="double")
    offs = np.stack(np.meshgrid(*[np.arange(-6, 7)] * 3, indexing="ij"), -1).reshape(-1, 3)
    cheb = np.abs(offs).max(axis=1)
    vox = centre + offs
    ref = np.empty(len(offs))
    far = cheb >= 3  # >= 2.5 voxels from the sphere: a 6^3 Gauss rule of point mode is exact
    ref[far] = point_mode_voxel_mean([p], 1.0, vox[far] * h, (h, h, h))
    for i in np.flatnonzero(~far):
        c = vox[i] * h
        ref[i] = TAU_Y90_S * voxel_mean(p, c - h / 2, c + h / 2,
                                                           density_g_cm3=RHO, gauss_points=10)
    err = np.abs(d[vox[:, 0], vox[:, 1], vox[:, 2]] / ref - 1)
    assert np.max(err[cheb <= 3]) < 0.01   # exact box: table interpolation only
    assert np.max(err) < 0.015


def test_moment_binning_matches_direct_sum_any_threads():
    """The parallel moment binning equals a direct numpy sum of decays x P_dx P_dy P_dz (2 delta)
    (normalised Legendre polynomials) per voxel, bit for bit with 1 and 2 threads, for clustered
    sources, sources in one plane and sources outside the grid (dropped)."""
    import numba
    from numpy.polynomial import legendre

    from dosimetry._grid_kernels import bin_moment, plane_blocks

    rng = np.random.default_rng(3)
    h = np.array([0.1, 0.12, 0.1])
    origin = np.array([0.05, -0.3, 0.2])
    shape = (20, 18, 16)
    start = np.array([-2, 1, -3])
    xyz = np.concatenate([
        origin + rng.uniform(-6, 24, (3000, 3)) * h,                    # many outside
        origin + (np.array([7.0, 9.0, 8.0]) + rng.normal(0, 0.8, (2000, 3))) * h,  # cluster
        np.column_stack([np.full(500, origin[0] + 3.2 * h[0]),           # one x plane
                         origin[1:] + rng.uniform(0, 15, (500, 2)) * h[1:]])])
    dec = rng.uniform(0.5, 2.0, xyz.shape[0])
    u = (xyz - origin) / h
    iv = np.floor(u + 0.5).astype(np.int64)
    x = 2.0 * (u - iv)
    loc = iv - start
    keep = np.all((loc >= 0) & (loc < np.array(shape)), axis=1)

    def p(deg, t):  # normalised Legendre polynomial sqrt(2 deg + 1) P_deg(t)
        return np.sqrt(2 * deg + 1) * legendre.legval(t, np.eye(deg + 1)[deg])

    threads = numba.get_num_threads()
    for deg in [(0, 0, 0), (1, 0, 0), (0, 2, 0), (1, 0, 1), (0, 0, 2)]:
        ref = np.zeros(shape)
        w = dec * p(deg[0], x[:, 0]) * p(deg[1], x[:, 1]) * p(deg[2], x[:, 2])
        np.add.at(ref, tuple(loc[keep].T), w[keep])
        got = {}
        for nt in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(nt)
            try:
                order, bstart = plane_blocks(xyz, origin, 1 / h, int(start[0]), shape[0], 4 * nt)
                out = np.zeros(shape)
                bin_moment(xyz, dec, origin, 1 / h, start, *deg, order, bstart, out)
                got[nt] = out
            finally:
                numba.set_num_threads(threads)
        assert np.allclose(got[1], ref, rtol=1e-12, atol=1e-12)
        assert np.array_equal(got[1], got[max(got)])


def test_quartic_binning_reproduces_moments_any_threads():
    """5-point Lagrange binning is exact for polynomials of degree <= 4: the binned grid's
    moments sum_i B_i x_i^k (per axis, k <= 4) equal sum_s decays_s u_s^k for sources whose
    stencil lies inside the grid. The slab-parallel binning (sorted sources) and the chunked
    one of the photons' long range (unsorted, fixed chunks) agree, the chunked one bit for bit
    with 1 and 2 threads."""
    import numba

    from dosimetry import _grid_kernels as gk
    from dosimetry.grid_fft import slabs

    rng = np.random.default_rng(5)
    shape = (30, 26, 22)
    origin = np.array([0.3, -0.2, 0.1])
    h = np.array([0.5, 0.4, 0.6])
    u = rng.uniform(2.5, np.array(shape) - 3.5, (4000, 3))  # stencils inside
    xyz = origin + u * h
    dec = rng.uniform(0.5, 2.0, u.shape[0])
    order = gk.stable_order(np.floor(u[:, 0] + 0.5).astype(np.int64))
    sorted_b = np.zeros(shape)
    gk.bin_quart(np.ascontiguousarray(xyz[order]), dec[order],
                 slabs(np.floor(u[order, 0] + 0.5).astype(np.int64), 5), origin, 1.0 / h,
                 np.zeros(3, np.int64), sorted_b)
    threads = numba.get_num_threads()
    chunked = {}
    for nt in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(nt)
        try:
            parts = np.zeros((4,) + shape)
            gk.bin_quart_chunks(xyz, dec, origin, 1.0 / h, parts)
            chunked[nt] = parts.sum(axis=0)
        finally:
            numba.set_num_threads(threads)
    assert np.array_equal(chunked[1], chunked[max(chunked)])
    for grid_b in (sorted_b, chunked[1]):
        for axis in range(3):
            i = np.arange(shape[axis], dtype=float)
            marg = grid_b.sum(axis=tuple(a for a in range(3) if a != axis))
            for k in range(5):
                want = float(np.sum(dec * u[:, axis] ** k))
                assert np.sum(marg * i ** k) == pytest.approx(want, rel=1e-11)
    assert np.allclose(sorted_b, chunked[1], rtol=1e-12, atol=1e-12 * sorted_b.max())


def test_single_precision_coarse_level():
    """The coarse level runs in float32 only for dense sources (every block of coarse nodes
    holds one) and when its round-off bound is below SINGLE_REL_TOL of the smallest dose:
    then the dose agrees with float64 within the two levels' estimates; a weak field beside a
    strong cluster is rejected and recomputed (equal to float64 to round-off); a single sphere
    is not tried."""
    rng = np.random.default_rng(2)
    h, n = 0.1, 48
    side = n * h
    src = rng.uniform(-12.0, side + 12.0, (200_000, 3))
    kw = dict(origin_mm=np.full(3, h / 2), spacing_mm=h, shape=(n, n, n), photons=False,
              return_info=True, coarse_factor=(2, 2, 2))
    single, info = grid.dose_on_grid(src, 2500.0, **kw)
    double, info_d = grid.dose_on_grid(src, 2500.0, fft_precision="double", **kw)
    assert info["coarse_precision"] == "single" and info_d["coarse_precision"] == "double"
    assert info["coarse_single_error_rel"] <= SINGLE_REL_TOL
    bound = info["coarse_single_error_rel"] + info["single_error_rel"]
    assert np.max(np.abs(single / double - 1)) <= bound / 10
    act = np.where(np.all(src < 1.0, axis=1), 2500.0, 1e-6)
    mixed, info = grid.dose_on_grid(src, act, **kw)
    assert info["coarse_precision"] == "double (single rejected)"
    ref, _ = grid.dose_on_grid(src, act, fft_precision="double", **kw)
    assert np.allclose(mixed, ref, rtol=1e-12, atol=0)
    _, info = grid.dose_on_grid(np.full((1, 3), side / 2), 2500.0, **kw)
    assert info["coarse_precision"] == "double"
