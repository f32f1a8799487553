"""Electron interaction data for liquid water: stopping powers, ranges, elastic and Moller tables.

Everything the condensed-history Monte Carlo of :mod:`dosimetry._electron_mc` needs, computed
here in numpy from cited formulas and packed into flat tables on a uniform grid in ln(E).

Physics (all for liquid water, H2O, 1 g/cm^3; mass quantities scale with density):

- Collision stopping power: Bethe formula for electrons with I = 75 eV and the density-effect
  correction delta (ICRU 37 [1]_; the I value and delta of NIST ESTAR [2]_). ICRU 90 recommends
  78 eV; 75 eV is kept so that ranges compare one-to-one with ESTAR (the 78 eV value lowers
  S_col by ~0.4 % at 1 MeV). delta: ESTAR's tabulated values for liquid water (computed by
  ESTAR with Sternheimer's method) or the Sternheimer-Berger-Seltzer 1984 fit [3]_.
- Restricted collision stopping power (energy transfers below a cut W_c): ICRU 37 [1]_ formula
  for electrons (as in Geant4's Moller-Bhabha model [6]_).
- Radiative stopping power: NIST ESTAR values for liquid water [2]_ (Seltzer-Berger
  bremsstrahlung cross sections), log-log interpolated. Bremsstrahlung is treated as a
  continuous loss whose energy escapes the kernel (photons not transported).
- Hard inelastic collisions (W > W_c): Moller cross section [4]_ on free electrons.
- Soft-collision energy straggling: Gaussian with the Bohr variance restricted to W < W_c,
  Omega^2 = 2 pi r_e^2 m c^2 n_e W_c (1/beta^2 - 1/2) s ([5]_; the Gaussian regime of [6]_).
- Elastic scattering: screened Rutherford (Wentzel) cross section with Moliere's screening
  angle [7]_, Z(Z+1) for scattering by atomic electrons, and the McKinley-Feshbach
  approximation of the Mott/Rutherford ratio [8]_; only its first transport cross section
  (1/lambda_1) is used: the multiple-scattering deflection per step is drawn from a Wentzel
  distribution with the same <1 - cos theta> = 1 - exp(-s/lambda_1) [9]_ [10]_.

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
.. [10] Larsen EW. A theoretical derivation of the condensed history algorithm. Ann Nucl
        Energy 1992;19:701 (convergence when the first angular moment is preserved).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np

__all__ = ["collision_stopping_power", "radiative_stopping_power", "csda_range_g_cm2",
           "radiation_yield", "moller_cross_section_cm2_g", "straggling_variance_mev2_cm2_g",
           "transport_cross_section_cm2_g", "wentzel_mean_one_minus_mu", "density_effect",
           "build_tables", "TransportTables", "MEC2_MEV", "I_WATER_EV"]

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


@dataclass(frozen=True)
class TransportTables:
    """Tables on a uniform ln(E) grid consumed by the numba transport (water, rho = 1).

    Attributes
    ----------
    ln_e0 : float
        ln of the first grid energy [ln MeV].
    dln : float
        Grid step in ln E.
    table : ndarray, shape (5, N)
        Rows: 0 soft range R_s(E) = int dE / (L_col(E; W_c) + S_rad) [cm];
        1 radiative fraction S_rad / (L_col + S_rad); 2 Moller macroscopic cross section for
        W > W_c [1/cm]; 3 soft straggling variance per cm [MeV^2/cm];
        4 transport integral K_1(E) = int dE / ((L_col + S_rad) lambda_1) [1].
    ms_ln_t0, ms_dln : float
        Grid of ln t (t = path / lambda_1) of the Wentzel screening table.
    ms_ln_a : ndarray, shape (M,)
        ln A solving <1 - mu>_A = 1 - exp(-t) on that grid.
    cut_mev : float
        Moller cut W_c [MeV].
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
    params: dict = field(default_factory=dict)

    def energy_grid(self) -> np.ndarray:
        """Grid energies [MeV]."""
        return np.exp(self.ln_e0 + self.dln * np.arange(self.table.shape[1]))


def build_tables(e_max_mev: float = 3.0, *, cut_mev: float = 0.01, i_ev: float = I_WATER_EV,
                 delta_model: str = "estar", mott: bool = True, e_min_mev: float = 1e-3,
                 n: int = 4096) -> TransportTables:
    """Precompute the transport tables of :class:`TransportTables` for water at 1 g/cm^3.

    Parameters
    ----------
    e_max_mev : float
        Highest tabulated energy [MeV] (>= the largest source energy).
    cut_mev : float
        Moller cut W_c [MeV]: energy transfers above it make explicit delta rays.
    i_ev, delta_model, mott
        Physics options (see :func:`collision_stopping_power`, :func:`transport_cross_section_cm2_g`).
    e_min_mev : float
        Lowest tabulated energy [MeV] (below the transport cut-off).
    n : int
        Grid points.
    """
    if not (0 < e_min_mev < cut_mev < e_max_mev):
        raise ValueError("build_tables: need 0 < e_min_mev < cut_mev < e_max_mev")
    ln_e = np.linspace(math.log(e_min_mev), math.log(e_max_mev), n)
    e = np.exp(ln_e)
    l_col = collision_stopping_power(e, cut_mev, i_ev=i_ev, delta_model=delta_model)
    s_rad = radiative_stopping_power(e)
    l_tot = l_col + s_rad
    lam1_inv = transport_cross_section_cm2_g(e, mott=mott)

    def cumulative(f):
        # integral over E of f(E) dE on the ln grid (dE = E dlnE), trapezoid
        g = f * e
        c = np.concatenate(([0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(ln_e))))
        return c

    r_soft = cumulative(1.0 / l_tot) + e_min_mev / l_tot[0]
    k1 = cumulative(lam1_inv / l_tot)
    table = np.vstack([r_soft, s_rad / l_tot, moller_cross_section_cm2_g(e, cut_mev),
                       straggling_variance_mev2_cm2_g(e, cut_mev), k1])
    # Wentzel screening parameter A(t): solve 2A[(1+A)ln(1+1/A) - 1] = 1 - exp(-t) by bisection.
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
              "radiative_stopping_power": "NIST ESTAR (liquid water), continuous, escaping",
              "elastic": "screened Rutherford (Moliere screening, Z(Z+1), McKinley-Feshbach), "
                         "Wentzel MS distribution with exact first moment, random hinge",
              "straggling": "Gaussian Bohr variance below the Moller cut",
              "e_table_MeV": [e_min_mev, e_max_mev, n]}
    return TransportTables(ln_e0=float(ln_e[0]), dln=float(ln_e[1] - ln_e[0]),
                           table=np.ascontiguousarray(table), ms_ln_t0=float(ln_t[0]),
                           ms_dln=float(ln_t[1] - ln_t[0]),
                           ms_ln_a=np.ascontiguousarray(0.5 * (lo + hi)), cut_mev=float(cut_mev),
                           params=params)
