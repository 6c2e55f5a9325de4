"""Recipe tests: recipe scripts imported as modules."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def recipe_module(name: str):
    """``recipes/<name>.py`` imported as a module (its ``main`` is not run)."""
    if str(RECIPES) not in sys.path:
        sys.path.insert(0, str(RECIPES))
    return importlib.import_module(name)
