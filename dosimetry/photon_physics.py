"""Photon interaction data for liquid water: XCOM cross sections, Rayleigh form factor, tables.

Everything the photon transport of :mod:`dosimetry._photon_mc` needs (bremsstrahlung photons of
the beta Monte Carlo, gamma and X-ray lines of the source), computed here in numpy and packed
into tables on a uniform grid in ln k.

Physics (liquid water, H2O, 1 g/cm^3; macroscopic quantities scale with density):

- Cross sections: NIST XCOM [1]_ for H and O (coherent, incoherent, photoelectric, pair
  production in the nuclear and in the electron field), summed over the molecule (2 H + O) and
  interpolated log-log in k between the XCOM grid points (linearly where a value is 0, i.e. at
  the pair thresholds). Their sum reproduces the NIST mass attenuation coefficients of water
  [2]_ to 4e-4 at 1 keV - 3 MeV (tests/verification/test_photon_physics.py).
- Incoherent (Compton) scattering: the XCOM incoherent cross section (with binding, i.e. the
  incoherent scattering function) sets how often; the angle and the energy of the scattered
  photon come from the Klein-Nishina cross section of a free electron at rest [3]_ (sampled
  with Butcher and Messel's method [4]_). Binding and Doppler broadening of the angular and
  energy distributions are neglected.
- Coherent (Rayleigh) scattering: the XCOM coherent cross section sets how often; the angle
  follows (1 + cos^2 theta) F^2(x) with the independent-atom form factor of the molecule,
  F^2 = 2 F_H^2 + F_O^2, x = sin(theta/2) / lambda. F_H is the exact hydrogen 1s form factor
  F = 1 / (1 + (q a0 / 2)^2)^2; F_O that of Slater orbitals [5]_ (1s^2 with zeta = 7.70 / a0,
  2s^2 2p^4 with zeta = 2.275 / a0): F_1s = 1 / (1 + y^2)^2, F_n=2 = (1 - y^2) / (1 + y^2)^4,
  y = q / (2 zeta), q = 4 pi x the momentum transfer. Molecular interference is neglected
  (it changes the angle of a process that is 1-8 % of the attenuation below 100 keV and less
  above).
- Photoelectric absorption: the photon's energy is deposited where it is absorbed (the
  fluorescence yield of oxygen K shells is 0.8 % at 0.53 keV; the photoelectron's range is
  below 0.5 mm up to 150 keV).
- Pair production (above 1.022 MeV, < 2 % of the attenuation below 3 MeV): k - 2 m c^2 is
  deposited locally and two 511 keV annihilation photons are emitted back to back in an
  isotropic direction.
- Secondary electrons of all photon interactions (photo-, Compton and pair electrons) deposit
  their kinetic energy at the interaction point (their range, at most a few mm for the highest
  Compton electrons of Y-90 bremsstrahlung, is small against the photon mean free path of
  5-15 cm). Photons below the cut-off (1 keV, the lowest XCOM energy) are absorbed locally.

References
----------
.. [1] Berger MJ, Hubbell JH, Seltzer SM, Chang J, Coursey JS, Sukumar R, Zucker DS, Olsen K.
       XCOM: Photon Cross Sections Database, NIST Standard Reference Database 8,
       doi:10.18434/T48G6X (element files MDATX3.001, MDATX3.008; data/xcom_H_O.csv).
.. [2] Hubbell JH, Seltzer SM. NIST Standard Reference Database 126, Table 4 (water, liquid),
       doi:10.18434/T4D01F (data/nist126_water.csv).
.. [3] Klein O, Nishina Y. Z Phys 1929;52:853.
.. [4] Butcher JC, Messel H. Electron number distribution in electron-photon showers in air
       and aluminium absorbers. Nucl Phys 1960;20:15 (as used by EGS4 and Geant4's
       G4KleinNishinaCompton).
.. [5] Slater JC. Atomic shielding constants. Phys Rev 1930;36:57.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import math

import numpy as np

from dosimetry.data_tables import read_table
from dosimetry.electron_physics import MEC2_MEV, N_A, A0_CM

__all__ = ["xcom_water", "photon_mass_coefficients", "nist126_water", "form_factor_sq_water",
           "PhotonTables", "build_photon_tables", "PROC_COH", "PROC_INCOH", "PROC_PHOTO",
           "PROC_PAIR", "PHOTON_CUTOFF_MEV", "HC_MEV_CM"]

#: Rows of :attr:`PhotonTables.table`: total, coherent, incoherent, photoelectric, pair [1/cm].
PROC_TOTAL, PROC_COH, PROC_INCOH, PROC_PHOTO, PROC_PAIR = 0, 1, 2, 3, 4
#: Photon transport cut-off [MeV] (the lowest XCOM energy).
PHOTON_CUTOFF_MEV = 1e-3
#: h c [MeV cm] (CODATA 2018).
HC_MEV_CM = 1.23984198e-10
#: Slater orbital exponents of oxygen [1/a0]: 1s (Z - 0.30), 2s/2p ((Z - 3.45) / 2) ([5]_).
ZETA_O_1S, ZETA_O_2 = 7.70, 2.275


@lru_cache(maxsize=1)
def xcom_water():
    """XCOM cross sections of one water molecule (2 H + O) on the XCOM grid up to 3 MeV.

    Returns
    -------
    k_mev : ndarray, shape (M,)
        Photon energies [MeV] (1 keV - 3 MeV; 1.022 and 2.044 MeV are pair thresholds).
    sigma_b : dict of ndarray
        ``coh``, ``incoh``, ``photo``, ``pair`` (nuclear + electron field) [barn/molecule].
    molar_mass : float
        2 A_H + A_O of the XCOM files [g/mol].
    """
    d = read_table("xcom_H_O.csv")
    k = d[:, 0]
    h, o = d[:, 1:6], d[:, 6:11]
    mol = 2.0 * h + o
    sig = {"coh": mol[:, 0], "incoh": mol[:, 1], "photo": mol[:, 2], "pair": mol[:, 3] + mol[:, 4]}
    for v in sig.values():
        v.setflags(write=False)
    return k, sig, 2.0 * 1.0079 + 15.9994


def _loglog(x, xp, fp):
    """Log-log interpolation of fp(xp) at x; linear where an end value is 0 (thresholds)."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    i = np.clip(np.searchsorted(xp, x) - 1, 0, xp.size - 2)
    a, b = fp[i], fp[i + 1]
    t_lin = (x - xp[i]) / (xp[i + 1] - xp[i])
    with np.errstate(divide="ignore", invalid="ignore"):
        t_log = np.log(x / xp[i]) / np.log(xp[i + 1] / xp[i])
        loglog = np.exp(np.log(a) + t_log * (np.log(b) - np.log(a)))
    return np.where((a > 0) & (b > 0), loglog, a + t_lin * (b - a))


