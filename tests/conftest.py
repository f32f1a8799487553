"""Shared test fixtures: Agg backend, repository paths."""
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def configs_dir() -> Path:
    return REPO / "configs"


@pytest.fixture(scope="session")
def tiny_phantom(tmp_path_factory):
    """The NIfTI phantom at 0.35 of its size on 2 mm voxels (liver, territory, two tumour
    labels; x and y flipped) and a fast chain scenario on it (dict; paths absolute)."""
    from sim.anatomy.phantom import write_phantom

    folder = tmp_path_factory.mktemp("phantom")
    paths = write_phantom(folder, voxel_mm=(2.0, 2.0, 2.0), shape=(20, 16, 14), scale=0.35)
    scenario = {
        "name": "tiny_phantom", "seed": 3,
        "patient": {"lung_shunt_fraction": 0.05},
        "tree": {"generator": "grown", "root_xyz_mm": [2.0, -20.0, 5.0],
                 "root_radius_um": 500.0, "terminal_mass_mg": 2.0,
                 "domain": {"shape": "mask", "path": str(paths["liver"]),
                            "territory": str(paths["territory"])},
                 "tumours": [{"mask": str(paths["tumours"]), "label": 1, "vascularity": 3.0},
                             {"mask": str(paths["tumours"]), "label": 2}]},
        "flow": {"calibrate_perfusion_mL_min_g": 0.27},
        "treatment": {"device": "glass"},
        "plan": {"partition_tumour_dose_Gy": 205.0},
        "dose": {"grid_um": 500.0},
        "scout": {"particles": 30000},
    }
    return {"paths": paths, "scenario": scenario, "folder": folder}
