"""Residual blocks: BigGAN-style G and D blocks (2D per frame and 3D), low-resolution skips."""

from .residual import DBlock, DBlock3d, GBlock, GBlock3d
from .skip import LowResSkip

__all__ = ["DBlock", "DBlock3d", "GBlock", "GBlock3d", "LowResSkip"]