def photon_mass_coefficients(k_mev) -> dict:
    """Mass interaction coefficients of water [cm^2/g] from XCOM [1]_.

    Parameters
    ----------
    k_mev : float or ndarray
        Photon energy [MeV], 1 keV - 3 MeV.

    Returns
    -------
    dict
        ``coh``, ``incoh``, ``photo``, ``pair`` and ``total`` [cm^2/g].
    """
    kx, sig, molar = xcom_water()
    k = np.atleast_1d(np.asarray(k_mev, dtype=float))
    if np.any(k < kx[0] * (1 - 1e-12)) or np.any(k > kx[-1] * (1 + 1e-12)):
        raise ValueError(f"photon energy outside the XCOM table ({kx[0]} - {kx[-1]} MeV)")
    per_b = 1e-24 * N_A / molar
    out = {name: _loglog(k, kx, v) * per_b for name, v in sig.items()}
    out["total"] = out["coh"] + out["incoh"] + out["photo"] + out["pair"]
    if np.ndim(k_mev) == 0:
        return {name: float(v[0]) for name, v in out.items()}
    return out


@lru_cache(maxsize=1)
def nist126_water():
    """NIST SRD 126 mu/rho and mu_en/rho of liquid water [2]_ up to 3 MeV.

    Returns
    -------
    (k_mev, mu_rho_cm2_g, mu_en_rho_cm2_g) : tuple of ndarray
    """
    d = read_table("nist126_water.csv")
    return d[:, 0], d[:, 1], d[:, 2]


def form_factor_sq_water(x_inv_angstrom):
    """Independent-atom F^2(x) of a water molecule, 2 F_H^2 + F_O^2 (see module notes, [5]_).

    Parameters
    ----------
    x_inv_angstrom : float or ndarray
        x = sin(theta/2) / lambda [1/angstrom].
    """
    x = np.asarray(x_inv_angstrom, dtype=float)
    q = 4.0 * math.pi * x * (A0_CM * 1e8)  # momentum transfer [1/a0]
    f_h = 1.0 / (1.0 + (0.5 * q) ** 2) ** 2
    y1, y2 = q / (2.0 * ZETA_O_1S), q / (2.0 * ZETA_O_2)
    f_o = 2.0 / (1.0 + y1**2) ** 2 + 6.0 * (1.0 - y2**2) / (1.0 + y2**2) ** 4
    return 2.0 * f_h**2 + f_o**2


