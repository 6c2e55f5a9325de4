"""Clip datasets over videos on disk: ``VideoFolder`` (files, PyAV) and ``FrameFolder`` (image dirs).

Both return ``(clip, label)`` with ``clip`` a float ``(3, T, H, W)`` tensor in [-1, 1],
prepared the way DVD-GAN's appendix A.1 describes: frames taken with a fixed stride
(2 for Kinetics), the shorter side resized to the target resolution with bilinear
filtering (aspect ratio kept), then a crop along the longer side, random for
training and centred for evaluation, and a random run of consecutive frames.

Layouts:

* class folders (UCF-101 ``root/ApplyEyeMakeup/v_..._g08_c01.avi``, Kinetics
  ``root/abseiling/<id>_<start>_<end>.mp4``): the label is the first path component;
* a split list (UCF-101 ``trainlist01.txt``: ``ApplyEyeMakeup/v_....avi 1``) or a CSV
  (a ``path`` column, or Kinetics' ``label,youtube_id,time_start,time_end,...``);
* unlabelled (BDD100K): ``labeled=False``, every file anywhere under the root, label -1.

Class indices follow ``classes`` when given, otherwise the class names sorted
case-insensitively (the order of UCF-101's ``classInd.txt``).
"""

from __future__ import annotations

import csv
import os
import re
import sys
import warnings
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from torch.utils.data import Dataset

from .._checks import check_int, check_pair, check_positive_int
from .io import frames_to_tensor
from .video_index import IndexCache, VideoInfo

__all__ = [
    "VIDEO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "DataWarning",
    "EmptyDatasetError",
    "SkippedFile",
    "VideoFolder",
    "FrameFolder",
    "read_class_index",
    "clip_frame_indices",
]

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".mov")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class DataWarning(UserWarning):
    """A file was skipped or a sample was replaced; the message names the file and the reason."""


class EmptyDatasetError(RuntimeError):
    """No usable video was found under a root; the message lists the reasons."""


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of a dataset, and why."""

    path: str
    reason: str


def read_class_index(path: str | os.PathLike[str]) -> list[str]:
    """Read a class list: UCF-101 ``classInd.txt`` lines ``"1 ApplyEyeMakeup"`` or one name per line.

    Returns the names ordered by their number (or by line when there is none), ready
    to be passed as ``classes=``.
    """
    numbered: list[tuple[int, str]] = []
    plain: list[str] = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) >= 2 and parts[0].isdigit():
            numbered.append((int(parts[0]), " ".join(parts[1:])))
        else:
            plain.append(line.strip())
    if numbered and plain:
        raise ValueError(f"read_class_index: {str(path)!r} mixes numbered and plain lines")
    return [name for _, name in sorted(numbered)] if numbered else plain


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def clip_frame_indices(
    seconds: np.ndarray,
    frames: int,
    stride: int,
    fps: float | None,
    position: float | None,
) -> np.ndarray | None:
    """Choose the frames of one clip by presentation time.

    The clip samples the time grid ``t0 + k * stride / fps`` (``k < frames``) and
    takes, for each grid time, the frame whose timestamp is nearest. ``fps`` is the
    rate the stride refers to; ``None`` uses the file's average rate, so a constant-
    rate file gives exactly the frames ``i0 + k * stride``, and a variable-rate file
    gives frames evenly spaced in time rather than in frame count.

    Args:
        seconds: sorted timestamps of all frames, starting at 0.
        frames: clip length T.
        stride: frame stride (DVD-GAN uses 2).
        fps: reference frame rate of the stride, or ``None`` for the file's own.
        position: where the clip starts among the valid starts, in [0, 1)
            (``None``: the centre one).

    Returns:
        ``(frames,)`` int64 frame indices, non-decreasing, or ``None`` if the file is
        too short for one clip.
    """
    n = seconds.shape[0]
    span = float(seconds[-1]) if n > 1 else 0.0
    native = (n - 1) / span if span > 0 else None
    rate = fps if fps is not None else native
    if frames == 1:
        step = 0.0
    elif rate is None:
        return None
    else:
        step = stride / rate
    tol = 0.5 / native if native is not None else 0.0
    # Valid starts are a prefix of the frames: the last grid time must not pass the end.
    n_valid = int(np.searchsorted(seconds, span + tol - (frames - 1) * step, side="right"))
    if n_valid <= 0:
        return None
    i0 = n_valid // 2 if position is None else min(int(position * n_valid), n_valid - 1)
    targets = seconds[i0] + step * np.arange(frames)
    right = np.clip(np.searchsorted(seconds, targets), 1, max(n - 1, 1))
    left = right - 1
    if n == 1:
        return np.zeros(frames, dtype=np.int64)
    take_left = np.abs(targets - seconds[left]) <= np.abs(seconds[right] - targets)
    return np.where(take_left, left, right).astype(np.int64)


def _resize_geometry(
    height: int, width: int, size: tuple[int, int] | None, train: bool, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """Resized frame size and crop corner: ``(rh, rw, top, left)``.

    The frame is scaled (aspect kept) so that it covers ``size``, which for a square
    target means its shorter side becomes the resolution; then a ``size`` crop is
    taken, random in training and centred otherwise.
    """
    if size is None:
        return height, width, 0, 0
    oh, ow = size
    scale = max(oh / height, ow / width)
    rh, rw = max(oh, round(height * scale)), max(ow, round(width * scale))
    if train:
        top = int(rng.integers(0, rh - oh + 1))
        left = int(rng.integers(0, rw - ow + 1))
    else:
        top, left = (rh - oh) // 2, (rw - ow) // 2
    return rh, rw, top, left


_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep  # .../vidgan_blocks/


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller of this function point at
    the first frame outside ``vidgan_blocks`` (the user's line that built or read the dataset),
    not at the library line that noticed the problem."""
    frame = sys._getframe(1)  # the function about to call warnings.warn: stacklevel 1
    level = 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


