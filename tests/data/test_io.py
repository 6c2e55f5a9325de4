"""read_video / save_video: round trips, odd sizes, batches, errors."""

from __future__ import annotations

import pytest
import torch

from vidgan_blocks.data import VideoReadError, read_video, save_video


def smooth_clip(t=4, h=16, w=16):
    """A smooth colour ramp that moves over time (compresses almost losslessly)."""
    yy = torch.linspace(-0.4, 0.4, h)[:, None].expand(h, w)
    xx = torch.linspace(-0.4, 0.4, w)[None, :].expand(h, w)
    frames = [torch.stack([yy * (1 - 0.1 * i), xx, 0.5 * (yy + xx) * 0.1 * i]) for i in range(t)]
    return torch.stack(frames, dim=1)  # [3, T, H, W]


class TestRoundTrip:
    @pytest.mark.parametrize("suffix", [".mp4", ".gif"])
    def test_values_and_shape(self, tmp_path, suffix):
        x = smooth_clip()
        path = tmp_path / f"clip{suffix}"
        save_video(x, path, fps=8)
        y = read_video(path)
        assert y.shape == x.shape and y.dtype == torch.float32
        assert y.min() >= -1 and y.max() <= 1
        assert (y - x).abs().mean() < 0.03

    @pytest.mark.parametrize("h,w", [(15, 16), (16, 17), (9, 11), (1, 1)])
    def test_odd_sizes_are_padded_by_edge(self, tmp_path, h, w):
        x = torch.zeros(3, 2, h, w)
        x[0] = 0.5
        save_video(x, tmp_path / "odd.mp4")
        y = read_video(tmp_path / "odd.mp4")
        assert y.shape == (3, 2, h + h % 2, w + w % 2)
        # The padded row/column repeats the edge, so the colour is uniform everywhere.
        assert (y[0] - 0.5).abs().max() < 0.05 and y[1:].abs().max() < 0.05

    def test_batch_is_tiled(self, tmp_path):
        x = smooth_clip(t=3, h=8, w=8).unsqueeze(0).repeat(5, 1, 1, 1, 1)
        save_video(x, tmp_path / "grid.mp4")
        y = read_video(tmp_path / "grid.mp4")
        # 5 tiles -> 3 per row, 2 rows, 1-pixel borders: H = 2*9+1 = 19 -> 20, W = 3*9+1 = 28
        assert y.shape == (3, 3, 20, 28)

    def test_max_frames_and_order(self, tmp_path):
        t = 6
        x = torch.stack([torch.full((3, 8, 8), -1 + 2 * i / (t - 1)) for i in range(t)], dim=1)
        save_video(x, tmp_path / "ramp.mp4", fps=25)
        y = read_video(tmp_path / "ramp.mp4")
        assert y.shape[1] == t
        means = y.mean(dim=(0, 2, 3))
        assert torch.all(means[1:] > means[:-1])
        assert read_video(tmp_path / "ramp.mp4", max_frames=2).shape[1] == 2

    def test_fps_is_stored(self, tmp_path):
        import av

        save_video(smooth_clip(t=3, h=8, w=8), tmp_path / "f.mp4", fps=12)
        with av.open(str(tmp_path / "f.mp4")) as c:
            assert c.streams.video[0].average_rate == 12


class TestErrors:
    def test_out_of_range(self, tmp_path):
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            save_video(torch.full((3, 2, 8, 8), 2.0), tmp_path / "x.mp4")
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            save_video(torch.full((3, 2, 8, 8), float("nan")), tmp_path / "x.mp4")

    def test_bad_inputs(self, tmp_path):
        with pytest.raises(TypeError):
            save_video(torch.zeros(3, 2, 8, 8, dtype=torch.uint8), tmp_path / "x.mp4")
        with pytest.raises(TypeError):
            save_video([1, 2], tmp_path / "x.mp4")
        with pytest.raises(ValueError, match=r"\(3, T, H, W\)"):
            save_video(torch.zeros(4, 2, 8, 8), tmp_path / "x.mp4")
        with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
            save_video(torch.zeros(2, 1, 2, 8, 8), tmp_path / "x.mp4")
        with pytest.raises(ValueError, match="suffix|ending"):
            save_video(torch.zeros(3, 2, 8, 8), tmp_path / "x.avi")
        with pytest.raises(ValueError, match="fps"):
            save_video(torch.zeros(3, 2, 8, 8), tmp_path / "x.mp4", fps=0)

    @pytest.mark.parametrize(
        "content", [b"", b"this is not a video", bytes(range(256)) * 8], ids=["empty", "text", "random"]
    )
    def test_unreadable_names_the_file(self, tmp_path, content):
        path = tmp_path / "bad.mp4"
        path.write_bytes(content)
        with pytest.raises(VideoReadError, match="bad.mp4"):
            read_video(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(VideoReadError, match="nope.mp4"):
            read_video(tmp_path / "nope.mp4")


class TestFramesToTensor:
    def test_against_reference(self):
        import numpy as np

        from vidgan_blocks.data.io import frames_to_tensor

        a = np.random.default_rng(0).integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
        a[0, 0, 0] = [0, 255, 128]
        ref = torch.from_numpy(a).permute(3, 0, 1, 2).double() / 127.5 - 1
        out = frames_to_tensor(a)
        assert out.shape == (3, 4, 5, 6) and out.dtype == torch.float32
        assert (out.double() - ref).abs().max() <= 1e-6
        assert out[0, 0, 0, 0] == -1 and out[1, 0, 0, 0] == 1
        assert torch.equal(frames_to_tensor(torch.from_numpy(a)), out)
        with pytest.raises(ValueError, match="uint8"):
            frames_to_tensor(a.astype(np.float32))
        with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
            frames_to_tensor(a[..., :2])
