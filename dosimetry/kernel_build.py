"""Build the shipped beta dose point kernels with the project's electron Monte Carlo.

``python -m dosimetry.kernel_build build`` regenerates ``dosimetry/data/kernel_<nuclide>_water``
(.csv shells + .json metadata) from the ICRP-107 spectra; ``summary`` prints a kernel's key
numbers. The kernel data model and loaders are in :mod:`dosimetry.kernels`; the physics in
:mod:`dosimetry.electron_physics` and :mod:`dosimetry._electron_mc`.

References
----------
.. [1] ICRP Publication 107 (2008), nuclear decay data (beta spectra, mean energies).
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
from scipy.interpolate import CubicSpline

from dosimetry import _electron_mc as mc
from dosimetry.decay import get_nuclide, normalise_name
from dosimetry.electron_physics import build_tables, csda_range_g_cm2
from dosimetry.kernels import DATA_DIR, DoseKernel, clear_kernel_cache, write_kernel_files
from dosimetry.voxel_s import kernel_report

__all__ = ["beta_source_cdf", "simulate_kernel", "build_kernel", "monoenergetic_kernel",
           "BUILD_DEFAULTS", "KERNEL_MC_VERSION"]

#: Version of the kernel Monte Carlo (bump when physics or tallies change).
KERNEL_MC_VERSION = "1.0"
#: Default build settings per nuclide: shell width [mm], outer radius [mm], histories.
BUILD_DEFAULTS = {
    "Y-90": {"shell_width_mm": 0.05, "r_max_mm": 14.0, "histories": 1_000_000},
    "Ho-166": {"shell_width_mm": 0.05, "r_max_mm": 12.0, "histories": 1_000_000},
}


# --- building --------------------------------------------------------------------------------
def beta_source_cdf(nuclide, n_sub: int = 40):
    """Source CDF of a nuclide's ICRP-107 beta spectrum on a fine energy grid.

    The tabulated density is interpolated by a not-a-knot cubic spline (clipped at 0) with
    ``n_sub`` points per ICRP interval; the CDF is its trapezoid integral, normalised.

    Returns
    -------
    energy_MeV : ndarray
        Energy nodes [MeV].
    cdf : ndarray
        CDF at the nodes [1], 0 to 1.
    mean_MeV : float
        Exact mean energy of the sampled distribution (linear CDF between nodes) [MeV].
    """
    nuc = get_nuclide(nuclide) if isinstance(nuclide, str) else nuclide
    e, w = nuc.spectrum_energy_MeV, nuc.spectrum_density_per_MeV
    t = np.linspace(0.0, 1.0, n_sub + 1)[:-1]
    x = np.concatenate([e[i] + t * (e[i + 1] - e[i]) for i in range(e.size - 1)] + [e[-1:]])
    y = np.clip(CubicSpline(e, w)(x), 0.0, None)
    cdf = np.concatenate(([0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))))
    cdf /= cdf[-1]
    mean = float(np.sum(0.5 * (x[1:] + x[:-1]) * np.diff(cdf)))
    return x, cdf, mean


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
    except Exception:
        out["git_sha"] = None
    return out


def simulate_kernel(source_e_mev, source_cdf, *, label: str, histories: int, seed: int = 1,
                    batches: int = 40, shell_width_mm: float = 0.05, r_max_mm: float = 14.0,
                    cutoff_MeV: float = 0.01, moller_cut_MeV: float = 0.01,
                    step_fraction: float = 0.02, i_ev: float = 75.0,
                    density_effect: str = "estar", mott: bool = True,
                    normalise_to_MeV: float | None = None) -> DoseKernel:
    """Run the electron MC for a point source in water and return its shell kernel.

    Parameters
    ----------
    source_e_mev, source_cdf : ndarray
        Source energy CDF (see :func:`beta_source_cdf`); ``([E, E], [0, 1])`` for
        monoenergetic electrons.
    label : str
        Kernel name.
    histories, seed, batches : int
        Primary electrons, root seed, batches (batch-method uncertainty).
    shell_width_mm, r_max_mm : float
        Shell width and outer radius of the tally [mm].
    cutoff_MeV, moller_cut_MeV, step_fraction : float
        Transport cut-off E_c, delta-ray threshold W_c [MeV], largest fractional energy loss
        per step.
    i_ev, density_effect, mott
        Physics options of :func:`dosimetry.electron_physics.build_tables`.
    normalise_to_MeV : float, optional
        Scale tallies so that absorbed + bremsstrahlung energy per history equals this [MeV].
    """
    e_max = float(np.max(source_e_mev))
    tables = build_tables(max(3.0, 1.05 * e_max), cut_mev=moller_cut_MeV, i_ev=i_ev,
                          delta_model=density_effect, mott=mott)
    n_shells = int(round(r_max_mm / shell_width_mm))
    t0 = time.perf_counter()
    tally, acc, counts = mc.simulate_point_source(
        source_e_mev, source_cdf, tables, histories=histories, seed=seed, batches=batches,
        shell_width_mm=shell_width_mm, n_shells=n_shells, cutoff_mev=cutoff_MeV,
        step_fraction=step_fraction)
    seconds = time.perf_counter() - t0
    per_batch = tally / counts[:, None]
    mean = tally.sum(axis=0) / histories
    brems = acc[:, mc.ACC_BREMS].sum() / histories
    sampled_mean = float(np.sum(0.5 * (np.asarray(source_e_mev)[1:] + np.asarray(source_e_mev)[:-1])
                                * np.diff(source_cdf)))
    total = mean.sum() + brems
    scale = 1.0 if normalise_to_MeV is None else normalise_to_MeV / total
    sem = per_batch.std(axis=0, ddof=1) / math.sqrt(batches) if batches > 1 else np.full(mean.size, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rse = np.where(mean > 0, sem / mean, np.nan)
    edges = np.arange(n_shells + 1) * shell_width_mm
    shells = mean[:-1] * scale
    meta = {
        "nuclide": label,
        "method": "condensed-history electron Monte Carlo (class II), taresim dosimetry._electron_mc",
        "physics": dict(tables.params, transport_cutoff_MeV=cutoff_MeV, step_fraction=step_fraction,
                        scoring="energy deposited at a uniform random point along each step"),
        "histories": int(histories), "batches": int(batches), "seed": int(seed),
        "shell_width_mm": shell_width_mm, "r_max_mm": float(edges[-1]),
        "uncertainty": "rel_std_err per shell: batch method, std of batch means / sqrt(batches)",
        "energy_beyond_last_shell_MeV_per_decay": float(mean[-1] * scale),
        "sampled_mean_source_energy_MeV": sampled_mean,
        "energy_balance_MeV_per_history": float(total),
        "normalisation_factor": float(scale),
        "steps_per_history": float(acc[:, mc.ACC_STEPS].sum() / histories),
        "delta_rays_per_history": float(acc[:, mc.ACC_DELTAS].sum() / histories),
        "dropped_delta_energy_MeV_per_history": float(acc[:, mc.ACC_DROPPED].sum() / histories),
        "run_seconds": seconds, "histories_per_second": histories / seconds,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update(_code_version())
    shells = shells.copy()
    shells[-1] += mean[-1] * scale  # overflow (should be ~0) kept in the last shell
    return DoseKernel(nuclide=label, r_inner_mm=edges[:-1], r_outer_mm=edges[1:],
                      energy_MeV_per_decay=shells, density_g_cm3=1.0, rel_std_err=rse[:-1],
                      bremsstrahlung_MeV_per_decay=float(brems * scale),
                      emitted_MeV_per_decay=normalise_to_MeV if normalise_to_MeV else sampled_mean,
                      csda_range_water_mm=10.0 * csda_range_g_cm2(e_max, i_ev=i_ev,
                                                                   delta_model=density_effect),
                      metadata=meta)


def build_kernel(nuclide: str = "Y-90", *, histories: int | None = None, seed: int = 20240905,
                 **options) -> DoseKernel:
    """Derive the beta DPK of ``nuclide`` in water from its ICRP-107 spectrum (MC).

    Parameters
    ----------
    nuclide : str
        ICRP-107 beta emitter.
    histories : int, optional
        Primary betas (default from :data:`BUILD_DEFAULTS`, 1e6).
    seed : int
        Root seed.
    **options
        Passed to :func:`simulate_kernel` (shell width, cut-offs, physics).

    Returns
    -------
    DoseKernel
        At 1 g/cm^3, normalised to the ICRP-107 mean beta energy per decay.
    """
    name = normalise_name(nuclide)
    nuc = get_nuclide(name)
    defaults = dict(BUILD_DEFAULTS.get(name, {"shell_width_mm": 0.05, "r_max_mm": 1.2 * 5.0 * nuc.endpoint_energy_MeV,
                                              "histories": 1_000_000}))
    histories = int(histories or defaults.pop("histories"))
    defaults.pop("histories", None)
    defaults.update(options)
    e, cdf, sampled_mean = beta_source_cdf(nuc)
    k = simulate_kernel(e, cdf, label=name, histories=histories, seed=seed,
                        normalise_to_MeV=nuc.mean_beta_energy_MeV, **defaults)
    meta = dict(k.metadata)
    meta.update({"source": "ICRP-107 beta spectrum (icrp107-database), cubic-spline density",
                 "icrp107_mean_beta_energy_MeV": nuc.mean_beta_energy_MeV,
                 "icrp107_endpoint_MeV": nuc.endpoint_energy_MeV,
                 "not_included": "conversion/Auger electrons, gammas, X-rays; bremsstrahlung escapes"})
    return replace(k, metadata=meta)


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
    b.add_argument("--histories", type=int, default=None, help="primary betas (default 1e6)")
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
        k = build_kernel(name, histories=args.histories, seed=args.seed, batches=args.batches)
        paths = write_kernel_files(k, args.out)
        print(f"{k.nuclide}: {k.metadata['histories']} histories in {time.perf_counter() - t0:.1f} s "
              f"({k.metadata['histories_per_second']:.0f} /s) -> {paths[0]}", file=sys.stderr)
        print(json.dumps(k.summary(), indent=2))
    clear_kernel_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
