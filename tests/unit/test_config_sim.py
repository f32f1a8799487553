"""Validation of the [tree], [flow] and [transport] sections."""
import numpy as np
import pytest

from sim.config import ConfigError, load_scenario, scenario_from_dict

GROWN = {"generator": "grown", "root_radius_um": 800.0, "root_xyz_mm": [-12.0, 0.0, 0.0],
         "domain": {"shape": "ellipsoid", "centre_mm": [0.0, 0.0, 0.0],
                    "semi_axes_mm": [10.0, 8.0, 8.0]}}


def scen(**sections):
    return scenario_from_dict(sections, "t.toml")


def test_tree_only_scenario_needs_no_liver_section():
    s = scen(tree=GROWN)
    assert s.liver is None and s.tree.generator == "grown"


@pytest.mark.parametrize("tree, key, words", [
    ({**GROWN, "generations": 5}, "tree.generations", "not a key of the 'grown' generator"),
    ({"generator": "bifurcating", "domain": GROWN["domain"]}, "tree.domain", "bifurcating"),
    ({"generator": "grown", "root_radius_um": 800.0}, "tree.domain", "required"),
    ({**GROWN, "root_radius_um": -1.0}, "tree.root_radius_um", "allowed"),
    ({**GROWN, "domain": {"shape": "ellipsoid", "centre_mm": [0, 0]}}, "tree.domain.centre_mm",
     "3 numbers"),
    ({**GROWN, "domain": {"shape": "box", "min_mm": [0.0, 0.0, 0.0], "max_mm": [1.0, -1.0, 1.0]}},
     "tree.domain.max_mm", "exceed"),
    ({**GROWN, "tumours": [{"centre_mm": [0.0, 0.0, 0.0], "radius_mm": -2.0}]},
     "tree.tumours.0.radius_mm", "> 0"),
    ({"generator": "file", "path": "does_not_exist.csv"}, "tree.path", "file not found"),
    ({"generator": "bifurcating", "split_ratio": 1.0}, "tree.split_ratio", "allowed"),
    ({**GROWN, "branching": "fractal"}, "tree.branching", "partition"),
    ({**GROWN, "side_branch_spacing": 2.0}, "tree.side_branch_spacing", "not used by"),
    ({**GROWN, "branching": "trunks", "minor_share_beta": [1.0, 1.0]}, "tree.minor_share_beta",
     "not used by"),
])
def test_tree_refusals(tree, key, words):
    with pytest.raises(ConfigError) as e:
        scen(tree=tree)
    assert key in str(e.value) and words in str(e.value)


@pytest.mark.parametrize("flow, key", [
    ({"inlet_flow_mL_min": 100.0, "inlet_pressure_mmHg": 90.0}, "flow.inlet_flow_mL_min"),
    ({"inlet_pressure_mmHg": 20.0}, "flow.inlet_pressure_mmHg"),
    ({"viscosity_mPa_s": 0.0}, "flow.viscosity_mPa_s"),
    ({"inlet_flow_mL_min": 10.0, "calibrate_perfusion_mL_min_g": 0.3},
     "flow.calibrate_perfusion_mL_min_g"),
])
def test_flow_refusals(flow, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        scen(tree=GROWN, flow=flow)


@pytest.mark.parametrize("transport, key", [
    ({"straight_ratio": 1.5}, "transport.straight_ratio"),
    ({"straight_ratio": 0.0}, "transport.straight_ratio"),
    ({"straight_ratio": 1.0}, "transport.straight_ratio"),
    ({"embolic": "glue"}, "transport.embolic"),
    ({"injection": "hepatic"}, "transport.injection"),
    ({"stasis_fraction": 1.0}, "transport.stasis_fraction"),
    ({"engine": "fast"}, "transport.engine"),
    ({"engine": "split"}, "transport.engine"),  # split has no embolic feedback
    ({"engine": "paths", "plug": True}, "transport.engine"),  # only walk has plugs
    ({"plug": "yes"}, "transport.plug"),
])
def test_transport_refusals(transport, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        scen(tree=GROWN, transport=transport)


def test_deep_tree_and_engine_options():
    s = scen(tree={**GROWN, "branching": "trunks", "side_branch_spacing": 1.5},
             transport={"embolic": "none", "engine": "split"})
    assert s.tree.branching == "trunks" and s.tree.side_branch_spacing == 1.5
    assert s.transport.engine == "split"
    assert scen(tree=GROWN).transport.engine == "auto"
    assert scen(tree=GROWN, transport={"plug": True}).transport.params(0.0).plug


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    mask = np.zeros((4, 4, 4), bool)
    mask[1:3, 1:3, 1:3] = True
    np.save(tmp_path / "mask.npy", mask)
    cfg = tmp_path / "s.toml"
    cfg.write_text('[tree]\ngenerator = "grown"\nroot_radius_um = 500.0\n'
                   'domain = { shape = "mask", path = "mask.npy", spacing_mm = [2.0, 2.0, 2.0] }\n')
    s = load_scenario(cfg)
    assert s.tree.domain.path == str(tmp_path / "mask.npy")

