"""``vidgan-eval``: compare a set of generated videos with a set of real videos.

Each side is a source of clips. Today a source is a video file or a folder of
video files (decoded with :func:`vidgan_blocks.data.io.read_video`); the fake side
is chosen in a mutually exclusive argument group so that other sources (for
instance a generator checkpoint) can join it as further options.

The command prints a table and, with ``--json``, writes every score with its
protocol, the clip counts, the weight files and their SHA-256. While it runs,
progress bars with a time estimate (sampling, I3D features) go to stderr when it
is a terminal (``--progress`` / ``--no-progress`` to choose). It warns on stderr
when a set has fewer clips than a metric needs (see :func:`sample_size_warnings`).

Example::

    vidgan-eval --real data/kinetics_val --fake samples/ --i3d-weights i3d_pretrained_400.pt \\
        --frames 16 --metrics fvd,is --psd-frames 1,10 --psd-plot psd.png --json scores.json
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import torch

from .names import FRAME_METRICS, INCEPTION_EXTRACTOR
from .frechet import FRECHET_METHOD
from .i3d import I3D_WEIGHTS_ENV, file_sha256, load_i3d
from .preprocess import PRESETS, get_preset
from .psd import power_spectrum, psd_frequencies, psd_summary, plot_power_spectra
from .video import VIDEO_METRICS, Score, evaluate_videos

__all__ = ["main", "build_parser", "ClipSource", "VideoFiles", "VIDEO_SUFFIXES", "sample_size_warnings"]

#: File suffixes a folder source reads.
VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".gif", ".m4v", ".mpg", ".mpeg")

#: Fewest clips per Inception-Score split below which :func:`sample_size_warnings` warns.
IS_CLIPS_PER_SPLIT = 10

_WEIGHTS_HINT = (
    "the file is not shipped with the package; it is the PyTorch InceptionI3d port of DeepMind's Kinetics-400 "
    "I3D checkpoint (usually distributed as i3d_pretrained_400.pt; see docs/metrics.md, 'Weights'). "
    "To check the pipeline without it, pass --random-i3d (a smoke test: its scores are not comparable)."
)


def sample_size_warnings(
    metrics: Sequence[str],
    real_clips: int | None,
    fake_clips: int | None,
    *,
    fvd_dim: int,
    fid_dim: int,
    is_splits: int,
    kid_subset_size: int,
) -> list[str]:
    """Warnings for clip sets too small for the metrics asked for.

    Thresholds:

    - ``fvd`` / ``fid``: at least ``dim + 1`` clips per set, ``dim`` being the
      feature dimension (I3D logits for FVD, pooled I3D features for FID). With
      ``N <= dim`` the sample covariance has rank at most ``N - 1 < dim``: it is
      singular and the distance mostly measures the sample size.
    - ``is``: at least :data:`IS_CLIPS_PER_SPLIT` fake clips per split
      (``is_splits`` splits); fewer makes each split's marginal class
      distribution little more than the clips' own posteriors.
    - ``kid``: at least ``kid_subset_size`` clips per set; fewer and the subsets
      shrink to the clip count (recorded in the protocol) and the estimate
      becomes noisier than the requested protocol.

    A count of ``None`` (set not read) is not checked.
    """
    out: list[str] = []
    sets = [("real", real_clips), ("fake", fake_clips)]
    for metric, dim, why in (("fvd", fvd_dim, "I3D logits"), ("fid", fid_dim, "pooled I3D features")):
        if metric not in metrics:
            continue
        for side, n in sets:
            if n is not None and n <= dim:
                out.append(f"{metric}: {n} {side} clips for {dim}-dimensional {why}; the covariance is singular "
                           f"below {dim + 1} clips, so the score is not comparable (use thousands of clips)")
    if "is" in metrics and fake_clips is not None and fake_clips < IS_CLIPS_PER_SPLIT * is_splits:
        out.append(f"is: {fake_clips} fake clips for {is_splits} splits; at least {IS_CLIPS_PER_SPLIT * is_splits} "
                   f"({IS_CLIPS_PER_SPLIT} per split) are needed for a meaningful score")
    if "kid" in metrics:
        for side, n in sets:
            if n is not None and n < kid_subset_size:
                out.append(f"kid: {n} {side} clips, fewer than --kid-subset-size {kid_subset_size}; "
                           "the subsets shrink to the smaller set's clip count")
    return out


def _progress(items: Iterator[torch.Tensor], enabled: bool, desc: str, total: int | None,
              unit: str = "clip") -> Iterator[torch.Tensor]:
    """``items`` behind a tqdm bar on stderr (with a time estimate when ``total`` is known)."""
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return iter(tqdm(items, desc=desc, total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True))


class ClipSource(Protocol):
    """Something that yields clips ``(3, T, H, W)`` in [-1, 1] and describes itself for the JSON."""

    def clips(self) -> Iterator[torch.Tensor]: ...

    def describe(self) -> dict[str, object]: ...


@dataclass
class VideoFiles:
    """Clips cut from a video file or from every video file of a folder (sorted, recursive).

    Each file gives up to ``clips_per_video`` consecutive, non-overlapping clips of
    ``frames`` frames from its start (``None``: as many as fit). Files shorter than
    one clip are skipped and counted.
    """

    path: Path
    frames: int
    clips_per_video: int | None
    max_clips: int | None = None
    skipped: list[str] = field(default_factory=list)
    files: int = 0

    def _paths(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        raise FileNotFoundError(f"{str(self.path)!r}: expected a video file or a folder of videos")

    def clips(self) -> Iterator[torch.Tensor]:
        from ..data.io import read_video

        paths = self._paths()
        if not paths:
            raise FileNotFoundError(f"{str(self.path)!r}: no video file ({', '.join(VIDEO_SUFFIXES)}) found")
        self.files, count = len(paths), 0
        self.skipped = []
        for p in paths:
            limit = None if self.clips_per_video is None else self.frames * self.clips_per_video
            video = read_video(p, max_frames=limit)  # [3, T, H, W]
            n = video.shape[1] // self.frames
            if n == 0:
                self.skipped.append(str(p))
                continue
            for k in range(n):
                yield video[:, k * self.frames : (k + 1) * self.frames]
                count += 1
                if self.max_clips is not None and count >= self.max_clips:
                    return

    def expected_clips(self) -> int | None:
        """Clips :meth:`clips` will give at most, when known without decoding (for progress bars)."""
        if self.clips_per_video is None:
            return self.max_clips
        try:
            n = len(self._paths()) * self.clips_per_video
        except FileNotFoundError:
            return None
        return n if self.max_clips is None else min(n, self.max_clips)

    def describe(self) -> dict[str, object]:
        return {
            "kind": "file" if self.path.is_file() else "folder",
            "path": str(self.path),
            "files": self.files,
            "clips_per_video": self.clips_per_video if self.clips_per_video is not None else "all",
            "skipped_short_files": self.skipped,
        }


@dataclass
class CascadeSamples:
    """Clips sampled from a saved cascade directory (``Cascade.save`` / recipe ``--out``).

    The cascade is rebuilt with :meth:`~vidgan_blocks.cascade.Cascade.load` (no
    training code, no pickles), its per-step statistics are re-estimated at the
    sampling length (standing statistics, ``passes`` forward passes), and ``num``
    videos are drawn in batches with a fixed ``seed``; each video gives its first
    ``frames`` frames as one clip. Random classes for a class-conditional cascade.
    """

    path: Path
    frames: int
    num: int
    batch_size: int
    seed: int = 0
    passes: int = 200
    length: int | None = None
    device: str = "cpu"
    progress: bool = False

    def clips(self) -> Iterator[torch.Tensor]:
        from ..cascade import Cascade

        if not (self.path / "cascade.json").is_file():
            raise FileNotFoundError(f"{str(self.path)!r}: expected a cascade directory with cascade.json (Cascade.save)")
        cascade = Cascade.load(self.path, device=self.device)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.num, desc="fake: sampling", unit="video", file=sys.stderr, dynamic_ncols=True)
        done = 0
        while done < self.num:
            n = min(self.batch_size, self.num - done)
            videos = cascade.generate(n, frames=self.length, seed=self.seed + done, passes=self.passes,
                                      stats_batch=max(2, n))  # fmt: skip
            if videos.shape[2] < self.frames:
                raise ValueError(
                    f"--generator: the cascade samples {videos.shape[2]} frames, fewer than --frames {self.frames}; "
                    "pass --generator-frames"
                )
            for v in videos.cpu():
                yield v[:, : self.frames]
            done += n
            if bar is not None:
                bar.update(n)
        if bar is not None:
            bar.close()

    def expected_clips(self) -> int:
        return self.num

    def describe(self) -> dict[str, object]:
        weights = sorted(self.path.glob("*/sampler.safetensors"))
        return {
            "kind": "cascade",
            "path": str(self.path),
            "samples": self.num,
            "seed": self.seed,
            "standing_statistics_passes": self.passes,
            "sampled_frames": self.length if self.length is not None else "training length",
            "weights_sha256": {str(p.relative_to(self.path)): file_sha256(p) for p in weights},
        }


def _batched(clips: Iterator[torch.Tensor], batch_size: int, keep: list[torch.Tensor] | None) -> Iterator[torch.Tensor]:
    """Stack consecutive clips of equal shape into batches; optionally keep uint8 copies."""
    pending: list[torch.Tensor] = []
    for clip in clips:
        if keep is not None:
            keep.append(((clip + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8))
        if pending and (len(pending) == batch_size or pending[0].shape != clip.shape):
            yield torch.stack(pending)
            pending = []
        pending.append(clip)
    if pending:
        yield torch.stack(pending)


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from err


def _name_list(allowed: Sequence[str]):
    def parse(text: str) -> list[str]:
        names = [v.strip() for v in text.split(",") if v.strip()]
        bad = [n for n in names if n not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown metric(s) {bad}; expected names from {list(allowed)}")
        return names

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``vidgan-eval`` argument parser."""
    ap = argparse.ArgumentParser(
        prog="vidgan-eval",
        description="Score generated videos against real videos: FVD, I3D FID/IS/KID, frame FID/IS/KID, PSD.",
    )
    ap.add_argument("--real", type=Path, required=True, help="video file or folder of real videos")
    fake = ap.add_mutually_exclusive_group(required=True)
    fake.add_argument("--fake", type=Path, help="video file or folder of generated videos")
    fake.add_argument("--generator", type=Path,
                      help="saved cascade directory (a recipe's --out) to sample the fake clips from")
    ap.add_argument("--num-samples", type=int, default=256, help="videos sampled with --generator (default 256)")
    ap.add_argument("--generator-frames", type=int, default=None,
                    help="length sampled with --generator (default: the cascade's training length)")
    ap.add_argument("--standing-passes", type=int, default=200,
                    help="standing-statistics passes before sampling with --generator (SSW-GAN uses 200)")
    ap.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    ap.add_argument("--clips-per-video", type=int, default=None,
                    help="clips cut from each video (default: 1 per file of a folder, all of a single file)")
    ap.add_argument("--max-clips", type=int, default=None, help="stop after this many clips per side")
    ap.add_argument("--metrics", type=_name_list(VIDEO_METRICS), default=list(VIDEO_METRICS),
                    help=f"I3D metrics, comma-separated from {','.join(VIDEO_METRICS)} (default all)")
    ap.add_argument("--network", choices=("i3d", "shapes"), default="i3d",
                    help="feature network: 'i3d' (the papers' FVD / I3D FID / IS / KID) or 'shapes', the shipped "
                         "MovingShapes classifier (FVD-MS and KID-MS on the built-in data; no weight file needed)")
    ap.add_argument("--shapes-weights", default=None,
                    help="ShapesNet weight file for --network shapes (default: the one shipped with the package)")
    ap.add_argument("--i3d-weights", default=None,
                    help=f"InceptionI3d weight file (default: ${I3D_WEIGHTS_ENV})")
    ap.add_argument("--fid-i3d-weights", default=None,
                    help="separate I3D for 'fid' (the papers use a Kinetics-600 network); default: --i3d-weights")
    ap.add_argument("--random-i3d", action="store_true",
                    help="use a randomly initialised I3D (smoke tests only; scores are not comparable)")
    ap.add_argument("--i3d-width", type=float, default=1.0, help="I3D channel multiplier (random I3D only)")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="reference", help="preprocessing preset")
    ap.add_argument("--size", type=int, default=None, help="override the preset's input size (non-standard)")
    ap.add_argument("--covariance", choices=("unbiased", "biased"), default="unbiased",
                    help="covariance estimator of FVD / FID: unbiased divides by N-1 (the papers' code), "
                         "biased by N (default unbiased)")
    ap.add_argument("--is-splits", type=int, default=10,
                    help="splits the fake clips are cut into for the Inception Score mean and std (default 10)")
    ap.add_argument("--kid-subsets", type=int, default=100,
                    help="random subsets averaged for KID (default 100)")
    ap.add_argument("--kid-subset-size", type=int, default=1000,
                    help="clips per KID subset, lowered to the clip count when a set is smaller (default 1000)")
    ap.add_argument("--frame-metrics", type=_name_list(FRAME_METRICS), default=[],
                    help="frame-level metrics through torch-fidelity, from fid,is,kid (default none)")
    ap.add_argument("--inception-weights", default=None,
                    help="InceptionV3 weights for the frame metrics (torch-fidelity's file)")
    ap.add_argument("--frame-extractor", default=INCEPTION_EXTRACTOR, help=argparse.SUPPRESS)
    ap.add_argument("--psd-frames", type=_int_list, default=None,
                    help="1-based frames for power spectra, e.g. 1,10,25,50")
    ap.add_argument("--psd-groups", type=int, default=3, help="sets for the PSD mean/std (default 3)")
    ap.add_argument("--psd-plot", type=Path, default=None, help="write the PSD comparison PNG here")
    ap.add_argument("--batch-size", type=int, default=8,
                    help="clips per I3D forward, and videos per sampling batch with --generator (default 8)")
    ap.add_argument("--device", default=None,
                    help="device for the I3D and the generator, e.g. cpu, cuda, cuda:1 (default: cuda when available, "
                         "else cpu)")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bars with time estimates on stderr (default: on when stderr is a terminal)")
    ap.add_argument("--seed", type=int, default=0, help="seed for KID/IS subsets and random weights")
    ap.add_argument("--json", type=Path, default=None, help="write the scores and protocols here")
    return ap


