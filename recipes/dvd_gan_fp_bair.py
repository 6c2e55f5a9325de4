"""DVD-GAN-FP on BAIR Robot Pushing: 15 frames of 64x64 predicted from 1.

DVD-GAN section 4.2.1 / appendix B.1: the Kinetics DVD-GAN-FP at BAIR's native
64x64 resolution, conditioned on one frame to predict 15 (the usual BAIR
protocol; DVD-GAN Table 4 reports FVD 127.1, TrIVD-GAN-FP Table 4 109.8). Same code
path as the Kinetics recipe.

Run ``python recipes/dvd_gan_fp_bair.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/bair_mp4s`` for the paper's setup.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import PredictionPreset, prediction_main  # noqa: E402
from dvd_gan_fp_kinetics import paper_preset, tiny_preset  # noqa: E402

PRESETS: dict[str, PredictionPreset] = {
    "paper": paper_preset(cond_frames=1, frames=15),
    "tiny": tiny_preset(cond_frames=1, frames=4),
}


def main(argv: Sequence[str] | None = None) -> None:
    prediction_main(argv, PRESETS, recipe="dvd_gan_fp_bair", description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
