"""Build the shipped dose point kernels with the project's coupled electron-photon Monte Carlo.

``python -m dosimetry.kernel_build build`` regenerates, from the ICRP-107 decay data,

- ``dosimetry/data/kernel_<nuclide>_water`` (.csv shells + .json metadata): the charged-particle
  kernel (beta particles, conversion and Auger electrons, their delta rays), and
- ``dosimetry/data/photon_kernel_<nuclide>_water``: the energy deposited by photons
  (bremsstrahlung of those electrons, gamma and X-ray lines), shells widening with r to 400 mm;

``summary`` prints a kernel's key numbers. The kernel data model and loaders are in
:mod:`dosimetry.kernels`; the physics in :mod:`dosimetry.electron_physics`,
:mod:`dosimetry.photon_physics`, :mod:`dosimetry._electron_mc` and :mod:`dosimetry._photon_mc`.

A nuclide's kernel is the sum of up to three Monte Carlo sources, each with its own histories
and random sub-stream, weighted by its yield per decay: the beta spectrum, the discrete electron
lines (conversion + Auger) and the photon lines (gamma + X). Same seed, same tallies
(bit-identical, independent of the number of threads).

References
----------
.. [1] ICRP Publication 107 (2008), nuclear decay data (beta spectra, discrete lines).
.. [2] Berger MJ. Methods Comput Phys 1963;1:135 (condensed-history Monte Carlo).
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import datetime as _dt
import json
import math
from pathlib import Path
import subprocess
import sys
import time

import numpy as np

from dosimetry import _electron_mc as mc
from dosimetry.decay import get_nuclide, normalise_name
from dosimetry.electron_physics import I_WATER_EV_ICRU90, build_tables, csda_range_g_cm2
from dosimetry.kernel_sources import Source, beta_source_cdf, line_source_cdf, nuclide_sources
from dosimetry.kernels import (DATA_DIR, DoseKernel, clear_kernel_cache, photon_kernel_file_stem,
                               write_kernel_files)
from dosimetry.photon_physics import build_photon_tables
from dosimetry.voxel_s import kernel_report

__all__ = ["beta_source_cdf", "line_source_cdf", "nuclide_sources", "Source", "simulate_kernel",
           "simulate_kernels", "build_kernel", "build_kernels", "monoenergetic_kernel",
           "BUILD_DEFAULTS", "KERNEL_MC_VERSION", "PHOTON_SHELL_EDGES_MM"]

#: Version of the kernel Monte Carlo (bump when physics or tallies change). 2.0: mixed elastic
#: scattering (hard events + two-moment soft deflections), electron-electron deflections below
#: the Moller cut only, Seltzer-Berger bremsstrahlung photons transported, discrete lines.
KERNEL_MC_VERSION = "2.1"
#: Photon kernel shells [mm]: 0.5 mm to 20 mm, 1 mm to 50, 2.5 mm to 100, 5 mm to 200,
#: 10 mm to 400 (all multiples of the 0.1 mm tally bins).
PHOTON_SHELL_EDGES_MM = np.round(np.concatenate([
    np.arange(0.0, 20.0, 0.5), np.arange(20.0, 50.0, 1.0), np.arange(50.0, 100.0, 2.5),
    np.arange(100.0, 200.0, 5.0), np.arange(200.0, 400.001, 10.0)]), 6)
#: Fine photon tally of the Monte Carlo: 0.1 mm bins to 400 mm.
_PHOTON_BIN_MM, _N_PHOTON_BINS = 0.1, 4000
#: Default build settings per nuclide: shell width [mm], outer radius [mm], histories.
BUILD_DEFAULTS = {
    "Y-90": {"shell_width_mm": 0.05, "r_max_mm": 14.0, "histories": 1_000_000},
    "Ho-166": {"shell_width_mm": 0.05, "r_max_mm": 12.0, "histories": 1_000_000},
}


# --- building --------------------------------------------------------------------------------
def _code_version() -> dict:
    out = {"kernel_mc_version": KERNEL_MC_VERSION}
    try:
        from importlib.metadata import version

        out["taresim_version"] = version("taresim")
    except Exception:  # not installed: fall back to the source tree
        out["taresim_version"] = None
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        out["git_sha"] = sha.stdout.strip() or None
        # tracked changes other than the kernel tables themselves (a build rewrites them)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)data/kernel_*", ":(exclude)data/photon_kernel_*"],
                               cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
        out["git_dirty"] = bool(dirty.stdout.strip()) if dirty.returncode == 0 else None
    except Exception:
        out["git_sha"] = None
    return out


def _per_decay(sum_, counts, histories, weight):
    """Pooled mean per decay and per-batch estimates of a tally (rows = batches)."""
    return weight * sum_.sum(axis=0) / histories, weight * sum_ / counts[:, None]


def _rse(mean, per_batch):
    b = per_batch.shape[0]
    if b < 2:
        return np.full(mean.size, np.nan)
    sem = per_batch.std(axis=0, ddof=1) / math.sqrt(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, sem / mean, np.nan)


def _run_sources(sources, tables, ptables, *, seed, batches, shell_width_mm, n_shells,
                 cutoff_MeV, step_fraction, model):
    """Run the Monte Carlo of every source; per-decay tallies (mean, per batch) of electrons
    and photons, the bremsstrahlung emitted and escaped [MeV per decay] and per-source info."""
    e_mean = np.zeros(n_shells + 1)
    e_batch = np.zeros((batches, n_shells + 1))
    p_mean = np.zeros(_N_PHOTON_BINS + 1)
    p_batch = np.zeros((batches, _N_PHOTON_BINS + 1))
    info = []
    brems_emitted = escaped = 0.0
    for idx, src in enumerate(sources):
        t0 = time.perf_counter()
        if src.kind == "electron":
            res = mc.simulate_point_source(
                src.energy_MeV, src.cdf, tables, histories=src.histories, seed=seed,
                batches=batches, shell_width_mm=shell_width_mm, n_shells=n_shells,
                cutoff_mev=cutoff_MeV, step_fraction=step_fraction, ms_model=model,
                photon_tables=ptables, photon_shell_mm=_PHOTON_BIN_MM,
                n_photon_shells=_N_PHOTON_BINS, stream=idx)
        else:
            res = mc.simulate_photon_source(
                src.energy_MeV, src.cdf, histories=src.histories, seed=seed, batches=batches,
                photon_tables=ptables, photon_shell_mm=_PHOTON_BIN_MM,
                n_photon_shells=_N_PHOTON_BINS, stream=idx)
        seconds = time.perf_counter() - t0
        # normalise to the emitted energy: every history's energy ends in a tally (electron,
        # photon incl. overflow) or, for continuous bremsstrahlung, in ACC_BREMS
        total = (res.tally.sum() + res.photon_tally.sum() + res.acc[:, mc.ACC_BREMS].sum()) / src.histories
        scale = src.mean_MeV / total
        w = src.per_decay * scale
        m, pb = _per_decay(res.tally, res.counts, src.histories, w)
        if src.kind == "electron":
            e_mean += m
            e_batch += pb
        m, pb = _per_decay(res.photon_tally, res.counts, src.histories, w)
        p_mean += m
        p_batch += pb
        acc = res.acc.sum(axis=0) / src.histories
        brems_emitted += w * acc[mc.ACC_PHOTON_E]
        escaped += w * acc[mc.ACC_BREMS]
        info.append({"kind": src.kind, "label": src.label, "histories": int(src.histories),
                     "per_decay": src.per_decay, "mean_energy_MeV": src.mean_MeV,
                     "sampled_mean_energy_MeV": src.sampled_mean_MeV,
                     "simulated_mean_energy_MeV": float(total),
                     "normalisation_factor": float(scale), "stream": idx,
                     "steps_per_history": float(acc[mc.ACC_STEPS]),
                     "delta_rays_per_history": float(acc[mc.ACC_DELTAS]),
                     "hard_elastic_per_history": float(acc[mc.ACC_ELASTIC]),
                     "bremsstrahlung_photons_per_history": float(acc[mc.ACC_PHOTONS]),
                     "photon_interactions_per_history": float(acc[mc.ACC_PHOTON_INT]),
                     "dropped_delta_energy_MeV_per_history": float(acc[mc.ACC_DROPPED]),
                     "run_seconds": seconds, "histories_per_second": src.histories / seconds})
    return e_mean, e_batch, p_mean, p_batch, brems_emitted, escaped, info


def simulate_kernels(sources, *, label: str, seed: int = 1, batches: int = 40,
                     shell_width_mm: float = 0.05, r_max_mm: float = 14.0,
                     cutoff_MeV: float = 0.01, moller_cut_MeV: float = 0.01,
                     step_fraction: float = 0.02, i_ev: float = I_WATER_EV_ICRU90,
                     density_effect: str = "estar", mott: bool = True,
                     ee_scattering: str = "soft", c1: float = 0.05, c2: float = 0.05,
                     ms_model: str = "mixed", brems: str = "discrete",
                     brems_cut_MeV: float = 1e-3, nuclear_norm: str = "elsepa",
                     extra_metadata: dict | None = None):
    """Run the coupled electron-photon MC for the sources and return the two shell kernels.

    Parameters
    ----------
    sources : list of Source
        Electron and photon sources (one Monte Carlo run each, sub-stream = its index).
    label : str
        Kernel name.
    seed, batches : int
        Root seed, batches (batch-method uncertainty; the same for every source).
    shell_width_mm, r_max_mm : float
        Shell width and outer radius of the electron tally [mm].
    cutoff_MeV, moller_cut_MeV, step_fraction : float
        Electron transport cut-off E_c, delta-ray threshold W_c [MeV], largest fractional
        energy loss per step.
    i_ev, density_effect, mott, ee_scattering, c1, c2, brems, brems_cut_MeV
        Physics options of :func:`dosimetry.electron_physics.build_tables` (default I = 78 eV,
        ICRU Report 90; the ETRAN / EGSnrc comparisons use 75 eV like those codes).
    ms_model : {"mixed", "wentzel1"}
        Multiple-scattering model (see :mod:`dosimetry._electron_mc`).
    extra_metadata : dict, optional
        Added to both kernels' metadata.

    Returns
    -------
    (DoseKernel, DoseKernel or None)
        Charged-particle kernel (0.05 mm shells) and photon kernel
        (:data:`PHOTON_SHELL_EDGES_MM`), per decay, at 1 g/cm^3; no photon kernel (None) when
        no photon is emitted (continuous bremsstrahlung and no photon lines).
    """
    electrons = [src for src in sources if src.kind == "electron"]
    e_max = max(float(np.max(src.energy_MeV)) for src in electrons) if electrons else 0.1
    tables = build_tables(max(3.0, 1.05 * e_max), cut_mev=moller_cut_MeV, i_ev=i_ev,
                          delta_model=density_effect, mott=mott, ee_scattering=ee_scattering,
                          c1=c1, c2=c2, brems=brems, brems_cut_mev=brems_cut_MeV,
                          nuclear_norm=nuclear_norm)
    ptables = build_photon_tables()
    model = {"mixed": mc.MS_MIXED, "wentzel1": mc.MS_WENTZEL1}[ms_model]
    n_shells = int(round(r_max_mm / shell_width_mm))
    t_all = time.perf_counter()
    e_mean, e_batch, p_mean, p_batch, brems_emitted, escaped, info = _run_sources(
        sources, tables, ptables, seed=seed, batches=batches, shell_width_mm=shell_width_mm,
        n_shells=n_shells, cutoff_MeV=cutoff_MeV, step_fraction=step_fraction, model=model)
    e_emitted = sum(src.emitted_MeV_per_decay for src in sources if src.kind == "electron")
    p_lines = sum(src.emitted_MeV_per_decay for src in sources if src.kind == "photon")
    common = {
        "method": "coupled electron-photon Monte Carlo, taresim dosimetry._electron_mc / _photon_mc",
        "physics": dict(tables.params, transport_cutoff_MeV=cutoff_MeV, step_fraction=step_fraction,
                        multiple_scattering=ms_model,
                        scoring="energy deposited at a uniform random point along each step",
                        photons=ptables.params),
        "sources": info,
        "histories": int(sum(src.histories for src in sources if src.kind == "electron"
                             and src.label == "beta") or sum(src.histories for src in sources)),
        "batches": int(batches), "seed": int(seed),
        "uncertainty": "rel_std_err per shell: batch method, std of batch means / sqrt(batches)",
        "run_seconds": time.perf_counter() - t_all,
        "electron_emitted_MeV_per_decay": float(e_emitted),
        "bremsstrahlung_emitted_MeV_per_decay": float(brems_emitted),
        "photon_lines_emitted_MeV_per_decay": float(p_lines),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    common.update(_code_version())
    common.update(extra_metadata or {})
    # charged-particle kernel
    edges = np.arange(n_shells + 1) * shell_width_mm
    shells = e_mean[:-1].copy()
    shells[-1] += e_mean[-1]  # overflow (should be ~0) kept in the last shell
    e_meta = dict(common, kernel="charged particles", shell_width_mm=shell_width_mm,
                  r_max_mm=float(edges[-1]),
                  energy_beyond_last_shell_MeV_per_decay=float(e_mean[-1]),
                  includes=("electrons: " + ", ".join(s.label for s in sources if s.kind == "electron")
                            + "; their delta rays; bremsstrahlung photons below "
                            f"{brems_cut_MeV * 1e3:g} keV (absorbed where emitted)"),
                  not_included=("photons: bremsstrahlung above the cut, gamma and X-ray lines "
                                "(see the photon kernel, load_photon_kernel)"
                                if brems == "discrete" else "photons (bremsstrahlung escapes)"))
    e_max_all = max(float(np.max(src.energy_MeV)) for src in electrons) if electrons else 0.0
    ek = DoseKernel(nuclide=label, r_inner_mm=edges[:-1], r_outer_mm=edges[1:],
                    energy_MeV_per_decay=shells, density_g_cm3=1.0,
                    rel_std_err=_rse(e_mean, e_batch)[:-1],
                    bremsstrahlung_MeV_per_decay=float(brems_emitted + escaped),
                    emitted_MeV_per_decay=float(e_emitted),
                    csda_range_water_mm=10.0 * csda_range_g_cm2(e_max_all, i_ev=i_ev,
                                                                 delta_model=density_effect)
                    if electrons else None,
                    metadata=e_meta)
    pk = _photon_kernel(label, p_mean, p_batch, common, sources, brems_emitted, p_lines,
                        brems_cut_MeV)
    return ek, pk


def _photon_kernel(label, p_mean, p_batch, common, sources, brems_emitted, p_lines,
                   brems_cut_MeV):
    """The photon kernel on :data:`PHOTON_SHELL_EDGES_MM` from the 0.1 mm photon tallies; None
    when no photon was emitted."""
    # photon kernel: aggregate the 0.1 mm bins into PHOTON_SHELL_EDGES_MM
    idx = np.round(PHOTON_SHELL_EDGES_MM / _PHOTON_BIN_MM).astype(int)
    cum_m = np.concatenate(([0.0], np.cumsum(p_mean[:-1])))
    cum_b = np.concatenate((np.zeros((p_batch.shape[0], 1)), np.cumsum(p_batch[:, :-1], axis=1)), axis=1)
    pm = np.diff(cum_m[idx])
    pbatch = np.diff(cum_b[:, idx], axis=1)
    beyond = float(p_mean[-1])
    p_meta = dict(common, kernel="photons", shell_edges_mm="0.5 mm to 20 mm, 1 mm to 50, 2.5 mm "
                  "to 100, 5 mm to 200, 10 mm to 400", r_max_mm=float(PHOTON_SHELL_EDGES_MM[-1]),
                  energy_beyond_table_MeV_per_decay=beyond,
                  photon_emitted_MeV_per_decay=float(brems_emitted + p_lines),
                  includes=("energy deposited by photons: bremsstrahlung of the electrons above "
                            f"{brems_cut_MeV * 1e3:g} keV" + (", " + ", ".join(
                                s.label for s in sources if s.kind == "photon") if p_lines else "")
                            + "; electrons set in motion by photons deposit locally"),
                  not_included=f"photon energy deposited beyond {PHOTON_SHELL_EDGES_MM[-1]:g} mm "
                               "(energy_beyond_table_MeV_per_decay)")
    if pm.sum() + beyond <= 0.0:  # no photons (continuous bremsstrahlung, no lines)
        return None
    pk = DoseKernel(nuclide=label, r_inner_mm=PHOTON_SHELL_EDGES_MM[:-1],
                    r_outer_mm=PHOTON_SHELL_EDGES_MM[1:], energy_MeV_per_decay=pm,
                    density_g_cm3=1.0, rel_std_err=_rse(pm, pbatch),
                    bremsstrahlung_MeV_per_decay=0.0,
                    emitted_MeV_per_decay=float(brems_emitted + p_lines), metadata=p_meta)
    return pk


def simulate_kernel(source_e_mev, source_cdf, *, label: str, histories: int, seed: int = 1,
                    normalise_to_MeV: float | None = None, **options) -> DoseKernel:
    """Run the MC for a point source of electrons in water and return its charged-particle kernel.

    Parameters
    ----------
    source_e_mev, source_cdf : ndarray
        Source energy CDF (see :func:`beta_source_cdf`); ``([E, E], [0, 1])`` for
        monoenergetic electrons.
    label : str
        Kernel name.
    histories, seed : int
        Primary electrons, root seed.
    normalise_to_MeV : float, optional
        Scale tallies so that the emitted energy per history equals this [MeV] (default: the
        sampled mean).
    **options
        Passed to :func:`simulate_kernels` (batches, shells, cut-offs, physics).
    """
    e = np.asarray(source_e_mev, dtype=float)
    c = np.asarray(source_cdf, dtype=float)
    sampled = float(np.sum(0.5 * (e[1:] + e[:-1]) * np.diff(c)))
    src = Source("electron", label, e, c, 1.0, float(normalise_to_MeV or sampled), int(histories))
    ek, pk = simulate_kernels([src], label=label, seed=seed, **options)
    meta = dict(ek.metadata, sampled_mean_source_energy_MeV=sampled,
                photon_kernel_energy_MeV_per_decay=pk.energy_per_decay_MeV if pk else 0.0,
                photon_energy_beyond_table_MeV_per_decay=pk.metadata[
                    "energy_beyond_table_MeV_per_decay"] if pk else 0.0)
    return replace(ek, metadata=meta)


def build_kernels(nuclide: str = "Y-90", *, histories: int | None = None, seed: int = 20240905,
                  line_histories: int | None = None, **options):
    """Derive the charged-particle and photon kernels of ``nuclide`` in water (MC).

    Parameters
    ----------
    nuclide : str
        ICRP-107 beta emitter.
    histories : int, optional
        Beta histories (default from :data:`BUILD_DEFAULTS`, 1e6).
    seed : int
        Root seed.
    line_histories : int, optional
        Histories of each line source (default 20 % of ``histories``, at least 20 000).
    **options
        Passed to :func:`simulate_kernels` (shell width, cut-offs, physics).

    Returns
    -------
    (DoseKernel, DoseKernel)
        Charged-particle kernel and photon kernel per decay at 1 g/cm^3.
    """
    name = normalise_name(nuclide)
    nuc = get_nuclide(name)
    defaults = dict(BUILD_DEFAULTS.get(name, {"shell_width_mm": 0.05,
                                              "r_max_mm": 1.2 * 5.0 * nuc.endpoint_energy_MeV,
                                              "histories": 1_000_000}))
    histories = int(histories or defaults.pop("histories"))
    defaults.pop("histories", None)
    defaults.update(options)
    sources = nuclide_sources(name, histories, line_histories)
    extra = {"nuclide": name,
             "source": "ICRP-107 (icrp107-database): beta spectrum (cubic-spline density), "
                       "conversion + Auger electron lines, gamma + X-ray lines",
             "icrp107_mean_beta_energy_MeV": nuc.mean_beta_energy_MeV,
             "icrp107_endpoint_MeV": nuc.endpoint_energy_MeV}
    return simulate_kernels(sources, label=name, seed=seed, extra_metadata=extra, **defaults)


def build_kernel(nuclide: str = "Y-90", *, histories: int | None = None, seed: int = 20240905,
                 **options) -> DoseKernel:
    """The charged-particle kernel of :func:`build_kernels` (betas + conversion/Auger electrons)."""
    return build_kernels(nuclide, histories=histories, seed=seed, **options)[0]


def monoenergetic_kernel(energy_MeV: float, *, histories: int = 20000, seed: int = 7,
                         **options) -> DoseKernel:
    """Point kernel of monoenergetic electrons in water (verification against ESTAR / literature).

    The shell width defaults to 1 % of the CSDA range and the tally to 1.3 ranges.
    """
    r0_mm = 10.0 * csda_range_g_cm2(energy_MeV)
    options.setdefault("shell_width_mm", r0_mm / 100.0)
    options.setdefault("r_max_mm", 1.3 * r0_mm)
    k = simulate_kernel(np.array([energy_MeV, energy_MeV]), np.array([0.0, 1.0]),
                        label=f"e- {energy_MeV:g} MeV", histories=histories, seed=seed, **options)
    meta = dict(k.metadata, source_energy_MeV=float(energy_MeV),
                csda_range_mm=r0_mm)
    return replace(k, metadata=meta)


def main(argv=None) -> int:
    """``python -m dosimetry.kernels build|summary``: regenerate or inspect the shipped tables."""
    p = argparse.ArgumentParser(prog="python -m dosimetry.kernel_build", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="run the electron MC and write dosimetry/data/kernel_*")
    b.add_argument("--nuclide", action="append", help="Y-90, Ho-166 (repeatable; default both)")
    b.add_argument("--histories", type=int, default=None, help="beta histories (default 1e6)")
    b.add_argument("--seed", type=int, default=20240905)
    b.add_argument("--batches", type=int, default=40)
    b.add_argument("--out", default=str(DATA_DIR), help="output directory")
    s = sub.add_parser("summary", help="print a kernel's summary as JSON")
    s.add_argument("--nuclide", default="Y-90")
    s.add_argument("--density", type=float, default=1.0)
    s.add_argument("--voxel-mm", type=float, default=None)
    args = p.parse_args(argv)
    if args.cmd == "summary":
        print(json.dumps(kernel_report(args.nuclide, args.voxel_mm, args.density), indent=2))
        return 0
    for name in args.nuclide or ["Y-90", "Ho-166"]:
        t0 = time.perf_counter()
        ek, pk = build_kernels(name, histories=args.histories, seed=args.seed, batches=args.batches)
        paths = write_kernel_files(ek, args.out)
        ppaths = write_kernel_files(pk, args.out, stem=photon_kernel_file_stem(name))
        print(f"{ek.nuclide}: {ek.metadata['histories']} beta histories in "
              f"{time.perf_counter() - t0:.1f} s -> {paths[0]}, {ppaths[0]}", file=sys.stderr)
        print(json.dumps({"electrons": ek.summary(), "photons": pk.summary()}, indent=2))
    clear_kernel_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
