"""The tissue of a results file as histology needs it: which region a point lies in, and a box
holding the liver.

A grown tree's scenario carries its geometry (domain and tumours,
:func:`sim.tree.build.tissue_geometry`). Trees without one (the teaching tree, trees read from
files) get an approximate tissue from their terminals: a point is liver when a terminal lies
within ``reach`` x the radius of a ball of one terminal's tissue volume, and takes that
terminal's region (simplification: the outline follows the terminals, to within about one
terminal territory).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from sim.tree.build import tissue_geometry
from sim.tree.tissue import OUTSIDE

__all__ = ["Tissue", "tissue_of"]


class Tissue:
    """Regions and bounds of the tissue: ``label(points)`` (-1 outside, 0 normal, k tumour k),
    ``bounds`` (lo, hi) [mm], ``tumours`` (Ellipsoid shapes; empty without a geometry),
    ``density_g_cm3`` and ``source`` (``"geometry"`` or ``"terminals"``)."""

    def __init__(self, label, bounds, tumours, density_g_cm3, source):
        self.label = label
        self.bounds = bounds
        self.tumours = tuple(tumours)
        self.density_g_cm3 = float(density_g_cm3)
        self.source = source


def _from_terminals(tree, density_g_cm3, reach=1.5) -> Tissue:
    term = np.flatnonzero(tree.is_terminal)
    xyz = np.asarray(tree.distal_mm, dtype=float)[term]
    mass = np.asarray(tree.terminal_mass_mg, dtype=float)[term]
    r_ball = (3.0 * mass / density_g_cm3 / (4.0 * np.pi)) ** (1.0 / 3.0)
    region = np.asarray(tree.region)[term].astype(np.int32)
    kd = cKDTree(xyz)

    def label(p):
        d, i = kd.query(np.asarray(p, dtype=float).reshape(-1, 3), k=1)
        return np.where(d <= reach * r_ball[i], region[i], OUTSIDE).astype(np.int32)

    pad = reach * float(r_ball.max())
    return Tissue(label, (xyz.min(axis=0) - pad, xyz.max(axis=0) + pad), (), density_g_cm3,
                  "terminals")


def tissue_of(results) -> Tissue:
    """The tissue of a :class:`sim.results.Results` (its scenario's geometry, else its
    tree's terminals)."""
    scenario = results.scenario()
    rho = scenario.tissue_density_g_cm3
    geom = tissue_geometry(scenario.tree) if scenario.tree is not None else None
    if geom is not None:
        lo, hi = geom.domain.bounds()
        return Tissue(geom.label, (np.asarray(lo, float), np.asarray(hi, float)), geom.tumours,
                      rho, "geometry")
    return _from_terminals(results.tree(), rho)
