"""Figures of a chain results file, drawn from the file alone: the images the clinic sees
beside the microscale truth, and the comparison (DVHs with the response thresholds, segment
by segment predicted / measured / true doses)."""
from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
import numpy as np

from dosimetry.metrics import cumulative_dvh

__all__ = ["draw_chain_figures", "plot_chain_images", "plot_chain_comparison"]

_STYLE = {"microscale": ("k", "-", "microscale truth"),
          "truth_pet_y90": ("0.45", "--", "truth on PET voxels"),
          "ldm_pet_y90": ("tab:red", "-", "LDM, Y-90 PET"),
          "vsv_pet_y90": ("tab:orange", "-.", "voxel-S, Y-90 PET"),
          "ldm_spect_y90": ("tab:blue", "-", "LDM, bremsstrahlung SPECT")}


def _slice(img, origin, voxel, z_mm):
    k = int(np.clip(round((z_mm - origin[2]) / voxel), 0, img.shape[2] - 1))
    ext = [origin[0] - voxel / 2, origin[0] + voxel * (img.shape[0] - 0.5),
           origin[1] - voxel / 2, origin[1] + voxel * (img.shape[1] - 0.5)]
    return img[:, :, k].T, ext


def _panel(fig, ax, img, origin, voxel, z_mm, title, *, label, vmax=None, outline=None):
    sl, ext = _slice(np.asarray(img, float), origin, voxel, z_mm)
    im = ax.imshow(sl, origin="lower", extent=ext, vmin=0.0, vmax=vmax,
                   cmap=matplotlib.colormaps["inferno"], interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label, shrink=0.8, extend="max" if vmax else "neither")
    if outline is not None:
        lab, lo, vx = outline
        ol, oext = _slice((lab > 0).astype(float), lo, vx, z_mm)
        xs = np.linspace(oext[0] + vx / 2, oext[1] - vx / 2, ol.shape[1])
        ys = np.linspace(oext[2] + vx / 2, oext[3] - vx / 2, ol.shape[0])
        if ol.any() and not ol.all():
            ax.contour(xs, ys, ol, levels=[0.5], colors="cyan", linewidths=0.8)
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("x [mm]", fontsize=7)
    ax.set_ylabel("y [mm]", fontsize=7)
    ax.tick_params(labelsize=6)


def plot_chain_images(chain: dict, dose: dict, *, title: str = "") -> Figure:
    """Six panels at the axial slice through the centre of the tumours (or the liver): scout
    SPECT, PET, microscale dose, true dose on PET voxels, LDM and voxel-S dose from PET.
    Tumour VOIs outlined (cyan)."""
    spect, pet = chain["images"]["spect_tc99m"], chain["images"]["pet_y90"]
    lab = pet["voi_label"]
    sel = np.argwhere(lab > 0) if (lab > 0).any() else np.argwhere(lab >= 0)
    z = float(pet["origin_mm"][2] + pet["voxel_mm"] * sel[:, 2].mean())
    fig = Figure(figsize=(13.0, 7.6), layout="constrained")
    axes = fig.subplots(2, 3)
    po, pv = pet["origin_mm"], pet["voxel_mm"]
    outline = (lab, po, pv)
    _panel(fig, axes[0, 0], spect["counts"], spect["origin_mm"], spect["voxel_mm"], z,
           f"Tc-99m-MAA SPECT, FWHM {spect['fwhm_mm']:g} mm",
           label="counts", outline=(spect["voi_label"], spect["origin_mm"], spect["voxel_mm"]))
    _panel(fig, axes[0, 1], pet["activity_Bq"] * 1e-6, po, pv, z,
           f"Y-90 PET, FWHM {pet['fwhm_mm']:g} mm", label="activity [MBq]", outline=outline)
    fine = dose["dose_Gy"]
    sl, _ = _slice(np.asarray(fine, float), dose["origin_mm"], float(dose["spacing_mm"][0]), z)
    vmax = float(np.percentile(sl[sl > 0], 99.5)) if (sl > 0).any() else None
    _panel(fig, axes[0, 2], fine, dose["origin_mm"], float(dose["spacing_mm"][0]), z,
           f"microscale dose ({1e3 * float(dose['spacing_mm'][0]):.0f} um voxels)",
           label="dose [Gy]", vmax=vmax, outline=outline)
    for ax, key, name in ((axes[1, 0], "truth_Gy", "true dose on PET voxels"),
                          (axes[1, 1], "ldm_Gy", "LDM dose from PET"),
                          (axes[1, 2], "vsv_Gy", "voxel-S dose from PET")):
        _panel(fig, ax, pet[key], po, pv, z, f"{name} ({pv:g} mm)", label="dose [Gy]",
               vmax=vmax, outline=outline)
    fig.suptitle(f"{title}\naxial slice z = {z:.1f} mm; cyan: tumour VOIs; dose panels share "
                 "one scale (top: the microscale 99.5th percentile)", fontsize=9)
    return fig


