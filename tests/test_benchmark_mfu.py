"""The MFU figures of the benchmark suites: FLOP counting, peak choice and the ratio itself.

No GPU needed: the peak lookup takes a device name, and the precision choice reads
torch's TF32 flags, which can be set without a GPU.
"""

from __future__ import annotations

import pytest
import torch

from tests.helpers import load_benchmark_module


@pytest.fixture(scope="module")
def measure():
    return load_benchmark_module("_measure")


@pytest.fixture
def tf32_flags():
    """Restore torch's TF32 flags after a test changes them (through the legacy setters)."""
    conv, matmul = torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()
    yield
    torch.backends.cudnn.allow_tf32 = conv
    torch.set_float32_matmul_precision(matmul)


@pytest.mark.parametrize("m, k, n", [(64, 32, 16), (7, 5, 3)])
def test_count_flops_of_a_matmul_is_2mkn(measure, m, k, n):
    a, b = torch.randn(m, k), torch.randn(k, n)
    assert measure.count_flops(lambda: a @ b) == 2 * m * k * n


def test_count_flops_counts_forward_and_backward(measure):
    # y = a @ w, backward: grad_a = g @ w^T and grad_w = a^T @ g, each as large as the forward.
    a, w = torch.randn(8, 4, requires_grad=True), torch.randn(4, 6, requires_grad=True)
    assert measure.count_flops(lambda: (a @ w).sum().backward()) == 3 * 2 * 8 * 4 * 6
    with pytest.raises(TypeError, match="fn: expected a zero-argument callable"):
        measure.count_flops(42)


def test_mfu_is_flops_over_time_over_peak(measure):
    m, k, n = 256, 128, 64
    a, b = torch.randn(m, k), torch.randn(k, n)
    flops = measure.count_flops(lambda: a @ b)
    seconds, peak = 2e-6, 100.0  # a known time against a stubbed peak of 100 TFLOP/s
    expected = 2 * m * k * n / seconds / (peak * 1e12)
    assert measure.mfu(flops, seconds, peak) == pytest.approx(expected, rel=0.1)
    assert measure.mfu(flops, seconds, None) is None
    for bad in (dict(flops=-1), dict(seconds=0.0), dict(seconds=float("nan")), dict(peak=0.0), dict(flops=True)):
        args = dict(flops=flops, seconds=seconds, peak=peak) | bad
        with pytest.raises(ValueError):
            measure.mfu(**args)


def test_mfu_info_on_a_gpu_uses_the_peak_of_the_precision_that_ran(measure, monkeypatch, tf32_flags):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    torch.backends.cudnn.allow_tf32 = True
    flops = 247_350_000_000_000  # half the TF32 peak in one second
    info = measure.mfu_info(flops, 1.0, torch.device("cuda"), "none")
    assert info["precision"] == "tf32" and info["peak_tflops"] == pytest.approx(494.7)
    assert info["mfu"] == pytest.approx(0.5) and info["tflops_per_s"] == pytest.approx(247.35)
    assert info["gflops"] == pytest.approx(247_350)
    bf16 = measure.mfu_info(flops, 1.0, torch.device("cuda"), "bf16")
    assert bf16["precision"] == "bf16" and bf16["mfu"] == pytest.approx(0.25, rel=1e-3)
    cpu = measure.mfu_info(10**9, 1.0, torch.device("cpu"), "none")
    assert cpu["precision"] == "fp32" and cpu["peak_tflops"] is None and cpu["mfu"] is None


def test_fp32_with_tf32_enabled_takes_the_tf32_peak(measure, tf32_flags):
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.allow_tf32 = True  # torch's default: cuDNN convolutions in TF32
    assert measure.compute_precision("none", "cuda") == "tf32"
    assert measure.peak_tflops("NVIDIA H100 80GB HBM3", "tf32") == pytest.approx(494.7)
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("high")  # TF32 matmuls alone are enough
    assert measure.compute_precision("none", "cuda") == "tf32"
    torch.set_float32_matmul_precision("highest")
    assert measure.compute_precision("none", "cuda") == "fp32"  # strict float32 everywhere
    assert measure.peak_tflops("NVIDIA H200", "fp32") == pytest.approx(66.9)


def test_autocast_and_cpu_precisions(measure):
    assert measure.compute_precision("bf16", "cuda") == "bf16"
    assert measure.compute_precision("fp16", "cuda") == "fp16"
    assert measure.compute_precision("bf16", "cpu") == "bf16"
    assert measure.compute_precision("fp16", "cpu") == "fp32"  # fp16 autocast is not applied on CPU
    assert measure.compute_precision("none", "cpu") == "fp32"
    with pytest.raises(ValueError, match="amp: expected"):
        measure.compute_precision("fp8", "cuda")


def test_peak_table_matches_names_specific_first(measure):
    peak = measure.peak_tflops
    assert peak("NVIDIA H200", "bf16") == pytest.approx(989.4)
    assert peak("NVIDIA H100 PCIe", "bf16") == pytest.approx(756.0)
    assert peak("NVIDIA A100-SXM4-80GB", "tf32") == pytest.approx(156.0)
    assert peak("NVIDIA L40S", "bf16") == pytest.approx(362.0)  # not the L4's figures
    assert peak("NVIDIA L4", "bf16") == pytest.approx(121.0)
    assert peak("AMD EPYC 7B13", "fp32") is None
    for name, peaks in measure.GPU_PEAK_TFLOPS:
        assert set(peaks) == set(measure.PRECISIONS), name
        assert peaks["fp32"] <= peaks["tf32"] <= peaks["bf16"] == peaks["fp16"], name
    with pytest.raises(ValueError, match="precision: expected"):
        peak("NVIDIA H200", "int8")
    with pytest.raises(TypeError, match="device_name: expected a str"):
        peak(None, "fp32")


def test_synced_runs_the_closure(measure):
    calls = []
    measure.synced(lambda: calls.append(1), "cpu")()
    assert calls == [1]


def test_full_attention_that_cannot_fit_is_reported_out_of_memory(monkeypatch):
    attention = load_benchmark_module("bench_attention")
    assert attention.largest_attention("full", 16, 64) == (16 * 64 * 64) ** 2
    assert attention.largest_attention("separable", 16, 64) == 64**3 * 16
    # The GPU shape of the suite: about 192 GiB of attention matrices, more than an 80 GB card.
    need = attention.attention_bytes("full", 4, 16, 64)
    assert need == 3 * 4 * 4 * (16 * 64 * 64) ** 2
    monkeypatch.setattr(attention, "free_device_memory", lambda device: 79 * 2**30)
    reason = attention.out_of_memory_reason("full", 4, 16, 64, "cuda")
    assert reason is not None and reason.startswith("out of memory at this shape")
    assert attention.out_of_memory_reason("separable", 4, 16, 64, "cuda") is None
    monkeypatch.setattr(attention, "free_device_memory", lambda device: None)
    assert attention.out_of_memory_reason("full", 4, 16, 64, "cuda") is None
    with pytest.raises(ValueError, match="kind: expected"):
        attention.largest_attention("axial", 16, 64)
    with pytest.raises(ValueError, match="b: expected a positive int"):
        attention.attention_bytes("full", 0, 16, 64)
