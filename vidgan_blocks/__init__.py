"""vidgan_blocks: composable video-GAN building blocks.

Every public video tensor is ``(B, C, T, H, W)``, floating point, pixels in [-1, 1].
"""

from .blocks import *  # noqa: F401,F403
from .blocks import __all__ as _blocks_all
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers_all
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all

__version__ = "0.1.0"

__all__ = sorted({*_ops_all, *_layers_all, *_blocks_all, *_losses_all})
