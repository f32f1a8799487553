"""Space-filling arterial tree growth: stratified terminals, angular BSP, Murray radii.

Method
------
1. Terminals (portal tracts) are placed by stratified (jittered-lattice) sampling: the domain
   is cut into cubic cells of volume ``terminal_mass_mg / density`` (lattice randomly rotated
   and shifted); every cell whose centre lies in the domain holds one terminal, jittered
   inside its cell and inside its region.
   Each terminal owns its cell; the masses of a region's terminals are then scaled so that
   they add up to the region's geometric mass (:func:`geometric_masses`). Tumours get their
   own lattice (own terminal mass) and region id.
2. Topology and geometry come from a top-down binary space partition of the terminal set.
   A cell (a convex region with its terminals) is entered at a point E; it is cut by a plane
   *through E* (rotated about a line through E on the cell's entry face, across the cell's
   principal axis) so that the two sides carry a demand share s : 1 - s, with the minor share
   s drawn from 0.5 * Beta(a, b) (branch asymmetry). The branch point B lies on that plane,
   strictly inside the cell (between the two sides' flow-weighted centroids, pulled towards E).
   The segment E -> B thus lies on the interface of the two child cells and every deeper
   segment lies in the *open* child cells: segments of distinct subtrees cannot intersect,
   in exact arithmetic, for any domain shape. Cost O(N log^2 N), memory O(N).
3. Radii: terminal demand Q = mass x vascularity, split with fractal perfusion heterogeneity
   (:mod:`sim.tree.heterogeneity`; off with ``flow_rd_1g = 0``). Bottom-up reduced resistances give the
   daughter radius ratio r1/r2 = (Q1 R*1 / (Q2 R*2))^(1/4) (Karch et al. 1999), Murray's law
   r_p^k = r1^k + r2^k fixes both; a top-down pass scales everything to the root radius. A
   Poiseuille solve with equal terminal pressures and constant viscosity then reproduces the
   demanded flows exactly.

Relation to published methods: the top-down partition of a pre-placed terminal set is close to
the recursive bisection used for hepatic trees by Schwen & Preusser (2012) and to the
territory splitting of macrocell methods (Kretowski et al. 2003; Crookston et al. 2019); the
radius assignment is that of constrained constructive optimisation (Karch et al. 1999). Unlike
CCO / GCO (Georg et al. 2010) no cost function (volume, power) is optimised: branch points are
placed by a geometric rule, and branching angles are not optimal. Unlike CCO, terminals are
placed first (exact territories) and non-intersection is guaranteed by construction instead of
by a collision test. Vessel centerlines are straight chords; they can leave a non-convex domain.

References
----------
Karch R, Neumann F, Neumann M, Schreiner W. Comput Biol Med 1999;29:19-38.
Schwen LO, Preusser T. PLoS ONE 2012;7:e44102.
Kretowski M, Rolland Y, Bezy-Wendling J, Coatrieux JL. Comput Methods Programs Biomed
2003;70:129-136.
Crookston NR, Fung GSK, Frey EC. IEEE Trans Radiat Plasma Med Sci 2019;3:31-46.
Georg M, Preusser T, Hahn HK. IEEE ISBI 2010:1021-1024.
Murray CD. PNAS 1926;12:207-214.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dosimetry.constants import LIVER_DENSITY_G_CM3
from sim.tree import _kernels as _k
from sim.tree.arrays import TreeArrays, from_parent
from sim.tree.domains import Ellipsoid, vec3 as _vec3
from sim.tree.heterogeneity import (DEFAULT_FRACTAL_DIMENSION, DEFAULT_RD_1G,
                                    heterogeneous_flows)
from sim.tree.tissue import TissueGeometry
from sim.tree.trunks import DEFAULT_SIDE_BRANCH_SPACING, trunk_topology

__all__ = ["Tumour", "check_tumour_parameters", "grow_tree", "place_terminals", "geometric_masses",
           "DEFAULT_TUMOUR_VASCULARITY"]

#: Default tumour flow-per-mass multiplier. T/N = 3 is the partition-model value of the worked
#: example of the partition model (docs/physics.md, "Planning models") and lies inside the range of 99mTc-MAA T/N ratios of HCC
#: (Ho S et al. Eur J Nucl Med 1996;23:947); it is a convention, not a fit.
DEFAULT_TUMOUR_VASCULARITY = 3.0


def check_tumour_parameters(vascularity, terminal_mass_mg) -> None:
    """ValueError unless vascularity > 0 and terminal_mass_mg is None or > 0."""
    if not vascularity > 0:
        raise ValueError("tumour vascularity must be > 0")
    if terminal_mass_mg is not None and not terminal_mass_mg > 0:
        raise ValueError("tumour terminal_mass_mg must be > 0")


@dataclasses.dataclass(frozen=True)
class Tumour:
    """Spherical or ellipsoidal tumour (axis-aligned).

    radius_mm : scalar (sphere) or 3 semi-axes [mm]. terminal_mass_mg : tissue per terminal
    [mg] (default: the normal liver's). vascularity : flow-per-mass multiplier relative to
    normal liver (default :data:`DEFAULT_TUMOUR_VASCULARITY`).
    """

    centre_mm: tuple
    radius_mm: float | tuple
    terminal_mass_mg: float | None = None
    vascularity: float = DEFAULT_TUMOUR_VASCULARITY

    def __post_init__(self):
        check_tumour_parameters(self.vascularity, self.terminal_mass_mg)

    @property
    def shape(self) -> Ellipsoid:
        return Ellipsoid(self.centre_mm, self.radius_mm)


def _as_rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _random_rotation(rng):
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _lattice_points(lo, hi, h, inside, jitter, rng, max_tries=32):
    """One jittered point per cubic cell (side h) whose centre satisfies ``inside``.

    The lattice gets a random rotation and offset: the cell count is then an unbiased
    estimate of volume / h^3 for any shape, without the +-1 layer granularity an
    axis-aligned lattice has on axis-aligned faces.
    """
    rot = _random_rotation(rng)  # world = c0 + rot @ u
    c0 = 0.5 * (lo + hi)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])
    u = (corners - c0) @ rot
    ulo = u.min(axis=0) - h + rng.uniform(0.0, h, size=3)
    nu = (np.ceil((u.max(axis=0) + h - ulo) / h).astype(np.int64) + 1).tolist()
    ga, gb = np.meshgrid((np.arange(nu[0]) + 0.5) * h + ulo[0],
                         (np.arange(nu[1]) + 0.5) * h + ulo[1], indexing="ij")
    ga, gb = ga.ravel(), gb.ravel()
    out = []
    for k in range(nu[2]):  # slab by slab keeps memory at one layer of candidates
        uc = np.stack([ga, gb, np.full(ga.shape, (k + 0.5) * h + ulo[2])], axis=1)
        c = c0 + uc @ rot.T
        c = c[inside(c)]
        if c.shape[0]:
            out.append(c)
    if not out:
        return np.zeros((0, 3))
    centres = np.concatenate(out)
    pts = centres.copy()
    todo = np.arange(centres.shape[0])
    for _ in range(max_tries):
        if todo.size == 0:
            break
        cand = centres[todo] + (jitter * h * (rng.random((todo.size, 3)) - 0.5)) @ rot.T
        ok = inside(cand)
        pts[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return pts  # cells still in ``todo`` keep their (inside) centre


def place_terminals(domain, *, terminal_mass_mg=1.0, tissue_density_g_cm3=LIVER_DENSITY_G_CM3,
                    tumours=(), jitter=0.75, rng=None):
    """Stratified terminal points: returns ``points_mm`` (n, 3), ``region`` (n,) int32 and
    ``mass_mg`` (n,). Cell side h = (mass / density)^(1/3) [mm] (1 g/cm^3 = 1 mg/mm^3)."""
    rng = _as_rng(rng)
    if not terminal_mass_mg > 0 or not tissue_density_g_cm3 > 0:
        raise ValueError("terminal_mass_mg and tissue_density_g_cm3 must be > 0")
    if not 0.0 < jitter <= 1.0:
        raise ValueError("jitter must lie in (0, 1]")
    shapes = [t.shape for t in tumours]

    def in_tumour(p, upto):
        hit = np.zeros(p.shape[0], bool)
        for s in shapes[:upto]:
            hit |= s.contains(p)
        return hit

    lo, hi = domain.bounds()
    h = (terminal_mass_mg / tissue_density_g_cm3) ** (1.0 / 3.0)
    pts = [_lattice_points(lo, hi, h, lambda p: domain.contains(p) & ~in_tumour(p, len(shapes)),
                           jitter, rng)]
    reg = [np.zeros(pts[0].shape[0], np.int32)]
    mass = [np.full(pts[0].shape[0], float(terminal_mass_mg))]
    for k, (t, s) in enumerate(zip(tumours, shapes), start=1):
        m = terminal_mass_mg if t.terminal_mass_mg is None else t.terminal_mass_mg
        hk = (m / tissue_density_g_cm3) ** (1.0 / 3.0)
        tlo, thi = s.bounds()
        tlo, thi = np.maximum(tlo, lo), np.minimum(thi, hi)
        if np.any(thi <= tlo):
            raise ValueError(f"tumour {k} lies outside the domain")
        p = _lattice_points(tlo, thi, hk,
                            lambda q, s=s, k=k: domain.contains(q) & s.contains(q)
                            & ~in_tumour(q, k - 1), jitter, rng)
        pts.append(p)
        reg.append(np.full(p.shape[0], k, np.int32))
        mass.append(np.full(p.shape[0], float(m)))
    return np.concatenate(pts), np.concatenate(reg), np.concatenate(mass)


def geometric_masses(mass_mg, region, geometry) -> np.ndarray:
    """Terminal masses scaled per region so that each region's total is its geometric mass.

    The jittered lattice gives every terminal the nominal cell mass; the number of cells of a
    region fluctuates by a fraction of a per cent around volume / cell volume. Scaling makes
    the tree's mass that of the tissue it stands for, so the mass of a compartment on the dose
    grid (geometry with voxel fractions) equals the tree's.

    Raises
    ------
    ValueError
        A region of the geometry (a tumour) holds no terminal.
    """
    target = geometry.region_masses_mg()
    out = np.asarray(mass_mg, dtype=float).copy()
    for k, m in enumerate(target):
        sel = region == k
        if not sel.any():
            if m > 0:
                raise ValueError(f"{'normal liver' if k == 0 else f'tumour {k}'} "
                                 f"({m:.3g} mg) holds no terminal: make it larger than one "
                                 "terminal's cell or lower its terminal_mass_mg")
            continue
        out[sel] *= m / out[sel].sum()
    return out


def grow_tree(
    *,
    domain,
    root_xyz_mm,
    root_radius_um: float,
    terminal_mass_mg: float = 1.0,
    tissue_density_g_cm3: float = LIVER_DENSITY_G_CM3,
    murray_exponent: float = 3.0,
    tumours=(),
    minor_share_beta=(2.0, 1.0),
    jitter: float = 0.75,
    branch_pull: float = 0.5,
    flow_rd_1g: float = DEFAULT_RD_1G,
    flow_fractal_dimension: float = DEFAULT_FRACTAL_DIMENSION,
    branching: str = "partition",
    side_branch_spacing: float = DEFAULT_SIDE_BRANCH_SPACING,
    rng=None,
) -> TreeArrays:
    """Grow a binary arterial tree filling ``domain`` down to terminal arterioles.

    Parameters
    ----------
    domain : :class:`Ellipsoid`, :class:`Box` or :class:`VoxelMask` (see :func:`load_mask`).
    root_xyz_mm : (3,) [mm], inlet point (e.g. the hilum; may lie outside the domain).
    root_radius_um : float [um], radius of the root segment.
    terminal_mass_mg : float [mg], tissue per terminal (~1 portal tract per mg: Högberg et
        al. EJNMMI Res 2014).
    tissue_density_g_cm3 : float [g/cm^3].
    murray_exponent : float k in r_p^k = sum r_c^k (default 3).
    tumours : sequence of :class:`Tumour`; tumour k (1-based) gets region k.
    minor_share_beta : (a, b), the minor daughter's demand share is 0.5 * Beta(a, b); the
        default (2, 1) has mean 1/3 and rarely goes below 0.1. A modelling choice (asymmetric
        branching as described by Zamir M, J Gen Physiol 1978;72:837), not fitted to data.
    jitter : float in (0, 1], terminal jitter as a fraction of the cell side.
    branch_pull : float in (0, 1], branch point position from the entry point (0) to the
        crossing of the centroid line with the cut plane (1).
    flow_rd_1g, flow_fractal_dimension : float
        Perfusion heterogeneity: relative dispersion of flow per mass in 1 g pieces and its
        fractal dimension (:mod:`sim.tree.heterogeneity`); ``flow_rd_1g = 0`` gives flows
        exactly proportional to mass x vascularity.
    branching : {"partition", "trunks"}
        Topology: the binary space partition of this module (shallow trees, ~20-25
        bifurcations to a terminal at 1e5 terminals), or side branches shed along long trunks
        (deep trees as grown by CCO, ~200 at 2.3e5 terminals: :mod:`sim.tree.trunks`;
        ``minor_share_beta`` and ``branch_pull`` are not used).
    side_branch_spacing : float
        Trunks only: slab thickness along a trunk in terminal cell sides [1] (one side
        branch on each side of the trunk per slab).
    rng : int seed or numpy Generator.

    Returns
    -------
    TreeArrays, DFS preorder; with ``partition`` the first daughter of a bifurcation is the
    one with fewer terminals. See the module docstring for the method and its references.
    """
    rng = _as_rng(rng)
    if not root_radius_um > 0 or not murray_exponent > 0:
        raise ValueError("root_radius_um and murray_exponent must be > 0")
    if not 0.0 < branch_pull <= 1.0:
        raise ValueError("branch_pull must lie in (0, 1]")
    a, b = (float(v) for v in minor_share_beta)
    if not (a > 0 and b > 0):
        raise ValueError("minor_share_beta parameters must be > 0")
    root = _vec3(root_xyz_mm, "root_xyz_mm")
    pts, reg, mass = place_terminals(
        domain, terminal_mass_mg=terminal_mass_mg, tissue_density_g_cm3=tissue_density_g_cm3,
        tumours=tumours, jitter=jitter, rng=rng,
    )
    n = pts.shape[0]
    if n == 0:
        raise ValueError("no terminal fits in the domain: lower terminal_mass_mg")
    mass = geometric_masses(mass, reg, TissueGeometry.of(domain, tumours, tissue_density_g_cm3))
    vasc = np.ones(len(tumours) + 1)
    vasc[1:] = [t.vascularity for t in tumours]
    demand = mass * vasc[reg]
    if branching == "trunks":
        cell_mm = (terminal_mass_mg / tissue_density_g_cm3) ** (1.0 / 3.0)
        parent, prox, dist, term_of = trunk_topology(pts, demand, root,
                                                     side_branch_spacing * cell_mm, rng)
    elif branching == "partition":
        minor = np.clip(0.5 * rng.beta(a, b, size=n), 1e-6, 0.5)
        side = rng.random(n) < 0.5
        parent, prox, dist, term_of = _k.grow_bsp(
            np.ascontiguousarray(pts), demand, root, minor, side, float(branch_pull)
        )
    else:
        raise ValueError(f"branching {branching!r} is not 'partition' or 'trunks'")
    nseg = parent.shape[0]
    is_t = term_of >= 0
    seg_region = np.zeros(nseg, np.int32)
    seg_region[is_t] = reg[term_of[is_t]]
    seg_mass = np.zeros(nseg)
    seg_mass[is_t] = mass[term_of[is_t]]
    seg_demand = np.zeros(nseg)
    seg_demand[is_t] = demand[term_of[is_t]]
    tree = from_parent(parent, np.ones(nseg), prox, dist, _k.common_region(parent, seg_region),
                       seg_mass)
    q = heterogeneous_flows(tree, _k.subtree_sum(tree.parent, seg_demand), rd_1g=flow_rd_1g,
                            fractal_dimension=flow_fractal_dimension, rng=rng)
    # zero-length chords would give zero resistance; floor them far below any real length
    length = np.maximum(tree.length_mm, 1e-9 * float(np.ptp(pts, axis=0).max() + 1.0))
    beta = _k.murray_radius_ratios(tree.parent, tree.child_start, tree.child_index, length,
                                   q, float(murray_exponent))
    radius = _k.radii_from_ratios(tree.parent, beta, float(root_radius_um))
    return dataclasses.replace(tree, radius_um=_ro(radius), length_mm=_ro(length))


def _ro(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a
