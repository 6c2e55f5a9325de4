from __future__ import annotations

import errno
import json
import pickle

import pytest
import torch
from safetensors import SafetensorError

import vidgan_blocks.training.checkpoint as ckpt_mod
from vidgan_blocks.training import CheckpointError, CheckpointManager, is_checkpoint, load_checkpoint, save_checkpoint


def _tensors(v: float) -> dict[str, torch.Tensor]:
    return {"G/w": torch.full((3, 2), v), "rng/rank0/torch": torch.arange(5, dtype=torch.uint8), "opt/0/step": torch.tensor(v)}


def test_roundtrip_exact(tmp_path):
    t = {"a": torch.randn(4, 3, dtype=torch.float64), "b": torch.randint(0, 9, (7,)), "c": torch.randn(2).half()}
    path = save_checkpoint(tmp_path / "ck", t, {"step": 3, "note": "x", "nested": {"k": [1, 2]}})
    assert is_checkpoint(path)
    got, state = load_checkpoint(path)
    assert state["nested"] == {"k": [1, 2]} and state["step"] == 3
    for k in t:
        assert got[k].dtype == t[k].dtype and torch.equal(got[k], t[k])


def test_keep_last_k_and_best(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=2, best_mode="min")
    metrics = [5.0, 1.0, 4.0, 3.0, 6.0]
    for step, m in enumerate(metrics, start=1):
        mgr.save(step, _tensors(step), {}, metric=m)
    steps = [c.step for c in mgr.checkpoints()]
    assert steps == [2, 4, 5]  # last two + best (metric 1.0 at step 2)
    assert mgr.best().name == "step_000000002"
    assert mgr.latest().name == "step_000000005"
    mgr2 = CheckpointManager(tmp_path / "plain", keep_last=3)
    for step in range(1, 7):
        mgr2.save(step, _tensors(step), {})
    assert [c.step for c in mgr2.checkpoints()] == [4, 5, 6]


def test_keep_last_requires_two(tmp_path):
    with pytest.raises(ValueError, match="keep_last"):
        CheckpointManager(tmp_path, keep_last=1)
    with pytest.raises(ValueError, match="best_mode"):
        CheckpointManager(tmp_path, best_mode="up")


@pytest.mark.parametrize("stage", ["tensors", "state", "manifest", "rename"])
def test_failure_mid_save_keeps_previous(tmp_path, monkeypatch, stage):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    mgr.save(1, _tensors(1.0), {"ok": True})

    def boom(*_a, **_k):
        raise OSError("disk full (injected)")

    if stage == "tensors":
        monkeypatch.setattr(ckpt_mod, "save_file", boom)
    elif stage == "rename":
        real_replace = ckpt_mod.os.replace
        monkeypatch.setattr(ckpt_mod.os, "replace", lambda a, b: boom() if ".tmp-" in str(a) else real_replace(a, b))
    else:
        real = ckpt_mod._write_json
        target = ckpt_mod.STATE if stage == "state" else ckpt_mod.MANIFEST
        monkeypatch.setattr(ckpt_mod, "_write_json", lambda p, o: boom() if p.name == target else real(p, o))
    with pytest.raises(OSError, match="injected"):
        mgr.save(2, _tensors(2.0), {"ok": False})
    monkeypatch.undo()
    assert [c.step for c in mgr.checkpoints()] == [1]
    tensors, state = mgr.load()
    assert state["ok"] is True and torch.equal(tensors["G/w"], torch.full((3, 2), 1.0))
    assert not list(tmp_path.glob(".tmp-*"))


@pytest.mark.parametrize("error", ["oserror", "safetensors"])
def test_full_disk_is_an_oserror_naming_the_checkpoint(tmp_path, monkeypatch, error):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    mgr.save(1, _tensors(1.0), {"ok": True})

    def full(*_a, **_k):
        if error == "oserror":
            raise OSError(errno.ENOSPC, "No space left on device")
        # how safetensors reports the same failure
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, '
                              'message: "No space left on device" })')

    monkeypatch.setattr(ckpt_mod, "save_file", full)
    with pytest.raises(OSError) as info:
        mgr.save(2, _tensors(2.0), {"ok": False})
    assert info.value.errno == errno.ENOSPC
    assert str(mgr.path_for(2)) in str(info.value) and "No space left on device" in str(info.value)
    monkeypatch.undo()
    assert mgr.latest().name == "step_000000001"
    assert [c.step for c in mgr.checkpoints()] == [1]
    assert not list(tmp_path.glob(".tmp-*")) and not mgr.path_for(2).exists()


