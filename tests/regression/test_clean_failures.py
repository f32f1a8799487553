"""Failures that must be clean: one line, exit status 2, nothing written, nothing lost."""
import json
import os
from pathlib import Path
import subprocess
import sys

import h5py
import numpy as np
import pytest
from rich.console import Console

from sim.cli import main
from sim.cli.report import print_devices
from sim.config import load_scenario, scenario_from_dict, scenario_to_toml
from sim.config.devices import device_table
from sim.memory import MemoryBudgetError, check_memory, estimate_peak_bytes
from sim.pipeline import run
from sim.tree import load_mask  # noqa: F401 - the tree package imports cleanly

REPO = Path(__file__).resolve().parents[2]
SMALL = """
name = "small"
seed = 5
[tree]
generator = "grown"
root_radius_um = 400.0
root_xyz_mm = [-9.0, 0.0, 0.0]
domain = { shape = "ellipsoid", centre_mm = [0.0, 0.0, 0.0], semi_axes_mm = [7.0, 6.0, 6.0] }
[treatment]
device = "glass"
activity_GBq = 0.01
[dose]
grid_um = 500.0
"""


@pytest.fixture
def small(tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p


def test_unwritable_output_is_refused_before_any_work(small, tmp_path, capsys):
    assert main(["run", str(small), "-o", "/proc/r.h5", "--quiet"]) == 2
    assert "/proc/r.h5" in capsys.readouterr().err


def test_a_killed_write_leaves_no_temporary_behind(small, tmp_path):
    out = tmp_path / "r.h5"
    stale = tmp_path / ".r.h5.999999999.tmp"  # a pid that cannot be alive
    stale.write_bytes(b"half a file")
    run(small, output=out, figures=False)
    assert out.exists() and not stale.exists()


def test_empty_device_list_is_refused_and_creates_nothing(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare-devices", "--devices", ",", "-o", str(out)]) == 2
    assert "--devices" in capsys.readouterr().err
    assert not out.exists()


def test_every_config_round_trips_through_the_stored_toml(tmp_path):
    paths = sorted((REPO / "configs").glob("*.toml")) + [REPO / "sim" / "data" / "teaching.toml"]
    for p in paths:
        s = load_scenario(p)
        import tomllib
        assert scenario_from_dict(tomllib.loads(scenario_to_toml(s))) == s, p
    # a custom device whose key has a space
    dev = {"name": "My glass", "nuclide": "Y-90", "density_g_cm3": 3.6,
           "diameter": {"mean_um": 25.0, "sd_um": 2.5, "min_um": 20.0, "max_um": 30.0},
           "activity_per_sphere_Bq": 2500.0, "vial_activities_GBq": [3.0],
           "count_model": "whole_vial"}
    s = scenario_from_dict({"liver": {"perfused_mass_kg": 1.0}, "devices": {"my glass": dev},
                            "treatment": {"device": "my glass"}})
    import tomllib
    assert scenario_from_dict(tomllib.loads(scenario_to_toml(s))) == s


def test_custom_device_with_a_space_runs_and_replots(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(SMALL.replace('device = "glass"', 'device = "my glass"') + """
[devices."my glass"]
name = "My glass"
nuclide = "Y-90"
density_g_cm3 = 3.6
diameter = { mean_um = 25.0, sd_um = 2.5, min_um = 20.0, max_um = 30.0 }
activity_per_sphere_Bq = 2500.0
vial_activities_GBq = [3.0]
count_model = "whole_vial"
""")
    out = tmp_path / "c.h5"
    assert main(["run", str(cfg), "-o", str(out), "--no-figures", "--quiet"]) == 0
    assert main(["plot", str(out), "-o", str(tmp_path / "f")]) == 0
    assert main(["dose", str(out), "--grid-um", "1000"]) == 0


def test_damaged_tree_in_a_results_file_is_refused(small, tmp_path, capsys):
    out = tmp_path / "t.h5"
    assert main(["transport", str(small), "-o", str(out), "--quiet"]) == 0
    with h5py.File(out, "r+") as f:
        del f["tree/radius_um"]
    capsys.readouterr()
    assert main(["dose", str(out)]) == 2
    assert "damaged" in capsys.readouterr().err


def test_plot_of_a_damaged_file_writes_no_figure(small, tmp_path, capsys):
    out = tmp_path / "d.h5"
    run(small, output=out, figures=False)
    with h5py.File(out, "r+") as f:
        del f["dose/dose_Gy"]
    figs = tmp_path / "figs"
    assert main(["plot", str(out), "-o", str(figs)]) == 2
    assert not figs.exists() or not any(figs.iterdir())


def test_show_into_a_closed_pipe_is_not_an_error(small, tmp_path):
    out = tmp_path / "d.h5"
    run(small, output=out, figures=False)
    cmd = f"{sys.executable} -m sim.cli show {out} --json | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True,
                       cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert r.returncode == 0, r.stderr
    assert "Broken pipe" not in r.stderr and r.stdout.strip() == "{"


def test_dose_points_are_printed(small, tmp_path, capsys):
    out = tmp_path / "t.h5"
    assert main(["transport", str(small), "-o", str(out), "--quiet"]) == 0
    pts = tmp_path / "p.csv"
    pts.write_text("0,0,0\n1,2,3\n")
    capsys.readouterr()
    assert main(["dose", str(out), "--points", str(pts)]) == 0
    text = capsys.readouterr().out
    assert "Point doses" in text and "1.000" in text and "3.000" in text


def test_disconnected_csv_tree_and_outsized_tumour_are_warned(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    csv.write_text("id,parent,x_proximal_mm,y_proximal_mm,z_proximal_mm,x_distal_mm,"
                   "y_distal_mm,z_distal_mm,radius_um,terminal_mass_mg\n"
                   "0,-1,0,0,0,1,0,0,100,0\n1,0,1,0,0,2,0,0,50,1\n"
                   "2,0,41,0,0,42,0,0,50,1\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[tree]\ngenerator = "file"\npath = "{csv}"\n')
    assert main(["tree", str(cfg), "-o", str(tmp_path / "t.h5"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert any("40.0 mm" in w for w in s["warnings"])
    big = tmp_path / "b.toml"
    big.write_text(SMALL + "[[tree.tumours]]\ncentre_mm = [6.0, 0.0, 0.0]\nradius_mm = 4.0\n")
    assert main(["tree", str(big), "-o", str(tmp_path / "b.h5"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert any("tumour 1 extends outside the domain" in w for w in s["warnings"])


def test_units_survive_the_terminal_tables():
    """rich reads [um] as markup unless escaped; on 80 columns headers fold, never cut."""
    with open(os.devnull, "w") as sink:
        con = Console(width=160, record=True, file=sink)
        print_devices(con, device_table(0.0), 0.0, None)
        text = con.export_text()
        for unit in ("[um]", "[g/cm3]", "[GBq]"):
            assert unit in text, unit
        narrow = Console(width=80, record=True, file=sink)
        print_devices(narrow, device_table(0.0), 0.0, None)
        assert "…" not in narrow.export_text()


def test_memory_guard_refuses_what_does_not_fit(small, tmp_path, monkeypatch, capsys):
    est = estimate_peak_bytes(44_000_000, 300_000, 2e7)
    with pytest.raises(MemoryBudgetError, match="GB"):
        check_memory(est, "a resin vial", available=1e9)
    import sim.memory
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: 5e8)
    assert main(["run", str(small), "-o", str(tmp_path / "m.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "GB of memory" in err and "0.5 GB are available" in err
    assert not (tmp_path / "m.h5").exists()
