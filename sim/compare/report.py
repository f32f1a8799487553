"""The device comparison's report: tables with the seed-to-seed spread and statements that follow
from the numbers only.

A difference between two devices is stated only when the 95 % confidence interval of the mean
paired difference over the replicates (Student t, n - 1 degrees of freedom) excludes zero;
otherwise the report says that this run does not resolve it. Confounders (a different normal-liver mean, a different tumour-to-normal uptake)
are named where they change a comparison.
"""
from __future__ import annotations

from dosimetry.decay import get_nuclide
from dosimetry.photons import photon_emitted_fraction
from sim.compare.runs import NUMBERS, paired_difference

__all__ = ["report_markdown", "format_spread"]


def format_spread(sp, unit: str) -> str:
    """``mean ± SD unit`` (``%`` values in per cent; the SD only with 2+ replicates), or ``-``.

    Examples
    --------
    >>> from sim.compare.runs import spread
    >>> format_spread(spread([0.10, 0.12]), "%")
    '11.0 ± 1.4 %'
    >>> format_spread(spread([41117.0]), "")
    '41,117'
    """
    if sp is None:
        return "-"

    def fmt(v):
        if unit in ("%", "Gy"):
            return f"{v * (100.0 if unit == '%' else 1.0):.1f}"
        return f"{v:,.0f}" if abs(sp.mean) >= 1000 else f"{v:.3g}"

    varies = sp.n > 1 and sp.sd > 1e-9 * abs(sp.mean)
    text = fmt(sp.mean) + (f" ± {fmt(sp.sd)}" if varies else "")
    return f"{text} {unit}" if unit else text


