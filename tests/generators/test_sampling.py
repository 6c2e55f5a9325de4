"""Noise truncation, fixed seeds, class choice and batched sampling."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from vidgan_blocks.generators import make_generator, sample_labels, sample_noise, sample_videos


@settings(max_examples=30)
@given(threshold=st.floats(0.05, 3.0), batch=st.integers(1, 64), dim=st.integers(1, 40), seed=st.integers(0, 2**31))
def test_resample_truncation_never_exceeds_threshold(threshold, batch, dim, seed, device):
    z = sample_noise(batch, dim, truncation=threshold, seed=seed, device=device)
    assert z.shape == (batch, dim) and z.device == device
    assert float(z.abs().max()) <= threshold


def test_resample_truncation_is_a_truncated_normal(device):
    z = sample_noise(20000, 4, truncation=1.0, seed=0, device=device)
    # Variance of N(0,1) truncated to [-1, 1]: 1 - 2 phi(1) / (2 Phi(1) - 1).
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    expected = 1 - 2 * phi / (2 * cdf - 1)
    assert abs(float(z.var()) - expected) < 0.01
    assert abs(float(z.mean())) < 0.02


def test_scale_truncation(device):
    z = sample_noise(20000, 4, truncation=0.5, mode="scale", seed=1, device=device)
    assert abs(float(z.std()) - 0.5) < 0.01


def test_fixed_seed_reproduces(device):
    a = sample_noise(4, 8, seed=3, truncation=1.5, device=device)
    b = sample_noise(4, 8, seed=3, truncation=1.5, device=device)
    c = sample_noise(4, 8, seed=4, truncation=1.5, device=device)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    torch.manual_seed(0)
    g1 = torch.randn(3, device=device)
    torch.manual_seed(0)
    sample_noise(2, 2, seed=9, device=device)  # a private generator leaves the global RNG alone
    torch.testing.assert_close(torch.randn(3, device=device), g1)


def test_labels_choice(device):
    y = sample_labels(500, 10, classes=[2, 7], seed=0, device=device)
    assert y.dtype == torch.long and set(y.tolist()) == {2, 7} and y.device == device
    assert set(sample_labels(8, 10, classes=4, device=device).tolist()) == {4}
    assert set(sample_labels(2000, 3, seed=1, device=device).tolist()) == {0, 1, 2}
    torch.testing.assert_close(sample_labels(6, 10, seed=5, device=device), sample_labels(6, 10, seed=5, device=device))


@pytest.mark.parametrize(
    "call,err",
    [
        (lambda: sample_noise(2, 3, truncation=0.0), ValueError),
        (lambda: sample_noise(2, 3, mode="clip"), ValueError),
        (lambda: sample_noise(0, 3), ValueError),
        (lambda: sample_noise(2, 3.0), TypeError),
        (lambda: sample_labels(2, 3, classes=[3]), ValueError),
        (lambda: sample_labels(2, 3, classes=[]), ValueError),
        (lambda: make_generator(-1), ValueError),
    ],
)
def test_errors(call, err):
    with pytest.raises(err):
        call()


class _Echo(nn.Module):
    """Returns z and y laid out as a video, so the sampling bookkeeping can be checked."""

    z_dim = 3
    num_classes = 5

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, z, y=None, *, low_res=None):
        out = torch.cat([z, y[:, None].float(), low_res.flatten(1)], dim=1)
        return (out * self.w)[:, None, :, None, None]


def test_sample_videos_batches_like_one_call(device):
    m = _Echo().to(device)
    low = torch.randn(7, 2, device=device)
    a = sample_videos(m, 7, batch_size=3, seed=11, truncation=1.0, classes=[1, 3], low_res=low)
    b = sample_videos(m, 7, batch_size=7, seed=11, truncation=1.0, classes=[1, 3], low_res=low)
    torch.testing.assert_close(a, b)
    assert a.shape == (7, 1, 6, 1, 1) and not a.requires_grad and a.device == device
    assert float(a[:, 0, :3].abs().max()) <= 1.0
    assert set(a[:, 0, 3].flatten().tolist()) <= {1.0, 3.0}
    torch.testing.assert_close(a[:, 0, 4:, 0, 0], low)
    with pytest.raises(ValueError, match="low_res: expected a tensor with 7 entries"):
        sample_videos(m, 7, low_res=torch.randn(6, 2, device=device))
