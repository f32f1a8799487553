"""Photon interaction data and photon transport of water vs NIST XCOM / NIST SRD 126.

References: NIST XCOM (Berger et al., SRD 8) for the H and O cross sections
(dosimetry/data/xcom_H_O.csv); Hubbell & Seltzer, NIST SRD 126 (dosimetry/data/nist126_water.csv)
for mu/rho and mu_en/rho of liquid water; Klein & Nishina 1929 for the free-electron Compton
cross section.
"""
import math

import numpy as np
import pytest
from scipy import integrate

from dosimetry import _electron_mc as mc
from dosimetry.electron_physics import MEC2_MEV, R_E_CM
from dosimetry.photon_physics import (HC_MEV_CM, build_photon_tables, form_factor_sq_water,
                                      klein_nishina_mean_energy_transfer, nist126_water,
                                      photon_mass_coefficients, xcom_water)


def test_xcom_sum_reproduces_nist126_attenuation():
    # XCOM partial cross sections of H and O, summed for H2O, vs the NIST SRD 126 mu/rho of water
    k, mu, _ = nist126_water()
    c = photon_mass_coefficients(k)
    np.testing.assert_allclose(c["total"], mu, rtol=5e-4)


def test_interpolation_between_grid_points():
    # log-log interpolation: exact at the nodes, between neighbours in log space
    kx, sig, molar = xcom_water()
    c = photon_mass_coefficients(kx[5:20])
    np.testing.assert_allclose(c["incoh"], sig["incoh"][5:20] * 1e-24 * 6.02214076e23 / molar,
                               rtol=1e-12)
    mid = np.sqrt(kx[10] * kx[11])
    lo, hi = photon_mass_coefficients(kx[10])["total"], photon_mass_coefficients(kx[11])["total"]
    assert min(lo, hi) < photon_mass_coefficients(mid)["total"] < max(lo, hi)
    with pytest.raises(ValueError):
        photon_mass_coefficients(5.0)
    assert photon_mass_coefficients(1.0)["pair"] == 0.0  # below the 1.022 MeV threshold


@pytest.mark.parametrize("k", [0.02, 0.05, 0.1, 0.5])
def test_rayleigh_form_factor_reproduces_xcom_coherent(k):
    # pi r_e^2 int (1 + cos^2) F^2(x) dcos of the independent-atom model vs XCOM's coherent
    # cross section (computed by XCOM with the Hubbell-Overbo form factors): within 3.5 %
    c = np.linspace(-1, 1, 200001)
    x = np.sqrt((1 - c) / 2) * k / (HC_MEV_CM * 1e8)
    model = math.pi * R_E_CM**2 * np.trapezoid((1 + c * c) * form_factor_sq_water(x), c)
    kx, sig, _ = xcom_water()
    xcom = np.exp(np.interp(np.log(k), np.log(kx), np.log(sig["coh"]))) * 1e-24
    assert model == pytest.approx(xcom, rel=0.035)
    assert form_factor_sq_water(0.0) == pytest.approx(2 * 1 + 8**2)  # 2 F_H(0)^2 + F_O(0)^2


def test_klein_nishina_energy_transfer_matches_mu_en():
    # mu_en = mu_photo + mu_incoh <T>/k (no radiative losses of the secondaries in water to
    # better than 0.5 % below 3 MeV): derived from XCOM + Klein-Nishina vs NIST SRD 126
    k, _, mu_en = nist126_water()
    sel = (k >= 0.03) & (k <= 1.0)
    c = photon_mass_coefficients(k[sel])
    derived = c["photo"] + c["incoh"] * klein_nishina_mean_energy_transfer(k[sel])
    np.testing.assert_allclose(derived, mu_en[sel], rtol=0.03)


