"""Training iteration at paper structure: ms, TFLOP/s, MFU, peak memory and aten ops per iteration.

Three cases, each at the paper's structure (resolution, frames, number of blocks,
D decomposition) and a width set by ``--ch`` (paper width on a GPU, reduced on a
CPU, where the op count still means what it means at full width):

* ``train``: one DVD-GAN 128x128 / 12-frame training iteration (2 D steps + 1 G
  step through ``GANTrainer.train_step``; G: DVD-GAN A.2 at 128x128, MConvGRU,
  separable attention; D: D_S on k = 8 frames + D_T on the 2x2-pooled clip,
  projection heads, 600 classes). Paper width is ``--ch 64`` (G) with D ``ch``
  128, batch 16 per device.
* ``sample``: two 48-frame 64x64 DVD-GAN videos from G in eval mode (no grad).
* ``unroll``: forward + backward of a recurrent unit over T = 12 steps at
  32x32 (ConvGRU, TSRU-p, K-TrajGRU; the paper shape is B = 16, C = 64).

"aten ops" are the operators dispatched to ATen during one call (forward,
backward, optimiser and bookkeeping), counted with a ``TorchDispatchMode`` after
one warm-up call. On a GPU each of them is (at least) one kernel launch, so the
count is a CPU-measurable proxy for launch overhead; it does not depend on the
width or the batch.

    python benchmarks/bench_train_iteration.py                       # CPU, ch 8, batch 2
    python benchmarks/bench_train_iteration.py --json benchmarks/results/train_iteration-cpu.json
    python benchmarks/bench_train_iteration.py --device cuda --ch 64 --d-ch 128 --batch 16 --amp bf16 --channels-last

``--ops-only`` skips the timing (the op count takes one iteration).
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from _measure import PeakMemory, count_flops, mfu_info, sync  # noqa: E402
from vidgan_blocks.discriminators import DiscriminatorConfig  # noqa: E402
from vidgan_blocks.generators import build_generator, dvd_gan_config  # noqa: E402
from vidgan_blocks.ops import channels_last  # noqa: E402
from vidgan_blocks.recurrent import TSRU, ConvGRU, KTrajGRU  # noqa: E402
from vidgan_blocks.training import GANTrainer, TrainerConfig  # noqa: E402

#: DVD-GAN A.2 D multipliers at 128x128.
D_MULT_128 = (1, 2, 4, 8, 16, 16)
UNITS = {
    "ConvGRU": lambda c: ConvGRU(c, c),
    "TSRUp": lambda c: TSRU(c, c, variant="p"),
    "KTrajGRU": lambda c: KTrajGRU(c, c),
}


class OpCounter(TorchDispatchMode):
    """Counts every operator dispatched to ATen inside the ``with`` block, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        return sum(self.ops.values())


def count_ops(fn) -> tuple[int, list[tuple[str, int]]]:
    """aten ops of one call of ``fn`` (total and the ten most frequent)."""
    with OpCounter() as c:
        fn()
    return c.total, c.ops.most_common(10)


