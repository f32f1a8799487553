"""The serial-section protocol on one biopsy, and on a set of them: spheres per section,
clusters, concentration, small-scale dose as the papers computed it, and the biopsy's mean
dose from its activity.

The biopsy's mean dose is what a measured biopsy activity gives: D = A K / m, the activity A
of every sphere in the punched cylinder, its mass m and the complete-decay dose constant K
(local absorption, as the published biopsy doses).

References
----------
.. [1] Högberg J et al. EJNMMI Phys 2015;2:10 (mean absorbed dose of the punch biopsies from
       their activity; sphere counts, clusters and a dose point kernel on the sections).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import spearmanr

from dosimetry.decay import dose_constant
from sim.histology.biopsy import Biopsy, biopsy_local, frame, in_biopsy, section_index
from sim.histology.clusters import K_LEVELS, cluster_shapes, find_clusters, fraction_in_clusters
from sim.histology.dose import dose_summary, outside_spheres, papers_dose, section_points

__all__ = ["Spheres", "Protocol", "section_biopsy", "section_all", "trends", "pooled_clusters"]


@dataclass(frozen=True)
class Spheres:
    """Every sphere of the liver: centres (N, 3) [mm], diameters (N,) [um], activities (N,)
    [Bq], a cKDTree over the centres, the nuclide and the tissue density [g/cm^3]."""

    xyz_mm: np.ndarray
    diameter_um: np.ndarray
    activity_Bq: np.ndarray
    kd: cKDTree
    nuclide: str = "Y-90"
    density_g_cm3: float = 1.06

    @staticmethod
    def of(xyz_mm, diameter_um, activity_Bq, nuclide="Y-90", density_g_cm3=1.06):
        """Spheres with their tree built (positions as float64)."""
        xyz = np.ascontiguousarray(xyz_mm, dtype=np.float64).reshape(-1, 3)
        n = xyz.shape[0]
        d = np.broadcast_to(np.asarray(diameter_um, dtype=np.float64), (n,)).copy()
        a = np.broadcast_to(np.asarray(activity_Bq, dtype=np.float64), (n,)).copy()
        return Spheres(xyz, d, a, cKDTree(xyz), str(nuclide), float(density_g_cm3))


@dataclass(frozen=True)
class Protocol:
    """Sections and the cluster and dose-point rules (lengths [mm], gap [um])."""

    sections: int = 15
    section_mm: float = 0.030
    gap_um: float = 0.0
    scope: str = "block"
    dose_spacing_mm: float = 0.100


def section_biopsy(b: Biopsy, spheres: Spheres, protocol: Protocol, *, keep_arrays=True):
    """The protocol on one biopsy.

    Returns
    -------
    dict
        ``region``, ``centre_mm``, ``spheres_in_biopsy``, ``mean_dose_Gy`` (activity-based),
        ``spheres_in_sections``, ``section_counts`` (per section), ``concentration_per_mg``
        (spheres in the sections per mg of sectioned tissue), ``largest_cluster``,
        ``fraction_in_clusters`` {k: fraction}, ``strings``, ``conglomerates``,
        ``spheres_in_strings``, ``spheres_in_conglomerates``, ``cluster_sizes``, ``dose``
        (:func:`sim.histology.dose.dose_summary` of the papers' dose); with ``keep_arrays``
        also ``_points`` and ``_papers_Gy`` (dose points and values) and ``_render`` (the
        spheres of the section holding the largest cluster).
    """
    p = protocol
    reach = float(np.hypot(b.radius_mm, 0.5 * b.length_mm))
    cand = np.asarray(spheres.kd.query_ball_point(b.centre_mm, reach), dtype=np.int64)
    inside = cand[in_biopsy(spheres.xyz_mm[cand], b)]
    rho_mg_mm3 = spheres.density_g_cm3
    k = dose_constant("icrp107", spheres.nuclide)  # Gy kg / GBq
    mean_dose = spheres.activity_Bq[inside].sum() * 1e-9 * k / (b.volume_mm3 * rho_mg_mm3 * 1e-6)
    sec_all = section_index(spheres.xyz_mm[inside], b, p.section_mm, p.sections)
    s_idx = inside[sec_all >= 0]
    sec = sec_all[sec_all >= 0]
    xyz, diam = spheres.xyz_mm[s_idx], spheres.diameter_um[s_idx]
    labels, pairs = find_clusters(xyz, diam, p.gap_um,
                                  section=sec if p.scope == "section" else None)
    shapes = cluster_shapes(xyz, labels, pairs)
    size = shapes["size"]
    sectioned_mg = np.pi * b.radius_mm ** 2 * p.sections * p.section_mm * rho_mg_mm3
    pts, _ = section_points(b, p.section_mm, p.sections, p.dose_spacing_mm)
    pts = pts[outside_spheres(pts, spheres.xyz_mm[cand], spheres.diameter_um[cand])]
    dose = papers_dose(pts, xyz, spheres.activity_Bq[s_idx], nuclide=spheres.nuclide,
                       density_g_cm3=spheres.density_g_cm3)
    out = {"region": b.region, "centre_mm": b.centre_mm.tolist(),
           "spheres_in_biopsy": int(inside.size), "mean_dose_Gy": float(mean_dose),
           "spheres_in_sections": int(s_idx.size),
           "section_counts": np.bincount(sec, minlength=p.sections).tolist(),
           "concentration_per_mg": float(s_idx.size / sectioned_mg),
           "largest_cluster": int(size.max()) if size.size else 0,
           "fraction_in_clusters": fraction_in_clusters(size),
           "strings": int(shapes["string"].sum()),
           "conglomerates": int(shapes["conglomerate"].sum()),
           "spheres_in_strings": int(size[shapes["string"]].sum()),
           "spheres_in_conglomerates": int(size[shapes["conglomerate"]].sum()),
           "cluster_sizes": size, "dose": dose_summary(dose),
           "_shapes": {k: shapes[k] for k in ("size", "string", "conglomerate", "elongation")}}
    if keep_arrays:
        out["_points"], out["_papers_Gy"] = pts, dose
        out["_render"] = _render(b, p, xyz, diam, sec, labels, shapes, pts, dose)
    return out


def _render(b, p, xyz, diam, sec, labels, shapes, pts, dose):
    """The section that holds the largest cluster: in-plane sphere positions and dose points."""
    e1, e2 = frame(b.axis)
    if labels.size:
        big = int(np.argmax(shapes["size"]))
        s = int(np.bincount(sec[labels == big], minlength=p.sections).argmax())
    else:
        s = 0
    mine = sec == s
    kind = np.where(shapes["conglomerate"][labels], 2, np.where(shapes["string"][labels], 1, 0))
    depth, _ = biopsy_local(pts, b)
    on = np.floor(depth / p.section_mm).astype(int) == s
    rel = xyz[mine] - b.centre_mm
    prel = pts[on] - b.centre_mm
    return {"section": s, "radius_mm": b.radius_mm, "xy_mm": np.stack([rel @ e1, rel @ e2], 1),
            "diameter_um": diam[mine], "cluster": labels[mine], "kind": kind[mine],
            "points_xy_mm": np.stack([prel @ e1, prel @ e2], 1), "dose_Gy": dose[on],
            "spacing_mm": p.dose_spacing_mm, "section_mm": p.section_mm}


def section_all(biopsies, spheres: Spheres, protocol: Protocol, task=None):
    """:func:`section_biopsy` on every biopsy (``task.advance()`` after each)."""
    out = []
    for b in biopsies:
        out.append(section_biopsy(b, spheres, protocol))
        if task is not None:
            task.advance(1)
    return out


def _spearman(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return {"rho": float("nan"), "p": float("nan"), "n": int(ok.sum())}
    r = spearmanr(x[ok], y[ok])
    return {"rho": float(r.statistic), "p": float(r.pvalue), "n": int(ok.sum())}


def trends(per_biopsy) -> dict:
    """Spearman rank correlations over the biopsies: largest cluster and the fraction of
    spheres in clusters of 5 or more against the concentration; the papers' dose CV against
    the biopsy's mean dose (the published trends)."""
    conc = [b["concentration_per_mg"] for b in per_biopsy]
    return {"largest_vs_concentration": _spearman(conc, [b["largest_cluster"]
                                                         for b in per_biopsy]),
            "in_clusters5_vs_concentration": _spearman(
                conc, [b["fraction_in_clusters"][5] for b in per_biopsy]),
            "dose_cv_vs_mean_dose": _spearman([b["mean_dose_Gy"] for b in per_biopsy],
                                              [b["dose"].get("cv", np.nan) for b in per_biopsy])}


def pooled_clusters(per_biopsy) -> dict:
    """Cluster statistics over every biopsy of a set."""
    sizes = (np.concatenate([b["cluster_sizes"] for b in per_biopsy]) if per_biopsy
             else np.zeros(0, np.int64))
    n_str = sum(b["strings"] for b in per_biopsy)
    elong = {}
    for kind in ("string", "conglomerate"):
        e = [b["_shapes"]["elongation"][b["_shapes"][kind] & (b["_shapes"]["size"] >= 3)]
             for b in per_biopsy]
        e = np.concatenate(e) if e else np.zeros(0)
        elong[kind] = float(np.median(e)) if e.size else float("nan")
    n_con = sum(b["conglomerates"] for b in per_biopsy)
    return {"spheres": int(sizes.sum()), "clusters": int(np.sum(sizes >= 2)),
            "largest": int(sizes.max()) if sizes.size else 0,
            "fraction_in_clusters": fraction_in_clusters(sizes, K_LEVELS),
            "strings": int(n_str), "conglomerates": int(n_con),
            "spheres_in_strings": int(sum(b["spheres_in_strings"] for b in per_biopsy)),
            "spheres_in_conglomerates": int(sum(b["spheres_in_conglomerates"]
                                                for b in per_biopsy)),
            "median_elongation_strings": elong["string"],
            "median_elongation_conglomerates": elong["conglomerate"]}
