"""Figures of a deposition: spheres per terminal, and the tree coloured by deposited activity.

Functions take ``ax=None`` and return ``(fig, ax)``; they never call ``plt.show()``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from matplotlib.figure import Figure

from sim.plotting import new_axes

__all__ = ["plot_spheres_per_terminal", "plot_deposition_map", "draw_deposition_figures",
           "occlusion_cap_of"]


def plot_spheres_per_terminal(per_terminal: dict, *, ax=None, title="", occlusion_cap=None,
                              top_percentile=None):
    """Histogram of spheres per terminal arteriole, one step line per device.

    Parameters
    ----------
    per_terminal : dict label -> (T,) int array of spheres lodged in each terminal.
    title : text naming device, activity and seed.
    occlusion_cap : float, optional
        ``transport.spheres_to_occlude`` of the linear embolic model: a terminal takes no more
        spheres than this (marked on the axis).
    top_percentile : float, optional
        Cut the axis at this percentile of the counts (the cut and how many terminals lie
        beyond it are stated).
    """
    fig, ax = new_axes(ax, figsize=(6.0, 4.2))
    vals = [np.asarray(v) for v in per_terminal.values()]
    top = max(int(np.max(v)) if v.size else 1 for v in vals)
    if top_percentile is not None:
        top = max(1, int(max(np.percentile(v, top_percentile) for v in vals if v.size)))
    bins = np.arange(0, top + 2) - 0.5 if top < 60 else np.linspace(-0.5, top + 0.5, 61)
    beyond = 0
    for label, v in zip(per_terminal, vals):
        cv = v.std() / v.mean() if v.size and v.mean() > 0 else float("nan")
        beyond += int(np.sum(v > top))
        ax.hist(np.minimum(v, top + 0.4), bins=bins, histtype="step", lw=1.5, density=True,
                label=f"{label}: mean {v.mean():.3g}, CV {cv:.2f}")
    if occlusion_cap is not None and occlusion_cap <= top + 1:
        ax.axvline(occlusion_cap, color="k", ls=":", lw=1)
        ax.text(occlusion_cap, ax.get_ylim()[1] * 0.9, " occlusion cap\n (spheres_to_occlude)",
                fontsize=7, va="top")
    note = f"; {beyond:,} terminals above {top} counted in the last bin" if beyond else ""
    ax.set_xlabel(f"spheres per terminal arteriole{note}", fontsize=9)
    ax.set_ylabel("fraction of terminals")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig, ax


def plot_deposition_map(tree, per_segment, *, planes=("xy", "xz"), bin_mm=1.0, title=""):
    """Where the spheres went: spheres per mg of tissue, projected on planes in bins of
    ``bin_mm``, relative to the treated territory's mean (1 = as the planning models assume).

    Unlike the tree coloured by flow, this shows the deposition's own heterogeneity: flow
    splits, clustering and the embolic effect.
    """
    from matplotlib.colors import TwoSlopeNorm

    term = np.flatnonzero(tree.is_terminal)
    n = np.asarray(per_segment, dtype=float)[term]
    m = tree.terminal_mass_mg[term]
    xyz = tree.distal_mm[term]
    mean = n.sum() / m.sum() if m.sum() > 0 else 0.0
    axis = {"x": 0, "y": 1, "z": 2}
    pl = [(axis[p[0]], axis[p[1]]) for p in planes]
    ext = np.ptp(xyz, axis=0) + 1e-9
    fig = Figure(figsize=(min(16.0, 3.6 * sum(ext[i] / ext[j] for i, j in pl) + 1.6), 4.5),
                 layout="constrained")
    axes = fig.subplots(1, len(pl), width_ratios=[ext[i] / ext[j] for i, j in pl])
    im = None
    for ax, (i, j) in zip(np.atleast_1d(axes), pl):
        edges = [np.arange(xyz[:, k].min(), xyz[:, k].max() + bin_mm, bin_mm) for k in (i, j)]
        hn, _, _ = np.histogram2d(xyz[:, i], xyz[:, j], bins=edges, weights=n)
        hm, _, _ = np.histogram2d(xyz[:, i], xyz[:, j], bins=edges, weights=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(hm > 0, hn / hm / mean if mean > 0 else 0.0, np.nan)
        im = ax.imshow(rel.T, origin="lower", extent=[edges[0][0], edges[0][-1], edges[1][0],
                                                      edges[1][-1]],
                       cmap="RdBu_r", norm=TwoSlopeNorm(1.0, 0.0, max(2.0, np.nanmax(rel))),
                       interpolation="nearest")
        ax.set_xlabel(f"{'xyz'[i]} [mm]")
        ax.set_ylabel(f"{'xyz'[j]} [mm]")
    fig.colorbar(im, ax=list(np.atleast_1d(axes)), label="spheres per mg / territory mean",
                 shrink=0.9)
    fig.suptitle(f"Deposited spheres per mg in {bin_mm:g} mm bins, summed through the depth "
                 f"(mean {mean:.3g} per mg)\n{title}", fontsize=9)
    return fig, axes


def occlusion_cap_of(transport) -> float | None:
    """The per-terminal sphere cap of the linear embolic model, None for the other models."""
    return float(transport.spheres_to_occlude) if transport.embolic == "linear" else None


def draw_deposition_figures(folder: Path, name: str, label: str, tree, device: str,
                            per_segment, occlusion_cap=None) -> list[str]:
    """Write the spheres-per-terminal histogram and the deposition map (PNG) from per-segment
    sphere counts; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    per_seg = np.asarray(per_segment, dtype=np.int64)
    paths = []
    fig, _ = plot_spheres_per_terminal({device: per_seg[tree.is_terminal]}, title=label,
                                       occlusion_cap=occlusion_cap)
    p = folder / f"{name}_spheres_per_terminal.png"
    fig.savefig(p, dpi=130)
    paths.append(str(p))
    fig, _ = plot_deposition_map(tree, per_seg, title=label)
    p = folder / f"{name}_deposition_map.png"
    fig.savefig(p, dpi=130)
    paths.append(str(p))
    return paths
