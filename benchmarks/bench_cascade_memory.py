"""Peak memory of one level-2 training iteration of a cascade vs an end-to-end generator (CVG Figure 3).

For each output length T (default 12, 24, 48, 96 frames) two configurations run
one training iteration (2 D steps + 1 G step) in a fresh subprocess:

* ``cascade``: the upsampling level of a two-level cascade (f_t = 2, f_s = 4)
  trained on a fixed window (default 6 low-resolution frames -> 12 output
  frames), conditioned on a frozen first level that samples all T / 2
  low-resolution frames; D = spatial + temporal + matching (SSW-GAN B.2).
* ``end_to_end``: a recurrent generator with the same widths producing all T
  frames at the output resolution, against the spatial + temporal D.

CPU memory is the peak RSS of the subprocess minus its RSS after building the
models (see ``_measure.py``); on CUDA it is ``torch.cuda.max_memory_allocated``.
CVG Figure 3 reports level 2 flat (10290 MB) while end-to-end memory grows with T.

    python benchmarks/bench_cascade_memory.py                # CPU, ch 8, 64x64
    python benchmarks/bench_cascade_memory.py --recipe-time  # also time the default recipe run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _measure import PeakMemory, print_table, run_isolated, sync  # noqa: E402


class _RandomClips(torch.utils.data.Dataset):
    def __init__(self, frames: int, size: int, n: int = 16) -> None:
        self.frames, self.size, self.n = frames, size, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        g = torch.Generator().manual_seed(i)
        return {"video": torch.rand(3, self.frames, self.size, self.size, generator=g) * 2 - 1}


def build_iteration(cfg: dict):
    """One training iteration (2 D steps + 1 G step) of configuration ``cfg`` as a closure.

    ``cfg["kind"]``: ``"cascade"`` (windowed level 2 over a frozen level 1),
    ``"level1"`` (the first level alone at T / 2 frames and a quarter of the
    resolution) or ``"end_to_end"`` (one generator for all T frames at full size).
    """
    from vidgan_blocks.cascade import Cascade, Level
    from vidgan_blocks.data import ViewFactors
    from vidgan_blocks.discriminators.builders import DiscriminatorConfig
    from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig, build_generator
    from vidgan_blocks.training import TrainerConfig

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    dev = torch.device(cfg["device"])
    t, r, ch, w = cfg["frames"], cfg["resolution"], cfg["ch"], cfg["window"]
    mults = (4, 4, 2, 1)
    d_mults = (1, 2, 4, 4)
    speed = {k: cfg[k] for k in ("amp", "compile", "channels_last") if k in cfg}  # benchmark speed options
    train = TrainerConfig(batch_size=cfg["batch"], max_steps=1, progress=False, tensorboard=False, log_every=0, **speed)
    if cfg["kind"] == "cascade":
        low = r // 4
        g1 = build_generator(CascadeFirstLevelConfig(ch=ch, multipliers=(4, 4, 2), frames=t // 2, base_size=low // 2))
        g2 = build_generator(UpsamplingGeneratorConfig(ch=ch, multipliers=mults, low_size=low, factor_s=4, factor_t=2,
                                                       frames_in=w))
        d2 = DiscriminatorConfig("cascade_level", ch=ch, multipliers=d_mults, k=8, factor_t=2, factor_s=4).build()
        cascade = Cascade([Level(g1.to(dev)), Level(g2, d2, factors=ViewFactors(2, 4), window=w)])
        with torch.no_grad():  # one training-mode pass gives the untrained first level its per-frame statistics
            g1(torch.randn(2, g1.z_dim, device=dev))
        cascade[1].freeze()
        trainer = cascade.make_trainer(2, _RandomClips(t, r), train, device=dev)
    elif cfg["kind"] == "level1":
        from vidgan_blocks.training import GANTrainer

        g = build_generator(CascadeFirstLevelConfig(ch=ch, multipliers=(4, 4, 2), frames=t // 2, base_size=r // 8))
        d = DiscriminatorConfig("dvd_gan", ch=ch, multipliers=d_mults[:3], k=min(8, t // 2)).build()
        trainer = GANTrainer(g, d, _RandomClips(t // 2, r // 4), train, device=dev)
    else:
        from vidgan_blocks.training import GANTrainer

        g = build_generator(CascadeFirstLevelConfig(ch=ch, multipliers=mults, frames=t, base_size=r // 4))
        d = DiscriminatorConfig("dvd_gan", ch=ch, multipliers=d_mults, k=8).build()
        trainer = GANTrainer(g, d, _RandomClips(t, r), train, device=dev)
    return trainer.train_step


def _one(cfg: dict) -> dict:
    dev = torch.device(cfg["device"])
    step = build_iteration(cfg)
    with PeakMemory(dev) as mem:
        t0 = time.perf_counter()
        step()
        sync(dev)
        dt = time.perf_counter() - t0
    return {**cfg, "peak_mib": mem.mib, "step_s": dt}


def _recipe_time() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "recipes" / "cvg_kinetics.py"), "--out", tmp],
                             capture_output=True, text=True, check=False)
        dt = time.perf_counter() - t0
        summary = json.loads((Path(tmp) / "summary.json").read_text()) if out.returncode == 0 else {}
    return {"exit": out.returncode, "wall_s": dt, "sections": summary.get("seconds", {})}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[12, 24, 48, 96], help="output frames")
    p.add_argument("--ch", type=int, default=8, help="base width of both generators and discriminators")
    p.add_argument("--resolution", type=int, default=64, help="output resolution (level 1 is a quarter of it)")
    p.add_argument("--window", type=int, default=6, help="level-2 training window in low-resolution frames")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads in each subprocess")
    p.add_argument("--recipe-time", action="store_true", help="also time `python recipes/cvg_kinetics.py` (minutes)")
    p.add_argument("--json", default=None, help="also write the rows to this file")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(_one(json.loads(args.one))))
        return
    rows = []
    for t in args.lengths:
        if t % 2 or t // 2 < args.window:
            raise SystemExit(f"--lengths: {t} must be even with T/2 >= window={args.window}")
        for kind in ("cascade", "end_to_end"):
            cfg = dict(kind=kind, frames=t, ch=args.ch, resolution=args.resolution, window=args.window,
                       batch=args.batch, device=args.device, threads=args.threads)
            rows.append(run_isolated(__file__, cfg))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    unit = "peak_mib (CUDA max allocated)" if args.device.startswith("cuda") else "peak_mib (RSS above baseline)"
    print(f"device={args.device} threads={args.threads} torch={torch.__version__} cpus={os.cpu_count()}  {unit}")
    print_table(rows, ["kind", "frames", "resolution", "ch", "window", "batch", "peak_mib", "step_s", "error"])
    if args.recipe_time:
        r = _recipe_time()
        print(f"\ndefault recipe run: exit {r['exit']}, wall {r['wall_s']:.1f} s, sections {r['sections']}")
        rows.append({"kind": "recipe", **r})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
