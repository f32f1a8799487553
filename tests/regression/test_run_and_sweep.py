"""The whole run, results files, and sweeps on a 2-worker LocalCluster (tiny scenarios)."""
import csv
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from sim.cli import main
from sim.pipeline import run
from sim.results import open_results
from sim.results.io import ResultsError

#: The small scenario of the end-to-end tests and of the regression reference.
TINY = (Path(__file__).parent / "reference" / "tiny.toml").read_text()


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


def test_run_end_to_end(tiny, tmp_path):
    out = tmp_path / "r.h5"
    res = run(tiny, output=out, overrides=['treatment.device="resin"'])
    assert res.groups == ["deposition", "dose", "flow", "metrics", "planning", "tree"]
    s = res.summary()
    assert s["device"].startswith("SIR-Spheres")
    c = s["counts"]
    assert c["injected"] == c["liver"] + c["lung"] + c["reflux"] + c["undelivered"]
    # provenance and the resolved config
    assert res.attrs["seed"] == 1 and "resin" in res.config_toml
    assert res.scenario().treatment.device == "resin"
    with h5py.File(out) as f:
        def walk(g):
            for v in g.values():
                if isinstance(v, h5py.Dataset):
                    assert "units" in v.attrs, v.name
                else:
                    walk(v)
        walk(f)
    figs = sorted(os.listdir(tmp_path / "r_figures"))
    assert len(figs) == 6 and all(f.endswith(".png") for f in figs)


def test_show_plot_and_same_seed(tiny, tmp_path, capsys):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert main(["run", str(tiny), "-o", str(a), "--quiet", "--no-figures", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert main(["run", str(tiny), "-o", str(b), "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert np.array_equal(fa["dose/dose_Gy"][()], fb["dose/dose_Gy"][()])
    assert main(["show", str(a), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["normal_mean_Gy"] == s["normal_mean_Gy"]
    assert main(["plot", str(a), "-o", str(tmp_path / "figs"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["figures"]) == 6


def test_corrupt_and_foreign_files_are_refused(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    assert main(["show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "bad.h5" in err
    with pytest.raises(ResultsError):
        open_results(bad)


def test_truncated_results_file_is_refused(tiny, tmp_path, capsys):
    out = tmp_path / "r.h5"
    run(tiny, output=out, figures=False)
    data = out.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) * 3 // 4])
    for cmd in (["show", str(cut)], ["plot", str(cut)]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert "truncated" in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_override_is_one_clean_error(tiny, capsys):
    assert main(["run", str(tiny), "--set", "transport.straight_ratio=2.0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "transport.straight_ratio" in err and err.count("\n") == 1


SWEEP = """
base = "tiny.toml"
name = "t"
root_seed = 7
replicates = 2
metrics = ["normal_mean_Gy"]
[grid]
"transport.injection" = [0, 999999]
"""


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_sweep_failing_point_resume_and_worker_independence(tiny, tmp_path):
    from sim.sweep import run_sweep

    sw = tmp_path / "sweep.toml"
    sw.write_text(SWEEP)
    out = tmp_path / "out"
    summary = run_sweep(sw, output=out, workers=2)
    rows = _rows(summary)
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    assert "injection segment 999999 is out of range" in rows[2]["error"]
    # replicates differ, and the same replicate shares its seed across points
    assert rows[0]["seed"] != rows[1]["seed"] and rows[0]["seed"] == rows[2]["seed"]
    # resume: a lost point is recomputed identically, finished points are not touched
    mtime = os.path.getmtime(out / "point_00000.h5")
    os.remove(out / "point_00001.h5")
    again = _rows(run_sweep(sw, output=out, workers=1))
    assert os.path.getmtime(out / "point_00000.h5") == mtime
    assert again[1]["normal_mean_Gy"] == rows[1]["normal_mean_Gy"]
    assert again[0]["normal_mean_Gy"] == rows[0]["normal_mean_Gy"]
    # points keep per-segment and per-lobule data, not every sphere (the sweep default)
    with h5py.File(out / "point_00000.h5") as f:
        assert f.attrs["kept"] == "counts"
        assert "spheres_per_segment" in f["deposition"] and "position_mm" not in f["deposition"]
        assert "lobule_dose_Gy" in f["dose"] and "dose_Gy" not in f["dose"]


def test_bad_sweep_specs(tiny, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "tiny.toml"\n[zip]\n"a.b" = [1, 2]\n"c.d" = [1]\n')
    assert main(["sweep", str(bad)]) == 2
    assert "unequal lengths" in capsys.readouterr().err
    bad.write_text('base = "tiny.toml"\ncolour = 1\n')
    assert main(["sweep", str(bad)]) == 2
    assert "colour" in capsys.readouterr().err
    bad.write_text('base = "tiny.toml"\n[grid]\n"transport.straight_ratio" = [0.5, 3.0]\n')
    assert main(["sweep", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "transport.straight_ratio" in capsys.readouterr().err


def test_sweep_survives_kill_9_of_the_client(tiny, tmp_path):
    """A sweep killed with SIGKILL loses only the points in flight; the rerun completes it."""
    import signal
    import subprocess
    import sys
    import time

    sw = tmp_path / "sweep.toml"
    sw.write_text('base = "tiny.toml"\nname = "k"\nreplicates = 6\nmetrics = ["normal_mean_Gy"]\n')
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(sw), "-o", str(out),
                             "--workers", "1", "--quiet"], start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 120 and not list(out.glob("point_*.h5")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = sorted(p.name for p in out.glob("point_*.h5"))
    assert len(done_before) >= 1
    for p in done_before:  # every file under a result name is complete
        assert open_results(out / p).summary()["n_spheres"] > 0
    rows = _rows(run_sweep_path(sw, out))
    assert [r["status"] for r in rows] == ["ok"] * 6
    assert not list(out.glob(".point_*.tmp"))


def run_sweep_path(sw, out):
    from sim.sweep import run_sweep

    return run_sweep(sw, output=out, workers=2)


def test_seeded_tiny_run_matches_the_stored_reference():
    """Change detector: a seeded tiny run reproduces the stored numbers (counts exactly,
    doses to 1e-6; regenerate with tests/regression/make_reference.py only on purpose)."""
    import importlib.util
    from pathlib import Path

    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location("make_reference", here / "make_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    stored = json.loads((here / "reference" / "tiny.json").read_text())
    now = mod.reference()
    assert now["counts"] == stored["counts"]
    assert now["n_spheres"] == stored["n_spheres"] and now["terminals"] == stored["terminals"]
    for k, v in stored.items():
        if isinstance(v, float):
            assert now[k] == pytest.approx(v, rel=1e-6), k


def test_output_paths_and_sphere_limit_are_checked_first(tiny, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(["run", str(tiny), "-o", str(tmp_path / "afile" / "r.h5"), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["tree", str(tiny), "--plot", str(tmp_path / "t.xyz")]) == 2
    assert "unsupported file type" in capsys.readouterr().err
    assert main(["run", str(tiny), "-o", str(tmp_path / "r.h5"), "--quiet",
                 "--set", "transport.max_spheres=100"]) == 2
    assert "transport.max_spheres" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "tiny.toml"]
    bad = tmp_path / "s.toml"
    bad.write_text('base = "tiny.toml"\nmetrics = ["happiness"]\n')
    assert main(["sweep", str(bad)]) == 2
    assert "happiness" in capsys.readouterr().err
