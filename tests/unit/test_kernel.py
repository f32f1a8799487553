"""DoseKernel API, loaders, density scaling and CLI summary (shipped tables, no MC)."""
import json

import numpy as np
import pytest

from dosimetry.constants import J_PER_MEV, LIVER_DENSITY_G_CM3
from dosimetry.decay import get_nuclide
from dosimetry.kernel_build import beta_source_cdf
from dosimetry.kernels import (DoseKernel, combine_kernels, load_kernel, load_kernel_csv,
                               load_photon_kernel, total_kernel, write_kernel_files)
from dosimetry.voxel_s import kernel_report as kernel_summary_for_cli


@pytest.fixture(scope="module")
def y90():
    return load_kernel("Y-90")


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_shipped_kernel_fields(name):
    k = load_kernel(name)
    assert k.nuclide == name and k.density_g_cm3 == 1.0
    n = k.r_inner_mm.size
    assert k.r_outer_mm.size == k.energy_MeV_per_decay.size == k.rel_std_err.size == n
    assert k.r_inner_mm[0] == 0.0
    np.testing.assert_allclose(k.r_inner_mm[1:], k.r_outer_mm[:-1], rtol=0, atol=1e-9)
    assert np.all(k.energy_MeV_per_decay >= 0)
    m = k.metadata
    for key in ("method", "physics", "histories", "batches", "seed", "kernel_mc_version",
                "taresim_version", "uncertainty", "includes", "not_included", "git_sha"):
        assert key in m, key
    assert m["histories"] >= 1_000_000
    assert m["kernel"] == "charged particles"
    assert k.r_outer_mm[-1] <= 14.0 + 1e-9  # short-range table (cell lists stay small)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_shipped_photon_kernel_fields(name):
    k = load_photon_kernel(name)
    e = load_kernel(name)
    assert k.nuclide == name and k.density_g_cm3 == 1.0 and k.metadata["kernel"] == "photons"
    assert k.r_inner_mm[0] == 0.0 and k.r_outer_mm[-1] >= 200.0
    np.testing.assert_allclose(k.r_inner_mm[1:], k.r_outer_mm[:-1], rtol=0, atol=1e-9)
    w = k.r_outer_mm - k.r_inner_mm
    assert np.all(np.diff(w) >= -1e-9)  # shells widen with r
    assert k.rel_std_err.shape == w.shape
    for key in ("includes", "not_included", "energy_beyond_table_MeV_per_decay",
                "photon_emitted_MeV_per_decay", "kernel_mc_version", "git_sha", "seed"):
        assert key in k.metadata, key
    # both tables come from the same build
    assert k.metadata["git_sha"] == e.metadata["git_sha"]
    assert k.metadata["kernel_mc_version"] == e.metadata["kernel_mc_version"]
    assert load_photon_kernel(name, density_g_cm3=1.04).r_outer_mm[-1] == \
        pytest.approx(k.r_outer_mm[-1] / 1.04)


@pytest.mark.parametrize("name", ["Y-90", "Ho-166"])
def test_total_kernel(name):
    e, p = load_kernel(name, density_g_cm3=1.06), load_photon_kernel(name, density_g_cm3=1.06)
    t = total_kernel(name, density_g_cm3=1.06)
    assert load_kernel(name, density_g_cm3=1.06, photons=True).energy_per_decay_MeV == \
        t.energy_per_decay_MeV
    assert t.energy_per_decay_MeV == pytest.approx(e.energy_per_decay_MeV + p.energy_per_decay_MeV,
                                                   rel=1e-12)
    # electron shells kept as they are, photon shells beyond
    n = e.r_outer_mm.size
    np.testing.assert_allclose(t.r_outer_mm[:n], e.r_outer_mm, rtol=1e-12)
    assert t.r_outer_mm[-1] == p.r_outer_mm[-1]
    for r in (0.5, 3.0, 20.0, 150.0):
        assert t.energy_within_MeV(r) == pytest.approx(
            e.energy_within_MeV(r) + p.energy_within_MeV(r), rel=2e-3)
    beyond = p.metadata["energy_beyond_table_MeV_per_decay"]
    assert t.energy_per_decay_MeV + beyond == pytest.approx(t.emitted_MeV_per_decay, rel=1e-6)
    assert t.metadata["energy_beyond_table_MeV_per_decay"] == beyond
    assert "photons" in t.metadata["includes"] or "photon" in t.metadata["includes"]
    with pytest.raises(ValueError, match="densities"):
        combine_kernels(e, load_photon_kernel(name))


