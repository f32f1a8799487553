"""The tree stage from a scenario's ``[tree]`` section: grow, build or load the tree."""

from __future__ import annotations

from pathlib import Path

import h5py

from sim.anatomy import MaskTumour, anatomy_domain, is_nifti, load_nifti_mask
from sim.tree.arrays import TreeArrays
from sim.tree.bifurcating import bifurcating_tree
from sim.tree.domains import Box, Ellipsoid, load_mask
from sim.tree.growth import Tumour, grow_tree
from sim.tree.io import load_tree_csv, read_tree_hdf5
from sim.tree.tissue import TissueGeometry

__all__ = ["build_tree", "tissue_geometry"]


def build_tree(spec, rng=None) -> TreeArrays:
    """Grow, build or load the tree a :class:`TreeSpec` describes.

    Parameters
    ----------
    spec : sim.config.TreeSpec
    rng : int or numpy.random.Generator
        Seed of the tree stage (grown trees only; the others are deterministic).
    """
    if spec.generator == "bifurcating":
        kw = dict(generations=spec.generations, split_ratio=spec.split_ratio,
                  terminal_radius_um=spec.terminal_radius_um, murray_exponent=spec.murray_exponent,
                  root_xyz_mm=tuple(spec.root_xyz_mm), length_to_radius=spec.length_to_radius,
                  random_split=spec.random_split, rng=rng)
        if spec.root_radius_um is not None:
            kw["root_radius_um"] = spec.root_radius_um
        if spec.lobule_mass_mg is not None:
            kw["lobule_mass_mg"] = spec.lobule_mass_mg
        return bifurcating_tree(**kw)
    if spec.generator == "grown":
        domain, tumours = _domain(spec.domain), _tumours(spec)
        return grow_tree(domain=domain, root_xyz_mm=tuple(spec.root_xyz_mm),
                         root_radius_um=spec.root_radius_um, terminal_mass_mg=spec.terminal_mass_mg,
                         tissue_density_g_cm3=spec.tissue_density_g_cm3,
                         murray_exponent=spec.murray_exponent, tumours=tumours,
                         minor_share_beta=tuple(spec.minor_share_beta), branching=spec.branching,
                         side_branch_spacing=spec.side_branch_spacing,
                         flow_rd_1g=spec.flow_rd_1g,
                         flow_fractal_dimension=spec.flow_fractal_dimension, rng=rng)
    path = Path(spec.path)
    if path.suffix.lower() == ".csv":
        return load_tree_csv(path)
    with h5py.File(path, "r") as f:
        if "tree" not in f:
            raise ValueError(f"{path}: no /tree group")
        return read_tree_hdf5(f["tree"])


def _domain(d):
    if d.shape == "ellipsoid":
        return Ellipsoid(tuple(d.centre_mm), tuple(d.semi_axes_mm))
    if d.shape == "box":
        return Box(tuple(d.min_mm), tuple(d.max_mm))
    if is_nifti(d.path):  # placed by its affine, cut to the territory
        return anatomy_domain(d.path, d.territory)
    return load_mask(d.path, origin_mm=tuple(d.origin_mm), spacing_mm=tuple(d.spacing_mm))


def _tumours(spec):
    return [MaskTumour(load_nifti_mask(t.mask, t.label), t.terminal_mass_mg, t.vascularity)
            if t.mask is not None else
            Tumour(tuple(t.centre_mm),
                   t.radius_mm if isinstance(t.radius_mm, float) else tuple(t.radius_mm),
                   t.terminal_mass_mg, t.vascularity) for t in spec.tumours]


def tissue_geometry(spec) -> TissueGeometry | None:
    """The domain and tumours of a grown tree as geometry (None for the teaching tree and
    trees read from files, which carry no geometry: their compartments come from the
    terminals alone)."""
    if spec.generator != "grown":
        return None
    return TissueGeometry.of(_domain(spec.domain), _tumours(spec), spec.tissue_density_g_cm3)
