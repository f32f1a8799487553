"""The photon share of the dose: a short part that joins the charged-particle kernel, and a
long part summed by FFT.

The photon kernel P(r) of a nuclide (bremsstrahlung of its electrons, Ho-166's gamma and X
lines; :func:`dosimetry.kernels.load_photon_kernel`, to 400 mm in water) diverges like 1/r^2 at
the source and reaches the whole body. It is split with a smooth step w(r) (0 below R1, 1 above
R2, quintic; :func:`dosimetry.longrange.split_weight`), R2 the charged-particle range at the
density and R1 = R2 / 2:

* P (1 - w) is added shell by shell to the charged-particle kernel (:func:`short_range_kernel`):
  it has the betas' range, so every dose engine (point sums, exact voxel means, ball means)
  handles it exactly, with the betas;
* P w has no singularity and varies on the scale R2 - R1 (5.3 mm for Y-90 in liver) and beyond:
  it is summed over all sources by FFT on two grids (:func:`long_range_at_points`,
  :func:`long_range_on_grid`; particle-mesh, :mod:`dosimetry.longrange`), as values at points or
  voxel means: a medium level to R4 = 8 R2 on a step of (R2 - R1) / 4, and a far level beyond
  R3 = 4 R2 on a step of (R4 - R3) / 4 (the two shares of P w meet with another smooth step).

Energy per decay: the short kernel's energy plus :func:`long_range_energy_MeV` is the energy
the two shipped kernels deposit within their tables; the photon energy deposited beyond 400 mm
(``metadata["energy_beyond_table_MeV_per_decay"]``) is not in any dose.

References
----------
.. [1] Hockney RW, Eastwood JW. Computer Simulation Using Particles. IOP, 1988 (P3M splitting
       of a kernel into a short part summed directly and a smooth part on a mesh).
.. [2] Graves SA, Flynn RT, Hyer DE. Dose point kernels for 2,174 radionuclides. Med Phys
       2019;46:5284 (Y-90 kernel with its bremsstrahlung tail to ~400 mm).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
import math

import numpy as np
from scipy.interpolate import make_smoothing_spline

from dosimetry import _grid_kernels as gk
from dosimetry.constants import J_PER_MEV
from dosimetry.kernel_model import DoseKernel
from dosimetry.kernels import load_kernel, load_photon_kernel
from dosimetry.longrange import (over_r2_table, smooth_field_at_points, smooth_field_on_grid,
                                 split_weight)

__all__ = ["short_range_kernel", "photon_energy_density", "long_range_energy_MeV", "long_range_at_points",
           "long_range_on_grid", "split_radii_mm", "absorbed_energy_per_decay_MeV",
           "photon_emitted_fraction",
           "MAX_LONG_RANGE_NODES"]

#: Largest FFT grid of the long-range part [nodes]; the step grows beyond it.
MAX_LONG_RANGE_NODES = 2.4e7
#: The long part's grid step as a fraction of the ramp R2 - R1 (the step's upper bound while
#: the grid fits in MAX_LONG_RANGE_NODES).
_STEP_OF_RAMP = 0.25


def _nuclide_has_photons(nuclide: str) -> bool:
    try:
        load_photon_kernel(nuclide)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=16)
def _smooth_water_density(nuclide: str):
    """Smoothing spline of ln(dE/dr) against ln r for the photon kernel in water beyond its
    first shell, the factor that keeps those shells' energy, the first shell's outer radius
    and the table's end [mm]."""
    p = load_photon_kernel(nuclide, density_g_cm3=1.0)
    width = p.r_outer_mm - p.r_inner_mm
    mid = 0.5 * (p.r_outer_mm + p.r_inner_mm)
    y = p.energy_MeV_per_decay / width
    w = 1.0 / np.maximum(p.rel_std_err, 1e-3) ** 2
    spl = make_smoothing_spline(np.log(mid), np.log(y), w=w / w.mean())
    r, gw = _gauss_shells(p.r_outer_mm)
    fitted = (np.exp(spl(np.log(r))) * gw).sum()
    return (spl, float(p.energy_MeV_per_decay[1:].sum() / fitted), float(p.r_outer_mm[0]),
            float(p.r_outer_mm[-1]))


