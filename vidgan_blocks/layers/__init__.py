"""Layers: spectral-normalised convolutions, conditional batch norm, attention, heads."""

from .spectral import (
    SNConv1d,
    SNConv2d,
    SNConv3d,
    SNEmbedding,
    SNLinear,
    apply_spectral_norm,
    freeze_spectral_norm,
    has_spectral_norm,
    orthogonal_init_,
    spectral_norm_cache,
)

__all__ = [
    "SNConv1d",
    "SNConv2d",
    "SNConv3d",
    "SNEmbedding",
    "SNLinear",
    "apply_spectral_norm",
    "freeze_spectral_norm",
    "has_spectral_norm",
    "orthogonal_init_",
    "spectral_norm_cache",
]
