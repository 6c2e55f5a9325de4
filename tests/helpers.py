"""Helpers shared by tests (importable as ``tests.helpers``)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark_module(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (the folder is not a package) as ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is created
    spec.loader.exec_module(mod)
    return mod


def missing_grads(module: torch.nn.Module) -> list[str]:
    """Names of trainable parameters whose ``.grad`` is missing or all zero."""
    return [
        n
        for n, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))
    ]


# --------------------------------------------------------------------------- device tolerances

#: Float32 tolerance floors on CUDA (see :func:`tolerances`).
CUDA_FLOAT32_RTOL = 1e-4
CUDA_FLOAT32_ATOL = 1e-4
#: Largest difference allowed between two backward passes in a float64 ``gradcheck`` on CUDA.
CUDA_GRADCHECK_NONDET_TOL = 1e-10


def tolerances(
    device: torch.device, dtype: torch.dtype = torch.float32, *, rtol: float | None = None, atol: float | None = None
) -> dict[str, float]:
    """The ``rtol`` / ``atol`` a test on ``device`` uses where it would use ``rtol`` / ``atol`` on the CPU.

    The one place the suite's device tolerances live. Returns a dict holding the
    tolerances that are set (a missing key means the callee's default), for
    ``torch.allclose(a, b, **tol)``, ``torch.testing.assert_close`` (through
    :func:`close`) or ``pytest.approx(x, rel=tol.get("rtol"), abs=tol.get("atol"))``.

    - CPU: the given tolerances, untouched, so every CPU check is exactly what it was
      before the suite took a device.
    - CUDA, float32 (and complex64): at least ``rtol = 1e-4`` and ``atol = 1e-4``. The
      suite turns TF32 off (``tests/conftest.py``), so float32 stays IEEE float32;
      what remains is that cuDNN and cuBLAS sum in a different order than the CPU
      kernels and than the written-out references (unfold, einsum, per-frame loops),
      and that cuDNN may pick Winograd or FFT convolutions, whose transforms lose a
      few more bits. On the O(1) activations of the tiny test models that puts
      results ~1e-6 relative apart for a reordered sum (a few ulps times the square
      root of the reduction length) and up to ~1e-5 for the transformed
      convolutions, also in absolute terms where terms cancel. The floors leave a
      margin of ten over that and stay three to four orders of magnitude below the
      O(1e-1) errors a wrong axis, a missing term or a wrong sign produce. Tighter
      tolerances a test asks for are raised to the floors; looser ones are kept.
    - CUDA, float64: the given tolerances (or the defaults, 1e-7), unchanged: no TF32
      or lossy transform exists for float64, and a different summation order moves
      results by ~1e-15 relative, far inside them. ``gradcheck`` likewise keeps its
      ``eps`` / ``atol`` / ``rtol`` (see :func:`gradcheck`).
    - CUDA, bfloat16 / float16: unchanged; the autocast tests already allow for
      half-precision rounding (atol 0.05 and looser), far above any device difference.
    """
    if device.type == "cpu" or dtype not in (torch.float32, torch.complex64):
        return {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    rtol = CUDA_FLOAT32_RTOL if rtol is None else max(rtol, CUDA_FLOAT32_RTOL)
    atol = CUDA_FLOAT32_ATOL if atol is None else max(atol, CUDA_FLOAT32_ATOL)
    return {"rtol": rtol, "atol": atol}


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, Mapping):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def _dtype_of(value: Any) -> torch.dtype | None:
    if isinstance(value, torch.Tensor):
        return value.dtype
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, (list, tuple)) else ()
    for v in items:
        found = _dtype_of(v)
        if found is not None:
            return found
    return None


def close(
    actual: Any, expected: Any, device: torch.device, *, rtol: float | None = None, atol: float | None = None,
    **kwargs: Any,
) -> None:
    """``torch.testing.assert_close`` with the tolerances of ``device`` (see :func:`tolerances`).

    On the CPU this is exactly ``torch.testing.assert_close(actual, expected, rtol=rtol,
    atol=atol, **kwargs)``. On CUDA both sides are copied to the CPU first (so a
    reference computed on the CPU compares with a CUDA result) and float32 tolerances
    get the CUDA floors.
    """
    if device.type == "cpu":
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, **kwargs)
        return
    tol = tolerances(device, _dtype_of(actual) or torch.float32, rtol=rtol, atol=atol)
    torch.testing.assert_close(_to_cpu(actual), _to_cpu(expected), **tol, **kwargs)


def gradcheck(fn: Callable[..., Any], inputs: Any, device: torch.device, **kwargs: Any) -> bool:
    """``torch.autograd.gradcheck`` for a test on ``device``.

    The numerical-vs-analytical comparison keeps its float64 ``eps`` / ``atol`` /
    ``rtol`` on every device. On CUDA ``nondet_tol`` is 1e-10 (0 on the CPU): a few
    backward kernels (anti-aliased resize, pooling with overlapping windows)
    accumulate with atomics, so two backward passes over the same float64 inputs may
    differ in the last bits (~1e-16), which gradcheck would otherwise report as
    "backward is not reentrant".
    """
    if device.type != "cpu":
        kwargs.setdefault("nondet_tol", CUDA_GRADCHECK_NONDET_TOL)
    return torch.autograd.gradcheck(fn, inputs, **kwargs)

