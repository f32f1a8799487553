"""Every figure of a results file, drawn from the file alone (``taresim plot``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.results import Results, figures_folder, label_of


def draw_all(results: Results, folder=None) -> list[str]:
    """Draw the figures the file's groups support; returns the PNG paths.

    /tree + /flow: the tree coloured by flow. /deposition: spheres per terminal and the tree
    coloured by deposited activity. /dose: DVHs with the planning predictions, a dose slice
    with the spheres, the lobule-dose histogram.
    """
    from sim._tree_kernels import subtree_sum
    from sim.transport_plot import plot_spheres_per_terminal
    from sim.tree_plot import plot_tree

    folder = Path(folder) if folder is not None else figures_folder(results.path)
    folder.mkdir(parents=True, exist_ok=True)
    name = results.attrs.get("scenario") or results.path.stem
    label = label_of(results)
    paths = []

    def save(fig, suffix):
        p = folder / f"{name}_{suffix}.png"
        fig.savefig(p, dpi=130)
        paths.append(str(p))

    groups = set(results.groups)
    if {"tree", "flow"} <= groups:
        tree, flow = results.tree(), results.flow()
        fig, _ = plot_tree(tree, flow, color_by="flow", title=label)
        save(fig, "tree_flow")
        if "deposition" in groups:
            dep = results.deposition()
            per_seg = dep["spheres_per_segment"].astype(np.int64)
            dev = results.scenario().treatment.device
            fig, _ = plot_spheres_per_terminal({dev: per_seg[tree.is_terminal]}, title=label)
            save(fig, "spheres_per_terminal")
            act = np.bincount(dep["segment"], weights=dep["activity_Bq"].astype(np.float64),
                              minlength=tree.n_segments)
            fig, _ = plot_tree(tree, flow, values=subtree_sum(tree.parent, act) * 1e-6,
                               value_label="activity in subtree [MBq]", log=True, title=label)
            save(fig, "tree_activity")
    if "dose" in groups:
        from sim.dose_plot import plot_dose_slice, plot_dvh, plot_lobule_histogram

        d = results.dose()
        plan = results.planning()
        fig, _ = plot_dvh(d["dose_Gy"], d["region"], plan, title=label)
        save(fig, "dvh")
        xyz = results.deposition()["position_mm"] if "deposition" in groups else None
        fig, _ = plot_dose_slice(d["dose_Gy"], d["origin_mm"], d["spacing_mm"], xyz, title=label)
        save(fig, "dose_slice")
        fig, _ = plot_lobule_histogram(d["lobule_dose_Gy"], d["lobule_region"], title=label)
        save(fig, "lobule_dose")
    return paths
