"""The validation suite runs from one command and reports published | simulated ± SD |
scenario, with calibration rows marked; the lobule-level parallel NTCP behaves as its
definition says."""
import json

import numpy as np
import pytest

from dosimetry.radiobiology import PARALLEL_LIVER, parallel_ntcp, subunit_damage
from sim.cli import main
from sim.validation import run_validation
from sim.validation.studies import lobule_peak_and_fwhm


def test_perfusion_study_reports_the_calibration_point(tmp_path):
    out = run_validation(tmp_path / "v", replicates=3, studies=["perfusion"])
    rows = {r["quantity"]: r for r in out["rows"]}
    cal = rows["flow CV in ~100 mg pieces of a ~10 g liver"]
    assert cal["kind"] == "calibration" and cal["published"] == 0.30
    # calibrated on 12 trees; 3 others scatter about it with their SD (~0.04)
    assert cal["simulated"]["mean"] == pytest.approx(0.30, abs=0.08)
    text = (tmp_path / "v" / "validation.md").read_text()
    assert "| published | simulated |" in text and "calibration" in text
    assert (tmp_path / "v" / "validation.png").stat().st_size > 0


def test_cli_checks_its_options(tmp_path, capsys):
    assert main(["validate", "--studies", "nope", "-o", str(tmp_path / "x")]) == 2
    assert "--studies" in capsys.readouterr().err
    assert main(["validate", "--replicates", "0", "-o", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert main(["validate", "--studies", "perfusion", "--replicates", "3", "--quiet",
                 "--json", "-o", str(tmp_path / "j")]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"rows", "report", "figure"}


def test_peak_and_fwhm_of_a_known_distribution():
    rng = np.random.default_rng(1)
    peak, fwhm = lobule_peak_and_fwhm(rng.normal(50.0, 5.0, 400_000), bin_Gy=0.5)
    assert peak == pytest.approx(50.0, abs=0.5)
    assert fwhm == pytest.approx(2 * np.sqrt(2 * np.log(2)) * 5.0, rel=0.05)


def test_parallel_ntcp_follows_its_definition():
    # subunit response: 1/2 at D50, logistic slope k
    assert subunit_damage(PARALLEL_LIVER.d50_Gy) == pytest.approx(0.5)
    d = PARALLEL_LIVER.d50_Gy + 1.0 / PARALLEL_LIVER.slope_per_Gy
    assert subunit_damage(d) == pytest.approx(1 / (1 + np.exp(-1.0)))
    # damaged fraction at the mean reserve gives NTCP 1/2; an untreated half halves f
    one = np.full(100, 1000.0)  # all subunits damaged
    assert parallel_ntcp(one)["damaged_fraction"] == pytest.approx(1.0)
    half = parallel_ntcp(one, untreated_fraction=1 - PARALLEL_LIVER.reserve_mean)
    assert half["ntcp"] == pytest.approx(0.5, abs=1e-9)
    # sparing lobules lowers the NTCP at the same mean dose
    uniform = parallel_ntcp(np.full(1000, 60.0))["ntcp"]
    spread_ = parallel_ntcp(np.r_[np.full(500, 0.0), np.full(500, 120.0)])["ntcp"]
    assert spread_ < uniform
