"""Numba kernels of the photon transport in water (detailed, interaction by interaction).

Used by :mod:`dosimetry._electron_mc` for bremsstrahlung photons and for the gamma / X-ray
lines of the source. Interactions (tables of :mod:`dosimetry.photon_physics`): photoelectric
absorption (local deposition), incoherent scattering (XCOM cross section, Klein-Nishina angle
and energy by Butcher and Messel's method [1]_, the electron's energy deposited locally),
coherent scattering (XCOM cross section, (1 + cos^2) F^2(x) angles), pair production (local
k - 2 m c^2, two back-to-back 511 keV photons). Photons below the cut-off are absorbed where
they are; photons farther than ``r_kill`` from the source are stopped and their energy counted
in the overflow bin (it lies beyond every tally).

The photon tally is uniform in r (bin ``dr``) with an overflow bin; energies are in MeV, lengths
in cm, the medium is water at 1 g/cm^3.

References
----------
.. [1] Butcher JC, Messel H. Nucl Phys 1960;20:15.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from dosimetry.electron_physics import MEC2_MEV as MEC2
from dosimetry.photon_physics import HC_MEV_CM, PROC_COH, PROC_INCOH, PROC_PAIR, PROC_PHOTO, PROC_TOTAL
from dosimetry.rng import xoshiro_uniform as _uniform

#: h c in MeV angstrom (x = sin(theta/2) k / (h c) in 1/angstrom).
_HC_MEV_A = HC_MEV_CM * 1e8


@njit(inline="always")
def table_interp(tab, row, lnk, ln0, inv_dln):
    """Row ``row`` of a table on a uniform ln-energy grid, linear at ln energy ``lnk``
    (clamped to the table)."""
    f = (lnk - ln0) * inv_dln
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
def rotate(u, v, w, cost, phi):
    """Direction (u, v, w) turned by polar cosine ``cost`` and azimuth ``phi``."""
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
def deposit(tally, x, y, z, e, inv_dr):
    """Add energy e to the spherical shell of (x, y, z) (the last bin: beyond the table)."""
    nsh = tally.shape[0] - 1
    r = math.sqrt(x * x + y * y + z * z) * inv_dr
    if r < nsh:
        tally[int(r)] += e
    else:
        tally[nsh] += e


@njit(inline="always")
def klein_nishina_sample(s, k):
    """(k'/k, cos theta) of a Klein-Nishina scattering of a photon of energy k [MeV] ([1]_)."""
    kap = k / MEC2
    eps0 = 1.0 / (1.0 + 2.0 * kap)
    a1 = -math.log(eps0)
    a2 = 0.5 * (1.0 - eps0 * eps0)
    while True:
        if _uniform(s) * (a1 + a2) < a1:
            eps = math.exp(-a1 * _uniform(s))
            eps2 = eps * eps
        else:
            eps2 = eps0 * eps0 + (1.0 - eps0 * eps0) * _uniform(s)
            eps = math.sqrt(eps2)
        t = (1.0 - eps) / (kap * eps)
        sin2 = t * (2.0 - t)
        if _uniform(s) <= 1.0 - eps * sin2 / (1.0 + eps2):
            return eps, 1.0 - t


@njit(inline="always")
def rayleigh_sample(s, k, ray_g, ray_ln_y0, ray_dln):
    """cos theta of a coherent scattering: (1 + cos^2) F^2(x), by inversion of G(y) and
    rejection (y = x^2, x = sin(theta/2) k / (h c))."""
    ymax = (k / _HC_MEV_A) ** 2
    inv = 1.0 / ray_dln
    n = ray_g.shape[0]
    f = (math.log(ymax) - ray_ln_y0) * inv
    i = int(f)
    if i > n - 2:
        i = n - 2
    if i < 0:
        return 1.0
    w = f - i
    gmax = ray_g[i] * (1.0 - w) + ray_g[i + 1] * w
    while True:
        target = _uniform(s) * gmax
        lo, hi = 0, n - 1
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if ray_g[mid] > target:
                hi = mid
            else:
                lo = mid
        dg = ray_g[hi] - ray_g[lo]
        t = (target - ray_g[lo]) / dg if dg > 0.0 else 0.0
        y = math.exp(ray_ln_y0 + (lo + t) * ray_dln)
        cost = 1.0 - 2.0 * y / ymax
        if cost < -1.0:
            cost = -1.0
        if 2.0 * _uniform(s) <= 1.0 + cost * cost:
            return cost


@njit
def transport_photon(k, x, y, z, u, v, w, s, ptab, pln0, pdln, ray_g, ray_ln_y0, ray_dln,
                     kcut, r_kill, tally, inv_dr, pstk):
    """Transport one photon (and its annihilation photons) to absorption (lengths in cm).

    Returns the number of interactions.
    """
    inv_dln = 1.0 / pdln
    n_int = 0
    nstk = 0
    r_kill2 = r_kill * r_kill
    while True:
        while k > kcut:
            lnk = math.log(k)
            mu = table_interp(ptab, PROC_TOTAL, lnk, pln0, inv_dln)
            d = -math.log(_uniform(s)) / mu
            x += d * u
            y += d * v
            z += d * w
            if x * x + y * y + z * z > r_kill2:
                tally[tally.shape[0] - 1] += k
                k = 0.0
                break
            n_int += 1
            r = _uniform(s) * mu
            mph = table_interp(ptab, PROC_PHOTO, lnk, pln0, inv_dln)
            if r < mph:
                deposit(tally, x, y, z, k, inv_dr)
                k = 0.0
                break
            r -= mph
            minc = table_interp(ptab, PROC_INCOH, lnk, pln0, inv_dln)
            if r < minc:
                eps, cost = klein_nishina_sample(s, k)
                deposit(tally, x, y, z, k * (1.0 - eps), inv_dr)
                k *= eps
                u, v, w = rotate(u, v, w, cost, 2.0 * math.pi * _uniform(s))
                continue
            r -= minc
            mpair = table_interp(ptab, PROC_PAIR, lnk, pln0, inv_dln)
            if r < mpair and k > 2.0 * MEC2:
                deposit(tally, x, y, z, k - 2.0 * MEC2, inv_dr)
                cost = 2.0 * _uniform(s) - 1.0
                sint = math.sqrt(max(0.0, 1.0 - cost * cost))
                phi = 2.0 * math.pi * _uniform(s)
                u, v, w = sint * math.cos(phi), sint * math.sin(phi), cost
                if nstk < pstk.shape[0]:
                    pstk[nstk, 0] = MEC2
                    pstk[nstk, 1], pstk[nstk, 2], pstk[nstk, 3] = x, y, z
                    pstk[nstk, 4], pstk[nstk, 5], pstk[nstk, 6] = -u, -v, -w
                    nstk += 1
                else:
                    deposit(tally, x, y, z, MEC2, inv_dr)
                k = MEC2
                continue
            # coherent
            cost = rayleigh_sample(s, k, ray_g, ray_ln_y0, ray_dln)
            u, v, w = rotate(u, v, w, cost, 2.0 * math.pi * _uniform(s))
        if k > 0.0:
            deposit(tally, x, y, z, k, inv_dr)
        if nstk == 0:
            return n_int
        nstk -= 1
        k = pstk[nstk, 0]
        x, y, z = pstk[nstk, 1], pstk[nstk, 2], pstk[nstk, 3]
        u, v, w = pstk[nstk, 4], pstk[nstk, 5], pstk[nstk, 6]
