"""The imaging forward model against analytic expectations: a point source imaged has the
stated FWHM and the stated total counts; counting noise is Poisson; sensitivities follow
from their cited inputs."""
import math

import numpy as np
import pytest
from scipy import optimize

from sim.config import ConfigError, scenario_from_dict
from sim.config.clinical import PetY90Spec, SpectTcSpec, SpectY90Spec
from sim.imaging import ImageGrid, blurred_image, counts_per_Bq, cover, simulate_image

SIGMA_PER_FWHM = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


def _centre_source(voxel, n=21):
    grid = ImageGrid(np.zeros(3), voxel, (n, n, n))
    c = np.array([[n // 2 * voxel] * 3], dtype=float)
    return grid, c


def _moments(img, grid):
    w = img / img.sum()
    x = np.arange(grid.shape[0]) * grid.voxel_mm
    out = []
    for ax in range(3):
        p = w.sum(axis=tuple(a for a in range(3) if a != ax))
        mu = float(np.dot(p, x))
        out.append((mu, float(np.dot(p, (x - mu) ** 2))))
    return out


@pytest.mark.parametrize("spec", [SpectTcSpec(), PetY90Spec(), SpectY90Spec()],
                         ids=["spect_tc99m", "pet_y90", "spect_y90"])
def test_point_source_has_the_stated_fwhm(spec):
    """Second moment of the voxel image of a point at a voxel centre: sigma^2 = (FWHM/2.355)^2
    (the voxel integration's v^2/12 is part of the stated resolution)."""
    grid, c = _centre_source(spec.voxel_mm, n=2 * int(4 * spec.fwhm_mm / spec.voxel_mm) + 3)
    img = blurred_image(grid, c, 1.0, spec.fwhm_mm)
    for mu, var in _moments(img, grid):
        assert mu == pytest.approx(c[0, 0], abs=1e-6)
        assert math.sqrt(var) / SIGMA_PER_FWHM == pytest.approx(spec.fwhm_mm, rel=5e-3)


def test_point_source_profile_fits_a_gaussian_of_the_stated_fwhm():
    """A Gaussian fitted to the central profile has the stated FWHM (within 3 %: the profile
    is a Gaussian integrated over 4 mm voxels)."""
    grid, c = _centre_source(4.0, n=31)
    img = blurred_image(grid, c, 1.0, 12.0)
    prof = img[:, 15, 15]
    x = np.arange(31) * 4.0

    def g(x, a, m, s):
        return a * np.exp(-0.5 * ((x - m) / s) ** 2)

    (a, m, s), _ = optimize.curve_fit(g, x, prof, p0=(prof.max(), 60.0, 5.0))
    assert abs(s) / SIGMA_PER_FWHM == pytest.approx(12.0, rel=0.03)


def test_sources_anywhere_in_a_voxel_keep_the_resolution():
    """Over sources spread through a voxel the mean variance grows only by the fine grid's
    binning (v_f^2 / 12, below 1 % of the FWHM here)."""
    rng = np.random.default_rng(3)
    grid, c = _centre_source(4.42, n=25)
    fw = []
    for _ in range(20):
        p = c + rng.uniform(-2.21, 2.21, (1, 3))
        img = blurred_image(grid, p, 1.0, 12.8)
        mom = _moments(img, grid)
        fw.append(math.sqrt(mom[0][1]) / SIGMA_PER_FWHM)
        # sources are binned to the 5x finer grid: the centroid moves by <= half its voxel
        assert mom[0][0] == pytest.approx(p[0, 0], abs=0.5 * 4.42 / 5)
    assert np.mean(fw) == pytest.approx(12.8, rel=0.01)


def test_total_counts_of_a_point_source():
    """Expected counts = A S T x (1 - 2^(-t/T1/2)) T1/2/ln2 / t, noise-free exactly; with
    Poisson noise within 4 sigma."""
    spec = SpectTcSpec(noise="none")
    t_half_h = 6.015
    a_bq = 50e6
    lam = math.log(2.0) / (t_half_h * 3600.0)
    t = spec.acquisition_min * 60.0
    expected = a_bq * spec.sensitivity_cps_per_MBq * 1e-6 * spec.transmission \
        * (1.0 - math.exp(-lam * t)) / lam
    assert counts_per_Bq(spec, t_half_h) * a_bq == pytest.approx(expected, rel=1e-12)
    grid, c = _centre_source(4.42, n=25)
    img = simulate_image("spect_tc99m", grid, c, a_bq, spec, t_half_h)
    assert img.counts.sum() == pytest.approx(expected, rel=1e-6)
    assert img.activity_Bq.sum() == pytest.approx(a_bq, rel=1e-6)
    noisy = simulate_image("spect_tc99m", grid, c, a_bq, SpectTcSpec(), t_half_h, rng=11)
    assert abs(noisy.counts.sum() - expected) < 4.0 * math.sqrt(expected)


def test_counting_noise_is_poisson_with_the_noise_equivalent_fraction():
    """Counts of a flat expectation: mean = expectation, variance = expectation / f."""
    grid = ImageGrid(np.zeros(3), 4.0, (40, 40, 40))
    xyz = grid.centres()
    for f in (1.0, 0.2):
        spec = PetY90Spec(fwhm_mm=0.0, noise_equivalent_fraction=f)
        per_voxel = 50.0 / counts_per_Bq(spec, 64.1)  # 50 expected counts per voxel
        img = simulate_image("pet_y90", grid, xyz, per_voxel, spec, 64.1, rng=5)
        c = img.counts.ravel()
        n = c.size
        assert c.mean() == pytest.approx(50.0, abs=4 * math.sqrt(50.0 / f / n))
        # variance of a sample variance: ~2 var^2 / n
        assert c.var() == pytest.approx(50.0 / f, abs=4 * 50.0 / f * math.sqrt(2.0 / n))


def test_ideal_imaging_puts_each_source_in_its_voxel():
    grid = cover([0, 0, 0], [10, 10, 10], 2.0)
    xyz = np.array([[1.1, 3.0, 5.2], [9.0, 0.4, 2.9]])
    img = blurred_image(grid, xyz, [2.0, 3.0], 0.0)
    assert img.sum() == 5.0
    assert img.ravel()[grid.flat_index(xyz[:1])[0]] == 2.0


def test_pet_sensitivity_follows_from_its_inputs():
    """9.6 cps/kBq of F-18 (NEMA; Rausch 2015, De Ponti 2011) per positron (0.9673 positrons
    per F-18 decay, ICRP-107) times 31.86 positrons per 10^6 Y-90 decays (Selwyn, via
    Willowson 2015)."""
    assert PetY90Spec().sensitivity_cps_per_MBq == pytest.approx(
        9.6e3 * 31.86e-6 / 0.9673, rel=1e-6)


def test_resolution_below_the_voxel_is_refused():
    with pytest.raises(ValueError, match="below the voxel size"):
        blurred_image(ImageGrid(np.zeros(3), 4.0, (5, 5, 5)), np.zeros((1, 3)), 1.0, 3.0)
    with pytest.raises(ConfigError, match=r"imaging\.pet_y90\.fwhm_mm = 3\.0: below the voxel"):
        scenario_from_dict({"liver": {"perfused_mass_kg": 1.0},
                            "imaging": {"pet_y90": {"fwhm_mm": 3.0}}})
