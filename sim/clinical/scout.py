"""The Tc-99m-MAA scout in the treatment's tree: particles through the same flow field, from
the same catheter position (or another, ``scout.injection``), without embolic effect.

The lung fate of each particle is decided in two steps: particles below the passage diameter
cross the capillary bed before any transport (size-dependent shunting), the others go
through :func:`sim.transport.transport_spheres` with the patient's arteriovenous shunt
(global or at tumour terminals, as for the spheres) and the embolic effect switched off, so
the flow state the treatment starts from is untouched.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dosimetry.decay import half_life_h
from sim.clinical import maa
from sim.config.clinical import ImagingSpec, ScoutSpec
from sim.seeding import stage_rng
from sim.transport import LIVER, LUNG, injection_segment, transport_spheres

__all__ = ["ScoutResult", "run_scout", "TC99M"]

#: The scout's nuclide.
TC99M = "Tc-99m"


@dataclass
class ScoutResult:
    """Where the scout's activity is at the start of the SPECT.

    Attributes
    ----------
    xyz_mm : (N, 3) array
        Liver-lodged particles [mm].
    activity_Bq : (N,) array
        Their bound Tc-99m activity at the start of the SPECT [Bq] (decay and breakdown).
    diameter_um, segment : (N,) arrays
        Diameter [um] and lodging segment of the liver particles.
    lung_activity_Bq : float
        Tc-99m activity in the lungs at the start of the SPECT [Bq].
    injection_segment : int
    info : dict
        Counts and fractions (``particles``, ``liver``, ``lung_shunt``, ``lung_passage``,
        ``lsf_at_injection``, ``lsf_at_scan``, ``bound_fraction``, ...).
    """

    xyz_mm: np.ndarray
    activity_Bq: np.ndarray
    diameter_um: np.ndarray
    segment: np.ndarray
    lung_activity_Bq: float
    injection_segment: int
    info: dict = field(default_factory=dict)


def run_scout(scenario, anatomy) -> ScoutResult:
    """Simulate the scout of a scenario in its anatomy (``[scout]``; defaults when absent).

    Raises
    ------
    ValueError
        Particles larger than the injected vessel, an impossible particle count.
    """
    spec = scenario.scout or ScoutSpec()
    scan_h = (scenario.imaging or ImagingSpec()).spect_tc99m.delay_h
    t_half = half_life_h(TC99M)
    n = maa.particles_injected(spec, t_half)
    if n > scenario.transport.max_spheres:
        raise ValueError(f"{n:,} scout particles exceed transport.max_spheres")
    d = maa.sample_diameters_um(spec, n, stage_rng(scenario.seed, "scout_diameters"))
    a0 = maa.particle_activities_Bq(d, spec.activity_MBq * 1e6, spec.activity_exponent)
    passes = maa.passes_to_lung(d, spec)
    where = spec.injection if spec.injection is not None else scenario.transport.injection
    inject = injection_segment(anatomy.tree, anatomy.flow, where)
    params = scenario.transport.params(scenario.patient.lung_shunt_fraction)
    params = params.model_copy(update={"embolic": "none"})
    dep = transport_spheres(anatomy.tree, d[~passes], a0[~passes], injection=inject,
                            params=params, rng=stage_rng(scenario.seed, "scout_transport"),
                            flow_state=anatomy.state, engine=scenario.transport.engine)
    liver = dep.fate == LIVER
    shunt = dep.fate == LUNG
    a_live = dep.activity_Bq.astype(np.float64)
    decay = 2.0 ** (-scan_h / t_half)
    bound = maa.bound_fraction(spec, scan_h)
    lung0 = float(a0[passes].sum() + a_live[shunt].sum())
    liver0 = float(a_live[liver].sum())
    lung_scan = lung0 * decay
    liver_scan = liver0 * decay * bound
    info = {"particles": int(n), "liver": int(liver.sum()), "lung_shunt": int(shunt.sum()),
            "lung_passage": int(passes.sum()),
            "other": int((~liver & ~shunt).sum()),
            "activity_injected_MBq": spec.activity_MBq,
            "activity_per_particle_mean_Bq": float(a0.mean()),
            "mean_diameter_um": float(d.mean()),
            "lsf_at_injection": lung0 / (lung0 + liver0) if lung0 + liver0 > 0 else 0.0,
            "lsf_at_scan": lung_scan / (lung_scan + liver_scan) if lung_scan + liver_scan > 0
            else 0.0,
            "lung_shunt_activity_fraction": float(a_live[shunt].sum() / a0.sum()),
            "lung_passage_activity_fraction": float(a0[passes].sum() / a0.sum()),
            "bound_fraction": bound, "scan_delay_h": scan_h, "half_life_h": t_half,
            "injection_segment": int(inject)}
    return ScoutResult(dep.liver_positions_mm(np.float64), a_live[liver] * decay * bound,
                       dep.diameter_um[liver].astype(np.float64),
                       dep.segment[liver].astype(np.int64), lung_scan, int(inject), info)
