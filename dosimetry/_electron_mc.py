"""Numba kernels of the condensed-history electron Monte Carlo (point source in water).

Class II scheme (Berger 1963 [1]_): continuous soft losses from the restricted stopping power
with Gaussian straggling, explicit Moller delta rays above the cut W_c (transported too),
bremsstrahlung as a continuous loss that escapes, multiple elastic scattering per step from a
Wentzel distribution with the exact first transport moment, applied at a random hinge point
([2]_). Steps lose at most a fraction ``f`` of the energy (EGS "ESTEPE"-like). Energy lost
along a step is deposited at a point drawn uniformly along the (two-leg) path; electrons below
the cut-off E_c deposit their energy where they stop.

Randomness: each history has its own xoshiro256** stream seeded by splitmix64 from
(seed, history index) (:mod:`dosimetry.rng`), so tallies do not depend on the number of
threads. Histories are grouped in contiguous batches; each batch tallies into its own row (batch method for the
statistical uncertainty), and batches run in parallel (``prange``).

References
----------
.. [1] Berger MJ. Monte Carlo calculation of the penetration and diffusion of fast charged
       particles. Methods Comput Phys 1963;1:135.
.. [2] Fernandez-Varea JM et al. Nucl Instrum Meth B 1993;73:447 (random hinge, Wentzel MS).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from dosimetry.electron_physics import MEC2_MEV as MEC2
from dosimetry.rng import seed_hash, xoshiro_normal as _normal, xoshiro_seed as _seed
from dosimetry.rng import xoshiro_uniform as _uniform
#: Columns of the per-batch accumulator: bremsstrahlung [MeV], energy of dropped delta rays
#: (stack full) [MeV], steps, delta rays.
ACC_BREMS, ACC_DROPPED, ACC_STEPS, ACC_DELTAS = 0, 1, 2, 3


@njit(inline="always")
def _interp(tab, row, lne, ln_e0, inv_dln):
    f = (lne - ln_e0) * inv_dln
    n = tab.shape[1]
    i = int(f)
    if i < 0:
        i = 0
    elif i > n - 2:
        i = n - 2
    w = f - i
    if w < 0.0:
        w = 0.0
    elif w > 1.0:
        w = 1.0
    return tab[row, i] * (1.0 - w) + tab[row, i + 1] * w


@njit(inline="always")
def _energy_at_range(tab, r, ln_e0, dln):
    """Inverse of the soft range R_s(E) (row 0, piecewise linear in ln E) [MeV]."""
    n = tab.shape[1]
    if r <= tab[0, 0]:
        return math.exp(ln_e0)
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if tab[0, mid] > r:
            hi = mid
        else:
            lo = mid
    w = (r - tab[0, lo]) / (tab[0, hi] - tab[0, lo])
    return math.exp(ln_e0 + (lo + w) * dln)


@njit(inline="always")
def _rotate(u, v, w, cost, phi):
    sint = math.sqrt(max(0.0, 1.0 - cost * cost))
    cphi, sphi = math.cos(phi), math.sin(phi)
    if abs(w) > 0.99999999:
        sgn = 1.0 if w > 0 else -1.0
        return sint * cphi, sint * sphi, cost * sgn
    tmp = math.sqrt(1.0 - w * w)
    un = u * cost + sint * (u * w * cphi - v * sphi) / tmp
    vn = v * cost + sint * (v * w * cphi + u * sphi) / tmp
    wn = w * cost - sint * cphi * tmp
    norm = 1.0 / math.sqrt(un * un + vn * vn + wn * wn)
    return un * norm, vn * norm, wn * norm


@njit(inline="always")
def _deposit(tally, x, y, z, e, inv_dr):
    nsh = tally.shape[0] - 1
    r = math.sqrt(x * x + y * y + z * z) * inv_dr
    if r < nsh:
        tally[int(r)] += e
    else:
        tally[nsh] += e


@njit(inline="always")
def _ms_cos(s, t, ms_ln_a, ms_ln_t0, ms_inv_dln):
    """cos(theta) of one multiple-scattering deflection for t = path / lambda_1."""
    if t < 1e-7:
        return 1.0
    lt = math.log(t)
    f = (lt - ms_ln_t0) * ms_inv_dln
    n = ms_ln_a.shape[0]
    if f >= n - 1:
        return 2.0 * _uniform(s) - 1.0  # fully diffused: isotropic
    i = int(f)
    w = f - i
    a = math.exp(ms_ln_a[i] * (1.0 - w) + ms_ln_a[i + 1] * w)
    xi = _uniform(s)
    return 1.0 - 2.0 * a * xi / (1.0 - xi + a)


@njit(inline="always")
def _moller_fraction(s, e, wcut):
    """Energy fraction x = W/E given to the delta ray, sampled from the Moller cross section."""
    xmin, xmax = wcut / e, 0.5
    gam = e / MEC2 + 1.0
    gg = (2.0 * gam - 1.0) / (gam * gam)
    y = 1.0 - xmax
    grej = 1.0 - gg * xmax + xmax * xmax * (1.0 - gg + (1.0 - gg * y) / (y * y))
    while True:
        r0 = _uniform(s)
        x = xmin * xmax / (xmin * (1.0 - r0) + xmax * r0)
        y = 1.0 - x
        z = 1.0 - gg * x + x * x * (1.0 - gg + (1.0 - gg * y) / (y * y))
        if grej * _uniform(s) <= z:
            return x


@njit
def _transport(e, x, y, z, u, v, w, s, tab, ln_e0, dln, ms_ln_a, ms_ln_t0, ms_inv_dln,
               ecut, wcut, frac, inv_dr, stk, tally, acc):
    """Transport one electron and all its delta rays to the cut-off (lengths in cm)."""
    inv_dln = 1.0 / dln
    nstk = 0
    while True:
        while e > ecut:
            lne = math.log(e)
            r0 = _interp(tab, 0, lne, ln_e0, inv_dln)
            e_low = e * (1.0 - frac)
            last = e_low <= ecut  # this step slows the electron down to the cut-off
            if last:
                e_low = ecut
            step = r0 - _interp(tab, 0, math.log(e_low), ln_e0, inv_dln)
            hard = False
            sig = _interp(tab, 2, lne, ln_e0, inv_dln)
            if sig > 0.0:
                sh = -math.log(_uniform(s)) / sig
                if sh < step:
                    step = sh
                    hard = True
            e_end = _energy_at_range(tab, r0 - step, ln_e0, dln)
            de = e - e_end
            lmid = math.log(0.5 * (e + e_end))
            de_rad = de * _interp(tab, 1, lmid, ln_e0, inv_dln)
            de_col = de - de_rad
            var = _interp(tab, 3, lmid, ln_e0, inv_dln) * step
            if var > 0.0:
                d = de_col + math.sqrt(var) * _normal(s)
                de_col = min(max(d, 0.0), 2.0 * de_col)  # symmetric clip keeps the mean
            if de_col + de_rad > e:
                de_col = e - de_rad
            t = _interp(tab, 4, lne, ln_e0, inv_dln) - _interp(tab, 4, math.log(e_end), ln_e0, inv_dln)
            # random hinge: straight leg, deflection, straight leg
            leg1 = _uniform(s) * step
            q = _uniform(s) * step
            hx, hy, hz = x + leg1 * u, y + leg1 * v, z + leg1 * w
            px, py, pz = x + q * u, y + q * v, z + q * w
            cost = _ms_cos(s, t, ms_ln_a, ms_ln_t0, ms_inv_dln)
            u, v, w = _rotate(u, v, w, cost, 2.0 * math.pi * _uniform(s))
            leg2 = step - leg1
            if q >= leg1:
                px, py, pz = hx + (q - leg1) * u, hy + (q - leg1) * v, hz + (q - leg1) * w
            x, y, z = hx + leg2 * u, hy + leg2 * v, hz + leg2 * w
            _deposit(tally, px, py, pz, de_col, inv_dr)
            acc[ACC_BREMS] += de_rad
            acc[ACC_STEPS] += 1.0
            e -= de_col + de_rad
            if last and not hard:
                break  # residual energy (~0 +- straggling) deposited below
            if hard and e > 2.0 * wcut:
                wd = _moller_fraction(s, e, wcut) * e
                e1 = e - wd
                cos1 = math.sqrt(e1 * (e + 2.0 * MEC2) / (e * (e1 + 2.0 * MEC2)))
                cos2 = math.sqrt(wd * (e + 2.0 * MEC2) / (e * (wd + 2.0 * MEC2)))
                phi = 2.0 * math.pi * _uniform(s)
                du, dv, dw = _rotate(u, v, w, cos2, phi + math.pi)
                u, v, w = _rotate(u, v, w, cos1, phi)
                e = e1
                acc[ACC_DELTAS] += 1.0
                if nstk < stk.shape[0]:
                    stk[nstk, 0] = wd
                    stk[nstk, 1], stk[nstk, 2], stk[nstk, 3] = x, y, z
                    stk[nstk, 4], stk[nstk, 5], stk[nstk, 6] = du, dv, dw
                    nstk += 1
                else:
                    _deposit(tally, x, y, z, wd, inv_dr)
                    acc[ACC_DROPPED] += wd
        if e > 0.0:
            _deposit(tally, x, y, z, e, inv_dr)
        if nstk == 0:
            return
        nstk -= 1
        e = stk[nstk, 0]
        x, y, z = stk[nstk, 1], stk[nstk, 2], stk[nstk, 3]
        u, v, w = stk[nstk, 4], stk[nstk, 5], stk[nstk, 6]


@njit(inline="always")
def _sample_source(s, spec_e, spec_cdf):
    """Kinetic energy from a tabulated CDF (linear between nodes) [MeV]."""
    xi = _uniform(s)
    lo, hi = 0, spec_cdf.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if spec_cdf[mid] > xi:
            hi = mid
        else:
            lo = mid
    dc = spec_cdf[hi] - spec_cdf[lo]
    w = (xi - spec_cdf[lo]) / dc if dc > 0.0 else 0.0
    return spec_e[lo] + w * (spec_e[hi] - spec_e[lo])


@njit(parallel=True, cache=True)
def run_batches(n_hist, n_batches, seed_hash, spec_e, spec_cdf, tab, ln_e0, dln, ms_ln_a,
                ms_ln_t0, ms_dln, ecut, wcut, frac, dr_cm, n_shells, max_stack):
    """Simulate ``n_hist`` isotropic point-source histories in ``n_batches`` batches.

    Returns
    -------
    tally : ndarray, shape (n_batches, n_shells + 1)
        Energy deposited per shell [MeV] summed over each batch; last column: beyond the last
        shell.
    acc : ndarray, shape (n_batches, 4)
        Per batch: bremsstrahlung energy [MeV], dropped-delta energy [MeV], steps, deltas.
    """
    tally = np.zeros((n_batches, n_shells + 1))
    acc = np.zeros((n_batches, 4))
    inv_dr = 1.0 / dr_cm
    ms_inv_dln = 1.0 / ms_dln
    for b in prange(n_batches):
        start = (n_hist * b) // n_batches
        stop = (n_hist * (b + 1)) // n_batches
        s = np.empty(4, dtype=np.uint64)
        stk = np.empty((max_stack, 7))
        row = tally[b]
        arow = acc[b]
        for h in range(start, stop):
            _seed(s, seed_hash, h)
            e0 = _sample_source(s, spec_e, spec_cdf)
            cost = 2.0 * _uniform(s) - 1.0
            sint = math.sqrt(max(0.0, 1.0 - cost * cost))
            phi = 2.0 * math.pi * _uniform(s)
            _transport(e0, 0.0, 0.0, 0.0, sint * math.cos(phi), sint * math.sin(phi), cost, s,
                       tab, ln_e0, dln, ms_ln_a, ms_ln_t0, ms_inv_dln, ecut, wcut, frac,
                       inv_dr, stk, row, arow)
    return tally, acc


def simulate_point_source(spec_e_mev, spec_cdf, tables, *, histories: int, seed: int = 0,
                          batches: int = 20, shell_width_mm: float = 0.05,
                          n_shells: int = 280, cutoff_mev: float = 0.01, step_fraction: float = 0.04,
                          max_stack: int = 256):
    """Energy deposited in spherical shells around an isotropic point source in water (1 g/cm^3).

    Parameters
    ----------
    spec_e_mev, spec_cdf : ndarray, shape (K,)
        Source spectrum as a CDF on energy nodes [MeV], [1] (monotone, 0 to 1); a
        monoenergetic source is ``([E, E], [0, 1])``.
    tables : dosimetry.electron_physics.TransportTables
        Interaction tables (their ``cut_mev`` is the Moller cut W_c).
    histories : int
        Number of primary electrons.
    seed : int
        Root seed; history i uses the stream (seed, i).
    batches : int
        Batches for the batch-method uncertainty (and for parallelism).
    shell_width_mm : float
        Shell width [mm]; shells are [k dr, (k+1) dr), k < n_shells.
    n_shells : int
        Number of shells; energy beyond the last goes to an overflow bin.
    cutoff_mev : float
        Electron transport cut-off E_c [MeV] (>= the tables' lowest energy).
    step_fraction : float
        Largest fractional energy loss per step.
    max_stack : int
        Capacity of the delta-ray stack per history.

    Returns
    -------
    tally : ndarray, shape (batches, n_shells + 1)
        Energy per shell summed over each batch [MeV] (last column: overflow).
    acc : ndarray, shape (batches, 4)
        Bremsstrahlung [MeV], dropped deltas [MeV], steps, delta rays per batch.
    counts : ndarray, shape (batches,)
        Histories per batch.
    """
    histories, batches, n_shells = int(histories), int(batches), int(n_shells)
    if histories < 1 or batches < 1 or batches > histories:
        raise ValueError("simulate_point_source: need histories >= batches >= 1")
    if not 0.0 < step_fraction < 0.5:
        raise ValueError("simulate_point_source: step_fraction must lie in (0, 0.5)")
    if cutoff_mev < math.exp(tables.ln_e0) or cutoff_mev > tables.cut_mev:
        raise ValueError("simulate_point_source: need table E_min <= cutoff <= Moller cut")
    spec_e = np.ascontiguousarray(spec_e_mev, dtype=np.float64)
    cdf = np.ascontiguousarray(spec_cdf, dtype=np.float64)
    e_table_max = math.exp(tables.ln_e0 + tables.dln * (tables.table.shape[1] - 1))
    if spec_e.max() > e_table_max:
        raise ValueError("simulate_point_source: source energy above the tables' range")
    tally, acc = run_batches(histories, batches, seed_hash(seed), spec_e, cdf, tables.table,
                             tables.ln_e0, tables.dln, tables.ms_ln_a, tables.ms_ln_t0,
                             tables.ms_dln, float(cutoff_mev), float(tables.cut_mev),
                             float(step_fraction), shell_width_mm / 10.0, n_shells, int(max_stack))
    b = np.arange(batches + 1)
    counts = np.diff((histories * b) // batches)
    return tally, acc, counts
