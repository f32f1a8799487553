"""Virtual histology (sim.histology) against constructed geometry and statistics derived here:
clusters of touching spheres, section membership, biopsy placement, the papers' dose against
the true dose, the Poisson CV and skewness of sample activities, and the command end to end.
"""
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from sim.cli import main
from sim.histology import (Biopsy, cluster_shapes, find_clusters, fraction_in_clusters,
                           place_biopsies, section_index, true_dose)
from sim.histology.biopsy import in_biopsy
from sim.histology.dose import dose_summary, papers_dose, section_points
from sim.histology.sampling import activity_vs_mass, moments, sample_sums
from sim.tree.domains import Ellipsoid
from sim.tree.tissue import TissueGeometry

D_UM = 30.0  # sphere diameter of the constructed clusters [um]


def _chain(n, start, direction, d_um=D_UM, gaps_um=None):
    """n spheres in a straight line, touching (or with the given surface gaps) [mm]."""
    u = np.asarray(direction, float) / np.linalg.norm(direction)
    steps = np.full(n - 1, d_um) + (0.0 if gaps_um is None else np.asarray(gaps_um))
    s = np.concatenate([[0.0], np.cumsum(steps)]) * 1e-3
    return np.asarray(start, float) + s[:, None] * u


# ---------------------------------------------------------------- clusters

def test_touching_chain_is_one_cluster_even_in_float32():
    """Twelve spheres touching along an oblique line 40 mm from the origin, stored as float32
    as a results file stores them: one cluster (the 0.1 um tolerance absorbs rounding)."""
    x = _chain(12, (40.0, -31.0, 27.0), (1.0, 2.0, -0.5)).astype(np.float32)
    labels, pairs = find_clusters(x, D_UM, gap_um=0.0)
    assert len(set(labels.tolist())) == 1
    assert pairs.shape[0] == 11  # only neighbours touch: next-but-one are a diameter apart


@pytest.mark.parametrize("gap_um", [0.0, 5.0])
def test_a_gap_just_above_g_splits_the_chain(gap_um):
    """A surface gap of g + 0.5 um between spheres 5 and 6 splits the chain in two; g - 0.5 um
    (or touching, for g = 0) keeps it whole."""
    gaps = np.zeros(9)
    gaps[4] = gap_um + 0.5
    labels, _ = find_clusters(_chain(10, (1, 2, 3), (0, 0, 1), gaps_um=gaps), D_UM, gap_um)
    assert np.bincount(labels).tolist() == [5, 5]
    gaps[4] = max(gap_um - 0.5, 0.0)
    labels, _ = find_clusters(_chain(10, (1, 2, 3), (0, 0, 1), gaps_um=gaps), D_UM, gap_um)
    assert np.bincount(labels).tolist() == [10]


def _fcc_block(cells, d_um=D_UM):
    """Face-centred cubic packing of touching spheres (nearest neighbours one diameter
    apart: cube edge a = d sqrt 2) filling cells^3 unit cells [mm]."""
    a = d_um * np.sqrt(2.0) * 1e-3
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    g = np.arange(cells)
    cell = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 1, 3)
    return ((cell + basis[None]) * a).reshape(-1, 3) + 5.0


def test_packed_conglomerate_and_strings_are_classified():
    """An FCC block of 108 touching spheres is one conglomerate (each touches up to 12); a
    straight string, a string bent at a right angle and a forked string are strings."""
    block = _fcc_block(3)
    straight = _chain(15, (0, 0, 0), (1, 1, 0))
    bent = np.concatenate([_chain(8, (2, 0, 0), (1, 0, 0)),
                           _chain(7, (2 + 7 * D_UM * 1e-3, D_UM * 1e-3, 0), (0, 1, 0))])
    stem = _chain(6, (3, 3, 3), (1, 0, 0))
    tip = stem[-1]
    c45 = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    fork = np.concatenate([stem, _chain(5, tip + c45 * D_UM * 1e-3, c45),
                           _chain(5, tip + c45 * [1, -1, 0] * D_UM * 1e-3, [1, -1, 0])])
    for xyz, want in ((block, "conglomerate"), (straight, "string"), (bent, "string"),
                      (fork, "string")):
        labels, pairs = find_clusters(xyz, D_UM)
        assert labels.max() == 0, want  # one cluster
        sh = cluster_shapes(xyz, labels, pairs)
        assert bool(sh[want][0]), (want, sh)
    # the straight string's principal axes: one non-zero extent
    labels, pairs = find_clusters(straight, D_UM)
    assert np.isinf(cluster_shapes(straight, labels, pairs)["elongation"][0])


