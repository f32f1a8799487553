"""Results files are compressed, and what a file keeps can be less than everything (sweeps keep
per-segment and per-lobule data without every sphere's position)."""
import h5py
import pytest

from sim.cli import main
from sim.pipeline import run
from sim.results import open_results

CFG = """
name = "small"
seed = 3
[tree]
generator = "grown"
root_radius_um = 400.0
root_xyz_mm = [-9.0, 0.0, 0.0]
domain = { shape = "ellipsoid", centre_mm = [0.0, 0.0, 0.0], semi_axes_mm = [7.0, 6.0, 6.0] }
[[tree.tumours]]
centre_mm = [2.0, 0.0, 0.0]
radius_mm = 2.5
[flow]
calibrate_perfusion_mL_min_g = 0.27
[treatment]
device = "resin"
[dose]
grid_um = 250.0
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keep")
    cfg = tmp / "s.toml"
    cfg.write_text(CFG)
    return {k: run(cfg, output=tmp / f"{k}.h5", figures=False, keep=k)
            for k in ("full", "counts", "summary")}


def test_large_arrays_are_compressed(files):
    with h5py.File(files["full"].path) as f:
        for name in ("dose/dose_Gy", "deposition/position_mm", "deposition/segment",
                     "tree/distal_mm", "flow/flow_mL_min"):
            ds = f[name]
            assert ds.compression == "gzip" and ds.shuffle, name
            assert ds.id.get_storage_size() < ds.nbytes, name


def test_counts_and_summary_keep_less_and_read_cleanly(files, capsys):
    full, counts, summary = files["full"], files["counts"], files["summary"]
    assert full.kept == "full" and counts.kept == "counts" and summary.kept == "summary"
    # the same run: the same summary numbers whatever is kept
    for key in ("normal_mean_Gy", "tumour_mean_Gy", "n_spheres", "lobules_normal_below_40Gy"):
        assert counts.summary()[key] == full.summary()[key]
        assert summary.summary()[key] == full.summary()[key]
    dep = counts.deposition()
    assert "position_mm" not in dep
    assert (dep["spheres_per_segment"] == full.deposition()["spheres_per_segment"]).all()
    assert "dose_Gy" not in counts.dose() and "lobule_dose_Gy" in counts.dose()
    assert set(summary.groups) == {"metrics", "planning"}
    size = {k: r.path.stat().st_size for k, r in files.items()}
    assert size["counts"] < 0.5 * size["full"] and size["summary"] < 0.05 * size["full"]
    # show works on each; plot draws what the file holds; dose needs the spheres
    for r in files.values():
        assert main(["show", str(r.path)]) == 0
    assert main(["plot", str(counts.path), "-o", str(counts.path.parent / "fig")]) == 0
    capsys.readouterr()
    assert main(["dose", str(counts.path)]) == 2
    assert "keeps counts only" in capsys.readouterr().err


def test_keep_is_checked():
    with pytest.raises(ValueError, match="keep"):
        run("unused.toml", keep="everything")
