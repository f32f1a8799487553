"""The forward model of a clinical image: activity -> detected counts -> reconstructed image.

Model (stated simplifications in docs/physics.md, "Imaging"):

* every detected event is placed at its true position plus an independent Gaussian error
  (FWHM sqrt(FWHM_sys^2 - 8 ln2 v^2/12): narrower than the stated FWHM by the voxel's own
  spread, so that the voxel image has the stated FWHM); a voxel's value is the number of events
  placed in it. The expected image is the activity convolved with the Gaussian and
  integrated over each voxel; it is computed on an m^3-times finer grid (m odd, fine voxels
  <= 1 mm): activity binned there, ``scipy.ndimage.gaussian_filter``, block sums. Voxel
  integration adds v^2/12 to the variance of the point spread along each axis, so the filter
  uses sigma^2 - v^2/12 and the image's point spread has exactly the stated FWHM (second
  moment; Sheppard's correction, exact up to terms of order exp(-2 pi^2 sigma^2 / v^2));
* counts are Poisson (independent events: the thinned, displaced Poisson process stays
  Poisson per voxel), scaled by the noise-equivalent fraction for randoms and scatter;
* expected counts per Bq: sensitivity x transmission x the decays in the acquisition;
  the reconstructed activity is counts / (counts per Bq): attenuation and scatter are
  corrected exactly, the reconstruction adds no noise or bias of its own (OSEM noise
  amplification, correlations and resolution recovery are not modelled).

References
----------
.. [1] Sheppard WF. On the calculation of the most probable values of frequency-constants
       for data arranged according to equidistant division of a scale. Proc London Math Soc
       1898;29:353.
.. [2] Cherry SR, Sorenson JA, Phelps ME. Physics in Nuclear Medicine, 4th ed. (2012),
       chapters 14-18 (counting statistics, system resolution, quantification).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np
from scipy import ndimage

from dosimetry.constants import LN2, SECONDS_PER_HOUR
from sim.imaging.grid import ImageGrid

__all__ = ["FWHM_PER_SIGMA", "Image", "counts_per_Bq", "blurred_image", "bin_activity",
           "simulate_image", "refinement_factor", "noisy_counts"]

#: FWHM of a Gaussian over its standard deviation, 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * LN2)
#: Largest fine grid of the blur [voxels] (memory: 8 bytes each).
MAX_FINE_VOXELS = 40_000_000


@dataclass
class Image:
    """A simulated clinical image on its grid.

    Attributes
    ----------
    name : str
        Modality key (``spect_tc99m``, ``pet_y90``, ``spect_y90``).
    grid : ImageGrid
    counts : ndarray
        Detected counts per voxel (noise-equivalent counts scaled back to trues when the
        noise-equivalent fraction is below 1; the expectation when noise is off).
    expected_counts : ndarray
        Expected counts per voxel.
    activity_Bq : ndarray
        Reconstructed activity per voxel at the start of the acquisition [Bq].
    true_activity_Bq : ndarray
        True activity per voxel at the start of the acquisition, without blur [Bq].
    counts_per_Bq : float
        Expected counts per Bq at the start of the acquisition.
    """

    name: str
    grid: ImageGrid
    counts: np.ndarray
    expected_counts: np.ndarray
    activity_Bq: np.ndarray
    true_activity_Bq: np.ndarray
    counts_per_Bq: float
    fwhm_mm: float
    info: dict = field(default_factory=dict)


def counts_per_Bq(spec, half_life_h: float) -> float:
    """Expected counts per Bq present at the start of the acquisition: sensitivity [cps/MBq]
    x transmission x the integral of 2^(-t/T1/2) over the acquisition [s]."""
    t_acq = spec.acquisition_min * 60.0
    tau = half_life_h * SECONDS_PER_HOUR / LN2
    decays_per_Bq = tau * -math.expm1(-t_acq / tau)
    return spec.sensitivity_cps_per_MBq * 1e-6 * spec.transmission * decays_per_Bq


def refinement_factor(voxel_mm: float, shape, fine_mm: float = 1.0) -> int:
    """Odd m >= 3 with fine voxels of at most ``fine_mm`` (fewer when the fine grid would
    exceed :data:`MAX_FINE_VOXELS`)."""
    m = max(3, math.ceil(voxel_mm / fine_mm))
    m += 1 - m % 2
    while m > 3 and m ** 3 * int(np.prod(shape)) > MAX_FINE_VOXELS:
        m -= 2
    return m


def bin_activity(grid: ImageGrid, xyz, weights) -> np.ndarray:
    """Sum of ``weights`` per voxel of the points (N, 3) [mm] (nearest voxel; off the grid:
    dropped)."""
    idx = grid.flat_index(xyz)
    ok = idx >= 0
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (idx.size,))
    return np.bincount(idx[ok], weights=w[ok], minlength=grid.size).reshape(grid.shape)


def blurred_image(grid: ImageGrid, xyz, weights, fwhm_mm: float) -> np.ndarray:
    """Expected image of point sources: Gaussian blur of FWHM ``fwhm_mm`` integrated over each
    voxel (module notes). ``fwhm_mm`` 0 is ideal imaging (nearest voxel, no blur).

    Raises
    ------
    ValueError
        ``0 < fwhm_mm < voxel``: a resolution below the voxel size.
    """
    v = grid.voxel_mm
    if fwhm_mm == 0:
        return bin_activity(grid, xyz, weights)
    if fwhm_mm < v:
        raise ValueError(f"FWHM {fwhm_mm} mm is below the voxel size {v} mm")
    m = refinement_factor(v, grid.shape)
    fine = grid.refined(m)
    img = bin_activity(fine, xyz, weights)
    sigma2 = (fwhm_mm / FWHM_PER_SIGMA) ** 2 - v * v / 12.0
    ndimage.gaussian_filter(img, math.sqrt(sigma2) / fine.voxel_mm, mode="constant",
                            truncate=4.0, output=img)
    n = grid.shape
    return img.reshape(n[0], m, n[1], m, n[2], m).sum(axis=(1, 3, 5))


def noisy_counts(expected, spec, rng):
    """Counts of an expectation (array or number): Poisson of the noise-equivalent counts
    scaled back to trues (``spec.noise`` ``"none"``: the expectation)."""
    if spec.noise == "none":
        return np.array(expected, dtype=np.float64, copy=True)
    f = spec.noise_equivalent_fraction
    return np.random.default_rng(rng).poisson(np.asarray(expected) * f) / f


def simulate_image(name: str, grid: ImageGrid, xyz, activity_Bq, spec, half_life_h: float,
                   rng=None) -> Image:
    """Image of point sources (activity at the start of the acquisition) as the clinic
    reconstructs it (module notes).

    Parameters
    ----------
    name : str
        Modality key.
    grid : ImageGrid
    xyz : (N, 3) array [mm]
    activity_Bq : float or (N,) array
        Activity of each source at the start of the acquisition [Bq].
    spec : sim.config.clinical.ModalitySpec
    half_life_h : float
        Physical half-life of the imaged nuclide [h] (decay during the acquisition).
    rng : numpy Generator or seed
        Counting noise.
    """
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    act = np.broadcast_to(np.asarray(activity_Bq, dtype=np.float64), (xyz.shape[0],))
    cpb = counts_per_Bq(spec, half_life_h)
    true = bin_activity(grid, xyz, act)
    expected = blurred_image(grid, xyz, act * cpb, spec.fwhm_mm)
    counts = noisy_counts(expected, spec, rng)
    info = {"total_activity_Bq": float(act.sum()), "activity_on_grid_Bq": float(true.sum()),
            "total_counts": float(counts.sum()), "expected_counts": float(expected.sum()),
            "noise": spec.noise, "noise_equivalent_fraction": spec.noise_equivalent_fraction,
            "sensitivity_cps_per_MBq": spec.sensitivity_cps_per_MBq,
            "transmission": spec.transmission, "acquisition_min": spec.acquisition_min,
            "delay_h": spec.delay_h, "half_life_h": half_life_h, "voxel_mm": grid.voxel_mm}
    return Image(name, grid, counts, expected, counts / cpb, true, cpb, float(spec.fwhm_mm),
                 info)
