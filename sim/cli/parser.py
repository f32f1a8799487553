"""The argument parser of ``taresim``: one small function per command."""
from __future__ import annotations

import argparse

from sim._version import __version__
from sim.cli import commands as c
from sim.cli.chain import add_chain_parser

__all__ = ["build_parser"]


def _plan(sub):
    p = sub.add_parser("plan", help="compare the MIRD, partition and BSA planning models",
                       description="Side-by-side table of the MIRD, partition and BSA models for a "
                                   "scenario: activity, tumour / normal / lung dose, sphere count "
                                   "for the device and treatment day, warnings.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file")
    p.add_argument("--json", action="store_true", help="print JSON with unit-suffixed keys")
    p.set_defaults(func=c.cmd_plan)


def _devices(sub):
    p = sub.add_parser("devices", help="device table with sphere counts on a treatment day",
                       description="The microsphere devices with activity per sphere and sphere "
                                   "counts on a treatment day.")
    p.add_argument("--day", type=float, default=0.0,
                   help="treatment day after calibration (negative: before) [days], default 0")
    p.add_argument("--activity", type=float, default=None, metavar="GBQ",
                   help="activity for the sphere count [GBq], default one standard vial")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=c.cmd_devices)


def _tree(sub):
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
    p.set_defaults(func=c.cmd_tree)


def _transport(sub):
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
    p.set_defaults(func=c.cmd_transport)


def _run(sub):
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
    p.set_defaults(func=c.cmd_run)


def _show_plot(sub):
    p = sub.add_parser("show", help="print the summary of a results file",
                       description="Print the provenance (version, git sha, seed, creation time, "
                                   "groups) and the run summary of a results file: delivery, "
                                   "spheres per terminal, uptake, the dose table against the "
                                   "planning models and the warnings. Damaged files or files "
                                   "of another type are refused with one line.")
    p.add_argument("results", metavar="RESULTS.h5", help="a taresim results file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=c.cmd_show)
    p = sub.add_parser("plot", help="redraw every figure of a results file",
                       description="Redraw every figure a results file supports from the file "
                                   "alone (tree, spheres per terminal, deposition map, DVHs, "
                                   "dose slice, lobule doses). Everything is read before "
                                   "anything is written: a damaged file leaves no figures.")
    p.add_argument("results", metavar="RESULTS.h5", help="a taresim results file")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="folder (default NAME_figures beside it)")
    p.add_argument("--json", action="store_true", help="print the figure paths as JSON")
    p.set_defaults(func=c.cmd_plot)


def _sweep(sub):
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
    p.set_defaults(func=c.cmd_sweep)


def _compare(sub):
    p = sub.add_parser("compare-devices", help="glass vs resin vs holmium at the same mean dose",
                       description="Treat the same tree and territory with each device at the "
                                   "same MIRD mean dose, in replicates; one figure panel and a "
                                   "plain-language report (Markdown) with the seed-to-seed "
                                   "spread of every number.")
    p.add_argument("config", metavar="CONFIG", nargs="?",
                   help="scenario with a [tree] (default: the shipped teaching scenario)")
    p.add_argument("--dose-Gy", type=float, default=120.0, help="MIRD mean dose [Gy] (120)")
    p.add_argument("--devices", default="glass,resin,holmium", help="comma-separated devices")
    p.add_argument("--day", type=float, help="treatment day after calibration for all devices")
    p.add_argument("--replicates", type=int, default=3,
                   help="replicates: new tree and sphere paths each (default 3); differences "
                        "are stated only when larger than their spread")
    p.add_argument("-o", "--output", metavar="DIR", help="folder (default results/compare_devices)")
    p.add_argument("--seed", type=int, help="override the root seed")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=c.cmd_compare)


