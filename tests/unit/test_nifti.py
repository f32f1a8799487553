"""NIfTI anatomy in and out: affines (flipped, anisotropic, oblique) survive the round trip,
masses are voxel counts times the voxel volume, orientation is preserved (a structure put at
a world position is found there), and bad input fails cleanly."""
import numpy as np
import pytest

from sim.anatomy import (AffineMask, MaskTumour, anatomy_domain, check_affine, grid_affine, load_nifti_mask,
                         read_nifti, resample_to_reference, voxel_centres, write_nifti)
from sim.anatomy.phantom import PHANTOM, phantom_affine, write_phantom
from sim.config import ConfigError, scenario_from_dict
from sim.tree.tissue import TissueGeometry

OBLIQUE = dict(voxel_mm=(2.5, 2.0, 3.0), shape=(48, 52, 30), rotation_deg=25.0, flip_xy=True)


@pytest.fixture(scope="module")
def oblique(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oblique")
    return write_phantom(folder, **OBLIQUE)


def test_affine_round_trip(oblique):
    data, aff = read_nifti(oblique["liver"])
    # sform is stored in float32
    assert np.allclose(aff, oblique["affine"], rtol=0, atol=1e-4)
    assert data.shape == OBLIQUE["shape"]
    assert abs(np.linalg.det(aff[:3, :3])) == pytest.approx(2.5 * 2.0 * 3.0, rel=1e-6)


def test_masses_are_voxel_counts_times_voxel_volume(oblique):
    data, aff = read_nifti(oblique["liver"])
    liver = load_nifti_mask(oblique["liver"])
    assert liver.volume_mm3 == pytest.approx((data != 0).sum() * 15.0, rel=1e-6)
    a, b, c = PHANTOM["liver_semi_axes_mm"]
    assert liver.volume_mm3 == pytest.approx(4.0 / 3.0 * np.pi * a * b * c, rel=0.03)
    geom = TissueGeometry.of(anatomy_domain(oblique["liver"], oblique["territory"]),
                             [MaskTumour(load_nifti_mask(oblique["tumours"], 1))], 1.06)
    vols = geom.region_volumes_mm3(qmc_points=1 << 16)
    t1 = (read_nifti(oblique["tumours"])[0] == 1).sum() * 15.0
    assert vols[1] == pytest.approx(t1, rel=1e-6)  # wholly inside: the mask volume (float32 affine)


def test_orientation_world_positions_survive(oblique):
    """The tumour put at a world (RAS) position is found there after reading, whatever the
    rotation and flips of the grid."""
    for k, (centre, r) in enumerate(PHANTOM["tumours"], start=1):
        m = load_nifti_mask(oblique["tumours"], k)
        pts = voxel_centres(m.mask.shape, m.affine, np.flatnonzero(m.mask.ravel()))
        assert np.allclose(pts.mean(axis=0), centre, atol=1.5)
        assert m.contains(np.array([centre]))[0]
        assert not m.contains(np.array(centre) + np.array([[r + 4.0, 0, 0]]))[0]


def test_written_images_land_on_the_reference(tmp_path, oblique):
    """An image on an axis-aligned world grid resampled onto the oblique reference grid is the
    same world function; a label map resampled onto its own grid is unchanged."""
    liver = load_nifti_mask(oblique["liver"])
    lo, hi = liver.bounds()
    origin = lo - 2.0
    shape = tuple(int(v) for v in np.ceil((hi - lo + 4.0) / 1.0))
    world = voxel_centres(shape, grid_affine(origin, 1.0))
    img = (world[:, 0] + 2 * world[:, 1] - world[:, 2]).reshape(shape)  # linear in the world
    p = write_nifti(tmp_path / "lin.nii.gz", img, grid_affine(origin, 1.0))
    back, aff = read_nifti(p)
    assert np.allclose(back, img, atol=1e-4) and np.allclose(aff, grid_affine(origin, 1.0))
    ref = resample_to_reference(back, aff, liver.mask.shape, liver.affine, order=1)
    ref_world = voxel_centres(liver.mask.shape, liver.affine)
    expected = (ref_world[:, 0] + 2 * ref_world[:, 1] - ref_world[:, 2]).reshape(
        liver.mask.shape)
    inside = liver.mask  # reference voxels well inside the written image
    assert np.allclose(ref[inside], expected[inside], atol=1e-3)
    lab = read_nifti(oblique["tumours"])[0]
    same = resample_to_reference(lab, liver.affine, lab.shape, liver.affine, order=0)
    assert np.array_equal(same, lab)


def test_bad_affines_and_masks_fail_cleanly(tmp_path, oblique):
    with pytest.raises(ValueError, match="not invertible"):
        check_affine(np.diag([2.0, 0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="mask must be a 3-D array"):
        AffineMask(np.zeros((3, 3, 3)), np.eye(4))
    flat = tmp_path / "flat.nii.gz"
    write_nifti(flat, np.ones((4, 4, 4), np.uint8), np.eye(4))
    import nibabel
    bad = nibabel.Nifti1Image(np.ones((4, 4, 4), np.uint8), None)
    bad.set_sform(np.diag([1.0, 1.0, 0.0, 1.0]), code=1)  # a flattened z axis
    nibabel.save(bad, str(tmp_path / "singular.nii.gz"))
    with pytest.raises(ValueError, match="not invertible"):
        read_nifti(tmp_path / "singular.nii.gz")
    far = tmp_path / "far.nii.gz"  # a territory on the liver's grid with no common voxel
    data, aff = read_nifti(oblique["liver"])
    write_nifti(far, (data == 0).astype(np.uint8), aff)
    with pytest.raises(ValueError, match="does not overlap the liver"):
        anatomy_domain(oblique["liver"], far)
    with pytest.raises(ValueError, match="on the liver mask's grid"):
        anatomy_domain(oblique["liver"], flat)


def test_config_refuses_mixed_tumour_shapes(oblique):
    base = {"tree": {"generator": "grown", "root_radius_um": 500.0,
                     "domain": {"shape": "mask", "path": str(oblique["liver"]),
                                "territory": str(oblique["territory"])}}}
    s = scenario_from_dict(dict(base))
    assert s.tree.domain.territory.endswith("territory.nii.gz")
    bad = {"tree": dict(base["tree"], tumours=[{"mask": str(oblique["tumours"]),
                                                 "centre_mm": [0, 0, 0]}])}
    with pytest.raises(ConfigError, match="give a mask or centre_mm and radius_mm"):
        scenario_from_dict(bad)
    bad = {"tree": dict(base["tree"], domain={"shape": "ellipsoid", "centre_mm": [0, 0, 0],
                                              "semi_axes_mm": [5, 5, 5],
                                              "territory": str(oblique["territory"])})}
    with pytest.raises(ConfigError, match="territory"):
        scenario_from_dict(bad)


def test_phantom_affine_is_oblique_and_flipped():
    a = phantom_affine(**OBLIQUE)
    assert a[0, 1] != 0.0 and np.linalg.det(a[:3, :3]) > 0  # two flips keep the handedness


def test_integer_images_are_written(tmp_path):
    """numpy's default int64 is stored (as int32) and read back unchanged."""
    data = np.arange(27).reshape(3, 3, 3)
    path = write_nifti(tmp_path / "labels.nii.gz", data, grid_affine((0, 0, 0), 2.0))
    back, aff = read_nifti(path)
    np.testing.assert_array_equal(back, data)
    assert np.allclose(aff, grid_affine((0, 0, 0), 2.0))


def test_bsa_whole_liver_is_the_liver_mask_without_a_territory(oblique):
    """With a NIfTI liver mask the BSA method's whole liver is the mask's mass, whether or not
    a territory mask is given (not the treated territory below a lobar catheter)."""
    from types import SimpleNamespace

    from sim.clinical.steps import whole_liver_mass_kg
    s = scenario_from_dict({"tree": {"generator": "grown", "root_radius_um": 500.0,
                                     "domain": {"shape": "mask", "path": str(oblique["liver"])}}})
    vois = SimpleNamespace(mass_kg=lambda name: 0.001)  # a small treated territory
    expected = load_nifti_mask(oblique["liver"]).volume_mm3 * s.tissue_density_g_cm3 * 1e-6
    assert whole_liver_mass_kg(s, vois) == pytest.approx(expected, rel=1e-12)
