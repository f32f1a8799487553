"""The arterial tree: struct-of-arrays model, the teaching (bifurcating) tree, space-filling
growth, file I/O (CSV, HDF5, VTK) and figures.

Nodes are segments in topological order (``parent[i] < i``); see :class:`TreeArrays`.
"""
from sim.tree.arrays import TreeArrays, from_parent, summary
from sim.tree.bifurcating import bifurcating_tree
from sim.tree.build import build_tree
from sim.tree.domains import Box, Ellipsoid, VoxelMask, load_mask
from sim.tree.growth import Tumour, grow_tree, place_terminals

__all__ = ["TreeArrays", "from_parent", "summary", "bifurcating_tree", "grow_tree",
           "place_terminals", "Tumour", "Ellipsoid", "Box", "VoxelMask", "load_mask",
           "build_tree"]
