"""The device comparison's figure: spheres per terminal, normal-liver DVH and normal-lobule dose
histograms of every replicate (lines of one device share a colour), and a dose slice per
device (first replicate)."""
from __future__ import annotations

from matplotlib.figure import Figure
import numpy as np

from dosimetry import metrics
from sim.dose.plot import plot_dose_slice

__all__ = ["comparison_panel"]


def _per_terminal(ax, results, caps):
    tops = []
    for dev, runs in results.items():
        for res in runs:
            tree = res.tree()
            tops.append(np.percentile(res.deposition()["spheres_per_segment"][tree.is_terminal],
                                      99.5))
    top = max(1, int(max(tops)))
    bins = np.arange(0, top + 2) - 0.5 if top < 80 else np.linspace(-0.5, top + 0.5, 80)
    beyond = 0
    for i, (dev, runs) in enumerate(results.items()):
        for r, res in enumerate(runs):
            tree = res.tree()
            v = res.deposition()["spheres_per_segment"][tree.is_terminal]
            beyond += int(np.sum(v > top))
            ax.hist(np.minimum(v, top + 0.4), bins=bins, histtype="step", lw=1.2,
                    density=True, color=f"C{i}", alpha=1.0 if r == 0 else 0.45,
                    label=dev if r == 0 else None)
    for cap in sorted(set(c for c in caps.values() if c is not None and c <= top + 1)):
        ax.axvline(cap, color="k", ls=":", lw=1)
        ax.text(cap, ax.get_ylim()[1] * 0.9, "occlusion cap\n(transport.\nspheres_to_occlude) ",
                fontsize=7, va="top", ha="right")
    if beyond:
        ax.text(0.98, 0.55, f"{beyond:,} terminals beyond {top}\ncounted in the last bin",
                transform=ax.transAxes, ha="right", fontsize=7)
    ax.set_xlabel("spheres per terminal arteriole")
    ax.set_ylabel("fraction of terminals")
    ax.set_title("(a) spheres per terminal", fontsize=10)


def _dvh(ax, results, mird_Gy):
    tops = []
    for i, (dev, runs) in enumerate(results.items()):
        for r, res in enumerate(runs):
            d = res.dose()
            normal = d["dose_Gy"][d["region"] == 0]
            if normal.size == 0:
                continue
            tops.append(float(np.percentile(normal, 99.5)))
            x, v = metrics.cumulative_dvh(normal, bins=300)
            ax.plot(x, 100 * v, color=f"C{i}", alpha=1.0 if r == 0 else 0.45,
                    label=dev if r == 0 else None)
    ax.axvline(mird_Gy, color="k", ls="--", label="MIRD planned mean")
    ax.set_xlim(0, 1.5 * max(tops) if tops else 1.0)
    ax.set_xlabel("dose [Gy]")
    ax.set_ylabel("treated normal liver volume [%]")
    ax.set_title("(b) normal-liver DVH", fontsize=10)


def _lobules(ax, results):
    allv = []
    for runs in results.values():
        for res in runs:
            d = res.dose()
            allv.append(d["lobule_dose_Gy"][(d["lobule_region"] == 0)
                                            & np.isfinite(d["lobule_dose_Gy"])])
    values = np.concatenate(allv) if allv else np.zeros(1)
    top = float(np.percentile(values, 99.5)) * 1.05 if values.size else 1.0
    bins = np.linspace(0, top, 60)
    beyond = int(np.sum(values > top))
    k = 0
    for i, (dev, runs) in enumerate(results.items()):
        for r, _ in enumerate(runs):
            v = allv[k]
            k += 1
            ax.hist(np.minimum(v, top * 0.999), bins=bins, histtype="step", lw=1.2,
                    density=True, color=f"C{i}", alpha=1.0 if r == 0 else 0.45,
                    label=dev if r == 0 else None)
    for t in (40, 70):
        ax.axvline(t, color="k", ls=":", lw=1)
    if beyond:
        ax.text(0.98, 0.55, f"{beyond:,} lobules beyond {top:.0f} Gy\ncounted in the last bin",
                transform=ax.transAxes, ha="right", fontsize=7)
    ax.set_xlabel("lobule dose [Gy]")
    ax.set_ylabel("fraction of normal lobules per Gy")
    ax.set_title("(c) normal-lobule doses (40 and 70 Gy marked)", fontsize=10)


def comparison_panel(results: dict, *, mird_Gy: float, dose_Gy: float, caps: dict,
                     title_devices: str, seed) -> Figure:
    """The comparison figure; ``results`` maps device -> list of Results (replicates),
    ``caps`` device -> occlusion cap (None for non-linear embolic models)."""
    n = len(results)
    fig = Figure(figsize=(4.6 * max(3, n), 8.8), layout="constrained")
    grid = fig.add_gridspec(2, max(3, n))
    ax_n, ax_d, ax_l = (fig.add_subplot(grid[0, i]) for i in range(3))
    _per_terminal(ax_n, results, caps)
    _dvh(ax_d, results, mird_Gy)
    _lobules(ax_l, results)
    for a in (ax_n, ax_d, ax_l):
        a.legend(fontsize=8)
    first = {dev: runs[0].dose() for dev, runs in results.items()}
    vmax = max(float(np.percentile(d["dose_Gy"][d["region"] >= 0], 99.9))
               for d in first.values())
    for i, (dev, d) in enumerate(first.items()):
        ax = fig.add_subplot(grid[1, i])
        plot_dose_slice(d["dose_Gy"], d["origin_mm"], d["spacing_mm"], None, region=d["region"],
                        ax=ax, title=f"({chr(100 + i)}) {dev}, replicate 0")
        for im in ax.get_images():
            im.set_clim(max(1.0, vmax / 1e2), vmax)
    reps = len(next(iter(results.values())))
    fig.suptitle(f"{title_devices} at the same MIRD mean dose ({dose_Gy:g} Gy); {reps} "
                 f"replicate{'s' if reps > 1 else ''} (faint lines: replicates 1+), root seed "
                 f"{seed}", fontsize=11)
    return fig
