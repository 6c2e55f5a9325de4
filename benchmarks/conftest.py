"""pytest-benchmark suites: opt-in with ``--benchmark``.

``pytest benchmarks/`` skips every benchmark so a plain run stays fast;
``pytest benchmarks/ --benchmark`` runs them through pytest-benchmark (on CPU with
one torch thread unless ``--bench-threads N`` says otherwise), and
``--benchmark-json=FILE`` (and the other pytest-benchmark options) work as usual.
The JSON's ``machine_info`` gains the CPU model and core count, the GPU name and
memory, the torch / CUDA versions and the speed options below.

Speed options (meant for GPUs; they run on CPU too): ``--bench-amp bf16`` (or
``fp16``, CUDA only) autocasts every forward, ``--bench-channels-last`` lays out
weights and inputs channels-last, ``--bench-compile`` compiles the modules with
``torch.compile`` (one untimed warm-up call first). A run with any of them
reports under its own name, e.g. ``nvidia-h100-80gb-hbm3-bf16-cl-compile``.

A case that runs out of device memory (``torch.OutOfMemoryError``) is skipped
with the reason "out of memory at this shape" instead of failing the run; suites
that can tell in advance (full attention) skip with the same reason before they
start. Such cases are listed in the JSON under ``vidgan_not_run`` (name, suite,
reason), so the report can say so beside the suite's table.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import OUT_OF_MEMORY, BenchOptions, release_device_memory  # noqa: E402

_NOT_RUN = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--benchmark", action="store_true", default=False, help="run the benchmark suites")
    parser.addoption(
        "--bench-threads",
        type=int,
        default=None,
        help="torch CPU threads for every suite (default 1 without a GPU: steady figures on shared machines)",
    )
    parser.addoption("--bench-amp", choices=("none", "bf16", "fp16"), default="none",
                     help="autocast dtype for every suite (fp16 only on CUDA)")
    parser.addoption("--bench-channels-last", action="store_true", default=False,
                     help="channels-last weights and inputs")
    parser.addoption("--bench-compile", action="store_true", default=False,
                     help="torch.compile the benchmarked modules (compilation is not timed)")


def pytest_configure(config: pytest.Config) -> None:
    threads = config.getoption("--bench-threads", default=None)
    if threads is None and not torch.cuda.is_available():
        threads = 1
    if threads:
        torch.set_num_threads(threads)
        os.environ["VIDGAN_BENCH_THREADS"] = str(threads)  # the isolated memory runs follow suit
    config.stash[_NOT_RUN] = []
    BenchOptions(
        amp=config.getoption("--bench-amp", default="none"),
        channels_last=config.getoption("--bench-channels-last", default=False),
        compile=config.getoption("--bench-compile", default=False),
    ).export()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--benchmark"):
        return
    skip = pytest.mark.skip(reason="benchmarks run only with --benchmark")
    for item in items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def device() -> torch.device:
    """The device the suites run on: the first GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.fixture(scope="session")
def opts() -> BenchOptions:
    """The speed options of this run (``--bench-amp``, ``--bench-channels-last``, ``--bench-compile``)."""
    return BenchOptions.from_env()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_info() -> dict:
    info = {
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "torch_threads": torch.get_num_threads(),
        "options": BenchOptions.from_env().tag,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu_name=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1), gpu_count=torch.cuda.device_count())
    return info


def hardware_slug() -> str:
    """A short file-name-safe name for this hardware, e.g. ``cpu-2c-amd-epyc`` or ``nvidia-h100``."""
    info = hardware_info()
    name = info.get("gpu_name") or f"cpu-{info['cpu_cores']}c-{info['cpu_model']}"
    slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    slug = "-".join(p for p in slug.split("-") if p)[:60]
    return slug if info["options"] == "fp32" else f"{slug}-{info['options']}"


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    machine_info["vidgan_hardware"] = hardware_info()
    machine_info["vidgan_hardware_slug"] = hardware_slug()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """Turn an out-of-memory error of a benchmark into a skip that says so."""
    try:
        return (yield)
    except torch.OutOfMemoryError as err:
        failure = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        # pytest keeps the last error for post-mortem debugging; that would pin the
        # failed call's frames, and the tensors they hold, in memory.
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                delattr(sys, name)
    # Only reached after an out-of-memory error: outside the except clause nothing
    # refers to the error any more, so its memory can be handed back.
    release_device_memory("cuda" if torch.cuda.is_available() else "cpu")
    pytest.skip(f"{OUT_OF_MEMORY}: {failure}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Remember the cases skipped because they do not fit the device."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if reason.startswith(OUT_OF_MEMORY):
            suite = Path(str(item.path)).stem.removeprefix("test_")
            item.config.stash.setdefault(_NOT_RUN, []).append({"name": item.name, "suite": suite, "reason": reason})
    return report


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list, output_json: dict) -> None:
    output_json["vidgan_not_run"] = list(config.stash.get(_NOT_RUN, []))
