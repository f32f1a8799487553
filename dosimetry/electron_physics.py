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
import math

import numpy as np

from dosimetry.bremsstrahlung import *  # noqa: F401,F403 - the physics of this module
from dosimetry.bremsstrahlung import __all__ as _brems_all
from dosimetry.electron_elastic import *  # noqa: F401,F403
from dosimetry.electron_elastic import __all__ as _elastic_all
from dosimetry.electron_stopping import *  # noqa: F401,F403
from dosimetry.electron_stopping import __all__ as _stopping_all

__all__ = ["build_tables", "TransportTables", "MS_MIXED", "MS_WENTZEL1", *_stopping_all,
           *_elastic_all, *_brems_all]


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
                 n: int = 4096, nuclear_norm: str = "elsepa") -> TransportTables:
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
                       i_ev=i_ev, delta_model=delta_model, nuclear_norm=nuclear_norm)

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
                         "per atom, Z(Z + xi) with xi = 1 minus the hard-Moller share, "
                         + ("Z^2 term scaled to the partial-wave (ELSEPA, PENELOPE 2018) "
                            "sigma_1 of water " if nuclear_norm == "elsepa" else "") +
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
