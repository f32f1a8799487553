"""The ``taresim`` command line. Parsing lives only in :func:`main`; every command calls a
plain Python function that can be used without the CLI."""
from __future__ import annotations

import argparse
import json
import math
import sys

from sim import __version__

EXIT_USAGE = 2


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit status 2."""


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


# ---------------------------------------------------------------------------------------- main
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
    return parser


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    from sim.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError) as exc:
        print(f"taresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
