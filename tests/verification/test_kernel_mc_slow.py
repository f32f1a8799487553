"""Slow MC verification: rebuild vs shipped tables; monoenergetic kernels vs ETRAN / EGSnrc /
PENELOPE-2018.

Published monoenergetic scaled kernels: ETRAN (Berger's code; Ferrer et al., Cancer Biother
Radiopharm 2007;22:125) and EGSnrc (Mainegra-Hing et al., Med Phys 2005;32:685), as distributed
with Geant4 example TestEm12; see :data:`dosimetry.reference_data.PUBLISHED_MONO_J`. Both codes
use I = 75 eV for water (ICRU 37), so these comparisons run with I = 75 eV; the shipped kernels
use ICRU 90's 78 eV.
Run with ``pytest -m slow``.
"""
import numpy as np
import pytest

from dosimetry.electron_physics import ESTAR_RADIATION_YIELD
from dosimetry.reference_data import PUBLISHED_MONO_J, PUBLISHED_MONO_X, PUBLISHED_MONO_X90
from dosimetry.kernel_build import build_kernels, monoenergetic_kernel
from dosimetry.kernels import load_kernel, load_photon_kernel

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_reduced_rebuild_agrees_with_shipped(name):
    shipped = load_kernel(name)
    new, new_p = build_kernels(name, histories=100_000, seed=777, batches=20)
    np.testing.assert_allclose(new.r_outer_mm, shipped.r_outer_mm, rtol=1e-12)
    sel = (shipped.r_outer_mm <= shipped.radius_for_fraction(0.999)) & (shipped.energy_MeV_per_decay > 0)
    a, b = new.energy_MeV_per_decay[sel], shipped.energy_MeV_per_decay[sel]
    sa, sb = a * new.rel_std_err[sel], b * shipped.rel_std_err[sel]
    z = (a - b) / np.hypot(sa, sb)
    assert np.max(np.abs(z)) < 5.0
    assert np.mean(z**2) < 1.6
    assert new.x90_mm() == pytest.approx(shipped.x90_mm(), abs=0.03)
    # discrete bremsstrahlung: ~0.07-0.1 photons per decay, so the radiated energy of 1e5
    # histories has a 2 % statistical uncertainty (3 sigma)
    assert new.bremsstrahlung_fraction == pytest.approx(shipped.bremsstrahlung_fraction, rel=0.06)
    # photon kernel: same shells, energies within their combined uncertainties in wide bands
    sp = load_photon_kernel(name)
    np.testing.assert_allclose(new_p.r_outer_mm, sp.r_outer_mm, rtol=1e-12)
    edges = [0.0, 20.0, 50.0, 100.0, 200.0, 400.0]
    ratio = np.diff(new_p.energy_within_MeV(edges)) / np.diff(sp.energy_within_MeV(edges))
    assert np.all(np.abs(ratio - 1) < 0.1), ratio


def test_rebuild_is_bit_identical():
    a = build_kernels("Ho-166", histories=20_000, seed=5, batches=10, line_histories=5_000)
    b = build_kernels("Ho-166", histories=20_000, seed=5, batches=10, line_histories=5_000)
    for ka, kb in zip(a, b):
        np.testing.assert_array_equal(ka.energy_MeV_per_decay, kb.energy_MeV_per_decay)
        np.testing.assert_array_equal(ka.rel_std_err, kb.rel_std_err)


@pytest.fixture(scope="module")
def mono():
    return {e: monoenergetic_kernel(e, histories=100_000, seed=11, i_ev=75.0) for e in (0.1, 0.5, 1.0)}


def _scaled_j(k, x, half_width=0.025):
    e0, r0 = k.metadata["source_energy_MeV"], k.metadata["csda_range_mm"]
    lo, hi = np.maximum(np.asarray(x) - half_width, 0.0), np.asarray(x) + half_width
    return (k.energy_within_MeV(hi * r0) - k.energy_within_MeV(lo * r0)) / ((hi - lo) * r0) * r0 / e0


def _references(energy):
    """Published J(x) at ``energy``; at 0.5 MeV, where only ETRAN is published here, an EGSnrc
    estimate is derived from ETRAN x (EGSnrc / ETRAN) interpolated in ln E between 0.1 and 1 MeV
    (ETRAN's peak is 3-5 % above EGSnrc's at both)."""
    refs = [np.array(v) for (code, e), v in PUBLISHED_MONO_J.items() if e == energy]
    if energy == 0.5:
        r01 = np.array(PUBLISHED_MONO_J[("EGSnrc", 0.1)]) / np.array(PUBLISHED_MONO_J[("ETRAN", 0.1)])
        r10 = np.array(PUBLISHED_MONO_J[("EGSnrc", 1.0)]) / np.array(PUBLISHED_MONO_J[("ETRAN", 1.0)])
        w = np.log(0.5 / 0.1) / np.log(1.0 / 0.1)
        refs.append(np.array(PUBLISHED_MONO_J[("ETRAN", 0.5)]) * ((1 - w) * r01 + w * r10))
    return np.array(refs)


