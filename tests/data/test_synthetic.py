"""MovingShapes: determinism, class dependence, motion, shapes, frame-prediction mode, export."""

from __future__ import annotations

import warnings

import pytest
import torch

from vidgan_blocks.data import ContextSplit, DataWarning, MovingShapes, VideoFolder, split_context


class TestMovingShapes:
    @pytest.mark.parametrize("frames,res", [(1, 8), (5, (12, 20)), (16, 32), (3, (17, 9))])
    def test_shapes_and_range(self, frames, res):
        ds = MovingShapes(7, frames, res, num_classes=3)
        h, w = (res, res) if isinstance(res, int) else res
        x, y = ds[4]
        assert x.shape == (3, frames, h, w) and x.dtype == torch.float32
        assert x.min() >= -1 and x.max() <= 1 and torch.isfinite(x).all()
        assert y == 4 % 3 and len(ds) == 7

    def test_deterministic_per_index_and_seed(self):
        a, b = MovingShapes(10, 6, 16), MovingShapes(10, 6, 16)
        for i in (0, 3, 9):
            assert torch.equal(a[i][0], b[i][0])
        assert not torch.equal(a[0][0], a[6][0])  # same class, different sample
        assert not torch.equal(a[0][0], MovingShapes(10, 6, 16, seed=1)[0][0])

    def test_consecutive_frames_differ(self):
        ds = MovingShapes(24, 8, 24, num_classes=12)
        for i in range(24):
            x, _ = ds[i]
            diff = (x[:, 1:] - x[:, :-1]).abs().mean(dim=(0, 2, 3))  # [T - 1]
            assert diff.min() > 5e-3, (i, diff)

    def test_class_statistics_differ(self):
        # Horizontal movers smear their temporal variance along rows, vertical ones along columns.
        ds = MovingShapes(60, 12, 32, num_classes=6)

        def anisotropy(label):
            vals = []
            for i in range(label, 60, 6):
                s = ds[i][0].std(dim=1).mean(dim=0)  # [H, W] temporal std
                vals.append(float(s.mean(dim=1).var() - s.mean(dim=0).var()))
            return torch.tensor(vals)

        horizontal, vertical = anisotropy(0), anisotropy(1)
        assert (horizontal > 0).all() and (vertical < 0).all()
        # The first sprite's shape follows the class, so per-class mean frames differ too.
        means = torch.stack([torch.stack([ds[i][0][:, 0] for i in range(c, 60, 6)]).mean(0) for c in range(6)])
        dists = torch.cdist(means.flatten(1), means.flatten(1))
        assert (dists + torch.eye(6) * 1e9).min() > 0.5

    def test_frame_prediction_mode(self):
        full = MovingShapes(4, 16, 16)
        fp = MovingShapes(4, 16, 16, context=5)
        ctx, future, y = fp[2]
        x, y2 = full[2]
        assert ctx.shape == (3, 5, 16, 16) and future.shape == (3, 11, 16, 16) and y == y2
        assert torch.equal(torch.cat([ctx, future], dim=1), x)
        wrapped = ContextSplit(full, 5)
        assert len(wrapped) == 4 and all(torch.equal(a, b) for a, b in zip(wrapped[2][:2], (ctx, future)))

    def test_errors(self):
        with pytest.raises(ValueError, match="context"):
            MovingShapes(4, 4, 16, context=4)
        with pytest.raises(ValueError, match="sprites"):
            MovingShapes(4, 4, 16, sprites=7)
        with pytest.raises(ValueError, match="frames"):
            MovingShapes(4, 0, 16)
        with pytest.raises(IndexError):
            MovingShapes(4, 2, 8)[4]
        with pytest.raises(ValueError, match="T > context"):
            split_context(torch.zeros(3, 2, 4, 4), 2)
        with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):
            split_context(torch.zeros(1, 3, 2, 4, 4), 1)

    def test_class_names_sort_in_label_order(self):
        names = MovingShapes(1, 1, 8, num_classes=14).classes
        assert sorted(names, key=lambda s: (s.lower(), s)) == names and len(set(names)) == 14

    def test_write_dataset_reads_back_through_video_folder(self, tmp_path):
        ds = MovingShapes(6, 6, 32, num_classes=3)
        root = ds.write_dataset(tmp_path / "shapes", 6)
        assert len(list(root.rglob("*.mp4"))) == 6
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            vf = VideoFolder(root, frames=6, resolution=32, train=False)
        assert vf.classes == ds.classes and len(vf) == 6
        for i, rel in enumerate(vf.paths):
            index = int(rel.split("/")[-1].split(".")[0])
            x, y = vf[i]
            ref, label = ds[index]
            assert y == label
            assert (x - ref).abs().mean() < 0.06