def _kernel(sub):
    p = sub.add_parser("kernel", help="beta dose point kernel summary and voxel S values",
                       description="Summary of the project's dose point kernel (energy per "
                                   "decay, fraction within 1, 2, 5, 11 mm, X90) and, with "
                                   "--voxel-mm, voxel S values for offsets up to (5, 5, 5).")
    p.add_argument("--nuclide", default="Y-90", help="Y-90 (default) or Ho-166")
    p.add_argument("--voxel-mm", type=float, help="cubic voxel size [mm] for S values")
    p.add_argument("--density", type=float, default=1.06,
                   help="medium density [g/cm3] (default 1.06, liver; 1.04: ICRU soft tissue)")
    p.add_argument("--plot", metavar="FILE.png", help="draw r^2 D(r) with published points")
    p.add_argument("--compare", metavar="FILE.png",
                   help="draw the water kernel against independent Monte Carlo kernels "
                        "(PENELOPE-2018, Graves et al. 2019; Y-90 only)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=c.cmd_kernel)


def _dose(sub):
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
    p.set_defaults(func=c.cmd_dose)


def _histology(sub):
    p = sub.add_parser("histology", help="virtual histology: biopsies, sections, clusters",
                       description="Mimic the published histology protocols on a simulated "
                                   "liver: punch biopsies in normal liver and tumour, serial "
                                   "sections, sphere counts per section, clusters (strings, "
                                   "conglomerates), the small-scale dose as the papers "
                                   "computed it and as it truly is, CV and skewness of the "
                                   "activity of 5-500 mg samples, tumour against nearby "
                                   "normal liver; a Markdown report with figures beside the "
                                   "published values. Needs a file that keeps every sphere.")
    p.add_argument("results", metavar="RESULTS.h5", help="results of `taresim run`")
    p.add_argument("-o", "--output-dir", metavar="DIR",
                   help="folder (default NAME_histology beside the file)")
    p.add_argument("--biopsies", type=int, help="normal-liver biopsies sectioned (default 16)")
    p.add_argument("--tumour-biopsies", type=int, help="tumour biopsies (default 4; 0: none)")
    p.add_argument("--diameter-mm", type=float, help="punch diameter [mm] (default 7)")
    p.add_argument("--slab-mm", type=float, help="slab thickness = biopsy length [mm] (1.5)")
    p.add_argument("--sections", type=int, help="serial sections per biopsy (default 15)")
    p.add_argument("--section-um", type=float, help="section thickness [um] (default 30)")
    p.add_argument("--gap-um", type=float,
                   help="largest surface gap of spheres in one cluster [um] (default 0: touching)")
    p.add_argument("--seed", type=int, help="seed of the placements (default 12)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.set_defaults(func=c.cmd_histology)


def _validate(sub):
    p = sub.add_parser("validate", help="the simulated heterogeneity against published data",
                       description="Run the validation studies (perfusion dispersion, Högberg "
                                   "2015/2014 virtual histology, Kennedy 2004, Roberson 1992, "
                                   "Walrand 2014 spreading, the glass vs resin BED50 question) "
                                   "on the shipped scenarios, in replicates, and write a "
                                   "Markdown report with the table (published | simulated ± "
                                   "SD | scenario) and a figure.")
    p.add_argument("-o", "--output", metavar="DIR", help="folder (default results/validation)")
    p.add_argument("--replicates", type=int, default=2,
                   help="replicates per scenario (default 2)")
    p.add_argument("--studies", metavar="NAMES",
                   help="comma-separated subset (perfusion, hogberg, kennedy, walrand2014a, "
                        "device; default all)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(func=c.cmd_validate)


def build_parser() -> argparse.ArgumentParser:
    """The ``taresim`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="taresim",
        description="Microsphere-scale simulator of Y-90 / Ho-166 radioembolization.")
    parser.add_argument("--version", action="version", version=f"taresim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_plan, _devices, _tree, _transport, _run, add_chain_parser, _show_plot, _sweep,
                _compare, _kernel, _dose, _histology, _validate):
        add(sub)
    return parser
