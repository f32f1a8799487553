"""Clinical activity planning models for Y-90 (and Ho-166) radioembolization.

Three models are implemented, each with the warnings a planning physicist would raise:

* MIRD single compartment (glass): uniform uptake in the perfused volume.
* Partition model: tumour, normal liver and lung compartments with a tumour-to-normal
  activity-concentration ratio T/N.
* BSA method (resin): empirical activity from body surface area and tumour involvement.

All models assume complete decay in place (permanent implant) and local absorption of all
beta energy (no escape from the compartment); the dose constant K sets the energy per GBq.

References
----------
.. [1] Gulec SA, Mesoloras G, Stabin M. Dosimetric techniques in 90Y-microsphere therapy of
       liver cancer: the MIRD equations for dose calculations. J Nucl Med 2006;47:1209-1211.
.. [2] Ho S, Lau WY, Leung TW et al. Partition model for estimating radiation doses from
       yttrium-90 microspheres in treating hepatic tumours. Eur J Nucl Med 1996;23:947-952.
.. [3] Kennedy A et al. Recommendations for radioembolization of hepatic malignancies using
       yttrium-90 microsphere brachytherapy: a consensus panel report. IJROBP 2007;68:13-23
       (BSA method and lung-shunt reductions).
.. [4] Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height
       and weight be known. Arch Intern Med 1916;17:863-871.
.. [5] El-Haddad G, Strosberg J. Radioembolization: dosimetry and clinical aspects.
       Dig Dis Interv 2021;5:103 (exclusion / caution criteria).
.. [6] Weber M et al. EANM procedure guideline for the treatment of liver cancer and liver
       metastases with intra-arterial radioactive compounds. EJNMMI 2022;49:1682-1699.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
import math

from dosimetry.decay import dose_constant as _dose_constant

#: Single-treatment lung dose limit [Gy] ([5], [6]).
LUNG_DOSE_LIMIT_SINGLE_GY = 30.0
#: Cumulative lung dose limit [Gy] ([5], [6]).
LUNG_DOSE_LIMIT_CUMULATIVE_GY = 50.0
#: Tumour burden above which treatment is cautioned against (fraction of target liver) [5].
TUMOUR_BURDEN_LIMIT = 0.70
#: Lung shunt fraction above which resin (BSA) treatment is contraindicated [3].
LSF_CONTRAINDICATION_RESIN = 0.20
#: EANM 2022: glass, whole normal liver mean dose limit [Gy] [6].
GLASS_NORMAL_LIVER_LIMIT_GY = 75.0
#: EANM 2022: resin, perfused normal liver mean dose limit (unilobar) [Gy] [6].
RESIN_NORMAL_LIVER_LIMIT_GY = 40.0

__all__ = ["PlanResult", "mird", "partition", "bsa", "lung_dose_Gy", "body_surface_area_m2",
           "bsa_lsf_reduction", "lung_warnings", "normal_liver_warnings",
           "LUNG_DOSE_LIMIT_SINGLE_GY", "LUNG_DOSE_LIMIT_CUMULATIVE_GY",
           "TUMOUR_BURDEN_LIMIT", "LSF_CONTRAINDICATION_RESIN", "GLASS_NORMAL_LIVER_LIMIT_GY",
           "RESIN_NORMAL_LIVER_LIMIT_GY"]


@dataclass
class PlanResult:
    """Result of one planning model.

    Attributes
    ----------
    model : str
        ``"mird"``, ``"partition"`` or ``"bsa"``.
    activity_GBq : float
        Administered activity [GBq] (what leaves the vial, lung share included).
    lung_dose_Gy : float
        Mean lung dose [Gy] for the lung mass used.
    warnings : list of str
        Warnings and contraindications that apply.
    dose_constant_Gy_kg_per_GBq : float
        K used [Gy kg / GBq] (for ``bsa``: only for the lung dose).
    liver_dose_Gy, tumour_dose_Gy, normal_dose_Gy : float or None
        Compartment mean doses [Gy]; ``liver_dose_Gy`` is the perfused-volume mean.
    extra : dict
        Model-specific quantities (e.g. ``bsa_m2``, ``lsf_reduction``).
    """

    model: str
    activity_GBq: float
    lung_dose_Gy: float
    dose_constant_Gy_kg_per_GBq: float
    liver_dose_Gy: float | None = None
    tumour_dose_Gy: float | None = None
    normal_dose_Gy: float | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def contraindicated(self) -> bool:
        """True when a warning is a contraindication."""
        return any(w.startswith("contraindication") for w in self.warnings)

    def to_dict(self) -> dict:
        """Plain dict with unit-suffixed keys (JSON-serialisable)."""
        d = asdict(self)
        extra = d.pop("extra")
        d.update(extra)
        d["contraindicated"] = self.contraindicated
        return d


def _positive(name: str, value, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: {value!r} is out of range (allowed: {allowed}, finite)")
    return v


def _lsf(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"lung_shunt_fraction: {value!r} is not a number") from None
    if not (0.0 <= v < 1.0):
        raise ValueError(f"lung_shunt_fraction: {value!r} is out of range (allowed: 0 <= LSF < 1)")
    return v


def _exactly_one(**kw) -> str:
    given = [k for k, v in kw.items() if v is not None]
    if len(given) != 1:
        names = " or ".join(kw)
        raise ValueError(f"give exactly one of {names} (got {len(given)})")
    return given[0]


def lung_dose_Gy(activity_GBq: float, lung_shunt_fraction: float, *, lung_mass_kg: float = 1.0,
                 dose_constant="icrp107", nuclide: str = "Y-90") -> float:
    """Mean lung dose D_lung = K A LSF / M_lung [Gy].

    Parameters
    ----------
    activity_GBq : float
        Administered activity [GBq].
    lung_shunt_fraction : float
        Fraction of the activity shunted to the lungs [1], 0 <= LSF < 1.
    lung_mass_kg : float
        Lung mass [kg]; 1 kg by convention [1]_.
    dose_constant : str or float
        See :func:`dosimetry.decay.dose_constant`.

    References
    ----------
    .. [1] Gulec SA et al. J Nucl Med 2006;47:1209.
    """
    k = _dose_constant(dose_constant, nuclide)
    a = _positive("activity_GBq", activity_GBq, allow_zero=True)
    m = _positive("lung_mass_kg", lung_mass_kg)
    return k * a * _lsf(lung_shunt_fraction) / m


def lung_warnings(lung_dose: float, prior_lung_dose_Gy: float = 0.0) -> list[str]:
    """Warnings for a lung dose [Gy] over the single-treatment or cumulative limit."""
    out = []
    if lung_dose > LUNG_DOSE_LIMIT_SINGLE_GY:
        out.append(f"lung dose {lung_dose:.1f} Gy exceeds the single-treatment limit of "
                   f"{LUNG_DOSE_LIMIT_SINGLE_GY:.0f} Gy")
    total = lung_dose + prior_lung_dose_Gy
    if total > LUNG_DOSE_LIMIT_CUMULATIVE_GY:
        out.append(f"cumulative lung dose {total:.1f} Gy exceeds the limit of "
                   f"{LUNG_DOSE_LIMIT_CUMULATIVE_GY:.0f} Gy")
    return out


def normal_liver_warnings(material: str, normal_dose_Gy: float, *, normal_mass_kg=None,
                          whole_normal_mass_kg=None) -> list[str]:
    """EANM 2022 normal-liver limits [6]_: glass, whole normal liver mean < 75 Gy (the perfused
    normal liver's dose diluted over the whole normal liver when its mass is known); resin,
    perfused normal liver mean < 40 Gy.

    Parameters
    ----------
    material : str
        ``"glass"`` or ``"resin"`` (other materials: no limit).
    normal_dose_Gy : float
        Mean dose of the perfused normal liver [Gy].
    normal_mass_kg, whole_normal_mass_kg : float, optional
        Perfused and whole normal liver masses [kg].
    """
    out = []
    if material == "glass":
        if normal_mass_kg is not None and whole_normal_mass_kg:
            mean = normal_dose_Gy * normal_mass_kg / whole_normal_mass_kg
            where = "whole normal liver"
        else:
            mean, where = normal_dose_Gy, "perfused normal liver"
        if mean > GLASS_NORMAL_LIVER_LIMIT_GY:
            out.append(f"{where} dose {mean:.0f} Gy exceeds {GLASS_NORMAL_LIVER_LIMIT_GY:.0f} Gy "
                       "(EANM 2022, glass)")
    elif material == "resin" and normal_dose_Gy > RESIN_NORMAL_LIVER_LIMIT_GY:
        out.append(f"perfused normal liver dose {normal_dose_Gy:.0f} Gy exceeds "
                   f"{RESIN_NORMAL_LIVER_LIMIT_GY:.0f} Gy (EANM 2022, resin)")
    return out


def _burden_warning(tumour_fraction: float) -> list[str]:
    if tumour_fraction > TUMOUR_BURDEN_LIMIT:
        return [f"tumour burden {100 * tumour_fraction:.0f} % exceeds "
                f"{100 * TUMOUR_BURDEN_LIMIT:.0f} % of the target liver"]
    return []


def mird(*, perfused_mass_kg, lung_shunt_fraction=0.0, target_dose_Gy=None, activity_GBq=None,
         lung_mass_kg=1.0, dose_constant="icrp107", nuclide="Y-90",
         prior_lung_dose_Gy=0.0) -> PlanResult:
    """MIRD single-compartment model (glass microspheres).

    D_liver = K A (1 - LSF) / M_perfused, hence A = D M / (K (1 - LSF));
    D_lung = K A LSF / M_lung.

    Parameters
    ----------
    perfused_mass_kg : float
        Mass of the perfused liver volume, tumour included [kg].
    lung_shunt_fraction : float
        Lung shunt fraction LSF [1], 0 <= LSF < 1.
    target_dose_Gy : float, optional
        Prescribed mean dose to the perfused volume [Gy] (gives the activity).
    activity_GBq : float, optional
        Administered activity [GBq] (gives the doses). Exactly one of the two.
    lung_mass_kg : float
        Lung mass [kg] (1 kg by convention).
    dose_constant : {"icrp107", "therasphere", "partition", ...} or float
        K [Gy kg / GBq]; see :func:`dosimetry.decay.dose_constant`. Default ``"icrp107"``
        (49.76 for Y-90).
    nuclide : str
        Nuclide for ``"icrp107"``.
    prior_lung_dose_Gy : float
        Lung dose from earlier treatments [Gy], for the cumulative limit.

    Returns
    -------
    PlanResult
        With ``liver_dose_Gy`` (tumour and normal doses equal to it: uniform uptake).

    References
    ----------
    Gulec SA et al., J Nucl Med 2006;47:1209.

    Examples
    --------
    Glass, 120 Gy to 1.5 kg of perfused liver with a 10 % lung shunt and K = 50 Gy kg/GBq:

    >>> p = mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.10, target_dose_Gy=120,
    ...          dose_constant="therasphere")
    >>> round(p.activity_GBq, 3), round(p.lung_dose_Gy, 1)
    (4.0, 20.0)
    """
    k = _dose_constant(dose_constant, nuclide)
    m = _positive("perfused_mass_kg", perfused_mass_kg)
    lsf = _lsf(lung_shunt_fraction)
    _positive("lung_mass_kg", lung_mass_kg)
    prior = _positive("prior_lung_dose_Gy", prior_lung_dose_Gy, allow_zero=True)
    which = _exactly_one(target_dose_Gy=target_dose_Gy, activity_GBq=activity_GBq)
    if which == "target_dose_Gy":
        d = _positive("target_dose_Gy", target_dose_Gy)
        a = d * m / (k * (1.0 - lsf))
    else:
        a = _positive("activity_GBq", activity_GBq)
        d = k * a * (1.0 - lsf) / m
    dl = lung_dose_Gy(a, lsf, lung_mass_kg=lung_mass_kg, dose_constant=k)
    return PlanResult(model="mird", activity_GBq=a, lung_dose_Gy=dl, dose_constant_Gy_kg_per_GBq=k,
                      liver_dose_Gy=d, tumour_dose_Gy=d, normal_dose_Gy=d,
                      warnings=lung_warnings(dl, prior))


def partition(*, tumour_mass_kg, normal_mass_kg, tumour_to_normal, lung_shunt_fraction=0.0,
              normal_dose_Gy=None, activity_GBq=None, lung_mass_kg=1.0,
              dose_constant="icrp107", nuclide="Y-90", tumour_dose_Gy=None,
              prior_lung_dose_Gy=0.0) -> PlanResult:
    """Partition model: tumour (T), normal liver (N) and lung (L) compartments.

    With T/N the ratio of activity concentrations (activity per mass),
    A = D_N (T/N M_T + M_N) / (K (1 - LSF)), D_T = (T/N) D_N, D_lung = K A LSF / M_lung.

    Parameters
    ----------
    tumour_mass_kg, normal_mass_kg : float
        Compartment masses [kg]; tumour >= 0, normal > 0.
    tumour_to_normal : float
        T/N activity-concentration ratio [1], > 0 (from 99mTc-MAA SPECT in the clinic).
    lung_shunt_fraction : float
        LSF [1], 0 <= LSF < 1.
    normal_dose_Gy, activity_GBq, tumour_dose_Gy : float, optional
        Give exactly one: a normal-liver dose target [Gy], a tumour dose target [Gy], or the
        administered activity [GBq].
    lung_mass_kg, dose_constant, nuclide, prior_lung_dose_Gy
        As in :func:`mird`.

    Returns
    -------
    PlanResult
        With ``tumour_dose_Gy``, ``normal_dose_Gy`` and ``liver_dose_Gy`` (the mass-weighted
        mean over the perfused volume, equal to the MIRD dose at the same activity).

    References
    ----------
    Ho S et al., Eur J Nucl Med 1996;23:947.

    Examples
    --------
    40 Gy to 1.2 kg of normal liver, 0.3 kg of tumour at T/N = 3, LSF 5 %, K = 49.67:

    >>> p = partition(tumour_mass_kg=0.3, normal_mass_kg=1.2, tumour_to_normal=3,
    ...               lung_shunt_fraction=0.05, normal_dose_Gy=40, dose_constant="partition")
    >>> round(p.activity_GBq, 4), round(p.tumour_dose_Gy, 1), round(p.lung_dose_Gy, 2)
    (1.7802, 120.0, 4.42)
    """
    k = _dose_constant(dose_constant, nuclide)
    mt = _positive("tumour_mass_kg", tumour_mass_kg, allow_zero=True)
    mn = _positive("normal_mass_kg", normal_mass_kg)
    tn = _positive("tumour_to_normal", tumour_to_normal)
    lsf = _lsf(lung_shunt_fraction)
    _positive("lung_mass_kg", lung_mass_kg)
    prior = _positive("prior_lung_dose_Gy", prior_lung_dose_Gy, allow_zero=True)
    which = _exactly_one(normal_dose_Gy=normal_dose_Gy, tumour_dose_Gy=tumour_dose_Gy,
                         activity_GBq=activity_GBq)
    weighted_mass = tn * mt + mn  # [kg], normal-liver-equivalent mass
    if which == "normal_dose_Gy":
        dn = _positive("normal_dose_Gy", normal_dose_Gy)
        a = dn * weighted_mass / (k * (1.0 - lsf))
    elif which == "tumour_dose_Gy":
        dn = _positive("tumour_dose_Gy", tumour_dose_Gy) / tn
        a = dn * weighted_mass / (k * (1.0 - lsf))
    else:
        a = _positive("activity_GBq", activity_GBq)
        dn = k * a * (1.0 - lsf) / weighted_mass
    dt = tn * dn
    dl = lung_dose_Gy(a, lsf, lung_mass_kg=lung_mass_kg, dose_constant=k)
    liver = (dt * mt + dn * mn) / (mt + mn)
    warnings = lung_warnings(dl, prior) + _burden_warning(mt / (mt + mn))
    return PlanResult(model="partition", activity_GBq=a, lung_dose_Gy=dl,
                      dose_constant_Gy_kg_per_GBq=k, liver_dose_Gy=liver, tumour_dose_Gy=dt,
                      normal_dose_Gy=dn, warnings=warnings,
                      extra={"tumour_to_normal": tn})


def body_surface_area_m2(height_m, weight_kg) -> float:
    """Du Bois body surface area BSA = 0.20247 H^0.725 W^0.425 [m^2] (H [m], W [kg]).

    References
    ----------
    Du Bois D, Du Bois EF. Arch Intern Med 1916;17:863.
    """
    h = _positive("height_m", height_m)
    w = _positive("weight_kg", weight_kg)
    if h > 3.0:
        raise ValueError(f"height_m: {height_m!r} is out of range (allowed: 0 < height <= 3 m; "
                         "give metres, not centimetres)")
    return 0.20247 * h**0.725 * w**0.425


def bsa_lsf_reduction(lung_shunt_fraction) -> float | None:
    """Fractional activity reduction of the BSA method for a lung shunt fraction [1].

    0 for LSF <= 10 %, 0.2 for 10 % < LSF <= 15 %, 0.4 for 15 % < LSF <= 20 %, and None
    (contraindicated) above 20 % (Kennedy et al. 2007).
    """
    lsf = _lsf(lung_shunt_fraction)
    if lsf <= 0.10:
        return 0.0
    if lsf <= 0.15:
        return 0.2
    if lsf <= LSF_CONTRAINDICATION_RESIN:
        return 0.4
    return None


def bsa(*, height_m, weight_kg, tumour_fraction, lung_shunt_fraction=0.0, lung_mass_kg=1.0,
        dose_constant="icrp107", nuclide="Y-90", prior_lung_dose_Gy=0.0,
        perfused_fraction=1.0) -> PlanResult:
    """BSA method for resin microspheres.

    A [GBq] = (BSA - 0.2) + V_T / (V_T + V_N), reduced by 20 % for 10 % < LSF <= 15 % and by
    40 % for 15 % < LSF <= 20 %; LSF > 20 % is a contraindication (activity 0 is returned).
    For a lobar or segmental treatment the whole-liver activity is multiplied by the treated
    fraction of the liver volume (``perfused_fraction``), as the SIR-Spheres instructions and
    Kennedy et al. (2007) prescribe.

    Parameters
    ----------
    height_m : float
        Height [m].
    weight_kg : float
        Weight [kg].
    tumour_fraction : float
        Tumour involvement V_T / (V_T + V_N) of the target liver [1], 0 <= f < 1.
    lung_shunt_fraction : float
        LSF [1].
    lung_mass_kg, dose_constant, nuclide, prior_lung_dose_Gy
        For the lung dose, as in :func:`mird`.
    perfused_fraction : float
        Treated fraction of the whole liver volume [1], 0 < f <= 1 (1: whole liver).

    Returns
    -------
    PlanResult
        With ``extra`` entries ``bsa_m2``, ``unreduced_activity_GBq`` and ``lsf_reduction``.
        The BSA method prescribes no compartment dose; the doses are None.

    References
    ----------
    Kennedy A et al., IJROBP 2007;68:13; Du Bois & Du Bois 1916.

    Examples
    --------
    >>> round(bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2).activity_GBq, 3)
    1.903
    """
    k = _dose_constant(dose_constant, nuclide)
    area = body_surface_area_m2(height_m, weight_kg)
    try:
        f = float(tumour_fraction)
    except (TypeError, ValueError):
        raise ValueError(f"tumour_fraction: {tumour_fraction!r} is not a number") from None
    if not (0.0 <= f < 1.0):
        raise ValueError(f"tumour_fraction: {tumour_fraction!r} is out of range (allowed: 0 <= f < 1)")
    lsf = _lsf(lung_shunt_fraction)
    _positive("lung_mass_kg", lung_mass_kg)
    prior = _positive("prior_lung_dose_Gy", prior_lung_dose_Gy, allow_zero=True)
    try:
        pf = float(perfused_fraction)
    except (TypeError, ValueError):
        raise ValueError(f"perfused_fraction: {perfused_fraction!r} is not a number") from None
    if not (0.0 < pf <= 1.0):
        raise ValueError(f"perfused_fraction: {perfused_fraction!r} is out of range "
                         "(allowed: 0 < f <= 1)")
    unreduced = ((area - 0.2) + f) * pf
    warnings: list[str] = []
    if unreduced <= 0:
        raise ValueError(f"height_m/weight_kg: BSA {area:.3f} m^2 gives no positive activity")
    reduction = bsa_lsf_reduction(lsf)
    if reduction is None:
        a = 0.0
        warnings.append(f"contraindication: lung shunt fraction {100 * lsf:.1f} % exceeds "
                        f"{100 * LSF_CONTRAINDICATION_RESIN:.0f} % (resin, BSA method)")
    else:
        a = unreduced * (1.0 - reduction)
        if reduction > 0:
            warnings.append(f"activity reduced by {100 * reduction:.0f} % for a lung shunt "
                            f"fraction of {100 * lsf:.1f} %")
    dl = lung_dose_Gy(a, lsf, lung_mass_kg=lung_mass_kg, dose_constant=k)
    warnings += lung_warnings(dl, prior) + _burden_warning(f)
    return PlanResult(model="bsa", activity_GBq=a, lung_dose_Gy=dl, dose_constant_Gy_kg_per_GBq=k,
                      warnings=warnings,
                      extra={"bsa_m2": area, "unreduced_activity_GBq": unreduced,
                             "lsf_reduction": reduction, "perfused_fraction": pf})
