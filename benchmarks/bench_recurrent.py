"""Cost of the recurrent units and of kernel warping.

Two tables:

1. Forward + backward time of every unit at one width, for one step
   (``unit.step``) and for a T-step unroll (``unit(x, h0)``), with the ratio to
   ConvGRU. Units run in training mode with spectral norm, as in training.
   TrIVD-GAN-FP (appendix F.4) reports 354 ms (TSRU) vs 284 ms (ConvGRU) per
   full training step, a ratio of 1.25.
2. ``kernel_warp`` (in-place shifted slices) against a straightforward
   ``F.unfold`` implementation of eq. 11: forward + backward time and peak
   memory. On CPU the peak is the growth of the resident set's high-water mark
   (VmHWM, reset first) of a fresh subprocess during one forward + backward,
   gradients of the inputs included; on CUDA it is
   ``torch.cuda.max_memory_allocated`` above the inputs.

Usage::

    python benchmarks/bench_recurrent.py                  # 64 ch, 16x16, B=8, T=8
    python benchmarks/bench_recurrent.py --device cuda --repeats 50
    python benchmarks/bench_recurrent.py --threads 1 --clock cpu   # shared CPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from vidgan_blocks.ops import kernel_warp  # noqa: E402
from vidgan_blocks.recurrent import PTSRU, TSRU, ConvGRU, ConvLSTM, KTrajGRU, MultiplicativeConvGRU  # noqa: E402

UNITS = {
    "ConvGRU": lambda c: ConvGRU(c, c),
    "MultiplicativeConvGRU": lambda c: MultiplicativeConvGRU(c, c),
    "ConvLSTM": lambda c: ConvLSTM(c, c),
    "KTrajGRU": lambda c: KTrajGRU(c, c),
    "TSRUc": lambda c: TSRU(c, c, variant="c"),
    "TSRUp": lambda c: TSRU(c, c, variant="p"),
    "TSRUs": lambda c: TSRU(c, c, variant="s"),
    "PTSRUs": lambda c: PTSRU(c, c),
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


CLOCK = time.perf_counter


def timed(fn, device: torch.device, warmup: int, repeats: int) -> float:
    """Median time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        sync(device)
        times.append((CLOCK() - start) * 1e3)
    return statistics.median(times)


def bench_units(args, device: torch.device) -> None:
    """Time all units round-robin (one call of each per round), so that load changes on a
    shared machine hit every unit alike; report the median over rounds."""
    c, s, b, t = args.channels, args.size, args.batch, args.steps
    x = torch.randn(b, c, t, s, s, device=device)
    x_t = x[:, :, 0].contiguous()
    h0 = torch.randn(b, c, s, s, device=device)
    units = {name: UNITS[name](c).to(device).train() for name in args.units}

    def one_step(unit):
        state = unit.state_from_features(h0)
        unit.output_from_state(unit.step(x_t, state)).square().mean().backward()

    def unroll(unit):
        unit(x, h0).square().mean().backward()

    results = {}
    for label, fn in (("step", one_step), ("unroll", unroll)):
        times: dict[str, list[float]] = {name: [] for name in units}
        for r in range(args.warmup + args.repeats):
            for name, unit in units.items():
                sync(device)
                start = CLOCK()
                fn(unit)
                sync(device)
                if r >= args.warmup:
                    times[name].append((CLOCK() - start) * 1e3)
        results[label] = {name: (statistics.median(v), min(v)) for name, v in times.items()}
    print(f"\nRecurrent units, forward+backward, {c} ch in/out, {s}x{s}, B={b}, T={t}, {device}")
    print("median / min over rounds; x GRU = ratio to ConvGRU of the median / of the min")
    print(f"{'unit':<24}{'params':>9}{'1 step ms':>18}{'x GRU':>12}{f'{t} steps ms':>20}{'x GRU':>12}")
    for name, unit in units.items():
        params = sum(p.numel() for p in unit.parameters())
        cells = []
        for label in ("step", "unroll"):
            med, low = results[label][name]
            base = results[label].get("ConvGRU")
            ratio = f"{med / base[0]:.2f} / {low / base[1]:.2f}" if base else "-"
            cells.append((f"{med:.1f} / {low:.1f}", ratio))
        print(f"{name:<24}{params:>9}{cells[0][0]:>18}{cells[0][1]:>12}{cells[1][0]:>20}{cells[1][1]:>12}")
    print("TrIVD-GAN-FP per training step: TSRU / ConvGRU = 354 / 284 = 1.25")


