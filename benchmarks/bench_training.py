"""Time one training iteration (2 D steps + 1 G step) of a tiny DVD-GAN-like setup.

Reports wall and process-CPU time per iteration for: the base trainer (spectral
norm on), spectral norm off, with an EMA of G updated every iteration, and the
cost of one checkpoint save (atomic safetensors + JSON + SHA-256 manifest).
The models are the tiny test models (per-frame conditional-BN G block,
2D + 3D discriminator paths with projection heads). Runs on CPU; uses CUDA when
available unless --device cpu.

    python benchmarks/bench_training.py --steps 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from tests.training.tiny import TinyDiscriminator, TinyGenerator, TinyVideos  # noqa: E402
from vidgan_blocks.training import EMAMixin, GANTrainer, TrainerConfig  # noqa: E402


class EMATrainer(EMAMixin, GANTrainer):
    """The trainer with an EMA of G."""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build(args, *, sn=True, ema=False, out_dir=None):
    torch.manual_seed(0)
    cfg = TrainerConfig(batch_size=args.batch_size, max_steps=10**9, progress=False, tensorboard=False, log_every=0,
                        n_dis=2, out_dir=out_dir, amp=args.amp)
    g = TinyGenerator(num_classes=args.classes, ch=args.ch, frames=args.frames, sn=sn)
    d = TinyDiscriminator(num_classes=args.classes, ch=args.ch, sn=sn)
    data = TinyVideos(n=64, frames=args.frames, size=8, num_classes=args.classes)
    if ema:
        return EMATrainer(g, d, data, cfg, device=args.device, ema_start=0)
    return GANTrainer(g, d, data, cfg, device=args.device)


def time_steps(tr, args):
    for _ in range(args.warmup):
        tr.train_step()
    _sync(tr.device)
    wall, cpu = [], []
    for _ in range(args.steps):
        w0, c0 = time.perf_counter(), time.process_time()
        tr.train_step()
        _sync(tr.device)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def time_saves(tr, n):
    tr.train_step()
    wall, cpu = [], []
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        tr.save()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        tr.counters.step += 1
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20, help="timed iterations per configuration")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--saves", type=int, default=5, help="timed checkpoint saves")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--ch", type=int, default=16)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads on CPU")
    p.add_argument("--amp", choices=["none", "bf16", "fp16"], default="none")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    args.device = torch.device(args.device)
    torch.set_num_threads(args.threads)

    rows = []
    base_w, base_c = time_steps(build(args), args)
    rows.append(("base (SN on, no EMA)", base_w, base_c))
    w, c = time_steps(build(args, sn=False), args)
    rows.append(("spectral norm off", w, c))
    w, c = time_steps(build(args, ema=True), args)
    rows.append(("+ EMA update every step", w, c))
    with tempfile.TemporaryDirectory() as tmp:
        tr = build(args, ema=True, out_dir=tmp)
        sw, sc = time_saves(tr, args.saves)
        size = sum(f.stat().st_size for f in Path(tmp, "checkpoints").rglob("*") if f.is_file()) / max(
            1, len(tr.checkpoints.checkpoints())
        )
    n_g = sum(p.numel() for p in tr.G.parameters())
    n_d = sum(p.numel() for p in tr.D.parameters())

    print(f"device={args.device} threads={torch.get_num_threads()} batch={args.batch_size} frames={args.frames} "
          f"8x8 ch={args.ch} classes={args.classes} amp={args.amp} | G {n_g} params, D {n_d} params | "
          f"iteration = 2 D steps + 1 G step, median of {args.steps}")
    print(f"{'configuration':<28}{'wall ms/iter':>14}{'cpu ms/iter':>14}{'vs base wall':>14}{'vs base cpu':>13}")
    for name, w, c in rows:
        print(f"{name:<28}{w * 1e3:>14.2f}{c * 1e3:>14.2f}{(w / base_w - 1) * 100:>+13.1f}%{(c / base_c - 1) * 100:>+12.1f}%")
    print(f"{'checkpoint save (1 call)':<28}{sw * 1e3:>14.2f}{sc * 1e3:>14.2f}{sw / base_w:>11.2f} it{sc / base_c:>10.2f} it"
          f"   ({size / 1024:.0f} KiB per checkpoint incl. EMA + Adam moments)")


if __name__ == "__main__":
    main()
