"""The ``taresim`` commands: each parses nothing, checks its outputs before any work, calls
the Python functions that do the work, and prints (``--json`` for machines)."""
from __future__ import annotations

from pathlib import Path
import warnings

import numpy as np

from dosimetry.kernel_plot import REFERENCE_KERNELS, plot_kernel, plot_kernel_references
from dosimetry.kernels import load_kernel
from dosimetry.voxel_s import kernel_report
from sim import pipeline
from sim.cli.common import (FIG_SUFFIXES, UserError, check_output, console, input_errors,
                            print_json, show_progress)
from sim.cli.report import (print_devices, print_dose_table, print_histology,
                            print_kernel_report, print_plan,
                            print_point_doses, print_run_summary, print_transport_summary,
                            print_tree_summary)
from sim.compare import compare_devices
from sim.validation import STUDIES, run_validation
from sim.config import (DoseSpec, Plan, Scenario, Treatment, check_option, device_library,
                        load_scenario)
from sim.config.devices import device_table
from sim.config.options import HistologyOptions, KernelOptions, SweepOptions
from sim.dose.plot import save_dose_figures
from sim.histology import virtual_histology
from sim.histology.report import public
from sim.plan import plan_scenario
from sim.results import ResultsError, open_results
from sim.sweep import load_sweep, plot_sweep, read_summary, run_sweep
from sim.transport import activity_per_segment_Bq, spheres_per_segment
from sim.transport.plot import draw_deposition_figures, occlusion_cap_of
from sim.tree.io import write_vtp
from sim.tree.plot import plot_tree

__all__ = ["cmd_plan", "cmd_devices", "cmd_tree", "cmd_transport", "cmd_kernel", "cmd_dose",
           "cmd_run", "cmd_show", "cmd_plot", "cmd_sweep", "cmd_compare", "cmd_histology",
           "cmd_validate"]


def cmd_plan(args) -> int:
    with input_errors(f"{args.config}: "):
        result = plan_scenario(load_scenario(args.config))
    if args.json:
        print_json(result)
    else:
        print_plan(console(), result)
    return 0


def cmd_devices(args) -> int:
    day = check_option("--day", Treatment, "days_after_calibration", args.day)
    activity = check_option("--activity", Treatment, "activity_GBq", args.activity)
    rows = device_table(day, activity)
    if args.json:
        print_json(rows)
    else:
        print_devices(console(), rows, day, activity)
    return 0


def _seed(args):
    seed = getattr(args, "seed", None)
    return None if seed is None else check_option("--seed", Scenario, "seed", seed)


def _run_stage(args, until):
    """Run the pipeline up to ``until`` with the command's config, seed and output."""
    with input_errors(f"{args.config}: "):
        return pipeline.run(args.config, output=args.output, seed=_seed(args), figures=False,
                            until=until, progress=show_progress(args))


def cmd_tree(args) -> int:
    check_output(args.output, "-o", (".h5", ".hdf5"))
    check_output(args.vtp, "--vtp", (".vtp",))
    check_output(args.plot, "--plot", FIG_SUFFIXES)
    res = _run_stage(args, "tree")
    summary = dict(res.summary(), output=str(res.path))
    tree, flow = res.tree(), res.flow()
    if args.vtp:
        write_vtp(args.vtp, tree, flow)
        summary["vtp"] = str(args.vtp)
    if args.plot:
        fig, _ = plot_tree(tree, flow, color_by="flow",
                           title=f"{res.attrs.get('scenario')}, seed {res.attrs.get('seed')}")
        fig.savefig(args.plot, dpi=130)
        summary["plot"] = str(args.plot)
    if args.json:
        print_json(summary)
        return 0
    con = console()
    print_tree_summary(con, summary)
    con.print(f"wrote {res.path}" + (f", {args.vtp}" if args.vtp else "") +
              (f", {args.plot}" if args.plot else ""))
    return 0


def cmd_transport(args) -> int:
    check_output(args.output, "-o", (".h5", ".hdf5"))
    check_output(args.vtp, "--vtp", (".vtp",))
    check_output(args.plot_dir, "--plot-dir", folder=True)
    res = _run_stage(args, "transport")
    summary = dict(res.summary(), output=str(res.path))
    if args.vtp or args.plot_dir:
        tree, flow, dep = res.tree(), res.flow(), res.deposition()
        per_seg = dep["spheres_per_segment"].astype(np.int64)
        act = np.bincount(dep["segment"], weights=dep["activity_Bq"].astype(np.float64),
                          minlength=tree.n_segments)
    if args.vtp:
        write_vtp(args.vtp, tree, flow, cell_data={"spheres": per_seg, "activity_Bq": act})
        summary["vtp"] = str(args.vtp)
    if args.plot_dir:
        rx = summary["prescription"]
        label = (f"{rx['device_name']}, {rx['activity_GBq']:.3g} GBq, day "
                 f"{rx['days_after_calibration']:g}, seed {summary['seed']}")
        cap = occlusion_cap_of(res.scenario().transport)
        summary["figures"] = draw_deposition_figures(Path(args.plot_dir), summary["scenario"],
                                                     label, tree, rx["device"], per_seg, cap)
    if args.json:
        print_json(summary)
        return 0
    con = console()
    print_transport_summary(con, summary)
    con.print(f"wrote {res.path}")
    return 0


