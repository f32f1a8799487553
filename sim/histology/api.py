"""Virtual histology of a results file: the published protocols on the simulated liver,
``sim.histology.virtual_histology(path)`` and ``taresim histology``.

Steps: normal-liver (and tumour) punch biopsies placed at random; serial sections; spheres per
section; clusters; the small-scale dose as the papers computed it and as it truly is; the CV
and skewness of the activity of tissue samples of 5-500 mg; the tumour-to-normal check.
Every protocol choice is a parameter (:class:`sim.config.options.HistologyOptions` holds the
defaults and bounds); the report states them beside the published values.

References
----------
.. [1] Högberg J et al. EJNMMI Phys 2015;2:10.
.. [2] Högberg J et al. EJNMMI Res 2014;4:48.
.. [3] Kennedy AS et al. Int J Radiat Oncol Biol Phys 2004;60:1552.
.. [4] Roberson PL et al. 1992 (rabbit VX2).
"""
from __future__ import annotations

import numpy as np

from sim.config.options import HistologyOptions
from sim.histology import published
from sim.histology.biopsy import place_biopsies
from sim.histology.dose import dose_summary, true_dose
from sim.histology.report import write_report
from sim.histology.protocol import Protocol, Spheres, pooled_clusters, section_all, trends
from sim.histology.sampling import DEFAULT_MASSES_MG, activity_vs_mass
from sim.histology.tissue import tissue_of
from sim.histology.tumour import roberson_check
from sim.progress import Progress
from sim.results import ResultsError, open_results

__all__ = ["virtual_histology", "load_spheres"]


def load_spheres(results):
    """Every liver sphere of a results file (:class:`sim.histology.protocol.Spheres`), its
    tissue (:class:`sim.histology.tissue.Tissue`) and device name.

    Raises
    ------
    sim.results.ResultsError
        When the file does not keep every sphere (``kept`` other than ``"full"``).
    """
    if results.kept != "full":
        raise ResultsError(f"{results.path}: virtual histology needs every sphere's position, "
                           f"but this file keeps '{results.kept}' (rerun with keep = \"full\")")
    scenario = results.scenario()
    dep = results.deposition()
    xyz = np.asarray(dep["position_mm"], dtype=np.float64)
    ok = np.all(np.isfinite(xyz), axis=1)
    diam = np.asarray(dep.get("diameter_um", np.full(ok.size, np.nan)), dtype=np.float64)
    if not np.all(np.isfinite(diam[ok])):
        diam = np.full(ok.size, scenario.device().mean_diameter_um())
    dev = scenario.device()
    spheres = Spheres.of(xyz[ok], diam[ok], np.asarray(dep["activity_Bq"])[ok], dev.nuclide,
                         scenario.tissue_density_g_cm3)
    return spheres, tissue_of(results), dev.name


def _biopsy_set(tissue, spheres, opts, protocol, region, n, rng, avoid, progress, what, axis):
    """Place ``n`` biopsies in ``region`` and run the protocol on each."""
    bs = place_biopsies(tissue.label, tissue.bounds, n, diameter_mm=opts.diameter_mm,
                        length_mm=opts.slab_mm, region=region, rng=rng, avoid=avoid, axis=axis)
    with Progress.of(progress, f"histology: {len(bs)} {what} biopsies", len(bs)) as task:
        per = section_all(bs, spheres, protocol, task)
    return bs, per


