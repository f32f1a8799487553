"""CSV / HDF5 round trips (exact), VTK PolyData output and the tree figure."""

import h5py
import numpy as np
import pytest

from sim.flow import solve_flow
from sim.tree import bifurcating_tree
from sim.tree import Ellipsoid, Tumour, grow_tree
from sim.flow import read_flow_hdf5
from sim.tree.io import (
    TREE_UNITS,
    load_tree_csv,
    read_tree_hdf5,
    read_vtp,
    save_tree_csv,
    write_tree_hdf5,
    write_vtp,
)
from sim.tree.plot import plot_tree

FIELDS = ("parent", "child_start", "child_index", "radius_um", "length_mm", "proximal_mm",
          "distal_mm", "is_terminal", "region", "terminal_mass_mg", "depth")


@pytest.fixture(scope="module")
def grown():
    return grow_tree(domain=Ellipsoid((0, 0, 0), (6, 5, 4)), root_xyz_mm=(-7, 0, 0),
                     root_radius_um=200.0, tumours=[Tumour((2, 0, 0), 2.0)], rng=4)


def assert_same_tree(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@pytest.mark.parametrize("which", ["grown", "bifurcating"])
def test_csv_round_trip_exact(tmp_path, grown, which):
    t = grown if which == "grown" else bifurcating_tree(generations=4, split_ratio=0.6)
    save_tree_csv(tmp_path / "t.csv", t)
    assert_same_tree(load_tree_csv(tmp_path / "t.csv"), t)


def test_csv_any_ids_and_order(tmp_path):
    # minimal columns, arbitrary ids, child listed before its parent
    text = ("id,parent,x_proximal_mm,y_proximal_mm,z_proximal_mm,x_distal_mm,y_distal_mm,"
            "z_distal_mm,radius_um\n"
            "20,10,1,0,0,2,1,0,30\n"
            "10,-1,0,0,0,1,0,0,50\n"
            "30,10,1,0,0,2,-1,0,40\n")
    (tmp_path / "m.csv").write_text(text)
    t = load_tree_csv(tmp_path / "m.csv")
    assert t.parent.tolist() == [-1, 0, 0]
    assert t.radius_um.tolist() == [50.0, 30.0, 40.0]
    np.testing.assert_allclose(t.length_mm, [1.0, np.sqrt(2), np.sqrt(2)], rtol=1e-15)
    (tmp_path / "bad.csv").write_text(text.replace("20,10,", "20,99,"))
    with pytest.raises(ValueError, match="parent ids"):
        load_tree_csv(tmp_path / "bad.csv")


def test_hdf5_round_trip_exact(tmp_path, grown):
    f = solve_flow(grown, inlet_flow_mL_min=3.0)
    with h5py.File(tmp_path / "r.h5", "w") as h:
        write_tree_hdf5(h.create_group("tree"), grown, f)
    with h5py.File(tmp_path / "r.h5", "r") as h:
        for name, units in TREE_UNITS.items():
            assert h["tree"][name].attrs["units"] == units
        assert h["flow/flow_mL_min"].attrs["units"] == "mL/min"
        assert h["flow/pressure_mmHg"].attrs["units"] == "mmHg"
        t2 = read_tree_hdf5(h["tree"])
        f2 = read_flow_hdf5(h["flow"])
    assert_same_tree(t2, grown)
    np.testing.assert_array_equal(f2.flow_mL_min, f.flow_mL_min)
    np.testing.assert_array_equal(f2.pressure_mmHg, f.pressure_mmHg)
    assert f2.inlet_pressure_mmHg == f.inlet_pressure_mmHg


@pytest.mark.parametrize("binary", [True, False])
def test_vtp(tmp_path, grown, binary):
    f = solve_flow(grown)
    spheres = np.arange(grown.n_segments) % 7
    write_vtp(tmp_path / "t.vtp", grown, f, cell_data={"spheres": spheres},
              point_data={"side": np.tile([0.0, 1.0], grown.n_segments)}, binary=binary)
    d = read_vtp(tmp_path / "t.vtp")
    np.testing.assert_array_equal(d["points"][0::2], grown.proximal_mm)
    np.testing.assert_array_equal(d["points"][1::2], grown.distal_mm)
    np.testing.assert_array_equal(d["cell_data"]["radius_um"], grown.radius_um)
    np.testing.assert_array_equal(d["cell_data"]["flow_mL_min"], f.flow_mL_min)
    np.testing.assert_array_equal(d["cell_data"]["region"], grown.region)
    np.testing.assert_array_equal(d["cell_data"]["spheres"], spheres)
    assert d["offsets"][-1] == 2 * grown.n_segments
    with pytest.raises(ValueError, match="rows"):
        write_vtp(tmp_path / "x.vtp", grown, cell_data={"bad": np.zeros(3)})


def test_plot_tree(tmp_path, grown):
    f = solve_flow(grown)
    fig, axes = plot_tree(grown, f, color_by="flow")
    assert len(axes) == 2 and "segments" in fig.get_suptitle()
    fig.savefig(tmp_path / "t.png")
    fig, axes = plot_tree(grown, color_by="region", axes=("yz",), title="seed 4")
    assert "seed 4" in fig.get_suptitle()
    with pytest.raises(ValueError, match="flow field"):
        plot_tree(grown, color_by="flow")
