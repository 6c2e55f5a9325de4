"""Shared fixtures and helpers for the test suite (tiny shapes, CPU, float32/float64)."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

# Keep runs short and deterministic on a 2-core CI machine.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# One intra-op thread for every test: the tests run tiny ops, and two xdist workers
# with two threads each oversubscribe a 2-core machine, which made small kernels
# many times slower (tests may still change it locally and must restore it).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


