"""Tree input/output: CSV, HDF5 (results schema ``/tree`` and ``/flow``) and VTK PolyData.

CSV and HDF5 round trips are exact (floats written with 17 significant digits / binary).
"""

from __future__ import annotations

import base64
import pathlib
import xml.etree.ElementTree as ET

import numpy as np

from sim.tree.arrays import TreeArrays, from_parent

__all__ = ["save_tree_csv", "load_tree_csv", "write_tree_hdf5", "read_tree_hdf5", "write_vtp",
           "read_vtp", "TREE_UNITS", "CSV_REQUIRED", "CSV_OPTIONAL"]

_XYZ = ("x", "y", "z")
CSV_REQUIRED = (
    ["id", "parent"]
    + [f"{c}_proximal_mm" for c in _XYZ]
    + [f"{c}_distal_mm" for c in _XYZ]
    + ["radius_um"]
)
CSV_OPTIONAL = ("length_mm", "region", "terminal_mass_mg")

#: HDF5 dataset name -> units attribute (results schema, docs/architecture.md)
TREE_UNITS = {
    "parent": "1",
    "radius_um": "um",
    "length_mm": "mm",
    "proximal_mm": "mm",
    "distal_mm": "mm",
    "is_terminal": "1",
    "region": "1",
    "terminal_mass_mg": "mg",
}
def save_tree_csv(path, tree: TreeArrays) -> None:
    """Write one row per segment: id (= index), parent (-1 root), end points [mm],
    radius [um], length [mm], region, terminal mass [mg]."""
    n = tree.n_segments
    cols = [np.arange(n), tree.parent, *tree.proximal_mm.T, *tree.distal_mm.T, tree.radius_um,
            tree.length_mm, tree.region, tree.terminal_mass_mg]
    names = CSV_REQUIRED + list(CSV_OPTIONAL)
    fmt = ["%d", "%d"] + ["%.17g"] * 8 + ["%d", "%.17g"]
    data = np.empty((n, len(cols)), dtype=object)
    for j, c in enumerate(cols):
        data[:, j] = c
    header = "taresim arterial tree; positions and lengths [mm], radius [um], mass [mg]\n"
    np.savetxt(path, data, fmt=fmt, delimiter=",", header=header + ",".join(names),
               comments="# ")


def load_tree_csv(path) -> TreeArrays:
    """Read a tree CSV (any integer ids; rows in any order; extra columns ignored).

    The header is the last ``#`` comment line before the data or the first data line.
    Optional columns: ``length_mm`` (else chords), ``region`` (else 0), ``terminal_mass_mg``
    (else 0).
    """
    path = pathlib.Path(path)
    header = None
    skip = 0
    with path.open() as fh:
        for line in fh:
            s = line.strip()
            if s.startswith("#"):
                body = s.lstrip("#").strip()
                if body.startswith("id,") or body.startswith("id ,"):
                    header = body
                skip += 1
                continue
            if header is None:
                header = s
                skip += 1
            break
    if header is None:
        raise ValueError(f"{path}: no header line")
    names = [h.strip() for h in header.split(",")]
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; required {CSV_REQUIRED}")
    data = np.loadtxt(path, delimiter=",", skiprows=skip, comments="#", ndmin=2,
                      dtype=np.float64)
    col = {name: data[:, j] for j, name in enumerate(names)}

    def as_int(name):
        v = col[name]
        if np.any(v != np.rint(v)):
            raise ValueError(f"{path}: column {name} must hold integers")
        return v.astype(np.int64)

    ids = as_int("id")
    par_ids = as_int("parent")
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    if np.any(sid[1:] == sid[:-1]):
        raise ValueError(f"{path}: duplicate segment ids")
    pos = np.searchsorted(sid, par_ids)
    pos = np.minimum(pos, sid.size - 1)
    known = sid[pos] == par_ids
    if np.any(~known & (par_ids != -1)):
        raise ValueError(f"{path}: parent ids not found among segment ids")
    parent = np.where(par_ids == -1, -1, order[pos])
    prox = np.stack([col[f"{c}_proximal_mm"] for c in _XYZ], axis=1)
    dist = np.stack([col[f"{c}_distal_mm"] for c in _XYZ], axis=1)
    region = as_int("region").astype(np.int32) if "region" in col else None
    return from_parent(parent, col["radius_um"], prox, dist, region,
                       col.get("terminal_mass_mg"), length_mm=col.get("length_mm"))


def write_tree_hdf5(group, tree: TreeArrays, flow=None, *, flow_group=None,
                    compression=None) -> None:
    """Write the tree datasets (each with a ``units`` attribute) into an h5py group.

    With ``flow`` (a :class:`sim.flow.FlowField`), the flow is written too, into
    ``flow_group``, by default a sibling group named ``flow`` (so ``/tree`` goes with
    ``/flow``, as in the results schema).
    """
    for name, units in TREE_UNITS.items():
        a = getattr(tree, name)
        if name == "is_terminal":
            a = a.astype(np.bool_)
        ds = group.create_dataset(name, data=a, compression=compression,
                                  shuffle=compression is not None)
        ds.attrs["units"] = units
    group.attrs["n_segments"] = tree.n_segments
    if flow is not None:
        if flow_group is None:
            parent = group if group.name == "/" else group.parent
            flow_group = parent.require_group("flow")
        flow.write_hdf5(flow_group, compression=compression)


