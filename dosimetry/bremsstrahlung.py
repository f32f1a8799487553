"""Bremsstrahlung of electrons in liquid water from the Seltzer-Berger scaled cross sections
of H and O (discrete photons above k_c, continuous loss below; see
:mod:`dosimetry.electron_physics`).

References
----------
.. [13] Seltzer SM, Berger MJ. Bremsstrahlung energy spectra from electrons with kinetic energy
        1 keV - 10 GeV incident on screened nuclei and orbital electrons of neutral atoms with
        Z = 1-100. At Data Nucl Data Tables 1986;35:345 (data/seltzer_berger_H_O.csv).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from dosimetry.data_tables import read_table
from dosimetry.electron_stopping import M_WATER_G_MOL, N_A, WATER_ATOMS, kinematics as _kinematics

__all__ = ["seltzer_berger_water", "bremsstrahlung_sb", "SB_KAPPA"]

#: Seltzer-Berger scaled bremsstrahlung cross sections of H and O ([13]_), data/seltzer_berger_H_O.csv.
_SB_FILE = "seltzer_berger_H_O.csv"
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
    data = read_table(_SB_FILE)
    t = np.unique(data[:, 1])
    c = np.zeros((t.size, SB_KAPPA.size))
    for z, count in WATER_ATOMS:
        sel = data[:, 0] == z
        if not np.array_equal(data[sel, 1], t):
            raise ValueError(f"{_SB_FILE}: energy grids of H and O differ")
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
