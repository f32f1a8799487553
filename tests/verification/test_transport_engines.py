"""The transport engines (split, walk, paths) against probabilities computed here from the
flow field, on a deep asymmetric tree: per-terminal counts, size trapping in mid-tree
vessels, occluded vessels and subtrees, lung and tumour shunts, stacking at an occluded
catheter; exact incremental flow updates under feedback; aggregates (multiplicity).

Expected values come from :class:`sim.flow.FlowState` (the resistance-form solver, not the
engines' conductance layout) and plain Python walks over the tree written here.
"""
import math

import numpy as np
import pytest
from scipy import stats

from sim.config import TransportParams
from sim.flow import FlowState
from sim.transport import _feedback_kernels as fk
from sim.transport import _kernels as k
from sim.transport import engines, layout, transport_spheres
from sim.transport.fates import LIVER, LUNG, REFLUX
from sim.tree import Ellipsoid, Tumour, from_parent, grow_tree

ENGINES = ("split", "walk", "paths")
TUMOUR = Tumour((3.0, 0.0, 0.0), 2.5, vascularity=3.0)


@pytest.fixture(scope="module")
def deep():
    """~1200 terminals, ~75 bifurcations to a terminal on average (side branches every 0.3
    cell sides), terminal diameters ~30-90 um, one tumour."""
    t = grow_tree(domain=Ellipsoid((0, 0, 0), (9.0, 6.0, 5.0)), root_xyz_mm=(-11.0, 0, 0),
                  root_radius_um=220.0, tumours=(TUMOUR,), branching="trunks",
                  side_branch_spacing=0.3, rng=4)
    assert t.depth[t.is_terminal].mean() > 50
    return t


def reach(tree, state, s_ratio=0.5):
    """Probability of entering each segment (untrapped), from the state's split fractions
    and the straight child of each bifurcation."""
    straight = layout.straight_children(tree)
    pi = np.zeros(tree.n_segments)
    pi[0] = 1.0
    for i in np.flatnonzero(~tree.is_terminal):
        c = tree.children(i)
        f = state.split_fractions(i)
        if s_ratio != 0.5:
            w = f * np.where(c == straight[i], s_ratio, 1 - s_ratio)
            f = w / w.sum() if w.sum() > 0 else w
        pi[c] = pi[i] * f
    return pi


def lodging(tree, pi, d):
    """Probability that a unit of diameter d lodges in each segment: the reach probability
    of the first vessel narrower than d on the path, or of the terminal."""
    out = np.zeros(tree.n_segments)
    passed = np.ones(tree.n_segments, bool)  # no narrower vessel above
    for i in range(tree.n_segments):
        p = tree.parent[i]
        if p >= 0:
            passed[i] = passed[p] and 2 * tree.radius_um[p] >= d
        if passed[i] and (2 * tree.radius_um[i] < d or tree.is_terminal[i]):
            out[i] = pi[i]
    return out


