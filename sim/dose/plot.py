"""Figures of the dose stage: DVHs with the planning predictions, a dose map slice with the
sphere positions, and the lobule-dose histogram. Functions take ``ax=None``, return
``(fig, ax)`` and never call ``plt.show()``."""
from __future__ import annotations

from pathlib import Path

from matplotlib.colors import LogNorm
import numpy as np

from dosimetry import metrics
from sim.plotting import new_axes

__all__ = ["plot_dvh", "plot_dose_slice", "plot_lobule_histogram", "draw_dose_figures",
           "save_dose_figures"]

_COLOURS = {"normal": "tab:blue", "tumour": "tab:red", "perfused": "tab:gray"}


def plot_dvh(dose, region, planning: dict, *, ax=None, title=""):
    """Cumulative DVHs of normal liver and tumour, with the MIRD and partition predictions as
    vertical lines."""
    fig, ax = new_axes(ax)
    top = float(np.percentile(dose[region >= 0], 99.9)) * 1.1 if np.any(region >= 0) else 1.0
    for name, sel in (("normal", region == 0), ("tumour", region > 0)):
        if sel.any():
            x, v = metrics.cumulative_dvh(dose[sel], max_dose_Gy=top)
            ax.plot(x, 100 * v, color=_COLOURS[name], label=f"{name} (simulated)")
    if "mird_delivered_Gy" in planning:
        ax.axvline(planning["mird_delivered_Gy"], color="k", ls="--",
                   label="MIRD, delivered activity (treated liver)")
    for key, name in (("partition_normal_dose_Gy", "normal"), ("partition_tumour_dose_Gy", "tumour")):
        if key in planning:
            ax.axvline(planning[key], color=_COLOURS[name], ls=":", label=f"partition ({name})")
    ax.set_xlabel("absorbed dose [Gy]")
    ax.set_ylabel("volume [%]")
    ax.set_xlim(0, top)
    ax.set_ylim(0, 102)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig, ax


def plot_dose_slice(dose, origin, spacing, sphere_xyz=None, *, axis=2, index=None, ax=None,
                    title=""):
    """A slice of the dose grid (log colour scale) with the spheres within one voxel of it."""
    fig, ax = new_axes(ax, figsize=(6.0, 5.0))
    if index is None:
        index = dose.shape[axis] // 2
    sl = np.take(dose, index, axis=axis)
    dims = [d for d in range(3) if d != axis]
    ext = [origin[dims[0]] - spacing[dims[0]] / 2, origin[dims[0]] + spacing[dims[0]] * (dose.shape[dims[0]] - 0.5),
           origin[dims[1]] - spacing[dims[1]] / 2, origin[dims[1]] + spacing[dims[1]] * (dose.shape[dims[1]] - 0.5)]
    pos = sl[sl > 0]
    vmin = max(float(np.percentile(pos, 1)) if pos.size else 1e-3, 1e-3)
    vmax = max(float(sl.max()), vmin * 10)
    im = ax.imshow(np.maximum(sl.T, vmin), origin="lower", extent=ext, norm=LogNorm(vmin, vmax),
                   cmap="inferno", interpolation="nearest")
    fig.colorbar(im, ax=ax, label="dose [Gy]")
    if sphere_xyz is not None and len(sphere_xyz):
        z = origin[axis] + spacing[axis] * index
        near = np.abs(sphere_xyz[:, axis] - z) <= spacing[axis] / 2
        ax.scatter(sphere_xyz[near, dims[0]], sphere_xyz[near, dims[1]], s=1, c="cyan",
                   label=f"spheres in slice ({int(near.sum()):,})")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel(f"{'xyz'[dims[0]]} [mm]")
    ax.set_ylabel(f"{'xyz'[dims[1]]} [mm]")
    ax.set_title(title, fontsize=9)
    return fig, ax


def plot_lobule_histogram(lobule_dose, lobule_region, *, ax=None, title="", thresholds=(40, 70)):
    """Histogram of lobule-level doses (normal and tumour lobules) with clinical thresholds."""
    fig, ax = new_axes(ax)
    ok = np.isfinite(lobule_dose)
    top = float(np.percentile(lobule_dose[ok], 99.5)) * 1.05 if ok.any() else 1.0
    bins = np.linspace(0, top, 60)
    for name, sel in (("normal", lobule_region == 0), ("tumour", lobule_region > 0)):
        sel = sel & ok
        if sel.any():
            ax.hist(lobule_dose[sel], bins=bins, histtype="step", lw=1.5, density=True,
                    color=_COLOURS[name], label=f"{name} lobules ({int(sel.sum()):,})")
    for t in thresholds:
        ax.axvline(t, color="k", ls=":", lw=1)
        ax.text(t, ax.get_ylim()[1] * 0.95, f" {t} Gy", fontsize=7)
    ax.set_xlabel("lobule dose [Gy]")
    ax.set_ylabel("fraction of lobules per Gy")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig, ax


def draw_dose_figures(folder: Path, name: str, label: str, *, dose, region, origin_mm,
                      spacing_mm, planning, lobule_dose, lobule_region, sphere_xyz=None) -> list[str]:
    """Write the DVH, dose-slice and lobule-dose figures (PNG); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for suffix, (fig, _) in (
        ("dvh", plot_dvh(dose, region, planning, title=label)),
        ("dose_slice", plot_dose_slice(dose, origin_mm, spacing_mm, sphere_xyz, title=label)),
        ("lobule_dose", plot_lobule_histogram(lobule_dose, lobule_region, title=label)),
    ):
        p = folder / f"{name}_{suffix}.png"
        fig.savefig(p, dpi=130)
        out.append(str(p))
    return out


def save_dose_figures(folder: Path, name: str, label: str, result, sphere_xyz) -> list[str]:
    """Write the dose figures of one run (PNG) from a :class:`sim.dose.DoseResult`."""
    return draw_dose_figures(folder, name, label, dose=result.dose_Gy, region=result.region,
                             origin_mm=result.origin_mm, spacing_mm=result.spacing_mm,
                             planning=result.planning, lobule_dose=result.lobule_dose_Gy,
                             lobule_region=result.lobule_region, sphere_xyz=sphere_xyz)
