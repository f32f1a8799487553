"""Figures of the virtual histology, each with the published values marked: cluster sizes,
small-scale dose as published and as true, CV and skewness of the activity against sample
mass, and a rendered section."""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from sim.histology.published import HOGBERG_2014, HOGBERG_2015, KENNEDY_2004

__all__ = ["plot_cluster_sizes", "plot_dose_histograms", "plot_activity_vs_mass",
           "plot_section"]

_COLOURS = {"normal": "tab:blue", "tumour": "tab:red"}


def _fig(ncols, width=5.2, height=4.2):
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def plot_cluster_sizes(arrays, title=""):
    """Fraction of spheres in clusters of at least k spheres, and the largest cluster of each
    biopsy against its sphere concentration; Högberg 2015's largest cluster (453) marked."""
    fig, (a, b) = _fig(2)
    for name in ("normal", "tumour"):
        arr = arrays.get(name)
        if arr is None or arr["cluster_sizes"].size == 0:
            continue
        size = np.sort(arr["cluster_sizes"])
        ks = np.unique(size)
        frac = np.array([size[size >= k].sum() for k in ks]) / size.sum()
        a.step(ks, frac, where="post", color=_COLOURS[name], label=f"{name} (simulated)")
        b.plot(arr["concentration"], arr["largest"], "o", color=_COLOURS[name], alpha=0.7,
               label=f"{name} biopsies (simulated)")
    for ax in (a, b):
        ref = a.axvline if ax is a else b.axhline
        ref(HOGBERG_2015["largest_cluster"], color="k", ls="--",
            label="largest cluster, Högberg 2015 (resin)")
    a.set(xscale="log", xlabel="cluster size k [spheres]", ylim=(0, 1.02),
          ylabel="fraction of spheres in clusters ≥ k",
          title="cluster sizes (spheres in the sections)")
    b.set(yscale="log", xlabel="spheres per mg of sectioned tissue",
          ylabel="largest cluster in the biopsy [spheres]",
          title="largest cluster against concentration")
    for ax in (a, b):
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def _log_bins(*samples):
    v = np.concatenate([s[np.isfinite(s) & (s > 0)] for s in samples])
    lo, hi = (max(v.min(), 1e-2), v.max()) if v.size else (1.0, 10.0)
    return np.geomspace(min(lo, 1.0), max(hi, 2000.0) * 1.05, 60)


