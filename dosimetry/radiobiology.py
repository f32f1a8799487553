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
.. [6] Jackson A, Ten Haken RK, Robertson JM et al. Analysis of clinical complication data for
       radiation hepatitis using a parallel architecture model. IJROBP 1995;31:883-891.
.. [7] Cheng JC-H, Jan GJ, Liu HS, Wu JK, Chung HW. Hepatitis B virus infection and the
       parallel architecture model of radiation-induced liver disease. IJROBP
       2005;62:1150-1156 (group fit: mean functional reserve 0.54, width 0.14, subunit D50
       50 Gy, slope 0.18).
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from scipy.special import ndtr

from dosimetry.metrics import sample_weights

__all__ = ["dale_G", "bed_Gy", "eqd2_Gy", "eud_Gy", "geud_Gy", "lkb_ntcp", "LKBParameters",
           "LKB_PARAMETER_SETS", "ParallelParameters", "PARALLEL_LIVER", "subunit_damage",
           "parallel_ntcp"]


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


@dataclass(frozen=True)
class ParallelParameters:
    """Parallel-architecture (functional-subunit) NTCP parameters [6]_.

    Attributes
    ----------
    reserve_mean, reserve_sd : float
        Mean and width of the patients' functional reserve: the fraction of subunits whose
        loss causes the complication [1].
    d50_Gy : float
        Dose damaging half of the subunits [Gy] (EQD2).
    slope_per_Gy : float
        Slope k of the subunit response p(D) = 1 / (1 + exp(-k (D - D50))) [1/Gy].
    source : str
    """

    reserve_mean: float
    reserve_sd: float
    d50_Gy: float
    slope_per_Gy: float
    source: str = ""


#: Cheng et al. 2005 [7]_, group fit on 151 patients after 3D conformal liver radiotherapy
#: (RILD grade >= 3 within 4 months). The abstract read gives k = 0.18 without the form of the
#: subunit response: it is read here as the logistic slope per Gy (the power form
#: 1 / (1 + (D50 / D)^k) with k = 0.18 would damage 12 % of subunits at 1 mGy). Doses are
#: those of fractionated external-beam treatment, taken as EQD2.
PARALLEL_LIVER = ParallelParameters(0.54, 0.14, 50.0, 0.18,
                                    "Cheng et al. IJROBP 2005;62:1150 (group)")


def subunit_damage(eqd2_Gy, params: ParallelParameters = PARALLEL_LIVER):
    """Probability that a functional subunit at EQD2 ``eqd2_Gy`` is damaged [1]."""
    d = np.asarray(eqd2_Gy, dtype=float)
    return 1.0 / (1.0 + np.exp(-params.slope_per_Gy * (d - params.d50_Gy)))


def parallel_ntcp(subunit_eqd2_Gy, params: ParallelParameters = PARALLEL_LIVER, *,
                  weights=None, untreated_fraction: float = 0.0) -> dict:
    """NTCP of a parallel organ from the doses of its subunits [6]_, [7]_.

    The damaged fraction f is the mass-weighted mean of :func:`subunit_damage` over the
    subunits given plus ``untreated_fraction`` of the organ at zero dose (the liver outside
    the treated territory); the complication occurs when f exceeds the patient's functional
    reserve, normally distributed over patients: NTCP = Phi((f - reserve_mean) / reserve_sd).

    Parameters
    ----------
    subunit_eqd2_Gy : array
        EQD2 of each subunit (e.g. lobule doses converted with :func:`bed_Gy` and
        :func:`eqd2_Gy`) [Gy].
    params : ParallelParameters
    weights : array, optional
        Subunit masses (default equal).
    untreated_fraction : float
        Share of the organ's mass outside the subunits given, at zero dose [1].

    Returns
    -------
    dict
        ``damaged_fraction`` f [1] and ``ntcp`` [1].

    Examples
    --------
    Every subunit at the subunit D50: half of the treated part is damaged.

    >>> parallel_ntcp([50.0, 50.0])["damaged_fraction"]
    0.5
    """
    d = np.asarray(subunit_eqd2_Gy, dtype=float)
    if not 0.0 <= untreated_fraction < 1.0:
        raise ValueError("untreated_fraction must lie in [0, 1)")
    f_treated = 0.0
    if d.size:
        d, w = sample_weights(d, weights)
        f_treated = float(np.sum(w * subunit_damage(d, params)))
    f = f_treated * (1.0 - untreated_fraction)
    ntcp = float(ndtr((f - params.reserve_mean) / params.reserve_sd))
    return {"damaged_fraction": f, "ntcp": ntcp}
