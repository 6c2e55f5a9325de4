"""The benchmark speed options (``--bench-amp``, ``--bench-channels-last``, ``--bench-compile``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import ROOT, load_benchmark_module


@pytest.fixture
def measure(monkeypatch):
    for var in ("VIDGAN_BENCH_AMP", "VIDGAN_BENCH_CHANNELS_LAST", "VIDGAN_BENCH_COMPILE"):
        monkeypatch.delenv(var, raising=False)
    return load_benchmark_module("_measure")


def test_options_round_trip_through_the_environment_and_name_the_run(measure, monkeypatch):
    Opts = measure.BenchOptions
    assert Opts.from_env() == Opts() and Opts().tag == "fp32"
    Opts(amp="bf16", channels_last=True, compile=True).export()
    got = Opts.from_env()
    assert got == Opts(amp="bf16", channels_last=True, compile=True) and got.tag == "bf16-cl-compile"
    assert got.dtype is torch.bfloat16 and got.warmup(0) == 1 and Opts().warmup(0) == 0
    assert got.trainer_fields() == {"amp": "bf16", "compile": True, "channels_last": True}
    with pytest.raises(ValueError, match="amp: expected"):
        Opts(amp="fp8")


def test_prepare_tensor_and_wrap_apply_what_was_selected(measure):
    from vidgan_blocks.ops import is_channels_last

    opts = measure.BenchOptions(amp="bf16", channels_last=True, compile=True)
    m = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.Conv2d(4, 4, 1))
    assert opts.prepare(m) is m and is_channels_last(m) and m._compiled_call_impl is not None
    assert opts.tensor(torch.zeros(1, 3, 2, 4, 4)).is_contiguous(memory_format=torch.channels_last_3d)
    seen = []
    opts.wrap(lambda: seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))), "cpu")()
    assert seen == [(True, torch.bfloat16)] and not torch.is_autocast_enabled("cpu")
    plain = measure.BenchOptions()
    m2 = torch.nn.Conv2d(3, 4, 3)
    assert plain.prepare(m2) is m2 and m2._compiled_call_impl is None and not is_channels_last(m2)
    # fp16 autocast is a CUDA option: on CPU the closure runs in float32.
    seen.clear()
    measure.BenchOptions(amp="fp16").wrap(lambda: seen.append(torch.is_autocast_enabled("cpu")), "cpu")()
    assert seen == [False]


def test_a_benchmark_runs_with_options_and_reports_under_its_own_name(tmp_path):
    """End to end: one recurrent-unit benchmark with bf16 + channels-last, then the report command."""
    out = tmp_path / "bench.json"
    # A clean pytest: no options of this run, and no xdist worker variables (pytest-benchmark
    # switches itself off inside xdist workers).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDGAN_BENCH_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_recurrent.py", "--benchmark", "-k", "ConvGRU and step and not Multiplicative",
         "--bench-amp", "bf16", "--bench-channels-last", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", f"--benchmark-json={out}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    (bench,) = data["benchmarks"]
    assert bench["extra_info"]["unit"] == "ConvGRU" and bench["extra_info"]["peak_mib"] >= 0
    assert data["machine_info"]["vidgan_hardware"]["options"] == "bf16-cl"
    slug = data["machine_info"]["vidgan_hardware_slug"]
    assert slug.endswith("-bf16-cl")
    doc, results = tmp_path / "benchmarks.md", tmp_path / "results"
    assert load_benchmark_module("report").main([str(out), "--results-dir", str(results), "--doc", str(doc)]) == 0
    assert (results / f"{slug}.json").exists() and f"<!-- hw:{slug} -->" in doc.read_text()
