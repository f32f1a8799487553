"""Validation studies on virtual histology of simulated livers (:mod:`sim.histology`):
Högberg et al. 2015 and 2014 (resin, normal-liver biopsies), Kennedy et al. 2004 (tumour-edge
doses), Roberson et al. 1992 (tumour vs nearby normal liver)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.compare.runs import spread
from sim.histology import virtual_histology
from sim.pipeline import run
from sim.seeding import replicate_seed
from sim.validation.studies import row, scenario_path

__all__ = ["hogberg", "kennedy_roberson"]


def _histology_runs(name, out_dir: Path, replicates, sets=(), tag=None, progress=False, **opts):
    sc = scenario_path(name)
    from sim.config.io import resolve_scenario

    root = resolve_scenario(sc).seed
    out = []
    for r in range(replicates):
        res = run(sc, output=out_dir / f"{tag or name}_r{r}.h5", seed=replicate_seed(root, r),
                  overrides=list(sets), figures=False, progress=progress)
        out.append(virtual_histology(res, seed=replicate_seed(root + 1, r), **opts))
    return sc, out


def hogberg(out_dir: Path, replicates: int = 2, progress=False) -> list[dict]:
    """Högberg 2015 (clusters and small-scale dose in 16 serially sectioned normal-liver
    biopsies, resin) and Högberg 2014 (activity CV falls with sample mass)."""
    sc, hs = _histology_runs("hogberg2015", out_dir, replicates, progress=progress,
                             tumour_biopsies=0)
    n = [h["normal"] for h in hs]
    conc = spread([x["concentration_per_mg"]["mean"] for x in n])
    rows = [row("Högberg 2015", "spheres per mg in the biopsies (scenario input)", "10-18",
                conc, "", sc.name, kind="input",
                note="3,888 spheres in 240 sections of 6-8 mm biopsies")]
    rows.append(row("Högberg 2015", "largest cluster [spheres]", 453.0,
                    spread([x["clusters"]["largest"] for x in n]), "", sc.name,
                    note="touching spheres across the serial sections"))
    for key, label, pub in (("p5_Gy", "small-scale dose, 5th percentile", 10.0),
                            ("p95_Gy", "small-scale dose, 95th percentile", 97.0),
                            ("below_30Gy", "small-scale dose, share < 30 Gy", 0.45)):
        unit = "%" if key == "below_30Gy" else "Gy"
        rows.append(row("Högberg 2015", f"{label} (true: every sphere)", pub,
                        spread([x["dose_true"][key] for x in n]), unit, sc.name))
        rows.append(row("Högberg 2015", f"{label} (kernel on the sections' spheres only)", pub,
                        spread([x["dose_papers"][key] for x in n]), unit, sc.name,
                        note="the papers' dose method is not fully described"))
    rows.append(row("Högberg 2015", "Spearman: largest cluster vs concentration", "rises",
                    spread([x["trends"]["largest_vs_concentration"]["rho"] for x in n]), "",
                    sc.name, note="published: clusters grow with concentration"))
    rows.append(row("Högberg 2015", "Spearman: dose CV vs biopsy mean dose", "rises",
                    spread([x["trends"]["dose_cv_vs_mean_dose"]["rho"] for x in n]), "",
                    sc.name, note="published: greater CV with higher mean dose"))
    ratio = []
    for h in hs:
        av = {round(a["mass_mg"]): a["cv"] for a in h["activity_vs_mass"]}
        ratio.append(av[min(av)] / av[max(av)])
    rows.append(row("Högberg 2014", "activity CV, smallest / largest sample (5 vs 500 mg)",
                    "> 1 (falls with mass)", spread(ratio), "", sc.name))
    return rows


def kennedy_roberson(out_dir: Path, replicates: int = 2, progress=False) -> list[dict]:
    """Kennedy 2004 (tumour-biopsy doses 100 to > 3,000 Gy) and Roberson 1992 (tumour vs
    nearby normal liver: sphere density and dose ratios), glass and resin."""
    rows = []
    for dev in ("glass", "resin"):
        sc, hs = _histology_runs("kennedy2004", out_dir, replicates,
                                 [f'treatment.device="{dev}"'], f"kennedy_{dev}", progress,
                                 biopsies=4, tumour_biopsies=4)
        t = [h["tumour"]["dose_true"] for h in hs if h["tumour"]]
        rows.append(row("Kennedy 2004", f"tumour-biopsy dose, 5th percentile ({dev})", 100.0,
                        spread([x["p5_Gy"] for x in t]), "Gy", sc.name,
                        note="published range 100 to > 3,000 Gy"))
        rows.append(row("Kennedy 2004", f"tumour-biopsy dose, maximum ({dev})", 3000.0,
                        spread([x["max_Gy"] for x in t]), "Gy", sc.name,
                        note="a maximum depends on the number of points sampled"))
        rob = [h["roberson"][0] for h in hs if h.get("roberson")]
        if rob:
            dens = spread([x["density_ratio"] for x in rob])
            dose = spread([x["mean_dose_ratio"] for x in rob])
            rows.append(row("Roberson 1992", f"mean-dose ratio / density ratio ({dev})",
                            2.6 / 15.0, spread([x["mean_dose_ratio"] / x["density_ratio"]
                                                for x in rob]), "", sc.name,
                            note=f"density ratio here {dens.mean:.2g}, dose ratio "
                                 f"{dose.mean:.2g}; a 16 mm tumour, not a 2 mm nodule"))
    return rows
