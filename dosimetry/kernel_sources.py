"""Monte Carlo sources of a nuclide's dose point kernel: the ICRP-107 beta spectrum (cubic
spline of the tabulated density), the discrete electron lines (conversion + Auger) and the
photon lines (gamma + X), each weighted by its yield per decay (see
:mod:`dosimetry.kernel_build`).

References
----------
.. [1] ICRP Publication 107 (2008), nuclear decay data (beta spectra, discrete lines).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from dosimetry.decay import get_nuclide, normalise_name

__all__ = ["beta_source_cdf", "line_source_cdf", "nuclide_sources", "Source",
           "LINE_HISTORY_FRACTION"]

#: Histories of the line sources as a fraction of the beta histories (at least 20 000).
LINE_HISTORY_FRACTION = 0.2


def beta_source_cdf(nuclide, n_sub: int = 40):
    """Source CDF of a nuclide's ICRP-107 beta spectrum on a fine energy grid.

    The tabulated density is interpolated by a not-a-knot cubic spline (clipped at 0) with
    ``n_sub`` points per ICRP interval; the CDF is its trapezoid integral, normalised.

    Returns
    -------
    energy_MeV : ndarray
        Energy nodes [MeV].
    cdf : ndarray
        CDF at the nodes [1], 0 to 1.
    mean_MeV : float
        Exact mean energy of the sampled distribution (linear CDF between nodes) [MeV].
    """
    nuc = get_nuclide(nuclide) if isinstance(nuclide, str) else nuclide
    e, w = nuc.spectrum_energy_MeV, nuc.spectrum_density_per_MeV
    t = np.linspace(0.0, 1.0, n_sub + 1)[:-1]
    x = np.concatenate([e[i] + t * (e[i + 1] - e[i]) for i in range(e.size - 1)] + [e[-1:]])
    y = np.clip(CubicSpline(e, w)(x), 0.0, None)
    cdf = np.concatenate(([0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))))
    cdf /= cdf[-1]
    mean = float(np.sum(0.5 * (x[1:] + x[:-1]) * np.diff(cdf)))
    return x, cdf, mean


def line_source_cdf(energies_MeV, yields):
    """CDF nodes of a set of discrete lines for the Monte Carlo sampler.

    Each line becomes two nodes of equal energy whose CDF step is its share of the total yield
    (the sampler interpolates energies between nodes, so it returns the line energy).

    Returns
    -------
    energy_MeV, cdf : ndarray
        Nodes [MeV] and CDF [1] (0 to 1).
    total_yield : float
        Lines per decay [1].
    mean_MeV : float
        Mean energy per line [MeV].
    """
    e = np.asarray(energies_MeV, dtype=float)
    y = np.asarray(yields, dtype=float)
    keep = y > 0
    e, y = e[keep], y[keep]
    order = np.argsort(e, kind="stable")
    e, y = e[order], y[order]
    total = float(y.sum())
    c = np.concatenate(([0.0], np.cumsum(y) / total))
    nodes = np.repeat(e, 2)
    cdf = np.empty(2 * e.size)
    cdf[0::2], cdf[1::2] = c[:-1], c[1:]
    cdf[-1] = 1.0
    return nodes, cdf, total, float(np.sum(e * y) / total)


@dataclass(frozen=True)
class Source:
    """One Monte Carlo source of a nuclide's kernel.

    Attributes
    ----------
    kind : {"electron", "photon"}
    label : str
    energy_MeV, cdf : ndarray
        Sampling CDF (see :func:`beta_source_cdf`, :func:`line_source_cdf`).
    per_decay : float
        Particles per decay [1].
    mean_MeV : float
        Mean energy per particle that the kernel is normalised to [MeV] (the ICRP-107 value;
        the tallies are scaled by mean_MeV / the energy per history the simulation tallied,
        which differs from the CDF's mean by the spectrum interpolation and, marginally, by
        the finite number of strata).
    histories : int
    """

    kind: str
    label: str
    energy_MeV: np.ndarray
    cdf: np.ndarray
    per_decay: float
    mean_MeV: float
    histories: int

    @property
    def sampled_mean_MeV(self) -> float:
        e = np.asarray(self.energy_MeV)
        return float(np.sum(0.5 * (e[1:] + e[:-1]) * np.diff(self.cdf)))

    @property
    def emitted_MeV_per_decay(self) -> float:
        return self.per_decay * self.mean_MeV


def nuclide_sources(nuclide: str, histories: int, line_histories: int | None = None) -> list:
    """The Monte Carlo sources of a nuclide from ICRP-107 [1]_.

    Beta spectrum (:func:`beta_source_cdf`, normalised to the ICRP-107 mean beta energy),
    discrete electrons ("IE" conversion + "auger") and discrete photons ("gamma" + "X", in
    three energy bands: < 30 keV, 30-300 keV, > 300 keV, each with its own histories); line
    sources with no yield are left out.
    """
    from icrp107_database import get_icrp107_spectrum

    name = normalise_name(nuclide)
    nuc = get_nuclide(name)
    e, cdf, _ = beta_source_cdf(nuc)
    out = [Source("electron", "beta", e, cdf, float(nuc.beta_yield),
                  float(nuc.mean_beta_energy_MeV / nuc.beta_yield), int(histories))]
    n_lines = int(line_histories or max(20_000, int(LINE_HISTORY_FRACTION * histories)))
    for kind, label, groups, bands in (
            ("electron", "conversion + Auger electrons", ("IE", "auger"), (0.0, np.inf)),
            # photon lines in energy bands, each with its own histories: otherwise the few
            # penetrating gammas (Ho-166: 1.38 MeV, 0.25 % of its 3.7 photons per decay) would
            # get a handful of histories next to the many soft X-rays
            ("photon", "gamma + X-ray lines", ("gamma", "X"), (0.0, 0.03, 0.3, np.inf))):
        es, ys = [], []
        for g in groups:
            spec = get_icrp107_spectrum(name, g)
            es.append(np.asarray(spec["energies"], dtype=float))
            ys.append(np.asarray(spec["weights"], dtype=float))
        es, ys = np.concatenate(es), np.concatenate(ys)
        for lo, hi in zip(bands[:-1], bands[1:]):
            sel = (es >= lo) & (es < hi) & (ys > 0)
            if not np.any(sel):
                continue
            nodes, lcdf, total, mean = line_source_cdf(es[sel], ys[sel])
            tag = label if len(bands) == 2 else f"{label} {lo * 1e3:g}-{hi * 1e3:g} keV"
            out.append(Source(kind, tag, nodes, lcdf, total, mean, n_lines))
    return out
