"""Activity of tissue samples of given mass: the coefficient of variation and the skewness of
the activity over many samples, against the sample mass.

Samples are cubes (or balls) of tissue of mass m (side (m / rho)^(1/3)), placed at random in
one region (normal liver by default) and kept when a 5 x 5 x 5 lattice of points over the cube
(corners and faces included) lies in that region; they may overlap one another (each is an
independent draw of the same experiment: the mean, CV and skewness stay unbiased). The
activity of a sample is the sum of the activities of the spheres whose centres lie inside.

For spheres scattered independently and uniformly (a Poisson field) with mean count lambda
per sample and sphere activities a, the sample activity is compound Poisson:
CV = sqrt(E[a^2]) / E[a] / sqrt(lambda) and skewness = E[a^3] / E[a^2]^(3/2) / sqrt(lambda)
(1 / sqrt(lambda) for equal activities). Clustering raises both above these floors.

References
----------
.. [1] Högberg J, Rizell M, Hultborn R et al. Heterogeneity of microsphere distribution in
       resected liver and tumour tissue following selective intrahepatic radiotherapy. EJNMMI
       Res 2014;4:48 (biopsies of 5-422 mg: the smaller the biopsy, the larger the CV and the
       skewness of the activity).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["sample_centres", "sample_sums", "moments", "poisson_floor", "activity_vs_mass",
           "DEFAULT_MASSES_MG"]

#: Sample masses [mg]: 5 to 500 mg, as the published biopsies (5-422 mg).
DEFAULT_MASSES_MG = (5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)


def sample_centres(label, bounds, n, side_mm, *, region=0, rng=None, max_tries=200_000):
    """Centres [mm] of up to ``n`` cubes of side ``side_mm`` wholly in ``region``.

    ``label`` maps points (N, 3) [mm] to regions (-1 outside, 0 normal, k tumour k);
    centres are drawn uniformly in ``bounds`` (lo, hi) and kept when every point of a
    5 x 5 x 5 lattice over the cube has the wanted label. Gives up after ``max_tries / 10``
    candidates when none fits.
    """
    rng = np.random.default_rng(rng)
    g = np.linspace(-0.5, 0.5, 5) * side_mm
    offs = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    lo, hi = (np.asarray(b, dtype=float) for b in bounds)
    out, tried, kept = [], 0, 0
    while kept < n and tried < max_tries and (kept or tried < max_tries // 10):
        c = rng.uniform(lo, hi, size=(1024, 3))
        tried += c.shape[0]
        lab = label((c[:, None, :] + offs[None]).reshape(-1, 3)).reshape(c.shape[0], -1)
        out.append(c[np.all(lab == region, axis=1)])
        kept += out[-1].shape[0]
    cat = np.concatenate(out) if out else np.empty((0, 3))
    return cat[:n]


def sample_sums(tree: cKDTree, weights, centres_mm, side_mm, *, shape="cube"):
    """Sphere counts and summed weights (activities) in samples around ``centres_mm``.

    Parameters
    ----------
    tree : scipy.spatial.cKDTree
        Over the sphere centres [mm].
    weights : (N,) array
        Per-sphere weight (activity [Bq]).
    centres_mm : (S, 3) array [mm]
    side_mm : float
        Cube side, or the ball's diameter for ``shape="ball"`` [mm].
    shape : {"cube", "ball"}

    Returns
    -------
    counts : (S,) int64
    sums : (S,) float64
    """
    if shape not in ("cube", "ball"):
        raise ValueError(f"shape {shape!r} is not 'cube' or 'ball'")
    c = np.asarray(centres_mm, dtype=float).reshape(-1, 3)
    if c.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    p = np.inf if shape == "cube" else 2.0
    lists = tree.query_ball_point(c, 0.5 * side_mm, p=p)
    counts = np.fromiter((len(x) for x in lists), np.int64, c.shape[0])
    idx = np.fromiter((i for x in lists for i in x), np.int64, int(counts.sum()))
    owner = np.repeat(np.arange(c.shape[0]), counts)
    sums = np.bincount(owner, np.asarray(weights, dtype=float)[idx], minlength=c.shape[0])
    return counts, sums


def moments(values) -> dict:
    """Mean, SD (n - 1), CV and skewness g1 = m3 / m2^(3/2) (Fisher-Pearson, moments about
    the mean) of a sample.

    Examples
    --------
    >>> m = moments([1.0, 2.0, 3.0, 10.0])
    >>> round(m["mean"], 3), round(m["skewness"], 3)
    (4.0, 1.018)
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2:
        return {"n": int(v.size), "mean": float(v.mean()) if v.size else float("nan"),
                "sd": float("nan"), "cv": float("nan"), "skewness": float("nan")}
    mean = float(v.mean())
    d = v - mean
    m2, m3 = float(np.mean(d * d)), float(np.mean(d ** 3))
    sd = float(v.std(ddof=1))
    return {"n": int(v.size), "mean": mean, "sd": sd,
            "cv": sd / mean if mean > 0 else float("nan"),
            "skewness": m3 / m2 ** 1.5 if m2 > 0 else float("nan")}


