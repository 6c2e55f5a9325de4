"""vidgan-eval on folders of generated mp4 files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.metrics.test_fidelity import TINY_NAME
from vidgan_blocks.data import MovingShapes
from vidgan_blocks.data.io import save_video
from vidgan_blocks.metrics.cli import main

N, T, S = 8, 8, 32
FAST = ["--random-i3d", "--i3d-width", "0.125", "--size", "32", "--frames", str(T), "--is-splits", "2",
        "--kid-subsets", "4", "--batch-size", "4", "--device", "cpu"]  # fmt: skip


def moving_squares(seed: int) -> torch.Tensor:
    """(N, 3, T, S, S) clips of the built-in MovingShapes dataset."""
    data = MovingShapes(N, frames=T, resolution=S, seed=seed)
    return torch.stack([data[i][0] for i in range(N)])


def write_folder(root: Path, clips: torch.Tensor) -> Path:
    root.mkdir(parents=True)
    for i, clip in enumerate(clips):
        save_video(clip, root / f"{i:03d}.mp4", fps=8)
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("videos")
    g = torch.Generator().manual_seed(9)
    return {
        "shapes_a": write_folder(base / "shapes_a", moving_squares(1)),
        "shapes_b": write_folder(base / "shapes_b", moving_squares(2)),
        "noise": write_folder(base / "noise", torch.rand(N, 3, T, S, S, generator=g) * 2 - 1),
    }


def run(real: Path, fake: Path, out: Path, *extra: str) -> dict:
    assert main(["--real", str(real), "--fake", str(fake), "--json", str(out), *FAST, *extra]) == 0
    return json.loads(out.read_text())


def test_identical_folders_and_json_fields(folders, tmp_path, capsys):
    report = run(folders["shapes_a"], folders["shapes_a"], tmp_path / "same.json")
    table = capsys.readouterr().out
    assert "fvd" in table and "random I3D" in table
    assert set(report) == {"sources", "samples", "weights", "protocol", "scores"}
    assert set(report["scores"]) == {"fvd", "fid", "is", "kid"}
    assert report["scores"]["fvd"]["value"] == pytest.approx(0.0, abs=1e-6)
    assert report["samples"] == {"real_clips": N, "fake_clips": N, "frames_per_clip": T}
    assert report["weights"]["i3d"]["sha256"] == "random"
    proto = report["protocol"]
    assert proto["preprocess"]["resize"] == "tf1_bilinear" and proto["preprocess"]["size"] == 32
    assert proto["covariance"] == "unbiased" and proto["frames"] == T and "eigh" in proto["sqrtm"]
    fvd_proto = report["scores"]["fvd"]["protocol"]
    assert fvd_proto["clips_real"] == N and fvd_proto["feature"] == "logits"
    assert report["sources"]["real"]["files"] == N and report["sources"]["real"]["kind"] == "folder"


def test_noise_is_far_from_moving_shapes(folders, tmp_path):
    near = run(folders["shapes_a"], folders["shapes_b"], tmp_path / "near.json", "--metrics", "fvd")
    far = run(folders["shapes_a"], folders["noise"], tmp_path / "far.json", "--metrics", "fvd")
    assert far["scores"]["fvd"]["value"] > 5 * near["scores"]["fvd"]["value"]


def test_frame_metrics_and_psd(folders, tmp_path):
    plot = tmp_path / "psd.png"
    report = run(
        folders["shapes_a"], folders["noise"], tmp_path / "frames.json", "--metrics", "fvd",
        "--frame-metrics", "fid,is", "--frame-extractor", TINY_NAME, "--psd-frames", "1,8", "--psd-plot", str(plot),
    )  # fmt: skip
    assert {"fvd", "frame_fid", "frame_is"} <= set(report["scores"])
    assert report["scores"]["frame_fid"]["protocol"]["images_real"] == N * T
    psd = report["psd"]
    assert psd["frames_1based"] == [1, 8] and len(psd["real"]["mean"]) == 2
    assert len(psd["frequencies"]) == S // 2 + 1 and plot.stat().st_size > 0
    # Noise has a flat spectrum; the sprites concentrate power at low frequencies.
    assert psd["fake"]["mean"][0][-1] > psd["real"]["mean"][0][-1]


def test_single_file_is_cut_into_clips(folders, tmp_path):
    long = torch.cat(list(moving_squares(3)), dim=1)  # (3, N*T, S, S)
    save_video(long, tmp_path / "long.mp4", fps=8)
    report = run(tmp_path / "long.mp4", folders["shapes_a"], tmp_path / "file.json", "--metrics", "fvd")
    assert report["samples"]["real_clips"] == N and report["sources"]["real"]["kind"] == "file"


def test_errors(folders, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VIDGAN_I3D_WEIGHTS", raising=False)
    assert main(["--real", str(folders["shapes_a"]), "--fake", str(folders["noise"])]) == 1
    assert "i3d_pretrained_400.pt" in capsys.readouterr().err
    assert main(["--real", str(tmp_path / "missing"), "--fake", str(folders["noise"]), *FAST]) == 1
    assert "missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--real", "a", "--fake", "b", "--metrics", "psnr"])
    assert info.value.code == 2
    assert main(["--real", str(folders["shapes_a"]), "--fake", str(folders["noise"]), *FAST, "--frames", "20"]) == 1


def test_module_entry_point(folders, tmp_path):
    out = tmp_path / "sub.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "vidgan_blocks.metrics.cli", "--real", str(folders["shapes_a"]), "--fake",
           str(folders["shapes_b"]), "--json", str(out), "--metrics", "fvd", *FAST, "--preset", "center_crop"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert "fvd" in done.stdout and report["scores"]["fvd"]["value"] > 0
    assert report["protocol"]["preprocess"]["crop"] == "center"


def test_psd_only_without_i3d_metrics(folders, tmp_path):
    report = run(folders["shapes_a"], folders["shapes_b"], tmp_path / "psd.json", "--metrics", "", "--psd-frames", "2")
    assert report["scores"] == {} and report["samples"]["real_clips"] == N
    assert len(report["psd"]["fake"]["mean"]) == 1


def test_separate_fid_network_and_weight_hashes(folders, tmp_path):
    from tests.metrics.test_i3d import port_state_dict
    from vidgan_blocks.metrics import file_sha256

    k400, k600 = tmp_path / "i3d_400.pt", tmp_path / "i3d_600.pt"
    torch.save(port_state_dict(num_classes=400, width=0.125), k400)
    torch.save(port_state_dict(num_classes=600, width=0.125), k600)
    fast = [a for a in FAST if a not in ("--random-i3d",)]
    fast = fast[:fast.index("--i3d-width")] + fast[fast.index("--i3d-width") + 2:]
    out = tmp_path / "two.json"
    args = ["--real", str(folders["shapes_a"]), "--fake", str(folders["noise"]), "--json", str(out), *fast,
            "--metrics", "fvd,fid", "--i3d-weights", str(k400), "--fid-i3d-weights", str(k600)]  # fmt: skip
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["weights"]["i3d"]["sha256"] == file_sha256(k400)
    assert report["weights"]["fid_i3d"]["sha256"] == file_sha256(k600)
    assert report["scores"]["fid"]["protocol"]["network"]["num_classes"] == 600
    assert report["scores"]["fvd"]["protocol"]["network"]["num_classes"] == 400
    assert report["scores"]["fid"]["protocol"]["clips_real"] == N


@pytest.fixture(scope="module")
def cascade_dir(tmp_path_factory):
    from tests.cascade.test_cascade import Clips, cfg, tiny_cascade

    root = tmp_path_factory.mktemp("cascade")
    c = tiny_cascade()
    c.train_level(1, Clips(), cfg(max_steps=1), passes=1, stats_batch=2, ema_start=1)
    c.train_level(2, Clips(), cfg(max_steps=1), passes=1, stats_batch=2, ema_start=1)
    c.save(root)
    return root


def test_generator_checkpoint_against_a_folder(folders, cascade_dir, tmp_path, capsys):
    out = tmp_path / "gen.json"
    fast = [a if a != str(T) else "8" for a in FAST]
    args = ["--real", str(folders["shapes_a"]), "--generator", str(cascade_dir), "--num-samples", "4",
            "--standing-passes", "1", "--json", str(out), *fast, "--metrics", "fvd"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(out.read_text())
    fake = result["sources"]["fake"]
    assert fake["kind"] == "cascade" and fake["samples"] == 4 and fake["standing_statistics_passes"] == 1
    assert set(fake["weights_sha256"]) == {"level1/sampler.safetensors", "level2/sampler.safetensors"}
    assert result["samples"]["fake_clips"] == 4 and result["scores"]["fvd"]["value"] >= 0
    again = tmp_path / "again.json"
    capsys.readouterr()
    assert main([*args[:-8], "--json", str(again), *fast, "--metrics", "fvd", "--progress"]) == 0
    assert json.loads(again.read_text())["scores"] == json.loads(out.read_text())["scores"]  # fixed seed, same samples
    assert "fake: sampling" in capsys.readouterr().err  # a bar (with a time estimate) while the cascade samples


def test_generator_errors(folders, tmp_path, capsys):
    assert main(["--real", str(folders["shapes_a"]), "--generator", str(tmp_path), *FAST, "--metrics", "fvd"]) == 1
    assert "cascade.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # --fake and --generator exclude each other
        main(["--real", str(folders["shapes_a"]), "--generator", str(tmp_path), "--fake", str(folders["noise"]), *FAST])
    assert info.value.code == 2


def test_weight_file_that_would_run_code_is_refused_in_one_line(tmp_path, capsys):
    import pickle

    class RunsCode:
        def __reduce__(self):
            return (os.system, ("true",))  # never executed: loading refuses it first

    weights = tmp_path / "i3d_pretrained_400.pt"
    weights.write_bytes(pickle.dumps({"logits.conv3d.weight": RunsCode()}, protocol=2))
    real, fake = tmp_path / "real", tmp_path / "fake"
    real.mkdir(), fake.mkdir()
    status = main(["--real", str(real), "--fake", str(fake), "--i3d-weights", str(weights), "--device", "cpu"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vidgan-eval: error: ") and str(weights) in lines[0]
    assert "refused: loading it would execute code" in lines[0] and "system" in lines[0]
    assert "weights_only" not in err and "Traceback" not in err


def test_every_option_has_help_text():
    from vidgan_blocks.metrics.cli import build_parser

    for action in build_parser()._actions:
        if action.option_strings:
            assert action.help and action.help.strip(), action.option_strings


def test_missing_weights_message_says_where_they_come_from(folders, monkeypatch, capsys):
    monkeypatch.delenv("VIDGAN_I3D_WEIGHTS", raising=False)
    assert main(["--real", str(folders["shapes_a"]), "--fake", str(folders["noise"])]) == 1
    err = capsys.readouterr().err
    assert "i3d_pretrained_400.pt" in err and "--random-i3d" in err and "docs/metrics.md" in err


def test_sample_size_warnings_thresholds():
    from vidgan_blocks.metrics.cli import IS_CLIPS_PER_SPLIT, sample_size_warnings

    kw = dict(fvd_dim=400, fid_dim=1024, is_splits=10, kid_subset_size=1000)
    assert sample_size_warnings(["fvd", "fid", "is", "kid"], 2048, 2048, **kw) == []
    few = sample_size_warnings(["fvd", "fid", "is", "kid"], 2048, 2, **kw)
    assert [w.split(":")[0] for w in few] == ["fvd", "fid", "is", "kid"] and all("2 fake" in w for w in few)
    assert sample_size_warnings(["fvd"], 400, 401, **kw)[0].startswith("fvd: 400 real")  # N <= dim: singular
    assert sample_size_warnings(["fvd"], 401, 401, **kw) == []
    assert sample_size_warnings(["is"], 1, 10 * IS_CLIPS_PER_SPLIT, **kw) == []  # IS reads the fake set only


def test_few_clips_warn_and_progress_bars_go_to_stderr(folders, tmp_path, capsys):
    run(folders["shapes_a"], folders["shapes_b"], tmp_path / "quiet.json", "--metrics", "fvd,kid")
    err = capsys.readouterr().err  # not a terminal: no bars by default
    assert f"warning: fvd: {N} real clips" in err and f"warning: kid: {N} fake clips" in err
    assert "I3D features" not in err
    run(folders["shapes_a"], folders["shapes_b"], tmp_path / "bars.json", "--metrics", "fvd", "--progress")
    captured = capsys.readouterr()
    assert "real: I3D features" in captured.err and "fake: I3D features" in captured.err
    assert f"{N}/{N}" in captured.err and "I3D features" not in captured.out
