"""The teaching comparison says only what its numbers support: replicates and their spread,
confounders named, per-device uptake and lobule CV, the asked devices only, nuclide-specific
photon shares, no wrong radiobiology."""
import json

import pytest

from sim.cli import main
from sim.compare import compare_devices
from sim.compare.runs import paired_difference, spread

TINY = """
name = "tiny"
seed = 1
[tree]
generator = "grown"
root_radius_um = 400.0
root_xyz_mm = [-9.0, 0.0, 0.0]
domain = { shape = "ellipsoid", centre_mm = [0.0, 0.0, 0.0], semi_axes_mm = [7.0, 6.0, 6.0] }
[[tree.tumours]]
centre_mm = [2.0, 0.0, 0.0]
radius_mm = 2.5
vascularity = 3.0
[flow]
calibrate_perfusion_mL_min_g = 0.27
[treatment]
device = "glass"
[transport]
spheres_to_occlude = 50.0
[dose]
grid_um = 500.0
"""


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmp")
    cfg = tmp / "tiny.toml"
    cfg.write_text(TINY)
    out = compare_devices(cfg, devices=("glass", "holmium"), output_dir=tmp / "out",
                          replicates=2)
    return out, (tmp / "out" / "compare_devices.md").read_text()


def test_report_names_the_asked_devices_and_the_spread(two_devices):
    out, text = two_devices
    title = text.splitlines()[0]
    assert "TheraSphere" in title and "Ho-166" in title
    assert "SIR-Spheres" not in text
    assert "2 replicates" in text and "Student t" in text
    for row in ("T:N uptake", "normal-lobule dose CV", "tumour mean",
                "normal lobules < 40 Gy at a common normal mean"):
        assert row in text
    # every device row carries mean and spread for the numbers that vary
    assert out["rows"]["glass"]["normal_mean_Gy"]["n"] == 2
    assert len(out["results"]["glass"]) == 2


def test_report_uses_each_nuclides_photon_share_and_right_radiobiology(two_devices):
    _, text = two_devices
    assert "Y-90's photons, 0.45 %" in text
    assert "Ho-166's photons, 4.5 %" in text
    assert "during delivery" not in text and "while it accrues" in text


def test_every_difference_has_a_verdict(two_devices):
    _, text = two_devices
    diffs = [ln for ln in text.splitlines() if " − " in ln and "=" in ln]
    assert diffs and all("(resolved)" in ln or "not resolved" in ln for ln in diffs)


def test_one_replicate_resolves_nothing(tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    compare_devices(cfg, devices=("glass", "resin"), output_dir=tmp_path / "o", replicates=1)
    text = (tmp_path / "o" / "compare_devices.md").read_text()
    assert "(resolved)" not in text
    assert "With one replicate no difference can be told" in text


def test_paired_difference_uses_the_t_distribution():
    # two replicates, differences 1.0 and 1.2: mean 1.1, SE 0.1; t(0.975, 1) = 12.71 > 11
    assert paired_difference([2.0, 2.2], [1.0, 1.0])[2] is False
    # five replicates with the same mean and SE: t(0.975, 4) = 2.78 < 11
    a = [2.0, 2.2, 2.1, 2.1, 2.1]
    mean, se, ok = paired_difference(a, [1.0] * 5)
    assert ok and mean == pytest.approx(1.1)
    assert spread([1.0, 3.0]).sd == pytest.approx(2 ** 0.5)


def test_cli_replicates_are_checked(tmp_path, capsys):
    assert main(["compare-devices", "--replicates", "0", "-o", str(tmp_path / "x")]) == 2
    assert "--replicates" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_json(two_devices, tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    assert main(["compare-devices", str(cfg), "--devices", "glass", "--replicates", "1",
                 "-o", str(tmp_path / "j"), "--quiet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"rows", "figure", "report", "results"}
