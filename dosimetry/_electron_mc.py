"""Numba kernels of the condensed-history electron Monte Carlo (point source in water).

Class II scheme (Berger 1963 [1]_) in the form of PENELOPE's mixed simulation [3]_:

- Inelastic collisions: continuous soft losses from the restricted stopping power (W < W_c)
  with Gaussian (Bohr) straggling; Moller collisions with W > W_c one by one (the delta rays
  are transported too).
- Elastic scattering: hard collisions (deflections beyond the cut u_c) one by one from the
  screened Rutherford cross section with the McKinley-Feshbach factor; the soft collisions of
  a step are condensed into one deflection drawn from PENELOPE's two-moment distribution (exact
  first and second transport moments), applied at a random hinge point ([2]_, [3]_). The former
  all-condensed Wentzel deflection with the first moment only (kernel MC version 1.0) is kept
  as ``MS_WENTZEL1`` for comparison.
- Bremsstrahlung: photons above k_c (1 keV) one by one from the Seltzer-Berger spectrum,
  emitted in the direction of an isotropic emitter moving with the electron, and transported
  by :mod:`dosimetry._photon_mc` into a separate photon tally; softer photons are a continuous
  loss deposited along the track. ``brems_discrete = False``: the whole radiative loss is
  continuous and escapes (version 1.0).
- Hard interactions are sampled with the largest total hard cross section over the step and
  delta (null) collisions; steps also lose at most a fraction ``f`` of the energy
  (EGS "ESTEPE"-like). Energy lost along a step is deposited at a point drawn uniformly along
  the (two-leg) path; electrons below the cut-off E_c deposit their energy where they stop.

Randomness: each history has its own xoshiro256** stream seeded by splitmix64 from
(seed, history index) (:mod:`dosimetry.rng`), so tallies do not depend on the number of
threads. Histories are grouped in contiguous batches; each batch tallies into its own row
(batch method for the statistical uncertainty), and batches run in parallel (``prange``).
Source energies are stratified within each batch (history j of n draws its CDF value in
[j, j + 1) / n), which removes the sampling noise of the spectrum's mean and of rare lines.

References
----------
.. [1] Berger MJ. Monte Carlo calculation of the penetration and diffusion of fast charged
       particles. Methods Comput Phys 1963;1:135.
.. [2] Fernandez-Varea JM, Mayol R, Baro J, Salvat F. Nucl Instrum Meth B 1993;73:447 (random
       hinge).
.. [3] Salvat F, Fernandez-Varea JM, Sempau J. PENELOPE: a code system for Monte Carlo
       simulation of electron and photon transport. OECD/NEA (2003, 2006, 2011 editions),
       chapter 4 (mixed simulation, hard elastic events, soft angular deflection distribution
       a U(0, b) + (1 - a) U(b, 1) preserving <mu> and <mu^2>).
.. [4] Seltzer SM, Berger MJ. At Data Nucl Data Tables 1986;35:345 (bremsstrahlung spectra).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from dosimetry import _photon_mc as pmc
from dosimetry._photon_mc import deposit as _deposit, rotate as _rotate, table_interp as _interp
from dosimetry.electron_physics import ALPHA, MEC2_MEV as MEC2, MS_MIXED, MS_WENTZEL1
from dosimetry.electron_physics import (ROW_BREMS, ROW_ETA_H, ROW_ETA_O, ROW_HARD_H, ROW_HARD_O,
                                        ROW_K1_ALL, ROW_K1_SOFT, ROW_KQ_SOFT, ROW_MOLLER,
                                        ROW_RADFRAC, ROW_RANGE, ROW_STRAGGLE, ROW_UCUT)
from dosimetry.rng import seed_hash, xoshiro_normal as _normal, xoshiro_seed as _seed
from dosimetry.rng import xoshiro_uniform as _uniform

__all__ = ["simulate_point_source", "simulate_photon_source", "PointSourceResult", "MS_MIXED",
           "MS_WENTZEL1", "ACC_BREMS", "ACC_DROPPED", "ACC_STEPS", "ACC_DELTAS", "ACC_ELASTIC",
           "ACC_PHOTONS", "ACC_PHOTON_E", "ACC_PHOTON_INT", "N_ACC"]

#: Columns of the per-batch accumulator: continuous bremsstrahlung that escapes [MeV] (only
#: with brems_discrete = False), energy of dropped delta rays (stack full) [MeV], steps,
#: delta rays, hard elastic collisions, bremsstrahlung photons emitted, their energy [MeV],
#: photon interactions.
ACC_BREMS, ACC_DROPPED, ACC_STEPS, ACC_DELTAS, ACC_ELASTIC = 0, 1, 2, 3, 4
ACC_PHOTONS, ACC_PHOTON_E, ACC_PHOTON_INT = 5, 6, 7
N_ACC = 8
_ALPHA = ALPHA


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


@njit(inline="always")
def _soft_cos(s, t1, tq):
    """cos(theta) of the soft deflection over a step from PENELOPE's two-moment distribution.

    With <P_1> = exp(-t1) and <P_2> = exp(-(3 t1 - tq)), mu = (1 - cos theta) / 2 has
    <mu> = (1 - <P_1>) / 2 and <mu^2> = (2 (1 - <P_1>) - 2/3 (1 - <P_2>)) / 4; mu is drawn from
    a U(0, b) + (1 - a) U(b, 1) with b = (2<mu> - 3<mu^2>) / (1 - 2<mu>), a = 1 - 2<mu> + b,
    which has exactly these two moments.
    """
    if t1 <= 0.0:
        return 1.0
    a1 = -math.expm1(-t1)
    a2 = -math.expm1(-(3.0 * t1 - tq))
    m1 = 0.5 * a1
    if m1 > 0.4999:
        return 2.0 * _uniform(s) - 1.0
    m2 = 0.25 * (2.0 * a1 - (2.0 / 3.0) * a2)
    b = (2.0 * m1 - 3.0 * m2) / (1.0 - 2.0 * m1)
    b = min(max(b, 0.0), 1.0)
    a = min(max(1.0 - 2.0 * m1 + b, 0.0), 1.0)
    if _uniform(s) < a:
        mu = b * _uniform(s)
    else:
        mu = b + (1.0 - b) * _uniform(s)
    return 1.0 - 2.0 * mu


@njit(inline="always")
def _hard_elastic_cos(s, e, z, uc, eta, mott):
    """cos(theta) of a hard elastic collision (u = 1 - cos theta > u_c) on an atom of charge z.

    Screened Rutherford truncated to [u_c, 2] by inversion, then the McKinley-Feshbach factor
    by rejection (``mott`` = 1.0; 0.0 switches it off).
    """
    a = 2.0 * eta
    tau = e / MEC2
    beta = math.sqrt(tau * (tau + 2.0)) / (tau + 1.0)
    c = math.pi * _ALPHA * z * beta
    rmax = 1.0 + mott * 0.25 * c
    ia, ib = 1.0 / (uc + a), 1.0 / (2.0 + a)
    while True:
        u = 1.0 / (ia - _uniform(s) * (ia - ib)) - a
        u = min(max(u, uc), 2.0)
        sh = math.sqrt(0.5 * u)
        r = 1.0 + mott * (-beta * beta * sh * sh + c * sh * (1.0 - sh))
        if _uniform(s) * rmax <= r:
            return 1.0 - u


@njit(inline="always")
def _brems_k(s, e, kcut, sb_ln_t, sb_kappa, sb_c, sb_cmax):
    """Photon energy [MeV] of a hard bremsstrahlung event (k > kcut) of an electron of energy e:
    kappa from C(T, kappa) / kappa (C linear in kappa between nodes, in ln T between energies)
    by sampling 1 / kappa and rejection."""
    lt = math.log(e)
    nt = sb_ln_t.shape[0]
    i = 0
    while i < nt - 2 and sb_ln_t[i + 1] < lt:
        i += 1
    wt = (lt - sb_ln_t[i]) / (sb_ln_t[i + 1] - sb_ln_t[i])
    wt = min(max(wt, 0.0), 1.0)
    cmax = max(sb_cmax[i], sb_cmax[i + 1])
    lkc = math.log(kcut / e)
    nk = sb_kappa.shape[0]
    while True:
        kap = math.exp(lkc * (1.0 - _uniform(s)))
        lo, hi = 0, nk - 1
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if sb_kappa[mid] > kap:
                hi = mid
            else:
                lo = mid
        t = (kap - sb_kappa[lo]) / (sb_kappa[hi] - sb_kappa[lo])
        c = (1.0 - wt) * (sb_c[i, lo] * (1.0 - t) + sb_c[i, hi] * t) + \
            wt * (sb_c[i + 1, lo] * (1.0 - t) + sb_c[i + 1, hi] * t)
        if _uniform(s) * cmax <= c:
            return kap * e


@njit
def _transport(e, x, y, z, u, v, w, s, etab, epar, ptab_t, ppar, stk, pstk, tally, ptally, acc):
    """Transport one electron, its delta rays and its bremsstrahlung photons (lengths in cm).

    etab = (tab, ms_ln_a, sb_ln_t, sb_kappa, sb_c, sb_cmax); epar = (ln_e0, dln, ms_ln_t0,
    ms_inv_dln, ecut, wcut, frac, inv_dr, ms_model, mott, brems_discrete, kcut);
    ptab_t = (ptab, ray_g); ppar = (pln0, pdln, ray_ln_y0, ray_dln, pcut, r_kill, inv_dr_p).
    """
    tab, ms_ln_a, sb_ln_t, sb_kappa, sb_c, sb_cmax = etab
    ln_e0, dln, ms_ln_t0, ms_inv_dln, ecut, wcut, frac, inv_dr, ms_model, mott, brd, kcut = epar
    ptab, ray_g = ptab_t
    pln0, pdln, ray_ln_y0, ray_dln, pcut, r_kill, inv_dr_p = ppar
    inv_dln = 1.0 / dln
    nstk = 0
    while True:
        while e > ecut:
            lne = math.log(e)
            r0 = _interp(tab, ROW_RANGE, lne, ln_e0, inv_dln)
            e_low = e * (1.0 - frac)
            last = e_low <= ecut  # this step slows the electron down to the cut-off
            if last:
                e_low = ecut
            lnlow = math.log(e_low)
            step = r0 - _interp(tab, ROW_RANGE, lnlow, ln_e0, inv_dln)
            # hard interactions (Moller, bremsstrahlung, hard elastic): the largest total cross
            # section over the step, with delta (null) events making up the difference
            sig = _interp(tab, ROW_MOLLER, lne, ln_e0, inv_dln) + \
                _interp(tab, ROW_BREMS, lne, ln_e0, inv_dln)
            sig_low = _interp(tab, ROW_MOLLER, lnlow, ln_e0, inv_dln) + \
                _interp(tab, ROW_BREMS, lnlow, ln_e0, inv_dln)
            if ms_model == MS_MIXED:
                sig += _interp(tab, ROW_HARD_O, lne, ln_e0, inv_dln) + \
                    _interp(tab, ROW_HARD_H, lne, ln_e0, inv_dln)
                sig_low += _interp(tab, ROW_HARD_O, lnlow, ln_e0, inv_dln) + \
                    _interp(tab, ROW_HARD_H, lnlow, ln_e0, inv_dln)
            sig_max = max(sig, sig_low)
            hard = False
            if sig_max > 0.0:
                sh = -math.log(_uniform(s)) / sig_max
                if sh < step:
                    step = sh
                    hard = True
            e_end = _energy_at_range(tab, r0 - step, ln_e0, dln)
            de = e - e_end
            lnend = math.log(e_end)
            lmid = math.log(0.5 * (e + e_end))
            de_rad = de * _interp(tab, ROW_RADFRAC, lmid, ln_e0, inv_dln)
            de_col = de - de_rad
            var = _interp(tab, ROW_STRAGGLE, lmid, ln_e0, inv_dln) * step
            if var > 0.0:
                d = de_col + math.sqrt(var) * _normal(s)
                de_col = min(max(d, 0.0), 2.0 * de_col)  # symmetric clip keeps the mean
            if de_col + de_rad > e:
                de_col = e - de_rad
            leg1 = _uniform(s) * step
            q = _uniform(s) * step
            if ms_model == MS_MIXED:
                t1 = _interp(tab, ROW_K1_SOFT, lne, ln_e0, inv_dln) - \
                    _interp(tab, ROW_K1_SOFT, lnend, ln_e0, inv_dln)
                tq = _interp(tab, ROW_KQ_SOFT, lne, ln_e0, inv_dln) - \
                    _interp(tab, ROW_KQ_SOFT, lnend, ln_e0, inv_dln)
                cost = _soft_cos(s, t1, tq)
            else:
                t = _interp(tab, ROW_K1_ALL, lne, ln_e0, inv_dln) - \
                    _interp(tab, ROW_K1_ALL, lnend, ln_e0, inv_dln)
                cost = _ms_cos(s, t, ms_ln_a, ms_ln_t0, ms_inv_dln)
            # random hinge: straight leg, deflection, straight leg
            hx, hy, hz = x + leg1 * u, y + leg1 * v, z + leg1 * w
            px, py, pz = x + q * u, y + q * v, z + q * w
            u, v, w = _rotate(u, v, w, cost, 2.0 * math.pi * _uniform(s))
            leg2 = step - leg1
            if q >= leg1:
                px, py, pz = hx + (q - leg1) * u, hy + (q - leg1) * v, hz + (q - leg1) * w
            x, y, z = hx + leg2 * u, hy + leg2 * v, hz + leg2 * w
            if brd:
                _deposit(tally, px, py, pz, de_col + de_rad, inv_dr)  # soft photons: local
            else:
                _deposit(tally, px, py, pz, de_col, inv_dr)
                acc[ACC_BREMS] += de_rad
            acc[ACC_STEPS] += 1.0
            e -= de_col + de_rad
            if last and not hard:
                break  # residual energy (~0 +- straggling) deposited below
            if not hard or e <= ecut:
                continue
            # which hard interaction, at the energy reached
            lne = math.log(e)
            r = _uniform(s) * sig_max
            sm = _interp(tab, ROW_MOLLER, lne, ln_e0, inv_dln) if e > 2.0 * wcut else 0.0
            if r < sm:
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
                continue
            r -= sm
            sb = _interp(tab, ROW_BREMS, lne, ln_e0, inv_dln) if e > kcut else 0.0
            if r < sb:
                k = _brems_k(s, e, kcut, sb_ln_t, sb_kappa, sb_c, sb_cmax)
                e -= k
                # direction: isotropic in the electron's rest frame, boosted
                tau = (e + k) / MEC2
                beta = math.sqrt(tau * (tau + 2.0)) / (tau + 1.0)
                cp = 2.0 * _uniform(s) - 1.0
                cb = (cp + beta) / (1.0 + beta * cp)
                ku, kv, kw = _rotate(u, v, w, cb, 2.0 * math.pi * _uniform(s))
                acc[ACC_PHOTONS] += 1.0
                acc[ACC_PHOTON_E] += k
                acc[ACC_PHOTON_INT] += pmc.transport_photon(
                    k, x, y, z, ku, kv, kw, s, ptab, pln0, pdln, ray_g, ray_ln_y0, ray_dln, pcut,
                    r_kill, ptally, inv_dr_p, pstk)
                continue
            r -= sb
            if ms_model == MS_MIXED:
                so = _interp(tab, ROW_HARD_O, lne, ln_e0, inv_dln)
                shh = _interp(tab, ROW_HARD_H, lne, ln_e0, inv_dln)
                if r < so + shh:
                    uc = _interp(tab, ROW_UCUT, lne, ln_e0, inv_dln)
                    if r < so:
                        cost = _hard_elastic_cos(s, e, 8.0, uc,
                                                 _interp(tab, ROW_ETA_O, lne, ln_e0, inv_dln), mott)
                    else:
                        cost = _hard_elastic_cos(s, e, 1.0, uc,
                                                 _interp(tab, ROW_ETA_H, lne, ln_e0, inv_dln), mott)
                    u, v, w = _rotate(u, v, w, cost, 2.0 * math.pi * _uniform(s))
                    acc[ACC_ELASTIC] += 1.0
        if e > 0.0:
            _deposit(tally, x, y, z, e, inv_dr)
        if nstk == 0:
            return
        nstk -= 1
        e = stk[nstk, 0]
        x, y, z = stk[nstk, 1], stk[nstk, 2], stk[nstk, 3]
        u, v, w = stk[nstk, 4], stk[nstk, 5], stk[nstk, 6]


@njit(inline="always")
def _sample_source(xi, spec_e, spec_cdf):
    """Kinetic energy at CDF value ``xi`` of a tabulated CDF (linear between nodes; equal
    energies make a line) [MeV]."""
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


@njit(inline="always")
def _isotropic(s):
    cost = 2.0 * _uniform(s) - 1.0
    sint = math.sqrt(max(0.0, 1.0 - cost * cost))
    phi = 2.0 * math.pi * _uniform(s)
    return sint * math.cos(phi), sint * math.sin(phi), cost


@njit(parallel=True, cache=True)
def run_batches(n_hist, n_batches, key, spec_e, spec_cdf, etab, epar, ptab_t, ppar, n_shells,
                n_pshells, max_stack, photon_source):
    """Simulate ``n_hist`` isotropic point-source histories in ``n_batches`` batches.

    ``photon_source`` False: electrons (with their bremsstrahlung); True: photons only.

    Returns
    -------
    tally : ndarray, shape (n_batches, n_shells + 1)
        Energy deposited by electrons per shell [MeV] summed over each batch; last column:
        beyond the last shell.
    ptally : ndarray, shape (n_batches, n_pshells + 1)
        Energy deposited by photon interactions per photon shell [MeV]; last column: beyond.
    acc : ndarray, shape (n_batches, N_ACC)
        Per-batch counters (``ACC_*``).
    """
    tally = np.zeros((n_batches, n_shells + 1))
    ptally = np.zeros((n_batches, n_pshells + 1))
    acc = np.zeros((n_batches, N_ACC))
    ptab, ray_g = ptab_t
    pln0, pdln, ray_ln_y0, ray_dln, pcut, r_kill, inv_dr_p = ppar
    for b in prange(n_batches):
        start = (n_hist * b) // n_batches
        stop = (n_hist * (b + 1)) // n_batches
        s = np.empty(4, dtype=np.uint64)
        stk = np.empty((max_stack, 7))
        pstk = np.empty((16, 7))
        row = tally[b]
        prow = ptally[b]
        arow = acc[b]
        inv_n = 1.0 / (stop - start)
        for h in range(start, stop):
            _seed(s, key, h)
            # stratified source sampling within each batch: history j of the batch draws its
            # CDF value in [j, j + 1) / n, so every batch covers the whole spectrum (lines get
            # their share of histories to within one) and batches stay independent
            e0 = _sample_source((h - start + _uniform(s)) * inv_n, spec_e, spec_cdf)
            u, v, w = _isotropic(s)
            if photon_source:
                arow[ACC_PHOTON_INT] += pmc.transport_photon(
                    e0, 0.0, 0.0, 0.0, u, v, w, s, ptab, pln0, pdln, ray_g, ray_ln_y0, ray_dln,
                    pcut, r_kill, prow, inv_dr_p, pstk)
            else:
                _transport(e0, 0.0, 0.0, 0.0, u, v, w, s, etab, epar, ptab_t, ppar, stk, pstk,
                           row, prow, arow)
    return tally, ptally, acc


class PointSourceResult(tuple):
    """(tally, acc, counts, photon_tally) of :func:`simulate_point_source` (a tuple; the first
    three unpack as before)."""

    __slots__ = ()

    def __new__(cls, tally, acc, counts, photon_tally):
        return super().__new__(cls, (tally, acc, counts, photon_tally))

    tally = property(lambda self: self[0])
    acc = property(lambda self: self[1])
    counts = property(lambda self: self[2])
    photon_tally = property(lambda self: self[3])


def _photon_args(photon_tables, photon_dr_mm, r_kill_mm):
    if photon_tables is None:
        from dosimetry.photon_physics import build_photon_tables

        photon_tables = build_photon_tables()
    pt = photon_tables
    return ((np.ascontiguousarray(pt.table), np.ascontiguousarray(pt.ray_g)),
            (float(pt.ln_k0), float(pt.dln), float(pt.ray_ln_y0), float(pt.ray_dln),
             float(pt.cutoff_mev), float(r_kill_mm) / 10.0, 10.0 / float(photon_dr_mm)), pt)


def _batches(histories, batches):
    b = np.arange(batches + 1)
    return np.diff((histories * b) // batches)


def simulate_point_source(spec_e_mev, spec_cdf, tables, *, histories: int, seed: int = 0,
                          batches: int = 20, shell_width_mm: float = 0.05,
                          n_shells: int = 280, cutoff_mev: float = 0.01, step_fraction: float = 0.04,
                          max_stack: int = 256, ms_model: int = MS_MIXED, photon_tables=None,
                          photon_shell_mm: float = 0.1, n_photon_shells: int = 4000,
                          r_kill_mm: float = 2000.0, stream: int = 0) -> PointSourceResult:
    """Energy deposited in spherical shells around an isotropic point source of electrons in water.

    Parameters
    ----------
    spec_e_mev, spec_cdf : ndarray, shape (K,)
        Source spectrum as a CDF on energy nodes [MeV], [1] (monotone CDF, 0 to 1; two nodes of
        equal energy make a line); a monoenergetic source is ``([E, E], [0, 1])``.
    tables : dosimetry.electron_physics.TransportTables
        Interaction tables (their ``cut_mev`` is the Moller cut W_c; ``brems_discrete`` selects
        transported bremsstrahlung photons).
    histories : int
        Number of primary electrons.
    seed : int
        Root seed; history i uses the stream (seed, i).
    batches : int
        Batches for the batch-method uncertainty (and for parallelism).
    shell_width_mm : float
        Electron tally shell width [mm]; shells are [k dr, (k+1) dr), k < n_shells.
    n_shells : int
        Number of shells; energy beyond the last goes to an overflow bin.
    cutoff_mev : float
        Electron transport cut-off E_c [MeV] (>= the tables' lowest energy).
    step_fraction : float
        Largest fractional energy loss per step.
    max_stack : int
        Capacity of the delta-ray stack per history.
    ms_model : int
        ``MS_MIXED`` (hard elastic events + two-moment soft deflections, default) or
        ``MS_WENTZEL1`` (all-condensed Wentzel deflection with the first moment only, the
        model of kernel MC version 1.0, kept for comparison).
    photon_tables : dosimetry.photon_physics.PhotonTables, optional
        Photon tables (built when omitted).
    photon_shell_mm, n_photon_shells : float, int
        Uniform photon tally [mm] (default 0.1 mm to 400 mm) with an overflow bin.
    r_kill_mm : float
        Photons are stopped beyond this distance and counted in the overflow bin [mm].
    stream : int
        Sub-stream of the seed (different sources of one kernel use different streams).

    Returns
    -------
    PointSourceResult
        ``tally`` (batches, n_shells + 1) electron energy per shell summed over each batch
        [MeV] (last column: overflow); ``acc`` (batches, N_ACC) counters (``ACC_*``);
        ``counts`` (batches,) histories per batch; ``photon_tally`` (batches,
        n_photon_shells + 1) photon energy per photon shell [MeV].
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
    ptab_t, ppar, _ = _photon_args(photon_tables, photon_shell_mm, r_kill_mm)
    etab = (tables.table, tables.ms_ln_a, tables.sb_ln_t, tables.sb_kappa, tables.sb_c,
            tables.sb_cmax)
    epar = (float(tables.ln_e0), float(tables.dln), float(tables.ms_ln_t0), 1.0 / tables.ms_dln,
            float(cutoff_mev), float(tables.cut_mev), float(step_fraction),
            10.0 / float(shell_width_mm), int(ms_model), 1.0 if tables.mott else 0.0,
            bool(tables.brems_discrete), float(tables.brems_cut_mev))
    key = seed_hash(int(seed) * 8 + int(stream))
    tally, ptally, acc = run_batches(histories, batches, key, spec_e, cdf, etab, epar, ptab_t,
                                     ppar, n_shells, int(n_photon_shells), int(max_stack), False)
    return PointSourceResult(tally, acc, _batches(histories, batches), ptally)


def simulate_photon_source(spec_e_mev, spec_cdf, *, histories: int, seed: int = 0,
                           batches: int = 20, photon_tables=None, photon_shell_mm: float = 0.1,
                           n_photon_shells: int = 4000, r_kill_mm: float = 2000.0,
                           stream: int = 0) -> PointSourceResult:
    """Energy deposited around an isotropic point source of photons in water (see
    :func:`simulate_point_source`; the electron tally is empty)."""
    histories, batches = int(histories), int(batches)
    if histories < 1 or batches < 1 or batches > histories:
        raise ValueError("simulate_photon_source: need histories >= batches >= 1")
    ptab_t, ppar, pt = _photon_args(photon_tables, photon_shell_mm, r_kill_mm)
    spec_e = np.ascontiguousarray(spec_e_mev, dtype=np.float64)
    if spec_e.max() > math.exp(pt.ln_k0 + pt.dln * (pt.table.shape[1] - 1)) * (1 + 1e-9):
        raise ValueError("simulate_photon_source: source energy above the photon tables")
    dummy = _dummy_tables()
    etab = (dummy.table, dummy.ms_ln_a, dummy.sb_ln_t, dummy.sb_kappa, dummy.sb_c, dummy.sb_cmax)
    epar = (float(dummy.ln_e0), float(dummy.dln), 0.0, 1.0, 0.01, 0.01, 0.04, 1.0, int(MS_MIXED),
            1.0, True, 1e-3)
    key = seed_hash(int(seed) * 8 + int(stream))
    tally, ptally, acc = run_batches(histories, batches, key, spec_e,
                                     np.ascontiguousarray(spec_cdf, dtype=np.float64), etab, epar,
                                     ptab_t, ppar, 1, int(n_photon_shells), 1, True)
    return PointSourceResult(tally, acc, _batches(histories, batches), ptally)


_DUMMY = []


def _dummy_tables():
    if not _DUMMY:
        from dosimetry.electron_physics import build_tables

        _DUMMY.append(build_tables(0.1, n=64))
    return _DUMMY[0]
