"""Figures of a sweep: each chosen metric against the swept parameter(s), replicate spread shown."""
from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.figure import Figure
import numpy as np

from sim.plotting import readable

__all__ = ["read_summary", "plot_metric", "plot_sweep"]


def read_summary(path) -> list[dict]:
    """Rows of ``summary.csv`` with numbers parsed."""
    rows = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            parsed = {}
            for k, v in row.items():
                try:
                    parsed[k] = float(v) if v not in ("", None) else None
                except ValueError:
                    parsed[k] = v
            rows.append(parsed)
    return rows


def plot_metric(rows, metric: str, x_key: str, group_keys=(), *, ax=None, title=""):
    """Metric against one parameter: the mean over replicates, a bar from the smallest to the
    largest replicate, and each replicate as a dot; one series per combination of the other
    parameters. Numeric parameters are joined by lines, categorical ones (devices, models) are
    not, and their series are set side by side."""
    if ax is None:
        fig = Figure(figsize=(5.6, 4.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ok = [r for r in rows if r.get("status") == "ok" and r.get(metric) is not None]
    xs = list(dict.fromkeys(r[x_key] for r in ok))
    numeric = all(isinstance(x, float) for x in xs)
    pos = {x: (x if numeric else i) for i, x in enumerate(xs)}
    groups = {}
    for r in ok:
        groups.setdefault(tuple(r[g] for g in group_keys), []).append(r)
    n_rep = max((len([r for r in m if r[x_key] == x]) for m in groups.values() for x in xs),
                default=0)
    for k, (gkey, members) in enumerate(groups.items()):
        label = ", ".join(f"{readable(g)} = {v:g}" if isinstance(v, float) else
                          f"{readable(g)} = {v}" for g, v in zip(group_keys, gkey)) or None
        by_x = {}
        for r in members:
            by_x.setdefault(r[x_key], []).append(r[metric])
        xv = [x for x in xs if x in by_x]
        shift = 0.0 if numeric else 0.12 * (k - (len(groups) - 1) / 2)
        px = np.array([pos[x] for x in xv], dtype=float) + shift
        mean = np.array([np.mean(by_x[x]) for x in xv])
        lo = np.array([np.min(by_x[x]) for x in xv])
        hi = np.array([np.max(by_x[x]) for x in xv])
        line = ax.errorbar(px, mean, yerr=[mean - lo, hi - mean], marker="o", capsize=3,
                           ls="-" if numeric else "none", label=label)
        for x, p in zip(xv, px):
            ax.scatter(np.full(len(by_x[x]), p), by_x[x], s=8, alpha=0.5,
                       color=line[0].get_color())
    if not numeric:
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xlabel(readable(x_key))
    ax.set_ylabel(readable(metric))
    spread = (f"marker: mean of {n_rep} replicates; bar: smallest to largest; dots: replicates"
              if n_rep > 1 else "one replicate per point (no spread shown)")
    ax.text(0.01, 0.01, spread, transform=ax.transAxes, fontsize=7, color="0.3")
    if any(gk for gk in groups):
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return fig, ax


def plot_sweep(summary_csv, metrics, swept_keys, folder=None, title="") -> list[str]:
    """One PNG per metric against the first swept parameter (the others as lines)."""
    rows = read_summary(summary_csv)
    folder = Path(folder) if folder is not None else Path(summary_csv).parent / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    if not swept_keys:
        swept_keys = ["replicate"]
    for m in metrics:
        if not any(r.get(m) is not None for r in rows):
            continue
        fig, _ = plot_metric(rows, m, swept_keys[0], tuple(swept_keys[1:]), title=title)
        p = folder / f"{m}.png"
        fig.savefig(p, dpi=130)
        paths.append(str(p))
    return paths
