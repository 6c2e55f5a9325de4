"""VideoFolder / FrameFolder: geometry, sampling, labels, corrupt files, cache, workers."""

from __future__ import annotations

import os
import shutil
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from vidgan_blocks.data import (
    DataWarning,
    EmptyDatasetError,
    FrameFolder,
    VideoFolder,
    clip_frame_indices,
    read_class_index,
    read_video,
)

from .helpers import frame_index_of, frame_value, write_counter


def quiet(cls, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return cls(*args, **kwargs)


@pytest.fixture
def classes_root(tmp_path):
    """Two classes, three 20-frame 24x32 clips; class names chosen to test case-insensitive order."""
    root = tmp_path / "ucf"
    write_counter(root / "walk" / "v1.mp4", 20, h=24, w=32)
    write_counter(root / "walk" / "v2.mp4", 20, h=24, w=32)
    write_counter(root / "Jump" / "v3.mp4", 20, h=24, w=32)
    return root


class TestVideoFolderBasics:
    def test_shape_range_labels(self, classes_root):
        ds = VideoFolder(classes_root, frames=4, stride=2, resolution=16, train=False)
        assert len(ds) == 3 and ds.skipped == 0
        assert ds.classes == ["Jump", "walk"]
        assert ds.paths == ["Jump/v3.mp4", "walk/v1.mp4", "walk/v2.mp4"]
        for i in range(3):
            x, y = ds[i]
            assert x.shape == (3, 4, 16, 16) and x.dtype == torch.float32
            assert -1 <= x.min() and x.max() <= 1
            assert y == (0 if i == 0 else 1)

    @pytest.mark.parametrize("frames,stride", [(1, 1), (4, 1), (4, 2), (5, 3), (10, 2)])
    def test_frame_count_and_stride(self, classes_root, frames, stride):
        ds = VideoFolder(classes_root, frames=frames, stride=stride, resolution=16, train=False)
        x, _ = ds[0]
        got = frame_index_of(x)
        assert len(got) == frames
        assert np.all(np.diff(got) == stride)
        # Evaluation takes the centre start among the valid ones.
        n_valid = 20 - (frames - 1) * stride
        assert got[0] == n_valid // 2

    def test_random_starts_cover_range(self, classes_root):
        ds = VideoFolder(classes_root, frames=4, stride=2, resolution=16, seed=3)
        starts = set()
        for epoch in range(30):
            ds.set_epoch(epoch)
            got = frame_index_of(ds[0][0])
            assert np.all(np.diff(got) == 2)
            starts.add(int(got[0]))
        assert starts <= set(range(0, 20 - 6)) and len(starts) > 5

    def test_resize_and_centre_crop_geometry(self, tmp_path):
        p = write_counter(tmp_path / "g" / "c" / "a.mp4", 12, h=24, w=32, gradient=True)
        ds = VideoFolder(tmp_path / "g", frames=4, stride=2, resolution=16, train=False)
        x, _ = ds[0]
        # Reference: shorter side 24 -> 16, so 32 -> round(21.33) = 21; centre crop starts at (21 - 16) // 2 = 2.
        full = read_video(p)
        ref = F.interpolate(full.permute(1, 0, 2, 3), size=(16, 21), mode="bilinear", antialias=True)
        ref = ref.permute(1, 0, 2, 3)[:, torch.as_tensor(ds.clip_indices(0))]
        errs = [float((x - ref[..., off : off + 16]).abs().max()) for off in range(6)]
        assert int(np.argmin(errs)) == 2 and errs[2] < 0.02

    def test_random_crop_in_training(self, tmp_path):
        write_counter(tmp_path / "g" / "c" / "a.mp4", 8, h=16, w=48, gradient=True)
        ds = VideoFolder(tmp_path / "g", frames=2, resolution=16, seed=0)
        lefts = set()
        for e in range(12):
            ds.set_epoch(e)
            x, _ = ds[0]
            assert x.shape == (3, 2, 16, 16)
            lefts.add(round(float(x[:, 0, :, 0].mean()), 2))  # the ramp value at the left edge
        assert len(lefts) > 3

    def test_rectangular_and_native_resolution(self, classes_root):
        ds = VideoFolder(classes_root, frames=2, resolution=(8, 16), train=False)
        assert ds[0][0].shape == (3, 2, 8, 16)
        ds = VideoFolder(classes_root, frames=2, resolution=None, train=False)
        assert ds[0][0].shape == (3, 2, 24, 32)

    def test_other_containers(self, tmp_path):
        write_counter(tmp_path / "r" / "a" / "x.avi", 10, codec="mpeg4")
        write_counter(tmp_path / "r" / "a" / "y.webm", 10, codec="libvpx")
        write_counter(tmp_path / "r" / "b" / "z.mkv", 10)
        write_counter(tmp_path / "r" / "b" / "w.mov", 10)
        ds = VideoFolder(tmp_path / "r", frames=3, stride=3, resolution=16, train=False)
        assert len(ds) == 4 and ds.skipped == 0
        for i in range(4):
            assert list(frame_index_of(ds[i][0])) == [2, 5, 8]  # centre start of 4 valid ones

    def test_unlabelled_mode(self, tmp_path):
        write_counter(tmp_path / "bdd" / "a.mp4", 6)
        write_counter(tmp_path / "bdd" / "sub" / "b.mp4", 6)
        ds = VideoFolder(tmp_path / "bdd", frames=2, resolution=16, labeled=False)
        assert len(ds) == 2 and [ds[i][1] for i in range(2)] == [-1, -1] and ds.classes == []
        with pytest.warns(DataWarning, match="class folder"):
            ds = VideoFolder(tmp_path / "bdd", frames=2, resolution=16)
        assert len(ds) == 1 and ds.skipped == 1

    def test_argument_errors(self, classes_root, tmp_path):
        with pytest.raises(ValueError, match="frames"):
            VideoFolder(classes_root, frames=0)
        with pytest.raises(TypeError, match="stride"):
            VideoFolder(classes_root, frames=2, stride=1.5)
        with pytest.raises(ValueError, match="fps"):
            VideoFolder(classes_root, frames=2, fps=-1)
        with pytest.raises(FileNotFoundError, match="nowhere"):
            VideoFolder(tmp_path / "nowhere", frames=2)
        (tmp_path / "empty").mkdir()
        with pytest.raises(EmptyDatasetError, match="empty"):
            VideoFolder(tmp_path / "empty", frames=2)
        ds = VideoFolder(classes_root, frames=2, resolution=16, seed=0)
        with pytest.raises(IndexError):
            ds[3]
        with pytest.raises(TypeError):
            ds["0"]
        assert torch.equal(ds[-1][0], ds[2][0])  # negative indices count from the end


class TestLabelsFromFiles:
    def test_ucf_split_list(self, classes_root, tmp_path):
        split = tmp_path / "trainlist01.txt"
        split.write_text("walk/v2.mp4 2\nJump/v3.mp4 1\nwalk/missing.mp4 2\n\n")
        with pytest.warns(DataWarning, match="missing.mp4"):
            ds = VideoFolder(classes_root, frames=2, resolution=16, split_file=split)
        assert ds.paths == ["walk/v2.mp4", "Jump/v3.mp4"]
        assert [ds[i][1] for i in range(2)] == [1, 0]
        assert ds.skipped == 1

    def test_class_index_file(self, classes_root, tmp_path):
        ind = tmp_path / "classInd.txt"
        ind.write_text("1 walk\n2 Jump\n")
        names = read_class_index(ind)
        assert names == ["walk", "Jump"]
        ds = VideoFolder(classes_root, frames=2, resolution=16, classes=names)
        assert [ds[i][1] for i in range(3)] == [1, 0, 0]

    def test_kinetics_csv(self, tmp_path):
        root = tmp_path / "k600"
        write_counter(root / "abseiling" / "abc_000010_000020.mp4", 6)
        write_counter(root / "zumba" / "xyz.mp4", 6)
        write_counter(root / "zumba" / "unlisted.mp4", 6)
        csv_path = tmp_path / "train.csv"
        csv_path.write_text(
            "label,youtube_id,time_start,time_end,split\n"
            "zumba,xyz,0,10,train\nabseiling,abc,10,20,train\nabseiling,gone,0,10,train\n"
            "cooking,missing,0,10,train\n"
        )
        with pytest.warns(DataWarning) as rec:
            ds = VideoFolder(root, frames=2, resolution=16, split_file=csv_path)
        msgs = [str(w.message) for w in rec]
        assert len(msgs) == 2 and "gone" in msgs[0] and "missing" in msgs[1]
        assert ds.paths == ["zumba/xyz.mp4", "abseiling/abc_000010_000020.mp4"]
        # A class whose files are all missing keeps its index.
        assert ds.classes == ["abseiling", "cooking", "zumba"]
        assert [ds[i][1] for i in range(2)] == [2, 0] and ds.skipped == 2

    def test_path_csv(self, classes_root, tmp_path):
        csv_path = tmp_path / "list.csv"
        csv_path.write_text("path,label\nwalk/v1.mp4,b\nJump/v3.mp4,a\n")
        ds = VideoFolder(classes_root, frames=2, resolution=16, split_file=csv_path)
        assert ds.classes == ["a", "b"] and [ds[i][1] for i in range(2)] == [1, 0]

    def test_bad_csv(self, classes_root, tmp_path):
        csv_path = tmp_path / "list.csv"
        csv_path.write_text("name,label\nx,y\n")
        with pytest.raises(ValueError, match="path"):
            VideoFolder(classes_root, frames=2, split_file=csv_path)


def make_corrupt_root(root: Path) -> dict[str, str]:
    """One good clip plus one file of every broken kind; returns name -> expected reason word."""
    good = write_counter(root / "c" / "good.mp4", 30, h=32, w=32)
    data = good.read_bytes()
    (root / "c" / "zero.mp4").write_bytes(b"")
    (root / "c" / "random.mkv").write_bytes(np.random.default_rng(0).bytes(4096))
    (root / "c" / "truncated.mp4").write_bytes(data[: len(data) // 2])
    garbage = bytearray(data)
    mid = len(data) // 2
    garbage[mid - 300 : mid + 300] = np.random.default_rng(1).bytes(600)
    (root / "c" / "garbage.mp4").write_bytes(bytes(garbage))
    write_counter(root / "c" / "short.mp4", 3)
    (root / "c" / "notes.avi").write_text("this is a text file, not a video\n")
    write_audio_only(root / "c" / "audio.mp4")
    return {"zero": "", "random": "", "truncated": "", "garbage": "", "short": "too short", "notes": "", "audio": ""}


def write_audio_only(path: Path) -> None:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=8000)
        for i in range(4):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 8000, i * 1024
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


class TestCorruptFiles:
    def test_all_kinds_skipped_and_counted(self, tmp_path):
        expected = make_corrupt_root(tmp_path / "r")
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ds = VideoFolder(tmp_path / "r", frames=8, resolution=16, verify=True)
        skipped = {Path(s.path).stem: s.reason for s in ds.skipped_files}
        assert set(skipped) == set(expected)
        assert ds.skipped == 7 and len(ds) == 1 and ds.paths == ["c/good.mp4"]
        assert "too short" in skipped["short"] and "no video stream" in skipped["audio"]
        # Exactly one warning per skipped file, each naming it.
        msgs = [str(w.message) for w in rec if issubclass(w.category, DataWarning)]
        assert len(msgs) == 7
        for name in expected:
            assert sum(name in m for m in msgs) == 1

    def test_demux_only_scan_keeps_garbage_then_replaces_it(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        ds = quiet(VideoFolder, tmp_path / "r", frames=8, resolution=16, seed=0)
        assert ds.paths == ["c/garbage.mp4", "c/good.mp4"]  # garbage survives a demux-only scan
        with pytest.warns(DataWarning, match="garbage.mp4.*replaced"):
            x, y = ds[0]
        assert x.shape == (3, 8, 16, 16)
        assert [Path(f.path).name for f in ds.decode_failures] == ["garbage.mp4"]
        # The failed file is not retried: no second warning.
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            assert ds[0][0].shape == (3, 8, 16, 16)

    def test_broken_file_does_not_stop_a_worker_loader(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        ds = quiet(VideoFolder, tmp_path / "r", frames=8, resolution=16, seed=0)
        loader = DataLoader(ds, batch_size=2, num_workers=2, timeout=60)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            batches = [x for x, _ in loader]
        assert len(batches) == 1 and batches[0].shape == (2, 3, 8, 16, 16)
        # Both items are runs of consecutive frames of the one healthy (frame-counter) file.
        for clip in batches[0]:
            assert np.all(np.diff(frame_index_of(clip)) == 1)

    def test_failure_in_every_file_raises(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        ds = quiet(VideoFolder, tmp_path / "r", frames=8, resolution=16, seed=0)
        os.remove(tmp_path / "r" / "c" / "good.mp4")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            with pytest.raises(RuntimeError, match="failed to load"):
                ds[1]

    def test_all_bad_root_raises_with_reasons(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        os.remove(tmp_path / "r" / "c" / "good.mp4")
        with pytest.raises(EmptyDatasetError) as info:
            quiet(VideoFolder, tmp_path / "r", frames=8, verify=True)
        msg = str(info.value)
        assert str(tmp_path / "r") in msg and "too short" in msg and "no video stream" in msg and "7" in msg


class TestVariableFrameRate:
    def test_sampled_by_timestamp(self, tmp_path):
        # 6 frames at 25 fps (every 40 ms), then 6 frames at 5 fps (every 200 ms).
        times_ms = [0, 40, 80, 120, 160, 200, 400, 600, 800, 1000, 1200, 1400]
        write_counter(tmp_path / "v" / "c" / "vfr.mkv", 12, pts=times_ms, time_base=Fraction(1, 1000))
        ds = VideoFolder(tmp_path / "v", frames=4, stride=1, fps=5.0, resolution=16, train=False)
        idx = ds.clip_indices(0)
        secs = np.asarray(times_ms) / 1000
        # Reference: grid of 0.2 s from the centre valid start, nearest frame per grid time.
        n_valid = int(np.sum(secs + 3 * 0.2 <= secs[-1] + 0.5 * (11 / 1.4) ** -1))
        t0 = secs[n_valid // 2]
        ref = [int(np.argmin(np.abs(secs - (t0 + 0.2 * k)))) for k in range(4)]
        assert list(idx) == ref
        x, _ = ds[0]
        assert list(frame_index_of(x)) == ref
        # Evenly spaced in time, not in frame count.
        assert not np.all(np.diff(ref) == ref[1] - ref[0]) or ref[0] >= 5

    def test_constant_rate_matches_frame_stride(self):
        secs = np.arange(30) / 30.0
        for pos in (0.0, 0.3, 0.99):
            idx = clip_frame_indices(secs, 5, 3, None, pos)
            assert np.all(np.diff(idx) == 3) and idx[-1] <= 29

    @given(
        n=st.integers(1, 60),
        frames=st.integers(1, 12),
        stride=st.integers(1, 4),
        pos=st.floats(0, 0.999),
        gaps=st.lists(st.integers(1, 5), min_size=60, max_size=60),
    )
    def test_indices_properties(self, n, frames, stride, pos, gaps):
        secs = np.concatenate([[0.0], np.cumsum(np.asarray(gaps[: n - 1], dtype=float))]) / 25.0
        idx = clip_frame_indices(secs, frames, stride, None, pos)
        native = (n - 1) / secs[-1] if n > 1 else None
        if idx is None:
            # Too short: the clip's time span exceeds the file's (beyond half a frame).
            assert frames > 1 and (native is None or (frames - 1) * stride / native > secs[-1] + 0.5 / native)
            return
        assert idx.shape == (frames,) and idx.min() >= 0 and idx.max() < n
        assert np.all(np.diff(idx) >= 0)
        if frames > 1:
            step = stride / native
            targets = secs[idx[0]] + step * np.arange(frames)
            # Every chosen frame is (one of) the nearest to its grid time.
            dist = np.abs(secs[None, :] - targets[:, None]).min(axis=1)
            assert np.allclose(np.abs(secs[idx] - targets), dist)
        if n > 1 and np.all(np.asarray(gaps[: n - 1]) == gaps[0]):
            assert np.all(np.diff(idx) == stride)


class TestResizeGeometry:
    @given(
        h=st.integers(1, 300),
        w=st.integers(1, 300),
        oh=st.integers(1, 64),
        ow=st.integers(1, 64),
        train=st.booleans(),
        seed=st.integers(0, 100),
    )
    def test_crop_inside_resized_frame(self, h, w, oh, ow, train, seed):
        from vidgan_blocks.data.folders import _resize_geometry

        rh, rw, top, left = _resize_geometry(h, w, (oh, ow), train, np.random.default_rng(seed))
        assert rh >= oh and rw >= ow
        assert 0 <= top <= rh - oh and 0 <= left <= rw - ow
        # The frame is scaled by one factor that makes it just cover the target.
        scale = max(oh / h, ow / w)
        assert abs(rh - h * scale) <= 0.5 + 1e-9 or rh == oh
        assert abs(rw - w * scale) <= 0.5 + 1e-9 or rw == ow
        assert rh == oh or rw == ow
        if not train:
            assert top == (rh - oh) // 2 and left == (rw - ow) // 2


class TestDeterminismAndWorkers:
    def test_seeded_items_repeat(self, classes_root):
        a = VideoFolder(classes_root, frames=4, resolution=16, seed=7)
        b = VideoFolder(classes_root, frames=4, resolution=16, seed=7)
        assert all(torch.equal(a[i][0], b[i][0]) for i in range(3))
        b.set_epoch(1)
        assert not all(torch.equal(a[i][0], b[i][0]) for i in range(3))

    def test_decoder_threads_do_not_change_clips(self, classes_root):
        a = VideoFolder(classes_root, frames=4, stride=2, resolution=16, seed=1)
        b = VideoFolder(classes_root, frames=4, stride=2, resolution=16, seed=1, decode_threads=0)
        assert all(torch.equal(a[i][0], b[i][0]) for i in range(3))

    def test_workers_match_main_process(self, classes_root):
        ds = VideoFolder(classes_root, frames=4, resolution=16, seed=5)
        main = torch.cat([x for x, _ in DataLoader(ds, batch_size=2)])
        workers = torch.cat([x for x, _ in DataLoader(ds, batch_size=2, num_workers=2, timeout=60)])
        assert torch.equal(main, workers)

    def test_unseeded_repeats_under_manual_seed(self, classes_root):
        ds = VideoFolder(classes_root, frames=4, resolution=16)

        def run():
            torch.manual_seed(11)
            loader = DataLoader(ds, batch_size=1, shuffle=True, num_workers=2, timeout=60)
            return torch.cat([x for x, _ in loader])

        assert torch.equal(run(), run())


class TestIndexCache:
    def test_reused_and_invalidated(self, classes_root):
        ds = VideoFolder(classes_root, frames=2, resolution=16)
        assert (ds.index_hits, ds.index_misses) == (0, 3)
        assert (classes_root / ".vidgan_index.json").is_file()
        ds = VideoFolder(classes_root, frames=2, resolution=16)
        assert (ds.index_hits, ds.index_misses) == (3, 0)
        # Rewrite one file with different content: only that entry is probed again.
        write_counter(classes_root / "walk" / "v1.mp4", 9, h=24, w=32)
        ds = VideoFolder(classes_root, frames=2, resolution=16)
        assert (ds.index_hits, ds.index_misses) == (2, 1)
        assert ds.infos[ds.paths.index("walk/v1.mp4")].num_frames == 9
        # A removed file disappears from the index; the cache is not fooled by it.
        os.remove(classes_root / "walk" / "v2.mp4")
        ds = VideoFolder(classes_root, frames=2, resolution=16)
        assert len(ds) == 2 and (ds.index_hits, ds.index_misses) == (2, 0)

    def test_cache_dir(self, classes_root, tmp_path):
        cache = tmp_path / "cache"
        VideoFolder(classes_root, frames=2, resolution=16, cache_dir=cache)
        assert not (classes_root / ".vidgan_index.json").exists()
        assert len(list(cache.glob("vidgan_index_*.json"))) == 1
        ds = VideoFolder(classes_root, frames=2, resolution=16, cache_dir=cache)
        assert ds.index_misses == 0

    def test_failures_are_cached(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        ds = quiet(VideoFolder, tmp_path / "r", frames=8, resolution=16)
        misses = ds.index_misses
        ds = quiet(VideoFolder, tmp_path / "r", frames=8, resolution=16)
        assert misses == 8 and ds.index_misses == 0 and ds.skipped == 6

    def test_threaded_scan_matches_sequential(self, tmp_path):
        make_corrupt_root(tmp_path / "r")
        a = quiet(VideoFolder, tmp_path / "r", frames=8, cache_dir=tmp_path / "c1", scan_threads=1, verify=True)
        b = quiet(VideoFolder, tmp_path / "r", frames=8, cache_dir=tmp_path / "c4", scan_threads=4, verify=True)
        assert a.paths == b.paths and a.skipped_files == b.skipped_files and a.infos == b.infos

    def test_index_entries_are_compact_and_round_trip(self, tmp_path):
        import json

        from vidgan_blocks.data import VideoInfo

        write_counter(tmp_path / "r" / "c" / "cfr.mp4", 6)
        write_counter(tmp_path / "r" / "c" / "vfr.mkv", 4, pts=[0, 40, 200, 240], time_base=Fraction(1, 1000))
        ds = VideoFolder(tmp_path / "r", frames=2, resolution=16)
        entries = json.loads((tmp_path / "r" / ".vidgan_index.json").read_text())["entries"]
        assert isinstance(entries["c/cfr.mp4"]["info"]["pts"], dict)
        assert entries["c/vfr.mkv"]["info"]["pts"] == [0, 40, 200, 240]
        for rel, info in zip(ds.paths, ds.infos):
            assert VideoInfo.from_json(entries[rel]["info"]) == info
        vfr = ds.infos[ds.paths.index("c/vfr.mkv")]
        assert np.allclose(vfr.seconds(), [0, 0.04, 0.2, 0.24])

    def test_corrupt_index_is_rebuilt(self, classes_root):
        (classes_root / ".vidgan_index.json").write_text("{not json")
        ds = VideoFolder(classes_root, frames=2, resolution=16)
        assert ds.index_misses == 3 and len(ds) == 3


def write_frames(directory: Path, n: int, h: int = 16, w: int = 16) -> None:
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((h, w, 3), frame_value(i), np.uint8)).save(directory / f"img_{i + 1}.png")


class TestFrameFolder:
    def test_layout_labels_stride(self, tmp_path):
        root = tmp_path / "frames"
        write_frames(root / "b" / "v1", 12)  # natural order: img_2 before img_10
        write_frames(root / "a" / "v2", 12, h=24, w=32)
        write_frames(root / "a" / "short", 2)
        (root / "a" / "broken").mkdir(parents=True)
        (root / "a" / "broken" / "img_1.png").write_bytes(b"nope")
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ds = FrameFolder(root, frames=4, stride=3, resolution=16, train=False)
        assert ds.paths == ["a/v2", "b/v1"] and ds.classes == ["a", "b"] and ds.skipped == 2
        assert sum(issubclass(w.category, DataWarning) for w in rec) == 2
        for i in range(2):
            x, y = ds[i]
            assert x.shape == (3, 4, 16, 16) and y == i
            assert list(frame_index_of(x)) == [1, 4, 7, 10]  # centre of 3 valid starts

    def test_split_list_with_video_names(self, tmp_path):
        root = tmp_path / "frames"
        write_frames(root / "Walk" / "v_Walk_g01", 5)
        write_frames(root / "Walk" / "v_Walk_g02", 5)
        split = tmp_path / "testlist01.txt"
        split.write_text("Walk/v_Walk_g02.avi\n")
        ds = FrameFolder(root, frames=2, resolution=16, split_file=split)
        assert ds.paths == ["Walk/v_Walk_g02"]

    def test_broken_frame_mid_training_is_replaced(self, tmp_path):
        root = tmp_path / "frames"
        write_frames(root / "a" / "v1", 6)
        write_frames(root / "a" / "v2", 6)
        (root / "a" / "v1" / "img_3.png").write_bytes(b"broken")
        ds = FrameFolder(root, frames=6, resolution=16, seed=0)
        with pytest.warns(DataWarning, match="v1"):
            x, _ = ds[0]
        assert list(frame_index_of(x)) == list(range(6))

    def test_all_bad_raises(self, tmp_path):
        write_frames(tmp_path / "f" / "a" / "v", 2)
        with pytest.raises(EmptyDatasetError, match="too short"):
            quiet(FrameFolder, tmp_path / "f", frames=4)
        shutil.rmtree(tmp_path / "f" / "a")
        (tmp_path / "f" / "a").mkdir()
        with pytest.raises(EmptyDatasetError, match="no frame directory"):
            FrameFolder(tmp_path / "f", frames=4)
