"""The teaching tree: the Poiseuille solve reproduces the prescribed split exactly."""

import numpy as np
import pytest

from sim.flow import solve_flow
from sim.tree import bifurcating_tree, summary


@pytest.mark.parametrize("s", [0.5, 0.6, 0.75])
@pytest.mark.parametrize("k", [3.0, 2.7])
@pytest.mark.parametrize("bc", [{"inlet_flow_mL_min": 2.0}, {"inlet_pressure_mmHg": 98.0}])
def test_split_reproduced(s, k, bc):
    g = 8
    t = bifurcating_tree(generations=g, split_ratio=s, murray_exponent=k)
    f = solve_flow(t, **bc)
    q = f.flow_mL_min
    inner = np.flatnonzero(~t.is_terminal)
    first = t.child_index[t.child_start[inner]]
    second = t.child_index[t.child_start[inner] + 1]
    np.testing.assert_allclose(q[first] / q[inner], s, rtol=1e-12)
    np.testing.assert_allclose(q[second] / q[inner], 1 - s, rtol=1e-12)
    # terminal flows: s^a (1-s)^(G-a) of the inlet, a = number of first-daughter turns
    term = t.terminals
    a = np.zeros(t.n_segments, int)
    for i in range(1, t.n_segments):
        a[i] = a[t.parent[i]] + (1 if i == t.child_index[t.child_start[t.parent[i]]] else 0)
    np.testing.assert_allclose(q[term] / q[0], s ** a[term] * (1 - s) ** (g - a[term]), rtol=1e-12)


def test_uneven_perfusion_walrand():
    """Same lobule mass everywhere: with 60/40 splits, flow per mass spans (0.6/0.4)^G."""
    g = 7
    t = bifurcating_tree(generations=g, split_ratio=0.6)
    f = solve_flow(t, inlet_flow_mL_min=1.0)
    per_mass = f.flow_mL_min[t.terminals] / t.terminal_mass_mg[t.terminals]
    np.testing.assert_allclose(per_mass.max() / per_mass.min(), 1.5**g, rtol=1e-12)
    np.testing.assert_allclose(summary(t, f)["flow_mL_min_by_region"][0], 1.0, rtol=1e-12)
