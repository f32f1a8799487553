"""The validation suite: the simulated heterogeneity against published tissue data and models,
from one command (``taresim validate``), with a report of tables and figures.

Every row gives the published value, the simulated value with its seed-to-seed spread, and
the scenario file that produced it; calibration rows (the one data set a free parameter was
fitted on) are marked as such, every other row is a check.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
import numpy as np

from sim.compare.report import format_spread
from sim.results.io import check_writable
from sim.validation import studies as st
from sim.validation import tissue_studies as ts

__all__ = ["run_validation", "STUDIES", "report_markdown"]

#: Study name -> function(out_dir, replicates, progress) -> rows.
STUDIES = {
    "perfusion": st.perfusion_dispersion,
    "hogberg": ts.hogberg,
    "kennedy": ts.kennedy_roberson,
    "walrand2014a": st.walrand_split,
    "device": st.device_question,
}


def _published(v, unit) -> str:
    if v is None:
        return "not given"
    if isinstance(v, str):
        return v
    if unit == "%":
        return f"{100 * v:.3g} %"
    return f"{v:.3g} {unit}".rstrip()


def report_markdown(rows, replicates: int, figure: str | None) -> str:
    """The validation report (Markdown)."""
    lines = ["# taresim validation: simulated heterogeneity vs published data", "",
             f"Replicates per scenario: {replicates} (mean ± SD over replicates; each "
             "replicate a new tree and new sphere paths). *calibration*: the data set a free "
             "parameter was fitted on; every other row is a check. Scenarios: "
             "`sim/data/validation/`.", ""]
    if figure:
        lines += [f"![validation]({figure})", ""]
    lines += ["| study | quantity | published | simulated | kind | scenario | note |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['study']} | {r['quantity']} | {_published(r['published'], r['unit'])}"
                     f" | {format_spread(r['simulated'], r['unit'])} | {r['kind']} | "
                     f"`{r['scenario']}` | {r['note']} |")
    return "\n".join(lines) + "\n"


def _figure(rows) -> Figure:
    """Published vs simulated for every numeric row, as ratios (1 = agreement)."""
    num = [r for r in rows if isinstance(r["published"], (int, float)) and r["simulated"]]
    fig = Figure(figsize=(8.0, 0.35 * len(num) + 1.7), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(num))[::-1]
    for yi, r in zip(y, num):
        sp = r["simulated"]
        ratio = sp.mean / r["published"] if r["published"] else np.nan
        err = (sp.sd / r["published"]) if (r["published"] and sp.n > 1) else 0.0
        ax.errorbar(ratio, yi, xerr=err, fmt="o", color="C1" if r["kind"] == "calibration"
                    else "C0", capsize=3)
    ax.axvline(1.0, color="k", lw=1)
    ax.set_yticks(y, [f"{r['study']}: {r['quantity']}" for r in num], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("simulated / published\n(bars: SD over replicates; orange: calibration)")
    return fig


def run_validation(output_dir=None, *, replicates: int = 2, studies=None,
                   progress=False) -> dict:
    """Run the validation studies and write ``validation.md`` and ``validation.png``.

    Parameters
    ----------
    output_dir : path, optional
        Folder (default ``results/validation``); the runs' results files go to ``runs/``.
    replicates : int
        Replicates per scenario (>= 1).
    studies : sequence of str, optional
        Names from :data:`STUDIES` (default all).

    Returns
    -------
    dict
        ``rows`` (JSON-friendly), ``report`` and ``figure`` paths.
    """
    out = Path(output_dir) if output_dir is not None else Path("results") / "validation"
    names = list(studies) if studies else list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        raise ValueError(f"studies: {unknown[0]!r} is not one of {', '.join(STUDIES)}")
    if int(replicates) < 1:
        raise ValueError(f"replicates: {replicates} must be >= 1")
    check_writable(out / "validation.md")
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        rows += STUDIES[name](runs, replicates=int(replicates), progress=progress)
    fig_path = out / "validation.png"
    _figure(rows).savefig(fig_path, dpi=130)
    report = out / "validation.md"
    report.write_text(report_markdown(rows, int(replicates), fig_path.name))
    table = [dict(r, simulated=None if r["simulated"] is None else {
        "mean": r["simulated"].mean, "sd": r["simulated"].sd, "n": r["simulated"].n})
        for r in rows]
    return {"rows": table, "report": str(report), "figure": str(fig_path)}
