"""Helpers shared by every figure module: a new figure without pyplot (no global backend
state; saved with ``fig.savefig``)."""
from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["new_axes"]


def new_axes(ax=None, figsize=(6.4, 4.4)):
    """``(fig, ax)``: the figure of ``ax`` when given, else a new constrained-layout figure."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()
