"""Names and environment variables shared by the metrics and the command line (no heavy imports)."""

from __future__ import annotations

__all__ = [
    "I3D_EXTRACTOR",
    "INCEPTION_EXTRACTOR",
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "FRAME_METRICS",
]

#: torch-fidelity names under which ``register_torch_fidelity`` registers the extractors.
I3D_EXTRACTOR = "vidgan-i3d"
INCEPTION_EXTRACTOR = "vidgan-inception-v3"
#: Environment variable read for the InceptionV3 weights when no path is passed.
INCEPTION_WEIGHTS_ENV = "VIDGAN_INCEPTION_WEIGHTS"
#: The file torch-fidelity's InceptionV3 expects (converted TF 2015-12-05 weights).
INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
#: Metric names understood by ``frame_metrics``.
FRAME_METRICS = ("fid", "is", "kid")
