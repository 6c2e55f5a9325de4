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
from torch.utils._python_dispatch import TorchDispatchMode


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


# The reason a configuration too large for the device is skipped with (and reported under).
OUT_OF_MEMORY = "out of memory at this shape"


def free_device_memory(device: torch.device | str) -> int | None:
    """Bytes a new allocation on ``device`` can still get, or None where that cannot be read.

    CUDA: the driver's free memory after torch's cache is handed back
    (``torch.cuda.mem_get_info``). CPU: ``MemAvailable`` of ``/proc/meminfo``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
    return None


def release_device_memory(device: torch.device | str) -> None:
    """Collect garbage and hand torch's cached CUDA blocks back (after an out-of-memory error)."""
    gc.collect()
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()


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


# ---------------------------------------------------------------------------
# Model FLOP utilisation
#
# MFU = FLOPs of one timed call / median seconds of that call / the chip's dense
# peak FLOP/s at the precision the call's heavy ops actually ran in. Three things
# have to agree for the ratio to mean anything:
#
# * the FLOPs are counted on the very closure that was timed (same module, inputs,
#   layout, autocast and compiled forward), so shapes and options cannot drift;
# * the time covers the GPU work of the call: CUDA launches return before the
#   kernels finish, so a timed closure must end with a device synchronisation
#   (:func:`synced`), or pytest-benchmark times little more than the launches;
# * the peak matches the arithmetic the kernels used. Plain float32 on NVIDIA GPUs
#   is not plain float32: cuDNN runs float32 convolutions on TF32 tensor cores by
#   default (``torch.backends.cudnn.allow_tf32``), and cuBLAS does the same for
#   matmuls when ``torch.get_float32_matmul_precision()`` is not ``"highest"``.
#   Such runs are measured against the TF32 peak; only strict float32 takes the
#   (much lower) non-tensor-core float32 peak. See :func:`compute_precision`.

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")

# Dense (no structured sparsity) peak TFLOP/s by precision, from the vendors' data
# sheets, keyed by a fragment of ``torch.cuda.get_device_name()``. The first
# fragment found in the name wins, so the more specific names come first.
_SXM_HOPPER = {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}
_NVL_HOPPER = {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5}
GPU_PEAK_TFLOPS: tuple[tuple[str, dict[str, float]], ...] = (
    ("H100 PCIe", {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0}),
    ("H100 NVL", _NVL_HOPPER),
    ("H200 NVL", _NVL_HOPPER),
    ("H100", _SXM_HOPPER),
    ("H200", _SXM_HOPPER),
    ("A100", {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}),
    ("L40S", {"fp32": 91.6, "tf32": 183.0, "bf16": 362.0, "fp16": 362.0}),
    ("L40", {"fp32": 90.5, "tf32": 90.5, "bf16": 181.0, "fp16": 181.0}),
    ("L4", {"fp32": 30.3, "tf32": 60.0, "bf16": 121.0, "fp16": 121.0}),
)


def synced(fn: Callable[[], object], device: torch.device | str) -> Callable[[], None]:
    """``fn`` followed by a wait for the device, so that timing the result times the work.

    On the CPU it adds nothing; on CUDA it makes one call last until every kernel
    it launched has finished.
    """
    device = torch.device(device)

    def run() -> None:
        fn()
        sync(device)

    return run