def chi2_ok(counts, expected, n):
    """Pearson chi-square over sites with >= 5 expected units (the rest pooled); passes
    when p > 1e-6 (beyond ~5 sigma)."""
    e = expected * n
    big = e >= 5
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(e[big], e[~big].sum())
    keep = exp > 0
    stat = ((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()
    p = stats.chi2.sf(stat, keep.sum() - 1)
    assert p > 1e-6, (stat, keep.sum() - 1, p)
    assert counts[expected == 0].sum() == 0  # nothing where no flow goes


def run(tree, n, engine, d=30.0, state=None, **kw):
    params = TransportParams(**{"embolic": "none", **kw})
    return transport_spheres(tree, np.full(n, d), 1.0, params=params, rng=11, engine=engine,
                             flow_state=state or FlowState(tree))


@pytest.mark.parametrize("s_ratio", [0.5, 0.65])
@pytest.mark.parametrize("engine", ENGINES)
def test_terminal_counts_follow_the_branch_probabilities(deep, engine, s_ratio):
    n = 120_000
    dep = run(deep, n, engine, d=20.0, straight_ratio=s_ratio)
    assert dep.engine == engine
    expected = lodging(deep, reach(deep, FlowState(deep), s_ratio), 20.0)
    assert expected.sum() == pytest.approx(1.0, abs=1e-12)  # terminals and narrow mid-tree vessels
    chi2_ok(np.bincount(dep.segment[dep.fate == LIVER], minlength=deep.n_segments), expected, n)


@pytest.fixture(scope="module")
def narrowed(deep):
    """The deep tree with 20 mid-tree vessels (10-400 terminals below) narrowed to 34 um."""
    term_below = np.zeros(deep.n_segments)
    term_below[deep.is_terminal] = 1
    for i in range(deep.n_segments - 1, 0, -1):
        term_below[deep.parent[i]] += term_below[i]
    mid = np.flatnonzero((term_below >= 10) & (term_below <= 400))
    pick = np.random.default_rng(0).choice(mid, 20, replace=False)
    r = deep.radius_um.copy()
    r[pick] = 17.0
    return from_parent(deep.parent, r, deep.proximal_mm, deep.distal_mm, deep.region,
                       deep.terminal_mass_mg, length_mm=deep.length_mm), pick


@pytest.mark.parametrize("engine", ENGINES)
def test_size_trapping_in_mid_tree_vessels(narrowed, engine):
    """Two sphere sizes: 25 um pass the narrowed vessels, 40 um lodge in them (and in any
    vessel narrower than 40 um above their terminal)."""
    tree, pick = narrowed
    pi = reach(tree, FlowState(tree))
    n = 60_000
    d = np.where(np.arange(n) % 2 == 0, 25.0, 40.0)
    dep = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=3,
                            engine=engine)
    for size in (25.0, 40.0):
        sel = (dep.diameter_um == size) & (dep.fate == LIVER)
        expected = lodging(tree, pi, size)
        chi2_ok(np.bincount(dep.segment[sel], minlength=tree.n_segments), expected, n // 2)
        above = expected[~tree.is_terminal].sum()  # trapped above the terminals
        got = np.mean(~tree.is_terminal[dep.segment[sel]])
        assert abs(got - above) < 4 * math.sqrt(above * (1 - above) / (n // 2)) + 1e-12
    assert np.isin(dep.segment[(dep.diameter_um == 40.0)], pick).mean() > 0.05


@pytest.mark.parametrize("engine", ENGINES)
def test_occluded_vessels_and_whole_subtrees(deep, engine):
    """A state with occluded vessels (one deep in a long trunk, one at the top of a large
    subtree) and partly embolized ones: no sphere enters an occluded subtree and the others
    follow the state's flow."""
    st = FlowState(deep)
    rng = np.random.default_rng(7)
    inner = np.flatnonzero(~deep.is_terminal & (deep.depth > 5))
    occl = [int(inner[np.argmax(deep.depth[inner])]) - 3, int(inner[10]), *rng.choice(inner, 8)]
    for i in occl:
        st.occlude(i)
    for i in rng.choice(deep.n_segments, 200):
        st.scale_conductance(int(i), rng.uniform(0.2, 1.0))
    n = 80_000
    dep = run(deep, n, engine, d=20.0, state=st)
    blocked = np.zeros(deep.n_segments, bool)
    for i in occl:
        blocked |= deep.subtree(i)
    assert not blocked[dep.segment[dep.fate == LIVER]].any()
    chi2_ok(np.bincount(dep.segment[dep.fate == LIVER], minlength=deep.n_segments),
            lodging(deep, reach(deep, st), 20.0), n)


@pytest.mark.parametrize("engine", ENGINES)
def test_lung_and_tumour_shunts(deep, engine):
    lsf, ts = 0.1, 0.3
    n = 100_000
    dep = run(deep, n, engine, d=20.0, lung_shunt_fraction=lsf, tumour_shunt_fraction=ts)
    pi = reach(deep, FlowState(deep))
    p_tumour = pi[deep.is_terminal & (deep.region > 0)].sum()
    p_lung = lsf + (1 - lsf) * p_tumour * ts
    got = np.mean(dep.fate == LUNG)
    assert abs(got - p_lung) < 4 * math.sqrt(p_lung * (1 - p_lung) / n)
    liver_tumour = np.mean(deep.region[dep.segment[dep.fate == LIVER]] > 0)
    q = (1 - ts) * p_tumour / (1 - p_tumour * ts)  # tumour share of the liver spheres
    assert abs(liver_tumour - q) < 4 * math.sqrt(q * (1 - q) / (n * (1 - p_lung)))


@pytest.mark.parametrize("engine", ENGINES)
def test_spheres_stack_and_reflux_at_an_occluded_catheter(deep, engine):
    st = FlowState(deep)
    inject = int(np.flatnonzero(deep.depth == 3)[0])
    for c in deep.children(inject):
        st.occlude(int(c))
    dep = transport_spheres(deep, np.full(500, 20.0), 1.0, injection=inject, flow_state=st,
                            params=TransportParams(embolic="none", lung_shunt_fraction=0.2),
                            rng=1, engine=engine)
    assert np.all((dep.fate == REFLUX) | (dep.fate == LUNG)) and (dep.fate == LUNG).any()


def _feedback_state(tree, mode, emb, n_units, s_ratio=0.65, n_occ=4.0):
    """Run the feedback kernel directly and return the engine's incremental state."""
    st = FlowState(tree)
    params = TransportParams(embolic=emb, spheres_to_occlude=n_occ, embolic_fraction=0.3,
                             stasis_fraction=0.0, straight_ratio=s_ratio)
    lay = layout.build_layout(tree, 0)
    bias = layout.branch_bias(tree, s_ratio)
    nd = layout.node_records(tree, lay, st, bias)
    e, r = layout.thevenin(tree, st, 0, engines.pressure_drop(st))
    p = k.FeedbackParams(0.0, 0.0, {"linear": 1, "multiplicative": 2}[emb], n_occ, 0.3, 0.0,
                         1.0, e, r, False, layout.thinning_bound(lay, nd), False)
    pt = layout.build_paths(lay, nd) if mode == fk.PATHS else engines._empty_paths()
    d = np.random.default_rng(1).uniform(15, 60, n_units).astype(np.float32)
    lodged = np.zeros(lay.parent.size, np.int64)
    out = np.empty(n_units, np.int64)
    fk.transport_feedback(lay, nd, pt, p, mode, d, np.zeros(0, np.int64), 0, 7, lodged,
                          np.array([0, -1]), out, np.empty(n_units, np.int8),
                          np.empty(n_units, np.bool_))
    return st, lay, nd, pt


@pytest.mark.parametrize("emb", ["linear", "multiplicative"])
@pytest.mark.parametrize("mode", [fk.WALK, fk.PATHS])
def test_incremental_updates_equal_a_full_re_solve(deep, mode, emb):
    """After thousands of lodged spheres (whole subtrees occluded by the linear model), the
    engine's conductances equal a full solve from its resistances: bit for bit for the
    walk (same formula), to 1e-12 for the paths' matrix products; and both equal the
    resistance-form FlowState re-solve to 1e-12."""
    st, lay, nd, pt = _feedback_state(deep, mode, emb, 3 * deep.n_segments)
    full = nd.copy()
    k.solve(lay, full)
    if emb == "linear":
        assert np.isinf(nd[:, k.R]).sum() > 100
    if mode == fk.WALK:
        np.testing.assert_array_equal(nd[:, k.G], full[:, k.G])
    else:
        top = pt.pinfo[:, fk.TOP]
        np.testing.assert_allclose(pt.gtop, full[top, k.G], rtol=1e-12, atol=0)
        np.testing.assert_allclose(nd[:, k.L], full[:, k.L], rtol=1e-12, atol=0)
    st.segment_resistance[lay.order] = nd[:, k.R]
    st.resolve()
    sub = st.subtree_resistance[lay.order]
    g = np.where(np.isinf(sub), 0.0, 1.0 / sub)
    np.testing.assert_allclose(full[:, k.G], g, rtol=1e-12, atol=0)


def test_walk_and_paths_agree_under_feedback(deep):
    """The same process law: spheres delivered before stasis and the share lodged in the
    main trunk's first side branch, over 12 seeds per engine (4.5 sigma)."""
    side = int(deep.children(0)[0])
    mask = deep.subtree(side)
    res = {}
    for engine in ("walk", "paths"):
        moved, share = [], []
        for seed in range(12):
            dep = transport_spheres(deep, np.full(6000, 30.0), 1.0, rng=seed, engine=engine,
                                    params=TransportParams(spheres_to_occlude=3.0,
                                                           stasis_fraction=0.3))
            moved.append(dep.stasis_at_sphere)
            share.append(mask[dep.segment[dep.fate == LIVER]].mean())
        res[engine] = np.array(moved, float), np.array(share)
    for j in range(2):
        a, b = res["walk"][j], res["paths"][j]
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) < 4.5 * se + 1e-12


@pytest.mark.parametrize("engine", ["walk", "paths"])
def test_aggregates_embolize_by_their_multiplicity(deep, engine):
    """Units of 5 spheres, N_occ = 10: a terminal takes two units; the lodged counts are
    spheres and the final flow is the one of those counts."""
    st = FlowState(deep)
    n = 3000
    dep = transport_spheres(deep, np.full(n, 20.0), 1.0, flow_state=st, rng=2, engine=engine,
                            multiplicity=np.full(n, 5),
                            params=TransportParams(spheres_to_occlude=10.0,
                                                   stasis_fraction=0.0))
    liver = dep.fate == LIVER
    np.testing.assert_array_equal(np.bincount(dep.segment[liver], minlength=deep.n_segments) * 5,
                                  dep.n_lodged)
    assert dep.n_lodged.max() == 10 and (dep.n_lodged % 5 == 0).all()
    # activity is per unit: 1 Bq for each unit in the liver, not per sphere
    from sim.transport import activity_per_segment_Bq
    assert activity_per_segment_Bq(deep, dep).sum() == pytest.approx(liver.sum())
    ref = FlowState(deep)
    left = 1 - dep.n_lodged / 10.0
    ref.segment_resistance[:] = np.where(left > 0, ref.segment_resistance / np.maximum(left, 1e-300),
                                         np.inf)
    ref.resolve()
    np.testing.assert_allclose(st.subtree_resistance, ref.subtree_resistance, rtol=1e-12)


def test_paths_result_does_not_depend_on_chunks(deep, monkeypatch):
    from sim.transport import model

    d = np.full(4000, 30.0)
    p = TransportParams(spheres_to_occlude=5.0, straight_ratio=0.6)
    a = transport_spheres(deep, d, 1.0, params=p, rng=5, engine="paths")
    monkeypatch.setattr(model, "_CHUNK", 333)
    b = transport_spheres(deep, d, 1.0, params=p, rng=5, engine="paths")
    assert np.array_equal(a.segment, b.segment) and a.stasis_at_sphere == b.stasis_at_sphere


def test_auto_engine(deep):
    from sim.tree import bifurcating_tree

    assert run(deep, 10, "auto").engine == "split"
    shallow = bifurcating_tree(generations=6, terminal_radius_um=20.0)
    assert transport_spheres(shallow, np.full(10, 25.0), 1.0, rng=1).engine == "walk"
    with pytest.raises(ValueError, match="split engine"):
        transport_spheres(deep, np.full(10, 25.0), 1.0, rng=1, engine="split")


@pytest.mark.parametrize("engine", ENGINES)
def test_n_ary_tree_with_chains_and_a_zero_length_terminal(engine):
    """Bifurcations, trifurcations, quadrifurcations and single-child chains (as trees read
    from files may have), one terminal of zero length (zero resistance: it takes all of its
    parent's flow), and a straight-ratio bias."""
    rng = np.random.default_rng(9)
    parent = [-1]
    while len(parent) < 400:
        p = int(rng.integers(max(0, len(parent) - 60), len(parent)))
        parent.extend([p] * int(rng.integers(1, 5)))
    parent = np.array(parent)
    n = parent.size
    prox = np.zeros((n, 3))
    dist = np.zeros((n, 3))
    for i in range(1, n):
        prox[i] = dist[parent[i]]
        dist[i] = prox[i] + rng.normal(size=3)
    dist[0] = rng.normal(size=3)
    for i in range(1, n):
        prox[i] = dist[parent[i]]
    leaves = np.setdiff1d(np.arange(n), parent[1:])
    dist[leaves[3]] = prox[leaves[3]]  # zero length
    tree = from_parent(parent, rng.uniform(20.0, 60.0, n), prox, dist)
    assert np.max(np.diff(tree.child_start)) >= 3
    st = FlowState(tree)
    expected = lodging(tree, reach(tree, st, 0.6), 10.0)
    zero = int(np.flatnonzero(tree.length_mm == 0)[0])
    assert expected[zero] > 0 and all(expected[c] == 0 for c in tree.children(tree.parent[zero])
                                      if c != zero)
    m = 60_000
    dep = run(tree, m, engine, d=10.0, state=st, straight_ratio=0.6)
    chi2_ok(np.bincount(dep.segment[dep.fate == LIVER], minlength=tree.n_segments), expected, m)


@pytest.mark.parametrize("after", ["reflux", "undelivered"])
@pytest.mark.parametrize("engine", ["walk", "paths"])
def test_stasis_stops_delivery(deep, engine, after):
    """Once the injected flow falls below the stasis fraction, every later sphere refluxes
    (or stays in the vial); the flow at the end is below that fraction of the start."""
    dep = transport_spheres(deep, np.full(20_000, 30.0), 1.0, rng=4, engine=engine,
                            params=TransportParams(spheres_to_occlude=3.0, stasis_fraction=0.3,
                                                   after_stasis=after))
    k = dep.stasis_at_sphere
    assert 0 < k < 20_000
    assert np.all(dep.fate[k:] == (REFLUX if after == "reflux" else 3))
    assert np.all(dep.fate[:k] != 3)
    q0, q1 = dep.injected_flow_mL_min
    assert q0 == pytest.approx(FlowState(deep).inlet_flow(), rel=1e-9)  # before any sphere
    assert q1 < 0.3 * q0


# ---------------------------------------------------------------- plugs (cluster law)

def _parallel_vessels(m, r_small=15.0):
    """A root feeding m equal pre-terminal vessels (diameter 2 r_small) of two wide
    terminals each."""
    parent = [-1] + [0] * m + [1 + i // 2 for i in range(2 * m)]
    n = len(parent)
    radius = np.array([500.0] + [r_small] * m + [40.0] * (2 * m))
    prox = np.zeros((n, 3))
    dist = np.zeros((n, 3))
    dist[:, 0] = 1.0 + np.arange(n) * 1e-3
    mass = np.array([0.0] * (1 + m) + [1.0] * (2 * m))
    return from_parent(parent, radius, prox, dist, terminal_mass_mg=mass)


def test_plug_cluster_law_on_a_toy_tree():
    """With plugs and no embolic effect, a vessel narrower than a fraction a of the units
    passes a geometric number of units (mean (1 - a) / a) before its first trapped unit
    plugs it; every later unit entering it stays there, whatever its size."""
    m, per, a = 400, 100, 0.2
    tree = _parallel_vessels(m)
    d = np.where(np.random.default_rng(3).random(m * per) < a, 40.0, 20.0)
    params = TransportParams(embolic="none", plug=True)
    dep = transport_spheres(tree, d, 1.0, params=params, rng=5, flow_state=FlowState(tree))
    assert dep.engine == "walk"
    liver = dep.fate == LIVER
    assert liver.all()
    seg = dep.segment
    passed = np.bincount(tree.parent[seg[seg > m]] - 1, minlength=m)
    entered = passed + np.bincount(seg[(seg >= 1) & (seg <= m)] - 1, minlength=m)
    assert entered.sum() == m * per
    # small units lodge in the pre-terminal vessels only behind a plug
    assert (d[(seg >= 1) & (seg <= m)] == 20.0).sum() > 0.5 * m * per
    mean, var = (1 - a) / a, (1 - a) / a ** 2
    assert abs(passed.mean() - mean) < 4 * math.sqrt(var / m)
    k = np.arange(12)
    pmf = (1 - a) ** k * a
    obs = np.append(np.bincount(np.minimum(passed, 12), minlength=13)[:12],
                    (passed >= 12).sum())
    exp = m * np.append(pmf, 1 - pmf.sum())
    stat = ((obs - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(stat, exp.size - 1) > 1e-6
    # without plugs, a fraction 1 - a of the units passes every vessel
    free = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none"), rng=5,
                             flow_state=FlowState(tree))
    n_pass = (free.segment > m).sum()
    assert abs(n_pass - (1 - a) * m * per) < 4 * math.sqrt(a * (1 - a) * m * per)


def test_plug_needs_the_walk_engine():
    tree = _parallel_vessels(4)
    for engine in ("split", "paths"):
        with pytest.raises(ValueError, match="plug"):
            transport_spheres(tree, np.full(10, 20.0), 1.0, engine=engine, rng=1,
                              params=TransportParams(embolic="none", plug=True),
                              flow_state=FlowState(tree))


def _comb(m=6):
    """A straight trunk with one side terminal at each of its m nodes (the trunk child is
    the straight one, so every bifurcation's light/heavy bias ratio is <= 1)."""
    parent, prox, dist, rad = [-1], [(0, 0, 0)], [(1, 0, 0)], [100.0]
    trunk = 0
    for i in range(m):
        for dx, dy in ((1, 0), (0, 1)):
            parent.append(trunk)
            prox.append(dist[trunk])
            dist.append((dist[trunk][0] + dx, dy, 0))
            rad.append(100.0 - 5 * i)
        trunk = len(parent) - 2
    return from_parent(np.array(parent), np.array(rad), np.array(prox, float),
                       np.array(dist, float))


@pytest.mark.parametrize("engine", ENGINES)
def test_straight_bias_on_a_comb_whose_thinning_bound_is_one(engine):
    tree = _comb()
    lay = layout.build_layout(tree, 0)
    nd = layout.node_records(tree, lay, FlowState(tree), layout.branch_bias(tree, 0.8))
    assert layout.thinning_bound(lay, nd) == 1.0
    n = 100_000
    dep = transport_spheres(tree, np.full(n, 10.0), 1.0, rng=3, engine=engine,
                            params=TransportParams(embolic="none", straight_ratio=0.8),
                            flow_state=FlowState(tree))
    assert dep.engine == engine
    expected = lodging(tree, reach(tree, FlowState(tree), 0.8), 10.0)
    chi2_ok(np.bincount(dep.segment[dep.fate == LIVER], minlength=tree.n_segments), expected, n)