def cmd_kernel(args) -> int:
    opts = KernelOptions(density_g_cm3=check_option("--density", KernelOptions, "density_g_cm3",
                                                    args.density),
                         voxel_mm=check_option("--voxel-mm", KernelOptions, "voxel_mm",
                                               args.voxel_mm))
    check_output(args.plot, "--plot", FIG_SUFFIXES)
    check_output(args.compare, "--compare", FIG_SUFFIXES)
    try:
        out = kernel_report(args.nuclide, voxel_mm=opts.voxel_mm,
                            density_g_cm3=opts.density_g_cm3)
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(f"--nuclide {args.nuclide}: {exc}") from None
    if args.compare and out["nuclide"] not in REFERENCE_KERNELS:
        raise UserError(f"--compare: independent reference kernels exist for "
                        f"{', '.join(REFERENCE_KERNELS)} only, not {out['nuclide']}")
    if args.plot:
        fig, _ = plot_kernel(load_kernel(args.nuclide, density_g_cm3=opts.density_g_cm3))
        fig.savefig(args.plot, dpi=130)
        out["plot"] = str(args.plot)
    if args.compare:
        # the references are water kernels: compared at 1 g/cm^3 whatever --density says
        plot_kernel_references(load_kernel(args.nuclide, photons=True)).savefig(args.compare, dpi=130)
        out["compare_plot"] = str(args.compare)
    if args.json:
        print_json(out)
        return 0
    con = console()
    print_kernel_report(con, out)
    for path in (args.plot, args.compare):
        if path:
            con.print(f"wrote {path}")
    return 0