def test_names_and_unknown_nuclide():
    assert load_kernel("y90").nuclide == "Y-90"
    with pytest.raises(ValueError, match="no shipped kernel"):
        load_kernel("Lu-177")


def test_cumulative_fraction_exact_at_edges(y90):
    cum = np.cumsum(y90.energy_MeV_per_decay) / y90.energy_per_decay_MeV
    np.testing.assert_allclose(y90.cumulative_fraction(y90.r_outer_mm), cum, rtol=1e-12, atol=1e-15)
    assert y90.cumulative_fraction(0.0) == 0.0
    assert y90.cumulative_fraction(100.0) == 1.0


def test_point_dose_integrates_to_shell_energy(y90):
    # integral of 4 pi r^2 rho D(r) over a shell = shell energy (PCHIP is cubic per shell)
    x, w = np.polynomial.legendre.leggauss(6)
    rho = y90.density_g_cm3 * 1e-6
    for i in range(1, 200, 7):
        a, b = y90.r_inner_mm[i], y90.r_outer_mm[i]
        r = 0.5 * (b - a) * x + 0.5 * (a + b)
        e = np.sum(0.5 * (b - a) * w * 4 * np.pi * r**2 * rho * y90.dose_per_decay_Gy(r)) / J_PER_MEV
        assert e == pytest.approx(y90.energy_MeV_per_decay[i], rel=1e-10)


def test_dose_near_source_finite_and_continuous(y90):
    r1 = y90.r_outer_mm[0]
    cap = y90.energy_MeV_per_decay[0] * J_PER_MEV / (1e-6 * 4 / 3 * np.pi * r1**3)
    assert y90.dose_per_decay_Gy(0.0) == pytest.approx(cap, rel=1e-12)
    r = np.linspace(0.0, 3 * r1, 3001)
    d = y90.dose_per_decay_Gy(r)
    assert np.all(np.isfinite(d)) and np.all(d > 0)
    assert np.max(np.abs(np.diff(d))) < 0.01 * cap  # no jump (cap -> point kernel)
    assert y90.dose_per_decay_Gy(np.zeros((2, 3))).shape == (2, 3)
    assert y90.dose_per_decay_Gy(30.0) == 0.0
    with pytest.raises(ValueError):
        y90.dose_per_decay_Gy(-1.0)


