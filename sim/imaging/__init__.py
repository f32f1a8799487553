"""Clinical imaging as the clinic sees it: SPECT (Tc-99m, Y-90 bremsstrahlung) and Y-90 PET
of simulated activity maps, with system resolution, voxel size, sensitivity, decay during the
acquisition and counting noise (``scipy.ndimage`` filtering)."""
from sim.imaging.forward import (FWHM_PER_SIGMA, Image, bin_activity, blurred_image,
                                 counts_per_Bq, noisy_counts, simulate_image)
from sim.imaging.grid import ImageGrid, cover, reference_anchor

__all__ = ["ImageGrid", "cover", "reference_anchor", "Image", "FWHM_PER_SIGMA", "bin_activity",
           "blurred_image", "counts_per_Bq", "noisy_counts", "simulate_image"]
