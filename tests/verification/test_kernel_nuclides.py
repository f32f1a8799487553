"""Shipped Y-90 / Ho-166 kernels vs ICRP-107, docs/physics.md and published values."""
import numpy as np
import pytest

from dosimetry.decay import get_nuclide
from dosimetry.electron_physics import csda_range_g_cm2, radiation_yield
from dosimetry.kernel_build import beta_source_cdf
from dosimetry.kernels import load_kernel


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_energy_balance(name):
    # shells add up to the mean beta energy minus the reported bremsstrahlung escape
    k = load_kernel(name)
    mean = get_nuclide(name).mean_beta_energy_MeV
    assert k.energy_per_decay_MeV == pytest.approx(mean - k.bremsstrahlung_MeV_per_decay, rel=0.01)
    assert k.energy_per_decay_MeV + k.bremsstrahlung_MeV_per_decay == pytest.approx(mean, rel=1e-6)
    assert k.emitted_MeV_per_decay == pytest.approx(mean, rel=1e-12)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_bremsstrahlung_vs_estar_radiation_yield(name):
    # spectrum-averaged ESTAR-type radiation yield of the primaries; the MC also lets delta rays
    # radiate (a few per cent more)
    e, cdf, _ = beta_source_cdf(name)
    mid = 0.5 * (e[1:] + e[:-1])
    expected = np.sum(mid * radiation_yield(mid) * np.diff(cdf)) / np.sum(mid * np.diff(cdf))
    assert load_kernel(name).bremsstrahlung_fraction == pytest.approx(expected, rel=0.06)


def test_y90_within_11_mm():
    k = load_kernel("Y-90")
    # >= 99 % of the absorbed energy within 11 mm (issue); essentially all beta energy is
    assert k.cumulative_fraction(11.0) >= 0.99
    # Graves et al. 2019: 99.5-99.7 % of the energy within 11 mm, bremsstrahlung included
    # (it deposits far away); counting our escaping bremsstrahlung as beyond 11 mm:
    frac_emitted = k.energy_within_MeV(11.0) / k.emitted_MeV_per_decay
    assert 0.995 <= frac_emitted <= 0.997
    # Graves et al. 2019: 0.9336 MeV per decay in total
    assert k.emitted_MeV_per_decay == pytest.approx(0.9336, rel=2e-3)


@pytest.mark.parametrize("name, r_endpoint_mm", [("Y-90", 11.3), ("Ho-166", 8.99)])
def test_range(name, r_endpoint_mm):
    # NIST ESTAR: CSDA range at the endpoint energy; nothing deposited beyond
    k = load_kernel(name)
    assert k.range_mm == pytest.approx(r_endpoint_mm, abs=0.05)
    assert 1.0 - k.cumulative_fraction(k.range_mm) < 1e-4
    # "mean energy range ~4 mm" (Y-90): the CSDA range at the mean energy
    if name == "Y-90":
        assert 10 * csda_range_g_cm2(get_nuclide(name).mean_beta_energy_MeV) == pytest.approx(4.0, abs=0.2)


def test_x90_and_ordering():
    y, h = load_kernel("Y-90"), load_kernel("Ho-166")
    # Regression bounds of this work (5.33 and 3.87 mm), not a published X90: the published
    # checks of the transport are the monoenergetic ETRAN / EGSnrc kernels (slow tests).
    assert 5.2 < y.x90_mm() < 5.5
    assert 3.75 < h.x90_mm() < 4.0
    for r in (1.0, 2.0, 5.0):
        assert h.cumulative_fraction(r) > y.cumulative_fraction(r)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_statistical_uncertainty_recorded(name):
    k = load_kernel(name)
    inside = k.r_outer_mm <= k.x90_mm()
    assert np.nanmax(k.rel_std_err[inside]) < 0.01  # ~1 % per 0.05 mm shell where it matters
    r95 = k.radius_for_fraction(0.99)
    assert np.nanmax(k.rel_std_err[k.r_outer_mm <= r95]) < 0.03
    assert k.metadata["batches"] >= 20
