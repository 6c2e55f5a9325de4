"""vidgan_blocks: composable video-GAN building blocks.

Every public video tensor is ``(B, C, T, H, W)``, floating point, pixels in [-1, 1].
Batches are never empty: every block, head, recurrent unit, op, generator and
discriminator refuses ``B = 0`` with a ``ValueError`` (the spectral-norm layers,
twins of torch's own, behave as torch does). Wrong ranks, sizes and dtypes raise
a ``ValueError`` or ``TypeError`` naming the argument, checked from shapes and
dtypes alone; label values are checked only for CPU labels.
The names below are re-exported from the subpackages (constants such as
``VIDEO_EXTENSIONS`` stay in their subpackage). The torch-fidelity integration of
:mod:`vidgan_blocks.metrics` is imported on first use.
"""

from . import blocks, cascade, data, discriminators, generators, layers, losses, metrics, ops, recurrent, training
from .blocks import *  # noqa: F401,F403
from .cascade import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .discriminators import (  # noqa: F401
    CroppedDiscriminator,
    DiscriminatorConfig,
    DiscriminatorTrunk,
    MatchingDiscriminator,
    MultiDiscriminator,
    ScoreHead,
    SpatialDiscriminator,
    TemporalDiscriminator,
    VideoDiscriminator,
    paper_discriminator,
    prepend_cond_frames,
)
from .generators import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .metrics import (  # noqa: F401
    I3D,
    GaussianStats,
    I3DFeatures,
    I3DOutput,
    Preprocess,
    Score,
    evaluate_videos,
    extract_i3d_features,
    frechet_distance,
    fvd,
    i3d_fid,
    i3d_inception_score,
    i3d_kid,
    load_i3d,
    plot_power_spectra,
    power_spectrum,
    preprocess_video,
    psd_summary,
)
from .ops import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403

__version__ = "0.1.0"

_SUBPACKAGES = (ops, layers, blocks, recurrent, generators, losses, data, training, cascade)
_METRICS = (
    "I3D", "GaussianStats", "I3DFeatures", "I3DOutput", "Preprocess", "Score", "evaluate_videos",
    "extract_i3d_features", "frechet_distance", "fvd", "i3d_fid", "i3d_inception_score", "i3d_kid", "load_i3d",
    "plot_power_spectra", "power_spectrum", "preprocess_video", "psd_summary",
)  # fmt: skip
# Decomposition builders (dvd_gan, trivd_stronger, ...) stay namespaced under
# vidgan_blocks.discriminators, where their short names cannot be mistaken for generators.
_DISCRIMINATORS = (
    "CroppedDiscriminator", "DiscriminatorConfig", "DiscriminatorTrunk", "MatchingDiscriminator",
    "MultiDiscriminator", "ScoreHead", "SpatialDiscriminator", "TemporalDiscriminator", "VideoDiscriminator",
    "paper_discriminator", "prepend_cond_frames",
)  # fmt: skip
_LAZY = {"frame_metrics": metrics, "register_torch_fidelity": metrics}
__all__ = sorted({name for pkg in _SUBPACKAGES for name in pkg.__all__ if not name.isupper()} | set(_METRICS) | set(_DISCRIMINATORS) | set(_LAZY))


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(_LAZY[name], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
