"""Flow solve: conservation, pressures, boundary conditions, occlusion, viscosity model."""

import numpy as np
import pytest

from sim.flow import (
    FlowState,
    calibrate_radii,
    pries_relative_viscosity,
    segment_viscosity,
    solve_flow,
)
from sim.tree import Ellipsoid, Tumour, grow_tree


@pytest.fixture(scope="module")
def tree():
    return grow_tree(domain=Ellipsoid((0, 0, 0), (10, 8, 6)), root_xyz_mm=(-11, 0, 0),
                     root_radius_um=400.0, tumours=[Tumour((4, 0, 0), 3.0, vascularity=4.0)],
                     rng=21)


def _conservation_error(tree, q):
    """Largest |sum of child flows - parent flow| / parent flow over flowing nodes."""
    inner = np.flatnonzero(~tree.is_terminal)
    sums = np.add.reduceat(q[tree.child_index], tree.child_start[inner])
    keep = q[inner] > 0
    return np.max(np.abs(sums - q[inner])[keep] / q[inner][keep])


@pytest.mark.parametrize("fl", [False, True])
def test_conservation_and_monotone_pressure(tree, fl):
    f = solve_flow(tree, inlet_pressure_mmHg=98.0, terminal_pressure_mmHg=25.0,
                   fahraeus_lindqvist=fl)
    q, p = f.flow_mL_min, f.pressure_mmHg
    assert np.all(q > 0)
    assert _conservation_error(tree, q) < 1e-12
    # pressure falls along every segment: distal(child) <= distal(parent) <= inlet
    assert p[0] <= f.inlet_pressure_mmHg
    assert np.all(p[1:] <= p[tree.parent[1:]] * (1 + 1e-12))
    np.testing.assert_allclose(p[tree.is_terminal], 25.0, rtol=0, atol=1e-12)
    # Ohm's law per segment: drop = Q R
    prox = np.where(tree.parent >= 0, p[np.maximum(tree.parent, 0)], f.inlet_pressure_mmHg)
    np.testing.assert_allclose(prox - p, q * f.segment_resistance_mmHg_min_mL, rtol=1e-9,
                               atol=1e-12 * 98)


def test_flow_and_pressure_bc_agree(tree):
    fp = solve_flow(tree, inlet_pressure_mmHg=98.0)
    fq = solve_flow(tree, inlet_flow_mL_min=fp.inlet_flow_mL_min)
    np.testing.assert_allclose(fq.flow_mL_min, fp.flow_mL_min, rtol=1e-12)
    np.testing.assert_allclose(fq.inlet_pressure_mmHg, 98.0, rtol=1e-12)
    # linear network: doubling the inlet flow doubles every flow and every pressure excess
    f2 = solve_flow(tree, inlet_flow_mL_min=2 * fp.inlet_flow_mL_min)
    np.testing.assert_allclose(f2.flow_mL_min, 2 * fp.flow_mL_min, rtol=1e-12)
    np.testing.assert_allclose(f2.pressure_mmHg - 25, 2 * (fp.pressure_mmHg - 25), rtol=1e-10,
                               atol=1e-12)


def test_bc_validation(tree):
    with pytest.raises(ValueError, match="not both"):
        solve_flow(tree, inlet_flow_mL_min=1.0, inlet_pressure_mmHg=90.0)
    with pytest.raises(ValueError, match="inlet_pressure"):
        solve_flow(tree, inlet_pressure_mmHg=10.0)
    assert solve_flow(tree).inlet_pressure_mmHg == 98.0


def test_occlusion_gives_no_nan(tree):
    st = FlowState(tree, inlet_pressure_mmHg=98.0)
    c = tree.children(0)
    st.occlude(int(c[0]))
    f = st.field()
    assert np.all(np.isfinite(f.flow_mL_min)) and np.all(np.isfinite(f.pressure_mmHg))
    below = np.zeros(tree.n_segments, bool)
    below[c[0]] = True
    for i in range(1, tree.n_segments):
        below[i] |= below[tree.parent[i]]
    assert np.all(f.flow_mL_min[below] == 0)
    # behind the occlusion the tissue drains to the terminal pressure
    np.testing.assert_array_equal(f.pressure_mmHg[below], 25.0)
    assert _conservation_error(tree, f.flow_mL_min) < 1e-12
    # a dead end (all terminals below blocked) holds the pressure of its branch point
    st2 = FlowState(tree, inlet_pressure_mmHg=98.0)
    seg = int(c[1])
    for t in np.flatnonzero(tree.is_terminal):
        j = t
        while j > 0 and j != seg:
            j = tree.parent[j]
        if j == seg:
            st2.occlude(int(t))
    f2 = st2.field()
    assert f2.flow_mL_min[seg] == 0 and np.isfinite(f2.pressure_mmHg).all()
    np.testing.assert_allclose(f2.pressure_mmHg[seg], f2.pressure_mmHg[0], rtol=1e-15)
    # the whole tree blocked: zero flow with a pressure BC, an error with a flow BC
    st.occlude(0)
    assert st.inlet_flow() == 0.0 and np.all(st.field().flow_mL_min == 0)
    stq = FlowState(tree, inlet_flow_mL_min=1.0)
    stq.occlude(0)
    with pytest.raises(ValueError, match="occluded"):
        stq.field()


def test_terminal_resistance(tree):
    extra = np.where(tree.is_terminal, 5.0, 0.0)
    f = solve_flow(tree, inlet_flow_mL_min=1.0, terminal_resistance_mmHg_min_mL=extra)
    term = tree.is_terminal
    np.testing.assert_allclose(f.pressure_mmHg[term], 25 + 5.0 * f.flow_mL_min[term], rtol=1e-12)


def test_pries_viscosity():
    # no red cells: plasma; large tubes: the bulk value 3.2 at H = 0.45 (Pries 1992)
    np.testing.assert_allclose(pries_relative_viscosity([5.0, 50.0, 500.0], 0.0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(pries_relative_viscosity(1e5, 0.45), 3.2, rtol=1e-6)
    eta = pries_relative_viscosity(np.array([7.0, 20.0, 100.0, 1000.0]), 0.45)
    assert eta[0] < eta[1] < eta[2] < eta[3] < 3.2  # Fåhræus–Lindqvist: lower in thin tubes


def test_segment_viscosity_bulk_limit(tree):
    mu = segment_viscosity(tree, viscosity_mPa_s=3.5, fahraeus_lindqvist=True)
    assert np.all(mu < 3.5) and np.all(mu > 1.0)
    np.testing.assert_array_equal(segment_viscosity(tree, viscosity_mPa_s=3.5), 3.5)


def test_calibrate_radii(tree):
    t2 = calibrate_radii(tree, inlet_flow_mL_min=20.0, inlet_pressure_mmHg=98.0)
    f = solve_flow(t2, inlet_pressure_mmHg=98.0)
    np.testing.assert_allclose(f.inlet_flow_mL_min, 20.0, rtol=1e-12)
    np.testing.assert_allclose(t2.radius_um / tree.radius_um, t2.radius_um[0] / tree.radius_um[0],
                               rtol=1e-12)
