"""The Markdown report of a chain, from the results file alone (``read_chain``)."""
from __future__ import annotations

__all__ = ["chain_report"]

_METHODS = (("microscale", "microscale truth"), ("truth_pet_y90", "truth on PET voxels"),
            ("ldm_pet_y90", "LDM, PET"), ("vsv_pet_y90", "voxel-S, PET"),
            ("ldm_spect_y90", "LDM, brems SPECT"), ("vsv_spect_y90", "voxel-S, brems SPECT"))


def _f(v, d=3):
    if v is None:
        return "-"
    if isinstance(v, float) and v != v:
        return "-"
    return f"{v:.{d}g}" if isinstance(v, float) else str(v)


def _pct(v):
    return "-" if v is None else f"{100 * v:.1f} %"


def _scout(s, plan) -> list[str]:
    m, t = plan["measured"], plan["truth"]
    return ["## Scout (Tc-99m-MAA)", "",
            f"{s['scout_particles']:,} particles. Lung shunt: {_pct(s['lsf_patient'])} for the "
            f"spheres (the patient's arteriovenous shunt), {_pct(s['lsf_maa_true'])} for MAA at "
            f"the scan (size-dependent passage and breakdown), {_pct(m['lung_shunt_fraction'])}"
            " measured. T:N: "
            f"{_f(t['tumour_to_normal'])} (MAA, true), {_f(m['tumour_to_normal'])} (measured on "
            f"SPECT), {_f(s.get('tn_spheres'))} (the treatment's spheres).", ""]


def _planning(plan) -> list[str]:
    rows = ["## Planning from the scout", "",
            "| model | activity [GBq] | tumour [Gy] | normal [Gy] | lung [Gy] | warnings |",
            "|---|---|---|---|---|---|"]
    for name in ("mird", "partition", "bsa"):
        p = plan["plans"].get(name)
        if not p:
            continue
        rows.append(f"| {name} | {_f(p['activity_GBq'], 4)} | {_f(p.get('tumour_dose_Gy'))} | "
                    f"{_f(p.get('normal_dose_Gy'))} | {_f(p['lung_dose_Gy'])} | "
                    f"{'; '.join(p['warnings']) or '-'} |")
    chosen = plan["plans"]["chosen"]
    rows += ["", f"Treatment: {chosen}, {_f(plan['activity_GBq'], 4)} GBq; planning from the "
             f"scout's truth (no imaging) would give {_f(plan['truth_plans']['activity_GBq'], 4)}"
             " GBq."]
    rows += [f"Note: {n}." for n in plan["plans"].get("notes", [])]
    return rows + [""]


def _compartments(comp) -> list[str]:
    head = "| compartment | predicted [Gy] | " + " | ".join(f"{n} [Gy]" for _, n in _METHODS)
    rows = ["## Mean dose per compartment", "", head + " |",
            "|---" * (2 + len(_METHODS)) + "|"]
    for name, row in comp.items():
        cells = [_f(row.get(k, {}).get("mean_Gy")) for k, _ in _METHODS]
        rows.append(f"| {name} | {_f(row.get('predicted_Gy'))} | " + " | ".join(cells) + " |")
    return rows + [""]


def _heterogeneity(comp, th) -> list[str]:
    rows = ["## Heterogeneity that clinical dosimetry sees", "",
            f"| compartment | method | CV | D90 [Gy] | >= {th['response']:g} Gy | "
            f"< {th['nonresponse']:g} Gy |", "|---|---|---|---|---|---|"]
    for name in ("tumour", "normal"):
        row = comp.get(name)
        if not row:
            continue
        for key, label in _METHODS:
            m = row.get(key)
            if m:
                rows.append(f"| {name} | {label} | {_f(m['cv'])} | {_f(m['D90_Gy'])} | "
                            f"{_pct(m['above_response'])} | {_pct(m['below_nonresponse'])} |")
    return rows + [""]


def _segments(chain) -> list[str]:
    seg, err = chain["segments"], chain["comparison"]["segments"]["errors"]
    if not seg:  # a file that keeps the summary only
        return []
    rows = ["## Vascular segments", "", "| segment | mass [g] | predicted [Gy] | true [Gy] | "
            "LDM PET [Gy] | predicted / true - 1 |", "|---|---|---|---|---|---|"]
    for i in range(len(seg["mass_kg"])):
        p, t = seg["predicted_Gy"][i], seg["microscale_Gy"][i]
        rows.append(f"| {i} | {1e3 * seg['mass_kg'][i]:.1f} | {_f(float(p))} | {_f(float(t))} | "
                    f"{_f(float(seg.get('ldm_pet_y90_Gy', [float('nan')] * (i + 1))[i]))} | "
                    f"{100 * (p / t - 1):+.1f} % |")
    w = chain["comparison"]["wondergem_2013"]
    rows += ["", "Share of segments off by more than 10 / 20 / 30 %:", "",
             "| comparison | > 10 % | > 20 % | > 30 % | median abs. error |",
             "|---|---|---|---|---|"]
    for key, e in err.items():
        if e.get("n"):
            rows.append(f"| {key.replace('_', ' ')} | {_pct(e['above_10pct'])} | "
                        f"{_pct(e['above_20pct'])} | {_pct(e['above_30pct'])} | "
                        f"{_pct(e['median_abs'])} |")
    rows.append(f"| Wondergem et al. 2013 (MAA SPECT vs Y-90 SPECT, {w['segments']} segments) | "
                f"{_pct(w['above_10pct'])} | {_pct(w['above_20pct'])} | "
                f"{_pct(w['above_30pct'])} | - |")
    return rows + [""]


def chain_report(chain: dict, title: str, figures=()) -> str:
    """Markdown text of a chain results file's ``/chain`` group (``read_chain``)."""
    s, plan, comp = chain["summary"], chain["planning"], chain["comparison"]
    lines = [f"# Clinical chain: {title}", "",
             "Scout -> planning -> treatment -> post-treatment imaging -> voxel dosimetry, "
             "compared with the microscale truth (models and sources: docs/physics.md, "
             "\"The clinical chain\").", ""]
    lines += _scout(s, plan) + _planning(plan)
    lines += _compartments(comp["compartments"])
    lines += [f"Lung: predicted {_f(comp['lung']['predicted_Gy'])} Gy, true "
              f"{_f(comp['lung']['microscale_Gy'])} Gy.", ""]
    lines += _heterogeneity(comp["compartments"], comp["thresholds_Gy"])
    lines += _segments(chain)
    lines += [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"