class _ClipFolder(Dataset, ABC):
    """Shared listing, labelling, sampling and failure handling of the folder datasets."""

    kind = "folder"

    def __init__(
        self,
        root: str | os.PathLike[str],
        frames: int,
        stride: int = 1,
        resolution: int | tuple[int, int] | None = 64,
        *,
        train: bool = True,
        labeled: bool = True,
        split_file: str | os.PathLike[str] | None = None,
        classes: Sequence[str] | None = None,
        seed: int | None = None,
        max_retries: int = 10,
    ) -> None:
        self.root = Path(root)
        self.frames = check_positive_int(frames, "frames")
        self.stride = check_positive_int(stride, "stride")
        self.size = None if resolution is None else check_pair(resolution, "resolution")
        self.train = bool(train)
        self.labeled = bool(labeled)
        self.seed = None if seed is None else check_int(seed, "seed", minimum=0)
        self.max_retries = check_int(max_retries, "max_retries", minimum=0)
        self.epoch = 0
        self.skipped_files: list[SkippedFile] = []
        self.decode_failures: list[SkippedFile] = []
        self._failed: set[int] = set()
        self._calls = 0
        if not self.root.is_dir():
            raise FileNotFoundError(f"{type(self).__name__}: root {str(self.root)!r} is not a directory")

        self._listed_classes: set[str] = set()
        candidates = self._list_candidates(split_file)  # [(rel, class name or None)]
        if not candidates and not self.skipped_files:
            raise EmptyDatasetError(
                f"{type(self).__name__}: no {self.kind} found under {str(self.root)!r} "
                f"(looked for {self._what_is_listed()})"
            )
        # Classes of a split file include rows whose files are missing, so train and
        # test splits of a partly downloaded dataset still agree on the indices.
        listed = {c for _, c in candidates if c is not None} | self._listed_classes
        names = sorted(listed, key=lambda s: (s.lower(), s))
        self.classes: list[str] = list(classes) if classes is not None else names
        class_to_idx = {c: i for i, c in enumerate(self.classes)}

        self.paths: list[str] = []
        self.labels: list[int] = []
        self._entries: list = []
        kept = []
        for rel, cname in candidates:
            if cname is not None and cname not in class_to_idx:
                self._skip(rel, f"class {cname!r} is not in classes")
            else:
                kept.append((rel, cname))
        probed = self._probe_all([rel for rel, _ in kept])
        for (rel, cname), entry in zip(kept, probed):
            if isinstance(entry, str):
                self._skip(rel, entry)
                continue
            if clip_frame_indices(self._seconds(entry), self.frames, self.stride, self._fps(), 0.0) is None:
                self._skip(rel, f"too short for {self.frames} frames at stride {self.stride} "
                                f"({self._length_text(entry)})")
                continue
            self.paths.append(rel)
            self.labels.append(class_to_idx[cname] if cname is not None else -1)
            self._entries.append(entry)
        self._finish_scan()
        del self._walked, self._listed_classes
        if not self.paths:
            reasons = Counter(_reason_kind(s.reason) for s in self.skipped_files)
            detail = "; ".join(f"{n} x {r}" for r, n in reasons.most_common())
            examples = "; ".join(f"{s.path}: {s.reason}" for s in self.skipped_files[:3])
            raise EmptyDatasetError(
                f"{type(self).__name__}: none of the {len(self.skipped_files)} {self.kind}s under "
                f"{str(self.root)!r} is usable ({detail}). Examples: {examples}"
            )

    # ----------------------------------------------------------------- listing

    @abstractmethod
    def _what_is_listed(self) -> str:
        """Words for the error message when nothing was found."""

    @abstractmethod
    def _walk(self) -> list[str]:
        """Relative paths (posix) of every item under the root, sorted."""

    def _list_candidates(self, split_file: str | os.PathLike[str] | None) -> list[tuple[str, str | None]]:
        self._walked = self._walk()
        if split_file is None:
            out = []
            for rel in self._walked:
                parts = rel.split("/")
                if self.labeled and len(parts) < 2:
                    self._skip(rel, "not inside a class folder (pass labeled=False for unlabelled data)")
                    continue
                out.append((rel, parts[0] if self.labeled else None))
            return out
        split = Path(split_file)
        if not split.is_file():
            raise FileNotFoundError(f"{type(self).__name__}: split file {str(split)!r} does not exist")
        rows = self._read_split(split)
        by_rel = {self._key(rel): rel for rel in self._walked}
        by_stem: dict[str, str] = {}
        for rel in by_rel.values():
            stem = _stem(rel)
            by_stem.setdefault(stem, rel)
            # Kinetics downloads are named <youtube_id>_<start:06d>_<end:06d>; index the bare id too.
            by_stem.setdefault(_KINETICS_SUFFIX.sub("", stem), rel)
        self._listed_classes = {c for _, c, _ in rows if c is not None}
        out = []
        for listed, cname, stems in rows:
            rel = by_rel.get(self._key(listed)) if listed is not None else None
            if rel is None and stems:
                rel = next((by_stem[s] for s in stems if s in by_stem), None)
            if rel is None:
                self._skip(listed or stems[-1], "listed in the split file but not found under the root")
                continue
            out.append((rel, cname if self.labeled else None))
        return out

    def _read_split(self, split: Path) -> list[tuple[str | None, str | None, list[str]]]:
        """Rows ``(relative path or None, class name or None, candidate file stems)``."""
        rows: list[tuple[str | None, str | None, list[str]]] = []
        if split.suffix.lower() == ".csv":
            with split.open(newline="") as f:
                reader = csv.DictReader(f)
                fields = set(reader.fieldnames or ())
                if "path" not in fields and "youtube_id" not in fields:
                    raise ValueError(
                        f"split file {str(split)!r}: expected a 'path' or a 'youtube_id' column, got {sorted(fields)}"
                    )
                for row in reader:
                    cname = row.get("label") or None
                    if "path" in fields:
                        rel = row["path"].strip().replace("\\", "/")
                        rows.append((rel, cname or _first_part(rel), []))
                    else:
                        yid = row["youtube_id"].strip()
                        stems = [yid]
                        if row.get("time_start") and row.get("time_end"):
                            stems.insert(0, f"{yid}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}")
                        rows.append((None, cname, stems))
            if self.labeled and any(c is None for _, c, _ in rows):
                raise ValueError(f"split file {str(split)!r}: some rows have no label; pass labeled=False")
            return rows
        for line in split.read_text().splitlines():
            parts = line.split()
            if not parts:
                continue
            rel = parts[0].replace("\\", "/")
            cname = _first_part(rel)
            if self.labeled and cname is None:
                raise ValueError(f"split file {str(split)!r}: {rel!r} has no class folder; pass labeled=False")
            rows.append((rel, cname, []))
        return rows

    def _key(self, rel: str) -> str:
        return rel

    # ----------------------------------------------------------------- per-kind hooks

    @abstractmethod
    def _probe(self, rel: str) -> object:
        """What sampling needs about one item, or the reason it is unusable (a str)."""

    def _probe_all(self, rels: list[str]) -> list[object]:
        return [self._probe(rel) for rel in rels]

    @abstractmethod
    def _seconds(self, entry: object) -> np.ndarray:
        """Timestamps of the item's frames, from 0."""

    def _fps(self) -> float | None:
        return None

    @abstractmethod
    def _length_text(self, entry: object) -> str:
        """The item's length, for the too-short message."""

    def _finish_scan(self) -> None:
        return None

    @abstractmethod
    def _load(self, i: int, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """Decode frames ``idx`` of item ``i`` into a ``(3, T, H, W)`` clip."""

    # ----------------------------------------------------------------- bookkeeping

    @property
    def skipped(self) -> int:
        """How many files were left out when the dataset was built (see ``skipped_files``)."""
        return len(self.skipped_files)

    def _skip(self, rel: str, reason: str) -> None:
        self.skipped_files.append(SkippedFile(rel, reason))
        warnings.warn(f"{type(self).__name__}: skipping {str(self.root / rel)!r}: {reason}", DataWarning,
                      stacklevel=_caller_stacklevel())

    def set_epoch(self, epoch: int) -> None:
        """Change the clip draws of a seeded dataset from one epoch to the next."""
        self.epoch = check_int(epoch, "epoch", minimum=0)

    def __len__(self) -> int:
        return len(self.paths)

    def _rng(self, index: int) -> np.random.Generator:
        if self.seed is not None:
            # Depends on (seed, epoch, index) only: the same clip whichever worker loads it.
            return np.random.default_rng([self.seed, self.epoch, index])
        # torch seeds every DataLoader worker with base_seed + worker_id, so this is
        # reproducible under torch.manual_seed and differs between workers and epochs.
        self._calls += 1
        return np.random.default_rng([torch.initial_seed(), self._calls, index])

    def clip_indices(self, i: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Frame indices of the clip that item ``i`` yields (random start in training, centre otherwise)."""
        position = float(rng.random()) if (self.train and rng is not None) else None
        idx = clip_frame_indices(self._seconds(self._entries[i]), self.frames, self.stride, self._fps(), position)
        assert idx is not None  # too-short files were dropped at scan time
        return idx

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Load one clip; a file that fails to decode is replaced by another one.

        Shape:
            - output: ``((3, T, H, W), label)`` with T = ``frames`` and (H, W) = ``resolution``
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        n = len(self.paths)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {type(self).__name__} of length {n}")
        index = int(index) % n
        rng = self._rng(index)
        i = index
        errors: list[str] = []
        for _ in range(self.max_retries + 1):
            if i not in self._failed:
                try:
                    return self._load(i, self.clip_indices(i, rng), rng), self.labels[i]
                except (av.FFmpegError, OSError, ValueError, EOFError) as err:
                    self._report_failure(i, err)
                    errors.append(f"{self.paths[i]}: {err}")
            healthy = [j for j in range(n) if j not in self._failed]
            if not healthy:
                break
            # Replacement: a uniformly random item among those that have not failed here.
            i = healthy[int(rng.integers(0, len(healthy)))]
        raise RuntimeError(
            f"{type(self).__name__}: item {index} and {self.max_retries} replacements failed to load: "
            + "; ".join(errors[-3:])
        )

    def _report_failure(self, i: int, err: BaseException) -> None:
        self._failed.add(i)
        reason = f"{type(err).__name__}: {err}"
        self.decode_failures.append(SkippedFile(self.paths[i], reason))
        warnings.warn(
            f"{type(self).__name__}: {str(self.root / self.paths[i])!r} failed to load ({reason}); "
            "replaced by another sample and left out from now on in this process",
            DataWarning,
            stacklevel=_caller_stacklevel(),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, items={len(self)}, skipped={self.skipped}, "
            f"classes={len(self.classes)}, frames={self.frames}, stride={self.stride}, "
            f"resolution={self.size}, train={self.train})"
        )


_KINETICS_SUFFIX = re.compile(r"_\d{6}_\d{6}$")


def _first_part(rel: str) -> str | None:
    parts = rel.split("/")
    return parts[0] if len(parts) >= 2 else None


def _stem(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _reason_kind(reason: str) -> str:
    """A short category for the error summary (the text before the first colon or bracket)."""
    return re.split(r"[:\[(]", reason, maxsplit=1)[0].strip() or reason


class VideoFolder(_ClipFolder):
    """Clips from the video files under a root, decoded with PyAV (DVD-GAN A.1 preprocessing).

    Files with the extensions in ``extensions`` are found recursively. Every file is
    probed once (all frame timestamps, one decoded frame) and the result cached in a
    JSON index (``root/.vidgan_index.json`` or a file in ``cache_dir``); a file whose
    size or mtime changed is probed again. Unreadable, empty, truncated, non-video
    and too-short files are skipped with one :class:`DataWarning` each and counted in
    ``skipped``; ``verify=True`` decodes every file in full at scan time, which also
    catches damaged data in the middle of a file. A file that still fails while
    loading is replaced by another sample (a :class:`DataWarning` names it and it is
    recorded in ``decode_failures`` of the process that loaded it).

    Clips are chosen by presentation timestamp, so variable-frame-rate files are
    sampled evenly in time (see :func:`clip_frame_indices`). No container stays open
    between items: every worker process opens the files it reads.

    Randomness (clip start, crop) comes from ``seed``: an int makes item ``i`` depend
    only on ``(seed, epoch, i)`` (call ``set_epoch`` each epoch), ``None`` draws from
    the process's torch seed, which DataLoader sets per worker, so runs repeat under
    ``torch.manual_seed``.

    Args:
        root: dataset directory.
        frames: clip length T.
        stride: frame stride (DVD-GAN: 2).
        resolution: output (H, W) or one int for a square; ``None`` keeps the native size.
        train: random start and crop (``True``) or centred ones (``False``).
        labeled: labels from class folders / the split file; ``False`` gives label -1.
        split_file: UCF-101-style list or CSV that selects the files and names their classes.
        classes: class names in label order (e.g. from :func:`read_class_index`).
        fps: frame rate the stride refers to; ``None`` uses each file's own average rate.
        seed: see above.
        cache_dir: where to keep the index (``None``: in the root).
        verify: fully decode every file once when it is first indexed.
        extensions: file suffixes to include.
        max_retries: replacements tried before a load error is raised.
        decode_threads: FFmpeg decoding threads per open file (0: FFmpeg's choice).
        scan_threads: threads probing files that are not in the index yet.
    """

    kind = "video file"

    def __init__(
        self,
        root: str | os.PathLike[str],
        frames: int,
        stride: int = 1,
        resolution: int | tuple[int, int] | None = 64,
        *,
        train: bool = True,
        labeled: bool = True,
        split_file: str | os.PathLike[str] | None = None,
        classes: Sequence[str] | None = None,
        fps: float | None = None,
        seed: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        verify: bool = False,
        extensions: Sequence[str] = VIDEO_EXTENSIONS,
        max_retries: int = 10,
        decode_threads: int = 1,
        scan_threads: int = 8,
    ) -> None:
        if fps is not None and not (isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0):
            raise ValueError(f"fps: expected a positive number or None, got {fps!r}")
        self.fps = None if fps is None else float(fps)
        self.extensions = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        self.verify = bool(verify)
        self.decode_threads = check_int(decode_threads, "decode_threads", minimum=0)
        self.scan_threads = check_positive_int(scan_threads, "scan_threads")
        self._cache = IndexCache(root, cache_dir)
        super().__init__(
            root, frames, stride, resolution, train=train, labeled=labeled, split_file=split_file,
            classes=classes, seed=seed, max_retries=max_retries,
        )
        del self._cache  # the index is only needed while scanning; keep workers light

    @property
    def infos(self) -> list[VideoInfo]:
        """Per-item probe results (timestamps, size), aligned with ``paths``."""
        return list(self._entries)

    def _what_is_listed(self) -> str:
        return "files ending in " + ", ".join(self.extensions)

    def _walk(self) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(dirpath).relative_to(self.root)
            for name in filenames:
                if name.lower().endswith(self.extensions) and not name.startswith("."):
                    out.append((base / name).as_posix())
        return sorted(out, key=_natural_key)

    def _probe(self, rel: str) -> VideoInfo | str:
        return self._cache.lookup(rel, self.root / rel, verify=self.verify)

    def _probe_all(self, rels: list[str]) -> list[object]:
        items = [(rel, self.root / rel) for rel in rels]
        return list(self._cache.lookup_many(items, verify=self.verify, threads=self.scan_threads))

    def _finish_scan(self) -> None:
        self._cache.prune(set(self._walked))  # forget files that are gone, keep other splits' entries
        self.index_hits, self.index_misses = self._cache.hits, self._cache.misses
        if not self._cache.save():
            warnings.warn(
                f"VideoFolder: cannot write the index {str(self._cache.path)!r}; pass cache_dir= to keep it elsewhere",
                DataWarning,
                stacklevel=_caller_stacklevel(),
            )

    def _seconds(self, entry: VideoInfo) -> np.ndarray:  # type: ignore[override]
        return entry.seconds()

    def _fps(self) -> float | None:
        return self.fps

    def _length_text(self, entry: VideoInfo) -> str:  # type: ignore[override]
        return f"{entry.count} frames over {float(entry.seconds()[-1]):.3g} s"

    def _load(self, i: int, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        info: VideoInfo = self._entries[i]
        pts_all = info.timestamps()
        wanted = pts_all[idx]  # [T] timestamps, non-decreasing, maybe repeated
        rh, rw, top, left = _resize_geometry(info.height, info.width, self.size, self.train, rng)
        got = self._decode(self.root / self.paths[i], wanted, pts_all[0], (rh, rw, top, left), seek=True)
        if len(got) < len(set(wanted.tolist())):
            got = self._decode(self.root / self.paths[i], wanted, pts_all[0], (rh, rw, top, left), seek=False)
        missing = sorted(set(wanted.tolist()) - set(got))
        if missing:
            raise ValueError(f"{len(missing)} of the clip's frames could not be decoded (truncated or damaged file)")
        return frames_to_tensor(np.stack([got[int(p)] for p in wanted]))

    def _decode(
        self, path: Path, wanted: np.ndarray, first_pts: int, geom: tuple[int, int, int, int], *, seek: bool
    ) -> dict[int, np.ndarray]:
        rh, rw, top, left = geom
        oh, ow = self.size if self.size is not None else (rh, rw)
        want = set(wanted.tolist())
        last = int(wanted.max())
        got: dict[int, np.ndarray] = {}
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            if self.decode_threads != 1:
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = self.decode_threads
            start = int(wanted.min())
            if seek and start > first_pts:
                container.seek(start, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                p = frame.pts if frame.pts is not None else frame.dts
                if p is None:
                    continue
                if p in want and p not in got:
                    rgb = frame.reformat(width=rw, height=rh, format="rgb24", interpolation="BILINEAR").to_ndarray()
                    got[p] = rgb[top : top + oh, left : left + ow]
                if p >= last:
                    break
        return got


class FrameFolder(_ClipFolder):
    """Clips from pre-extracted frames: one directory of images per video.

    Every directory that directly holds image files (``IMAGE_EXTENSIONS``) is a
    video; its frames are ordered by natural sort of the file names (``2.jpg`` before
    ``10.jpg``). Frames are taken ``stride`` apart by index (extracted frames carry no
    timestamps). Labels, split files, crops, seeding and failure handling are those
    of :class:`VideoFolder`; a split list naming ``.../video.avi`` matches the frame
    directory ``.../video``. Directories too short for one clip, or whose first frame
    cannot be read, are skipped and counted. No index cache is kept: listing
    directories is cheap.

    Args: as :class:`VideoFolder`, without the decoder-specific ones.
    """

    kind = "frame directory"

    def __init__(
        self,
        root: str | os.PathLike[str],
        frames: int,
        stride: int = 1,
        resolution: int | tuple[int, int] | None = 64,
        *,
        train: bool = True,
        labeled: bool = True,
        split_file: str | os.PathLike[str] | None = None,
        classes: Sequence[str] | None = None,
        seed: int | None = None,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
        max_retries: int = 10,
    ) -> None:
        self.extensions = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        self._frame_lists: dict[str, list[str]] = {}
        super().__init__(
            root, frames, stride, resolution, train=train, labeled=labeled, split_file=split_file,
            classes=classes, seed=seed, max_retries=max_retries,
        )
        self._frame_lists = {}

    def _what_is_listed(self) -> str:
        return "directories holding images ending in " + ", ".join(self.extensions)

    def _walk(self) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            images = sorted((f for f in filenames if f.lower().endswith(self.extensions)), key=_natural_key)
            if images:
                rel = Path(dirpath).relative_to(self.root).as_posix()
                self._frame_lists[rel] = images
                out.append(rel)
        return sorted(out, key=_natural_key)

    def _key(self, rel: str) -> str:
        low = rel.lower()
        for ext in VIDEO_EXTENSIONS:
            if low.endswith(ext):
                return rel[: -len(ext)]
        return rel

    def _probe(self, rel: str) -> tuple[list[str], int, int] | str:
        from PIL import Image, UnidentifiedImageError

        names = self._frame_lists.get(rel, [])
        if not names:
            return "no image frames"
        try:
            with Image.open(self.root / rel / names[0]) as im:
                width, height = im.size
                im.verify()
        except (OSError, UnidentifiedImageError, ValueError) as err:
            return f"first frame {names[0]!r} is unreadable ({type(err).__name__}: {err})"
        return (names, height, width)

    def _seconds(self, entry: tuple[list[str], int, int]) -> np.ndarray:  # type: ignore[override]
        return np.arange(len(entry[0]), dtype=np.float64)

    def _length_text(self, entry: tuple[list[str], int, int]) -> str:  # type: ignore[override]
        return f"{len(entry[0])} frames"

    def _load(self, i: int, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        from PIL import Image

        names, height, width = self._entries[i]
        rh, rw, top, left = _resize_geometry(height, width, self.size, self.train, rng)
        oh, ow = self.size if self.size is not None else (rh, rw)
        cache: dict[int, np.ndarray] = {}
        for j in np.unique(idx).tolist():
            with Image.open(self.root / self.paths[i] / names[j]) as im:
                im = im.convert("RGB")
                if im.size != (width, height):
                    raise ValueError(f"frame {names[j]!r} is {im.size[0]}x{im.size[1]}, expected {width}x{height}")
                if (rh, rw) != (height, width):
                    im = im.resize((rw, rh), Image.Resampling.BILINEAR)
                cache[j] = np.asarray(im)[top : top + oh, left : left + ow]
        return frames_to_tensor(np.stack([cache[j] for j in idx.tolist()]))
