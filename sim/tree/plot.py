"""Figures of an arterial tree projected on coordinate planes (LineCollection, no pyplot)."""

from __future__ import annotations

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
import numpy as np

__all__ = ["plot_tree", "MAX_DRAWN_SEGMENTS"]

_AXIS = {"x": 0, "y": 1, "z": 2}
#: Segments drawn at most: the widest ones; the rest are thinner than a pixel at the figure's
#: size (and drawing 10^5-10^6 lines takes longer than the whole transport).
MAX_DRAWN_SEGMENTS = 40_000


def _new_figure(tree, planes, ax):
    if ax is not None:
        ax_list = list(np.atleast_1d(ax))
        return ax_list[0].figure, ax_list
    # panel aspect from the tree's extent: no empty bands around the drawings
    ext = np.ptp(np.vstack([tree.proximal_mm, tree.distal_mm]), axis=0) + 1e-9
    widths = [ext[i] / ext[j] for i, j in planes]
    height = 3.6
    fig = Figure(figsize=(min(16.0, height * sum(widths) + 1.6), height + 0.9),
                 layout="constrained")
    return fig, list(np.atleast_1d(fig.subplots(1, len(planes), width_ratios=widths)))


def _colours(tree, flow, color_by, values, value_label, log):
    if color_by == "values":
        v = np.asarray(values, dtype=float)
        if v.shape != (tree.n_segments,):
            raise ValueError("values must have one entry per segment")
        if log:
            pos = v[v > 0]
            v = np.log10(np.maximum(v, pos.min() if pos.size else 1e-30))
            value_label = f"log10 {value_label}"
        return v, "magma", value_label
    if color_by == "flow":
        q = np.asarray(flow.flow_mL_min)
        v = np.log10(np.maximum(q, q[q > 0].min() if np.any(q > 0) else 1e-30))
        return v, "viridis", "log10 flow [mL/min]"
    return tree.region.astype(float), "tab10", "region (0 normal, k tumour k)"


def plot_tree(tree, flow=None, *, color_by="flow", axes=("xy", "xz"), ax=None, title=None,
              max_linewidth=3.0, values=None, value_label="value", log=False,
              max_segments=MAX_DRAWN_SEGMENTS):
    """Project the tree's centerlines on planes; line width follows the radius.

    Parameters
    ----------
    tree : TreeArrays. flow : FlowField, needed for ``color_by="flow"``.
    color_by : "flow" (log10 flow [mL/min]) or "region" (0 normal, k tumour k).
    axes : planes to draw, e.g. ("xy", "xz").
    ax : sequence of matplotlib Axes (one per plane) or None for a new figure.
    title : extra text appended to the figure title (e.g. device, activity, seed).
    values : (N,) array, optional; colours the segments by it instead (e.g. deposited
        activity), labelled ``value_label``, on a log10 scale with ``log``.
    max_segments : int
        Draw at most this many segments, the widest (the title says how many).

    Returns
    -------
    (fig, axes) : the figure and the list of Axes.
    """
    if values is not None:
        color_by = "values"
    elif color_by not in ("flow", "region"):
        raise ValueError("color_by must be 'flow' or 'region'")
    if color_by == "flow" and flow is None:
        raise ValueError("color_by='flow' needs a flow field")
    planes = [(_AXIS[p[0]], _AXIS[p[1]]) for p in axes]
    fig, ax_list = _new_figure(tree, planes, ax)
    r = tree.radius_um
    lw = 0.15 + max_linewidth * np.sqrt(r / r.max())
    colour, cmap, label = _colours(tree, flow, color_by, values, value_label, log)
    # the widest segments (thick vessels on top; tumour vessels on top by region)
    shown = np.argsort(r)[-max_segments:] if tree.n_segments > max_segments else np.argsort(r)
    if color_by == "region":
        shown = shown[np.argsort(tree.region[shown] > 0, kind="stable")]
    lc = None
    for a, (i, j) in zip(ax_list, planes):
        seg = np.stack([tree.proximal_mm[shown][:, [i, j]], tree.distal_mm[shown][:, [i, j]]],
                       axis=1)
        lc = LineCollection(seg, linewidths=lw[shown], cmap=cmap)
        lc.set_array(colour[shown])
        if color_by == "region":
            lc.set_clim(0, 9)
        a.add_collection(lc)
        a.autoscale()
        a.set_aspect("equal")
        a.set_xlabel(f"{'xyz'[i]} [mm]")
        a.set_ylabel(f"{'xyz'[j]} [mm]")
    fig.colorbar(lc, ax=ax_list, label=label, shrink=0.9)
    drawn = (f"the {shown.size:,} widest of {tree.n_segments:,} segments"
             if shown.size < tree.n_segments else f"{tree.n_segments:,} segments")
    text = (f"Arterial tree ({int(tree.is_terminal.sum()):,} terminals): {drawn}; colour: "
            f"{label}; width ~ sqrt(radius)")
    fig.suptitle(text if title is None else f"{text}\n{title}", fontsize=9)
    return fig, ax_list
