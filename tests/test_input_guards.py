"""Bad inputs to every public module end in a ValueError or TypeError that names the argument.

Each public ``nn.Module`` of :mod:`vidgan_blocks` is built at a tiny width (the catalogue
of :mod:`tests.test_fake_cuda`) and called with its valid CPU inputs changed one way at a
time: an empty batch, integer tensors where floats belong, one dimension too many or too
few, one channel too many, a zero-length dimension, out-of-range labels, and batch sizes
that disagree between arguments. A module may accept a change (many ops take any channel
count) but may not fail any other way: a ZeroDivisionError from einops, an IndexError
from an embedding or a RuntimeError from a convolution means a guard is missing. The
property test then throws tensors of random rank, size and dtype at every argument.

Empty batches: every block, head, recurrent unit, generator, discriminator and the I3D
network refuses ``B = 0`` (``EMPTY_BATCH_REFUSED``); the stateless ops and single layers
return an empty output instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.overrides import TorchFunctionMode

from tests.test_fake_cuda import MODULES

ALLOWED = (ValueError, TypeError)
NUM_CLASSES = 3  # every class-conditional entry of the catalogue uses 3 classes

# Modules whose forward refuses an empty batch (documented in their docstrings); the
# others (stateless ops, single layers) work on it and return an empty output.
EMPTY_BATCH_REFUSED = {
    "GBlock", "GBlock3d", "DBlock", "DBlock3d", "LowResSkip", "FrameBatchNorm", "ConditionalBatchNorm",
    "ProjectionHead", "MixedProjectionHead", "ScoreHead",
    "ConvGRU", "MultiplicativeConvGRU", "ConvLSTM", "KTrajGRU", "TSRU", "TSRUp", "TSRUs", "PTSRU", "RecurrentUnit",
    "Conditioning", "NoiseStem", "OutputHead", "GeneratorUnit", "UpsamplingUnit", "FrameEncoder", "ConditioningSkip",
    "DVDGenerator", "CascadeFirstLevelGenerator", "FramePredictionGenerator", "UpsamplingGenerator",
    "DiscriminatorTrunk", "SpatialDiscriminator", "TemporalDiscriminator", "CroppedDiscriminator",
    "MatchingDiscriminator", "VideoDiscriminator", "MultiDiscriminator", "I3D", "FactorizedKernels",
}  # fmt: skip


class _OnCPU(TorchFunctionMode):
    """Make the catalogue's ``device="cuda"`` factory calls create CPU tensors."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if "device" in kwargs and kwargs["device"] is not None and torch.device(kwargs["device"]).type == "cuda":
            kwargs["device"] = "cpu"
        return func(*args, **kwargs)


_BUILT: dict[str, nn.Module] = {}


def module(name: str) -> nn.Module:
    if name not in _BUILT:
        torch.manual_seed(0)
        _BUILT[name] = MODULES[name][0]()
    return _BUILT[name]


def inputs(name: str) -> dict[str, object]:
    """Valid CPU inputs of ``name``, keyed by the names of its forward's parameters."""
    torch.manual_seed(0)
    with _OnCPU():
        args, kwargs = MODULES[name][1]()
    params = list(inspect.signature(module(name).forward).parameters)
    return {**dict(zip(params, args)), **kwargs}


def call(name: str, kwargs: dict[str, object]) -> object:
    m = module(name)
    params = inspect.signature(m.forward).parameters
    pos = [kwargs[p] for p, v in params.items() if p in kwargs and v.kind is v.POSITIONAL_OR_KEYWORD]
    rest = {k: v for k, v in kwargs.items() if k not in params or params[k].kind is not params[k].POSITIONAL_OR_KEYWORD}
    with torch.no_grad():
        return m(*pos, **rest)


def _is_labels(name: str, v: object) -> bool:
    return isinstance(v, torch.Tensor) and not v.is_floating_point() and name == "y"


# ------------------------------------------------------------------------------ mutations


def _tensors(kw: dict[str, object]) -> list[str]:
    return [k for k, v in kw.items() if isinstance(v, torch.Tensor)]