class FlopCounter(TorchDispatchMode):
    """FLOPs of the operators dispatched inside the ``with`` block, by ``torch.utils.flop_counter``'s formulas.

    The formulas and totals of ``FlopCounterMode`` without its per-module breakdown:
    the module tracker behind that breakdown hooks the tensors entering every module,
    and ``torch.autograd.grad`` (the trainer's orthogonal penalty, TrIVD-GAN-FP E.2)
    refuses graphs that hold such hooks.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        from torch.utils.flop_counter import flop_registry

        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func.overloadpacket)
        if formula is not None:
            self.flops += int(formula(*args, **kwargs, out_val=out))
        return out


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward, backward and any ``autograd.grad``) by torch's flop formulas.

    Call it on the closure that is timed: the count then covers exactly the timed
    work (matmuls, convolutions and attention; elementwise ops are not counted).
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a zero-argument callable, got {type(fn).__name__}")
    with FlopCounter() as counter:
        fn()
    return counter.flops


def compute_precision(amp: str, device: torch.device | str) -> str:
    """The precision that a run's convolutions and matmuls use on ``device``: one of :data:`PRECISIONS`.

    ``amp`` is the ``--bench-amp`` value. bf16 autocast gives ``"bf16"`` (on any
    device); fp16 autocast gives ``"fp16"`` on CUDA (elsewhere it is not applied).
    A float32 run on CUDA gives ``"tf32"`` when cuDNN may run convolutions in TF32
    (torch's default) or cuBLAS may run matmuls in TF32
    (``torch.set_float32_matmul_precision("high")``), else ``"fp32"``. Where
    convolutions and matmuls differ, the faster precision is taken: its peak is the
    higher one, so the MFU is never overstated. Reads the torch flags at call time.
    """
    if amp not in ("none", "bf16", "fp16"):
        raise ValueError(f"amp: expected 'none', 'bf16' or 'fp16', got {amp!r}")
    device = torch.device(device)
    if amp == "bf16" or (amp == "fp16" and device.type == "cuda"):
        return amp
    if device.type != "cuda":
        return "fp32"
    matmul = float32_matmul_precision()
    if matmul == "bf16":
        return "bf16"
    return "tf32" if float32_conv_uses_tf32() or matmul == "tf32" else "fp32"


def _explicit_fp32_precision(*scopes: object) -> str | None:
    """The first ``fp32_precision`` among ``scopes`` that is set (not ``"none"``), innermost first."""
    for scope in scopes:
        try:
            value = getattr(scope, "fp32_precision", None)
        except RuntimeError:  # some scopes refuse to answer when legacy and new flags disagree
            value = None
        if isinstance(value, str) and value != "none":
            return value
    return None


def float32_conv_uses_tf32() -> bool:
    """Whether cuDNN may run float32 convolutions on TF32 tensor cores (torch's default: yes)."""
    cudnn = torch.backends.cudnn
    if not cudnn.enabled:
        return False
    conv = getattr(cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # the per-operator flags of newer torch
        return _explicit_fp32_precision(conv, cudnn, torch.backends) == "tf32"
    return bool(cudnn.allow_tf32)


def float32_matmul_precision() -> str:
    """What float32 CUDA matmuls compute in: ``"fp32"`` (torch's default) or ``"tf32"``.

    ``torch.set_float32_matmul_precision("high")`` and ``"medium"`` both let cuBLAS
    use TF32 tensor cores. Newer torch also has per-operator flags
    (``torch.backends.cuda.matmul.fp32_precision``), read first when present.
    """
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        value = _explicit_fp32_precision(matmul, torch.backends)
        return value if value in ("tf32", "bf16") else "fp32"
    return "fp32" if torch.get_float32_matmul_precision() == "highest" and not matmul.allow_tf32 else "tf32"


def peak_tflops(device_name: str, precision: str) -> float | None:
    """Dense peak TFLOP/s of the GPU called ``device_name`` at ``precision`` (None where unknown, e.g. CPUs)."""
    if not isinstance(device_name, str):
        raise TypeError(f"device_name: expected a str, got {type(device_name).__name__}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    for fragment, peaks in GPU_PEAK_TFLOPS:
        if fragment in device_name:
            return peaks[precision]
    return None


def mfu(flops: int, seconds: float, peak: float | None) -> float | None:
    """Model FLOP utilisation: ``flops / seconds`` as a fraction of ``peak`` TFLOP/s (None when ``peak`` is None)."""
    if isinstance(flops, bool) or not isinstance(flops, (int, float)) or flops < 0:
        raise ValueError(f"flops: expected a non-negative number, got {flops!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"seconds: expected a positive number, got {seconds!r}")
    if peak is None:
        return None
    if isinstance(peak, bool) or not isinstance(peak, (int, float)) or not peak > 0:
        raise ValueError(f"peak: expected a positive TFLOP/s figure or None, got {peak!r}")
    return flops / seconds / (peak * 1e12)


def device_peak(device: torch.device | str, precision: str) -> float | None:
    """:func:`peak_tflops` of ``device`` (None for anything but a known CUDA GPU)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return peak_tflops(torch.cuda.get_device_name(device), precision)


def mfu_info(flops: int, seconds: float, device: torch.device | str, amp: str) -> dict:
    """The FLOP figures a suite records in ``extra_info`` for one timed closure.

    ``gflops`` (per call), ``tflops_per_s`` (achieved), ``precision`` (from
    :func:`compute_precision`), ``peak_tflops`` (the dense peak used, None where
    unknown) and ``mfu`` (None where the peak is unknown).
    """
    precision = compute_precision(amp, device)
    peak = device_peak(device, precision)
    return {
        "gflops": flops / 1e9,
        "tflops_per_s": mfu(flops, seconds, 1.0),  # the ratio to 1 TFLOP/s is the rate in TFLOP/s
        "precision": precision,
        "peak_tflops": peak,
        "mfu": mfu(flops, seconds, peak),
    }
