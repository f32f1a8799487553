"""Counter-based random streams for numba kernels (one stream per sphere or per history).

A stream is seeded from (root seed, index) with SplitMix64, so what a sphere or an electron
history draws does not depend on how the work is split into threads, chunks or batches.
Two generators are used: xorshift64* (small state, sphere transport) and xoshiro256** (long
period, the electron Monte Carlo).

References
----------
.. [1] Steele GL, Lea D, Flood CH. Fast splittable pseudorandom number generators. OOPSLA 2014
       (SplitMix64).
.. [2] Vigna S. An experimental exploration of Marsaglia's xorshift generators, scrambled.
       ACM Trans Math Softw 2016;42:30 (xorshift64*).
.. [3] Blackman D, Vigna S. Scrambled linear pseudorandom number generators. ACM Trans Math
       Softw 2021;47:36 (xoshiro256**).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["GOLDEN", "splitmix64_mix", "splitmix64", "stream_state", "xorshift_next",
           "xoshiro_seed", "xoshiro_next", "xoshiro_uniform", "xoshiro_normal", "seed_hash"]

#: SplitMix64 increment (2^64 / golden ratio).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def splitmix64_mix(z):
    """The SplitMix64 output function (a 64-bit finaliser)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def splitmix64(x):
    """One SplitMix64 step from state ``x``: the mixed value of ``x + GOLDEN``."""
    return splitmix64_mix(x + GOLDEN)


@njit(cache=True, inline="always")
def stream_state(seed, index):
    """xorshift64* state of stream ``index`` under ``seed`` (never zero)."""
    s = splitmix64(np.uint64(seed) ^ splitmix64(np.uint64(index)))
    if s == np.uint64(0):
        s = GOLDEN
    return s


@njit(cache=True, inline="always")
def xorshift_next(s):
    """xorshift64* step: returns (new state, uniform in [0, 1))."""
    s ^= s >> np.uint64(12)
    s ^= s << np.uint64(25)
    s ^= s >> np.uint64(27)
    r = s * np.uint64(0x2545F4914F6CDD1D)
    return s, (r >> np.uint64(11)) * _INV_2_53


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (np.uint64(64) - k))


@njit(cache=True, inline="always")
def xoshiro_seed(s, key, index):
    """Fill the xoshiro256** state ``s`` (4 uint64) of stream ``index``: the SplitMix64
    outputs 4 index + 1 .. 4 index + 4 after ``key`` (see :func:`seed_hash`)."""
    x = key + np.uint64(index) * np.uint64(4) * GOLDEN
    for k in range(4):
        x = x + GOLDEN
        s[k] = splitmix64_mix(x)


@njit(cache=True, inline="always")
def xoshiro_next(s):
    """Next 64-bit output of xoshiro256** (updates ``s`` in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    result = _rotl(s1 * np.uint64(5), np.uint64(7)) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, np.uint64(45))
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return result


@njit(cache=True, inline="always")
def xoshiro_uniform(s):
    """Uniform double in (0, 1) from xoshiro256**."""
    return (float(xoshiro_next(s) >> np.uint64(11)) + 0.5) * _INV_2_53


@njit(cache=True, inline="always")
def xoshiro_normal(s):
    """Standard normal deviate (Box-Muller, one of the pair)."""
    return math.sqrt(-2.0 * math.log(xoshiro_uniform(s))) * math.cos(
        2.0 * math.pi * xoshiro_uniform(s))


def seed_hash(seed: int) -> np.uint64:
    """64-bit stream key of a non-negative integer seed (SplitMix64 finaliser of
    seed * GOLDEN + 0x632BE59BD9B4E019), for :func:`xoshiro_seed`."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % (1 << 64)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % (1 << 64)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % (1 << 64)
    return np.uint64(z ^ (z >> 31))
