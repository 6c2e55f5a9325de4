"""Separable vs full self-attention: forward+backward time and peak memory.

DVD-GAN section 3.2 motivates separable attention by memory: the largest tensor
drops from (HWT)^2 to max(H^2WT, HW^2T, HWT^2). Each configuration runs in its
own process so peak memory is not polluted by the previous one.

Full attention over all T*H*W positions needs memory quadratic in that count, so
at video sizes it easily exceeds the device. Before a configuration runs, its
attention matrices are estimated (:func:`attention_bytes`) and compared with the
memory the device has free; one that cannot fit, or that fails with an
out-of-memory error anyway, is reported as "out of memory at this shape" instead
of failing the run.

    python benchmarks/bench_attention.py            # B=2, C=64, T=16, 32x32
    python benchmarks/bench_attention.py --t 8 --hw 16
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _measure import OUT_OF_MEMORY, PeakMemory, free_device_memory, print_table, run_isolated, time_fn  # noqa: E402

from vidgan_blocks.layers import SelfAttention, SeparableSelfAttention  # noqa: E402

BACKENDS = {"auto": None, "math": [SDPBackend.MATH]}

# The layers hand scaled_dot_product_attention 3-D (batch, sequence, channels)
# tensors, which only its math path accepts: it materialises the scores (in float32:
# recent torch upcasts half-precision inputs there) and, over forward and backward, holds about
# three score-sized matrices at once (scores, their softmax kept for the backward,
# and its gradient). The CPU table in docs/benchmarks.md agrees: 6,201 MiB peak for
# 2 GiB of scores.
SCORE_COPIES = 3
SCORE_BYTES = 4


def largest_attention(kind: str, t: int, hw: int) -> int:
    """Entries of the largest attention matrix per video: ``(T*H*W)^2`` for ``"full"``,
    ``max(H^2*W*T, H*W^2*T, H*W*T^2)`` for ``"separable"`` (square frames, H = W = ``hw``)."""
    if kind not in ("full", "separable"):
        raise ValueError(f"kind: expected 'full' or 'separable', got {kind!r}")
    for name, v in (("t", t), ("hw", hw)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    if kind == "full":
        return (t * hw * hw) ** 2
    return max(hw * hw * hw * t, t * t * hw * hw)


def attention_bytes(kind: str, b: int, t: int, hw: int) -> int:
    """Estimated bytes of attention matrices alive at the peak of one forward + backward of ``b`` videos."""
    if isinstance(b, bool) or not isinstance(b, int) or b < 1:
        raise ValueError(f"b: expected a positive int, got {b!r}")
    return SCORE_COPIES * SCORE_BYTES * b * largest_attention(kind, t, hw)


def out_of_memory_reason(kind: str, b: int, t: int, hw: int, device: torch.device | str) -> str | None:
    """Why ``kind`` attention at this shape cannot run on ``device`` (None when it should fit).

    Compares :func:`attention_bytes` with :func:`free_device_memory`; a device whose
    free memory cannot be read is assumed to have room.
    """
    need = attention_bytes(kind, b, t, hw)
    free = free_device_memory(device)
    if free is None or need <= free:
        return None
    return (f"{OUT_OF_MEMORY}: {kind} attention over {t}x{hw}x{hw} positions, B={b}, needs about "
            f"{need / 2**30:.1f} GiB for its attention matrices, {free / 2**30:.1f} GiB free")


def one(cfg: dict) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(cfg["threads"])
    device = torch.device(cfg["device"])
    cls = SeparableSelfAttention if cfg["kind"] == "separable" else SelfAttention
    m = cls(cfg["c"]).to(device)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 0:
                p.fill_(0.5)
    reason = out_of_memory_reason(cfg["kind"], cfg["b"], cfg["t"], cfg["hw"], device)
    if reason:
        return {**cfg, "error": reason}
    x = torch.randn(cfg["b"], cfg["c"], cfg["t"], cfg["hw"], cfg["hw"], device=device, requires_grad=True)

    def step() -> None:
        backend = BACKENDS[cfg["backend"]]
        if backend is None:
            m(x).square().mean().backward()
        else:
            with sdpa_kernel(backend):
                m(x).square().mean().backward()

    try:
        with PeakMemory(device) as mem:
            ms = time_fn(step, device, warmup=1, repeats=cfg["repeats"])
    except torch.OutOfMemoryError as err:
        return {**cfg, "error": f"{OUT_OF_MEMORY}: {str(err).splitlines()[0]}"}
    return {**cfg, "ms": ms, "peak_mib": mem.mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--b", type=int, default=2)
    ap.add_argument("--c", type=int, default=64)
    ap.add_argument("--t", type=int, default=16)
    ap.add_argument("--hw", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    base = {k: getattr(args, k) for k in ("b", "c", "t", "hw", "repeats", "threads", "device")}
    rows = [
        run_isolated(__file__, {**base, "kind": kind, "backend": backend})
        for kind, backend in (("separable", "auto"), ("full", "auto"), ("separable", "math"), ("full", "math"))
    ]
    print_table(rows, ["kind", "backend", "b", "c", "t", "hw", "ms", "peak_mib", "error"])
    ok = {(r["kind"], r["backend"]): r for r in rows if "error" not in r}
    for backend in BACKENDS:
        s, f = ok.get(("separable", backend)), ok.get(("full", backend))
        if s and f:
            print(f"[{backend}] full / separable: time x{f['ms'] / s['ms']:.2f}, peak memory x{f['peak_mib'] / max(s['peak_mib'], 1e-9):.2f}")


if __name__ == "__main__":
    main()
