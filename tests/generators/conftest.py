"""Generator tests run many small convolutions: one intra-op thread each.

With ``-n 2`` on a 2-core machine, two workers with two threads each oversubscribe
the cores and tiny kernels spend most of their time waiting for each other; the
fixture restores the previous setting after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
