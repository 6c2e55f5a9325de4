"""Cost of one discriminator step for every named decomposition, next to TrIVD-GAN-FP Table 1.

One step = the decomposition on a real batch and on a generated batch, the
geometric hinge loss over all outputs, and the backward pass (the part of a D
update that depends on the decomposition; no optimizer, no generator). Every
decomposition sees the same batch: by default B = 8 videos of 16 frames at
64x64, given as 5 conditioning frames + 11 predicted frames (the Kinetics
video-prediction setting of Table 1; frame-conditioning builders prepend the 5
frames, the others are handed the 16 frames whole).

Columns:

* ``pixels/video``: input positions (T' x H' x W') all sub-discriminator trunks
  receive for one video, recorded with hooks on the trunks;
* ``ms``: median wall time of a step; on CPU also ``cpu_ms``, the median CPU
  time of the process for a step, which other load on the machine disturbs far
  less than wall time (run with ``--threads 1`` to make it the work itself);
* ``peak_mib``: peak memory of the steps above the memory held before them,
  with model and batch built (CPU: peak RSS of a fresh process per row; CUDA:
  ``torch.cuda.max_memory_allocated``);
* ``x_px`` / ``x_ms`` / ``x_mem``: ratios to ``dvd_gan_fp`` (``x_ms`` uses
  ``cpu_ms`` on CPU);
* ``paper_ms``, ``paper_x``, ``paper_gb``: Table 1's step time, its ratio to
  DVD-GAN-FP (537 ms) and its peak memory. Table 1 times a whole training step on TPU (two D updates
  and one G update, E.3), so the generator's fixed cost shrinks its ratios; the
  ordering is what should agree.

    python benchmarks/bench_discriminators.py --threads 1     # CPU, tiny width
    python benchmarks/bench_discriminators.py --ch 16 --device cuda
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import BenchOptions, PeakMemory, print_table, sync  # noqa: E402

from vidgan_blocks.discriminators import (  # noqa: E402
    DVD_GAN_64,
    DiscriminatorTrunk,
    MultiDiscriminator,
    cascade_level,
    clip,
    cropped,
    cropped_downsampled,
    downsampled,
    dvd_gan,
    dvd_gan_fp,
    mocogan_like,
    trivd_faster,
    trivd_stronger,
)
from vidgan_blocks.layers import spectral_norm_cache  # noqa: E402
from vidgan_blocks.losses import d_hinge_loss  # noqa: E402
from vidgan_blocks.ops import spatial_downsample, temporal_subsample  # noqa: E402

# TrIVD-GAN-FP Table 1: average step duration (ms) and peak memory (GB).
PAPER = {
    "clip": (488, 3.49),
    "downsampled": (370, 3.01),
    "cropped": (371, 3.10),
    "cropped_downsampled": (467, 3.30),
    "mocogan_like_k1": (568, 3.95),
    "mocogan_like_k8": (660, 3.95),
    "dvd_gan_fp": (537, 3.53),
    "trivd_faster": (453, 3.54),
    "trivd_stronger": (548, 3.65),
}

ROWS = [
    "clip",
    "downsampled",
    "cropped",
    "cropped_downsampled",
    "mocogan_like_k1",
    "mocogan_like_k8",
    "dvd_gan_fp",
    "trivd_faster",
    "trivd_stronger",
    "dvd_gan",
    "cascade_level",
]


def build(name: str, args: argparse.Namespace, generator: torch.Generator) -> MultiDiscriminator:
    mixed = args.head == "mixed"
    common = dict(ch=args.ch, multipliers=tuple(args.multipliers), mixed_projection=mixed)
    if name == "clip":
        return clip(**common)
    if name == "downsampled":
        return downsampled(**common)
    if name == "cropped":
        return cropped(generator=generator, **common)
    if name == "cropped_downsampled":
        return cropped_downsampled(generator=generator, **common)
    if name == "mocogan_like_k1":
        return mocogan_like(1, generator=generator, **common)
    if name == "mocogan_like_k8":
        return mocogan_like(args.k, generator=generator, **common)
    if name == "dvd_gan_fp":
        return dvd_gan_fp(k=args.k, generator=generator, **common)
    if name == "trivd_faster":
        return trivd_faster(k=args.k, generator=generator, **common)
    if name == "trivd_stronger":
        return trivd_stronger(k=args.k, generator=generator, **common)
    if name == "dvd_gan":
        return dvd_gan(k=args.k, generator=generator, **common)
    if name == "cascade_level":
        return cascade_level(2, 2, "bilinear", k=args.k, generator=generator, **common)
    raise ValueError(f"unknown decomposition {name!r}; expected one of {ROWS}")


def make_batch(args: argparse.Namespace, device: torch.device) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shape = (args.b, 3, args.t, args.hw, args.hw)
    real = (torch.rand(shape, generator=g) * 2 - 1).to(device)
    fake = (torch.rand(shape, generator=g) * 2 - 1).to(device)
    c = args.cond
    return {"real": real, "fake": fake, "cond_real": real[:, :, :c], "cond_fake": real[:, :, :c]}


def make_step(name: str, args: argparse.Namespace, opts: BenchOptions | None = None):
    """Build decomposition ``name`` and return ``(step, input_pixels)``: one D step on real and fake.

    ``opts`` (default: plain float32) applies the benchmark speed options: autocast,
    channels-last weights and inputs, a compiled forward.
    """
    opts = opts or BenchOptions()
    torch.manual_seed(0)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(1)
    d = build(name, args, gen).to(device)
    batch = {k: opts.tensor(v) for k, v in make_batch(args, device).items()}
    c = args.cond

    def inputs(kind: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        whole = batch[kind]
        if d.frame_conditioning:
            video, ctx = whole[:, :, c:], {"cond_frames": batch[f"cond_{kind}"]}
        else:
            video, ctx = whole, {}
        if name == "cascade_level":
            # The low-resolution window of a real pair, seen through the level's own views.
            ctx["low_res"] = spatial_downsample(temporal_subsample(whole, 2), 2, "bilinear")
        return video, ctx

    seen: list[int] = []
    hooks = [
        m.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].shape[2] * inp[0].shape[3] * inp[0].shape[4]))
        for m in d.modules()
        if isinstance(m, DiscriminatorTrunk)
    ]
    with torch.no_grad():
        v, ctx = inputs("real")
        d(v, **ctx)
    for h in hooks:
        h.remove()
    pixels = sum(seen)
    opts.prepare(d)

    def step() -> None:
        with spectral_norm_cache() if args.sn_cache else contextlib.nullcontext(), opts.autocast(device):
            vr, cr = inputs("real")
            vf, cf = inputs("fake")
            loss = d_hinge_loss(d(vr, **cr), d(vf, **cf))
        loss.backward()
        d.zero_grad(set_to_none=True)

    return step, pixels


def measure_one(name: str, args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    step, pixels = make_step(name, args)
    wall, cpu = [], []
    with PeakMemory(device) as mem:
        for _ in range(args.warmup):
            step()
        sync(device)
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            sync(device)
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    row = {"name": name, "pixels": pixels, "ms": statistics.median(wall), "peak_mib": mem.mib}
    if device.type == "cpu":
        row["cpu_ms"] = statistics.median(cpu)
    return row


def run_isolated(name: str, argv: list[str]) -> dict:
    """One row in a fresh process, so the CPU peak RSS belongs to that row alone."""
    out = subprocess.run(
        [sys.executable, __file__, *argv, "--one", name], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()
        return {"name": name, "error": tail[-1] if tail else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--b", type=int, default=8, help="batch size")
    ap.add_argument("--t", type=int, default=16, help="frames per video (conditioning included)")
    ap.add_argument("--cond", type=int, default=5, help="conditioning frames among the --t frames")
    ap.add_argument("--hw", type=int, default=64, help="frame size")
    ap.add_argument("--ch", type=int, default=4, help="base width (paper: 48 for TrIVD-GAN-FP, 128 for DVD-GAN)")
    ap.add_argument("--multipliers", type=int, nargs="+", default=list(DVD_GAN_64))
    ap.add_argument("--k", type=int, default=8, help="frames for the per-frame discriminators")
    ap.add_argument("--head", choices=["mixed", "projection"], default="mixed", help="mixed: TrIVD-GAN-FP E.1")
    ap.add_argument("--sn-cache", action=argparse.BooleanOptionalAction, default=True,
                    help="one power iteration per step (spectral_norm_cache)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--only", nargs="+", choices=ROWS, default=ROWS, help="rows to run")
    ap.add_argument("--one", choices=ROWS, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    return ap.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(measure_one(args.one, args)))
        return
    passthrough = [
        *("--b", str(args.b), "--t", str(args.t), "--cond", str(args.cond), "--hw", str(args.hw)),
        *("--ch", str(args.ch), "--k", str(args.k), "--head", args.head, "--device", args.device),
        *("--warmup", str(args.warmup), "--repeats", str(args.repeats), "--threads", str(args.threads)),
        "--sn-cache" if args.sn_cache else "--no-sn-cache",
        "--multipliers",
        *(str(m) for m in args.multipliers),
    ]
    rows = [run_isolated(name, passthrough) for name in args.only]
    ref = next((r for r in rows if r["name"] == "dvd_gan_fp" and "error" not in r), None)
    for r in rows:
        paper = PAPER.get(r["name"])
        if paper:
            r["paper_ms"] = float(paper[0])
            r["paper_x"] = paper[0] / PAPER["dvd_gan_fp"][0]
            r["paper_gb"] = paper[1]
        if ref and "error" not in r:
            key = "cpu_ms" if "cpu_ms" in r else "ms"
            r["x_ms"] = r[key] / ref[key]
            r["x_mem"] = r["peak_mib"] / ref["peak_mib"] if ref["peak_mib"] > 0 else None
            r["x_px"] = r["pixels"] / ref["pixels"]
    print(
        f"D step (real + fake forward, hinge, backward): B={args.b}, T={args.t} ({args.cond} conditioning), "
        f"{args.hw}x{args.hw}, ch={args.ch} x {tuple(args.multipliers)}, k={args.k}, head={args.head}, "
        f"device={args.device}, threads={torch.get_num_threads() if not args.threads else args.threads}"
    )
    print_table(
        rows,
        ["name", "pixels", "ms", "cpu_ms", "peak_mib", "x_px", "x_ms", "x_mem", "paper_ms", "paper_x", "paper_gb", "error"],
    )
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
