"""Incremental mp4 writing for streamed generation."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import torch
from einops import rearrange

from .._checks import check_video
from ..data.grid import to_uint8, video_grid

__all__ = ["VideoStreamWriter"]


class VideoStreamWriter:
    """Append frames to an H.264 mp4 as they are produced (batches are tiled as a grid).

    A batch of one is written as is; larger batches are tiled with
    :func:`~vidgan_blocks.data.video_grid`. The encoder settings match :func:`vidgan_blocks.data.save_video` (yuv420p,
    near-lossless), so a streamed file decodes like one written in one go. Use as
    a context manager or call :meth:`close`.

    Args:
        path: output ``.mp4`` file (parent folders are created).
        fps: frames per second.
        nrow: tiles per grid row for batches (default ``ceil(sqrt(B))``).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float = 8, *, nrow: int | None = None) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise ValueError(f"VideoStreamWriter: expected a path ending in .mp4, got {str(path)!r}")
        if not fps > 0:
            raise ValueError(f"fps: expected a positive number, got {fps!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rate = Fraction(fps).limit_denominator(1001)
        self.nrow = nrow
        self.frames_written = 0
        self._container = av.open(str(self.path), mode="w", format="mp4")
        self._stream = None
        self._size: tuple[int, int] | None = None

    def write(self, chunk: torch.Tensor) -> None:
        """Append the frames of ``chunk``.

        Shape:
            - chunk: ``(B, 3, t, H, W)`` in [-1, 1], the same B, H, W at every call
        """
        check_video(chunk, "chunk", channels=3)
        clip = chunk.detach().float().cpu()
        tiled = clip[0] if clip.shape[0] == 1 else video_grid(clip, nrow=self.nrow)  # [3, t, H', W']
        frames = rearrange(to_uint8(tiled), "c t h w -> t h w c").contiguous().numpy()
        h, w = frames.shape[1:3]
        if self._stream is None:
            stream = self._container.add_stream("libx264", rate=self.rate)
            stream.width, stream.height = w + w % 2, h + h % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "12", "preset": "medium"}
            self._stream, self._size = stream, (h, w)
        elif self._size != (h, w):
            raise ValueError(f"chunk: expected tiles of size {self._size}, got {(h, w)}")
        if h % 2 or w % 2:
            import numpy as np

            frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        for arr in frames:
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = self.frames_written
            frame.time_base = 1 / self.rate
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and close the file."""
        if self._container is None:
            return
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self) -> VideoStreamWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