def _set_summary(per, n_wanted, opts) -> dict:
    """Totals, per-section counts, clusters and trends of a set of biopsies."""
    counts = np.concatenate([b["section_counts"] for b in per]) if per else np.zeros(0)
    conc = np.array([b["concentration_per_mg"] for b in per])
    md = np.array([b["mean_dose_Gy"] for b in per])

    def stats(v):
        return ({"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                 "min": float(v.min()), "max": float(v.max())} if v.size else None)

    public = [{k: v for k, v in b.items() if not k.startswith("_") and k != "cluster_sizes"}
              for b in per]
    return {"biopsies": len(per), "biopsies_wanted": int(n_wanted),
            "sections": len(per) * opts.sections, "spheres_in_sections": int(counts.sum()),
            "per_section": stats(counts.astype(float)), "concentration_per_mg": stats(conc),
            "mean_dose_Gy": stats(md), "clusters": pooled_clusters(per), "trends": trends(per),
            "dose_papers": dose_summary(np.concatenate([b["_papers_Gy"] for b in per])
                                        if per else []),
            "per_biopsy": public}


def _true_subsets(sets, n_true, rng):
    """A random subset of every set's dose points (n_true for the first set, half that for
    the others): (points, papers dose) per set."""
    out = []
    for i, per in enumerate(sets):
        if not per:
            out.append((np.zeros((0, 3)), np.zeros(0)))
            continue
        pts = np.concatenate([b["_points"] for b in per])
        pd = np.concatenate([b["_papers_Gy"] for b in per])
        m = min(pts.shape[0], n_true if i == 0 else max(n_true // 2, 1))
        pick = rng.choice(pts.shape[0], size=m, replace=False)
        out.append((pts[pick], pd[pick]))
    return out


def _compare_doses(summary, points, papers, truth):
    summary["dose_papers_subset"] = dose_summary(papers)
    summary["dose_true"] = dose_summary(truth)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = papers / truth
    summary["papers_over_true"] = {
        "median": float(np.median(ratio)) if ratio.size else float("nan"),
        "fraction_papers_le_true": float(np.mean(papers <= truth * (1 + 1e-9)))
        if ratio.size else float("nan")}
    return {"papers_Gy": papers, "true_Gy": truth}


def _options(kw) -> tuple[HistologyOptions, Protocol, dict]:
    extra = {k: kw.pop(k) for k in ("scope", "masses_mg", "axis", "shape") if k in kw}
    opts = HistologyOptions(**kw)
    if opts.sections * opts.section_um > opts.slab_mm * 1e3 * (1 + 1e-9):
        raise ValueError(f"{opts.sections} sections of {opts.section_um:g} um do not fit in "
                         f"a {opts.slab_mm:g} mm slab (sections x section thickness <= slab)")
    scope = extra.get("scope", "block")
    if scope not in ("block", "section"):
        raise ValueError(f"scope {scope!r} is not 'block' or 'section'")
    protocol = Protocol(opts.sections, opts.section_um * 1e-3, opts.gap_um, scope,
                        opts.dose_spacing_um * 1e-3)
    extra.setdefault("masses_mg", DEFAULT_MASSES_MG)
    extra.setdefault("axis", (0.0, 0.0, 1.0))
    extra.setdefault("shape", "cube")
    return opts, protocol, extra


def virtual_histology(results, *, output_dir=None, progress=False, **options) -> dict:
    """Mimic the published histology protocols on a simulated liver.

    Parameters
    ----------
    results : str, Path or sim.results.Results
        A results file that keeps every sphere (``kept == "full"``).
    output_dir : str or Path, optional
        Write the Markdown report and the figures there (:func:`sim.histology.report.write_report`).
    progress : bool, str or sim.progress.Progress
        Progress display.
    **options
        :class:`sim.config.options.HistologyOptions` fields (``biopsies``,
        ``tumour_biopsies``, ``diameter_mm``, ``slab_mm``, ``sections``, ``section_um``,
        ``gap_um``, ``dose_spacing_um``, ``true_points``, ``samples_per_mass``, ``seed``),
        and ``scope`` (``"block"``: clusters across the serial sections, default;
        ``"section"``: within one section), ``masses_mg`` (sample masses [mg]), ``axis``
        (biopsy axis, default z), ``shape`` (``"cube"`` or ``"ball"`` tissue samples).

    Returns
    -------
    dict
        ``protocol`` (every choice), ``normal`` and ``tumour`` (per set of biopsies: counts,
        per-section spheres, concentration, clusters, trends, the papers' and the true dose
        summaries, per biopsy), ``activity_vs_mass``, ``roberson``, ``published``,
        ``warnings``; keys starting with ``_`` hold arrays for the figures.

    Raises
    ------
    sim.results.ResultsError
        A file that is damaged or does not keep every sphere.
    ValueError
        An option out of its range, or sections that do not fit in the slab.
    """
    res = results if hasattr(results, "kept") else open_results(results)
    opts, protocol, extra = _options(dict(options))
    spheres, tissue, device = load_spheres(res)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(opts.seed).spawn(5)]
    normal_b, normal = _biopsy_set(tissue, spheres, opts, protocol, 0, opts.biopsies,
                                   streams[0], (), progress, "normal-liver", extra["axis"])
    if not normal:
        raise ValueError(f"no room for a {opts.diameter_mm:g} mm biopsy of a {opts.slab_mm:g} "
                         "mm slab in the normal liver")
    tumour = []
    if tissue.tumours and opts.tumour_biopsies:
        _, tumour = _biopsy_set(tissue, spheres, opts, protocol, "tumour",
                                opts.tumour_biopsies, streams[1], normal_b, progress, "tumour",
                                extra["axis"])
    subsets = _true_subsets([normal, tumour], opts.true_points, streams[2])
    everything = np.concatenate([s[0] for s in subsets])
    with Progress.of(progress, f"histology: true dose at {everything.shape[0]:,} points"):
        truth = true_dose(everything, spheres.xyz_mm, spheres.activity_Bq,
                          nuclide=spheres.nuclide, density_g_cm3=spheres.density_g_cm3)
    out = {"results": str(res.path), "scenario": res.attrs.get("scenario"), "device": device,
           "nuclide": spheres.nuclide, "spheres": int(spheres.xyz_mm.shape[0]),
           "tissue": tissue.source, "protocol": _protocol_dict(opts, protocol, extra),
           "published": {"hogberg_2015": published.HOGBERG_2015,
                         "hogberg_2014": published.HOGBERG_2014,
                         "kennedy_2004": published.KENNEDY_2004,
                         "roberson_1992": published.ROBERSON_1992},
           "warnings": [], "_arrays": {}}
    n_n = subsets[0][0].shape[0]
    for name, per, n_wanted, (pts, pap), tr in (
            ("normal", normal, opts.biopsies, subsets[0], truth[:n_n]),
            ("tumour", tumour, opts.tumour_biopsies, subsets[1], truth[n_n:])):
        if not per:
            out[name] = None
            continue
        out[name] = _set_summary(per, n_wanted, opts)
        out["_arrays"][name] = _compare_doses(out[name], pts, pap, tr)
        out["_arrays"][name]["cluster_sizes"] = np.concatenate([b["cluster_sizes"] for b in per])
        out["_arrays"][name]["concentration"] = np.array([b["concentration_per_mg"] for b in per])
        out["_arrays"][name]["largest"] = np.array([b["largest_cluster"] for b in per])
        out["_arrays"][name]["papers_all_Gy"] = np.concatenate([b["_papers_Gy"] for b in per])
        if len(per) < n_wanted:
            out["warnings"].append(f"only {len(per)} of {n_wanted} {name} biopsies fitted "
                                   f"({opts.diameter_mm:g} mm x {opts.slab_mm:g} mm)")
    out["_arrays"]["render"] = max(normal, key=lambda b: b["largest_cluster"])["_render"]
    with Progress.of(progress, "histology: activity of 5-500 mg samples"):
        out["activity_vs_mass"] = activity_vs_mass(
            tissue.label, tissue.bounds, spheres.kd, spheres.activity_Bq,
            masses_mg=extra["masses_mg"], samples=opts.samples_per_mass,
            density_g_cm3=spheres.density_g_cm3, rng=streams[3], shape=extra["shape"])
    out["warnings"] += [f"only {r['n']} of {opts.samples_per_mass} samples of {r['mass_mg']:g} mg "
                        "fitted in the normal liver" for r in out["activity_vs_mass"]
                        if r["n"] < opts.samples_per_mass]
    with Progress.of(progress, "histology: tumour against nearby normal liver"):
        out["roberson"] = roberson_check(
            tissue.label, tissue.tumours, spheres.xyz_mm,
            lambda p: true_dose(p, spheres.xyz_mm, spheres.activity_Bq, nuclide=spheres.nuclide,
                                density_g_cm3=spheres.density_g_cm3),
            n_points=max(opts.true_points // 4, 50), seed=opts.seed)
    if output_dir is not None:
        out.update(write_report(out, output_dir))
    return out


def _protocol_dict(opts, protocol, extra) -> dict:
    """Every protocol choice, with the assumptions where the papers are silent."""
    d = opts.model_dump()
    d.update({"scope": protocol.scope, "masses_mg": [float(m) for m in extra["masses_mg"]],
              "axis": [float(a) for a in extra["axis"]], "sample_shape": extra["shape"],
              "cluster_rule": (f"surface gap <= {opts.gap_um:g} um (+0.1 um tolerance), "
                               + ("across the serial sections (3-D)" if protocol.scope == "block"
                                  else "within one section")),
              "kind_rule": "conglomerate: the contact graph closes >= max(1, n/4) loops "
                           "(links - n + 1, n spheres); else string",
              "section_rule": "a sphere belongs to the section holding its centre; sections cut "
                              "contiguously from the biopsy's upper face",
              "dose_points": f"square lattice of {opts.dose_spacing_um:g} um on each section's "
                             "mid-plane, points inside spheres dropped",
              "papers_kernel": "Y-90 beta dose point kernel on the spheres in the sections",
              "true_kernel": "complete kernel (betas and photons) on every sphere of the liver"})
    return d
