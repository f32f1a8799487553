"""Dose-volume metrics of a simulated dose distribution (arrays in, numbers out).

Dx is the minimum dose received by the hottest x % of the volume; V(x Gy) the volume fraction
receiving at least x Gy. Samples may be weighted by their volume or mass (voxels of a region,
lobules of unequal mass).
"""
from __future__ import annotations

import numpy as np

__all__ = ["sample_weights", "dose_statistics", "cumulative_dvh", "D_LEVELS", "V_LEVELS_GY",
           "BELOW_GY"]

D_LEVELS = (98, 90, 70, 50, 10, 2)
V_LEVELS_GY = (20, 40, 70, 100, 120, 150, 205)
BELOW_GY = (40, 70)


def sample_weights(dose, weights=None):
    """Dose samples as a flat float64 array and their weights normalised to sum 1.

    Parameters
    ----------
    dose : array [Gy]
    weights : array, optional
        Volume or mass of each sample (default: equal weights).

    Raises
    ------
    ValueError
        Weights of another shape, negative, or all zero.
    """
    d = np.asarray(dose, dtype=np.float64).ravel()
    if weights is None:
        w = np.full(d.size, 1.0 / max(d.size, 1))
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != d.shape or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must match the doses, be >= 0 and not all 0")
        w = w / w.sum()
    return d, w


def dose_statistics(dose_Gy, weights=None, *, d_levels=D_LEVELS, v_levels_Gy=V_LEVELS_GY,
                    below_Gy=BELOW_GY) -> dict:
    """Mean, SD, CV, Dx, V(x Gy) and the fraction below thresholds of dose samples.

    Parameters
    ----------
    dose_Gy : array [Gy]
    weights : array, optional
        Volume or mass of each sample (default: equal).

    Returns
    -------
    dict
        ``mean_Gy``, ``sd_Gy``, ``cv``, ``min_Gy``, ``max_Gy``, ``D{x}_Gy``, ``V{x}Gy``
        (fraction), ``below_{x}Gy`` (fraction), ``n``.

    Examples
    --------
    >>> s = dose_statistics([10.0, 30.0, 50.0, 70.0])
    >>> s["mean_Gy"], s["below_40Gy"], s["D50_Gy"]
    (40.0, 0.5, 50.0)
    """
    d, w = sample_weights(dose_Gy, weights)
    if d.size == 0:
        return {"n": 0}
    mean = float(np.sum(w * d))
    sd = float(np.sqrt(np.sum(w * (d - mean) ** 2)))
    out = {"n": int(d.size), "mean_Gy": mean, "sd_Gy": sd,
           "cv": sd / mean if mean > 0 else float("nan"),
           "min_Gy": float(d.min()), "max_Gy": float(d.max())}
    order = np.argsort(-d, kind="stable")  # one sort for every Dx
    ds, cw = d[order], np.cumsum(w[order])
    for x in d_levels:
        k = int(np.searchsorted(cw, x / 100.0 * (1.0 - 1e-12), side="left"))
        out[f"D{x}_Gy"] = float(ds[min(k, d.size - 1)])
    for x in v_levels_Gy:
        out[f"V{x}Gy"] = float(np.sum(w[d >= x]))
    for x in below_Gy:
        out[f"below_{x}Gy"] = float(np.sum(w[d < x]))
    return out


def cumulative_dvh(dose_Gy, weights=None, *, bins=400, max_dose_Gy=None):
    """Cumulative DVH: the volume fraction receiving at least each dose.

    Returns
    -------
    dose_axis_Gy : (bins + 1,) ndarray
    volume_fraction : (bins + 1,) ndarray, 1 at 0 Gy, non-increasing
    """
    d, w = sample_weights(dose_Gy, weights)
    top = float(max_dose_Gy if max_dose_Gy is not None else (d.max() if d.size else 1.0))
    axis = np.linspace(0.0, top, bins + 1)
    order = np.argsort(d)
    ds, ws = d[order], w[order]
    tail = np.concatenate((np.cumsum(ws[::-1])[::-1], [0.0]))  # weight of samples >= ds[i]
    idx = np.searchsorted(ds, axis, side="left")
    return axis, tail[idx]
