"""The tissue a grown tree perfuses: its domain (the liver, or the part of it modelled) and
its tumours, as geometry.

The dose stage labels voxels (with fractions at boundaries) and spheres with it, and the tree's
terminal masses are scaled so that each region's mass equals its geometric mass: the mass on
the dose grid then equals the tree's mass (docs/physics.md, "Compartments").
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import qmc

from sim.tree.domains import Ellipsoid

__all__ = ["TissueGeometry", "OUTSIDE"]

#: Label of points outside the domain.
OUTSIDE = -1


@dataclasses.dataclass(frozen=True, eq=False)
class TissueGeometry:
    """Domain and tumours of a grown tree.

    Attributes
    ----------
    domain : Ellipsoid, Box or VoxelMask
    tumours : tuple of Ellipsoid
        Tumour k (1-based) is ``tumours[k - 1]``; where tumours overlap the lower index wins
        (as in terminal placement).
    density_g_cm3 : float
        Tissue density [g/cm^3].
    """

    domain: object
    tumours: tuple = ()
    density_g_cm3: float = 1.06

    def label(self, p) -> np.ndarray:
        """Region of each point (N, 3) [mm]: -1 outside the domain, 0 normal liver, k tumour k
        (int32)."""
        p = np.asarray(p, dtype=float).reshape(-1, 3)
        out = np.where(self.domain.contains(p), 0, OUTSIDE).astype(np.int32)
        for k in range(len(self.tumours), 0, -1):  # lower index last: it wins overlaps
            out[(out >= 0) & self.tumours[k - 1].contains(p)] = k
        return out

    def near_boundary(self, p, dist_mm) -> np.ndarray:
        """True where the domain's or a tumour's surface may lie within ``dist_mm``."""
        p = np.asarray(p, dtype=float).reshape(-1, 3)
        near = self.domain.near_surface(p, dist_mm)
        for t in self.tumours:
            near |= t.near_surface(p, dist_mm)
        return near

    def region_volumes_mm3(self, qmc_points: int = 1 << 20) -> np.ndarray:
        """Volume of every region [mm^3]: index 0 normal liver, k tumour k.

        Tumours wholly inside the domain and apart from each other have their exact volume;
        otherwise a deterministic quasi-Monte Carlo estimate over the tumour's bounding box
        (Sobol points, unscrambled: relative error ~1e-5).
        """
        vols = np.zeros(len(self.tumours) + 1)
        for k, t in enumerate(self.tumours, start=1):
            lo, hi = t.bounds()
            pts = lo + (hi - lo) * qmc.Sobol(3, scramble=False).random(qmc_points)[1:]
            inside = t.contains(pts)
            mine = inside & (self.label(pts) == k)
            if np.array_equal(mine, inside):
                vols[k] = t.volume_mm3
            else:
                vols[k] = float(np.prod(hi - lo)) * mine.sum() / pts.shape[0]
        vols[0] = self.domain.volume_mm3 - vols[1:].sum()
        return vols

    def warnings(self, qmc_points: int = 1 << 16) -> list[str]:
        """Tumours that reach out of the domain (the part outside is not tissue here)."""
        out = []
        for k, t in enumerate(self.tumours, start=1):
            lo, hi = t.bounds()
            pts = lo + (hi - lo) * qmc.Sobol(3, scramble=False).random(qmc_points)[1:]
            inside = t.contains(pts)
            outside = float(np.mean(~self.domain.contains(pts[inside]))) if inside.any() else 0.0
            if outside > 0.01:
                out.append(f"tumour {k} extends outside the domain: {100 * outside:.0f} % of its "
                           "volume lies outside and is not modelled")
        return out

    def region_masses_mg(self) -> np.ndarray:
        """Mass of every region [mg] (1 g/cm^3 = 1 mg/mm^3)."""
        return self.region_volumes_mm3() * self.density_g_cm3

    @staticmethod
    def of(domain, tumours=(), density_g_cm3: float = 1.06) -> "TissueGeometry":
        """From a domain and tumour objects with a ``shape`` (or Ellipsoid shapes)."""
        shapes = tuple(t if isinstance(t, Ellipsoid) else t.shape for t in tumours)
        return TissueGeometry(domain, shapes, float(density_g_cm3))
