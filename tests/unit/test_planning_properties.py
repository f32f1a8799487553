"""Property tests: each planning model inverts itself and the models agree where they must."""
import pytest
from hypothesis import given, settings, strategies as st

from dosimetry import planning

mass = st.floats(0.05, 3.0)
lsf = st.floats(0.0, 0.5)
dose = st.floats(1.0, 500.0)
ratio = st.floats(0.2, 20.0)


@settings(max_examples=200, deadline=None)
@given(m=mass, f=lsf, d=dose)
def test_mird_round_trip(m, f, d):
    a = planning.mird(perfused_mass_kg=m, lung_shunt_fraction=f, target_dose_Gy=d).activity_GBq
    back = planning.mird(perfused_mass_kg=m, lung_shunt_fraction=f, activity_GBq=a)
    assert back.liver_dose_Gy == pytest.approx(d, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(mt=mass, mn=mass, tn=ratio, f=lsf, d=dose)
def test_partition_energy_balance(mt, mn, tn, f, d):
    r = planning.partition(tumour_mass_kg=mt, normal_mass_kg=mn, tumour_to_normal=tn,
                           lung_shunt_fraction=f, normal_dose_Gy=d)
    k = r.dose_constant_Gy_kg_per_GBq
    # energy in tumour + normal + lung equals K * A (all activity accounted for)
    total = r.tumour_dose_Gy * mt + r.normal_dose_Gy * mn + r.lung_dose_Gy * 1.0
    assert total == pytest.approx(k * r.activity_GBq, rel=1e-12)
    # with T/N = 1 the partition model is MIRD
    one = planning.partition(tumour_mass_kg=mt, normal_mass_kg=mn, tumour_to_normal=1.0,
                             lung_shunt_fraction=f, activity_GBq=r.activity_GBq)
    m = planning.mird(perfused_mass_kg=mt + mn, lung_shunt_fraction=f, activity_GBq=r.activity_GBq)
    assert one.normal_dose_Gy == pytest.approx(m.liver_dose_Gy, rel=1e-12)
