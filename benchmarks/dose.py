"""Cross-fire dose throughput: point mode (pair evaluations/s) and grid mode (voxels/s).

Run: python benchmarks/dose.py [--spheres 1000000] [--points 10000] [--skip-naive]

Point mode: glass spheres (2,500 Bq) uniform in a 100 cm^3 cube, dose at random points in it;
the rate counts the sphere-point pairs examined by the cell list. Compared with a numpy
vectorised direct sum (same tabulated kernel, ``radial_table(...).dose_per_decay_Gy``) on
2,000 spheres x 2,000 points.

Grid mode: the same spheres, a 256^3 grid at 100 um and a 512^3 grid at 50 um (both 25.6 mm
cubes in the middle of the sphere cloud, so spheres outside the grid contribute). Compared,
in the same run, with ``scipy.signal.fftconvolve`` of the binned activity with (a) the same
fine-level kernel our FFT uses and (b) the one-level kernel over the whole range (what a plain
FFT convolution needs), where that fits in memory. Peak memory is the process's maximum
resident set size after each step (it only grows).
"""
import argparse
import math
import resource
import time

import numpy as np

from dosimetry import crossfire as cf
from dosimetry import grid


def peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def point_mode(spheres, points, rng):
    side = 100.0 ** (1 / 3) * 10  # 100 cm^3 cube [mm]
    src = rng.uniform(0, side, (spheres, 3))
    pts = rng.uniform(0, side, (points, 3))
    cf.dose_at_points(pts[:10], src[:1000], 2500.0)  # compile
    t0 = time.perf_counter()
    _, pairs = cf.dose_at_points(pts, src, 2500.0, return_pairs=True)
    dt = time.perf_counter() - t0
    rate = pairs / dt
    print(f"point mode: {spheres:,} spheres in 100 cm^3, {points:,} points: {pairs:.3g} pairs "
          f"in {dt:.2f} s = {rate:.3g} pair evaluations/s (target >= 1e8 on 2 cores)")
    # numpy vectorised direct sum on a small case, same tabulated kernel
    tab = cf.radial_table("Y-90", 1.04)
    s_small = rng.uniform(0, 5.0, (2000, 3))
    p_small = rng.uniform(0, 5.0, (2000, 3))
    decays = cf.decays_complete(np.full(2000, 2500.0))
    t0 = time.perf_counter()
    r = np.sqrt(((p_small[:, None, :] - s_small[None, :, :]) ** 2).sum(-1))
    ref = tab.dose_per_decay_Gy(r) @ decays
    dt_np = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours, pairs_small = cf.dose_at_points(p_small, s_small, 2500.0, return_pairs=True)
    dt_small = time.perf_counter() - t0
    np_rate = 4e6 / dt_np
    print(f"numpy direct sum 2,000 x 2,000: {np_rate:.3g} pairs/s; point mode on the same case "
          f"{pairs_small / dt_small:.3g} pairs/s ({dt_np / dt_small:.0f}x faster, max rel. diff "
          f"{np.max(np.abs(ours / ref - 1)):.1e}); large-case rate / numpy rate = "
          f"{rate / np_rate:.0f}x")
    return src, side


def naive_bytes(shape, k):
    from scipy.fft import next_fast_len

    # fftconvolve pads to the full linear size (s + 2k) + (2k + 1) - 1
    n = [next_fast_len(int(s + 4 * kk), real=True) for s, kk in zip(shape, k)]
    return 4 * 4 * float(np.prod(n))  # two spectra, their product, the inverse (32-bit)


