"""Shared test fixtures: Agg backend, repository paths."""
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def configs_dir() -> Path:
    return REPO / "configs"
