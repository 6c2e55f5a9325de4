"""docs/recipes.md writes the cascade widths as the code has them: ``ch x [multipliers]``, stem first."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = (ROOT / "docs" / "recipes.md").read_text()
CASCADES = ["cvg_kinetics", "cvg_ucf101", "cvg_bdd100k", "ssw_gan_kinetics", "ssw_gan_bdd100k"]


def row(recipe: str) -> str:
    return next(line for line in TABLE.splitlines() if line.startswith(f"| `{recipe}.py`"))


@pytest.mark.parametrize("recipe", CASCADES)
def test_cascade_generator_widths_match_the_paper_preset(recipe: str) -> None:
    if str(ROOT / "recipes") not in sys.path:
        sys.path.insert(0, str(ROOT / "recipes"))
    P = importlib.import_module(recipe).PRESETS["paper"]
    text = row(recipe)
    for i, spec in enumerate(P.levels, start=1):
        if f"| {i} as " in text or f"; {i} as " in text:  # "1 as Kinetics": widths given in another row
            continue
        written = f"G {spec.g.ch} x [{','.join(map(str, spec.g.multipliers))}]"
        assert written in text, f"level {i}: expected {written!r} in the {recipe} row"