def test_section_scope_splits_clusters_at_section_boundaries():
    """Two touching spheres on either side of a section boundary: one cluster across the
    block, two within sections."""
    x = _chain(2, (0, 0, 0), (0, 0, 1))
    assert find_clusters(x, D_UM)[0].tolist() == [0, 0]
    assert find_clusters(x, D_UM, section=np.array([3, 4]))[0].tolist() == [0, 1]


def test_fraction_in_clusters_counts_spheres():
    size = np.array([1, 1, 1, 2, 5, 10, 60])  # 80 spheres
    f = fraction_in_clusters(size)
    assert f == {2: 77 / 80, 5: 75 / 80, 10: 70 / 80, 50: 60 / 80, 100: 0.0}


# ---------------------------------------------------------------- sections and biopsies

def test_section_membership_by_centre_depth():
    """A 1.5 mm biopsy along z, sections of 30 um from the upper face (z = +0.75 mm): a centre
    at depth z_d lies in section floor(z_d / 30 um); beyond the 15th section, or outside the
    radius, in none."""
    b = Biopsy(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0]), 3.5, 1.5)
    depth_um = np.array([0.0, 29.9, 30.1, 200.0, 449.9, 450.1, 1400.0])
    xyz = np.stack([np.full(7, 1.0), np.full(7, 2.0), 3.75 - depth_um * 1e-3], axis=1)
    assert section_index(xyz, b, 0.030, 15).tolist() == [0, 0, 1, 6, 14, -1, -1]
    assert section_index([[1.0 + 3.6, 2.0, 3.74]], b, 0.030, 15).tolist() == [-1]
    with pytest.raises(ValueError, match="do not fit"):
        section_index(xyz, b, 0.2, 15)


def test_section_points_lie_on_section_midplanes_inside_the_biopsy():
    b = Biopsy(np.zeros(3), np.array([0.0, 0.0, 1.0]), 1.0, 1.0)
    pts, sec = section_points(b, 0.05, 4, 0.1)
    assert np.all(section_index(pts, b, 0.05, 4) == sec)
    depth = 0.5 - pts[:, 2]
    assert np.allclose(depth, (sec + 0.5) * 0.05)
    # a square lattice of 0.1 mm through the centre within r = 1 mm: count the lattice points
    k = np.arange(-10, 11)
    n_disc = int(np.sum(np.hypot(*np.meshgrid(k, k)) <= 10))
    assert pts.shape[0] == 4 * n_disc


def _geometry():
    return TissueGeometry.of(Ellipsoid((0, 0, 0), (20.0, 15.0, 12.0)),
                             [Ellipsoid((6.0, 0.0, 0.0), 6.0)], 1.06)


def test_biopsies_stay_in_their_region_and_do_not_overlap():
    """Every biopsy lies wholly in normal liver (or wholly in the tumour), checked at 20,000
    random points inside each cylinder, and no two overlap."""
    geo = _geometry()
    lo, hi = geo.domain.bounds()
    normal = place_biopsies(geo.label, (lo, hi), 8, diameter_mm=7.0, length_mm=1.5, rng=1)
    tumour = place_biopsies(geo.label, (lo, hi), 2, diameter_mm=7.0, length_mm=1.5,
                            region="tumour", rng=2, avoid=normal)
    assert len(normal) == 8 and len(tumour) == 2
    rng = np.random.default_rng(3)
    for b, want in [(b, 0) for b in normal] + [(b, 1) for b in tumour]:
        u = rng.uniform(-1, 1, (60000, 3)) * [b.radius_mm, b.radius_mm, b.length_mm / 2]
        u = u[np.hypot(u[:, 0], u[:, 1]) <= b.radius_mm][:20000]
        assert np.all(geo.label(b.centre_mm + u) == want)
        assert b.region == want
    allb = normal + tumour
    for i in range(len(allb)):
        for j in range(i):
            d = allb[i].centre_mm - allb[j].centre_mm
            assert abs(d[2]) >= 1.5 or np.hypot(d[0], d[1]) >= 7.0