def test_klein_nishina_sampler():
    from numba import njit

    from dosimetry._photon_mc import klein_nishina_sample
    from dosimetry.rng import seed_hash, xoshiro_seed

    @njit
    def moments(k, n, key):
        s = np.empty(4, dtype=np.uint64)
        xoshiro_seed(s, key, 0)
        m = np.zeros(2)
        for _ in range(n):
            eps, c = klein_nishina_sample(s, k)
            m[0] += 1.0 - eps
            m[1] += c
        return m / n

    for k in (0.05, 0.5, 2.0):
        got = moments(k, 300_000, seed_hash(1))
        kap = k / MEC2_MEV

        def dsig(c):
            r = 1.0 / (1.0 + kap * (1.0 - c))
            return r * r * (r + 1.0 / r - (1.0 - c * c))

        norm = integrate.quad(dsig, -1, 1)[0]
        mean_c = integrate.quad(lambda c: c * dsig(c), -1, 1)[0] / norm
        assert got[0] == pytest.approx(klein_nishina_mean_energy_transfer(k), rel=0.01)
        assert got[1] == pytest.approx(mean_c, abs=0.005)


def test_rayleigh_sampler():
    from numba import njit

    from dosimetry._photon_mc import rayleigh_sample
    from dosimetry.rng import seed_hash, xoshiro_seed

    t = build_photon_tables()

    @njit
    def mean_cos(k, n, g, y0, dly, key):
        s = np.empty(4, dtype=np.uint64)
        xoshiro_seed(s, key, 0)
        m = 0.0
        for _ in range(n):
            m += rayleigh_sample(s, k, g, y0, dly)
        return m / n

    for k in (0.02, 0.1):
        got = mean_cos(k, 200_000, t.ray_g, t.ray_ln_y0, t.ray_dln, seed_hash(2))
        c = np.linspace(-1, 1, 400001)
        w = (1 + c * c) * form_factor_sq_water(np.sqrt((1 - c) / 2) * k / (HC_MEV_CM * 1e8))
        assert got == pytest.approx(np.trapezoid(c * w, c) / np.trapezoid(w, c), abs=0.004)


@pytest.fixture(scope="module")
def mev_point_source():
    n = 1_000_000
    res = mc.simulate_photon_source(np.array([1.0, 1.0]), np.array([0.0, 1.0]), histories=n,
                                    seed=4, batches=10, photon_shell_mm=0.5, n_photon_shells=800)
    return n, res


def test_photon_point_source_near_field_is_first_collision_kerma(mev_point_source):
    # Derived check of the attenuation and of the local energy transfer: near an isotropic
    # 1 MeV point source, photons that scattered elsewhere contribute little, so the energy
    # deposited within r is k (mu_en/rho) rho r (1 - mu r / 2 ...) = first collisions
    # k mu_en/mu (1 - exp(-mu r)), mu and mu_en from NIST SRD 126.
    n, res = mev_point_source
    k, mu, mu_en = nist126_water()
    m, men = float(np.interp(1.0, k, mu)) / 10.0, float(np.interp(1.0, k, mu_en)) / 10.0  # 1/mm
    e_2mm = res.photon_tally[:, :4].sum(axis=1) / res.counts
    first = 1.0 * men / m * -math.expm1(-m * 2.0)
    assert e_2mm.mean() / first == pytest.approx(1.0, abs=0.03)
    assert e_2mm.std(ddof=1) / math.sqrt(10) / first < 0.01


def test_photon_point_source_far_field_and_energy(mev_point_source):
    n, res = mev_point_source
    p = res.photon_tally.sum(axis=0) / n
    # every photon MeV is deposited somewhere (the overflow holds what is beyond 400 mm)
    assert p.sum() == pytest.approx(1.0, rel=1e-12)
    # uncollided photons fall as exp(-mu r): the probability of no interaction within 400 mm
    # bounds the energy beyond it from below (buildup only adds scattered photons)
    k, mu, _ = nist126_water()
    m = float(np.interp(1.0, k, mu)) / 10.0
    assert p[-1] > math.exp(-m * 400.0) * 0.3  # > 30 % of the uncollided photons' energy
    # far field: ln(dE/dr) falls more slowly than the total attenuation (buildup), and faster
    # than mu_en's (energy leaves the forward direction)
    edges = np.arange(801) * 0.5
    r = 0.5 * (edges[1:] + edges[:-1])
    sel = (r > 150) & (r < 350)
    slope = np.polyfit(r[sel], np.log(p[:-1][sel]), 1)[0]
    assert -m < slope < -0.2 * m
