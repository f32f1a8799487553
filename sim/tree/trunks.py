"""Deep arterial trees: side branches shed along long trunks (``branching = "trunks"``).

Why
---
Trees grown by constrained constructive optimisation (CCO) or macrocell growth are deep and
asymmetric: every new terminal joins the nearest large vessel, so trunks carry long rows of
small side branches. The published C++ hepatic model (Crookston et al. 2019) has a mean of
~220 bifurcations from root to terminal (SD ~90, max ~500) at 2.3e5 terminals and ~435 at
1.85e6, where the space-partition trees of :mod:`sim.tree.growth` have ~20-25. CCO trees owe
this to their "very asymmetric bifurcations, occurring when a large branch gives off a tiny
terminal segment" (Schreiner et al. 1997); measured arterial trees have the same pattern:
vessels of one order give off side branches of every lower order along their length, at
measurable longitudinal positions (Kassab et al. 1993, connectivity matrix; Kassab et al.
1997, longitudinal position matrix), and their distribution of branches is highly
nonuniform, with a variability of the asymmetry ratio that symmetric fractal rules do not
reproduce (Zamir 2001).

Method
------
Terminals are placed as for the partition trees (stratified, exact masses). A cell (a set of
terminals entered at a point E; the first is the whole domain entered at the root point) gets
a trunk along its principal axis, oriented into the cell. Its terminals are cut into slabs of
thickness ``spacing`` across the trunk and every slab of two or more terminals into two halves
on either side of the trunk (at a random angle). Each half-slab is a side branch, leaving the
trunk at a branch point on the axis level with the half-slab's centroid; the branches leave in
the order of their positions along the trunk, and the farthest one continues it. Every side
branch is a new cell, so a side branch of the main trunk (a thin slab) has its own trunk
crossing the slab, whose side branches (strips) have trunks shedding single terminals.

A terminal's depth is the number of branch points it passes on each trunk, so depth grows
with the length of trunks in units of ``spacing``: as n^(1/3) for n terminals in a fixed shape
(Crookston's trees: 221 -> ~435 for 8x the terminals, i.e. 8^(1/3) = 2). The default spacing,
0.75 terminal cell sides, was chosen so that a liver-shaped ellipsoid (semi-axes 1.5 : 1 : 0.8,
1 mg terminals) of 2.3e5 terminals has Crookston's mean: measured 220 bifurcations (SD 75, max
368; seed 1), and 447 (SD 151, max 750) at 1.85e6 terminals, grown in 0.4 s and 7.0 s with a
peak RSS of 0.38 GB and 1.26 GB (``benchmarks/tree.py --deep``). The spread of depths is
narrower than Crookston's (SD 90, max ~500 at 2.3e5). A side branch leaves its trunk at least
half a spacing before its centroid, so terminal segments keep a finite length. Radii, flows and
regions follow as for every grown tree (Karch et al. 1999 radius ratios, Murray's law).

Stated simplifications: branch points lie on straight trunks (no tortuosity); branch angles are
not optimised; unlike the partition trees, non-intersection of vessels is not guaranteed
(branches of one trunk leave in disjoint half-slabs, so crossings are rare).

References
----------
Crookston NR, Fung GSK, Frey EC. IEEE Trans Radiat Plasma Med Sci 2019;3:31-46.
Schreiner W, Buxbaum PF. IEEE Trans Biomed Eng 1993;40:482-491.
Schreiner W, Neumann F, Neumann M, Karch R, End A, Roedler SM. J Gen Physiol
1997;109:129-140.
Karch R, Neumann F, Neumann M, Schreiner W. Comput Biol Med 1999;29:19-38.
Kassab GS, Rider CA, Tang NJ, Fung YC. Am J Physiol 1993;265:H350-H365.
Kassab GS, Pallencaoe E, Schatz A, Fung YC. Am J Physiol 1997;273:H2832-H2842.
Zamir M. J Gen Physiol 2001;118:267-275.
"""
from __future__ import annotations

import numpy as np

from sim.tree import _trunk_kernels as _tk

__all__ = ["trunk_topology", "DEFAULT_SIDE_BRANCH_SPACING"]

#: Slab thickness along a trunk [terminal cell sides]: chosen so that a liver-shaped tree of
#: 2.3e5 terminals has Crookston's mean of ~220 bifurcations to a terminal.
DEFAULT_SIDE_BRANCH_SPACING = 0.75


def trunk_topology(points_mm, demand, root_xyz_mm, spacing_mm, rng):
    """Topology and geometry of a trunk tree over terminal points (see the module notes).

    Parameters
    ----------
    points_mm : (n, 3) float [mm], terminal points.
    demand : (n,) float, terminal flow demands (> 0).
    root_xyz_mm : (3,) float [mm], inlet point.
    spacing_mm : float [mm], slab thickness along a trunk (> 0).
    rng : numpy.random.Generator, source of the slab orientations.

    Returns
    -------
    parent, proximal_mm, distal_mm, terminal_of: as :func:`sim.tree._kernels.grow_bsp`.
    """
    if not spacing_mm > 0:
        raise ValueError("side-branch spacing must be > 0")
    seed = np.uint64(rng.integers(0, 2**63 - 1))
    return _tk.grow_trunks(np.ascontiguousarray(points_mm, dtype=np.float64),
                           np.ascontiguousarray(demand, dtype=np.float64),
                           np.asarray(root_xyz_mm, dtype=np.float64), float(spacing_mm), seed)
