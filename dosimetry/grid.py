"""Grid mode of the cross-fire dose: voxel-average dose on a regular grid from point sources.

See :func:`dose_on_grid` for the method (exact near table, far field by moment expansion and
FFT, coarse and tail levels for the long range); the kernels are built by
:mod:`dosimetry.grid_kernel`, the FFT levels are in :mod:`dosimetry.grid_fft`. Point mode and
the kernel tables are in :mod:`dosimetry.crossfire`.

References
----------
.. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
.. [2] Hockney RW, Eastwood JW. Computer Simulation Using Particles (1988): charge assignment,
       P3M near/far splitting.
"""
from __future__ import annotations

import math
import time

import numpy as np

from dosimetry import _grid_kernels as gk
from dosimetry._workspace import release as release_workspace
from dosimetry._workspace import workspace
from dosimetry.constants import LIVER_DENSITY_G_CM3
from dosimetry.crossfire import radial_table, sphere_decays
from dosimetry.photons import long_range_on_grid
from dosimetry.grid_fft import (auto_coarse_factor, coarse_level, moment_level,
                                single_error_estimate, slabs, upsample_add, upsample_lebesgue,
                                blocks_all_occupied, reach_map)
from dosimetry.grid_kernel import (SUBGRID_MAX_MM, TAIL_COARSEN, GridKernel, full_range_voxels,
                                   grid_kernel, moment_degrees, q_table,
                                   voxel_mean_dose_from_point)

__all__ = ["dose_on_grid", "grid_kernel", "GridKernel", "q_table", "voxel_mean_dose_from_point",
           "moment_degrees", "release_workspace"]

DEFAULT_NEAR_VOXELS = 3
#: Largest near box that is used instead of the FFT levels when it holds the kernel's whole
#: range (large voxels): (2n + 1)^3 table look-ups per sphere.
MAX_FULL_NEAR_VOXELS = 6
#: Relative size of the FFT round-off below which negative values are set to 0.
ROUNDOFF_CLIP = 1e-12
SPACING_RANGE_MM = (0.01, 10.0)