def photon_energy_density(nuclide: str, density_g_cm3: float, r_mm):
    """dE/dr of the photon kernel [MeV/mm], smoothed.

    The Monte Carlo shells (0.5-10 mm wide, 2-8 % statistical error each) beyond the first are
    fitted by a cubic smoothing spline of ln(dE/dr) in ln r (weights 1 / rel_err^2, smoothing
    by generalised cross-validation) scaled to keep their energy; within the first shell
    (0.5 mm in water, where Ho-166's soft X rays are absorbed) the shipped table's own
    dE/dr is kept. The true kernel is smooth: pointwise values of the raw shells would carry
    their noise into every dose beyond the beta range. Density scaling:
    dE/dr_rho(r) = rho dE/dr_w(rho r). Zero beyond the table.
    """
    spl, factor, r_first, r_end = _smooth_water_density(nuclide)
    rw = np.asarray(r_mm, dtype=float) * density_g_cm3
    val = factor * np.exp(spl(np.log(np.maximum(rw, r_first))))
    raw = load_photon_kernel(nuclide, density_g_cm3=1.0).energy_density_MeV_per_mm(
        np.minimum(rw, r_first))
    val = np.where(rw < r_first, raw, val)
    return np.where(rw < r_end, density_g_cm3 * val, 0.0)


def split_radii_mm(nuclide: str, density_g_cm3: float) -> tuple[float, float]:
    """(R1, R2) of the split [mm]: R2 the charged-particle kernel's range at the density."""
    r2 = float(load_kernel(nuclide, density_g_cm3=density_g_cm3).range_mm)
    return 0.5 * r2, r2


def _gauss_shells(edges, n=8):
    """Gauss-Legendre nodes and weights of every interval of ``edges`` (rows: intervals)."""
    x, w = np.polynomial.legendre.leggauss(n)
    a, b = edges[:-1, None], edges[1:, None]
    return 0.5 * (a + b) + 0.5 * (b - a) * x[None, :], 0.5 * (b - a) * w[None, :]


@lru_cache(maxsize=16)
def short_range_kernel(nuclide: str, density_g_cm3: float) -> DoseKernel:
    """Charged-particle kernel plus the near share P (1 - w) of the photon kernel, on the
    charged kernel's shells (same range). Without a photon kernel: the charged kernel."""
    k = load_kernel(nuclide, density_g_cm3=density_g_cm3)
    if not _nuclide_has_photons(nuclide):
        return k
    p = load_photon_kernel(nuclide, density_g_cm3=density_g_cm3)
    r1, r2 = split_radii_mm(nuclide, density_g_cm3)
    edges = np.concatenate(([k.r_inner_mm[0]], k.r_outer_mm))
    r, w = _gauss_shells(edges)
    dens = photon_energy_density(nuclide, density_g_cm3, r)
    near = ((dens * (1.0 - split_weight(r, r1, r2))) * w).sum(axis=1)
    meta = dict(k.metadata, kernel="charged particles + photons within the split radius",
                photon_split_mm=[r1, r2])
    return replace(k, energy_MeV_per_decay=k.energy_MeV_per_decay + near, rel_std_err=None,
                   metadata=meta)


@lru_cache(maxsize=16)
def _long_table(nuclide: str, density_g_cm3: float):
    """g = r^2 P(r) w(r) on a 0.05 mm grid to the photon table's end, the step, R1 and the
    table's end [mm]."""
    p = load_photon_kernel(nuclide, density_g_cm3=density_g_cm3)
    r1, r2 = split_radii_mm(nuclide, density_g_cm3)
    step = 0.05
    r = np.arange(int(math.ceil(p.r_outer_mm[-1] / step)) + 2) * step
    rho_kg_mm3 = density_g_cm3 * 1e-6
    g = photon_energy_density(nuclide, density_g_cm3, r) * J_PER_MEV / (4.0 * math.pi * rho_kg_mm3)
    g *= split_weight(r, r1, r2)
    g.setflags(write=False)
    return g, step, r1, float(p.r_outer_mm[-1])


