"""Sphere transport against analytic expectations on the teaching (bifurcating) tree."""
import math

import numpy as np
import pytest

from sim.transport import fates as tk
from sim.transport import model as tr
from sim.flow import FlowState
from sim.transport import TransportParams, transport_spheres
from sim.tree import bifurcating_tree


def tree_g(g, split=0.5, r_term=20.0):
    return bifurcating_tree(generations=g, split_ratio=split, terminal_radius_um=r_term)


def terminal_counts(tree, dep):
    counts = np.bincount(dep.segment[dep.fate == tk.LIVER], minlength=tree.n_segments)
    return counts[tree.is_terminal]


@pytest.mark.parametrize("split", [0.5, 0.6])
def test_counts_follow_flow_fractions_without_embolic_effect(split):
    tree = tree_g(5, split)
    q = FlowState(tree).field().flow_mL_min
    p = q[tree.is_terminal] / q[0]
    # the fixed split reproduced by the solve: p = s^k (1 - s)^(G - k)
    assert np.isclose(p.max(), split ** 5 if split > 0.5 else 0.5**5, rtol=1e-9)
    n = 200_000
    dep = transport_spheres(tree, np.full(n, 25.0), 50.0, params=TransportParams(embolic="none"),
                            rng=11)
    c = terminal_counts(tree, dep)
    assert c.sum() == n
    sigma = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(c - n * p) < 4 * sigma)


def test_symmetric_tree_counts_are_binomial():
    g, n = 6, 128_000
    tree = tree_g(g)
    dep = transport_spheres(tree, np.full(n, 25.0), 50.0, params=TransportParams(embolic="none"),
                            rng=5)
    c = terminal_counts(tree, dep)
    p = 0.5**g
    mean, var = n * p, n * p * (1 - p)
    assert np.all(np.abs(c - mean) < 4.5 * math.sqrt(var))  # 64 terminals, Bonferroni-safe
    # the spread across terminals is the binomial one: sample variance / var ~ chi2(63)/63
    ratio = c.var(ddof=1) / var
    assert 1 - 4 * math.sqrt(2 / 63) < ratio < 1 + 4 * math.sqrt(2 / 63)


def predicted_cv(s, g, n):
    """CV of spheres per terminal on a symmetric tree with straight ratio s.

    Every bifurcation sends a sphere to its straight child with probability s (equal flows),
    so a terminal reached by k straight turns has p = s^k (1 - s)^(g - k). Over the 2^g
    terminals: mean p m = 2^-g, E[p^2] = ((s^2 + (1 - s)^2) / 2)^g. The count variance across
    terminals is that of the expectations plus the mean multinomial variance:
    Var = n^2 (E[p^2] - m^2) + n (m - E[p^2]).
    """
    m = 0.5**g
    ep2 = ((s * s + (1 - s) ** 2) / 2) ** g
    var = n * n * (ep2 - m * m) + n * (m - ep2)
    return math.sqrt(var) / (n * m)


def test_straight_ratio_raises_the_cv_as_predicted():
    g, n = 7, 256_000
    tree = tree_g(g)
    cvs = {}
    for s in (0.5, 0.6):
        dep = transport_spheres(tree, np.full(n, 25.0), 50.0,
                                params=TransportParams(embolic="none", straight_ratio=s), rng=21)
        c = terminal_counts(tree, dep)
        cvs[s] = c.std() / c.mean()
    assert cvs[0.6] > cvs[0.5]
    for s, cv in cvs.items():
        # sampling error of a CV over 128 terminals ~ CV / sqrt(2 * 128); allow 4 sigma
        pred = predicted_cv(s, g, n)
        assert abs(cv - pred) < 4 * pred / math.sqrt(2 * 2**g), (s, cv, pred)
    assert predicted_cv(0.6, g, n) / predicted_cv(0.5, g, n) > 5  # a real effect


def test_conservation_and_determinism():
    tree = tree_g(6)
    d = np.random.default_rng(1).uniform(20, 40, 30_000)
    params = TransportParams(lung_shunt_fraction=0.1, spheres_to_occlude=20)
    a = transport_spheres(tree, d, 70.0, params=params, rng=3)
    b = transport_spheres(tree, d, 70.0, params=params, rng=3)
    assert np.array_equal(a.segment, b.segment) and np.array_equal(a.fate, b.fate)
    cnt = a.counts()
    assert cnt["injected"] == cnt["liver"] + cnt["lung"] + cnt["reflux"] + cnt["undelivered"]
    act = a.activity_Bq.astype(np.float64)
    parts = [act[a.fate == k].sum() for k in range(4)]
    assert math.fsum(parts) == pytest.approx(act.sum(), rel=1e-12)
    # lung shunt: binomial share of 10 % of the spheres injected before stasis
    n = d.size if a.stasis_at_sphere < 0 else a.stasis_at_sphere
    assert 0 < n and np.all(a.fate[n:] == tk.REFLUX)
    assert abs(cnt["lung"] - 0.1 * n) < 4 * math.sqrt(n * 0.1 * 0.9)


