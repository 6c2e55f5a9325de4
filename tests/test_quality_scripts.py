"""The quality experiments (benchmarks/quality): 2-step smoke runs, and committed results that match the presets."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
QUALITY = ROOT / "benchmarks" / "quality"
RESULTS = ROOT / "benchmarks" / "results" / "quality"


def _script(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(QUALITY / name), *args, "--threads", "1"], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def lc():
    sys.path[:0] = [str(QUALITY), str(ROOT / "recipes")]
    try:
        yield importlib.import_module("learning_curves")
    finally:
        del sys.path[:2]


@pytest.mark.slow
def test_learning_curves_micro_run_of_every_family(lc):
    out = _script("learning_curves.py", "--family", "all", "--micro")
    entries = {line.split()[1]: json.loads(line.split(maxsplit=2)[2]) for line in out.splitlines()
               if line.startswith("micro ")}
    assert set(entries) == set(lc.FAMILIES)
    for family, entry in entries.items():
        assert entry["steps"] in (2, 4) and entry["fvd_start"] > 0 and entry["fvd_end"] > 0, family
        assert entry["preset"].endswith("--preset learn")
        if lc.FAMILIES[family][1] == "cascade":  # windowed top levels are also scored on windows, as trained
            assert entry["fvd_windows_start"] > 0 and entry["fvd_windows_end"] > 0, family
            assert entry["ratio_windows"] == pytest.approx(entry["fvd_windows_end"] / entry["fvd_windows_start"],
                                                           abs=1e-3)
        else:
            assert "fvd_windows_start" not in entry, family


@pytest.mark.slow
def test_md_grounding_micro_run():
    out = _script("md_grounding.py", "--micro")
    assert "ratio (without / with)" in out


@pytest.mark.slow
def test_unrolling_micro_run():
    out = _script("unrolling.py", "--micro")
    result = json.loads(out[out.index("{"):])
    assert result["unrolled_frames"] == 4 * result["segment_frames"]


def test_committed_learning_curves_match_the_presets(lc):
    data = json.loads((RESULTS / "learning_curves.json").read_text())
    assert data["recipes"], "no family in learning_curves.json"
    for family, entry in data["recipes"].items():
        module, _ = lc.FAMILIES[family]
        preset = entry["preset"].split("--preset ")[1]
        P = importlib.import_module(module).PRESETS[preset]
        assert entry["preset_sha256"] == lc.preset_fingerprint(P), (
            f"{family}: recipes/{module}.py --preset {preset} changed since its learning curve was measured; "
            f"rerun `{entry['command']}`"
        )
        assert entry["command"].startswith(f"python benchmarks/quality/learning_curves.py --family {family}")
        for key in ("fvd_start", "fvd_end", "ratio", "class_accuracy", "steps", "minutes"):
            assert key in entry


def test_committed_variants_match_the_presets_their_commands_make(lc):
    import shlex

    files = sorted((RESULTS / "variants").glob("*/learning_curves.json"))
    assert files, "no variant results committed"
    for path in files:
        for family, entry in json.loads(path.read_text())["recipes"].items():
            words = shlex.split(entry["command"])
            assert words[:2] == ["python", "benchmarks/quality/learning_curves.py"], path
            sets = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
            assert words[words.index("--out") + 1] == str(path.relative_to(ROOT)), path
            module, _ = lc.FAMILIES[family]
            P = lc.apply_settings(importlib.import_module(module).PRESETS["learn"], sets)
            assert entry["preset_sha256"] == lc.preset_fingerprint(P), f"{path}: rerun `{entry['command']}`"


def test_plot_writes_a_png(tmp_path):
    sys.path.insert(0, str(QUALITY))
    try:
        from _plot import line_plot
    finally:
        sys.path.remove(str(QUALITY))
    path = line_plot({"a": ([0, 1, 2], [3.0, 2.0, 1.0]), "b": ([0, 2], [1.0, 0.5])}, tmp_path / "p.png", title="t",
                     xlabel="x", ylabel="y", log_y=True, hline=("ref", 0.7))
    from PIL import Image

    assert Image.open(path).size == (720, 440)


@pytest.mark.slow
@pytest.mark.parametrize("probe", ["d", "g"])
def test_motion_probe_micro_run(probe):
    out = _script("motion_probe.py", "--probe", probe, "--micro")
    entry = json.loads(out[out.index("micro ") + 6:])
    assert entry["steps"] == 2 and entry["command"].endswith(f"--probe {probe}")


def test_motion_is_zero_for_a_still_video_and_grows_with_change(lc):
    still = torch.rand(2, 3, 1, 8, 8).expand(-1, -1, 6, -1, -1)
    assert lc.motion(still) == 0
    moving = still + torch.linspace(0, 1, 6).view(1, 1, 6, 1, 1)
    assert lc.motion(moving) > lc.motion(still + 0.1 * torch.linspace(0, 1, 6).view(1, 1, 6, 1, 1)) > 0


@pytest.mark.slow
def test_motion_probe_cascade_micro_run(tmp_path):
    sys.path[:0] = [str(ROOT / "recipes")]
    try:
        import cvg_kinetics
        from _common import build_cascade
    finally:
        sys.path.remove(str(ROOT / "recipes"))
    build_cascade(cvg_kinetics.PRESETS["learn"], 6).save(tmp_path / "cvg")  # untrained: the probe only needs a saved one
    out = _script("motion_probe.py", "--probe", "cascade", "--micro", "--runs", str(tmp_path))
    entry = json.loads(out[out.index("micro ") + 6:])
    assert entry["family"] == "cvg" and entry["samples"] == 4
    for arm in ("trained", "fresh_level2"):
        scalars = {"level1", "top", "top_view_at_level1", "grounding_error"}
        assert set(entry[arm]) == scalars | {"segment_frames", "unrolled", "tiled"}
        assert all(entry[arm][k] >= 0 for k in scalars)
        # 8 level-1 frames in windows of 2 -> 4 segments of 4 frames, unrolled and tiled
        assert entry[arm]["segment_frames"] == 4
        for how in ("unrolled", "tiled"):
            assert len(entry[arm][how]["motion"]) == len(entry[arm][how]["fvd_ms"]) == 4
            assert all(m >= 0 for m in entry[arm][how]["motion"])
    assert entry["real"]["top"] > 0.05  # MovingShapes clips move


@pytest.fixture
def motion_probe():
    sys.path[:0] = [str(QUALITY), str(ROOT / "recipes")]
    threads = torch.get_num_threads()
    try:
        yield importlib.import_module("motion_probe")
    finally:
        torch.set_num_threads(threads)  # the script sets its own thread count
        del sys.path[:2]


def _micro(probe_module, capsys, *args: str) -> dict:
    assert probe_module.main([*args, "--micro"]) == 0
    out = capsys.readouterr().out
    return json.loads(out[out.index("micro ") + 6:])


@pytest.mark.slow
def test_motion_probe_level2_micro_runs(motion_probe, capsys):
    md = _micro(motion_probe, capsys, "--probe", "md")
    assert md["command"].endswith("--probe md --family cvg") and md["window"] == 2
    assert set(md["curves"]) == {"other_clip", "still"} and all(len(c) == 3 for c in md["curves"].values())
    fit = _micro(motion_probe, capsys, "--probe", "level2", "--family", "ssw_gan")
    assert set(fit["fits"]) == {"z_normal", "z_zero"} and fit["family"] == "ssw_gan"
    assert set(fit["at_initialisation"]) == {"output_change_from_low_res", "output_change_from_z"}
    # the baselines are exact properties of the held-out windows: upsampling the input beats a flat colour
    assert 0 < fit["baselines_on_held_out_windows"]["upsampled_input_mse"] < \
        fit["baselines_on_held_out_windows"]["per_clip_mean_colour_mse"]
    z0 = fit["fits"]["z_zero"]["curve"]
    assert [p["step"] for p in z0] == [0, 1, 2] and z0[-1]["mse"] < z0[0]["mse"]  # regression makes progress
    gan = _micro(motion_probe, capsys, "--probe", "level2_gan", "--drop", "matching")
    assert gan["members"] == ["spatial", "temporal"] and gan["dropped"] == ["matching"]
    assert gan["command"].endswith("--family cvg --drop matching") and gan["steps"] == 2


def test_motion_probe_class_pairs_each_clip_with_a_wrong_label(motion_probe, capsys, monkeypatch):
    """--probe class trains D on every clip under its own label against a different one, and scores D as a
    classifier of held-out clips under every label; --tint is its control."""
    seen, widths = [], []
    build = motion_probe.dvd_gan_kinetics.build_models
    nc = motion_probe.dvd_gan_kinetics.PRESETS["learn"].num_classes

    def recording(P, num_classes):
        widths.append(P.d_ch)
        G, D, cfg = build(P, num_classes)
        forward = D.forward

        def spy(x, y=None):
            seen.append((x.detach().clone(), y.clone(), D.training))
            return forward(x, y)

        D.forward = spy
        return G, D, cfg

    monkeypatch.setattr(motion_probe.dvd_gan_kinetics, "build_models", recording)
    plain = _micro(motion_probe, capsys, "--probe", "class")
    assert plain["command"].endswith("--probe class") and plain["tint"] is False and plain["steps"] == 2
    train = [c for c in seen if c[2]]
    scored = [c for c in seen if not c[2]]
    assert len(train) == 6  # steps 0, 1, 2: the clips with their label, then the same clips with another
    for (x, y, _), (x_neg, y_neg, _) in zip(train[::2], train[1::2], strict=True):
        assert torch.equal(x, x_neg) and (y != y_neg).all()
    assert len(scored) == 3 * nc  # at every point, the held-out clips under each label in turn
    for point in range(3):
        calls = scored[point * nc:(point + 1) * nc]
        assert [int(c[1].unique()) for c in calls] == list(range(nc))
        assert all(torch.equal(c[0], calls[0][0]) for c in calls)
    x, y, _ = train[0]
    seen.clear()
    tinted = _micro(motion_probe, capsys, "--probe", "class", "--tint")
    assert tinted["command"].endswith("--probe class --tint") and tinted["tint"] is True
    x_tint, y_tint, _ = next(c for c in seen if c[2])
    offset = torch.linspace(-0.5, 0.5, nc)
    assert torch.equal(y_tint, y)  # the same clips and labels, brightened by their class's offset
    torch.testing.assert_close(x_tint, (x + offset[y].view(-1, 1, 1, 1, 1)).clamp(-1, 1))
    args = motion_probe.build_parser().parse_args(["--probe", "class", "--tint"])
    assert motion_probe.result_key(args) == "class_tinted"
    wide = _micro(motion_probe, capsys, "--probe", "class", "--d-ch", "16")
    assert wide["command"].endswith("--probe class --d-ch 16") and widths == [8, 8, 16]
    args = motion_probe.build_parser().parse_args(["--probe", "class", "--d-ch", "16"])
    assert motion_probe.result_key(args) == "class_dch16"
    with pytest.raises(SystemExit):
        motion_probe.main(["--probe", "d", "--tint", "--micro"])
    with pytest.raises(SystemExit):
        motion_probe.main(["--probe", "g", "--d-ch", "16", "--micro"])


def test_label_accuracy_reads_a_projection_discriminator_as_a_classifier(motion_probe):
    """A D whose class embedding matches its features perfectly scores 1; one that ignores the label, chance."""

    class Projection(torch.nn.Module):
        def __init__(self, sign: float):
            super().__init__()
            self.sign = sign

        def forward(self, x, y):  # a clip's "feature" is its class, written in its first pixel
            own = x[:, 0, 0, 0, 0].round().long()
            return {"spatial": self.sign * (own == y).float(), "temporal": torch.zeros(len(x))}

    labels = torch.arange(12) % 4
    clips = torch.zeros(12, 3, 2, 4, 4)
    clips[:, 0, 0, 0, 0] = labels.float()
    acc = motion_probe.label_accuracy(Projection(1.0), clips, labels, 4)
    assert acc["spatial"] == 1.0 and acc["temporal"] == 0.25  # ties go to label 0: a quarter of the clips
    assert motion_probe.label_accuracy(Projection(-1.0), clips, labels, 4)["spatial"] == 0.0


def test_motion_probe_drop_belongs_to_the_gan_probe(motion_probe):
    with pytest.raises(SystemExit):
        motion_probe.main(["--probe", "md", "--drop", "matching", "--micro"])
    with pytest.raises(SystemExit):
        motion_probe.main(["--probe", "level2", "--recurrent", "conv_gru", "--micro"])
    args = motion_probe.build_parser().parse_args(["--probe", "level2_gan", "--recurrent", "conv_gru", "--drop", "temporal"])
    assert motion_probe.result_key(args) == "level2_gan_conv_gru_cvg_without_temporal"


def test_motion_probe_results_are_filed_under_the_key_their_command_makes(motion_probe):
    import shlex

    entries = json.loads((RESULTS / "motion_probe.json").read_text())
    assert {"d", "g_conv_gru", "cascade_cvg", "level2_cvg", "md_cvg", "level2_gan_cvg_without_nothing"} <= set(entries)
    for key, entry in entries.items():
        words = shlex.split(entry["command"])
        assert words[:2] == ["python", "benchmarks/quality/motion_probe.py"], key
        assert motion_probe.result_key(motion_probe.build_parser().parse_args(words[2:])) == key


def test_motion_probe_cascade_needs_a_saved_cascade(tmp_path):
    proc = subprocess.run([sys.executable, str(QUALITY / "motion_probe.py"), "--probe", "cascade", "--runs",
                           str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode != 0 and "learning_curves.py --family cvg" in proc.stderr


def test_set_changes_one_preset_field_and_refuses_unknown_ones(lc):
    import dvd_gan_kinetics

    P = dvd_gan_kinetics.PRESETS["learn"]
    Q = lc.apply_settings(P, ["g.recurrent=conv_gru", "lr_g=1e-4", "d_mult=[1,2,4,4]"])
    assert (Q.g.recurrent, Q.lr_g, Q.d_mult) == ("conv_gru", 1e-4, (1, 2, 4, 4))
    assert dataclasses.replace(Q, g=P.g, lr_g=P.lr_g, d_mult=P.d_mult) == P
    assert lc.preset_fingerprint(Q) != lc.preset_fingerprint(P)
    with pytest.raises(ValueError, match="no field 'recurent'"):
        lc.apply_settings(P, ["g.recurent=conv_gru"])
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        lc.apply_settings(P, ["lr_g"])
    with pytest.raises(ValueError, match="g.<field>"):
        lc.apply_settings(P, ["d.ch=4"])


def test_set_reaches_into_a_cascade_level(lc):
    import cvg_kinetics

    P = cvg_kinetics.PRESETS["learn"]
    Q = lc.apply_settings(P, ["level2.g.recurrent=conv_gru", "level1.d.ch=16", "level2.window=4", "steps=[3000,600]"])
    assert (Q.levels[1].g.recurrent, Q.levels[0].d.ch, Q.levels[1].window, Q.steps) == ("conv_gru", 16, 4, (3000, 600))
    assert Q.levels[0].g == P.levels[0].g and Q.levels[1].d == P.levels[1].d
    assert lc.preset_fingerprint(Q) != lc.preset_fingerprint(P)
    with pytest.raises(ValueError, match="levels 1..2"):
        lc.apply_settings(P, ["level3.g.ch=4"])
    with pytest.raises(ValueError, match="no field 'chh'"):
        lc.apply_settings(P, ["level1.g.chh=4"])
    with pytest.raises(ValueError, match="levelN.g.FIELD"):
        lc.apply_settings(P, ["level1.x.ch=4"])


def test_set_needs_its_own_out(lc):
    with pytest.raises(SystemExit) as err:
        lc.main(["--family", "dvd_gan", "--set", "lr_g=1e-4"])
    assert err.value.code == 2


@pytest.mark.slow
def test_cascade_levels_train_with_the_presets_ema_setting(lc, monkeypatch, tmp_path, capsys):
    """``--set ema_start=N`` reaches every level's trainer (the shipped presets keep ``ema_start=None``)."""
    from vidgan_blocks.cascade import Cascade

    seen, make = [], Cascade.make_trainer

    def recording(self, l, *args, **kwargs):
        tr = make(self, l, *args, **kwargs)
        seen.append((l, kwargs.get("ema_start"), kwargs.get("ema_decay"), getattr(tr, "ema_start", None)))
        return tr

    monkeypatch.setattr(Cascade, "make_trainer", recording)
    threads = torch.get_num_threads()
    try:
        assert lc.main(["--family", "cvg", "--micro", "--set", "ema_start=1", "--out", str(tmp_path / "lc.json"),
                        "--threads", str(threads)]) == 0
    finally:
        torch.set_num_threads(threads)
    decay = importlib.import_module("cvg_kinetics").PRESETS["learn"].ema_decay
    assert seen == [(1, 1, decay, 1), (2, 1, decay, 1)]
    assert "micro cvg" in capsys.readouterr().out
