"""Integer codes shared by the transport kernels, the results schema and the statistics.

Kernels read these module constants (numba freezes them at compile time); Python code uses the
names and :data:`FATE_NAMES`.
"""
from __future__ import annotations

__all__ = ["LIVER", "LUNG", "REFLUX", "UNDELIVERED", "FATE_NAMES", "EMB_NONE", "EMB_LINEAR",
           "EMB_MULT", "EMBOLIC_MODES"]

#: Where a sphere ended.
LIVER = 0
LUNG = 1
REFLUX = 2
UNDELIVERED = 3
FATE_NAMES = {LIVER: "liver", LUNG: "lung", REFLUX: "reflux", UNDELIVERED: "undelivered"}

#: Embolic models: none; linear, G = G0 (1 - n / N_occ); multiplicative, G -> G (1 - f).
EMB_NONE = 0
EMB_LINEAR = 1
EMB_MULT = 2
EMBOLIC_MODES = {"none": EMB_NONE, "linear": EMB_LINEAR, "multiplicative": EMB_MULT}
