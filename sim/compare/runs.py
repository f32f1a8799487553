"""Runs of the device comparison: every device on the same anatomy at the same MIRD mean dose,
in replicates, and the numbers taken from each run.

Replicate r has the root seed :func:`sim.seeding.replicate_seed` (seed, r): a new tree and new
random streams. Within a replicate every device shares the tree and the streams, so device
differences are paired: the seed-to-seed spread of a difference is measured, not assumed.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.stats import t as student_t

from sim.config.io import resolve_scenario
from sim.pipeline import run
from sim.seeding import replicate_seed

__all__ = ["run_devices", "run_numbers", "match_lobule_means", "Spread", "spread",
           "paired_difference", "NUMBERS"]

#: Numbers taken from each run: key -> (label, unit); "%" values are fractions shown in %.
NUMBERS = {
    "activity_GBq": ("activity", "GBq"),
    "n_spheres": ("spheres", ""),
    "activity_per_sphere_Bq": ("activity per sphere", "Bq"),
    "spheres_per_terminal_mean": ("spheres per terminal, mean", ""),
    "spheres_per_terminal_cv": ("spheres per terminal, CV", ""),
    "occluded_tumour_terminals": ("tumour terminals at the occlusion cap", "%"),
    "occluded_normal_terminals": ("normal terminals at the occlusion cap", "%"),
    "reflux_fraction": ("refluxed activity", "%"),
    "tumour_to_normal_uptake": ("T:N uptake", ""),
    "normal_mean_Gy": ("normal-liver mean", "Gy"),
    "tumour_mean_Gy": ("tumour mean", "Gy"),
    "perfused_vs_mird": ("treated-territory mean vs MIRD", "%"),
    "lobules_normal_cv": ("normal-lobule dose CV", ""),
    "lobules_normal_below_40Gy": ("normal lobules < 40 Gy", "%"),
    "lobules_normal_below_70Gy": ("normal lobules < 70 Gy", "%"),
    "lobules_normal_below_40Gy_matched": ("normal lobules < 40 Gy at a common normal mean", "%"),
    "normal_mean_BED_Gy": ("normal-liver mean BED", "Gy"),
    "normal_NTCP_LKB": ("normal-liver NTCP (LKB)", "%"),
    "normal_damaged_fraction": ("damaged normal liver (lobule parallel model)", "%"),
    "normal_NTCP_parallel": ("normal-liver NTCP (lobule parallel model)", "%"),
}


def run_devices(config, *, dose_Gy, devices, day, output_dir: Path, seed, replicates: int,
                progress) -> dict:
    """Run every device in every replicate; ``{device: [Results, ...]}`` in replicate order.

    Files are ``DEVICE_rR.h5`` in ``output_dir``; replicate r runs with the root seed
    ``replicate_seed(seed, r)`` (``seed``: the scenario's unless given), as a sweep does.
    """
    out = {dev: [] for dev in devices}
    root = seed if seed is not None else resolve_scenario(config).seed
    for r in range(replicates):
        seed_r = replicate_seed(root, r)
        for dev in devices:
            sets = [f'treatment.device="{dev}"', f"plan.mird_dose_Gy={float(dose_Gy)!r}",
                    'treatment.dose_constant="icrp107"']
            if day is not None:
                sets.append(f"treatment.days_after_calibration={float(day)!r}")
            res = run(config, output=output_dir / f"{dev}_r{r}.h5", seed=seed_r, overrides=sets,
                      progress=progress, figures=False)
            out[dev].append(res)
    return out


def run_numbers(res) -> dict:
    """The numbers of :data:`NUMBERS` for one run (None where the run has no such tissue)."""
    s = res.summary()
    out = {k: s.get(k) for k in NUMBERS if k in s}
    mird = s.get("mird_planned_Gy")
    pm = s.get("perfused_mean_Gy")
    out["perfused_vs_mird"] = pm / mird - 1.0 if mird and pm is not None else None
    tree = res.tree()
    per_seg = res.deposition()["spheres_per_segment"]
    tp = res.scenario().transport
    for name, sel in (("tumour", tree.region > 0), ("normal", tree.region == 0)):
        term = tree.is_terminal & sel
        out[f"occluded_{name}_terminals"] = (
            float(np.mean(per_seg[term] >= tp.spheres_to_occlude))
            if tp.embolic == "linear" and term.any() else None)
    d = res.dose()
    lob = d["lobule_dose_Gy"][(d["lobule_region"] == 0) & np.isfinite(d["lobule_dose_Gy"])]
    out["_normal_lobules_Gy"] = lob
    out["device_name"], out["nuclide"] = s["device"], s["nuclide"]
    out["mird_planned_Gy"] = mird
    return out


def match_lobule_means(numbers: dict, threshold_Gy: float = 40.0) -> None:
    """Add ``lobules_normal_below_40Gy_matched``: the fraction of normal lobules below
    ``threshold_Gy`` after scaling each run's lobule doses to the mean normal-lobule dose of all
    devices in the same replicate (a lower mean alone puts more lobules below a threshold).

    ``numbers`` is ``{device: [per-replicate dict]}``, updated in place.
    """
    n_rep = min(len(v) for v in numbers.values())
    for r in range(n_rep):
        means = [np.mean(v[r]["_normal_lobules_Gy"]) for v in numbers.values()
                 if v[r]["_normal_lobules_Gy"].size]
        common = float(np.mean(means)) if means else float("nan")
        for v in numbers.values():
            lob = v[r]["_normal_lobules_Gy"]
            v[r]["lobules_normal_below_40Gy_matched"] = (
                float(np.mean(lob * (common / lob.mean()) < threshold_Gy)) if lob.size else None)


class Spread(tuple):
    """(mean, standard deviation, smallest, largest, n) of one number over replicates."""

    __slots__ = ()

    mean = property(lambda self: self[0])
    sd = property(lambda self: self[1])
    lo = property(lambda self: self[2])
    hi = property(lambda self: self[3])
    n = property(lambda self: self[4])


def spread(values) -> Spread | None:
    """The :class:`Spread` of the finite values (None and NaN left out), None when there are
    none."""
    v = np.array([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    sd = float(v.std(ddof=1)) if v.size > 1 else float("nan")
    return Spread((float(v.mean()), sd, float(v.min()), float(v.max()), int(v.size)))


def paired_difference(a, b, confidence: float = 0.95):
    """Mean of the paired differences a_r - b_r, its standard error over replicates, and
    whether its two-sided ``confidence`` interval (Student t, n - 1 degrees of freedom)
    excludes zero (False with fewer than two replicates).

    A difference of exactly zero in every replicate (a deterministic quantity) is reported as
    no difference.

    Examples
    --------
    >>> paired_difference([10.0, 11.0, 12.0], [9.0, 10.1, 10.9])[2]
    True
    >>> paired_difference([10.0, 11.0], [9.0, 11.5])[2]
    False
    """
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if not pairs:
        return None, None, False
    d = np.array([x - y for x, y in pairs], dtype=float)
    mean = float(d.mean())
    if d.size < 2:
        return mean, float("nan"), False
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    t = float(student_t.ppf(0.5 + 0.5 * confidence, d.size - 1))
    return mean, se, bool(abs(mean) > t * se and mean != 0.0)
