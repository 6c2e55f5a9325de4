"""Data: reading and writing videos, datasets, cascade views and sample grids."""

from .folders import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    DataWarning,
    EmptyDatasetError,
    FrameFolder,
    SkippedFile,
    VideoFolder,
    clip_frame_indices,
    read_class_index,
)
from .grid import frames_grid, video_grid
from .io import VideoReadError, read_video, save_video
from .video_index import VideoInfo, probe_video

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "DataWarning",
    "EmptyDatasetError",
    "FrameFolder",
    "SkippedFile",
    "VideoFolder",
    "VideoInfo",
    "VideoReadError",
    "clip_frame_indices",
    "frames_grid",
    "probe_video",
    "read_class_index",
    "read_video",
    "save_video",
    "video_grid",
]
