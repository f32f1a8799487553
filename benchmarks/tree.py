"""Benchmark: tree growth, full flow solves and incremental flow updates.

Usage: python benchmarks/tree.py [--million] [--deep] [--seed 1]

Growth of each size runs in a fresh subprocess so that the reported peak memory (max RSS)
belongs to that size; numba compilation is excluded by a small warm-up growth. ``--deep``
grows the deep trees of the transport benchmarks instead (branching = "trunks", 2.3e5 and
1.85e6 terminals) and prints their depth statistics (bifurcations root -> terminal).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sim.flow import _kernels as fk  # noqa: E402
from sim.flow import FlowState, solve_flow  # noqa: E402
from sim.tree import Ellipsoid, grow_tree, summary  # noqa: E402


@njit(cache=True)
def random_updates(parent, child_start, child_index, term_R, seg_R, sub_R, seg, factor):
    """Apply ``seg_R[seg[t]] *= factor[t]`` one after the other in compiled code."""
    for t in range(seg.shape[0]):
        i = seg[t]
        fk.update_resistance(parent, child_start, child_index, term_R, seg_R, sub_R, i,
                             seg_R[i] * factor[t])


def liver_like(n_terminals, terminal_mass_mg=1.0, density=1.06):
    """Ellipsoid (semi-axes 1.5 : 1 : 0.8) holding ``n_terminals`` terminals, hilum at -x."""
    vol = n_terminals * terminal_mass_mg / density
    a = (vol / (4.0 / 3.0 * np.pi * 1.5 * 0.8)) ** (1.0 / 3.0)
    return Ellipsoid((0.0, 0.0, 0.0), (1.5 * a, a, 0.8 * a)), (-1.5 * a - 5.0, 0.0, 0.0)


def grow(n, seed, branching="partition"):
    dom, root = liver_like(n)
    return grow_tree(domain=dom, root_xyz_mm=root, root_radius_um=2300.0, rng=seed,
                     branching=branching)


def child(n, seed, branching="partition"):
    grow(2000, seed, branching)  # compile / load the numba cache
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    tree = grow(n, seed, branching)
    dt = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = summary(tree)
    print(json.dumps({"terminals": int(tree.is_terminal.sum()), "segments": tree.n_segments,
                      "seconds": dt, "max_rss_MB": rss1 / 1024, "rss_before_MB": rss0 / 1024,
                      "depth_max": int(tree.depth.max()),
                      "bif_mean": s["bifurcations_to_terminal_mean"],
                      "bif_sd": s["bifurcations_to_terminal_sd"],
                      "bif_max": s["bifurcations_to_terminal_max"]}))


def flow_bench(seed):
    tree = grow(100_000, seed)
    solve_flow(tree)
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        solve_flow(tree)
    full = reps / (time.perf_counter() - t0)
    st = FlowState(tree)
    t0 = time.perf_counter()
    for _ in range(reps):
        st.resolve()
        st.field()
    state_full = reps / (time.perf_counter() - t0)

    rng = np.random.default_rng(seed)
    m = 1_000_000
    seg = rng.integers(0, tree.n_segments, m)
    fac = rng.uniform(1.0, 1.05, m)
    args = (tree.parent, tree.child_start, tree.child_index, st.terminal_resistance,
            st.segment_resistance, st.subtree_resistance)
    random_updates(*args, seg[:10], fac[:10])
    t0 = time.perf_counter()
    random_updates(*args, seg, fac)
    upd_kernel = m / (time.perf_counter() - t0)
    k = 100_000
    t0 = time.perf_counter()
    for i, f in zip(seg[:k].tolist(), fac[:k].tolist()):
        st.scale_conductance(i, 1.0 / f)
    upd_python = k / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in seg[:k].tolist():
        st.segment_flow(i)
    q_python = k / (time.perf_counter() - t0)
    ref = FlowState(tree)
    ref.segment_resistance[:] = st.segment_resistance
    ref.resolve()
    err = np.max(np.abs(ref.subtree_resistance / st.subtree_resistance - 1.0))
    return tree, full, state_full, upd_kernel, upd_python, q_python, err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--million", action="store_true", help="also grow 10^6 terminals")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deep", action="store_true", help="trunk trees of 2.3e5 and 1.85e6 "
                    "terminals (depth statistics), no flow benchmark")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--branching", default="partition", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.seed, a.branching)
        return
    print("taresim tree benchmark (ellipsoid liver, 1 terminal per mg, root radius 2300 um)")
    sizes = [10_000, 100_000] + ([1_000_000] if a.million else [])
    branching = "partition"
    if a.deep:
        sizes, branching = [230_000, 1_850_000], "trunks"
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--seed", str(a.seed),
                              "--branching", branching], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"grow {branching} {r['terminals']:>9d} terminals ({r['segments']} segments): "
              f"{r['seconds']:7.2f} s, {r['terminals'] / r['seconds']:,.0f} terminals/s, peak "
              f"RSS {r['max_rss_MB']:.0f} MB (after imports+warm-up {r['rss_before_MB']:.0f} "
              f"MB); bifurcations to a terminal mean {r['bif_mean']:.1f}, SD {r['bif_sd']:.1f}, "
              f"max {r['bif_max']}")
    if a.deep:
        return
    tree, full, sfull, upk, upp, qp, err = flow_bench(a.seed)
    print(f"flow on the 10^5-terminal tree ({tree.n_segments} segments, mean terminal depth "
          f"{tree.depth[tree.is_terminal].mean():.1f}):")
    print(f"  full solves (solve_flow):               {full:10.1f} /s")
    print(f"  full re-solves (FlowState.resolve+field):{sfull:10.1f} /s")
    print(f"  incremental updates (numba loop):       {upk:10.3g} /s")
    print(f"  incremental updates (Python calls):     {upp:10.3g} /s")
    print(f"  segment flow queries (Python calls):    {qp:10.3g} /s")
    print(f"  incremental vs full re-solve, max rel. diff of subtree R: {err:.1e}")


if __name__ == "__main__":
    main()
