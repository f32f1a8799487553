"""Build the arterial tree and its flow from a scenario (config -> plain arrays)."""
from __future__ import annotations

from pathlib import Path

from sim.config_sim import FlowSpec, TreeSpec
from sim.hemodynamics import FlowField, solve_flow
from sim.tree import TreeArrays, bifurcating_tree


def build_tree(spec: TreeSpec, rng=None) -> TreeArrays:
    """Grow, build or load the tree a :class:`TreeSpec` describes.

    Parameters
    ----------
    spec : TreeSpec
    rng : int or numpy.random.Generator
        Seed of the tree stage (grown trees only; the others are deterministic).
    """
    if spec.generator == "bifurcating":
        kw = dict(generations=spec.generations, split_ratio=spec.split_ratio,
                  terminal_radius_um=spec.terminal_radius_um, murray_exponent=spec.murray_exponent,
                  root_xyz_mm=tuple(spec.root_xyz_mm), length_to_radius=spec.length_to_radius)
        if spec.root_radius_um is not None:
            kw["root_radius_um"] = spec.root_radius_um
        if spec.lobule_mass_mg is not None:
            kw["lobule_mass_mg"] = spec.lobule_mass_mg
        return bifurcating_tree(**kw)
    if spec.generator == "grown":
        from sim.tree_growth import Box, Ellipsoid, Tumour, grow_tree, load_mask

        d = spec.domain
        if d.shape == "ellipsoid":
            domain = Ellipsoid(tuple(d.centre_mm), tuple(d.semi_axes_mm))
        elif d.shape == "box":
            domain = Box(tuple(d.min_mm), tuple(d.max_mm))
        else:
            domain = load_mask(d.path, origin_mm=tuple(d.origin_mm), spacing_mm=tuple(d.spacing_mm))
        tumours = [Tumour(tuple(t.centre_mm),
                          t.radius_mm if isinstance(t.radius_mm, float) else tuple(t.radius_mm),
                          t.terminal_mass_mg, t.vascularity) for t in spec.tumours]
        return grow_tree(domain=domain, root_xyz_mm=tuple(spec.root_xyz_mm),
                         root_radius_um=spec.root_radius_um, terminal_mass_mg=spec.terminal_mass_mg,
                         tissue_density_g_cm3=spec.tissue_density_g_cm3,
                         murray_exponent=spec.murray_exponent, tumours=tumours,
                         minor_share_beta=tuple(spec.minor_share_beta), rng=rng)
    path = Path(spec.path)
    if path.suffix.lower() == ".csv":
        from sim.tree_io import load_tree_csv

        return load_tree_csv(path)
    import h5py

    from sim.tree_io import read_tree_hdf5

    with h5py.File(path, "r") as f:
        if "tree" not in f:
            raise ValueError(f"{path}: no /tree group")
        return read_tree_hdf5(f["tree"])


def calibrate_tree(tree: TreeArrays, spec: FlowSpec) -> TreeArrays:
    """Scale all radii so the inlet pressure drives ``calibrate_perfusion_mL_min_g`` x mass.

    A uniform scale keeps Murray's law and every flow split (Poiseuille: R ~ r^-4). Used to
    give a grown tree a physiological hepatic arterial perfusion, e.g. 400 mL/min for a
    1.5 kg liver = 0.27 mL/min/g (Crookston et al. 2019; REFERENCE.md section 6). Returns the
    tree unchanged when the option is off.
    """
    if spec.calibrate_perfusion_mL_min_g is None:
        return tree
    from sim.hemodynamics import DEFAULT_INLET_PRESSURE_MMHG, calibrate_radii

    mass_g = float(tree.terminal_mass_mg.sum() * 1e-3)
    p_in = spec.inlet_pressure_mmHg or DEFAULT_INLET_PRESSURE_MMHG
    return calibrate_radii(tree, inlet_flow_mL_min=spec.calibrate_perfusion_mL_min_g * mass_g,
                           inlet_pressure_mmHg=p_in,
                           terminal_pressure_mmHg=spec.terminal_pressure_mmHg,
                           viscosity_mPa_s=spec.viscosity_mPa_s)


def build_flow(tree: TreeArrays, spec: FlowSpec) -> FlowField:
    """Solve the Poiseuille flow of a tree with the scenario's boundary conditions."""
    return solve_flow(tree, **spec.kwargs())
