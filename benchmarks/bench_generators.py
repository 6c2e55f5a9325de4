"""Parameter counts and step times of the paper generator configurations.

Parameter counts are taken at paper width on the ``meta`` device (no memory).
Timings run on CUDA when available (else CPU) at the width given by ``--ch``
(default: the paper width on CUDA, a reduced width on CPU so that the script
finishes in minutes; every width, the frame encoder's included, scales with it),
batch ``--batch``, and the paper's number of frames and resolution.

    python benchmarks/bench_generators.py                     # every configuration
    python benchmarks/bench_generators.py --names dvd_gan_64_12f trivd_gan_fp_48 --ch 16
    python benchmarks/bench_generators.py --params-only
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from torch import nn

from vidgan_blocks.generators import (
    FramePredictionGenerator,
    UpsamplingGenerator,
    count_parameters,
    paper_generator_configs,
)


def _inputs(g: nn.Module, batch: int, device: torch.device) -> tuple[Any, Any, dict[str, torch.Tensor]]:
    cfg = g.config  # type: ignore[attr-defined]
    z = torch.randn(batch, g.z_dim, device=device)  # type: ignore[arg-type]
    y = torch.randint(g.num_classes, (batch,), device=device) if g.num_classes else None  # type: ignore[arg-type]
    if isinstance(g, UpsamplingGenerator):
        return z, y, {"low_res": torch.rand(batch, 3, cfg.frames_in, g.low_size, g.low_size, device=device) * 2 - 1}
    if isinstance(g, FramePredictionGenerator):
        return z, y, {"cond_frames": torch.rand(batch, 3, cfg.cond_frames, g.resolution, g.resolution, device=device) * 2 - 1}
    return z, y, {}


def paper_params(name: str) -> int:
    """Trainable parameters at paper width, built on the meta device.

    Spectral norm adds buffers, not parameters, so the count is taken without it
    (its power iterations are slow on meta tensors).
    """
    with torch.device("meta"):
        return count_parameters(paper_generator_configs()[name](sn=False))


def time_step(name: str, ch: int | None, batch: int, steps: int, device: torch.device) -> dict[str, Any]:
    build = paper_generator_configs()[name]
    overrides: dict[str, Any] = {}
    if ch is not None:
        # Scale every width with ch, the frame encoder's included.
        with torch.device("meta"):
            paper = build(sn=False).config
        overrides["ch"] = ch
        if hasattr(paper, "encoder_ch"):
            overrides["encoder_ch"] = max(1, round(paper.encoder_ch * ch / paper.ch))
        if getattr(paper, "recurrent_channels", None) is not None:
            overrides["recurrent_channels"] = max(8, round(paper.recurrent_channels * ch / paper.ch))
    g = build(**overrides).to(device)
    z, y, ctx = _inputs(g, batch, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with torch.no_grad():
        out = g(z, y, **ctx)  # warm-up
    sync()
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            g(z, y, **ctx)
    sync()
    fwd = (time.perf_counter() - t0) / steps
    g(z, y, **ctx).square().mean().backward()  # warm-up
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        g.zero_grad(set_to_none=True)
        g(z, y, **ctx).square().mean().backward()
    sync()
    fwd_bwd = (time.perf_counter() - t0) / steps
    mem = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")
    return {
        "ch": g.ch,  # type: ignore[attr-defined]
        "params": count_parameters(g),
        "shape": "x".join(str(s) for s in out.shape[1:]),
        "fwd_ms": fwd * 1e3,
        "fwd_bwd_ms": fwd_bwd * 1e3,
        "peak_mib": mem,
    }


def main() -> None:
    names = list(paper_generator_configs())
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--names", nargs="+", default=names, choices=names, help="configurations to run")
    p.add_argument("--ch", type=int, default=None, help="channel multiplier for the timings (default: paper on CUDA, 8 on CPU)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU intra-op threads")
    p.add_argument("--params-only", action="store_true", help="only print parameter counts at paper width")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    ch = args.ch if args.ch is not None or device.type == "cuda" else 8
    torch.manual_seed(0)
    if args.params_only:
        print(f"{'configuration':26s} {'params (paper width)':>22s}")
        for name in args.names:
            print(f"{name:26s} {paper_params(name):>22,d}", flush=True)
        return
    print(f"device={device} batch={args.batch} steps={args.steps} torch={torch.__version__}")
    header = f"{'configuration':26s} {'paper params':>14s} {'ch':>4s} {'params':>12s} {'output':>16s} {'fwd ms':>10s} {'fwd+bwd ms':>11s} {'peak MiB':>9s}"
    print(header)
    print("-" * len(header))
    for name in args.names:
        r = time_step(name, ch, args.batch, args.steps, device)
        print(
            f"{name:26s} {paper_params(name):>14,d} {r['ch']:>4d} {r['params']:>12,d} {r['shape']:>16s} "
            f"{r['fwd_ms']:>10.1f} {r['fwd_bwd_ms']:>11.1f} {r['peak_mib']:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
