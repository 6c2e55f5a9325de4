"""Data-parallel training: step time and communication share, flat all-reduce vs DDP, world size 1 and 2.

Three ways to average gradients over ranks, at the same model and the same per-rank batch:

* ``flat``: the former path, ``TrainerConfig(grad_sync="flat", joint_d=False)``: two D
  calls per D step, then, after the backward passes, one blocking ``all_reduce`` of a flat
  float32 copy of every gradient (:func:`vidgan_blocks.training.average_gradients`).
* ``ddp``: the default, ``DistributedDataParallel`` with one D call over real and fake;
  each gradient bucket is all-reduced while the backward pass goes on.
* ``ddp_nocomm``: the same DDP step with a communication hook that skips the all-reduce,
  i.e. the step time the DDP run would have with free communication.

What is reported per (world size, path), from rank 0, medians over the timed iterations
(one iteration = ``n_dis`` D steps + one G step):

* ``step_s``: wall time of one iteration.
* ``comm_s``: time the gradient all-reduces take. ``flat``: time spent inside
  ``average_gradients`` (all of it blocks). ``ddp``: the union, over the iteration, of the
  intervals from each bucket's launch to its completion (measured by a timing hook).
* ``exposed_s``: communication the step waits for. ``flat``: ``comm_s``. ``ddp``:
  ``step_s(ddp) - step_s(ddp_nocomm)``.
* ``comm_share``: ``exposed_s / step_s``; ``overlap``: ``1 - exposed_s / comm_s`` (the part
  of the communication hidden behind the backward pass).
* ``flat_copy_mb``: the float32 copy the flat path allocates per all-reduce (4 bytes per
  trained parameter of the larger model; DDP keeps the gradients in its buckets instead);
  on CUDA also ``peak_cuda_mb`` (``torch.cuda.max_memory_allocated`` per path). The JSON
  rows also hold ``peak_rss_mb``, the peak resident memory of the whole process (all paths).

The paths run in the same processes, one iteration of each in turn, so that a change in
the machine's load affects them alike. On a CPU the ranks are processes with one thread
each (gloo); two ranks on two cores also share those cores with gloo's own threads, so the
CPU numbers show the mechanism rather than a GPU cluster's timings.

    python benchmarks/bench_distributed.py --steps 10 --ch 64
    python benchmarks/bench_distributed.py --json results/cpu/distributed.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

import vidgan_blocks.training.trainer as trainer_module  # noqa: E402
from tests.training.tiny import TinyDiscriminator, TinyGenerator, TinyVideos  # noqa: E402
from vidgan_blocks.training import GANTrainer, TrainerConfig, init_distributed  # noqa: E402

PATHS = ("flat", "ddp", "ddp_nocomm")
ROOT = Path(__file__).resolve().parents[1]


class _Intervals:
    """Launch-to-completion intervals of the all-reduces of one iteration; their union's length."""

    def __init__(self) -> None:
        self.spans: list[list[float]] = []

    def union(self) -> float:
        total, end = 0.0, float("-inf")
        for a, b in sorted(self.spans):
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        self.spans = []
        return total


def _timing_hook(world: int, intervals: _Intervals, communicate: bool):
    def hook(_state, bucket):
        buf = bucket.buffer()
        if not communicate:
            fut: torch.futures.Future = torch.futures.Future()
            fut.set_result(buf)
            return fut
        span = [time.perf_counter(), 0.0]
        intervals.spans.append(span)
        work = dist.all_reduce(buf.div_(world), async_op=True)

        def done(f):
            span[1] = time.perf_counter()
            return f.value()[0]

        return work.get_future().then(done)

    return hook


def _build(args, ctx, path: str) -> GANTrainer:
    torch.manual_seed(0)
    cfg = TrainerConfig(batch_size=args.batch_size, accumulation=args.accumulation, n_dis=2, max_steps=10**9,
                        progress=False, tensorboard=False, log_every=0, out_dir=None,
                        grad_sync="flat" if path == "flat" else "ddp", joint_d=path != "flat")
    g = TinyGenerator(num_classes=3, ch=args.ch, frames=args.frames)
    d = TinyDiscriminator(num_classes=3, ch=args.ch)
    return GANTrainer(g, d, TinyVideos(n=256, frames=args.frames), cfg, context=ctx, device=args.device)


