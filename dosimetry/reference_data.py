"""Published reference values that taresim's physics is compared with (data only, with sources).

Every table here is transcribed from the publication named beside it; the verification tests
and the kernel figure compare the project's own results with these numbers.

References
----------
.. [1] Ferrer L et al. Cancer Biother Radiopharm 2007;22:125 (ETRAN scaled point kernels of
       monoenergetic electrons in water, Berger's code).
.. [2] Mainegra-Hing E, Rogers DWO, Kawrakow I. Med Phys 2005;32:685 (EGSnrc scaled kernels).
       Both [1] and [2] as distributed with Geant4 example TestEm12 (berger/).
.. [3] Graves SA, Flynn RT, Hyer DE. Dose point kernels for 2,174 radionuclides. Med Phys
       2019;46:5284 (Y-90: 99.5-99.7 % of the emitted energy within 11 mm); data: Zenodo record
       2564036, file 90Y_64.10H_beta.io_processed.csv, transcribed in
       ``data/reference_graves2019_Y-90_water.csv`` (see its header).
.. [4] Gimenez-Alventosa V, Gimenez Gomez V, Oliver S. PenRed: an extensible and parallel
       Monte-Carlo framework for radiation transport based on PENELOPE. Comput Phys Commun
       2021;267:108065 (PENELOPE-2018 physics; Salvat F, PENELOPE-2018, OECD/NEA 2019). Y-90 and
       1 / 2 MeV electron kernels in ICRU-90 water computed with it for taresim (run parameters
       in the headers of ``data/reference_penelope_*.csv``).
"""
from __future__ import annotations

from functools import lru_cache
import numpy as np

from dosimetry.data_tables import read_table

__all__ = ["PUBLISHED_MONO_X", "PUBLISHED_MONO_J", "PUBLISHED_MONO_X90", "PUBLISHED_FRACTIONS",
           "graves2019_y90", "penelope_y90", "penelope_mono"]

#: Scaled point kernels J(x) = 4 pi rho r^2 r0 D(r) / E0 (x = r / r0, r0 = CSDA range) of
#: monoenergetic electrons in water at x = 0.1, 0.2, ..., 0.9: ETRAN (Berger's code, as tabulated
#: by Ferrer et al., Cancer Biother Radiopharm 2007;22:125) and EGSnrc (Mainegra-Hing et al.,
#: Med Phys 2005;32:685), both as distributed with Geant4 example TestEm12 (berger/).
#: EGSnrc values are its 0.05-wide bins interpolated to these x.
PUBLISHED_MONO_X = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
PUBLISHED_MONO_J = {
    ("ETRAN", 0.1): (0.650, 0.769, 0.944, 1.202, 1.490, 1.658, 1.521, 0.969, 0.414),
    ("ETRAN", 0.5): (0.763, 0.854, 0.989, 1.203, 1.452, 1.593, 1.442, 0.956, 0.336),
    ("ETRAN", 1.0): (0.840, 0.915, 1.020, 1.190, 1.397, 1.517, 1.400, 0.920, 0.349),
    ("EGSnrc", 0.1): (0.655, 0.776, 0.951, 1.184, 1.434, 1.586, 1.478, 1.053, 0.482),
    ("EGSnrc", 1.0): (0.832, 0.908, 1.017, 1.176, 1.362, 1.474, 1.375, 0.968, 0.408),
}
#: X90 / r0 of the same published kernels (integrated here from the full published curves).
PUBLISHED_MONO_X90 = {("ETRAN", 0.1): 0.793, ("ETRAN", 0.5): 0.782, ("ETRAN", 1.0): 0.780,
                      ("EGSnrc", 0.1): 0.805, ("EGSnrc", 1.0): 0.790}

#: Published integral comparison points: nuclide -> [(r_mm in water, low, high, label)] for
#: the fraction of the emitted energy deposited within r (bremsstrahlung counted as lost).
PUBLISHED_FRACTIONS = {
    "Y-90": [(11.0, 0.995, 0.997, "Graves 2019: 99.5-99.7 % within 11 mm")],
}


@lru_cache(maxsize=1)
def graves2019_y90():
    """The Y-90 point kernel of Graves et al. 2019 [3]_ in water (beta spectrum, bremsstrahlung
    transported), as transcribed in ``data/reference_graves2019_Y-90_water.csv``.

    Returns
    -------
    r_inner_mm, r_outer_mm, energy_MeV_per_decay, rel_unc : ndarray
        Shells (0.1 mm to 100 mm, 1 mm to 372 mm), energy per decay in each [MeV] and its
        published relative uncertainty (NaN beyond 12 mm, where not transcribed).
    """
    d = read_table("reference_graves2019_Y-90_water.csv")
    return d[:, 0], d[:, 1], d[:, 2], d[:, 3]


@lru_cache(maxsize=1)
def penelope_y90():
    """The Y-90 beta point kernel in ICRU-90 water from PENELOPE-2018 physics (PenRed) [4]_.

    Same ICRP-107 spectrum (cubic spline) as taresim's kernel, bremsstrahlung photons
    transported, 5e6 histories; ``data/reference_penelope_Y-90_water.csv``.

    Returns
    -------
    r_inner_mm, r_outer_mm, energy_MeV_per_decay, rel_unc : ndarray
        0.05 mm shells to 14 mm, energy per decay in each [MeV], 1-sigma relative uncertainty.
    """
    d = read_table("reference_penelope_Y-90_water.csv")
    return d[:, 0], d[:, 1], d[:, 2], d[:, 3]


def penelope_mono(energy_MeV: float):
    """Point kernel of monoenergetic electrons (1 or 2 MeV) in ICRU-90 water, PENELOPE-2018 [4]_.

    Returns
    -------
    r_inner_mm, r_outer_mm, energy_MeV_per_history, rel_unc : ndarray
        0.02 mm shells to 12 mm, 2e6 histories; ``data/reference_penelope_mono_water.csv``.
    """
    d = read_table("reference_penelope_mono_water.csv")
    sel = np.isclose(d[:, 0], float(energy_MeV))
    if not np.any(sel):
        raise ValueError(f"energy_MeV must be one of {sorted(set(d[:, 0]))}, got {energy_MeV}")
    d = d[sel]
    return d[:, 1], d[:, 2], d[:, 3], d[:, 4]
