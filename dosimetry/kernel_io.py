"""Kernel tables as files: user CSV shell tables (units in the header) and the shipped
``<stem>.csv`` + ``<stem>.json`` pairs (see :mod:`dosimetry.kernels`)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
import re

import numpy as np

from dosimetry.constants import J_PER_MEV
from dosimetry.decay import normalise_name
from dosimetry.kernel_model import DoseKernel

__all__ = ["load_kernel_csv", "write_kernel_files", "kernel_file_stem", "photon_kernel_file_stem"]


def kernel_file_stem(nuclide: str) -> str:
    """File stem of a shipped charged-particle kernel table, e.g. ``kernel_Y-90_water``."""
    return f"kernel_{normalise_name(nuclide)}_water"


def photon_kernel_file_stem(nuclide: str) -> str:
    """File stem of a shipped photon kernel table, e.g. ``photon_kernel_Y-90_water``."""
    return f"photon_kernel_{normalise_name(nuclide)}_water"


_COLUMN = re.compile(r"^(r_inner|r_outer|energy|dose|rel_std_err)(?:_(.+?))?$")
_LENGTH = {"mm": 1.0, "cm": 10.0, "um": 1e-3, "m": 1e3}
_ENERGY = {"MeV_per_decay": 1.0, "keV_per_decay": 1e-3, "J_per_decay": 1.0 / J_PER_MEV,
           "eV_per_decay": 1e-6}
_DOSE = {"Gy_per_decay": 1.0, "mGy_per_decay": 1e-3, "mGy_per_MBq_s": 1e-9, "Gy_per_Bq_s": 1.0}


def load_kernel_csv(path, *, nuclide: str = "user", density_g_cm3: float = 1.0,
                    bremsstrahlung_MeV_per_decay: float = 0.0) -> DoseKernel:
    """Load a user-supplied shell table (CSV, units in the header).

    Columns (any order, header required; lines starting with ``#`` are comments):
    ``r_inner_<mm|cm|um>``, ``r_outer_<...>`` and one of ``energy_<MeV|keV|eV|J>_per_decay``
    or ``dose_<Gy_per_decay|mGy_per_decay|mGy_per_MBq_s|Gy_per_Bq_s>`` (mean dose in the
    shell; converted to energy with the shell mass at ``density_g_cm3``); optionally
    ``rel_std_err``. Example header: ``r_inner_mm,r_outer_mm,energy_MeV_per_decay``.

    Parameters
    ----------
    path : str or Path
        CSV file.
    nuclide : str
        Label stored in the kernel.
    density_g_cm3 : float
        Density of the medium the table is for [g/cm^3].
    bremsstrahlung_MeV_per_decay : float
        Energy escaping per decay, if known [MeV].

    Raises
    ------
    ValueError
        Naming the file and the problem (unknown column or unit, missing column, bad shells).
    """
    path = Path(path)
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: empty kernel table")
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in next(reader)]
    cols, units = {}, {}
    for j, name in enumerate(header):
        m = _COLUMN.match(name)
        if not m:
            raise ValueError(f"{path}: unknown column {name!r} (expected r_inner_mm, r_outer_mm, "
                             "energy_MeV_per_decay or dose_Gy_per_decay, rel_std_err)")
        kind, unit = m.group(1), m.group(2)
        table = {"r_inner": _LENGTH, "r_outer": _LENGTH, "energy": _ENERGY, "dose": _DOSE}.get(kind)
        if table is not None and unit not in table:
            raise ValueError(f"{path}: column {name!r}: unit {unit!r} not one of {sorted(table)}")
        cols[kind], units[kind] = j, (table[unit] if table is not None else 1.0)
    for need in ("r_inner", "r_outer"):
        if need not in cols:
            raise ValueError(f"{path}: missing column {need}_<unit>")
    if ("energy" in cols) == ("dose" in cols):
        raise ValueError(f"{path}: need exactly one of energy_<unit>_per_decay or dose_<unit>")
    try:
        data = np.array([[float(row[j]) for j in range(len(header))] for row in reader], dtype=float)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: non-numeric or short row ({exc})") from None
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"{path}: no data rows")
    ri = data[:, cols["r_inner"]] * units["r_inner"]
    ro = data[:, cols["r_outer"]] * units["r_outer"]
    if "energy" in cols:
        energy = data[:, cols["energy"]] * units["energy"]
    else:
        mass_kg = 4.0 / 3.0 * np.pi * (ro**3 - ri**3) * density_g_cm3 * 1e-6
        energy = data[:, cols["dose"]] * units["dose"] * mass_kg / J_PER_MEV
    rse = data[:, cols["rel_std_err"]] if "rel_std_err" in cols else None
    try:
        return DoseKernel(nuclide=nuclide, r_inner_mm=ri, r_outer_mm=ro, energy_MeV_per_decay=energy,
                          density_g_cm3=float(density_g_cm3), rel_std_err=rse,
                          bremsstrahlung_MeV_per_decay=float(bremsstrahlung_MeV_per_decay),
                          metadata={"source": str(path)})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_kernel_files(kernel: DoseKernel, directory, stem: str | None = None) -> tuple[Path, Path]:
    """Write a kernel as ``<stem>.csv`` (shells) and ``<stem>.json`` (metadata).

    Returns
    -------
    (Path, Path)
        The CSV and JSON paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = stem or kernel_file_stem(kernel.nuclide)
    csv_path, json_path = directory / f"{stem}.csv", directory / f"{stem}.json"
    rse = kernel.rel_std_err if kernel.rel_std_err is not None else np.full(kernel.r_inner_mm.size, np.nan)
    buf = io.StringIO()
    what = kernel.metadata.get("kernel", "beta")
    buf.write(f"# {kernel.nuclide} dose point kernel ({what}), liquid water {kernel.density_g_cm3} "
              f"g/cm^3; metadata in {json_path.name}\n")
    buf.write("r_inner_mm,r_outer_mm,energy_MeV_per_decay,rel_std_err\n")
    for a, b, e, s in zip(kernel.r_inner_mm, kernel.r_outer_mm, kernel.energy_MeV_per_decay, rse):
        buf.write(f"{a:.4f},{b:.4f},{e:.6e},{s:.3e}\n")
    meta = dict(kernel.metadata)
    meta.update({"nuclide": kernel.nuclide, "density_g_cm3": kernel.density_g_cm3,
                 "energy_per_decay_MeV": kernel.energy_per_decay_MeV,
                 "bremsstrahlung_MeV_per_decay": kernel.bremsstrahlung_MeV_per_decay,
                 "emitted_MeV_per_decay": kernel.emitted_MeV_per_decay,
                 "csda_range_endpoint_water_mm": kernel.csda_range_water_mm,
                 "summary": kernel.summary()})
    tmp_csv, tmp_json = csv_path.with_suffix(".csv.tmp"), json_path.with_suffix(".json.tmp")
    tmp_csv.write_text(buf.getvalue())
    tmp_json.write_text(json.dumps(meta, indent=2, default=float) + "\n")
    tmp_csv.replace(csv_path)
    tmp_json.replace(json_path)
    return csv_path, json_path
