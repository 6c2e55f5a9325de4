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
from .synthetic import MOTION_PATTERNS, SHAPES, ContextSplit, MovingShapes, split_context
from .video_index import VideoInfo, probe_video
from .views import ViewFactors, make_views, window_pair

__all__ = [
    "IMAGE_EXTENSIONS",
    "MOTION_PATTERNS",
    "SHAPES",
    "VIDEO_EXTENSIONS",
    "ContextSplit",
    "DataWarning",
    "EmptyDatasetError",
    "FrameFolder",
    "MovingShapes",
    "SkippedFile",
    "VideoFolder",
    "VideoInfo",
    "VideoReadError",
    "ViewFactors",
    "clip_frame_indices",
    "frames_grid",
    "make_views",
    "probe_video",
    "read_class_index",
    "read_video",
    "save_video",
    "split_context",
    "video_grid",
    "window_pair",
]
