"""The tree and transport commands end to end on small seeded scenarios."""
import json

import h5py
import numpy as np
import pytest

from sim.cli import main
from sim.results.io import FILETYPE, open_results

SMALL = """
name = "small"
seed = 5
[patient]
lung_shunt_fraction = 0.1
[tree]
generator = "grown"
root_radius_um = 600.0
root_xyz_mm = [-14.0, 0.0, 0.0]
terminal_mass_mg = 1.0
domain = { shape = "ellipsoid", centre_mm = [0.0, 0.0, 0.0], semi_axes_mm = [12.0, 9.0, 9.0] }
[[tree.tumours]]
centre_mm = [3.0, 0.0, 0.0]
radius_mm = 4.0
vascularity = 4.0
[flow]
calibrate_perfusion_mL_min_g = 0.27
[treatment]
device = "glass"
activity_GBq = 0.05
[transport]
embolic = "linear"
spheres_to_occlude = 50.0
"""


@pytest.fixture
def small_cfg(tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p


def test_tree_command(small_cfg, tmp_path, capsys):
    out, vtp, png = tmp_path / "t.h5", tmp_path / "t.vtp", tmp_path / "t.png"
    assert main(["tree", str(small_cfg), "-o", str(out), "--vtp", str(vtp), "--plot", str(png),
                 "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    # ellipsoid volume / (1 mg / 1.06 mg/mm^3) terminals, within 5 %
    expected = 4 / 3 * np.pi * 12 * 9 * 9 * 1.06
    assert abs(s["terminals"] - expected) < 0.05 * expected
    assert s["inlet_flow_mL_min"] == pytest.approx(0.27 * s["perfused_mass_g"], rel=1e-9)
    with open_results(out) as f:
        # the reported T:N is the flows' (vascularity 4 with perfusion heterogeneity about it)
        term = f["tree/is_terminal"][()]
        q = f["flow/flow_mL_min"][()][term]
        m = f["tree/terminal_mass_mg"][()][term]
        reg = f["tree/region"][()][term]
        tn = (q[reg == 1].sum() / m[reg == 1].sum()) / (q[reg == 0].sum() / m[reg == 0].sum())
        assert s["tumour_to_normal_ratio"] == pytest.approx(tn, rel=1e-9)
        assert 2.0 < tn < 8.0
        assert f.attrs["filetype"] == FILETYPE and f.attrs["seed"] == 5
        assert "small" in f.attrs["config_toml"]
        assert f["tree/radius_um"].attrs["units"] == "um"
        assert f["flow/flow_mL_min"].shape == (s["segments"],)
    assert vtp.stat().st_size > 0 and png.stat().st_size > 0


def test_transport_command_accounting_and_reproducibility(small_cfg, tmp_path, capsys):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert main(["transport", str(small_cfg), "-o", str(a), "--json", "--quiet",
                 "--plot-dir", str(tmp_path / "fig"), "--vtp", str(tmp_path / "t.vtp")]) == 0
    s = json.loads(capsys.readouterr().out)
    c = s["counts"]
    # 0.05 GBq of glass at calibration: 2,500 Bq per sphere
    assert c["injected"] == round(0.05e9 / 2500)
    assert c["injected"] == c["liver"] + c["lung"] + c["reflux"] + c["undelivered"]
    assert c["injected_activity_GBq"] == pytest.approx(0.05, rel=1e-6)
    assert len(s["figures"]) == 2
    from sim.tree.io import read_vtp

    cells = read_vtp(tmp_path / "t.vtp")
    assert int(np.sum(cells["cell_data"]["spheres"])) == c["liver"]
    assert main(["transport", str(small_cfg), "-o", str(b), "--quiet"]) == 0
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert np.array_equal(fa["deposition/segment"][()], fb["deposition/segment"][()])
        assert fa["deposition"].attrs["liver"] == c["liver"]
        assert fa["deposition/position_mm"].attrs["units"] == "mm"
    # a different seed gives a different deposition
    assert main(["transport", str(small_cfg), "-o", str(b), "--quiet", "--seed", "6"]) == 0
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert not np.array_equal(fa["deposition/segment"][()], fb["deposition/segment"][()])


def test_scenario_without_tree_is_refused(tmp_path, capsys):
    p = tmp_path / "p.toml"
    p.write_text("[liver]\nperfused_mass_kg = 1.0\n")
    assert main(["tree", str(p)]) == 2
    assert "[tree]" in capsys.readouterr().err


def test_dose_command_adds_the_dose_groups(small_cfg, tmp_path, capsys):
    out = tmp_path / "d.h5"
    assert main(["transport", str(small_cfg), "-o", str(out), "--quiet"]) == 0
    capsys.readouterr()
    pts = tmp_path / "pts.csv"
    pts.write_text("# x,y,z [mm]\n0,0,0\n3,0,0\n")
    assert main(["dose", str(out), "--grid-um", "500", "--points", str(pts), "--json",
                 "--plot-dir", str(tmp_path / "figs")]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["spacing_mm"] == pytest.approx(0.5)
    assert len(s["figures"]) == 3
    with open_results(out) as f:
        assert {"dose", "metrics", "planning", "deposition", "tree"} <= set(f)
        assert f["dose/dose_Gy"].attrs["units"] == "Gy"
        assert f["dose/points_dose_Gy"].shape == (2,)
        # the tumour centre gets more dose than normal liver on average
        assert f["dose/points_dose_Gy"][1] > f["metrics/normal"].attrs["mean_Gy"]
    # a file without a deposition is refused cleanly
    tree_only = tmp_path / "t.h5"
    assert main(["tree", str(small_cfg), "-o", str(tree_only)]) == 0
    capsys.readouterr()
    assert main(["dose", str(tree_only)]) == 2
    assert "deposition" in capsys.readouterr().err
