"""Seeds: one root seed spawns a SeedSequence tree, sweep point -> replicate -> stage.

Stages have fixed spawn slots, so adding a stage never changes another stage's stream.
"""
from __future__ import annotations

import numpy as np

STAGES = ("tree", "diameters", "transport", "positions", "dose")


def stage_seed(root_seed: int, stage: str, *, point: int = 0, replicate: int = 0) -> np.random.SeedSequence:
    """SeedSequence of a stage for a sweep point and replicate (both 0 for a single run)."""
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    return np.random.SeedSequence(int(root_seed), spawn_key=(int(point), int(replicate),
                                                             STAGES.index(stage)))


def stage_rng(root_seed: int, stage: str, **kw) -> np.random.Generator:
    """numpy Generator of a stage (see :func:`stage_seed`)."""
    return np.random.default_rng(stage_seed(root_seed, stage, **kw))
