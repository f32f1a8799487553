"""Statistics of a deposition: compartments, spheres per terminal, clusters, uptake ratio."""
from __future__ import annotations

import numpy as np

from sim.transport.fates import LIVER

__all__ = ["deposition_summary", "spheres_per_segment", "activity_per_segment_Bq"]


def _stats(x) -> dict:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return {"n": 0}
    mean = float(x.mean())
    sd = float(x.std())
    return {"n": int(x.size), "mean": mean, "sd": sd, "cv": sd / mean if mean > 0 else float("nan"),
            "min": float(x.min()), "p10": float(np.percentile(x, 10)),
            "median": float(np.median(x)), "p90": float(np.percentile(x, 90)),
            "max": float(x.max())}


def spheres_per_segment(tree, dep) -> np.ndarray:
    """Number of liver spheres lodged in each segment, (N,) int64 (counted by the transport)."""
    if dep.n_lodged is not None:
        return dep.n_lodged
    seg = dep.segment[dep.fate == LIVER]
    return np.bincount(seg, minlength=tree.n_segments).astype(np.int64)


def activity_per_segment_Bq(tree, dep) -> np.ndarray:
    """Activity lodged in each segment [Bq], (N,) float64 (``activity_Bq`` is per entry: per
    aggregate when the transport had multiplicities)."""
    act = np.asarray(dep.activity_Bq)
    sel = dep.fate == LIVER
    if act.size and act.strides == (0,):  # one activity for every entry
        n = spheres_per_segment(tree, dep)
        if n.sum() == np.count_nonzero(sel):  # entries are single spheres (no aggregates)
            return n * float(act[0])
    return np.bincount(dep.segment[sel], weights=act[sel].astype(np.float64),
                       minlength=tree.n_segments)


def deposition_summary(tree, dep, *, histogram_bins: int = 30) -> dict:
    """Accounting and heterogeneity of a deposition.

    Returns
    -------
    dict
        ``counts`` (spheres and GBq per compartment), ``transport_engine`` (the engine that
        ran), ``spheres_per_terminal`` (statistics over
        the terminals of the treated territory, the tree below the injected segment, zeros
        included, of the spheres lodged in terminal arterioles),
        ``proximal_fraction`` (liver spheres lodged above the terminals: in vessels narrower
        than themselves or stacked), ``stacked``, ``clusters`` (spheres per occupied segment),
        ``histogram`` (edges and counts of spheres per terminal), per-region uptake
        (activity [GBq], mass [g], concentration [MBq/g]) and ``tumour_to_normal`` (activity
        concentration in all tumours over normal liver; spheres in a vessel feeding several
        regions count as normal).
    """
    per_seg = spheres_per_segment(tree, dep)
    term = tree.is_terminal
    per_term = per_seg[term & tree.subtree(dep.injection_segment)]
    liver = dep.fate == LIVER
    n_liver = int(liver.sum())
    occupied = per_seg[per_seg > 0]
    hist_max = max(int(per_term.max()) if per_term.size else 1, 1)
    edges = np.unique(np.linspace(0, hist_max + 1, histogram_bins + 1).round())
    hist, edges = np.histogram(per_term, bins=edges)
    act_seg = activity_per_segment_Bq(tree, dep)
    territory = tree.subtree(dep.injection_segment)
    regions = np.unique(tree.region[term & territory])
    mass_g = tree.terminal_mass_mg * 1e-3
    uptake = {}
    for k in regions:
        a = float(act_seg[territory & (tree.region == k)].sum() * 1e-9)
        m = float(mass_g[term & territory & (tree.region == k)].sum())
        uptake[int(k)] = {"activity_GBq": a, "mass_g": m,
                          "concentration_MBq_g": a * 1e3 / m if m > 0 else float("nan")}
    out = {
        "counts": dep.counts(),
        "injection_segment": int(dep.injection_segment),
        "stasis_at_sphere": int(dep.stasis_at_sphere),
        "transport_engine": str(dep.engine),
        "injected_flow_mL_min_start": float(dep.injected_flow_mL_min[0]),
        "injected_flow_mL_min_end": float(dep.injected_flow_mL_min[1]),
        "spheres_per_terminal": _stats(per_term),
        "terminals_without_spheres_fraction": float(np.mean(per_term == 0)) if per_term.size else 0.0,
        "proximal_fraction": float(np.sum(~term[dep.segment[liver]]) / n_liver) if n_liver else 0.0,
        "stacked": int(dep.stacked[liver].sum()),
        "clusters": _stats(occupied),
        "histogram": {"edges": edges.tolist(), "counts": hist.tolist()},
        "uptake_by_region": uptake,
    }
    tum = [v for k, v in uptake.items() if k > 0]
    if tum and 0 in uptake and uptake[0]["concentration_MBq_g"] > 0:
        ct = sum(v["activity_GBq"] for v in tum) / sum(v["mass_g"] for v in tum)
        cn = uptake[0]["activity_GBq"] / uptake[0]["mass_g"]
        out["tumour_to_normal"] = float(ct / cn)
    return out
