"""Arterial tree as a struct of arrays, plus the teaching (complete bifurcating) tree.

Nodes are segments. Segment ``i`` runs from ``proximal_mm[i]`` to ``distal_mm[i]``; its parent
is ``parent[i]`` (-1 for the root); nodes are in a topological order (``parent[i] < i``) so
flow accumulation is one reverse pass. Children are stored CSR-style: the children of ``i`` are
``child_index[child_start[i]:child_start[i + 1]]``, in increasing index order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim import _tree_kernels as _k

#: Classic lobule (Gulec et al. 2010): hexagonal prism, apothem 0.6 mm, height 1.5 mm.
LOBULE_APOTHEM_MM = 0.6
LOBULE_HEIGHT_MM = 1.5
LOBULE_VOLUME_MM3 = 2.0 * np.sqrt(3.0) * LOBULE_APOTHEM_MM**2 * LOBULE_HEIGHT_MM  # 1.8706
LIVER_DENSITY_G_CM3 = 1.06


@dataclasses.dataclass(frozen=True, eq=False)
class TreeArrays:
    """Arterial tree, one row per segment (read-only arrays).

    Attributes
    ----------
    parent : (N,) int64, parent segment, -1 for the root.
    child_start : (N+1,) int64 and child_index : (N-1,) int64, CSR children.
    radius_um : (N,) float64 [um].
    length_mm : (N,) float64 [mm], hemodynamic length (may exceed the chord, see
        :func:`bifurcating_tree`).
    proximal_mm, distal_mm : (N, 3) float64 [mm], segment end points.
    is_terminal : (N,) bool, no children.
    region : (N,) int32, 0 normal liver, k tumour k (for internal segments: the common region
        of all terminals below, else 0).
    terminal_mass_mg : (N,) float64 [mg], tissue perfused by each terminal, 0 elsewhere.
    depth : (N,) int32, root 0.
    """

    parent: np.ndarray
    child_start: np.ndarray
    child_index: np.ndarray
    radius_um: np.ndarray
    length_mm: np.ndarray
    proximal_mm: np.ndarray
    distal_mm: np.ndarray
    is_terminal: np.ndarray
    region: np.ndarray
    terminal_mass_mg: np.ndarray
    depth: np.ndarray

    @property
    def n_segments(self) -> int:
        return int(self.parent.shape[0])

    @property
    def terminals(self) -> np.ndarray:
        """Indices of the terminal segments [int64]."""
        return np.flatnonzero(self.is_terminal)

    def children(self, i: int) -> np.ndarray:
        return self.child_index[self.child_start[i] : self.child_start[i + 1]]


def _frozen(a, dtype, shape=None):
    a = np.ascontiguousarray(a, dtype=dtype).copy()
    if shape is not None and a.shape != shape:
        raise ValueError(f"expected shape {shape}, got {a.shape}")
    a.flags.writeable = False
    return a


def from_parent(
    parent,
    radius_um,
    proximal_mm,
    distal_mm,
    region=None,
    terminal_mass_mg=None,
    *,
    length_mm=None,
    return_order=False,
):
    """Validate arrays and build a :class:`TreeArrays` (n-ary allowed).

    Parameters
    ----------
    parent : (N,) int, parent index, exactly one -1 (the root).
    radius_um : (N,) float [um], > 0.
    proximal_mm, distal_mm : (N, 3) float [mm].
    region : (N,) int, optional (default 0).
    terminal_mass_mg : (N,) float [mg], optional (default 0); must be 0 on internal segments.
    length_mm : (N,) float [mm], optional hemodynamic length; default the chord
        ``|distal - proximal|``.
    return_order : bool
        Also return ``order`` such that new row ``j`` is input row ``order[j]``.

    Notes
    -----
    If the input is not in topological order it is reordered by (depth, input index): a stable
    breadth-first order. Cycles and nodes not connected to the root are errors.
    """
    parent = np.asarray(parent)
    if parent.ndim != 1 or parent.shape[0] == 0:
        raise ValueError("parent must be a non-empty 1-D array")
    if not np.issubdtype(parent.dtype, np.integer):
        raise ValueError("parent must hold integers")
    parent = parent.astype(np.int64)
    n = parent.shape[0]
    if np.any((parent < -1) | (parent >= n)):
        raise ValueError("parent indices must lie in [-1, N)")
    roots = np.flatnonzero(parent < 0)
    if roots.size != 1:
        raise ValueError(f"a tree needs exactly one root (parent -1), found {roots.size}")
    radius_um = np.asarray(radius_um, dtype=np.float64)
    proximal_mm = np.asarray(proximal_mm, dtype=np.float64)
    distal_mm = np.asarray(distal_mm, dtype=np.float64)
    region = np.zeros(n, np.int32) if region is None else np.asarray(region)
    terminal_mass_mg = np.zeros(n) if terminal_mass_mg is None else np.asarray(terminal_mass_mg)
    for name, arr, shape in (
        ("radius_um", radius_um, (n,)),
        ("proximal_mm", proximal_mm, (n, 3)),
        ("distal_mm", distal_mm, (n, 3)),
        ("region", region, (n,)),
        ("terminal_mass_mg", terminal_mass_mg, (n,)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(radius_um)) or np.any(radius_um <= 0):
        raise ValueError("radius_um must be finite and > 0")
    if not (np.all(np.isfinite(proximal_mm)) and np.all(np.isfinite(distal_mm))):
        raise ValueError("segment end points must be finite")
    if length_mm is not None:
        length_mm = np.asarray(length_mm, dtype=np.float64)
        if length_mm.shape != (n,) or np.any(~np.isfinite(length_mm)) or np.any(length_mm < 0):
            raise ValueError("length_mm must have shape (N,), be finite and >= 0")

    order = np.arange(n)
    if roots[0] != 0 or np.any(parent[1:] >= np.arange(1, n)):
        depth = _k.depth_any_order(parent, int(roots[0]))
        if np.any(depth < 0):
            raise ValueError("parent array has a cycle or nodes not connected to the root")
        order = np.lexsort((np.arange(n), depth))
        inv = np.empty(n, np.int64)
        inv[order] = np.arange(n)
        p = parent[order]
        parent = np.where(p >= 0, inv[np.maximum(p, 0)], -1)
        radius_um, proximal_mm, distal_mm = radius_um[order], proximal_mm[order], distal_mm[order]
        region, terminal_mass_mg = region[order], terminal_mass_mg[order]
        if length_mm is not None:
            length_mm = length_mm[order]
    if length_mm is None:
        length_mm = np.linalg.norm(distal_mm - proximal_mm, axis=1)

    nonroot = np.flatnonzero(parent >= 0)
    counts = np.bincount(parent[nonroot], minlength=n)
    child_start = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=child_start[1:])
    child_index = nonroot[np.argsort(parent[nonroot], kind="stable")]
    is_terminal = counts == 0
    if np.any(np.asarray(terminal_mass_mg)[~is_terminal] != 0):
        raise ValueError("terminal_mass_mg must be 0 on internal segments")
    if np.any(terminal_mass_mg < 0) or not np.all(np.isfinite(terminal_mass_mg)):
        raise ValueError("terminal_mass_mg must be finite and >= 0")
    tree = TreeArrays(
        parent=_frozen(parent, np.int64),
        child_start=_frozen(child_start, np.int64),
        child_index=_frozen(child_index, np.int64),
        radius_um=_frozen(radius_um, np.float64),
        length_mm=_frozen(length_mm, np.float64),
        proximal_mm=_frozen(proximal_mm, np.float64),
        distal_mm=_frozen(distal_mm, np.float64),
        is_terminal=_frozen(is_terminal, np.bool_),
        region=_frozen(region, np.int32),
        terminal_mass_mg=_frozen(terminal_mass_mg, np.float64),
        depth=_frozen(_k.depth_topological(parent), np.int32),
    )
    return (tree, order) if return_order else tree


def summary(tree: TreeArrays, flow=None) -> dict:
    """Key numbers of a tree (and of its flow field, when given).

    Returns a JSON-friendly dict: counts, terminal depths, radii [um], perfused mass [g] in
    total and per region; with ``flow`` (a ``FlowField``) also the inlet flow [mL/min], flow
    per region [mL/min] (sum over that region's terminals), perfusion per region
    [mL/min/g] and the tumour-to-normal perfusion ratio (flow per mass in all tumours over
    flow per mass in normal liver).
    """
    term = tree.is_terminal
    tdepth = tree.depth[term]
    regions = np.unique(tree.region[term])
    mass_g = tree.terminal_mass_mg * 1e-3
    out = {
        "segments": tree.n_segments,
        "terminals": int(term.sum()),
        "terminal_depth_min": int(tdepth.min()),
        "terminal_depth_mean": float(tdepth.mean()),
        "terminal_depth_max": int(tdepth.max()),
        "radius_um_min": float(tree.radius_um.min()),
        "radius_um_max": float(tree.radius_um.max()),
        "terminal_radius_um_mean": float(tree.radius_um[term].mean()),
        "perfused_mass_g": float(mass_g.sum()),
        "mass_g_by_region": {
            int(k): float(mass_g[term & (tree.region == k)].sum()) for k in regions
        },
    }
    if flow is not None:
        q = np.asarray(flow.flow_mL_min)
        out["inlet_flow_mL_min"] = float(q[0])
        out["inlet_pressure_mmHg"] = float(flow.inlet_pressure_mmHg)
        fr = {int(k): float(q[term & (tree.region == k)].sum()) for k in regions}
        out["flow_mL_min_by_region"] = fr
        perf = {}
        for k in regions:
            m = out["mass_g_by_region"][int(k)]
            perf[int(k)] = fr[int(k)] / m if m > 0 else float("nan")
        out["perfusion_mL_min_g_by_region"] = perf
        tum = term & (tree.region > 0)
        nor = term & (tree.region == 0)
        if tum.any() and nor.any():
            pt = q[tum].sum() / mass_g[tum].sum()
            pn = q[nor].sum() / mass_g[nor].sum()
            out["tumour_to_normal_ratio"] = float(pt / pn)
    return out


def _lobule_lattice(n_points, root_xyz_mm, apothem_mm, height_mm):
    """The ``n_points`` hexagonal-prism lobule centres nearest to a blob centre.

    Centres of hexagons of apothem a tile the plane on a triangular lattice of spacing 2a;
    layers are ``height_mm`` apart. The blob sits on the +x side of the root.
    """
    s = 2.0 * apothem_mm
    cell = s * s * np.sqrt(3.0) / 2.0 * height_mm  # volume per lattice point
    radius = (3.0 * n_points * cell / (4.0 * np.pi)) ** (1.0 / 3.0)
    half = int(np.ceil(radius / min(s * np.sqrt(3.0) / 2.0, height_mm))) + 3
    i, j, k = np.meshgrid(*(np.arange(-half, half + 1),) * 3, indexing="ij")
    x = s * (i + 0.5 * (j % 2))
    y = s * np.sqrt(3.0) / 2.0 * j
    z = height_mm * k
    pts = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
    d2 = np.einsum("ij,ij->i", pts, pts)
    keep = np.lexsort((pts[:, 2], pts[:, 1], pts[:, 0], d2))[:n_points]
    pts = pts[keep]
    return pts + np.asarray(root_xyz_mm, dtype=float) + np.array([s - pts[:, 0].min(), 0.0, 0.0])


def bifurcating_tree(
    *,
    generations: int,
    split_ratio: float = 0.5,
    root_radius_um: float | None = None,
    terminal_radius_um: float = 10.0,
    murray_exponent: float = 3.0,
    lobule_mass_mg: float | None = None,
    density_g_cm3: float = LIVER_DENSITY_G_CM3,
    root_xyz_mm=(0.0, 0.0, 0.0),
    length_to_radius: float = 20.0,
    rng=None,
) -> TreeArrays:
    """Complete binary teaching tree with a fixed flow split at every bifurcation.

    Every bifurcation sends ``split_ratio`` of its flow to its first daughter (lower index)
    and ``1 - split_ratio`` to the second; each of the ``2**generations`` terminals perfuses
    one lobule of equal mass, so with ``split_ratio != 0.5`` the flow per mass differs between
    terminals: the asymmetric tree of Walrand et al. (2014).

    Parameters
    ----------
    generations : int, number of bifurcation levels G (2**G terminals, 2**(G+1)-1 segments).
    split_ratio : float in (0, 1), flow share of the first daughter.
    root_radius_um : float [um]; default ``terminal_radius_um * 2**(G/k)``, the root of a
        symmetric tree whose terminals have ``terminal_radius_um``.
    murray_exponent : float k; radii r = r_root (Q / Q_root)^(1/k).
    lobule_mass_mg : float [mg]; default the classic lobule's volume (1.871 mm^3) times
        ``density_g_cm3``.
    root_xyz_mm : (3,) [mm], proximal end of the root; the lobule block lies on its +x side.
    length_to_radius : float, L/r of the root segment (L [mm] over r [mm]); for k = 3 every
        segment has this ratio (a modelling choice: only absolute pressures depend on it).
    rng : unused (the tree is deterministic); accepted for a uniform generator signature.

    Notes
    -----
    Lengths. With radii r ∝ Q^(1/k) (Murray), the Poiseuille pressure drop of a segment is
    ΔP = Q 8 μ L / (π r^4) ∝ L Q^(1 - 4/k) ∝ L r^(k-4). Choosing
    L = L_root (r / r_root)^(4-k), L_root = ``length_to_radius`` r_root, makes ΔP the same in
    every segment, so every terminal (all at depth G) sees the same total drop: equal
    terminal pressures then reproduce the prescribed split exactly, for any μ. For k = 3
    this is L ∝ r. ``length_mm`` is therefore a hemodynamic (path) length; the drawn chords
    between branch points differ from it (tortuosity is not modelled). Sphere transport
    that splits by flow then splits spheres s : 1 - s too.

    Geometry. Terminals sit at the centres of classic hexagonal-prism lobules (Gulec et al.
    2010; apothem 0.6 mm, height 1.5 mm): a triangular lattice of spacing 1.2 mm in x-y,
    layers 1.5 mm apart in z, the 2**G centres nearest a blob centre. The tree is built by
    recursive median bisection of that set across its longest extent; branch points sit at
    the centroids of their terminals.

    References
    ----------
    Murray CD. PNAS 1926;12:207. Walrand S et al. J Nucl Med 2014;55:135.
    Gulec SA et al. J Nucl Med 2010;51:301.
    """
    if int(generations) != generations or generations < 0 or generations > 22:
        raise ValueError(f"generations must be an integer in [0, 22], got {generations}")
    if not 0.0 < split_ratio < 1.0:
        raise ValueError(f"split_ratio must lie in (0, 1), got {split_ratio}")
    if murray_exponent <= 0:
        raise ValueError("murray_exponent must be > 0")
    g = int(generations)
    k = float(murray_exponent)
    if lobule_mass_mg is None:
        lobule_mass_mg = LOBULE_VOLUME_MM3 * density_g_cm3  # g/cm^3 == mg/mm^3
    if root_radius_um is None:
        root_radius_um = terminal_radius_um * 2.0 ** (g / k)
    n_term = 2**g
    n = 2 * n_term - 1
    # heap layout: node i has children 2i+1 (first, share s) and 2i+2
    idx = np.arange(n)
    parent = np.where(idx > 0, (idx - 1) // 2, -1)
    share = np.ones(n)
    for i in range(1, n):
        share[i] = share[parent[i]] * (split_ratio if i % 2 == 1 else 1.0 - split_ratio)
    radius = root_radius_um * share ** (1.0 / k)
    root_length_mm = length_to_radius * root_radius_um * 1e-3
    length = root_length_mm * (radius / root_radius_um) ** (4.0 - k)

    pts = _lobule_lattice(n_term, root_xyz_mm, LOBULE_APOTHEM_MM, LOBULE_HEIGHT_MM)
    centroid = np.empty((n, 3))
    # level-by-level median bisection: at level d, block b (heap node 2^d - 1 + b) owns the
    # contiguous rows [b m, (b + 1) m), m = 2^(G - d); halves go to its two children
    for d in range(g + 1):
        nb = 2**d
        blocks = pts.reshape(nb, n_term // nb, 3)
        centroid[nb - 1 : 2 * nb - 1] = blocks.mean(axis=1)
        if d == g:
            break
        ax = np.argmax(np.ptp(blocks, axis=1), axis=1)  # longest extent per block
        rows = np.repeat(ax, n_term // nb)
        ar = np.arange(n_term)
        key = [pts[ar, (rows + 2) % 3], pts[ar, (rows + 1) % 3], pts[ar, rows],
               np.repeat(np.arange(nb), n_term // nb)]
        pts = pts[np.lexsort(key)]
    distal = centroid
    proximal = np.empty((n, 3))
    proximal[0] = np.asarray(root_xyz_mm, dtype=float)
    proximal[1:] = distal[parent[1:]]
    mass = np.zeros(n)
    mass[n_term - 1 :] = lobule_mass_mg
    return from_parent(
        parent, radius, proximal, distal, terminal_mass_mg=mass, length_mm=length
    )
