"""The ``taresim`` command line. Parsing lives only in :func:`main`; every command calls a
plain Python function that can be used without the CLI."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
import json
import math
import sys

from pathlib import Path

from sim import __version__

EXIT_USAGE = 2


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit status 2."""


@contextmanager
def input_errors(prefix: str = ""):
    """Report the plain ValueErrors that the physics raises for impossible input (values that
    pass the config's ranges but not the model) as one-line user errors; subclasses (pydantic,
    ConfigError, numpy) keep their own handling."""
    try:
        yield
    except ValueError as exc:
        if type(exc) is not ValueError:
            raise
        raise UserError(f"{prefix}{exc}") from None


_FIG_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def check_output(path, what, suffixes=None, folder=False):
    """Refuse an output path that cannot be written, before any work starts."""
    if path is None:
        return
    p = Path(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise UserError(f"{what} {path}: exists and is not a folder")
        parent = p.parent
    else:
        if p.is_dir():
            raise UserError(f"{what} {path}: is a folder, give a file name")
        if suffixes and p.suffix.lower() not in suffixes:
            raise UserError(f"{what} {path}: unsupported file type (allowed: "
                            f"{', '.join(suffixes)})")
        parent = p.parent
    for up in [parent, *parent.parents]:
        if up.exists():
            if not up.is_dir():
                raise UserError(f"{what} {path}: {up} is not a folder")
            break


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def print_json(obj) -> None:
    """Print ``obj`` as JSON (NaN/inf become null)."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    print(json.dumps(clean(obj), indent=2, default=_json_default))


def _console():
    from rich.console import Console

    con = Console(highlight=False)
    # Pipes and files get a fixed wide layout so tables are never squeezed.
    return con if con.is_terminal else Console(highlight=False, width=160)


def _fmt(v, digits=3) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:,.0f}"


# --------------------------------------------------------------------------------------- plan
def cmd_plan(args) -> int:
    from sim.config import load_scenario
    from sim.plan import plan_scenario

    with input_errors(f"{args.config}: "):
        result = plan_scenario(load_scenario(args.config))
    if args.json:
        print_json(result)
        return 0
    from rich.table import Table

    models = result["models"]
    titles = {"mird": "MIRD", "partition": "Partition", "bsa": "BSA", "prescribed": "Given activity"}
    table = Table(title=(f"{result['scenario']}: {result['device_name']}, day "
                         f"{result['days_after_calibration']:g} after calibration, "
                         f"K = {result['dose_constant_Gy_kg_per_GBq']:.2f} Gy kg/GBq, "
                         f"LSF = {100 * result['lung_shunt_fraction']:.1f} %"))
    table.add_column("")
    for name in models:
        table.add_column(titles[name], justify="right")
    rows = [("Activity [GBq]", "activity_GBq", 4), ("Tumour dose [Gy]", "tumour_dose_Gy", 4),
            ("Normal liver dose [Gy]", "normal_dose_Gy", 4),
            ("Perfused liver mean [Gy]", "liver_dose_Gy", 4), ("Lung dose [Gy]", "lung_dose_Gy", 3),
            ("Spheres", "n_spheres", 0), ("Activity per sphere [Bq]", "activity_per_sphere_Bq", 4),
            ("Spheres per GBq", "spheres_per_GBq", 0)]
    for label, key, digits in rows:
        table.add_row(label, *[_fmt(m.get(key), digits) if digits else f"{m.get(key):,.0f}"
                               for m in models.values()])
    con = _console()
    con.print(table)
    con.print("Doses at each model's activity from the partition model with "
              f"T/N = {result['tumour_to_normal']:g} (MIRD assumes uniform uptake: its dose is "
              "the perfused liver mean).")
    any_warning = False
    for name, m in models.items():
        for w in m["warnings"]:
            con.print(f"warning ({titles[name]}): {w}")
            any_warning = True
    for w in result["patient_warnings"]:
        con.print(f"warning (patient): {w}")
        any_warning = True
    if not any_warning:
        con.print("No warnings.")
    return 0


# ------------------------------------------------------------------------------------ devices
def cmd_devices(args) -> int:
    from sim.devices import device_table

    if not (-14.0 <= args.day <= 28.0):
        raise UserError(f"--day {args.day:g}: out of range (allowed: -14 <= day <= 28)")
    if args.activity is not None and not (0 < args.activity <= 50):
        raise UserError(f"--activity {args.activity:g}: out of range (allowed: 0 < GBq <= 50)")
    rows = device_table(args.day, args.activity)
    if args.json:
        print_json(rows)
        return 0
    from rich.table import Table

    what = (f"{args.activity:g} GBq administered" if args.activity is not None
            else "the first standard vial's content that day")
    table = Table(title=f"Microsphere devices on day {args.day:g} after calibration "
                        f"(spheres for {what})")
    for col, just in [("Device", "left"), ("Nuclide", "left"), ("Diameter [um]", "right"),
                      ("Density [g/cm3]", "right"), ("Bq/sphere at cal.", "right"),
                      (f"Bq/sphere day {args.day:g}", "right"), ("Spheres/GBq", "right"),
                      ("Activity [GBq]", "right"), ("Spheres", "right"), ("Embolic", "left")]:
        table.add_column(col, justify=just)
    for r in rows:
        lo, hi = r["diameter_range_um"]
        table.add_row(r["device"], r["nuclide"], f"{r['mean_diameter_um']:g} ({lo:g}-{hi:g})",
                      f"{r['density_g_cm3']:g}", f"{r['activity_per_sphere_at_calibration_Bq']:,.0f}",
                      f"{r['activity_per_sphere_Bq']:,.1f}", f"{r['spheres_per_GBq']:,.0f}",
                      f"{r['activity_GBq']:.3g}", f"{r['n_spheres']:,}", r["embolic"])
    con = _console()
    con.print(table)
    for r in rows:
        con.print(f"  {r['device']}: {r['name']}")
    con.print("Glass: a vial's sphere count is fixed and its activity decays, so spheres per GBq "
              "grow as 2^(t/T1/2). Resin/holmium: activity is drawn from the vial.")
    return 0


# --------------------------------------------------------------------------------------- tree
def _load(args):
    from sim.config import load_scenario

    scenario = load_scenario(args.config)
    if getattr(args, "seed", None) is not None:
        if not 0 <= args.seed < 2**63:
            raise UserError(f"--seed {args.seed}: out of range (allowed: 0 <= seed < 2^63)")
        scenario = scenario.model_copy(update={"seed": args.seed})
    if scenario.tree is None:
        raise UserError(f"{args.config}: the scenario has no [tree] section")
    return scenario


def _default_out(scenario, suffix):
    from pathlib import Path

    return Path("results") / f"{scenario.name}.{suffix}.h5"


def _print_tree_summary(con, s):
    con.print(f"segments {s['segments']:,}, terminals {s['terminals']:,}, terminal depth "
              f"min/mean/max {s['terminal_depth_min']}/{s['terminal_depth_mean']:.1f}/"
              f"{s['terminal_depth_max']}")
    con.print(f"radius {s['radius_um_min']:.1f}-{s['radius_um_max']:.1f} um (terminal mean "
              f"{s['terminal_radius_um_mean']:.1f} um), perfused mass {s['perfused_mass_g']:.2f} g")
    if "inlet_flow_mL_min" in s:
        con.print(f"inlet flow {s['inlet_flow_mL_min']:.3g} mL/min at {s['inlet_pressure_mmHg']:.1f} "
                  "mmHg")
        for k, q in s["flow_mL_min_by_region"].items():
            name = "normal liver" if k == 0 else f"tumour {k}"
            con.print(f"  {name}: {s['mass_g_by_region'][k]:.2f} g, flow {q:.3g} mL/min, "
                      f"perfusion {s['perfusion_mL_min_g_by_region'][k]:.3g} mL/min/g")
    if "tumour_to_normal_ratio" in s:
        con.print(f"tumour-to-normal perfusion ratio {s['tumour_to_normal_ratio']:.3g}")


def cmd_tree(args) -> int:
    from sim import pipeline, results_schema

    check_output(args.output, "-o", (".h5", ".hdf5"))
    check_output(args.vtp, "--vtp", (".vtp",))
    check_output(args.plot, "--plot", _FIG_SUFFIXES)
    scenario = _load(args)
    try:
        tree, flow = pipeline.tree_and_flow(scenario)
    except (ValueError, OSError) as exc:
        raise UserError(f"{args.config}: tree: {exc}") from None
    summary = pipeline.tree_report(tree, flow)
    out = args.output or _default_out(scenario, "tree")
    results_schema.write_stage_results(out, scenario, tree, flow)
    summary["output"] = str(out)
    if args.vtp:
        from sim.tree_io import write_vtp

        write_vtp(args.vtp, tree, flow)
        summary["vtp"] = str(args.vtp)
    if args.plot:
        from sim.tree_plot import plot_tree

        fig, _ = plot_tree(tree, flow, color_by="flow", title=f"{scenario.name}, seed {scenario.seed}")
        fig.savefig(args.plot, dpi=130)
        summary["plot"] = str(args.plot)
    if args.json:
        print_json(summary)
        return 0
    con = _console()
    _print_tree_summary(con, summary)
    con.print(f"wrote {out}" + (f", {args.vtp}" if args.vtp else "") +
              (f", {args.plot}" if args.plot else ""))
    return 0


# ---------------------------------------------------------------------------------- transport
def cmd_transport(args) -> int:
    from sim import pipeline, results_schema

    check_output(args.output, "-o", (".h5", ".hdf5"))
    check_output(args.vtp, "--vtp", (".vtp",))
    check_output(args.plot_dir, "--plot-dir", folder=True)
    scenario = _load(args)
    try:
        tree, flow = pipeline.tree_and_flow(scenario)
        res = pipeline.run_transport(scenario, tree, progress=not args.quiet and sys.stderr.isatty())
    except (ValueError, OSError) as exc:
        raise UserError(f"{args.config}: {exc}") from None
    out = args.output or _default_out(scenario, "transport")
    results_schema.write_stage_results(out, scenario, tree, flow, res)
    summary = {"scenario": scenario.name, "seed": scenario.seed, "prescription": res.prescription,
               **res.summary, "output": str(out)}
    if args.vtp:
        from sim.transport_stats import activity_per_segment_Bq, spheres_per_segment
        from sim.tree_io import write_vtp

        write_vtp(args.vtp, tree, flow, cell_data={
            "spheres": spheres_per_segment(tree, res.deposition),
            "activity_Bq": activity_per_segment_Bq(tree, res.deposition)})
        summary["vtp"] = str(args.vtp)
    if args.plot_dir:
        from pathlib import Path

        from sim.transport_plot import save_transport_figures

        summary["figures"] = save_transport_figures(Path(args.plot_dir), scenario, tree, flow, res)
    if args.json:
        print_json(summary)
        return 0
    con = _console()
    rx, c = res.prescription, res.summary["counts"]
    con.print(f"{rx['device_name']}: {rx['activity_GBq']:.3g} GBq ({rx['activity_source']}), "
              f"day {rx['days_after_calibration']:g}, {rx['n_spheres']:,} spheres of "
              f"{rx['activity_per_sphere_Bq']:.4g} Bq")
    for name in ("liver", "lung", "reflux", "undelivered"):
        con.print(f"  {name:12s} {c[name]:>12,} spheres  {c[name + '_activity_GBq']:.4g} GBq")
    st = res.summary["spheres_per_terminal"]
    con.print(f"spheres per terminal: mean {st['mean']:.3g}, CV {st['cv']:.3g}, median "
              f"{st['median']:.3g}, max {st['max']:.0f}; empty terminals "
              f"{100 * res.summary['terminals_without_spheres_fraction']:.1f} %")
    cl = res.summary["clusters"]
    if cl["n"]:
        con.print(f"clusters (spheres per occupied vessel): {cl['n']:,}, mean {cl['mean']:.3g}, "
                  f"p90 {cl['p90']:.3g}, max {cl['max']:.0f}; lodged above terminals "
                  f"{100 * res.summary['proximal_fraction']:.2f} %")
    if "tumour_to_normal" in res.summary:
        con.print(f"tumour-to-normal uptake ratio (activity per mass) "
                  f"{res.summary['tumour_to_normal']:.3g}")
    if res.deposition.stasis_at_sphere >= 0:
        con.print(f"stasis after {res.deposition.stasis_at_sphere:,} spheres")
    con.print(f"wrote {out}")
    return 0


# ------------------------------------------------------------------------------------- kernel
def cmd_kernel(args) -> int:
    from dosimetry.kernels import load_kernel
    from dosimetry.voxel_s import kernel_report as kernel_summary_for_cli

    if not (0.1 <= args.density <= 25.0):
        raise UserError(f"--density {args.density:g}: out of range (allowed: 0.1 <= g/cm3 <= 25)")
    check_output(args.plot, "--plot", _FIG_SUFFIXES)
    if args.voxel_mm is not None and not (0.001 <= args.voxel_mm <= 50.0):
        raise UserError(f"--voxel-mm {args.voxel_mm:g}: out of range (allowed: 0.001 <= mm <= 50)")
    try:
        out = kernel_summary_for_cli(args.nuclide, voxel_mm=args.voxel_mm,
                                     density_g_cm3=args.density)
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(f"--nuclide {args.nuclide}: {exc}") from None
    if args.plot:
        from dosimetry.kernel_plot import plot_kernel

        fig, _ = plot_kernel(load_kernel(args.nuclide, density_g_cm3=args.density))
        fig.savefig(args.plot, dpi=130)
        out["plot"] = str(args.plot)
    if args.json:
        print_json(out)
        return 0
    con = _console()
    con.print(f"{out['nuclide']} dose point kernel at {out['density_g_cm3']:g} g/cm3: "
              f"{out['energy_per_decay_MeV']:.4f} MeV absorbed per decay, bremsstrahlung "
              f"{100 * out['bremsstrahlung_fraction']:.2f} % of the emitted energy")
    fr = out["fraction_within_mm"]
    con.print("energy within " + ", ".join(f"{r} mm: {100 * v:.1f} %" for r, v in fr.items()) +
              f"; X90 = {out['x90_mm']:.2f} mm")
    if "s_values_mGy_per_MBq_s" in out:
        from rich.table import Table

        t = Table(title=f"voxel S values, {out['voxel_mm']} mm voxels [mGy/(MBq s)]")
        for c in ("i", "j", "k", "S"):
            t.add_column(c, justify="right")
        for i, j, k, v in out["s_values_mGy_per_MBq_s"]:
            t.add_row(str(i), str(j), str(k), f"{v:.4e}")
        con.print(t)
    if args.plot:
        con.print(f"wrote {args.plot}")
    return 0


# --------------------------------------------------------------------------------------- dose
def _read_points(path):
    import numpy as np

    import warnings

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
    from pathlib import Path

    from sim import pipeline, results_schema
    from sim.results_io import ResultsError

    check_output(args.plot_dir, "--plot-dir", folder=True)
    if args.grid_um is not None and not (25 <= args.grid_um <= 2000):
        raise UserError(f"--grid-um {args.grid_um:g}: out of range (allowed: 25 <= um <= 2000)")
    points = _read_points(args.points) if args.points else None
    try:
        scenario, tree, xyz, act, dep = results_schema.load_stage_results(args.results)
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    res = pipeline.run_dose(scenario, tree, xyz, act,
                            injected_activity_GBq=dep.get("injected_activity_GBq"),
                            grid_um=args.grid_um, points_mm=points)
    results_schema.add_dose_to_results(args.results, res)
    summary = {"results": str(args.results), "grid_shape": res.extra["grid_shape"],
               "spacing_mm": float(res.spacing_mm[0]), "metrics": res.metrics,
               "planning": res.planning}
    if args.plot_dir:
        from sim.dose_plot import save_dose_figures

        label = (f"{scenario.device().name}, {dep.get('injected_activity_GBq', 0):.3g} GBq, "
                 f"seed {scenario.seed}")
        summary["figures"] = save_dose_figures(Path(args.plot_dir), scenario.name, label, res, xyz)
    if args.json:
        print_json(summary)
        return 0
    _print_dose_table(_console(), res)
    print(f"added /dose, /metrics and /planning to {args.results}")
    return 0


def _print_dose_table(con, res):
    from rich.table import Table

    m, p = res.metrics, res.planning
    t = Table(title=f"Cross-fire dose on a {res.spacing_mm[0] * 1e3:.0f} um grid vs planning models")
    for col in ("", "mean [Gy]", "CV", "D90 [Gy]", "D50 [Gy]", "D10 [Gy]", "<40 Gy", "<70 Gy",
                "MIRD [Gy]", "partition [Gy]"):
        t.add_column(col, justify="right" if col else "left")
    rows = [("normal liver", "normal", p.get("partition_normal_dose_Gy")),
            ("tumour", "tumour", p.get("partition_tumour_dose_Gy")),
            ("perfused", "perfused", None),
            ("normal lobules", "lobules_normal", p.get("partition_normal_dose_Gy")),
            ("tumour lobules", "lobules_tumour", p.get("partition_tumour_dose_Gy"))]
    for label, key, part in rows:
        if key not in m:
            continue
        s = m[key]
        t.add_row(label, f"{s['mean_Gy']:.1f}", f"{s['cv']:.2f}", f"{s['D90_Gy']:.1f}",
                  f"{s['D50_Gy']:.1f}", f"{s['D10_Gy']:.1f}", f"{100 * s['below_40Gy']:.1f} %",
                  f"{100 * s['below_70Gy']:.1f} %", f"{p['mird_liver_dose_Gy']:.1f}",
                  "-" if part is None else f"{part:.1f}")
    con.print(t)
    tn = p.get("tumour_to_normal_measured")
    con.print(f"T:N measured from the spheres {tn:.3g}" if tn else "no tumour")
    for c, e in p["explanation_by_region"].items():
        name = "normal liver" if c == "0" else f"tumour {c}"
        con.print(f"{name}: simulated {e['simulated_mean_Gy']:.2f} Gy = partition "
                  f"{e['partition_Gy']:.2f} Gy + K/brems {e['bremsstrahlung_and_K_convention_Gy']:+.2f}"
                  f" + escape {e['escape_Gy']:+.2f} + crossing out {e['crossing_out_Gy']:+.2f} "
                  f"+ crossing in {e['crossing_in_Gy']:+.2f} (the grid holds "
                  f"{100 * e['grid_energy_fraction']:.1f} % of its spheres' energy; the rest, "
                  f"{e['escape_beyond_grid_Gy']:+.2f} Gy, is in the escape term)")
    if "normal" in m:
        ntcp = m["normal"].get("NTCP_LKB")
        con.print(f"normal liver: mean BED {m['normal']['mean_BED_Gy']:.1f} Gy, whole-liver LKB "
                  "NTCP " + (f"{ntcp:.3f}" if ntcp is not None else
                             "not computed (needs liver.whole_liver_mass_kg)"))


# ------------------------------------------------------------------------------ run/show/plot
def _print_run_summary(con, s):
    con.print(f"{s['scenario']} (seed {s['seed']}): {s['device']}, {s['activity_GBq']:.3g} GBq "
              f"({s['activity_source']}), day {s['days_after_calibration']:g}, "
              f"{s['n_spheres']:,} spheres of {s['activity_per_sphere_Bq']:.4g} Bq")
    c = s["counts"]
    con.print(f"perfused {s['perfused_mass_g']:.1f} g, {s['terminals']:,} terminals; spheres: "
              f"liver {c['liver']:,}, lung {c['lung']:,}, reflux {c['reflux']:,}, undelivered "
              f"{c['undelivered']:,}; per terminal mean {s['spheres_per_terminal_mean']:.3g}, "
              f"CV {s['spheres_per_terminal_cv']:.3g}")
    if s.get("tumour_to_normal_uptake"):
        con.print(f"tumour-to-normal uptake (spheres) {s['tumour_to_normal_uptake']:.3g}")
    from rich.table import Table

    t = Table(title=f"Simulated dose ({s['grid_um']:.0f} um grid) vs planning models")
    for col in ("", "simulated mean [Gy]", "CV", "D90 [Gy]", "<40 Gy", "<70 Gy", "MIRD [Gy]",
                "partition [Gy]"):
        t.add_column(col, justify="right" if col else "left")
    for key, label, part in (("normal", "normal liver", s.get("partition_normal_dose_Gy")),
                             ("tumour", "tumour", s.get("partition_tumour_dose_Gy")),
                             ("lobules_normal", "normal lobules", s.get("partition_normal_dose_Gy")),
                             ("lobules_tumour", "tumour lobules", s.get("partition_tumour_dose_Gy"))):
        if f"{key}_mean_Gy" not in s:
            continue
        t.add_row(label, f"{s[key + '_mean_Gy']:.1f}", f"{s[key + '_cv']:.2f}",
                  f"{s[key + '_D90_Gy']:.1f}", f"{100 * s[key + '_below_40Gy']:.1f} %",
                  f"{100 * s[key + '_below_70Gy']:.1f} %", f"{s['mird_liver_dose_Gy']:.1f}",
                  "-" if part is None else f"{part:.1f}")
    con.print(t)
    if s.get("normal_mean_BED_Gy") is not None:
        ntcp = s.get("normal_NTCP_LKB")
        con.print(f"normal liver mean BED {s['normal_mean_BED_Gy']:.1f} Gy, whole-liver LKB NTCP "
                  + (f"{ntcp:.3f}" if ntcp is not None else
                     "not computed (needs liver.whole_liver_mass_kg)"))


def cmd_run(args) -> int:
    from sim.pipeline import run

    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise UserError(f"--seed {args.seed}: out of range (allowed: 0 <= seed < 2^63)")
    check_output(args.output, "-o", (".h5", ".hdf5"))
    with input_errors(f"{args.config}: "):
        res = run(args.config, output=args.output, seed=args.seed, overrides=args.set or (),
                  progress=not args.quiet and sys.stderr.isatty(), figures=not args.no_figures)
    s = res.summary()
    s["output"] = str(res.path)
    if args.json:
        print_json(s)
        return 0
    con = _console()
    _print_run_summary(con, s)
    con.print(f"wrote {res.path}" + ("" if args.no_figures else " and its figures"))
    return 0


def _open(path):
    from sim.results import open_results
    from sim.results_io import ResultsError

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
    con = _console()
    con.print(f"{res.path}: taresim {res.attrs.get('taresim_version')}, schema "
              f"{res.attrs.get('schema_version')}, created {res.attrs.get('created_utc')}, git "
              f"{str(res.attrs.get('git_sha') or '?')[:10]}, groups {', '.join(res.groups)}")
    if "n_spheres" in s:
        _print_run_summary(con, s)
    else:
        print_json(s)
    return 0


def cmd_plot(args) -> int:
    check_output(args.output_dir, "-o", folder=True)
    res = _open(args.results)
    paths = res.plot(args.output_dir)
    if args.json:
        print_json({"figures": paths})
    else:
        for p in paths:
            print(p)
    return 0


# -------------------------------------------------------------------------------------- sweep
def cmd_sweep(args) -> int:
    from sim.sweep import load_sweep, run_sweep
    from sim.sweep_plot import plot_sweep, read_summary

    check_output(args.output, "-o", folder=True)
    if args.workers is not None and not 1 <= args.workers <= 512:
        raise UserError(f"--workers {args.workers}: out of range (allowed: 1 <= workers <= 512)")
    spec, _ = load_sweep(args.sweep)
    summary = run_sweep(args.sweep, output=args.output, scheduler=args.scheduler,
                        workers=args.workers, progress=not args.quiet and sys.stderr.isatty(),
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


# ---------------------------------------------------------------------------- compare-devices
def cmd_compare(args) -> int:
    from sim.compare import compare_devices
    from sim.devices import device_library

    check_output(args.output, "-o", folder=True)
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    lib = device_library()
    for d in devices:
        if d not in lib:
            raise UserError(f"--devices {d}: unknown device (allowed: {', '.join(sorted(lib))})")
    if not 1 <= args.dose_Gy <= 2000:
        raise UserError(f"--dose-Gy {args.dose_Gy:g}: out of range (allowed: 1 <= Gy <= 2000)")
    if args.day is not None and not -14 <= args.day <= 28:
        raise UserError(f"--day {args.day:g}: out of range (allowed: -14 <= day <= 28)")
    with input_errors():
        out = compare_devices(args.config, dose_Gy=args.dose_Gy, devices=devices, day=args.day,
                              output_dir=args.output, seed=args.seed,
                              progress=not args.quiet and sys.stderr.isatty())
    if args.json:
        print_json(out)
        return 0
    print(Path(out["report"]).read_text())
    print(f"figure: {out['figure']}\nreport: {out['report']}")
    return 0


# --------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taresim",
        description="Microsphere-scale simulator of Y-90 / Ho-166 radioembolization.")
    parser.add_argument("--version", action="version", version=f"taresim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plan", help="compare the MIRD, partition and BSA planning models",
                       description="Side-by-side table of the MIRD, partition and BSA models for a "
                                   "scenario: activity, tumour / normal / lung dose, sphere count "
                                   "for the device and treatment day, warnings.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file")
    p.add_argument("--json", action="store_true", help="print JSON with unit-suffixed keys")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("devices", help="device table with sphere counts on a treatment day",
                       description="The microsphere devices with activity per sphere and sphere "
                                   "counts on a treatment day.")
    p.add_argument("--day", type=float, default=0.0,
                   help="treatment day after calibration (negative: before) [days], default 0")
    p.add_argument("--activity", type=float, default=None, metavar="GBQ",
                   help="activity for the sphere count [GBq], default one standard vial")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("tree", help="grow or load the arterial tree and solve its flow",
                       description="Grow, build or load the scenario's arterial tree, solve the "
                                   "Poiseuille flow, write /tree and /flow to HDF5 and print a "
                                   "summary.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file with a [tree] section")
    p.add_argument("-o", "--output", metavar="FILE.h5", help="results file "
                   "(default results/NAME.tree.h5)")
    p.add_argument("--vtp", metavar="FILE", help="also write VTK PolyData for ParaView")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the tree (two projections)")
    p.add_argument("--seed", type=int, help="override the scenario's root seed")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_tree)

    p = sub.add_parser("transport", help="tree + flow + sphere transport",
                       description="Build the tree, solve the flow and transport every sphere "
                                   "of the prescribed activity; writes /tree, /flow and "
                                   "/deposition and prints the accounting.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file with a [tree] section")
    p.add_argument("-o", "--output", metavar="FILE.h5",
                   help="results file (default results/NAME.transport.h5)")
    p.add_argument("--plot-dir", metavar="DIR", help="write the figures (PNG) into DIR")
    p.add_argument("--vtp", metavar="FILE", help="also write VTK PolyData with the lodged "
                   "spheres and activity per segment as cell data")
    p.add_argument("--seed", type=int, help="override the scenario's root seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_transport)

    p = sub.add_parser("run", help="run a scenario end to end",
                       description="Tree -> flow -> transport -> dose -> metrics -> planning "
                                   "comparison, written to one HDF5 file with its figures "
                                   "(PNG) in a folder beside it; prints a short summary.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file")
    p.add_argument("-o", "--output", metavar="OUT.h5", help="results file (default results/NAME.h5)")
    p.add_argument("--seed", type=int, help="override the root seed")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                   help="override a config value, e.g. --set treatment.device=\"resin\" "
                        "(repeatable; values are TOML)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("show", help="print the summary of a results file")
    p.add_argument("results", metavar="RESULTS.h5")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("plot", help="redraw every figure of a results file")
    p.add_argument("results", metavar="RESULTS.h5")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="folder (default NAME_figures beside it)")
    p.add_argument("--json", action="store_true", help="print the figure paths as JSON")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("sweep", help="run a parameter sweep (Dask, resumable)",
                       description="Run the points of a sweep file on Dask (an embedded "
                                   "LocalCluster by default): every point writes its own "
                                   "results atomically, a rerun skips finished points, a "
                                   "failing point is recorded and the others go on.")
    p.add_argument("sweep", metavar="SWEEP.toml")
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (default results/NAME)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask scheduler, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--workers", type=int, help="LocalCluster worker processes (default: cores)")
    p.add_argument("--retry-failed", action="store_true", help="rerun points that failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("compare-devices", help="glass vs resin vs holmium at the same mean dose",
                       description="Treat the same tree and perfused volume with each device "
                                   "at the same MIRD mean dose; one figure panel and a short "
                                   "plain-language report (Markdown).")
    p.add_argument("config", metavar="CONFIG", nargs="?",
                   help="scenario with a [tree] (default: the shipped teaching scenario)")
    p.add_argument("--dose-Gy", type=float, default=120.0, help="MIRD mean dose [Gy] (120)")
    p.add_argument("--devices", default="glass,resin,holmium", help="comma-separated devices")
    p.add_argument("--day", type=float, help="treatment day after calibration for all devices")
    p.add_argument("-o", "--output", metavar="DIR", help="folder (default results/compare_devices)")
    p.add_argument("--seed", type=int, help="override the root seed")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("kernel", help="beta dose point kernel summary and voxel S values",
                       description="Summary of the project's dose point kernel (energy per "
                                   "decay, fraction within 1, 2, 5, 11 mm, X90) and, with "
                                   "--voxel-mm, voxel S values for offsets up to (5, 5, 5).")
    p.add_argument("--nuclide", default="Y-90", help="Y-90 (default) or Ho-166")
    p.add_argument("--voxel-mm", type=float, help="cubic voxel size [mm] for S values")
    p.add_argument("--density", type=float, default=1.04,
                   help="medium density [g/cm3] (default 1.04, soft tissue)")
    p.add_argument("--plot", metavar="FILE.png", help="draw r^2 D(r) with published points")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_kernel)

    p = sub.add_parser("dose", help="cross-fire dose, metrics and planning comparison",
                       description="Add /dose, /metrics and /planning to a transport results "
                                   "file: cross-fire dose of every sphere on a grid over the "
                                   "perfused volume, DVH metrics, lobule doses, BED/NTCP, and "
                                   "the MIRD / partition predictions for the same case.")
    p.add_argument("results", metavar="RESULTS.h5", help="results of `taresim transport`")
    p.add_argument("--grid-um", type=float, help="voxel size [um] (default: [dose] grid_um, 250)")
    p.add_argument("--points", metavar="FILE.csv", help="also the dose at these x,y,z points [mm]")
    p.add_argument("--plot-dir", metavar="DIR", help="write the figures (PNG) into DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_dose)
    return parser


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    from sim.config import ConfigError
    from sim.results_io import ResultsError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError, ResultsError) as exc:
        print(f"taresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # unreadable input or unwritable output named by the user
        print(f"taresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
