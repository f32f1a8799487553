"""Figure of an arterial tree projected on coordinate planes (LineCollection, no pyplot)."""

from __future__ import annotations

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
import numpy as np

__all__ = ["plot_tree"]

_AXIS = {"x": 0, "y": 1, "z": 2}


def plot_tree(tree, flow=None, *, color_by="flow", axes=("xy", "xz"), ax=None, title=None,
              max_linewidth=3.0, values=None, value_label="value", log=False):
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
    if ax is None:
        # a bare Figure (no pyplot): no global backend state, saves with fig.savefig
        fig = Figure(figsize=(5.5 * len(planes), 5.0))
        ax_list = list(np.atleast_1d(fig.subplots(1, len(planes))))
    else:
        ax_list = list(np.atleast_1d(ax))
        fig = ax_list[0].figure
    r = tree.radius_um
    lw = 0.15 + max_linewidth * np.sqrt(r / r.max())
    if color_by == "values":
        v = np.asarray(values, dtype=float)
        if v.shape != (tree.n_segments,):
            raise ValueError("values must have one entry per segment")
        if log:
            pos = v[v > 0]
            v = np.log10(np.maximum(v, pos.min() if pos.size else 1e-30))
            value_label = f"log10 {value_label}"
        values, cmap, label = v, "magma", value_label
    elif color_by == "flow":
        q = np.asarray(flow.flow_mL_min)
        values = np.log10(np.maximum(q, q[q > 0].min() if np.any(q > 0) else 1e-30))
        cmap, label = "viridis", "log10 flow [mL/min]"
    else:
        values = tree.region.astype(float)
        cmap, label = "tab10", "region (0 normal, k tumour k)"
    # thick vessels (and, by region, tumour vessels) drawn last, on top
    order = np.lexsort((r, tree.region > 0)) if color_by == "region" else np.argsort(r)
    lc = None
    for a, (i, j) in zip(ax_list, planes):
        seg = np.stack([tree.proximal_mm[order][:, [i, j]], tree.distal_mm[order][:, [i, j]]],
                       axis=1)
        lc = LineCollection(seg, linewidths=lw[order], cmap=cmap)
        lc.set_array(values[order])
        if color_by == "region":
            lc.set_clim(0, 9)
        a.add_collection(lc)
        a.autoscale()
        a.set_aspect("equal")
        a.set_xlabel(f"{'xyz'[i]} [mm]")
        a.set_ylabel(f"{'xyz'[j]} [mm]")
    fig.colorbar(lc, ax=ax_list, label=label, shrink=0.8)
    text = (f"Arterial tree: {tree.n_segments} segments, {int(tree.is_terminal.sum())} terminals;"
            f" colour: {label}; width ~ sqrt(radius)")
    fig.suptitle(text if title is None else f"{text}\n{title}", fontsize=9)
    return fig, ax_list
