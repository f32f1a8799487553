"""Reopen a results file: ``sim.open_results(path)`` for notebooks, ``taresim show`` and
``taresim plot``.

Every figure is drawn from the file alone, so a result can be re-plotted years later.
"""
from __future__ import annotations

from contextlib import contextmanager
import json
from pathlib import Path
import tomllib

from sim.config import scenario_from_dict
from sim.dose.compartments import Compartments
from sim.flow.field import read_flow_hdf5
from sim.results.figures import draw_all
from sim.results.io import ResultsError, attrs_dict, open_results as _open_h5_raw
from sim.tree.io import read_tree_hdf5

__all__ = ["Results", "open_results"]


@contextmanager
def _open_h5(path):
    """Open a results file; damage found while reading becomes a ResultsError."""
    with _open_h5_raw(path) as f:
        try:
            yield f
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, ResultsError):
                raise
            raise ResultsError(f"{path}: damaged results file ({type(exc).__name__}: {exc})") from None


def _group_dict(g) -> dict:
    out = attrs_dict(g)
    for k, v in g.items():
        if hasattr(v, "items"):  # a subgroup
            out[k] = _group_dict(v)
    return out


class Results:
    """A taresim results file, read lazily.

    Attributes
    ----------
    path : Path
    attrs : dict
        Root attributes (provenance: version, git sha, seed, creation time, config).
    """

    def __init__(self, path):
        self.path = Path(path)
        with _open_h5(self.path) as f:
            self.attrs = attrs_dict(f)
            self.groups = sorted(f.keys())

    def __repr__(self):
        return f"Results({str(self.path)!r}, groups={self.groups})"

    @property
    def kept(self) -> str:
        """What the file keeps: ``"full"``, ``"counts"`` (no per-sphere arrays, no dose grid)
        or ``"summary"`` (see :data:`sim.results.schema.KEEP_LEVELS`)."""
        return str(self.attrs.get("kept", "full"))

    @property
    def config_toml(self) -> str:
        """The full, resolved scenario the run used."""
        return str(self.attrs.get("config_toml", ""))

    def scenario(self):
        """The scenario, validated again from the stored config text."""
        return scenario_from_dict(tomllib.loads(self.config_toml), str(self.path))

    def summary(self) -> dict:
        """The run summary (stored by ``taresim run``; rebuilt from the groups otherwise)."""
        if "summary_json" in self.attrs:
            return json.loads(self.attrs["summary_json"])
        out = {"file": str(self.path), "groups": self.groups,
               "seed": self.attrs.get("seed"), "scenario": self.attrs.get("scenario")}
        with _open_h5(self.path) as f:
            if "deposition" in f:
                out["deposition"] = attrs_dict(f["deposition"])
            if "metrics" in f:
                out["metrics"] = _group_dict(f["metrics"])
            if "planning" in f:
                out["planning"] = _group_dict(f["planning"])
        return out

    def tree(self):
        """The arterial tree (:class:`sim.tree.TreeArrays`)."""
        with _open_h5(self.path) as f:
            return read_tree_hdf5(self._need(f, "tree"))

    def flow(self):
        """The flow field at the start of the injection."""
        with _open_h5(self.path) as f:
            return read_flow_hdf5(self._need(f, "flow"))

    def deposition(self) -> dict:
        """Liver spheres (``segment``, ``position_mm``, ``activity_Bq``, ``diameter_um``,
        ``spheres_per_segment``) and the compartment counts (``attrs``)."""
        with _open_h5(self.path) as f:
            g = self._need(f, "deposition")
            out = {k: g[k][()] for k in g.keys()}
            out["attrs"] = attrs_dict(g)
        names = (("segment", "position_mm", "activity_Bq", "spheres_per_segment")
                 if self.kept == "full" else ("spheres_per_segment",))
        return _require(self.path, "deposition", out, names)

    def dose(self) -> dict:
        """The dose grid (``dose_Gy``, ``origin_mm``, ``spacing_mm``, ``region``), lobule doses
        and point doses when present."""
        with _open_h5(self.path) as f:
            g = self._need(f, "dose")
            out = {k: g[k][()] for k in g.keys() if not hasattr(g[k], "keys")}
            out["attrs"] = attrs_dict(g)
        names = (("dose_Gy", "origin_mm", "spacing_mm", "region", "lobule_dose_Gy",
                  "lobule_region") if self.kept == "full" else ("lobule_dose_Gy", "lobule_region"))
        return _require(self.path, "dose", out, names)

    def compartments(self):
        """The compartments of the dose grid (:class:`sim.dose.Compartments`), or None in
        files written before they were stored."""
        with _open_h5(self.path) as f:
            g = self._need(f, "dose")
            if "compartments" not in g:
                return None
            c = g["compartments"]
            return Compartments(c["label"][()], tuple(int(v) for v in c.attrs["codes"]),
                                c["mixed_index"][()], c["mixed_fraction"][()],
                                float(c.attrs["voxel_mass_kg"]))

    def metrics(self) -> dict:
        with _open_h5(self.path) as f:
            return _group_dict(self._need(f, "metrics"))

    def planning(self) -> dict:
        with _open_h5(self.path) as f:
            return _group_dict(self._need(f, "planning"))

    def chain(self) -> dict:
        """The clinical chain (``/chain``, written by ``taresim chain``): summary, planning,
        comparison, scout and image arrays (see :func:`sim.clinical.read_chain`)."""
        from sim.clinical.schema import read_chain  # the chain package imports this one

        return read_chain(self.path)

    def _need(self, f, name):
        if name not in f:
            raise ResultsError(f"{self.path}: no /{name} group (groups: {', '.join(f.keys())})")
        return f[name]

    def plot(self, folder=None) -> list[str]:
        """Draw every figure the file supports into ``folder`` (default: beside the file)."""
        return draw_all(self, folder)


def _require(path, group, data: dict, names) -> dict:
    missing = [n for n in names if n not in data]
    if missing:
        raise ResultsError(f"{path}: damaged results file (/{group} lacks {', '.join(missing)})")
    return data


def open_results(path) -> Results:
    """Open a results file for reading.

    Raises
    ------
    sim.results.ResultsError
        Missing, truncated or corrupt file, another file type, or a newer major schema.
    """
    return Results(path)
