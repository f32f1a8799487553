"""The Tc-99m-MAA scout against its sources and analytic expectations, and planning from a
noise-free, infinite-resolution scout against planning from the truth."""
import copy
import math

import numpy as np
import pytest

from sim.clinical import maa, steps
from sim.clinical.scout import run_scout
from sim.config import scenario_from_dict
from sim.config.clinical import ScoutSpec
from sim.pipeline import build_anatomy

TC99M_HALF_LIFE_H = 6.015  # ICRP-107


def test_size_distribution_meets_the_kit_specification():
    """Pulmolite insert: > 90 % of the particles 10-90 um, none above 150 um, typical average
    15-30 um."""
    spec = ScoutSpec()
    d = maa.sample_diameters_um(spec, 200_000, rng=1)
    assert np.mean((d >= 10) & (d <= 90)) > 0.90
    assert d.max() <= 150.0
    assert 15.0 <= maa.mean_diameter_um(spec) <= 30.0
    assert d.mean() == pytest.approx(maa.mean_diameter_um(spec), rel=5e-3)
    assert np.mean((d >= 10) & (d <= 90)) == pytest.approx(maa.fraction_between(spec, 10, 90),
                                                            abs=3e-3)
    # the d^3-weighted share below 10 um: analytic vs sampled
    w = d ** 3
    assert w[d < 10].sum() / w.sum() == pytest.approx(
        maa.fraction_between(spec, 0.0, 10.0, 3.0), rel=0.1)


def test_particle_count_is_the_vials_share():
    """N = N_vial A / (A_vial 2^(-t/T1/2)), T1/2 = 6.015 h (ICRP-107)."""
    spec = ScoutSpec(activity_MBq=150.0, particles_per_vial=5e6, vial_activity_MBq=2775.0,
                     hours_labelling_to_injection=1.0)
    expected = 5e6 * 150.0 / (2775.0 * 2.0 ** (-1.0 / TC99M_HALF_LIFE_H))
    assert maa.particles_injected(spec, TC99M_HALF_LIFE_H) == round(expected)
    assert maa.particles_injected(ScoutSpec(particles=1234), TC99M_HALF_LIFE_H) == 1234


def test_breakdown_reproduces_the_apparent_lung_shunts_of_grosser_2016():
    """Apparent LSF 3.9 %, 7.7 %, 9.9 % at 1, 5, 24 h (Grosser et al. J Nucl Med 2016): with
    lung MAA fixed, the lung-to-liver ratio grows as 1 / bound fraction."""
    spec = ScoutSpec()

    def ratio(lsf):
        return lsf / (1.0 - lsf)

    b = {t: maa.bound_fraction(spec, t) for t in (1.0, 5.0, 24.0)}
    assert b[1.0] / b[5.0] == pytest.approx(ratio(0.077) / ratio(0.039), rel=1e-3)
    assert b[1.0] / b[24.0] == pytest.approx(ratio(0.099) / ratio(0.039), rel=1e-3)


def test_activity_grows_with_the_particle_volume():
    a = maa.particle_activities_Bq([10.0, 20.0], 9e6, 3.0)
    assert a.sum() == pytest.approx(9e6) and a[1] / a[0] == pytest.approx(8.0)


SMALL = {"name": "scout", "seed": 7, "patient": {"lung_shunt_fraction": 0.10},
         "tree": {"generator": "grown", "root_radius_um": 500.0, "root_xyz_mm": [-12.0, 0, 0],
                  "domain": {"shape": "ellipsoid", "centre_mm": [0.0, 0.0, 0.0],
                             "semi_axes_mm": [10.0, 8.0, 8.0]}},
         "scout": {"particles": 40000}}