def test_no_room_gives_fewer_biopsies():
    geo = _geometry()
    got = place_biopsies(geo.label, geo.domain.bounds(), 3, diameter_mm=30.0, length_mm=1.0,
                         rng=0, max_tries=2000)
    assert got == []


# ---------------------------------------------------------------- dose

def _sphere_field(n, box_mm, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, box_mm, (n, 3)), rng.uniform(50.0, 3000.0, n)


def test_papers_dose_never_exceeds_true_dose():
    """The kernel is non-negative, so the dose from the spheres of a slab (beta kernel) is at
    most the dose from every sphere (complete kernel) at the same points."""
    xyz, act = _sphere_field(3000, 12.0, 4)
    slab = np.abs(xyz[:, 2] - 6.0) < 0.25
    rng = np.random.default_rng(5)
    pts = np.column_stack([rng.uniform(2, 10, (400, 2)), rng.uniform(5.8, 6.2, 400)])
    paper = papers_dose(pts, xyz[slab], act[slab])
    truth = true_dose(pts, xyz, act, method="exact")
    assert np.all(paper <= truth * (1 + 1e-12))
    assert np.median(paper / truth) < 0.5  # most of the cross-fire comes from outside a slab


def test_split_true_dose_matches_the_exact_sum():
    """The split sum (exact near part + FFT far part) agrees with the direct sum over every
    sphere to 2e-3 of the mean dose at every point, on a clustered field."""
    rng = np.random.default_rng(6)
    centres = rng.uniform(0, 16, (400, 3))
    xyz = (centres[:, None, :] + rng.normal(0, 0.05, (400, 20, 3))).reshape(-1, 3)
    act = np.full(xyz.shape[0], 400.0)
    pts = rng.uniform(3, 13, (300, 3))
    exact = true_dose(pts, xyz, act, method="exact")
    split = true_dose(pts, xyz, act, method="split", step_mm=0.25)
    assert np.max(np.abs(split - exact)) < 2e-3 * exact.mean()


def test_dose_summary_statistics():
    d = np.concatenate([np.full(45, 20.0), np.full(55, 50.0)])
    s = dose_summary(d)
    assert s["below_30Gy"] == pytest.approx(0.45)
    assert (s["min_Gy"], s["max_Gy"]) == (20.0, 50.0)


# ---------------------------------------------------------------- activity against mass

def test_poisson_cv_and_skewness_of_sample_activity():
    """Spheres of equal activity scattered uniformly (a Poisson field of density nu) give a
    Poisson count in a cube of volume V, mean lambda = nu V: CV = skewness = 1 / sqrt(lambda).

    Tolerances (delta method, n independent samples, cumulants of the Poisson law): the sample
    CV has variance CV^2 (1/2 + 1/(4 lambda)) / n; the sample skewness g1 has variance
    (6 + 4.5 / lambda + 0.25 / lambda^2) / n. Cubes on a non-overlapping lattice make the
    samples independent; each check allows 4 standard deviations (a false alarm 6e-5)."""
    rng = np.random.default_rng(7)
    box, nu = 60.0, 0.8  # [mm], spheres per mm^3
    n_sph = rng.poisson(nu * box ** 3)
    xyz = rng.uniform(0, box, (n_sph, 3))
    from scipy.spatial import cKDTree
    kd = cKDTree(xyz)
    for side in (1.5, 3.0):
        g = np.arange(side / 2, box - side / 2 + 1e-9, side)
        centres = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
        counts, sums = sample_sums(kd, np.full(n_sph, 50.0), centres, side)
        assert np.allclose(sums, 50.0 * counts)
        lam, n = nu * side ** 3, centres.shape[0]
        m = moments(sums)
        expect = 1.0 / np.sqrt(lam)
        sd_cv = expect * np.sqrt((0.5 + 0.25 / lam) / n)
        sd_g1 = np.sqrt((6.0 + 4.5 / lam + 0.25 / lam ** 2) / n)
        assert abs(m["cv"] - expect) < 4 * sd_cv, (side, m, expect, sd_cv)
        assert abs(m["skewness"] - expect) < 4 * sd_g1, (side, m, expect, sd_g1)


