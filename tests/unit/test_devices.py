"""Device library: sphere counts per device and treatment day (docs/physics.md, "Devices")."""
import math

import numpy as np
import pytest

from sim.config import ConfigError, scenario_from_dict
from sim.config.devices import DeviceSpec, device_table, get_device

T_HALF_Y90 = 64.1


def test_glass_counts_at_calibration():
    g = get_device("glass")
    p = g.prescribe(3.0, 0.0)
    assert p.n_spheres == 1_200_000  # 1.2 million per 3 GBq
    assert p.activity_per_sphere_Bq == pytest.approx(2500.0, rel=1e-12)
    assert p.spheres_per_GBq == pytest.approx(400_000, rel=1e-12)


@pytest.mark.parametrize("day", [1.0, 4.0, 7.0])
def test_glass_spheres_per_GBq_grow_with_decay(day):
    g = get_device("glass")
    expected = 400_000 * 2 ** (day * 24 / T_HALF_Y90)
    assert g.spheres_per_GBq(day) == pytest.approx(expected, rel=1e-12)


def test_glass_3_GBq_on_day_4_needs_about_3_4_million_spheres():
    # 3 GBq administered on day 4 needs a vial calibrated to 3 * 2^(96/64.1) GBq
    p = get_device("glass").prescribe(3.0, 4.0)
    a_cal = 3.0 * 2 ** (96 / T_HALF_Y90)
    assert p.vial_activity_at_calibration_GBq == pytest.approx(a_cal, rel=1e-12)
    assert p.n_spheres == round(a_cal * 400_000)
    assert 3.3e6 < p.n_spheres < 3.5e6
    assert p.vial_GBq == 8.5  # custom vials in 0.5 GBq steps


def test_resin_full_vial_at_calibration():
    r = get_device("resin")
    p = r.prescribe(3.0, 0.0)
    assert p.n_spheres == 44_000_000
    assert p.activity_per_sphere_Bq == pytest.approx(3e9 / 44e6, rel=1e-12)
    assert p.vial_fraction == pytest.approx(1.0, rel=1e-12)


def test_resin_vial_before_calibration_is_hotter():
    r = get_device("resin")
    # 1 day before calibration the 3 GBq vial holds 3 * 2^(24/64.1) GBq
    p = r.prescribe(3.0 * 2 ** (24 / T_HALF_Y90), -1.0)
    assert p.n_spheres == 44_000_000
    assert p.vial_fraction == pytest.approx(1.0, rel=1e-12)
    assert r.prescribe(5.0, 0.0).warnings  # more than one vial


def test_holmium_counts():
    h = get_device("holmium")
    assert h.nuclide == "Ho-166"
    p = h.prescribe(9.9, 0.0)
    assert p.n_spheres == 33_000_000
    # decays with the Ho-166 half-life of 26.8 h
    assert h.activity_per_sphere_Bq(26.8 / 24) == pytest.approx(150.0, rel=1e-12)


@pytest.mark.parametrize("key", ["glass", "resin", "holmium"])
def test_diameter_sampling_matches_the_spec(key):
    dev = get_device(key)
    d = dev.spec.diameter
    s = dev.sample_diameters_um(200_000, rng=3)
    assert s.min() >= d.min_um and s.max() <= d.max_um
    # mean within 4 sigma; SD within 4 sigma of its sampling error (~sd/sqrt(2n) for near-normal)
    se = d.sd_um / math.sqrt(s.size)
    assert abs(s.mean() - d.mean_um) < 4 * se
    assert abs(s.std() - d.sd_um) < 4 * d.sd_um * math.sqrt(2.0 / s.size) * 2


def test_sampling_is_deterministic_for_a_seed():
    dev = get_device("resin")
    assert np.array_equal(dev.sample_diameters_um(1000, 5), dev.sample_diameters_um(1000, 5))


def test_device_table_rows():
    rows = {r["device"]: r for r in device_table(4.0)}
    assert set(rows) >= {"glass", "resin", "holmium"}
    # a standard vial keeps its sphere count while its activity decays
    assert rows["glass"]["n_spheres"] == 1_200_000
    assert rows["glass"]["activity_GBq"] == pytest.approx(3 * 2 ** (-96 / T_HALF_Y90), rel=1e-12)
    assert rows["resin"]["n_spheres"] == 44_000_000


CUSTOM = {"name": "Test spheres", "nuclide": "Y-90", "density_g_cm3": 2.0,
          "diameter": {"kind": "truncnorm", "mean_um": 40.0, "sd_um": 4.0, "min_um": 30.0,
                       "max_um": 50.0},
          "activity_per_sphere_Bq": 1000.0, "vial_activities_GBq": [2.0],
          "count_model": "partial_vial"}


def test_custom_device_in_a_scenario():
    s = scenario_from_dict({"liver": {"perfused_mass_kg": 1.0},
                            "treatment": {"device": "mine"}, "devices": {"mine": CUSTOM}})
    dev = s.device()
    assert dev.prescribe(1.0).n_spheres == 1_000_000


def test_custom_device_errors_name_the_key():
    bad = dict(CUSTOM, diameter=dict(CUSTOM["diameter"], mean_um=60.0))
    with pytest.raises(ConfigError, match=r"devices\.mine\.diameter"):
        scenario_from_dict({"liver": {"perfused_mass_kg": 1.0}, "devices": {"mine": bad}})
    bad = dict(CUSTOM, spheres_per_vial=1e3)  # inconsistent with 1000 Bq per sphere
    with pytest.raises(ConfigError, match=r"devices\.mine"):
        scenario_from_dict({"liver": {"perfused_mass_kg": 1.0}, "devices": {"mine": bad}})
    with pytest.raises(ValueError):
        DeviceSpec.model_validate(dict(CUSTOM, count_model="bucket"))


def test_prescribe_refuses_bad_activity():
    with pytest.raises(ValueError, match="activity_GBq"):
        get_device("glass").prescribe(-1.0)
