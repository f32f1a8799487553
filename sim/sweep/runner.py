"""Parameter sweeps on Dask: many scenarios from one base config, resumable and reproducible.

A sweep file (TOML) names a base scenario and what to vary::

    base = "default.toml"          # relative to the sweep file
    name = "device_day"            # output folder results/NAME (or --output)
    command = "run"                # or "chain": every point runs the clinical chain
    root_seed = 1                  # replicate r runs with seeds derived from (root_seed, r)
    replicates = 3
    metrics = ["normal_mean_Gy", "lobules_normal_below_40Gy"]   # figure panels
    keep = "counts"                # per point: "full" (every sphere, the dose grid),
                                   # "counts" (per segment and lobule; default), "summary"
    [set]                          # fixed overrides for every point
    "dose.grid_um" = 500.0
    [grid]                         # cartesian product
    "treatment.device" = ["glass", "resin"]
    [zip]                          # zipped lists (equal lengths), combined with the grid
    "transport.straight_ratio" = [0.5, 0.6]
    "transport.spheres_to_occlude" = [50.0, 100.0]

Seeds: replicate r of every point runs with the same seed (common random numbers: points of
one replicate share the tree and the random streams, so differences between points are due to
the parameters), derived from ``root_seed`` through ``numpy.random.SeedSequence``. Results do
not depend on the number or kind of workers.

Each point writes ``point_NNNNN.h5`` atomically (or ``point_NNNNN.error.json`` when it fails);
rerunning the sweep skips finished points, so an interrupted sweep loses only the points in
flight. ``summary.csv`` lists every point's parameters, status and metrics
(``pandas.read_csv``).
"""
from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from pathlib import Path
import tempfile
import time
import traceback
from typing import Literal

import numba
from pydantic import Field, ValidationError

from sim.clinical.chain import CHAIN_METRICS, run_chain
from sim.config import ConfigError, Section, read_toml, resolve_scenario
from sim.pipeline import run
from sim.progress import Progress
from sim.results import SUMMARY_METRICS, open_results
from sim.results.io import ResultsError
from sim.seeding import replicate_seed

__all__ = ["SweepSpec", "load_sweep", "expand_points", "point_overrides", "run_point",
           "run_sweep", "write_summary", "warm_worker", "DEFAULT_METRICS", "MAX_WORKERS"]

DEFAULT_METRICS = ("normal_mean_Gy", "tumour_mean_Gy", "lobules_normal_below_40Gy",
                   "lobules_normal_below_70Gy", "normal_NTCP_LKB", "spheres_per_terminal_cv")


#: Largest number of LocalCluster worker processes (``--workers``).
MAX_WORKERS = 512


class SweepSpec(Section):
    """A validated sweep file."""

    base: str
    name: str = "sweep"
    command: Literal["run", "chain"] = "run"
    root_seed: int = Field(default=1, ge=0, lt=2**63)
    replicates: int = Field(default=1, ge=1, le=10000)
    metrics: list[str] = list(DEFAULT_METRICS)
    keep: Literal["full", "counts", "summary"] = "counts"
    set: dict[str, object] = {}
    grid: dict[str, list] = {}
    zip: dict[str, list] = {}