def _read_points(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pts = np.loadtxt(path, delimiter=",", ndmin=2, comments="#")
    except (OSError, ValueError, UserWarning) as exc:
        raise UserError(f"--points {path}: cannot be read as x,y,z rows in mm ({exc})") from None
    if pts.size == 0:
        raise UserError(f"--points {path}: no points")
    if pts.shape[1] != 3:
        raise UserError(f"--points {path}: needs 3 columns x,y,z [mm], found {pts.shape[1]}")
    if not np.all(np.isfinite(pts)):
        raise UserError(f"--points {path}: coordinates must be finite numbers [mm]")
    return pts


def cmd_dose(args) -> int:
    check_output(args.plot_dir, "--plot-dir", folder=True)
    overrides = []
    if args.grid_um is not None:
        grid_um = check_option("--grid-um", DoseSpec, "grid_um", args.grid_um)
        overrides.append(f"dose.grid_um={float(grid_um)!r}")
    points = _read_points(args.points) if args.points else None
    try:
        res, dose = pipeline.add_dose(args.results, overrides=overrides, points_mm=points)
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    summary = {"results": str(args.results), "grid_shape": dose.extra["grid_shape"],
               "spacing_mm": float(dose.spacing_mm[0]), "metrics": dose.metrics,
               "planning": dose.planning}
    if args.plot_dir:
        scenario = res.scenario()
        dep = res.deposition()
        label = (f"{scenario.device().name}, {dep['attrs'].get('injected_activity_GBq', 0):.3g}"
                 f" GBq, seed {scenario.seed}")
        summary["figures"] = save_dose_figures(Path(args.plot_dir), scenario.name, label, dose,
                                               dep["position_mm"])
    if args.json:
        print_json(summary)
        return 0
    con = console()
    print_dose_table(con, dose)
    if dose.points_mm is not None:
        print_point_doses(con, dose.points_mm, dose.points_dose_Gy)
    print(f"added /dose, /metrics and /planning to {args.results}")
    return 0


def cmd_run(args) -> int:
    check_output(args.output, "-o", (".h5", ".hdf5"))
    with input_errors(f"{args.config}: "):
        res = pipeline.run(args.config, output=args.output, seed=_seed(args),
                           overrides=args.set or (), progress=show_progress(args),
                           figures=not args.no_figures)
    s = res.summary()
    s["output"] = str(res.path)
    if args.json:
        print_json(s)
        return 0
    con = console()
    print_run_summary(con, s)
    con.print(f"wrote {res.path}" + ("" if args.no_figures else " and its figures"))
    return 0


def _open(path):
    try:
        return open_results(path)
    except ResultsError as exc:
        raise UserError(str(exc)) from None


def cmd_show(args) -> int:
    res = _open(args.results)
    s = res.summary()
    if args.json:
        print_json(s)
        return 0
    con = console()
    con.print(f"{res.path}: taresim {res.attrs.get('taresim_version')}, schema "
              f"{res.attrs.get('schema_version')}, created {res.attrs.get('created_utc')}, git "
              f"{str(res.attrs.get('git_sha') or '?')[:10]}, groups {', '.join(res.groups)}")
    if "n_spheres" in s:
        print_run_summary(con, s)
    else:
        print_json(s)
    return 0


def cmd_plot(args) -> int:
    check_output(args.output_dir, "-o", folder=True)
    paths = _open(args.results).plot(args.output_dir)
    if args.json:
        print_json({"figures": paths})
    else:
        for p in paths:
            print(p)
    return 0


def cmd_sweep(args) -> int:
    check_output(args.output, "-o", folder=True)
    workers = check_option("--workers", SweepOptions, "workers", args.workers)
    spec, _ = load_sweep(args.sweep)
    summary = run_sweep(args.sweep, output=args.output, scheduler=args.scheduler,
                        workers=workers, progress=show_progress(args),
                        retry_failed=args.retry_failed)
    swept = list(spec.grid) + list(spec.zip)
    figs = plot_sweep(summary, spec.metrics, swept, title=f"sweep {spec.name}, root seed "
                      f"{spec.root_seed}, {spec.replicates} replicate(s)")
    rows = read_summary(summary)
    ok = sum(r["status"] == "ok" for r in rows)
    failed = [r for r in rows if r["status"] != "ok"]
    out = {"summary_csv": str(summary), "points": len(rows), "ok": ok, "failed": len(failed),
           "figures": figs, "errors": {r["point"]: r["error"] for r in failed}}
    if args.json:
        print_json(out)
    else:
        print(f"{ok} of {len(rows)} points done, {len(failed)} failed; table {summary} "
              "(pandas.read_csv), figures in " + (str(Path(figs[0]).parent) if figs else "-"))
        for r in failed:
            print(f"  {r['point']}: {r['error']}")
    return 0 if not failed else 1


def _print_report(out, args) -> int:
    """The run's JSON with --json, else its Markdown report and the paths of report and figure."""
    if args.json:
        print_json(out)
        return 0
    print(Path(out["report"]).read_text())
    print(f"figure: {out['figure']}\nreport: {out['report']}")
    return 0


def cmd_compare(args) -> int:
    check_output(args.output, "-o", folder=True)
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if not devices:
        raise UserError(f"--devices {args.devices!r}: give at least one device")
    lib = device_library()
    for d in devices:
        if d not in lib:
            raise UserError(f"--devices {d}: unknown device (allowed: {', '.join(sorted(lib))})")
    dose = check_option("--dose-Gy", Plan, "mird_dose_Gy", args.dose_Gy)
    day = (None if args.day is None
           else check_option("--day", Treatment, "days_after_calibration", args.day))
    if not 1 <= args.replicates <= 100:
        raise UserError(f"--replicates {args.replicates}: must be in [1, 100]")
    with input_errors():
        out = compare_devices(args.config, dose_Gy=dose, devices=devices, day=day,
                              output_dir=args.output, seed=_seed(args),
                              replicates=args.replicates, progress=show_progress(args))
    return _print_report(out, args)


_HISTOLOGY_FLAGS = (("--biopsies", "biopsies"), ("--tumour-biopsies", "tumour_biopsies"),
                    ("--diameter-mm", "diameter_mm"), ("--slab-mm", "slab_mm"),
                    ("--sections", "sections"), ("--section-um", "section_um"),
                    ("--gap-um", "gap_um"), ("--seed", "seed"))


def cmd_histology(args) -> int:
    opts = {}
    for flag, key in _HISTOLOGY_FLAGS:
        value = getattr(args, key)
        if value is not None:
            opts[key] = check_option(flag, HistologyOptions, key, value)
    full = HistologyOptions(**opts)
    if full.sections * full.section_um > full.slab_mm * 1e3 * (1 + 1e-9):
        raise UserError(f"--sections {full.sections} x --section-um {full.section_um:g}: "
                        f"{full.sections * full.section_um:g} um do not fit in the "
                        f"{full.slab_mm:g} mm slab (allowed: sections x section-um <= "
                        "--slab-mm x 1000)")
    folder = (Path(args.output_dir) if args.output_dir else
              Path(args.results).with_name(Path(args.results).stem + "_histology"))
    check_output(folder, "-o", folder=True)
    res = _open(args.results)
    with input_errors(f"{args.results}: "):
        out = virtual_histology(res, output_dir=folder, progress=show_progress(args), **opts)
    if args.json:
        print_json(public(out))
        return 0
    print_histology(console(), out)
    return 0


def cmd_validate(args) -> int:
    check_output(args.output, "-o", folder=True)
    if not 1 <= args.replicates <= 50:
        raise UserError(f"--replicates {args.replicates}: must be in [1, 50]")
    names = None
    if args.studies is not None:
        names = [n.strip() for n in args.studies.split(",") if n.strip()]
        bad = [n for n in names if n not in STUDIES] or ([] if names else [args.studies])
        if bad:
            raise UserError(f"--studies {bad[0]!r}: not a study (allowed: "
                            f"{', '.join(STUDIES)})")
    with input_errors():
        out = run_validation(args.output, replicates=args.replicates, studies=names,
                             progress=show_progress(args))
    return _print_report(out, args)
