"""Recipe tests: one torch thread (tiny models on a busy 2-core machine), recipe scripts as modules."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def recipe_module(name: str):
    """``recipes/<name>.py`` imported as a module (its ``main`` is not run)."""
    if str(RECIPES) not in sys.path:
        sys.path.insert(0, str(RECIPES))
    return importlib.import_module(name)
