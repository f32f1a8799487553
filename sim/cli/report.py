"""How the commands print their results on a terminal (rich tables and lines)."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from sim.cli.common import fmt

__all__ = ["print_plan", "print_devices", "print_tree_summary", "print_transport_summary",
           "print_kernel_report", "print_dose_table", "print_run_summary", "print_point_doses",
           "print_histology"]

_MODEL_TITLES = {"mird": "MIRD", "partition": "Partition", "bsa": "BSA",
                 "prescribed": "Given activity"}


def print_plan(con, result) -> None:
    """The side-by-side table of the planning models and every warning."""
    models = result["models"]
    table = Table(title_justify="left", title=escape((f"{result['scenario']}: {result['device_name']}, day "
                         f"{result['days_after_calibration']:g} after calibration, "
                         f"K = {result['dose_constant_Gy_kg_per_GBq']:.2f} Gy kg/GBq, "
                         f"LSF = {100 * result['lung_shunt_fraction']:.1f} %")))
    table.add_column("")
    for name in models:
        table.add_column(escape(_MODEL_TITLES[name]), justify="right", overflow="fold")
    rows = [("Activity [GBq]", "activity_GBq", 4), ("Tumour dose [Gy]", "tumour_dose_Gy", 4),
            ("Normal liver dose [Gy]", "normal_dose_Gy", 4),
            ("Perfused liver mean [Gy]", "liver_dose_Gy", 4), ("Lung dose [Gy]", "lung_dose_Gy", 3),
            ("Spheres", "n_spheres", 0), ("Activity per sphere [Bq]", "activity_per_sphere_Bq", 4),
            ("Spheres per GBq", "spheres_per_GBq", 0)]
    for label, key, digits in rows:
        table.add_row(label, *[fmt(m.get(key), digits) if digits else f"{m.get(key):,.0f}"
                               for m in models.values()])
    con.print(table)
    con.print(escape("Doses at each model's activity from the partition model with "
              f"T/N = {result['tumour_to_normal']:g} (MIRD assumes uniform uptake: its dose is "
              "the perfused liver mean)."))
    any_warning = False
    for name, m in models.items():
        for w in m["warnings"]:
            con.print(escape(f"warning ({_MODEL_TITLES[name]}): {w}"))
            any_warning = True
    for w in result["patient_warnings"]:
        con.print(escape(f"warning (patient): {w}"))
        any_warning = True
    if not any_warning:
        con.print(escape("No warnings."))


def print_devices(con, rows, day, activity) -> None:
    """The device table on a treatment day (one column per device, so it fits 80 columns)."""
    what = (f"{activity:g} GBq administered" if activity is not None
            else "the first standard vial's content that day")
    table = Table(title_justify="left", title=escape(
        f"Microsphere devices on day {day:g} after calibration (spheres for {what})"))
    table.add_column("")
    for r in rows:
        table.add_column(escape(r["device"]), justify="right", overflow="fold")

    def diameter(r):
        lo, hi = r["diameter_range_um"]
        return f"{r['mean_diameter_um']:g} ({lo:g}-{hi:g})"

    cells = [("Nuclide", lambda r: r["nuclide"]), ("Diameter [um]", diameter),
             ("Density [g/cm3]", lambda r: f"{r['density_g_cm3']:g}"),
             ("Bq/sphere at calibration", lambda r: f"{r['activity_per_sphere_at_calibration_Bq']:,.0f}"),
             (f"Bq/sphere on day {day:g}", lambda r: f"{r['activity_per_sphere_Bq']:,.1f}"),
             ("Spheres/GBq", lambda r: f"{r['spheres_per_GBq']:,.0f}"),
             ("Activity [GBq]", lambda r: f"{r['activity_GBq']:.3g}"),
             ("Spheres", lambda r: f"{r['n_spheres']:,}"), ("Embolic", lambda r: r["embolic"])]
    for label, cell in cells:
        table.add_row(escape(label), *[escape(cell(r)) for r in rows])
    con.print(table)
    for r in rows:
        con.print(escape(f"  {r['device']}: {r['name']}"))
    con.print(escape("Glass: a vial's sphere count is fixed and its activity decays, so spheres "
                     "per GBq grow as 2^(t/T1/2). Resin/holmium: activity is drawn from the "
                     "vial."))


def print_tree_summary(con, s) -> None:
    """Segments, depths, radii, masses, flow and perfusion per region."""
    con.print(escape(f"segments {s['segments']:,}, terminals {s['terminals']:,}, terminal depth "
              f"min/mean/max {s['terminal_depth_min']}/{s['terminal_depth_mean']:.1f}/"
              f"{s['terminal_depth_max']}"))
    if "bifurcations_to_terminal_mean" in s:
        con.print(escape(f"bifurcations root -> terminal: mean {s['bifurcations_to_terminal_mean']:.1f}, "
                         f"SD {s['bifurcations_to_terminal_sd']:.1f}, max "
                         f"{s['bifurcations_to_terminal_max']}"))
    con.print(escape(f"radius {s['radius_um_min']:.1f}-{s['radius_um_max']:.1f} um (terminal mean "
              f"{s['terminal_radius_um_mean']:.1f} um), perfused mass {s['perfused_mass_g']:.2f} g"))
    if "inlet_flow_mL_min" in s:
        con.print(escape(f"inlet flow {s['inlet_flow_mL_min']:.3g} mL/min at {s['inlet_pressure_mmHg']:.1f} "
                  "mmHg"))
        for k, q in s["flow_mL_min_by_region"].items():
            name = "normal liver" if int(k) == 0 else f"tumour {k}"  # JSON keys are str
            con.print(escape(f"  {name}: {s['mass_g_by_region'][k]:.2f} g, flow {q:.3g} mL/min, "
                      f"perfusion {s['perfusion_mL_min_g_by_region'][k]:.3g} mL/min/g"))
    if "tumour_to_normal_ratio" in s:
        con.print(escape(f"tumour-to-normal perfusion ratio {s['tumour_to_normal_ratio']:.3g}"))


def print_transport_summary(con, s) -> None:
    """Accounting, spheres per terminal and clusters of a transport summary."""
    rx, c = s["prescription"], s["counts"]
    con.print(escape(f"{rx['device_name']}: {rx['activity_GBq']:.3g} GBq ({rx['activity_source']}), "
              f"day {rx['days_after_calibration']:g}, {rx['n_spheres']:,} spheres of "
              f"{rx['activity_per_sphere_Bq']:.4g} Bq"))
    for name in ("liver", "lung", "reflux", "undelivered"):
        con.print(escape(f"  {name:12s} {c[name]:>12,} spheres  {c[name + '_activity_GBq']:.4g} GBq"))
    st = s["spheres_per_terminal"]
    con.print(escape(f"spheres per terminal: mean {st['mean']:.3g}, CV {st['cv']:.3g}, median "
              f"{st['median']:.3g}, max {st['max']:.0f}; empty terminals "
              f"{100 * s['terminals_without_spheres_fraction']:.1f} %"))
    cl = s["clusters"]
    if cl["n"]:
        con.print(escape(f"clusters (spheres per occupied vessel): {cl['n']:,}, mean {cl['mean']:.3g}, "
                  f"p90 {cl['p90']:.3g}, max {cl['max']:.0f}; lodged above terminals "
                  f"{100 * s['proximal_fraction']:.2f} %"))
    if "tumour_to_normal" in s:
        con.print(escape(f"tumour-to-normal uptake ratio (activity per mass) "
                  f"{s['tumour_to_normal']:.3g}"))
    if s["stasis_at_sphere"] >= 0:
        con.print(escape(f"stasis after {s['stasis_at_sphere']:,} spheres"))
    if s.get("transport_engine"):
        con.print(escape(f"transport engine: {s['transport_engine']}"))


def print_kernel_report(con, out) -> None:
    """Energy per decay, fractions within radii, X90 and voxel S values of a kernel."""
    con.print(escape(f"{out['nuclide']} dose point kernel at {out['density_g_cm3']:g} g/cm3: "
              f"{out['energy_per_decay_MeV']:.4f} MeV absorbed per decay, bremsstrahlung "
              f"{100 * out['bremsstrahlung_fraction']:.2f} % of the emitted energy"))
    fr = out["fraction_within_mm"]
    con.print(escape("energy within " + ", ".join(f"{r} mm: {100 * v:.1f} %" for r, v in fr.items()) +
              f"; X90 = {out['x90_mm']:.2f} mm"))
    if "s_values_mGy_per_MBq_s" in out:
        t = Table(title_justify="left",
              title=escape(f"voxel S values, {out['voxel_mm']} mm voxels [mGy/(MBq s)]"))
        for c in ("i", "j", "k", "S"):
            t.add_column(escape(c), justify="right")
        for i, j, k, v in out["s_values_mGy_per_MBq_s"]:
            t.add_row(str(i), str(j), str(k), f"{v:.4e}")
        con.print(t)


def print_dose_table(con, res) -> None:
    """Compartment doses against the planning models, and the energy explanation."""
    m, p = res.metrics, res.planning
    t = Table(title_justify="left", title=escape(
        f"Cross-fire dose on a {res.spacing_mm[0] * 1e3:.0f} um grid vs planning models"))
    for col in ("", "mean [Gy]", "CV", "D90 [Gy]", "D50 [Gy]", "D10 [Gy]", "<40 Gy", "<70 Gy",
                "MIRD delivered [Gy]", "partition delivered [Gy]"):
        t.add_column(escape(col), justify="right" if col else "left", overflow="fold")
    rows = [("treated normal liver", "normal", p.get("partition_normal_dose_Gy")),
            ("tumour", "tumour", p.get("partition_tumour_dose_Gy")),
            ("treated liver", "perfused", None),
            ("untreated liver", "untreated", None),
            ("normal lobules", "lobules_normal", p.get("partition_normal_dose_Gy")),
            ("tumour lobules", "lobules_tumour", p.get("partition_tumour_dose_Gy"))]
    for label, key, part in rows:
        if key not in m:
            continue
        s = m[key]
        t.add_row(label, f"{s['mean_Gy']:.1f}", f"{s['cv']:.2f}", f"{s['D90_Gy']:.1f}",
                  f"{s['D50_Gy']:.1f}", f"{s['D10_Gy']:.1f}", f"{100 * s['below_40Gy']:.1f} %",
                  f"{100 * s['below_70Gy']:.1f} %", f"{p['mird_delivered_Gy']:.1f}",
                  "-" if part is None else f"{part:.1f}")
    con.print(t)
    tn = p.get("tumour_to_normal_measured")
    con.print(escape(f"T:N measured from the spheres {tn:.3g}" if tn else "no tumour"))
    for name, e in p["explanation_by_region"].items():
        con.print(escape(f"{name}: simulated {e['simulated_mean_Gy']:.2f} Gy = partition "
                  f"{e['partition_Gy']:.2f} Gy + K/brems {e['bremsstrahlung_and_K_convention_Gy']:+.2f}"
                  f" + escape {e['escape_Gy']:+.2f} + crossing out {e['crossing_out_Gy']:+.2f} "
                  f"+ crossing in {e['crossing_in_Gy']:+.2f} (the grid holds "
                  f"{100 * (e['grid_energy_fraction'] or 1.0):.1f} % of its spheres' energy; the rest, "
                  f"{e['escape_beyond_grid_Gy']:+.2f} Gy, is in the escape term)"))
    if "normal" in m:
        ntcp = m["normal"].get("NTCP_LKB")
        con.print(escape(f"normal liver: mean BED {m['normal']['mean_BED_Gy']:.1f} Gy, whole-liver LKB "
                  "NTCP " + (f"{ntcp:.3f}" if ntcp is not None else
                             "not computed (needs liver.whole_liver_mass_kg)")))


def print_point_doses(con, points_mm, dose_Gy) -> None:
    """Point-mode doses at the requested points."""
    t = Table(title_justify="left", title=escape("Point doses (exact point kernel, complete decay)"))
    for col in ("x [mm]", "y [mm]", "z [mm]", "dose [Gy]"):
        t.add_column(escape(col), justify="right")
    for (x, y, z), d in zip(points_mm, dose_Gy):
        t.add_row(f"{x:.3f}", f"{y:.3f}", f"{z:.3f}", f"{d:.4g}")
    con.print(t)


def print_run_summary(con, s) -> None:
    """Prescription, accounting, the dose table and the warnings of a run summary."""
    con.print(escape(f"{s['scenario']} (seed {s['seed']}): {s['device']}, {s['activity_GBq']:.3g} GBq "
              f"({s['activity_source']}), day {s['days_after_calibration']:g}, "
              f"{s['n_spheres']:,} spheres of {s['activity_per_sphere_Bq']:.4g} Bq"))
    c = s["counts"]
    con.print(escape(f"treated territory {s['treated_mass_g']:.1f} g, {s['terminals']:,} terminals; "
              f"activity: liver {100 * s['delivered_fraction']:.1f} %, lung "
              f"{100 * s['lung_fraction']:.1f} % ({s['lung_activity_GBq']:.3g} GBq, lung dose "
              f"{s['lung_dose_Gy']:.1f} Gy), reflux {100 * s['reflux_fraction']:.1f} %, left in "
              f"the vial {100 * s['undelivered_fraction']:.1f} %"))
    if c["liver"]:
        con.print(escape(f"spheres per terminal: mean {s['spheres_per_terminal_mean']:.3g}, CV "
                  f"{s['spheres_per_terminal_cv']:.3g}"))
    if s.get("tumour_to_normal_uptake"):
        con.print(escape(f"tumour-to-normal uptake (spheres) {s['tumour_to_normal_uptake']:.3g}"))
    t = Table(title_justify="left", title=escape(
        f"Simulated dose ({s['grid_um']:.0f} um grid) vs planning models"))
    cols = [(key, label, part) for key, label, part in (
        ("normal", "treated normal", s.get("partition_normal_delivered_Gy")),
        ("tumour", "tumour", s.get("partition_tumour_delivered_Gy")),
        ("untreated", "untreated liver", None),
        ("lobules_normal", "normal lobules", s.get("partition_normal_delivered_Gy")),
        ("lobules_tumour", "tumour lobules", s.get("partition_tumour_delivered_Gy")))
        if f"{key}_mean_Gy" in s]
    t.add_column("", justify="left")
    for _, label, _ in cols:
        t.add_column(escape(label), justify="right", overflow="fold")
    rows = (("simulated mean [Gy]", lambda k, p: f"{s[k + '_mean_Gy']:.1f}"),
            ("CV", lambda k, p: fmt(s[k + "_cv"], 2)),
            ("D90 [Gy]", lambda k, p: f"{s[k + '_D90_Gy']:.1f}"),
            ("< 40 Gy", lambda k, p: f"{100 * s[k + '_below_40Gy']:.1f} %"),
            ("< 70 Gy", lambda k, p: f"{100 * s[k + '_below_70Gy']:.1f} %"),
            ("MIRD planned [Gy]", lambda k, p: fmt(s.get("mird_planned_Gy"), 4)),
            ("MIRD delivered [Gy]", lambda k, p: fmt(s.get("mird_delivered_Gy"), 4)),
            ("partition delivered [Gy]", lambda k, p: fmt(p, 4)))
    for name, cell in rows:
        t.add_row(escape(name), *(cell(k, p) for k, _, p in cols))
    con.print(t)
    con.print(escape("MIRD planned: the model's dose for the administered activity and the patient's "
              "lung shunt; delivered: for the activity that reached the liver; partition: "
              "delivered activity and the simulated T:N."))
    if s.get("normal_mean_BED_Gy") is not None:
        ntcp = s.get("normal_NTCP_LKB")
        con.print(escape(f"treated normal liver mean BED {s['normal_mean_BED_Gy']:.1f} Gy, whole-liver "
                  "LKB NTCP " + (f"{ntcp:.3f}" if ntcp is not None else
                                 "not computed (needs liver.whole_liver_mass_kg)")))
    for w in s.get("warnings", []):
        con.print(escape(f"warning: {w}"))


def _pct(v) -> str:
    return "-" if v is None or v != v else f"{100 * v:.0f} %"


def print_histology(con, out) -> None:
    """The main numbers of a virtual histology beside the published ones, and where the
    report went."""
    n = out["normal"]
    pd, td, cl = n["dose_papers"], n["dose_true"], n["clusters"]
    t = Table(title_justify="left", title=escape(
        f"Virtual histology, {out['device']}: {n['biopsies']} normal-liver biopsies, "
        f"{n['sections']} sections (published: Högberg 2015, resin)"))
    for col in ("", "published", "simulated, as the papers did", "simulated, true"):
        t.add_column(escape(col), justify="left" if not col else "right")
    rows = (("spheres in the sections", "3,888", fmt(n["spheres_in_sections"]), ""),
            ("largest cluster", "453", fmt(cl["largest"]), ""),
            ("dose range [Gy]", "5-1240", f"{pd['min_Gy']:.3g}-{pd['max_Gy']:.4g}",
             f"{td['min_Gy']:.3g}-{td['max_Gy']:.4g}"),
            ("central 90 % [Gy]", "10-97", f"{pd['p5_Gy']:.3g}-{pd['p95_Gy']:.3g}",
             f"{td['p5_Gy']:.3g}-{td['p95_Gy']:.3g}"),
            ("below 30 Gy", "45 %", _pct(pd["below_30Gy"]), _pct(td["below_30Gy"])))
    for r in rows:
        t.add_row(*(escape(c) for c in r))
    con.print(t)
    m = out["activity_vs_mass"]
    con.print(escape("activity CV over samples of " + ", ".join(
        f"{r['mass_mg']:g} mg: {r['cv']:.2g}" for r in m) + " (Poisson floor "
        f"{m[0]['poisson_cv']:.2g} at {m[0]['mass_mg']:g} mg)"))
    for r in out["roberson"]:
        con.print(escape(f"tumour {r['tumour']}: sphere-density ratio {r['density_ratio']:.2g}, "
                         f"mean-dose ratio {r['mean_dose_ratio']:.2g}, minimum-dose ratio "
                         f"{r['min_dose_ratio']:.2g} (Roberson 1992, 2-mm nodule: 15, 2.6, 1.9)"))
    for w in out["warnings"]:
        con.print(escape(f"warning: {w}"))
    con.print(escape(f"report: {out['report']}"))
