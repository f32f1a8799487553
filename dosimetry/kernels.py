"""Dose point kernels (DPK) of Y-90 and Ho-166 in water, derived by the project's own MC.

Two shipped tables per nuclide, built by :mod:`dosimetry.kernel_build` with the coupled
electron-photon Monte Carlo (:mod:`dosimetry._electron_mc`, :mod:`dosimetry._photon_mc`):

- ``dosimetry/data/kernel_<nuclide>_water.csv`` + ``.json``: the charged-particle kernel, energy
  deposited per decay by the beta particles and the ICRP-107 conversion and Auger electrons
  (with their delta rays) in 0.05 mm spherical shells around an isotropic point source in
  liquid water (1 g/cm^3), out to the electron range (:func:`load_kernel`);
- ``dosimetry/data/photon_kernel_<nuclide>_water.csv`` + ``.json``: the energy deposited by
  photons (the electrons' bremsstrahlung above 1 keV, gamma and X-ray lines), shells widening
  from 0.5 mm near the source to 10 mm at 200-400 mm (:func:`load_photon_kernel`); the photon
  energy deposited beyond 400 mm is ``metadata["energy_beyond_table_MeV_per_decay"]``.

:func:`total_kernel` (or ``load_kernel(..., photons=True)``) adds the two. Regenerate with::

    python -m dosimetry.kernel_build build [--nuclide Y-90] [--histories N] [--seed S]

Other media of the same composition follow from the density scaling theorem
D_rho(r) = rho^2 D_w(rho r) (all interaction coefficients scale with density, [3]_;
docs/physics.md, "Dose point kernels"; see :meth:`DoseKernel.scaled`), which for shell tables
means: same energy per shell, radii divided by rho.

Notes
-----
Energy bookkeeping per decay (Y-90; Ho-166 in docs/physics.md): electrons absorbed + photons
absorbed within the table + photon energy beyond it = the ICRP-107 energy emitted per decay
(betas + conversion/Auger electrons + gamma/X lines); ``bremsstrahlung_MeV_per_decay`` of the
charged-particle kernel is the energy its electrons give to photons, which the photon kernel
deposits. The source spectrum is the ICRP-107 tabulated density interpolated by a cubic spline
(its mean matches the branch-weighted ICRP-107 mean to 1e-5 for Y-90, +0.08 % for Ho-166,
whereas linear interpolation of the coarse grid gives +0.14 % and +0.40 % and doubles the
probability of Y-90 betas above 2.1 MeV); tallies are normalised to the ICRP-107 energies.
Validation: tests/verification (ESTAR, XCOM / NIST SRD 126, ETRAN / EGSnrc monoenergetic kernels,
Graves et al. 2019 Y-90 kernel, ICRP-107 energies) and docs/physics.md.

References
----------
.. [1] ICRP Publication 107 (2008), nuclear decay data (beta spectra, mean energies, lines).
.. [2] Graves SA, Flynn RT, Hyer DE. Dose point kernels for 2,174 radionuclides. Med Phys
       2019;46:5284 (Y-90: 0.9336 MeV per decay, 99.5-99.7 % within 11 mm).
.. [3] Cross WG, Freedman NO, Wong PY. Beta-ray dose distributions from point sources in an
       infinite water medium. Health Phys 1992;63:160 (scaled kernels, density scaling).
.. [4] Fritsch FN, Carlson RE. Monotone piecewise cubic interpolation. SIAM J Numer Anal
       1980;17:238 (PCHIP, used for the cumulative energy).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
import json
from pathlib import Path

import numpy as np

from dosimetry.decay import normalise_name
from dosimetry.kernel_io import (kernel_file_stem, load_kernel_csv, photon_kernel_file_stem,
                                write_kernel_files)
from dosimetry.kernel_model import DoseKernel

__all__ = ["DoseKernel", "load_kernel", "load_photon_kernel", "total_kernel", "combine_kernels",
           "load_kernel_csv", "write_kernel_files", "kernel_file_stem", "photon_kernel_file_stem",
           "clear_kernel_cache", "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=None)
def _load_water_kernel(nuclide: str, data_dir: str, photons: bool = False) -> DoseKernel:
    stem = Path(data_dir) / (photon_kernel_file_stem(nuclide) if photons else kernel_file_stem(nuclide))
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    if not csv_path.exists():
        raise ValueError(f"no shipped kernel for {nuclide!r} ({csv_path.name} missing); "
                         f"build it with: python -m dosimetry.kernel_build build --nuclide {nuclide}")
    meta = json.loads(json_path.read_text()) if json_path.exists() else {}
    k = load_kernel_csv(csv_path, nuclide=nuclide, density_g_cm3=meta.get("density_g_cm3", 1.0))
    return replace(k, bremsstrahlung_MeV_per_decay=float(meta.get("bremsstrahlung_MeV_per_decay", 0.0)),
                   emitted_MeV_per_decay=meta.get("emitted_MeV_per_decay"),
                   csda_range_water_mm=meta.get("csda_range_endpoint_water_mm"), metadata=meta)


def clear_kernel_cache() -> None:
    """Forget the loaded kernel tables (after :mod:`dosimetry.kernel_build` rewrote them)."""
    _load_water_kernel.cache_clear()


def load_kernel(nuclide: str = "Y-90", *, density_g_cm3: float = 1.0,
                data_dir: str | Path | None = None, photons: bool = False) -> DoseKernel:
    """Load the shipped charged-particle DPK of ``nuclide``, scaled to ``density_g_cm3``.

    The charged-particle kernel holds the energy deposited by the beta particles and the
    conversion and Auger electrons (with their delta rays) in 0.05 mm shells; it ends at the
    electron range (~11.3 mm for Y-90 in water), so cell lists built on it stay short.

    Parameters
    ----------
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"`` (any spelling :func:`dosimetry.decay.normalise_name` accepts).
    density_g_cm3 : float
        Density of the water-like medium [g/cm^3] (1.0 water, 1.04 soft tissue).
    data_dir : path, optional
        Directory of the tables (default: the package data).
    photons : bool
        False (default): the charged-particle kernel; True: the total kernel
        (:func:`total_kernel`, electrons + photons, out to 400 mm at 1 g/cm^3).

    Returns
    -------
    DoseKernel

    Raises
    ------
    ValueError
        Unknown nuclide (no table) or bad density.

    Examples
    --------
    The shipped Y-90 kernel in soft tissue: 90 % of the absorbed energy lies within a few mm.

    >>> k = load_kernel("Y-90", density_g_cm3=1.04)
    >>> 4.0 < k.x90_mm() < 6.0
    True
    """
    if photons:
        return total_kernel(nuclide, density_g_cm3=density_g_cm3, data_dir=data_dir)
    name = normalise_name(nuclide)
    k = _load_water_kernel(name, str(Path(data_dir) if data_dir else DATA_DIR))
    return k if density_g_cm3 == k.density_g_cm3 else k.scaled(density_g_cm3)


def load_photon_kernel(nuclide: str = "Y-90", *, density_g_cm3: float = 1.0,
                       data_dir: str | Path | None = None) -> DoseKernel:
    """Load the shipped photon kernel of ``nuclide``: energy deposited by photons per decay.

    Bremsstrahlung of the electrons (above 1 keV) and, for Ho-166, its gamma and X-ray lines,
    transported in water with XCOM cross sections (:mod:`dosimetry.photon_physics`); shells
    widen with r (0.5 mm near the source, 10 mm at 200-400 mm). The photon energy deposited
    beyond the last shell is ``metadata["energy_beyond_table_MeV_per_decay"]``.

    Parameters
    ----------
    nuclide, density_g_cm3, data_dir
        As for :func:`load_kernel`; the density scaling theorem holds for photons too (all
        interaction coefficients scale with density).

    Returns
    -------
    DoseKernel
    """
    name = normalise_name(nuclide)
    k = _load_water_kernel(name, str(Path(data_dir) if data_dir else DATA_DIR), True)
    return k if density_g_cm3 == k.density_g_cm3 else k.scaled(density_g_cm3)


def combine_kernels(charged: DoseKernel, photon: DoseKernel) -> DoseKernel:
    """Sum of a charged-particle kernel and a photon kernel (same nuclide and density).

    Shells: those of ``charged`` up to its outer radius, then those of ``photon`` beyond (the
    photon energy inside the charged-particle shells is taken from the photon kernel's monotone
    cumulative energy, exact at shared edges).

    Returns
    -------
    DoseKernel
        ``emitted_MeV_per_decay`` is all the energy emitted per decay (electrons + photon
        lines), ``bremsstrahlung_MeV_per_decay`` is 0 (the bremsstrahlung is in the kernel) and
        ``metadata["energy_beyond_table_MeV_per_decay"]`` the photon energy beyond the table.
    """
    if abs(charged.density_g_cm3 - photon.density_g_cm3) > 1e-12 * charged.density_g_cm3:
        raise ValueError("combine_kernels: the kernels are at different densities")
    r_e = float(charged.r_outer_mm[-1])
    if r_e >= photon.r_outer_mm[-1]:
        raise ValueError("combine_kernels: the photon kernel must reach beyond the charged one")
    outer = photon.r_outer_mm[photon.r_outer_mm > r_e * (1 + 1e-9)]
    edges = np.concatenate((charged.edges_mm, outer))
    e_ph = np.diff(photon.energy_within_MeV(edges))
    energy = e_ph.copy()
    energy[:charged.r_outer_mm.size] += charged.energy_MeV_per_decay
    lines = float(photon.metadata.get("photon_lines_emitted_MeV_per_decay", 0.0))
    emitted = (charged.emitted_MeV_per_decay or 0.0) + lines
    meta = {"kernel": "total (charged particles + photons)", "nuclide": charged.nuclide,
            "charged_particle_kernel": {k: charged.metadata.get(k) for k in
                                        ("includes", "kernel_mc_version", "git_sha", "histories")},
            "photon_kernel": {k: photon.metadata.get(k) for k in
                              ("includes", "kernel_mc_version", "git_sha", "histories")},
            "electron_absorbed_MeV_per_decay": charged.energy_per_decay_MeV,
            "photon_absorbed_MeV_per_decay": photon.energy_per_decay_MeV,
            "energy_beyond_table_MeV_per_decay":
                float(photon.metadata.get("energy_beyond_table_MeV_per_decay", 0.0)),
            "includes": f"{charged.metadata.get('includes', 'charged particles')}; "
                        f"{photon.metadata.get('includes', 'photons')}"}
    return DoseKernel(nuclide=charged.nuclide, r_inner_mm=edges[:-1], r_outer_mm=edges[1:],
                      energy_MeV_per_decay=energy, density_g_cm3=charged.density_g_cm3,
                      rel_std_err=None, bremsstrahlung_MeV_per_decay=0.0,
                      emitted_MeV_per_decay=emitted,
                      csda_range_water_mm=None, metadata=meta)


def total_kernel(nuclide: str = "Y-90", *, density_g_cm3: float = 1.0,
                 data_dir: str | Path | None = None) -> DoseKernel:
    """Charged-particle + photon kernel of ``nuclide`` (see :func:`combine_kernels`).

    Used for voxel S values and summaries; ``range_mm`` is the outer radius of the photon table.
    """
    return combine_kernels(load_kernel(nuclide, density_g_cm3=density_g_cm3, data_dir=data_dir),
                           load_photon_kernel(nuclide, density_g_cm3=density_g_cm3, data_dir=data_dir))
