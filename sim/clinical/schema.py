"""The ``/chain`` group of a results file (schema 1.1; docs/architecture.md) and its reader.

::

    /chain                  attrs summary_json, planning_json, comparison_json, scout_json
    /chain/scout            xyz_mm, activity_Bq (at the SPECT), diameter_um, segment
    /chain/images/NAME      counts, expected_counts, activity_Bq (reconstructed, at the scan),
                            true_activity_Bq, voi_label (majority compartment),
                            voi_tumour_fraction, voi_normal_fraction (partial-voxel VOIs),
                            voi_segment, origin_mm;
                            post-treatment images also calibrated_activity_Bq (at the
                            implant), ldm_Gy, vsv_Gy, truth_Gy; attrs voxel_mm, fwhm_mm, info
    /chain/segments         mass_kg, predicted_Gy, microscale_Gy, <map>_Gy per segment

Files of schema 1.0 have no ``/chain`` group and read as before.
"""
from __future__ import annotations

import json

import numpy as np

from sim.results.io import ResultsError, attrs_dict, open_results, write_dataset

__all__ = ["write_chain_group", "read_chain", "planning_record"]


def _json(obj) -> str:
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if hasattr(o, "to_dict"):
            return o.to_dict()
        raise TypeError(f"{type(o).__name__} is not JSON serialisable")
    return json.dumps(obj, default=default)


def planning_record(planning: dict) -> dict:
    """The planning step as plain data (measurements, plans of every model, prediction)."""
    def plans(p):
        return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in p.items()}
    return {"measured": planning["measured"].to_dict(), "truth": planning["truth"].to_dict(),
            "plans": plans(planning["plans"]), "truth_plans": plans(planning["truth_plans"]),
            "activity_GBq": planning["activity_GBq"], "whole_liver_kg": planning["whole_liver_kg"],
            "predicted": planning["predicted"]}


def _image_group(g, image, vois, gz):
    for name, arr, units in (("counts", image.counts, "1"),
                             ("expected_counts", image.expected_counts, "1"),
                             ("activity_Bq", image.activity_Bq, "Bq"),
                             ("true_activity_Bq", image.true_activity_Bq, "Bq")):
        write_dataset(g, name, arr.astype(np.float32), units, **gz)
    write_dataset(g, "voi_label", vois.label, "1", **gz)
    write_dataset(g, "voi_tumour_fraction", vois.fraction("tumour").astype(np.float32), "1", **gz)
    write_dataset(g, "voi_normal_fraction", vois.fraction(0).astype(np.float32), "1", **gz)
    write_dataset(g, "voi_segment", vois.segment, "1", **gz)
    write_dataset(g, "origin_mm", image.grid.origin_mm, "mm")
    g.attrs["voxel_mm"] = image.grid.voxel_mm
    g.attrs["fwhm_mm"] = image.fwhm_mm
    g.attrs["counts_per_Bq"] = image.counts_per_Bq
    g.attrs["info_json"] = _json(image.info)


def write_chain_group(f, res, keep: str = "full") -> None:
    """Write ``/chain`` (module notes) from a :class:`sim.clinical.chain.ChainResult`.

    ``keep`` (:data:`sim.results.schema.KEEP_LEVELS`): ``"full"`` writes everything,
    ``"counts"`` leaves out the scout's per-particle arrays, ``"summary"`` keeps the JSON
    attributes only.
    """
    gz = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
    g = f.create_group("chain")
    g.attrs["summary_json"] = _json(res.summary)
    g.attrs["planning_json"] = _json(planning_record(res.planning))
    comp = dict(res.comparison)
    comp["segments"] = {"errors": comp["segments"]["errors"]}
    g.attrs["comparison_json"] = _json(comp)
    g.attrs["scout_json"] = _json(res.scout.info)
    if keep == "summary":
        return
    s = g.create_group("scout")
    if keep == "full":
        write_dataset(s, "xyz_mm", res.scout.xyz_mm.astype(np.float32), "mm", **gz)
        write_dataset(s, "activity_Bq", res.scout.activity_Bq.astype(np.float32), "Bq", **gz)
        write_dataset(s, "diameter_um", res.scout.diameter_um.astype(np.float32), "um", **gz)
        write_dataset(s, "segment", res.scout.segment.astype(np.int32), "1", **gz)
    s.attrs["lung_activity_Bq"] = res.scout.lung_activity_Bq
    s.attrs["lung_counts"] = res.lung_counts
    imgs = g.create_group("images")
    _image_group(imgs.create_group("spect_tc99m"), res.scout_image, res.scout_vois, gz)
    for name, p in res.post.items():
        h = imgs.create_group(name)
        _image_group(h, p.image, p.vois, gz)
        write_dataset(h, "calibrated_activity_Bq", p.activity_Bq.astype(np.float32), "Bq", **gz)
        for key, arr in (("ldm_Gy", p.ldm_Gy), ("vsv_Gy", p.vsv_Gy), ("truth_Gy", p.truth_Gy)):
            write_dataset(h, key, arr.astype(np.float32), "Gy", **gz)
        h.attrs["dosimetry_json"] = _json(p.info)
    seg = g.create_group("segments")
    for key, arr in res.comparison["segments"]["rows"].items():
        write_dataset(seg, key, np.asarray(arr, dtype=np.float64),
                      "kg" if key == "mass_kg" else "Gy")


def read_chain(path) -> dict:
    """The ``/chain`` group: ``summary``, ``planning``, ``comparison``, ``scout`` (info and
    arrays), ``images`` (name -> arrays and attributes) and ``segments`` (arrays); the last
    three are empty in a file that keeps the summary only."""
    with open_results(path) as f:
        if "chain" not in f:
            raise ResultsError(f"{path}: no /chain group (not written by `taresim chain`)")
        g = f["chain"]
        out = {k: json.loads(g.attrs[f"{k}_json"]) for k in ("summary", "planning",
                                                              "comparison", "scout")}
        out["scout_arrays"], out["images"], out["segments"] = {}, {}, {}
        if "scout" not in g:  # a file that keeps the summary only
            return out
        out["scout_arrays"] = {k: g["scout"][k][()] for k in g["scout"]}
        out["scout_arrays"].update(attrs_dict(g["scout"]))
        for name, h in g["images"].items():
            d = {k: h[k][()] for k in h}
            d.update(attrs_dict(h))
            d["info"] = json.loads(d.pop("info_json"))
            if "dosimetry_json" in d:
                d["dosimetry"] = json.loads(d.pop("dosimetry_json"))
            out["images"][name] = d
        out["segments"] = {k: g["segments"][k][()] for k in g["segments"]}
    return out
