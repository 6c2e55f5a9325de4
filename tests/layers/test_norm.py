"""Per-time-step batch norm: reference statistics, time independence, running stats, errors."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import close, gradcheck
from vidgan_blocks.layers import ConditionalBatchNorm, FrameBatchNorm, freeze_spectral_norm


def reference_frame_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Normalise each (c, t) slice over batch and space, written out per step."""
    out = torch.empty_like(x)
    for t in range(x.shape[2]):
        xt = x[:, :, t]  # [B, C, H, W]
        mean = xt.mean(dim=(0, 2, 3), keepdim=True)
        var = xt.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        out[:, :, t] = (xt - mean) / torch.sqrt(var + eps)
    return out


@pytest.mark.parametrize("shape", [(2, 3, 1, 4, 4), (4, 5, 3, 2, 6), (3, 2, 7, 1, 1)])
def test_training_matches_reference(shape, device):
    x = torch.randn(*shape, device=device) * 3 + 1
    bn = FrameBatchNorm(shape[1], affine=False).to(device)
    close(bn(x), reference_frame_norm(x, bn.eps), device, atol=1e-5, rtol=1e-5)


def test_affine_parameters_apply_per_channel(device):
    x = torch.randn(2, 3, 4, 5, 5, device=device)
    bn = FrameBatchNorm(3).to(device)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        bn.bias.copy_(torch.tensor([0.0, -1.0, 1.0]))
    ref = reference_frame_norm(x, bn.eps) * bn.weight.view(1, 3, 1, 1, 1) + bn.bias.view(1, 3, 1, 1, 1)
    close(bn(x), ref, device, atol=1e-5, rtol=1e-5)


def test_changing_one_frame_changes_no_other_frame(device):
    x = torch.randn(4, 3, 5, 4, 4, device=device)
    cond = torch.randn(4, 6, device=device)
    bn = freeze_spectral_norm(ConditionalBatchNorm(3, 6)).to(device)
    y = bn(x, cond)
    x2 = x.clone()
    x2[:, :, 2] = torch.randn(4, 3, 4, 4, device=device) * 10
    y2 = bn(x2, cond)
    other = [0, 1, 3, 4]
    close(y[:, :, other], y2[:, :, other], device)
    assert not torch.allclose(y[:, :, 2], y2[:, :, 2])


def test_conditional_gain_and_bias(device):
    x = torch.randn(3, 4, 2, 3, 3, device=device)
    cond = torch.randn(3, 5, device=device)
    bn = freeze_spectral_norm(ConditionalBatchNorm(4, 5)).to(device)
    gain = 1 + bn.gain(cond)
    bias = bn.offset(cond)
    ref = reference_frame_norm(x, bn.eps) * gain[:, :, None, None, None] + bias[:, :, None, None, None]
    close(bn(x, cond), ref, device, atol=1e-5, rtol=1e-5)


def test_running_stats_are_per_step_and_used_in_eval(device):
    bn = FrameBatchNorm(2, affine=False, momentum=None).to(device)
    xs = [torch.randn(8, 2, 3, 4, 4, device=device) + torch.arange(3.0, device=device).view(1, 1, 3, 1, 1) * 5
          for _ in range(4)]
    for x in xs:
        bn(x)
    assert bn.running_mean.shape == (2, 3) and bn.frames == 3
    allx = torch.cat(xs)  # cumulative average of the batch means = mean over all batches (equal sizes)
    expected_mean = torch.stack([torch.stack([b[:, c, t].mean() for b in xs]).mean() for c in range(2) for t in range(3)]).view(2, 3)
    close(bn.running_mean, expected_mean, device, atol=1e-5, rtol=1e-5)
    bn.eval()
    x = torch.randn(2, 2, 3, 4, 4, device=device)
    ref = (x - bn.running_mean[None, :, :, None, None]) / torch.sqrt(bn.running_var[None, :, :, None, None] + bn.eps)
    close(bn(x), ref, device, atol=1e-5, rtol=1e-5)
    assert allx.shape[0] == 32


def test_new_length_needs_reestimation(device):
    bn = FrameBatchNorm(2).to(device)
    bn(torch.randn(2, 2, 3, 4, 4, device=device))
    with pytest.raises(ValueError, match=r"reset_running_stats\(frames=5\)"):
        bn(torch.randn(2, 2, 5, 4, 4, device=device))
    bn.eval()
    with pytest.raises(ValueError, match="re-estimate standing statistics at T=6"):
        bn(torch.randn(2, 2, 6, 4, 4, device=device))
    bn.train()
    bn.reset_running_stats(frames=5)
    bn(torch.randn(2, 2, 5, 4, 4, device=device))
    bn.eval()
    assert bn(torch.randn(1, 2, 5, 4, 4, device=device)).shape == (1, 2, 5, 4, 4)


def test_state_dict_round_trip_resizes_buffers(device):
    a = FrameBatchNorm(3).to(device)
    a(torch.randn(4, 3, 6, 2, 2, device=device))
    b = FrameBatchNorm(3).to(device)
    b.load_state_dict(a.state_dict())
    assert b.frames == 6
    close(b.running_var, a.running_var, device)


def test_gradcheck(device):
    x = torch.randn(3, 2, 2, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
    cond = torch.randn(3, 4, dtype=torch.float64, device=device, requires_grad=True)
    bn = freeze_spectral_norm(ConditionalBatchNorm(2, 4, track_running_stats=False).double()).to(device)
    assert gradcheck(bn, (x, cond), device)


def test_errors():
    bn = ConditionalBatchNorm(3, 4)
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        bn(torch.randn(2, 4, 2, 3, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"cond: expected shape \(2, 4\)"):
        bn(torch.randn(2, 3, 2, 3, 3), torch.randn(2, 5))
    with pytest.raises(ValueError, match="5-D"):
        FrameBatchNorm(3)(torch.randn(2, 3, 4, 4))
    with pytest.raises(TypeError, match="floating"):
        FrameBatchNorm(3)(torch.zeros(2, 3, 1, 4, 4, dtype=torch.int64))
