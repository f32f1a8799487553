"""Figures of a deposition: spheres per terminal, and the tree coloured by deposited activity.

Functions take ``ax=None`` and return ``(fig, ax)``; they never call ``plt.show()``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.plotting import new_axes
from sim.transport.stats import activity_per_segment_Bq, spheres_per_segment
from sim.tree._kernels import subtree_sum
from sim.tree.plot import plot_tree

__all__ = ["plot_spheres_per_terminal", "draw_deposition_figures", "save_transport_figures"]


def plot_spheres_per_terminal(per_terminal: dict, *, ax=None, title=""):
    """Histogram of spheres per terminal arteriole, one step line per device.

    Parameters
    ----------
    per_terminal : dict label -> (T,) int array of spheres lodged in each terminal.
    title : text naming device, activity and seed.
    """
    fig, ax = new_axes(ax, figsize=(6.0, 4.2))
    top = max(int(np.max(v)) if np.size(v) else 1 for v in per_terminal.values())
    bins = np.arange(0, top + 2) - 0.5 if top < 60 else np.linspace(-0.5, top + 0.5, 61)
    for label, v in per_terminal.items():
        v = np.asarray(v)
        cv = v.std() / v.mean() if v.mean() > 0 else float("nan")
        ax.hist(v, bins=bins, histtype="step", lw=1.5, density=True,
                label=f"{label}: mean {v.mean():.3g}, CV {cv:.2f}")
    ax.set_xlabel("spheres per terminal arteriole")
    ax.set_ylabel("fraction of terminals")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig, ax


def draw_deposition_figures(folder: Path, name: str, label: str, tree, flow, device: str,
                            per_segment, activity_per_segment_Bq) -> list[str]:
    """Write the spheres-per-terminal histogram and the tree coloured by deposited activity
    (PNG) from per-segment sphere counts and activity; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    per_seg = np.asarray(per_segment, dtype=np.int64)
    paths = []
    fig, _ = plot_spheres_per_terminal({device: per_seg[tree.is_terminal]}, title=label)
    p = folder / f"{name}_spheres_per_terminal.png"
    fig.savefig(p, dpi=130)
    paths.append(str(p))
    # activity lodged in each segment's subtree, so the colour follows it down the tree
    sub = subtree_sum(tree.parent, np.asarray(activity_per_segment_Bq, dtype=np.float64))
    fig, _ = plot_tree(tree, flow, values=sub * 1e-6, value_label="activity in subtree [MBq]",
                       log=True, title=label)
    p = folder / f"{name}_tree_activity.png"
    fig.savefig(p, dpi=130)
    paths.append(str(p))
    return paths


def save_transport_figures(folder: Path, scenario, tree, flow, result) -> list[str]:
    """Write the transport figures of one run as PNG; returns their paths."""
    rx = result.prescription
    label = (f"{rx['device_name']}, {rx['activity_GBq']:.3g} GBq, day "
             f"{rx['days_after_calibration']:g}, seed {scenario.seed}")
    dep = result.deposition
    return draw_deposition_figures(folder, scenario.name, label, tree, flow,
                                   scenario.treatment.device, spheres_per_segment(tree, dep),
                                   activity_per_segment_Bq(tree, dep))