def _check_choice(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be 'auto' or an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def dose_on_grid(sphere_xyz_mm, sphere_activity_Bq, *, origin_mm, spacing_mm, shape,
                 nuclide="Y-90", density_g_cm3=LIVER_DENSITY_G_CM3, max_fft_bytes=2e9,
                 near_voxels="auto", coarse_factor="auto", fft_precision="auto",
                 return_info=False, degree="auto", photons=True, _long_range=True):
    """Voxel-mean absorbed dose on a regular grid from point sources, for complete decay [Gy].

    Parameters
    ----------
    sphere_xyz_mm : (N, 3) array [mm]
        Sphere positions; spheres outside the grid contribute within the kernel's range.
    sphere_activity_Bq : float or (N,) array [Bq]
        Activity of each sphere at the start of the decay (>= 0).
    origin_mm : (3,) array [mm]
        Position of the CENTRE of voxel (0, 0, 0); voxel (i, j, k) is the box centred at
        ``origin_mm + (i, j, k) * spacing_mm`` with sides ``spacing_mm``.
    spacing_mm : float or (3,) array [mm]
        Voxel size, 0.01-10 mm per axis (anisotropic allowed; verified 0.025-5 mm).
    shape : 3 ints
        Number of voxels per axis (>= 1).
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_cm3 : float
        Tissue density [g/cm^3].
    max_fft_bytes : float
        Memory allowed for the FFT arrays of one tile [bytes]; larger grids are tiled.
    near_voxels : "auto" or int
        Half-width n >= 2 of the box of voxels around each sphere's voxel whose dose is taken
        from the exact near table ("auto": 3, or the whole kernel range when that is at most
        6 voxels, i.e. voxels >= ~1.9 mm for Y-90).
    coarse_factor : "auto", None or 3 ints
        Step of the long-range level in voxels per axis (None: one level; "auto": whichever
        needs the least FFT work).
    fft_precision : {"auto", "single", "double"}
        "auto" (= "single"): the moment level (level 2), and for dense sources the coarse
        level (3), in float32 when its round-off estimate is below ``SINGLE_REL_TOL`` (1e-3)
        of the smallest dose of every voxel it reaches, else in float64 (see Notes);
        "double": float64 only.
    return_info : bool
        Also return a dict with the levels, kernel half-widths, tile counts and a timing
        breakdown [s].
    degree : "auto" or int
        Total degree (1-4) of the moment basis of the far field ("auto": 2).
    photons : bool
        Include the photons: their near share in the finite-range kernel (exact like the
        betas), their long-range share as voxel means by FFT on a coarse grid
        (:func:`dosimetry.photons.long_range_on_grid`); False: charged particles only.

    Returns
    -------
    dose_Gy : ndarray of shape ``shape`` [Gy]
        Mean absorbed dose in each voxel (>= 0).
    info : dict
        Only with ``return_info``.

    Notes
    -----
    The dose in voxel v is sum_s A_s tau T(delta_s, v - v_s): T(delta, o) is the exact mean of
    the point kernel D over the voxel at offset o from the sphere's voxel v_s, for a sphere at
    position delta (in voxel units, [-1/2, 1/2]^3) in its voxel. It is split by offset and
    distance into four levels, each exact where it is used or smooth enough for its
    representation:

    1. Near box (|o_k| <= n, exact): T is tabulated on graded sub-voxel nodes (finer towards
       the faces, where T has a d ln d singularity; 13^3 nodes per octant of delta,
       trilinear) and computed by the divergence theorem: int_V D dV = sum over faces of
       (d_f / 4 pi) int_face e(r) / r^3 dA, e(r) = E(r) / rho the absorbed energy within r
       (face integrals as 1-D integrals of Q(r) = int e / r^2 dr, :mod:`dosimetry._grid_kernels`).
       Each sphere adds its table values to the (2n + 1)^3 voxels around it; no FFT value is
       subtracted, so nothing cancels.
    2. Far field by moments (|o_k| > n somewhere, distance < R2): T(delta, o) is expanded in
       the Legendre polynomials phi_k(delta) of total degree <= p (p = 2: K = 10 functions),
       T ~ sum_k phi_k(delta) c_k(o), c_k(o) = int T phi_k d delta. The polynomial only has
       to follow T over one voxel of source positions, not over the +-2 voxels that a
       5-point charge assignment spans, so it converges like (1 / (2s))^(p+1) at Chebyshev
       distance s (p = 2, worst case over delta: 1.4 % at s = 4, 0.7 % at s = 5, 0.1-0.3 %
       beyond; rms 0.25 % at s = 4). The moment grids M_k(v) = sum over spheres in v of
       decays x phi_k(delta) are convolved with c_k by FFT and summed in Fourier space (one
       inverse FFT); c_k is even or odd per axis with the parity of phi_k, so its spectrum
       is a real DCT-I / DST-I of its octant times (-i)^(odd axes). c_k = 0 inside the near
       box. c_k is computed as int_{[-1,1]^3} D((o + t) h) prod W_d(t_k) dt with the
       piecewise polynomial weights W_d of the change of variables t = u - delta.
    3. Long range on a coarse grid (two levels, when cheaper): D = D (1 - w) + D w with w a
       quintic step from R1 = 6 H to R2 = 14 H (H the coarse step, R1 beyond the near box).
       The moment level carries D (1 - w); D w is smooth on the scale of H and is convolved on
       the coarse grid (5-point Lagrange binning, fine-voxel mean of D w as kernel) and
       interpolated to the voxel centres with cubic Lagrange weights.
    4. Tail (the last ~16 % of the range: D tau, tau a quintic step from 0.84 to 0.94 of the
       range): carried by weights that are all >= 0 (trilinear binning and interpolation on
       the coarse grid, or the moment k = 0 alone with one level), so that the signed
       weights of levels 2-3 never act on a kernel that ends: every contribution is
       (1 + e) T with |e| < 1, hence >= 0. The tail holds D < 5e-14 Gy per decay at
       1.04 g/cm^3 (< 1e-7 of a 100 um sphere voxel's dose); its representation is accurate
       to ~10-30 %.

    Large voxels: when the kernel's range spans at most ``MAX_FULL_NEAR_VOXELS`` voxels the
    near table covers it and levels 2-4 are not needed.

    Precision: levels 1 and 4 are float64. The coarse level (3) is tried in float32 when every
    block of 8^3 coarse nodes holds a source (dense fields), and kept when its round-off bound
    (the FFT term below with the binned coarse grid, plus u ||B||_1 max|kernel| for rounding
    that grid, times the Lebesgue constant of the cubic upsampling) is at most 1e-3 of the
    smallest dose of the grid after levels 1, 3 and 4 minus that bound (every level is >= 0,
    so this is a lower bound of the total); otherwise it is recomputed in float64
    (``info["coarse_precision"]``, ``info["coarse_single_error_rel"]``). The moment level (2)
    is computed last, in float32 (half the FFT time), when its round-off estimate
    (:func:`dosimetry.grid_fft.single_error_estimate`: FFT round-off E, a probabilistic
    bound, over the smallest dose the other levels give to a voxel that some source's moment
    kernel reaches, a lower bound of the total once the coarse level's bound is subtracted,
    plus the binning round-off relative to the dose; measured errors are below a tenth of
    it) is at most 1e-3, and it is added there only (elsewhere it is exactly 0); otherwise in
    float64. Dense and clustered fields use float32 (relative difference
    from float64 ~3e-7 on 10^6 random spheres); sparse sources, whose doses span many decades
    (a single sphere, grids reaching beyond the kernel's range), use float64
    (``info["fft_precision"]``, ``info["single_error_rel"]``).

    Values in [-1e-12 S, 0), S the own-voxel dose of the strongest sphere (or the grid's
    maximum if larger), are set to 0 (``info["clipped"]`` counts them,
    ``info["negative_min_rel"]`` gives the most negative value over S): FFT round-off
    (~1e-16 S) in voxels that no sphere reaches, and, at the kernel's last ~1 mm
    (D ~ 1e-16 Gy per decay), the signed weights of the coarse level acting on the kernel's
    end (measured down to ~1e-19 S). No other clipping: a larger negative value would be
    returned as is.

    Memory: the FFT work arrays of the largest tile (three buffers, 0.4 GB for 256^3 at
    100 um in float32) are kept between calls, so that repeated calls do not pay their page
    faults again (``dosimetry._workspace``; buffers a call did not need are freed after it);
    :func:`release_workspace` frees them (the pipeline does after each call: kept, they add to
    the peak of the work done in between). Calls from several threads at once are safe (the
    others get private arrays).

    Energy: the near table and the kernels use E(r) of the shell table, so sum(dose x voxel
    mass) equals sum(decays) x absorbed energy per decay for spheres whose range lies inside
    the grid. Point mode caps D within r1 / sqrt(3) (29 um at 1.04 g/cm^3); grid mode is the
    mean of the uncapped kernel.

    References
    ----------
    .. [1] Bolch WE et al. MIRD Pamphlet No. 17: voxel S values. J Nucl Med 1999;40:11S.
    .. [2] Hockney RW, Eastwood JW. Computer Simulation Using Particles (1988): charge
           assignment, P3M near/far splitting.
    .. [3] Greengard L, Rokhlin V. A fast algorithm for particle simulations. J Comput Phys
           1987;73:325 (moment expansions of a source cell).
    .. [4] Franquiz JM et al. Beta voxel S values for internal emitter dosimetry. Med Phys
           2003;30:1030 (voxel S by integrating the point kernel).
    .. [5] Higham NJ, Mary T. A new approach to probabilistic rounding error analysis. SIAM J
           Sci Comput 2019;41:A2815 (round-off of the float32 moment level).
    """
    t_start = time.perf_counter()
    shape, h, origin = _check_grid(shape, spacing_mm, origin_mm)
    _check_numbers(density_g_cm3, max_fft_bytes, fft_precision)
    deg = 2 if isinstance(degree, str) and degree == "auto" else _check_choice("degree", degree, 1, 4)
    xyz, decays = sphere_decays(sphere_xyz_mm, sphere_activity_Bq, nuclide)
    tab = radial_table(str(nuclide), float(density_g_cm3), photons=bool(photons))
    n_full = full_range_voxels(tab.r_cut_mm, h)
    if isinstance(near_voxels, str) and near_voxels == "auto":
        n = n_full if n_full <= MAX_FULL_NEAR_VOXELS else DEFAULT_NEAR_VOXELS
    else:
        n = min(_check_choice("near_voxels", near_voxels, 2, 64), n_full)
    if n < n_full and float(h.max()) > SUBGRID_MAX_MM * 1.2:
        out, info = _dose_by_subgrid(sphere_xyz_mm, sphere_activity_Bq, origin, h, shape,
                                     nuclide, density_g_cm3, max_fft_bytes, near_voxels,
                                     coarse_factor, degree, t_start, photons, fft_precision)
        return _with_long_range(out, info, xyz, decays, origin, h, nuclide, density_g_cm3,
                                photons and _long_range, return_info)
    cfac = _coarse_choice(coarse_factor, n, n_full, shape, h, tab.r_cut_mm, max_fft_bytes, deg)
    t0 = time.perf_counter()
    gkern = grid_kernel(str(nuclide), float(density_g_cm3), tuple(float(v) for v in h), n, cfac,
                        deg, bool(photons))
    times = {"kernels": time.perf_counter() - t0, "spectra": 0.0, "binning": 0.0, "fft": 0.0,
             "multiply": 0.0, "coarse": 0.0, "tail": 0.0, "upsample": 0.0, "near": 0.0}
    out = np.zeros(shape)
    info = {"near_voxels": gkern.near_voxels, "degree": deg, "moments": len(gkern.degrees),
            "coarse_factor": cfac,
            "fine_halfwidth": (None if gkern.moments is None else gkern.moment_halfwidth.tolist()),
            "split_mm": gkern.split_mm.tolist(), "fine_tiles": 0, "coarse_tiles": 0,
            "tail_tiles": 0, "clipped": 0, "fft_precision": "double", "times_s": times}
    keep = decays > 0
    xyz, decays = xyz[keep], decays[keep]
    with workspace() as ws:
        if xyz.shape[0] > 0:
            # sources sorted by voxel (x, then y): slabs for the parallel near kernel, locality
            xyz, decays, idx = gk.sort_by_voxel(np.ascontiguousarray(xyz), decays, origin,
                                                1.0 / h, np.array(shape, np.int64),
                                                gkern.near_voxels)
            single = fft_precision != "double"
            attempt = _coarse_levels(out, xyz, decays, origin, h, gkern, float(max_fft_bytes),
                                     info, single, ws)
            _near_level(out, xyz, decays, idx, origin, h, gkern, times)
            coarse_err = _settle_coarse(out, attempt, xyz, decays, origin, h, gkern,
                                        float(max_fft_bytes), info, ws)
            _moment_level(out, xyz, decays, idx, origin, h, gkern, float(max_fft_bytes), info,
                          single, coarse_err, ws)
            _clip_roundoff(out, decays, gkern, info)
        times["total"] = time.perf_counter() - t_start
        return _with_long_range(out, info, xyz, decays, origin, h, nuclide, density_g_cm3,
                                photons and _long_range, return_info, ws)


def _with_long_range(out, info, xyz, decays, origin, h, nuclide, density, add, return_info,
                     ws=None):
    """Add the photons' long-range voxel means (when ``add``) and return as asked."""
    if add and xyz.shape[0] > 0:
        t0 = time.perf_counter()
        work = None if ws is None else ws.array("acc", out.shape, np.float64, zero=True)
        long = long_range_on_grid(origin, h, out.shape, xyz, decays, nuclide=str(nuclide),
                                  density_g_cm3=float(density), out=work)
        # the interpolated smooth field may dip below 0 by its round-off where it is ~0
        # (within R1 of isolated spheres, where the betas dominate by orders of magnitude)
        info["long_range_negative_min_Gy"] = min(gk.add_positive_part(out, long), 0.0)
        del long, work
        info["times_s"]["photons_long_range"] = time.perf_counter() - t0
        info["times_s"]["total"] = info["times_s"].get("total", 0.0) + info["times_s"][
            "photons_long_range"]
    return (out, info) if return_info else out


def _check_grid(shape, spacing_mm, origin_mm):
    """(shape, spacing, origin) as 3 ints and two float arrays, or one ValueError each."""
    try:
        shape = tuple(int(v) for v in np.broadcast_to(np.asarray(shape), (3,)))
    except (TypeError, ValueError):
        raise ValueError(f"shape {shape!r} must be 3 positive integers") from None
    if any(v < 1 for v in shape):
        raise ValueError(f"shape {shape} must be 3 positive integers")
    try:
        h = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (3,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f"spacing_mm {spacing_mm!r} must be 1 or 3 numbers in "
                         f"[{SPACING_RANGE_MM[0]}, {SPACING_RANGE_MM[1]}] mm") from None
    if not np.all(np.isfinite(h)) or np.any(h < SPACING_RANGE_MM[0]) \
            or np.any(h > SPACING_RANGE_MM[1]):
        raise ValueError(f"spacing_mm {spacing_mm!r} must lie in [{SPACING_RANGE_MM[0]}, "
                         f"{SPACING_RANGE_MM[1]}] mm on every axis")
    try:
        origin = np.broadcast_to(np.asarray(origin_mm, dtype=float), (3,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f"origin_mm {origin_mm!r} must be 3 finite numbers [mm]") from None
    if not np.all(np.isfinite(origin)):
        raise ValueError("origin_mm must be 3 finite numbers [mm]")
    return shape, h, origin


def _check_numbers(density_g_cm3, max_fft_bytes, fft_precision):
    if not (isinstance(density_g_cm3, (int, float, np.floating, np.integer))
            and 0.1 <= float(density_g_cm3) <= 25.0):
        raise ValueError(f"density_g_cm3 {density_g_cm3!r} must lie in [0.1, 25] g/cm^3")
    if not (isinstance(max_fft_bytes, (int, float, np.floating, np.integer))
            and float(max_fft_bytes) > 0):
        raise ValueError(f"max_fft_bytes {max_fft_bytes!r} must be a positive number of bytes")
    if fft_precision not in ("auto", "single", "double"):
        raise ValueError("fft_precision must be 'auto', 'single' or 'double'")


def _coarse_choice(coarse_factor, n, n_full, shape, h, r_cut, max_fft_bytes, deg):
    """The coarse step factor: None for one level (or a near box holding the whole range)."""
    if isinstance(coarse_factor, str):
        if coarse_factor != "auto":
            raise ValueError("coarse_factor must be 'auto', None or 3 positive integers")
        return None if n >= n_full else auto_coarse_factor(shape, h, r_cut, n,
                                                           float(max_fft_bytes), deg)
    if coarse_factor is None or n >= n_full:
        return None
    try:
        cfac = tuple(int(v) for v in np.broadcast_to(np.asarray(coarse_factor), (3,)))
    except (TypeError, ValueError):
        raise ValueError("coarse_factor must be 'auto', None or 3 positive integers") from None
    if any(v < 1 for v in cfac):
        raise ValueError("coarse_factor must be 'auto', None or 3 positive integers")
    return cfac


def _coarse_levels(out, xyz, decays, origin, h, gkern, max_fft_bytes, info, allow_single, ws):
    """Levels 3-4 (see :func:`dose_on_grid`): coarse long range and tail. The coarse level is
    tried in float32 when ``allow_single`` and every block of REACH_BLOCK^3 coarse nodes holds
    a source (dense sources; elsewhere the smallest dose is too small against its round-off):
    returns (coarse node values, their round-off bound on the fine grid [Gy]) for
    :func:`_settle_coarse`, else None."""
    if gkern.coarse is None:
        return None
    times = info["times_s"]
    shp = np.array(out.shape, dtype=np.int64)
    t0 = time.perf_counter()
    m = gkern.coarse_factor
    nc = tuple(int(v) for v in (shp - 1) // m + 4)
    cidx = gk.node_index(xyz, origin, 1.0 / (m * h), 0.5)
    g0 = -np.ones(3, np.int64)
    single = allow_single and blocks_all_occupied(cidx, nc, g0, REACH_BLOCK)
    coarse = np.zeros(nc)
    info["coarse_tiles"], err = coarse_level(coarse, g0, xyz, decays, cidx, origin, m * h,
                                             gkern.coarse, "quart", max_fft_bytes, single, ws)
    info["coarse_halfwidth"] = gkern.coarse_halfwidth.tolist()
    info["coarse_precision"] = "double"
    times["coarse"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    mt = TAIL_COARSEN * m
    tail = np.zeros(tuple(int(v) for v in (shp - 1) // mt + 4))
    tidx = gk.node_index(xyz, origin, 1.0 / (mt * h), 0.0)
    info["tail_tiles"] = coarse_level(tail, g0, xyz, decays, tidx, origin, mt * h, gkern.tail,
                                      "cic", max_fft_bytes, ws=ws)[0]
    times["tail"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    upsample_add(coarse, m, out, "cubic")
    upsample_add(tail, mt, out, "linear")
    times["upsample"] = time.perf_counter() - t0
    if not single:
        return None
    return coarse, cidx, err * upsample_lebesgue(m, "cubic")


def _settle_coarse(out, attempt, xyz, decays, origin, h, gkern, max_fft_bytes, info, ws):
    """Keep the float32 coarse level when its round-off bound E is at most SINGLE_REL_TOL of
    the smallest dose of the grid so far (levels 1, 3, 4 minus E: a lower bound of the total,
    every level being >= 0), else replace it by the float64 one. Returns the round-off left
    in ``out`` [Gy] (0 in float64)."""
    if attempt is None:
        return 0.0
    t0 = time.perf_counter()
    coarse32, cidx, err = attempt
    low = float(out.min()) - err
    info["coarse_single_error_rel"] = err / low if low > 0 else math.inf
    if info["coarse_single_error_rel"] <= SINGLE_REL_TOL:
        info["coarse_precision"] = "single"
        info["times_s"]["coarse"] += time.perf_counter() - t0
        return err
    m = gkern.coarse_factor
    coarse = np.zeros(coarse32.shape)
    coarse_level(coarse, -np.ones(3, np.int64), xyz, decays, cidx, origin, m * h, gkern.coarse,
                 "quart", max_fft_bytes, ws=ws)
    coarse -= coarse32
    upsample_add(coarse, m, out, "cubic")
    info["coarse_precision"] = "double (single rejected)"
    info["times_s"]["coarse"] += time.perf_counter() - t0
    return 0.0


#: Largest relative round-off of the float32 moment level (its estimate over the smallest
#: dose, before that level, of a voxel it reaches) for which float32 is used.
SINGLE_REL_TOL = 1e-3
#: Block size [voxels] of the map of voxels reached by the moment level.
REACH_BLOCK = 8


def _moment_level(out, xyz, decays, idx, origin, h, gkern, max_fft_bytes, info, allow_single,
                  coarse_err, ws):
    """Level 2 (see :func:`dose_on_grid`), added last: in float32 when its round-off estimate
    (:func:`dosimetry.grid_fft.single_error_estimate`) is at most SINGLE_REL_TOL of the
    smallest dose already in ``out`` (levels 1, 3, 4: a lower bound of the total) over the
    voxels a source's moment kernel reaches, and only there (elsewhere that level is exactly
    0); else in float64 (sparse sources: single spheres, isolated clusters, grids reaching
    beyond the kernel's range)."""
    if gkern.moments is None:
        return
    times = info["times_s"]
    if allow_single:
        t0 = time.perf_counter()
        reach = reach_map(idx, gkern.moment_halfwidth, out.shape, REACH_BLOCK)
        smallest = gk.min_reached(out, reach, REACH_BLOCK) - coarse_err
        err, binning = single_error_estimate(decays, idx, gkern, out.shape, max_fft_bytes)
        info["single_error_rel"] = err / smallest + binning if smallest > 0 else math.inf
        times["precision_check"] = time.perf_counter() - t0
        if info["single_error_rel"] <= SINGLE_REL_TOL:
            info["fine_tiles"] = moment_level(out, xyz, decays, idx, origin, h, gkern,
                                              max_fft_bytes, times, single=True, reach=reach,
                                              block=REACH_BLOCK, ws=ws)
            info["fft_precision"] = "single"
            return
        info["fft_precision"] = "double (single rejected)"
    info["fine_tiles"] = moment_level(out, xyz, decays, idx, origin, h, gkern, max_fft_bytes,
                                      times, ws=ws)


def _near_level(out, xyz, decays, idx, origin, h, gkern, times):
    """Level 1: the exact near table added in the (2n + 1)^3 voxels around each sphere."""
    t0 = time.perf_counter()
    nb = gkern.near_voxels
    shp = np.array(out.shape, dtype=np.int64)
    inside = np.flatnonzero(gk.in_box(idx, np.full(3, -nb, np.int64), shp + nb))
    if inside.size:
        gk.near_add(np.ascontiguousarray(xyz[inside]), np.ascontiguousarray(decays[inside]),
                    slabs(idx[inside, 0], 2 * nb + 1), origin, 1.0 / h, shp, nb,
                    gkern.near_nodes, gkern.near,
                    gkern.near if gkern.near_log is None else gkern.near_log,
                    gkern.near_log is not None, out)
    times["near"] = time.perf_counter() - t0


def _clip_roundoff(out, decays, gkern, info):
    """Set FFT round-off below 0 to 0 (see Notes), relative to the dose scale of the sources
    (the own-voxel dose of the strongest sphere), not to the grid's maximum, which a grid far
    from every sphere lacks."""
    neg = out < 0.0
    if not neg.any():
        return
    nb = gkern.near_voxels
    scale = max(float(out.max(initial=0.0)),
                float(decays.max()) * float(gkern.near[(0, 0, 0) + (nb, nb, nb)]))
    info["negative_min_rel"] = float(out.min()) / scale
    tiny = neg & (out >= -ROUNDOFF_CLIP * scale)
    info["clipped"] = int(np.count_nonzero(tiny))
    out[tiny] = 0.0


#: Largest number of sub-voxels computed at once by :func:`_dose_by_subgrid`.
SUBGRID_CHUNK_VOXELS = 32 * 1024 ** 2


def _dose_by_subgrid(xyz, act, origin, h, shape, nuclide, density, max_fft_bytes, near_voxels,
                     coarse_factor, degree, t_start, photons, fft_precision):
    """Dose on voxels larger than SUBGRID_MAX_MM: the mean over m^3 sub-voxels of size h / m
    (exact: a voxel mean is the mean of its equal sub-voxels' means), in slabs along x."""
    m = np.ceil(h / SUBGRID_MAX_MM - 1e-9).astype(np.int64)
    hs = h / m
    out = np.zeros(shape)
    plane = int(np.prod(m[1:])) * shape[1] * shape[2] * int(m[0])
    slab = max(1, min(shape[0], SUBGRID_CHUNK_VOXELS // max(plane, 1)))
    info = None
    for i0 in range(0, shape[0], slab):
        nx = min(slab, shape[0] - i0)
        sub_shape = (nx * int(m[0]), shape[1] * int(m[1]), shape[2] * int(m[2]))
        # centre of sub-voxel 0 of voxel (i0, 0, 0)
        sub_origin = origin + np.array([i0, 0, 0]) * h - 0.5 * h + 0.5 * hs
        d, inf = dose_on_grid(xyz, act, origin_mm=sub_origin, spacing_mm=hs, shape=sub_shape,
                              nuclide=nuclide, density_g_cm3=density, max_fft_bytes=max_fft_bytes,
                              near_voxels=near_voxels, coarse_factor=coarse_factor,
                              return_info=True, degree=degree, photons=photons,
                              fft_precision=fft_precision, _long_range=False)
        out[i0:i0 + nx] = d.reshape(nx, m[0], shape[1], m[1], shape[2], m[2]).mean(axis=(1, 3, 5))
        if info is None:
            info = dict(inf, subgrid=m.tolist(), subgrid_slabs=0)
            info["times_s"] = dict(inf["times_s"])
        else:
            info["clipped"] += inf["clipped"]
            if inf["fft_precision"] != info["fft_precision"]:
                info["fft_precision"] = "mixed (per slab)"
            for k, v in inf["times_s"].items():
                info["times_s"][k] += v
        info["subgrid_slabs"] += 1
    info["times_s"]["total"] = time.perf_counter() - t_start
    return out, info
