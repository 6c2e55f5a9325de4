"""Layers: spectral-normalised convolutions, per-frame (conditional) batch norm,
separable 3D convolution, self-attention and discriminator heads."""

from .attention import AxialSelfAttention, SelfAttention, SeparableSelfAttention
from .conv import SeparableConv3d
from .heads import MixedProjectionHead, ProjectionHead
from .norm import ConditionalBatchNorm, FrameBatchNorm
from .spectral import (
    SNConv1d,
    SNConv2d,
    SNConv3d,
    SNEmbedding,
    SNLinear,
    apply_spectral_norm,
    freeze_spectral_norm,
    group_spectral_norm,
    has_spectral_norm,
    orthogonal_init_,
    spectral_norm_cache,
)

__all__ = [
    "AxialSelfAttention",
    "ConditionalBatchNorm",
    "FrameBatchNorm",
    "MixedProjectionHead",
    "ProjectionHead",
    "SNConv1d",
    "SNConv2d",
    "SNConv3d",
    "SNEmbedding",
    "SNLinear",
    "SelfAttention",
    "SeparableConv3d",
    "SeparableSelfAttention",
    "apply_spectral_norm",
    "freeze_spectral_norm",
    "group_spectral_norm",
    "has_spectral_norm",
    "orthogonal_init_",
    "spectral_norm_cache",
]
