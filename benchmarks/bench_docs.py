"""Cost of what the docs ask a reader to run: the tutorial cascade, its sampling, the API page.

Measures, for the three-level cascade of ``docs/examples/new_cascade.py``:

* one training iteration (2 D steps + 1 G step) of each level, at the tutorial's
  batch size (levels 2 and 3 include sampling the frozen levels below);
* ``Cascade.generate`` for several top-level lengths (unrolled sampling, with
  standing statistics), and the TSRU motion-field read-out of the figures;
* rendering ``docs/api.md`` from the docstrings.

Run: ``python benchmarks/bench_docs.py`` (CPU) or ``--device cuda``; ``--repeats``
sets the timed repetitions (median reported).
"""

from __future__ import annotations

import argparse
import dataclasses
import runpy
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

import gen_api  # noqa: E402

from vidgan_blocks.recurrent import TSRU, expected_flow, flow_to_rgb  # noqa: E402
from vidgan_blocks.training import TrainerConfig, init_distributed  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, repeats: int, device: torch.device, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> list[tuple[str, str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lengths", default="16,32,64", help="top-level frames for the sampling rows")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ctx = init_distributed(args.device)
    device = ctx.device
    torch.manual_seed(0)

    tutorial = runpy.run_path(str(ROOT / "docs" / "examples" / "new_cascade.py"), run_name="bench")
    cascade, clips = tutorial["cascade"], tutorial["ShapeClips"]
    for lv in cascade:
        lv.generator.to(device)
        lv.discriminator.to(device)
    dataset = clips(max(8, 2 * args.batch_size), frames=16, resolution=32, num_classes=tutorial["CLASSES"])
    config = TrainerConfig(batch_size=args.batch_size, max_steps=10**6, log_every=0, progress=False,
                           tensorboard=False, resume="never")
    rows: list[tuple[str, str, float]] = []
    for l in (1, 2, 3):
        # One real step first: freezes level l and gives the levels below standing statistics
        # at the length they are sampled at, as Cascade.train_level does before training.
        cascade.train_level(l, dataset, dataclasses.replace(config, max_steps=1), passes=2, stats_batch=4,
                            context=ctx)
        trainer = cascade.make_trainer(l, dataset, config, context=ctx, standing_passes=2)
        rows.append(("train iteration (2 D + 1 G)", f"level {l}, batch {args.batch_size}",
                     timed(trainer.train_step, args.repeats, device)))
        trainer.close()

    for frames in (int(f) for f in args.lengths.split(",")):
        ms = timed(lambda: cascade.generate(4, frames=frames, passes=2, stats_batch=4, seed=0), args.repeats, device)
        rows.append(("Cascade.generate (2 statistics passes)", f"4 videos x {frames} frames of 32x32", ms))

    unit = [m for m in cascade[1].sampler.modules() if isinstance(m, TSRU)][-1]
    kernels = unit.last_kernels
    rows.append(("expected_flow + flow_to_rgb", f"kernels {tuple(kernels.shape)}",
                 timed(lambda: flow_to_rgb(expected_flow(kernels)), args.repeats, device)))
    rows.append(("render docs/api.md", f"{sum(len(gen_api.public_names(f'vidgan_blocks.{s}')) for s in gen_api.SUBPACKAGES)} names",
                 timed(gen_api.render, args.repeats, torch.device("cpu"))))

    width = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    print(f"device: {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else f'{torch.get_num_threads()} threads'})")
    print(f"{'what':<{width[0]}}  {'size':<{width[1]}}  {'median ms':>10}")
    for what, size, ms in rows:
        print(f"{what:<{width[0]}}  {size:<{width[1]}}  {ms:>10.1f}")
    return rows


if __name__ == "__main__":
    main()
