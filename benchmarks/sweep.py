"""Sweep throughput: a 2-worker Dask LocalCluster against the same points run one after another.

Parallel efficiency = T_serial / (2 x T_parallel), T_serial the same points one after another
in one single-threaded process (what each worker runs); target >= 80 % on this 2-core machine.
Run: python benchmarks/sweep.py [--points 8]
"""
import argparse
from pathlib import Path
import shutil
import tempfile
import time

SCENARIO = """
name = "bench"
seed = 1
[tree]
generator = "grown"
root_radius_um = 500.0
root_xyz_mm = [-25.0, 0.0, 0.0]
domain = { shape = "ellipsoid", centre_mm = [0.0, 0.0, 0.0], semi_axes_mm = [22.0, 18.0, 18.0] }
[[tree.tumours]]
centre_mm = [2.0, 0.0, 0.0]
radius_mm = 6.0
[flow]
calibrate_perfusion_mL_min_g = 0.27
[treatment]
device = "glass"
[dose]
grid_um = 250.0
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=16)
    args = ap.parse_args()
    from sim.pipeline import run
    from sim.sweep import expand_points, load_sweep, point_overrides, run_sweep

    tmp = Path(tempfile.mkdtemp())
    try:
        (tmp / "base.toml").write_text(SCENARIO)
        (tmp / "sweep.toml").write_text(
            f'base = "base.toml"\nname = "bench"\nreplicates = {args.points}\n')
        spec, base = load_sweep(tmp / "sweep.toml")
        pts = expand_points(spec)
        import numba

        run(base, output=tmp / "warm.h5", figures=False)  # compile caches, imports
        # the baseline runs the points one after another with one thread, as each worker does
        numba.set_num_threads(1)
        t0 = time.perf_counter()
        for p in pts:
            run(base, output=tmp / "serial" / f"{p['id']}.h5", seed=p["seed"],
                overrides=point_overrides(spec, p), figures=False)
        t_serial = time.perf_counter() - t0
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        t0 = time.perf_counter()
        summary = run_sweep(tmp / "sweep.toml", output=tmp / "dask", workers=2)
        t_par = time.perf_counter() - t0
        import csv

        elapsed = sorted(float(r["elapsed_s"]) for r in csv.DictReader(open(summary)))
        # fixed cost: start a 2-worker cluster and load the kernels in the workers (as the
        # serial baseline's warm-up run did, untimed, for the main process)
        from dask.distributed import Client, LocalCluster

        from sim.sweep import warm_worker

        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                          silence_logs=40) as cl, Client(cl) as c:
            c.run(warm_worker, 1)
        t_start = time.perf_counter() - t0
        eff = t_serial / (2 * t_par)
        eff_steady = t_serial / (2 * max(t_par - t_start, 1e-9))
        print(f"{len(pts)} points: serial {t_serial:.1f} s ({len(pts) / t_serial:.2f} points/s), "
              f"2-worker LocalCluster {t_par:.1f} s ({len(pts) / t_par:.2f} points/s)")
        print(f"parallel efficiency {100 * eff:.0f} % with the cluster start, "
              f"{100 * eff_steady:.0f} % without it (cluster start + kernel loading "
              f"{t_start:.1f} s); "
              "target >= 80 %")
        mean_el = sum(elapsed) / len(elapsed)
        print(f"per point: serial {t_serial / len(pts):.2f} s, in a worker {mean_el:.2f} s "
              f"(slowest {elapsed[-1]:.2f} s): per-point efficiency "
              f"{100 * (t_serial / len(pts)) / mean_el:.0f} %")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
