"""Regenerate the stored regression values (run only when a physics change is intended):

    python tests/regression/make_reference.py

The tests compare a seeded tiny run against these numbers, so an unintended change of any
stage (tree, transport, dose) shows up as a failing test.
"""
import json
from pathlib import Path
import sys
import tempfile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_run_and_sweep import TINY  # noqa: E402

KEYS = ("n_spheres", "terminals", "treated_mass_g", "spheres_per_terminal_mean",
        "spheres_per_terminal_cv", "tumour_to_normal_uptake", "normal_mean_Gy", "tumour_mean_Gy",
        "lobules_normal_mean_Gy", "normal_D90_Gy")


def reference() -> dict:
    from sim.pipeline import run

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "tiny.toml"
        p.write_text(TINY)
        s = run(p, output=Path(tmp) / "r.h5", figures=False).summary()
    out = {k: s[k] for k in KEYS}
    out["counts"] = {k: s["counts"][k] for k in ("injected", "liver", "lung", "reflux")}
    return out


if __name__ == "__main__":
    (HERE / "reference" / "tiny.json").write_text(json.dumps(reference(), indent=2) + "\n")
