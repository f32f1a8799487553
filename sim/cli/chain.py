"""``taresim chain``: scout -> plan -> treatment -> imaging -> voxel dosimetry -> comparison."""
from __future__ import annotations

from sim.cli.common import check_output, console, fmt, input_errors, print_json, show_progress
from sim.clinical import run_chain
from sim.clinical.outputs import companion_paths
from sim.config import Scenario, check_option

__all__ = ["add_chain_parser", "cmd_chain", "print_chain_summary"]


def add_chain_parser(sub) -> None:
    """Register the ``chain`` command."""
    p = sub.add_parser(
        "chain", help="scout -> plan -> treatment -> imaging -> voxel dosimetry vs truth",
        description="The clinical chain on the simulated truth: a Tc-99m-MAA scout in the "
                    "treatment's tree and its SPECT, planning from it (T:N, LSF -> MIRD / "
                    "partition / BSA), the treatment at that activity, Y-90 PET and "
                    "bremsstrahlung SPECT, LDM and voxel-S dosimetry, each compared with the "
                    "microscale truth. Writes one results file, a report (Markdown), figures "
                    "and NIfTI images beside it.")
    p.add_argument("config", metavar="CONFIG", help="scenario TOML file (grown tree, Y-90)")
    p.add_argument("-o", "--output", metavar="OUT.h5",
                   help="results file (default results/NAME.chain.h5)")
    p.add_argument("--seed", type=int, help="override the root seed")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                   help="override a config value, e.g. --set imaging.pet_y90.fwhm_mm=6 "
                        "(repeatable; values are TOML)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--no-nifti", action="store_true", help="skip the NIfTI images")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_chain)


def print_chain_summary(con, s: dict) -> None:
    """The chain's headline numbers."""
    con.print(f"{s['scenario']} (seed {s['seed']}): {s['device']}, {fmt(s['activity_GBq'])} "
              f"GBq planned by the {s['planning_model']} model from the scout "
              f"({fmt(s['activity_truth_planning_GBq'])} GBq from the scout's truth)")
    con.print(f"scout: {s['scout_particles']:,} MAA particles; LSF {100 * s['lsf_measured']:.1f} %"
              f" measured, {100 * s['lsf_maa_true']:.1f} % MAA, {100 * s['lsf_patient']:.1f} % "
              f"spheres; T:N {fmt(s['tn_measured'])} measured, {fmt(s['tn_maa_true'])} MAA, "
              f"{fmt(s.get('tn_spheres'))} spheres")
    for comp in ("tumour", "normal"):
        if f"{comp}_microscale_mean_Gy" not in s:
            continue
        con.print(f"{comp}: predicted {fmt(s.get(f'{comp}_predicted_Gy'))} Gy, true "
                  f"{fmt(s[f'{comp}_microscale_mean_Gy'])} Gy (CV "
                  f"{fmt(s[f'{comp}_microscale_cv'], 2)}), LDM on PET "
                  f"{fmt(s.get(f'{comp}_ldm_pet_y90_mean_Gy'))} Gy (CV "
                  f"{fmt(s.get(f'{comp}_ldm_pet_y90_cv'), 2)}), voxel-S on PET "
                  f"{fmt(s.get(f'{comp}_vsv_pet_y90_mean_Gy'))} Gy")
    key = "segments_predicted_vs_microscale_above_10pct"
    if key in s:
        con.print(f"segments off by > 10 %: scout vs truth {100 * s[key]:.0f} %, scout vs PET "
                  f"{100 * s['segments_predicted_vs_ldm_pet_y90_above_10pct']:.0f} % "
                  "(Wondergem et al. 2013: 68 % of 225)")


def cmd_chain(args) -> int:
    check_output(args.output, "-o", (".h5", ".hdf5"))
    seed = None if args.seed is None else check_option("--seed", Scenario, "seed", args.seed)
    with input_errors(f"{args.config}: "):
        res, chain = run_chain(args.config, output=args.output, seed=seed,
                               overrides=args.set or (), progress=show_progress(args),
                               figures=not args.no_figures,
                               nifti=False if args.no_nifti else None)
    s = dict(chain.summary, output=str(res.path))
    paths = companion_paths(res.path)
    s["report"] = str(paths["report"])
    if paths["nifti"].exists() and not args.no_nifti:
        s["nifti"] = str(paths["nifti"])
    if args.json:
        print_json(s)
        return 0
    con = console()
    print_chain_summary(con, s)
    con.print(f"wrote {res.path}, {paths['report']}"
              + (f", {paths['nifti']}/" if "nifti" in s else "")
              + ("" if args.no_figures else f" and {paths['figures']}/"))
    return 0
