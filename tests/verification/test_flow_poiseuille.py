"""Poiseuille network solve vs hand-computed resistances (SI units, converted here)."""

import numpy as np
import pytest

from sim.flow import solve_flow
from sim.tree import from_parent

MMHG = 133.322387415  # Pa


def resistance_si(r_um, l_mm, mu_mPa_s):
    """Hagen–Poiseuille R = 8 mu L / (pi r^4) [Pa s / m^3]."""
    return 8 * mu_mPa_s * 1e-3 * l_mm * 1e-3 / (np.pi * (r_um * 1e-6) ** 4)


def star(radii, lengths):
    """Root segment along x, then len(radii)-1 daughters from its distal end."""
    n = len(radii)
    prox = np.zeros((n, 3))
    dist = np.zeros((n, 3))
    dist[0] = [lengths[0], 0, 0]
    for i in range(1, n):
        ang = 2 * np.pi * i / (n - 1)
        prox[i] = dist[0]
        dist[i] = dist[0] + lengths[i] * np.array([np.cos(ang), np.sin(ang), 0.0])
    return from_parent(np.r_[-1, np.zeros(n - 1, int)], radii, prox, dist)


def test_single_tube_pressure_drop():
    t = from_parent(np.array([-1]), [100.0], np.zeros((1, 3)), [[10.0, 0, 0]])
    q_m3_s = 1e-6 / 60  # 1 mL/min
    dp_mmHg = q_m3_s * resistance_si(100.0, 10.0, 3.5) / MMHG
    f = solve_flow(t, inlet_flow_mL_min=1.0, terminal_pressure_mmHg=25.0, viscosity_mPa_s=3.5)
    np.testing.assert_allclose(f.inlet_pressure_mmHg - 25.0, dp_mmHg, rtol=1e-12)
    np.testing.assert_allclose(f.segment_resistance_mmHg_min_mL[0], dp_mmHg, rtol=1e-12)


@pytest.mark.parametrize("radii, lengths", [
    ([200.0, 120.0, 90.0], [5.0, 3.0, 4.0]),
    ([300.0, 150.0, 100.0, 60.0], [8.0, 2.0, 6.0, 1.5]),
])
def test_parallel_split_and_inlet_pressure(radii, lengths):
    t = star(radii, lengths)
    R = np.array([resistance_si(r, l, 3.5) for r, l in zip(radii, lengths)])
    g = 1 / R[1:]
    f = solve_flow(t, inlet_pressure_mmHg=98.0, terminal_pressure_mmHg=25.0)
    # parallel daughters: Q_i / Q_j = (r_i^4 / L_i) / (r_j^4 / L_j) = G_i / G_j
    np.testing.assert_allclose(f.flow_mL_min[1:] / f.flow_mL_min[0], g / g.sum(), rtol=1e-12)
    # series-parallel: Q = dP / (R0 + 1 / sum G)
    q_expected = (98.0 - 25.0) * MMHG / (R[0] + 1 / g.sum()) * 60e6  # m^3/s -> mL/min
    np.testing.assert_allclose(f.inlet_flow_mL_min, q_expected, rtol=1e-12)
    # pressure at the branch point
    p_branch = 25.0 + q_expected / 60e6 / g.sum() / MMHG
    np.testing.assert_allclose(f.pressure_mmHg[0], p_branch, rtol=1e-12)
