"""Suite: training iterations at the papers' structure (2 D steps + 1 G step each), and their aten ops.

``test_train_iteration``: the iteration of ``bench_train_iteration.py --case train``
(DVD-GAN 128x128 / 12 frames) at reduced width on a CPU (G ch 8, D ch 8, batch 2)
and at paper width on a GPU (G ch 64, D ch 128, batch 16).

``test_paper_iteration``: the cases ``trivd_fp`` (TrIVD-GAN-FP on Kinetics,
appendices A and E: 5 -> 11 frames of 64x64, TSRU-p generator with a context
encoder, dF + crV + dV with the mixed projection head) and ``cvg_level2`` (CVG
Kinetics level 2, SSW-GAN appendix B.2: windows of 6 frames of 32x32 from a frozen
level 1 upsampled to 12 frames of 128x128 against D_S + D_T + the matching
discriminator). Paper width on a GPU (TrIVD-GAN-FP ch 48; CVG G ch 128, D ch 96;
batch 8 per device, the recipes' micro-batch). On a CPU: batch 2, ch 8 for
TrIVD-GAN-FP and ch 4 for CVG level 2, whose 128x128 activations would otherwise
take about 10 s per iteration; the op count is the same at any width (it does
change with the batch, by the per-sample windows and noise).

Besides the time, each row records ``aten_ops``: the operators one iteration
dispatches (forward, backward, optimiser), counted after a warm-up; on a GPU each
one is at least one kernel launch. ``gflops`` / ``mfu`` as in the other suites
(FLOPs of exactly the timed iteration).
"""

from __future__ import annotations

import argparse

import pytest
import torch
from _measure import BenchOptions, FlopCounter, count_flops, mfu_info, synced
from bench_train_iteration import OpCounter, build_cvg_level2, build_train, build_trivd_fp, count_ops

WIDTH = {"cpu": dict(ch=8, d_ch=8, batch=2), "cuda": dict(ch=64, d_ch=128, batch=16)}

#: Per case: the builder and its width per device.
PAPER_CASES = {
    "trivd_fp": (build_trivd_fp, {"cpu": {"ch": 8, "d_ch": 8, "batch": 2},
                                  "cuda": {"ch": 48, "d_ch": 48, "batch": 8}}),
    "cvg_level2": (build_cvg_level2, {"cpu": {"ch": 4, "d_ch": 4, "batch": 2},
                                      "cuda": {"ch": 128, "d_ch": 96, "batch": 8}}),
}


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


@pytest.mark.parametrize("case", sorted(PAPER_CASES))
def test_paper_iteration(benchmark, device: torch.device, opts: BenchOptions, case: str) -> None:
    """One iteration of ``bench_train_iteration.py --case <case>``; ops and FLOPs counted in one call."""
    build, widths = PAPER_CASES[case]
    shape = widths[device.type]
    args = argparse.Namespace(**shape, classes=600, amp=opts.amp, channels_last=opts.channels_last,
                              compile=opts.compile, device=device)
    run, info = build(args)
    run()  # warm-up: optimiser and EMA state, batch-norm statistics, compilation
    with OpCounter() as ops, FlopCounter() as flops:  # the second call, also warm-up for the timed ones
        run()
    benchmark.extra_info.update(suite="train_iteration", **info, **shape, aten_ops=ops.total)
    # on a CPU the two calls above were the warm-up: 4 iterations in all keep a case within about 30 s
    warmup = 1 if device.type == "cuda" else 0
    rounds = 3 if device.type == "cuda" else 2
    benchmark.pedantic(synced(run, device), rounds=rounds, warmup_rounds=warmup, iterations=1)
    benchmark.extra_info.update(mfu_info(flops.flops, benchmark.stats.stats.median, device, opts.amp))
    if device.type == "cuda":
        torch.cuda.empty_cache()
