"""The dose point kernel data model: a radial shell table with its energy bookkeeping,
interpolation of the dose per decay, density scaling and summary numbers (loaders in
:mod:`dosimetry.kernels`, files in :mod:`dosimetry.kernel_io`).

References
----------
.. [1] Cross WG, Freedman NO, Wong PY. Beta-ray dose distributions from point sources in an
       infinite water medium. Health Phys 1992;63:160 (scaled kernels, density scaling).
.. [2] Fritsch FN, Carlson RE. Monotone piecewise cubic interpolation. SIAM J Numer Anal
       1980;17:238 (PCHIP, used for the cumulative energy).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
import math

import numpy as np
from scipy.interpolate import PchipInterpolator

from dosimetry.constants import J_PER_MEV

__all__ = ["DoseKernel", "SUMMARY_RADII_MM"]

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
