"""The teaching tree: a complete binary tree with a fixed flow split at every bifurcation,
on a lattice of classic hepatic lobules (Walrand et al. 2014)."""

from __future__ import annotations

import numpy as np

from dosimetry.constants import (LIVER_DENSITY_G_CM3, LOBULE_APOTHEM_MM, LOBULE_HEIGHT_MM,
                                 LOBULE_VOLUME_MM3)
from sim.tree.arrays import TreeArrays, from_parent

__all__ = ["bifurcating_tree"]


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
    random_split: bool = False,
    rng=None,
) -> TreeArrays:
    """Complete binary teaching tree with a fixed flow split at every bifurcation.

    Every bifurcation sends ``split_ratio`` of its flow to its first daughter (lower index)
    and ``1 - split_ratio`` to the second (with ``random_split``, to a daughter drawn at
    random at each bifurcation: the "random relative-spreading" of Walrand et al.); each of the ``2**generations`` terminals perfuses
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
    random_split : bool
        Draw which daughter gets ``split_ratio`` at each bifurcation (probability 1/2 each).
    rng : int or numpy Generator, used with ``random_split`` only.

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

    Examples
    --------
    >>> t = bifurcating_tree(generations=3, split_ratio=0.6)
    >>> t.n_segments, int(t.is_terminal.sum())
    (15, 8)
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
    flip = (np.random.default_rng(rng).random(n) < 0.5) if random_split else np.zeros(n, bool)
    for i in range(1, n):
        first = (i % 2 == 1) != flip[parent[i]]
        share[i] = share[parent[i]] * (split_ratio if first else 1.0 - split_ratio)
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
