"""Sweep throughput: a 2-worker Dask LocalCluster against the same points run one after another.

Parallel efficiency = T_serial / (2 x T_parallel); target >= 80 % on this 2-core machine.
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
    ap.add_argument("--points", type=int, default=8)
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
        run(base, output=tmp / "warm.h5", figures=False)  # compile caches, imports
        t0 = time.perf_counter()
        for p in pts:
            run(base, output=tmp / "serial" / f"{p['id']}.h5", seed=p["seed"],
                overrides=point_overrides(spec, p), figures=False)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_sweep(tmp / "sweep.toml", output=tmp / "dask", workers=2)
        t_par = time.perf_counter() - t0
        eff = t_serial / (2 * t_par)
        print(f"{len(pts)} points: serial {t_serial:.1f} s ({len(pts) / t_serial:.2f} points/s), "
              f"2-worker LocalCluster {t_par:.1f} s ({len(pts) / t_par:.2f} points/s, cluster "
              f"start included); parallel efficiency {100 * eff:.0f} % (target >= 80 %)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
