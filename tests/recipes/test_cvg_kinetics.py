"""End-to-end run of recipes/cvg_kinetics.py at micro size on the test device: outputs exist and decode, the run
resumes (and says so), TensorBoard files are written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image

from vidgan_blocks.data import read_video

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "cvg_kinetics.py"


def run(out: Path, steps: str, device: torch.device) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(RECIPE), "--out", str(out), "--steps", steps, "--threads", "1", "--device", str(device)],
        capture_output=True, text=True, env=env, timeout=300, cwd=str(ROOT),
    )


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_micro_run_writes_every_output_and_resumes(tmp_path, device):
    out = tmp_path / "run"
    first = run(out, "2,1", device)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == {"level1": 2, "level2": 1}
    for name in ("level1", "level2"):
        assert list((out / name / "checkpoints").glob("step_*/tensors.safetensors")), name
        assert (out / name / "sampler.safetensors").exists() and (out / name / "level.json").exists()
        assert (out / name / "logs" / "log.jsonl").stat().st_size > 0
    grids, samples = out / "grids", out / "samples"
    low, high = read_video(grids / "level1.mp4"), read_video(grids / "level2.mp4")
    assert low.shape[1] * 2 == high.shape[1]  # level 2 doubles the frame rate
    long = read_video(grids / "unrolled_long.mp4")
    window_out = summary["window"]["level2_train_frames"]
    # 4x the level-2 samples (16x level 2's training window): really longer, not a copy of level2.mp4
    assert long.shape[1] == 4 * high.shape[1] == 16 * window_out == summary["window"]["unrolled_frames"]
    for png in ("level1_vs_level2.png", "pair0.png"):
        with Image.open(grids / png) as im:
            im.load()
            assert im.size[0] > 0
    assert set(summary["files"]["grids"]) >= {str(grids / f) for f in ("level1.mp4", "level2.mp4", "unrolled_long.mp4")}
    clips = sorted(samples.iterdir())  # one mp4 per top-level sample, what vidgan-eval --fake scores
    assert [str(p) for p in clips] == summary["files"]["samples"] and len(clips) == 4
    assert read_video(clips[0]).shape == (3, high.shape[1], 32, 32)

    second = run(out, "3,2", device)  # more steps: both levels continue from their checkpoints
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == {"level1": 3, "level2": 2}
    for name, step in (("level1", 2), ("level2", 1)):
        resumed = [e for e in events(out / name / "logs" / "log.jsonl") if e.get("event") == "resumed"]
        assert resumed and resumed[-1]["step"] == step, name
    assert "resumed level 1/2 at step 2 of 3\n" in second.stderr and "level 2/2:" in second.stderr
    for name in ("level1", "level2"):  # TensorBoard is on by default: scalars and the samples
        assert list((out / name / "logs" / "tb").glob("events.out.tfevents.*")), name
    trained = summary["seconds"]["train_level1"]

    third = run(out, "3,2", device)  # nothing left to train: said so, samples again, timings kept
    assert third.returncode == 0, third.stderr[-3000:]
    assert "resumed level 1/2 at step 3 of 3 (already complete)" in third.stderr
    assert "resumed level 2/2 at step 2 of 2 (already complete)" in third.stderr
    assert "level 1/2:" not in third.stderr  # no progress bar for a finished level
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sessions"] == 3 and summary["seconds"]["train_level1"] >= trained
    assert summary["data_files"] == {"used": 192, "skipped": 0}
    lines = third.stdout.strip().splitlines()
    assert lines[-1].startswith("done in ")
    # the resumed run keeps the FVD-MS of the untrained cascade measured by the first session
    assert lines[-2].startswith("FVD-MS on the built-in data (lower is better): ") and "untrained ->" in lines[-2]
    assert summary["quality"]["start"]["fvd_ms"] > 0 and summary["quality"]["end"]["real_clips"] == 48