def unfold_warp(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Eq. 11 via im2col: the straightforward formulation."""
    n, c, hh, ww = h.shape
    k = int(round(weights.shape[1] ** 0.5))
    cols = F.unfold(h, k, padding=k // 2).view(n, c, k * k, hh * ww)
    return (cols * weights.reshape(n, 1, k * k, hh * ww)).sum(2).view(n, c, hh, ww)


WARPS = {"kernel_warp": kernel_warp, "unfold": unfold_warp}


def warp_inputs(shape: tuple[int, int, int, int], k: int, device: torch.device):
    n, c, hh, ww = shape
    h = torch.randn(n, c, hh, ww, device=device, requires_grad=True)
    w = torch.randn(n, k * k, hh, ww, device=device).softmax(1).requires_grad_()
    g = torch.randn(n, c, hh, ww, device=device)
    return h, w, g


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def warp_peak_child(impl: str, shape: tuple[int, int, int, int], k: int) -> None:
    """Run in a fresh process: print the peak resident-memory growth (bytes) of one forward+backward.

    The kernel's high-water mark (VmHWM) is reset through /proc/self/clear_refs after
    the inputs exist, so the peak of importing torch does not hide the measurement.
    """
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    h, w, g = warp_inputs(shape, k, torch.device("cpu"))
    # Touch the code paths once on a tiny input so lazy initialisation is not counted.
    hs, ws, gs = warp_inputs((1, 1, 4, 4), k, torch.device("cpu"))
    WARPS[impl](hs, ws).backward(gs)
    before = _proc_status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    WARPS[impl](h, w).backward(g)
    peak = _proc_status_kib("VmHWM")
    print(json.dumps({"peak_bytes": (peak - before) * 1024}))


def warp_peak(impl: str, shape, k: int, device: torch.device, threads: int) -> float:
    if device.type == "cuda":
        h, w, g = warp_inputs(shape, k, device)
        WARPS[impl](h, w).backward(g)
        h.grad = w.grad = None
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        WARPS[impl](h, w).backward(g)
        torch.cuda.synchronize(device)
        return float(torch.cuda.max_memory_allocated(device) - base)
    cmd = [sys.executable, __file__, "--warp-child", impl, "--warp-shape", *map(str, shape), "--warp-k", str(k)]
    # A fixed mmap threshold makes glibc return every large freed block at once, so the
    # resident set follows the live tensors instead of the allocator's free lists.
    env = {**os.environ, "BENCH_THREADS": str(threads), "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_bytes"])


def bench_warp(args, device: torch.device) -> None:
    print(f"\nkernel_warp vs unfold, forward+backward, k={args.warp_k}, {device}")
    print(f"{'(N, C, H, W)':<22}{'impl':<13}{'ms':>10}{'peak MiB':>11}{'tensor MiB':>12}")
    for shape in args.warp_shapes:
        h, w, g = warp_inputs(shape, args.warp_k, device)
        for impl, fn in WARPS.items():

            def run(fn=fn, h=h, w=w, g=g):  # bound now: the loop rebinds fn and the del below drops h, w, g
                h.grad = w.grad = None
                fn(h, w).backward(g)

            ms = timed(run, device, args.warmup, args.repeats)
            peak = warp_peak(impl, shape, args.warp_k, device, args.threads) / 2**20
            size = h.numel() * h.element_size() / 2**20
            print(f"{str(tuple(shape)):<22}{impl:<13}{ms:>10.2f}{peak:>11.1f}{size:>12.1f}")
        del h, w, g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=8, help="T of the unroll")
    parser.add_argument("--units", nargs="+", default=list(UNITS), choices=list(UNITS))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warp-k", type=int, default=3)
    parser.add_argument(
        "--warp-shapes",
        type=lambda s: tuple(int(v) for v in s.split("x")),
        nargs="+",
        default=[(64, 64, 16, 16), (32, 64, 64, 64)],
        help="NxCxHxW shapes for the warp table",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: process CPU time (CPU device only), steadier than wall time on a shared machine",
    )
    parser.add_argument("--skip-units", action="store_true")
    parser.add_argument("--skip-warp", action="store_true")
    parser.add_argument("--warp-child", choices=list(WARPS), help=argparse.SUPPRESS)
    parser.add_argument("--warp-shape", type=int, nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warp_child:
        warp_peak_child(args.warp_child, tuple(args.warp_shape), args.warp_k)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    global CLOCK
    if args.clock == "cpu":
        if device.type != "cpu":
            parser.error("--clock cpu measures CPU work; use it with --device cpu")
        CLOCK = time.process_time
    print(f"torch {torch.__version__}, {args.threads} threads, {args.clock} clock")
    if not args.skip_units:
        bench_units(args, device)
    if not args.skip_warp:
        bench_warp(args, device)


if __name__ == "__main__":
    main()
