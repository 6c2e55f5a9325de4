"""Shared fixtures and helpers for the test suite (tiny shapes, float32/float64).

The suite runs on one device, chosen on the command line::

    python -m pytest -n 2 -q                 # CPU (the default, what CI runs)
    python -m pytest --device cuda           # the same tests on the current GPU
    python -m pytest --device cuda:1         # ... or on a given one

Tests that build modules, run trainers, cascades or recipes take the session
fixture ``device`` and put their modules and inputs there; tests where a device
has no meaning (file formats, data loading, argument parsing, bookkeeping,
multi-process gloo runs) stay on the CPU. On CUDA the float32 comparisons go
through ``tests.helpers.close`` / ``tests.helpers.tolerances``, whose docstring
gives the tolerances and why; :func:`configure_cuda_numerics` below says which
backend switches the suite sets first.
"""

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
os.environ["OMP_NUM_THREADS"] = "1"  # recipes run in-process keep it (recipes/_common.set_threads)

_DEVICE = pytest.StashKey[torch.device]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        default="cpu",
        help="device for the module, trainer, cascade and recipe tests: cpu (default), cuda or cuda:N",
    )


def parse_device(text: str) -> torch.device:
    """The ``--device`` value as a ``torch.device``, or a ``pytest.UsageError`` saying what is wrong.

    ``cuda`` means the current CUDA device (index filled in). CUDA must be usable here.
    """
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError, ValueError) as err:
        raise pytest.UsageError(f"--device: expected cpu, cuda or cuda:N, got {text!r} ({err})") from None
    if device.type == "cpu":
        return torch.device("cpu")
    if device.type != "cuda":
        raise pytest.UsageError(f"--device: expected cpu, cuda or cuda:N, got {text!r}")
    if not torch.cuda.is_available():
        raise pytest.UsageError(
            f"--device {text}: CUDA is not available on this machine (torch {torch.__version__}, "
            f"built for CUDA {torch.version.cuda}); run without --device, or with --device cpu"
        )
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if device.index is None else device.index
    if index >= count:
        raise pytest.UsageError(f"--device {text}: this machine has {count} CUDA device(s) (0..{count - 1})")
    return torch.device("cuda", index)


def configure_cuda_numerics() -> None:
    """Backend switches for a CUDA run, set once per process before any test.

    - TF32 off for matmuls and cuDNN convolutions (``allow_tf32 = False``): with it on,
      Ampere and later GPUs round float32 operands to a 10-bit mantissa (relative
      error ~1e-3), which would make every float32 comparison against a reference
      meaningless. With it off, float32 differs from the CPU only in summation order
      and algorithm, which the float32 tolerances of ``tests.helpers.tolerances`` cover.
    - cuDNN deterministic, no benchmark autotuning: the same convolution picks the
      same algorithm in every call and process, so tests that run a model twice
      (resume, reload, streamed vs one-shot sampling) compare like with like.
    - ``torch.use_deterministic_algorithms(True, warn_only=True)`` (with the cuBLAS
      workspace setting it asks for): ops that have a deterministic CUDA kernel
      (``index_add``, ``scatter_add``, accumulating ``index_put``) use it; ops that
      have none only warn. Float64 atomics left in some backward kernels are why
      ``tests.helpers.gradcheck`` allows a tiny reentrancy difference on CUDA.

    The CPU run changes none of these (``pytest_configure`` also makes the chosen GPU
    the current one, so a bare ``"cuda"`` inside library code lands on it too).
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)


def pytest_configure(config: pytest.Config) -> None:
    device = parse_device(config.getoption("--device"))
    config.stash[_DEVICE] = device
    if device.type == "cuda":
        torch.cuda.set_device(device)
        configure_cuda_numerics()


def pytest_report_header(config: pytest.Config) -> str:
    device = config.stash.get(_DEVICE, torch.device("cpu"))
    if device.type == "cuda":
        return f"device: {device} ({torch.cuda.get_device_name(device)}), TF32 off, deterministic cuDNN"
    return f"device: {device}"


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> torch.device:
    """The device of this run (``--device``): where modules, inputs, trainers and recipes go."""
    return pytestconfig.stash[_DEVICE]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