def test_result_does_not_depend_on_chunking(monkeypatch):
    tree = tree_g(5)
    d = np.full(5000, 25.0)
    params = TransportParams(spheres_to_occlude=10)
    a = transport_spheres(tree, d, 1.0, params=params, rng=9)
    monkeypatch.setattr(tr, "_CHUNK", 333)
    b = transport_spheres(tree, d, 1.0, params=params, rng=9)
    assert np.array_equal(a.segment, b.segment) and np.array_equal(a.fate, b.fate)
    s1 = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=9)
    monkeypatch.setattr(tr, "_CHUNK", 777)
    s2 = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=9)
    assert np.array_equal(s1.segment, s2.segment)


def test_static_result_does_not_depend_on_thread_count():
    import numba

    tree = tree_g(6)
    d = np.full(50_000, 25.0)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=4)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=4)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(a.segment, b.segment)


def test_trapping_rules():
    tree = tree_g(6, r_term=12.0)  # terminal arterioles 24 um across
    rng = np.random.default_rng(2)
    d = rng.uniform(15.0, 45.0, 20_000)
    dep = transport_spheres(tree, d, 1.0, params=TransportParams(spheres_to_occlude=30), rng=8)
    liver = dep.fate == tk.LIVER
    seg = dep.segment[liver]
    dd = dep.diameter_um[liver]
    wide = 2 * tree.radius_um[seg] >= dd
    # a sphere in a vessel at least as wide as itself is at a terminal or stacked
    assert np.all(~wide | tree.is_terminal[seg] | dep.stacked[liver])
    # every vessel above the lodging site let the sphere through
    for k in np.flatnonzero(liver)[:2000]:
        j = tree.parent[dep.segment[k]]
        while j >= 0:
            assert 2 * tree.radius_um[j] >= dep.diameter_um[k]
            j = tree.parent[j]


def test_spheres_larger_than_the_injected_vessel_are_refused():
    tree = tree_g(3, r_term=10.0)
    with pytest.raises(ValueError, match="cannot enter the injected vessel"):
        transport_spheres(tree, [25.0, 5000.0], 1.0)


def test_resin_refluxes_more_than_glass_and_no_stasis_without_embolic_effect():
    tree = tree_g(8, r_term=20.0)
    activity_GBq = 0.005
    params = TransportParams(spheres_to_occlude=20, stasis_fraction=0.2)
    out = {}
    for name, per_sphere_Bq, diam in (("glass", 2500.0, 25.0), ("resin", 3e9 / 44e6, 32.5)):
        n = int(activity_GBq * 1e9 / per_sphere_Bq)
        dep = transport_spheres(tree, np.full(n, diam), per_sphere_Bq, params=params, rng=1)
        out[name] = dep.counts()
        off = transport_spheres(tree, np.full(n, diam), per_sphere_Bq,
                                params=TransportParams(embolic="none"), rng=1)
        assert off.counts()["reflux"] == 0 and off.stasis_at_sphere == -1
    assert out["resin"]["reflux_activity_GBq"] > out["glass"]["reflux_activity_GBq"]
    assert out["resin"]["reflux"] > 0 and out["glass"]["reflux"] == 0


def test_in_kernel_updates_match_a_full_solve():
    tree = tree_g(6)
    params = TransportParams(spheres_to_occlude=25)
    d = np.full(20_000, 25.0)
    dep = transport_spheres(tree, d, 1.0, params=params, rng=6)
    # rebuild the resistances from the lodged counts and solve from scratch
    st = FlowState(tree)
    r0 = st.segment_resistance.copy()
    left = 1 - dep.n_lodged / 25.0
    st.segment_resistance[:] = np.where(left > 0, r0 / np.where(left > 0, left, 1), np.inf)
    st.resolve()
    q = st.field().flow_mL_min
    frac_end = dep.injected_flow_mL_min[1] / dep.injected_flow_mL_min[0]
    dp = 98.0 - 25.0
    assert frac_end == pytest.approx(dp / st.subtree_resistance[0] / dep.injected_flow_mL_min[0],
                                     rel=1e-9)
    assert np.all(np.isfinite(q))


def test_positions_form_strings_at_the_distal_end():
    tree = tree_g(3, r_term=20.0)
    d = np.full(400, 25.0)
    dep = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=2)
    t = tree.terminals[0]
    k = np.flatnonzero(dep.segment == t)
    assert k.size > 2
    dist = np.linalg.norm(dep.position_mm[k] - tree.distal_mm[t], axis=1)
    # arrival order: 12.5 um, 37.5 um, ... from the distal end
    assert np.allclose(dist, (np.arange(k.size) + 0.5) * 0.025, rtol=1e-5)
    assert np.all(np.isnan(dep.position_mm[dep.fate != tk.LIVER]))


def test_streamed_positions_equal_the_full_array():
    """Positions made block by block (carrying each vessel's string length across blocks)
    equal those made at once."""
    tree = tree_g(3, r_term=20.0)
    d = np.random.default_rng(3).uniform(20.0, 35.0, 3000)
    dep = transport_spheres(tree, d, 1.0, params=TransportParams(lung_shunt_fraction=0.2,
                                                                 spheres_to_occlude=1e4), rng=2)
    liver = dep.fate == tk.LIVER
    blocks = list(dep.iter_liver_positions(chunk=257))
    assert len(blocks) > 5
    np.testing.assert_array_equal(np.concatenate(blocks), dep.position_mm[liver])
    np.testing.assert_array_equal(dep.liver_positions_mm(), dep.position_mm[liver])
