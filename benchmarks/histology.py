"""Virtual histology throughput: cluster detection (spheres/s) and section dose (points/s).

Run: python benchmarks/histology.py [--spheres 200000] [--file RESULTS.h5]

Cluster detection: strings of 1-40 touching 30-um spheres (random directions, lengths
geometric with mean 8, float32 coordinates as in a results file) scattered in a 40 mm cube;
the rate counts the spheres labelled per second (cKDTree pairs + connected components +
shapes). Section dose: a 7 mm biopsy with 15 sections of 30 um, a 100 um lattice, the papers'
dose from 1,000 spheres in the sections (points/s), and the true dose at 2,000 points from
every sphere (split sum; points/s). With ``--file``, the whole ``virtual_histology`` on a
results file, timed.
"""
import argparse
import time

import numpy as np

from sim.histology import cluster_shapes, find_clusters, papers_dose, true_dose
from sim.histology.biopsy import Biopsy
from sim.histology.dose import section_points


def strings(n, rng, box=40.0, d_um=30.0):
    out, total = [], 0
    while total < n:
        k = min(int(rng.geometric(1 / 8)), 40, n - total)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        out.append(rng.uniform(0, box, 3) + np.arange(k)[:, None] * d_um * 1e-3 * u)
        total += k
    return np.concatenate(out).astype(np.float32)


def clusters(n, rng):
    xyz = strings(n, rng)
    find_clusters(xyz[:1000], 30.0)  # warm up
    t0 = time.perf_counter()
    labels, pairs = find_clusters(xyz, 30.0)
    sh = cluster_shapes(xyz, labels, pairs)
    dt = time.perf_counter() - t0
    print(f"cluster detection: {n:,} spheres -> {sh['size'].size:,} clusters (largest "
          f"{sh['size'].max()}) in {dt:.2f} s = {n / dt:.3g} spheres/s")


def section_dose(rng):
    b = Biopsy(np.zeros(3), np.array([0.0, 0.0, 1.0]), 3.5, 1.5)
    pts, _ = section_points(b, 0.03, 15, 0.1)
    src = np.column_stack([rng.uniform(-3.5, 3.5, (1000, 2)), rng.uniform(0.3, 0.75, 1000)])
    papers_dose(pts[:10], src[:10], 400.0)  # compile
    t0 = time.perf_counter()
    papers_dose(pts, src, 400.0)
    dt = time.perf_counter() - t0
    print(f"papers' dose: {pts.shape[0]:,} points x 1,000 spheres in {dt:.2f} s = "
          f"{pts.shape[0] / dt:.3g} points/s")
    allsrc = rng.uniform(-30, 30, (1_000_000, 3))
    sub = pts[rng.choice(pts.shape[0], 2000, replace=False)]
    for method in ("exact", "split"):
        t0 = time.perf_counter()
        true_dose(sub, allsrc, 400.0, method=method)
        dt = time.perf_counter() - t0
        print(f"true dose ({method}): 2,000 points x 1,000,000 spheres in {dt:.2f} s = "
              f"{2000 / dt:.3g} points/s")


def whole(path):
    from sim.histology import virtual_histology
    t0 = time.perf_counter()
    out = virtual_histology(path, progress="log")
    print(f"virtual_histology({path}): {out['spheres']:,} spheres, "
          f"{time.perf_counter() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spheres", type=int, default=200_000)
    ap.add_argument("--file", help="a results file for the whole virtual histology")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    clusters(args.spheres, rng)
    section_dose(rng)
    if args.file:
        whole(args.file)


if __name__ == "__main__":
    main()
