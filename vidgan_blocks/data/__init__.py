"""Data: reading and writing videos, datasets, cascade views and sample grids."""

from .grid import frames_grid, video_grid
from .io import VideoReadError, read_video, save_video

__all__ = [
    "VideoReadError",
    "frames_grid",
    "read_video",
    "save_video",
    "video_grid",
]