class RandomClips(torch.utils.data.Dataset):
    """Fixed random clips ``{"video": (3, T, S, S) in [-1, 1], "label": ()}``."""

    def __init__(self, n: int, frames: int, size: int, num_classes: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.videos = torch.rand(n, 3, frames, size, size, generator=g) * 2 - 1
        self.labels = torch.randint(num_classes, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"video": self.videos[i], "label": self.labels[i]}


def build_train(args) -> tuple[callable, dict]:
    torch.manual_seed(0)
    g = build_generator(dvd_gan_config(128, 12, num_classes=args.classes, ch=args.ch))
    d = DiscriminatorConfig("dvd_gan", ch=args.d_ch or args.ch, multipliers=D_MULT_128, num_classes=args.classes,
                            k=8).build()
    cfg = TrainerConfig(batch_size=args.batch, max_steps=10**9, progress=False, tensorboard=False, log_every=0, n_dis=2,
                        out_dir=None, amp=args.amp, channels_last=args.channels_last, compile=args.compile)
    tr = GANTrainer(g, d, RandomClips(4 * args.batch, 12, 128, args.classes), cfg, device=args.device)
    info = {"case": "train", "model": "dvd_gan_128x128_12f", "g_params": sum(p.numel() for p in g.parameters()),
            "d_params": sum(p.numel() for p in d.parameters())}
    return tr.train_step, info


def build_sample(args) -> tuple[callable, dict]:
    torch.manual_seed(0)
    g = build_generator(dvd_gan_config(64, 48, num_classes=args.classes, ch=args.ch)).to(args.device)
    if args.channels_last:
        channels_last(g)
    z = torch.randn(2, g.z_dim, device=args.device)
    y = torch.randint(args.classes, (2,), device=args.device)
    with torch.no_grad():
        g(z, y)  # per-step batch-norm statistics at T = 48, then eval mode
    g.eval()
    fn = g
    if args.compile:
        fn = torch.compile(g, mode="reduce-overhead")

    def run() -> None:
        with torch.no_grad(), _autocast(args):
            fn(z, y)

    return run, {"case": "sample", "model": "dvd_gan_64x64_48f", "videos": 2}


def build_unroll(args) -> tuple[callable, dict]:
    torch.manual_seed(0)
    unit = UNITS[args.unit](args.ch).to(args.device).train()
    if args.channels_last:
        channels_last(unit)
    x = torch.randn(args.batch, args.ch, 12, 32, 32, device=args.device, requires_grad=True)
    fn = torch.compile(unit) if args.compile else unit

    def run() -> None:
        with _autocast(args):
            out = fn(x)
        out.float().square().mean().backward()

    return run, {"case": "unroll", "unit": args.unit, "frames": 12, "size": 32}


def _autocast(args):
    if args.amp == "none":
        return torch.autocast(args.device.type, enabled=False)
    return torch.autocast(args.device.type, dtype=torch.bfloat16 if args.amp == "bf16" else torch.float16)


BUILDERS = {"train": build_train, "sample": build_sample, "unroll": build_unroll}


def measure(args) -> dict:
    run, info = BUILDERS[args.case](args)
    for _ in range(args.warmup):
        run()
    sync(args.device)
    ops, top = count_ops(run)
    row = {**info, "ch": args.ch, "d_ch": args.d_ch or args.ch, "batch": args.batch if args.case != "sample" else 2,
           "amp": args.amp, "channels_last": args.channels_last, "compile": args.compile, "aten_ops": ops,
           "top_ops": top}
    if args.ops_only:
        return row
    times = []
    timer = time.process_time if args.device.type == "cpu" else time.perf_counter
    for _ in range(args.repeats):
        t0 = timer()
        run()
        sync(args.device)
        times.append(timer() - t0)
    seconds = statistics.median(times)
    peak = None
    if args.device.type == "cuda":  # on a CPU the in-process RSS growth says little; see _measure.PeakMemory
        with PeakMemory(args.device) as mem:
            run()
        peak = round(mem.mib, 1)
    flops = count_flops(run)
    row.update(ms=round(seconds * 1e3, 2), clock="cpu" if args.device.type == "cpu" else "wall", peak_mib=peak,
               **mfu_info(flops, seconds, args.device, args.amp))
    if args.device.type == "cuda":
        row["cuda_kernels"] = cuda_kernels(run)
    return row


def cuda_kernels(run) -> int:
    """CUDA kernels launched by one call (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        run()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type.name == "CUDA")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=sorted(BUILDERS), nargs="+", default=["train"])
    p.add_argument("--ch", type=int, default=8, help="G width (DVD-GAN paper: 64 at 128x128); unit channels for unroll")
    p.add_argument("--d-ch", type=int, default=None, help="D width (paper: 128); default --ch")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--classes", type=int, default=600)
    p.add_argument("--unit", choices=sorted(UNITS), nargs="+", default=sorted(UNITS), help="units for --case unroll")
    p.add_argument("--amp", choices=["none", "bf16", "fp16"], default="none")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true",
                   help="train: TrainerConfig(compile=True); sample: torch.compile(mode='reduce-overhead')")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ops-only", action="store_true", help="count aten ops only (no timing, memory or FLOPs)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--json", type=Path, default=None, help="write the rows and the machine here")
    args = p.parse_args()
    args.device = torch.device(args.device)
    torch.set_num_threads(args.threads)

    rows = []
    for case in args.case:
        for unit in (args.unit if case == "unroll" else [None]):
            a = argparse.Namespace(**{**vars(args), "case": case, "unit": unit})
            row = measure(a)
            rows.append(row)
            shown = {k: v for k, v in row.items() if k != "top_ops"}
            print(json.dumps(shown))
            print("   most frequent:", ", ".join(f"{n} {c}" for n, c in row["top_ops"]))
    if args.json:
        machine = {"device": str(args.device), "torch": torch.__version__, "threads": torch.get_num_threads(),
                   "cpu": platform.processor() or platform.machine()}
        if args.device.type == "cuda":
            machine["gpu"] = torch.cuda.get_device_name(args.device)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
