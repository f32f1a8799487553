"""Transport throughput and peak memory on shallow and deep trees, with and without feedback.

Run: python benchmarks/transport.py [--trees shallow,deep,deeper] [--quick] [--cache DIR]

Trees (liver-shaped ellipsoids, 1 mg terminals, grown once and cached as HDF5):

========  ======================  ==========  =======================================
name      generator               terminals   mean bifurcations root -> terminal
========  ======================  ==========  =======================================
shallow   partition (BSP)         2.3e5       ~20
deep      trunks                  2.3e5       ~220 (Crookston et al. 2019: 221)
deeper    trunks                  1.85e6      ~450 (Crookston: ~435)
million   trunks                  1.0e6       ~370 (the memory case of issue 14)
========  ======================  ==========  =======================================

Cases, each in a fresh process so that its peak RSS is its own (the tree is read from the
cache, not grown): ``none`` transports resin spheres without embolic feedback (4e7 by
default, positions streamed to an HDF5 file); ``walk`` and ``paths`` transport 1e6 spheres
with the linear embolic model and N_occ = 2000 (no stasis: every sphere goes through the
feedback engine); ``plug`` the same with plugs on (walk engine: a vessel holding a lodged
sphere stops every later one); ``vial`` a whole 3 GBq resin vial (44 million spheres) with N_occ = 50 and
the engine ``auto`` picks. Printed: spheres/s, wall and CPU seconds, the engine, and the peak
RSS of the process (and before the transport: interpreter, kernels, tree and flow).
Throughput is spheres transported (until stasis) per second; it is not a timed test.
"""
import argparse
import json
import math
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TREES = {"shallow": ("partition", 230_000), "deep": ("trunks", 230_000),
         "deeper": ("trunks", 1_850_000), "million": ("trunks", 1_000_000)}


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def grow(name, path):
    """Grow a liver-shaped tree (semi-axes 1.5 : 1 : 0.8, hilum at -x) and save it."""
    import h5py

    from sim.tree import Ellipsoid, grow_tree
    from sim.tree.io import write_tree_hdf5

    branching, n = TREES[name]
    a = (n / 1.06 / (4.0 / 3.0 * math.pi * 1.5 * 0.8)) ** (1.0 / 3.0)
    t0 = time.perf_counter()
    tree = grow_tree(domain=Ellipsoid((0.0, 0.0, 0.0), (1.5 * a, a, 0.8 * a)),
                     root_xyz_mm=(-1.5 * a - 5.0, 0.0, 0.0), root_radius_um=2300.0,
                     branching=branching, rng=1)
    dt = time.perf_counter() - t0
    with h5py.File(path, "w") as f:
        write_tree_hdf5(f.create_group("tree"), tree)
    return {"tree": name, "terminals": int(tree.is_terminal.sum()), "segments": tree.n_segments,
            "grow_s": dt, "grow_rss_MB": _rss_mb()}


def case(path, kind, n_spheres):
    """One transport case on a cached tree (run in a child process)."""
    import h5py
    import numpy as np

    from sim.config import TransportParams
    from sim.config.devices import get_device
    from sim.flow import FlowState
    from sim.transport import transport_spheres
    from sim.tree.io import read_tree_hdf5

    with h5py.File(path, "r") as f:
        tree = read_tree_hdf5(f["tree"])
    state = FlowState(tree)
    dev = get_device("resin")
    rx = dev.prescribe(3.0, 0.0)
    n = rx.n_spheres if kind == "vial" else n_spheres
    engine = {"walk": "walk", "paths": "paths"}.get(kind, "auto")
    params = TransportParams(embolic="none" if kind == "none" else "linear",
                             spheres_to_occlude=50.0 if kind == "vial" else 2000.0,
                             lung_shunt_fraction=0.05, plug=kind == "plug")
    # compile outside the timing, on a small tree (no second flow state of the big one)
    from sim.tree import bifurcating_tree

    small = bifurcating_tree(generations=6, terminal_radius_um=30.0)
    for eng in ("split",) if kind == "none" else ("walk",) if kind == "plug" else ("walk", "paths"):
        transport_spheres(small, np.full(100, 30.0, np.float32), 1.0, params=params, rng=0,
                          engine=eng)
    d = dev.sample_diameters_um(n, 1, dtype=np.float32)
    rss0 = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    dep = transport_spheres(tree, d, rx.activity_per_sphere_Bq, params=params, rng=2,
                            engine=engine, flow_state=state)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"kind": kind, "spheres": n, "engine": dep.engine, "wall_s": wall, "cpu_s": cpu,
           "moved": n if dep.stasis_at_sphere < 0 else dep.stasis_at_sphere,
           "liver": int(np.count_nonzero(dep.fate == 0)), "rss_before_MB": rss0}
    if kind == "none":  # stream the positions to a file, as the results writer does
        with tempfile.TemporaryDirectory() as tmp, h5py.File(Path(tmp) / "p.h5", "w") as f:
            t1 = time.perf_counter()
            ds = f.create_dataset("position_mm", shape=(out["liver"], 3), dtype=np.float32)
            k = 0
            for block in dep.iter_liver_positions():
                ds[k:k + len(block)] = block
                k += len(block)
            out["positions_s"] = time.perf_counter() - t1
    out["rss_MB"] = _rss_mb()
    return out


