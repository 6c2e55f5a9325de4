"""The suite's ``--device`` option: parsing, the usage error, the fixture, the tolerance helpers.

These run on any machine: the device-specific branches of the helpers only look at
``device.type``, so a ``torch.device("cuda")`` object exercises them with CPU tensors,
and representative tests are run through a child pytest with ``--device cpu``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import configure_cuda_numerics, parse_device
from tests.helpers import (
    CUDA_FLOAT32_ATOL,
    CUDA_FLOAT32_RTOL,
    CUDA_GRADCHECK_NONDET_TOL,
    ROOT,
    close,
    gradcheck,
    tolerances,
)

CPU, CUDA = torch.device("cpu"), torch.device("cuda")

# One test per area that follows the device: an op with gradcheck, a layer, a trainer, a cascade.
REPRESENTATIVE = [
    "tests/ops/test_views.py::TestSpatialDownsample::test_gradcheck",
    "tests/layers/test_norm.py::test_gradcheck",
    "tests/training/test_trainer.py::test_d_step_updates_only_d_and_g_step_only_g",
    "tests/cascade/test_cascade.py::test_views_shapes_and_consistency",
]


def child_pytest(*args: str) -> subprocess.CompletedProcess:
    """A fresh ``python -m pytest`` in the repository, without this run's xdist or pytest variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


# --------------------------------------------------------------------------- option and fixture


def test_fixture_is_the_parsed_option(device, pytestconfig):
    assert isinstance(device, torch.device) and device.type in ("cpu", "cuda")
    assert device == parse_device(pytestconfig.getoption("--device"))


def test_cpu_parses_and_other_devices_are_usage_errors():
    assert parse_device("cpu") == CPU
    for bad in ("tpu", "cuda:x", "meta", ""):
        with pytest.raises(pytest.UsageError, match="--device"):
            parse_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here: --device cuda is valid")
def test_cuda_without_a_gpu_is_a_usage_error():
    for text in ("cuda", "cuda:1"):
        with pytest.raises(pytest.UsageError, match=f"--device {text}: CUDA is not available"):
            parse_device(text)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_is_filled_in_and_checked():
    assert parse_device("cuda") == torch.device("cuda", torch.cuda.current_device())
    with pytest.raises(pytest.UsageError, match="CUDA device"):
        parse_device(f"cuda:{torch.cuda.device_count()}")


def test_representative_tests_pass_through_the_option():
    """An op gradcheck, a layer, a trainer and a cascade test, run by a child pytest with ``--device cpu``."""
    proc = child_pytest("--device", "cpu", *REPRESENTATIVE)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "device: cpu" in proc.stdout  # the report header names the device
    assert f"{len(REPRESENTATIVE)} passed" in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here: --device cuda runs the suite")
def test_cuda_request_fails_fast_with_a_usage_error():
    proc = child_pytest("-q", "--device", "cuda", "tests/ops/test_views.py")
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "--device cuda: CUDA is not available on this machine" in proc.stderr
    assert "passed" not in proc.stdout and "collected" not in proc.stdout  # nothing ran


def test_cuda_numerics_switches(monkeypatch):
    """What a CUDA run sets before its first test (the switches are global: restored afterwards)."""
    before = (
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic, torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        configure_cuda_numerics()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        matmul_tf32, cudnn_tf32, benchmark, deterministic, algorithms, warn_only = before
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
        torch.backends.cudnn.allow_tf32 = cudnn_tf32
        torch.backends.cudnn.benchmark = benchmark
        torch.backends.cudnn.deterministic = deterministic
        torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)


def test_cpu_run_keeps_the_default_backend_switches(device):
    if device.type != "cpu":
        pytest.skip("a CUDA run sets the switches on purpose")
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == 1


# --------------------------------------------------------------------------- tolerances


def test_cpu_tolerances_are_the_callers():
    assert tolerances(CPU) == {}
    assert tolerances(CPU, rtol=1e-5, atol=1e-6) == {"rtol": 1e-5, "atol": 1e-6}
    assert tolerances(CPU, torch.float64, atol=1e-8) == {"atol": 1e-8}


def test_cuda_float32_tolerances_have_floors_and_keep_looser_ones():
    floor = {"rtol": CUDA_FLOAT32_RTOL, "atol": CUDA_FLOAT32_ATOL}
    assert floor == {"rtol": 1e-4, "atol": 1e-4}
    assert tolerances(CUDA) == floor
    assert tolerances(CUDA, rtol=1e-5, atol=1e-6) == floor
    assert tolerances(CUDA, rtol=0, atol=0.05) == {"rtol": 1e-4, "atol": 0.05}
    assert tolerances(CUDA, atol=1e-6) == floor


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_cuda_keeps_other_dtypes_tolerances(dtype):
    assert tolerances(CUDA, dtype) == {}
    assert tolerances(CUDA, dtype, rtol=1e-9, atol=1e-9) == {"rtol": 1e-9, "atol": 1e-9}


def test_close_on_cpu_is_assert_close():
    a = torch.ones(3)
    close(a, a + 5e-6, CPU)  # inside torch's float32 defaults (atol 1e-5)
    with pytest.raises(AssertionError):
        close(a, a + 5e-5, CPU)
    with pytest.raises(AssertionError):
        close(a, a + 5e-5, CPU, rtol=1e-5, atol=1e-5)
    close(a.double(), a.double() + 5e-8, CPU)
    with pytest.raises(AssertionError):
        close(a.double(), a.double() + 5e-7, CPU)


def test_close_on_cuda_applies_the_float32_floors_only():
    """The CUDA branch with CPU tensors (it copies both sides to the CPU first)."""
    a = torch.ones(3)
    close(a, a + 5e-5, CUDA)
    close(a, a + 5e-5, CUDA, rtol=1e-6, atol=1e-6)
    close({"x": a}, {"x": a + 1e-4}, CUDA)  # nested structures
    with pytest.raises(AssertionError):
        close(a, a + 1e-3, CUDA)
    with pytest.raises(AssertionError):  # float64 keeps its tolerances
        close(a.double(), a.double() + 5e-7, CUDA)
    close(a.double(), a.double() + 5e-8, CUDA)


def test_gradcheck_adds_a_reentrancy_tolerance_on_cuda_only(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.autograd, "gradcheck", lambda fn, inputs, **kw: seen.append(kw) or True)
    assert gradcheck(torch.sin, (torch.zeros(1),), CPU, atol=1e-4)
    assert gradcheck(torch.sin, (torch.zeros(1),), CUDA, atol=1e-4)
    assert seen == [{"atol": 1e-4}, {"atol": 1e-4, "nondet_tol": CUDA_GRADCHECK_NONDET_TOL}]
    assert CUDA_GRADCHECK_NONDET_TOL == 1e-10


def test_gradcheck_helper_runs_the_real_check(device):
    x = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(torch.sin, (x,), device)
