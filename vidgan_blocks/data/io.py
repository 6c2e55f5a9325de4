"""Reading and writing video files with PyAV.

``read_video`` decodes every frame of a file into the library's pixel convention
(float, [-1, 1], channels first). ``save_video`` writes a clip or a tiled batch as
H.264 mp4 (yuv420p, the format every player accepts) or as an animated GIF.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from einops import rearrange

from .._checks import check_positive_int
from .grid import check_pixel_range, to_uint8, video_grid

__all__ = ["VideoReadError", "read_video", "save_video", "frames_to_tensor"]

_WRITE_SUFFIXES = (".mp4", ".gif")


class VideoReadError(RuntimeError):
    """A video file could not be opened or decoded; the message names the file and the cause."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read video {self.path!r}: {reason}")


def frames_to_tensor(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Convert uint8 RGB frames ``(T, H, W, 3)`` to a float clip ``(3, T, H, W)`` in [-1, 1].

    Shape:
        - frames: ``(T, H, W, 3)`` uint8
        - output: ``(3, T, H, W)`` float32
    """
    arr = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"frames: expected uint8 (T, H, W, 3), got {tuple(arr.shape)} {arr.dtype}")
    # NumPy does the conversion single-threaded: small multi-threaded torch ops stall
    # badly on busy machines, and loader workers run one thread anyway.
    out = np.empty((3, *arr.shape[:3]), dtype=np.float32)  # [3, T, H, W]
    np.multiply(arr.transpose(3, 0, 1, 2), np.float32(1 / 127.5), out=out, casting="unsafe")
    out -= np.float32(1.0)
    return torch.from_numpy(out)


def read_video(path: str | os.PathLike[str], *, max_frames: int | None = None) -> torch.Tensor:
    """Decode the frames of a video file, in presentation order.

    Args:
        path: any container/codec FFmpeg can read (mp4, avi, webm, mkv, mov, gif, ...).
        max_frames: stop after this many frames (``None``: all of them).

    Returns:
        float32 clip ``(3, T, H, W)`` with values in [-1, 1].

    Raises:
        VideoReadError: the file is missing, not a video, corrupt, or has no decodable frame.

    Shape:
        - output: ``(3, T, H, W)``
    """
    if max_frames is not None:
        check_positive_int(max_frames, "max_frames")
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise VideoReadError(path, "the file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except VideoReadError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as err:
        raise VideoReadError(path, f"{type(err).__name__}: {err}") from err
    if not frames:
        raise VideoReadError(path, "no frame could be decoded (empty or truncated file)")
    return frames_to_tensor(np.stack(frames))


def _as_clip(x: object) -> torch.Tensor:
    """Accept ``(3, T, H, W)`` or ``(B, 3, T, H, W)`` and return one ``(3, T, H, W)`` clip."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor (3, T, H, W) or (B, 3, T, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating-point video in [-1, 1], got dtype {x.dtype}")
    if x.dim() == 5:
        if x.shape[1] != 3:
            raise ValueError(f"x: expected (B, 3, T, H, W), got shape {tuple(x.shape)}")
        x = video_grid(x)
    elif x.dim() != 4 or x.shape[0] != 3:
        raise ValueError(f"x: expected (3, T, H, W) or (B, 3, T, H, W), got shape {tuple(x.shape)}")
    if min(x.shape[1:]) < 1:
        raise ValueError(f"x: expected at least one frame of at least 1x1 pixels, got shape {tuple(x.shape)}")
    return x


def save_video(x: torch.Tensor, path: str | os.PathLike[str], fps: float = 8) -> None:
    """Write a clip, or a batch tiled with :func:`video_grid`, to ``.mp4`` or ``.gif``.

    mp4 is H.264 in yuv420p; chroma subsampling needs even sizes, so an odd height
    or width is padded by repeating the last row/column (the decoded video is one
    pixel larger in that direction). GIF frames are palette-quantised per frame.

    Args:
        x: clip ``(3, T, H, W)`` or batch ``(B, 3, T, H, W)``, float in [-1, 1].
        path: output file; the suffix (``.mp4`` or ``.gif``) picks the format.
            Parent directories are created.
        fps: frames per second (> 0).

    Raises:
        TypeError: ``x`` is not a floating tensor.
        ValueError: wrong shape, values outside [-1, 1], unknown suffix or bad fps.

    Shape:
        - x: ``(3, T, H, W)`` or ``(B, 3, T, H, W)``
    """
    clip = _as_clip(x)
    check_pixel_range(clip, "x")
    if isinstance(fps, bool) or not isinstance(fps, (int, float, Fraction)) or not fps > 0:
        raise ValueError(f"fps: expected a positive number, got {fps!r}")
    suffix = Path(path).suffix.lower()
    if suffix not in _WRITE_SUFFIXES:
        raise ValueError(f"save_video: expected a path ending in one of {_WRITE_SUFFIXES}, got {str(path)!r}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frames = rearrange(to_uint8(clip.cpu()), "c t h w -> t h w c").contiguous().numpy()  # [T, H, W, 3]
    if suffix == ".gif":
        _write_gif(frames, path, fps)
    else:
        _write_mp4(frames, path, fps)


def _write_mp4(frames: np.ndarray, path: str | os.PathLike[str], fps: float) -> None:
    _, h, w, _ = frames.shape
    pad_h, pad_w = h % 2, w % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width = w + pad_w
        stream.height = h + pad_h
        stream.pix_fmt = "yuv420p"
        # Near-lossless: samples are inspected frame by frame, artefacts would mislead.
        stream.options = {"crf": "12", "preset": "medium"}
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = i
            frame.time_base = 1 / rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_gif(frames: np.ndarray, path: str | os.PathLike[str], fps: float) -> None:
    from PIL import Image

    images = [Image.fromarray(arr) for arr in frames]
    duration_ms = max(10, round(1000.0 / float(fps)))
    images[0].save(
        str(path),
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration_ms,
        loop=0,
        optimize=False,
        disposal=1,
    )