def _long_kernel(nuclide, density_g_cm3, level=None):
    """The long part P w as a vectorised K(r) [Gy per decay] and the table's end [mm]; with
    ``level`` ("medium" or "far") only that level's share (see :func:`_levels`)."""
    g, step, r1, r_end = _long_table(nuclide, density_g_cm3)
    r3, r4 = _far_split_mm(nuclide, density_g_cm3)

    def kernel(r):
        val = np.where((r > r1) & (r < r_end), over_r2_table(g, step, r), 0.0)
        if level == "medium":
            return val * (1.0 - split_weight(r, r3, r4))
        if level == "far":
            return val * split_weight(r, r3, r4)
        return val

    return kernel, r_end


def _far_split_mm(nuclide, density_g_cm3):
    """(R3, R4) = (2 R2, 4 R2): the medium level ends and the far level begins between them."""
    r2 = split_radii_mm(nuclide, density_g_cm3)[1]
    return 2.0 * r2, 4.0 * r2


@lru_cache(maxsize=16)
def long_range_energy_MeV(nuclide: str, density_g_cm3: float) -> float:
    """Energy per decay of the long part P w within the photon table [MeV] (0 without
    photons)."""
    if not _nuclide_has_photons(nuclide):
        return 0.0
    p = load_photon_kernel(nuclide, density_g_cm3=density_g_cm3)
    r1, r2 = split_radii_mm(nuclide, density_g_cm3)
    edges = np.concatenate(([0.0], np.linspace(r1, r2, 65)[1:], p.r_outer_mm[p.r_outer_mm > r2]))
    r, w = _gauss_shells(np.unique(edges))
    ramp = (photon_energy_density(nuclide, density_g_cm3, r) * split_weight(r, r1, r2) * w).sum()
    return float(ramp)


def photon_emitted_fraction(nuclide: str) -> float:
    """Share of the energy emitted per decay that leaves as photons (bremsstrahlung above
    1 keV, gamma and X lines) [1]; 0 without a photon kernel."""
    if not _nuclide_has_photons(nuclide):
        return 0.0
    p = load_photon_kernel(nuclide)
    c = load_kernel(nuclide)
    lines = float(p.metadata.get("photon_lines_emitted_MeV_per_decay", 0.0))
    return float(p.metadata["photon_emitted_MeV_per_decay"]) / (c.emitted_MeV_per_decay + lines)


def absorbed_energy_per_decay_MeV(nuclide: str, density_g_cm3: float,
                                  photons: bool = True) -> float:
    """Energy per decay that the dose engines deposit in infinite tissue [MeV]: the charged
    kernel's, plus, with ``photons``, the photon kernel's within its table."""
    if not photons:
        return float(load_kernel(nuclide, density_g_cm3=density_g_cm3).energy_per_decay_MeV)
    return (float(short_range_kernel(nuclide, density_g_cm3).energy_per_decay_MeV)
            + long_range_energy_MeV(nuclide, density_g_cm3))


def _levels(nuclide, density_g_cm3, lo, hi, src, max_nodes):
    """The FFT levels of the long part for targets in [lo, hi] and sources ``src``:
    (kernel, reach [mm], step [mm]) per level.

    The medium level carries P w (1 - w') (w' rising from R3 = 2 R2 to R4 = 4 R2) on a step of
    (R2 - R1) / 4 (1.3 mm for Y-90 in liver): it resolves the split ramp and the 1/r^2 fall
    just beyond the beta range, for the targets within R4 of the sources' box. The far level
    carries P w w', smooth on the scale R4 - R3, on a step of (R4 - R3) / 4. A level is skipped
    when no source-target distance reaches it; a grid larger than ``max_nodes`` gets a larger
    step (less accurate; the steps used are those this function returns).
    """
    r1, r2 = split_radii_mm(nuclide, density_g_cm3)
    r3, r4 = _far_split_mm(nuclide, density_g_cm3)
    s_lo, s_hi = gk.bounding_box(np.ascontiguousarray(src, dtype=np.float64))
    out = []
    for level, start, stop, step in (("medium", r1, r4, _STEP_OF_RAMP * (r2 - r1)),
                                     ("far", r3, None, _STEP_OF_RAMP * (r4 - r3))):
        kernel, r_end = _long_kernel(nuclide, density_g_cm3, level)
        reach = r_end if stop is None else stop
        t_lo, t_hi = np.maximum(lo, s_lo - reach), np.minimum(hi, s_hi + reach)
        if np.any(t_hi < t_lo):
            continue
        farthest = float(np.linalg.norm(np.maximum(np.abs(t_hi - s_lo), np.abs(s_hi - t_lo))))
        if farthest <= start:
            continue
        nodes = float(np.prod((t_hi - t_lo + 2.0 * min(reach, farthest)) / step + 8.0))
        if nodes > max_nodes:
            step *= (nodes / max_nodes) ** (1.0 / 3.0)
        # the kernel is needed beyond the farthest pair by the spreading and interpolation
        # stencils (2 nodes each way per axis)
        out.append((kernel, min(reach, farthest + 4.0 * math.sqrt(3.0) * step), step, t_lo,
                    t_hi))
    return out


