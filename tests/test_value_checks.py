"""Checks of tensor values happen where data enters, and only where they cost no synchronisation.

Blocks check shapes and dtypes of every input, but read values (label ranges,
window starts) only from CPU tensors; on an accelerator that read would stall
every forward pass. The trainer checks each batch's labels while they are still
on the CPU, so a bad label from a dataset is still reported clearly.
"""

from __future__ import annotations

import pytest
import torch

from tests.training.tiny import TinyDiscriminator, TinyGenerator, TinyVideos
from vidgan_blocks._checks import check_label_range
from vidgan_blocks.layers import ProjectionHead
from vidgan_blocks.ops import gather_windows, random_window_starts
from vidgan_blocks.training import GANTrainer, TrainerConfig


def test_check_label_range_reports_the_range():
    y = torch.tensor([0, 3, 1])
    assert check_label_range(y, 4) is y
    with pytest.raises(ValueError, match=r"y: labels must lie in \[0, 2\], got range \[0, 3\]"):
        check_label_range(y, 3)
    with pytest.raises(ValueError, match=r"batch\['label'\]: labels must lie in \[0, 3\], got range \[-1, 1\]"):
        check_label_range(torch.tensor([-1, 1]), 4, "batch['label']")
    assert check_label_range(torch.tensor([], dtype=torch.long), 1).numel() == 0


def test_check_label_range_skips_accelerator_tensors_unless_forced():
    y = torch.tensor([5, 9]).to("meta")  # stands for any non-CPU device: no values to read
    assert check_label_range(y, 3) is y
    with pytest.raises(NotImplementedError):
        check_label_range(y, 3, force=True)  # the forced read reaches for the values


def test_projection_head_checks_cpu_labels():
    head = ProjectionHead(4, 3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        head(torch.randn(2, 4), torch.tensor([0, 3]))


class BadLabels(TinyVideos):
    def __getitem__(self, i):
        item = super().__getitem__(i)
        return {**item, "label": torch.tensor(7)}


def test_trainer_reports_labels_outside_the_generator_classes():
    trainer = GANTrainer(
        TinyGenerator(num_classes=3), TinyDiscriminator(num_classes=3), BadLabels(n=4),
        TrainerConfig(batch_size=2, max_steps=1, progress=False, tensorboard=False, log_every=0, out_dir=None),
        device="cpu",
    )
    try:
        with pytest.raises(ValueError, match=r"batch\['label'\]: labels must lie in \[0, 2\], got range \[7, 7\]"):
            trainer.next_batch()
    finally:
        trainer.close()


def test_window_starts_checked_on_cpu_and_drawn_on_request():
    x = torch.randn(2, 3, 8, 4, 4)
    with pytest.raises(ValueError, match=r"windows \[0, 6\+3\) fall outside T=8"):
        gather_windows(x, [0, 6], 3)
    with pytest.raises(ValueError, match="window=9 is longer than T=8"):
        gather_windows(x, [0, 0], 9)
    with pytest.raises(ValueError, match="expected 2 integer starts"):
        gather_windows(x, torch.tensor([0.0, 1.0]), 3)
    starts = random_window_starts(5, 8, 3, torch.Generator().manual_seed(0), device="meta")
    assert starts.device.type == "meta" and starts.dtype == torch.long and starts.shape == (5,)
    drawn = random_window_starts(500, 8, 3, torch.Generator().manual_seed(0))
    assert drawn.device.type == "cpu" and int(drawn.min()) == 0 and int(drawn.max()) == 5
