"""Shipped Y-90 kernel vs an independent Monte Carlo kernel with PENELOPE-2018 physics.

Reference: the Y-90 beta point kernel in ICRU-90 water (I = 78 eV) computed with PenRed, the
C++ implementation of PENELOPE-2018 (Gimenez-Alventosa et al., Comput Phys Commun
2021;267:108065), 5e6 histories, same ICRP-107 spectrum and the same transport cut-offs
(10 keV electrons, 1 keV photons) as taresim's build; see
dosimetry/data/reference_penelope_Y-90_water.csv for every run parameter. PENELOPE shares the
mixed (class II) scheme that taresim's electron Monte Carlo follows, but not its data or code:
its elastic scattering is the partial-wave (ELSEPA) DCS itself, its inelastic collisions the
generalised-oscillator-strength model, not a restricted Bethe stopping power with Moller delta
rays.

Band statistics: batch estimates of a 0.5 mm band's relative standard error at 5-6 mm are
0.14 % for our 2e6 histories and ~0.1 % for PenRed's 5e6 (twice the per-shell errors added in
quadrature: the shells of one history are correlated).
"""
import numpy as np
import pytest

from dosimetry.kernels import DoseKernel, load_kernel
from dosimetry.reference_data import penelope_y90


@pytest.fixture(scope="module")
def kernels():
    ri, ro, e, _ = penelope_y90()
    pen = DoseKernel("Y-90 (PENELOPE-2018)", ri, ro, e, density_g_cm3=1.0)
    return load_kernel("Y-90", photons=True), pen


def _bands(k, edges):
    return np.diff(k.energy_within_MeV(np.asarray(edges, dtype=float)))


def test_r2d_within_1_percent_to_6_mm(kernels):
    # measured: within 0.4 % in every 0.5 mm band from 0 to 6 mm
    ours, pen = kernels
    edges = np.arange(0.0, 6.001, 0.5)
    ratio = _bands(ours, edges) / _bands(pen, edges)
    assert np.all(np.abs(ratio - 1) < 0.01), ratio


def test_r2d_within_3_percent_6_to_10_mm(kernels):
    # measured: +0.3, +1.0, +0.8, -1.3 % in 1 mm bands (target 5 %); the 9-10 mm band
    # holds 0.1 % of the energy and has ~1 % statistical uncertainty
    ours, pen = kernels
    edges = np.arange(6.0, 10.001, 1.0)
    ratio = _bands(ours, edges) / _bands(pen, edges)
    assert np.all(np.abs(ratio - 1) < 0.03), ratio


def test_x90_and_energy_within_2_mm(kernels):
    ours, pen = kernels

    def x90(k):
        target = 0.9 * float(k.energy_within_MeV(12.0))
        r = np.linspace(4.0, 7.0, 30001)
        return float(np.interp(target, k.energy_within_MeV(r), r))

    # measured: 5.404 vs 5.401 mm; energy within 2 mm 0.4030 vs 0.4032 MeV per decay
    assert x90(ours) == pytest.approx(x90(pen), rel=0.003)
    assert ours.energy_within_MeV(2.0) == pytest.approx(pen.energy_within_MeV(2.0), rel=0.005)
    assert ours.energy_within_MeV(12.0) == pytest.approx(pen.energy_within_MeV(12.0), rel=0.002)
