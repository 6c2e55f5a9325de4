"""Shared fixtures and helpers for the test suite (tiny shapes, CPU, float32/float64)."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

# Keep runs short and deterministic on a 2-core CI machine.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# One thread per xdist worker: two workers with two threads each oversubscribe a
# 2-core machine and make small ops many times slower.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


