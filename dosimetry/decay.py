"""Radionuclide decay data and decay arithmetic.

Half-lives, mean beta energies and beta spectra come from ICRP Publication 107 through the
``icrp107-database`` package; the nuclides used by the devices (Y-90, Ho-166) are checked against
the values transcribed in the project reference, and any other beta emitter of ICRP-107 (Lu-177,
P-32, ...) can be loaded by name.

References
----------
.. [1] ICRP, 2008. Nuclear Decay Data for Dosimetric Calculations. ICRP Publication 107.
       Ann. ICRP 38(3).
.. [2] icrp107-database (PyPI), ICRP-107 spectra packaged for OpenGATE.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math
import re

from icrp107_database import get_icrp107_spectrum
import numpy as np

from dosimetry.constants import J_PER_MEV, LN2, SECONDS_PER_HOUR

__all__ = ["Nuclide", "get_nuclide", "normalise_name", "half_life_h", "photon_line_yield",
           "activity_at", "cumulated_decays",
           "fraction_delivered", "dose_constant", "dose_constant_from_data",
           "DOSE_CONSTANT_CONVENTIONS", "DOSE_CONSTANT_NAMES"]

_TIME_TO_H = {"s": 1.0 / 3600.0, "m": 1.0 / 60.0, "h": 1.0, "d": 24.0, "y": 365.25 * 24.0}


@dataclass(frozen=True)
class Nuclide:
    """Decay data of one beta-emitting radionuclide.

    Attributes
    ----------
    name : str
        ICRP-107 name, e.g. ``"Y-90"``.
    half_life_h : float
        Physical half-life [h].
    mean_beta_energy_MeV : float
        Mean beta kinetic energy emitted per decay [MeV], summed over branches
        (sum of branch mean energy x branch yield).
    mean_other_electron_energy_MeV : float
        Mean energy per decay of internal-conversion and Auger electrons [MeV]
        (Y-90: 2e-4; Ho-166: 0.031).
    beta_yield : float
        Beta particles per decay (sum of the branch yields) [1].
    endpoint_energy_MeV : float
        Largest beta endpoint energy [MeV] (the spectrum's upper end).
    spectrum_energy_MeV : ndarray, shape (M,)
        Energy grid of the beta spectrum [MeV] (uneven).
    spectrum_density_per_MeV : ndarray, shape (M,)
        Beta spectrum density [1/(MeV decay)], normalised so its trapezoid integral equals
        ``beta_yield`` (betas per decay).
    """

    name: str
    half_life_h: float
    mean_beta_energy_MeV: float
    beta_yield: float
    endpoint_energy_MeV: float
    spectrum_energy_MeV: np.ndarray
    spectrum_density_per_MeV: np.ndarray
    mean_other_electron_energy_MeV: float = 0.0

    @property
    def mean_electron_energy_MeV(self) -> float:
        """Mean energy of all electrons per decay [MeV]: betas + conversion + Auger electrons."""
        return self.mean_beta_energy_MeV + self.mean_other_electron_energy_MeV

    def spectrum_mean_energy_MeV(self) -> float:
        """Mean beta energy per decay from the tabulated spectrum [MeV] (trapezoid rule).

        Differs from :attr:`mean_beta_energy_MeV` by the discretisation of the tabulated
        spectrum (0.931 vs 0.9329 MeV for Y-90).
        """
        e, w = self.spectrum_energy_MeV, self.spectrum_density_per_MeV
        return float(np.trapezoid(w * e, e))

    def sample_energies_MeV(self, n: int, rng=None) -> np.ndarray:
        """Sample ``n`` beta kinetic energies [MeV] from the spectrum.

        Inverse-CDF sampling of the piecewise-linear density (the same density the trapezoid
        rule integrates), so sampled moments converge to the trapezoid moments.

        Parameters
        ----------
        n : int
            Number of energies.
        rng : int or numpy.random.Generator, optional
            Seed or generator.

        Returns
        -------
        ndarray, shape (n,)
            Kinetic energies [MeV].
        """
        rng = np.random.default_rng(rng)
        e, w = self.spectrum_energy_MeV, self.spectrum_density_per_MeV
        de = np.diff(e)
        seg = 0.5 * (w[1:] + w[:-1]) * de
        cdf = np.concatenate(([0.0], np.cumsum(seg)))
        u = rng.random(n) * cdf[-1]
        k = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(e) - 2)
        t = u - cdf[k]  # area still to cover inside segment k
        w0 = w[k]
        slope = (w[k + 1] - w0) / de[k]
        # Area of a linear density from 0 to x: w0 x + slope x^2 / 2 = t.
        disc = np.sqrt(np.maximum(w0 * w0 + 2.0 * slope * t, 0.0))
        flat = np.abs(slope) * de[k] < 1e-12 * np.maximum(w0, 1e-300)
        denom = np.where(flat, 1.0, w0 + disc)
        # Rationalised root 2t / (w0 + disc) is stable for small slopes.
        x = np.where(flat, t / np.maximum(w0, 1e-300), 2.0 * t / np.where(denom > 0, denom, 1.0))
        return e[k] + np.clip(x, 0.0, de[k])


@lru_cache(maxsize=None)
def get_nuclide(name: str) -> Nuclide:
    """Return the ICRP-107 decay data of a beta-emitting nuclide.

    Parameters
    ----------
    name : str
        Nuclide name as ICRP-107 writes it: ``"Y-90"``, ``"Ho-166"``, ``"Lu-177"``, ``"P-32"``.
        Common spellings (``"Y90"``, ``"y-90"``, ``"90Y"``) are accepted.

    Returns
    -------
    Nuclide

    Raises
    ------
    ValueError
        If the nuclide is unknown or not a beta-minus emitter.

    References
    ----------
    ICRP Publication 107 (2008), via the ``icrp107-database`` package.

    Examples
    --------
    >>> y90 = get_nuclide("Y-90")
    >>> round(y90.half_life_h, 1), round(y90.mean_beta_energy_MeV, 4)
    (64.1, 0.9329)
    """
    canonical = normalise_name(name)
    try:
        spec = get_icrp107_spectrum(canonical, "b-spectra")
        branches = get_icrp107_spectrum(canonical, "beta-")
    except Exception as exc:  # the package raises bare errors for unknown names
        raise ValueError(
            f"nuclide {name!r}: not a beta-minus emitter in ICRP-107 (e.g. 'Y-90', 'Ho-166', "
            f"'Lu-177', 'P-32')"
        ) from exc
    e = np.asarray(spec["energies"], dtype=float)
    w = np.asarray(spec["weights"], dtype=float)
    if e.size < 2 or not np.all(np.diff(e) >= 0):
        raise ValueError(f"nuclide {name!r}: malformed ICRP-107 beta spectrum")
    be = np.asarray(branches["energies"], dtype=float)
    by = np.asarray(branches["weights"], dtype=float)
    beta_yield = float(by.sum())
    # The b-spectra weights are a density per MeV on an uneven grid: integrate them with the
    # trapezoid rule (a plain weighted sum is wrong), and normalise to the branch yield.
    w = w * (beta_yield / np.trapezoid(w, e))
    half_life_h = float(spec["half_life"]) * _TIME_TO_H[str(spec["time_unit"]).strip().lower()[0]]
    return Nuclide(
        name=canonical,
        half_life_h=half_life_h,
        mean_beta_energy_MeV=float(np.dot(be, by)),
        beta_yield=beta_yield,
        endpoint_energy_MeV=float(e[-1]),
        mean_other_electron_energy_MeV=_mean_energy(get_icrp107_spectrum, canonical, ("IE", "auger")),
        spectrum_energy_MeV=e,
        spectrum_density_per_MeV=w,
    )


def _mean_energy(getter, name, kinds) -> float:
    total = 0.0
    for kind in kinds:
        s = getter(name, kind)
        if len(s["energies"]):
            total += float(np.dot(np.asarray(s["energies"], float), np.asarray(s["weights"], float)))
    return total


def normalise_name(name: str) -> str:
    """Canonical ICRP-107 spelling of a nuclide name (``"y90"`` -> ``"Y-90"``).

    Raises
    ------
    ValueError
        If the name is not of the form element-mass.
    """
    s = str(name).strip().replace("_", "-").replace(" ", "")
    m = re.fullmatch(r"([A-Za-z]{1,2})-?(\d{1,3})(m\d?)?", s) or None
    if m:
        el, mass, meta = m.group(1), m.group(2), m.group(3) or ""
    else:
        m = re.fullmatch(r"(\d{1,3})(m\d?)?([A-Za-z]{1,2})", s)
        if not m:
            raise ValueError(f"nuclide {name!r}: expected a name like 'Y-90' or 'Ho-166'")
        mass, meta, el = m.group(1), m.group(2) or "", m.group(3)
    return f"{el.capitalize()}-{mass}{meta.lower()}"


@lru_cache(maxsize=None)
def half_life_h(name: str) -> float:
    """Physical half-life of any ICRP-107 nuclide [h] (photon emitters such as Tc-99m
    included, which :func:`get_nuclide` refuses as not beta-minus emitters).

    Examples
    --------
    >>> round(half_life_h("Tc-99m"), 3), round(half_life_h("Y-90"), 1)
    (6.015, 64.1)
    """
    canonical = normalise_name(name)
    try:
        s = get_icrp107_spectrum(canonical, "gamma")
    except Exception as exc:  # the package raises bare errors for unknown names
        raise ValueError(f"nuclide {name!r}: not in ICRP-107") from exc
    return float(s["half_life"]) * _TIME_TO_H[str(s["time_unit"]).strip().lower()[0]]


def photon_line_yield(name: str, energy_MeV: float, tolerance_MeV: float = 1e-3) -> float:
    """Photons per decay of the gamma lines within ``tolerance_MeV`` of ``energy_MeV``
    (ICRP-107; Tc-99m 140.5 keV: 0.8906).

    Raises
    ------
    ValueError
        No line of the nuclide lies there.
    """
    s = get_icrp107_spectrum(normalise_name(name), "gamma")
    e = np.asarray(s["energies"], dtype=float)
    sel = np.abs(e - float(energy_MeV)) <= tolerance_MeV
    if not sel.any():
        raise ValueError(f"{name}: no gamma line within {tolerance_MeV} MeV of {energy_MeV} MeV")
    return float(np.asarray(s["weights"], dtype=float)[sel].sum())


def activity_at(activity0, time_h, half_life_h: float):
    """Activity after ``time_h`` of decay: A(t) = A0 * 2^(-t / T1/2).

    Units of activity are preserved; ``time_h`` may be negative (before the reference time).
    """
    return np.asarray(activity0) * np.exp2(-np.asarray(time_h, dtype=float) / half_life_h)


def cumulated_decays(activity_Bq, half_life_h: float, t_start_h=0.0, t_end_h=np.inf):
    """Number of decays between two times for an activity given at t = 0.

    N = A0 * tau * (exp(-lambda t1) - exp(-lambda t2)), tau = T1/2 / ln 2.

    Parameters
    ----------
    activity_Bq : float or ndarray
        Activity at t = 0 [Bq].
    half_life_h : float
        Half-life [h].
    t_start_h, t_end_h : float
        Integration window [h]; the default is complete decay.

    Returns
    -------
    float or ndarray
        Decays [1].
    """
    lam = LN2 / (half_life_h * SECONDS_PER_HOUR)
    t1 = np.asarray(t_start_h, dtype=float) * SECONDS_PER_HOUR
    t2 = np.asarray(t_end_h, dtype=float) * SECONDS_PER_HOUR
    return np.asarray(activity_Bq, dtype=float) / lam * (np.exp(-lam * t1) - np.exp(-lam * t2))


def fraction_delivered(time_h, half_life_h: float):
    """Fraction of the complete-decay dose delivered by ``time_h``: 1 - 2^(-t / T1/2)."""
    return -np.expm1(-LN2 * np.asarray(time_h, dtype=float) / half_life_h)


def dose_constant_from_data(nuclide: Nuclide | str, emissions: str = "beta") -> float:
    """Complete-decay dose constant K [Gy kg / GBq] from half-life and mean emitted energy.

    K = A tau E / M: the energy emitted by 1 GBq decaying completely, per kg, all of it
    absorbed locally (no escape, photons ignored): K = 1e9 * T1/2 / ln 2 * E * 1.602e-13 J/MeV,
    i.e. K = 0.83214 * T1/2[h] * E[MeV]. Y-90 betas (ICRP-107): 49.76 Gy kg/GBq.

    Parameters
    ----------
    nuclide : Nuclide or str
    emissions : {"beta", "electrons"}
        ``"beta"``: mean beta energy only (the planning convention). ``"electrons"``: betas plus
        conversion and Auger electrons, which are absorbed locally too (Ho-166: 15.53 instead of
        14.83 Gy kg/GBq; Y-90 unchanged to 2e-4).

    References
    ----------
    Gulec SA et al., J Nucl Med 2006;47:1209 (dose per GBq per kg of the MIRD model).
    """
    nuc = get_nuclide(nuclide) if isinstance(nuclide, str) else nuclide
    decays_per_GBq = 1e9 * nuc.half_life_h * SECONDS_PER_HOUR / LN2
    if emissions == "beta":
        energy = nuc.mean_beta_energy_MeV
    elif emissions == "electrons":
        energy = nuc.mean_electron_energy_MeV
    else:
        raise ValueError(f"emissions: {emissions!r} is not 'beta' or 'electrons'")
    return decays_per_GBq * energy * J_PER_MEV


#: Rounded dose constants used by vendors and in the literature [Gy kg / GBq].
DOSE_CONSTANT_CONVENTIONS = {
    # TheraSphere package insert: "1 GBq/kg delivers 50 Gy" (older 0.9267 MeV data: 49.38).
    "therasphere": ("Y-90", 50.0),
    # Partition-model literature (Ho et al. 1996; SIR-Spheres package insert).
    "partition": ("Y-90", 49.67),
    # QuiremSpheres: 60 Gy <-> 3780 MBq/kg (Smits et al., Lancet Oncol 2012;13:1025).
    "quirem": ("Ho-166", 15.87),
}


def dose_constant(convention="icrp107", nuclide: str = "Y-90") -> float:
    """Dose constant K [Gy kg / GBq] by convention name or explicit value.

    Parameters
    ----------
    convention : {"icrp107", "icrp107-electrons", "therasphere", "partition", "quirem"} or float
        ``"icrp107"`` derives K from the ICRP-107 mean beta energy of ``nuclide`` (Y-90: 49.76,
        Ho-166: 14.83); ``"icrp107-electrons"`` adds conversion and Auger electrons
        (Ho-166: 15.53);
        ``"therasphere"`` (50) and ``"partition"`` (49.67) are Y-90 conventions,
        ``"quirem"`` (15.87) is the Ho-166 one; a positive number is used as is.
    nuclide : str
        Nuclide for ``"icrp107"``; a named convention must belong to this nuclide.

    Raises
    ------
    ValueError
        Unknown name, non-positive value, or a convention of another nuclide.

    Examples
    --------
    >>> round(dose_constant("icrp107", "Y-90"), 2)
    49.76
    >>> dose_constant("therasphere")
    50.0
    """
    if isinstance(convention, bool):
        raise ValueError(f"dose_constant: {convention!r} is not a convention name or a number")
    if isinstance(convention, (int, float, np.floating, np.integer)):
        k = float(convention)
        if not math.isfinite(k) or k <= 0:
            raise ValueError(f"dose_constant: {convention!r} must be a positive number [Gy kg/GBq]")
        return k
    key = str(convention).strip().lower()
    nuc = normalise_name(nuclide)
    if key == "icrp107":
        return dose_constant_from_data(nuc, "beta")
    if key == "icrp107-electrons":
        return dose_constant_from_data(nuc, "electrons")
    if key in DOSE_CONSTANT_CONVENTIONS:
        conv_nuc, k = DOSE_CONSTANT_CONVENTIONS[key]
        if conv_nuc != nuc:
            raise ValueError(f"dose_constant: convention {key!r} is for {conv_nuc}, not {nuc}")
        return k
    allowed = ", ".join(["'icrp107'", "'icrp107-electrons'"] + [f"'{k}'" for k in DOSE_CONSTANT_CONVENTIONS])
    raise ValueError(f"dose_constant: {convention!r} is not one of {allowed} or a positive number")


#: Names :func:`dose_constant` accepts.
DOSE_CONSTANT_NAMES = ("icrp107", "icrp107-electrons", *DOSE_CONSTANT_CONVENTIONS)
