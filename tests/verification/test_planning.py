"""Planning models against the worked cases of docs/physics.md, "Planning models" (derived from the
formulas of Gulec 2006, Ho 1996, Kennedy 2007 and Du Bois 1916)."""
import math

import pytest

from dosimetry import planning


def test_mird_worked_case():
    # D = 120 Gy, M = 1.5 kg, LSF = 0.10, K = 50 -> A = 120 * 1.5 / (50 * 0.9) = 4.000 GBq
    r = planning.mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.10, target_dose_Gy=120,
                      dose_constant="therasphere")
    assert r.activity_GBq == pytest.approx(4.0, rel=1e-12)
    assert r.lung_dose_Gy == pytest.approx(50 * 4.0 * 0.10 / 1.0, rel=1e-12)  # 20.0 Gy
    assert r.liver_dose_Gy == pytest.approx(120.0, rel=1e-12)
    assert r.warnings == []
    d = r.to_dict()
    assert d["activity_GBq"] == r.activity_GBq and d["lung_dose_Gy"] == r.lung_dose_Gy


def test_mird_inverse_direction():
    r = planning.mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.10, activity_GBq=4.0,
                      dose_constant=50)
    assert r.liver_dose_Gy == pytest.approx(120.0, rel=1e-12)


def test_partition_worked_case():
    # D_N = 40, T/N = 3, M_T = 0.3, M_N = 1.2, LSF = 0.05, K = 49.67
    r = planning.partition(tumour_mass_kg=0.3, normal_mass_kg=1.2, tumour_to_normal=3,
                           lung_shunt_fraction=0.05, normal_dose_Gy=40, dose_constant="partition")
    expected_a = 40 * (3 * 0.3 + 1.2) / (49.67 * 0.95)
    assert r.activity_GBq == pytest.approx(expected_a, rel=1e-12)
    assert r.activity_GBq == pytest.approx(1.7802, abs=5e-5)
    assert r.tumour_dose_Gy == pytest.approx(120.0, rel=1e-12)
    assert r.normal_dose_Gy == pytest.approx(40.0, rel=1e-12)
    assert r.lung_dose_Gy == pytest.approx(4.42, abs=5e-3)
    # the perfused-volume mean equals MIRD at the same activity
    m = planning.mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.05, activity_GBq=r.activity_GBq,
                      dose_constant="partition")
    assert r.liver_dose_Gy == pytest.approx(m.liver_dose_Gy, rel=1e-12)


def test_partition_round_trip_and_tumour_target():
    kw = dict(tumour_mass_kg=0.2, normal_mass_kg=0.8, tumour_to_normal=4.0, lung_shunt_fraction=0.1)
    a = planning.partition(normal_dose_Gy=35.0, **kw).activity_GBq
    back = planning.partition(activity_GBq=a, **kw)
    assert back.normal_dose_Gy == pytest.approx(35.0, rel=1e-12)
    t = planning.partition(tumour_dose_Gy=140.0, **kw)
    assert t.normal_dose_Gy == pytest.approx(35.0, rel=1e-12)
    assert t.activity_GBq == pytest.approx(a, rel=1e-12)


def test_bsa_worked_case():
    r = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.20)
    bsa_m2 = 0.20247 * 1.75**0.725 * 75**0.425
    assert r.extra["bsa_m2"] == pytest.approx(bsa_m2, rel=1e-12)
    assert r.extra["bsa_m2"] == pytest.approx(1.9031, abs=5e-5)
    assert r.activity_GBq == pytest.approx(bsa_m2 - 0.2 + 0.2, rel=1e-12)
    assert r.activity_GBq == pytest.approx(1.903, abs=5e-4)


@pytest.mark.parametrize("lsf, factor", [(0.10, 1.0), (0.1001, 0.8), (0.15, 0.8), (0.1501, 0.6),
                                         (0.20, 0.6)])
def test_bsa_lung_shunt_reductions(lsf, factor):
    base = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2).activity_GBq
    r = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2, lung_shunt_fraction=lsf)
    assert r.activity_GBq == pytest.approx(base * factor, rel=1e-12)
    assert not r.contraindicated


def test_bsa_contraindicated_above_20_percent():
    r = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2, lung_shunt_fraction=0.25)
    assert r.contraindicated and r.activity_GBq == 0.0
    assert any("lung shunt" in w for w in r.warnings)


def test_lung_dose_warnings():
    # 30 Gy single: A * LSF * K > 30 with K = 50, LSF = 0.2 needs A > 3 GBq
    r = planning.mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.2, activity_GBq=3.5,
                      dose_constant=50)
    assert r.lung_dose_Gy == pytest.approx(35.0, rel=1e-12)
    assert any("single-treatment" in w for w in r.warnings)
    r = planning.mird(perfused_mass_kg=1.5, lung_shunt_fraction=0.1, activity_GBq=4.0,
                      dose_constant=50, prior_lung_dose_Gy=35.0)
    assert any("cumulative" in w for w in r.warnings)
    assert not any("single-treatment" in w for w in r.warnings)


def test_tumour_burden_warning():
    r = planning.partition(tumour_mass_kg=0.8, normal_mass_kg=0.2, tumour_to_normal=2,
                           normal_dose_Gy=30)
    assert any("tumour burden" in w for w in r.warnings)


@pytest.mark.parametrize("call, name", [
    (lambda: planning.mird(perfused_mass_kg=-1, target_dose_Gy=100), "perfused_mass_kg"),
    (lambda: planning.mird(perfused_mass_kg=1, target_dose_Gy=100, lung_shunt_fraction=1.0),
     "lung_shunt_fraction"),
    (lambda: planning.mird(perfused_mass_kg=1), "target_dose_Gy"),
    (lambda: planning.mird(perfused_mass_kg=1, target_dose_Gy=100, activity_GBq=1), "activity_GBq"),
    (lambda: planning.mird(perfused_mass_kg=1, activity_GBq=0), "activity_GBq"),
    (lambda: planning.partition(tumour_mass_kg=0.1, normal_mass_kg=1, tumour_to_normal=0,
                                normal_dose_Gy=40), "tumour_to_normal"),
    (lambda: planning.bsa(height_m=175, weight_kg=75, tumour_fraction=0.1), "height_m"),
    (lambda: planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=1.2), "tumour_fraction"),
    (lambda: planning.mird(perfused_mass_kg=1, target_dose_Gy=100, dose_constant="x"),
     "dose_constant"),
])
def test_invalid_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_dose_constant_default_is_icrp107():
    r = planning.mird(perfused_mass_kg=1.0, activity_GBq=1.0)
    assert r.dose_constant_Gy_kg_per_GBq == pytest.approx(
        1e9 * 64.1 * 3600 / math.log(2) * 0.93290 * 1.602176634e-13, rel=1e-5)


def test_bsa_scales_with_the_treated_fraction():
    whole = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2)
    lobe = planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2, perfused_fraction=0.6)
    assert lobe.activity_GBq == pytest.approx(0.6 * whole.activity_GBq, rel=1e-12)
    with pytest.raises(ValueError, match="perfused_fraction"):
        planning.bsa(height_m=1.75, weight_kg=75, tumour_fraction=0.2, perfused_fraction=0)
