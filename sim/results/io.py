"""Self-describing HDF5 results: provenance attributes, atomic writes, guarded reads.

Root attributes: ``filetype``, ``schema_version``, ``taresim_version``, ``git_sha`` (when
known), ``created_utc``, ``seed``, ``config_toml``. Every dataset has a ``units`` attribute.
Writes go to a temporary file in the same folder that is renamed into place, so a killed run
leaves no half-written result.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
import os
from pathlib import Path
import subprocess

import h5py
import numpy as np

from sim._version import __version__

__all__ = ["COMPRESS_MIN_ELEMENTS", "ResultsError", "FILETYPE", "SCHEMA_VERSION", "git_sha", "results_writer",
           "write_dataset", "open_results", "attrs_dict", "check_writable", "temporary_path",
           "remove_stale_temporaries"]

FILETYPE = "taresim-results"
#: 1.1 adds the optional ``/chain`` group (``taresim chain``); 1.0 files read unchanged.
SCHEMA_VERSION = "1.1"


class ResultsError(ValueError):
    """A results file that cannot be read: wrong type, newer major schema, corrupt."""


def git_sha() -> str:
    """Commit of the source tree taresim runs from ("-dirty" when tracked files are modified),
    or "" when unknown."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    if out.returncode != 0:
        return ""
    sha = out.stdout.strip()
    status = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, timeout=5)
    return sha + ("-dirty" if status.returncode == 0 and status.stdout.strip() else "")


@contextmanager
def results_writer(path, *, seed: int, config_toml: str):
    """Open a new results file for writing; it appears at ``path`` only if the block succeeds.

    Yields
    ------
    h5py.File
        With the provenance attributes already set.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = temporary_path(path)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["filetype"] = FILETYPE
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["taresim_version"] = __version__
            f.attrs["git_sha"] = git_sha()
            f.attrs["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            f.attrs["seed"] = int(seed)
            f.attrs["config_toml"] = config_toml
            yield f
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def temporary_path(path) -> Path:
    """The hidden temporary file a write to ``path`` goes through (``.NAME.PID.tmp``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove_stale_temporaries(path) -> list[Path]:
    """Delete the temporary files of earlier writes to ``path`` whose process is gone (a run
    killed while writing); returns what was removed."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-4]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_writable(path) -> None:
    """Raise OSError, before any work, when a file cannot be created at ``path``: a test file
    is created and removed in the nearest existing folder above it (no folder is created)."""
    path = Path(path)
    folder = next(p for p in [path.parent, *path.parent.parents] if p.exists())
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    probe = folder / f".taresim-write-test.{os.getpid()}"
    try:
        probe.touch()
    except OSError as exc:
        raise OSError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None
    probe.unlink(missing_ok=True)


#: Arrays of at least this many elements are stored chunked, byte-shuffled and gzip-compressed.
COMPRESS_MIN_ELEMENTS = 4096


def write_dataset(group, name, data, units: str, **kw):
    """Create a dataset with its ``units`` attribute; large arrays are chunked and compressed
    (shuffle + gzip level 4: lossless, readable by any HDF5 tool) unless ``kw`` says otherwise.
    ``data=None`` with ``shape`` and ``dtype`` in ``kw`` creates it empty (filled in blocks)."""
    arr = None if data is None else np.asarray(data)
    size = int(np.prod(kw["shape"])) if arr is None else arr.size
    if size >= COMPRESS_MIN_ELEMENTS and "compression" not in kw:
        kw = dict(kw, compression="gzip", compression_opts=4, shuffle=True, chunks=True)
    ds = group.create_dataset(name, data=arr, **kw)
    ds.attrs["units"] = units
    return ds


def open_results(path, mode: str = "r") -> h5py.File:
    """Open a results file after checking its type and schema version.

    Raises
    ------
    ResultsError
        Missing, truncated or corrupt file, another file type, or a newer major schema.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"{path}: no such file")
    try:
        f = h5py.File(path, mode)
    except OSError as exc:
        raise ResultsError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from None
    ftype = f.attrs.get("filetype")
    if isinstance(ftype, bytes):
        ftype = ftype.decode()
    if ftype != FILETYPE:
        f.close()
        raise ResultsError(f"{path}: not a taresim results file (filetype {ftype!r})")
    version = str(f.attrs.get("schema_version", "0"))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        f.close()
        raise ResultsError(f"{path}: schema version {version} is not supported by this taresim "
                           f"(reads {SCHEMA_VERSION.split('.')[0]}.x)")
    return f


def attrs_dict(obj) -> dict:
    """HDF5 attributes as plain Python values."""
    out = {}
    for k, v in obj.attrs.items():
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out