@pytest.mark.parametrize("energy", [0.1, 0.5, 1.0])
def test_monoenergetic_shape_vs_published(mono, energy):
    k = mono[energy]
    x = np.array(PUBLISHED_MONO_X)
    refs = _references(energy)
    ours = _scaled_j(k, x)
    rel = np.min(np.abs(ours[None, :] / refs - 1.0), axis=0)  # the closer of ETRAN / EGSnrc
    # near r0/2 (x = 0.4-0.6) within 2 %, where the scaled kernel carries its energy (0.2-0.8)
    # within 4 % (ETRAN and EGSnrc differ by up to 5 % among themselves there)
    near = (x >= 0.4) & (x <= 0.6)
    assert np.all(rel[near] < 0.02), (ours, refs)
    sel = (x >= 0.2) & (x <= 0.8)
    assert np.all(rel[sel] < 0.04), (ours, refs)


@pytest.mark.parametrize("energy", [0.1, 0.5, 1.0])
def test_monoenergetic_x90_vs_published(mono, energy):
    k = mono[energy]
    x90 = k.x90_mm() / k.metadata["csda_range_mm"]
    for (code, e), ref in PUBLISHED_MONO_X90.items():
        if e == energy:
            assert x90 == pytest.approx(ref, abs=0.015), code
    # Botta et al. 2011 / the EGSnrc and ETRAN curves: ~90 % within 0.8 R_CSDA
    f08 = k.energy_within_MeV(0.8 * k.metadata["csda_range_mm"]) / energy
    assert 0.89 <= f08 <= 0.97
    # CSDA range bounds the penetration up to range straggling
    assert 1.0 - k.cumulative_fraction(k.metadata["csda_range_mm"]) < 0.01


@pytest.mark.parametrize("energy", [1.0, 2.0])
def test_monoenergetic_vs_penelope(energy):
    # PENELOPE-2018 (PenRed, 2e6 histories, ICRU-90 water, I = 78 eV like our default; see
    # dosimetry/data/reference_penelope_mono_water.csv). 2 MeV is where the electrons that reach
    # 5-6 mm from a Y-90 source start. Measured with 4e5 histories: 0.05 r0 bands within 0.2 %
    # (1 MeV) and 0.5 % (2 MeV) up to x = 0.75. Here 0.1 r0 bands up to 0.8 r0 (95 % of the
    # energy), 1e5 histories (band uncertainty ~0.3 %): within 1.5 %.
    from dosimetry.kernels import DoseKernel
    from dosimetry.reference_data import penelope_mono

    ours = monoenergetic_kernel(energy, histories=100_000, seed=12)
    ri, ro, e, _ = penelope_mono(energy)
    pen = DoseKernel(f"e- {energy} MeV (PENELOPE-2018)", ri, ro, e, density_g_cm3=1.0)
    edges = np.arange(0.0, 0.801, 0.1) * ours.metadata["csda_range_mm"]
    ratio = np.diff(ours.energy_within_MeV(edges)) / np.diff(pen.energy_within_MeV(edges))
    assert np.all(np.abs(ratio - 1) < 0.015), ratio


@pytest.mark.parametrize("energy", [1.0, 2.0])
def test_monoenergetic_bremsstrahlung_vs_estar(energy):
    k = monoenergetic_kernel(energy, histories=200_000, seed=3, step_fraction=0.04, i_ev=75.0)
    # ESTAR radiation yield of the primary; delta rays add a few per cent (the photons are
    # discrete: 0.1 per history at 1 MeV, hence the many histories)
    assert k.bremsstrahlung_fraction == pytest.approx(ESTAR_RADIATION_YIELD[energy], rel=0.06)


def test_step_size_convergence():
    # the mixed scheme (hard elastic events + two-moment soft deflections) does not depend on
    # the energy step
    x = np.array([0.3, 0.5, 0.6, 0.7])
    a = monoenergetic_kernel(0.5, histories=40_000, seed=5, step_fraction=0.005, i_ev=75.0)
    b = monoenergetic_kernel(0.5, histories=40_000, seed=6, step_fraction=0.04, i_ev=75.0)
    r0 = a.metadata["csda_range_mm"]
    assert a.x90_mm() / r0 == pytest.approx(b.x90_mm() / r0, abs=0.005)
    np.testing.assert_allclose(_scaled_j(a, x), _scaled_j(b, x), rtol=0.02)


def test_first_moment_wentzel_model_depends_on_step_size():
    # the cause of the compact kernels of kernel MC 1.0: with a first-moment-only Wentzel
    # deflection the peak of the 0.1 MeV kernel moves with the step size (by > 3 % between 2 %
    # and 0.125 % energy loss per step), with the mixed scheme it does not (< 1.5 %)
    x = np.array([0.55, 0.6, 0.65])

    def peak(model, frac, seed):
        k = monoenergetic_kernel(0.1, histories=40_000, seed=seed, step_fraction=frac,
                                 ms_model=model, ee_scattering="all", i_ev=75.0)
        return float(np.mean(_scaled_j(k, x)))

    legacy = peak("wentzel1", 0.00125, 1) / peak("wentzel1", 0.02, 2) - 1
    mixed = peak("mixed", 0.00125, 1) / peak("mixed", 0.02, 2) - 1
    assert legacy > 0.03
    assert abs(mixed) < 0.015
