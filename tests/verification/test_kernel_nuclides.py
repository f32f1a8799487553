"""Shipped Y-90 / Ho-166 kernels vs ICRP-107, ESTAR and energy bookkeeping (no MC run)."""
import numpy as np
import pytest
from icrp107_database import get_icrp107_spectrum

from dosimetry.decay import get_nuclide
from dosimetry.electron_physics import csda_range_g_cm2, radiation_yield
from dosimetry.kernel_build import beta_source_cdf
from dosimetry.kernels import load_kernel, load_photon_kernel


def _icrp107_line_energy(name, kinds):
    """Energy per decay of ICRP-107 discrete radiations [MeV]: sum of yield x energy."""
    total = 0.0
    for kind in kinds:
        s = get_icrp107_spectrum(name, kind)
        total += float(np.sum(np.asarray(s["energies"], float) * np.asarray(s["weights"], float)))
    return total


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_electron_energy_balance(name):
    # charged-particle kernel: betas + conversion + Auger electrons (ICRP-107); the energy they
    # carry off as bremsstrahlung photons above 1 keV is bremsstrahlung_MeV_per_decay
    k = load_kernel(name)
    emitted = get_nuclide(name).mean_beta_energy_MeV + _icrp107_line_energy(name, ("IE", "auger"))
    assert k.emitted_MeV_per_decay == pytest.approx(emitted, rel=1e-9)
    assert k.energy_per_decay_MeV + k.bremsstrahlung_MeV_per_decay == pytest.approx(emitted, rel=1e-6)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_photon_energy_balance(name):
    # photon kernel within the table + photon energy beyond it = bremsstrahlung + gamma/X lines
    e, p = load_kernel(name), load_photon_kernel(name)
    lines = _icrp107_line_energy(name, ("gamma", "X"))
    beyond = p.metadata["energy_beyond_table_MeV_per_decay"]
    assert p.emitted_MeV_per_decay == pytest.approx(e.bremsstrahlung_MeV_per_decay + lines, rel=1e-6)
    assert p.energy_per_decay_MeV + beyond == pytest.approx(p.emitted_MeV_per_decay, rel=1e-6)
    # all of it: electrons absorbed + photons absorbed in the table + photons beyond = emitted
    total = get_nuclide(name).mean_beta_energy_MeV + _icrp107_line_energy(
        name, ("IE", "auger", "gamma", "X"))
    assert e.energy_per_decay_MeV + p.energy_per_decay_MeV + beyond == pytest.approx(total, rel=1e-6)
    assert 0 < beyond < 0.25 * p.emitted_MeV_per_decay


def test_ho166_conversion_and_auger_electrons_included():
    # ICRP-107: Ho-166 emits 0.0284 MeV of conversion and 0.0029 MeV of Auger electrons per
    # decay (4.5 % of its electron energy); they are in the charged-particle kernel
    k = load_kernel("Ho-166")
    nuc = get_nuclide("Ho-166")
    other = _icrp107_line_energy("Ho-166", ("IE", "auger"))
    assert other == pytest.approx(nuc.mean_other_electron_energy_MeV, rel=1e-9)
    assert other == pytest.approx(0.0313, abs=2e-4)
    assert k.emitted_MeV_per_decay - nuc.mean_beta_energy_MeV == pytest.approx(other, rel=1e-6)
    src = {s["label"]: s for s in k.metadata["sources"]}
    assert src["conversion + Auger electrons"]["per_decay"] == pytest.approx(
        sum(float(np.sum(get_icrp107_spectrum("Ho-166", g)["weights"])) for g in ("IE", "auger")))
    # the 80.6 keV gamma (6.7 %) and the Er K X-rays are in the photon kernel's source
    p = load_photon_kernel("Ho-166")
    assert "gamma" in p.metadata["includes"]
    assert p.emitted_MeV_per_decay - k.bremsstrahlung_MeV_per_decay == pytest.approx(
        _icrp107_line_energy("Ho-166", ("gamma", "X")), rel=1e-6)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_bremsstrahlung_vs_estar_radiation_yield(name):
    # spectrum-averaged ESTAR radiation yield of the primaries; the MC also lets delta rays
    # radiate (a few per cent more) and keeps photons below 1 keV local (0.3 % less)
    e, cdf, _ = beta_source_cdf(name)
    mid = 0.5 * (e[1:] + e[:-1])
    expected = np.sum(mid * radiation_yield(mid) * np.diff(cdf)) / np.sum(mid * np.diff(cdf))
    assert load_kernel(name).bremsstrahlung_fraction == pytest.approx(expected, rel=0.06)


