"""Atomic, pickle-free checkpoints: safetensors for tensors, JSON for everything else.

A checkpoint is a directory ``step_XXXXXXXXX/`` holding

* ``tensors.safetensors``: every tensor (model and EMA weights, optimiser moments,
  RNG states), flat ``prefix/name`` keys;
* ``state.json``: counters, configuration, optimiser hyper-parameters, sampler
  position, loss-scaler state, metrics;
* ``manifest.json``: written **last**, listing each file with its size and
  SHA-256. Only a directory with a manifest whose files match is a checkpoint.

Writing goes to a hidden temporary directory that is fsynced file by file and then
renamed into place (and the parent directory fsynced), so a crash at any point
leaves either the previous set of checkpoints or the new one, never a half-written
directory that looks valid; a failed write (a full disk) is an ``OSError`` naming
the checkpoint. Loading never unpickles: files written by ``torch.save`` or
``pickle`` are refused with an explanation. :meth:`CheckpointManager.load_latest`
skips, with a warning, newer checkpoints whose files fail their SHA-256 check and
loads the newest one that verifies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

__all__ = [
    "CheckpointError",
    "CheckpointInfo",
    "CheckpointManager",
    "save_checkpoint",
    "load_checkpoint",
    "is_checkpoint",
]

FORMAT = "vidgan_blocks.checkpoint"
VERSION = 1
TENSORS = "tensors.safetensors"
STATE = "state.json"
MANIFEST = "manifest.json"
_STEP_DIR = re.compile(r"^step_(\d+)$")
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".tar")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, corrupted or in a refused format."""


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    step: int
    metric: float | None


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories
        return
    try:
        with contextlib.suppress(OSError):  # not every filesystem syncs directories
            os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())


def _looks_pickled(path: Path) -> bool:
    if path.suffix in _PICKLE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def _refuse_pickle(path: Path) -> CheckpointError:
    return CheckpointError(
        f"{path} looks like a pickle-based checkpoint (torch.save / pickle). Loading it could run arbitrary code, "
        "so vidgan_blocks only loads its own directories of safetensors + JSON with a manifest. "
        "Convert it in a trusted session: load it yourself, then call save_checkpoint(dir, tensors, state)."
    )


_OS_CODE = re.compile(r"code: (\d+)")


def _write_failure(err: BaseException, final: Path) -> OSError:
    """An ``OSError`` naming the checkpoint for a failed write (safetensors reports I/O errors its own way)."""
    code = getattr(err, "errno", None)
    if code is None and (m := _OS_CODE.search(str(err))):  # e.g. "IoError(Os { code: 28, kind: StorageFull ... })"
        code = int(m.group(1))
    reason = os.strerror(code) if code else type(err).__name__
    detail = str(err) if isinstance(err, OSError) else f"{type(err).__name__}: {err}"
    message = f"could not write checkpoint {final}: {reason} ({detail}); the previous checkpoints are untouched"
    return OSError(code, message) if code else OSError(message)