def read_tree_hdf5(group) -> TreeArrays:
    """Read a tree written by :func:`write_tree_hdf5` (or any group with the schema names)."""
    missing = [k for k in ("parent", "radius_um", "proximal_mm", "distal_mm") if k not in group]
    if missing:
        raise ValueError(f"HDF5 group {group.name} lacks tree datasets {missing}")
    get = lambda k: group[k][()] if k in group else None  # noqa: E731
    return from_parent(get("parent"), get("radius_um"), get("proximal_mm"), get("distal_mm"),
                       get("region"), get("terminal_mass_mg"), length_mm=get("length_mm"))


_VTK_TYPES = {
    np.dtype(np.float64): "Float64",
    np.dtype(np.float32): "Float32",
    np.dtype(np.int64): "Int64",
    np.dtype(np.int32): "Int32",
    np.dtype(np.uint8): "UInt8",
}
_NP_TYPES = {v: k for k, v in _VTK_TYPES.items()}


def _data_array(parent, name, a, binary):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    elif a.dtype.kind in "iu" and a.dtype not in _VTK_TYPES:
        a = a.astype(np.int64)
    elif a.dtype.kind == "f" and a.dtype not in _VTK_TYPES:
        a = a.astype(np.float64)
    ncomp = 1 if a.ndim == 1 else a.shape[1]
    el = ET.SubElement(parent, "DataArray", type=_VTK_TYPES[a.dtype], Name=name,
                       NumberOfComponents=str(ncomp), format="binary" if binary else "ascii")
    flat = np.ascontiguousarray(a.reshape(-1)).astype(a.dtype.newbyteorder("<"))
    if binary:
        raw = flat.tobytes()
        el.text = base64.b64encode(np.uint64(len(raw)).tobytes() + raw).decode("ascii")
    else:
        fmt = "{:.17g}" if a.dtype.kind == "f" else "{:d}"
        el.text = " ".join(fmt.format(v) for v in flat.tolist())


def write_vtp(path, tree: TreeArrays, flow=None, *, cell_data=None,
              point_data=None, binary=True) -> None:
    """Write the tree as VTK XML PolyData lines (no vtk dependency).

    Each segment is one line cell with its own two points (2i proximal, 2i+1 distal). Cell
    data: radius_um, length_mm, region, depth, is_terminal, terminal_mass_mg, parent, plus
    flow_mL_min and pressure_mmHg with ``flow``, plus ``cell_data`` (name -> (N,) or (N, k)
    arrays, e.g. sphere counts). ``point_data`` arrays have 2N rows. Binary is inline base64
    with UInt64 headers.
    """
    n = tree.n_segments
    cells = {"radius_um": tree.radius_um, "length_mm": tree.length_mm, "region": tree.region,
             "depth": tree.depth, "is_terminal": tree.is_terminal,
             "terminal_mass_mg": tree.terminal_mass_mg, "parent": tree.parent}
    if flow is not None:
        cells["flow_mL_min"] = flow.flow_mL_min
        cells["pressure_mmHg"] = flow.pressure_mmHg
    for k, v in (cell_data or {}).items():
        if np.shape(v)[0] != n:
            raise ValueError(f"cell_data[{k!r}] must have {n} rows")
        cells[k] = v
    for k, v in (point_data or {}).items():
        if np.shape(v)[0] != 2 * n:
            raise ValueError(f"point_data[{k!r}] must have {2 * n} rows")
    root = ET.Element("VTKFile", type="PolyData", version="1.0", byte_order="LittleEndian",
                      header_type="UInt64")
    piece = ET.SubElement(ET.SubElement(root, "PolyData"), "Piece", NumberOfPoints=str(2 * n),
                          NumberOfVerts="0", NumberOfLines=str(n), NumberOfStrips="0",
                          NumberOfPolys="0")
    pts = np.empty((2 * n, 3))
    pts[0::2] = tree.proximal_mm
    pts[1::2] = tree.distal_mm
    _data_array(ET.SubElement(piece, "Points"), "points_mm", pts, binary)
    lines = ET.SubElement(piece, "Lines")
    _data_array(lines, "connectivity", np.arange(2 * n, dtype=np.int64), binary)
    _data_array(lines, "offsets", 2 * np.arange(1, n + 1, dtype=np.int64), binary)
    cd = ET.SubElement(piece, "CellData", Scalars="radius_um")
    for k, v in cells.items():
        _data_array(cd, k, v, binary)
    pd = ET.SubElement(piece, "PointData")
    for k, v in (point_data or {}).items():
        _data_array(pd, k, v, binary)
    ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)


def read_vtp(path) -> dict:
    """Read a file written by :func:`write_vtp`: dict with ``points``, ``connectivity``,
    ``offsets``, ``cell_data`` and ``point_data`` (name -> array)."""
    root = ET.parse(str(path)).getroot()
    piece = root.find("PolyData/Piece")

    def arr(el):
        dt = _NP_TYPES[el.get("type")].newbyteorder("<")
        nc = int(el.get("NumberOfComponents", "1"))
        if el.get("format") == "binary":
            raw = base64.b64decode(el.text)
            nbytes = int(np.frombuffer(raw[:8], "<u8")[0])
            a = np.frombuffer(raw[8 : 8 + nbytes], dt).astype(dt.newbyteorder("="))
        else:
            a = np.array((el.text or "").split(), dtype=dt.newbyteorder("="))
        return a.reshape(-1, nc) if nc > 1 else a

    out = {"points": arr(piece.find("Points/DataArray"))}
    for el in piece.findall("Lines/DataArray"):
        out[el.get("Name")] = arr(el)
    for sect, key in (("CellData", "cell_data"), ("PointData", "point_data")):
        out[key] = {el.get("Name"): arr(el) for el in piece.findall(f"{sect}/DataArray")}
    return out
