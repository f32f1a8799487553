"""The transport kernels' Python path (NUMBA_DISABLE_JIT=1) gives the compiled result exactly:
same random streams, same branch choices, same embolic feedback, for the three engines."""
import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import numpy as np, sys, warnings
warnings.simplefilter("ignore")  # uint64 wrap-around in the RNG warns in pure numpy
from sim.tree import bifurcating_tree
from sim.transport import transport_spheres, TransportParams
tree = bifurcating_tree(generations=3, terminal_radius_um=20.0)
d = np.linspace(18.0, 45.0, 300)
a = transport_spheres(tree, d, 1.0, params=TransportParams(embolic="none", lung_shunt_fraction=0.1,
                      straight_ratio=0.6), rng=3)
b = transport_spheres(tree, d, 1.0, params=TransportParams(spheres_to_occlude=10), rng=3,
                      engine="walk")
c = transport_spheres(tree, d, 1.0, params=TransportParams(spheres_to_occlude=10,
                      straight_ratio=0.6, embolic="multiplicative", embolic_fraction=0.5), rng=3,
                      engine="paths")
np.save(sys.argv[1], np.concatenate([a.segment, a.fate, b.segment, b.fate, b.stacked,
                                     c.segment, c.fate]).astype(np.int64))
"""


def _run(tmp_path, name, disable_jit):
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
    out = tmp_path / f"{name}.npy"
    subprocess.run([sys.executable, "-c", SCRIPT, str(out)], check=True, env=env)
    return np.load(out)


def test_python_path_equals_compiled_path(tmp_path):
    jit = _run(tmp_path, "jit", False)
    py = _run(tmp_path, "py", True)
    assert np.array_equal(jit, py)
    assert (jit[:300] >= 0).sum() > 200  # most spheres lodged (a real run, not all lung)
    assert (jit[1500:1800] >= 0).sum() > 30  # the paths engine lodged spheres (until stasis)
