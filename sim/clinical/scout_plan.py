"""Planning from the scout, as done clinically: T:N and LSF measured on the simulated
Tc-99m-MAA images, masses from the CT (the geometry), then the MIRD, partition and BSA
activities of :mod:`dosimetry.planning`.

* T:N: mean counts per mass in the tumour VOIs over that in the treated normal-liver VOI;
* LSF: lung counts / (lung counts + all counts of the liver SPECT), with the same
  sensitivity and transmission for both (the attenuation difference that makes planar LSF
  overestimate is not modelled);
* segment shares: counts of each vascular segment over the counts of the treated liver.

:func:`measure_truth` gives the same quantities from the particles themselves (exact
compartments, no imaging), the reference of "planning from the truth".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from dosimetry import planning
from dosimetry.decay import dose_constant as dose_constant_value
from sim.clinical.vois import segment_of_points, split_territory, terminal_segments
from sim.dose import point_codes
from sim.dose.compartments import NORMAL, treated_territory

__all__ = ["ScoutMeasurement", "measure_image", "measure_truth", "plan_from_scout",
           "predicted_doses"]


@dataclass
class ScoutMeasurement:
    """What planning reads from the scout.

    Attributes
    ----------
    source : str
        ``"spect"`` (the simulated image) or ``"truth"`` (the particles).
    tumour_to_normal : float or None
        None without tumours (or without counts in normal liver).
    lung_shunt_fraction : float
    tumour_share : float
        Share of the treated liver's counts in the tumours.
    segment_share : (S,) array
        Share of the treated liver's counts in each vascular segment.
    masses_kg : dict
        ``tumour``, ``normal``, ``treated`` (geometric, CT) [kg].
    """

    source: str
    tumour_to_normal: float | None
    lung_shunt_fraction: float
    tumour_share: float
    segment_share: np.ndarray
    masses_kg: dict
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"source": self.source, "tumour_to_normal": self.tumour_to_normal,
                "lung_shunt_fraction": self.lung_shunt_fraction,
                "tumour_share": self.tumour_share,
                "segment_share": [float(v) for v in self.segment_share],
                "masses_kg": dict(self.masses_kg), **self.extra}


def _tn(a_t, m_t, a_n, m_n):
    if m_t <= 0 or m_n <= 0 or a_n <= 0:
        return None
    return (a_t / m_t) / (a_n / m_n)


def _masses(vois) -> dict:
    return {"tumour": vois.mass_kg("tumour"), "normal": vois.mass_kg(NORMAL),
            "treated": vois.mass_kg("treated")}


def measure_image(counts, vois, lung_counts: float) -> ScoutMeasurement:
    """T:N, LSF and segment shares from a scout image on the grid of ``vois``."""
    c = np.asarray(counts, dtype=np.float64).ravel()
    vm = vois.voxel_mass_kg

    def voi(code):  # counts and mass of a partial-voxel VOI
        i, w = vois.weights(code)
        return float(np.dot(c[i], w)), float(w.sum() * vm)

    (c_t, m_t), (c_n, m_n) = voi("tumour"), voi(NORMAL)
    tn = _tn(c_t, m_t, c_n, m_n)
    liver = float(c.sum())
    lsf = lung_counts / (lung_counts + liver) if lung_counts + liver > 0 else 0.0
    seg_of = vois.segment.ravel()
    treated = seg_of >= 0
    seg = np.bincount(seg_of[treated], weights=c[treated], minlength=vois.n_segments)
    total = c_t + c_n
    by_tumour = {f"tumour_{k}": _tn(*voi(k), c_n, m_n) for k in vois.tumour_codes}
    return ScoutMeasurement("spect", tn, float(min(lsf, 0.999999)),
                            c_t / total if total > 0 else 0.0,
                            seg / seg.sum() if seg.sum() > 0 else seg, _masses(vois),
                            {"liver_counts": liver, "lung_counts": float(lung_counts),
                             "tumour_voi_kg": m_t, "normal_voi_kg": m_n,
                             "tumour_to_normal_by_tumour": by_tumour})


def measure_truth(scout, vois, geometry, tree, injection: int) -> ScoutMeasurement:
    """The same quantities from the scout's particles (activity at the start of the SPECT,
    compartments of the points they sit at)."""
    code = point_codes(scout.xyz_mm, geometry, treated_territory(tree, injection))
    a = scout.activity_Bq
    m = _masses(vois)
    a_t, a_n = float(a[code > 0].sum()), float(a[code == NORMAL].sum())
    liver = float(a.sum())  # every particle not in the lungs, as the image counts them
    lung = scout.lung_activity_Bq
    term = np.flatnonzero(tree.is_terminal)
    seg_of = terminal_segments(tree, split_territory(tree, injection, vois.n_segments))[term]
    ok = seg_of >= 0
    treated = code >= 0
    seg = np.zeros(vois.n_segments)
    if treated.any():
        s = segment_of_points(scout.xyz_mm[treated], cKDTree(tree.distal_mm[term[ok]]),
                              seg_of[ok])
        seg = np.bincount(s, weights=a[treated], minlength=vois.n_segments)
    total = a_t + a_n
    by_tumour = {f"tumour_{k}": _tn(float(a[code == k].sum()), vois.mass_kg(k), a_n,
                                    m["normal"]) for k in vois.tumour_codes}
    return ScoutMeasurement("truth", _tn(a_t, m["tumour"], a_n, m["normal"]),
                            lung / (lung + liver) if lung + liver > 0 else 0.0,
                            a_t / total if total > 0 else 0.0,
                            seg / seg.sum() if seg.sum() > 0 else seg, m,
                            {"liver_activity_Bq": liver, "lung_activity_Bq": lung,
                             "tumour_to_normal_by_tumour": by_tumour})


def plan_from_scout(meas: ScoutMeasurement, scenario, *, whole_liver_kg=None,
                    model: str = "partition") -> dict:
    """MIRD, partition and BSA plans from a scout measurement; ``chosen`` is ``model``'s
    (partition falls back to MIRD without tumours; a note says so).

    Returns
    -------
    dict
        ``mird``, ``partition`` (or None), ``bsa``: :class:`dosimetry.planning.PlanResult`;
        ``chosen``: the model used; ``activity_GBq``; ``notes``.
    """
    nuclide = scenario.device().nuclide
    k = dose_constant_value(scenario.treatment.dose_constant, nuclide)
    p = scenario.patient
    lung = dict(lung_mass_kg=p.lung_mass_kg, prior_lung_dose_Gy=p.prior_lung_dose_Gy,
                dose_constant=k)
    lsf = meas.lung_shunt_fraction
    m = meas.masses_kg
    plans = {"mird": planning.mird(perfused_mass_kg=m["treated"], lung_shunt_fraction=lsf,
                                   target_dose_Gy=scenario.plan.mird_dose_Gy, **lung)}
    notes = []
    tn = meas.tumour_to_normal
    plans["partition"] = (planning.partition(
        tumour_mass_kg=m["tumour"], normal_mass_kg=m["normal"], tumour_to_normal=tn,
        lung_shunt_fraction=lsf, **scenario.plan.partition_target, **lung)
        if tn is not None and tn > 0 and m["tumour"] > 0 else None)
    whole = whole_liver_kg if whole_liver_kg is not None else m["treated"]
    plans["bsa"] = planning.bsa(height_m=p.height_m, weight_kg=p.weight_kg,
                                tumour_fraction=min(m["tumour"] / m["treated"], 0.999),
                                lung_shunt_fraction=lsf,
                                perfused_fraction=min(m["treated"] / whole, 1.0), **lung)
    chosen = model
    if plans.get(model) is None:
        chosen = "mird"
        notes.append(f"{model} model not applicable (no tumour uptake measured): MIRD used")
    plans.update(chosen=chosen, activity_GBq=plans[chosen].activity_GBq, notes=notes)
    return plans


def predicted_doses(meas: ScoutMeasurement, activity_GBq: float, scenario) -> dict:
    """What the scout predicts at an administered activity [Gy]: tumour and normal liver
    (partition model with the measured T:N and LSF; each tumour at its own T:N against the
    same normal-liver dose), treated liver (MIRD) and lung."""
    nuclide = scenario.device().nuclide
    k = dose_constant_value(scenario.treatment.dose_constant, nuclide)
    m = meas.masses_kg
    lsf = meas.lung_shunt_fraction
    a_liver = activity_GBq * (1.0 - lsf)
    out = {"treated": k * a_liver / m["treated"],
           "lung": planning.lung_dose_Gy(activity_GBq, lsf,
                                         lung_mass_kg=scenario.patient.lung_mass_kg,
                                         dose_constant=k),
           "dose_constant_Gy_kg_per_GBq": k, "liver_activity_GBq": a_liver}
    tn = meas.tumour_to_normal
    if m["tumour"] > 0 and tn is not None:
        out["normal"] = k * a_liver / (tn * m["tumour"] + m["normal"])
        out["tumour"] = tn * out["normal"]
        for name, tn_k in meas.extra.get("tumour_to_normal_by_tumour", {}).items():
            if tn_k is not None:  # multi-compartment: each tumour at its own T:N
                out[name] = tn_k * out["normal"]
    else:
        out["normal"] = out["treated"]
    return out
