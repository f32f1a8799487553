"""Dose stage: cross-fire dose of a deposition on a grid, compartment metrics, lobule doses,
and the comparison with the MIRD and partition models for the same case.

Compartments are defined on the grid (:mod:`sim.dose.compartments`): 0 normal liver, k tumour
k, -1 outside the perfused volume. Spheres take the region of their voxel.

Energy bookkeeping (why simulation and partition model differ). With E_k the kernel's absorbed
energy per decay, the energy deposited by the spheres of compartment c is
E_c = sum_i(c) A_i tau E_k, and the partition model puts all of it into c. The simulation
deposits it by the kernel: part in c, part in other compartments (crossing), part outside the
perfused volume (escape). The grid dose is computed per source compartment (the dose is linear
in activity), giving the matrix E[src -> dst]; then for every compartment, exactly,

    mean_sim(c) M_c = E_c - sum_{dst != c} E[c -> dst] - E[c -> outside] + sum_{src != c} E[src -> c]

and the partition model with the scenario's K differs further by K / K_kernel (bremsstrahlung,
which the kernel lets escape, and the mean-energy convention).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dosimetry import metrics, planning
from dosimetry import radiobiology as rb
from dosimetry.constants import J_PER_MEV, LIVER_DENSITY_G_CM3, LOBULE_BALL_RADIUS_MM
from dosimetry.crossfire import decays_complete, dose_at_points, radial_table
from dosimetry.decay import dose_constant as dose_constant_value, get_nuclide
from dosimetry.grid import dose_on_grid
from sim.dose.compartments import grid_for_tree, region_grid

__all__ = ["compute_dose", "DoseResult", "DEFAULT_RADIOBIOLOGY"]

#: Radiobiology defaults of :func:`compute_dose` (see :class:`sim.config.DoseSpec`).
DEFAULT_RADIOBIOLOGY = {"alpha_beta_Gy": 2.5, "tumour_alpha_beta_Gy": 10.0,
                        "repair_half_time_h": 1.5, "tumour_eud_alpha_per_Gy": 0.01,
                        "lkb": "dawson2002_primary"}


@dataclass
class DoseResult:
    """Dose stage output (see :func:`compute_dose`)."""

    dose_Gy: np.ndarray
    origin_mm: np.ndarray
    spacing_mm: np.ndarray
    region: np.ndarray
    lobule_dose_Gy: np.ndarray
    lobule_region: np.ndarray
    metrics: dict
    planning: dict
    energy: dict
    points_mm: np.ndarray | None = None
    points_dose_Gy: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


def _lobule_from_grid(dose, region, origin, spacing, centres, radius_mm):
    """Mean voxel dose within ``radius_mm`` of each centre (voxels of the perfused volume)."""
    shape = dose.shape
    out = np.empty(len(centres))
    rv = np.ceil(radius_mm / spacing).astype(int)
    offs = np.stack(np.meshgrid(*(np.arange(-r, r + 1) for r in rv), indexing="ij"), -1).reshape(-1, 3)
    keep = np.sum((offs * spacing) ** 2, axis=1) <= radius_mm**2
    offs = offs[keep]
    ijk = np.rint((centres - origin) / spacing).astype(int)
    for start in range(0, len(centres), 4096):
        c = ijk[start:start + 4096]
        idx = c[:, None, :] + offs[None, :, :]
        ok = np.all((idx >= 0) & (idx < np.array(shape)), axis=2)
        idx = np.clip(idx, 0, np.array(shape) - 1)
        vals = dose[idx[..., 0], idx[..., 1], idx[..., 2]]
        inside = ok & (region[idx[..., 0], idx[..., 1], idx[..., 2]] >= 0)
        n = inside.sum(axis=1)
        out[start:start + 4096] = np.where(n > 0, (vals * inside).sum(axis=1) / np.maximum(n, 1), np.nan)
    return out


def _whole_liver_ntcp(bed_normal, vox_mass_kg, whole_liver_mass_kg, tumour_mass_kg, rbp):
    """LKB NTCP over the whole normal liver: the perfused normal voxels plus the unperfused
    normal liver at 0 Gy (the Burman / Dawson fits are whole-organ fits). None without the
    whole-liver mass."""
    if whole_liver_mass_kg is None:
        return None
    perfused = bed_normal.size * vox_mass_kg
    rest = whole_liver_mass_kg - tumour_mass_kg - perfused
    eqd2 = rb.eqd2_Gy(bed_normal, alpha_beta_Gy=rbp["alpha_beta_Gy"])
    d = np.concatenate((eqd2, [0.0]))
    w = np.concatenate((np.full(eqd2.size, vox_mass_kg), [max(rest, 0.0)]))
    return rb.lkb_ntcp(d, rbp["lkb"], weights=w)


def compute_dose(tree, sphere_xyz_mm, sphere_activity_Bq, *, nuclide="Y-90", spacing_mm=0.25,
                 density_g_cm3=LIVER_DENSITY_G_CM3, injected_activity_GBq=None,
                 dose_constant="icrp107", lobule_radius_mm=None, radiobiology=None,
                 points_mm=None, margin_mm=0.0, whole_liver_mass_kg=None) -> DoseResult:
    """Cross-fire dose on a grid over the perfused volume, metrics and planning comparison.

    Parameters
    ----------
    tree : TreeArrays
        For the perfused volume (terminals, masses, regions) and the portal tracts.
    sphere_xyz_mm, sphere_activity_Bq : arrays
        Liver spheres and their activity at the start of the decay [mm], [Bq].
    nuclide : str
    spacing_mm : float
        Voxel size [mm].
    density_g_cm3 : float
        Tissue density [g/cm^3].
    injected_activity_GBq : float, optional
        Administered activity [GBq] (default: the liver activity) for the planning models.
    dose_constant : str or float
        K of the planning models (see :func:`dosimetry.decay.dose_constant`).
    lobule_radius_mm : float, optional
        Radius of the lobule-sized ball [mm] (default: classic lobule volume).
    radiobiology : dict, optional
        ``alpha_beta_Gy`` (normal liver, 2.5), ``tumour_alpha_beta_Gy`` (10),
        ``repair_half_time_h`` (1.5), ``tumour_eud_alpha_per_Gy`` (0.01), ``lkb`` (set name).
    whole_liver_mass_kg : float, optional
        Whole liver mass [kg]; needed for the whole-organ LKB NTCP (otherwise not reported).
    points_mm : (P, 3) array, optional
        Extra points for point-mode dose.
    margin_mm : float
        Grid margin beyond the perfused volume [mm]; with the kernel range (~11 mm) all
        escaping energy is on the grid, otherwise its remainder is reported as ``beyond_grid``.
    """
    rbp = dict(DEFAULT_RADIOBIOLOGY, **(radiobiology or {}))
    xyz = np.asarray(sphere_xyz_mm, dtype=np.float64)
    act = np.broadcast_to(np.asarray(sphere_activity_Bq, dtype=np.float64), (len(xyz),))
    origin, spacing, shape = grid_for_tree(tree, spacing_mm, margin_mm=margin_mm,
                                           density_g_cm3=density_g_cm3)
    region = region_grid(tree, origin, spacing, shape, density_g_cm3)
    vox_mass_kg = density_g_cm3 * 1e-6 * float(np.prod(spacing))
    sreg = _sphere_regions(xyz, region, origin, spacing)
    comps = sorted(set(np.unique(region[region >= 0]).tolist()) | set(np.unique(sreg).tolist()))
    grid = dict(origin_mm=origin, spacing_mm=spacing, shape=shape, nuclide=nuclide,
                density_g_cm3=density_g_cm3)
    e_kernel_J = radial_table(nuclide, float(density_g_cm3)).energy_per_decay_MeV * J_PER_MEV
    dose, energy_matrix = _dose_by_source(xyz, act, sreg, comps, region, vox_mass_kg, grid,
                                          e_kernel_J)
    met = _compartment_metrics(dose, region, comps, vox_mass_kg, nuclide, rbp,
                               whole_liver_mass_kg)
    lob_radius = float(lobule_radius_mm or LOBULE_BALL_RADIUS_MM)
    term = np.flatnonzero(tree.is_terminal)
    lob = _lobule_from_grid(dose, region, origin, spacing, tree.distal_mm[term], lob_radius)
    lob_reg = tree.region[term].astype(np.int64)
    met.update(_lobule_metrics(lob, lob_reg))
    plan = _planning_comparison(dose, region, comps, act, sreg, vox_mass_kg, energy_matrix,
                                nuclide, dose_constant, injected_activity_GBq, e_kernel_J)
    result = DoseResult(dose_Gy=dose, origin_mm=origin, spacing_mm=spacing, region=region,
                        lobule_dose_Gy=lob, lobule_region=lob_reg, metrics=met, planning=plan,
                        energy={str(k): v for k, v in energy_matrix.items()})
    if points_mm is not None:
        result.points_mm = np.asarray(points_mm, dtype=float)
        result.points_dose_Gy = dose_at_points(result.points_mm, xyz, act, nuclide=nuclide,
                                               density_g_cm3=density_g_cm3)
    result.extra["grid_shape"] = list(shape)
    result.extra["radiobiology"] = rbp
    result.extra["lobule_radius_mm"] = lob_radius
    return result


def _sphere_regions(xyz, region, origin, spacing):
    """Region of the voxel holding each sphere (-1 outside the grid or the perfused volume)."""
    shape = region.shape
    sijk = np.rint((xyz - origin) / spacing).astype(int)
    inside = np.all((sijk >= 0) & (sijk < np.array(shape)), axis=1)
    sreg = np.full(len(xyz), -1, np.int64)
    sreg[inside] = region[sijk[inside, 0], sijk[inside, 1], sijk[inside, 2]]
    return sreg


def _dose_by_source(xyz, act, sreg, comps, region, vox_mass_kg, grid, e_kernel_J):
    """The grid dose, summed over source compartments, and the energy matrix src -> dst [J]."""
    nuclide = grid["nuclide"]
    dose = np.zeros(grid["shape"])
    energy_matrix = {}
    for src in comps:
        sel = sreg == src
        if not sel.any():
            continue
        part = dose_on_grid(xyz[sel], act[sel], **grid)
        dose += part
        emitted = float(decays_complete(act[sel], nuclide).sum() * e_kernel_J)
        row = {int(dst): float(part[region == dst].sum() * vox_mass_kg) for dst in comps if dst >= 0}
        # escape = energy in grid voxels outside the perfused volume + energy beyond the grid
        in_grid = float(part.sum() * vox_mass_kg)
        row["outside_volume_in_grid"] = float(part[region < 0].sum() * vox_mass_kg)
        row["beyond_grid"] = emitted - in_grid
        row["outside"] = row["outside_volume_in_grid"] + row["beyond_grid"]
        row["emitted_J"] = emitted
        energy_matrix[int(src)] = row
    return dose, energy_matrix


def _compartment_metrics(dose, region, comps, vox_mass_kg, nuclide, rbp, whole_liver_mass_kg):
    """DVH statistics, BED, EUD/gEUD and (normal liver) LKB NTCP of every compartment."""
    half_life = get_nuclide(nuclide).half_life_h
    bed_n = rb.bed_Gy(dose, alpha_beta_Gy=rbp["alpha_beta_Gy"],
                      repair_half_time_h=rbp["repair_half_time_h"], half_life_h=half_life)
    bed_t = rb.bed_Gy(dose, alpha_beta_Gy=rbp["tumour_alpha_beta_Gy"],
                      repair_half_time_h=rbp["repair_half_time_h"], half_life_h=half_life)
    groups = {"perfused": region >= 0, "normal": region == 0}
    for k in comps:
        if k > 0:
            groups[f"tumour_{k}"] = region == k
    if any(k > 0 for k in comps):
        groups["tumour"] = region > 0
    met = {}
    for name, sel in groups.items():
        if not sel.any():
            continue
        d = dose[sel]
        s = metrics.dose_statistics(d)
        s["mass_g"] = float(sel.sum() * vox_mass_kg * 1e3)
        s["gEUD_a10_Gy"] = rb.geud_Gy(d, 10.0)
        if name.startswith("tumour"):
            s["mean_BED_Gy"] = float(bed_t[sel].mean())
            s["EUD_Gy"] = rb.eud_Gy(d, rbp["tumour_eud_alpha_per_Gy"])
        elif name == "normal":
            s["mean_BED_Gy"] = float(bed_n[sel].mean())
            ntcp = _whole_liver_ntcp(bed_n[sel], vox_mass_kg, whole_liver_mass_kg,
                                     float((region > 0).sum() * vox_mass_kg), rbp)
            if ntcp is not None:
                s["NTCP_LKB"] = ntcp
        met[name] = s
    return met


def _lobule_metrics(lob, lob_reg) -> dict:
    """Statistics of the lobule-level doses of normal and tumour lobules."""
    out = {}
    ok = np.isfinite(lob)
    for name, sel in (("lobules_normal", lob_reg == 0), ("lobules_tumour", lob_reg > 0)):
        sel = sel & ok
        if sel.any():
            out[name] = metrics.dose_statistics(lob[sel])
    return out


def _planning_comparison(dose, region, comps, act, sreg, vox_mass_kg, energy_matrix, nuclide,
                         dose_constant, injected_activity_GBq, e_kernel_J) -> dict:
    """MIRD and partition predictions for the same activity, masses and measured T:N, and the
    per-compartment explanation of the difference (module notes)."""
    masses = {k: float((region == k).sum() * vox_mass_kg) for k in comps if k >= 0}
    a_liver_GBq = float(act.sum() * 1e-9)
    a_inj = injected_activity_GBq if injected_activity_GBq is not None else a_liver_GBq
    lsf_eff = min(max(1.0 - a_liver_GBq / a_inj, 0.0), 0.999999) if a_inj > 0 else 0.0
    k_plan = dose_constant_value(dose_constant, nuclide)
    m_t = sum(v for k, v in masses.items() if k > 0)
    m_n = masses.get(0, 0.0)
    conc = {}
    for k in comps:
        if k >= 0 and masses.get(k, 0) > 0:
            conc[k] = float(act[sreg == k].sum()) / masses[k]
    tn = (sum(act[sreg > 0]) / m_t) / conc[0] if (m_t > 0 and conc.get(0, 0) > 0) else None
    plan = {"activity_injected_GBq": a_inj, "activity_liver_GBq": a_liver_GBq,
            "lung_and_nontarget_fraction": lsf_eff, "dose_constant_Gy_kg_per_GBq": k_plan,
            "kernel_dose_constant_Gy_kg_per_GBq": float(
                decays_complete(1e9, nuclide) * e_kernel_J),
            "tumour_to_normal_measured": tn, "masses_kg": {str(k): v for k, v in masses.items()}}
    m_perf = sum(masses.values())
    mird = planning.mird(perfused_mass_kg=m_perf, activity_GBq=a_inj, lung_shunt_fraction=lsf_eff,
                         dose_constant=k_plan)
    plan["mird_liver_dose_Gy"] = mird.liver_dose_Gy
    if tn is not None and m_n > 0:
        part = planning.partition(tumour_mass_kg=m_t, normal_mass_kg=m_n, tumour_to_normal=tn,
                                  activity_GBq=a_inj, lung_shunt_fraction=lsf_eff,
                                  dose_constant=k_plan)
        plan["partition_tumour_dose_Gy"] = part.tumour_dose_Gy
        plan["partition_normal_dose_Gy"] = part.normal_dose_Gy
    k_ratio = plan["kernel_dose_constant_Gy_kg_per_GBq"] / k_plan
    plan["explanation_by_region"] = _explain(dose, region, comps, masses, energy_matrix, k_ratio)
    return plan


def _explain(dose, region, comps, masses, energy_matrix, k_ratio) -> dict:
    """Simulated mean = partition (kernel K) + escape + crossing out + crossing in, per
    compartment, and the K-convention difference (module notes)."""
    explain = {}
    for c in [k for k in comps if k >= 0]:
        if masses.get(c, 0) <= 0:
            continue
        own = energy_matrix.get(c, {"emitted_J": 0.0, "outside": 0.0})
        crossing_out = sum(v for d, v in own.items() if isinstance(d, int) and d != c)
        crossing_in = sum(row.get(c, 0.0) for s, row in energy_matrix.items() if s != c)
        sim_mean = float(dose[region == c].mean()) if (region == c).any() else float("nan")
        pred_kernel = own["emitted_J"] / masses[c]
        explain[str(c)] = {
            "simulated_mean_Gy": sim_mean,
            "partition_kernel_K_Gy": pred_kernel,
            "partition_Gy": pred_kernel / k_ratio,
            "bremsstrahlung_and_K_convention_Gy": pred_kernel - pred_kernel / k_ratio,
            "escape_Gy": -own["outside"] / masses[c],
            "escape_beyond_grid_Gy": -own.get("beyond_grid", 0.0) / masses[c],
            "grid_energy_fraction": (own["emitted_J"] - own.get("beyond_grid", 0.0))
            / own["emitted_J"] if own["emitted_J"] > 0 else None,
            "crossing_out_Gy": -crossing_out / masses[c],
            "crossing_in_Gy": crossing_in / masses[c],
        }
    return explain