def test_density_scaling_theorem_exact(y90):
    rho = 1.04
    ks = y90.scaled(rho)
    r = np.linspace(0.0, 12.0, 2401)
    np.testing.assert_allclose(ks.dose_per_decay_Gy(r), rho**2 * y90.dose_per_decay_Gy(rho * r),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(ks.cumulative_fraction(r), y90.cumulative_fraction(rho * r),
                               rtol=1e-12, atol=1e-15)
    assert ks.x90_mm() == pytest.approx(y90.x90_mm() / rho, rel=1e-9)
    assert ks.energy_per_decay_MeV == y90.energy_per_decay_MeV
    assert ks.range_mm == pytest.approx(y90.range_mm / rho, rel=1e-12)
    back = ks.scaled(1.0)
    np.testing.assert_allclose(back.r_outer_mm, y90.r_outer_mm, rtol=1e-12)
    lk = load_kernel("Y-90", density_g_cm3=rho)
    np.testing.assert_allclose(lk.dose_per_decay_Gy(r), ks.dose_per_decay_Gy(r), rtol=1e-12)
    with pytest.raises(ValueError):
        y90.scaled(0.0)


def test_x90_and_summary(y90):
    assert y90.cumulative_fraction(y90.x90_mm()) == pytest.approx(0.9, abs=1e-9)
    s = y90.summary()
    assert set(s["fraction_within_mm"]) == {"1", "2", "5", "11"}
    assert s["x90_mm"] == y90.x90_mm()
    json.dumps(s)


def test_csv_roundtrip(tmp_path, y90):
    csv_path, json_path = write_kernel_files(y90, tmp_path, stem="k")
    k = load_kernel_csv(csv_path, nuclide="Y-90")
    np.testing.assert_allclose(k.energy_MeV_per_decay, y90.energy_MeV_per_decay, rtol=5e-7)
    np.testing.assert_allclose(k.r_outer_mm, y90.r_outer_mm, rtol=0, atol=1e-4)
    assert json.loads(json_path.read_text())["nuclide"] == "Y-90"


def test_csv_units_and_dose_column(tmp_path):
    ri, ro = np.array([0.0, 0.1, 0.2]), np.array([0.1, 0.2, 0.3])
    e = np.array([0.2, 0.3, 0.1])
    ref = DoseKernel("x", ri, ro, e, density_g_cm3=1.04)
    p1 = tmp_path / "cm_keV.csv"
    p1.write_text("# comment\nr_inner_cm,r_outer_cm,energy_keV_per_decay\n"
                  + "".join(f"{a / 10},{b / 10},{c * 1000}\n" for a, b, c in zip(ri, ro, e)))
    k1 = load_kernel_csv(p1, density_g_cm3=1.04)
    np.testing.assert_allclose(k1.energy_MeV_per_decay, e, rtol=1e-12)
    np.testing.assert_allclose(k1.r_outer_mm, ro, rtol=1e-12)
    dose = ref.shell_dose_per_decay_Gy()
    p2 = tmp_path / "dose.csv"
    p2.write_text("r_inner_mm,r_outer_mm,dose_Gy_per_decay\n"
                  + "".join(f"{a},{b},{float(d)!r}\n" for a, b, d in zip(ri, ro, dose)))
    k2 = load_kernel_csv(p2, density_g_cm3=1.04)
    np.testing.assert_allclose(k2.energy_MeV_per_decay, e, rtol=1e-12)


@pytest.mark.parametrize("text, match", [
    ("r_inner_mm,r_outer_mm,energy_MeV_per_decay,foo\n0,1,1,2\n", "unknown column"),
    ("r_inner_mm,r_outer_furlong,energy_MeV_per_decay\n0,1,1\n", "unit"),
    ("r_inner_mm,energy_MeV_per_decay\n0,1\n", "missing column"),
    ("r_inner_mm,r_outer_mm\n0,1\n", "exactly one"),
    ("r_inner_mm,r_outer_mm,energy_MeV_per_decay\n0,1,1\n1.5,2,1\n", "contiguous"),
    ("r_inner_mm,r_outer_mm,energy_MeV_per_decay\n0.5,1,1\n", "start at r = 0"),
    ("r_inner_mm,r_outer_mm,energy_MeV_per_decay\n0,1,-1\n", ">= 0"),
    ("r_inner_mm,r_outer_mm,energy_MeV_per_decay\n0,1,abc\n", "non-numeric"),
])
def test_csv_errors(tmp_path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_kernel_csv(p)


def test_cli_summary():
    out = kernel_summary_for_cli("Y-90")
    assert set(out) == {"nuclide", "voxel_mm", "density_g_cm3", "energy_per_decay_MeV",
                        "fraction_within_mm", "x90_mm", "bremsstrahlung_fraction",
                        "emitted_MeV_per_decay", "electron_emitted_MeV_per_decay",
                        "photon_emitted_MeV_per_decay", "electron_absorbed_MeV_per_decay",
                        "photon_absorbed_MeV_per_decay", "photon_beyond_table_MeV_per_decay",
                        "photon_table_r_max_mm", "x90_total_mm", "photons_in_s_values"}
    # energy bookkeeping per decay closes
    assert out["electron_absorbed_MeV_per_decay"] + out["photon_absorbed_MeV_per_decay"] + \
        out["photon_beyond_table_MeV_per_decay"] == pytest.approx(out["emitted_MeV_per_decay"],
                                                                 rel=1e-6)  # CSV: 7 digits
    assert out["photons_in_s_values"] and out["x90_total_mm"] > out["x90_mm"]
    assert out["voxel_mm"] is None and out["density_g_cm3"] == LIVER_DENSITY_G_CM3
    assert list(out["fraction_within_mm"]) == ["1", "2", "5", "11"]
    outv = kernel_summary_for_cli("Y-90", voxel_mm=4.42)
    rows = outv["s_values_mGy_per_MBq_s"]
    assert len(rows) == 56 and all(r[0] <= r[1] <= r[2] <= 5 for r in rows)
    from dosimetry.voxel_s import voxel_s_values

    s = voxel_s_values("Y-90", 4.42)
    for i, j, k, v in rows:
        assert v == s[i, j, k]
    json.loads(json.dumps(outv))


@pytest.mark.parametrize("name, rel", [("Y-90", 2e-5), ("Ho-166", 1e-3)])
def test_beta_source_mean_energy(name, rel):
    e, cdf, mean = beta_source_cdf(name)
    assert cdf[0] == 0.0 and cdf[-1] == 1.0 and np.all(np.diff(cdf) >= 0)
    assert mean == pytest.approx(get_nuclide(name).mean_beta_energy_MeV, rel=rel)


def test_kernel_arrays_read_only(y90):
    with pytest.raises(ValueError):
        y90.energy_MeV_per_decay[0] = 1.0
    with pytest.raises(ValueError, match="rel_std_err"):
        DoseKernel("x", [0.0, 1.0], [1.0, 2.0], [1.0, 1.0], rel_std_err=[0.1])


def test_plot_kernel(y90):
    import matplotlib.pyplot as plt

    from dosimetry.kernel_plot import plot_kernel

    fig, ax = plot_kernel(y90)
    assert ax.get_xlabel().startswith("distance") and len(ax.lines) >= 2
    plt.close(fig)
    mono = DoseKernel("e- 1 MeV", y90.r_inner_mm, y90.r_outer_mm, y90.energy_MeV_per_decay,
                      metadata={"source_energy_MeV": 1.0, "csda_range_mm": 4.367})
    fig2, ax2 = plt.subplots()
    fig3, ax3 = plot_kernel(mono, ax=ax2, reference=[(1.0, 2.0, "test point")])
    assert fig3 is fig2 and ax3 is ax2
    labels = [h.get_label() for h in ax2.lines]
    assert any("ETRAN" in lab for lab in labels) and "test point" in labels
    plt.close(fig2)


def test_plot_kernel_references():
    import matplotlib.pyplot as plt

    from dosimetry.kernel_plot import plot_kernel_references
    from dosimetry.reference_data import penelope_y90

    k = load_kernel("Y-90", photons=True)
    fig = plot_kernel_references(k, band_mm=1.0, r_max_mm=6.0)
    top, bot = fig.axes
    assert [t.get_text() for t in top.get_legend().get_texts()][0] == "this work"
    # the plotted ratio of the PENELOPE series is the band energy ratio of the two tables
    ri, ro, e, _ = penelope_y90()
    edges = np.arange(0.0, 6.001, 1.0)
    ref = np.diff(np.interp(edges, np.concatenate(([0.0], ro)), np.concatenate(([0.0], np.cumsum(e)))))
    expected = 100 * (np.diff(k.energy_within_MeV(edges)) / ref - 1)
    series = bot.containers[0]  # errorbar container of the first reference (PENELOPE)
    np.testing.assert_allclose(series.lines[0].get_ydata(), expected, rtol=1e-9, atol=1e-12)
    plt.close(fig)
    with pytest.raises(ValueError, match="no independent reference"):
        plot_kernel_references(load_kernel("Ho-166", photons=True))
    with pytest.raises(ValueError, match="1 g/cm"):
        plot_kernel_references(load_kernel("Y-90", density_g_cm3=1.06, photons=True))
