"""`taresim chain` end to end on a NIfTI phantom: one results file with /chain, the report,
figures and NIfTI images that land on the input masks; clean failures that write nothing;
old results files still readable; chain sweeps."""
import copy
import json

import h5py
import numpy as np
import pytest
import tomli_w

from sim.anatomy import read_nifti
from sim.cli import main
from sim.clinical.chain import CHAIN_METRICS
from sim.results import ResultsError, open_results
from sim.sweep.runner import load_sweep, run_point


def _write(tmp_path, data, name="c.toml"):
    p = tmp_path / name
    p.write_text(tomli_w.dumps(data))
    return p


@pytest.fixture(scope="module")
def chain_run(tiny_phantom, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    cfg = _write(tmp, tiny_phantom["scenario"])
    out = tmp / "out.h5"
    assert main(["chain", str(cfg), "-o", str(out), "--quiet", "--json"]) == 0
    return out


def test_chain_writes_results_report_figures_and_nifti(chain_run):
    res = open_results(chain_run)
    assert res.attrs["schema_version"] == "1.1"
    assert {"chain", "tree", "deposition", "dose", "metrics", "planning"} <= set(res.groups)
    s = res.summary()
    assert s["chain"] and s["activity_GBq"] > 0 and "tumour_microscale_mean_Gy" in s
    c = res.chain()
    assert {"spect_tc99m", "pet_y90", "spect_y90"} == set(c["images"])
    assert c["planning"]["activity_GBq"] == pytest.approx(s["activity_GBq"])
    stem = chain_run.with_suffix("")
    report = chain_run.with_name("out_report.md").read_text()
    assert "Wondergem" in report and "![" in report
    figs = sorted(p.name for p in chain_run.with_name("out_figures").iterdir())
    assert any("chain_comparison" in f for f in figs) and any("chain_images" in f for f in figs)
    assert stem.name == "out"


def test_nifti_outputs_land_on_the_input_masks(chain_run, tiny_phantom):
    """The compartments written on the reference grid have the input affine and shape, and
    every voxel carries what the input masks say (territory: 0 or its tumour label)."""
    nifti = chain_run.with_name("out_nifti")
    lab, aff = read_nifti(nifti / "compartments_reference.nii.gz")
    liver, ref_aff = read_nifti(tiny_phantom["paths"]["liver"])
    terr = read_nifti(tiny_phantom["paths"]["territory"])[0] != 0
    tum = read_nifti(tiny_phantom["paths"]["tumours"])[0]
    assert np.allclose(aff, ref_aff, atol=1e-5) and lab.shape == liver.shape
    expected = np.where(terr, tum.astype(int), -1)
    assert np.array_equal(lab, expected)
    pet, pet_aff = read_nifti(nifti / "dose_ldm_pet_y90_Gy.nii.gz")
    c = open_results(chain_run).chain()["images"]["pet_y90"]
    assert np.allclose(pet, c["ldm_Gy"], rtol=1e-5)
    assert np.allclose(pet_aff[:3, 3], c["origin_mm"]) and pet_aff[0, 0] == c["voxel_mm"]
    assert (nifti / "dose_microscale_Gy.nii.gz").exists()


def test_masses_on_the_dose_grid_are_the_mask_masses(chain_run, tiny_phantom):
    terr = read_nifti(tiny_phantom["paths"]["territory"])[0] != 0
    tum = read_nifti(tiny_phantom["paths"]["tumours"])[0]
    m = open_results(chain_run).planning()["masses_kg"]
    vox_kg = 8.0 * 1.06e-6  # 2 mm voxels
    assert m["normal"] == pytest.approx(((tum == 0) & terr).sum() * vox_kg, rel=1e-6)
    assert m["tumour_1"] == pytest.approx((tum == 1).sum() * vox_kg, rel=1e-6)


@pytest.mark.parametrize("change, message", [
    ({"imaging": {"pet_y90": {"fwhm_mm": 2.0}}}, "below the voxel size"),
    ({"treatment": {"device": "holmium"}}, "images Y-90 only"),
    ({"tree": {"generator": "bifurcating"}}, "needs a grown tree"),
], ids=["resolution", "holmium", "teaching-tree"])
def test_bad_input_fails_cleanly_and_writes_nothing(tiny_phantom, tmp_path, capsys, change,
                                                    message):
    data = copy.deepcopy(tiny_phantom["scenario"])
    for k, v in change.items():
        data[k] = v if k == "tree" and "generator" in v and v["generator"] == "bifurcating" \
            else {**data.get(k, {}), **v}
    cfg = _write(tmp_path, data)
    out = tmp_path / "o" / "x.h5"
    assert main(["chain", str(cfg), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()


def test_non_overlapping_masks_fail_cleanly(tiny_phantom, tmp_path, capsys):
    from sim.anatomy import write_nifti

    liver, aff = read_nifti(tiny_phantom["paths"]["liver"])
    far = write_nifti(tmp_path / "far.nii.gz", (liver == 0).astype(np.uint8), aff)
    data = copy.deepcopy(tiny_phantom["scenario"])
    data["tree"]["domain"]["territory"] = str(far)
    cfg = _write(tmp_path, data)
    assert main(["chain", str(cfg), "-o", str(tmp_path / "x.h5"), "--quiet"]) == 2
    assert "does not overlap" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_singular_affine_fails_cleanly(tiny_phantom, tmp_path, capsys):
    import nibabel

    liver, _ = read_nifti(tiny_phantom["paths"]["liver"])
    bad = nibabel.Nifti1Image(liver.astype(np.uint8), None)
    bad.set_sform(np.diag([2.0, 2.0, 0.0, 1.0]), code=1)  # z collapsed
    nibabel.save(bad, str(tmp_path / "liver.nii.gz"))
    data = copy.deepcopy(tiny_phantom["scenario"])
    data["tree"]["domain"] = {"shape": "mask", "path": str(tmp_path / "liver.nii.gz")}
    cfg = _write(tmp_path, data)
    assert main(["chain", str(cfg), "-o", str(tmp_path / "x.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not invertible" in err[0]
    assert not (tmp_path / "x.h5").exists()


def test_old_results_files_stay_readable(chain_run, tmp_path):
    """A 1.0 file (no /chain) opens; asking it for the chain is a clean ResultsError."""
    old = tmp_path / "old.h5"
    with h5py.File(chain_run, "r") as src, h5py.File(old, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for g in ("tree", "flow", "deposition"):
            src.copy(g, dst)
        dst.attrs["schema_version"] = "1.0"
        dst.attrs["summary_json"] = json.dumps({"scenario": "old"})
    res = open_results(old)
    assert res.tree().n_segments > 0
    with pytest.raises(ResultsError, match="no /chain group"):
        res.chain()


def test_chain_sweeps(tiny_phantom, tmp_path):
    """A sweep file may run the chain at every point (metrics of the chain allowed); a point
    dispatches to the chain and records its clean failure."""
    base = _write(tmp_path, tiny_phantom["scenario"], "base.toml")
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'base = "{base.name}"\ncommand = "chain"\nmetrics = '
                     '["segments_predicted_vs_microscale_above_10pct"]\n'
                     '[grid]\n"treatment.device" = ["glass"]\n')
    spec, _ = load_sweep(sweep)
    assert spec.command == "chain"
    assert "tumour_ldm_pet_y90_cv" in CHAIN_METRICS
    r = run_point(str(base), ['treatment.device="holmium"'], 11, str(tmp_path / "p.h5"),
                  command="chain")
    assert r["status"] == "failed" and "images Y-90 only" in r["error"]
    plain = tmp_path / "plain.toml"
    plain.write_text(f'base = "{base.name}"\nmetrics = ["tumour_ldm_pet_y90_cv"]\n')
    with pytest.raises(Exception, match="not a summary metric of `taresim run`"):
        load_sweep(plain)