def test_activity_vs_mass_on_a_poisson_field():
    """Random cubes of 5 and 50 mg in a box of Poisson spheres: the reported Poisson floor is
    1 / sqrt(mean spheres) (equal activities) and the CV lies within 5 of its standard
    deviations of it (overlap between random cubes is small here: 400 cubes of <= 47 mm^3 in
    a 216,000 mm^3 box)."""
    rng = np.random.default_rng(8)
    box, nu = 60.0, 0.5
    xyz = rng.uniform(0, box, (rng.poisson(nu * box ** 3), 3))
    from scipy.spatial import cKDTree

    def label(p):
        return np.where(np.all((p >= 0) & (p <= box), axis=1), 0, -1)

    rows = activity_vs_mass(label, (np.zeros(3), np.full(3, box)), cKDTree(xyz),
                            np.full(xyz.shape[0], 10.0), masses_mg=(5.0, 50.0), samples=400,
                            density_g_cm3=1.0, rng=9)
    for r in rows:
        lam = nu * r["mass_mg"]  # V = m / rho at 1 mg/mm^3
        assert r["n"] == 400
        assert r["poisson_cv"] == pytest.approx(1 / np.sqrt(r["mean_spheres"]))
        assert abs(r["mean_spheres"] / lam - 1) < 5 / np.sqrt(lam * r["n"])
        assert abs(r["cv"] * np.sqrt(lam) - 1) < 5 * np.sqrt((0.5 + 0.25 / lam) / r["n"])


# ---------------------------------------------------------------- the command


SMALL = ["--diameter-mm", "3", "--slab-mm", "0.5", "--sections", "5", "--biopsies", "3",
         "--tumour-biopsies", "1", "--quiet"]


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    from sim.pipeline import run
    folder = tmp_path_factory.mktemp("histology")
    cfg = Path(__file__).parents[1] / "regression" / "reference" / "tiny.toml"
    return run(cfg, output=folder / "tiny.h5", figures=False).path


def test_cli_end_to_end(tiny_results, tmp_path, capsys):
    out = tmp_path / "h"
    assert main(["histology", str(tiny_results), "-o", str(out), *SMALL, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    n = s["normal"]
    assert n["biopsies"] == 3 and n["sections"] == 15
    assert n["spheres_in_sections"] == sum(sum(b["section_counts"]) for b in n["per_biopsy"])
    assert n["papers_over_true"]["fraction_papers_le_true"] == 1.0
    assert s["protocol"]["section_um"] == 30.0 and s["protocol"]["gap_um"] == 0.0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["histology.json", "histology.md", "histology_clusters.png",
                     "histology_dose.png", "histology_mass.png", "histology_section.png"]
    md = (out / "histology.md").read_text()
    assert "| below 30 Gy | 45 % |" in md and "NOT FOUND" in md
    assert json.loads((out / "histology.json").read_text())["device"] == s["device"]


@pytest.mark.parametrize("args, flag", [
    (["--sections", "0"], "--sections"),
    (["--diameter-mm", "100"], "--diameter-mm"),
    (["--gap-um", "-1"], "--gap-um"),
    (["--biopsies", "0"], "--biopsies"),
    (["--section-um", "30", "--sections", "20", "--slab-mm", "0.5"], "--sections"),
])
def test_bad_options_exit_2_and_write_nothing(tiny_results, tmp_path, capsys, args, flag):
    out = tmp_path / "h"
    assert main(["histology", str(tiny_results), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and flag in err and "allowed" in err
    assert not out.exists()


def test_counts_file_is_refused_in_one_line(tiny_results, tmp_path, capsys):
    counts = tmp_path / "counts.h5"
    counts.write_bytes(tiny_results.read_bytes())
    with h5py.File(counts, "a") as f:
        f.attrs["kept"] = "counts"
    out = tmp_path / "h"
    assert main(["histology", str(counts), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "keeps 'counts'" in err
    assert not out.exists()


def test_in_biopsy_matches_section_block():
    b = Biopsy(np.zeros(3), np.array([0.0, 1.0, 0.0]), 2.0, 1.0)
    pts = np.array([[0, 0.49, 0], [0, 0.51, 0], [1.9, 0, 0], [2.1, 0, 0]])
    assert in_biopsy(pts, b).tolist() == [True, False, True, False]