def mutations(name: str) -> Iterator[tuple[str, Callable[[dict], dict], tuple[str, ...]]]:
    """``(case, change, names)``: the change and the argument names an error may cite."""
    kw = inputs(name)
    tensors = _tensors(kw)
    batch = {k: kw[k].shape[0] for k in tensors if kw[k].dim() >= 1}
    b0 = max(batch.values()) if batch else None

    def empty(d: dict) -> dict:
        return {k: (v[:0] if k in batch and batch[k] == b0 else v) for k, v in d.items()}

    yield "empty_batch", empty, tuple(tensors)
    for k in tensors:
        v = kw[k]
        if v.is_floating_point():
            yield f"int:{k}", (lambda d, k=k: {**d, k: d[k].long()}), (k,)
            yield f"rank+1:{k}", (lambda d, k=k: {**d, k: d[k].unsqueeze(-1)}), (k,)
        if v.dim() >= 2:
            yield f"rank-1:{k}", (lambda d, k=k: {**d, k: d[k].flatten(-2)}), (k,)
            yield f"channels+1:{k}", (lambda d, k=k: {**d, k: torch.cat([d[k], d[k][:, :1]], 1)}), (k,)
            for dim in range(1, v.dim()):
                yield f"zero_len:{k}:{dim}", (lambda d, k=k, dim=dim: {**d, k: d[k].narrow(dim, 0, 0)}), (k,)
        if _is_labels(k, v):
            yield f"label_high:{k}", (lambda d, k=k: {**d, k: torch.full_like(d[k], 100)}), (k,)
            yield f"label_neg:{k}", (lambda d, k=k: {**d, k: torch.full_like(d[k], -1)}), (k,)
            yield f"label_float:{k}", (lambda d, k=k: {**d, k: d[k].float()}), (k,)
            yield f"label_2d:{k}", (lambda d, k=k: {**d, k: d[k][:, None]}), (k,)
    if len(batch) >= 2:
        for k in batch:
            yield f"batch-1:{k}", (lambda d, k=k: {**d, k: d[k][:-1]}), tuple(batch)
    for k, v in kw.items():
        if isinstance(v, int) and not isinstance(v, bool):
            yield f"int0:{k}", (lambda d, k=k: {**d, k: 0}), (k,)


# The spectral-norm layers are drop-in twins of torch's own layers (used inside every
# block, where a guard per call would only repeat the block's own): their errors are
# torch's, as for nn.Conv3d.
TORCH_LAYERS = {"SNConv1d", "SNConv2d", "SNConv3d", "SNLinear", "SNEmbedding"}
GUARDED = sorted(set(MODULES) - TORCH_LAYERS)
CASES = [(n, case) for n in GUARDED for case, _, _ in mutations(n)]


def _expect_guard(name: str, case: str, change: Callable[[dict], dict], names: tuple[str, ...]) -> None:
    kw = change(inputs(name))
    try:
        call(name, kw)
    except ALLOWED as e:
        msg = str(e)
        assert any(n in msg for n in names), f"{name} [{case}]: message names none of {names}: {msg}"
        return
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{name} [{case}]: raw {type(e).__name__} instead of a guard: {e}")
    # Accepted. Only some changes may be accepted, by some modules.
    if case == "empty_batch":
        assert name not in EMPTY_BATCH_REFUSED, f"{name}: an empty batch should be refused"
    assert not case.startswith(("label_", "int:", "batch-1")), f"{name} [{case}]: bad input accepted"


@pytest.mark.parametrize("name", GUARDED)
def test_bad_inputs_raise_guard_errors(name):
    """Every mutation of the module's valid inputs (about 8-20 per module)."""
    for case, change, names in mutations(name):
        _expect_guard(name, case, change, names)


def test_valid_inputs_still_run():
    for name in sorted(MODULES):
        call(name, inputs(name))


def test_case_count():
    assert len(CASES) > 400


# --------------------------------------------------------------------------- property test


@st.composite
def random_tensor(draw):
    rank = draw(st.integers(0, 6))
    shape = draw(st.lists(st.integers(0, 5), min_size=rank, max_size=rank))
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.uint8]))
    return torch.zeros(shape, dtype=dtype)


FAST = [n for n in GUARDED if n != "I3D"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FAST), data=st.data())
def test_random_tensors_raise_only_guard_errors(name, data):
    kw = inputs(name)
    targets = _tensors(kw)
    k = data.draw(st.sampled_from(targets))
    kw[k] = data.draw(random_tensor())
    try:
        call(name, kw)
    except ALLOWED:
        pass
