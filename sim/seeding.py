"""Seeds: one scheme for every random stream of taresim.

A run has one root seed (the scenario's ``seed``). Each stage draws from its own
``numpy.random.SeedSequence(seed, spawn_key=(0, 0, stage))``: stages have fixed spawn slots,
so adding a stage never changes another stage's stream (the two leading zeros are kept so that
files written by taresim 0.1 stay reproducible bit for bit). A sweep gives replicate r of every
point the seed :func:`replicate_seed` (root seed, r), so the points of one replicate share the
tree and the random streams (common random numbers).
"""
from __future__ import annotations

import numpy as np

__all__ = ["STAGES", "stage_seed", "stage_rng", "replicate_seed"]

STAGES = ("tree", "diameters", "transport", "positions", "dose", "scout_diameters",
          "scout_transport", "scout_fate", "imaging")


def stage_seed(root_seed: int, stage: str) -> np.random.SeedSequence:
    """SeedSequence of a stage of the run seeded with ``root_seed``."""
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    return np.random.SeedSequence(int(root_seed), spawn_key=(0, 0, STAGES.index(stage)))


def stage_rng(root_seed: int, stage: str) -> np.random.Generator:
    """numpy Generator of a stage (see :func:`stage_seed`)."""
    return np.random.default_rng(stage_seed(root_seed, stage))


def replicate_seed(root_seed: int, replicate: int) -> int:
    """Root seed of replicate r of a sweep: an integer drawn from
    SeedSequence(root_seed, spawn_key=(r,))."""
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(int(replicate),))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))