def test_failed_rename_over_an_existing_checkpoint_keeps_it(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "step_000000001", _tensors(1.0), {"v": 1})
    real_replace = ckpt_mod.os.replace

    def replace(a, b):
        if ".tmp-" in str(a):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(a, b)

    monkeypatch.setattr(ckpt_mod.os, "replace", replace)
    with pytest.raises(OSError, match="could not write checkpoint"):
        save_checkpoint(path, _tensors(2.0), {"v": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)[1] == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_000000001"]


def _flip_bit(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_load_falls_back_past_a_corrupt_newest_checkpoint(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=3)
    for step in (1, 2, 3):
        mgr.save(step, _tensors(float(step)), {"v": step})
    _flip_bit(mgr.path_for(3) / "tensors.safetensors")
    _flip_bit(mgr.path_for(2) / "state.json")
    seen = []
    with pytest.warns(UserWarning, match="refused") as caught:
        path, tensors, state = mgr.load_latest(on_refused=lambda p, r: seen.append((p.name, r)))
    assert path == mgr.path_for(1) and state["v"] == 1 and torch.equal(tensors["G/w"], torch.full((3, 2), 1.0))
    assert [name for name, _ in seen] == ["step_000000003", "step_000000002"]
    assert "tensors.safetensors does not match its SHA-256" in seen[0][1]
    assert "state.json does not match its SHA-256" in seen[1][1]
    assert any("step_000000003 refused" in str(w.message) for w in caught)
    assert mgr.latest() == mgr.path_for(3)  # set_aside=False leaves the directories alone
    with pytest.warns(UserWarning, match="refused"):
        assert mgr.load()[1]["v"] == 1
    with pytest.warns(UserWarning) as caught:
        mgr.load_latest(set_aside=True)
    assert sum("moved aside" in str(w.message) for w in caught) == 2
    assert mgr.latest() == mgr.path_for(1)
    assert (tmp_path / "step_000000003.refused").is_dir() and (tmp_path / "step_000000002.refused").is_dir()


def test_load_with_every_checkpoint_corrupt_is_a_clear_error(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    for step in (1, 2):
        mgr.save(step, _tensors(float(step)), {})
        _flip_bit(mgr.path_for(step) / "tensors.safetensors")
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match="none of the 2 checkpoints verifies") as info:
        mgr.load_latest(set_aside=True)
    assert "step_000000002: " in str(info.value) and "step_000000001: " in str(info.value)
    assert [c.step for c in mgr.checkpoints()] == [1, 2]  # nothing is moved when nothing verifies


def test_unreadable_tensors_without_hash_check_is_a_checkpoint_error(tmp_path):
    path = save_checkpoint(tmp_path / "ck", _tensors(1.0), {})
    f = path / "tensors.safetensors"
    f.write_bytes(b"\xff" * f.stat().st_size)  # same size, garbage header
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path, verify_hash=False)


def test_half_written_directory_is_ignored(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    mgr.save(1, _tensors(1.0), {})
    broken = mgr.save(2, _tensors(2.0), {})
    (broken / "manifest.json").unlink()  # as if the process died before the manifest
    assert mgr.latest().name == "step_000000001"
    stale = tmp_path / ".tmp-step_000000003-abcd"
    stale.mkdir()
    (stale / "tensors.safetensors").write_bytes(b"partial")
    assert mgr.latest().name == "step_000000001"
    mgr.save(3, _tensors(3.0), {})
    assert not stale.exists()


def test_corruption_detected(tmp_path):
    path = save_checkpoint(tmp_path / "ck", _tensors(1.0), {})
    data = bytearray((path / "tensors.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (path / "tensors.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(path)
    path2 = save_checkpoint(tmp_path / "ck2", _tensors(1.0), {"a": 1})
    (path2 / "state.json").write_text("{}")
    with pytest.raises(CheckpointError, match="wrong size"):
        load_checkpoint(path2)


def test_pickles_refused(tmp_path):
    pt = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, pt)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(pt)
    raw = tmp_path / "weights.bin"
    raw.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(CheckpointError, match="arbitrary code"):
        load_checkpoint(raw)
    d = tmp_path / "old_run"
    d.mkdir()
    torch.save({"w": torch.ones(2)}, d / "last.ckpt")
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(d)
    with pytest.raises(CheckpointError, match="pickle"):
        CheckpointManager(d).latest()


def test_missing_and_foreign(tmp_path):
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "nope")
    d = tmp_path / "step_000000001"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"format": "other"}))
    assert CheckpointManager(tmp_path).latest() is None
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        CheckpointManager(tmp_path).load()