def _names(rows) -> str:
    names = [rows[d]["name"] for d in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _table(devs, agg, keys) -> list[str]:
    head = "| | " + " | ".join(devs) + " |"
    out = [head, "|---|" + "---|" * len(devs)]
    for k in keys:
        label, unit = NUMBERS[k]
        if all(agg[d].get(k) is None for d in devs):
            continue
        out.append(f"| {label} | " + " | ".join(format_spread(agg[d].get(k), unit)
                                                for d in devs) + " |")
    return out


def _difference(numbers, a, b, key) -> tuple[str, bool]:
    """'a - b = x ± se' with whether it is resolved."""
    label, unit = NUMBERS[key]
    va = [r.get(key) for r in numbers[a]]
    vb = [r.get(key) for r in numbers[b]]
    mean, se, resolved = paired_difference(va, vb)
    if mean is None:
        return f"{label}: not available", False
    f = 100.0 if unit == "%" else 1.0
    u = " percentage points" if unit == "%" else (f" {unit}" if unit else "")
    se_text = f" ± {se * f:.2g}" if se == se else ""  # NaN check: one replicate
    verdict = "resolved" if resolved else "not resolved by these replicates"
    return f"{label}: {a} − {b} = {mean * f:+.3g}{se_text}{u} ({verdict})", resolved


def _statements(numbers, agg, rows, first, other, n_rep) -> list[str]:
    lines = []
    ratio = rows[other]["n_spheres"] / rows[first]["n_spheres"]
    more, fewer = (other, first) if ratio >= 1 else (first, other)
    lines.append(
        f"- **Sphere count.** At the same mean dose {more} needs {max(ratio, 1 / ratio):.1f} "
        f"times more spheres than {fewer}: each of its spheres carries that much less "
        "activity.")
    res = {}
    for key in ("spheres_per_terminal_cv", "tumour_to_normal_uptake", "normal_mean_Gy",
                "tumour_mean_Gy", "lobules_normal_cv", "lobules_normal_below_40Gy",
                "lobules_normal_below_40Gy_matched", "lobules_normal_below_70Gy",
                "normal_mean_BED_Gy", "normal_damaged_fraction"):
        text, ok = _difference(numbers, first, other, key)
        res[key] = ok
        lines.append(f"- {text}.")
    if res["normal_mean_Gy"]:
        lines.append(
            f"- **Confounder: the normal-liver mean differs** between {first} and {other}. A "
            "lower mean alone puts more lobules below 40 Gy and lowers the BED, so the row "
            "'normal lobules < 40 Gy at a common normal mean' (each device's lobule doses "
            "scaled to the same mean) is the comparison of heterogeneity itself.")
    if res["tumour_to_normal_uptake"]:
        lines.append(_uptake_note(agg, first, other))
    if not res["lobules_normal_below_40Gy_matched"]:
        lines.append(
            f"- **Spared lobules.** At a common normal-liver mean the share of normal lobules "
            f"below 40 Gy does not differ between {first} and {other} beyond the seed-to-seed "
            "spread: this run does not show that one device spares more liver tissue than the "
            "other.")
    else:
        a = agg[first]["lobules_normal_below_40Gy_matched"].mean
        b = agg[other]["lobules_normal_below_40Gy_matched"].mean
        spares = first if a > b else other
        lines.append(
            f"- **Spared lobules.** At a common normal-liver mean, {spares} leaves more normal "
            "lobules below 40 Gy. Spared lobules keep the liver working, one proposed reason "
            "why glass is tolerated at higher mean doses (Walrand et al., J Nucl Med 2014); "
            "how large the effect is here depends on the heterogeneity mechanisms of the "
            "scenario (docs/physics.md).")
    if n_rep < 2:
        lines.append("- With one replicate no difference can be told from seed-to-seed "
                     "variation; run with `--replicates 3` or more.")
    return lines


def _uptake_note(agg, first, other) -> str:
    tn = {d: agg[d]["tumour_to_normal_uptake"].mean for d in (first, other)}
    low = min(tn, key=tn.get)
    occ = agg[low].get("occluded_tumour_terminals")
    why = ""
    if occ is not None and occ.mean > 0:
        why = (f" {100 * occ.mean:.0f} % of {low}'s tumour terminals reached the occlusion cap "
               "(transport.spheres_to_occlude): once the hypervascular tumour's vessels fill, "
               "later spheres follow the flow into normal liver, which lowers the tumour's "
               "share and dose.")
    return (f"- **Confounder: the tumour-to-normal uptake differs** ({first} "
            f"{tn[first]:.2f}, {other} {tn[other]:.2f}), so the same MIRD activity splits "
            f"differently between tumour and normal liver.{why}")


def _mird_lines(rows, agg) -> list[str]:
    out = []
    for d, r in rows.items():
        sp = agg[d].get("perfused_vs_mird")
        nuc = r["nuclide"]
        share = 100.0 * photon_emitted_fraction(nuc)
        out.append(
            f"- **{r['name']} vs MIRD.** The simulated treated-territory mean is "
            f"{format_spread(sp, '%')} from the MIRD value. MIRD puts all decay energy into "
            "the treated tissue; in the simulation beta energy crosses the territory's edge "
            f"(range up to ~11 mm) and {nuc}'s photons, {share:.2g} % of its decay energy, "
            "mostly leave it.")
    return out


def _holmium_line(rows, agg) -> list[str]:
    ho = [d for d, r in rows.items() if r["nuclide"] == "Ho-166"]
    y = [d for d, r in rows.items() if r["nuclide"] == "Y-90"]
    if not ho or not y:
        return []
    t_ho, t_y = get_nuclide("Ho-166").half_life_h, get_nuclide("Y-90").half_life_h
    bed = agg[ho[0]].get("normal_mean_BED_Gy")
    return [f"- **Holmium.** Ho-166 decays faster (half-life {t_ho:.1f} h vs {t_y:.1f} h), so "
            "the same dose accrues at a higher initial dose rate over a shorter time and less "
            "sublethal damage is repaired while it accrues: its normal-liver BED is "
            f"{format_spread(bed, 'Gy')} (Dale 1985; alpha/beta 2.5 Gy, repair half-time "
            "1.5 h; the implant is permanent and the dose is delivered as it decays)."]


def report_markdown(rows, numbers, agg, *, dose_Gy, fig_name, files, seed, replicates) -> str:
    """The Markdown report of :func:`sim.compare.compare_devices`.

    ``rows``: device -> {name, nuclide, n_spheres, ...}; ``numbers``: device -> per-replicate
    dicts; ``agg``: device -> {key: Spread}.
    """
    devs = list(rows)
    lines = [f"# {_names(rows)} at the same MIRD mean dose ({dose_Gy:g} Gy)", "",
             f"Each device treated the same arterial tree and territory with the activity "
             f"that the MIRD model prescribes for a mean dose of {dose_Gy:g} Gy. "
             f"{replicates} replicate{'s' if replicates > 1 else ''} (root seed {seed}): each "
             "replicate grows a new tree and draws new sphere paths, and within a replicate "
             "all devices share the tree and the random streams, so device differences are "
             "paired. Values are mean ± standard deviation over the replicates; a difference "
             "is called resolved when the 95 % confidence interval of the mean paired "
             "difference (Student t over the replicates) excludes zero.", "", f"![panel]({fig_name})", "", "## Delivery and uptake", ""]
    lines += _table(devs, agg, ("activity_GBq", "n_spheres", "activity_per_sphere_Bq",
                                "spheres_per_terminal_mean", "spheres_per_terminal_cv",
                                "occluded_tumour_terminals", "occluded_normal_terminals",
                                "reflux_fraction", "tumour_to_normal_uptake"))
    lines += ["", "## Dose", ""]
    lines += _table(devs, agg, ("normal_mean_Gy", "tumour_mean_Gy", "perfused_vs_mird",
                                "lobules_normal_cv", "lobules_normal_below_40Gy",
                                "lobules_normal_below_70Gy", "lobules_normal_below_40Gy_matched",
                                "normal_mean_BED_Gy", "normal_NTCP_LKB",
                                "normal_damaged_fraction", "normal_NTCP_parallel"))
    lines += ["", "## What the numbers say", ""]
    for other in devs[1:]:
        lines.append(f"### {devs[0]} vs {other}")
        lines.append("")
        lines += _statements(numbers, agg, rows, devs[0], other, replicates)
        lines.append("")
    lines += _mird_lines(rows, agg) + _holmium_line(rows, agg)
    lines += ["", "Results files: " + ", ".join(f"`{f}`" for f in files), "",
              "Made by `taresim compare-devices`. Physics and sources: docs/physics.md."]
    return "\n".join(lines) + "\n"
