"""Electron interaction data for liquid water: stopping powers, ranges, elastic, Moller and
bremsstrahlung tables.

Everything the condensed-history Monte Carlo of :mod:`dosimetry._electron_mc` needs, computed
here in numpy and packed into flat tables on a uniform grid in ln(E).

Physics (all for liquid water, H2O, 1 g/cm^3; mass quantities scale with density):

- Collision stopping power: Bethe formula for electrons with the density-effect correction
  delta (ICRU 37 [1]_). I = 75 eV (ESTAR [2]_) is the default of the functions here, so that
  stopping powers and ranges compare one-to-one with ESTAR; the kernel builds use ICRU 90's
  I = 78 eV [14]_ (S_col 0.4 % lower at 1 MeV, ranges 0.45 % longer). delta: ESTAR's
  tabulated values for liquid water (Sternheimer's method, I = 75 eV, used with both I values)
  or the Sternheimer-Berger-Seltzer 1984 fit [3]_.
- Restricted collision stopping power (energy transfers below a cut W_c): ICRU 37 [1]_ formula
  for electrons (as in Geant4's Moller-Bhabha model [6]_).
- Radiative stopping power: NIST ESTAR values [2]_ (continuous-bremsstrahlung option) or, by
  default, the Seltzer-Berger scaled bremsstrahlung cross sections of H and O [13]_ (the data
  behind ESTAR; their S_rad agrees with ESTAR to 0.6 %): photons above k_c = 1 keV are emitted
  one by one with the Seltzer-Berger spectrum, softer ones are a continuous loss deposited
  along the track (they are absorbed within micrometres).
- Hard inelastic collisions (W > W_c): Moller cross section [4]_ on free electrons.
- Soft-collision energy straggling: Gaussian with the Bohr variance restricted to W < W_c,
  Omega^2 = 2 pi r_e^2 m c^2 n_e W_c (1/beta^2 - 1/2) s ([5]_; the Gaussian regime of [6]_).
  (Switching it off changes the Y-90 kernel by less than its 1 % statistical noise.)
- Elastic scattering: screened Rutherford cross section per atom with Moliere's screening [7]_
  and the McKinley-Feshbach approximation of the Mott/Rutherford ratio [8]_, summed over H2O
  with Z(Z + xi) for the atomic electrons; xi(E) keeps only the part of the electron term below
  the Moller cut, since the deflection of the primary in hard Moller collisions is simulated
  with the delta ray (the "scattering power" correction of EGSnrc / Geant4 [11]_; xi = 1, i.e.
  Z(Z+1), counted those deflections twice: 2.6 % of sigma_1 at 0.1 MeV, 6 % at 2 MeV).
  Mixed (class II) simulation after PENELOPE [12]_: collisions deflecting by more than a cut
  u_c are simulated one by one (hard mean free path lambda_h = max(lambda_el, min(C1 lambda_1,
  C2 E / S)), C1 = C2 = 0.05); the soft collisions of a step are condensed into one deflection
  with the exact first and second transport moments, <P_l> = exp(-int ds / lambda_l^s) [10]_.
  The former model, a Wentzel distribution matched to the first moment of all collisions [9]_,
  is kept for comparison: its second moment <(1 - cos)^2> is 1.3-2.4 times the exact one
  however short the step, which made the kernels too compact (docs/physics.md).

References
----------
.. [1] ICRU Report 37 (1984), Stopping Powers for Electrons and Positrons.
.. [2] Berger MJ, Coursey JS, Zucker MA, Chang J. ESTAR, NIST Standard Reference Database 124
       (liquid water: I = 75 eV). https://physics.nist.gov/PhysRefData/Star/Text/ESTAR.html
.. [3] Sternheimer RM, Berger MJ, Seltzer SM. Density effect for the ionization loss of
       charged particles in various substances. At Data Nucl Data Tables 1984;30:261
       (water, liquid: -C = 3.5017, X0 = 0.2400, X1 = 2.8004, a = 0.09116, m = 3.4773).
.. [4] Moller C. Ann Phys 1932;406:531.
.. [5] Bohr N. Phil Mag 1915;30:581; ICRU Report 49 (1993) sec. 2 (energy-loss straggling).
.. [6] Geant4 Collaboration, Physics Reference Manual (Moller-Bhabha ionisation; Gaussian
       fluctuations of the restricted energy loss).
.. [7] Moliere G. Z Naturforsch 1947;2a:133; Bethe HA. Phys Rev 1953;89:1256.
.. [8] McKinley WA, Feshbach H. Phys Rev 1948;74:1759.
.. [9] Fernandez-Varea JM, Mayol R, Baro J, Salvat F. On the theory and simulation of multiple
       elastic scattering of electrons. Nucl Instrum Meth B 1993;73:447.
.. [10] Lewis HW. Multiple scattering in an infinite medium. Phys Rev 1950;78:526 (moments
        <P_l(cos theta)> = exp(-s / lambda_l)).
.. [11] Kawrakow I, Mainegra-Hing E, Rogers DWO, Tessier F, Walters BRB. The EGSnrc code
        system, NRCC Report PIRS-701; Novak M. On the new and accurate (Goudsmit-Saunderson)
        model for describing e-/e+ multiple Coulomb scattering, Geant4 technical note (2018),
        arXiv:2410.13361 ("scattering power correction": deflections of sub-threshold delta
        ray productions only).
.. [12] Salvat F, Fernandez-Varea JM, Sempau J. PENELOPE, a code system for Monte Carlo
        simulation of electron and photon transport. OECD/NEA (2003, 2006, 2011 editions),
        chapter 4 (mixed simulation of elastic scattering).
.. [13] Seltzer SM, Berger MJ. Bremsstrahlung energy spectra from electrons with kinetic energy
        1 keV - 10 GeV incident on screened nuclei and orbital electrons of neutral atoms with
        Z = 1-100. At Data Nucl Data Tables 1986;35:345 (data/seltzer_berger_H_O.csv).
.. [14] ICRU Report 90 (2016), Key data for ionizing-radiation dosimetry: measurement
        standards and applications (I = 78 eV for liquid water).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import math
from pathlib import Path

import numpy as np

#: Electron rest energy [MeV] (CODATA 2018).
MEC2_MEV = 0.51099895
#: Classical electron radius [cm] (CODATA 2018).
R_E_CM = 2.8179403262e-13
#: Avogadro constant [1/mol].
N_A = 6.02214076e23
#: Fine-structure constant.
ALPHA = 7.2973525693e-3
#: hbar c [MeV cm].
HBARC_MEV_CM = 197.3269804e-13
#: Bohr radius [cm].
A0_CM = 0.529177210903e-8
#: Molar mass of water [g/mol] and its (Z, atoms per molecule) composition.
M_WATER_G_MOL = 18.0153
WATER_ATOMS = ((1, 2), (8, 1))
#: Electrons per gram of water [1/g].
ELECTRONS_PER_G = N_A * 10.0 / M_WATER_G_MOL
#: 2 pi r_e^2 m c^2 n_e per unit density [MeV cm^2/g].
_K_BETHE = 2.0 * math.pi * R_E_CM**2 * MEC2_MEV * ELECTRONS_PER_G

#: Mean excitation energy of liquid water [eV] (ICRU 37 / ESTAR; ICRU 90 gives 78 eV).
I_WATER_EV = 75.0
#: Mean excitation energy of liquid water recommended by ICRU Report 90 (2016) [eV] [14]_; the
#: default of the kernel builds (the ESTAR value stays the default of the stopping-power
#: functions so that they compare one-to-one with ESTAR).
I_WATER_EV_ICRU90 = 78.0
#: Sternheimer-Berger-Seltzer (1984) density-effect fit for liquid water: -C, X0, X1, a, m.
STERNHEIMER_WATER = (3.5017, 0.2400, 2.8004, 0.09116, 3.4773)

# NIST ESTAR, liquid water [2]: kinetic energy [MeV], radiative stopping power [MeV cm^2/g],
# density-effect parameter delta. A subset of the ESTAR default grid, 10 keV - 10 MeV.
_ESTAR_E = np.array([0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                     0.55, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0,
                     5.0, 6.0, 8.0, 10.0])
_ESTAR_SRAD = np.array([3.898e-3, 3.944e-3, 3.963e-3, 3.984e-3, 4.031e-3, 4.098e-3, 4.228e-3,
                        4.494e-3, 4.801e-3, 5.514e-3, 6.339e-3, 7.257e-3, 7.747e-3, 8.254e-3,
                        9.313e-3, 1.042e-2, 1.159e-2, 1.280e-2, 1.600e-2, 1.942e-2, 2.303e-2,
                        2.678e-2, 3.468e-2, 4.299e-2, 5.164e-2, 6.058e-2, 7.917e-2, 9.854e-2,
                        1.391e-1, 1.814e-1])
_ESTAR_DELTA = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.103e-2, 2.938e-2, 7.435e-2,
                         1.267e-1, 1.835e-1, 2.428e-1, 3.944e-1, 5.437e-1, 6.866e-1, 8.218e-1,
                         1.069, 1.288, 1.484, 1.660, 1.967, 2.227, 2.652, 2.992])

#: ESTAR CSDA ranges of liquid water [g/cm^2] used by the verification tests [2].
ESTAR_CSDA_RANGE_G_CM2 = {0.1: 1.431e-2, 0.5: 1.766e-1, 1.0: 4.367e-1, 2.0: 9.785e-1}
#: ESTAR collision stopping powers of liquid water [MeV cm^2/g] (tests) [2].
ESTAR_SCOL_MEV_CM2_G = {0.01: 22.56, 0.1: 4.115, 0.5: 2.034, 1.0: 1.849, 2.0: 1.824}
#: ESTAR radiation yields of liquid water (fraction of T radiated) (tests) [2].
ESTAR_RADIATION_YIELD = {0.5: 1.976e-3, 1.0: 3.579e-3, 2.0: 7.085e-3}


def _kinematics(e_mev):
    tau = np.asarray(e_mev, dtype=float) / MEC2_MEV
    gamma = tau + 1.0
    beta2 = tau * (tau + 2.0) / gamma**2
    return tau, gamma, beta2


def density_effect(e_mev, model: str = "estar"):
    """Density-effect correction delta of liquid water for electrons of kinetic energy ``e_mev``.

    Parameters
    ----------
    e_mev : float or ndarray
        Kinetic energy [MeV].
    model : {"estar", "sternheimer1984"}
        ``"estar"``: ESTAR's tabulated delta [2]_ (linear interpolation, 0 below 0.5 MeV);
        ``"sternheimer1984"``: the parametrised fit of [3]_ (exceeds ESTAR by up to ~0.1 near
        1 MeV, i.e. ~0.5 % in stopping power).

    Returns
    -------
    ndarray
        delta [1].
    """
    e = np.asarray(e_mev, dtype=float)
    tau = e / MEC2_MEV
    x = np.log10(np.sqrt(tau * (tau + 2.0)))
    cbar, x0, x1, a, m = STERNHEIMER_WATER
    fit = np.where(x < x0, 0.0,
                   2.0 * math.log(10.0) * x - cbar + np.where(x < x1, a * np.abs(x1 - x) ** m, 0.0))
    if model == "sternheimer1984":
        return fit
    if model == "estar":
        tab = np.interp(e, _ESTAR_E, _ESTAR_DELTA)
        return np.where(e > _ESTAR_E[-1], fit, tab)
    raise ValueError(f"density effect model {model!r}: expected 'estar' or 'sternheimer1984'")


def collision_stopping_power(e_mev, cut_mev=None, *, i_ev: float = I_WATER_EV,
                             delta_model: str = "estar"):
    """Mass collision stopping power of water for electrons [MeV cm^2/g].

    Bethe formula (ICRU 37 eq. 2.2 [1]_); with ``cut_mev`` the restricted stopping power for
    energy transfers W < min(cut, E/2) (ICRU 37; Geant4 Moller-Bhabha dE/dx [6]_).

    Parameters
    ----------
    e_mev : float or ndarray
        Kinetic energy [MeV] (>= ~1 keV; no shell corrections).
    cut_mev : float, optional
        Energy-transfer cut W_c [MeV]; ``None`` for the unrestricted stopping power.
    i_ev : float
        Mean excitation energy [eV].
    delta_model : str
        See :func:`density_effect`.
    """
    e = np.asarray(e_mev, dtype=float)
    tau, gamma, beta2 = _kinematics(e)
    i2 = (i_ev * 1e-6 / MEC2_MEV) ** 2
    d = tau / 2.0 if cut_mev is None else np.minimum(cut_mev / MEC2_MEV, tau / 2.0)
    bracket = (np.log(2.0 * (tau + 2.0) / i2) - 1.0 - beta2 + np.log((tau - d) * d)
               + tau / (tau - d) + (0.5 * d * d + (2.0 * tau + 1.0) * np.log1p(-d / tau)) / gamma**2)
    return _K_BETHE / beta2 * (bracket - density_effect(e, delta_model))


def radiative_stopping_power(e_mev):
    """Mass radiative stopping power of water [MeV cm^2/g]: ESTAR [2]_, log-log interpolated.

    Held constant below 10 keV and extrapolated log-log above 10 MeV.
    """
    e = np.clip(np.asarray(e_mev, dtype=float), _ESTAR_E[0], None)
    le, ls = np.log(_ESTAR_E), np.log(_ESTAR_SRAD)
    x = np.log(e)
    slope = (ls[-1] - ls[-2]) / (le[-1] - le[-2])
    return np.exp(np.where(x > le[-1], ls[-1] + slope * (x - le[-1]), np.interp(x, le, ls)))


def csda_range_g_cm2(e_mev, *, i_ev: float = I_WATER_EV, delta_model: str = "estar",
                     e_low_mev: float = 1e-3, n: int = 4000):
    """CSDA range of electrons in water [g/cm^2] from this module's stopping powers.

    R(E) = R(E_low) + integral from E_low to E of dE / S_tot, S_tot = S_col + S_rad; the part
    below E_low = 1 keV, where the Bethe formula fails, is approximated by E_low / S_tot(E_low)
    (~5e-6 g/cm^2, below ESTAR's rounding at 10 keV).

    Parameters
    ----------
    e_mev : float or ndarray
        Kinetic energy [MeV].
    """
    e = np.atleast_1d(np.asarray(e_mev, dtype=float))
    grid = np.geomspace(e_low_mev, max(float(e.max()), 2 * e_low_mev), n)
    s_tot = collision_stopping_power(grid, i_ev=i_ev, delta_model=delta_model) + \
        radiative_stopping_power(grid)
    f = 1.0 / s_tot
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))))
    cum += e_low_mev / s_tot[0]
    out = np.interp(e, grid, cum)
    return out if np.ndim(e_mev) else float(out[0])


def radiation_yield(e_mev, *, n: int = 4000):
    """Radiation yield Y(E): fraction of an electron's kinetic energy lost to bremsstrahlung in CSDA.

    Y(E) = (1/E) integral_0^E S_rad/S_tot dE' ([1]_), with this module's stopping powers.
    """
    e = np.atleast_1d(np.asarray(e_mev, dtype=float))
    grid = np.geomspace(1e-4, max(float(e.max()), 2e-4), n)
    ratio = radiative_stopping_power(grid) / (collision_stopping_power(np.maximum(grid, 1e-3))
                                              + radiative_stopping_power(grid))
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (ratio[1:] + ratio[:-1]) * np.diff(grid))))
    out = np.interp(e, grid, cum) / e
    return out if np.ndim(e_mev) else float(out[0])


def moller_cross_section_cm2_g(e_mev, cut_mev):
    """Moller cross section per unit mass for energy transfers W in [cut, E/2] [cm^2/g].

    Integral of the Moller cross section [4]_ over the fraction x = W/E in [cut/E, 1/2] on free
    electrons (closed form as in [6]_); 0 where E <= 2 cut.
    """
    e = np.asarray(e_mev, dtype=float)
    _, gamma, beta2 = _kinematics(e)
    xmin = np.where(e > 2.0 * cut_mev, cut_mev / np.where(e > 0, e, 1.0), 0.5)
    xmax = 0.5
    gg = (2.0 * gamma - 1.0) / gamma**2
    cross = ((xmax - xmin) * (1.0 - gg + 1.0 / (xmin * xmax) + 1.0 / ((1.0 - xmin) * (1.0 - xmax)))
             - gg * np.log(xmax * (1.0 - xmin) / (xmin * (1.0 - xmax)))) / beta2
    per_electron = 2.0 * math.pi * R_E_CM**2 * MEC2_MEV / np.where(e > 0, e, 1.0) * cross
    return np.where(e > 2.0 * cut_mev, per_electron * ELECTRONS_PER_G, 0.0)


def straggling_variance_mev2_cm2_g(e_mev, cut_mev):
    """Bohr variance of the soft collision loss per unit mass thickness [MeV^2 cm^2/g].

    Omega^2 / (rho s) = 2 pi r_e^2 m c^2 (n_e/rho) W (1/beta^2 - 1/2), W = min(cut, E/2)
    ([5]_, [6]_).
    """
    e = np.asarray(e_mev, dtype=float)
    _, _, beta2 = _kinematics(e)
    w = np.minimum(cut_mev, e / 2.0)
    return _K_BETHE * w * (1.0 / beta2 - 0.5)


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


#: Seltzer-Berger scaled bremsstrahlung cross sections of H and O ([13]_), data/seltzer_berger_H_O.csv.
_SB_FILE = Path(__file__).resolve().parent / "data" / "seltzer_berger_H_O.csv"
#: Reduced photon energies kappa = k / T of the Seltzer-Berger tables.
SB_KAPPA = np.array([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65,
                     0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.99, 0.995, 0.999, 0.9995,
                     0.9999, 0.99995, 0.99999, 1.0])


@lru_cache(maxsize=1)
def seltzer_berger_water():
    """Scaled bremsstrahlung cross section of one water molecule on the Seltzer-Berger grid.

    C(T, kappa) = sum_Z n_Z Z^2 chi_Z(T, kappa) [mb], so that
    k dsigma/dk = C(T, k / T) / beta^2 per molecule (chi: Seltzer & Berger 1986 [13]_, nuclear
    and electron-electron bremsstrahlung).

    Returns
    -------
    t_mev : ndarray, shape (M,)
        Electron kinetic energies of the table [MeV] (1 keV - 4 MeV).
    c_mb : ndarray, shape (M, 30)
        C(T, kappa) at :data:`SB_KAPPA` [mb].
    """
    rows = [ln for ln in _SB_FILE.read_text().splitlines() if ln and not ln.startswith("#")][1:]
    data = np.array([[float(v) for v in ln.split(",")] for ln in rows])
    t = np.unique(data[:, 1])
    c = np.zeros((t.size, SB_KAPPA.size))
    for z, count in WATER_ATOMS:
        sel = data[:, 0] == z
        if not np.array_equal(data[sel, 1], t):
            raise ValueError(f"{_SB_FILE.name}: energy grids of H and O differ")
        c += count * z * z * data[sel, 2:]
    c.setflags(write=False)
    return t, c


def _sb_on(e_mev):
    """C(T, kappa) interpolated linearly in ln T at the energies ``e_mev``, shape (N, 30)."""
    t, c = seltzer_berger_water()
    le = np.log(np.clip(np.atleast_1d(np.asarray(e_mev, dtype=float)), t[0], t[-1]))
    lt = np.log(t)
    i = np.clip(np.searchsorted(lt, le) - 1, 0, t.size - 2)
    w = ((le - lt[i]) / (lt[i + 1] - lt[i]))[:, None]
    return c[i] * (1.0 - w) + c[i + 1] * w


def _sb_integrals(cc, kc):
    """Per row of C(kappa) (linear between SB_KAPPA nodes): int_kc^1 C / kappa dkappa and
    int_0^kc C dkappa (kc > 0, one value per row)."""
    k = SB_KAPPA
    hard = np.zeros(cc.shape[0])
    soft = np.zeros(cc.shape[0])
    for j in range(k.size - 1):
        a, b = k[j], k[j + 1]
        ca, cb = cc[:, j], cc[:, j + 1]
        slope = (cb - ca) / (b - a)
        lo = np.clip(kc, a, b)  # hard part: [max(kc, a), b]
        c_lo = ca + slope * (lo - a)
        icept = c_lo - slope * lo  # C = icept + slope kappa on [lo, b]
        with np.errstate(divide="ignore", invalid="ignore"):
            seg = np.where(b > lo, icept * np.log(b / lo) + slope * (b - lo), 0.0)
        hard += np.nan_to_num(seg)
        hi = np.clip(kc, a, b)  # soft part: [a, min(kc, b)]
        soft += 0.5 * (ca + ca + slope * (hi - a)) * (hi - a)
    return hard, soft


def bremsstrahlung_sb(e_mev, k_cut_mev: float = 1e-3):
    """Bremsstrahlung of electrons in water from the Seltzer-Berger cross sections [13]_.

    Parameters
    ----------
    e_mev : float or ndarray
        Electron kinetic energy T [MeV].
    k_cut_mev : float
        Photon energy k_c [MeV] splitting soft (continuous) from hard (discrete) emission.

    Returns
    -------
    dict of ndarray
        ``sigma_hard`` [cm^2/g]: cross section for photons with k > k_c;
        ``s_rad_soft`` [MeV cm^2/g]: radiative stopping power from photons with k < k_c;
        ``s_rad`` [MeV cm^2/g]: total radiative stopping power (reproduces ESTAR to 0.3 %).
    """
    e = np.atleast_1d(np.asarray(e_mev, dtype=float))
    _, _, beta2 = _kinematics(e)
    cc = _sb_on(e)
    kc = np.minimum(k_cut_mev / e, 1.0)
    hard, soft = _sb_integrals(cc, kc)
    total = np.trapezoid(cc, SB_KAPPA, axis=1)
    pref = N_A / M_WATER_G_MOL * 1e-27 / beta2
    out = {"sigma_hard": pref * hard, "s_rad_soft": pref * e * soft, "s_rad": pref * e * total}
    if np.ndim(e_mev) == 0:
        return {k_: float(v[0]) for k_, v in out.items()}
    return out


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


def elastic_model(e_mev, *, mott: bool = True, ee_scattering: str = "soft", cut_mev: float = 0.01,
                  c1: float = 0.05, c2: float = 0.05, i_ev: float = I_WATER_EV,
                  delta_model: str = "estar", chunk: int = 128) -> dict:
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
        f = {z: (z * z + xi[:, None] * z) * shape[z] for z, _ in WATER_ATOMS}
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


#: Rows of :attr:`TransportTables.table` (all on the uniform ln E grid; lengths in cm at 1 g/cm^3).
ROW_RANGE, ROW_RADFRAC, ROW_MOLLER, ROW_STRAGGLE = 0, 1, 2, 3
ROW_K1_SOFT, ROW_KQ_SOFT, ROW_HARD_O, ROW_HARD_H, ROW_UCUT, ROW_ETA_O, ROW_ETA_H, ROW_K1_ALL = \
    4, 5, 6, 7, 8, 9, 10, 11
ROW_BREMS = 12
N_ROWS = 13
#: Multiple-scattering models of the transport: PENELOPE-like mixed scheme (default) and the
#: all-condensed Wentzel distribution with the first moment only (versions <= 1.0, kept for
#: the step-size study in docs/physics.md).
MS_MIXED, MS_WENTZEL1 = 1, 0


@dataclass(frozen=True)
class TransportTables:
    """Tables on a uniform ln(E) grid consumed by the numba transport (water, rho = 1).

    Attributes
    ----------
    ln_e0 : float
        ln of the first grid energy [ln MeV].
    dln : float
        Grid step in ln E.
    table : ndarray, shape (13, N)
        Rows (``ROW_*``): 0 soft range R_s(E) = int dE / L(E) [cm], L = L_col(E; W_c) + S_rad^s,
        S_rad^s the radiative stopping power of photons below k_c (all of S_rad for continuous
        bremsstrahlung); 1 radiative fraction S_rad^s / L; 2 Moller macroscopic cross section for
        W > W_c [1/cm]; 3 soft straggling variance per cm [MeV^2/cm]; 4 soft first transport
        integral K_1^s(E) = int dE sigma_1^s / (L_col + S_rad) [1]; 5 K_q^s(E) = int dE
        sigma_q^s / (L_col + S_rad) [1] (sigma_q^s = 3 sigma_1^s - sigma_2^s); 6, 7 hard elastic
        macroscopic cross sections of O and H [1/cm]; 8 the cut u_c = 1 - cos theta_c [1];
        9, 10 screening parameters eta_O, eta_H [1]; 11 K_1(E) with the full sigma_1 [1]
        (legacy Wentzel model); 12 macroscopic cross section of bremsstrahlung photons with
        k > k_c [1/cm] (0 for continuous bremsstrahlung).
    ms_ln_t0, ms_dln : float
        Grid of ln t (t = path / lambda_1) of the legacy Wentzel screening table.
    ms_ln_a : ndarray, shape (M,)
        ln A solving <1 - mu>_A = 1 - exp(-t) on that grid (legacy model).
    cut_mev : float
        Moller cut W_c [MeV].
    mott : bool
        Whether the hard elastic sampling applies the McKinley-Feshbach factor.
    brems_discrete : bool
        Bremsstrahlung photons above ``brems_cut_mev`` are emitted one by one (True) or all
        radiative losses are continuous (False).
    brems_cut_mev : float
        k_c [MeV].
    sb_ln_t, sb_kappa, sb_c, sb_cmax : ndarray
        Seltzer-Berger sampling table: ln T nodes, kappa nodes, C(T, kappa) [mb] and its
        maximum over kappa per T node.
    params : dict
        The physics parameters, for metadata.
    """

    ln_e0: float
    dln: float
    table: np.ndarray
    ms_ln_t0: float
    ms_dln: float
    ms_ln_a: np.ndarray
    cut_mev: float
    mott: bool = True
    brems_discrete: bool = True
    brems_cut_mev: float = 1e-3
    sb_ln_t: np.ndarray = field(default_factory=lambda: np.zeros(2))
    sb_kappa: np.ndarray = field(default_factory=lambda: np.zeros(2))
    sb_c: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))
    sb_cmax: np.ndarray = field(default_factory=lambda: np.zeros(2))
    params: dict = field(default_factory=dict)

    def energy_grid(self) -> np.ndarray:
        """Grid energies [MeV]."""
        return np.exp(self.ln_e0 + self.dln * np.arange(self.table.shape[1]))


def build_tables(e_max_mev: float = 3.0, *, cut_mev: float = 0.01, i_ev: float = I_WATER_EV,
                 delta_model: str = "estar", mott: bool = True, ee_scattering: str = "soft",
                 c1: float = 0.05, c2: float = 0.05, brems: str = "discrete",
                 brems_cut_mev: float = 1e-3, e_min_mev: float = 1e-3,
                 n: int = 4096) -> TransportTables:
    """Precompute the transport tables of :class:`TransportTables` for water at 1 g/cm^3.

    Parameters
    ----------
    e_max_mev : float
        Highest tabulated energy [MeV] (>= the largest source energy).
    cut_mev : float
        Moller cut W_c [MeV]: energy transfers above it make explicit delta rays.
    i_ev, delta_model
        Stopping-power options (see :func:`collision_stopping_power`).
    mott, ee_scattering, c1, c2
        Elastic-scattering options (see :func:`elastic_model`).
    brems : {"discrete", "continuous"}
        ``"discrete"``: photons with k > ``brems_cut_mev`` are emitted one by one from the
        Seltzer-Berger spectrum (and transported by the photon MC), softer ones are a continuous
        loss deposited along the track; ``"continuous"``: the whole ESTAR radiative stopping
        power is a continuous loss whose energy escapes (kernel MC version 1.0).
    brems_cut_mev : float
        k_c [MeV].
    e_min_mev : float
        Lowest tabulated energy [MeV] (below the transport cut-off).
    n : int
        Grid points.
    """
    if not (0 < e_min_mev < cut_mev < e_max_mev):
        raise ValueError("build_tables: need 0 < e_min_mev < cut_mev < e_max_mev")
    ln_e = np.linspace(math.log(e_min_mev), math.log(e_max_mev), n)
    e = np.exp(ln_e)
    if brems not in ("discrete", "continuous"):
        raise ValueError(f"brems {brems!r}: expected 'discrete' or 'continuous'")
    l_col = collision_stopping_power(e, cut_mev, i_ev=i_ev, delta_model=delta_model)
    if brems == "discrete":
        br = bremsstrahlung_sb(e, brems_cut_mev)
        s_rad, sig_br = br["s_rad_soft"], br["sigma_hard"]
    else:
        s_rad, sig_br = radiative_stopping_power(e), np.zeros_like(e)
    l_tot = l_col + s_rad
    el = elastic_model(e, mott=mott, ee_scattering=ee_scattering, cut_mev=cut_mev, c1=c1, c2=c2,
                       i_ev=i_ev, delta_model=delta_model)

    def cumulative(f):
        # integral over E of f(E) dE on the ln grid (dE = E dlnE), trapezoid
        g = f * e
        return np.concatenate(([0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(ln_e))))

    rows = [None] * N_ROWS
    rows[ROW_RANGE] = cumulative(1.0 / l_tot) + e_min_mev / l_tot[0]
    rows[ROW_RADFRAC] = s_rad / l_tot
    rows[ROW_MOLLER] = moller_cross_section_cm2_g(e, cut_mev)
    rows[ROW_STRAGGLE] = straggling_variance_mev2_cm2_g(e, cut_mev)
    rows[ROW_K1_SOFT] = cumulative(el["sigma_1_soft"] / l_tot)
    rows[ROW_KQ_SOFT] = cumulative(el["sigma_q_soft"] / l_tot)
    rows[ROW_HARD_O], rows[ROW_HARD_H] = el["sigma_hard_O"], el["sigma_hard_H"]
    rows[ROW_UCUT], rows[ROW_ETA_O], rows[ROW_ETA_H] = el["u_c"], el["eta_O"], el["eta_H"]
    rows[ROW_K1_ALL] = cumulative(el["sigma_1"] / l_tot)
    rows[ROW_BREMS] = sig_br
    table = np.vstack(rows)
    # legacy Wentzel screening parameter A(t): solve 2A[(1+A)ln(1+1/A) - 1] = 1 - exp(-t)
    ln_t = np.linspace(math.log(1e-7), math.log(40.0), 3000)
    target = -np.expm1(-np.exp(ln_t))
    lo, hi = np.full_like(ln_t, -60.0), np.full_like(ln_t, 60.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        too_big = wentzel_mean_one_minus_mu(np.exp(mid)) > target
        hi = np.where(too_big, mid, hi)
        lo = np.where(too_big, lo, mid)
    params = {"medium": "liquid water (H2O), 1.000 g/cm^3", "I_eV": i_ev,
              "density_effect": delta_model, "moller_cut_MeV": cut_mev, "mott_correction": mott,
              "bremsstrahlung": (f"Seltzer-Berger spectrum, photons above {brems_cut_mev * 1e3:g} keV "
                                 "emitted one by one and transported, softer ones deposited "
                                 "along the track" if brems == "discrete" else
                                 "ESTAR radiative stopping power, continuous, escaping"),
              "elastic": "screened Rutherford (Moliere screening, McKinley-Feshbach Mott factor) "
                         "per atom, Z(Z + xi) with xi = 1 minus the hard-Moller share "
                         f"(ee_scattering={ee_scattering!r}); mixed class II scheme: hard elastic "
                         f"events (C1 = {c1}, C2 = {c2}) sampled one by one, soft deflections "
                         "from PENELOPE's two-moment distribution at a random hinge",
              "straggling": "Gaussian Bohr variance below the Moller cut",
              "e_table_MeV": [e_min_mev, e_max_mev, n]}
    sb_t, sb_c = seltzer_berger_water()
    if brems == "discrete" and e_max_mev > sb_t[-1] * (1 + 1e-9):
        raise ValueError(f"build_tables: Seltzer-Berger data end at {sb_t[-1]} MeV")
    return TransportTables(ln_e0=float(ln_e[0]), dln=float(ln_e[1] - ln_e[0]),
                           table=np.ascontiguousarray(table), ms_ln_t0=float(ln_t[0]),
                           ms_dln=float(ln_t[1] - ln_t[0]),
                           ms_ln_a=np.ascontiguousarray(0.5 * (lo + hi)), cut_mev=float(cut_mev),
                           mott=bool(mott), brems_discrete=brems == "discrete",
                           brems_cut_mev=float(brems_cut_mev), sb_ln_t=np.log(sb_t),
                           sb_kappa=SB_KAPPA.copy(), sb_c=np.ascontiguousarray(sb_c),
                           sb_cmax=np.ascontiguousarray(sb_c.max(axis=1)), params=params)
