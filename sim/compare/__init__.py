"""Teaching comparison: the same tree and territory treated with each device at the same MIRD
mean dose, in replicates, with one figure panel and a report whose statements follow from
differences larger than the seed-to-seed spread (:mod:`sim.compare.report`)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from sim.compare.panel import comparison_panel
from sim.compare.report import report_markdown
from sim.compare.runs import match_lobule_means, run_devices, run_numbers, spread
from sim.config.io import resolve_scenario
from sim.results.io import check_writable
from sim.transport.plot import occlusion_cap_of

__all__ = ["compare_devices", "default_teaching_config", "DEFAULT_REPLICATES"]

#: Replicates of ``taresim compare-devices`` unless told otherwise: enough for a standard
#: error of the paired differences.
DEFAULT_REPLICATES = 3


def default_teaching_config() -> Path:
    """Path of the shipped teaching scenario."""
    return Path(str(resources.files("sim").joinpath("data/teaching.toml")))


def compare_devices(config=None, *, dose_Gy=120.0, devices=("glass", "resin", "holmium"),
                    day=None, output_dir=None, seed=None, replicates=DEFAULT_REPLICATES,
                    progress=False) -> dict:
    """Run each device on the same anatomy at the same MIRD mean dose, in replicates.

    Parameters
    ----------
    config : path, optional
        Scenario with a [tree] (default: the shipped teaching scenario).
    dose_Gy : float
        Mean treated-territory dose of the MIRD prescription [Gy] for every device.
    devices : sequence of str
        Device keys; the first is compared with each of the others.
    day : float, optional
        Treatment day after calibration for every device (default: the scenario's).
    output_dir : path, optional
        Folder for the results, figure and report (default ``results/compare_devices``).
    seed : int, optional
        Root seed (default: the scenario's); replicate r uses ``replicate_seed(seed, r)``.
    replicates : int
        Replicates (new tree and sphere paths each; >= 1).

    Returns
    -------
    dict
        ``rows`` (device -> numbers of replicate 0 and the mean and SD of each number),
        ``figure``, ``report`` and ``results`` (device -> list of files).
    """
    config = Path(config) if config is not None else default_teaching_config()
    out = Path(output_dir) if output_dir is not None else Path("results") / "compare_devices"
    devices = list(devices)
    if not devices:
        raise ValueError("devices: give at least one device")
    if int(replicates) < 1:
        raise ValueError(f"replicates: {replicates} must be >= 1")
    check_writable(out / "compare_devices.md")
    root = seed if seed is not None else resolve_scenario(config).seed
    results = run_devices(config, dose_Gy=dose_Gy, devices=devices, day=day, output_dir=out,
                          seed=root, replicates=int(replicates), progress=progress)
    numbers = {d: [run_numbers(r) for r in runs] for d, runs in results.items()}
    match_lobule_means(numbers)
    agg = {d: {k: spread([r.get(k) for r in rs]) for k in rs[0] if not k.startswith("_")
               and isinstance(rs[0].get(k), (int, float, type(None)))}
           for d, rs in numbers.items()}
    rows = {d: {"name": rs[0]["device_name"], "nuclide": rs[0]["nuclide"],
                "n_spheres": rs[0]["n_spheres"]} for d, rs in numbers.items()}
    out.mkdir(parents=True, exist_ok=True)
    caps = {d: occlusion_cap_of(runs[0].scenario().transport) for d, runs in results.items()}
    names = [rows[d]["name"] for d in devices]
    title = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    fig_path = out / "compare_devices.png"
    comparison_panel(results, mird_Gy=numbers[devices[0]][0]["mird_planned_Gy"] or dose_Gy,
                     dose_Gy=dose_Gy, caps=caps, title_devices=title,
                     seed=root).savefig(fig_path, dpi=130)
    report = out / "compare_devices.md"
    files = [r.path.name for runs in results.values() for r in runs]
    report.write_text(report_markdown(rows, numbers, agg, dose_Gy=dose_Gy,
                                      fig_name=fig_path.name, files=files, seed=root,
                                      replicates=int(replicates)))
    table = {d: dict(rows[d], **{k: (None if v is None else {"mean": v.mean, "sd": v.sd,
                                                             "min": v.lo, "max": v.hi,
                                                             "n": v.n})
                                 for k, v in agg[d].items()}) for d in devices}
    return {"rows": table, "figure": str(fig_path), "report": str(report),
            "results": {d: [str(r.path) for r in runs] for d, runs in results.items()}}
