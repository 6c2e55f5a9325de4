"""Timing and peak-memory measurement shared by the benchmark scripts.

CPU peak memory is the peak resident set size of a fresh subprocess that runs one
configuration, minus the RSS right after the imports and input creation, because
allocator-level counters do not see everything torch allocates on the CPU. On CUDA
the figure is ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_fn(
    fn: Callable[[], object], device: torch.device, *, warmup: int = 1, repeats: int = 5, clock: str = "wall"
) -> float:
    """Median time of ``fn()`` in milliseconds.

    ``clock="cpu"`` measures this process's CPU time instead of wall time: on a
    shared machine it is far steadier, and with one torch thread it equals the
    compute the call needs.
    """
    timer = time.process_time if clock == "cpu" and device.type == "cpu" else time.perf_counter
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = timer()
        fn()
        sync(device)
        times.append((timer() - t0) * 1e3)
    return statistics.median(times)


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> None:
    """Reset this process's resident-set high-water mark (Linux ``clear_refs``), where allowed.

    Needed because ``ru_maxrss`` survives ``execve``: a child started from a large
    parent would otherwise report the parent's peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB since the last :func:`reset_peak_rss`."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(script: str, config: dict, timeout: float = 600) -> dict:
    """Run ``python script --one JSON`` in a fresh process and return its JSON result line."""
    out = subprocess.run(
        [sys.executable, script, "--one", json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        return {**config, "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    return "-" if v is None else str(v)


def isolated_peak(target: str, kwargs: dict, timeout: float = 900) -> dict:
    """Run ``module:function(**kwargs)`` from ``benchmarks/`` in a fresh process.

    The function builds its inputs, then calls the returned zero-argument closure
    once; the result holds the peak memory of that call (``peak_mib``: CUDA peak
    allocation, or the growth of the process's peak RSS on CPU) and whatever the
    function reported in its ``info`` dict.
    """
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from _measure import _isolated_main; _isolated_main(sys.argv[3], json.loads(sys.argv[4]))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [sys.executable, "-c", code, here, os.path.dirname(here), target, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{target}({kwargs}) failed in its subprocess:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _isolated_main(target: str, kwargs: dict) -> None:
    import importlib

    if os.environ.get("VIDGAN_BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["VIDGAN_BENCH_THREADS"]))
    module_name, func_name = target.split(":")
    fn = getattr(importlib.import_module(module_name), func_name)
    info: dict = {}
    run = fn(info=info, **kwargs)
    device = torch.device(kwargs.get("device", "cpu"))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        run()
        torch.cuda.synchronize(device)
        peak = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    else:
        base = rss_mib()
        reset_peak_rss()
        run()
        peak = max(0.0, peak_rss_mib() - base)
    print(json.dumps({**info, "peak_mib": peak}))


# Dense peak throughput used for MFU, by GPU name fragment (TFLOP/s at bf16 / fp32).
GPU_PEAK_TFLOPS = {"H100": (989.0, 67.0), "H200": (989.0, 67.0), "A100": (312.0, 19.5), "L4": (121.0, 30.3)}


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward and backward alike) from ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def mfu(flops: int, seconds: float, device: torch.device, dtype: torch.dtype = torch.float32) -> float | None:
    """Model FLOP utilisation against the device's dense peak (None where the peak is unknown, e.g. CPUs)."""
    if device.type != "cuda" or seconds <= 0:
        return None
    name = torch.cuda.get_device_name(device)
    for key, (bf16, fp32) in GPU_PEAK_TFLOPS.items():
        if key in name:
            peak = bf16 if dtype in (torch.bfloat16, torch.float16) else fp32
            return flops / seconds / (peak * 1e12)
    return None
