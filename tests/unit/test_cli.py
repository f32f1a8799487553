"""The taresim CLI: plan and devices commands, clean errors."""
import json
import subprocess
import sys

import pytest

from sim.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert "taresim" in capsys.readouterr().out


def test_plan_table(configs_dir, capsys):
    assert main(["plan", str(configs_dir / "plan_example.toml")]) == 0
    out = capsys.readouterr().out
    for word in ("MIRD", "Partition", "BSA", "Activity [GBq]", "Lung dose [Gy]", "Spheres"):
        assert word in out


def test_plan_json(configs_dir, capsys):
    assert main(["plan", str(configs_dir / "plan_example.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    m = data["models"]
    assert set(m) >= {"mird", "partition", "bsa"}
    # MIRD: 120 Gy over 1.0 kg with LSF 0.08 and K(icrp107)
    k = data["dose_constant_Gy_kg_per_GBq"]
    assert m["mird"]["activity_GBq"] == pytest.approx(120 * 1.0 / (k * 0.92), rel=1e-12)
    assert m["partition"]["normal_dose_Gy"] == pytest.approx(40.0, rel=1e-12)
    assert m["partition"]["tumour_dose_Gy"] == pytest.approx(120.0, rel=1e-12)
    # glass on day 4: spheres = A * 400,000 * 2^(96/64.1)
    assert m["mird"]["n_spheres"] == round(m["mird"]["activity_GBq"] * 4e5 * 2 ** (96 / 64.1))


def test_devices_json(capsys):
    assert main(["devices", "--day", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    glass = next(r for r in rows if r["device"] == "glass")
    assert glass["spheres_per_GBq"] == pytest.approx(4e5 * 2 ** (48 / 64.1), rel=1e-12)


def test_bad_config_is_one_clean_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[liver]\nperfused_mass_kg = 1.0\ntumour_mass_kg = 2.0\n")
    r = subprocess.run([sys.executable, "-m", "sim.cli", "plan", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "bad.toml" in lines[0] and "liver.tumour_mass_kg" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # nothing written


def test_bad_option_value(capsys):
    assert main(["devices", "--day", "99"]) == 2
    assert "--day" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "plan" in capsys.readouterr().out


def test_readme_synopses_list_every_option():
    """Each command's README heading names every option the parser accepts, and every
    command has a description for --help."""
    import argparse
    from pathlib import Path

    from sim.cli.parser import build_parser

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    heads = [ln for ln in readme.splitlines() if ln.startswith("### `taresim ")]
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert parser.description, f"{name} has no --help description"
        line = next((h for h in heads if f"taresim {name} " in h or h.startswith(
            f"### `taresim {name}`")), None)
        assert line is not None, f"README has no synopsis of taresim {name}"
        for action in parser._actions:
            longs = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            if longs:
                assert longs[0] in line, f"README synopsis of {name} lacks {longs[0]}"