def plot_dose_histograms(arrays, title=""):
    """Small-scale dose in the sections: as the papers computed it (kernel on the spheres in
    the sections, every lattice point) and the true dose (every sphere, a random subset of
    the points), with Högberg 2015's central 90 % (10-97 Gy), 30 Gy line and range (5-1240
    Gy); for tumour biopsies Kennedy 2004's 100 to > 3000 Gy."""
    names = [n for n in ("normal", "tumour") if arrays.get(n) is not None]
    fig, axes = _fig(len(names))
    for ax, name in zip(axes, names):
        arr = arrays[name]
        bins = _log_bins(arr["papers_all_Gy"], arr["true_Gy"])
        pap, tru = arr["papers_all_Gy"], arr["true_Gy"]
        ax.hist(pap, bins=bins, weights=np.full(pap.size, 1.0 / max(pap.size, 1)),
                histtype="step", lw=1.6,
                color="tab:orange", label="as the papers did (spheres in the sections)")
        ax.hist(tru, bins=bins, weights=np.full(tru.size, 1.0 / max(tru.size, 1)),
                histtype="step", lw=1.6,
                color="tab:green", label="true (every sphere of the liver)")
        if name == "normal":
            lo, hi = HOGBERG_2015["dose_central90_Gy"]
            ax.axvspan(lo, hi, color="0.85", zorder=0, label="published central 90 % (10-97 Gy)")
            ax.axvline(30.0, color="k", lw=1, label="30 Gy (45 % below, published)")
            for v in (HOGBERG_2015["dose_min_Gy"], HOGBERG_2015["dose_max_Gy"]):
                ax.axvline(v, color="k", ls=":", lw=1)
            ax.set_title("normal liver: dose in the sections\n(dotted: published range "
                         "5-1240 Gy, Högberg 2015, resin)", fontsize=9)
        else:
            lo, hi = KENNEDY_2004["tumour_dose_Gy"]
            ax.axvspan(lo, hi, color="0.9", zorder=0, label="tumour, Kennedy 2004: 100 to >3000 Gy")
            ax.set_title("tumour biopsies: dose in the sections", fontsize=9)
        ax.set(xscale="log", xlabel="absorbed dose [Gy]", ylabel="fraction of dose points per bin (log-spaced)")
        ax.set_yscale("log")
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_activity_vs_mass(rows, title=""):
    """CV and skewness of the sample activity against the sample mass, with the Poisson floor
    (spheres placed independently) and the published mass range (5-422 mg; the published
    values themselves were not available)."""
    fig, (a, b) = _fig(2)
    m = np.array([r["mass_mg"] for r in rows])
    lo, hi = HOGBERG_2014["mass_range_mg"]
    a.errorbar(m, [r["cv"] for r in rows], yerr=[r["cv_se"] for r in rows], fmt="o-",
               capsize=3, label="simulated (± standard error)")
    a.set(xscale="log", yscale="log")
    a.plot(m, [r["poisson_cv"] for r in rows], "k--", label="Poisson (no clustering)")
    b.errorbar(m, [r["skewness"] for r in rows], yerr=[r["skewness_se"] for r in rows],
               fmt="o-", capsize=3, label="simulated (± standard error)")
    b.set_xscale("log")
    b.plot(m, [r["poisson_skewness"] for r in rows], "k--", label="Poisson")
    b.axhline(0.0, color="0.6", lw=0.8)
    for ax in (a, b):
        ax.axvspan(lo, hi, color="0.92", zorder=0,
                   label="biopsy masses, Högberg 2014 (CV falls, skewness rises as mass falls)")
        ax.set_xlabel("sample mass [mg] (cubes of normal liver)")
        ax.legend(fontsize=7)
    a.set(ylabel="CV of the sample activity", title="coefficient of variation")
    b.set(ylabel="skewness of the sample activity", title="skewness")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_section(render, title=""):
    """One section of a biopsy (the one holding its largest cluster): the dose "as the papers
    did" at the lattice points, the spheres at their true size (grey single, blue string, red
    conglomerate), and a 1-mm window around the largest cluster."""
    fig, (a, b) = _fig(2, width=5.6, height=5.0)
    pts, dose = render["points_xy_mm"], render["dose_Gy"]
    xy, d_mm = render["xy_mm"], render["diameter_um"] * 1e-3
    colours = np.array(["0.4", "tab:blue", "tab:red"])[render["kind"]]
    centre = np.zeros(2)
    if xy.size:
        centre = xy[render["cluster"] == np.argmax(np.bincount(render["cluster"]))].mean(axis=0)
    img, extent = _raster(pts, dose, render["spacing_mm"])
    for ax, zoom in ((a, False), (b, True)):
        if dose.size:
            sc = ax.imshow(img, origin="lower", extent=extent, cmap="viridis",
                           norm=LogNorm(vmin=max(np.nanmin(img), 0.1), vmax=np.nanmax(img)),
                           interpolation="nearest")
        for (x, y), dd, c in zip(xy, d_mm, colours):
            ax.add_patch(Circle((x, y), dd / 2, color=c, zorder=3))
        ax.add_patch(Circle((0, 0), render["radius_mm"], fill=False, color="k"))
        ax.set_aspect("equal")
        ax.set(xlabel="mm", ylabel="mm")
        if zoom:
            ax.set(xlim=(centre[0] - 0.5, centre[0] + 0.5), ylim=(centre[1] - 0.5, centre[1] + 0.5),
                   title="1 mm around the largest cluster")
        else:
            r = render["radius_mm"] * 1.05
            ax.set(xlim=(-r, r), ylim=(-r, r),
                   title=f"section {render['section'] + 1} ({render['section_mm'] * 1e3:g} um), "
                         f"dose points every {render['spacing_mm'] * 1e3:g} um")
    if dose.size:
        fig.colorbar(sc, ax=[a, b], label='dose "as the papers did" [Gy]', shrink=0.8)
    fig.suptitle(title + "\ngrey: single sphere, blue: string, red: conglomerate; white: no "
                 "tissue point (inside a sphere or outside the biopsy)", fontsize=9)
    return fig


def _raster(pts, dose, spacing):
    """The dose points of one section (a square lattice through the centre) as an image
    (NaN where no point: outside the biopsy or inside a sphere) and its extent [mm]."""
    if pts.size == 0:
        return np.full((1, 1), np.nan), (-1, 1, -1, 1)
    ij = np.rint(pts / spacing).astype(int)
    lo = ij.min(axis=0)
    shape = ij.max(axis=0) - lo + 1
    img = np.full((shape[1], shape[0]), np.nan)
    img[ij[:, 1] - lo[1], ij[:, 0] - lo[0]] = dose
    x0, y0 = (lo - 0.5) * spacing
    x1, y1 = (lo + shape - 0.5) * spacing
    return img, (x0, x1, y0, y1)
