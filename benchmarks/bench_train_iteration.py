"""Training iteration at paper structure: ms, TFLOP/s, MFU, peak memory and aten ops per iteration.

Five cases, each at the paper's structure (resolution, frames, number of blocks,
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
* ``trivd_fp``: one TrIVD-GAN-FP iteration on Kinetics (appendices A, E.1-E.2;
  ``recipes/trivd_gan_fp_kinetics.py`` ``paper_preset``): 11 frames of 64x64
  predicted from 5, G of three TSRU-p stages from 8x8 whose states come from a
  context encoder (a copy of the spatial D trunk), D = dF + crV + dV with the
  mixed projection head, orthogonal penalty on G, EMA of G updated (the
  iteration as it runs after step 20k). Paper width ``--ch 48`` (G, D and
  encoder alike), batch 8 per device.
* ``cvg_level2``: one iteration of CVG Kinetics level 2 (CVG sections 3-4,
  SSW-GAN appendix B.2; ``recipes/cvg_kinetics.py`` ``PRESETS["paper"]``): a
  frozen level 1 samples 24 frames of 32x32, a random window of 6 of them is
  upsampled to 12 frames of 128x128 and scored by D_S + D_T + the matching
  discriminator against the same window of a real 48-frame 128x128 clip. Paper
  width ``--ch 128`` (G of both levels) with D ``ch`` 96, batch 8 per device.

"aten ops" are the operators dispatched to ATen during one call (forward,
backward, optimiser and bookkeeping), counted with a ``TorchDispatchMode`` after
one warm-up call. On a GPU each of them is (at least) one kernel launch, so the
count is a CPU-measurable proxy for launch overhead; it does not depend on the
width or the batch.

    python benchmarks/bench_train_iteration.py                       # CPU, ch 8, batch 2
    python benchmarks/bench_train_iteration.py --json benchmarks/results/train_iteration-cpu.json
    python benchmarks/bench_train_iteration.py --device cuda --ch 64 --d-ch 128 --batch 16 --amp bf16 --channels-last
    python benchmarks/bench_train_iteration.py --case trivd_fp --device cuda --ch 48 --batch 8 --amp bf16
    python benchmarks/bench_train_iteration.py --case cvg_level2 --device cuda --ch 128 --d-ch 96 --batch 8 --amp bf16

``--ops-only`` skips the timing (the op count takes one iteration).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "recipes"))  # the recipes' own builders

import torch  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import cvg_kinetics  # noqa: E402
import trivd_gan_fp_kinetics  # noqa: E402
from _common import PredictionTrainer  # noqa: E402
from _measure import PeakMemory, count_flops, mfu_info, sync  # noqa: E402
from vidgan_blocks.cascade import Cascade, Level, LevelOptim  # noqa: E402
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


def _trainer_config(args: argparse.Namespace, **fields: object) -> TrainerConfig:
    """One micro-batch of ``args.batch`` per step, nothing written, the speed options of ``args``."""
    return TrainerConfig(batch_size=args.batch, max_steps=10**9, progress=False, tensorboard=False, log_every=0,
                         n_dis=2, out_dir=None, amp=args.amp, channels_last=args.channels_last, compile=args.compile,
                         **fields)


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_trivd_fp(args: argparse.Namespace) -> tuple[Callable[[], None], dict]:
    """One TrIVD-GAN-FP training iteration (TrIVD-GAN-FP appendices A, E.1-E.2) at width ``args.ch``.

    G, D and the optimiser settings come from ``paper_preset`` of
    ``recipes/trivd_gan_fp_kinetics.py`` with ``args.ch`` as G's multiplier and
    ``args.d_ch`` (default ``args.ch``) as D's and the context encoder's, and the
    trainer is the recipe's :class:`PredictionTrainer`: 5 conditioning frames, 11
    predicted ones at 64x64, dF + crV + dV without labels, mixed projection,
    orthogonal penalty 1e-4, lr G 1e-4 / D 5e-4, two D steps per G step. The EMA
    of G starts at once, so the iteration is the one that runs from step 20k on
    (EMA update included). One micro-batch per step: the paper's batch of 512 is
    reached by accumulation and ranks, which repeat this work.
    """
    torch.manual_seed(0)
    P = trivd_gan_fp_kinetics.paper_preset(args.ch, d_ch=args.d_ch)
    g = build_generator(P.g)
    d = P.d.build()
    clips = RandomClips(4 * args.batch, P.g.cond_frames + P.g.frames, P.resolution, 1)  # the single dummy class 0
    cfg = _trainer_config(args, lr_g=P.lr_g, lr_d=P.lr_d, ortho_reg=P.ortho_reg)
    tr = PredictionTrainer(g, d, clips, cfg, device=args.device, ema_decay=P.ema_decay, ema_start=0,
                           standing_passes=P.passes, cond_frames=P.g.cond_frames,
                           d_labels=P.d.num_classes is not None)
    info = {"case": "trivd_fp", "model": f"trivd_gan_fp_{P.resolution}x{P.resolution}_{P.g.cond_frames}to{P.g.frames}f",
            "decomposition": P.d.decomposition, "g_params": _params(g), "d_params": _params(d)}
    return tr.train_step, info


def build_cvg_level2(args: argparse.Namespace) -> tuple[Callable[[], None], dict]:
    """One windowed training iteration of CVG Kinetics level 2 (CVG sections 3-4, SSW-GAN appendix B.2).

    The two levels of ``PRESETS["paper"]`` in ``recipes/cvg_kinetics.py``, built
    as the recipe's ``cascade_main`` builds them, with ``args.ch`` as the G width
    of both levels (paper 128) and ``args.d_ch`` (default ``args.ch``) as level 2's
    D width (paper 96). Level 1 (24 frames of 32x32) is frozen untrained: only
    its cost matters here (one training-mode pass gives its per-step batch-norm
    statistics, which :meth:`Cascade.train_level` re-estimates). The trainer is :meth:`Cascade.make_trainer`'s
    :class:`~vidgan_blocks.cascade.UpsamplingLevelTrainer`: every D and G step
    samples level 1 (eval, no grad), takes a random window of 6 of its frames and
    upsamples it to 12 frames of 128x128; D = D_S (k = 8) + D_T + the matching
    discriminator (f_t 2, f_s 4, bilinear) sees that pair against the same window
    of a real 48-frame 128x128 clip and its 24-frame 32x32 view. Level 1's D is
    not built: it takes no part in level 2's iteration.
    """
    torch.manual_seed(0)
    P = cvg_kinetics.PRESETS["paper"]
    low, top = P.levels
    d_cfg = dataclasses.replace(top.d, ch=args.d_ch or args.ch, num_classes=args.classes)
    optim = LevelOptim(lr_g=P.lr_g, lr_d=P.lr_d, n_dis=2)
    g1 = build_generator(dataclasses.replace(low.g, ch=args.ch, num_classes=args.classes))
    g2 = build_generator(dataclasses.replace(top.g, ch=args.ch, num_classes=args.classes))
    d = d_cfg.build()
    cascade = Cascade([Level(g1, None, optim=optim),
                       Level(g2, d, factors=top.view_factors(), window=top.window, optim=optim,
                             discriminator_config=d_cfg)])
    g1.to(args.device)
    with torch.no_grad():  # per-step batch-norm statistics at level 1's 24 frames, as standing statistics give
        g1(torch.randn(args.batch, g1.z_dim, device=args.device),
           torch.randint(args.classes, (args.batch,), device=args.device))
    sampler = cascade[1].freeze(g1)
    if args.channels_last:
        channels_last(sampler)  # as the frozen copy of a level-1 trainer's G would be
    clips = RandomClips(4 * args.batch, P.frames, P.resolution, args.classes)
    tr = cascade.make_trainer(2, clips, _trainer_config(args), device=args.device)
    info = {"case": "cvg_level2",
            "model": f"cvg_kinetics_level2_{top.window}to{top.window * top.factors[0]}f_{P.resolution}x{P.resolution}",
            "decomposition": d_cfg.decomposition, "g_params": _params(g2), "d_params": _params(d),
            "lower_g_params": _params(g1)}
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


BUILDERS = {"train": build_train, "sample": build_sample, "unroll": build_unroll, "trivd_fp": build_trivd_fp,
            "cvg_level2": build_cvg_level2}


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
    p.add_argument("--ch", type=int, default=8, help="G width (paper: DVD-GAN 64 at 128x128, TrIVD-GAN-FP 48, "
                   "CVG level 2 128); unit channels for unroll")
    p.add_argument("--d-ch", type=int, default=None,
                   help="D width (paper: DVD-GAN 128, TrIVD-GAN-FP 48, CVG level 2 96); default --ch")
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
