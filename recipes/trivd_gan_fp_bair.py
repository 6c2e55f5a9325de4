"""TrIVD-GAN-FP on BAIR Robot Pushing: 15 frames of 64x64 predicted from 1.

TrIVD-GAN-FP appendix C.1: the Kinetics model with channel multiplier 48 in G and
92 in D (and in the encoder, a copy of the spatial D: appendix A), learning rates
2e-5 (G) and 3e-5 (D), conditioned on one frame to generate 15 (Table 4 reports
test FVD 103.3 on the original split and 31.8 on the balanced one). Everything else as the Kinetics recipe (same code path and
flags, ``--decomposition`` and ``--unit`` included).

Run ``python recipes/trivd_gan_fp_bair.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/bair_mp4s`` for the paper's setup.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import PredictionPreset, prediction_main  # noqa: E402
from trivd_gan_fp_kinetics import paper_preset, tiny_preset  # noqa: E402

PRESETS: dict[str, PredictionPreset] = {
    "paper": paper_preset(48, d_ch=92, cond_frames=1, frames=15, lr_g=2e-5, lr_d=3e-5),
    "tiny": tiny_preset(cond_frames=1, frames=4),
}


def main(argv: Sequence[str] | None = None) -> None:
    prediction_main(argv, PRESETS, recipe="trivd_gan_fp_bair", description=__doc__.splitlines()[0], studies=True)


if __name__ == "__main__":
    main()
