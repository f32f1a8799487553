"""Stopping powers, ranges, radiation yield, Moller cross section and straggling of electrons
in liquid water (the continuous and hard inelastic losses of :mod:`dosimetry.electron_physics`,
where the physics choices are described).

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
.. [14] ICRU Report 90 (2016), Key data for ionizing-radiation dosimetry: measurement
        standards and applications (I = 78 eV for liquid water).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["collision_stopping_power", "radiative_stopping_power", "csda_range_g_cm2", "radiation_yield", "moller_cross_section_cm2_g", "straggling_variance_mev2_cm2_g", "density_effect", "MEC2_MEV", "I_WATER_EV", "I_WATER_EV_ICRU90", "R_E_CM", "N_A", "ALPHA", "HBARC_MEV_CM", "A0_CM", "M_WATER_G_MOL", "WATER_ATOMS", "ELECTRONS_PER_G", "STERNHEIMER_WATER", "ESTAR_CSDA_RANGE_G_CM2", "ESTAR_SCOL_MEV_CM2_G", "ESTAR_RADIATION_YIELD", "kinematics"]

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


def kinematics(e_mev):
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
    tau, gamma, beta2 = kinematics(e)
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
    _, gamma, beta2 = kinematics(e)
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
    _, _, beta2 = kinematics(e)
    w = np.minimum(cut_mev, e / 2.0)
    return _K_BETHE * w * (1.0 / beta2 - 0.5)
