"""One intra-op thread per test worker: the metric tests run many tiny convolutions, where two
threads per worker on a 2-core machine under ``-n 2`` spend their time contending, not computing."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