def info(path):
    """Depth statistics of a cached tree."""
    import h5py
    import numpy as np

    from sim.tree._kernels import bifurcation_depth
    from sim.tree.io import read_tree_hdf5

    with h5py.File(path, "r") as f:
        tree = read_tree_hdf5(f["tree"])
    b = bifurcation_depth(tree.parent, tree.child_start)[tree.is_terminal]
    return {"terminals": int(tree.is_terminal.sum()), "depth_mean": float(b.mean()),
            "depth_sd": float(b.std()), "depth_max": int(b.max()),
            "terminal_radius_um": float(np.median(tree.radius_um[tree.is_terminal]))}


def child(argv):
    if argv[0] == "grow":
        print(json.dumps(grow(argv[1], argv[2])))
    elif argv[0] == "info":
        print(json.dumps(info(argv[1])))
    else:
        print(json.dumps(case(argv[1], argv[2], int(float(argv[3])))))


def _run(args):
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", default="shallow,deep,deeper")
    ap.add_argument("--cases", default="none,walk,paths,plug,vial")
    ap.add_argument("--spheres", type=float, default=4e7, help="spheres without feedback")
    ap.add_argument("--feedback-spheres", type=float, default=1e6)
    ap.add_argument("--quick", action="store_true", help="1e7 / 2e5 spheres, no vial")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "taresim-bench"))
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child)
        return
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    cases = a.cases.split(",")
    if a.quick:
        a.spheres, a.feedback_spheres = 1e7, 2e5
        cases = [c for c in cases if c != "vial"]
    for name in a.trees.split(","):
        path = cache / f"{name}.h5"
        if not path.exists():
            g = _run(["grow", name, path])
            print(f"grew {name}: {g['terminals']:,} terminals in {g['grow_s']:.1f} s, peak RSS "
                  f"{g['grow_rss_MB']:.0f} MB")
        i = _run(["info", path])
        print(f"\n{name} tree ({path}): {i['terminals']:,} terminals, bifurcations to a "
              f"terminal mean {i['depth_mean']:.0f} (SD {i['depth_sd']:.0f}, max "
              f"{i['depth_max']}), median terminal radius {i['terminal_radius_um']:.1f} um")
        for kind in cases:
            n = a.spheres if kind == "none" else a.feedback_spheres
            r = _run(["case", path, kind, n])
            rate = r["moved"] / r["wall_s"]
            extra = f", positions streamed in {r['positions_s']:.1f} s" if "positions_s" in r else ""
            print(f"  {kind:6s} {r['engine']:6s} {r['spheres']:>11,} spheres ({r['moved']:,} "
                  f"transported) {r['wall_s']:7.2f} s wall {r['cpu_s']:7.2f} s CPU "
                  f"{rate:>12,.0f} spheres/s  peak RSS {r['rss_MB']:6.0f} MB (before "
                  f"transport {r['rss_before_MB']:.0f} MB){extra}")


if __name__ == "__main__":
    main()
