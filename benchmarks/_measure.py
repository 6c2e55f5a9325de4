"""Timing and peak-memory measurement shared by the benchmark scripts.

CPU peak memory is the peak resident set size of a fresh subprocess that runs one
configuration, minus the RSS right after the imports and input creation, because
allocator-level counters do not see everything torch allocates on the CPU. On CUDA
the figure is ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch


_ENV = {"amp": "VIDGAN_BENCH_AMP", "channels_last": "VIDGAN_BENCH_CHANNELS_LAST", "compile": "VIDGAN_BENCH_COMPILE"}


@dataclass(frozen=True)
class BenchOptions:
    """The speed options a benchmark run applies to every suite (``--bench-amp``,
    ``--bench-channels-last``, ``--bench-compile``).

    They travel through environment variables so that the fresh processes that
    measure CPU memory apply them too. Suites call :meth:`prepare` on their
    modules, :meth:`tensor` on their inputs and :meth:`wrap` on the closure they
    time; trainer-based suites pass :meth:`trainer_fields` to ``TrainerConfig``.
    """

    amp: str = "none"
    channels_last: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        if self.amp not in ("none", "bf16", "fp16"):
            raise ValueError(f"amp: expected 'none', 'bf16' or 'fp16', got {self.amp!r}")

    @classmethod
    def from_env(cls) -> BenchOptions:
        flag = lambda name: os.environ.get(_ENV[name], "0") == "1"  # noqa: E731
        return cls(amp=os.environ.get(_ENV["amp"], "none"), channels_last=flag("channels_last"), compile=flag("compile"))

    def export(self) -> None:
        """Set the environment variables :meth:`from_env` reads (for this process and its children)."""
        os.environ[_ENV["amp"]] = self.amp
        os.environ[_ENV["channels_last"]] = "1" if self.channels_last else "0"
        os.environ[_ENV["compile"]] = "1" if self.compile else "0"

    @property
    def tag(self) -> str:
        """``"fp32"`` for plain runs, else e.g. ``"bf16-cl-compile"``."""
        parts = [] if self.amp == "none" else [self.amp]
        parts += ["cl"] if self.channels_last else []
        parts += ["compile"] if self.compile else []
        return "-".join(parts) or "fp32"

    @property
    def dtype(self) -> torch.dtype:
        return {"none": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[self.amp]

    def prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        """Channels-last weights and an in-place compiled forward, as selected; returns ``module``."""
        from vidgan_blocks.ops import channels_last

        if self.channels_last:
            channels_last(module)
        if self.compile:
            module.compile()
        return module

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        from vidgan_blocks.ops import channels_last

        return channels_last(x) if self.channels_last else x

    @contextlib.contextmanager
    def autocast(self, device: torch.device | str) -> Iterator[None]:
        device = torch.device(device)
        if self.amp == "none" or (self.amp == "fp16" and device.type != "cuda"):
            yield
        else:
            with torch.autocast(device_type=device.type, dtype=self.dtype):
                yield

    def wrap(self, fn: Callable[[], object], device: torch.device | str) -> Callable[[], None]:
        """``fn`` run under the selected autocast."""

        def run() -> None:
            with self.autocast(device):
                fn()

        return run

    def trainer_fields(self) -> dict:
        return {"amp": self.amp, "compile": self.compile, "channels_last": self.channels_last}

    def warmup(self, rounds: int) -> int:
        """Warm-up rounds for pytest-benchmark: at least one when compiling, so compilation is not timed."""
        return max(rounds, 1) if self.compile else rounds


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


class PeakMemory:
    """``with PeakMemory(device) as mem: ...``, then ``mem.mib``: the peak memory of the block
    above what was held when it began (CUDA: ``max_memory_allocated``; CPU: peak RSS growth,
    meaningful in a process that runs one configuration)."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.mib = 0.0
        self._base = 0.0

    def __enter__(self) -> PeakMemory:
        sync(self.device)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device) / 2**20
        else:
            self._base = rss_mib()
            reset_peak_rss()
        return self

    def __exit__(self, *exc: object) -> None:
        sync(self.device)
        if self.device.type == "cuda":
            self.mib = torch.cuda.max_memory_allocated(self.device) / 2**20 - self._base
        else:
            self.mib = max(0.0, peak_rss_mib() - self._base)


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
    """Peak memory of one call of the closure ``module:function(**kwargs)`` builds.

    The function builds its model and inputs and returns a zero-argument closure;
    the result holds the peak memory of one call of it above what was held before
    the call (``peak_mib``) and whatever the function reported in its ``info`` dict.
    On CPU it runs in a fresh process (peak RSS growth; allocator counters miss
    torch's CPU tensors). On CUDA it runs in this process, since
    ``max_memory_allocated`` is exact there, and everything it built is freed
    afterwards. With ``--bench-compile`` one call runs first, so compilation is
    not part of the peak.
    """
    if str(kwargs.get("device", "cpu")).startswith("cuda"):
        return _measure_in_process(target, kwargs)
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


def _measure_in_process(target: str, kwargs: dict) -> dict:
    import importlib

    module_name, func_name = target.split(":")
    fn = getattr(importlib.import_module(module_name), func_name)
    info: dict = {}
    run = fn(info=info, **kwargs)
    device = torch.device(kwargs.get("device", "cpu"))
    if BenchOptions.from_env().compile:
        run()
    with PeakMemory(device) as mem:
        run()
    if device.type == "cuda":
        del run
        gc.collect()
        torch.cuda.empty_cache()
    return {**info, "peak_mib": mem.mib}


def _isolated_main(target: str, kwargs: dict) -> None:
    if os.environ.get("VIDGAN_BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["VIDGAN_BENCH_THREADS"]))
    print(json.dumps(_measure_in_process(target, kwargs)))


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
