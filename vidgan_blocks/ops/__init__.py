"""Stateless operations on ``(B, C, T, H, W)`` video tensors, each with a module twin."""

from .views import (
    DownsampleMode,
    RandomCrop,
    SampleFrames,
    SpatialDownsample,
    TemporalRepeat,
    TemporalSubsample,
    gather_windows,
    random_crop,
    random_window_starts,
    sample_frames,
    spatial_downsample,
    spatial_upsample,
    temporal_repeat,
    temporal_subsample,
    temporal_windows,
    widen_windows,
)
from .memory_format import channels_last, is_channels_last
from .warp import FactorizedKernels, KernelWarp, factorized_kernels, kernel_offsets, kernel_warp

__all__ = [
    "DownsampleMode",
    "RandomCrop",
    "SampleFrames",
    "SpatialDownsample",
    "TemporalRepeat",
    "TemporalSubsample",
    "gather_windows",
    "random_crop",
    "random_window_starts",
    "sample_frames",
    "spatial_downsample",
    "spatial_upsample",
    "temporal_repeat",
    "temporal_subsample",
    "temporal_windows",
    "widen_windows",
    "channels_last",
    "is_channels_last",
    "FactorizedKernels",
    "KernelWarp",
    "factorized_kernels",
    "kernel_offsets",
    "kernel_warp",
]