def long_range_at_points(points_mm, sphere_xyz_mm, decays, *, nuclide: str,
                         density_g_cm3: float, max_nodes: float = MAX_LONG_RANGE_NODES):
    """Long-range photon dose sum_s decays_s P w(|p - x_s|) at points [Gy].

    Parameters
    ----------
    points_mm : (P, 3) array [mm]
    sphere_xyz_mm : (N, 3) array [mm]
    decays : (N,) array
        Decays of each source (A tau) [1].
    nuclide : str
    density_g_cm3 : float
    max_nodes : float
        Largest FFT grid [nodes].

    Returns
    -------
    (P,) ndarray [Gy]; zeros for a nuclide without photon kernel.
    """
    pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
    src = np.asarray(sphere_xyz_mm, dtype=float).reshape(-1, 3)
    if pts.shape[0] == 0 or src.shape[0] == 0 or not _nuclide_has_photons(nuclide):
        return np.zeros(pts.shape[0])
    out = np.zeros(pts.shape[0])
    for kernel, reach, step, t_lo, t_hi in _levels(nuclide, float(density_g_cm3),
                                                   pts.min(axis=0), pts.max(axis=0), src,
                                                   max_nodes):
        sel = np.all((pts >= t_lo) & (pts <= t_hi), axis=1)
        out[sel] += smooth_field_at_points(pts[sel], src, decays, kernel, reach, step)
    return out


def long_range_on_grid(origin_mm, spacing_mm, shape, sphere_xyz_mm, decays, *, nuclide: str,
                       density_g_cm3: float, max_nodes: float = MAX_LONG_RANGE_NODES,
                       out=None):
    """Voxel-mean long-range photon dose on a regular grid [Gy] (zeros without photons).

    Parameters as for :func:`long_range_at_points`, with the grid given by the centre of voxel
    (0, 0, 0), the voxel size [mm] and the shape; ``out``: an array of zeros of ``shape`` to
    write the result into (else a new one).
    """
    shape = tuple(int(v) for v in shape)
    src = np.asarray(sphere_xyz_mm, dtype=float).reshape(-1, 3)
    out = np.zeros(shape) if out is None else out
    if src.shape[0] == 0 or not _nuclide_has_photons(nuclide):
        return out
    g0 = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,))
    gs = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,))
    lo, hi = g0 - 0.5 * gs, g0 + gs * (np.array(shape) - 0.5)
    half = 0.5 * float(np.linalg.norm(gs))  # voxel means: the kernel reaches half a diagonal
    for kernel, reach, step, t_lo, t_hi in _levels(nuclide, float(density_g_cm3), lo - half,
                                                   hi + half, src, max_nodes):
        i0 = np.clip(np.floor((t_lo - half - g0) / gs).astype(int), 0, np.array(shape))
        i1 = np.clip(np.ceil((t_hi + half - g0) / gs).astype(int) + 1, 0, np.array(shape))
        if np.any(i1 <= i0):
            continue
        sub = tuple(slice(a, b) for a, b in zip(i0, i1))
        smooth_field_on_grid(g0 + i0 * gs, gs, tuple(i1 - i0), src, decays, kernel,
                             reach + half, step, add_to=out[sub])
    return out
