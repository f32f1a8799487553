"""Helpers shared by every figure module: a new figure without pyplot (no global backend
state; saved with ``fig.savefig``)."""
from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["new_axes", "readable"]


def new_axes(ax=None, figsize=(6.4, 4.4)):
    """``(fig, ax)``: the figure of ``ax`` when given, else a new constrained-layout figure."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


#: Unit suffixes of metric and parameter names, written as they read on an axis.
_UNITS = {"Gy": "Gy", "GBq": "GBq", "MBq": "MBq", "Bq": "Bq", "g": "g", "mg": "mg", "mm": "mm",
          "um": "µm", "s": "s", "h": "h", "min": "min", "mL": "mL", "mmHg": "mmHg",
          "g_cm3": "g/cm³", "mL_min": "mL/min", "mPa_s": "mPa s", "mL_min_g": "mL/(min g)"}
_WORDS = {"normal": "normal liver", "cv": "CV", "bed": "BED", "ntcp": "NTCP", "lkb": "LKB", "mird": "MIRD", "lsf": "LSF",
          "dvh": "DVH", "eud": "EUD", "geud": "gEUD", "d90": "D90", "d70": "D70", "d50": "D50",
          "d2": "D2", "d98": "D98", "v40": "V40", "v70": "V70"}


def readable(key: str) -> str:
    """An axis label from a metric or parameter key: words, with the unit in brackets.

    Examples
    --------
    >>> readable("normal_mean_Gy")
    'normal liver mean [Gy]'
    >>> readable("treatment.days_after_calibration")
    'days after calibration (treatment)'
    >>> readable("lobules_normal_below_40Gy")
    'fraction of normal liver lobules below 40 Gy'
    """
    section, _, name = key.rpartition(".")
    if name.startswith("lobules_") and "_below_" in name:
        group, _, limit = name[len("lobules_"):].partition("_below_")
        return f"fraction of {readable(group)} lobules below {readable(limit)}"
    parts = name.split("_")
    unit = None
    for n in (2, 1):
        tail = "_".join(parts[-n:])
        if len(parts) > n and tail in _UNITS:
            unit, parts = _UNITS[tail], parts[:-n]
            break
    words = []
    for w in parts:
        num = w.rstrip("GyBqm") if w[:1].isdigit() else ""
        if num and w[len(num):] in _UNITS:
            words.append(f"{num} {_UNITS[w[len(num):]]}")
        else:
            words.append(_WORDS.get(w.lower(), w))
    text = " ".join(words) + (f" [{unit}]" if unit else "")
    return f"{text} ({section})" if section else text
