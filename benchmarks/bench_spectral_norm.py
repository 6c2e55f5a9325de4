"""Cost of spectral normalisation in one discriminator step, by implementation.

A discriminator step calls D on real and on generated videos (and a decomposition
calls several sub-discriminators), then back-propagates once. Variants:

* ``none``         -- no spectral norm (the floor);
* ``param``        -- ``torch.nn.utils.parametrizations.spectral_norm`` (what the
                      library uses): one power iteration at every weight access;
* ``param+cache``  -- the same inside ``spectral_norm_cache()``: one power
                      iteration per step, the normalised weight reused by every call;
* ``hook``         -- the older hook-based ``torch.nn.utils.spectral_norm``.

    python benchmarks/bench_spectral_norm.py
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _measure import print_table, time_fn  # noqa: E402

from vidgan_blocks.blocks import DBlock, DBlock3d  # noqa: E402
from vidgan_blocks.layers import spectral_norm_cache  # noqa: E402
from vidgan_blocks.losses import d_hinge_loss  # noqa: E402


def build(ch: int, variant: str) -> nn.Module:
    sn = variant in ("param", "param+cache")
    net = nn.Sequential(
        DBlock3d(3, ch, preactivation=False, sn=sn),
        DBlock3d(ch, 2 * ch, sn=sn),
        DBlock(2 * ch, 4 * ch, sn=sn),
        DBlock(4 * ch, 4 * ch, downsample=False, sn=sn),
    )
    if variant == "hook":
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                torch.nn.utils.spectral_norm(m)
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ch", type=int, default=32)
    ap.add_argument("--b", type=int, default=4)
    ap.add_argument("--t", type=int, default=8)
    ap.add_argument("--hw", type=int, default=32)
    ap.add_argument("--calls", type=int, default=2, help="discriminator calls per step (real + fake = 2)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="cpu", help="cpu: process CPU time (CPU device only)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x = torch.randn(args.calls, args.b, 3, args.t, args.hw, args.hw, device=device)
    variants = ("none", "param", "param+cache", "hook")
    steps = {}
    for variant in variants:
        torch.manual_seed(0)
        net = build(args.ch, variant).to(device)

        def step(net: nn.Module = net, variant: str = variant) -> None:
            ctx = spectral_norm_cache() if variant == "param+cache" else contextlib.nullcontext()
            with ctx:
                outs = [net(x[i]).sum(dim=(1, 3, 4)) for i in range(args.calls)]
                loss = d_hinge_loss(outs[0], torch.cat(outs[1:]))
                loss.backward()

        steps[variant] = step
    # Interleave the variants round by round so slow phases of a shared machine hit all of them.
    samples: dict[str, list[float]] = {v: [] for v in variants}
    for v in variants:
        time_fn(steps[v], device, warmup=2, repeats=1, clock=args.clock)
    for _ in range(args.repeats):
        for v in variants:
            samples[v].append(time_fn(steps[v], device, warmup=0, repeats=1, clock=args.clock))
    rows = [{"variant": v, "ms": sorted(samples[v])[len(samples[v]) // 2]} for v in variants]
    floor = rows[0]["ms"]
    for r in rows:
        r["overhead_vs_none"] = f"{(r['ms'] / floor - 1) * 100:+.1f}%"
    print(f"D step: {args.calls} calls, B={args.b}, T={args.t}, {args.hw}x{args.hw}, ch={args.ch}, device={device}, clock={args.clock}")
    print_table(rows, ["variant", "ms", "overhead_vs_none"])


if __name__ == "__main__":
    main()
