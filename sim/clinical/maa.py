"""Tc-99m macroaggregated albumin (MAA) as a scout device: particle number, sizes, activity
per particle, size-dependent passage to the lungs and biological breakdown.

Model (parameters: :class:`sim.config.clinical.ScoutSpec`; sources in docs/physics.md):

* particles injected: N = N_vial A_inj / (A_vial 2^(-t/T1/2)), the vial's particle count times
  the share of its activity drawn ([1]_; the number per hepatic injection itself was not
  found);
* diameters: log-normal (median d50, geometric SD g) truncated to [d_min, d_max]; the
  defaults meet the kit specification (> 90 % in 10-90 um, none above 150 um, [1]_);
* activity per particle proportional to d^k (k = 3: label bound to the albumin mass; an
  assumption);
* no embolic effect: a few 10^5 particles, a few per terminal arteriole, far below the tens
  of spheres that occlude one in the transport model;
* particles smaller than the passage diameter cross the hepatic capillary bed to the lungs;
  the others are transported like spheres (lodging in the first vessel narrower than
  themselves) and shunt to the lungs with the patient's arteriovenous shunt;
* breakdown: a labile fraction f of the activity bound to liver-lodged MAA is released with
  half-time T_b and leaves the liver (free pertechnetate, fragments); lung-lodged MAA is held
  fixed. The apparent lung-to-liver ratio then grows as 1 / (1 - f (1 - 2^(-t/T_b))); the
  defaults reproduce the mean apparent LSF of 3.9 %, 7.7 % and 9.9 % at 1, 5 and 24 h of [2]_
  (three points, three parameters: an exact fit, not a mechanism).

References
----------
.. [1] Pulmolite (Tc-99m albumin aggregated kit) US package insert.
.. [2] Grosser OS et al. J Nucl Med 2016;57:925 (abstract).
.. [3] Elschot M et al. Eur J Nucl Med Mol Imaging 2014;41:1965; Yu N et al. IJROBP
       2013;85:834 (MAA overestimates the lung dose; numbers not read).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["particles_injected", "sample_diameters_um", "fraction_between", "mean_diameter_um",
           "particle_activities_Bq", "bound_fraction", "passes_to_lung", "maa_summary"]


def particles_injected(spec, tc_half_life_h: float) -> int:
    """Particles in the scout injection: ``spec.particles``, or the vial's count times the
    share of its (decayed) activity drawn."""
    if spec.particles is not None:
        return int(spec.particles)
    a_vial = spec.vial_activity_MBq * 2.0 ** (-spec.hours_labelling_to_injection / tc_half_life_h)
    if spec.activity_MBq > a_vial:
        raise ValueError(f"scout.activity_MBq = {spec.activity_MBq}: more than the vial holds "
                         f"{spec.hours_labelling_to_injection:g} h after labelling "
                         f"({a_vial:.4g} MBq)")
    return max(1, int(round(spec.particles_per_vial * spec.activity_MBq / a_vial)))


def _bounds(spec):
    s = math.log(spec.gsd)
    mu = math.log(spec.median_diameter_um)
    return mu, s, (math.log(spec.min_diameter_um) - mu), (math.log(spec.max_diameter_um) - mu)


def sample_diameters_um(spec, n: int, rng=None) -> np.ndarray:
    """``n`` diameters [um] from the truncated log-normal (inverse CDF)."""
    rng = np.random.default_rng(rng)
    mu, s, lo, hi = _bounds(spec)
    if s == 0.0:
        return np.full(int(n), spec.median_diameter_um)
    p_lo, p_hi = special.ndtr(lo / s), special.ndtr(hi / s)
    z = special.ndtri(p_lo + rng.random(int(n)) * (p_hi - p_lo))
    return np.clip(np.exp(mu + s * z), spec.min_diameter_um, spec.max_diameter_um)


def fraction_between(spec, lo_um: float, hi_um: float, exponent: float = 0.0) -> float:
    """Share of the particles (``exponent`` 0) or of d^k (e.g. 3: of the activity) with
    diameters in [lo, hi] (analytic: the d^k-weighted log-normal is log-normal with its log-
    mean shifted by k s^2)."""
    mu, s, a, b = _bounds(spec)
    if s == 0.0:
        return float(lo_um <= spec.median_diameter_um <= hi_um)
    shift = exponent * s  # in units of s
    za, zb = a / s - shift, b / s - shift
    if hi_um <= 0.0 or hi_um <= lo_um:
        return 0.0
    lo = max(math.log(max(lo_um, 1e-300)) - mu, a) / s - shift
    hi = min(math.log(hi_um) - mu, b) / s - shift
    if hi <= lo:
        return 0.0
    return float((special.ndtr(hi) - special.ndtr(lo)) / (special.ndtr(zb) - special.ndtr(za)))


def mean_diameter_um(spec) -> float:
    """Mean diameter of the truncated log-normal [um]."""
    mu, s, a, b = _bounds(spec)
    if s == 0.0:
        return spec.median_diameter_um
    num = special.ndtr(b / s - s) - special.ndtr(a / s - s)
    return float(math.exp(mu + 0.5 * s * s) * num / (special.ndtr(b / s) - special.ndtr(a / s)))


def particle_activities_Bq(diameters_um, total_Bq: float, exponent: float) -> np.ndarray:
    """Activity of each particle [Bq], proportional to d^k, summing to ``total_Bq``."""
    w = np.asarray(diameters_um, dtype=np.float64) ** float(exponent)
    return total_Bq * w / w.sum()


def passes_to_lung(diameters_um, spec) -> np.ndarray:
    """True for particles small enough to cross the hepatic capillary bed."""
    return np.asarray(diameters_um) < spec.passage_diameter_um


def bound_fraction(spec, hours_after_injection: float) -> float:
    """Share of the activity of liver-lodged MAA still bound: 1 - f (1 - 2^(-t/T_b))."""
    t = float(hours_after_injection)
    return 1.0 - spec.labile_fraction * -math.expm1(-math.log(2.0) * t / spec.release_half_time_h)


def maa_summary(spec, tc_half_life_h: float, scan_delay_h: float) -> dict:
    """Key numbers of the scout agent for the report."""
    return {"particles": particles_injected(spec, tc_half_life_h),
            "mean_diameter_um": mean_diameter_um(spec),
            "median_diameter_um": spec.median_diameter_um, "gsd": spec.gsd,
            "fraction_10_90um": fraction_between(spec, 10.0, 90.0),
            "fraction_above_150um": fraction_between(spec, 150.0, math.inf),
            "activity_fraction_below_passage": fraction_between(
                spec, 0.0, spec.passage_diameter_um, spec.activity_exponent),
            "particle_fraction_below_passage": fraction_between(
                spec, 0.0, spec.passage_diameter_um),
            "bound_fraction_at_scan": bound_fraction(spec, scan_delay_h),
            "activity_exponent": spec.activity_exponent}
