"""DVD-GAN on UCF-101: class-conditional synthesis of 16 frames at 128x128.

DVD-GAN appendix B.2: "identical to the model used for Kinetics, and is trained on
16-frame 128x128 clips" (Table 2 reports IS 32.97 with a C3D network). The Kinetics
recipe's code path with these presets: G ``ch`` 64 with ``[16, 16, 8, 4, 2, 1]``,
multiplicative ConvGRU, D ``ch`` 128 with ``[1, 2, 4, 8, 16, 16]``, 101 classes,
frames taken with stride 2 (section 2.3's default), everything else as A.3.

Run ``python recipes/dvd_gan_ucf101.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/UCF-101`` (class folders, or ``--split-file`` with
a split list) for the paper's configuration.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from dvd_gan_kinetics import D_MULTIPLIERS, Preset, main, paper_preset, tiny_preset  # noqa: E402

from vidgan_blocks.generators import dvd_gan_config  # noqa: E402

_paper = paper_preset(128, 12, num_classes=101)

PRESETS: dict[str, Preset] = {
    "paper": dataclasses.replace(_paper, g=dataclasses.replace(dvd_gan_config(128, 12, num_classes=101), frames=16),
                                 d_mult=D_MULTIPLIERS[128]),
    "tiny": tiny_preset(frames=8, num_classes=6),
}

if __name__ == "__main__":
    main(presets=PRESETS, recipe="dvd_gan_ucf101", description=__doc__.splitlines()[0])
