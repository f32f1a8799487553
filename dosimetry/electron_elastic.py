"""Elastic scattering of electrons in liquid water: screened Rutherford with Moliere screening,
the McKinley-Feshbach Mott factor, the deflection of hard Moller collisions, and the integrals
of the mixed (class II) scheme (see :mod:`dosimetry.electron_physics` for the choices).

References
----------
.. [6] Geant4 Collaboration, Physics Reference Manual (Moller-Bhabha ionisation; Gaussian
       fluctuations of the restricted energy loss).
.. [7] Moliere G. Z Naturforsch 1947;2a:133; Bethe HA. Phys Rev 1953;89:1256.
.. [8] McKinley WA, Feshbach H. Phys Rev 1948;74:1759.
.. [9] Fernandez-Varea JM, Mayol R, Baro J, Salvat F. On the theory and simulation of multiple
       elastic scattering of electrons. Nucl Instrum Meth B 1993;73:447.
.. [11] Kawrakow I, Mainegra-Hing E, Rogers DWO, Tessier F, Walters BRB. The EGSnrc code
        system, NRCC Report PIRS-701; Novak M. On the new and accurate (Goudsmit-Saunderson)
        model for describing e-/e+ multiple Coulomb scattering, Geant4 technical note (2018),
        arXiv:2410.13361 ("scattering power correction": deflections of sub-threshold delta
        ray productions only).
.. [12] Salvat F, Fernandez-Varea JM, Sempau J. PENELOPE, a code system for Monte Carlo
        simulation of electron and photon transport. OECD/NEA (2003, 2006, 2011 editions),
        chapter 4 (mixed simulation of elastic scattering).
.. [13] Salvat F, Jablonski A, Powell CJ. ELSEPA - Dirac partial-wave calculation of elastic
        scattering of electrons and positrons by atoms, positive ions and molecules. Comput
        Phys Commun 2005;165:157; the water values are those of PENELOPE 2018's material data
        file for liquid water (ICRU 90), as distributed with PenRed.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from dosimetry.data_tables import read_table
from dosimetry.electron_stopping import (A0_CM, ALPHA, ELECTRONS_PER_G, HBARC_MEV_CM, I_WATER_EV,
                                          M_WATER_G_MOL, MEC2_MEV, N_A, R_E_CM, WATER_ATOMS,
                                          collision_stopping_power, kinematics as _kinematics,
                                          radiative_stopping_power)

__all__ = ["transport_cross_section_cm2_g", "wentzel_mean_one_minus_mu", "screening_eta", "mott_factor", "moller_transport_cm2_g", "elastic_model"]


def _i3(a):
    """integral_0^2 u^1.5 / (u + a)^2 du for each a > 0 (log-spaced Simpson, relative error < 1e-6)."""
    t = np.linspace(np.log(1e-14), np.log(2.0), 4001)
    u = np.exp(t)[:, None]
    f = u**2.5 / (u + a[None, :]) ** 2  # d u = u d t
    h = t[1] - t[0]
    w = np.ones(t.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return (h / 3.0) * (w[:, None] * f).sum(axis=0)


def transport_cross_section_cm2_g(e_mev, *, mott: bool = True):
    """First elastic transport cross section of water per unit mass, 1/(rho lambda_1) [cm^2/g].

    sigma_1 = integral (1 - cos theta) dsigma/dOmega dOmega for the screened Rutherford cross
    section dsigma/dOmega = Z(Z+1) (r_e m c^2 / (p c beta))^2 R(theta) / (1 - cos theta + 2 eta)^2
    per atom, with Moliere's screening eta = chi_a^2 / 4,
    chi_a^2 = (hbar / (p a_TF))^2 (1.13 + 3.76 (alpha Z / beta)^2), a_TF = 0.88534 a0 Z^(-1/3)
    [7]_, and the McKinley-Feshbach Mott factor
    R = 1 - beta^2 sin^2(theta/2) + pi alpha Z beta sin(theta/2) (1 - sin(theta/2)) [8]_
    (R = 1 if ``mott`` is false). Summed over H2O.
    """
    e = np.atleast_1d(np.asarray(e_mev, dtype=float))
    _, gamma, beta2 = _kinematics(e)
    beta = np.sqrt(beta2)
    pc = np.sqrt(e * (e + 2.0 * MEC2_MEV))
    total = np.zeros_like(e)
    for z, count in WATER_ATOMS:
        a_tf = 0.88534 * A0_CM * z ** (-1.0 / 3.0)
        chi_a2 = (HBARC_MEV_CM / (pc * a_tf)) ** 2 * (1.13 + 3.76 * (ALPHA * z / beta) ** 2)
        eta = chi_a2 / 4.0
        a = 2.0 * eta
        i1 = np.log1p(1.0 / eta) - 1.0 / (1.0 + eta)
        i2 = 2.0 - 2.0 * a * np.log1p(2.0 / a) + 2.0 * a / (2.0 + a)
        integral = i1
        if mott:
            integral = i1 - 0.5 * beta2 * i2 + math.pi * ALPHA * z * beta * (_i3(a) / math.sqrt(2.0) - 0.5 * i2)
        k2 = z * (z + 1.0) * (R_E_CM * MEC2_MEV / (pc * beta)) ** 2
        total += count * 2.0 * math.pi * k2 * integral
    out = total * N_A / M_WATER_G_MOL
    return out if np.ndim(e_mev) else float(out[0])


def wentzel_mean_one_minus_mu(a):
    """<1 - cos theta> of the Wentzel distribution p(mu) ~ 1/(1 - mu + 2A)^2 on [-1, 1].

    = 2A [(1 + A) ln(1 + 1/A) - 1] ([9]_); for A > 1e3 the series 1 - 1/(3A) + 1/(6A^2) -
    1/(10A^3) avoids the cancellation.
    """
    a = np.asarray(a, dtype=float)
    big = a > 1e3
    y = 1.0 / np.where(big, a, 1e3)
    exact = 2.0 * a * ((1.0 + a) * np.log1p(1.0 / np.where(big, 1.0, a)) - 1.0)
    return np.where(big, 1.0 - y / 3.0 + y * y / 6.0 - y**3 / 10.0, exact)


def screening_eta(e_mev, z: int):
    """Moliere's screening parameter eta = chi_a^2 / 4 of an atom of atomic number ``z`` [1].

    chi_a^2 = (hbar / (p a_TF))^2 (1.13 + 3.76 (alpha z / beta)^2), a_TF = 0.88534 a0 z^(-1/3)
    ([7]_); the screened Rutherford cross section is ~ 1 / (1 - cos theta + 2 eta)^2.
    """
    e = np.asarray(e_mev, dtype=float)
    _, _, beta2 = _kinematics(e)
    pc = np.sqrt(e * (e + 2.0 * MEC2_MEV))
    a_tf = 0.88534 * A0_CM * z ** (-1.0 / 3.0)
    return (HBARC_MEV_CM / (pc * a_tf)) ** 2 * (1.13 + 3.76 * (ALPHA * z) ** 2 / beta2) / 4.0


def mott_factor(u, beta, z: int):
    """McKinley-Feshbach approximation of the Mott / Rutherford ratio at u = 1 - cos theta [8]_.

    R = 1 - beta^2 sin^2(theta/2) + pi alpha z beta sin(theta/2) (1 - sin(theta/2)),
    sin^2(theta/2) = u / 2; bounded by 1 + pi alpha z beta / 4.
    """
    s = np.sqrt(np.asarray(u, dtype=float) / 2.0)
    return 1.0 - beta * beta * s * s + math.pi * ALPHA * z * beta * s * (1.0 - s)


def moller_transport_cm2_g(e_mev, cut_mev):
    """Transport cross sections of the primary's deflection in hard Moller collisions [cm^2/g].

    sigma_l = int_{W_c}^{E/2} (1 - P_l(cos theta_p)) N_e dsigma_Moller/dW dW for l = 1, 2, with
    cos^2 theta_p = (E - W)(E + 2 m c^2) / (E (E - W + 2 m c^2)) (binary-collision kinematics,
    [6]_). Returns (sigma_1, sigma_2); 0 where E <= 2 W_c.
    """
    e = np.atleast_1d(np.asarray(e_mev, dtype=float))
    tau, gamma, beta2 = _kinematics(e)
    ok = e > 2.0 * cut_mev
    xmin = np.where(ok, cut_mev / e, 0.25)
    t = np.linspace(0.0, 1.0, 801)[None, :]
    lx = np.log(xmin)[:, None] + t * (math.log(0.5) - np.log(xmin))[:, None]
    x = np.exp(lx)
    g = (tau / gamma)[:, None]
    f = 1.0 / x**2 + 1.0 / (1.0 - x) ** 2 + g**2 - ((2.0 * tau + 1.0) / gamma**2)[:, None] / (x * (1.0 - x))
    pref = (2.0 * math.pi * R_E_CM**2 * MEC2_MEV / (beta2 * e) * ELECTRONS_PER_G)[:, None]
    ee = e[:, None]
    c = np.sqrt((ee - x * ee) * (ee + 2 * MEC2_MEV) / (ee * (ee - x * ee + 2 * MEC2_MEV)))
    h = np.diff(lx, axis=1)
    out = []
    for one_minus_pl in (1.0 - c, 1.5 * (1.0 - c * c)):
        y = one_minus_pl * pref * f * x  # dx = x dln x
        out.append(np.where(ok, np.sum(0.5 * (y[:, 1:] + y[:, :-1]) * h, axis=1), 0.0))
    if np.ndim(e_mev) == 0:
        return float(out[0][0]), float(out[1][0])
    return out[0], out[1]


#: Log grid of u = 1 - cos theta for the elastic integrals (u in [1e-16, 2]).
_LN_U = np.linspace(math.log(1e-16), math.log(2.0), 3201)


@functools.lru_cache(maxsize=1)
def _elsepa_table():
    """Rows of ``data/elsepa_water_penelope2018.csv`` (read once)."""
    d = read_table("elsepa_water_penelope2018.csv")
    d.setflags(write=False)
    return d


def elsepa_sigma1_cm2_g(e_mev):
    """First transport cross section of water from partial-wave (ELSEPA) calculations, as
    tabulated in PENELOPE 2018's liquid-water material file [13]_ (``data/
    elsepa_water_penelope2018.csv``), log-log interpolated [cm^2/g]."""
    d = _elsepa_table()
    e = np.asarray(e_mev, dtype=float)
    s1 = np.exp(np.interp(np.log(e * 1e6), np.log(d[:, 0]), np.log(d[:, 2])))
    return s1 * N_A / M_WATER_G_MOL


def elastic_model(e_mev, *, mott: bool = True, ee_scattering: str = "soft", cut_mev: float = 0.01,
                  c1: float = 0.05, c2: float = 0.05, i_ev: float = I_WATER_EV,
                  delta_model: str = "estar", chunk: int = 128,
                  nuclear_norm: str = "none") -> dict:
    """Integrals of the elastic DCS model of water used by the mixed (class II) scattering scheme.

    DCS per atom of atomic number Z (screened Rutherford with Moliere's screening eta_Z [7]_ and
    the McKinley-Feshbach Mott factor R_Z [8]_):

        dsigma_Z/du = 2 pi (Z^2 + xi Z) (r_e m c^2 / (p c beta))^2 R_Z(u) / (u + 2 eta_Z)^2,

    u = 1 - cos theta. The term xi Z stands for the deflections by atomic electrons (Z(Z+1) for
    xi = 1, [7]_). With ``ee_scattering="soft"``,
    xi(E) = 1 - sigma_1^Moller(W > W_c) / sigma_1^(Z term): the deflection of the primary in hard
    Moller collisions is simulated explicitly with the delta ray, so the electron term keeps only
    its part below the cut (the "scattering power" correction of EGSnrc / Geant4 [11]_);
    ``"all"``: xi = 1 (hard-collision deflections counted twice).

    Hard / soft split (PENELOPE's mixed scheme [12]_): the hard mean free path
    lambda_h = max(lambda_el, min(C1 lambda_1, C2 E / S_tot)) fixes the cut u_c by
    int_{u_c}^2 dsigma = 1 / lambda_h; collisions with u > u_c are simulated one by one, the
    others condensed into the soft transport cross sections sigma_l^s = int_0^{u_c} (1 - P_l) dsigma.

    Parameters
    ----------
    e_mev : float or ndarray
        Kinetic energy [MeV].
    mott : bool
        Apply the McKinley-Feshbach factor.
    ee_scattering : {"soft", "all"}
        Electron term of the DCS, see above.
    cut_mev : float
        Moller cut W_c [MeV].
    c1, c2 : float
        PENELOPE's C1, C2 (the manual advises values <= 0.1).
    nuclear_norm : {"none", "elsepa"}
        ``"elsepa"``: the Z^2 (nuclear) term is scaled at each energy so that its first
        transport cross section equals the partial-wave one (:func:`elsepa_sigma1_cm2_g`);
        the screened Rutherford-Mott shape is kept (its sigma_2 / sigma_1 is within 0.2 % of
        ELSEPA's at 0.1-2 MeV).

    Returns
    -------
    dict of ndarray (per unit mass; times rho gives 1/cm)
        ``sigma_el``, ``sigma_1``, ``sigma_2`` [cm^2/g] (total, first and second transport);
        ``sigma_1_soft``, ``sigma_2_soft`` [cm^2/g]; ``sigma_q_soft`` = 3 sigma_1^s - sigma_2^s =
        1.5 int_0^{u_c} u^2 dsigma [cm^2/g] (tabulated directly, no cancellation); ``sigma_hard_O``, ``sigma_hard_H`` [cm^2/g]
        (hard elastic, per element); ``u_c`` [1]; ``eta_O``, ``eta_H`` [1]; ``xi`` [1].
    """
    if ee_scattering not in ("soft", "all"):
        raise ValueError(f"ee_scattering {ee_scattering!r}: expected 'soft' or 'all'")
    if nuclear_norm not in ("none", "elsepa"):
        raise ValueError(f"nuclear_norm {nuclear_norm!r}: expected 'none' or 'elsepa'")
    e_all = np.atleast_1d(np.asarray(e_mev, dtype=float))
    keys = ("sigma_el", "sigma_1", "sigma_2", "sigma_1_soft", "sigma_2_soft", "sigma_q_soft", "sigma_hard_O",
            "sigma_hard_H", "u_c", "eta_O", "eta_H", "xi")
    out = {k: np.empty_like(e_all) for k in keys}
    u = np.exp(_LN_U)[None, :]
    h = _LN_U[1] - _LN_U[0]
    l_tot = collision_stopping_power(e_all, i_ev=i_ev, delta_model=delta_model) + \
        radiative_stopping_power(e_all)

    def cumulative(y):  # int_0^u y du' on the grid (trapezoid in ln u; y ~ const below u[0])
        g = y * u
        c = np.concatenate([np.zeros((g.shape[0], 1)),
                            np.cumsum(0.5 * (g[:, 1:] + g[:, :-1]) * h, axis=1)], axis=1)
        return c + g[:, :1]

    for s in range(0, e_all.size, chunk):
        sl = slice(s, s + chunk)
        e = e_all[sl]
        _, _, beta2 = _kinematics(e)
        beta = np.sqrt(beta2)
        pc = np.sqrt(e * (e + 2.0 * MEC2_MEV))
        k2 = (R_E_CM * MEC2_MEV / (pc * beta)) ** 2
        shape, eta = {}, {}
        for z, count in WATER_ATOMS:
            eta[z] = screening_eta(e, z)
            r = mott_factor(u, beta[:, None], z) if mott else 1.0
            shape[z] = (count * N_A / M_WATER_G_MOL * 2.0 * math.pi * k2[:, None] * r
                        / (u + 2.0 * eta[z][:, None]) ** 2)
        if ee_scattering == "soft":
            s1_z = sum(z * cumulative(u * shape[z])[:, -1] for z, _ in WATER_ATOMS)
            xi = np.clip(1.0 - moller_transport_cm2_g(e, cut_mev)[0] / s1_z, 0.0, 1.0)
        else:
            xi = np.ones_like(e)
        nuc = np.ones_like(e)
        if nuclear_norm == "elsepa":
            s1_nuc = sum(z * z * cumulative(u * shape[z])[:, -1] for z, _ in WATER_ATOMS)
            nuc = elsepa_sigma1_cm2_g(e) / s1_nuc
        f = {z: (z * z * nuc[:, None] + xi[:, None] * z) * shape[z] for z, _ in WATER_ATOMS}
        ftot = f[1] + f[8]
        cum0 = {z: cumulative(f[z]) for z in f}
        cum0_tot = cum0[1] + cum0[8]
        cum1 = cumulative(u * ftot)
        cum2 = cumulative((3.0 * u - 1.5 * u * u) * ftot)
        cumq = cumulative(1.5 * u * u * ftot)
        sig_el, sig1 = cum0_tot[:, -1], cum1[:, -1]
        lam_h = np.maximum(1.0 / sig_el, np.minimum(c1 / sig1, c2 * e / l_tot[sl]))
        target = sig_el - 1.0 / lam_h  # soft part of sigma_el = cum0_tot(u_c)
        j = np.array([int(np.searchsorted(cum0_tot[i], target[i])) for i in range(e.size)])
        j = np.clip(j, 1, _LN_U.size - 1)
        rows = np.arange(e.size)
        lo, hi = cum0_tot[rows, j - 1], cum0_tot[rows, j]
        w = np.clip((target - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)

        def at_cut(c):
            return c[rows, j - 1] * (1.0 - w) + c[rows, j] * w

        out["sigma_el"][sl], out["sigma_1"][sl], out["sigma_2"][sl] = sig_el, sig1, cum2[:, -1]
        out["sigma_1_soft"][sl], out["sigma_2_soft"][sl] = at_cut(cum1), at_cut(cum2)
        out["sigma_q_soft"][sl] = at_cut(cumq)
        out["sigma_hard_O"][sl] = cum0[8][:, -1] - at_cut(cum0[8])
        out["sigma_hard_H"][sl] = cum0[1][:, -1] - at_cut(cum0[1])
        out["u_c"][sl] = np.exp(_LN_U[j - 1] + w * h)
        out["eta_O"][sl], out["eta_H"][sl], out["xi"][sl] = eta[8], eta[1], xi
    if np.ndim(e_mev) == 0:
        return {k: float(v[0]) for k, v in out.items()}
    return out