def worker(args) -> None:
    """All paths in the same processes, one iteration of each in turn (load drifts hit them alike)."""
    torch.set_num_threads(args.threads)
    ctx = init_distributed(args.device, timeout_s=120)
    paths = PATHS if ctx.world_size > 1 else ("flat", "ddp")
    trainers = {path: _build(args, ctx, path) for path in paths}
    flat_time = [0.0]
    average = trainer_module.average_gradients

    def timed(params):
        _sync(ctx.device)
        t0 = time.perf_counter()
        average(params)
        _sync(ctx.device)
        flat_time[0] += time.perf_counter() - t0

    trainer_module.average_gradients = timed  # only the flat path calls it
    intervals = {path: _Intervals() for path in paths}
    for path, tr in trainers.items():
        if path != "flat" and ctx.world_size > 1:
            for ddp in (tr.G_ddp, tr.D_ddp):
                ddp.register_comm_hook(None, _timing_hook(ctx.world_size, intervals[path], path == "ddp"))
    steps: dict[str, list[float]] = {p: [] for p in paths}
    comms: dict[str, list[float]] = {p: [] for p in paths}
    peak: dict[str, float] = {}
    for i in range(args.warmup + args.steps):
        for path, tr in trainers.items():
            if tr.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(tr.device)
            _sync(tr.device)
            flat_time[0] = 0.0
            t0 = time.perf_counter()
            tr.train_step()
            _sync(tr.device)
            dt = time.perf_counter() - t0
            comm = flat_time[0] if path == "flat" else intervals[path].union()
            if tr.device.type == "cuda":
                peak[path] = max(peak.get(path, 0.0), torch.cuda.max_memory_allocated(tr.device) / 2**20)
            if i >= args.warmup:
                steps[path].append(dt)
                comms[path].append(comm)
    for path, tr in trainers.items():
        n_params = max(sum(p.numel() for p in m.parameters()) for m in (tr.G, tr.D))
        result = {
            "world_size": ctx.world_size,
            "path": path,
            "step_s": statistics.median(steps[path]),
            "comm_s": statistics.median(comms[path]) if ctx.world_size > 1 else 0.0,
            "params_g": sum(p.numel() for p in tr.G.parameters()),
            "params_d": sum(p.numel() for p in tr.D.parameters()),
            "flat_copy_mb": 4 * n_params / 2**20 if path == "flat" and ctx.world_size > 1 else 0.0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # the whole process
        }
        if path in peak:
            result["peak_cuda_mb"] = peak[path]
        if ctx.is_main:
            print("RESULT " + json.dumps(result), flush=True)
        tr.close()
    if ctx.distributed:
        dist.barrier()
        dist.destroy_process_group()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def launch(args, world: int) -> list[dict]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={world}",
           str(Path(__file__).resolve()), "--worker"]
    for name in ("steps", "warmup", "ch", "frames", "batch_size", "accumulation", "threads"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.device:
        cmd += ["--device", args.device]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), PYTHONPATH=str(ROOT))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=args.timeout)
    lines = [x for x in res.stdout.splitlines() if x.startswith("RESULT ")]
    if res.returncode != 0 or not lines:
        raise SystemExit(f"world {world} failed:\n{(res.stdout + res.stderr)[-3000:]}")
    return [json.loads(x[len("RESULT "):]) for x in lines]


def summarise(rows: list[dict]) -> list[dict]:
    by = {(r["world_size"], r["path"]): r for r in rows}
    for r in rows:
        if r["world_size"] == 1:
            r["exposed_s"] = 0.0
        elif r["path"] == "flat":
            r["exposed_s"] = r["comm_s"]
        elif r["path"] == "ddp":
            free = by.get((r["world_size"], "ddp_nocomm"))
            r["exposed_s"] = max(0.0, r["step_s"] - free["step_s"]) if free else float("nan")
        else:
            r["exposed_s"] = 0.0
        r["comm_share"] = r["exposed_s"] / r["step_s"]
        r["overlap"] = 1.0 - r["exposed_s"] / r["comm_s"] if r["comm_s"] > 0 and r["path"] != "ddp_nocomm" else None
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10, help="timed iterations per run")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--ch", type=int, default=64, help="width of the tiny G and D")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=4, help="videos per rank per micro-batch")
    p.add_argument("--accumulation", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    p.add_argument("--worlds", default="1,2", help="world sizes to run")
    p.add_argument("--device", default="cpu")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", default=None, help="also write the rows to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    rows = []
    for world in (int(w) for w in args.worlds.split(",")):
        rows += launch(args, world)
    rows = summarise(rows)
    print(f"params G {rows[0]['params_g']:,}  D {rows[0]['params_d']:,}; batch {args.batch_size}/rank, "
          f"accumulation {args.accumulation}, {args.threads} thread(s)/rank, device {args.device}")
    print(f"{'world':>5} {'path':>11} {'step ms':>9} {'comm ms':>9} {'exposed ms':>10} {'comm share':>10} "
          f"{'overlap':>8} {'flat copy MB':>12} {'peak CUDA MB':>12}")
    for r in rows:
        ov = "-" if r["overlap"] is None else f"{100 * r['overlap']:.0f}%"
        cuda = f"{r['peak_cuda_mb']:.0f}" if "peak_cuda_mb" in r else "-"
        print(f"{r['world_size']:>5} {r['path']:>11} {1e3 * r['step_s']:>9.2f} {1e3 * r['comm_s']:>9.2f} "
              f"{1e3 * r['exposed_s']:>10.2f} {100 * r['comm_share']:>9.1f}% {ov:>8} {r['flat_copy_mb']:>12.2f} "
              f"{cuda:>12}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
