"""Figures say what they show: each one is drawn and its artists inspected (colour range,
masks, outlines, labels, stated cuts), and progress is reported where nobody watches a bar."""
import io

from matplotlib.collections import PathCollection
import numpy as np
import pytest

from sim.dose.plot import plot_dose_slice, plot_dvh, plot_lobule_histogram
from sim.plotting import readable
from sim.progress import Progress
from sim.sweep.plot import plot_metric
from sim.transport.plot import plot_spheres_per_terminal


@pytest.fixture
def ball_grid():
    """A 21^3 grid (0.5 mm): a liver ball of radius 4 mm with a tumour of 1.5 mm at its
    centre, dose 100 Gy in normal liver, 300 Gy in the tumour, 1e-4 Gy outside."""
    n, h = 21, 0.5
    x = (np.arange(n) - n // 2) * h
    X, Y, Z = np.meshgrid(x, x, x, indexing="ij")
    r = np.sqrt(X**2 + Y**2 + Z**2)
    region = np.where(r <= 4.0, 0, -1).astype(np.int32)
    region[r <= 1.5] = 1
    dose = np.where(region == 0, 100.0, np.where(region == 1, 300.0, 1e-4))
    return dose, region, np.full(3, x[0]), np.full(3, h)


def test_dose_slice_colours_only_the_liver_and_outlines_tumours(ball_grid):
    dose, region, origin, spacing = ball_grid
    fig, ax = plot_dose_slice(dose, origin, spacing, region=region)
    im = ax.get_images()[0]
    lo, hi = im.norm.vmin, im.norm.vmax
    # the colour range spans the liver's doses, not the 1e-4 Gy outside
    assert lo >= 50.0 and hi <= 300.0 * 1.01
    mask = np.ma.getmaskarray(im.get_array())
    sl = region[:, :, 10].T
    assert np.array_equal(mask, sl == -1)
    assert ax.collections, "the tumour outline is drawn"
    assert "z = 0.0 mm" in ax.get_title() and "voxel 0.5x0.5x0.5 mm" in ax.get_title()


def test_dose_slice_marks_few_spheres_and_counts_many(ball_grid):
    dose, region, origin, spacing = ball_grid
    few = np.zeros((5, 3))
    _, ax = plot_dose_slice(dose, origin, spacing, few, region=region)
    assert any(isinstance(c, PathCollection) and len(c.get_offsets()) == 5
               for c in ax.collections)
    many = np.zeros((50, 3))
    _, ax = plot_dose_slice(dose, origin, spacing, many, region=region, max_markers=10)
    assert not any(isinstance(c, PathCollection) for c in ax.collections)
    assert any("50 spheres within the slice (not marked)" in t
               for t in ax.get_legend_handles_labels()[1])


def test_default_slice_goes_through_the_tumour():
    region = np.zeros((10, 10, 10), np.int32)
    region[2:4, 2:4, 6:9] = 1
    dose = np.ones(region.shape)
    _, ax = plot_dose_slice(dose, np.zeros(3), np.ones(3), region=region)
    assert "slice 8 of 10" in ax.get_title()


def test_dvh_states_the_voxel_size(ball_grid):
    dose, region, _, _ = ball_grid
    _, ax = plot_dvh(dose, region, {"mird_delivered_Gy": 120.0}, voxel_mm=0.5)
    assert ax.get_title().startswith("voxel 0.5 mm")
    assert {"normal (simulated)", "tumour (simulated)"} <= set(ax.get_legend_handles_labels()[1])


def test_lobule_histogram_states_its_cut():
    rng = np.random.default_rng(1)
    d = np.concatenate([rng.normal(100, 10, 995), np.full(5, 5000.0)])
    _, ax = plot_lobule_histogram(d, np.zeros(d.size, np.int32))
    assert "5 lobules above" in ax.get_xlabel()
    assert any("CV" in t for t in ax.get_legend_handles_labels()[1])


def test_spheres_per_terminal_explains_the_cap_and_the_cut():
    counts = np.r_[np.arange(50), 500, 600]
    _, ax = plot_spheres_per_terminal({"resin": counts}, occlusion_cap=40, top_percentile=95)
    assert any("occlusion cap" in t.get_text() for t in ax.texts)
    assert "terminals above" in ax.get_xlabel()


def test_sweep_plot_has_words_units_and_explained_spread():
    rows = [{"status": "ok", "treatment.device": dev, "normal_mean_Gy": v, "replicate": r}
            for dev, vals in (("glass", (100.0, 104.0)), ("resin", (90.0, 96.0)))
            for r, v in enumerate(vals)]
    _, ax = plot_metric(rows, "normal_mean_Gy", "treatment.device")
    assert ax.get_ylabel() == "normal liver mean [Gy]"
    assert ax.get_xlabel() == "device (treatment)"
    assert all(line.get_linestyle() == "None" for line in ax.lines if len(line.get_xdata()) > 1)
    assert any("mean of 2 replicates" in t.get_text() for t in ax.texts)


def test_readable_keys():
    assert readable("dose.grid_um") == "grid [µm] (dose)"
    assert readable("plan.mird_dose_Gy") == "MIRD dose [Gy] (plan)"


def test_progress_logs_one_line_per_stage():
    out = io.StringIO()
    with Progress("log", stream=out) as p:
        with p.task("tree"):
            with p.task("inner loop", total=3) as t:
                t.advance(3)
        with p.task("dose"):
            pass
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("taresim: tree: ") and lines[0].endswith(" s")
    assert lines[1].startswith("taresim: dose: ")
