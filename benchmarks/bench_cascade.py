"""Unrolled sampling of a two-level cascade: one-shot ``generate`` vs chunked ``generate_stream``.

For each output length, a fresh subprocess builds an untrained two-level cascade
(level 1: recurrent, a quarter of the output resolution; level 2: upsampling,
f_t = 2, f_s = 4), estimates its per-frame statistics and samples once, either in
one go or streamed in chunks of the level-2 window. Reports wall time and peak
memory (RSS above the post-build baseline on CPU, ``max_memory_allocated`` on
CUDA). Streaming should stay flat in memory and cost about the halo overhead
in time.

    python benchmarks/bench_cascade.py --lengths 24 48 96 192
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _measure import BenchOptions, PeakMemory, print_table, run_isolated, sync  # noqa: E402


def build_sampling(cfg: dict, opts: BenchOptions | None = None):
    """An untrained two-level cascade and a closure sampling ``cfg["frames"]`` frames from it.

    ``cfg["mode"]``: ``"stream"`` (chunks of the level-2 window, output dropped as it
    comes) or ``"oneshot"``. ``opts`` applies the benchmark speed options to both
    generators (channels-last weights, compiled forwards; autocast is the caller's).
    Returns ``(run, g2)``.
    """
    from vidgan_blocks.cascade import Cascade, Level
    from vidgan_blocks.data import ViewFactors
    from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig, build_generator

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    dev = torch.device(cfg["device"])
    r, ch, w, t = cfg["resolution"], cfg["ch"], cfg["window"], cfg["frames"]
    low = r // 4
    g1 = build_generator(CascadeFirstLevelConfig(ch=ch, multipliers=(4, 4, 2), frames=t // 2, base_size=low // 2)).to(dev)
    g2 = build_generator(UpsamplingGeneratorConfig(ch=ch, multipliers=(4, 4, 2, 1), low_size=low, factor_s=4,
                                                   factor_t=2, frames_in=w)).to(dev)
    cascade = Cascade([Level(g1), Level(g2, factors=ViewFactors(2, 4), window=w)])
    for lv in cascade:
        lv.freeze()
    if opts is not None:
        opts.prepare(g1)
        opts.prepare(g2)
    kw = dict(frames=t, passes=cfg["passes"], stats_batch=cfg["batch"], seed=0)

    def run() -> None:
        if cfg["mode"] == "stream":
            cascade.generate_stream(cfg["batch"], chunk=w, on_chunk=lambda x: None, **kw)
        else:
            cascade.generate(cfg["batch"], **kw)

    return run, g2


def _one(cfg: dict) -> dict:
    from vidgan_blocks.cascade import temporal_radius

    dev = torch.device(cfg["device"])
    run, g2 = build_sampling(cfg)
    with PeakMemory(dev) as mem:
        t0 = time.perf_counter()
        run()
        sync(dev)
        dt = time.perf_counter() - t0
    halo = -(-temporal_radius(g2) // 2)
    return {**cfg, "halo": halo, "peak_mib": mem.mib, "seconds": dt}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[24, 48, 96, 192], help="output frames")
    p.add_argument("--ch", type=int, default=8)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--window", type=int, default=6, help="chunk (= level-2 window) in low-resolution frames")
    p.add_argument("--batch", type=int, default=2, help="videos sampled and standing-statistics batch")
    p.add_argument("--passes", type=int, default=2, help="standing-statistics passes per level")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(_one(json.loads(args.one))))
        return
    rows = []
    for t in args.lengths:
        for mode in ("one_shot", "stream"):
            cfg = dict(mode=mode, frames=t, ch=args.ch, resolution=args.resolution, window=args.window,
                       batch=args.batch, passes=args.passes, device=args.device, threads=args.threads)
            rows.append(run_isolated(__file__, cfg))
    print(f"device={args.device} threads={args.threads} torch={torch.__version__} cpus={os.cpu_count()}")
    print_table(rows, ["mode", "frames", "resolution", "ch", "window", "halo", "peak_mib", "seconds", "error"])


if __name__ == "__main__":
    main()