@dataclass(frozen=True)
class PhotonTables:
    """Photon tables on a uniform ln(k) grid for the numba transport (water, rho = 1).

    Attributes
    ----------
    ln_k0, dln : float
        First grid point [ln MeV] and step of the ln k grid.
    table : ndarray, shape (5, N)
        Linear attenuation coefficients at 1 g/cm^3 [1/cm]: total, coherent, incoherent,
        photoelectric, pair (``PROC_*``).
    ray_ln_y0, ray_dln : float
        Grid of ln y, y = x^2 [1/angstrom^2], of the Rayleigh table.
    ray_g : ndarray, shape (L,)
        G(y) = int_0^y F^2(y') dy' on that grid (monotone).
    cutoff_mev : float
        Photon cut-off [MeV].
    params : dict
        Provenance for metadata.
    """

    ln_k0: float
    dln: float
    table: np.ndarray
    ray_ln_y0: float
    ray_dln: float
    ray_g: np.ndarray
    cutoff_mev: float = PHOTON_CUTOFF_MEV
    params: dict = field(default_factory=dict)


def build_photon_tables(k_max_mev: float = 3.0, n: int = 2048) -> PhotonTables:
    """Tabulate the XCOM attenuation coefficients and the Rayleigh form-factor integral.

    Parameters
    ----------
    k_max_mev : float
        Highest photon energy [MeV] (<= 3 MeV, the end of the transcribed XCOM table).
    n : int
        Points of the ln k grid.
    """
    if not PHOTON_CUTOFF_MEV < k_max_mev <= 3.0:
        raise ValueError("build_photon_tables: need 1 keV < k_max <= 3 MeV")
    ln_k = np.linspace(math.log(PHOTON_CUTOFF_MEV), math.log(k_max_mev), n)
    c = photon_mass_coefficients(np.exp(ln_k))
    table = np.vstack([c["total"], c["coh"], c["incoh"], c["photo"], c["pair"]])
    # Rayleigh: G(y) on a log grid of y = x^2 up to the largest x of the table, x = k / (h c)
    y_max = (k_max_mev / (HC_MEV_CM * 1e8)) ** 2
    ln_y = np.linspace(math.log(1e-8), math.log(y_max * 1.0001), 4001)
    y = np.exp(ln_y)
    f2 = form_factor_sq_water(np.sqrt(y))
    g = f2 * y  # dy = y dln y
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(ln_y)))) + f2[0] * y[0]
    params = {"cross_sections": "NIST XCOM (H, O), log-log interpolated",
              "incoherent": "XCOM cross section, Klein-Nishina angles and energies",
              "coherent": "XCOM cross section, independent-atom form factor (H 1s exact, O Slater)",
              "photoelectric": "local absorption", "pair": "local k - 2 m c^2 + two 511 keV photons",
              "secondary_electrons": "deposited at the interaction point",
              "photon_cutoff_MeV": PHOTON_CUTOFF_MEV, "k_table_MeV": [PHOTON_CUTOFF_MEV, k_max_mev, n]}
    return PhotonTables(ln_k0=float(ln_k[0]), dln=float(ln_k[1] - ln_k[0]),
                        table=np.ascontiguousarray(table), ray_ln_y0=float(ln_y[0]),
                        ray_dln=float(ln_y[1] - ln_y[0]), ray_g=np.ascontiguousarray(cum),
                        params=params)


def klein_nishina_mean_energy_transfer(k_mev) -> np.ndarray:
    """Mean fraction of the photon energy given to the electron in a Klein-Nishina collision.

    <T>/k = sigma_tr / sigma_KN by quadrature over cos theta (used by the tests as an
    independent check of the Compton sampler).
    """
    k = np.atleast_1d(np.asarray(k_mev, dtype=float))
    c = np.linspace(-1.0, 1.0, 20001)
    kap = (k / MEC2_MEV)[:, None]
    ratio = 1.0 / (1.0 + kap * (1.0 - c[None, :]))  # k'/k
    dsig = ratio**2 * (ratio + 1.0 / ratio - (1.0 - c[None, :] ** 2))
    tr = np.trapezoid(dsig * (1.0 - ratio), c, axis=1) / np.trapezoid(dsig, c, axis=1)
    return tr if np.ndim(k_mev) else float(tr[0])
