"""Radiobiology of a permanent beta implant: BED, EQD2, EUD, gEUD and LKB NTCP.

References
----------
.. [1] Dale RG. The application of the linear-quadratic dose-effect equation to fractionated
       and protracted radiotherapy. Br J Radiol 1985;58:515-528.
.. [2] Niemierko A. Reporting and analyzing dose distributions: a concept of equivalent
       uniform dose. Med Phys 1997;24:103-110 (EUD); Niemierko A. Med Phys 1999;26:1100 (gEUD).
.. [3] Lyman JT. Radiat Res Suppl 1985;8:S13; Kutcher GJ, Burman C. IJROBP 1989;16:1623.
.. [4] Burman C et al. Fitting of normal tissue tolerance data to an analytic function.
       IJROBP 1991;21:123-135 (whole liver: TD50 40 Gy, m 0.15, n 0.32).
.. [5] Dawson LA et al. Analysis of radiation-induced liver disease using the Lyman NTCP model.
       IJROBP 2002;53:810-821 (n 0.97, m 0.12, TD50 39.8 Gy primary / 45.8 Gy metastases).
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from scipy.special import ndtr

from dosimetry.metrics import sample_weights

__all__ = ["dale_G", "bed_Gy", "eqd2_Gy", "eud_Gy", "geud_Gy", "lkb_ntcp", "LKBParameters",
           "LKB_PARAMETER_SETS"]


def dale_G(half_life_h: float, repair_half_time_h: float) -> float:
    """Dose-protraction factor of an exponentially decaying permanent implant.

    G = lambda / (mu + lambda) = T_rep / (T_rep + T1/2) (mono-exponential repair) [1]_.
    """
    if not (half_life_h > 0 and repair_half_time_h > 0):
        raise ValueError("half_life_h and repair_half_time_h must be > 0 [h]")
    return repair_half_time_h / (repair_half_time_h + half_life_h)


def bed_Gy(dose_Gy, *, alpha_beta_Gy: float, repair_half_time_h: float, half_life_h: float):
    """Biologically effective dose of a permanent implant, BED = D (1 + G D / (alpha/beta)) [Gy].

    Check (Dale 1985; docs/physics.md, "Radiobiology"): alpha/beta 2.5 Gy, T_rep 1.5 h, Y-90, D = 100 Gy ->
    191.46 Gy. Applied voxel by voxel (the LQ model is not linear in dose).

    References
    ----------
    Dale RG. Br J Radiol 1985;58:515.

    Examples
    --------
    100 Gy from Y-90 to normal liver (alpha/beta 2.5 Gy, repair half-time 1.5 h; Dale 1985):

    >>> round(float(bed_Gy(100.0, alpha_beta_Gy=2.5, repair_half_time_h=1.5, half_life_h=64.1)), 1)
    191.5
    """
    if not alpha_beta_Gy > 0:
        raise ValueError("alpha_beta_Gy must be > 0")
    d = np.asarray(dose_Gy, dtype=np.float64)
    g = dale_G(half_life_h, repair_half_time_h)
    return d * (1.0 + g * d / alpha_beta_Gy)


def eqd2_Gy(bed, *, alpha_beta_Gy: float):
    """Equivalent dose in 2 Gy fractions: EQD2 = BED / (1 + 2 / (alpha/beta)) [Gy]."""
    return np.asarray(bed, dtype=np.float64) / (1.0 + 2.0 / alpha_beta_Gy)


def eud_Gy(dose_Gy, alpha_per_Gy: float, weights=None) -> float:
    """Niemierko EUD for tumours: EUD = -(1/alpha) ln sum v_i exp(-alpha D_i) [Gy]."""
    d, w = sample_weights(dose_Gy, weights)
    if not alpha_per_Gy > 0:
        raise ValueError("alpha_per_Gy must be > 0")
    # log-sum-exp for stability at high doses
    x = -alpha_per_Gy * d
    m = x.max()
    return float(-(m + math.log(np.sum(w * np.exp(x - m)))) / alpha_per_Gy)


def geud_Gy(dose_Gy, a: float, weights=None) -> float:
    """Generalised EUD: (sum v_i D_i^a)^(1/a) [Gy]; a = 1 is the mean, a -> inf the maximum."""
    d, w = sample_weights(dose_Gy, weights)
    if a == 0:
        raise ValueError("a must be non-zero")
    if np.any(d < 0):
        raise ValueError("doses must be >= 0")
    if a < 0 and np.any(d == 0):
        return 0.0
    m = d.max()
    if m == 0:
        return 0.0
    return float(m * np.sum(w * (d / m) ** a) ** (1.0 / a))


@dataclass(frozen=True)
class LKBParameters:
    """Lyman-Kutcher-Burman parameters (doses in EQD2 [Gy])."""

    name: str
    td50_Gy: float
    m: float
    n: float
    reference: str


#: Cited LKB parameter sets for liver (external-beam fits, applied to EQD2).
LKB_PARAMETER_SETS = {
    "burman1991_liver": LKBParameters("burman1991_liver", 40.0, 0.15, 0.32,
                                      "Burman C et al. IJROBP 1991;21:123"),
    "dawson2002_primary": LKBParameters("dawson2002_primary", 39.8, 0.12, 0.97,
                                        "Dawson LA et al. IJROBP 2002;53:810"),
    "dawson2002_metastases": LKBParameters("dawson2002_metastases", 45.8, 0.12, 0.97,
                                           "Dawson LA et al. IJROBP 2002;53:810"),
}


def lkb_ntcp(dose_Gy, params: LKBParameters | str = "dawson2002_primary", weights=None) -> float:
    """LKB normal-tissue complication probability, NTCP = Phi((gEUD - TD50) / (m TD50)),
    with gEUD of exponent a = 1/n [3]_.

    Parameters
    ----------
    dose_Gy : array
        Dose samples (voxels, points) in the unit the parameters were fitted in (EQD2).
    params : LKBParameters or str
        A set of :data:`LKB_PARAMETER_SETS` or custom parameters.
    weights : array, optional
        Volume (mass) of each sample.
    """
    if isinstance(params, str):
        if params not in LKB_PARAMETER_SETS:
            raise ValueError(f"LKB parameter set {params!r} is unknown (allowed: "
                             f"{', '.join(LKB_PARAMETER_SETS)})")
        params = LKB_PARAMETER_SETS[params]
    g = geud_Gy(dose_Gy, 1.0 / params.n, weights)
    return float(ndtr((g - params.td50_Gy) / (params.m * params.td50_Gy)))
