"""Results files: provenance, atomic writes and refusal of foreign or broken files."""
import h5py
import pytest

from sim.results.io import FILETYPE, ResultsError, open_results, results_writer


def test_provenance_and_atomic_write(tmp_path):
    p = tmp_path / "r.h5"
    with results_writer(p, seed=3, config_toml="x = 1") as f:
        f.create_dataset("a", data=[1, 2])
        assert not p.exists()  # only the temporary file exists while writing
    with open_results(p) as f:
        for k in ("filetype", "schema_version", "taresim_version", "git_sha", "created_utc",
                  "seed", "config_toml"):
            assert k in f.attrs
        assert f.attrs["filetype"] == FILETYPE


def test_failed_write_leaves_nothing(tmp_path):
    p = tmp_path / "r.h5"
    with pytest.raises(RuntimeError):
        with results_writer(p, seed=1, config_toml=""):
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_refusals(tmp_path):
    with pytest.raises(ResultsError, match="no such file"):
        open_results(tmp_path / "none.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ResultsError, match="corrupt"):
        open_results(bad)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["filetype"] = "something-else"
    with pytest.raises(ResultsError, match="not a taresim results file"):
        open_results(other)
    newer = tmp_path / "newer.h5"
    with h5py.File(newer, "w") as f:
        f.attrs["filetype"] = FILETYPE
        f.attrs["schema_version"] = "99.0"
    with pytest.raises(ResultsError, match="schema version 99.0"):
        open_results(newer)
