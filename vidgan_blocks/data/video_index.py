"""Probing video files once and caching what was learned about them.

Sampling clips by presentation timestamp needs every frame's timestamp before any
decoding. Reading them means demuxing the whole file (no decoding), which is cheap
per file but adds up over a dataset of half a million videos, so the result is kept
in a JSON index keyed by the file's relative path, size and modification time. A
file whose size or mtime changed is probed again; files that failed are remembered
with their reason so they are not re-probed on every start.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["VideoInfo", "probe_video", "IndexCache"]

INDEX_VERSION = 1
INDEX_NAME = ".vidgan_index.json"


@dataclass(frozen=True)
class VideoInfo:
    """What sampling needs to know about one video file.

    Timestamps of constant-frame-rate files (the vast majority) are stored as
    ``(start, step, count)`` rather than one integer per frame, which keeps the
    index of a Kinetics-sized dataset small in memory and on disk.

    Attributes:
        start, step, count: ``pts = start + step * arange(count)`` when ``irregular`` is empty.
        irregular: every presentation timestamp (sorted) of a variable-frame-rate file.
        time_base: seconds per timestamp unit.
        height, width: decoded frame size.
        verified: every frame was decoded once without error.
    """

    start: int
    step: int
    count: int
    irregular: tuple[int, ...]
    time_base: Fraction
    height: int
    width: int
    verified: bool = False

    @classmethod
    def from_pts(
        cls, pts: np.ndarray, time_base: Fraction, height: int, width: int, verified: bool = False
    ) -> VideoInfo:
        pts = np.asarray(pts, dtype=np.int64)
        d = np.diff(pts)
        if pts.shape[0] == 1 or np.all(d == d[0]):
            step = int(d[0]) if pts.shape[0] > 1 else 1
            return cls(int(pts[0]), step, int(pts.shape[0]), (), time_base, height, width, verified)
        return cls(int(pts[0]), 0, int(pts.shape[0]), tuple(int(p) for p in pts), time_base, height, width, verified)

    @property
    def num_frames(self) -> int:
        return self.count

    def timestamps(self) -> np.ndarray:
        """Presentation timestamps of all frames, sorted, in ``time_base`` units."""
        if self.irregular:
            return np.asarray(self.irregular, dtype=np.int64)
        return self.start + self.step * np.arange(self.count, dtype=np.int64)

    def seconds(self) -> np.ndarray:
        """Timestamps in seconds, relative to the first frame."""
        return (self.timestamps() - self.start).astype(np.float64) * float(self.time_base)

    def to_json(self) -> dict:
        pts: dict | list
        if self.irregular:
            pts = list(self.irregular)
        else:
            pts = {"start": self.start, "step": self.step, "count": self.count}
        return {
            "pts": pts,
            "time_base": [self.time_base.numerator, self.time_base.denominator],
            "height": self.height,
            "width": self.width,
            "verified": self.verified,
        }

    @classmethod
    def from_json(cls, d: dict) -> VideoInfo:
        p = d["pts"]
        tb = Fraction(*d["time_base"])
        h, w, v = int(d["height"]), int(d["width"]), bool(d.get("verified", False))
        if isinstance(p, dict):
            return cls(int(p["start"]), int(p["step"]), int(p["count"]), (), tb, h, w, v)
        return cls.from_pts(np.asarray(p, dtype=np.int64), tb, h, w, v)


def probe_video(path: str | os.PathLike[str], *, verify: bool = False) -> VideoInfo:
    """Read every frame timestamp of a file's first video stream.

    By default the packets are only demuxed (cheap) and one frame is decoded to prove
    the codec works and to learn the frame size. With ``verify=True`` every frame is
    decoded, which also catches damage inside the compressed data (garbage in the
    middle of a file) at the cost of a full decode.

    Raises:
        ValueError: no video stream, no frame, or a corrupt packet, with the reason.
        av.FFmpegError / OSError: the container cannot be opened or demuxed.
    """
    with av.open(str(path), mode="r") as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stamps: list[int] = []
        size: tuple[int, int] | None = None
        decoded = 0
        for packet in container.demux(stream):
            if packet.size == 0:  # flush packet at the end of the stream
                continue
            if packet.is_discard:  # dropped by an edit list: never shown
                continue
            if packet.is_corrupt:
                raise ValueError(f"corrupt packet at byte {packet.pos}")
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                ts = len(stamps)  # no timing at all: frame order is all we have
            stamps.append(int(ts))
            if size is None or verify:
                for frame in packet.decode():
                    size = size or (frame.height, frame.width)
                    decoded += 1
                    if not verify:
                        break
        if verify or size is None:  # drain the decoder's delayed frames
            for frame in stream.codec_context.decode(None):
                size = size or (frame.height, frame.width)
                decoded += 1
        if not stamps:
            raise ValueError("no video frame in the file (empty or truncated)")
        if size is None:
            raise ValueError("no frame could be decoded")
        time_base = stream.time_base or Fraction(1, 1)
        pts = np.unique(np.asarray(stamps, dtype=np.int64))  # sorted presentation order
        if pts.shape[0] != len(stamps):
            raise ValueError("duplicate frame timestamps")
        if verify and decoded < len(stamps):
            raise ValueError(f"only {decoded} of {len(stamps)} frames could be decoded")
    return VideoInfo.from_pts(pts, Fraction(time_base), size[0], size[1], verify)


def _probe_or_reason(path: Path, verify: bool) -> VideoInfo | str:
    """:func:`probe_video`, with a failure turned into its reason."""
    try:
        return probe_video(path, verify=verify)
    except (av.FFmpegError, OSError, ValueError, EOFError) as err:
        plain = type(err) is ValueError  # our own messages need no type prefix
        return str(err) if plain else f"{type(err).__name__}: {err}"


class IndexCache:
    """JSON index of probed files under one root, stored next to the data or in a cache dir.

    Entries are keyed by the path relative to the root and hold the file's size and
    mtime; a lookup whose size/mtime differ misses, so a changed file is probed again.

    Args:
        root: dataset root directory.
        cache_dir: where to keep the index; ``None`` puts ``.vidgan_index.json`` in
            ``root``. Inside a cache dir the file name carries a hash of the absolute
            root, so several datasets can share one cache dir.
    """

    def __init__(self, root: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root)
        if cache_dir is None:
            self.path = self.root / INDEX_NAME
        else:
            digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:16]
            self.path = Path(cache_dir) / f"vidgan_index_{digest}.json"
        self.entries: dict[str, dict] = {}
        self.hits = 0
        self.misses = 0
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("version") == INDEX_VERSION and isinstance(data.get("entries"), dict):
            self.entries = data["entries"]

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        st = path.stat()
        return st.st_size, st.st_mtime_ns

    def _cached(self, rel: str, stamp: tuple[int, int], verify: bool) -> VideoInfo | str | None:
        entry = self.entries.get(rel)
        if entry is None or (entry.get("size"), entry.get("mtime_ns")) != stamp:
            return None
        if "error" in entry:
            return str(entry["error"])
        info = VideoInfo.from_json(entry["info"])
        return info if (info.verified or not verify) else None

    def lookup(self, rel: str, path: Path, *, verify: bool = False) -> VideoInfo | str:
        """Return the cached info (or the cached failure reason), probing on a miss.

        With ``verify=True`` an entry that was only demuxed counts as a miss and the
        file is decoded in full.
        """
        return self.lookup_many([(rel, path)], verify=verify, threads=1)[0]

    def lookup_many(
        self, items: list[tuple[str, Path]], *, verify: bool = False, threads: int = 1
    ) -> list[VideoInfo | str]:
        """:meth:`lookup` for many files, probing the misses on ``threads`` threads.

        FFmpeg releases the GIL while it reads and decodes, so threads overlap the
        I/O-bound first scan of a large dataset.
        """
        out: list[VideoInfo | str | None] = [None] * len(items)
        stamps: list[tuple[int, int] | None] = [None] * len(items)
        todo: list[int] = []
        for k, (rel, path) in enumerate(items):
            try:
                stamps[k] = self._stamp(path)
            except OSError as err:
                out[k] = f"{type(err).__name__}: {err}"
                continue
            out[k] = self._cached(rel, stamps[k], verify)  # type: ignore[arg-type]
            if out[k] is None:
                todo.append(k)
            else:
                self.hits += 1
        if todo:
            self.misses += len(todo)
            self._dirty = True
            paths = [items[k][1] for k in todo]
            if threads > 1 and len(todo) > 1:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    results = list(pool.map(lambda p: _probe_or_reason(p, verify), paths))
            else:
                results = [_probe_or_reason(p, verify) for p in paths]
            for k, res in zip(todo, results):
                size, mtime = stamps[k]  # type: ignore[misc]
                rel = items[k][0]
                if isinstance(res, str):
                    self.entries[rel] = {"size": size, "mtime_ns": mtime, "error": res}
                else:
                    self.entries[rel] = {"size": size, "mtime_ns": mtime, "info": res.to_json()}
                out[k] = res
        return out  # type: ignore[return-value]

    def prune(self, keep: set[str]) -> None:
        """Drop entries of files that are no longer listed."""
        gone = set(self.entries) - keep
        for rel in gone:
            del self.entries[rel]
        self._dirty = self._dirty or bool(gone)

    def save(self) -> bool:
        """Write the index atomically if it changed; return False if the location is not writable."""
        if not self._dirty:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vidgan_index_", suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump({"version": INDEX_VERSION, "entries": self.entries}, f)
            os.replace(tmp, self.path)
        except OSError:
            return False
        self._dirty = False
        return True
