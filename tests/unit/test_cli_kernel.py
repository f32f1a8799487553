"""`taresim kernel`: the JSON contract and the Lanconelli check point."""
import json

from sim.cli import main


def test_kernel_json_with_voxels(capsys):
    assert main(["kernel", "--nuclide", "Y-90", "--voxel-mm", "4.42", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("nuclide", "voxel_mm", "density_g_cm3", "energy_per_decay_MeV",
                "s_values_mGy_per_MBq_s"):
        assert key in out
    rows = out["s_values_mGy_per_MBq_s"]
    assert all(0 <= i <= j <= k <= 5 for i, j, k, _ in rows)
    assert len(rows) == 56  # combinations with repetition of 3 indices from 0..5
    s000 = next(v for i, j, k, v in rows if (i, j, k) == (0, 0, 0))
    # fraction kept in the source voxel: S x voxel mass / energy per decay (Lanconelli 2012: 0.41)
    mass_kg = 1.04e-3 * 4.42**3 * 1e-3
    frac = s000 * 1e-3 / 1e6 * mass_kg / (out["energy_per_decay_MeV"] * 1.602176634e-13)
    assert 0.39 <= frac <= 0.43


def test_kernel_bad_nuclide(capsys):
    assert main(["kernel", "--nuclide", "Xx-1"]) == 2
    assert "--nuclide" in capsys.readouterr().err


def test_kernel_compare_figure(tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["kernel", "--compare", str(out), "--json"]) == 0
    assert out.stat().st_size > 10_000
    assert json.loads(capsys.readouterr().out)["compare_plot"] == str(out)
    # Ho-166 has no independent reference here: one clean error, nothing written
    bad = tmp_path / "ho.png"
    assert main(["kernel", "--nuclide", "Ho-166", "--compare", str(bad)]) == 2
    assert "--compare" in capsys.readouterr().err and not bad.exists()
