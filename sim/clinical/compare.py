"""The chain's comparisons: what the scout predicted, what clinical voxel dosimetry measures
and what the microscale truth is, per compartment, per vascular segment and as DVH metrics.

Relative errors are (estimate - reference) / reference. The share of segments off by more
than 10 %, 20 % and 30 % is the statistic of Wondergem et al. (225 segments: 68 %, 43 % and
32 %; their reference was the Y-90 image, not the true dose).

References
----------
.. [1] Wondergem M et al. 99mTc-macroaggregated albumin poorly predicts the intrahepatic
       distribution of 90Y resin microspheres in hepatic radioembolization. J Nucl Med
       2013;54:1294-1301 (abstract).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from dosimetry.metrics import dose_statistics
from sim.clinical.vois import segment_of_points, split_territory, terminal_segments
from sim.dose.compartments import NORMAL

__all__ = ["dvh_metrics", "compartment_comparison", "segment_truth", "segment_comparison",
           "error_stats", "WONDERGEM_2013"]

#: Wondergem et al. 2013: share of 225 segments whose MAA-predicted activity per mL differs
#: from the Y-90 image's by more than 10 %, 20 %, 30 %.
WONDERGEM_2013 = {"segments": 225, "above_10pct": 0.68, "above_20pct": 0.43,
                  "above_30pct": 0.32}


def _fine_samples(dose, codes):
    comp = dose.compartments
    parts = [comp.voxels(c) for c in codes]
    idx = np.concatenate([p[0] for p in parts])
    w = np.concatenate([p[1] for p in parts]) * comp.voxel_mass_kg
    return dose.dose_Gy.ravel()[idx].astype(np.float64), w


def _groups(dose) -> dict:
    comp = dose.compartments
    tumours = [c for c in comp.codes if c > 0 and comp.mass_kg(c) > 0]
    g = {"normal": ([NORMAL], NORMAL), "treated": ([NORMAL] + tumours, "treated")}
    if tumours:
        g["tumour"] = (tumours, "tumour")
        g.update({f"tumour_{c}": ([c], c) for c in tumours})
    return g


def dvh_metrics(d, w, response_Gy: float, nonresponse_Gy: float) -> dict:
    """Mean, CV, D90/D70/D50/D10, share >= the response threshold and < the non-response
    threshold of mass-weighted dose samples."""
    s = dose_statistics(d, w, d_levels=(90, 70, 50, 10), v_levels_Gy=(response_Gy,),
                        below_Gy=(nonresponse_Gy,))
    if s.get("n", 0) == 0:
        return {}
    return {"mean_Gy": s["mean_Gy"], "cv": s["cv"], "D90_Gy": s["D90_Gy"],
            "D70_Gy": s["D70_Gy"], "D50_Gy": s["D50_Gy"], "D10_Gy": s["D10_Gy"],
            "above_response": s[f"V{response_Gy:g}Gy"],
            "below_nonresponse": s[f"below_{nonresponse_Gy:g}Gy"], "mass_kg": float(np.sum(w))}


def compartment_comparison(dose, predicted: dict, maps: dict, response_Gy: float,
                           nonresponse_Gy: float) -> dict:
    """Per compartment: the microscale truth, the scout's prediction and every clinical dose
    map (``maps``: name -> (dose grid, VOIs of its grid)).

    Returns
    -------
    dict
        compartment -> {``microscale``: metrics, ``predicted_Gy``, name: metrics, ...}.
    """
    out = {}
    for name, (codes, voi_code) in _groups(dose).items():
        d, w = _fine_samples(dose, codes)
        row = {"microscale": dvh_metrics(d, w, response_Gy, nonresponse_Gy)}
        key = name if name in predicted else ("tumour" if name.startswith("tumour") else name)
        if key in predicted:
            row["predicted_Gy"] = predicted[key]
        for m, (dmap, vois) in maps.items():
            i, f = vois.weights(voi_code)
            if f.sum() > 0:
                row[m] = dvh_metrics(dmap.ravel()[i], f * vois.voxel_mass_kg, response_Gy,
                                     nonresponse_Gy)
        out[name] = row
    return out


def segment_truth(dose, tree, injection: int, n_segments: int):
    """True mean dose [Gy] and mass [kg] of every vascular segment, from the fine grid (each
    fine voxel's treated-liver fraction, assigned by its nearest terminal)."""
    comp = dose.compartments
    treated_codes = [i for i, c in enumerate(comp.codes) if c >= 0]
    w = (comp.label.ravel() >= 0).astype(np.float64)
    if comp.mixed_index.size:
        w[comp.mixed_index] = comp.mixed_fraction[:, treated_codes].sum(axis=1)
    idx = np.flatnonzero(w > 0)
    ijk = np.stack(np.unravel_index(idx, comp.label.shape), axis=1)
    pts = dose.origin_mm + ijk * dose.spacing_mm
    term = np.flatnonzero(tree.is_terminal)
    seg_of = terminal_segments(tree, split_territory(tree, injection, n_segments))[term]
    ok = seg_of >= 0
    seg = segment_of_points(pts, cKDTree(tree.distal_mm[term[ok]]), seg_of[ok])
    ww = w[idx]
    mass = np.bincount(seg, weights=ww, minlength=n_segments) * comp.voxel_mass_kg
    energy = np.bincount(seg, weights=ww * dose.dose_Gy.ravel()[idx], minlength=n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = energy * comp.voxel_mass_kg / mass
    return mean, mass


def error_stats(estimate, reference) -> dict:
    """Relative errors (estimate / reference - 1) and the share above 10, 20, 30 %."""
    est, ref = np.asarray(estimate, float), np.asarray(reference, float)
    ok = np.isfinite(est) & np.isfinite(ref) & (ref > 0)
    rel = est[ok] / ref[ok] - 1.0
    if rel.size == 0:
        return {"n": 0}
    a = np.abs(rel)
    return {"n": int(rel.size), "above_10pct": float(np.mean(a > 0.10)),
            "above_20pct": float(np.mean(a > 0.20)), "above_30pct": float(np.mean(a > 0.30)),
            "mean": float(rel.mean()), "sd": float(rel.std()),
            "median_abs": float(np.median(a)), "max_abs": float(a.max()),
            "relative_errors": [float(v) for v in rel]}


def segment_comparison(meas, activity_GBq: float, dose_constant: float, truth_Gy, mass_kg,
                       maps: dict) -> dict:
    """Per segment: the scout's predicted mean dose (its share of the predicted liver activity
    over the segment's mass), the true mean and each clinical map's VOI mean; with the error
    statistics of prediction vs truth, prediction vs each map, each map vs truth."""
    a_liver = activity_GBq * (1.0 - meas.lung_shunt_fraction)
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = meas.segment_share * a_liver * dose_constant / mass_kg
    rows = {"mass_kg": np.asarray(mass_kg), "predicted_Gy": pred,
            "microscale_Gy": np.asarray(truth_Gy)}
    errors = {"predicted_vs_microscale": error_stats(pred, truth_Gy)}
    for m, (dmap, vois) in maps.items():
        sel = vois.segment >= 0
        n = np.bincount(vois.segment[sel], minlength=len(pred)).astype(float)
        tot = np.bincount(vois.segment[sel], weights=dmap[sel], minlength=len(pred))
        with np.errstate(invalid="ignore", divide="ignore"):
            rows[f"{m}_Gy"] = tot / n
        errors[f"predicted_vs_{m}"] = error_stats(pred, rows[f"{m}_Gy"])
        errors[f"{m}_vs_microscale"] = error_stats(rows[f"{m}_Gy"], truth_Gy)
    return {"rows": rows, "errors": errors}