def grid_mode(src, side, n, h):
    shape = (n, n, n)
    origin = np.full(3, side / 2 - n * h / 2 + h / 2)
    h3 = np.full(3, h)
    r_cut = cf.radial_table("Y-90", 1.04).r_cut_mm
    for co in (None, (2, 2, 2)):  # compile every kernel on a tiny grid
        grid.dose_on_grid(src[:10], 2500.0, origin_mm=origin, spacing_mm=h, shape=(8, 8, 8),
                        coarse_factor=co)
    grid.grid_kernel.cache_clear()
    t0 = time.perf_counter()
    cfac = grid._auto_coarse_factor(np.array(shape), h3, r_cut, 2, 2e9, np.float32)
    grid.grid_kernel("Y-90", 1.04, (h, h, h), 2, cfac)
    t_kernel = time.perf_counter() - t0
    t0 = time.perf_counter()
    dose, info = grid.dose_on_grid(src, 2500.0, origin_mm=origin, spacing_mm=h, shape=shape,
                                 return_info=True)
    dt = time.perf_counter() - t0
    inside = np.all((src >= origin - h / 2) & (src < origin - h / 2 + n * h), axis=1).sum()
    print(f"grid mode {n}^3 at {h * 1000:.0f} um ({inside:,} spheres inside, {len(src):,} in all): "
          f"{dt:.2f} s = {n**3 / dt:.3g} voxels/s; levels {info['coarse_factor'] or 'one'}, "
          f"fine half-width {info['fine_halfwidth'][0]} voxels, {info['fine_tiles']} fine "
          f"tile(s), {info['coarse_tiles']} coarse tile(s); kernels built in {t_kernel:.2f} s "
          f"(cached after); peak RSS so far {peak_gb():.2f} GB; mean dose {dose.mean():.0f} Gy")
    if n <= 256:  # the one-level variant, for comparison (its FFT spans the whole kernel)
        grid.grid_kernel("Y-90", 1.04, (h, h, h), 2, None)
        t0 = time.perf_counter()
        one = grid.dose_on_grid(src, 2500.0, origin_mm=origin, spacing_mm=h, shape=shape,
                              coarse_factor=None)
        dt1 = time.perf_counter() - t0
        print(f"  same grid with one level (kernel half-width {int(math.ceil(r_cut / h + 0.5))}): "
              f"{dt1:.2f} s = {n**3 / dt1:.3g} voxels/s; max |two-level / one-level - 1| = "
              f"{np.max(np.abs(dose / one - 1)):.1e}; peak RSS so far {peak_gb():.2f} GB")
    return dt


def baselines(src, side, n, h, t_ours, skip_naive):
    """scipy.signal.fftconvolve of the binned activity: same fine kernel, and one level."""
    from scipy.signal import fftconvolve

    from dosimetry import _grid_kernels as gk

    shape = (n, n, n)
    origin = np.full(3, side / 2 - n * h / 2 + h / 2)
    r_cut = cf.radial_table("Y-90", 1.04).r_cut_mm
    cfac = grid._auto_coarse_factor(np.array(shape), np.full(3, h), r_cut, 2, 2e9, np.float32)
    idx = np.floor((src - origin) / h + 0.5).astype(np.int64)
    kernels = [("the same fine kernel", grid.grid_kernel("Y-90", 1.04, (h, h, h), 2, cfac))]
    if not skip_naive:
        kernels.append(("the one-level kernel", None))
    for label, kern in kernels:
        k = (np.array(kern.fine.shape) - 1 if kern is not None
             else np.full(3, int(math.ceil(r_cut / h + 0.5))))
        need = naive_bytes(shape, k)
        if need > 0.6 * 24e9:
            print(f"  fftconvolve with {label} ({2 * k[0] + 1}^3) skipped: needs "
                  f"~{need / 1e9:.0f} GB")
            continue
        if kern is None:
            kern = grid.grid_kernel("Y-90", 1.04, (h, h, h), 2, None)
        buf = np.zeros(tuple(int(s + 2 * kk) for s, kk in zip(shape, k)), dtype=np.float32)
        sel = np.flatnonzero(np.all((idx >= -k - 2) & (idx < n + k + 2), axis=1))
        sel = sel[np.argsort(idx[sel, 0], kind="stable")]
        decays = cf.decays_complete(np.full(sel.size, 2500.0))
        gk.bin_quart(np.ascontiguousarray(src[sel]), decays, grid._slabs(idx[sel, 0], 5), origin,
                     np.full(3, 1 / h), -k, buf)
        full = grid._mirror(kern.fine).astype(np.float32)
        t0 = time.perf_counter()
        fftconvolve(buf, full, mode="valid")
        dt = time.perf_counter() - t0
        del buf, full
        print(f"  {n}^3 at {h * 1000:.0f} um: scipy.signal.fftconvolve of the binned activity with "
              f"{label} ({2 * k[0] + 1}^3): {dt:.2f} s = {n**3 / dt:.3g} voxels/s; dose_on_grid "
              f"(all parts) takes {t_ours / dt:.2f}x its time; peak RSS so far {peak_gb():.2f} GB")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spheres", type=int, default=1_000_000)
    p.add_argument("--points", type=int, default=10_000)
    p.add_argument("--skip-naive", action="store_true",
                   help="skip the one-level fftconvolve baselines (large memory)")
    a = p.parse_args(argv)
    rng = np.random.default_rng(1)
    src, side = point_mode(a.spheres, a.points, rng)
    cases = [(256, 0.1), (512, 0.05)]
    times = [grid_mode(src, side, n, h) for n, h in cases]
    for (n, h), t in zip(cases, times):
        baselines(src, side, n, h, t, a.skip_naive)


if __name__ == "__main__":
    main()
