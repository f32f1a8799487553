"""Sphere clusters as histology sees them: spheres whose surfaces touch (or lie within a
stated gap) belong to one cluster; a cluster is a string or a conglomerate.

Definitions (the published protocol does not state them; these are this project's choices):

* Two spheres are linked when the gap between their surfaces, |x_i - x_j| - (r_i + r_j), is
  at most ``gap_um`` (+ ``tol_um`` = 0.1 um, far below a sphere's size, so that spheres stacked
  touching and stored as float32 coordinates stay linked). A cluster is a connected component
  of the links (scipy.spatial.cKDTree pairs, scipy.sparse.csgraph components).
* Scope ``"block"`` links spheres anywhere in the serially sectioned block (in one section
  or across neighbouring sections: a reconstruction of the series); scope ``"section"``
  links spheres within one section only (counting in single sections).
* A cluster of two or more spheres is a *conglomerate* when its contact graph closes many
  loops: L >= max(1, n / 4), with L = links - n + 1 (the graph's cyclomatic number) for n
  spheres. Spheres packed in a small artery touch several neighbours each (close packing:
  about two loops per sphere); spheres one after another in an arteriole (straight, bent, or
  forking with the vessel) close none, or one where two strings meet. Otherwise it is a
  *string*. The elongation (ratio of the two largest principal RMS extents of the centres)
  is reported beside it.

References
----------
.. [1] Högberg J et al. EJNMMI Phys 2015;2:10 ("clusters were frequently found as strings in
       the arterioles and as conglomerates in small arteries"; largest cluster 453 spheres).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["find_clusters", "contact_pairs", "cluster_shapes", "fraction_in_clusters",
           "TOL_UM", "K_LEVELS"]

#: Numerical tolerance on the surface gap [um] (float32 coordinates, touching spheres).
TOL_UM = 0.1
#: Cluster sizes k of the "fraction of spheres in clusters >= k" table.
K_LEVELS = (2, 5, 10, 50, 100)


def contact_pairs(xyz_mm, diameter_um, gap_um=0.0, *, section=None, tol_um=TOL_UM):
    """Pairs (i, j), i < j, of spheres whose surfaces are within ``gap_um`` [um].

    Parameters
    ----------
    xyz_mm : (N, 3) array [mm]
    diameter_um : float or (N,) array [um]
    gap_um : float
        Largest surface-to-surface gap of linked spheres [um]; 0: touching.
    section : (N,) int array, optional
        Only spheres of the same section are linked.
    tol_um : float
        Numerical tolerance added to the gap [um].

    Returns
    -------
    (M, 2) int64 array
    """
    xyz = np.asarray(xyz_mm, dtype=np.float64).reshape(-1, 3)
    d = np.broadcast_to(np.asarray(diameter_um, dtype=np.float64), (xyz.shape[0],)) * 1e-3
    if gap_um < 0:
        raise ValueError("gap_um must be >= 0 [um]")
    if xyz.shape[0] < 2:
        return np.empty((0, 2), np.int64)
    reach = float(d.max()) + (gap_um + tol_um) * 1e-3
    pairs = cKDTree(xyz).query_pairs(reach, output_type="ndarray").astype(np.int64)
    if pairs.size == 0:
        return pairs.reshape(0, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    gap = np.linalg.norm(xyz[i] - xyz[j], axis=1) - 0.5 * (d[i] + d[j])
    keep = gap <= (gap_um + tol_um) * 1e-3
    if section is not None:
        s = np.asarray(section)
        keep &= s[i] == s[j]
    return pairs[keep]


def find_clusters(xyz_mm, diameter_um, gap_um=0.0, *, section=None, tol_um=TOL_UM):
    """Cluster label of every sphere (0..C-1) and the pairs that linked them.

    A single sphere is a cluster of size 1. See :func:`contact_pairs` for the arguments.

    Returns
    -------
    labels : (N,) int64 array
    pairs : (M, 2) int64 array

    Examples
    --------
    Three touching spheres of 30 um in a row, and a fourth 1 um away from the last:

    >>> x = np.array([[0, 0, 0], [0.03, 0, 0], [0.06, 0, 0], [0.091, 0, 0]])
    >>> find_clusters(x, 30.0)[0].tolist()
    [0, 0, 0, 1]
    >>> find_clusters(x, 30.0, gap_um=1.5)[0].tolist()
    [0, 0, 0, 0]
    """
    pairs = contact_pairs(xyz_mm, diameter_um, gap_um, section=section, tol_um=tol_um)
    n = np.asarray(xyz_mm).reshape(-1, 3).shape[0]
    if n == 0:
        return np.empty(0, np.int64), pairs
    g = coo_matrix((np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return labels.astype(np.int64), pairs


def cluster_shapes(xyz_mm, labels, pairs):
    """Size, kind and elongation of every cluster.

    Parameters
    ----------
    xyz_mm : (N, 3) array [mm]
    labels : (N,) int array
        From :func:`find_clusters`.
    pairs : (M, 2) int array
        The links of :func:`find_clusters`.

    Returns
    -------
    dict
        ``size`` (C,) spheres per cluster; ``loops`` (C,) links - size + 1; ``string`` and
        ``conglomerate`` (C,) bool (see the module's rule); ``elongation`` (C,) sqrt(l1 / l2)
        of the centres' covariance eigenvalues l1 >= l2 (inf for a straight string, NaN for a
        single sphere).
    """
    labels = np.asarray(labels, dtype=np.int64)
    xyz = np.asarray(xyz_mm, dtype=np.float64).reshape(-1, 3)
    c = int(labels.max()) + 1 if labels.size else 0
    size = np.bincount(labels, minlength=c)
    edges = np.bincount(labels[pairs[:, 0]], minlength=c) if pairs.size else np.zeros(c, int)
    loops = edges - size + 1
    packed = loops >= np.maximum(1.0, size / 4.0)
    string = (size >= 2) & ~packed
    conglomerate = (size >= 2) & packed
    return {"size": size, "loops": loops, "string": string, "conglomerate": conglomerate,
            "elongation": _elongation(xyz, labels, size)}


def _elongation(xyz, labels, size):
    """sqrt(l1 / l2) of each cluster's centre covariance (second moments by bincount)."""
    c = size.size
    out = np.full(c, np.nan)
    if c == 0:
        return out
    n = np.maximum(size, 1).astype(float)
    mean = np.stack([np.bincount(labels, xyz[:, a], c) for a in range(3)], axis=1) / n[:, None]
    d = xyz - mean[labels]
    cov = np.empty((c, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            cov[:, a, b] = cov[:, b, a] = np.bincount(labels, d[:, a] * d[:, b], c) / n
    multi = size >= 2
    ev = np.linalg.eigvalsh(cov[multi])  # ascending
    l1, l2 = ev[:, 2], ev[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.sqrt(l1 / l2)
    e[l2 <= 1e-6 * np.maximum(l1, 1e-300)] = np.inf  # > 1000: straight to rounding
    out[multi] = e
    return out


def fraction_in_clusters(size, ks=K_LEVELS) -> dict:
    """Fraction of spheres in clusters of at least k spheres, for each k in ``ks``.

    Examples
    --------
    >>> fraction_in_clusters(np.array([1, 1, 2, 6]), ks=(2, 5))
    {2: 0.8, 5: 0.6}
    """
    size = np.asarray(size)
    total = size.sum()
    return {int(k): (float(size[size >= k].sum() / total) if total else float("nan"))
            for k in ks}
