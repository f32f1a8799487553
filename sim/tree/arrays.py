"""Arterial tree as a struct of arrays: validation, topology and summary.

Nodes are segments. Segment ``i`` runs from ``proximal_mm[i]`` to ``distal_mm[i]``; its parent
is ``parent[i]`` (-1 for the root); nodes are in a topological order (``parent[i] < i``) so
flow accumulation is one reverse pass. Children are stored CSR-style: the children of ``i`` are
``child_index[child_start[i]:child_start[i + 1]]``, in increasing index order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.tree import _kernels as _k

__all__ = ["TreeArrays", "from_parent", "summary", "frozen_array", "connection_warnings"]


@dataclasses.dataclass(frozen=True, eq=False)
class TreeArrays:
    """Arterial tree, one row per segment (read-only arrays).

    Attributes
    ----------
    parent : (N,) int64, parent segment, -1 for the root.
    child_start : (N+1,) int64 and child_index : (N-1,) int64, CSR children.
    radius_um : (N,) float64 [um].
    length_mm : (N,) float64 [mm], hemodynamic length (may exceed the chord, see
        :func:`bifurcating_tree`).
    proximal_mm, distal_mm : (N, 3) float64 [mm], segment end points.
    is_terminal : (N,) bool, no children.
    region : (N,) int32, 0 normal liver, k tumour k (for internal segments: the common region
        of all terminals below, else 0).
    terminal_mass_mg : (N,) float64 [mg], tissue perfused by each terminal, 0 elsewhere.
    depth : (N,) int32, root 0.
    """

    parent: np.ndarray
    child_start: np.ndarray
    child_index: np.ndarray
    radius_um: np.ndarray
    length_mm: np.ndarray
    proximal_mm: np.ndarray
    distal_mm: np.ndarray
    is_terminal: np.ndarray
    region: np.ndarray
    terminal_mass_mg: np.ndarray
    depth: np.ndarray

    @property
    def n_segments(self) -> int:
        return int(self.parent.shape[0])

    @property
    def terminals(self) -> np.ndarray:
        """Indices of the terminal segments [int64]."""
        return np.flatnonzero(self.is_terminal)

    def children(self, i: int) -> np.ndarray:
        return self.child_index[self.child_start[i] : self.child_start[i + 1]]

    def subtree(self, i: int) -> np.ndarray:
        """Boolean mask of segment ``i`` and every segment below it (its territory's vessels)."""
        if not 0 <= int(i) < self.n_segments:
            raise ValueError(f"segment {i} is out of range (allowed: 0 <= segment < "
                             f"{self.n_segments})")
        return _k.subtree_mask(self.parent, int(i))


def frozen_array(a, dtype=np.float64, shape=None):
    """A private read-only contiguous copy of ``a`` (checked against ``shape`` when given)."""
    a = np.ascontiguousarray(a, dtype=dtype).copy()
    if shape is not None and a.shape != shape:
        raise ValueError(f"expected shape {shape}, got {a.shape}")
    a.flags.writeable = False
    return a


def from_parent(
    parent,
    radius_um,
    proximal_mm,
    distal_mm,
    region=None,
    terminal_mass_mg=None,
    *,
    length_mm=None,
    return_order=False,
):
    """Validate arrays and build a :class:`TreeArrays` (n-ary allowed).

    Parameters
    ----------
    parent : (N,) int, parent index, exactly one -1 (the root).
    radius_um : (N,) float [um], > 0.
    proximal_mm, distal_mm : (N, 3) float [mm].
    region : (N,) int, optional (default 0).
    terminal_mass_mg : (N,) float [mg], optional (default 0); must be 0 on internal segments.
    length_mm : (N,) float [mm], optional hemodynamic length; default the chord
        ``|distal - proximal|``.
    return_order : bool
        Also return ``order`` such that new row ``j`` is input row ``order[j]``.

    Notes
    -----
    If the input is not in topological order it is reordered by (depth, input index): a stable
    breadth-first order. Cycles and nodes not connected to the root are errors.
    """
    parent = np.asarray(parent)
    if parent.ndim != 1 or parent.shape[0] == 0:
        raise ValueError("parent must be a non-empty 1-D array")
    if not np.issubdtype(parent.dtype, np.integer):
        raise ValueError("parent must hold integers")
    parent = parent.astype(np.int64)
    n = parent.shape[0]
    if np.any((parent < -1) | (parent >= n)):
        raise ValueError("parent indices must lie in [-1, N)")
    roots = np.flatnonzero(parent < 0)
    if roots.size != 1:
        raise ValueError(f"a tree needs exactly one root (parent -1), found {roots.size}")
    radius_um = np.asarray(radius_um, dtype=np.float64)
    proximal_mm = np.asarray(proximal_mm, dtype=np.float64)
    distal_mm = np.asarray(distal_mm, dtype=np.float64)
    region = np.zeros(n, np.int32) if region is None else np.asarray(region)
    terminal_mass_mg = np.zeros(n) if terminal_mass_mg is None else np.asarray(terminal_mass_mg)
    for name, arr, shape in (
        ("radius_um", radius_um, (n,)),
        ("proximal_mm", proximal_mm, (n, 3)),
        ("distal_mm", distal_mm, (n, 3)),
        ("region", region, (n,)),
        ("terminal_mass_mg", terminal_mass_mg, (n,)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(radius_um)) or np.any(radius_um <= 0):
        raise ValueError("radius_um must be finite and > 0")
    if not (np.all(np.isfinite(proximal_mm)) and np.all(np.isfinite(distal_mm))):
        raise ValueError("segment end points must be finite")
    if length_mm is not None:
        length_mm = np.asarray(length_mm, dtype=np.float64)
        if length_mm.shape != (n,) or np.any(~np.isfinite(length_mm)) or np.any(length_mm < 0):
            raise ValueError("length_mm must have shape (N,), be finite and >= 0")

    order = np.arange(n)
    if roots[0] != 0 or np.any(parent[1:] >= np.arange(1, n)):
        depth = _k.depth_any_order(parent, int(roots[0]))
        if np.any(depth < 0):
            raise ValueError("parent array has a cycle or nodes not connected to the root")
        order = np.lexsort((np.arange(n), depth))
        inv = np.empty(n, np.int64)
        inv[order] = np.arange(n)
        p = parent[order]
        parent = np.where(p >= 0, inv[np.maximum(p, 0)], -1)
        radius_um, proximal_mm, distal_mm = radius_um[order], proximal_mm[order], distal_mm[order]
        region, terminal_mass_mg = region[order], terminal_mass_mg[order]
        if length_mm is not None:
            length_mm = length_mm[order]
    if length_mm is None:
        length_mm = np.linalg.norm(distal_mm - proximal_mm, axis=1)

    nonroot = np.flatnonzero(parent >= 0)
    counts = np.bincount(parent[nonroot], minlength=n)
    child_start = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=child_start[1:])
    child_index = nonroot[np.argsort(parent[nonroot], kind="stable")]
    is_terminal = counts == 0
    if np.any(np.asarray(terminal_mass_mg)[~is_terminal] != 0):
        raise ValueError("terminal_mass_mg must be 0 on internal segments")
    if np.any(terminal_mass_mg < 0) or not np.all(np.isfinite(terminal_mass_mg)):
        raise ValueError("terminal_mass_mg must be finite and >= 0")
    tree = TreeArrays(
        parent=frozen_array(parent, np.int64),
        child_start=frozen_array(child_start, np.int64),
        child_index=frozen_array(child_index, np.int64),
        radius_um=frozen_array(radius_um, np.float64),
        length_mm=frozen_array(length_mm, np.float64),
        proximal_mm=frozen_array(proximal_mm, np.float64),
        distal_mm=frozen_array(distal_mm, np.float64),
        is_terminal=frozen_array(is_terminal, np.bool_),
        region=frozen_array(region, np.int32),
        terminal_mass_mg=frozen_array(terminal_mass_mg, np.float64),
        depth=frozen_array(_k.depth_topological(parent), np.int32),
    )
    return (tree, order) if return_order else tree


def summary(tree: TreeArrays, flow=None, *, territory=None) -> dict:
    """Key numbers of a tree (and of its flow field, when given).

    Returns a JSON-friendly dict: counts, terminal depths (segments and branch points from the
    root to each terminal: mean, SD, max), radii [um], perfused mass [g] in
    total and per region; with ``flow`` (a ``FlowField``) also the inlet flow [mL/min], flow
    per region [mL/min] (sum over that region's terminals), perfusion per region
    [mL/min/g] and the tumour-to-normal perfusion ratio (flow per mass in all tumours over
    flow per mass in normal liver). With ``territory`` (a boolean mask of segments, e.g.
    :meth:`TreeArrays.subtree` of the injected segment) masses, flows and perfusion are those
    of its terminals, and ``territory_terminals`` counts them.
    """
    term = tree.is_terminal
    tdepth = tree.depth[term]
    bif = _k.bifurcation_depth(tree.parent, tree.child_start)[term]
    if territory is not None:
        territory_terminals = int((term & territory).sum())
        term = term & territory
    regions = np.unique(tree.region[term])
    mass_g = tree.terminal_mass_mg * 1e-3
    out = {
        "segments": tree.n_segments,
        "terminals": int(tree.is_terminal.sum()),
        "terminal_depth_min": int(tdepth.min()),
        "terminal_depth_mean": float(tdepth.mean()),
        "terminal_depth_max": int(tdepth.max()),
        "bifurcations_to_terminal_mean": float(bif.mean()),
        "bifurcations_to_terminal_sd": float(bif.std()),
        "bifurcations_to_terminal_max": int(bif.max()),
        "radius_um_min": float(tree.radius_um.min()),
        "radius_um_max": float(tree.radius_um.max()),
        "terminal_radius_um_mean": float(tree.radius_um[term].mean()),
        "perfused_mass_g": float(mass_g[term].sum()),
        "mass_g_by_region": {
            int(k): float(mass_g[term & (tree.region == k)].sum()) for k in regions
        },
    }
    if territory is not None:
        out["territory_terminals"] = territory_terminals
    if flow is not None:
        q = np.asarray(flow.flow_mL_min)
        out["inlet_flow_mL_min"] = float(q[0])
        out["inlet_pressure_mmHg"] = float(flow.inlet_pressure_mmHg)
        fr = {int(k): float(q[term & (tree.region == k)].sum()) for k in regions}
        out["flow_mL_min_by_region"] = fr
        perf = {}
        for k in regions:
            m = out["mass_g_by_region"][int(k)]
            perf[int(k)] = fr[int(k)] / m if m > 0 else float("nan")
        out["perfusion_mL_min_g_by_region"] = perf
        tum = term & (tree.region > 0)
        nor = term & (tree.region == 0)
        if tum.any() and nor.any():
            pt = q[tum].sum() / mass_g[tum].sum()
            pn = q[nor].sum() / mass_g[nor].sum()
            out["tumour_to_normal_ratio"] = float(pt / pn)
    return out


def connection_warnings(tree: TreeArrays, tolerance_mm: float = 1.0) -> list[str]:
    """Segments that start far from their parent's distal end (a tree read from a file whose
    rows do not connect): one warning naming how many and the worst one."""
    child = np.flatnonzero(tree.parent >= 0)
    if child.size == 0:
        return []
    gap = np.linalg.norm(tree.proximal_mm[child] - tree.distal_mm[tree.parent[child]], axis=1)
    bad = gap > tolerance_mm
    if not bad.any():
        return []
    worst = child[np.argmax(gap)]
    return [f"{int(bad.sum())} segment(s) start more than {tolerance_mm:g} mm from their "
            f"parent's distal end (largest gap {gap.max():.1f} mm, segment {int(worst)}): the "
            "flow model joins them anyway"]
