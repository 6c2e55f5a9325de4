"""What a new user meets first: where outputs go, which data folders are read, the messages
for bad data, skipped-file counts and resumed runs."""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from vidgan_blocks.data import MovingShapes, read_video
from vidgan_blocks.training import DistributedContext

from .conftest import RECIPES, recipe_module

ROOT = Path(__file__).resolve().parents[2]


def _args(**over) -> argparse.Namespace:
    common = recipe_module("_common")
    args = common.base_parser("test", {"tiny": None, "paper": None}).parse_args([])
    for k, v in over.items():
        setattr(args, k, v)
    return args


def test_out_defaults_to_runs_recipe_and_refuses_other_runs(tmp_path, monkeypatch) -> None:
    common = recipe_module("_common")
    ctx = DistributedContext()
    monkeypatch.chdir(tmp_path)
    run = common.open_run_dir(_args(), "cvg_kinetics", ctx)
    assert run.path == Path("runs/cvg_kinetics") and run.created
    assert json.loads((run.path / "run.json").read_text())["recipe"] == "cvg_kinetics"
    assert common.open_run_dir(_args(steps="5"), "cvg_kinetics", ctx).path == run.path  # same run, more steps
    with pytest.raises(SystemExit, match="holds a run of 'cvg_kinetics', not 'trivd_gan_fp_kinetics'"):
        common.open_run_dir(_args(out="runs/cvg_kinetics"), "trivd_gan_fp_kinetics", ctx)
    with pytest.raises(SystemExit, match=r"other settings \(--preset\).*--fresh"):
        common.open_run_dir(_args(preset="paper"), "cvg_kinetics", ctx)
    common.open_run_dir(_args(preset="paper", fresh=True), "cvg_kinetics", ctx)  # starts that configuration over
    assert json.loads((run.path / "run.json").read_text())["config"]["preset"] == "paper"
    # a folder written before run.json existed is recognised by its summary
    legacy = tmp_path / "runs" / "out"
    legacy.mkdir()
    (legacy / "summary.json").write_text(json.dumps({"recipe": "cvg_kinetics"}))
    with pytest.raises(SystemExit, match="holds a run of 'cvg_kinetics'"):
        common.open_run_dir(_args(out=str(legacy)), "trivd_gan_fp_kinetics", ctx)


def test_prepare_synthetic_renders_again_for_other_settings(tmp_path) -> None:
    common = recipe_module("_common")
    ctx = DistributedContext()
    root = tmp_path / "synthetic"
    common.prepare_synthetic(root, ctx, n=2, frames=4, resolution=16, num_classes=2)
    first = sorted(root.rglob("*.mp4"))
    assert read_video(first[0]).shape[1] == 4
    common.prepare_synthetic(root, ctx, n=2, frames=4, resolution=16, num_classes=2)  # same settings: reused
    assert sorted(root.rglob("*.mp4")) == first
    common.prepare_synthetic(root, ctx, n=2, frames=6, resolution=16, num_classes=2)
    assert all(read_video(p).shape[1] == 6 for p in root.rglob("*.mp4"))
    assert json.loads((root / ".complete").read_text())["frames"] == 6


def test_write_summary_keeps_the_timings_of_earlier_sessions(tmp_path) -> None:
    common = recipe_module("_common")
    common.write_summary(tmp_path, {"recipe": "r", "seconds": {"total": 10.0, "train_level1": 8.0, "sampling": 2.0}})
    common.write_summary(tmp_path, {"recipe": "r", "seconds": {"total": 3.0, "train_level1": 0.5, "sampling": 2.5}})
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["seconds"] == {"total": 13.0, "train_level1": 8.5, "sampling": 2.5} and s["sessions"] == 2


def _flat_folder(root: Path, n: int, frames: int, resolution: int) -> Path:
    MovingShapes(n, frames, resolution, num_classes=2, seed=0).write_dataset(root / "rendered", n)
    flat = root / "flat"
    flat.mkdir()
    for i, p in enumerate(sorted((root / "rendered").rglob("*.mp4"))):
        shutil.copy(p, flat / f"clip{i}.mp4")
    (flat / "broken.mp4").write_bytes(b"not a video")
    return flat


def test_labelled_recipe_names_the_unlabeled_flag(tmp_path) -> None:
    common = recipe_module("_common")
    flat = _flat_folder(tmp_path, 2, 4, 16)
    with pytest.raises(SystemExit, match="pass --unlabeled") as info:
        common.video_folder(flat, frames=2, stride=1, resolution=16, seed=0, cache_dir=tmp_path / "index")
    assert "labeled=False" not in str(info.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = common.video_folder(flat, frames=2, stride=1, resolution=16, seed=0, cache_dir=tmp_path / "index",
                                   labeled=False, constant_label=0)
    assert common.data_counts(data) == {"used": 2, "skipped": 1}
    skipped = [w for w in caught if "broken.mp4" in str(w.message)]
    assert skipped and all(Path(w.filename).name == "_common.py" for w in skipped)  # the caller, not the library


def test_unconditional_recipe_reads_a_flat_folder_and_counts_skipped_files(tmp_path, monkeypatch, capsys) -> None:
    flat = _flat_folder(tmp_path, 4, 12, 32)  # cvg_bdd100k's tiny preset: 12 frames of 32x32
    out = tmp_path / "run"
    argv = [str(RECIPES / "cvg_bdd100k.py"), "--data", str(flat), "--out", str(out), "--steps", "1",
            "--device", "cpu", "--no-tensorboard"]
    monkeypatch.setattr(sys, "argv", argv)
    threads = torch.get_num_threads()
    try:
        with pytest.warns(UserWarning, match="broken.mp4") as caught:
            runpy.run_path(argv[0], run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data_files"] == {"used": 4, "skipped": 1}
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "4 videos used, 1 skipped" in last and str(out / "summary.json") in last
    assert all("vidgan_blocks" not in w.filename for w in caught if "broken.mp4" in str(w.message))
    assert not list(out.rglob("events.out.tfevents.*"))  # --no-tensorboard


@pytest.mark.parametrize("bad", ["missing", "flat"])
def test_bad_data_prints_one_line_and_leaves_no_folder(bad, tmp_path) -> None:
    data = tmp_path / "missing" if bad == "missing" else _flat_folder(tmp_path, 2, 4, 16)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(RECIPES / "dvd_gan_kinetics.py"), "--data", str(data), "--out", str(out),
                           "--device", "cpu"], capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("--data: "), proc.stderr
    assert ("does not exist" if bad == "missing" else "--unlabeled") in lines[0]
    assert not out.exists()


def test_sample_videos_reach_tensorboard(tmp_path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from vidgan_blocks.training import MetricLogger

    log = MetricLogger(tmp_path, tensorboard=True)
    log.scalars(1, {"loss/d": 0.5})
    log.videos("samples", torch.rand(2, 3, 4, 8, 8) * 2 - 1, 1)
    log.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()
    assert "loss/d" in tags["scalars"] and "samples" in tags["images"] + tags.get("tensors", [])
