"""Benchmark of the clinical chain's imaging forward model and voxel dosimetry.

Prints voxels per second of a SPECT-like image (point sources binned on the fine grid,
``scipy.ndimage.gaussian_filter``, block sums, Poisson counts), of LDM and voxel-S dosimetry
(FFT convolution with the project's voxel S values) and of the truth averaged from a 250 um
dose grid onto clinical voxels. Usage::

    python benchmarks/imaging.py [--voxels 64] [--sources 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from sim.clinical.voxel_dosimetry import ldm_dose_Gy, truth_on_grid, vsv_dose_Gy
from sim.config.clinical import PetY90Spec, SpectTcSpec
from sim.imaging import ImageGrid, simulate_image


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run(n_vox: int, n_src: int, repeat: int) -> None:
    rng = np.random.default_rng(1)
    for name, spec in (("Tc-99m SPECT", SpectTcSpec()), ("Y-90 PET", PetY90Spec())):
        grid = ImageGrid(np.zeros(3), spec.voxel_mm, (n_vox,) * 3)
        xyz = rng.uniform(0.25, 0.75, (n_src, 3)) * n_vox * spec.voxel_mm
        dt, img = _best(lambda: simulate_image(name, grid, xyz, 100.0, spec, 64.1, rng=2),
                        repeat)
        print(f"{name}: {grid.size:,} voxels ({n_vox}^3 of {spec.voxel_mm} mm, FWHM "
              f"{spec.fwhm_mm} mm), {n_src:,} sources: {dt:.3f} s, "
              f"{grid.size / dt:,.0f} voxels/s")
    act = img.activity_Bq
    dt, _ = _best(lambda: ldm_dose_Gy(act, 4.0, dose_constant_Gy_kg_per_GBq=49.76,
                                      density_g_cm3=1.06), repeat)
    print(f"LDM: {act.size / dt:,.0f} voxels/s")
    vsv_dose_Gy(act, 4.0, nuclide="Y-90", density_g_cm3=1.06)  # S values cached
    dt, _ = _best(lambda: vsv_dose_Gy(act, 4.0, nuclide="Y-90", density_g_cm3=1.06), repeat)
    print(f"voxel-S convolution (9^3 S values, FFT): {dt:.3f} s, {act.size / dt:,.0f} voxels/s")
    fine = rng.random((n_vox * 4,) * 3).astype(np.float32)  # a 250 um grid under 1 mm voxels
    coarse = ImageGrid(np.full(3, 0.375), 1.0, (n_vox,) * 3)
    dt, _ = _best(lambda: truth_on_grid(fine, np.full(3, 0.125), 0.25, coarse), repeat)
    print(f"truth on clinical voxels: {fine.size:,} fine voxels in {dt:.3f} s, "
          f"{fine.size / dt:,.0f} fine voxels/s")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--voxels", type=int, default=64, help="clinical grid side [voxels]")
    p.add_argument("--sources", type=int, default=1_000_000, help="point sources")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    run(a.voxels, a.sources, a.repeat)


if __name__ == "__main__":
    main()
