"""Scenario validation: every class of bad input is refused with a message naming the key."""
import pytest

from sim.config import ConfigError, load_scenario, scenario_from_dict, scenario_to_toml

BASE = {"liver": {"perfused_mass_kg": 1.0, "tumour_mass_kg": 0.2, "tumour_to_normal": 3.0}}


def with_(section, **kw):
    d = {k: dict(v) for k, v in BASE.items()}
    d.setdefault(section, {}).update(kw)
    return d


@pytest.mark.parametrize("data, key, words", [
    # unknown keys
    ({**BASE, "colour": "red"}, "colour", "unknown key"),
    (with_("liver", mass_kg=1.0), "liver.mass_kg", "unknown key"),
    (with_("patient", height_cm=170), "patient.height_cm", "unknown key"),
    # wrong types
    (with_("liver", perfused_mass_kg="1.5"), "liver.perfused_mass_kg", "wrong type"),
    (with_("patient", lung_shunt_fraction=[0.1]), "patient.lung_shunt_fraction", "wrong type"),
    (with_("treatment", device=3), "treatment.device", "wrong type"),
    # physically impossible values
    (with_("liver", perfused_mass_kg=-1.0), "liver.perfused_mass_kg", "allowed"),
    (with_("patient", lung_shunt_fraction=1.0), "patient.lung_shunt_fraction", "allowed"),
    (with_("patient", lung_shunt_fraction=-0.1), "patient.lung_shunt_fraction", "allowed"),
    (with_("liver", tumour_mass_kg=1.5), "liver.tumour_mass_kg", "less than"),
    (with_("treatment", activity_GBq=0.0), "treatment.activity_GBq", "allowed"),
    (with_("treatment", activity_GBq=-2.0), "treatment.activity_GBq", "allowed"),
    (with_("patient", weight_kg=0.0), "patient.weight_kg", "allowed"),
    # unknown device / nuclide / convention
    (with_("treatment", device="platinum"), "treatment.device", "allowed: glass, holmium, resin"),
    (with_("treatment", dose_constant="vendor"), "treatment.dose_constant", "icrp107"),
    ({**BASE, "devices": {"x": {"name": "x", "nuclide": "Zz-12", "density_g_cm3": 1.0,
                                "diameter": {"mean_um": 30.0, "sd_um": 3.0, "min_um": 20.0,
                                             "max_um": 40.0},
                                "activity_per_sphere_Bq": 10.0, "vial_activities_GBq": [1.0],
                                "count_model": "partial_vial"}}},
     "devices.x.nuclide", "Zz-12"),
    # missing required section
    ({"patient": {}}, "liver", "missing"),
])
def test_refusals_name_file_key_and_rule(data, key, words):
    with pytest.raises(ConfigError) as info:
        scenario_from_dict(data, "bad.toml")
    msg = str(info.value)
    assert msg.startswith("bad.toml: ")
    assert key in msg
    assert words in msg
    assert "\n" not in msg


def test_range_message_gives_both_bounds():
    with pytest.raises(ConfigError, match=r"0\.0 <= value < 1\.0"):
        scenario_from_dict(with_("patient", lung_shunt_fraction=1.5), "bad.toml")


def test_toml_errors_and_missing_files(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[liver\nperfused_mass_kg = 1\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_scenario(p)
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")


def test_examples_load_and_round_trip(configs_dir):
    for path in sorted(configs_dir.glob("*.toml")):
        s = load_scenario(path)
        import tomllib

        again = scenario_from_dict(tomllib.loads(scenario_to_toml(s)), "roundtrip")
        assert again == s


def test_integers_are_accepted_for_floats():
    s = scenario_from_dict({"liver": {"perfused_mass_kg": 1}})
    assert s.liver.perfused_mass_kg == 1.0
