"""Figures of the dose stage: DVHs with the planning predictions, a dose map slice with the
sphere positions, and the lobule-dose histogram. Functions take ``ax=None``, return
``(fig, ax)`` and never call ``plt.show()``."""
from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.colors import LogNorm
import numpy as np

from dosimetry import metrics
from sim.plotting import new_axes

__all__ = ["plot_dvh", "plot_dose_slice", "plot_lobule_histogram", "draw_dose_figures",
           "save_dose_figures", "default_slice"]

_COLOURS = {"normal": "tab:blue", "tumour": "tab:red", "untreated": "tab:gray"}


def plot_dvh(dose, region, planning: dict, *, ax=None, title="", voxel_mm=None):
    """Cumulative DVHs of treated normal liver, tumour and untreated liver, with the MIRD and
    partition predictions as vertical lines; the voxel size is stated (a DVH depends on it)."""
    fig, ax = new_axes(ax)
    liver = (region >= 0) | (region == -2)
    top = float(np.percentile(dose[liver], 99.9)) * 1.1 if np.any(liver) else 1.0
    for name, sel in (("normal", region == 0), ("tumour", region > 0), ("untreated", region == -2)):
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
    vox = f"voxel {voxel_mm:.3g} mm; " if voxel_mm is not None else ""
    ax.set_title(f"{vox}{title}", fontsize=9)
    return fig, ax


def default_slice(region, axis=2) -> int:
    """Index of the slice through the largest tumour's centre, else the liver's centre."""
    sel = region > 0
    if not sel.any():
        sel = region >= 0
    if not sel.any():
        return region.shape[axis] // 2
    codes = region[sel] if (region > 0).any() else None
    if codes is not None:
        sel = region == np.bincount(codes).argmax()
    idx = np.nonzero(sel)[axis]
    return int(np.round(idx.mean()))


def plot_dose_slice(dose, origin, spacing, sphere_xyz=None, *, region=None, axis=2, index=None,
                    ax=None, title="", max_markers=2000):
    """A slice of the dose grid on a log colour scale spanning the liver's doses.

    Voxels outside the liver are grey (their low doses would otherwise take most of the colour
    scale), tumours are outlined, the slice position and voxel size are in the title, and the
    spheres within half a voxel of the slice are marked only when there are few enough not to
    hide the dose (``max_markers``).
    """
    
    fig, ax = new_axes(ax, figsize=(6.0, 5.0))
    if index is None:
        index = default_slice(region, axis) if region is not None else dose.shape[axis] // 2
    sl = np.take(dose, index, axis=axis).astype(float)
    reg = np.take(region, index, axis=axis) if region is not None else None
    dims = [d for d in range(3) if d != axis]
    ext = []
    for d in dims:
        ext += [origin[d] - spacing[d] / 2, origin[d] + spacing[d] * (dose.shape[d] - 0.5)]
    liver = (reg >= 0) | (reg == -2) if reg is not None else np.ones(sl.shape, bool)
    inside = sl[liver & (sl > 0)]
    vmin = max(float(np.percentile(inside, 0.5)) if inside.size else 1e-3, 1e-3)
    vmax = max(float(np.percentile(inside, 99.9)) if inside.size else 1.0, vmin * 2)
    img = np.ma.masked_array(np.clip(sl, vmin, None), mask=~liver)
    cmap = matplotlib.colormaps["inferno"].with_extremes(bad="0.85")
    im = ax.imshow(img.T, origin="lower", extent=ext, norm=LogNorm(vmin, vmax), cmap=cmap,
                   interpolation="nearest")
    fig.colorbar(im, ax=ax, label="dose [Gy] (liver only; grey: outside the liver)",
                 extend="both")
    if reg is not None and (reg > 0).any():
        xs = origin[dims[0]] + spacing[dims[0]] * np.arange(sl.shape[0])
        ys = origin[dims[1]] + spacing[dims[1]] * np.arange(sl.shape[1])
        ax.contour(xs, ys, (reg > 0).T.astype(float), levels=[0.5], colors="cyan",
                   linewidths=1.0)
        ax.plot([], [], color="cyan", lw=1.0, label="tumour outline")
    pos = origin[axis] + spacing[axis] * index
    if sphere_xyz is not None and len(sphere_xyz):
        near = np.abs(sphere_xyz[:, axis] - pos) <= spacing[axis] / 2
        n = int(near.sum())
        if 0 < n <= max_markers:
            ax.scatter(sphere_xyz[near, dims[0]], sphere_xyz[near, dims[1]], s=6,
                       facecolors="none", edgecolors="w", linewidths=0.4, alpha=0.6,
                       label=f"spheres within the slice ({n:,})")
        else:
            ax.plot([], [], " ", label=f"{n:,} spheres within the slice (not marked)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel(f"{'xyz'[dims[0]]} [mm]")
    ax.set_ylabel(f"{'xyz'[dims[1]]} [mm]")
    vox = "x".join(f"{spacing[d]:.3g}" for d in range(3))
    ax.set_title(f"{'xyz'[axis]} = {pos:.1f} mm (slice {index + 1} of {dose.shape[axis]}), "
                 f"voxel {vox} mm\n{title}", fontsize=9)
    return fig, ax


def plot_lobule_histogram(lobule_dose, lobule_region, *, ax=None, title="", thresholds=(40, 70),
                          top_percentile=99.5):
    """Histogram of lobule-level doses (normal and tumour lobules) with clinical thresholds.

    The axis ends at ``top_percentile`` of the doses; lobules beyond it are counted in the
    last bin and their number is stated.
    """
    fig, ax = new_axes(ax)
    ok = np.isfinite(lobule_dose)
    top = float(np.percentile(lobule_dose[ok], top_percentile)) * 1.05 if ok.any() else 1.0
    bins = np.linspace(0, top, 60)
    beyond = int(np.sum(lobule_dose[ok] > top))
    for name, sel in (("normal", lobule_region == 0), ("tumour", lobule_region > 0)):
        sel = sel & ok
        if sel.any():
            v = lobule_dose[sel]
            cv = v.std() / v.mean() if v.mean() > 0 else float("nan")
            ax.hist(np.minimum(v, top * 0.999), bins=bins, histtype="step", lw=1.5, density=True,
                    color=_COLOURS[name],
                    label=f"{name} lobules ({int(sel.sum()):,}), CV {cv:.2f}")
    for t in thresholds:
        ax.axvline(t, color="k", ls=":", lw=1)
        ax.text(t, ax.get_ylim()[1] * 0.95, f" {t} Gy", fontsize=7)
    note = f"; {beyond:,} lobules above {top:.3g} Gy counted in the last bin" if beyond else ""
    ax.set_xlabel(f"lobule dose [Gy]{note}", fontsize=9)
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
        ("dvh", plot_dvh(dose, region, planning, title=label, voxel_mm=float(spacing_mm[0]))),
        ("dose_slice", plot_dose_slice(dose, origin_mm, spacing_mm, sphere_xyz, region=region,
                                       title=label)),
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
