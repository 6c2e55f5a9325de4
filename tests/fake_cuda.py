"""A fake CUDA device for CPU-only machines (importable as ``tests.fake_cuda``).

Under torch's ``FakeTensorMode`` tensors carry shapes, dtypes and devices but no
data, and a ``cuda`` tensor can exist without a GPU. Every op still checks that
its operands share a device, so a tensor that library code creates on the CPU and
then meets a CUDA input fails here exactly as it would on a real GPU:
``FakeTensorDeviceMismatchError: Expected all tensors to be on the same device``.

:func:`fake_cuda` adds what a whole training iteration needs on top of that:

- host reads of a tensor value (``.item()``, ``int(t)``, ``bool(t)``, ``.tolist()``)
  have no value to return on a fake tensor; :class:`HostSyncRecorder` answers
  them with a neutral value (``True`` / ``0`` / ``0.0``) and records each one made
  on a CUDA tensor, with the library line that made it: on a GPU each of these is
  a synchronisation that stalls the host until the queued kernels finish. Copies
  from a CUDA tensor to the CPU are recorded too, and so are blocking copies from
  the CPU to CUDA (``.to("cuda")`` without ``non_blocking=True``), which wait for
  the queue as well.
- ``torch.Generator(device="cuda")`` needs a CUDA driver; the fake one is a CPU
  generator that reports ``device == cuda`` (random ops under the fake mode do
  not look at the generator's device, so draws land on the requested device).
- ``Module.to(device)`` on a module that already lives on that device returns it
  unchanged (the fake mode cannot swap a fake parameter for itself),
  ``copy.deepcopy`` of a fake tensor makes a fake clone, and
  ``torch.cuda.set_device`` is a no-op.

Modules are built as users build them, on the CPU, and moved with
:func:`to_cuda` (the fake twin of ``module.to("cuda")``: parameters and buffers
move, plain tensor attributes stay behind, as they would on a GPU). A bare
factory call inside ``forward`` lands on the CPU and is caught.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["CUDA", "HostSync", "HostSyncRecorder", "cuda_tensors", "fake_cuda", "to_cuda"]

CUDA = torch.device("cuda", 0)
LIBRARY = Path(__file__).resolve().parents[1] / "vidgan_blocks"
M = TypeVar("M")
_aten = torch.ops.aten


@dataclass(frozen=True)
class HostSync:
    """One host read of a CUDA tensor: the op and the library line that made it."""

    op: str
    where: str

    def __str__(self) -> str:
        return f"{self.op} at {self.where}"


def _library_frame() -> str:
    """``file:line function`` of the innermost library frame on the stack (else the test's)."""
    frames = traceback.extract_stack()[:-3]
    for fr in reversed(frames):
        if Path(fr.filename).resolve().is_relative_to(LIBRARY):
            return f"{Path(fr.filename).resolve().relative_to(LIBRARY.parent)}:{fr.lineno} {fr.name}"
    fr = frames[-1]
    return f"{Path(fr.filename).name}:{fr.lineno} {fr.name}"


def _neutral(t: torch.Tensor) -> bool | int | float:
    if t.dtype == torch.bool:
        return True
    if t.is_floating_point():
        return 0.0
    if t.is_complex():
        return 0j
    return 0


class HostSyncRecorder(TorchDispatchMode):
    """Answer host reads of fake tensors and record the ones that would stall a GPU."""

    def __init__(self) -> None:
        super().__init__()
        self.syncs: list[HostSync] = []
        self.mode: FakeTensorMode | None = None
        self._last_op_was_read = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is not _aten._local_scalar_dense.default:
            self._last_op_was_read = False
        if func is _aten._local_scalar_dense.default:
            (t,) = args
            if t.device.type == "cuda":
                self._add(HostSync("item", _library_frame()))
            return _neutral(t)
        if func in (_aten._to_copy.default, _aten.copy_.default):
            src = args[0] if func is _aten._to_copy.default else args[1]
            dst = kwargs.get("device") if func is _aten._to_copy.default else args[0].device
            dst = None if dst is None else torch.device(dst)
            if isinstance(src, torch.Tensor) and dst is not None and src.device.type != dst.type:
                if src.device.type == "cuda":
                    self._add(HostSync("copy to cpu", _library_frame()))
                elif dst.type == "cuda" and not (args[2] if len(args) > 2 else kwargs.get("non_blocking", False)):
                    # From pageable memory a blocking host-to-device copy also waits for the queue.
                    self._add(HostSync("blocking copy to cuda", _library_frame()))
        return func(*args, **kwargs)

    def _add(self, sync: HostSync) -> None:
        # ``.tolist()`` reads a fake tensor element by element; on a GPU it is one copy.
        if not (self._last_op_was_read and self.syncs and self.syncs[-1] == sync):
            self.syncs.append(sync)
        self._last_op_was_read = True

    def clear(self) -> None:
        self.syncs.clear()


_RealGenerator = torch.Generator


class _FakeGenerator(_RealGenerator):
    """A CPU generator that reports the device it was asked for."""

    def __new__(cls, device: torch.device | str | int | None = None):
        self = super().__new__(cls)
        self._reported = torch.device("cpu") if device is None else torch.device(device)
        if self._reported.type == "cuda" and self._reported.index is None:
            self._reported = CUDA
        return self

    def __init__(self, device: torch.device | str | int | None = None) -> None:
        pass

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return self._reported


def _deepcopy_fake(self: torch.Tensor, memo: dict) -> torch.Tensor:
    """``copy.deepcopy`` of a fake tensor (EMA copies, frozen samplers) as a fresh fake clone.

    torch's own path copies the storage, which a fake tensor does not really have
    (it corrupts the heap at exit).
    """
    if id(self) in memo:
        return memo[id(self)]
    out = self.detach().clone()
    out = nn.Parameter(out, requires_grad=self.requires_grad) if isinstance(self, nn.Parameter) else out.requires_grad_(self.requires_grad)
    memo[id(self)] = out
    return out


def _same_device(a: torch.device, b: torch.device) -> bool:
    a_idx = 0 if a.type == "cuda" and a.index is None else a.index
    b_idx = 0 if b.type == "cuda" and b.index is None else b.index
    return a.type == b.type and a_idx == b_idx


_real_module_to = nn.Module.to


def _module_to(self: nn.Module, *args: Any, **kwargs: Any) -> nn.Module:
    device, dtype, _, memory_format = torch._C._nn._parse_to(*args, **kwargs)
    tensors = [*self.parameters(), *self.buffers()]
    if dtype is None and memory_format is None and device is not None and all(_same_device(t.device, device) for t in tensors):
        return self
    return _real_module_to(self, *args, **kwargs)


@contextlib.contextmanager
def fake_cuda() -> Iterator[HostSyncRecorder]:
    """Run the block with fake CUDA tensors; yields the recorder of host reads."""
    recorder = HostSyncRecorder()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(torch, "Generator", _FakeGenerator))
        stack.enter_context(mock.patch.object(nn.Module, "to", _module_to))
        stack.enter_context(mock.patch.object(FakeTensor, "__deepcopy__", _deepcopy_fake, create=True))
        stack.enter_context(mock.patch.object(torch.cuda, "set_device", lambda *a, **k: None))
        recorder.mode = stack.enter_context(FakeTensorMode(allow_non_fake_inputs=True))
        stack.enter_context(recorder)
        yield recorder


def to_cuda(module: M) -> M:
    """Move a (real, CPU) module's parameters and buffers to the fake CUDA device, in place.

    Use inside :func:`fake_cuda`. Shapes, dtypes, strides and ``requires_grad``
    carry over; values do not exist on the fake device.
    """
    from torch._guards import detect_fake_mode

    mode = detect_fake_mode()
    if mode is None:
        raise RuntimeError("to_cuda: call it inside fake_cuda()")
    convert = mode.fake_tensor_converter.from_meta_and_device

    def fake(t: torch.Tensor) -> torch.Tensor:
        with torch._C._DisableTorchDispatch():  # the real tensor's meta twin, outside the fake mode
            meta = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
        return convert(mode, meta, CUDA)

    for m in module.modules():  # type: ignore[attr-defined]
        for name, p in list(m._parameters.items()):
            if p is not None:
                m._parameters[name] = nn.Parameter(fake(p), requires_grad=p.requires_grad)
        for name, b in list(m._buffers.items()):
            if b is not None:
                m._buffers[name] = fake(b)
    return module


def cuda_tensors(obj: Any) -> list[torch.Tensor]:
    """Every tensor in a (nested) output; used to check that outputs stay on the device."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in cuda_tensors(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in cuda_tensors(v)]
    return []