def test_scout_accounting_shunt_and_no_embolic_effect():
    """Every particle is in the liver or the lungs; the flow state is untouched; without
    passage and with equal activities the lung share is the patient's LSF (binomial, 4
    sigma); the apparent LSF at the scan is the injected ratio over the bound fraction."""
    data = copy.deepcopy(SMALL)
    data["scout"].update(passage_diameter_um=0.0, activity_exponent=0.0)
    s = scenario_from_dict(data)
    anatomy = build_anatomy(s)
    before = anatomy.state.subtree_resistance.copy()
    scout = run_scout(s, anatomy)
    assert np.array_equal(before, anatomy.state.subtree_resistance)
    info = scout.info
    n = info["particles"]
    assert info["liver"] + info["lung_shunt"] + info["lung_passage"] + info["other"] == n
    assert info["other"] == 0 and info["lung_passage"] == 0
    assert info["lsf_at_injection"] == pytest.approx(0.10, abs=4 * math.sqrt(0.09 / n))
    r_inj = info["lsf_at_injection"] / (1 - info["lsf_at_injection"])
    r_scan = info["lsf_at_scan"] / (1 - info["lsf_at_scan"])
    assert r_scan == pytest.approx(r_inj / info["bound_fraction"], rel=1e-9)


def test_small_particles_pass_to_the_lungs():
    """With equal activities per particle, the particles below the passage diameter add their
    share (analytic, truncated log-normal) to the lung."""
    data = copy.deepcopy(SMALL)
    data["patient"]["lung_shunt_fraction"] = 0.0
    data["scout"].update(activity_exponent=0.0, passage_diameter_um=15.0)
    s = scenario_from_dict(data)
    scout = run_scout(s, build_anatomy(s))
    share = maa.fraction_between(s.scout, 0.0, 15.0)
    n = scout.info["particles"]
    assert scout.info["lsf_at_injection"] == pytest.approx(
        share, abs=4 * math.sqrt(share * (1 - share) / n))


def _ideal(tiny_phantom):
    data = copy.deepcopy(tiny_phantom["scenario"])
    data["imaging"] = {"spect_tc99m": {"voxel_mm": 2.0, "fwhm_mm": 0.0, "noise": "none"}}
    return scenario_from_dict(data)


def test_ideal_scout_plans_like_the_truth(tiny_phantom):
    """A noise-free scout at infinite resolution on voxels aligned with the anatomy: T:N, LSF
    and every model's activity equal planning from the particles themselves."""
    s = _ideal(tiny_phantom)
    anatomy = build_anatomy(s)
    scout = run_scout(s, anatomy)
    img, vois, lung = steps.image_scout(s, anatomy, scout, steps.image_rngs(s.seed))
    assert not (vois.compartments.label == -3).any()  # aligned: every voxel is pure
    plan = steps.plan_treatment(s, anatomy, scout, img, vois, lung)
    m, t = plan["measured"], plan["truth"]
    assert m.tumour_to_normal == pytest.approx(t.tumour_to_normal, rel=1e-9)
    assert m.lung_shunt_fraction == pytest.approx(t.lung_shunt_fraction, rel=1e-9)
    for model in ("mird", "partition", "bsa"):
        assert plan["plans"][model].activity_GBq == pytest.approx(
            plan["truth_plans"][model].activity_GBq, rel=1e-9)


def test_blurred_scout_underestimates_tumour_uptake(tiny_phantom):
    """Partial volume: a 12.8 mm FWHM spreads the small tumours' counts into the normal liver,
    so the measured T:N falls below the particles' T:N."""
    s = scenario_from_dict(copy.deepcopy(tiny_phantom["scenario"]))
    anatomy = build_anatomy(s)
    scout = run_scout(s, anatomy)
    img, vois, lung = steps.image_scout(s, anatomy, scout, steps.image_rngs(s.seed))
    plan = steps.plan_treatment(s, anatomy, scout, img, vois, lung)
    assert plan["measured"].tumour_to_normal < 0.9 * plan["truth"].tumour_to_normal


def test_summary_without_passage_to_the_lungs():
    """passage_diameter_um = 0 (allowed: no particle crosses the capillaries) gives zero
    fractions below the passage, not a math error."""
    s = maa.maa_summary(ScoutSpec(passage_diameter_um=0.0), 6.015, 1.5)
    assert s["activity_fraction_below_passage"] == 0.0
    assert s["particle_fraction_below_passage"] == 0.0
