"""Slow MC verification: rebuild vs shipped tables; monoenergetic kernels vs ETRAN / EGSnrc.

Published monoenergetic scaled kernels: ETRAN (Berger's code; Ferrer et al., Cancer Biother
Radiopharm 2007;22:125) and EGSnrc (Mainegra-Hing et al., Med Phys 2005;32:685), as distributed
with Geant4 example TestEm12; see :data:`dosimetry.reference_data.PUBLISHED_MONO_J`.
Run with ``pytest -m slow``.
"""
import numpy as np
import pytest

from dosimetry.electron_physics import ESTAR_RADIATION_YIELD
from dosimetry.reference_data import PUBLISHED_MONO_J, PUBLISHED_MONO_X, PUBLISHED_MONO_X90
from dosimetry.kernel_build import build_kernel, monoenergetic_kernel
from dosimetry.kernels import load_kernel

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_reduced_rebuild_agrees_with_shipped(name):
    shipped = load_kernel(name)
    new = build_kernel(name, histories=100_000, seed=777, batches=20)
    np.testing.assert_allclose(new.r_outer_mm, shipped.r_outer_mm, rtol=1e-12)
    sel = (shipped.r_outer_mm <= shipped.radius_for_fraction(0.999)) & (shipped.energy_MeV_per_decay > 0)
    a, b = new.energy_MeV_per_decay[sel], shipped.energy_MeV_per_decay[sel]
    sa, sb = a * new.rel_std_err[sel], b * shipped.rel_std_err[sel]
    z = (a - b) / np.hypot(sa, sb)
    assert np.max(np.abs(z)) < 5.0
    assert np.mean(z**2) < 1.6
    assert new.x90_mm() == pytest.approx(shipped.x90_mm(), abs=0.03)
    assert new.bremsstrahlung_fraction == pytest.approx(shipped.bremsstrahlung_fraction, rel=0.02)


@pytest.fixture(scope="module")
def mono():
    return {e: monoenergetic_kernel(e, histories=30_000, seed=11) for e in (0.1, 0.5, 1.0)}


def _scaled_j(k, x, half_width=0.025):
    e0, r0 = k.metadata["source_energy_MeV"], k.metadata["csda_range_mm"]
    lo, hi = np.maximum(np.asarray(x) - half_width, 0.0), np.asarray(x) + half_width
    return (k.energy_within_MeV(hi * r0) - k.energy_within_MeV(lo * r0)) / ((hi - lo) * r0) * r0 / e0


@pytest.mark.parametrize("energy", [0.1, 0.5, 1.0])
def test_monoenergetic_shape_vs_published(mono, energy):
    k = mono[energy]
    x = np.array(PUBLISHED_MONO_X)
    refs = np.array([v for (code, e), v in PUBLISHED_MONO_J.items() if e == energy])
    ours = _scaled_j(k, x)
    sel = (x >= 0.2) & (x <= 0.8)  # where the scaled kernel carries the energy
    # within 8 % of ETRAN or EGSnrc at each x (they differ by up to ~5 % among themselves here;
    # this code sits ~3-7 % below their peak and ~4 % above them near the source)
    rel = np.min(np.abs(ours[None, :] / refs - 1.0), axis=0)
    assert np.all(rel[sel] < 0.08), (ours, refs)


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
def test_monoenergetic_bremsstrahlung_vs_estar(energy):
    k = monoenergetic_kernel(energy, histories=5000, seed=3, step_fraction=0.04)
    # ESTAR radiation yield of the primary; delta rays add a few per cent
    assert k.bremsstrahlung_fraction == pytest.approx(ESTAR_RADIATION_YIELD[energy], rel=0.06)


def test_step_size_convergence():
    a = monoenergetic_kernel(0.5, histories=20_000, seed=5, step_fraction=0.01)
    b = monoenergetic_kernel(0.5, histories=20_000, seed=6, step_fraction=0.04)
    r0 = a.metadata["csda_range_mm"]
    assert a.x90_mm() / r0 == pytest.approx(b.x90_mm() / r0, abs=0.01)
