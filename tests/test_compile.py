"""The blocks trace into one graph under ``torch.compile`` (``fullgraph=True``).

A graph break costs a round trip to Python on every call and often a host
synchronisation; these tests pin the places that once broke: label range checks
in the projection heads, the random crop of ``crV``, the warp's custom backward
in the TSRUs and the per-step BN statistics. The ``eager`` backend keeps them fast
(tracing only, no code generation).
"""

from __future__ import annotations

import pytest
import torch

from tests.helpers import close
from vidgan_blocks.discriminators import DiscriminatorConfig
from vidgan_blocks.layers import FrameBatchNorm, MixedProjectionHead, ProjectionHead
from vidgan_blocks.recurrent import PTSRU, TSRU, ConvGRU, ConvLSTM, KTrajGRU, MultiplicativeConvGRU

UNITS = {
    "ConvGRU": lambda: ConvGRU(4, 4),
    "MultiplicativeConvGRU": lambda: MultiplicativeConvGRU(4, 4),
    "ConvLSTM": lambda: ConvLSTM(4, 4),
    "KTrajGRU": lambda: KTrajGRU(4, 4),
    "TSRUp": lambda: TSRU(4, 4, variant="p"),
    "PTSRU": lambda: PTSRU(4, 4),
}


def one_graph(module: torch.nn.Module, *args, device: torch.device, **kwargs) -> torch.Tensor:
    """Run ``module`` eagerly and compiled (fullgraph) and check both give the same output."""
    torch._dynamo.reset()
    expected = module(*args, **kwargs)
    got = torch.compile(module, backend="eager", fullgraph=True)(*args, **kwargs)
    close(got, expected, device)
    return got


@pytest.mark.parametrize("name", list(UNITS))
def test_recurrent_units_unroll_in_one_graph(name, device):
    torch.manual_seed(0)
    unit = UNITS[name]().eval().to(device)
    one_graph(unit, torch.randn(2, 4, 3, 8, 8, device=device), device=device)


def test_warp_backward_traces_in_one_graph(device):
    torch.manual_seed(0)
    unit = TSRU(4, 4, variant="c").to(device)
    x = torch.randn(2, 4, 2, 8, 8, device=device, requires_grad=True)
    compiled = torch.compile(unit, backend="aot_eager", fullgraph=True)
    compiled(x).square().sum().backward()
    grad = x.grad.clone()
    x.grad = None
    unit(x).square().sum().backward()
    close(grad, x.grad, device)


def test_conditional_heads_trace_with_labels(device):
    torch.manual_seed(0)
    h, y = torch.randn(4, 8, device=device), torch.tensor([0, 2, 1, 2], device=device)
    one_graph(ProjectionHead(8, 3).to(device), h, y, device=device)
    one_graph(MixedProjectionHead(8, 3).to(device), torch.randn(4, 8, 3, device=device), y, device=device)
    # eager calls keep the check (label values are read from CPU tensors only, so on the CPU)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        ProjectionHead(8, 3)(h.cpu(), torch.tensor([0, 3, 1, 2]))


def test_cropped_discriminator_traces_in_one_graph(device):
    torch.manual_seed(0)
    d = DiscriminatorConfig("cropped", ch=2, multipliers=(1, 2), blocks_3d=1, num_classes=3).build().to(device)
    video, y = torch.randn(2, 3, 4, 16, 16, device=device), torch.tensor([0, 2], device=device)
    torch._dynamo.reset()
    out = torch.compile(d, backend="eager", fullgraph=True)(video, y)  # crops are random: check shapes and finiteness
    assert set(out) == {"cropped"} and all(torch.isfinite(v).all() for v in out.values())


def test_frame_batch_norm_traces_in_one_graph_from_its_first_batch(device):
    x = torch.randn(3, 4, 5, 6, 6, device=device)
    torch._dynamo.reset()
    fresh = FrameBatchNorm(4).to(device)  # the first training batch sizes the per-step statistics
    out = torch.compile(fresh, backend="eager", fullgraph=True)(x)
    ref = FrameBatchNorm(4).to(device)
    close(out, ref(x), device)
    assert fresh.frames == 5 and int(fresh.num_batches_tracked) == 1
    close(fresh.running_mean, ref.running_mean, device)
    one_graph(fresh.eval(), x, device=device)
    one_graph(fresh.train(), x, device=device)
