"""vidgan_blocks: composable video-GAN building blocks.

Every public video tensor is ``(B, C, T, H, W)``, floating point, pixels in [-1, 1].
The names below are re-exported from the subpackages (constants such as
``VIDEO_EXTENSIONS`` stay in their subpackage).
"""

from . import blocks, data, layers, losses, ops, training
from .blocks import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403

__version__ = "0.1.0"

_SUBPACKAGES = (ops, layers, blocks, losses, data, training)
__all__ = sorted({name for pkg in _SUBPACKAGES for name in pkg.__all__ if not name.isupper()})