def _dvh(ax, samples: dict, thresholds, name):
    top = max(float(np.percentile(d, 99.5)) for d, _ in samples.values() if len(d)) * 1.1
    for key, (d, w) in samples.items():
        if len(d) == 0:
            continue
        c, ls, lab = _STYLE.get(key, ("0.5", ":", key))
        x, v = cumulative_dvh(d, w, max_dose_Gy=top)
        ax.plot(x, 100 * v, color=c, ls=ls, lw=1.4, label=lab)
    for i, (t, what) in enumerate(thresholds):
        ax.axvline(t, color="purple", ls=":", lw=1)
        ax.text(t, 3 + 12 * i, f" {t:g} Gy\n {what}", fontsize=6, color="purple")
    ax.set_xlabel("dose [Gy]")
    ax.set_ylabel("volume receiving at least [%]")
    ax.set_title(f"{name}: cumulative DVH", fontsize=9)
    ax.legend(fontsize=7)


def _segments(ax, seg: dict):
    truth = np.asarray(seg["microscale_Gy"])
    top = np.nanmax([np.nanmax(np.asarray(v)) for k, v in seg.items() if k != "mass_kg"]) * 1.1
    x = np.array([0.0, top])
    ax.plot(x, x, "k-", lw=0.8, label="identity")
    ax.fill_between(x, 0.9 * x, 1.1 * x, color="0.85", label="within 10 %")
    ax.scatter(truth, seg["predicted_Gy"], marker="o", color="tab:green",
               label="predicted by the Tc-99m-MAA SPECT")
    if "ldm_pet_y90_Gy" in seg:
        ax.scatter(truth, seg["ldm_pet_y90_Gy"], marker="s", facecolors="none",
                   edgecolors="tab:red", label="LDM on Y-90 PET")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("true mean dose of the segment [Gy]")
    ax.set_ylabel("estimate [Gy]")
    ax.set_title("vascular segments", fontsize=9)
    ax.legend(fontsize=7)


def plot_chain_comparison(chain: dict, dose: dict, comp, *, title: str = "") -> Figure:
    """Tumour and normal-liver DVHs (microscale truth, truth on PET voxels, LDM and voxel-S on
    PET, LDM on bremsstrahlung SPECT) with the response thresholds, and the segment doses."""
    th = chain["comparison"]["thresholds_Gy"]
    thresholds = [(th["nonresponse"], "non-response"), (th["response"], "response")]
    fig = Figure(figsize=(14.0, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, name, codes in ((axes[0], "tumour", [c for c in comp.codes if c > 0]),
                            (axes[1], "normal liver", [0])):
        parts = [comp.voxels(c) for c in codes]
        if not parts or sum(p[0].size for p in parts) == 0:
            ax.set_visible(False)
            continue
        idx = np.concatenate([p[0] for p in parts])
        w = np.concatenate([p[1] for p in parts])
        samples = {"microscale": (dose["dose_Gy"].ravel()[idx].astype(float), w)}
        for img_name, keys in (("pet_y90", ("truth", "ldm", "vsv")), ("spect_y90", ("ldm",))):
            img = chain["images"][img_name]
            frac = img["voi_tumour_fraction" if name == "tumour" else "voi_normal_fraction"]
            sel = frac > 0
            for k in keys:  # partial-voxel VOIs: each voxel weighted by its fraction
                samples[f"{k}_{img_name}"] = (img[f"{k}_Gy"][sel].astype(float),
                                              frac[sel].astype(float))
        _dvh(ax, samples, thresholds if name == "tumour" else thresholds[:1], name)
    _segments(axes[2], chain["segments"])
    fig.suptitle(title, fontsize=9)
    return fig


def draw_chain_figures(folder, name: str, chain: dict, dose: dict, comp, label: str) -> list:
    """Write the chain figures (PNG); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for suffix, fig in (("chain_images", plot_chain_images(chain, dose, title=label)),
                        ("chain_comparison", plot_chain_comparison(chain, dose, comp,
                                                                   title=label))):
        p = folder / f"{name}_{suffix}.png"
        fig.savefig(p, dpi=120)
        out.append(str(p))
    return out