def save_checkpoint(path: str | os.PathLike, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> Path:
    """Write one checkpoint directory atomically and return its path.

    Args:
        path: final directory (replaced atomically if it exists).
        tensors: flat name -> tensor mapping (moved to CPU, made contiguous).
        state: JSON-serialisable metadata.

    Raises:
        OSError: a write failed (a full disk, for instance); the message names the
            checkpoint, nothing of the new checkpoint is left behind and an existing
            directory at ``path`` is kept.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        cpu = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
        save_file(cpu, str(tmp / TENSORS))
        _fsync_file(tmp / TENSORS)
        _write_json(tmp / STATE, state)
        files = {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256(tmp / name)} for name in (TENSORS, STATE)}
        manifest = {"format": FORMAT, "version": VERSION, "files": files, "step": state.get("step"), "metric": state.get("metric")}
        _write_json(tmp / MANIFEST, manifest)
        _fsync_dir(tmp)
        old = None
        if final.exists():
            old = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            if old is not None and not final.exists():
                os.replace(old, final)  # put the replaced checkpoint back
            raise
        _fsync_dir(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError) or (isinstance(err, SafetensorError) and "IoError" in str(err)):
            raise _write_failure(err, final) from err
        raise
    return final


def _read_manifest(path: Path, *, verify_hash: bool) -> dict[str, Any]:
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise CheckpointError(f"{path}: no {MANIFEST}; the checkpoint is incomplete and is ignored")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable {MANIFEST} ({e})") from e
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} directory (format={manifest.get('format')!r})")
    for name, info in manifest.get("files", {}).items():
        f = path / name
        if not f.is_file() or f.stat().st_size != info["bytes"]:
            raise CheckpointError(f"{path}: {name} is missing or has the wrong size")
        if verify_hash and _sha256(f) != info["sha256"]:
            raise CheckpointError(f"{path}: {name} does not match its SHA-256 in the manifest")
    return manifest


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a complete checkpoint directory (manifest and file sizes checked)."""
    try:
        _read_manifest(Path(path), verify_hash=False)
        return True
    except CheckpointError:
        return False


def load_checkpoint(
    path: str | os.PathLike, *, device: str | torch.device = "cpu", verify_hash: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(tensors, state)`` from a checkpoint directory; never unpickles.

    Raises:
        CheckpointError: the path is a pickle file, or the directory is incomplete
            or corrupted.
    """
    p = Path(path)
    if p.is_file():
        if _looks_pickled(p):
            raise _refuse_pickle(p)
        raise CheckpointError(f"{p}: expected a checkpoint directory, got a file")
    if not p.is_dir():
        raise CheckpointError(f"{p}: no such checkpoint directory")
    if not (p / MANIFEST).exists():
        pickles = [c for c in p.iterdir() if c.is_file() and _looks_pickled(c)]
        if pickles:
            raise _refuse_pickle(pickles[0])
    _read_manifest(p, verify_hash=verify_hash)
    try:
        tensors = load_file(str(p / TENSORS), device=str(device))
    except SafetensorError as e:
        raise CheckpointError(f"{p}: {TENSORS} is unreadable ({e})") from e
    try:
        state = json.loads((p / STATE).read_text(encoding="utf-8"))
    except ValueError as e:
        raise CheckpointError(f"{p}: {STATE} is unreadable ({e})") from e
    return tensors, state


class CheckpointManager:
    """Numbered checkpoints under one root: save, keep the last ``k`` (+ best), find latest.

    Args:
        root: directory holding ``step_*/`` checkpoints.
        keep_last: how many of the most recent checkpoints to keep (>= 2, so a
            checkpoint that turns out bad still leaves an older one).
        best_mode: ``"max"`` or ``"min"``: which metric value is best; the best
            checkpoint (by the ``metric`` passed to :meth:`save`) is kept as well.
        verify_hash: check SHA-256 sums when loading.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        keep_last: int = 2,
        best_mode: Literal["max", "min"] = "max",
        verify_hash: bool = True,
    ) -> None:
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 2:
            raise ValueError(f"keep_last: expected an int >= 2, got {keep_last!r}")
        if best_mode not in ("max", "min"):
            raise ValueError(f"best_mode: expected 'max' or 'min', got {best_mode!r}")
        self.root = Path(root)
        self.keep_last = keep_last
        self.best_mode = best_mode
        self.verify_hash = verify_hash

    def path_for(self, step: int) -> Path:
        return self.root / f"step_{step:09d}"

    def checkpoints(self) -> list[CheckpointInfo]:
        """Complete checkpoints, oldest first; incomplete or foreign directories are skipped."""
        if not self.root.is_dir():
            return []
        found = []
        for d in self.root.iterdir():
            m = _STEP_DIR.match(d.name)
            if not (m and d.is_dir()):
                continue
            try:
                manifest = _read_manifest(d, verify_hash=False)
            except CheckpointError:
                continue
            metric = manifest.get("metric")
            found.append(CheckpointInfo(d, int(m.group(1)), None if metric is None else float(metric)))
        return sorted(found, key=lambda c: c.step)

    def latest(self) -> Path | None:
        ck = self.checkpoints()
        if ck:
            return ck[-1].path
        if self.root.is_dir():
            pickles = [c for c in self.root.iterdir() if c.is_file() and _looks_pickled(c)]
            if pickles:
                raise _refuse_pickle(pickles[0])
        return None

    def best(self) -> Path | None:
        scored = [c for c in self.checkpoints() if c.metric is not None and not math.isnan(c.metric)]
        if not scored:
            return None
        pick = max if self.best_mode == "max" else min
        return pick(scored, key=lambda c: c.metric).path

    def save(
        self, step: int, tensors: dict[str, torch.Tensor], state: dict[str, Any], *, metric: float | None = None
    ) -> Path:
        """Write ``step_<step>`` atomically, then prune to the last ``k`` plus the best."""
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        path = save_checkpoint(self.path_for(step), tensors, {**state, "step": step, "metric": metric})
        self.prune()
        return path

    def prune(self) -> None:
        ck = self.checkpoints()
        keep = {c.path for c in ck[-self.keep_last :]}
        best = self.best()
        if best is not None:
            keep.add(best)
        for c in ck:
            if c.path not in keep:
                shutil.rmtree(c.path, ignore_errors=True)

    def load(self, path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu"):
        """Load ``path``, or by default the newest checkpoint that verifies (see :meth:`load_latest`).

        Returns ``(tensors, state)``; see :func:`load_checkpoint`.
        """
        if path is None:
            return self.load_latest(device=device)[1:]
        return load_checkpoint(Path(path), device=device, verify_hash=self.verify_hash)

    def load_latest(
        self,
        *,
        device: str | torch.device = "cpu",
        on_refused: Callable[[Path, str], None] | None = None,
        set_aside: bool = False,
    ) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]]:
        """``(path, tensors, state)`` of the newest checkpoint that loads and verifies.

        A newer checkpoint that fails verification (a flipped bit, a truncated file)
        is refused with a warning naming it and the reason, and the next older one
        is tried; ``on_refused(path, reason)`` is called for each refusal.

        Args:
            device: where the tensors go.
            on_refused: called once per refused checkpoint.
            set_aside: once an older checkpoint has loaded, rename the refused newer
                ones to ``step_XXXXXXXXX.refused`` so that they no longer count as the
                latest or as one of the ``keep_last`` (only one process should do it).

        Raises:
            CheckpointError: there is no complete checkpoint, or none verifies (the
                message lists each one and why it was refused).
        """
        candidates = self.checkpoints()
        if not candidates:
            self.latest()  # raises for a directory of pickles
            raise CheckpointError(f"{self.root}: no complete checkpoint to load")
        refused: list[tuple[Path, str]] = []
        for info in reversed(candidates):
            try:
                tensors, state = load_checkpoint(info.path, device=device, verify_hash=self.verify_hash)
            except CheckpointError as e:
                reason = str(e).removeprefix(f"{info.path}: ")
                refused.append((info.path, reason))
                warnings.warn(f"checkpoint {info.path} refused: {reason}; trying an older one", stacklevel=2)
                if on_refused is not None:
                    on_refused(info.path, reason)
                continue
            if set_aside:
                for bad, _ in refused:
                    self._set_aside(bad)
            return info.path, tensors, state
        listing = "; ".join(f"{p.name}: {r}" for p, r in refused)
        raise CheckpointError(
            f"{self.root}: none of the {len(refused)} checkpoints verifies, so there is nothing safe to resume from "
            f"({listing})"
        )

    def _set_aside(self, path: Path) -> None:
        target = path.with_name(f"{path.name}.refused")
        if target.exists():
            target = path.with_name(f"{path.name}.refused-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):  # another process may have moved it already
            os.replace(path, target)
            warnings.warn(f"refused checkpoint {path} moved aside to {target}", stacklevel=3)