def poisson_floor(mean_count, activities) -> tuple[float, float]:
    """CV and skewness of the activity of a compound-Poisson sample with ``mean_count``
    spheres of the given activity distribution (see the module's note)."""
    a = np.asarray(activities, dtype=float).ravel()
    if mean_count <= 0 or a.size == 0:
        return float("nan"), float("nan")
    m1, m2, m3 = a.mean(), np.mean(a * a), np.mean(a ** 3)
    return (float(np.sqrt(m2) / m1 / np.sqrt(mean_count)),
            float(m3 / m2 ** 1.5 / np.sqrt(mean_count)))


def activity_vs_mass(label, bounds, tree: cKDTree, activity_Bq, *, masses_mg=DEFAULT_MASSES_MG,
                     samples=300, density_g_cm3=1.06, region=0, rng=None, shape="cube"):
    """CV and skewness of the sample activity for each sample mass.

    Parameters
    ----------
    label, bounds
        Tissue regions and the box holding them (:func:`sample_centres`).
    tree : scipy.spatial.cKDTree
        Over the sphere centres [mm].
    activity_Bq : (N,) array [Bq]
        Activity of each sphere, in the tree's order.
    masses_mg : sequence of float
        Sample masses [mg].
    samples : int
        Samples per mass (fewer when the region has no room for them).
    density_g_cm3 : float
        Tissue density [g/cm^3] (1 g/cm^3 = 1 mg/mm^3).

    Returns
    -------
    list of dict
        Per mass: ``mass_mg``, ``side_mm``, ``n``, ``mean_spheres``, ``mean_Bq``, ``cv``,
        ``skewness``, their standard errors for independent samples from a near-normal
        population (``cv_se`` = CV sqrt((1/2 + CV^2) / n), ``skewness_se`` = sqrt(6 / n);
        overlapping samples make the true errors larger), ``poisson_cv``,
        ``poisson_skewness``.
    """
    rng = np.random.default_rng(rng)
    act = np.asarray(activity_Bq, dtype=float)
    out = []
    for m in masses_mg:
        vol = float(m) / density_g_cm3
        side = vol ** (1.0 / 3.0) if shape == "cube" else (6.0 * vol / np.pi) ** (1.0 / 3.0)
        c = sample_centres(label, bounds, samples, side, region=region, rng=rng)
        counts, sums = sample_sums(tree, act, c, side, shape=shape)
        mo = moments(sums)
        pcv, psk = poisson_floor(float(counts.mean()) if counts.size else 0.0, act)
        n = max(int(c.shape[0]), 1)
        out.append({"mass_mg": float(m), "side_mm": float(side), "n": int(c.shape[0]),
                    "mean_spheres": float(counts.mean()) if counts.size else float("nan"),
                    "mean_Bq": mo["mean"], "cv": mo["cv"], "skewness": mo["skewness"],
                    "cv_se": mo["cv"] * np.sqrt((0.5 + mo["cv"] ** 2) / n),
                    "skewness_se": float(np.sqrt(6.0 / n)),
                    "poisson_cv": pcv, "poisson_skewness": psk})
    return out
