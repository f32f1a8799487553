"""Every figure of a results file, drawn from the file alone (``taresim plot``)."""
from __future__ import annotations

from pathlib import Path


from sim.dose.plot import draw_dose_figures
from sim.results.io import ResultsError
from sim.transport.plot import draw_deposition_figures, occlusion_cap_of
from sim.tree.plot import plot_tree

__all__ = ["draw_all", "figures_folder", "label_of"]


def draw_all(results, folder=None) -> list[str]:
    """Draw the figures the file's groups support; returns the PNG paths.

    /tree + /flow: the tree coloured by flow. /deposition: spheres per terminal and the tree
    coloured by deposited activity. /dose: DVHs with the planning predictions, a dose slice
    with the spheres, the lobule-dose histogram. Everything is read before anything is
    written, so a damaged file leaves no half set of figures.
    """
    folder = Path(folder) if folder is not None else figures_folder(results.path)
    data = _read_all(results)
    name = results.attrs.get("scenario") or results.path.stem
    label = label_of(results)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    if "tree" in data:
        tree, flow = data["tree"], data["flow"]
        fig, _ = plot_tree(tree, flow, color_by="flow", title=label)
        p = folder / f"{name}_tree_flow.png"
        fig.savefig(p, dpi=130)
        paths.append(str(p))
        dep = data.get("deposition")
        if dep is not None:
            paths += draw_deposition_figures(folder, name, label, tree, data["device"],
                                             dep["spheres_per_segment"],
                                             occlusion_cap_of(data["transport"]))
    if "dose" in data and results.kept == "full":
        d, dep = data["dose"], data.get("deposition")
        paths += draw_dose_figures(folder, name, label, dose=d["dose_Gy"], region=d["region"],
                                   origin_mm=d["origin_mm"], spacing_mm=d["spacing_mm"],
                                   planning=data["planning"], lobule_dose=d["lobule_dose_Gy"],
                                   lobule_region=d["lobule_region"],
                                   sphere_xyz=None if dep is None else dep["position_mm"])
    if "chain" in data and results.kept == "full":
        from sim.clinical.figures import draw_chain_figures  # imports the chain lazily

        paths += draw_chain_figures(folder, name, data["chain"], data["dose"],
                                    results.compartments(), label)
    return paths


def _read_all(results) -> dict:
    """Every group the figures need, read up front."""
    groups = set(results.groups)
    data = {}
    if {"tree", "flow"} <= groups:
        data["tree"], data["flow"] = results.tree(), results.flow()
        scenario = results.scenario()
        data["device"], data["transport"] = scenario.treatment.device, scenario.transport
    if "deposition" in groups:
        data["deposition"] = results.deposition()
    if "dose" in groups:
        data["dose"], data["planning"] = results.dose(), results.planning()
    if "chain" in groups:
        data["chain"] = results.chain()
    return data


def figures_folder(path) -> Path:
    """Default figure folder of a results file: ``NAME_figures`` beside it."""
    p = Path(path)
    return p.with_name(p.stem + "_figures")


def label_of(results) -> str:
    """Device, activity and seed of a run, for figure titles."""
    try:
        s = results.scenario()
        dev = s.device().name
    except Exception:  # noqa: BLE001 - a label must never stop a plot
        dev = "device ?"
    act = None
    try:
        act = results.deposition()["attrs"].get("injected_activity_GBq")
    except ResultsError:
        pass
    a = f"{act:.3g} GBq" if act is not None else "activity ?"
    return f"{dev}, {a}, seed {results.attrs.get('seed')}"
