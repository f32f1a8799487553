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

from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
import csv
import io
import json
import math
from pathlib import Path
import re

import numpy as np

from dosimetry.constants import J_PER_MEV
from dosimetry.decay import normalise_name

__all__ = ["DoseKernel", "load_kernel", "load_photon_kernel", "total_kernel", "combine_kernels",
           "load_kernel_csv", "write_kernel_files", "kernel_file_stem", "photon_kernel_file_stem",
           "clear_kernel_cache", "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SUMMARY_RADII_MM = (1, 2, 5, 11)


@dataclass(frozen=True)
class DoseKernel:
    """Radial dose point kernel as a shell table (charged particles, photons, or both).

    Attributes
    ----------
    nuclide : str
        Nuclide (or a label such as ``"e- 1 MeV"`` for monoenergetic kernels).
    r_inner_mm, r_outer_mm : ndarray, shape (K,)
        Shell radii [mm]; contiguous, starting at 0.
    energy_MeV_per_decay : ndarray, shape (K,)
        Energy deposited in each shell per decay [MeV].
    density_g_cm3 : float
        Density of the medium [g/cm^3] (water composition).
    rel_std_err : ndarray, shape (K,), optional
        Relative standard error of each shell energy (batch method) [1]; 0 or NaN where the
        shell is empty.
    bremsstrahlung_MeV_per_decay : float
        Energy per decay carried away by bremsstrahlung [MeV] (charged-particle kernels: the
        photons' energy, deposited by the photon kernel; 0 for photon and total kernels).
    emitted_MeV_per_decay : float, optional
        Energy emitted per decay by the radiations the kernel stands for [MeV] (charged
        particles: betas + conversion/Auger electrons; photons: bremsstrahlung + lines; total:
        everything).
    csda_range_water_mm : float, optional
        CSDA range of the spectrum's endpoint energy in water at 1 g/cm^3 [mm].
    metadata : dict
        Provenance: method, physics parameters, histories, seed, code version, and what is
        included (``kernel``, ``includes``, ``not_included``).
    """

    nuclide: str
    r_inner_mm: np.ndarray
    r_outer_mm: np.ndarray
    energy_MeV_per_decay: np.ndarray
    density_g_cm3: float = 1.0
    rel_std_err: np.ndarray | None = None
    bremsstrahlung_MeV_per_decay: float = 0.0
    emitted_MeV_per_decay: float | None = None
    csda_range_water_mm: float | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        ri = np.ascontiguousarray(self.r_inner_mm, dtype=float)
        ro = np.ascontiguousarray(self.r_outer_mm, dtype=float)
        en = np.ascontiguousarray(self.energy_MeV_per_decay, dtype=float)
        if not (ri.ndim == ro.ndim == en.ndim == 1 and ri.size == ro.size == en.size and ri.size):
            raise ValueError("DoseKernel: radii and energies must be 1-D arrays of equal length")
        if not (np.all(np.isfinite(ri)) and np.all(np.isfinite(ro)) and np.all(np.isfinite(en))):
            raise ValueError("DoseKernel: radii and energies must be finite")
        scale = max(float(ro[-1]), 1e-300)
        if abs(ri[0]) > 1e-9 * scale:
            raise ValueError(f"DoseKernel: the first shell must start at r = 0 (got {ri[0]} mm)")
        if np.any(ro <= ri) or np.any(np.abs(ri[1:] - ro[:-1]) > 1e-6 * scale):
            raise ValueError("DoseKernel: shells must be contiguous with r_outer > r_inner")
        if np.any(en < 0) or en.sum() <= 0:
            raise ValueError("DoseKernel: shell energies must be >= 0 with a positive sum")
        if not (self.density_g_cm3 > 0 and math.isfinite(self.density_g_cm3)):
            raise ValueError(f"DoseKernel: density {self.density_g_cm3!r} must be > 0 [g/cm^3]")
        ri, ro, en = ri.copy(), ro.copy(), en.copy()  # private, read-only copies
        ri[0] = 0.0
        arrays = {"r_inner_mm": ri, "r_outer_mm": ro, "energy_MeV_per_decay": en}
        if self.rel_std_err is not None:
            arrays["rel_std_err"] = np.array(self.rel_std_err, dtype=float)
            if arrays["rel_std_err"].shape != en.shape:
                raise ValueError("DoseKernel: rel_std_err must have one value per shell")
        for name, arr in arrays.items():
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    # --- basic quantities -------------------------------------------------------------------
    @property
    def energy_per_decay_MeV(self) -> float:
        """Energy absorbed per decay [MeV]: sum of the shell energies."""
        return float(self.energy_MeV_per_decay.sum())

    @property
    def edges_mm(self) -> np.ndarray:
        """Shell edges [mm], shape (K + 1,)."""
        return np.concatenate(([0.0], self.r_outer_mm))

    @property
    def range_mm(self) -> float:
        """Largest electron range [mm] at this density.

        The CSDA range of the endpoint energy scaled by 1/rho when known (Y-90: 11.3 mm in
        water), otherwise the outer radius of the last non-empty shell.
        """
        if self.csda_range_water_mm is not None:
            return float(self.csda_range_water_mm) / self.density_g_cm3
        nz = np.nonzero(self.energy_MeV_per_decay > 0)[0]
        return float(self.r_outer_mm[nz[-1]])

    @property
    def bremsstrahlung_fraction(self) -> float:
        """Fraction of the emitted beta energy that escapes as bremsstrahlung [1]."""
        emitted = self.emitted_MeV_per_decay or (self.energy_per_decay_MeV + self.bremsstrahlung_MeV_per_decay)
        return float(self.bremsstrahlung_MeV_per_decay / emitted)

    def shell_mass_kg(self) -> np.ndarray:
        """Mass of each shell [kg]."""
        vol_mm3 = 4.0 / 3.0 * np.pi * (self.r_outer_mm**3 - self.r_inner_mm**3)
        return vol_mm3 * self.density_g_cm3 * 1e-6

    def shell_dose_per_decay_Gy(self) -> np.ndarray:
        """Mean dose in each shell per decay [Gy]."""
        return self.energy_MeV_per_decay * J_PER_MEV / self.shell_mass_kg()

    # --- smooth point kernel ----------------------------------------------------------------
    @cached_property
    def _cumulative(self):
        from scipy.interpolate import PchipInterpolator

        cum = np.concatenate(([0.0], np.cumsum(self.energy_MeV_per_decay)))
        return PchipInterpolator(self.edges_mm, cum, extrapolate=False)

    def energy_within_MeV(self, r_mm) -> np.ndarray:
        """Energy absorbed per decay inside a sphere of radius ``r_mm`` [MeV] (monotone cubic)."""
        r = _nonneg(r_mm)
        out = self._cumulative(np.minimum(r, self.r_outer_mm[-1]))
        return np.where(r >= self.r_outer_mm[-1], self.energy_per_decay_MeV, out)

    def cumulative_fraction(self, r_mm) -> np.ndarray:
        """Fraction of the absorbed energy deposited within radius ``r_mm`` [1].

        Monotone cubic (PCHIP [4]_) interpolation of the cumulative shell energies; exact at
        shell edges.
        """
        return np.clip(self.energy_within_MeV(r_mm) / self.energy_per_decay_MeV, 0.0, 1.0)

    def energy_density_MeV_per_mm(self, r_mm) -> np.ndarray:
        """dE/dr: energy absorbed per decay per unit radius [MeV/mm] (derivative of the PCHIP).

        Finite at r = 0 (there it equals the spectrum-averaged stopping power); 0 beyond the
        last shell.
        """
        r = _nonneg(r_mm)
        inside = r < self.r_outer_mm[-1]
        d = self._cumulative(np.where(inside, r, 0.0), nu=1)
        return np.where(inside, np.maximum(d, 0.0), 0.0)

    def dose_per_decay_Gy(self, r_mm) -> np.ndarray:
        """Absorbed dose per decay at distance ``r_mm`` from a point source [Gy].

        D(r) = (dE/dr) / (4 pi r^2 rho), dE/dr from :meth:`energy_density_MeV_per_mm`.
        Near the source the point kernel diverges as 1/r^2; inside the first shell (radius r1)
        it is capped at the mean dose of the sphere of radius r1,
        D(r) = min(D_point(r), E_1 / (rho 4/3 pi r1^3)), which is continuous and gives that
        mean dose at r = 0. The cap affects r < ~r1/sqrt(3) only (0.029 mm for 0.05 mm shells
        in water) and scales with density like the kernel, so the scaling theorem holds at all r.

        Parameters
        ----------
        r_mm : float or ndarray
            Distance [mm], >= 0.

        Returns
        -------
        ndarray
            Dose per decay [Gy], same shape as ``r_mm``.
        """
        r = _nonneg(r_mm)
        rho_kg_mm3 = self.density_g_cm3 * 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            point = self.energy_density_MeV_per_mm(r) * J_PER_MEV / (4.0 * np.pi * r * r * rho_kg_mm3)
        r1 = self.r_outer_mm[0]
        cap = self.energy_MeV_per_decay[0] * J_PER_MEV / (rho_kg_mm3 * 4.0 / 3.0 * np.pi * r1**3)
        return np.where(r < r1, np.minimum(np.nan_to_num(point, nan=np.inf, posinf=np.inf), cap), point)

    def x90_mm(self) -> float:
        """Radius of the sphere holding 90 % of the absorbed energy [mm] (X90)."""
        return self.radius_for_fraction(0.9)

    def radius_for_fraction(self, fraction: float) -> float:
        """Smallest radius within which ``fraction`` of the absorbed energy is deposited [mm]."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction {fraction!r} must lie in (0, 1]")
        target = fraction * self.energy_per_decay_MeV
        roots = self._cumulative.solve(target, extrapolate=False)
        roots = roots[np.isfinite(roots)]
        if roots.size == 0:
            cum = np.concatenate(([0.0], np.cumsum(self.energy_MeV_per_decay)))
            return float(self.edges_mm[np.searchsorted(cum, target * (1 - 1e-12))])
        return float(roots.min())

    # --- transformations --------------------------------------------------------------------
    def scaled(self, density_g_cm3: float) -> "DoseKernel":
        """The kernel in a medium of the same composition at another density.

        D_rho(r) = rho^2 D_w(rho r): shell energies unchanged, radii times rho_old / rho_new.

        Parameters
        ----------
        density_g_cm3 : float
            New density [g/cm^3] (soft tissue 1.04, liver ~1.05-1.06).
        """
        rho = float(density_g_cm3)
        if not (rho > 0 and math.isfinite(rho)):
            raise ValueError(f"density {density_g_cm3!r} must be a positive number [g/cm^3]")
        f = self.density_g_cm3 / rho
        return replace(self, r_inner_mm=self.r_inner_mm * f, r_outer_mm=self.r_outer_mm * f,
                       density_g_cm3=rho)

    def summary(self) -> dict:
        """Key numbers of the kernel (JSON-serialisable).

        Returns
        -------
        dict
            ``nuclide``, ``density_g_cm3``, ``energy_per_decay_MeV`` (absorbed),
            ``emitted_energy_MeV``, ``bremsstrahlung_MeV_per_decay``,
            ``bremsstrahlung_fraction`` (of the emitted energy), ``fraction_within_mm``
            (of the absorbed energy, radii 1, 2, 5, 11 mm at this density), ``x90_mm``,
            ``range_mm``, ``histories``.
        """
        return {
            "nuclide": self.nuclide,
            "density_g_cm3": self.density_g_cm3,
            "energy_per_decay_MeV": self.energy_per_decay_MeV,
            "emitted_energy_MeV": self.emitted_MeV_per_decay,
            "bremsstrahlung_MeV_per_decay": float(self.bremsstrahlung_MeV_per_decay),
            "bremsstrahlung_fraction": self.bremsstrahlung_fraction,
            "fraction_within_mm": {str(r): float(self.cumulative_fraction(float(r)))
                                   for r in SUMMARY_RADII_MM},
            "x90_mm": self.x90_mm(),
            "range_mm": self.range_mm,
            "histories": self.metadata.get("histories"),
        }


def _nonneg(r_mm) -> np.ndarray:
    r = np.asarray(r_mm, dtype=float)
    if np.any(r < 0) or np.any(np.isnan(r)):
        raise ValueError("distance r_mm must be >= 0 [mm]")
    return r


# --- loading ---------------------------------------------------------------------------------
def kernel_file_stem(nuclide: str) -> str:
    """File stem of a shipped charged-particle kernel table, e.g. ``kernel_Y-90_water``."""
    return f"kernel_{normalise_name(nuclide)}_water"


def photon_kernel_file_stem(nuclide: str) -> str:
    """File stem of a shipped photon kernel table, e.g. ``photon_kernel_Y-90_water``."""
    return f"photon_kernel_{normalise_name(nuclide)}_water"


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


_COLUMN = re.compile(r"^(r_inner|r_outer|energy|dose|rel_std_err)(?:_(.+?))?$")
_LENGTH = {"mm": 1.0, "cm": 10.0, "um": 1e-3, "m": 1e3}
_ENERGY = {"MeV_per_decay": 1.0, "keV_per_decay": 1e-3, "J_per_decay": 1.0 / J_PER_MEV,
           "eV_per_decay": 1e-6}
_DOSE = {"Gy_per_decay": 1.0, "mGy_per_decay": 1e-3, "mGy_per_MBq_s": 1e-9, "Gy_per_Bq_s": 1.0}


def load_kernel_csv(path, *, nuclide: str = "user", density_g_cm3: float = 1.0,
                    bremsstrahlung_MeV_per_decay: float = 0.0) -> DoseKernel:
    """Load a user-supplied shell table (CSV, units in the header).

    Columns (any order, header required; lines starting with ``#`` are comments):
    ``r_inner_<mm|cm|um>``, ``r_outer_<...>`` and one of ``energy_<MeV|keV|eV|J>_per_decay``
    or ``dose_<Gy_per_decay|mGy_per_decay|mGy_per_MBq_s|Gy_per_Bq_s>`` (mean dose in the
    shell; converted to energy with the shell mass at ``density_g_cm3``); optionally
    ``rel_std_err``. Example header: ``r_inner_mm,r_outer_mm,energy_MeV_per_decay``.

    Parameters
    ----------
    path : str or Path
        CSV file.
    nuclide : str
        Label stored in the kernel.
    density_g_cm3 : float
        Density of the medium the table is for [g/cm^3].
    bremsstrahlung_MeV_per_decay : float
        Energy escaping per decay, if known [MeV].

    Raises
    ------
    ValueError
        Naming the file and the problem (unknown column or unit, missing column, bad shells).
    """
    path = Path(path)
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: empty kernel table")
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in next(reader)]
    cols, units = {}, {}
    for j, name in enumerate(header):
        m = _COLUMN.match(name)
        if not m:
            raise ValueError(f"{path}: unknown column {name!r} (expected r_inner_mm, r_outer_mm, "
                             "energy_MeV_per_decay or dose_Gy_per_decay, rel_std_err)")
        kind, unit = m.group(1), m.group(2)
        table = {"r_inner": _LENGTH, "r_outer": _LENGTH, "energy": _ENERGY, "dose": _DOSE}.get(kind)
        if table is not None and unit not in table:
            raise ValueError(f"{path}: column {name!r}: unit {unit!r} not one of {sorted(table)}")
        cols[kind], units[kind] = j, (table[unit] if table is not None else 1.0)
    for need in ("r_inner", "r_outer"):
        if need not in cols:
            raise ValueError(f"{path}: missing column {need}_<unit>")
    if ("energy" in cols) == ("dose" in cols):
        raise ValueError(f"{path}: need exactly one of energy_<unit>_per_decay or dose_<unit>")
    try:
        data = np.array([[float(row[j]) for j in range(len(header))] for row in reader], dtype=float)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: non-numeric or short row ({exc})") from None
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"{path}: no data rows")
    ri = data[:, cols["r_inner"]] * units["r_inner"]
    ro = data[:, cols["r_outer"]] * units["r_outer"]
    if "energy" in cols:
        energy = data[:, cols["energy"]] * units["energy"]
    else:
        mass_kg = 4.0 / 3.0 * np.pi * (ro**3 - ri**3) * density_g_cm3 * 1e-6
        energy = data[:, cols["dose"]] * units["dose"] * mass_kg / J_PER_MEV
    rse = data[:, cols["rel_std_err"]] if "rel_std_err" in cols else None
    try:
        return DoseKernel(nuclide=nuclide, r_inner_mm=ri, r_outer_mm=ro, energy_MeV_per_decay=energy,
                          density_g_cm3=float(density_g_cm3), rel_std_err=rse,
                          bremsstrahlung_MeV_per_decay=float(bremsstrahlung_MeV_per_decay),
                          metadata={"source": str(path)})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_kernel_files(kernel: DoseKernel, directory, stem: str | None = None) -> tuple[Path, Path]:
    """Write a kernel as ``<stem>.csv`` (shells) and ``<stem>.json`` (metadata).

    Returns
    -------
    (Path, Path)
        The CSV and JSON paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = stem or kernel_file_stem(kernel.nuclide)
    csv_path, json_path = directory / f"{stem}.csv", directory / f"{stem}.json"
    rse = kernel.rel_std_err if kernel.rel_std_err is not None else np.full(kernel.r_inner_mm.size, np.nan)
    buf = io.StringIO()
    what = kernel.metadata.get("kernel", "beta")
    buf.write(f"# {kernel.nuclide} dose point kernel ({what}), liquid water {kernel.density_g_cm3} "
              f"g/cm^3; metadata in {json_path.name}\n")
    buf.write("r_inner_mm,r_outer_mm,energy_MeV_per_decay,rel_std_err\n")
    for a, b, e, s in zip(kernel.r_inner_mm, kernel.r_outer_mm, kernel.energy_MeV_per_decay, rse):
        buf.write(f"{a:.4f},{b:.4f},{e:.6e},{s:.3e}\n")
    meta = dict(kernel.metadata)
    meta.update({"nuclide": kernel.nuclide, "density_g_cm3": kernel.density_g_cm3,
                 "energy_per_decay_MeV": kernel.energy_per_decay_MeV,
                 "bremsstrahlung_MeV_per_decay": kernel.bremsstrahlung_MeV_per_decay,
                 "emitted_MeV_per_decay": kernel.emitted_MeV_per_decay,
                 "csda_range_endpoint_water_mm": kernel.csda_range_water_mm,
                 "summary": kernel.summary()})
    tmp_csv, tmp_json = csv_path.with_suffix(".csv.tmp"), json_path.with_suffix(".json.tmp")
    tmp_csv.write_text(buf.getvalue())
    tmp_json.write_text(json.dumps(meta, indent=2, default=float) + "\n")
    tmp_csv.replace(csv_path)
    tmp_json.replace(json_path)
    return csv_path, json_path
