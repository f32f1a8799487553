"""Dose-volume metrics and radiobiology against analytic values."""
import math

import numpy as np
import pytest

from dosimetry import metrics, radiobiology as rb


def test_bed_reference_check():
    # Dale 1985 (docs/physics.md, "Metrics and radiobiology"): alpha/beta 2.5 Gy, T_rep 1.5 h, T1/2 64.1 h, D = 100 Gy
    g = 1.5 / (1.5 + 64.1)
    expected = 100 * (1 + g * 100 / 2.5)
    assert rb.bed_Gy(100.0, alpha_beta_Gy=2.5, repair_half_time_h=1.5, half_life_h=64.1) == \
        pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(191.46, abs=0.01)


def test_eqd2_of_2gy_fractions_is_the_dose():
    # 30 x 2 Gy: BED = 60 (1 + 2/ab); EQD2 must give back 60 Gy
    bed = 60 * (1 + 2 / 3.0)
    assert rb.eqd2_Gy(bed, alpha_beta_Gy=3.0) == pytest.approx(60.0, rel=1e-12)


def test_eud_and_geud():
    d = np.array([10.0, 50.0])
    assert rb.geud_Gy(d, 1.0) == pytest.approx(30.0, rel=1e-12)
    assert rb.geud_Gy(d, 2.0) == pytest.approx(math.sqrt((100 + 2500) / 2), rel=1e-12)
    assert rb.geud_Gy(d, 200.0) == pytest.approx(50.0 * 0.5 ** (1 / 200), rel=1e-12)
    alpha = 0.3
    assert rb.eud_Gy(d, alpha) == pytest.approx(
        -math.log(0.5 * math.exp(-3.0) + 0.5 * math.exp(-15.0)) / alpha, rel=1e-12)
    # a uniform dose is its own EUD
    assert rb.eud_Gy(np.full(7, 42.0), 0.5) == pytest.approx(42.0, rel=1e-12)


def test_lkb_ntcp_at_td50_is_one_half():
    p = rb.LKB_PARAMETER_SETS["dawson2002_primary"]
    assert rb.lkb_ntcp(np.full(10, p.td50_Gy), p) == pytest.approx(0.5, abs=1e-12)
    # one standard deviation above: Phi(1)
    assert rb.lkb_ntcp(np.full(3, p.td50_Gy * (1 + p.m)), p) == pytest.approx(0.841344746, rel=1e-8)
    with pytest.raises(ValueError, match="unknown"):
        rb.lkb_ntcp([1.0], "nope")


def test_dose_statistics_weighted():
    d = np.array([10.0, 20.0, 30.0, 40.0])
    w = np.array([1.0, 1.0, 1.0, 1.0])
    s = metrics.dose_statistics(d, w)
    assert s["mean_Gy"] == pytest.approx(25.0)
    assert s["sd_Gy"] == pytest.approx(math.sqrt(125.0))
    assert s["V20Gy"] == pytest.approx(0.75)
    assert s["below_40Gy"] == pytest.approx(0.75)
    assert s["D50_Gy"] == 30.0  # the hottest half gets at least 30 Gy
    assert s["D98_Gy"] == 10.0 and s["D2_Gy"] == 40.0
    s2 = metrics.dose_statistics(d, [3.0, 1.0, 1.0, 1.0])
    assert s2["mean_Gy"] == pytest.approx((30 + 20 + 30 + 40) / 6)


def test_cumulative_dvh():
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 100, 100_000)
    axis, v = metrics.cumulative_dvh(d, max_dose_Gy=100.0, bins=10)
    assert v[0] == pytest.approx(1.0, rel=1e-9) and np.all(np.diff(v) <= 1e-12)
    assert np.allclose(v, 1 - axis / 100.0, atol=0.01)
