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


def one_graph(module: torch.nn.Module, *args, **kwargs) -> torch.Tensor:
    """Run ``module`` eagerly and compiled (fullgraph) and check both give the same output."""
    torch._dynamo.reset()
    expected = module(*args, **kwargs)
    got = torch.compile(module, backend="eager", fullgraph=True)(*args, **kwargs)
    torch.testing.assert_close(got, expected)
    return got


@pytest.mark.parametrize("name", list(UNITS))
def test_recurrent_units_unroll_in_one_graph(name):
    torch.manual_seed(0)
    unit = UNITS[name]().eval()
    one_graph(unit, torch.randn(2, 4, 3, 8, 8))


def test_warp_backward_traces_in_one_graph():
    torch.manual_seed(0)
    unit = TSRU(4, 4, variant="c")
    x = torch.randn(2, 4, 2, 8, 8, requires_grad=True)
    compiled = torch.compile(unit, backend="aot_eager", fullgraph=True)
    compiled(x).square().sum().backward()
    grad = x.grad.clone()
    x.grad = None
    unit(x).square().sum().backward()
    torch.testing.assert_close(grad, x.grad)


def test_conditional_heads_trace_with_labels():
    torch.manual_seed(0)
    h, y = torch.randn(4, 8), torch.tensor([0, 2, 1, 2])
    one_graph(ProjectionHead(8, 3), h, y)
    one_graph(MixedProjectionHead(8, 3), torch.randn(4, 8, 3), y)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):  # eager calls keep the check
        ProjectionHead(8, 3)(h, torch.tensor([0, 3, 1, 2]))


def test_cropped_discriminator_traces_in_one_graph():
    torch.manual_seed(0)
    d = DiscriminatorConfig("cropped", ch=2, multipliers=(1, 2), blocks_3d=1, num_classes=3).build()
    video, y = torch.randn(2, 3, 4, 16, 16), torch.tensor([0, 2])
    torch._dynamo.reset()
    out = torch.compile(d, backend="eager", fullgraph=True)(video, y)  # crops are random: check shapes and finiteness
    assert set(out) == {"cropped"} and all(torch.isfinite(v).all() for v in out.values())


def test_frame_batch_norm_traces_in_one_graph_from_its_first_batch():
    x = torch.randn(3, 4, 5, 6, 6)
    torch._dynamo.reset()
    fresh = FrameBatchNorm(4)  # the first training batch sizes the per-step statistics
    out = torch.compile(fresh, backend="eager", fullgraph=True)(x)
    ref = FrameBatchNorm(4)
    torch.testing.assert_close(out, ref(x))
    assert fresh.frames == 5 and int(fresh.num_batches_tracked) == 1
    torch.testing.assert_close(fresh.running_mean, ref.running_mean)
    one_graph(fresh.eval(), x)
    one_graph(fresh.train(), x)
