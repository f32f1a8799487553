"""The virtual histology's report: Markdown tables "published | simulated", the protocol and
its assumptions, the figures, and a JSON copy of every number."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from sim.histology.figures import (plot_activity_vs_mass, plot_cluster_sizes,
                                   plot_dose_histograms, plot_section)

__all__ = ["write_report", "report_markdown", "public"]


def public(out: dict) -> dict:
    """The result without its arrays (keys starting with ``_``), ready for JSON."""
    return {k: v for k, v in out.items() if not k.startswith("_")}


def _num(v, unit="", digits=3):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}{unit}"
    return (f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:,.0f}") + unit


def _elong(v):
    return "> 100" if v is not None and v > 100 else _num(v, digits=2)


def _pct(v):
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.0f} %"


def _protocol_table(out):
    p, pub = out["protocol"], out["published"]["hogberg_2015"]
    rows = [("normal-liver biopsies sectioned", f"{pub['biopsies_sectioned']} (of "
             f"{pub['biopsies_punched']} punched)", f"{out['normal']['biopsies']}"),
            ("biopsy diameter", "6-8 mm", f"{p['diameter_mm']:g} mm"),
            ("slab thickness (biopsy length)", "1-2 mm", f"{p['slab_mm']:g} mm"),
            ("sections per biopsy x thickness", "15 x 30 um", f"{p['sections']} x "
             f"{p['section_um']:g} um"),
            ("cluster definition", "NOT FOUND", p["cluster_rule"]),
            ("string / conglomerate", "strings in arterioles, conglomerates in small arteries",
             p["kind_rule"]),
            ("sphere in a section", "not stated", p["section_rule"]),
            ("dose points", "NOT FOUND", p["dose_points"]),
            ("dose kernel", "a Y-90 dose point kernel (voxel size NOT FOUND)",
             p["papers_kernel"])]
    return _table(["", "Högberg 2015 (resin)", "this run"], rows)


def _table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def _counts_table(out):
    n, pub = out["normal"], out["published"]["hogberg_2015"]
    ps, cl = n["per_section"], n["clusters"]
    fr = cl["fraction_in_clusters"]
    rows = [("sections", f"{pub['sections']}", _num(n["sections"])),
            ("spheres in the sections", f"{pub['spheres_found']:,}",
             _num(n["spheres_in_sections"])),
            ("spheres per section, mean (min-max)", f"{pub['spheres_found'] / pub['sections']:.1f}"
             " (mean only)", f"{ps['mean']:.1f} ({ps['min']:.0f}-{ps['max']:.0f})"),
            ("spheres per mg of sectioned tissue, mean (min-max)", "not stated",
             f"{n['concentration_per_mg']['mean']:.2f} ({n['concentration_per_mg']['min']:.2f}-"
             f"{n['concentration_per_mg']['max']:.2f})"),
            ("biopsy mean dose from its activity [Gy], mean (min-max)", "NOT FOUND",
             f"{n['mean_dose_Gy']['mean']:.0f} ({n['mean_dose_Gy']['min']:.0f}-"
             f"{n['mean_dose_Gy']['max']:.0f})"),
            ("largest cluster [spheres]", f"{pub['largest_cluster']}", _num(cl["largest"])),
            ("clusters (2+ spheres): strings / conglomerates", "both seen",
             f"{cl['strings']:,} / {cl['conglomerates']:,}"),
            ("spheres in strings / conglomerates", "NOT FOUND",
             f"{cl['spheres_in_strings']:,} / {cl['spheres_in_conglomerates']:,}"),
            ("median elongation (3+ spheres), strings / conglomerates", "NOT FOUND",
             f"{_elong(cl['median_elongation_strings'])} / "
             f"{_elong(cl['median_elongation_conglomerates'])}")]
    rows += [(f"fraction of spheres in clusters >= {k}", "NOT FOUND", _pct(v))
             for k, v in fr.items()]
    return _table(["", "Högberg 2015 (resin)", "simulated"], rows)


def _dose_table(s, pub, label):
    papers, sub, true = s["dose_papers"], s["dose_papers_subset"], s["dose_true"]
    rows = [("dose points", "NOT FOUND", _num(papers["n"]), _num(true["n"])),
            ("range [Gy]", pub[0], f"{_num(papers['min_Gy'])}-{_num(papers['max_Gy'])}",
             f"{_num(true['min_Gy'])}-{_num(true['max_Gy'])}"),
            ("central 90 % (5th-95th percentile) [Gy]", pub[1],
             f"{_num(papers['p5_Gy'])}-{_num(papers['p95_Gy'])}",
             f"{_num(true['p5_Gy'])}-{_num(true['p95_Gy'])}"),
            ("below 30 Gy", pub[2], _pct(papers["below_30Gy"]), _pct(true["below_30Gy"])),
            ("median [Gy]", "NOT FOUND", _num(papers["median_Gy"]), _num(true["median_Gy"])),
            ("mean [Gy]", "NOT FOUND", _num(papers["mean_Gy"]), _num(true["mean_Gy"])),
            ("CV", "NOT FOUND", _num(papers["cv"]), _num(true["cv"]))]
    r = s["papers_over_true"]
    foot = (f"At the same {sub['n']:,} points, the papers' method gives a median "
            f"{_num(r['median'])} of the true dose (never more at "
            f"{_pct(r['fraction_papers_le_true'])} of them): the spheres outside the "
            "sectioned block, within the electrons' range, are missed.")
    return _table(["", label, "simulated, as the papers did", "simulated, true"], rows) + \
        ["", foot]


def _trend_lines(s):
    t = s["trends"]

    def one(name, what):
        v = t[name]
        return (f"- {what}: Spearman rho = {_num(v['rho'], digits=2)} (p = "
                f"{_num(v['p'], digits=2)}, {v['n']} biopsies)")
    return [one("largest_vs_concentration", "largest cluster against spheres per mg"),
            one("in_clusters5_vs_concentration",
                "fraction of spheres in clusters >= 5 against spheres per mg"),
            one("dose_cv_vs_mean_dose", "CV of the papers' dose against the biopsy's mean "
                "dose (published: rises)")]


def _biopsy_table(per):
    """Per biopsy, by rising concentration: clusters and dose against spheres per mg."""
    rows = []
    for b in sorted(per, key=lambda b: b["concentration_per_mg"]):
        f = b["fraction_in_clusters"]
        rows.append((_num(b["concentration_per_mg"], digits=3), b["spheres_in_sections"],
                     b["largest_cluster"], _pct(f[5]), _pct(f[10]), _pct(f[50]),
                     _num(b["mean_dose_Gy"], digits=3), _num(b["dose"].get("cv"), digits=2)))
    return _table(["spheres per mg", "spheres", "largest cluster", "in clusters >= 5",
                   ">= 10", ">= 50", "biopsy mean dose [Gy]", "CV of the papers' dose"], rows)


def _mass_table(rows):
    body = [(_num(r["mass_mg"]), r["n"], _num(r["mean_spheres"]), _num(r["cv"], digits=2),
             _num(r["poisson_cv"], digits=2), _num(r["skewness"], digits=2),
             _num(r["poisson_skewness"], digits=2)) for r in rows]
    return _table(["sample mass [mg]", "samples", "mean spheres", "CV", "CV, Poisson",
                   "skewness", "skewness, Poisson"], body)


def _tumour_lines(out):
    t, lines = out["tumour"], []
    if t is not None:
        lines += ["## Tumour biopsies (Kennedy et al. 2004)", ""]
        lines += _dose_table(t, ("100 to > 3000 Gy", "NOT FOUND", "NOT FOUND"),
                             "Kennedy 2004 (tumour edge, glass and resin)")
        lines += ["", f"{t['biopsies']} tumour biopsies, {t['spheres_in_sections']:,} spheres "
                  f"in their sections, {t['concentration_per_mg']['mean']:.1f} spheres per mg, "
                  f"largest cluster {t['clusters']['largest']}.", ""]
    rob = out["roberson"]
    if rob:
        pub = out["published"]["roberson_1992"]
        rows = [(f"tumour {r['tumour']} (semi-axes {', '.join(f'{a:g}' for a in r['semi_axes_mm'])}"
                 " mm)", _num(r["density_ratio"], digits=2), _num(r["mean_dose_ratio"], digits=2),
                 _num(r["min_dose_ratio"], digits=2), _num(r["edge_to_centre"], digits=2))
                for r in rob]
        rows.insert(0, (f"Roberson 1992, {pub['nodule_diameter_mm']:g}-mm nodule (rabbit)",
                        f"{pub['density_ratio']:g}", f"{pub['mean_dose_ratio']:g}",
                        f"{pub['min_dose_ratio']:g}", "NOT FOUND (Kennedy: more at the edge)"))
        lines += ["## Tumour against nearby normal liver (Roberson et al. 1992)", ""]
        lines += _table(["", "sphere-density ratio", "mean-dose ratio", "minimum-dose ratio",
                         "edge / centre spheres per mm³"], rows)
        lines += ["", "Nearby normal liver: within 2 mm outside the tumour; ratios of the true "
                  "dose (points spread over each volume; minimum: the lowest tumour point over "
                  "the normal mean). Cross-fire damps the dose ratio most in small nodules, so "
                  "tumours of centimetres compare with the 2-mm nodule only in direction.", ""]
    return lines


_ASSUMPTIONS = [
    "A sphere belongs to the one section holding its centre (each sphere counted once); "
    "sections are contiguous from the biopsy's upper face.",
    "Clusters: surface gaps up to the stated gap (+0.1 um numerical tolerance), linked across "
    "the serial sections unless scope 'section'; the published definition was NOT FOUND.",
    "Conglomerate: a cluster whose contact graph closes at least max(1, n / 4) loops (links - "
    "n + 1 for n spheres; packed spheres close about two per sphere); otherwise a string, "
    "straight, bent or forking (this project's rule).",
    "Dose 'as the papers did': the Y-90 beta point kernel on the spheres in the sections, at "
    "a square lattice of points on each section's mid-plane (voxel size and sampling of the "
    "paper NOT FOUND); 'true': the complete kernel on every sphere of the liver at a random "
    "subset of the same points.",
    "Biopsy mean dose: activity of the punched cylinder x the ICRP-107 dose constant / its "
    "mass (local absorption).",
    "Activity against mass: cubes of normal liver placed at random (they may overlap); the "
    "published CV and skewness values were NOT FOUND, only their trends.",
    "Every biopsy has the same axis (z): slabs cut perpendicular to z.",
]


def report_markdown(out: dict, figures: dict | None = None) -> str:
    """The report as Markdown."""
    lines = [f"# Virtual histology of {out['scenario'] or out['results']}", "",
             f"{out['device']}, {out['spheres']:,} spheres in the liver (`{out['results']}`); "
             f"tissue from the {'scenario geometry' if out['tissue'] == 'geometry' else 'tree terminals'}"
             f"; seed {out['protocol']['seed']}. Published values are from resin patients; the "
             "simulated device is the one above.", ""]
    for w in out["warnings"]:
        lines.append(f"**Warning:** {w}")
    lines += ["## Protocol", ""] + _protocol_table(out)
    lines += ["", "## Spheres and clusters in normal-liver sections (Högberg et al. 2015)", ""]
    lines += _counts_table(out) + [""] + _trend_lines(out["normal"])
    lines += ["", "Per biopsy, by concentration (Högberg 2015: larger clusters and a greater "
              "dose CV at a higher mean biopsy dose):", ""]
    lines += _biopsy_table(out["normal"]["per_biopsy"])
    lines += ["", "## Small-scale dose in normal-liver sections", ""]
    lines += _dose_table(out["normal"], ("5-1240 Gy", "10-97 Gy", "45 %"),
                         "Högberg 2015 (resin)")
    lines += ["", "## Activity of tissue samples against their mass (Högberg et al. 2014)", "",
              "Published (resin, 2 patients, 5-422 mg): 'the larger the tissue biopsies, the "
              "smaller was the coefficient of variation'; skewness 'increased with decreasing "
              "biopsy mass' (values NOT FOUND).", ""]
    lines += _mass_table(out["activity_vs_mass"]) + [""]
    lines += _tumour_lines(out)
    lines += ["## Assumptions (protocol details the papers do not state)", ""]
    lines += [f"- {a}" for a in _ASSUMPTIONS]
    if figures:
        lines += ["", "## Figures", ""] + [f"![{k}]({Path(v).name})" for k, v in figures.items()]
    lines += ["", "Sources: Högberg et al., EJNMMI Phys 2015;2:10; Högberg et al., EJNMMI Res "
              "2014;4:48; Kennedy et al., IJROBP 2004;60:1552; Roberson et al. 1992.", ""]
    return "\n".join(lines)


def _finite(x):
    """NaN and infinities as None (strict JSON)."""
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


def write_report(out: dict, folder) -> dict:
    """Write ``histology.md``, ``histology.json`` and the figures (PNG) into ``folder``;
    returns their paths (``report``, ``json``, ``figures``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = out["_arrays"]
    title = f"{out['device']}, {out['scenario'] or ''}"
    figs = {"cluster sizes": plot_cluster_sizes(arrays, title),
            "small-scale dose": plot_dose_histograms(arrays, title),
            "activity against mass": plot_activity_vs_mass(out["activity_vs_mass"], title),
            "a section": plot_section(arrays["render"], title)}
    paths = {}
    for (key, fig), name in zip(figs.items(), ("clusters", "dose", "mass", "section")):
        p = folder / f"histology_{name}.png"
        fig.savefig(p, dpi=120)
        paths[key] = str(p)
    report = folder / "histology.md"
    report.write_text(report_markdown(out, paths), encoding="utf-8")
    js = folder / "histology.json"
    js.write_text(json.dumps(_finite(public(out)), indent=1, default=_jsonable),
                  encoding="utf-8")
    return {"report": str(report), "json": str(js), "figures": list(paths.values())}
