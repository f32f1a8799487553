"""Benchmark of the electron Monte Carlo behind the beta dose point kernels, and of voxel S values.

Prints histories per second of the Y-90 point-source MC with all numba threads and with one
thread (the tallies must be identical: per-history random streams), and the time of a voxel S
table. Usage::

    python benchmarks/kernel.py [--histories 100000] [--nuclide Y-90]
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from dosimetry import _electron_mc as mc
from dosimetry.electron_physics import build_tables
from dosimetry.kernel_build import beta_source_cdf
from dosimetry.kernels import load_kernel
from dosimetry.voxel_s import voxel_energy_fractions


def run(histories: int, nuclide: str, step_fraction: float) -> None:
    e, cdf, _ = beta_source_cdf(nuclide)
    tables = build_tables(3.0)
    kw = dict(histories=histories, seed=1, batches=40, shell_width_mm=0.05, n_shells=280,
              step_fraction=step_fraction)
    mc.simulate_point_source(e, cdf, tables, **dict(kw, histories=200, batches=2))  # compile
    results = {}
    n_all = numba.config.NUMBA_NUM_THREADS
    for threads in sorted({n_all, 1}, reverse=True):
        numba.set_num_threads(threads)
        t0 = time.perf_counter()
        tally, acc, _, _ = mc.simulate_point_source(e, cdf, tables, **kw)
        dt = time.perf_counter() - t0
        results[threads] = (tally, dt)
        steps = acc[:, mc.ACC_STEPS].sum() / histories
        print(f"{nuclide} electron MC, {threads} thread(s): {histories / dt:,.0f} histories/s "
              f"({steps:.0f} steps/history, step fraction {step_fraction}), {dt:.2f} s")
    numba.set_num_threads(n_all)
    if len(results) == 2:
        same = np.array_equal(results[n_all][0], results[1][0])
        print(f"speed-up {results[1][1] / results[n_all][1]:.2f}x on {n_all} threads; "
              f"tallies identical across thread counts: {same}")
    k = load_kernel(nuclide, density_g_cm3=1.04)
    t0 = time.perf_counter()
    frac = voxel_energy_fractions(k, 4.42, 5, quad_points=24)
    print(f"voxel S table 6x6x6 (4.42 mm, 1.04 g/cm^3): {time.perf_counter() - t0:.3f} s; "
          f"source-voxel fraction {frac[0, 0, 0]:.4f}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--histories", type=int, default=100_000)
    p.add_argument("--nuclide", default="Y-90")
    p.add_argument("--step-fraction", type=float, default=0.02)
    a = p.parse_args(argv)
    run(a.histories, a.nuclide, a.step_fraction)


if __name__ == "__main__":
    main()
