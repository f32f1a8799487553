"""Teaching comparison: the same tree and perfused volume treated with each device at the same
mean absorbed dose (MIRD), with one figure panel and a plain-language report.

Every device runs with the same seed, so the arterial tree and the random streams are shared:
the differences come from the sphere counts, activities, sizes and the embolic effect.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from matplotlib.figure import Figure
import numpy as np

from dosimetry import metrics
from sim.dose.plot import plot_dose_slice
from sim.pipeline import run
from sim.results.io import check_writable

__all__ = ["compare_devices", "default_teaching_config"]


def default_teaching_config() -> Path:
    """Path of the shipped teaching scenario."""
    return Path(str(resources.files("sim").joinpath("data/teaching.toml")))


def compare_devices(config=None, *, dose_Gy=120.0, devices=("glass", "resin", "holmium"),
                    day=None, output_dir=None, seed=None, progress=False) -> dict:
    """Run each device on the same anatomy at the same MIRD mean dose.

    Parameters
    ----------
    config : path, optional
        Scenario with a [tree] (default: the shipped teaching scenario).
    dose_Gy : float
        Mean perfused-volume dose of the MIRD prescription [Gy] for every device.
    devices : sequence of str
        Device keys.
    day : float, optional
        Treatment day after calibration for every device (default: the scenario's).
    output_dir : path, optional
        Folder for the results, figure and report (default ``results/compare_devices``).

    Returns
    -------
    dict
        ``rows`` (one dict of numbers per device), ``figure``, ``report`` and ``results``.
    """
    config = Path(config) if config is not None else default_teaching_config()
    out = Path(output_dir) if output_dir is not None else Path("results") / "compare_devices"
    devices = list(devices)
    if not devices:
        raise ValueError("devices: give at least one device")
    check_writable(out / "compare_devices.md")
    rows, results = [], {}
    for dev in devices:
        sets = [f'treatment.device="{dev}"', f"plan.mird_dose_Gy={float(dose_Gy)!r}",
                'treatment.dose_constant="icrp107"']
        if day is not None:
            sets.append(f"treatment.days_after_calibration={float(day)!r}")
        res = run(config, output=out / f"{dev}.h5", seed=seed, overrides=sets, progress=progress,
                  figures=False)
        results[dev] = res
        s = res.summary()
        rows.append(_row(dev, s))
    out.mkdir(parents=True, exist_ok=True)
    fig_path = out / "compare_devices.png"
    _panel(results, rows, dose_Gy).savefig(fig_path, dpi=130)
    report = out / "compare_devices.md"
    report.write_text(_report(rows, dose_Gy, fig_path.name, results))
    return {"rows": rows, "figure": str(fig_path), "report": str(report),
            "results": {k: str(v.path) for k, v in results.items()}}


def _row(dev, s) -> dict:
    c = s["counts"]
    mird = s["mird_planned_Gy"]
    return {
        "device": dev, "name": s["device"], "nuclide": s["nuclide"],
        "activity_GBq": s["activity_GBq"], "n_spheres": s["n_spheres"],
        "activity_per_sphere_Bq": s["activity_per_sphere_Bq"],
        "spheres_per_terminal_mean": s["spheres_per_terminal_mean"],
        "spheres_per_terminal_cv": s["spheres_per_terminal_cv"],
        "reflux_fraction": c["reflux"] / c["injected"] if c["injected"] else 0.0,
        "normal_mean_Gy": s.get("normal_mean_Gy"), "normal_cv": s.get("normal_cv"),
        "lobules_normal_below_40Gy": s.get("lobules_normal_below_40Gy"),
        "lobules_normal_below_70Gy": s.get("lobules_normal_below_70Gy"),
        "tumour_mean_Gy": s.get("tumour_mean_Gy"),
        "normal_mean_BED_Gy": s.get("normal_mean_BED_Gy"),
        "normal_NTCP_LKB": s.get("normal_NTCP_LKB"),
        "mird_planned_Gy": mird,
        "perfused_mean_Gy": s.get("perfused_mean_Gy"),
        "perfused_vs_mird": (s.get("perfused_mean_Gy") / mird - 1.0) if mird else None,
    }


def _panel(results, rows, dose_Gy):
    n = len(results)
    fig = Figure(figsize=(4.6 * max(3, n), 8.6), layout="constrained")
    grid = fig.add_gridspec(2, max(3, n))
    ax_n, ax_d, ax_l = (fig.add_subplot(grid[0, i]) for i in range(3))
    for dev, res in results.items():
        tree = res.tree()
        per_seg = res.deposition()["spheres_per_segment"][tree.is_terminal]
        d = res.dose()
        top = max(1, int(np.percentile(per_seg, 99.5)))
        bins = np.arange(0, top + 2) - 0.5 if top < 80 else np.linspace(-0.5, top + 0.5, 80)
        ax_n.hist(per_seg, bins=bins, histtype="step", lw=1.5, density=True, label=dev)
        x, v = metrics.cumulative_dvh(d["dose_Gy"][d["region"] == 0], bins=300)
        ax_d.plot(x, 100 * v, label=dev)
        lob = d["lobule_dose_Gy"][(d["lobule_region"] == 0) & np.isfinite(d["lobule_dose_Gy"])]
        ax_l.hist(lob, bins=60, histtype="step", lw=1.5, density=True, label=dev)
    ax_n.set_xlabel("spheres per terminal arteriole")
    ax_n.set_ylabel("fraction of terminals")
    ax_n.set_title("(a) spheres per terminal", fontsize=10)
    ax_d.axvline(rows[0]["mird_planned_Gy"], color="k", ls="--", label="MIRD planned mean")
    top = max(float(np.percentile(r.dose()["dose_Gy"][r.dose()["region"] == 0], 99.5))
              for r in results.values())
    ax_d.set_xlim(0, 1.5 * top)
    ax_d.set_xlabel("dose [Gy]")
    ax_d.set_ylabel("normal liver volume [%]")
    ax_d.set_title("(b) normal-liver DVH", fontsize=10)
    for t in (40, 70):
        ax_l.axvline(t, color="k", ls=":", lw=1)
    ax_l.set_xlabel("lobule dose [Gy]")
    ax_l.set_title("(c) normal-lobule doses (40 and 70 Gy marked)", fontsize=10)
    for a in (ax_n, ax_d, ax_l):
        a.legend(fontsize=8)
    vmax = max(float(np.percentile(r.dose()["dose_Gy"], 99.9)) for r in results.values())
    for i, (dev, res) in enumerate(results.items()):
        ax = fig.add_subplot(grid[1, i])
        d = res.dose()
        plot_dose_slice(d["dose_Gy"], d["origin_mm"], d["spacing_mm"], None, region=d["region"],
                        ax=ax, title=f"({chr(100 + i)}) {dev}")
        for im in ax.get_images():
            im.set_clim(max(1.0, vmax / 1e3), vmax)
    seed = next(iter(results.values())).attrs.get("seed")
    fig.suptitle(f"Same tree, same MIRD mean dose {dose_Gy:g} Gy: "
                 + ", ".join(f"{r['device']} {r['activity_GBq']:.3g} GBq" for r in rows)
                 + f"; seed {seed}", fontsize=11)
    return fig


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f} %"


def _report(rows, dose_Gy, fig_name, results) -> str:
    lines = [f"# Glass, resin and holmium at the same mean dose ({dose_Gy:g} Gy)", "",
             "Every device treated the same arterial tree and perfused volume with the activity "
             f"that the MIRD model prescribes for a mean perfused-volume dose of {dose_Gy:g} Gy. "
             "The MIRD model assumes the dose is uniform; the simulation shows how far it is not.",
             "", f"![panel]({fig_name})", "",
             "| device | activity [GBq] | spheres | Bq per sphere | spheres per terminal (mean, CV) "
             "| normal liver mean [Gy] | normal lobules < 40 Gy | < 70 Gy | normal-liver BED [Gy] "
             "| perfused mean vs MIRD |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['activity_GBq']:.3g} | {r['n_spheres']:,} | "
            f"{r['activity_per_sphere_Bq']:.4g} | {r['spheres_per_terminal_mean']:.3g}, "
            f"{r['spheres_per_terminal_cv']:.2f} | {r['normal_mean_Gy']:.1f} | "
            f"{_pct(r['lobules_normal_below_40Gy'])} | {_pct(r['lobules_normal_below_70Gy'])} | "
            f"{r['normal_mean_BED_Gy']:.1f} | {_pct(r['perfused_vs_mird'])} |")
    lines += ["", "## What the numbers say", ""]
    by = {r["device"]: r for r in rows}
    if "glass" in by and "resin" in by:
        g, s = by["glass"], by["resin"]
        ratio = s["n_spheres"] / g["n_spheres"]
        lines.append(
            f"- **Sphere count.** For the same energy, resin needs {ratio:.0f} times more spheres "
            f"than glass ({s['n_spheres']:,} vs {g['n_spheres']:,}), because each resin sphere "
            f"carries {g['activity_per_sphere_Bq'] / s['activity_per_sphere_Bq']:.0f} times less "
            "activity.")
        cg, cs = g["spheres_per_terminal_cv"], s["spheres_per_terminal_cv"]
        more = "less" if cg > cs else "more"
        lines.append(
            f"- **Uniformity.** The CV of spheres per terminal arteriole is {cg:.2f} for glass "
            f"and {cs:.2f} for resin: glass fills the terminals {more} evenly.")
        bg, bs = g["lobules_normal_below_40Gy"], s["lobules_normal_below_40Gy"]
        if bg is not None and bs is not None:
            if bg > bs:
                tail = ("more normal lobules are spared with glass; spared lobules keep the liver "
                        "working, one explanation of why the same mean dose is better tolerated "
                        "with glass (Walrand et al., J Nucl Med 2014)")
            elif bg < bs:
                tail = "more normal lobules are spared with resin in this case"
            else:
                tail = "the two devices spare the same share of normal lobules here"
            lines.append(
                f"- **Spared lobules.** Normal-liver lobules below 40 Gy: {_pct(bg)} with glass, "
                f"{_pct(bs)} with resin: {tail}. The beta range (X90 ~5 mm, many lobules) "
                "smooths sphere-scale clustering; larger-scale clustering (asymmetric branching, "
                "straight ratio) is what leaves lobules cold.")
        if s["reflux_fraction"] > 0 or g["reflux_fraction"] > 0:
            lines.append(
                f"- **Embolic effect.** Resin's many spheres block flow: "
                f"{_pct(s['reflux_fraction'])} of them refluxed after stasis, against "
                f"{_pct(g['reflux_fraction'])} for glass.")
    for r in rows:
        diff = r["perfused_vs_mird"]
        lines.append(
            f"- **{r['name']} vs MIRD.** The simulated perfused-volume mean is {_pct(diff)} from "
            "the MIRD value, which assumes every joule stays where the spheres are: beta energy "
            "crossing the edge of the perfused volume and bremsstrahlung (~0.4 %) leave it.")
        nm, pm = r["normal_mean_Gy"], r["perfused_mean_Gy"]
        if nm is not None and pm is not None and r["tumour_mean_Gy"] is not None:
            rel = "lower" if nm < pm else "higher"
            lines.append(
                f"  Its normal-liver mean ({nm:.1f} Gy) is {rel} than the perfused mean "
                f"({pm:.1f} Gy); the tumour mean is {r['tumour_mean_Gy']:.1f} Gy.")
    if "holmium" in by:
        lines.append(
            "- **Holmium.** Ho-166 decays faster (half-life 26.8 h vs 64.1 h), so the same dose "
            "comes at a higher dose rate and less sublethal damage is repaired during delivery: "
            f"its normal-liver BED is {by['holmium']['normal_mean_BED_Gy']:.0f} Gy "
            "(Dale 1985, alpha/beta 2.5 Gy, repair half-time 1.5 h).")
    lines += ["", "Results files: " + ", ".join(f"`{p.path.name}`" for p in results.values()),
              "", "Made by `taresim compare-devices`. Physics and sources: see the README."]
    return "\n".join(lines) + "\n"