def test_y90_within_11_mm():
    k = load_kernel("Y-90")
    # >= 99 % of the absorbed electron energy within 11 mm (issue)
    assert k.cumulative_fraction(11.0) >= 0.99
    # Graves et al. 2019: 99.5-99.7 % of the energy within 11 mm, bremsstrahlung included
    # (it deposits far away); counting our bremsstrahlung as beyond 11 mm:
    frac_emitted = k.energy_within_MeV(11.0) / k.emitted_MeV_per_decay
    assert 0.995 <= frac_emitted <= 0.997
    # Graves et al. 2019: 0.9336 MeV per decay in total
    assert k.emitted_MeV_per_decay == pytest.approx(0.9336, rel=2e-3)


@pytest.mark.parametrize("name, r_estar_mm", [("Y-90", 11.3), ("Ho-166", 8.99)])
def test_range(name, r_estar_mm):
    # ESTAR (I = 75 eV): CSDA range at the endpoint energy 11.3 / 8.99 mm; the kernels use
    # ICRU 90's I = 78 eV, whose ranges are 0.4-0.5 % longer
    k = load_kernel(name)
    i_ev = k.metadata["physics"]["I_eV"]
    assert k.range_mm == pytest.approx(10 * csda_range_g_cm2(get_nuclide(name).endpoint_energy_MeV,
                                                             i_ev=i_ev), rel=1e-9)
    assert k.range_mm == pytest.approx(r_estar_mm, rel=0.007)
    assert 1.0 - k.cumulative_fraction(k.range_mm) < 1e-4
    # "mean energy range ~4 mm" (Y-90): the CSDA range at the mean energy
    if name == "Y-90":
        assert 10 * csda_range_g_cm2(get_nuclide(name).mean_beta_energy_MeV) == pytest.approx(4.0, abs=0.2)


def test_x90_and_ordering():
    y, h = load_kernel("Y-90"), load_kernel("Ho-166")
    # loose bounds; the published check of the Y-90 shape is tests/verification/test_kernel_references.py
    assert 5.3 < y.x90_mm() < 5.5
    assert 3.75 < h.x90_mm() < 4.05
    for r in (1.0, 2.0, 5.0):
        assert h.cumulative_fraction(r) > y.cumulative_fraction(r)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_statistical_uncertainty_recorded(name):
    k = load_kernel(name)
    inside = k.r_outer_mm <= k.x90_mm()
    assert np.nanmax(k.rel_std_err[inside]) < 0.01  # ~1 % per 0.05 mm shell where it matters
    r99 = k.radius_for_fraction(0.99)
    assert np.nanmax(k.rel_std_err[k.r_outer_mm <= r99]) < 0.03
    assert k.metadata["batches"] >= 20
    p = load_photon_kernel(name)
    sel = (p.r_outer_mm > 5) & (p.r_outer_mm <= 200)
    assert np.nanmax(p.rel_std_err[sel]) < 0.1


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_photon_kernel_shape(name):
    p = load_photon_kernel(name)
    # r^2 D of photons is nearly flat near the source and falls with distance
    r2d = p.energy_MeV_per_decay / (p.r_outer_mm - p.r_inner_mm)
    near = r2d[(p.r_outer_mm > 2) & (p.r_outer_mm <= 20)].mean()
    far = r2d[(p.r_inner_mm >= 200)].mean()
    assert far < 0.5 * near
    assert p.metadata["r_max_mm"] >= 200.0