def load_sweep(path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; returns the spec and the base scenario's path.

    Raises
    ------
    ConfigError
        Naming the file and key (bad TOML, unknown keys, unequal zip lengths, empty lists,
        missing base file).
    """
    path = Path(path)
    data = read_toml(path)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(x) for x in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{path}: {key}: {msg}") from None
    for section in ("grid", "zip"):
        for key, values in getattr(spec, section).items():
            if not values:
                raise ConfigError(f"{path}: {section}.{key}: needs at least one value")
    lengths = {len(v) for v in spec.zip.values()}
    if len(lengths) > 1:
        raise ConfigError(f"{path}: zip: lists have unequal lengths "
                          f"({', '.join(f'{k}: {len(v)}' for k, v in spec.zip.items())})")
    allowed = SUMMARY_METRICS + (CHAIN_METRICS if spec.command == "chain" else ())
    unknown = [m for m in spec.metrics if m not in allowed]
    if unknown:
        raise ConfigError(f"{path}: metrics: {unknown[0]!r} is not a summary metric of "
                          f"`taresim {spec.command}` (allowed: {', '.join(allowed)})")
    both = set(spec.grid) & set(spec.zip)
    if both:
        raise ConfigError(f"{path}: {sorted(both)[0]} is both in [grid] and [zip]")
    base = (path.parent / spec.base).resolve()
    if not base.exists():
        raise ConfigError(f"{path}: base: file not found: {base}")
    return spec, base


def expand_points(spec: SweepSpec) -> list[dict]:
    """The sweep's points: parameters (grid x zip), replicate, seed and an id."""
    grid_keys = list(spec.grid)
    zip_keys = list(spec.zip)
    n_zip = len(next(iter(spec.zip.values()))) if zip_keys else 1
    combos = list(itertools.product(*(spec.grid[k] for k in grid_keys))) or [()]
    points = []
    for combo in combos:
        for zi in range(n_zip):
            params = dict(zip(grid_keys, combo))
            params.update({k: spec.zip[k][zi] for k in zip_keys})
            for r in range(spec.replicates):
                idx = len(points)
                points.append({"index": idx, "params": params, "replicate": r,
                               "seed": replicate_seed(spec.root_seed, r),
                               "id": f"point_{idx:05d}"})
    return points


def _toml_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def point_overrides(spec: SweepSpec, point: dict) -> list[str]:
    """``key=value`` overrides of a point (fixed [set] values first)."""
    items = list(spec.set.items()) + list(point["params"].items())
    return [f"{k}={_toml_literal(v)}" for k, v in items]


def fingerprint(spec: SweepSpec, base_text: str) -> str:
    """Hash of the sweep definition and base config: a rerun resumes only the same sweep."""
    # sweeps of `run` keep the fingerprint they had before `command` existed (resumable)
    dump = spec.model_dump_json(exclude={"command"} if spec.command == "run" else None)
    h = hashlib.sha256(dump.encode() + base_text.encode())
    return h.hexdigest()[:16]


def run_point(base_path: str, overrides: list[str], seed: int, out_path: str,
              numba_threads: int = 1, keep: str = "counts", command: str = "run") -> dict:
    """Run one point (in a worker) and write its result atomically; never raises.

    Returns
    -------
    dict
        ``status`` ("ok" or "failed"), the summary or the error text.
    """
    t0 = time.perf_counter()
    try:
        numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
        if command == "chain":
            res, _ = run_chain(base_path, output=out_path, seed=seed, overrides=overrides,
                               figures=False, nifti=False, keep=keep)
        else:
            res = run(base_path, output=out_path, seed=seed, overrides=overrides, figures=False,
                      keep=keep)
        return {"status": "ok", "summary": res.summary(),
                "elapsed_s": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - a failing point is recorded, not raised
        err = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(), "overrides": overrides, "seed": seed}
        tmp = Path(out_path).with_suffix(f".error.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(err, indent=2))
        os.replace(tmp, Path(out_path).with_suffix(".error.json"))
        return err


_WARM_SCENARIO = {
    "name": "warm-up", "seed": 1,
    "tree": {"generator": "grown", "root_radius_um": 200.0, "root_xyz_mm": [-4.0, 0.0, 0.0],
             "domain": {"shape": "ellipsoid", "centre_mm": [0.0, 0.0, 0.0],
                        "semi_axes_mm": [3.0, 2.5, 2.5]},
             "tumours": [{"centre_mm": [0.5, 0.0, 0.0], "radius_mm": 1.0}]},
    "flow": {"calibrate_perfusion_mL_min_g": 0.27},
    "dose": {"grid_um": 500.0},
}


def warm_worker(numba_threads: int = 1) -> float:
    """Load the compiled kernels from numba's cache by running a tiny scenario (once per
    worker, in parallel at cluster start) so that no sweep point pays for it; returns [s]."""
    t0 = time.perf_counter()
    numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
    with tempfile.TemporaryDirectory() as tmp:
        run(_WARM_SCENARIO, output=Path(tmp) / "warm.h5", figures=False)
    return time.perf_counter() - t0


def _finished(out: Path) -> dict | None:
    """Summary of an already finished point, or None (missing or unreadable: rerun it)."""
    if not out.exists():
        return None
    try:
        return open_results(out).summary()
    except (ResultsError, OSError, KeyError, ValueError):
        return None


def run_sweep(path, *, output=None, scheduler=None, workers=None, progress=False,
              retry_failed=False) -> Path:
    """Run (or resume) a sweep; returns the path of its ``summary.csv``.

    Parameters
    ----------
    path : str or Path
        Sweep file.
    output : str or Path, optional
        Output folder (default ``results/NAME``).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); default: a LocalCluster
        with one single-threaded worker process per core.
    workers : int, optional
        Workers of the LocalCluster (default: CPU count).
    progress : bool
        Progress bar.
    retry_failed : bool
        Rerun points that failed before (their error files are replaced).
    """
    spec, base = load_sweep(path)
    out = Path(output) if output is not None else Path("results") / spec.name
    base_text = base.read_text(encoding="utf-8")
    fp = fingerprint(spec, base_text)
    stamp = out / "sweep.json"
    if stamp.exists():
        old = json.loads(stamp.read_text())
        if old.get("fingerprint") != fp:
            raise ConfigError(f"{out}: holds another sweep (fingerprint {old.get('fingerprint')}"
                              f" != {fp}); choose another --output")
    points = expand_points(spec)
    # validate every point's config before writing anything: bad overrides fail fast, cleanly
    for p in points:
        try:
            resolve_scenario(base, seed=p["seed"], overrides=point_overrides(spec, p))
        except ConfigError as exc:
            raise ConfigError(f"{path}: point {p['id']} ({p['params']}): {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".point_*.tmp"):  # left by a killed run; nothing else writes here
        stale.unlink(missing_ok=True)
    _write_json(stamp, {"fingerprint": fp, "sweep_file": str(Path(path).resolve()),
                        "base": str(base), "n_points": len(points), "spec": spec.model_dump()})

    results: dict[int, dict] = {}
    todo = []
    for p in points:
        f = out / f"{p['id']}.h5"
        done = _finished(f)
        err = f.with_suffix(".error.json")
        if done is not None:
            results[p["index"]] = {"status": "ok", "summary": done}
        elif err.exists() and not retry_failed:
            results[p["index"]] = json.loads(err.read_text())
        else:
            todo.append(p)
    if todo:
        _execute(spec, base, out, todo, results, scheduler, workers, progress)
    return write_summary(out, spec, points, results)


def _execute(spec, base, out, todo, results, scheduler, workers, progress):
    # dask.distributed takes ~1 s to import: only sweeps pay for it
    import dask.config
    from dask.distributed import Client, LocalCluster, as_completed

    n_cpu = os.cpu_count() or 1
    if scheduler:
        client = Client(scheduler)
        cluster = None
        threads = 1
    else:
        n = workers or n_cpu
        # The workers' statistical profiler samples every 10 ms and takes the GIL from the
        # Python parts of a point (~15 % here); sweeps do not need it. The dashboard takes a
        # free port: two sweeps (or a Jupyter session) on one machine must not collide.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
        threads = max(1, n_cpu // n)
    try:
        client.run(warm_worker, threads)
        futures = {}
        for p in todo:
            fut = client.submit(run_point, str(base), point_overrides(spec, p), p["seed"],
                                str(out / f"{p['id']}.h5"), threads, spec.keep, spec.command,
                                key=f"{p['id']}-{p['seed']}", pure=False)
            futures[fut] = p
        with Progress.of(progress, f"sweep {spec.name}", total=len(todo)) as bar:
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    results[p["index"]] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its point only
                    results[p["index"]] = {"status": "failed",
                                           "error": f"{type(exc).__name__}: {exc}"}
                bar.advance(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def write_summary(out: Path, spec: SweepSpec, points: list[dict], results: dict) -> Path:
    """Write ``summary.csv``: one row per point (parameters, replicate, seed, status, metrics)."""
    rows = []
    metric_keys: list[str] = []
    for p in points:
        r = results.get(p["index"], {"status": "missing"})
        row = {"point": p["id"], **p["params"], "replicate": p["replicate"], "seed": p["seed"],
               "status": r.get("status", "missing"), "error": r.get("error", ""),
               "elapsed_s": r.get("elapsed_s", (r.get("summary") or {}).get("elapsed_s"))}
        for k, v in (r.get("summary") or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) or v is None:
                row[k] = v
                if k not in metric_keys:
                    metric_keys.append(k)
        rows.append(row)
    cols = ["point", *spec.grid, *spec.zip, "replicate", "seed", "status", "error", "elapsed_s",
            *metric_keys]
    cols = list(dict.fromkeys(cols))
    path = out / "summary.csv"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    os.replace(tmp, path)
    return path
