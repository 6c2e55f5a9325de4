"""Time the recipes' tiny presets end to end: seconds per training iteration, sampling and total.

Each recipe runs in-process for ``--steps`` iterations per level into a temporary
directory (fresh, no resume) on CUDA when available, else on the CPU, and the
sections of its ``summary.json`` are printed as a table.

    python benchmarks/bench_recipes.py                       # every recipe, 3 iterations per level
    python benchmarks/bench_recipes.py --recipes dvd_gan_kinetics cvg_kinetics --steps 10
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
RECIPES = (
    "dvd_gan_kinetics", "dvd_gan_ucf101", "dvd_gan_fp_kinetics", "dvd_gan_fp_bair", "trivd_gan_fp_kinetics",
    "trivd_gan_fp_bair", "ssw_gan_kinetics", "ssw_gan_bdd100k", "cvg_kinetics", "cvg_ucf101", "cvg_bdd100k",
)


def run_one(name: str, steps: int, device: str, threads: int | None) -> dict:
    sys.path.insert(0, str(RECIPES_DIR))
    module = importlib.import_module(name)
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--out", tmp, "--steps", str(steps), "--fresh", "--device", device]
        if threads is not None:
            argv += ["--threads", str(threads)]
        t0 = time.perf_counter()
        module.main(argv)
        wall = time.perf_counter() - t0
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    sec = summary["seconds"]
    train = sum(v for k, v in sec.items() if k.startswith("train"))
    levels = len(summary["steps"]) if isinstance(summary["steps"], dict) else 1
    return {"recipe": name, "levels": levels, "s_per_iter": train / (steps * levels), "train_s": train,
            "sampling_s": sec.get("sampling", 0.0), "wall_s": wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    p.add_argument("--steps", type=int, default=3, help="training iterations per level")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (the recipes default to 1 on CPU)")
    args = p.parse_args()
    rows = [run_one(name, args.steps, args.device, args.threads) for name in args.recipes]
    print(f"\ntiny presets, {args.steps} iterations per level, device {args.device}")
    print(f"{'recipe':24s} {'levels':>6s} {'s/iter':>8s} {'train s':>8s} {'sample s':>9s} {'wall s':>8s}")
    for r in rows:
        print(f"{r['recipe']:24s} {r['levels']:6d} {r['s_per_iter']:8.3f} {r['train_s']:8.2f} "
              f"{r['sampling_s']:9.2f} {r['wall_s']:8.2f}")


if __name__ == "__main__":
    main()
