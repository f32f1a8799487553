"""Everything a chain writes: the results file (atomic), NIfTI images beside it, figures and
the Markdown report (the figures and the report are drawn from the file alone).

NIfTI images (``NAME_nifti/``, written to a temporary folder renamed into place): every image
on its own grid with an affine in the anatomy's world frame, so that they open over the CT;
with a NIfTI anatomy also the compartments on the reference (liver mask) grid, with its
affine and shape.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import shutil

import numpy as np

from sim.anatomy import AffineMask, grid_affine, resample_to_reference, write_nifti
from sim.clinical.report import chain_report
from sim.clinical.schema import read_chain, write_chain_group
from sim.config import scenario_to_toml
from sim.config.clinical import ChainSpec
from sim.results import open_results, run_summary
from sim.results.io import results_writer
from sim.results.schema import write_deposition_group, write_dose_groups, write_tree_group
from sim.tree import summary as tree_summary

__all__ = ["write_outputs", "write_results_file", "write_nifti_images", "companion_paths"]


def companion_paths(out: Path) -> dict:
    """Paths written beside a results file: figures, report, NIfTI folder."""
    stem = out.name[:-3] if out.name.endswith(".h5") else out.stem
    return {"figures": out.with_name(f"{stem}_figures"),
            "report": out.with_name(f"{stem}_report.md"),
            "nifti": out.with_name(f"{stem}_nifti")}


def write_results_file(res, out: Path, keep: str = "full") -> None:
    """The treatment's stage groups plus ``/chain``, and the merged summary (atomic);
    ``keep`` as for :func:`sim.results.schema.write_stage_results`."""
    a = res.anatomy
    territory = a.tree.subtree(a.injection)
    info = tree_summary(a.tree, a.flow, territory=territory)
    summary = run_summary(res.treated_scenario, info, res.transport, res.dose)
    summary["warnings"] = list(a.warnings) + summary["warnings"]
    summary.update(res.summary)
    summary["chain"] = True
    with results_writer(out, seed=res.scenario.seed,
                        config_toml=scenario_to_toml(res.scenario)) as f:
        f.attrs["scenario"] = res.scenario.name
        f.attrs["kept"] = keep
        if keep != "summary":
            write_tree_group(f, a.tree, a.flow)
            f["tree"].attrs["territory_summary_json"] = json.dumps(info, default=float)
            write_deposition_group(f, a.tree, res.transport, keep)
            f["deposition"].attrs["summary_json"] = json.dumps(
                {"prescription": res.transport.prescription, **res.transport.summary},
                default=float)
        write_dose_groups(f, res.dose, keep)
        write_chain_group(f, res, keep)
        f.attrs["summary_json"] = json.dumps(summary, default=float)


def _images(res) -> dict:
    """name -> (array, affine, description) of every NIfTI image."""
    out = {}
    s = res.scout_image
    out["scout_spect_tc99m_counts"] = (s.counts, s.grid.affine, "Tc-99m-MAA SPECT counts")
    out["scout_true_activity_Bq"] = (s.true_activity_Bq, s.grid.affine,
                                     "true Tc-99m activity at the SPECT [Bq]")
    for name, p in res.post.items():
        aff = p.image.grid.affine
        out[f"{name}_activity_Bq"] = (p.image.activity_Bq, aff, f"{name} activity at scan [Bq]")
        out[f"{name}_true_activity_Bq"] = (p.image.true_activity_Bq, aff,
                                           f"true Y-90 activity at the {name} scan [Bq]")
        out[f"dose_ldm_{name}_Gy"] = (p.ldm_Gy, aff, f"LDM dose from {name} [Gy]")
        out[f"dose_vsv_{name}_Gy"] = (p.vsv_Gy, aff, f"voxel-S dose from {name} [Gy]")
        out[f"dose_truth_{name}_Gy"] = (p.truth_Gy, aff, f"true dose on {name} voxels [Gy]")
        out[f"vois_{name}"] = (p.vois.label.astype(np.int16), aff,
                               "VOIs: -2 untreated, -1 off liver, 0 normal, k tumour k")
    return out


def write_nifti_images(res, folder: Path, *, fine_dose: bool = True) -> list[str]:
    """Write the NIfTI images of a chain into ``folder`` (module notes)."""
    paths = []
    for name, (arr, aff, desc) in _images(res).items():
        paths.append(str(write_nifti(folder / f"{name}.nii.gz", arr, aff, description=desc)))
    d = res.dose
    fine_aff = grid_affine(d.origin_mm, d.spacing_mm)
    if fine_dose:
        paths.append(str(write_nifti(folder / "dose_microscale_Gy.nii.gz", d.dose_Gy, fine_aff,
                                     description="microscale (true) dose [Gy]")))
    dom = res.anatomy.geometry.domain
    if isinstance(dom, AffineMask):  # the compartments on the input grid, for the round trip
        lab = resample_to_reference(d.region.astype(np.int16), fine_aff, dom.mask.shape,
                                    dom.affine, order=0, cval=-1)
        paths.append(str(write_nifti(folder / "compartments_reference.nii.gz", lab, dom.affine,
                                     description="compartments on the input mask grid")))
    return paths


def _replace_folder(tmp: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def write_outputs(res, out, *, figures: bool = True, nifti=None, keep: str = "full"):
    """Results file, NIfTI images, figures and report of a chain; returns the open results.
    Figures need the full file (``keep="full"``)."""
    out = Path(out)
    write_results_file(res, out, keep)
    results = open_results(out)
    paths = companion_paths(out)
    chain = res.scenario.chain or ChainSpec()
    if chain.nifti if nifti is None else nifti:
        tmp = paths["nifti"].with_name(f".{paths['nifti'].name}.{os.getpid()}.tmp")
        try:
            write_nifti_images(res, tmp, fine_dose=chain.nifti_fine_dose)
            _replace_folder(tmp, paths["nifti"])
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    data = read_chain(out)
    label = (f"{res.scenario.name}: {data['summary']['device']}, "
             f"{data['summary']['activity_GBq']:.3g} GBq ({data['summary']['planning_model']}"
             f" from the scout), seed {res.scenario.seed}")
    figs = []
    if figures and keep == "full":  # every figure of the file: the run's and the chain's
        figs = [f for f in results.plot(paths["figures"]) if "_chain_" in Path(f).name]
    rel = [os.path.relpath(f, paths["report"].parent) for f in figs]
    text = chain_report(data, label, rel)
    tmp = paths["report"].with_name(f".{paths['report'].name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, paths["report"])
    return results