def _table(scores: dict[str, Score]) -> str:
    rows = [("metric", "value", "std", "clips real/fake", "frames", "preset", "weights")]
    for name, s in scores.items():
        p = s.protocol
        net = p.get("network", {})
        sha = str(net.get("weights_sha256", "")) if isinstance(net, dict) else ""
        clips = f"{p.get('clips_real', '-')}/{p.get('clips_fake', p.get('clips', '-'))}"
        pre = p.get("preprocess")
        preset = pre.get("name", "") if isinstance(pre, dict) else "extractor"
        frames = p.get("frames_per_clip", p.get("frames", ""))
        std = "-" if s.std is None else f"{s.std:.6g}"
        rows.append((name, f"{s.value:.6g}", std, clips, str(frames), str(preset), sha[:12]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _run(args: argparse.Namespace) -> int:
    for name in ("frames", "batch_size", "is_splits", "kid_subsets", "kid_subset_size", "psd_groups"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')}: expected a positive integer, got {getattr(args, name)}")
    if args.random_i3d and (args.i3d_weights or args.fid_i3d_weights):
        raise ValueError("--random-i3d excludes --i3d-weights and --fid-i3d-weights")
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    progress = sys.stderr.isatty() if args.progress is None else bool(args.progress)
    torch.manual_seed(args.seed)
    if args.network == "shapes":
        return _run_shapes(args, progress)
    preset = get_preset(args.preset)
    if args.size is not None:
        preset = replace(preset, name=f"{preset.name}@{args.size}", size=args.size)
    if args.random_i3d:
        i3d = load_i3d(random_weights=True, width=args.i3d_width, device=args.device)
    else:
        try:
            i3d = load_i3d(args.i3d_weights, device=args.device)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{err} Where it comes from: {_WEIGHTS_HINT}") from err
    sources: dict[str, VideoFiles | CascadeSamples] = {}
    for side, path in (("real", args.real), ("fake", args.fake)):
        if path is None:
            continue
        per_video = args.clips_per_video if args.clips_per_video is not None else (None if path.is_file() else 1)
        sources[side] = VideoFiles(path, args.frames, per_video, args.max_clips)
    if args.generator is not None:
        for name in ("num_samples", "standing_passes"):
            if getattr(args, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')}: expected a positive integer, got {getattr(args, name)}")
        sources["fake"] = CascadeSamples(args.generator, args.frames, args.num_samples, args.batch_size, args.seed,
                                         args.standing_passes, args.generator_frames, args.device,
                                         progress)  # fmt: skip
    need_pixels = bool(args.frame_metrics) or args.psd_frames is not None
    kept: dict[str, list[torch.Tensor] | None] = {s: ([] if need_pixels else None) for s in sources}

    def clips(side: str) -> Iterator[torch.Tensor]:
        what = "I3D features" if args.metrics else "reading"
        return _progress(sources[side].clips(), progress, f"{side}: {what}", sources[side].expected_clips())

    real_batches = _batched(clips("real"), args.batch_size, kept["real"])
    fake_batches = _batched(clips("fake"), args.batch_size, kept["fake"])
    scores: dict[str, Score] = {}
    separate_fid = args.fid_i3d_weights is not None and "fid" in args.metrics
    first_pass = [m for m in args.metrics if not (separate_fid and m == "fid")]
    common = dict(preprocess=preset, frames=args.frames, estimator=args.covariance, is_splits=args.is_splits,
                  kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size, seed=args.seed)  # fmt: skip
    if first_pass:
        scores.update(evaluate_videos(real_batches, fake_batches, i3d=i3d, metrics=first_pass, **common))
    else:  # only frame metrics / PSD: read the clips without running the I3D
        for batches in (real_batches, fake_batches):
            collections.deque(batches, maxlen=0)

    if separate_fid:  # second pass over the files with the FID network (e.g. Kinetics-600)
        fid_i3d = load_i3d(args.fid_i3d_weights, device=args.device)
        scores.update(evaluate_videos(
            _batched(sources["real"].clips(), args.batch_size, None),
            _batched(sources["fake"].clips(), args.batch_size, None),
            i3d=fid_i3d, metrics=["fid"], **common,
        ))  # fmt: skip
    pixels: dict[str, torch.Tensor] = {}
    if need_pixels:
        for side, clips in kept.items():
            shapes = {tuple(c.shape) for c in clips or []}
            if len(shapes) != 1:
                raise ValueError(f"{side}: frame metrics and PSD need clips of one size, got shapes {sorted(shapes)}")
            pixels[side] = torch.stack(clips)  # type: ignore[arg-type]
    if args.frame_metrics:
        from .fidelity import frame_metrics

        scores.update(frame_metrics(
            pixels["real"], pixels["fake"], metrics=args.frame_metrics, feature_extractor=args.frame_extractor,
            feature_extractor_weights_path=args.inception_weights, batch_size=max(args.batch_size, 32),
            device=args.device, is_splits=args.is_splits, kid_subsets=args.kid_subsets,
            kid_subset_size=args.kid_subset_size, seed=args.seed,
        ))  # fmt: skip

    report: dict[str, object] = {
        "sources": {side: src.describe() for side, src in sources.items()},
        "samples": {
            "real_clips": next(iter(scores.values())).protocol.get("clips_real") if scores else None,
            "fake_clips": next(iter(scores.values())).protocol.get("clips_fake") if scores else None,
            "frames_per_clip": args.frames,
        },
        "weights": {
            "i3d": {"path": i3d.weights_path, "sha256": i3d.weights_sha256 or "random"},
            **({"fid_i3d": {"path": fid_i3d.weights_path, "sha256": fid_i3d.weights_sha256}} if separate_fid else {}),
        },
        "protocol": {
            "preprocess": preset.to_dict(),
            "frames": args.frames,
            "covariance": args.covariance,
            "sqrtm": FRECHET_METHOD,
            "i3d": {"num_classes": i3d.num_classes, "width": i3d.width, "bn_eps": i3d.bn_eps},
            "device": str(args.device),
            "seed": args.seed,
        },
        "scores": {name: s.to_dict() for name, s in scores.items()},
    }
    for name in ("frame_fid", "frame_is", "frame_kid"):
        if name in scores:
            net = scores[name].protocol["network"]
            report["weights"]["inception"] = {"path": net["weights_path"], "sha256": net["weights_sha256"]}  # type: ignore[index]
            break
    if need_pixels and report["samples"]["real_clips"] is None:  # type: ignore[index]
        report["samples"].update(real_clips=len(pixels["real"]), fake_clips=len(pixels["fake"]))  # type: ignore[union-attr]

    if args.psd_frames is not None:
        idx = [f - 1 for f in args.psd_frames]
        spectra = {side: power_spectrum(pixels[side].float().div_(127.5).sub_(1.0), idx) for side in ("real", "fake")}
        psd_json: dict[str, object] = {
            "frames_1based": args.psd_frames,
            "groups": args.psd_groups,
            "frequencies": psd_frequencies(*pixels["real"].shape[-2:]).tolist(),
        }
        for side, spec in spectra.items():
            mean, std = psd_summary(spec, min(args.psd_groups, spec.shape[0]))
            psd_json[side] = {"mean": mean.tolist(), "std": std.tolist()}
        report["psd"] = psd_json
        if args.psd_plot is not None:
            plot_power_spectra(spectra["real"], spectra["fake"], args.psd_plot, frames=idx, groups=args.psd_groups)

    counts = report["samples"]  # type: ignore[assignment]
    fid_net = fid_i3d if separate_fid else i3d
    for line in sample_size_warnings(
        args.metrics, counts.get("real_clips"), counts.get("fake_clips"),  # type: ignore[union-attr]
        fvd_dim=i3d.num_classes, fid_dim=fid_net.feature_dim, is_splits=args.is_splits,
        kid_subset_size=args.kid_subset_size,
    ):  # fmt: skip
        print(f"warning: {line}", file=sys.stderr)
    print(_table(scores) if scores else "no scores requested")
    if args.random_i3d:
        print("note: random I3D weights; these numbers only compare runs with the same --seed and width")
    for side, src in sources.items():
        if getattr(src, "skipped", None):
            print(f"warning: {len(src.skipped)} {side} file(s) shorter than {args.frames} frames were skipped",
                  file=sys.stderr)  # fmt: skip
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _run_shapes(args: argparse.Namespace, progress: bool) -> int:
    """``--network shapes``: FVD-MS and KID-MS on the ShapesNet features of both sides."""
    from .shapes_net import fvd_ms, kid_ms, load_shapes_net, shapes_features

    if args.random_i3d or args.i3d_weights or args.fid_i3d_weights or args.frame_metrics or args.psd_frames:
        raise ValueError("--network shapes scores FVD-MS and KID-MS only: drop the I3D, frame-metric and PSD options")
    net = load_shapes_net(args.shapes_weights, device=args.device)
    sources: dict[str, VideoFiles | CascadeSamples] = {}
    for side, path in (("real", args.real), ("fake", args.fake)):
        if path is not None:
            per_video = args.clips_per_video if args.clips_per_video is not None else (None if path.is_file() else 1)
            sources[side] = VideoFiles(path, args.frames, per_video, args.max_clips)
    if args.generator is not None:
        sources["fake"] = CascadeSamples(args.generator, args.frames, args.num_samples, args.batch_size, args.seed,
                                         args.standing_passes, args.generator_frames, args.device, progress)
    feats = {}
    for side, src in sources.items():
        clips = _progress(src.clips(), progress, f"{side}: ShapesNet features", src.expected_clips())
        feats[side] = shapes_features(_batched(clips, args.batch_size, None), net)
    n_real, n_fake = feats["real"].features.shape[0], feats["fake"].features.shape[0]
    proto = {
        "network": {"name": "shapes_net", "weights_path": net.weights_path, "weights_sha256": net.weights_sha256,
                    "feature_dim": net.feature_dim},
        "clips_real": n_real, "clips_fake": n_fake, "frames_per_clip": args.frames, "covariance": args.covariance,
        "sqrtm": FRECHET_METHOD,
    }
    scores = {"fvd_ms": Score("fvd_ms", fvd_ms(feats["real"], feats["fake"], estimator=args.covariance), None,
                              {**proto, "metric": "fvd_ms", "feature": "pool"})}
    kid, kid_std = kid_ms(feats["real"], feats["fake"], subsets=args.kid_subsets, subset_size=args.kid_subset_size,
                          seed=args.seed)
    scores["kid_ms"] = Score("kid_ms", kid, kid_std, {**proto, "metric": "kid_ms", "subsets": args.kid_subsets,
                                                      "subset_size": min(args.kid_subset_size, n_real, n_fake)})
    if min(n_real, n_fake) < net.feature_dim:
        print(f"warning: fvd_ms: {min(n_real, n_fake)} clips per set is fewer than the {net.feature_dim} feature "
              "dimensions; the covariances are singular and the value is biased upwards (compare equal counts only)",
              file=sys.stderr)
    print(_table(scores))
    if args.json is not None:
        report = {"sources": {side: src.describe() for side, src in sources.items()},
                  "samples": {"real_clips": n_real, "fake_clips": n_fake, "frames_per_clip": args.frames},
                  "weights": {"shapes_net": {"path": net.weights_path, "sha256": net.weights_sha256}},
                  "scores": {name: sc.to_dict() for name, sc in scores.items()}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vidgan-eval``; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"vidgan-eval: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
