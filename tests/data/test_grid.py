"""video_grid / frames_grid: layout against explicit placement, PNG output, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidgan_blocks.data import frames_grid, video_grid


class TestVideoGrid:
    @pytest.mark.parametrize("b,nrow,rows,cols", [(1, None, 1, 1), (4, None, 2, 2), (5, None, 2, 3), (5, 2, 3, 2), (3, 8, 1, 3)])
    def test_layout(self, b, nrow, rows, cols):
        x = torch.rand(b, 3, 2, 4, 5) * 2 - 1
        g = video_grid(x, nrow=nrow, padding=1, pad_value=-1)
        assert g.shape == (3, 2, rows * 5 + 1, cols * 6 + 1)
        for i in range(b):
            r, c = divmod(i, cols)
            top, left = 1 + r * 5, 1 + c * 6
            assert torch.equal(g[:, :, top : top + 4, left : left + 5], x[i])
        # Everything that is not a tile is padding.
        mask = torch.ones(g.shape[2:], dtype=torch.bool)
        for i in range(b):
            r, c = divmod(i, cols)
            mask[1 + r * 5 : 5 + r * 5, 1 + c * 6 : 6 + c * 6] = False
        assert (g[:, :, mask] == -1).all()

    def test_no_padding(self):
        x = torch.randn(4, 1, 3, 2, 2)
        g = video_grid(x, padding=0)
        assert g.shape == (1, 3, 4, 4) and torch.equal(g[:, :, 2:, :2], x[2])

    def test_errors(self):
        with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
            video_grid(torch.zeros(3, 2, 4, 4))
        with pytest.raises(ValueError, match="padding"):
            video_grid(torch.zeros(1, 3, 2, 4, 4), padding=-1)


class TestFramesGrid:
    def test_rows_are_samples_columns_are_time(self, tmp_path):
        b, t, h, w = 3, 7, 4, 6
        x = torch.zeros(b, 3, t, h, w)
        for i in range(b):
            for k in range(t):
                x[i, :, k] = -1 + (i * t + k) / (b * t)
        path = tmp_path / "samples.png"
        img = frames_grid(x, path, every=3)
        cols = [0, 3, 6]
        assert img.shape == (3, b * (h + 1) + 1, len(cols) * (w + 1) + 1) and img.dtype == torch.uint8
        for i in range(b):
            for j, k in enumerate(cols):
                tile = img[:, 1 + i * (h + 1) : 1 + i * (h + 1) + h, 1 + j * (w + 1) : 1 + j * (w + 1) + w]
                expected = round((float(x[i, 0, k, 0, 0]) + 1) * 127.5)
                assert (tile.int() == expected).all()
        from PIL import Image

        with Image.open(path) as im:
            assert im.format == "PNG" and im.size == (img.shape[2], img.shape[1])
            assert np.array_equal(np.asarray(im.convert("RGB")), img.permute(1, 2, 0).numpy())

    def test_single_clip_and_errors(self, tmp_path):
        assert frames_grid(torch.zeros(3, 2, 4, 4)).shape == (3, 6, 11)
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            frames_grid(torch.full((1, 3, 2, 4, 4), 3.0))
        with pytest.raises(ValueError, match="png"):
            frames_grid(torch.zeros(1, 3, 2, 4, 4), tmp_path / "x.jpg")
        with pytest.raises(ValueError, match="C=3"):
            frames_grid(torch.zeros(1, 1, 2, 4, 4))
        with pytest.raises(ValueError, match="every"):
            frames_grid(torch.zeros(1, 3, 2, 4, 4), every=0)
