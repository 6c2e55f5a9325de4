"""Suite: one DVD-GAN 128x128 / 12-frame training iteration (2 D steps + 1 G step), and its aten ops.

The iteration of ``bench_train_iteration.py --case train`` at reduced width on a
CPU (G ch 8, D ch 8, batch 2) and at paper width on a GPU (G ch 64, D ch 128,
batch 16). Besides the time, each row records ``aten_ops``: the operators one
iteration dispatches (forward, backward, optimiser), counted after a warm-up;
on a GPU each one is at least one kernel launch. ``gflops`` / ``mfu`` as in the
other suites (FLOPs of exactly the timed iteration).
"""

from __future__ import annotations

import argparse

import torch
from _measure import count_flops, mfu_info, synced
from bench_train_iteration import build_train, count_ops

WIDTH = {"cpu": dict(ch=8, d_ch=8, batch=2), "cuda": dict(ch=64, d_ch=128, batch=16)}


def test_train_iteration(benchmark, device, opts):
    shape = WIDTH[device.type]
    args = argparse.Namespace(**shape, classes=600, amp=opts.amp, channels_last=opts.channels_last,
                              compile=opts.compile, device=device)
    run, info = build_train(args)
    run()  # warm-up: optimiser state, batch-norm statistics, compilation
    ops, _ = count_ops(run)
    benchmark.extra_info.update(suite="train_iteration", **info, **shape, aten_ops=ops)
    benchmark.pedantic(synced(run, device), rounds=3, warmup_rounds=1, iterations=1)
    benchmark.extra_info.update(mfu_info(count_flops(run), benchmark.stats.stats.median, device, opts.amp))
    if device.type == "cuda":
        torch.cuda.empty_cache()
